/*
 * cache.c -- the cache's public calls: open/close, verdict and discovery
 * get/put, the cross-process lock, statistics.
 *
 * Each call is one Redis command run through cache_pool.c, which owns
 * connections, deadlines and the down/backoff state; this file turns
 * values into commands and replies into results.  cache_open checks every
 * option (the configuration layer reports its err text) but connects
 * lazily, so a milter starts and verifies while Redis is down.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <sys/random.h>

#include "hash/util/private_file.h"
#include "milter/cache/cache_internal.h"

#define NS_PER_MS 1000000LL

static xsmtp_status
open_error(char *err, size_t errsz, xsmtp_status status, const char *reason)
{
    if (err != NULL && errsz > 0)
        snprintf(err, errsz, "%s", reason);
    return status;
}

static bool
name_ok(const char *text, size_t max)
{
    size_t len;

    if (text == NULL)
        return false;
    len = strnlen(text, max + 1);
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] <= 0x20 || (unsigned char)text[i] >= 0x7f)
            return false;
    return true;
}

/* Where to connect: exactly one of host, socket, sentinels. */
static xsmtp_status
open_target(struct cache *cache, const struct cache_options *options, char *err, size_t errsz)
{
    if (options->sentinel_count > 0) {
        if (options->host != NULL || options->socket != NULL)
            return open_error(err, errsz, XSMTP_EMALFORMED,
                              "redis: sentinels and host/socket exclude each other");
        if (options->sentinels == NULL || options->sentinel_count > CACHE_SENTINELS_MAX)
            return open_error(err, errsz, XSMTP_EMALFORMED, "redis: 1 to 16 sentinels");
        if (!name_ok(options->master_name, CACHE_HOST_MAX))
            return open_error(err, errsz, XSMTP_EMALFORMED, "redis: sentinels need a master_name");
        cache->master_name = strdup(options->master_name);
        cache->sentinels = calloc(options->sentinel_count, sizeof *cache->sentinels);
        if (cache->master_name == NULL || cache->sentinels == NULL)
            return open_error(err, errsz, XSMTP_ENOMEM, "redis: out of memory");
        for (size_t i = 0; i < options->sentinel_count; i++) {
            if (!cache_endpoint_parse(options->sentinels[i], &cache->sentinels[i])) {
                if (err != NULL && errsz > 0)
                    snprintf(err, errsz, "redis: sentinel %zu is not host:port or [v6]:port",
                             i + 1);
                return XSMTP_EMALFORMED;
            }
        }
        cache->sentinel_count = options->sentinel_count;
        return XSMTP_OK;
    }
    if (options->master_name != NULL)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: master_name without sentinels");
    if ((options->host == NULL) == (options->socket == NULL))
        return open_error(err, errsz, XSMTP_EMALFORMED,
                          "redis: set exactly one of host, socket or sentinels");
    if (options->socket != NULL) {
        /* sun_path holds 108 bytes with the NUL. */
        if (options->socket[0] != '/' || strlen(options->socket) >= 108)
            return open_error(err, errsz, XSMTP_EMALFORMED,
                              "redis: socket must be an absolute path under 108 bytes");
        cache->socket_path = strdup(options->socket);
        if (cache->socket_path == NULL)
            return open_error(err, errsz, XSMTP_ENOMEM, "redis: out of memory");
        return XSMTP_OK;
    }
    if (!name_ok(options->host, CACHE_HOST_MAX) || options->port > 65535)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: bad host or port");
    snprintf(cache->server.host, sizeof cache->server.host, "%s", options->host);
    cache->server.port = options->port != 0 ? options->port : CACHE_DEFAULT_PORT;
    return XSMTP_OK;
}

