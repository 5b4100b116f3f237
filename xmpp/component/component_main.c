/*
 * component_main.c -- xsmtp-component: the sender domain's XEP-0114
 * component that answers XSMTP-1 verify queries and forwards notices.
 *
 * Command line like xsmtp-milter: -c FILE, -f (foreground, log to stderr
 * too), -t (check the configuration, key table and secret file; one line per
 * problem; exit 0 or 1), -V, -h.  Start-up order: read everything that
 * needs privileges (configuration, secret, key table), detach, write the pid
 * file, drop to `user`, then connect.  Signals only set flags read by the
 * main loop: SIGTERM/SIGINT stop, SIGHUP reloads the key table (a bad new
 * table keeps the old one), SIGUSR1 logs the counters (as does the main
 * loop every stats_interval seconds, and the stop).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash/keytable.h"
#include "hash/util/daemon.h"
#include "hash/util/log.h"
#include "hash/util/private_file.h"
#include "xmpp/component/component.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/xsmtp/xsmtp-component.conf"
#define SECRET_MAX 1024

/* Signals arrive asynchronously; the handler may only set these. */
static struct pending_signals {
    volatile sig_atomic_t stop;
    volatile sig_atomic_t reload;
    volatile sig_atomic_t stats;
} pending_signals;

static void
on_signal(int signo)
{
    if (signo == SIGHUP)
        pending_signals.reload = 1;
    else if (signo == SIGUSR1)
        pending_signals.stats = 1;
    else
        pending_signals.stop = 1;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: xsmtp-component [-c FILE] [-f] [-t] [-V] [-h]\n"
            "  -c FILE  configuration file (default %s)\n"
            "  -f       stay in the foreground, log to stderr too\n"
            "  -t       check the configuration, key table and secret file, then exit\n"
            "  -V       print the version\n"
            "  -h       this help\n",
            DEFAULT_CONFIG);
}

/* Loads the key table and reads the secret; problems go to report. */
static unsigned
load_private_files(const struct component_config *cfg, FILE *report, struct xsmtp_keytable **keys,
                   char *secret, size_t secretsz)
{
    char err[512];
    unsigned problems = 0;
    xsmtp_status status;

    status = xsmtp_keytable_load(cfg->keys, keys, err, sizeof err);
    if (status != XSMTP_OK) {
        fprintf(report, "%s: component.keys: %s\n", cfg->path,
                err[0] != '\0' ? err : xsmtp_status_str(status));
        problems++;
    }
    status = xsmtp_private_file_read_line(cfg->secret_file, secret, secretsz, err, sizeof err);
    if (status != XSMTP_OK) {
        fprintf(report, "%s: component.secret_file: %s\n", cfg->path,
                err[0] != '\0' ? err : xsmtp_status_str(status));
        problems++;
    } else if (secret[0] == '\0') {
        fprintf(report, "%s: component.secret_file: %s is empty\n", cfg->path, cfg->secret_file);
        problems++;
    }
    return problems;
}

static void
reload_keys(struct component *comp)
{
    struct xsmtp_keytable *fresh = NULL;
    char err[512] = "";
    xsmtp_status status;

    status = xsmtp_keytable_load(comp->config.keys, &fresh, err, sizeof err);
    if (status != XSMTP_OK) {
        log_msg(LOG_ERR, "SIGHUP: key table not reloaded, keeping the old one: %s",
                err[0] != '\0' ? err : xsmtp_status_str(status));
        return;
    }
    xsmtp_keytable_free(comp->keys);
    comp->keys = fresh;
    log_msg(LOG_NOTICE, "SIGHUP: key table %s reloaded (%zu keys)", comp->config.keys,
            fresh->key_count);
}

static int
install_signals(void)
{
    struct sigaction action;

    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    /* No SA_RESTART: the signal must cut libstrophe's select() short. */
    action.sa_handler = on_signal;
    if (sigaction(SIGTERM, &action, NULL) != 0 || sigaction(SIGINT, &action, NULL) != 0 ||
        sigaction(SIGHUP, &action, NULL) != 0 || sigaction(SIGUSR1, &action, NULL) != 0)
        return -1;
    action.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &action, NULL);
}

