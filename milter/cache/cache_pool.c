/*
 * cache_pool.c -- a few hiredis contexts shared by the milter's threads,
 * and the health state that keeps a dead or slow Redis from costing mail
 * any time.
 *
 * hiredis 0.14 contexts are not thread-safe: a caller borrows one for a
 * single command and gives it back.  Every step (waiting for a context,
 * connect, AUTH, SELECT, ROLE, the command) is bounded by the call's end
 * time: connect gets the time left as its timeout, and replies are waited
 * for with ppoll until the end time (socket timeouts would round up to
 * kernel ticks and cost two setsockopt calls per command).
 *
 * Health: a failure that is Redis's (refused, reset, timeout while the
 * bound was timeout_ms, AUTH refused) marks the server down until a retry
 * time; until then calls answer at once without any syscall.  When it
 * comes, exactly one caller (the probe) tries; the others still answer at
 * once.  A failed probe doubles the backoff up to its cap; a success
 * clears it.  A connection that breaks while reused (Redis restarted, idle
 * timeout) is retried once at once before anything is marked down, so a
 * restart costs no cache misses.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/cache/cache_internal.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define WARNING_INTERVAL_NS (60 * NS_PER_S)

/* What one call holds while it runs. */
struct borrow {
    struct cache_slot *slot;
    bool probe;          /* this call is the one trying after backoff */
    unsigned generation; /* of master, when master_known */
    bool master_known;
    struct cache_endpoint master;
};

enum connect_outcome {
    CONNECT_OK,
    CONNECT_FAILED,  /* Redis's fault: mark down */
    CONNECT_TIMEOUT, /* out of time: Redis's fault only if the bound was ours */
    CONNECT_SKIPPED  /* someone else is looking the master up: just unavailable */
};

int64_t
cache_clock_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * NS_PER_S + now.tv_nsec;
}

static int64_t
timespec_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

static struct timespec
ns_timespec(int64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / NS_PER_S);
    ts.tv_nsec = (long)(ns % NS_PER_S);
    return ts;
}

void
cache_deadline_after(struct timespec *deadline, unsigned ms)
{
    if (deadline != NULL)
        *deadline = ns_timespec(cache_clock_ns() + (int64_t)ms * NS_PER_MS);
}

redisReply *
cache_context_command(redisContext *context, int64_t end_ns, int argc, const char **argv,
                      const size_t *argvlen, bool *timed_out)
{
    void *reply = NULL;
    int done = 0;

    *timed_out = false;
    if (redisAppendCommandArgv(context, argc, argv, argvlen) != REDIS_OK)
        return NULL;
    /* A command is a few hundred bytes into an idle socket: the write does
       not wait (SO_SNDTIMEO, set at connect, is the safety net). */
    do {
        if (redisBufferWrite(context, &done) != REDIS_OK)
            return NULL;
    } while (!done);
    for (;;) {
        struct pollfd ready = {.fd = context->fd, .events = POLLIN, .revents = 0};
        struct timespec wait;
        int64_t left;
        int rc;

        if (redisGetReplyFromReader(context, &reply) != REDIS_OK)
            return NULL;
        if (reply != NULL)
            return reply;
        left = end_ns - cache_clock_ns();
        if (left <= 0) {
            *timed_out = true;
            return NULL;
        }
        wait = ns_timespec(left);
        rc = ppoll(&ready, 1, &wait, NULL);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            *timed_out = rc == 0;
            return NULL;
        }
        if (redisBufferRead(context) != REDIS_OK)
            return NULL;
    }
}

int
cache_pool_init(struct cache *cache, size_t slots)
{
    struct cache_pool *pool = &cache->pool;
    pthread_condattr_t attr;

    memset(pool, 0, sizeof *pool);
    pool->slots = calloc(slots, sizeof *pool->slots);
    if (pool->slots == NULL)
        return -1;
    pool->slot_count = slots;
    pool->backoff_ns = cache->backoff_min_ns;
    if (pthread_mutex_init(&pool->lock, NULL) != 0)
        goto fail_slots;
    if (pthread_condattr_init(&attr) != 0)
        goto fail_mutex;
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&pool->slot_free, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        goto fail_mutex;
    }
    pthread_condattr_destroy(&attr);
    return 0;

