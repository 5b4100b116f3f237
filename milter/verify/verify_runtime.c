/*
 * verify_runtime.c -- the verifier's process-wide state (verify_runtime.h):
 * the XMPP client, the Redis cache, the table of verifications in flight,
 * and counters.
 *
 * libmilter calls us without a user pointer, so this state is reachable
 * only through `verify_runtime` below, guarded by its mutex.  The client
 * and cache are set before smfi_main() starts any thread and cleared after
 * it returns; in between, callers borrow them with verify_runtime_enter()
 * so that verify_runtime_stop() never frees them under a caller (a
 * connection libmilter abandoned at stop may still be running).
 *
 * The flight table is a plain list: it holds one entry per distinct
 * message being verified right now, i.e. at most a few dozen.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/util/log.h"
#include "milter/cache/cache.h"
#include "milter/verify/verify_runtime.h"
#include "xmpp/client/client.h"

/* How long the stop waits for callers still inside a verification. */
#define VERIFY_STOP_WAIT_MS 5000
#define VERIFY_FINGERPRINT_MAX 4096

struct verify_flight {
    struct verify_flight *next;
    char key[CACHE_KEY_SIZE];
    unsigned refs; /* leader + followers; freed at 0 */
    bool done;
    struct verifier_result result;
    pthread_cond_t done_cond; /* CLOCK_MONOTONIC */
};

static struct verify_runtime {
    pthread_mutex_t lock;
    pthread_cond_t idle; /* users dropped to 0 (CLOCK_MONOTONIC) */
    pthread_condattr_t cond_attr;
    bool cond_ready;
    bool started, stopping;
    unsigned users; /* callers between enter and leave */
    struct xclient *client;
    struct cache *cache;                   /* NULL: no cache */
    char prefix[CACHE_PREFIX_MAX + 1];     /* key prefix, also without a cache */
    char own_domain[XSMTP_DOMAIN_MAX + 1]; /* by= of notices */
    char *fingerprint;                     /* xmpp { } and redis { } at start */
    unsigned long noted_generation;
    struct verify_flight *flights;
    atomic_ulong counters[VERIFY_COUNT_MAX];
} verify_runtime = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

void
verify_runtime_count(enum verify_counter counter)
{
    if ((unsigned)counter < VERIFY_COUNT_MAX)
        atomic_fetch_add(&verify_runtime.counters[counter], 1);
}

/* The start-only settings as one string, to notice changes at reload. */
static char *
verify_fingerprint(const struct milter_config *config)
{
    const struct xmpp_config *xmpp = &config->xmpp;
    const struct redis_config *redis = &config->redis;
    char *text = malloc(VERIFY_FINGERPRINT_MAX);
    size_t used;

#define S(value) ((value) != NULL ? (value) : "")
    if (text == NULL)
        return NULL;
    used = (size_t)snprintf(
        text, VERIFY_FINGERPRINT_MAX, "%s|%s|%s|%u|%d|%s|%d|%d|%s|%u|%s|%s|%u|%s|%u|%u|%s|",
        S(xmpp->jid), S(xmpp->password_file), S(xmpp->server), xmpp->port, (int)xmpp->tls,
        S(xmpp->ca_file), (int)xmpp->tls_trust, (int)redis->enabled, S(redis->host), redis->port,
        S(redis->socket), S(redis->password_file), redis->db, S(redis->prefix), redis->timeout_ms,
        redis->pool_size, S(redis->master_name));
    for (size_t i = 0; i < redis->sentinel_count && used < VERIFY_FINGERPRINT_MAX; i++)
        used += (size_t)snprintf(text + used, VERIFY_FINGERPRINT_MAX - used, "%s,",
                                 redis->sentinels[i]);
#undef S
    return text;
}

static xsmtp_status
verify_open_cache(const struct redis_config *redis, struct cache **out, char *err, size_t errsz)
{
    struct cache_options options = {
        .host = redis->host,
        .port = redis->port,
        .socket = redis->socket,
        .password_file = redis->password_file,
        .db = redis->db,
        .prefix = redis->prefix,
        .timeout_ms = redis->timeout_ms,
        .sentinels = (const char *const *)redis->sentinels,
        .sentinel_count = redis->sentinel_count,
        .master_name = redis->master_name,
        .pool_size = redis->pool_size,
        .logger = log_logger(),
    };

    *out = NULL;
    if (!redis->enabled)
        return XSMTP_OK;
    return cache_open(&options, out, err, errsz);
}

