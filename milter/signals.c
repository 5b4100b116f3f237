/*
 * signals.c -- our signal handling inside libmilter's own signal thread.
 *
 * The problem.  smfi_main() blocks SIGHUP, SIGTERM and SIGINT and starts a
 * thread that loops on sigwait() for those three, and it treats SIGHUP
 * exactly like SIGTERM: the milter stops (libmilter/signal.c).  We need
 * SIGHUP to reload instead.  Nothing in the libmilter API changes that,
 * and a second thread of ours waiting for SIGHUP would not help: when two
 * threads wait for the same signal, the kernel picks either one, so a HUP
 * would sometimes reload and sometimes stop the milter.
 *
 * The design.  This file defines sigwait().  The executable's definition
 * comes first in symbol lookup, so libmilter's call lands here (checked at
 * start by signals_check_interposed(), which asks the dynamic linker which
 * sigwait the global scope resolves to; LD_DEBUG=bindings shows libmilter
 * bound to the executable).  When the
 * caller waits for HUP and TERM -- that is libmilter's signal thread -- we
 * run our own loop with sigwaitinfo() over HUP, TERM, INT and USR1:
 *   SIGHUP   reload (config, key table, identity map) and keep waiting;
 *   SIGUSR1  log the counters (stats.h) and keep waiting;
 *   (none)   every stats_interval seconds, when set, the same counters:
 *            the wait is a sigtimedwait() bounded by the next tick;
 *   SIGTERM, SIGINT  call the stop handler -- it refuses new work and
 *            waits, bounded, for the messages in flight -- then return
 *            SIGTERM to libmilter, which closes the listening socket and
 *            makes smfi_main() return.  The wait must come first: Debian's
 *            libmilter (worker pool) drops every session once stopped.
 * Only one thread ever waits for these signals, so delivery is
 * deterministic, and no thread of our own is needed.  main() blocks the
 * four signals before any thread exists, so every thread inherits the mask.
 *
 * Standard signals do not queue: two SIGHUPs sent before the first is
 * taken count as one.  A SIGHUP that arrives during a reload stays pending
 * and causes one more reload right after.  Any other caller of sigwait()
 * (none today) gets the standard behaviour.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "milter/signals.h"
#include "milter/stats.h"

/* Set once in main() before smfi_main(), read-only afterwards. */
static struct signal_state {
    struct signal_handlers handlers;
    atomic_bool installed;
} signal_state;

static void
signals_fill(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGUSR1);
}

xsmtp_status
signals_block(char *err, size_t errsz)
{
    sigset_t set;
    int rc;

    signals_fill(&set);
    rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        snprintf(err, errsz, "pthread_sigmask: %s", strerror(rc));
        return XSMTP_EIO;
    }
    return XSMTP_OK;
}

xsmtp_status
signals_check_interposed(char *err, size_t errsz)
{
    int (*ours)(const sigset_t *, int *) = sigwait;
    void *ours_address;
    void *bound;

    memcpy(&ours_address, &ours, sizeof ours_address);
    /*
     * The first definition in the global scope is what libmilter's
     * reference binds to: its "sigwait@GLIBC_2.2.5" is a non-hidden
     * version, which an unversioned definition in the executable satisfies.
     * (dlvsym() would not do here: it demands the exact version.)
     */
    bound = dlsym(RTLD_DEFAULT, "sigwait");
    if (bound != ours_address) {
        snprintf(err, errsz,
                 "sigwait() is not interposed (libmilter would stop on SIGHUP); "
                 "link xsmtp-milter dynamically against libmilter");
        return XSMTP_EIO;
    }
    return XSMTP_OK;
}

void
signals_set_handlers(const struct signal_handlers *handlers)
{
    signal_state.handlers = *handlers;
    atomic_store(&signal_state.installed, true);
}

/* Standard sigwait() for any caller that is not libmilter's thread. */
static int
signals_plain_wait(const sigset_t *set, int *signal_number)
{
    for (;;) {
        int taken = sigwaitinfo(set, NULL);
        if (taken >= 0) {
            *signal_number = taken;
            return 0;
        }
        if (errno != EINTR)
            return errno;
    }
}

/*
 * Waits for one of set, at most until deadline when the stats timer runs
 * (interval > 0).  0 means the deadline came first.
 */
static int
signals_wait(const sigset_t *set, siginfo_t *info, unsigned interval,
             const struct timespec *deadline)
{
    struct timespec now, left;
    int taken;

    if (interval == 0)
        return sigwaitinfo(set, info);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > deadline->tv_sec ||
        (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec))
        return 0;
    left.tv_sec = deadline->tv_sec - now.tv_sec;
    left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) {
        left.tv_sec--;
        left.tv_nsec += 1000000000L;
    }
    taken = sigtimedwait(set, info, &left);
    if (taken < 0 && errno == EAGAIN)
        return 0;
    return taken;
}

static int
signals_loop(int *signal_number)
{
    const struct signal_handlers *handlers = &signal_state.handlers;
    struct timespec deadline = {0, 0};
    unsigned armed = 0; /* the interval deadline was set for */
    sigset_t set;

    signals_fill(&set);
    for (;;) {
        unsigned interval = stats_interval_get();
        siginfo_t info;
        int taken;

        /* A reload may change the period: start it afresh then. */
        if (interval != armed) {
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += (time_t)interval;
            armed = interval;
        }
        memset(&info, 0, sizeof info);
        taken = signals_wait(&set, &info, interval, &deadline);
        if (taken == 0) {
            struct timespec now;

            if (handlers->counters != NULL)
                handlers->counters(handlers->arg, "timer");
            /* The next tick; after a long stall (a suspended host) one
             * line, not one per missed tick. */
            deadline.tv_sec += (time_t)interval;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (deadline.tv_sec <= now.tv_sec)
                deadline.tv_sec = now.tv_sec + (time_t)interval;
            continue;
        }
        if (taken < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        switch (taken) {
        case SIGHUP:
            if (handlers->reload != NULL)
                handlers->reload(handlers->arg, info.si_pid);
            break;
        case SIGUSR1:
            if (handlers->counters != NULL)
                handlers->counters(handlers->arg, "sigusr1");
            break;
        case SIGTERM:
        case SIGINT:
            if (handlers->stop != NULL)
                handlers->stop(handlers->arg, taken, info.si_pid);
            /* libmilter's MILTER_STOP path: stop listening, let sessions end. */
            *signal_number = SIGTERM;
            return 0;
        default: break;
        }
    }
}

/*
 * Replaces the C library's sigwait() for this executable (see the top of
 * this file).  Same contract: returns 0 and stores a signal, or an errno.
 */
int
sigwait(const sigset_t *set, int *signal_number)
{
    /* glibc declares both arguments nonnull, as does POSIX. */
    if (atomic_load(&signal_state.installed) && sigismember(set, SIGHUP) == 1 &&
        sigismember(set, SIGTERM) == 1)
        return signals_loop(signal_number);
    return signals_plain_wait(set, signal_number);
}