fail_mutex:
    pthread_mutex_destroy(&pool->lock);
fail_slots:
    free(pool->slots);
    pool->slots = NULL;
    return -1;
}

void
cache_pool_destroy(struct cache *cache)
{
    struct cache_pool *pool = &cache->pool;

    if (pool->slots == NULL)
        return;
    for (size_t i = 0; i < pool->slot_count; i++)
        if (pool->slots[i].context != NULL)
            redisFree(pool->slots[i].context);
    free(pool->slots);
    pool->slots = NULL;
    pthread_cond_destroy(&pool->slot_free);
    pthread_mutex_destroy(&pool->lock);
}

void
cache_count_error(struct cache *cache)
{
    pthread_mutex_lock(&cache->pool.lock);
    cache->pool.stats.errors++;
    pthread_mutex_unlock(&cache->pool.lock);
}

/* Waits for a free context until end_ns; refuses at once while down. */
static bool
pool_borrow(struct cache *cache, int64_t end_ns, struct borrow *borrow)
{
    struct cache_pool *pool = &cache->pool;
    struct cache_slot *slot = NULL;

    bool waited = false;

    memset(borrow, 0, sizeof *borrow);
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        int64_t now = cache_clock_ns();
        if (pool->down && !borrow->probe) {
            if (now < pool->retry_at_ns || pool->probing) {
                pool->stats.backoff_skips++;
                /* We may have taken a wake-up meant for a slot: pass it on. */
                if (waited)
                    pthread_cond_signal(&pool->slot_free);
                pthread_mutex_unlock(&pool->lock);
                return false;
            }
            pool->probing = true;
            borrow->probe = true;
        }
        for (size_t i = 0; i < pool->slot_count && slot == NULL; i++)
            if (!pool->slots[i].in_use)
                slot = &pool->slots[i];
        if (slot != NULL)
            break;
        if (now >= end_ns) {
            pool->stats.pool_timeouts++;
            if (borrow->probe)
                pool->probing = false;
            pthread_mutex_unlock(&pool->lock);
            return false;
        }
        struct timespec until = ns_timespec(end_ns);
        (void)pthread_cond_timedwait(&pool->slot_free, &pool->lock, &until);
        waited = true;
    }
    slot->in_use = true;
    borrow->slot = slot;
    borrow->generation = pool->generation;
    borrow->master_known = pool->master_known;
    borrow->master = pool->master;
    pthread_mutex_unlock(&pool->lock);
    return true;
}

static void
pool_return(struct cache *cache, struct borrow *borrow, bool worked)
{
    struct cache_pool *pool = &cache->pool;
    bool recovered = false;

    pthread_mutex_lock(&pool->lock);
    borrow->slot->in_use = false;
    /* Connected to a master that is no longer believed in: drop it. */
    if (borrow->slot->context != NULL && cache->sentinel_count > 0 &&
        (!pool->master_known || borrow->slot->generation != pool->generation)) {
        redisFree(borrow->slot->context);
        borrow->slot->context = NULL;
    }
    if (borrow->probe)
        pool->probing = false;
    if (worked && pool->down) {
        pool->down = false;
        pool->backoff_ns = cache->backoff_min_ns;
        recovered = pool->warned_this_outage;
        pool->warned_this_outage = false;
    }
    pthread_cond_signal(&pool->slot_free);
    pthread_mutex_unlock(&pool->lock);
    if (recovered)
        xsmtp_log(&cache->logger, LOG_NOTICE, "redis cache: available again");
}

