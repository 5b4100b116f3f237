/*
 * main.c -- xsmtp-milter: options, start-up order, orderly stop.
 *
 * Start-up order (each step refuses to go on with a one-line reason on
 * stderr and syslog):
 *   1. block HUP/TERM/INT/USR1 before any thread exists; check that our
 *      sigwait() replaces libmilter's (signals.c explains why);
 *   2. load and check the configuration, key table and identity map;
 *   3. as root: smfi_register, smfi_setconn, smfi_opensocket (removing a
 *      stale unix socket), TCP_NODELAY on an inet listener, unix socket
 *      given to `user`;
 *   4. detach unless -f; write the pid file; drop privileges;
 *      with mode verify, start the XMPP client and open the Redis cache
 *      (verify_runtime.h);
 *   5. smfi_main().  SIGTERM makes it return once the messages in flight
 *      are done (at most MILTER_DRAIN_SECONDS, see reload.c); exit 0.
 * `-t` runs step 2 only and prints one line per problem (config_diag.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <confuse.h>
#include <libmilter/mfapi.h>

#include "hash/util/daemon.h"
#include "hash/util/log.h"
#include "milter/callbacks.h"
#include "milter/config/identity_map.h"
#include "milter/config/milter_config.h"
#include "milter/config/socket_spec.h"
#include "milter/context.h"
#include "milter/milter.h"
#include "milter/signals.h"
#include "milter/verify/verify_runtime.h"

#define MILTER_IDENT "xsmtp-milter"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define EXIT_USAGE 2

struct milter_options {
    const char *config_path;
    bool foreground;
    bool check_only;
};

static void
milter_usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-f] [-c FILE]     run the milter\n"
            "       %s -t [-c FILE]       check the configuration and exit\n"
            "       %s -V | -h\n"
            "  -c FILE  configuration file (default %s/xsmtp/xsmtp.conf)\n"
            "  -f       stay in the foreground and log to stderr as well\n"
            "  -t       check the configuration, key table and identity map: one line\n"
            "           per problem, exit 0 when all is well, 1 otherwise\n"
            "  -V       print the version and exit\n"
            "  -h       print this help and exit\n"
            "signals: HUP reloads, TERM stops after the messages in flight\n",
            MILTER_IDENT, MILTER_IDENT, MILTER_IDENT, SYSCONFDIR);
}

static void
milter_version(void)
{
    unsigned int major = 0, minor = 0, patch = 0;

    smfi_version(&major, &minor, &patch);
    printf("%s %s (libmilter %u.%u.%u, built for milter API 0x%08x; libconfuse %s)\n", MILTER_IDENT,
           PACKAGE_VERSION, major, minor, patch, (unsigned)SMFI_VERSION, confuse_version);
}

static int
milter_parse_options(int argc, char **argv, struct milter_options *options)
{
    int option;

    options->config_path = SYSCONFDIR "/xsmtp/xsmtp.conf";
    while ((option = getopt(argc, argv, "c:ftVh")) != -1) {
        switch (option) {
        case 'c': options->config_path = optarg; break;
        case 'f': options->foreground = true; break;
        case 't': options->check_only = true; break;
        case 'V': milter_version(); exit(0);
        case 'h': milter_usage(stdout); exit(0);
        default: milter_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", MILTER_IDENT, argv[optind]);
        milter_usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

static void
milter_print_line(void *arg, const char *line)
{
    fprintf(arg, "%s\n", line);
}

static void
milter_log_line(void *arg, const char *line)
{
    (void)arg;
    log_msg(LOG_ERR, "%s", line);
}

/* -t: one line per problem on stdout; 0 when none. */
static int
milter_check(const char *path)
{
    struct milter_config *config = NULL;
    struct config_diag diag;
    int status = 0;

    config_diag_init(&diag);
    if (config_load(path, path, &config, &diag) != XSMTP_OK) {
        config_diag_each(&diag, path, milter_print_line, stdout);
        status = 1;
    } else {
        printf("configuration OK\n");
    }
    config_diag_clear(&diag);
    config_free(config);
    return status;
}

/* Step 3: the listening socket, opened while we are still root. */
static bool
milter_open_socket(const struct milter_config *config)
{
    char err[256];
    int fd;

    if (smfi_register(*callbacks_filter()) != MI_SUCCESS) {
        log_msg(LOG_ERR, "smfi_register failed");
        return false;
    }
    /* libmilter copies the string; its prototype just lacks the const. */
    if (smfi_setconn((char *)config->socket) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
        log_msg(LOG_ERR, "cannot listen on %s (see libmilter's message above)", config->socket);
        return false;
    }
    if (config->socket_spec.kind != SOCKET_UNIX) {
        if (socket_find_listener(&config->socket_spec, &fd, err, sizeof err) != XSMTP_OK ||
            socket_set_nodelay(fd, err, sizeof err) != XSMTP_OK)
            log_msg(LOG_WARNING, "TCP_NODELAY not set (expect ~40 ms per message): %s", err);
        else
            log_msg(LOG_DEBUG, "TCP_NODELAY set on listening descriptor %d", fd);
    } else if (config->user != NULL) {
        uid_t uid;
        gid_t gid;
        if (daemon_lookup_user(config->user, &uid, &gid, err, sizeof err) != XSMTP_OK ||
            socket_give_to(&config->socket_spec, uid, gid, err, sizeof err) != XSMTP_OK) {
            log_msg(LOG_ERR, "socket %s: %s", config->socket, err);
            return false;
        }
    }
    return true;
}

