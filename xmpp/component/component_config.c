/*
 * component_config.c -- reads and checks xsmtp-component's configuration.
 *
 * hash/util/confload.h reads the file (exact line numbers, unknown options
 * refused); every value is declared as a string and checked here, so the
 * messages are ours and all bad values of a file are listed in one run of
 * -t.
 */
#include "config.h"

#include <confuse.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hash/identity.h"
#include "hash/util/confload.h"
#include "hash/util/log.h"
#include "xmpp/component/component_config.h"

/* The options, in one table so line recording and checking stay in step. */
enum option_id {
    OPT_USER,
    OPT_PIDFILE,
    OPT_FACILITY,
    OPT_LOG_LEVEL,
    OPT_STATS_INTERVAL,
    OPT_JID,
    OPT_SERVER,
    OPT_PORT,
    OPT_SECRET_FILE,
    OPT_KEYS,
    OPT_DOMAINS,
    OPT_MAX_AGE,
    OPT_RELAYS,
    OPT_RATE,
    OPT_BURST,
    OPT_NOTIFY,
    OPT_COUNT
};

struct option_desc {
    const char *section; /* NULL: top level */
    const char *name;
    const char *display; /* as written in messages */
};

static const struct option_desc option_table[OPT_COUNT] = {
    [OPT_USER] = {NULL, "user", "user"},
    [OPT_PIDFILE] = {NULL, "pidfile", "pidfile"},
    [OPT_FACILITY] = {NULL, "syslog_facility", "syslog_facility"},
    [OPT_LOG_LEVEL] = {NULL, "log_level", "log_level"},
    [OPT_STATS_INTERVAL] = {NULL, "stats_interval", "stats_interval"},
    [OPT_JID] = {"component", "jid", "component.jid"},
    [OPT_SERVER] = {"component", "server", "component.server"},
    [OPT_PORT] = {"component", "port", "component.port"},
    [OPT_SECRET_FILE] = {"component", "secret_file", "component.secret_file"},
    [OPT_KEYS] = {"component", "keys", "component.keys"},
    [OPT_DOMAINS] = {"component", "domains", "component.domains"},
    [OPT_MAX_AGE] = {"component", "max_age", "component.max_age"},
    [OPT_RELAYS] = {"component", "relays", "component.relays"},
    [OPT_RATE] = {"component", "rate_per_domain", "component.rate_per_domain"},
    [OPT_BURST] = {"component", "burst", "component.burst"},
    [OPT_NOTIFY] = {"component", "notify", "component.notify"},
};

/* State of one load: where problems go, and the line of each option. */
struct config_load_state {
    const char *path;
    FILE *report;
    struct confload load;
};

/* Writes at most 80 printable characters of value; others become '?'. */
static void
report_value(FILE *out, const char *value)
{
    size_t i;

    for (i = 0; value[i] != '\0' && i < 80; i++)
        fputc(isprint((unsigned char)value[i]) && value[i] != '\'' ? value[i] : '?', out);
    if (value[i] != '\0')
        fputs("...", out);
}

static void
problem(struct config_load_state *state, enum option_id id, const char *value, const char *why)
{
    int line = confload_line(&state->load, option_table[id].display);

    state->load.problems++;
    if (state->report == NULL)
        return;
    if (line > 0)
        fprintf(state->report, "%s:%d: %s: ", state->path, line, option_table[id].display);
    else
        fprintf(state->report, "%s: %s: ", state->path, option_table[id].display);
    if (value != NULL) {
        fputs("bad value '", state->report);
        report_value(state->report, value);
        fprintf(state->report, "' (%s)\n", why);
    } else {
        fprintf(state->report, "%s\n", why);
    }
}

/* confload's problems: "FILE:LINE: SUBJECT: TEXT", or without LINE. */
static void
load_problem(void *arg, int line, const char *subject, const char *text)
{
    struct config_load_state *state = arg;

    if (state->report == NULL)
        return;
    if (line > 0)
        fprintf(state->report, "%s:%d: %s: %s\n", state->path, line, subject, text);
    else
        fprintf(state->report, "%s: %s: %s\n", state->path, subject, text);
}

