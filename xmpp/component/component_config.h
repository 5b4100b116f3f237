/*
 * component_config.h -- the configuration file of xsmtp-component.
 *
 * Read once at start (and by -t) with libconfuse.  Every option is taken as
 * a string and checked by our own code, so every problem comes out as one
 * line "FILE:LINE: option: bad value 'x' (why)" and all problems of a file
 * are reported, not only the first.  Unknown options are refused.
 */
#ifndef XSMTP_COMPONENT_CONFIG_H
#define XSMTP_COMPONENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "hash/util/cidr.h"
#include "hash/util/status.h"

/* XSMTP-1 s6: "future" is t more than 300 s ahead; fixed by the spec. */
#define XSMTP_FUTURE_SKEW 300
#define COMPONENT_DEFAULT_MAX_AGE (7 * 24 * 3600)
#define COMPONENT_DEFAULT_PORT 5347
#define COMPONENT_DEFAULT_RATE 100
#define COMPONENT_DEFAULT_BURST 200
/* stats_interval: default and longest period of the counters line. */
#define COMPONENT_DEFAULT_STATS_INTERVAL 300
#define COMPONENT_STATS_INTERVAL_MAX 86400

struct component_config {
    char *path; /* the file it came from */
    /* process */
    char *user;              /* NULL: do not switch user */
    char *pidfile;           /* NULL: no pid file */
    int syslog_facility;     /* LOG_MAIL ... */
    int log_level;           /* LOG_INFO ... */
    unsigned stats_interval; /* seconds between counter lines; 0: none */
    /* component { } */
    char *jid;    /* component JID, e.g. xsmtp.a.test (lowercased) */
    char *server; /* host of the XMPP server */
    unsigned port;
    char *secret_file;
    char *keys;     /* key table path */
    char **domains; /* identity domains served, lowercased */
    size_t domain_count;
    uint64_t max_age; /* seconds */
    bool relays_set;  /* false: relay attribute not checked */
    struct xsmtp_cidr_list relays;
    uint32_t rate_per_domain; /* tokens per second; 0: no limit */
    uint32_t burst;           /* bucket size */
    bool notify;
};

/*
 * Parses path into cfg (zeroed first).  Each problem is written as one line
 * to report (may be NULL); returns the number of problems (0: cfg is
 * complete and usable).  On problems cfg is freed again.
 */
unsigned component_config_load(const char *path, struct component_config *cfg, FILE *report);
void component_config_free(struct component_config *cfg);

/* Whether domain (lowercase) is one of component.domains. */
bool component_config_serves(const struct component_config *cfg, const char *domain);

#endif