static void
verify_wait_login(struct xclient *client, const char *jid)
{
    struct timespec deadline;

    cache_deadline_after(&deadline, VERIFY_RUNTIME_CONNECT_WAIT_MS);
    if (xclient_wait_connected(client, &deadline) == XSMTP_OK)
        log_msg(LOG_INFO, "verifier: XMPP session up as %s", jid);
    else
        log_msg(LOG_WARNING,
                "verifier: no XMPP session as %s after %d ms; signed mail gets "
                "temperror until it is up (the client keeps trying)",
                jid, VERIFY_RUNTIME_CONNECT_WAIT_MS);
}

xsmtp_status
verify_runtime_start(const struct milter_config *config, char *err, size_t errsz)
{
    struct verify_runtime *runtime = &verify_runtime;
    const struct xmpp_config *xmpp = &config->xmpp;
    struct xclient_options options = {
        .jid = xmpp->jid,
        .password_file = xmpp->password_file,
        .server = xmpp->server,
        .port = xmpp->port,
        .tls = xmpp->tls == XMPP_TLS_OPTIONAL ? XCLIENT_TLS_OPTIONAL : XCLIENT_TLS_REQUIRED,
        .ca_file = xmpp->ca_file,
        .tls_trust = xmpp->tls_trust,
        .logger = log_logger(),
    };
    struct xclient *client = NULL;
    struct cache *cache = NULL;
    const char *at, *slash;
    xsmtp_status status;

    if ((config->mode & MILTER_MODE_VERIFY) == 0)
        return XSMTP_OK;
    if (runtime->started) {
        snprintf(err, errsz, "verifier: started twice");
        return XSMTP_EMALFORMED;
    }
    if (pthread_condattr_init(&runtime->cond_attr) != 0 ||
        pthread_condattr_setclock(&runtime->cond_attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&runtime->idle, &runtime->cond_attr) != 0) {
        snprintf(err, errsz, "verifier: cannot set up a condition variable");
        return XSMTP_ENOMEM;
    }
    runtime->cond_ready = true;
    status = verify_open_cache(&config->redis, &cache, err, errsz);
    if (status != XSMTP_OK)
        return status;
    status = xclient_start(&options, &client, err, errsz);
    if (status != XSMTP_OK) {
        cache_close(cache);
        return status;
    }
    at = strchr(xmpp->jid, '@');
    slash = strchr(xmpp->jid, '/');
    snprintf(runtime->own_domain, sizeof runtime->own_domain, "%.*s",
             at != NULL && slash != NULL && slash > at ? (int)(slash - at - 1) : 0,
             at != NULL ? at + 1 : "");
    snprintf(runtime->prefix, sizeof runtime->prefix, "%s",
             cache != NULL
                 ? cache_prefix(cache)
                 : (config->redis.prefix != NULL ? config->redis.prefix : CACHE_DEFAULT_PREFIX));
    runtime->fingerprint = verify_fingerprint(config);
    pthread_mutex_lock(&runtime->lock);
    runtime->client = client;
    runtime->cache = cache;
    runtime->started = true;
    runtime->stopping = false;
    pthread_mutex_unlock(&runtime->lock);
    if (cache == NULL)
        log_msg(LOG_NOTICE, "verifier: no redis { host, socket or sentinels }: verifying "
                            "without a cache");
    else
        log_msg(LOG_INFO, "verifier: Redis cache %s%s%s, key prefix %s",
                config->redis.socket != NULL ? config->redis.socket
                : config->redis.host != NULL ? config->redis.host
                                             : "via Sentinel",
                config->redis.master_name != NULL ? " master " : "",
                config->redis.master_name != NULL ? config->redis.master_name : "",
                runtime->prefix);
    verify_wait_login(client, xmpp->jid);
    return XSMTP_OK;
}