/* Step 4. */
static bool
milter_become_daemon(const struct milter_config *config, const struct milter_options *options)
{
    char err[256];

    if (!options->foreground) {
        if (daemon_detach(err, sizeof err) != XSMTP_OK) {
            log_msg(LOG_ERR, "cannot detach: %s", err);
            return false;
        }
        log_set_stderr(false);
    }
    if (daemon_write_pidfile(config->pidfile, err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "%s", err);
        return false;
    }
    if (daemon_drop_privileges(config->user, err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "cannot switch to user '%s': %s", config->user, err);
        daemon_remove_pidfile(config->pidfile);
        return false;
    }
    if (config->user == NULL && geteuid() == 0)
        log_msg(LOG_WARNING, "running as root: set 'user' to drop privileges");
    return true;
}

static char *
milter_strdup_or_null(const char *text)
{
    return text != NULL ? strdup(text) : NULL;
}

static int
milter_run(const struct milter_options *options)
{
    struct milter_daemon daemon;
    struct milter_config *config = NULL;
    struct config_diag diag;
    struct signal_handlers handlers;
    char absolute[PATH_MAX];
    char err[256];
    size_t keys, identities;

    memset(&daemon, 0, sizeof daemon);
    atomic_init(&daemon.stop_requested, false);
    log_open(MILTER_IDENT, LOG_MAIL, LOG_INFO, true);
    if (signals_block(err, sizeof err) != XSMTP_OK ||
        signals_check_interposed(err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "not starting: %s", err);
        return 1;
    }
    /* Reloads happen after chdir("/"): remember where the file really is. */
    daemon.display_path = options->config_path;
    daemon.config_path =
        realpath(options->config_path, absolute) != NULL ? absolute : options->config_path;

    config_diag_init(&diag);
    if (config_load(daemon.config_path, daemon.display_path, &config, &diag) != XSMTP_OK) {
        config_diag_each(&diag, daemon.display_path, milter_log_line, NULL);
        log_msg(LOG_ERR, "not starting: %zu problem%s in %s", config_diag_total(&diag),
                config_diag_total(&diag) == 1 ? "" : "s", daemon.display_path);
        config_diag_clear(&diag);
        return 1;
    }
    config_diag_clear(&diag);
    log_reconfigure(config->syslog_facility, config->log_level);
    daemon.started_socket = milter_strdup_or_null(config->socket);
    daemon.started_user = milter_strdup_or_null(config->user);
    daemon.started_pidfile = milter_strdup_or_null(config->pidfile);
    keys = config->sign.keys != NULL ? config->sign.keys->key_count : 0;
    identities = config->sign.identity_map != NULL ? config->sign.identity_map->count : 0;

    if (daemon_check_pidfile(config->pidfile, err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "not starting: %s", err);
        config_free(config);
        return 1;
    }
    /* The runtime owns config from here; nothing frees it before smfi_main
     * because SIGHUP stays blocked until the signal loop runs. */
    if (context_start(config) != XSMTP_OK) {
        log_msg(LOG_ERR, "not starting: out of memory");
        return 1;
    }
    if (!milter_open_socket(config) || !milter_become_daemon(config, options))
        return 1;
    /* After the privilege drop (password files are read as `user`) and
     * before libmilter opens connections (low descriptor for select()). */
    if (verify_runtime_start(config, err, sizeof err) != XSMTP_OK) {
        log_msg(LOG_ERR, "not starting: %s", err);
        daemon_remove_pidfile(config->pidfile);
        return 1;
    }

    handlers.reload = milter_reload;
    handlers.stop = milter_stop;
    handlers.counters = milter_counters;
    handlers.arg = &daemon;
    signals_set_handlers(&handlers);
    log_msg(LOG_INFO,
            "%s %s starting: socket %s, mode %s, configuration generation 1 (%zu keys, %zu "
            "identities)",
            MILTER_IDENT, PACKAGE_VERSION, config->socket, config_mode_text(config->mode), keys,
            identities);

    (void)smfi_main();

    verify_runtime_counters(err, sizeof err);
    if (err[0] != '\0')
        log_msg(LOG_INFO, "verifier: %s", err);
    verify_runtime_stop();
    if (!atomic_load(&daemon.stop_requested)) {
        log_msg(LOG_ERR, "libmilter stopped on its own (see its messages); exiting");
        daemon_remove_pidfile(daemon.started_pidfile);
        return 1;
    }
    daemon_remove_pidfile(daemon.started_pidfile);
    log_msg(LOG_INFO, "stopped");
    /* Connections libmilter abandoned keep their own snapshot references:
     * dropping the runtime's is safe.  We exit without waiting for them. */
    context_stop();
    free(daemon.started_socket);
    free(daemon.started_user);
    free(daemon.started_pidfile);
    log_close();
    return 0;
}

int
main(int argc, char **argv)
{
    struct milter_options options = {NULL, false, false};
    int status = milter_parse_options(argc, argv, &options);

    if (status != 0)
        return status;
    if (options.check_only)
        return milter_check(options.config_path);
    return milter_run(&options);
}
