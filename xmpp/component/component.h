/*
 * component.h -- the state of one xsmtp-component process, and the calls
 * its parts make on each other.
 *
 * Everything mutable lives in struct component, owned by main() and handed
 * to libstrophe as userdata.  The program is single-threaded: libstrophe's
 * event loop calls the stanza handlers, and signals only set flags that the
 * main loop looks at between rounds.
 */
#ifndef XSMTP_COMPONENT_H
#define XSMTP_COMPONENT_H

#include <stdbool.h>
#include <stdint.h>
#include <strophe.h>

#include "hash/keytable.h"
#include "hash/proto.h"
#include "xmpp/component/component_config.h"
#include "xmpp/component/component_ratelimit.h"

/* Most buckets a rate-limit table keeps at once. */
#define COMPONENT_RATE_KEYS 10000
/* An IQ id longer than this is not echoed: the stanza is dropped. */
#define COMPONENT_ID_MAX 256
/* Reconnect delays: 1, 2, 4, ... seconds, never more than this. */
#define COMPONENT_BACKOFF_MAX 60
/* A connection attempt that has not finished its handshake by then is dropped. */
#define COMPONENT_HANDSHAKE_TIMEOUT 30

/*
 * What a verify query came to, as the asking verifier reads it (proto.h):
 * pass, or fail with its reason, goes back as a <verdict/>; permerror and
 * temperror go back as a stanza error whose condition is the reason
 * (bad-request, item-not-found; resource-constraint, internal-server-error).
 */
struct component_answer {
    enum xsmtp_verdict verdict;
    const char *reason; /* "" for pass */
};

/* The answers there are: pass, seven fail reasons, four errors. */
#define COMPONENT_ANSWER_KINDS 12

/* Why a progress notice was not forwarded; indexes the counters. */
enum component_notice_drop {
    NOTICE_DROP_DISABLED,
    NOTICE_DROP_RATE,
    NOTICE_DROP_MALFORMED,
    NOTICE_DROP_FOREIGN,
    NOTICE_DROP_INTERNAL,
    NOTICE_DROP_COUNT
};

struct component_counters {
    unsigned long queries;                         /* verify IQs received */
    unsigned long answers[COMPONENT_ANSWER_KINDS]; /* by component_answer_index */
    unsigned long disco;                           /* disco#info answered */
    unsigned long other_iq;                        /* answered service-unavailable etc. */
    unsigned long ignored;                         /* stanzas dropped unanswered */
    unsigned long notices_forwarded;
    unsigned long notices_dropped[NOTICE_DROP_COUNT];
    unsigned long connects;
    unsigned long disconnects;
};

enum component_link {
    LINK_WAITING,    /* not connected; next attempt at next_attempt_ns */
    LINK_CONNECTING, /* TCP/handshake in progress */
    LINK_CONNECTED   /* handshake accepted: stanzas flow */
};

struct component {
    struct component_config config;
    struct xsmtp_keytable *keys;
    struct component_ratelimit *query_limit;  /* by requesting domain */
    struct component_ratelimit *notice_limit; /* by notice sender's domain */
    struct component_counters counters;

    xmpp_ctx_t *xmpp;
    xmpp_conn_t *conn;
    xmpp_log_t xmpp_logger; /* must outlive the libstrophe context */
    enum component_link link;
    bool stopping;                /* SIGTERM seen: do not reconnect */
    uint64_t connecting_since_ns; /* monotonic; for the handshake watchdog */
    bool sm_workaround_applied;   /* see component_conn.c; once per conn object */
    unsigned backoff_s;           /* delay before the next attempt */
    uint64_t next_attempt_ns;     /* monotonic */
    uint64_t down_since_ns;       /* monotonic; 0 when never connected */
    uint64_t notice_seq;          /* ids of forwarded notices */
    uint64_t started_ns;          /* monotonic; for uptime in the counters */
    uint64_t next_stats_ns;       /* monotonic; 0: stats_interval is off */
};

/* Clocks: monotonic nanoseconds (rate limits, backoff) and Unix seconds. */
uint64_t component_now_ns(void);
uint64_t component_unix_time(void);

/* component_conn.c: connection life cycle and stanza dispatch. */
xsmtp_status component_conn_init(struct component *comp, const char *secret);
void component_conn_step(struct component *comp); /* one round of the event loop */
void component_conn_shutdown(struct component *comp);
void component_conn_free(struct component *comp);
/* The permanent stanza handlers (userdata: the component); public for the
 * fuzz targets, which feed them parsed stanzas without a server. */
int component_iq_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata);
int component_message_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata);

/* component_reply.c: building answers through libstrophe's stanza API. */
xmpp_stanza_t *component_iq_reply(struct component *comp, xmpp_stanza_t *request, const char *type);
xmpp_stanza_t *component_iq_error(struct component *comp, xmpp_stanza_t *request,
                                  const char *error_type, const char *condition, const char *text);
/* Lowercased domain part of a JID into out (COMPONENT_RATELIMIT_KEY_MAX + 1 bytes). */
bool component_jid_domain(const char *jid, char *out, size_t outsz);

/* component_disco.c */
void component_disco_info(struct component *comp, xmpp_stanza_t *iq, xmpp_stanza_t *query);

/* component_verify.c */
void component_verify_query(struct component *comp, xmpp_stanza_t *iq, xmpp_stanza_t *verify);
/* Where answer is counted (COMPONENT_ANSWER_KINDS for none of the kinds),
 * and the name of that counter: "pass", "fail.REASON", "error.CONDITION". */
size_t component_answer_index(struct component_answer answer);
const char *component_answer_key(size_t index);

/* component_notice.c */
void component_notice(struct component *comp, xmpp_stanza_t *message, xmpp_stanza_t *progress);
const char *component_notice_drop_name(enum component_notice_drop drop);

/* component_stats.c: the counters as one "stats:" line; reason is one word
 * ("timer", "sigusr1", "stop").  component_stats_tick logs "timer" lines
 * every config.stats_interval seconds; call it from the main loop. */
void component_stats_log(const struct component *comp, const char *reason);
void component_stats_tick(struct component *comp);

#endif
