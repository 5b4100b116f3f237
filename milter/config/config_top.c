/*
 * config_top.c -- the top-level options: schema, defaults and checks.
 *
 *   socket            libmilter socket (socket_spec.h)    inet:8893@127.0.0.1
 *   mode              sign, verify, or {sign, verify}     sign
 *   user              switch to this user after start     "" (stay)
 *   pidfile           absolute path                       "" (none)
 *   syslog_facility   mail, daemon, user, local0..7       mail
 *   log_level         debug, info, notice, warning, err   info
 *   authserv_id       Authentication-Results id           "" = host name
 *   on_internal_error tempfail | accept                   tempfail
 *   stats_interval    counters logged every N s (0: off)  300 (units s, m, h, d)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash/identity.h"
#include "hash/util/daemon.h"
#include "hash/util/log.h"
#include "milter/config/config_internal.h"

static const cfg_opt_t top_options[] = {CFG_STR("socket", "inet:8893@127.0.0.1", CFGF_NONE),
                                        CFG_STR_LIST("mode", "{sign}", CFGF_NONE),
                                        CFG_STR("user", "", CFGF_NONE),
                                        CFG_STR("pidfile", "", CFGF_NONE),
                                        CFG_STR("syslog_facility", "mail", CFGF_NONE),
                                        CFG_STR("log_level", "info", CFGF_NONE),
                                        CFG_STR("authserv_id", "", CFGF_NONE),
                                        CFG_STR("on_internal_error", "tempfail", CFGF_NONE),
                                        CFG_STR("stats_interval", "300", CFGF_NONE),
                                        CFG_END()};

static void
top_check_socket(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = cfg_getstr(cfg, "socket");
    const char *reason = NULL;

    if (socket_spec_parse(value, &config->socket_spec, &reason) != XSMTP_OK) {
        config_problem(check, "socket", "bad socket '%s' (%s)", value != NULL ? value : "", reason);
        return;
    }
    config->socket = config_strdup(check, "socket", value);
}

static void
top_check_mode(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    unsigned count = cfg_size(cfg, "mode");

    if (count == 0) {
        config_problem(check, "mode", "empty (expected sign, verify or both)");
        return;
    }
    for (unsigned i = 0; i < count; i++) {
        const char *value = cfg_getnstr(cfg, "mode", i);
        unsigned flag = 0;

        if (value != NULL && strcmp(value, "sign") == 0)
            flag = MILTER_MODE_SIGN;
        else if (value != NULL && strcmp(value, "verify") == 0)
            flag = MILTER_MODE_VERIFY;
        if (flag == 0) {
            config_problem(check, "mode", "bad mode '%s' (expected sign or verify)",
                           value != NULL ? value : "");
            continue;
        }
        if ((config->mode & flag) != 0)
            config_problem(check, "mode", "'%s' given twice", value);
        config->mode |= flag;
    }
}

/* "" means "not set" for the optional string options. */
static const char *
top_optional(cfg_t *cfg, const char *name)
{
    const char *value = cfg_getstr(cfg, name);
    return value != NULL && *value != '\0' ? value : NULL;
}

static void
top_check_user(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = top_optional(cfg, "user");
    uid_t uid;
    gid_t gid;
    char err[256];

    if (value == NULL)
        return;
    if (daemon_lookup_user(value, &uid, &gid, err, sizeof err) != XSMTP_OK) {
        config_problem(check, "user", "%s", err);
        return;
    }
    if (uid == 0) {
        config_problem(check, "user", "'%s' has uid 0: name an unprivileged user", value);
        return;
    }
    config->user = config_strdup(check, "user", value);
}

static void
top_check_logging(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *facility = cfg_getstr(cfg, "syslog_facility");
    const char *level = cfg_getstr(cfg, "log_level");

    config->syslog_facility = log_facility_from_name(facility);
    if (config->syslog_facility < 0)
        config_problem(check, "syslog_facility",
                       "unknown facility '%s' (expected mail, daemon, user or local0..local7)",
                       facility != NULL ? facility : "");
    config->log_level = log_level_from_name(level);
    if (config->log_level < 0)
        config_problem(check, "log_level",
                       "unknown level '%s' (expected debug, info, notice, warning or err)",
                       level != NULL ? level : "");
}