static xsmtp_status
open_settings(struct cache *cache, const struct cache_options *options, char *err, size_t errsz)
{
    const char *prefix = options->prefix != NULL ? options->prefix : CACHE_DEFAULT_PREFIX;
    unsigned timeout_ms = options->timeout_ms != 0 ? options->timeout_ms : CACHE_DEFAULT_TIMEOUT_MS;
    unsigned backoff = options->backoff_ms != 0 ? options->backoff_ms : CACHE_DEFAULT_BACKOFF_MS;
    unsigned backoff_max =
        options->backoff_max_ms != 0 ? options->backoff_max_ms : CACHE_DEFAULT_BACKOFF_MAX_MS;
    size_t prefix_len = strnlen(prefix, CACHE_PREFIX_MAX + 1);

    if (prefix_len > CACHE_PREFIX_MAX || (prefix_len > 0 && !name_ok(prefix, CACHE_PREFIX_MAX)))
        return open_error(err, errsz, XSMTP_EMALFORMED,
                          "redis: prefix must be at most 64 printable non-space characters");
    if (timeout_ms > 60000)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: timeout_ms must be 1..60000");
    if (options->pool_size > 64)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: pool size must be 1..64");
    if (backoff_max < backoff || backoff_max > 3600000)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: bad backoff settings");
    if (options->db > 1000000)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: db out of range");
    memcpy(cache->prefix, prefix, prefix_len);
    cache->prefix[prefix_len] = '\0';
    cache->db = options->db;
    cache->timeout_ns = (int64_t)timeout_ms * NS_PER_MS;
    cache->backoff_min_ns = (int64_t)backoff * NS_PER_MS;
    cache->backoff_max_ns = (int64_t)backoff_max * NS_PER_MS;
    cache->logger = options->logger;
    return XSMTP_OK;
}

static void
cache_free(struct cache *cache)
{
    OPENSSL_cleanse(cache->password, sizeof cache->password);
    free(cache->socket_path);
    free(cache->sentinels);
    free(cache->master_name);
    free(cache);
}

xsmtp_status
cache_open(const struct cache_options *options, struct cache **out, char *err, size_t errsz)
{
    struct cache *cache;
    xsmtp_status status;
    char file_err[256];

    if (err != NULL && errsz > 0)
        err[0] = '\0';
    if (out == NULL)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: no output");
    *out = NULL;
    if (options == NULL)
        return open_error(err, errsz, XSMTP_EMALFORMED, "redis: no options");
    cache = calloc(1, sizeof *cache);
    if (cache == NULL)
        return open_error(err, errsz, XSMTP_ENOMEM, "redis: out of memory");
    status = open_target(cache, options, err, errsz);
    if (status == XSMTP_OK)
        status = open_settings(cache, options, err, errsz);
    if (status == XSMTP_OK && options->password_file != NULL) {
        status = xsmtp_private_file_read_line(options->password_file, cache->password,
                                              sizeof cache->password, file_err, sizeof file_err);
        if (status != XSMTP_OK && err != NULL && errsz > 0)
            snprintf(err, errsz, "redis: password_file: %s", file_err);
        cache->has_password = status == XSMTP_OK;
    }
    if (status == XSMTP_OK &&
        cache_pool_init(cache, options->pool_size != 0 ? options->pool_size
                                                       : CACHE_DEFAULT_POOL_SIZE) != 0)
        status = open_error(err, errsz, XSMTP_ENOMEM, "redis: out of memory");
    if (status != XSMTP_OK) {
        cache_free(cache);
        return status;
    }
    *out = cache;
    return XSMTP_OK;
}

void
cache_close(struct cache *cache)
{
    if (cache == NULL)
        return;
    cache_pool_destroy(cache);
    cache_free(cache);
}

const char *
cache_prefix(const struct cache *cache)
{
    return cache != NULL ? cache->prefix : CACHE_DEFAULT_PREFIX;
}

void
cache_get_stats(struct cache *cache, struct cache_stats *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    if (cache == NULL)
        return;
    pthread_mutex_lock(&cache->pool.lock);
    *out = cache->pool.stats;
    out->down = cache->pool.down;
    pthread_mutex_unlock(&cache->pool.lock);
}

static bool
key_ok(const char *key)
{
    size_t len;

    if (key == NULL)
        return false;
    len = strnlen(key, CACHE_KEY_SIZE);
    return len > 0 && len < CACHE_KEY_SIZE;
}

enum count_kind { COUNT_HIT, COUNT_MISS, COUNT_BAD_VALUE, COUNT_STORE };

static void
count(struct cache *cache, enum count_kind kind)
{
    pthread_mutex_lock(&cache->pool.lock);
    switch (kind) {
    case COUNT_HIT: cache->pool.stats.hits++; break;
    case COUNT_BAD_VALUE:
        cache->pool.stats.bad_values++;
        cache->pool.stats.misses++;
        break;
    case COUNT_MISS: cache->pool.stats.misses++; break;
    case COUNT_STORE: cache->pool.stats.stores++; break;
    }
    pthread_mutex_unlock(&cache->pool.lock);
}

