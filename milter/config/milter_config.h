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

#include "hash/keytable.h"
#include "hash/taglist.h"
#include "hash/util/cidr.h"
#include "hash/util/status.h"
#include "milter/config/config_diag.h"
#include "milter/config/socket_spec.h"
#include "milter/verify/verify_policy.h"

struct identity_map;

#define MILTER_MODE_SIGN 0x1u
#define MILTER_MODE_VERIFY 0x2u

/* What a callback answers when our own code fails (out of memory, ...). */
enum milter_on_internal_error { MILTER_ON_ERROR_TEMPFAIL, MILTER_ON_ERROR_ACCEPT };

/* Where the signer takes the ip= tag value from. */
enum sign_ip_source {
    SIGN_IP_CLIENT, /* the connecting SMTP client's address */
    SIGN_IP_FIXED   /* sign_config.fixed_ip */
};

/* Section sign { ... }. */
struct sign_config {
    char **domains; /* lowercased, sorted, unique */
    size_t domain_count;
    struct xsmtp_cidr_list internal_hosts;
    char *keys_path;                   /* NULL: not configured */
    struct xsmtp_keytable *keys;       /* loaded; NULL iff keys_path is NULL */
    char *identity_map_path;           /* NULL: not configured */
    struct identity_map *identity_map; /* loaded; NULL iff the path is NULL */
    enum sign_ip_source ip_source;
    char fixed_ip[XSMTP_IP_MAX + 1]; /* inet_ntop form when SIGN_IP_FIXED */
};

/* One entry of verify.components: mail of identities @domain goes to jid. */
struct verify_route {
    char *domain; /* lowercased */
    char *jid;    /* lowercased domain JID */
};

/* Section verify { ... } (config_verify.c). */
struct verify_config {
    unsigned timeout_ms; /* the whole verification of one message */
    long long max_age;   /* seconds; older t fails "expired" */
    enum verify_action on_fail;
    enum verify_action on_permerror;
    enum verify_action on_temperror;
    struct verify_route *routes; /* sorted by domain, unique */
    size_t route_count;
    /* verify.fast_track: identity domains whose pass is fast-tracked;
     * "*" in the file sets fast_track.all. */
    struct domain_list fast_track;
    bool add_jabber_id; /* RFC 7259 Jabber-ID on pass */
};

/* Section notify { ... } (config_verify.c): s8 delivery-progress notices. */
struct notify_config {
    bool enabled;                       /* send a <progress/> after each pass */
    struct domain_list exclude_domains; /* identity domains never notified */
};

/* xmpp.tls */
enum xmpp_tls_mode { XMPP_TLS_REQUIRED, XMPP_TLS_OPTIONAL };

/* Section xmpp { ... } (config_xmpp.c): the verifier's c2s account. */
struct xmpp_config {
    char *jid;           /* full JID with resource; NULL: not set */
    char *password_file; /* absolute; NULL: not set */
    char *server;        /* NULL: the JID's domain */
    unsigned port;       /* 0: 5222 */
    enum xmpp_tls_mode tls;
    char *ca_file;  /* NULL: the system's store */
    bool tls_trust; /* skip certificate checks (test labs) */
};

/* Section redis { ... } (config_redis.c): the shared verdict cache. */
struct redis_config {
    bool enabled;        /* host, socket or sentinels given */
    char *host;          /* NULL: not set */
    unsigned port;       /* 0: 6379 */
    char *socket;        /* NULL: not set */
    char *password_file; /* NULL: no AUTH */
    unsigned db;
    char *prefix;        /* never NULL once loaded */
    unsigned timeout_ms; /* per Redis call */
    unsigned pool_size;  /* connections per process */
    char **sentinels;    /* "host:port" */
    size_t sentinel_count;
    char *master_name; /* NULL unless sentinels */
};

struct milter_config {
    char *path;   /* the file this was loaded from */
    char *socket; /* as written */
    struct socket_spec socket_spec;
    unsigned mode;       /* MILTER_MODE_* flags, at least one */
    char *user;          /* NULL: keep the starting user */
    char *pidfile;       /* NULL: no pid file */
    int syslog_facility; /* LOG_* */
    int log_level;       /* LOG_* */
    char *authserv_id;
    enum milter_on_internal_error on_internal_error;
    unsigned stats_interval; /* seconds between counter lines; 0: none */
    struct sign_config sign;
    struct verify_config verify;
    struct notify_config notify;
    struct xmpp_config xmpp;
    struct redis_config redis;
};

/*
 * Reads path, checks every value, loads the key table and identity map.
 * XSMTP_OK: *out is set and diag holds no problem.  Otherwise *out is NULL
 * and diag holds at least one problem line.  display_path is the name used
 * in problem lines (the -c argument as typed); NULL means path.
 */
xsmtp_status config_load(const char *path, const char *display_path, struct milter_config **out,
                         struct config_diag *diag);
void config_free(struct milter_config *config);

/* "sign", "verify" or "sign+verify". */
const char *config_mode_text(unsigned mode);

/* The verify.components JID for domain (any case); NULL when not listed. */
const char *config_verify_route(const struct milter_config *config, const char *domain);

/* "accept", "quarantine", "reject", "tempfail". */
const char *config_verify_action_text(enum verify_action action);

/* Whether domain (any case) is one of sign.domains. */
bool config_sign_domain_listed(const struct milter_config *config, const char *domain);

#endif