/* Parses a decimal unsigned number with an optional s/m/h/d suffix. */
static bool
parse_duration(const char *text, uint64_t *out)
{
    uint64_t value = 0, unit = 1;
    size_t i = 0;

    if (!isdigit((unsigned char)text[0]))
        return false;
    for (; isdigit((unsigned char)text[i]); i++) {
        if (value > (UINT64_MAX - 9) / 10)
            return false;
        value = value * 10 + (uint64_t)(text[i] - '0');
    }
    switch (text[i]) {
    case '\0': break;
    case 's':
        unit = 1;
        i++;
        break;
    case 'm':
        unit = 60;
        i++;
        break;
    case 'h':
        unit = 3600;
        i++;
        break;
    case 'd':
        unit = 86400;
        i++;
        break;
    default: return false;
    }
    if (text[i] != '\0' || value > UINT64_MAX / unit)
        return false;
    *out = value * unit;
    return true;
}

static bool
parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t value;

    if (!parse_duration(text, &value) || !isdigit((unsigned char)text[strlen(text) - 1]))
        return false;
    if (value > max)
        return false;
    *out = value;
    return true;
}

static char *
dup_or_null(const char *text)
{
    return (text != NULL && text[0] != '\0') ? strdup(text) : NULL;
}

static void
lowercase(char *text)
{
    for (; *text != '\0'; text++)
        *text = (char)tolower((unsigned char)*text);
}

/* Fills cfg from the parsed tree; every problem goes through problem(). */
static void
check_values(cfg_t *root, struct config_load_state *state, struct component_config *cfg)
{
    cfg_t *sec = cfg_getsec(root, "component");
    const char *value, *why;
    uint64_t number;
    unsigned i, n;

    cfg->user = dup_or_null(cfg_getstr(root, "user"));
    cfg->pidfile = dup_or_null(cfg_getstr(root, "pidfile"));
    value = cfg_getstr(root, "syslog_facility");
    if ((cfg->syslog_facility = log_facility_from_name(value)) < 0)
        problem(state, OPT_FACILITY, value, "mail, daemon, user or local0..local7");
    value = cfg_getstr(root, "log_level");
    if ((cfg->log_level = log_level_from_name(value)) < 0)
        problem(state, OPT_LOG_LEVEL, value, "debug, info, notice, warning or err");
    value = cfg_getstr(root, "stats_interval");
    if (!parse_duration(value, &number) || number > COMPONENT_STATS_INTERVAL_MAX)
        problem(state, OPT_STATS_INTERVAL, value,
                "0 (off), or seconds up to a day, with an optional unit s, m, h or d");
    else
        cfg->stats_interval = (unsigned)number;

    if (sec == NULL) {
        problem(state, OPT_JID, NULL, "missing: the component { } section is required");
        return;
    }
    value = cfg_getstr(sec, "jid");
    if (value == NULL || value[0] == '\0')
        problem(state, OPT_JID, NULL, "missing (required)");
    else if (xsmtp_domain_check(value, strlen(value), &why) != XSMTP_OK)
        problem(state, OPT_JID, value, "a domain JID such as xsmtp.example.org");
    else if ((cfg->jid = strdup(value)) != NULL)
        lowercase(cfg->jid);

    value = cfg_getstr(sec, "server");
    if (value == NULL || value[0] == '\0' || strlen(value) > 253 || strpbrk(value, " \t/") != NULL)
        problem(state, OPT_SERVER, value != NULL ? value : "", "a host name or address");
    else
        cfg->server = strdup(value);

    value = cfg_getstr(sec, "port");
    if (!parse_uint(value, 65535, &number) || number == 0)
        problem(state, OPT_PORT, value, "1..65535");
    else
        cfg->port = (unsigned)number;

    value = cfg_getstr(sec, "secret_file");
    if (value == NULL || value[0] != '/')
        problem(state, OPT_SECRET_FILE, value, value ? "an absolute path" : "missing (required)");
    else
        cfg->secret_file = strdup(value);

    value = cfg_getstr(sec, "keys");
    if (value == NULL || value[0] != '/')
        problem(state, OPT_KEYS, value, value ? "an absolute path" : "missing (required)");
    else
        cfg->keys = strdup(value);

    n = cfg_size(sec, "domains");
    if (n == 0)
        problem(state, OPT_DOMAINS, NULL, "missing (required): the identity domains served");
    else if ((cfg->domains = calloc(n, sizeof *cfg->domains)) == NULL)
        problem(state, OPT_DOMAINS, NULL, "out of memory");
    for (i = 0; cfg->domains != NULL && i < n; i++) {
        value = cfg_getnstr(sec, "domains", i);
        if (xsmtp_domain_check(value, strlen(value), &why) != XSMTP_OK) {
            problem(state, OPT_DOMAINS, value, "a domain name");
            continue;
        }
        if ((cfg->domains[cfg->domain_count] = strdup(value)) == NULL)
            continue;
        lowercase(cfg->domains[cfg->domain_count++]);
    }

    value = cfg_getstr(sec, "max_age");
    if (!parse_duration(value, &number) || number == 0 || number > 100ULL * 365 * 86400)
        problem(state, OPT_MAX_AGE, value, "seconds, or a number with s, m, h or d; > 0");
    else
        cfg->max_age = number;

    n = cfg_size(sec, "relays");
    for (i = 0; i < n; i++) {
        struct xsmtp_cidr entry;

        value = cfg_getnstr(sec, "relays", i);
        if (xsmtp_cidr_parse(value, &entry) != XSMTP_OK) {
            problem(state, OPT_RELAYS, value, "an address or ADDRESS/PREFIX");
            continue;
        }
        if (xsmtp_cidr_list_add(&cfg->relays, &entry) != XSMTP_OK)
            problem(state, OPT_RELAYS, NULL, "out of memory");
        cfg->relays_set = true;
    }

    value = cfg_getstr(sec, "rate_per_domain");
    if (!parse_uint(value, 1000000, &number))
        problem(state, OPT_RATE, value, "queries per second, 0..1000000 (0: no limit)");
    else
        cfg->rate_per_domain = (uint32_t)number;
    value = cfg_getstr(sec, "burst");
    if (!parse_uint(value, 1000000, &number) || number == 0)
        problem(state, OPT_BURST, value, "1..1000000");
    else
        cfg->burst = (uint32_t)number;

    value = cfg_getstr(sec, "notify");
    if (strcmp(value, "on") == 0)
        cfg->notify = true;
    else if (strcmp(value, "off") == 0)
        cfg->notify = false;
    else
        problem(state, OPT_NOTIFY, value, "on or off");
}

