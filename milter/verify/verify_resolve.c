/*
 * verify_resolve.c -- the network half of one verification (XSMTP-1 s5 to
 * s7): verdict cache, discovery, query, store.
 *
 *   1. verdict cache: a hit decides (cached=yes);
 *   2. coalescing: identical concurrent misses in this process wait for
 *      the first (verify_flight_*); across processes the first to take the
 *      cache's SET NX lock queries, the others poll the cache for a while;
 *   3. discovery: verify.components, else the cached answer, else
 *      disco#items/disco#info through the XMPP client (coalesced per
 *      domain the same way); nothing found is permerror no-component;
 *   4. the query; its answer is mapped by answer.c;
 *   5. pass, fail and permerror answers are stored with cache_ttl_for.
 *
 * Every call gets the same absolute deadline (CLOCK_MONOTONIC); Redis and
 * XMPP calls never outlast it, and a verification that has no answer by
 * then is temperror XSMTP_REASON_TIMEOUT.  Redis trouble only means "uncached".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hash/util/log.h"
#include "milter/cache/cache.h"
#include "milter/verify/verify_runtime.h"
#include "xmpp/client/client.h"

/* Polling a verdict another process is fetching: first pause, longest pause. */
#define RESOLVE_POLL_FIRST_MS 2
#define RESOLVE_POLL_MAX_MS 25

struct resolve {
    const struct milter_config *config;
    const struct verifier_message *message;
    const char *relay;
    const struct timespec *deadline;
    struct xclient *client;
    struct cache *cache; /* NULL: no cache, or Redis given up */
    const char *prefix;
    bool have_key;
    char key[CACHE_KEY_SIZE];
    bool have_lock;
    struct cache_lock lock;
};

static int64_t
now_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t
deadline_ms(const struct timespec *deadline)
{
    return (int64_t)deadline->tv_sec * 1000 + deadline->tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
        ;
}

/* --- discovery ------------------------------------------------------------ */

static void
discovered(struct verifier_result *result, const struct xclient_discovery *answer)
{
    switch (answer->outcome) {
    case XCLIENT_DISCOVERY_FOUND:
        verifier_result_set(result, XSMTP_VERDICT_PASS, NULL, answer->jid);
        break;
    case XCLIENT_DISCOVERY_NONE:
        verifier_result_set(result, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_NO_COMPONENT, NULL);
        break;
    default:
        verifier_result_set(
            result, XSMTP_VERDICT_TEMPERROR,
            answer->reason[0] != '\0' ? answer->reason : XSMTP_REASON_DISCOVERY_FAILED, NULL);
        break;
    }
}

/* Cached answer, else disco; as a result: PASS with component = found. */
static void
discover_uncached(struct resolve *resolve, const char *domain, const char *key,
                  struct verifier_result *result)
{
    struct cache_component_entry entry;
    struct xclient_discovery answer;

    if (resolve->cache != NULL && key != NULL) {
        memset(&entry, 0, sizeof entry);
        if (cache_get_component(resolve->cache, key, resolve->deadline, &entry) == CACHE_HIT) {
            if (entry.found)
                verifier_result_set(result, XSMTP_VERDICT_PASS, NULL, entry.jid);
            else
                verifier_result_set(result, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_NO_COMPONENT,
                                    NULL);
            return;
        }
    }
    verify_runtime_count(VERIFY_COUNT_DISCOVERIES);
    if (xclient_discover(resolve->client, domain, resolve->deadline, &answer) != XSMTP_OK) {
        verifier_result_set(result, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_NO_COMPONENT, NULL);
        return;
    }
    discovered(result, &answer);
    if (answer.outcome == XCLIENT_DISCOVERY_TEMPFAIL || resolve->cache == NULL || key == NULL)
        return;
    memset(&entry, 0, sizeof entry);
    entry.found = answer.outcome == XCLIENT_DISCOVERY_FOUND;
    if (entry.found)
        snprintf(entry.jid, sizeof entry.jid, "%s", answer.jid);
    (void)cache_put_component(resolve->cache, key, &entry, resolve->deadline);
}

