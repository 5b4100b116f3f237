/*
 * verify_runtime.h -- the verifier's process-wide machinery: the XMPP
 * client and the Redis cache (one of each per milter process, started
 * once), the table of verifications in flight that coalesces identical
 * concurrent misses, and the network half of a decision (verify_resolve).
 *
 * Life cycle (main.c): verify_runtime_start() after privileges are
 * dropped and before smfi_main(), so the XMPP socket gets a low
 * descriptor number (libstrophe select()s on it) and the password files
 * are read as the user that must be able to read them;
 * verify_runtime_stop() after smfi_main() has returned.  Both are no-ops
 * when the mode does not contain verify.  The xmpp { } and redis { }
 * sections are read at start only; a reload that changes them is logged
 * as needing a restart (verify_runtime_note_config).
 */
#ifndef XSMTP_VERIFY_RUNTIME_H
#define XSMTP_VERIFY_RUNTIME_H

#include <stddef.h>
#include <time.h>

#include "hash/util/status.h"
#include "milter/config/milter_config.h"
#include "milter/verify/verifier.h"

/* How long start waits for the first XMPP login (it goes on without). */
#define VERIFY_RUNTIME_CONNECT_WAIT_MS 5000

/* Starts the client and opens the cache; err gets a one-line reason. */
xsmtp_status verify_runtime_start(const struct milter_config *config, char *err, size_t errsz);
/* Waits (bounded) for verifications in progress, then stops and frees. */
void verify_runtime_stop(void);

/* Logs once per configuration generation when xmpp { } or redis { }
 * differ from what the runtime was started with. */
void verify_runtime_note_config(const struct milter_config *config, unsigned long generation);

/* One line of counters for SIGUSR1-style reports (buffer gets "" when off). */
void verify_runtime_counters(char *out, size_t outsz);

/*
 * The network half of one verification (XSMTP-1 s5 to s7): the verdict
 * cache, then discovery (verify.components, the cached answer, disco via
 * XMPP), the query, and storing the answer.  message passed
 * verifier_check_body; relay is the delivering client's address ("" when
 * unknown).  Never returns later than deadline (CLOCK_MONOTONIC) plus
 * scheduling; whatever fails ends in a result (temperror when nothing
 * better is known).  Identical concurrent verifications in this process
 * share one query; across processes the cache's lock does the same.
 */
void verify_resolve(const struct milter_config *config, const struct verifier_message *message,
                    const char *relay, const struct timespec *deadline,
                    struct verifier_result *result);

/* What became of one s8 notice. */
enum verify_notice_result {
    VERIFY_NOTICE_QUEUED,  /* on the XMPP thread's queue */
    VERIFY_NOTICE_DROPPED, /* the queue was full: dropped and counted */
    VERIFY_NOTICE_UNSENT   /* no XMPP session (or stopping, bad values): counted */
};

/*
 * s8: queues a delivery-progress notice for a pass to result->component
 * with status ("accepted", "quarantined", "rejected" or "deferred");
 * never waits (xclient_send_notice takes a lock and writes an
 * eventfd).  The caller has decided that one is due (verify_policy.h).
 */
enum verify_notice_result verify_runtime_notice(const struct verifier_message *message,
                                                const struct verifier_result *result,
                                                const char *status);
/* "queued", "dropped: queue full", "not sent: no XMPP session". */
const char *verify_notice_result_text(enum verify_notice_result notice);

/* --- shared between verify_runtime.c and verify_resolve.c ------------------ */

struct xclient;
struct cache;

/*
 * Borrowing the client and cache: returns false once a stop has begun.
 * Every successful verify_runtime_enter() is paired with one
 * verify_runtime_leave(); the stop waits for the count to drop to 0.
 */
bool verify_runtime_enter(struct xclient **client, struct cache **cache, const char **prefix);
void verify_runtime_leave(void);

/* In-process coalescing: the first caller for a key leads, others follow. */
struct verify_flight;
enum verify_flight_role {
    VERIFY_FLIGHT_LEADER,  /* do the work, then verify_flight_finish */
    VERIFY_FLIGHT_JOINED,  /* result holds the leader's outcome */
    VERIFY_FLIGHT_TIMEOUT, /* the deadline passed while following */
    VERIFY_FLIGHT_ALONE    /* no table entry (out of memory): work alone */
};
enum verify_flight_role verify_flight_join(const char *key, const struct timespec *deadline,
                                           struct verify_flight **flight,
                                           struct verifier_result *result);
/* Hands result to the followers and leaves the table. */
void verify_flight_finish(struct verify_flight *flight, const struct verifier_result *result);

/* Counters kept by verify_resolve and verify_filter (atomics inside
 * verify_runtime.c). */
enum verify_counter {
    VERIFY_COUNT_MESSAGES,
    VERIFY_COUNT_CACHE_HITS,
    VERIFY_COUNT_QUERIES,
    VERIFY_COUNT_DISCOVERIES,
    VERIFY_COUNT_COALESCED,
    VERIFY_COUNT_LOCK_WAITS,
    VERIFY_COUNT_FAST_TRACKED,
    VERIFY_COUNT_NOTICES_QUEUED,
    VERIFY_COUNT_NOTICES_DROPPED,
    VERIFY_COUNT_NOTICES_UNSENT,
    VERIFY_COUNT_MAX
};
void verify_runtime_count(enum verify_counter counter);

#endif