void
verify_runtime_stop(void)
{
    struct verify_runtime *runtime = &verify_runtime;
    struct xclient *client;
    struct cache *cache;
    struct timespec deadline;
    int rc = 0;

    pthread_mutex_lock(&runtime->lock);
    if (!runtime->started || runtime->stopping) {
        pthread_mutex_unlock(&runtime->lock);
        return;
    }
    runtime->stopping = true;
    cache_deadline_after(&deadline, VERIFY_STOP_WAIT_MS);
    while (runtime->users > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&runtime->idle, &runtime->lock, &deadline);
    client = runtime->client;
    cache = runtime->cache;
    if (runtime->users > 0) {
        /* Someone is still inside a call: leave everything allocated (we
         * are about to exit) rather than free it under them. */
        pthread_mutex_unlock(&runtime->lock);
        log_msg(LOG_WARNING, "verifier: %u verifications still running at stop", runtime->users);
        return;
    }
    runtime->client = NULL;
    runtime->cache = NULL;
    pthread_mutex_unlock(&runtime->lock);
    xclient_stop(client);
    cache_close(cache);
    free(runtime->fingerprint);
    runtime->fingerprint = NULL;
}

bool
verify_runtime_enter(struct xclient **client, struct cache **cache, const char **prefix)
{
    struct verify_runtime *runtime = &verify_runtime;
    bool ok;

    pthread_mutex_lock(&runtime->lock);
    ok = runtime->started && !runtime->stopping && runtime->client != NULL;
    if (ok) {
        runtime->users++;
        *client = runtime->client;
        *cache = runtime->cache;
        *prefix = runtime->prefix;
    }
    pthread_mutex_unlock(&runtime->lock);
    return ok;
}

void
verify_runtime_leave(void)
{
    struct verify_runtime *runtime = &verify_runtime;

    pthread_mutex_lock(&runtime->lock);
    if (runtime->users > 0 && --runtime->users == 0 && runtime->stopping)
        pthread_cond_broadcast(&runtime->idle);
    pthread_mutex_unlock(&runtime->lock);
}

void
verify_runtime_note_config(const struct milter_config *config, unsigned long generation)
{
    struct verify_runtime *runtime = &verify_runtime;
    char *now;
    bool changed;

    pthread_mutex_lock(&runtime->lock);
    if (runtime->noted_generation == generation) {
        pthread_mutex_unlock(&runtime->lock);
        return;
    }
    runtime->noted_generation = generation;
    if (!runtime->started) {
        pthread_mutex_unlock(&runtime->lock);
        if ((config->mode & MILTER_MODE_VERIFY) != 0)
            log_msg(LOG_WARNING,
                    "verifier: mode verify came with configuration %lu, but the "
                    "XMPP client and the cache start only at a restart: until then signed "
                    "mail gets temperror internal-error",
                    generation);
        return;
    }
    pthread_mutex_unlock(&runtime->lock);
    if (runtime->fingerprint == NULL)
        return;
    now = verify_fingerprint(config);
    changed = now != NULL && strcmp(now, runtime->fingerprint) != 0;
    free(now);
    if (changed)
        log_msg(LOG_WARNING,
                "verifier: xmpp { } or redis { } changed in configuration %lu; "
                "they take effect at the next restart",
                generation);
}

void
verify_runtime_counters(char *out, size_t outsz)
{
    struct verify_runtime *runtime = &verify_runtime;

    if (outsz == 0)
        return;
    out[0] = '\0';
    if (!runtime->started)
        return;
    snprintf(out, outsz,
             "verified=%lu cache_hits=%lu queries=%lu discoveries=%lu coalesced=%lu "
             "lock_waits=%lu fast_tracked=%lu notices_queued=%lu notices_dropped=%lu "
             "notices_unsent=%lu",
             atomic_load(&runtime->counters[VERIFY_COUNT_MESSAGES]),
             atomic_load(&runtime->counters[VERIFY_COUNT_CACHE_HITS]),
             atomic_load(&runtime->counters[VERIFY_COUNT_QUERIES]),
             atomic_load(&runtime->counters[VERIFY_COUNT_DISCOVERIES]),
             atomic_load(&runtime->counters[VERIFY_COUNT_COALESCED]),
             atomic_load(&runtime->counters[VERIFY_COUNT_LOCK_WAITS]),
             atomic_load(&runtime->counters[VERIFY_COUNT_FAST_TRACKED]),
             atomic_load(&runtime->counters[VERIFY_COUNT_NOTICES_QUEUED]),
             atomic_load(&runtime->counters[VERIFY_COUNT_NOTICES_DROPPED]),
             atomic_load(&runtime->counters[VERIFY_COUNT_NOTICES_UNSENT]));
}

/* --- flights -------------------------------------------------------------- */