/*
 * GET key.  CACHE_HIT: value holds it (NUL-terminated, *len octets).
 * A reply that is neither a string of ours nor nil is counted as a bad
 * value and answered CACHE_MISS at once.
 */
static enum cache_result
get_value(struct cache *cache, const char *key, const struct timespec *deadline,
          char value[CACHE_VALUE_SIZE], size_t *len)
{
    const char *argv[] = {"GET", key};
    redisReply *reply;
    enum cache_result result;

    result = cache_pool_command(cache, deadline, 2, argv, NULL, &reply);
    if (result != CACHE_OK)
        return result;
    if (reply->type == REDIS_REPLY_STRING && reply->len < CACHE_VALUE_SIZE) {
        memcpy(value, reply->str, reply->len);
        value[reply->len] = '\0';
        *len = reply->len;
        result = CACHE_HIT;
    } else if (reply->type == REDIS_REPLY_NIL) {
        count(cache, COUNT_MISS);
        result = CACHE_MISS;
    } else {
        count(cache, COUNT_BAD_VALUE);
        xsmtp_log(&cache->logger, LOG_DEBUG,
                  "redis cache: %s holds no value of ours, treated as a miss", key);
        result = CACHE_MISS;
    }
    freeReplyObject(reply);
    return result;
}

/* After a HIT from get_value: an unparsable value is a miss (someone
   else's, or an older milter's). */
static enum cache_result
finish_hit(struct cache *cache, const char *key, bool parsed)
{
    if (!parsed) {
        count(cache, COUNT_BAD_VALUE);
        xsmtp_log(&cache->logger, LOG_DEBUG,
                  "redis cache: unparsable value under %s, treated as a miss", key);
        return CACHE_MISS;
    }
    count(cache, COUNT_HIT);
    return CACHE_HIT;
}

enum cache_result
cache_get_verdict(struct cache *cache, const char *key, const struct timespec *deadline,
                  struct cache_verdict_entry *entry)
{
    char value[CACHE_VALUE_SIZE];
    size_t len = 0;
    enum cache_result result;
    bool parsed;

    if (entry != NULL)
        memset(entry, 0, sizeof *entry);
    if (cache == NULL || entry == NULL || !key_ok(key))
        return CACHE_EINVAL;
    result = get_value(cache, key, deadline, value, &len);
    if (result != CACHE_HIT)
        return result;
    parsed = cache_verdict_parse(value, len, entry) == XSMTP_OK;
    return finish_hit(cache, key, parsed);
}

enum cache_result
cache_get_component(struct cache *cache, const char *key, const struct timespec *deadline,
                    struct cache_component_entry *entry)
{
    char value[CACHE_VALUE_SIZE];
    size_t len = 0;
    enum cache_result result;
    bool parsed;

    if (entry != NULL)
        memset(entry, 0, sizeof *entry);
    if (cache == NULL || entry == NULL || !key_ok(key))
        return CACHE_EINVAL;
    result = get_value(cache, key, deadline, value, &len);
    if (result != CACHE_HIT)
        return result;
    parsed = cache_component_parse(value, len, entry) == XSMTP_OK;
    return finish_hit(cache, key, parsed);
}

/* SET key value EX ttl; +OK is CACHE_OK. */
static enum cache_result
set_value(struct cache *cache, const char *key, const char *value, int64_t ttl_seconds,
          const struct timespec *deadline)
{
    char ttl_text[24];
    const char *argv[] = {"SET", key, value, "EX", ttl_text};
    redisReply *reply;
    enum cache_result result;

    snprintf(ttl_text, sizeof ttl_text, "%lld", (long long)ttl_seconds);
    result = cache_pool_command(cache, deadline, 5, argv, NULL, &reply);
    if (result != CACHE_OK)
        return result;
    if (reply->type != REDIS_REPLY_STATUS || strcmp(reply->str, "OK") != 0) {
        result = CACHE_UNAVAILABLE;
        cache_count_error(cache);
    } else {
        count(cache, COUNT_STORE);
    }
    freeReplyObject(reply);
    return result;
}

