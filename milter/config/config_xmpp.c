/*
 * config_xmpp.c -- section xmpp { }: the verifier's own XMPP account, one
 * c2s stream per milter process (XSMTP-1 s1).
 *
 *   jid            full JID with resource, e.g. "milter@b.test/gw1"
 *                  (required with mode verify)                      ""
 *   password_file  first line is the password; refused when group
 *                  or other may read or write it (required with
 *                  mode verify)                                     ""
 *   server         host to connect to; "" = the JID's domain        ""
 *   port           c2s port                                         5222
 *   tls            required | optional                              required
 *   ca_file        PEM file of trusted CAs; "" = the system's store ""
 *   tls_trust      skip certificate verification (test labs only)   false
 *
 * The values are used once, when the XMPP client starts; a reload that
 * changes them takes effect at the next restart.  The password file is
 * read here only to check it (then wiped): the client reads it again at
 * start, after privileges are dropped, so it must stay readable by `user`.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hash/identity.h"
#include "hash/util/private_file.h"
#include "milter/config/config_internal.h"

/* RFC 7622: each JID part is at most 1023 octets. */
#define XMPP_RESOURCE_MAX 1023
#define XMPP_PASSWORD_MAX 1024

static const cfg_opt_t xmpp_options[] = {CFG_STR("jid", "", CFGF_NONE),
                                         CFG_STR("password_file", "", CFGF_NONE),
                                         CFG_STR("server", "", CFGF_NONE),
                                         CFG_INT("port", 5222, CFGF_NONE),
                                         CFG_STR("tls", "required", CFGF_NONE),
                                         CFG_STR("ca_file", "", CFGF_NONE),
                                         CFG_BOOL("tls_trust", cfg_false, CFGF_NONE),
                                         CFG_END()};

static const char *
xmpp_optional(cfg_t *cfg, const char *name)
{
    const char *value = cfg_getstr(cfg, name);
    return value != NULL && *value != '\0' ? value : NULL;
}

static bool
xmpp_verifying(const struct milter_config *config)
{
    return (config->mode & MILTER_MODE_VERIFY) != 0;
}

/* local@domain/resource: a valid bare JID plus a non-empty resource. */
static void
xmpp_check_jid(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = xmpp_optional(cfg, "jid");
    char bare[XSMTP_IDENTITY_SIZE];
    const char *reason = NULL, *slash;

    if (value == NULL) {
        if (xmpp_verifying(config))
            config_problem(check, "xmpp.jid",
                           "no JID given (required when mode includes "
                           "verify)");
        return;
    }
    slash = strchr(value, '/');
    if (slash == NULL || slash[1] == '\0') {
        config_problem(check, "xmpp.jid",
                       "bad JID '%s' (expected local@domain/resource, e.g. milter@b.test/gw1)",
                       value);
        return;
    }
    if (xsmtp_identity_parse(value, (size_t)(slash - value), bare, sizeof bare, &reason) !=
        XSMTP_OK) {
        config_problem(check, "xmpp.jid", "bad JID '%s' (%s)", value,
                       reason != NULL ? reason : "malformed");
        return;
    }
    if (strlen(slash + 1) > XMPP_RESOURCE_MAX) {
        config_problem(check, "xmpp.jid", "bad JID '%s' (resource longer than %d octets)", value,
                       XMPP_RESOURCE_MAX);
        return;
    }
    for (const char *p = slash + 1; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            config_problem(check, "xmpp.jid",
                           "bad JID '%s' (control character in the "
                           "resource)",
                           value);
            return;
        }
    }
    config->xmpp.jid = config_strdup(check, "xmpp.jid", value);
}

static void
xmpp_check_password(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    const char *value = xmpp_optional(cfg, "password_file");
    char password[XMPP_PASSWORD_MAX];
    char err[512];

    if (value == NULL) {
        if (xmpp_verifying(config))
            config_problem(check, "xmpp.password_file",
                           "no password file given (required when mode includes verify)");
        return;
    }
    if (!config_check_absolute(check, "xmpp.password_file", value))
        return;
    config->xmpp.password_file = config_strdup(check, "xmpp.password_file", value);
    if (!xmpp_verifying(config))
        return;
    /* Checked now so that -t and a reload report it; the secret is wiped. */
    err[0] = '\0';
    if (xsmtp_private_file_read_line(value, password, sizeof password, err, sizeof err) != XSMTP_OK)
        config_problem(check, "xmpp.password_file", "%s",
                       err[0] != '\0' ? err : "cannot read the password");
    explicit_bzero(password, sizeof password);
}

static void
xmpp_validate(struct config_check *check, cfg_t *cfg, struct milter_config *config)
{
    struct xmpp_config *xmpp = &config->xmpp;
    const char *server = xmpp_optional(cfg, "server");
    const char *tls = cfg_getstr(cfg, "tls");
    const char *ca_file = xmpp_optional(cfg, "ca_file");
    long port = cfg_getint(cfg, "port");
    const char *reason = NULL;

    xmpp_check_jid(check, cfg, config);
    xmpp_check_password(check, cfg, config);
    if (server != NULL) {
        unsigned char address[sizeof(struct in6_addr)];

        if (xsmtp_domain_check(server, strlen(server), &reason) != XSMTP_OK &&
            inet_pton(AF_INET6, server, address) != 1)
            config_problem(check, "xmpp.server", "bad host '%s' (%s)", server,
                           reason != NULL ? reason : "malformed");
        else
            xmpp->server = config_strdup(check, "xmpp.server", server);
    }
    if (port < 1 || port > 65535)
        config_problem(check, "xmpp.port", "bad port '%ld' (1..65535)", port);
    else
        xmpp->port = (unsigned)port;
    if (tls != NULL && strcmp(tls, "required") == 0)
        xmpp->tls = XMPP_TLS_REQUIRED;
    else if (tls != NULL && strcmp(tls, "optional") == 0)
        xmpp->tls = XMPP_TLS_OPTIONAL;
    else
        config_problem(check, "xmpp.tls", "bad value '%s' (expected required or optional)",
                       tls != NULL ? tls : "");
    if (ca_file != NULL && config_check_absolute(check, "xmpp.ca_file", ca_file))
        xmpp->ca_file = config_strdup(check, "xmpp.ca_file", ca_file);
    xmpp->tls_trust = cfg_getbool(cfg, "tls_trust") == cfg_true;
}

static void
xmpp_free(struct milter_config *config)
{
    struct xmpp_config *xmpp = &config->xmpp;

    free(xmpp->jid);
    free(xmpp->password_file);
    free(xmpp->server);
    free(xmpp->ca_file);
    memset(xmpp, 0, sizeof *xmpp);
}

const struct config_section config_section_xmpp = {
    .name = "xmpp",
    .options = xmpp_options,
    .validate = xmpp_validate,
    .free = xmpp_free,
};
