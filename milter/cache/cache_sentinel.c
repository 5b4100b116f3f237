/*
 * cache_sentinel.c -- finding the Redis master through Redis Sentinel, so a
 * site with several gateway hosts survives the loss of its Redis master.
 *
 * The lookup follows the Sentinel client rules: ask each sentinel in turn
 * (the last one that answered first) "SENTINEL get-master-addr-by-name",
 * then, once connected, confirm with ROLE that the address really is a
 * master (a sentinel may still name the old one during a failover).  Each
 * lookup opens a short-lived connection: lookups only happen at start and
 * after a failure, so keeping sentinel connections open would buy nothing.
 * cache_pool.c decides when to look up; this file only asks.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/cache/cache_internal.h"

static bool
parse_port(const char *text, size_t len, unsigned *port)
{
    unsigned value = 0;

    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (unsigned)(text[i] - '0');
    }
    if (value == 0 || value > 65535 || (len > 1 && text[0] == '0'))
        return false;
    *port = value;
    return true;
}

/* A host name or address: printable, no space, no brackets, not empty. */
static bool
host_ok(const char *text, size_t len)
{
    if (len == 0 || len > CACHE_HOST_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '/')
            return false;
    }
    return true;
}

bool
cache_endpoint_parse(const char *text, struct cache_endpoint *endpoint)
{
    const char *host, *colon;
    size_t host_len, len;

    if (text == NULL || endpoint == NULL)
        return false;
    memset(endpoint, 0, sizeof *endpoint);
    len = strnlen(text, CACHE_HOST_MAX + 16);
    if (len == 0 || len >= CACHE_HOST_MAX + 16)
        return false;
    if (text[0] == '[') {
        const char *close = memchr(text, ']', len);
        if (close == NULL || close[1] != ':')
            return false;
        host = text + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        /* Only an IPv6 literal goes between brackets. */
        if (memchr(host, ':', host_len) == NULL)
            return false;
    } else {
        colon = memchr(text, ':', len);
        if (colon == NULL || memchr(colon + 1, ':', len - (size_t)(colon + 1 - text)) != NULL)
            return false; /* a bare IPv6 address needs brackets */
        host = text;
        host_len = (size_t)(colon - text);
    }
    if (!host_ok(host, host_len) ||
        !parse_port(colon + 1, len - (size_t)(colon + 1 - text), &endpoint->port))
        return false;
    memcpy(endpoint->host, host, host_len);
    endpoint->host[host_len] = '\0';
    return true;
}

/* An answer is a two-element array of strings: address and port. */
static bool
master_from_reply(const redisReply *reply, struct cache_endpoint *master)
{
    const redisReply *host, *port;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
        return false;
    host = reply->element[0];
    port = reply->element[1];
    if (host->type != REDIS_REPLY_STRING || port->type != REDIS_REPLY_STRING)
        return false;
    if (!host_ok(host->str, host->len) || !parse_port(port->str, port->len, &master->port))
        return false;
    memcpy(master->host, host->str, host->len);
    master->host[host->len] = '\0';
    return true;
}

/* Asks one sentinel; true and *master set on a well-formed answer. */
static bool
ask_sentinel(struct cache *cache, const struct cache_endpoint *sentinel, int64_t end_ns,
             struct cache_endpoint *master)
{
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", cache->master_name};
    int64_t left_us = (end_ns - cache_clock_ns()) / 1000;
    bool timed_out = false;
    redisContext *context;
    redisReply *reply = NULL;
    struct timeval tv;
    bool ok = false;

    if (left_us <= 0)
        return false;
    tv.tv_sec = (time_t)(left_us / 1000000);
    tv.tv_usec = (suseconds_t)(left_us % 1000000);
    context = redisConnectWithTimeout(sentinel->host, (int)sentinel->port, tv);
    if (context == NULL)
        return false;
    if (context->err == 0) {
        pthread_mutex_lock(&cache->pool.lock);
        cache->pool.stats.sentinel_queries++;
        pthread_mutex_unlock(&cache->pool.lock);
        reply = cache_context_command(context, end_ns, 3, argv, NULL, &timed_out);
        ok = master_from_reply(reply, master);
    }
    if (!ok)
        xsmtp_log(&cache->logger, LOG_DEBUG, "redis cache: sentinel %s:%u: %s", sentinel->host,
                  sentinel->port,
                  context->err != 0                ? context->errstr
                  : reply == NULL                  ? (timed_out ? "timeout" : "no answer")
                  : reply->type == REDIS_REPLY_NIL ? "master name unknown"
                                                   : "unexpected answer");
    if (reply != NULL)
        freeReplyObject(reply);
    redisFree(context);
    return ok;
}

bool
cache_sentinel_resolve(struct cache *cache, int64_t end_ns, struct cache_endpoint *master)
{
    size_t first;

    pthread_mutex_lock(&cache->pool.lock);
    first = cache->pool.preferred_sentinel;
    pthread_mutex_unlock(&cache->pool.lock);

    for (size_t i = 0; i < cache->sentinel_count; i++) {
        size_t index = (first + i) % cache->sentinel_count;
        if (cache_clock_ns() >= end_ns)
            break;
        if (ask_sentinel(cache, &cache->sentinels[index], end_ns, master)) {
            pthread_mutex_lock(&cache->pool.lock);
            cache->pool.preferred_sentinel = index;
            pthread_mutex_unlock(&cache->pool.lock);
            return true;
        }
    }
    return false;
}

bool
cache_sentinel_is_master(redisContext *context, int64_t end_ns)
{
    const char *argv[] = {"ROLE"};
    redisReply *reply;
    bool master, timed_out;

    reply = cache_context_command(context, end_ns, 1, argv, NULL, &timed_out);
    if (reply == NULL)
        return false;
    master = reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
             reply->element[0]->type == REDIS_REPLY_STRING &&
             strcmp(reply->element[0]->str, "master") == 0;
    freeReplyObject(reply);
    return master;
}
