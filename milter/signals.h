/*
 * signals.h -- SIGHUP reloads, SIGTERM/SIGINT stop in order, SIGUSR1 and
 * a timer (every stats_interval seconds, stats.h) log the counters.  See
 * the comment at the top of signals.c for why this is done by replacing
 * sigwait().
 */
#ifndef XSMTP_SIGNALS_H
#define XSMTP_SIGNALS_H

#include <stddef.h>
#include <sys/types.h>
#include "hash/util/status.h"

struct signal_handlers {
    /* SIGHUP: reload; runs in the signal thread, one at a time. */
    void (*reload)(void *arg, pid_t sender);
    /* SIGTERM or SIGINT: called once, just before libmilter stops listening. */
    void (*stop)(void *arg, int signal_number, pid_t sender);
    /* SIGUSR1 (reason "sigusr1") and the stats timer ("timer"): counters. */
    void (*counters)(void *arg, const char *reason);
    void *arg;
};

/*
 * Blocks SIGHUP, SIGTERM, SIGINT and SIGUSR1 in the calling thread.  Call
 * it in main() before any thread exists, so every thread (libmilter's and
 * ours) inherits the mask and only the signal thread ever takes them.
 * A thread started later must be created from a thread with this mask.
 */
xsmtp_status signals_block(char *err, size_t errsz);

/*
 * Checks that libmilter's reference to sigwait() resolves to ours (it
 * would not in a static or oddly linked build); without it SIGHUP would
 * stop the milter.  XSMTP_EIO with a reason otherwise.
 */
xsmtp_status signals_check_interposed(char *err, size_t errsz);

/* Installs the handlers; call once, before smfi_main(). */
void signals_set_handlers(const struct signal_handlers *handlers);

#endif