unsigned
component_config_load(const char *path, struct component_config *cfg, FILE *report)
{
    static cfg_opt_t component_opts[] = {
        CFG_STR("jid", NULL, CFGF_NODEFAULT),         CFG_STR("server", "localhost", CFGF_NONE),
        CFG_STR("port", "5347", CFGF_NONE),           CFG_STR("secret_file", NULL, CFGF_NODEFAULT),
        CFG_STR("keys", NULL, CFGF_NODEFAULT),        CFG_STR_LIST("domains", NULL, CFGF_NODEFAULT),
        CFG_STR("max_age", "7d", CFGF_NONE),          CFG_STR_LIST("relays", NULL, CFGF_NODEFAULT),
        CFG_STR("rate_per_domain", "100", CFGF_NONE), CFG_STR("burst", "200", CFGF_NONE),
        CFG_STR("notify", "on", CFGF_NONE),           CFG_END()};
    static cfg_opt_t root_opts[] = {CFG_STR("user", NULL, CFGF_NODEFAULT),
                                    CFG_STR("pidfile", NULL, CFGF_NODEFAULT),
                                    CFG_STR("syslog_facility", "mail", CFGF_NONE),
                                    CFG_STR("log_level", "info", CFGF_NONE),
                                    CFG_STR("stats_interval", "300", CFGF_NONE),
                                    CFG_SEC("component", component_opts, CFGF_NONE),
                                    CFG_END()};
    struct config_load_state state;
    xsmtp_status status;
    cfg_t *root;

    memset(cfg, 0, sizeof *cfg);
    memset(&state, 0, sizeof state);
    state.path = path;
    state.report = report;
    state.load.problem = load_problem;
    state.load.arg = &state;

    root = cfg_init(root_opts, CFGF_NONE);
    if (root == NULL) {
        if (report != NULL)
            fprintf(report, "%s: out of memory\n", path);
        return 1;
    }
    status = confload_parse(&state.load, path, root);
    if (status == XSMTP_OK) {
        check_values(root, &state, cfg);
        if ((cfg->path = strdup(path)) == NULL)
            state.load.problems++;
    }
    cfg_free(root);
    if (state.load.problems > 0)
        component_config_free(cfg);
    return state.load.problems;
}

void
component_config_free(struct component_config *cfg)
{
    size_t i;

    free(cfg->path);
    free(cfg->user);
    free(cfg->pidfile);
    free(cfg->jid);
    free(cfg->server);
    free(cfg->secret_file);
    free(cfg->keys);
    for (i = 0; i < cfg->domain_count; i++)
        free(cfg->domains[i]);
    free(cfg->domains);
    xsmtp_cidr_list_free(&cfg->relays);
    memset(cfg, 0, sizeof *cfg);
}

bool
component_config_serves(const struct component_config *cfg, const char *domain)
{
    size_t i;

    for (i = 0; i < cfg->domain_count; i++)
        if (strcmp(cfg->domains[i], domain) == 0)
            return true;
    return false;
}