/* The server failed us: back off, close what is idle, maybe warn. */
static void
pool_mark_down(struct cache *cache, const struct borrow *borrow, const char *why)
{
    struct cache_pool *pool = &cache->pool;
    int64_t now = cache_clock_ns();
    int64_t backoff_ms = 0;
    bool warn = false;

    pthread_mutex_lock(&pool->lock);
    if (!pool->down || borrow->probe) {
        if (!pool->down)
            pool->backoff_ns = cache->backoff_min_ns;
        else if (pool->backoff_ns < cache->backoff_max_ns / 2)
            pool->backoff_ns *= 2;
        else
            pool->backoff_ns = cache->backoff_max_ns;
        pool->down = true;
        pool->retry_at_ns = now + pool->backoff_ns;
        backoff_ms = pool->backoff_ns / NS_PER_MS;
        if (pool->last_warning_ns == 0 || now - pool->last_warning_ns >= WARNING_INTERVAL_NS) {
            pool->last_warning_ns = now;
            pool->warned_this_outage = true;
            warn = true;
        }
    }
    /* Connections made before the failure are most likely broken too. */
    for (size_t i = 0; i < pool->slot_count; i++) {
        struct cache_slot *slot = &pool->slots[i];
        if (!slot->in_use && slot->context != NULL) {
            redisFree(slot->context);
            slot->context = NULL;
        }
    }
    if (cache->sentinel_count > 0)
        pool->master_known = false;
    /* Callers waiting for a context should now give up at once. */
    pthread_cond_broadcast(&pool->slot_free);
    pthread_mutex_unlock(&pool->lock);
    if (warn)
        xsmtp_log(&cache->logger, LOG_WARNING,
                  "redis cache unavailable (%s): verifying uncached, next try in %lld ms", why,
                  (long long)backoff_ms);
}

/* After a connection error or READONLY: ask the sentinels again. */
static void
pool_forget_master(struct cache *cache, struct borrow *borrow)
{
    if (cache->sentinel_count == 0)
        return;
    pthread_mutex_lock(&cache->pool.lock);
    if (cache->pool.generation == borrow->generation)
        cache->pool.master_known = false;
    pthread_mutex_unlock(&cache->pool.lock);
    borrow->master_known = false;
}

/* Sentinel mode: the master this call should connect to. */
static enum connect_outcome
pool_find_master(struct cache *cache, struct borrow *borrow, int64_t end_ns, char *why,
                 size_t whysz)
{
    struct cache_pool *pool = &cache->pool;
    struct cache_endpoint found;
    bool ok;

    pthread_mutex_lock(&pool->lock);
    if (pool->master_known) {
        borrow->master_known = true;
        borrow->master = pool->master;
        borrow->generation = pool->generation;
        pthread_mutex_unlock(&pool->lock);
        return CONNECT_OK;
    }
    if (pool->resolving) {
        pthread_mutex_unlock(&pool->lock);
        snprintf(why, whysz, "master lookup in progress");
        return CONNECT_SKIPPED;
    }
    pool->resolving = true;
    pthread_mutex_unlock(&pool->lock);

    ok = cache_sentinel_resolve(cache, end_ns, &found);

    pthread_mutex_lock(&pool->lock);
    pool->resolving = false;
    if (ok) {
        if (strcmp(found.host, pool->master.host) != 0 || found.port != pool->master.port) {
            if (pool->master.host[0] != '\0')
                pool->stats.master_changes++;
            pool->master = found;
        }
        pool->generation++;
        pool->master_known = true;
        borrow->master_known = true;
        borrow->master = found;
        borrow->generation = pool->generation;
    }
    pthread_mutex_unlock(&pool->lock);
    if (!ok) {
        snprintf(why, whysz, "no sentinel knows master %s", cache->master_name);
        return CONNECT_FAILED;
    }
    return CONNECT_OK;
}