static void
top_check_authserv_id(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = top_optional(cfg, "authserv_id");
    const char *reason = NULL;
    char host[XSMTP_DOMAIN_MAX + 2];

    if (value == NULL) {
        if (gethostname(host, sizeof host) < 0 || memchr(host, '\0', sizeof host) == NULL) {
            config_problem(check, "authserv_id", "cannot read the host name: set authserv_id");
            return;
        }
        if (xsmtp_domain_check(host, strlen(host), &reason) != XSMTP_OK) {
            config_problem(check, "authserv_id",
                           "host name '%s' cannot be the default (%s): set authserv_id", host,
                           reason);
            return;
        }
        config->authserv_id = config_strdup(check, "authserv_id", host);
        return;
    }
    if (xsmtp_domain_check(value, strlen(value), &reason) != XSMTP_OK) {
        config_problem(check, "authserv_id", "bad authserv_id '%s' (%s)", value, reason);
        return;
    }
    config->authserv_id = config_strdup(check, "authserv_id", value);
}

/* Longest stats_interval: a day (a line a day is as rare as useful). */
#define TOP_STATS_INTERVAL_MAX 86400UL

/*
 * stats_interval: "0" (off), or N seconds, optionally with a unit s, m, h
 * or d (as verify.max_age); at most TOP_STATS_INTERVAL_MAX seconds.
 */
static void
top_check_stats_interval(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = cfg_getstr(cfg, "stats_interval");
    unsigned long number = 0, unit = 1;
    const char *p = value;

    if (p == NULL || *p < '0' || *p > '9')
        goto bad;
    while (*p >= '0' && *p <= '9') {
        number = number * 10 + (unsigned long)(*p - '0');
        if (number > TOP_STATS_INTERVAL_MAX)
            goto bad;
        p++;
    }
    if (*p == 's' || *p == 'm' || *p == 'h' || *p == 'd') {
        unit = *p == 's' ? 1 : *p == 'm' ? 60 : *p == 'h' ? 3600 : 86400;
        p++;
    }
    if (*p != '\0' || number * unit > TOP_STATS_INTERVAL_MAX)
        goto bad;
    config->stats_interval = (unsigned)(number * unit);
    return;
bad:
    config_problem(check, "stats_interval",
                   "bad interval '%s' (expected 0 for off, or seconds up to a day, with an "
                   "optional unit s, m, h or d)",
                   value != NULL ? value : "");
}

static void
top_validate(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *pidfile = top_optional(cfg, "pidfile");
    const char *action = cfg_getstr(cfg, "on_internal_error");

    top_check_socket(check, cfg, config);
    top_check_mode(check, cfg, config);
    top_check_user(check, cfg, config);
    if (pidfile != NULL && config_check_absolute(check, "pidfile", pidfile))
        config->pidfile = config_strdup(check, "pidfile", pidfile);
    top_check_logging(check, cfg, config);
    top_check_authserv_id(check, cfg, config);
    top_check_stats_interval(check, cfg, config);
    if (action != NULL && strcmp(action, "tempfail") == 0)
        config->on_internal_error = MILTER_ON_ERROR_TEMPFAIL;
    else if (action != NULL && strcmp(action, "accept") == 0)
        config->on_internal_error = MILTER_ON_ERROR_ACCEPT;
    else
        config_problem(check, "on_internal_error", "bad action '%s' (expected tempfail or accept)",
                       action != NULL ? action : "");
}

static void
top_free(struct milter_config *config)
{
    free(config->socket);
    free(config->user);
    free(config->pidfile);
    free(config->authserv_id);
    config->socket = config->user = config->pidfile = config->authserv_id = NULL;
}

const struct config_section config_section_top = {
    .name = NULL,
    .options = top_options,
    .validate = top_validate,
    .free = top_free,
};
