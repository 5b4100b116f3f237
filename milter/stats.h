/*
 * stats.h -- xsmtp-milter's counters and the line that reports them.
 *
 * What is counted where:
 *   messages begun           context.c (every MAIL the milter accepts)
 *   signed / not signed      sign_filter.c
 *   verdicts by kind         the verifier (stats_count_verdict)
 *   internal errors          wherever the milter answers on_internal_error
 * and, read when the line is written, the verifier's own counters
 * (verify_runtime_counters: queries, cache hits, notices ...), the XMPP
 * client's (connects, queries sent, round-trip percentiles, timeouts,
 * notices sent and dropped) and the Redis cache's (hits, misses, errors).
 *
 * The line -- "stats: reason=R uptime=S key=value ..." at LOG_NOTICE, one
 * line so it can be grepped and graphed -- is written every
 * `stats_interval` seconds (0: never), on SIGUSR1 and at stop.  The timer
 * lives in the signal thread (signals.c), which asks stats_interval_get()
 * how long to wait; context.c sets it whenever a configuration becomes
 * live, so a reload changes it.  Counters are atomics: any thread may count.
 */
#ifndef XSMTP_STATS_H
#define XSMTP_STATS_H

#include <stddef.h>

#include "hash/proto.h"

enum milter_stat {
    STATS_MESSAGES,     /* messages begun (MAIL accepted) */
    STATS_SIGNED,       /* X-XMPP-Identity and X-XMPP-Hash added */
    STATS_NOT_SIGNED,   /* a client we sign for, but the message was not */
    STATS_VERDICT_NONE, /* the five verdicts in enum xsmtp_verdict order */
    STATS_VERDICT_PASS,
    STATS_VERDICT_FAIL,
    STATS_VERDICT_PERMERROR,
    STATS_VERDICT_TEMPERROR,
    STATS_INTERNAL_ERRORS, /* answered on_internal_error */
    STATS_COUNT
};

/* Counts one event; out-of-range values are ignored. */
void stats_count(enum milter_stat stat);
/* Counts one verdict of the verifier. */
void stats_count_verdict(enum xsmtp_verdict verdict);
/* The current value of one counter. */
unsigned long stats_value(enum milter_stat stat);

/* Seconds between two periodic lines; 0: none.  Set by context.c. */
void stats_interval_set(unsigned seconds);
unsigned stats_interval_get(void);

/* Marks the start of the process (uptime); called once by context_start. */
void stats_started(void);

/*
 * Writes the counters as one "stats:" line into out (always terminated;
 * cut short when out is too small).  reason is a single word: "timer",
 * "sigusr1", "stop".
 */
void stats_format(const char *reason, char *out, size_t outsz);
/* stats_format, then log_msg at LOG_NOTICE. */
void stats_log(const char *reason);

#endif