/* One setup command that must answer +OK. */
static enum connect_outcome
setup_command(redisContext *context, int64_t end_ns, int argc, const char **argv, const char *what,
              char *why, size_t whysz)
{
    enum connect_outcome outcome = CONNECT_OK;
    bool timed_out;
    redisReply *reply = cache_context_command(context, end_ns, argc, argv, NULL, &timed_out);

    if (reply == NULL) {
        snprintf(why, whysz, "%s: %s", what, timed_out ? "timeout" : context->errstr);
        return timed_out ? CONNECT_TIMEOUT : CONNECT_FAILED;
    }
    if (reply->type != REDIS_REPLY_STATUS || strcmp(reply->str, "OK") != 0) {
        /* Redis's error text (e.g. WRONGPASS ...) never holds the password. */
        snprintf(why, whysz, "%s refused: %.80s", what,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        outcome = CONNECT_FAILED;
    }
    freeReplyObject(reply);
    return outcome;
}

/* Connects borrow->slot (AUTH, SELECT, ROLE) within end_ns. */
static enum connect_outcome
pool_connect(struct cache *cache, struct borrow *borrow, int64_t end_ns, char *why, size_t whysz)
{
    struct cache_slot *slot = borrow->slot;
    const struct cache_endpoint *target = &cache->server;
    redisContext *context;
    enum connect_outcome outcome;
    struct timeval tv;
    int64_t left_us;

    if (slot->context != NULL) {
        redisFree(slot->context);
        slot->context = NULL;
    }
    if (cache->sentinel_count > 0) {
        outcome = pool_find_master(cache, borrow, end_ns, why, whysz);
        if (outcome != CONNECT_OK)
            return outcome;
        target = &borrow->master;
    }
    left_us = (end_ns - cache_clock_ns()) / 1000;
    if (left_us <= 0) {
        snprintf(why, whysz, "no time left to connect");
        return CONNECT_TIMEOUT;
    }
    pthread_mutex_lock(&cache->pool.lock);
    cache->pool.stats.connect_attempts++;
    pthread_mutex_unlock(&cache->pool.lock);

    tv.tv_sec = (time_t)(left_us / 1000000);
    tv.tv_usec = (suseconds_t)(left_us % 1000000);
    if (cache->socket_path != NULL)
        context = redisConnectUnixWithTimeout(cache->socket_path, tv);
    else
        context = redisConnectWithTimeout(target->host, (int)target->port, tv);
    if (context == NULL) {
        snprintf(why, whysz, "out of memory");
        return CONNECT_FAILED;
    }
    if (context->err != 0) {
        bool timed_out = cache_clock_ns() >= end_ns;
        if (cache->socket_path != NULL)
            snprintf(why, whysz, "connect to %s: %s", cache->socket_path, context->errstr);
        else
            snprintf(why, whysz, "connect to %s:%u: %s", target->host, target->port,
                     context->errstr);
        redisFree(context);
        return timed_out ? CONNECT_TIMEOUT : CONNECT_FAILED;
    }
    /* Only a safety net for writes: replies are waited for with ppoll. */
    tv.tv_sec = (time_t)(cache->timeout_ns / 1000000000LL);
    tv.tv_usec = (suseconds_t)(cache->timeout_ns % 1000000000LL / 1000);
    outcome = CONNECT_OK;
    if (redisSetTimeout(context, tv) != REDIS_OK) {
        snprintf(why, whysz, "setting socket timeouts failed");
        outcome = CONNECT_FAILED;
    }
    if (outcome == CONNECT_OK && cache->has_password) {
        const char *argv[] = {"AUTH", cache->password};
        outcome = setup_command(context, end_ns, 2, argv, "AUTH", why, whysz);
    }
    if (outcome == CONNECT_OK && cache->db != 0) {
        char db_text[16];
        const char *argv[] = {"SELECT", db_text};
        snprintf(db_text, sizeof db_text, "%u", cache->db);
        outcome = setup_command(context, end_ns, 2, argv, "SELECT", why, whysz);
    }
    if (outcome == CONNECT_OK && cache->sentinel_count > 0 &&
        !cache_sentinel_is_master(context, end_ns)) {
        snprintf(why, whysz, "%s:%u is not a master (failover in progress?)", target->host,
                 target->port);
        outcome = CONNECT_FAILED;
    }
    if (outcome != CONNECT_OK) {
        redisFree(context);
        return outcome;
    }
    slot->context = context;
    slot->generation = borrow->generation;
    pthread_mutex_lock(&cache->pool.lock);
    cache->pool.stats.connects++;
    pthread_mutex_unlock(&cache->pool.lock);
    return CONNECT_OK;
}

/* A reused connection Redis closed meanwhile shows up readable (EOF). */
static bool
pool_context_usable(struct cache *cache, const struct borrow *borrow)
{
    const struct cache_slot *slot = borrow->slot;
    struct pollfd probe;

    if (slot->context == NULL || slot->context->err != 0)
        return false;
    if (cache->sentinel_count > 0 &&
        (!borrow->master_known || slot->generation != borrow->generation))
        return false;
    probe.fd = slot->context->fd;
    probe.events = POLLIN;
    probe.revents = 0;
    /* Redis sends nothing unasked: anything readable now is EOF or junk. */
    return poll(&probe, 1, 0) == 0;
}

static bool
starts_with(const char *text, const char *prefix)
{
    return text != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
}

enum cache_result
cache_pool_command(struct cache *cache, const struct timespec *deadline, int argc,
                   const char **argv, const size_t *argvlen, redisReply **reply_out)
{
    int64_t start = cache_clock_ns();
    int64_t end = start + cache->timeout_ns;
    bool caller_bound = false; /* the caller's deadline, not timeout_ms, ends us */
    bool retried = false, worked = false;
    struct borrow borrow;
    char why[512];

    *reply_out = NULL;
    if (deadline != NULL && timespec_ns(deadline) < end) {
        end = timespec_ns(deadline);
        caller_bound = true;
    }
    if (end <= start || !pool_borrow(cache, end, &borrow)) {
        cache_count_error(cache);
        return CACHE_UNAVAILABLE;
    }
    for (;;) {
        struct cache_slot *slot = borrow.slot;
        bool fresh = false, timed_out;
        redisReply *reply;

        if (!pool_context_usable(cache, &borrow)) {
            enum connect_outcome outcome;
            if (slot->context != NULL)
                pool_forget_master(cache, &borrow);
            outcome = pool_connect(cache, &borrow, end, why, sizeof why);
            if (outcome == CONNECT_FAILED || (outcome == CONNECT_TIMEOUT && !caller_bound))
                pool_mark_down(cache, &borrow, why);
            if (outcome != CONNECT_OK)
                break;
            fresh = true;
        }
        reply = cache_context_command(slot->context, end, argc, argv, argvlen, &timed_out);
        if (reply == NULL) {
            snprintf(why, sizeof why, "%s: %s", argv[0],
                     timed_out ? "timeout" : slot->context->errstr);
            redisFree(slot->context);
            slot->context = NULL;
            pool_forget_master(cache, &borrow);
            if (!timed_out && !fresh && !retried) {
                retried = true; /* a stale connection: one fresh try */
                continue;
            }
            if (!(timed_out && caller_bound))
                pool_mark_down(cache, &borrow, why);
            break;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            if (cache->sentinel_count > 0 && starts_with(reply->str, "READONLY")) {
                /* Our master was demoted: find the new one. */
                freeReplyObject(reply);
                redisFree(slot->context);
                slot->context = NULL;
                pool_forget_master(cache, &borrow);
                if (!retried) {
                    retried = true;
                    continue;
                }
                pool_mark_down(cache, &borrow, "master is read-only (failover)");
                break;
            }
            if (!starts_with(reply->str, "WRONGTYPE")) {
                /* Not a server failure (NOAUTH, OOM, LOADING ...), not ours to fix. */
                xsmtp_log(&cache->logger, LOG_DEBUG, "redis cache: %s answered: %.120s", argv[0],
                          reply->str);
                freeReplyObject(reply);
                break;
            }
            /* WRONGTYPE: the key holds something else; the caller decides. */
        }
        *reply_out = reply;
        worked = true;
        break;
    }
    pool_return(cache, &borrow, worked);
    if (!worked)
        cache_count_error(cache);
    return worked ? CACHE_OK : CACHE_UNAVAILABLE;
}
