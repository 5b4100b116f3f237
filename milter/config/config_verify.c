/*
 * config_verify.c -- sections verify { } and notify { }: how the verifier
 * decides, what it does with each verdict, and whom it tells (XSMTP-1 s5
 * step 1, s7, s8).
 *
 * verify { }
 *   timeout_ms    bound of one whole verification (cache, discovery,
 *                 query); past it the verdict is temperror      2000
 *   max_age       oldest t accepted; seconds, or N with s/m/h/d "7d"
 *   on_fail       accept | quarantine | reject | tempfail       accept
 *   on_permerror  same choices                                  accept
 *   on_temperror  same choices                                  accept
 *   components    static discovery map, "domain=jid" strings     {} (none)
 *   fast_track    identity domains whose pass is fast-tracked
 *                 (X-XSMTP-Fast-Track: yes), or "*" for all     {} (none)
 *   add_jabber_id add "Jabber-ID: IDENTITY" (RFC 7259) on pass  false
 * notify { }
 *   enabled          send an s8 <progress/> after each pass     false
 *   exclude_domains  identity domains never notified            {} (none)
 *
 * Nothing here is required: the verifier's network settings live in the
 * xmpp { } and redis { } sections (config_xmpp.c, config_redis.c).  Both
 * sections apply from the next message after a reload.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash/identity.h"
#include "milter/config/config_internal.h"

#define VERIFY_TIMEOUT_MIN_MS 10
#define VERIFY_TIMEOUT_MAX_MS 60000
/* A century: enough for any policy, small enough for t + max_age to fit. */
#define VERIFY_MAX_AGE_MAX (100LL * 365 * 86400)

static const cfg_opt_t verify_options[] = {CFG_INT("timeout_ms", 2000, CFGF_NONE),
                                           CFG_STR("max_age", "7d", CFGF_NONE),
                                           CFG_STR("on_fail", "accept", CFGF_NONE),
                                           CFG_STR("on_permerror", "accept", CFGF_NONE),
                                           CFG_STR("on_temperror", "accept", CFGF_NONE),
                                           CFG_STR_LIST("components", 0, CFGF_NONE),
                                           CFG_STR_LIST("fast_track", 0, CFGF_NONE),
                                           CFG_BOOL("add_jabber_id", cfg_false, CFGF_NONE),
                                           CFG_END()};

static const cfg_opt_t notify_options[] = {CFG_BOOL("enabled", cfg_false, CFGF_NONE),
                                           CFG_STR_LIST("exclude_domains", 0, CFGF_NONE),
                                           CFG_END()};

static const char *const verify_action_names[] = {
    [VERIFY_ACTION_ACCEPT] = "accept",
    [VERIFY_ACTION_QUARANTINE] = "quarantine",
    [VERIFY_ACTION_REJECT] = "reject",
    [VERIFY_ACTION_TEMPFAIL] = "tempfail",
};
#define VERIFY_ACTION_COUNT (sizeof verify_action_names / sizeof verify_action_names[0])

const char *
config_verify_action_text(enum verify_action action)
{
    if ((size_t)action < VERIFY_ACTION_COUNT)
        return verify_action_names[action];
    return "?";
}

static void
verify_check_action(struct config_check *check, cfg_t *cfg, const char *option,
                    const char *qualified, enum verify_action *out)
{
    const char *value = cfg_getstr(cfg, option);

    for (size_t i = 0; i < VERIFY_ACTION_COUNT; i++) {
        if (value != NULL && strcmp(value, verify_action_names[i]) == 0) {
            *out = (enum verify_action)i;
            return;
        }
    }
    config_problem(check, qualified,
                   "bad action '%s' (expected accept, quarantine, reject or tempfail)",
                   value != NULL ? value : "");
}

/* "604800", "7d", "12h", "30m", "90s": seconds, > 0, at most a century. */
static bool
verify_parse_duration(const char *text, long long *out)
{
    long long number = 0, unit = 1;
    const char *p = text;

    if (text == NULL || *p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        number = number * 10 + (*p - '0');
        if (number > VERIFY_MAX_AGE_MAX)
            return false;
    }
    switch (*p) {
    case '\0': break;
    case 's':
        unit = 1;
        p++;
        break;
    case 'm':
        unit = 60;
        p++;
        break;
    case 'h':
        unit = 3600;
        p++;
        break;
    case 'd':
        unit = 86400;
        p++;
        break;
    default: return false;
    }
    if (*p != '\0' || number == 0 || number > VERIFY_MAX_AGE_MAX / unit)
        return false;
    *out = number * unit;
    return true;
}

