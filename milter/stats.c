/*
 * stats.c -- xsmtp-milter's counters and the "stats:" log line (stats.h).
 *
 * The counters are the process-wide `milter_stats` below: atomics that any
 * libmilter worker may bump without a lock, and the periodic interval that
 * the signal thread reads before each wait.  The line is put together in
 * the signal thread only (timer, SIGUSR1, stop); what it borrows from the
 * verifier -- the XMPP client and the Redis cache -- it takes through
 * verify_runtime_enter(), so it never reads them while they are freed.
 *
 * Keys (all counts since start):
 *   uptime generation connections in_flight messages signed not_signed
 *   verdict.{none,pass,fail,permerror,temperror} internal_errors
 *   verify.* (verify_runtime_counters: verified cache_hits queries ...)
 *   xmpp.{connected,connects,reconnects,connect_failures,queries,answers,
 *         timeouts,disconnected,overloaded,rtt_ms.p50,rtt_ms.p90,rtt_ms.p99,
 *         notices_sent,notices_dropped}
 *   cache.{hits,misses,errors,down}
 * The xmpp and cache keys appear only when the verifier runs (and, for
 * cache, when a cache is configured).
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash/util/log.h"
#include "milter/cache/cache.h"
#include "milter/context.h"
#include "milter/stats.h"
#include "milter/verify/verify_runtime.h"
#include "xmpp/client/client.h"

#define STATS_LINE_MAX 2048
#define STATS_VERIFY_MAX 1024

static struct milter_stats {
    atomic_ulong counters[STATS_COUNT];
    atomic_uint interval; /* seconds; 0: no periodic line */
    atomic_llong started; /* CLOCK_MONOTONIC seconds at start */
} milter_stats;

void
stats_count(enum milter_stat stat)
{
    if ((unsigned)stat < STATS_COUNT)
        atomic_fetch_add(&milter_stats.counters[stat], 1);
}

void
stats_count_verdict(enum xsmtp_verdict verdict)
{
    if ((unsigned)verdict < XSMTP_VERDICT_COUNT)
        stats_count((enum milter_stat)(STATS_VERDICT_NONE + verdict));
}

unsigned long
stats_value(enum milter_stat stat)
{
    return (unsigned)stat < STATS_COUNT ? atomic_load(&milter_stats.counters[stat]) : 0;
}

void
stats_interval_set(unsigned seconds)
{
    atomic_store(&milter_stats.interval, seconds);
}

unsigned
stats_interval_get(void)
{
    return atomic_load(&milter_stats.interval);
}

static long long
stats_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec;
}

void
stats_started(void)
{
    atomic_store(&milter_stats.started, stats_now());
}

/* A bounded appender: once full it stays full, and out stays terminated. */
struct stats_text {
    char *out;
    size_t size, used;
};

__attribute__((format(printf, 2, 3))) static void
put(struct stats_text *text, const char *fmt, ...)
{
    va_list args;
    int n;

    if (text->used + 1 >= text->size)
        return;
    va_start(args, fmt);
    n = vsnprintf(text->out + text->used, text->size - text->used, fmt, args);
    va_end(args);
    if (n < 0)
        return;
    text->used += (size_t)n;
    if (text->used >= text->size)
        text->used = text->size - 1;
}

/* " verify.KEY=VALUE" for each "KEY=VALUE" word of the verifier's line. */
static void
put_verify_counters(struct stats_text *text)
{
    char line[STATS_VERIFY_MAX];
    char *word, *rest = NULL;

    verify_runtime_counters(line, sizeof line);
    for (word = strtok_r(line, " ", &rest); word != NULL; word = strtok_r(NULL, " ", &rest))
        put(text, " verify.%s", word);
}

static void
put_percentile(struct stats_text *text, const char *key, const struct xclient_stats *xmpp, double p)
{
    uint32_t us = xclient_percentile(xmpp->rtt_us, xmpp->rtt_count, p);

    put(text, " %s=%u.%03u", key, (unsigned)(us / 1000), (unsigned)(us % 1000));
}

static void
put_xmpp(struct stats_text *text, struct xclient *client)
{
    /* Two rings of XCLIENT_SAMPLES values: too big for comfort on a stack. */
    struct xclient_stats *xmpp = calloc(1, sizeof *xmpp);

    if (xmpp == NULL || xclient_get_stats(client, xmpp) != XSMTP_OK) {
        free(xmpp);
        return;
    }
    put(text,
        " xmpp.connected=%d xmpp.connects=%lu xmpp.reconnects=%lu"
        " xmpp.connect_failures=%lu xmpp.queries=%lu xmpp.answers=%lu xmpp.timeouts=%lu"
        " xmpp.disconnected=%lu xmpp.overloaded=%lu",
        xmpp->connected ? 1 : 0, xmpp->connects, xmpp->connects > 0 ? xmpp->connects - 1 : 0,
        xmpp->connect_failures, xmpp->queries_sent, xmpp->answers, xmpp->timeouts,
        xmpp->failed_disconnected, xmpp->overloaded);
    put_percentile(text, "xmpp.rtt_ms.p50", xmpp, 50.0);
    put_percentile(text, "xmpp.rtt_ms.p90", xmpp, 90.0);
    put_percentile(text, "xmpp.rtt_ms.p99", xmpp, 99.0);
    put(text, " xmpp.notices_sent=%lu xmpp.notices_dropped=%lu", xmpp->notices_sent,
        xmpp->notices_dropped);
    free(xmpp);
}

static void
put_cache(struct stats_text *text, struct cache *cache)
{
    struct cache_stats counters;

    cache_get_stats(cache, &counters);
    put(text, " cache.hits=%llu cache.misses=%llu cache.errors=%llu cache.down=%d",
        (unsigned long long)counters.hits, (unsigned long long)counters.misses,
        (unsigned long long)counters.errors, counters.down ? 1 : 0);
}

void
stats_format(const char *reason, char *out, size_t outsz)
{
    struct stats_text text = {out, outsz, 0};
    struct milter_context *context;
    struct xclient *client = NULL;
    struct cache *cache = NULL;
    const char *prefix = NULL;
    long long started = atomic_load(&milter_stats.started);
    unsigned i;

    if (outsz == 0)
        return;
    out[0] = '\0';
    context = context_acquire();
    put(&text, "stats: reason=%s uptime=%lld generation=%lu connections=%u in_flight=%u",
        reason != NULL ? reason : "-", started > 0 ? stats_now() - started : 0LL,
        context != NULL ? context->generation : 0UL, context_sessions_active(),
        context_messages_active());
    context_release(context);
    put(&text, " messages=%lu signed=%lu not_signed=%lu", stats_value(STATS_MESSAGES),
        stats_value(STATS_SIGNED), stats_value(STATS_NOT_SIGNED));
    for (i = 0; i < XSMTP_VERDICT_COUNT; i++)
        put(&text, " verdict.%s=%lu", xsmtp_verdict_name((enum xsmtp_verdict)i),
            stats_value((enum milter_stat)(STATS_VERDICT_NONE + i)));
    put(&text, " internal_errors=%lu", stats_value(STATS_INTERNAL_ERRORS));
    put_verify_counters(&text);
    if (verify_runtime_enter(&client, &cache, &prefix)) {
        put_xmpp(&text, client);
        if (cache != NULL)
            put_cache(&text, cache);
        verify_runtime_leave();
    }
}

void
stats_log(const char *reason)
{
    char line[STATS_LINE_MAX];

    stats_format(reason, line, sizeof line);
    log_msg(LOG_NOTICE, "%s", line);
}