static void
verify_flight_unref_locked(struct verify_flight *flight)
{
    if (--flight->refs == 0) {
        pthread_cond_destroy(&flight->done_cond);
        free(flight);
    }
}

enum verify_flight_role
verify_flight_join(const char *key, const struct timespec *deadline, struct verify_flight **out,
                   struct verifier_result *result)
{
    struct verify_runtime *runtime = &verify_runtime;
    struct verify_flight *flight;
    enum verify_flight_role role;
    int rc = 0;

    *out = NULL;
    if (strlen(key) >= CACHE_KEY_SIZE || !runtime->cond_ready)
        return VERIFY_FLIGHT_ALONE;
    pthread_mutex_lock(&runtime->lock);
    for (flight = runtime->flights; flight != NULL; flight = flight->next)
        if (!flight->done && strcmp(flight->key, key) == 0)
            break;
    if (flight == NULL) {
        flight = calloc(1, sizeof *flight);
        if (flight == NULL || pthread_cond_init(&flight->done_cond, &runtime->cond_attr) != 0) {
            pthread_mutex_unlock(&runtime->lock);
            free(flight);
            return VERIFY_FLIGHT_ALONE;
        }
        memcpy(flight->key, key, strlen(key) + 1);
        flight->refs = 1;
        flight->next = runtime->flights;
        runtime->flights = flight;
        pthread_mutex_unlock(&runtime->lock);
        *out = flight;
        return VERIFY_FLIGHT_LEADER;
    }
    flight->refs++;
    while (!flight->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&flight->done_cond, &runtime->lock, deadline);
    if (flight->done) {
        *result = flight->result;
        role = VERIFY_FLIGHT_JOINED;
    } else {
        role = VERIFY_FLIGHT_TIMEOUT;
    }
    verify_flight_unref_locked(flight);
    pthread_mutex_unlock(&runtime->lock);
    return role;
}

void
verify_flight_finish(struct verify_flight *flight, const struct verifier_result *result)
{
    struct verify_runtime *runtime = &verify_runtime;
    struct verify_flight **link;

    if (flight == NULL)
        return;
    pthread_mutex_lock(&runtime->lock);
    for (link = &runtime->flights; *link != NULL; link = &(*link)->next) {
        if (*link == flight) {
            *link = flight->next;
            break;
        }
    }
    flight->result = *result;
    flight->done = true;
    pthread_cond_broadcast(&flight->done_cond);
    verify_flight_unref_locked(flight);
    pthread_mutex_unlock(&runtime->lock);
}

/* --- notices (XSMTP-1 s8) ------------------------------------------------- */

enum verify_notice_result
verify_runtime_notice(const struct verifier_message *message, const struct verifier_result *result,
                      const char *status)
{
    struct xclient *client;
    struct cache *cache;
    const char *prefix;
    char t[24];
    struct xclient_notice notice;
    xsmtp_status sent;

    if (!verify_runtime_enter(&client, &cache, &prefix)) {
        verify_runtime_count(VERIFY_COUNT_NOTICES_UNSENT);
        return VERIFY_NOTICE_UNSENT;
    }
    snprintf(t, sizeof t, "%" PRId64, (int64_t)time(NULL));
    notice = (struct xclient_notice){
        .identity = message->identity,
        .message_id = message->msgid,
        .status = status,
        .by = verify_runtime.own_domain,
        .t = t,
    };
    sent = xclient_send_notice(client, result->component, &notice);
    verify_runtime_leave();
    if (sent == XSMTP_OK) {
        verify_runtime_count(VERIFY_COUNT_NOTICES_QUEUED);
        return VERIFY_NOTICE_QUEUED;
    }
    if (sent == XSMTP_ETOOBIG) {
        verify_runtime_count(VERIFY_COUNT_NOTICES_DROPPED);
        return VERIFY_NOTICE_DROPPED;
    }
    verify_runtime_count(VERIFY_COUNT_NOTICES_UNSENT);
    return VERIFY_NOTICE_UNSENT;
}

const char *
verify_notice_result_text(enum verify_notice_result notice)
{
    switch (notice) {
    case VERIFY_NOTICE_QUEUED: return "queued";
    case VERIFY_NOTICE_DROPPED: return "dropped: queue full";
    case VERIFY_NOTICE_UNSENT: break;
    }
    return "not sent: no XMPP session";
}