static void
verify_lowercase(char *text)
{
    for (; *text != '\0'; text++)
        if (*text >= 'A' && *text <= 'Z')
            *text = (char)(*text - 'A' + 'a');
}

static int
verify_compare_routes(const void *left, const void *right)
{
    return strcmp(((const struct verify_route *)left)->domain,
                  ((const struct verify_route *)right)->domain);
}

/* One "domain=jid" entry; false (problem reported) when it is unusable. */
static bool
verify_parse_route(struct config_check *check, const char *value, struct verify_route *route)
{
    const char *equals = value != NULL ? strchr(value, '=') : NULL;
    const char *reason = NULL;
    size_t domain_length;

    if (equals == NULL) {
        config_problem(check, "verify.components", "bad entry '%s' (expected domain=jid)",
                       value != NULL ? value : "");
        return false;
    }
    domain_length = (size_t)(equals - value);
    if (xsmtp_domain_check(value, domain_length, &reason) != XSMTP_OK) {
        config_problem(check, "verify.components", "bad domain in '%s' (%s)", value,
                       reason != NULL ? reason : "empty");
        return false;
    }
    if (xsmtp_domain_check(equals + 1, strlen(equals + 1), &reason) != XSMTP_OK) {
        config_problem(check, "verify.components",
                       "bad component JID in '%s' (%s; expected a domain JID such as "
                       "xsmtp.example.com)",
                       value, reason != NULL ? reason : "empty");
        return false;
    }
    route->domain = strndup(value, domain_length);
    route->jid = strdup(equals + 1);
    if (route->domain == NULL || route->jid == NULL) {
        free(route->domain);
        free(route->jid);
        route->domain = route->jid = NULL;
        config_problem(check, "verify.components", "out of memory");
        return false;
    }
    verify_lowercase(route->domain);
    verify_lowercase(route->jid);
    return true;
}

static void
verify_check_routes(struct config_check *check, cfg_t *cfg, struct verify_config *verify)
{
    unsigned count = cfg_size(cfg, "components");

    if (count == 0)
        return;
    verify->routes = calloc(count, sizeof *verify->routes);
    if (verify->routes == NULL) {
        config_problem(check, "verify.components", "out of memory");
        return;
    }
    for (unsigned i = 0; i < count; i++)
        if (verify_parse_route(check, cfg_getnstr(cfg, "components", i),
                               &verify->routes[verify->route_count]))
            verify->route_count++;
    qsort(verify->routes, verify->route_count, sizeof *verify->routes, verify_compare_routes);
    for (size_t i = 1; i < verify->route_count; i++)
        if (strcmp(verify->routes[i - 1].domain, verify->routes[i].domain) == 0)
            config_problem(check, "verify.components", "domain '%s' given twice",
                           verify->routes[i].domain);
}

static int
verify_compare_strings(const void *left, const void *right)
{
    return strcmp(*(char *const *)left, *(char *const *)right);
}

/*
 * A list option of domains (verify.fast_track, notify.exclude_domains):
 * each entry a domain as in sign.domains, or "*" when allow_all.  Stored
 * lowercased and sorted for bsearch; a domain given twice is a problem
 * (as in sign.domains), so a typo'd duplicate does not hide a missing one.
 */
