/*
 * milter.h -- what main() knows about the running daemon, shared with the
 * reload and stop handlers (reload.c) that the signal thread calls.
 */
#ifndef XSMTP_MILTER_H
#define XSMTP_MILTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

/* Seconds an orderly stop waits for messages in flight. */
#define MILTER_DRAIN_SECONDS 30

struct milter_daemon {
    const char *config_path;  /* absolute: the daemon runs in "/" */
    const char *display_path; /* as given with -c, for problem lines */
    /* Values fixed at start; a reload that changes them only warns. */
    char *started_socket;
    char *started_user;
    char *started_pidfile;
    atomic_bool stop_requested;
};

/* SIGHUP: loads the configuration again and installs it, or keeps the old. */
void milter_reload(void *daemon, pid_t sender);
/*
 * SIGTERM/SIGINT: refuses new connections and messages, waits (bounded)
 * for the messages in flight, then returns so libmilter stops listening.
 */
void milter_stop(void *daemon, int signal_number, pid_t sender);
/* SIGUSR1 and every stats_interval: logs the counters (stats.h). */
void milter_counters(void *daemon, const char *reason);

#endif
