/*
 * config_sign.c -- section sign { }: schema, defaults, checks, and loading
 * the key table and identity map it names.
 *
 *   domains         sender domains we sign for          {} (required with mode sign)
 *   internal_hosts  clients whose mail is signed        {"127.0.0.0/8", "::1"}
 *   keys            key table (XSMTP-1 s4), mode 0600   "" (required with mode sign)
 *   identity_map    "email-address JID" lines           "" (none)
 *   ip              "client" or a fixed IP address      client
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash/identity.h"
#include "milter/config/config_internal.h"
#include "milter/config/identity_map.h"

static const cfg_opt_t sign_options[] = {
    CFG_STR_LIST("domains", 0, CFGF_NONE),
    CFG_STR_LIST("internal_hosts", "{\"127.0.0.0/8\", \"::1\"}", CFGF_NONE),
    CFG_STR("keys", "", CFGF_NONE),
    CFG_STR("identity_map", "", CFGF_NONE),
    CFG_STR("ip", "client", CFGF_NONE),
    CFG_END()};

static int
sign_compare_domains(const void *left, const void *right)
{
    return strcmp(*(char *const *)left, *(char *const *)right);
}

static void
sign_check_domains(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    struct sign_config *sign = &config->sign;
    unsigned count = cfg_size(cfg, "domains");
    const char *reason = NULL;

    if (count == 0) {
        if ((config->mode & MILTER_MODE_SIGN) != 0)
            config_problem(check, "sign.domains",
                           "no domain given (required when mode includes sign)");
        return;
    }
    sign->domains = calloc(count, sizeof *sign->domains);
    if (sign->domains == NULL) {
        config_problem(check, "sign.domains", "out of memory");
        return;
    }
    for (unsigned i = 0; i < count; i++) {
        const char *value = cfg_getnstr(cfg, "domains", i);
        char *copy;

        if (value == NULL || xsmtp_domain_check(value, strlen(value), &reason) != XSMTP_OK) {
            config_problem(check, "sign.domains", "bad domain '%s' (%s)",
                           value != NULL ? value : "", reason != NULL ? reason : "empty");
            continue;
        }
        copy = config_strdup(check, "sign.domains", value);
        if (copy == NULL)
            continue;
        for (char *p = copy; *p != '\0'; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        sign->domains[sign->domain_count++] = copy;
    }
    qsort(sign->domains, sign->domain_count, sizeof *sign->domains, sign_compare_domains);
    for (size_t i = 1; i < sign->domain_count; i++)
        if (strcmp(sign->domains[i - 1], sign->domains[i]) == 0)
            config_problem(check, "sign.domains", "domain '%s' given twice", sign->domains[i]);
}

static void
sign_check_internal_hosts(struct config_check *check, cfg_t *cfg, struct sign_config *sign)
{
    unsigned count = cfg_size(cfg, "internal_hosts");

    for (unsigned i = 0; i < count; i++) {
        const char *value = cfg_getnstr(cfg, "internal_hosts", i);
        struct xsmtp_cidr entry;

        if (value == NULL || xsmtp_cidr_parse(value, &entry) != XSMTP_OK) {
            config_problem(check, "sign.internal_hosts", "bad address '%s'",
                           value != NULL ? value : "");
            continue;
        }
        if (xsmtp_cidr_list_add(&sign->internal_hosts, &entry) != XSMTP_OK)
            config_problem(check, "sign.internal_hosts", "out of memory");
    }
}

static void
sign_check_keys(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    struct sign_config *sign = &config->sign;
    const char *value = cfg_getstr(cfg, "keys");
    char err[512];

    if (value == NULL || *value == '\0') {
        if ((config->mode & MILTER_MODE_SIGN) != 0)
            config_problem(check, "sign.keys",
                           "no key table given (required when mode "
                           "includes sign)");
        return;
    }
    if (!config_check_absolute(check, "sign.keys", value))
        return;
    sign->keys_path = config_strdup(check, "sign.keys", value);
    if (sign->keys_path == NULL)
        return;
    err[0] = '\0';
    if (xsmtp_keytable_load(value, &sign->keys, err, sizeof err) != XSMTP_OK) {
        sign->keys = NULL;
        config_problem(check, "sign.keys", "%s", err[0] != '\0' ? err : "cannot load");
    }
}

static void
sign_identity_map_problem(void *arg, const char *problem)
{
    config_problem(arg, "sign.identity_map", "%s", problem);
}

static void
sign_check_identity_map(struct config_check *check, cfg_t *cfg, struct sign_config *sign)
{
    const char *value = cfg_getstr(cfg, "identity_map");

    if (value == NULL || *value == '\0')
        return;
    if (!config_check_absolute(check, "sign.identity_map", value))
        return;
    sign->identity_map_path = config_strdup(check, "sign.identity_map", value);
    if (sign->identity_map_path == NULL)
        return;
    if (identity_map_load(value, &sign->identity_map, sign_identity_map_problem, check) != XSMTP_OK)
        sign->identity_map = NULL;
}

static void
sign_check_ip(struct config_check *check, cfg_t *cfg, struct sign_config *sign)
{
    const char *value = cfg_getstr(cfg, "ip");
    unsigned char addr[sizeof(struct in6_addr)];
    int family;

    if (value != NULL && strcmp(value, "client") == 0) {
        sign->ip_source = SIGN_IP_CLIENT;
        return;
    }
    if (value != NULL && inet_pton(AF_INET, value, addr) == 1)
        family = AF_INET;
    else if (value != NULL && inet_pton(AF_INET6, value, addr) == 1)
        family = AF_INET6;
    else {
        config_problem(check, "sign.ip", "bad address '%s' (expected client or an IP address)",
                       value != NULL ? value : "");
        return;
    }
    /* Keep the inet_ntop spelling: it is what goes into ip= (XSMTP-1 s2). */
    if (inet_ntop(family, addr, sign->fixed_ip, sizeof sign->fixed_ip) == NULL) {
        config_problem(check, "sign.ip", "bad address '%s'", value);
        return;
    }
    sign->ip_source = SIGN_IP_FIXED;
}

static void
sign_validate(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    sign_check_domains(check, cfg, config);
    sign_check_internal_hosts(check, cfg, &config->sign);
    sign_check_keys(check, cfg, config);
    sign_check_identity_map(check, cfg, &config->sign);
    sign_check_ip(check, cfg, &config->sign);
}

static void
sign_free(struct milter_config *config)
{
    struct sign_config *sign = &config->sign;

    for (size_t i = 0; i < sign->domain_count; i++)
        free(sign->domains[i]);
    free(sign->domains);
    xsmtp_cidr_list_free(&sign->internal_hosts);
    xsmtp_keytable_free(sign->keys);
    free(sign->keys_path);
    identity_map_free(sign->identity_map);
    free(sign->identity_map_path);
    memset(sign, 0, sizeof *sign);
}

static int
sign_compare_key(const void *key, const void *element)
{
    return strcasecmp(key, *(char *const *)element);
}

bool
config_sign_domain_listed(const struct milter_config *config, const char *domain)
{
    if (config == NULL || domain == NULL || config->sign.domain_count == 0)
        return false;
    return bsearch(domain, config->sign.domains, config->sign.domain_count,
                   sizeof *config->sign.domains, sign_compare_key) != NULL;
}

const struct config_section config_section_sign = {
    .name = "sign",
    .options = sign_options,
    .validate = sign_validate,
    .free = sign_free,
};
