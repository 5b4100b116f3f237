/*
 * milter_config.h -- the milter's configuration as plain typed values.
 *
 * config_load() turns the libconfuse file into a `struct milter_config`:
 * modes as flags, actions as enums, address lists parsed, the key table
 * and identity map loaded.  A loaded config is immutable; a reload builds
 * a new one and swaps it in (context.h).  Problems are collected as one
 * line each in a `struct config_diag` (format in config_diag.h).
 *
 * Adding a section (verify{}, xmpp{}, ...): add its struct here, then a
 * config_<name>.c with the schema, validation and free functions, and one
 * line in the section table in config_load.c.
 */
#ifndef XSMTP_MILTER_CONFIG_H
#define XSMTP_MILTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"
#include "config_diag.h"
#include "keytable.h"
#include "socket_spec.h"
#include "status.h"
#include "taglist.h"

struct identity_map;

#define MILTER_MODE_SIGN 0x1u
#define MILTER_MODE_VERIFY 0x2u

/* What a callback answers when our own code fails (out of memory, ...). */
enum milter_on_internal_error {
    MILTER_ON_ERROR_TEMPFAIL,
    MILTER_ON_ERROR_ACCEPT
};

/* Where the signer takes the ip= tag value from. */
enum sign_ip_source {
    SIGN_IP_CLIENT,     /* the connecting SMTP client's address */
    SIGN_IP_FIXED       /* sign_config.fixed_ip */
};

/* Section sign { ... }. */
struct sign_config {
    char **domains;                     /* lowercased, sorted, unique */
    size_t domain_count;
    struct xsmtp_cidr_list internal_hosts;
    char *keys_path;                    /* NULL: not configured */
    struct xsmtp_keytable *keys;        /* loaded; NULL iff keys_path is NULL */
    char *identity_map_path;            /* NULL: not configured */
    struct identity_map *identity_map;  /* loaded; NULL iff the path is NULL */
    enum sign_ip_source ip_source;
    char fixed_ip[XSMTP_IP_MAX + 1];    /* inet_ntop form when SIGN_IP_FIXED */
};

struct milter_config {
    char *path;                         /* the file this was loaded from */
    char *socket;                       /* as written */
    struct socket_spec socket_spec;
    unsigned mode;                      /* MILTER_MODE_* flags, at least one */
    char *user;                         /* NULL: keep the starting user */
    char *pidfile;                      /* NULL: no pid file */
    int syslog_facility;                /* LOG_* */
    int log_level;                      /* LOG_* */
    char *authserv_id;
    enum milter_on_internal_error on_internal_error;
    struct sign_config sign;
};

/*
 * Reads path, checks every value, loads the key table and identity map.
 * XSMTP_OK: *out is set and diag holds no problem.  Otherwise *out is NULL
 * and diag holds at least one problem line.  display_path is the name used
 * in problem lines (the -c argument as typed); NULL means path.
 */
xsmtp_status config_load(const char *path, const char *display_path,
                         struct milter_config **out, struct config_diag *diag);
void config_free(struct milter_config *config);

/* "sign", "verify" or "sign+verify". */
const char *config_mode_text(unsigned mode);

/* Whether domain (any case) is one of sign.domains. */
bool config_sign_domain_listed(const struct milter_config *config, const char *domain);

#endif