/*
 * XSMTP-1 s5.  Returns the component JID (static map, or copied into
 * found), or NULL with result set (permerror no-component, temperror).
 */
static const char *
discover(struct resolve *resolve, char *found, size_t foundsz, struct verifier_result *result)
{
    const char *domain = verifier_identity_domain(resolve->message);
    const char *jid = config_verify_route(resolve->config, domain);
    char key[CACHE_KEY_SIZE];
    bool have_key;
    struct verify_flight *flight = NULL;
    enum verify_flight_role role;

    if (jid != NULL)
        return jid;
    have_key = cache_key_component(resolve->prefix, domain, key, sizeof key) == XSMTP_OK;
    role = have_key ? verify_flight_join(key, resolve->deadline, &flight, result)
                    : VERIFY_FLIGHT_ALONE;
    if (role == VERIFY_FLIGHT_TIMEOUT)
        verifier_result_set(result, XSMTP_VERDICT_TEMPERROR, XSMTP_REASON_TIMEOUT, NULL);
    if (role == VERIFY_FLIGHT_LEADER || role == VERIFY_FLIGHT_ALONE) {
        discover_uncached(resolve, domain, have_key ? key : NULL, result);
        verify_flight_finish(flight, result);
    }
    if (result->verdict != XSMTP_VERDICT_PASS)
        return NULL;
    snprintf(found, foundsz, "%s", result->component);
    return found;
}

/* --- the verdict cache ---------------------------------------------------- */

/*
 * We hold the lock now.  Another process may have stored its verdict and
 * released the lock between our miss and our lock: read once more, or that
 * window costs a second query.  true: result holds a cached verdict.
 */
static bool
recheck_after_lock(struct resolve *resolve, struct verifier_result *result)
{
    struct cache_verdict_entry entry;

    if (cache_get_verdict(resolve->cache, resolve->key, resolve->deadline, &entry) != CACHE_HIT)
        return false;
    verifier_result_from_cache(result, entry.verdict, entry.reason, entry.component);
    (void)cache_lock_release(resolve->cache, &resolve->lock, resolve->deadline);
    resolve->have_lock = false;
    return true;
}

/*
 * Another process holds the lock: poll the cache until its answer shows
 * up, the lock frees (then take it), or half the time left is gone (then
 * go on without it: better two queries than a temperror).  true: result
 * holds a cached verdict.
 */
static bool
wait_for_other(struct resolve *resolve, unsigned lock_ttl_ms, struct verifier_result *result)
{
    int64_t give_up = now_ms() + (deadline_ms(resolve->deadline) - now_ms()) / 2;
    int64_t pause = RESOLVE_POLL_FIRST_MS;
    struct cache_verdict_entry entry;

    verify_runtime_count(VERIFY_COUNT_LOCK_WAITS);
    while (now_ms() + pause < give_up) {
        sleep_ms(pause);
        pause = pause * 2 > RESOLVE_POLL_MAX_MS ? RESOLVE_POLL_MAX_MS : pause * 2;
        switch (cache_get_verdict(resolve->cache, resolve->key, resolve->deadline, &entry)) {
        case CACHE_HIT:
            verifier_result_from_cache(result, entry.verdict, entry.reason, entry.component);
            return true;
        case CACHE_MISS: break;
        default: return false;
        }
        switch (cache_lock_acquire(resolve->cache, resolve->key, lock_ttl_ms, resolve->deadline,
                                   &resolve->lock)) {
        case CACHE_LOCKED: resolve->have_lock = true; return recheck_after_lock(resolve, result);
        case CACHE_BUSY: break;
        default: return false;
        }
    }
    return false;
}

