/*
 * reload.c -- the signal handlers' work (milter.h): reload on SIGHUP,
 * record a stop request, log counters (stats.h: on SIGUSR1, every
 * stats_interval seconds and once at stop).  They run in the signal thread
 * (signals.c), one at a time, never in a libmilter callback.
 *
 * A stop waits here, in the signal thread, for the messages in flight
 * before libmilter is told to stop: libmilter's worker pool (Debian builds
 * it with _FFR_WORKERS_POOL) abandons every session as soon as it is
 * told, so waiting after smfi_main() returns would be too late.
 *
 * A reload builds a complete new configuration -- file, key table,
 * identity map -- before touching anything; if any part fails, every
 * problem is logged and the running configuration stays.  Options that
 * only take effect at start (socket, user, pidfile) are compared and a
 * change is reported as needing a restart.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "hash/util/log.h"
#include "milter/config/identity_map.h"
#include "milter/config/milter_config.h"
#include "milter/context.h"
#include "milter/milter.h"
#include "milter/stats.h"

static void
reload_log_problem(void *arg, const char *line)
{
    (void)arg;
    log_msg(LOG_ERR, "reload failed: %s", line);
}

static bool
reload_same(const char *before, const char *after)
{
    if (before == NULL || after == NULL)
        return before == after;
    return strcmp(before, after) == 0;
}

static void
reload_warn_fixed(const char *what, const char *before, const char *after)
{
    if (reload_same(before, after))
        return;
    log_msg(LOG_WARNING, "reload: %s changed from '%s' to '%s': takes effect only at restart", what,
            before != NULL ? before : "", after != NULL ? after : "");
}

void
milter_reload(void *arg, pid_t sender)
{
    struct milter_daemon *daemon = arg;
    struct milter_config *config = NULL;
    struct config_diag diag;
    struct milter_context *current;
    unsigned long generation;
    size_t keys, identities;
    int facility, level;
    unsigned mode;

    log_msg(LOG_INFO, "SIGHUP from pid %ld: reloading %s", (long)sender, daemon->config_path);
    config_diag_init(&diag);
    if (config_load(daemon->config_path, daemon->display_path, &config, &diag) != XSMTP_OK) {
        config_diag_each(&diag, daemon->display_path, reload_log_problem, NULL);
        config_diag_clear(&diag);
        current = context_acquire();
        log_msg(LOG_ERR, "reload failed: keeping configuration generation %lu",
                current != NULL ? current->generation : 0UL);
        context_release(current);
        return;
    }
    config_diag_clear(&diag);
    reload_warn_fixed("socket", daemon->started_socket, config->socket);
    reload_warn_fixed("user", daemon->started_user, config->user);
    reload_warn_fixed("pidfile", daemon->started_pidfile, config->pidfile);

    /* Read what we log before the runtime owns (and may free) config. */
    facility = config->syslog_facility;
    level = config->log_level;
    mode = config->mode;
    keys = config->sign.keys != NULL ? config->sign.keys->key_count : 0;
    identities = config->sign.identity_map != NULL ? config->sign.identity_map->count : 0;
    generation = context_install(config);
    if (generation == 0) {
        log_msg(LOG_ERR, "reload failed: out of memory; keeping the running configuration");
        return;
    }
    log_reconfigure(facility, level);
    log_msg(LOG_INFO, "reload ok: configuration generation %lu (mode %s, %zu keys, %zu identities)",
            generation, config_mode_text(mode), keys, identities);
}

void
milter_stop(void *arg, int signal_number, pid_t sender)
{
    struct milter_daemon *daemon = arg;
    unsigned left;

    atomic_store(&daemon->stop_requested, true);
    log_msg(LOG_INFO,
            "%s from pid %ld: stopping; %u messages in flight on %u connections, new ones "
            "refused",
            signal_number == SIGINT ? "SIGINT" : "SIGTERM", (long)sender, context_messages_active(),
            context_sessions_active());
    left = context_drain(MILTER_DRAIN_SECONDS);
    if (left > 0)
        log_msg(LOG_WARNING, "%u messages still in flight after %d s: stopping anyway", left,
                MILTER_DRAIN_SECONDS);
    else
        log_msg(LOG_INFO, "no message in flight: closing the socket");
    /* The last word on what this process did; the verifier is still up. */
    stats_log("stop");
}

void
milter_counters(void *arg, const char *reason)
{
    (void)arg;
    stats_log(reason);
}