static int
run(struct component *comp, bool foreground, char *secret)
{
    char err[512];
    xsmtp_status status;

    if (component_ratelimit_new(comp->config.rate_per_domain, comp->config.burst,
                                COMPONENT_RATE_KEYS, &comp->query_limit) != XSMTP_OK ||
        component_ratelimit_new(comp->config.rate_per_domain, comp->config.burst,
                                COMPONENT_RATE_KEYS, &comp->notice_limit) != XSMTP_OK) {
        log_msg(LOG_ERR, "out of memory");
        return 1;
    }
    if (!foreground && (status = daemon_detach(err, sizeof err)) != XSMTP_OK) {
        log_msg(LOG_ERR, "cannot detach: %s", err);
        return 1;
    }
    if (comp->config.pidfile != NULL &&
        daemon_write_pidfile(comp->config.pidfile, err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "pid file: %s", err);
        return 1;
    }
    if (daemon_drop_privileges(comp->config.user, err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "user %s: %s", comp->config.user, err);
        return 1;
    }
    if (install_signals() != 0) {
        log_msg(LOG_ERR, "cannot install signal handlers: %s", strerror(errno));
        return 1;
    }
    status = component_conn_init(comp, secret);
    explicit_bzero(secret, SECRET_MAX);
    if (status != XSMTP_OK) {
        log_msg(LOG_ERR, "cannot set up libstrophe: %s", xsmtp_status_str(status));
        return 1;
    }
    log_msg(LOG_NOTICE, "xsmtp-component %s started: %s via %s:%u, %zu domain(s), %zu key(s)",
            PACKAGE_VERSION, comp->config.jid, comp->config.server, comp->config.port,
            comp->config.domain_count, comp->keys->key_count);
    comp->started_ns = component_now_ns();

    while (!pending_signals.stop) {
        component_conn_step(comp);
        if (pending_signals.reload) {
            pending_signals.reload = 0;
            reload_keys(comp);
        }
        if (pending_signals.stats) {
            pending_signals.stats = 0;
            component_stats_log(comp, "sigusr1");
        }
        component_stats_tick(comp);
    }
    log_msg(LOG_NOTICE, "stopping");
    component_stats_log(comp, "stop");
    component_conn_shutdown(comp);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *config_path = DEFAULT_CONFIG;
    bool foreground = false, check_only = false;
    static struct component comp; /* large; zeroed */
    static char secret[SECRET_MAX];
    unsigned problems;
    int opt, rc;

    while ((opt = getopt(argc, argv, "c:ftVh")) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'f': foreground = true; break;
        case 't': check_only = true; break;
        case 'V':
            printf("xsmtp-component %s (libstrophe %s)\n", PACKAGE_VERSION, XSMTP_STROPHE_VERSION);
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    problems = component_config_load(config_path, &comp.config, stderr);
    if (problems == 0)
        problems = load_private_files(&comp.config, stderr, &comp.keys, secret, sizeof secret);
    if (check_only || problems > 0) {
        explicit_bzero(secret, sizeof secret);
        xsmtp_keytable_free(comp.keys);
        component_config_free(&comp.config);
        return problems > 0 ? 1 : 0;
    }

    log_open("xsmtp-component", comp.config.syslog_facility, comp.config.log_level, foreground);
    rc = run(&comp, foreground, secret);
    explicit_bzero(secret, sizeof secret);
    if (comp.config.pidfile != NULL)
        daemon_remove_pidfile(comp.config.pidfile);
    component_conn_free(&comp);
    component_ratelimit_free(comp.query_limit);
    component_ratelimit_free(comp.notice_limit);
    xsmtp_keytable_free(comp.keys);
    component_config_free(&comp.config);
    log_close();
    return rc;
}