/* true: result holds a cached verdict. */
static bool
consult_cache(struct resolve *resolve, struct verifier_result *result)
{
    struct cache_verdict_entry entry;
    unsigned lock_ttl_ms = resolve->config->verify.timeout_ms;

    if (resolve->cache == NULL || !resolve->have_key)
        return false;
    switch (cache_get_verdict(resolve->cache, resolve->key, resolve->deadline, &entry)) {
    case CACHE_HIT:
        verifier_result_from_cache(result, entry.verdict, entry.reason, entry.component);
        return true;
    case CACHE_MISS: break;
    default: return false; /* unavailable: go on uncached */
    }
    switch (cache_lock_acquire(resolve->cache, resolve->key, lock_ttl_ms, resolve->deadline,
                               &resolve->lock)) {
    case CACHE_LOCKED: resolve->have_lock = true; return recheck_after_lock(resolve, result);
    case CACHE_BUSY: return wait_for_other(resolve, lock_ttl_ms, result);
    default: return false;
    }
}

static void
store(struct resolve *resolve, const struct verifier_result *result)
{
    struct cache_verdict_entry entry;
    int64_t ttl;
    enum cache_result stored;

    if (resolve->cache == NULL || !resolve->have_key ||
        !cache_verdict_entry_set(&entry, result->verdict, result->reason, result->component))
        return;
    ttl = cache_ttl_for(entry.verdict, (int64_t)resolve->message->tags.time,
                        resolve->config->verify.max_age, (int64_t)time(NULL));
    stored = cache_put_verdict(resolve->cache, resolve->key, &entry, ttl, resolve->deadline);
    if (stored != CACHE_OK && log_enabled(LOG_DEBUG))
        log_msg(LOG_DEBUG, "verifier: verdict not cached (%s)", cache_result_str(stored));
}

/* --- one verification -------------------------------------------------------- */

static void
resolve_lead(struct resolve *resolve, struct verifier_result *result)
{
    struct xsmtp_query query;
    struct xclient_answer answer;
    char found[VERIFIER_JID_SIZE];
    const char *component;

    if (consult_cache(resolve, result)) {
        verify_runtime_count(VERIFY_COUNT_CACHE_HITS);
        return;
    }
    component = discover(resolve, found, sizeof found, result);
    if (component != NULL) {
        verifier_query(resolve->message, resolve->relay, &query);
        verify_runtime_count(VERIFY_COUNT_QUERIES);
        (void)xclient_verify(resolve->client, component, &query, resolve->deadline, &answer);
        verifier_result_from_answer(result, answer.verdict, answer.reason, component);
        store(resolve, result);
    }
    if (resolve->have_lock) {
        (void)cache_lock_release(resolve->cache, &resolve->lock, resolve->deadline);
        resolve->have_lock = false;
    }
}

void
verify_resolve(const struct milter_config *config, const struct verifier_message *message,
               const char *relay, const struct timespec *deadline, struct verifier_result *result)
{
    struct resolve resolve = {
        .config = config,
        .message = message,
        .relay = relay,
        .deadline = deadline,
    };
    struct xsmtp_token_input input;
    struct verify_flight *flight = NULL;
    enum verify_flight_role role;

    verifier_result_set(result, XSMTP_VERDICT_TEMPERROR, XSMTP_REASON_INTERNAL_ERROR, NULL);
    if (!verify_runtime_enter(&resolve.client, &resolve.cache, &resolve.prefix))
        return;
    verifier_token_input(message, &input);
    resolve.have_key = cache_key_verdict(resolve.prefix, &input, relay, resolve.key,
                                         sizeof resolve.key) == XSMTP_OK;
    role = resolve.have_key ? verify_flight_join(resolve.key, deadline, &flight, result)
                            : VERIFY_FLIGHT_ALONE;
    switch (role) {
    case VERIFY_FLIGHT_JOINED: verify_runtime_count(VERIFY_COUNT_COALESCED); break;
    case VERIFY_FLIGHT_TIMEOUT:
        verifier_result_set(result, XSMTP_VERDICT_TEMPERROR, XSMTP_REASON_TIMEOUT, NULL);
        break;
    case VERIFY_FLIGHT_LEADER:
    case VERIFY_FLIGHT_ALONE:
        resolve_lead(&resolve, result);
        verify_flight_finish(flight, result);
        break;
    }
    verify_runtime_leave();
}