enum cache_result
cache_put_verdict(struct cache *cache, const char *key, const struct cache_verdict_entry *entry,
                  int64_t ttl_seconds, const struct timespec *deadline)
{
    char value[CACHE_VALUE_SIZE];

    if (cache == NULL || entry == NULL || !key_ok(key) || ttl_seconds < 0 ||
        ttl_seconds > CACHE_TTL_PASS_MAX || entry->verdict == XSMTP_VERDICT_TEMPERROR ||
        cache_verdict_format(entry, value, sizeof value) != XSMTP_OK)
        return CACHE_EINVAL;
    if (ttl_seconds == 0)
        return CACHE_OK;
    return set_value(cache, key, value, ttl_seconds, deadline);
}

enum cache_result
cache_put_component(struct cache *cache, const char *key, const struct cache_component_entry *entry,
                    const struct timespec *deadline)
{
    char value[CACHE_VALUE_SIZE];

    if (cache == NULL || entry == NULL || !key_ok(key) ||
        cache_component_format(entry, value, sizeof value) != XSMTP_OK)
        return CACHE_EINVAL;
    return set_value(cache, key, value, cache_component_ttl(entry->found), deadline);
}

enum cache_result
cache_lock_acquire(struct cache *cache, const char *key, unsigned ttl_ms,
                   const struct timespec *deadline, struct cache_lock *lock)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char random_bytes[16];
    char ttl_text[16];
    const char *argv[] = {"SET", NULL, NULL, "NX", "PX", ttl_text};
    redisReply *reply;
    enum cache_result result;
    int written;

    if (lock != NULL)
        memset(lock, 0, sizeof *lock);
    if (cache == NULL || lock == NULL || !key_ok(key) || ttl_ms == 0 || ttl_ms > 60000)
        return CACHE_EINVAL;
    written = snprintf(lock->key, sizeof lock->key, "%s:lock", key);
    if (written < 0 || (size_t)written >= sizeof lock->key)
        return CACHE_EINVAL;
    /*
     * The OS CSPRNG, not RAND_bytes(): OpenSSL keeps a DRBG per calling
     * thread, and libmilter's workers can outlive OpenSSL's exit-time
     * cleanup, so their DRBGs were reported lost at exit.
     */
    if (getrandom(random_bytes, sizeof random_bytes, 0) != (ssize_t)sizeof random_bytes) {
        cache_count_error(cache);
        return CACHE_UNAVAILABLE;
    }
    for (size_t i = 0; i < sizeof random_bytes; i++) {
        lock->token[2 * i] = hex[random_bytes[i] >> 4];
        lock->token[2 * i + 1] = hex[random_bytes[i] & 0x0f];
    }
    lock->token[32] = '\0';
    snprintf(ttl_text, sizeof ttl_text, "%u", ttl_ms);
    argv[1] = lock->key;
    argv[2] = lock->token;

    result = cache_pool_command(cache, deadline, 6, argv, NULL, &reply);
    if (result != CACHE_OK)
        return result;
    if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0) {
        result = CACHE_LOCKED;
    } else if (reply->type == REDIS_REPLY_NIL) {
        result = CACHE_BUSY;
    } else {
        result = CACHE_UNAVAILABLE;
        cache_count_error(cache);
    }
    freeReplyObject(reply);
    return result;
}

enum cache_result
cache_lock_release(struct cache *cache, const struct cache_lock *lock,
                   const struct timespec *deadline)
{
    /* Compare and delete in one step: never delete a lock that expired and
       was taken by another process meanwhile. */
    static const char script[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                 "return redis.call('DEL', KEYS[1]) else return 0 end";
    const char *argv[] = {"EVAL", script, "1", NULL, NULL};
    redisReply *reply;
    enum cache_result result;

    if (cache == NULL || lock == NULL || !key_ok(lock->key) || strnlen(lock->token, 33) != 32)
        return CACHE_EINVAL;
    argv[3] = lock->key;
    argv[4] = lock->token;
    result = cache_pool_command(cache, deadline, 5, argv, NULL, &reply);
    if (result != CACHE_OK)
        return result;
    if (reply->type == REDIS_REPLY_INTEGER) {
        result = reply->integer == 1 ? CACHE_OK : CACHE_MISS;
    } else {
        result = CACHE_UNAVAILABLE;
        cache_count_error(cache);
    }
    freeReplyObject(reply);
    return result;
}