static void
verify_check_domain_list(struct config_check *check, cfg_t *cfg, const char *option,
                         const char *qualified, bool allow_all, struct domain_list *list)
{
    unsigned count = cfg_size(cfg, option);

    if (count == 0)
        return;
    list->domains = calloc(count, sizeof *list->domains);
    if (list->domains == NULL) {
        config_problem(check, qualified, "out of memory");
        return;
    }
    for (unsigned i = 0; i < count; i++) {
        const char *value = cfg_getnstr(cfg, option, i);
        const char *reason = NULL;
        char *copy;

        if (value != NULL && strcmp(value, "*") == 0) {
            if (allow_all)
                list->all = true;
            else
                config_problem(check, qualified, "'*' is not allowed here");
            continue;
        }
        if (value == NULL || xsmtp_domain_check(value, strlen(value), &reason) != XSMTP_OK) {
            config_problem(check, qualified, "bad domain '%s' (%s)", value != NULL ? value : "",
                           reason != NULL ? reason : "empty");
            continue;
        }
        copy = config_strdup(check, qualified, value);
        if (copy == NULL)
            continue;
        verify_lowercase(copy);
        list->domains[list->count++] = copy;
    }
    qsort(list->domains, list->count, sizeof *list->domains, verify_compare_strings);
    for (size_t i = 1; i < list->count; i++)
        if (strcmp(list->domains[i - 1], list->domains[i]) == 0)
            config_problem(check, qualified, "domain '%s' given twice", list->domains[i]);
}

static void
verify_free_domain_list(struct domain_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->domains[i]);
    free(list->domains);
    memset(list, 0, sizeof *list);
}

static void
verify_validate(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    struct verify_config *verify = &config->verify;
    long timeout = cfg_getint(cfg, "timeout_ms");
    const char *max_age = cfg_getstr(cfg, "max_age");

    if (timeout < VERIFY_TIMEOUT_MIN_MS || timeout > VERIFY_TIMEOUT_MAX_MS)
        config_problem(check, "verify.timeout_ms", "bad value '%ld' (%d..%d milliseconds)", timeout,
                       VERIFY_TIMEOUT_MIN_MS, VERIFY_TIMEOUT_MAX_MS);
    else
        verify->timeout_ms = (unsigned)timeout;
    if (!verify_parse_duration(max_age, &verify->max_age))
        config_problem(check, "verify.max_age",
                       "bad value '%s' (seconds, or a number with s, m, h or d; > 0)",
                       max_age != NULL ? max_age : "");
    verify_check_action(check, cfg, "on_fail", "verify.on_fail", &verify->on_fail);
    verify_check_action(check, cfg, "on_permerror", "verify.on_permerror", &verify->on_permerror);
    verify_check_action(check, cfg, "on_temperror", "verify.on_temperror", &verify->on_temperror);
    verify_check_routes(check, cfg, verify);
    verify_check_domain_list(check, cfg, "fast_track", "verify.fast_track", true,
                             &verify->fast_track);
    verify->add_jabber_id = cfg_getbool(cfg, "add_jabber_id") == cfg_true;
}

static void
verify_free(struct milter_config *config)
{
    struct verify_config *verify = &config->verify;

    for (size_t i = 0; i < verify->route_count; i++) {
        free(verify->routes[i].domain);
        free(verify->routes[i].jid);
    }
    free(verify->routes);
    verify_free_domain_list(&verify->fast_track);
    memset(verify, 0, sizeof *verify);
}

/* "*" is refused in exclude_domains: excluding every domain is what
 * notify.enabled = false says. */
static void
notify_validate(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    config->notify.enabled = cfg_getbool(cfg, "enabled") == cfg_true;
    verify_check_domain_list(check, cfg, "exclude_domains", "notify.exclude_domains", false,
                             &config->notify.exclude_domains);
}

static void
notify_free(struct milter_config *config)
{
    verify_free_domain_list(&config->notify.exclude_domains);
    memset(&config->notify, 0, sizeof config->notify);
}

static int
verify_compare_key(const void *key, const void *element)
{
    return strcasecmp(key, ((const struct verify_route *)element)->domain);
}

const char *
config_verify_route(const struct milter_config *config, const char *domain)
{
    const struct verify_route *route;

    if (config == NULL || domain == NULL || config->verify.route_count == 0)
        return NULL;
    route = bsearch(domain, config->verify.routes, config->verify.route_count,
                    sizeof *config->verify.routes, verify_compare_key);
    return route != NULL ? route->jid : NULL;
}

const struct config_section config_section_verify = {
    .name = "verify",
    .options = verify_options,
    .validate = verify_validate,
    .free = verify_free,
};

const struct config_section config_section_notify = {
    .name = "notify",
    .options = notify_options,
    .validate = notify_validate,
    .free = notify_free,
};
