/*
 * client_internal.h -- the state shared by the XMPP client's files
 * (client.c, client_conn.c, client_query.c, client_disco.c).  Not for
 * users of the client: they include client.h.
 *
 * Who may touch what:
 *   - fields marked [lock] only with client->lock held, from any thread;
 *   - fields marked [thread] only by the XMPP thread (libstrophe objects,
 *     the id map, the list of active requests), so they need no lock;
 *   - fields marked [const] are set before the thread starts and never change.
 * A request is shared by one caller and the XMPP thread and is reference
 * counted under the lock: the caller may give up at its deadline while the
 * thread still holds the request in its map.
 */
#ifndef XSMTP_CLIENT_INTERNAL_H
#define XSMTP_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <strophe.h>

#include "hash/util/logger.h"
#include "xmpp/client/client.h"
#include "xmpp/client/client_map.h"

#define XCLIENT_NS_PING "urn:xmpp:ping"

#define XCLIENT_DISCO_MAX_ITEMS 20
/* A connection attempt without a session after this long is abandoned. */
#define XCLIENT_HANDSHAKE_TIMEOUT_S 30
/* The reaper's period (expired requests leave the map). */
#define XCLIENT_REAP_MS 20

enum xclient_request_kind { REQUEST_VERIFY, REQUEST_DISCOVER };

enum xclient_attr {
    ATTR_IDENTITY,
    ATTR_MESSAGE_ID,
    ATTR_FROM,
    ATTR_T,
    ATTR_IP,
    ATTR_K,
    ATTR_BH,
    ATTR_H,
    ATTR_RELAY,
    ATTR_COUNT
};

enum xclient_item_state { ITEM_WAITING, ITEM_HAS_FEATURE, ITEM_NO_FEATURE, ITEM_FAILED_TEMP };

struct xclient_disco_item {
    char jid[XSMTP_DOMAIN_MAX + 1];
    struct xclient_pending_iq iq;
    enum xclient_item_state state;
    char failure[XSMTP_REASON_SIZE]; /* ITEM_FAILED_TEMP: the condition */
};

struct xclient_disco_state { /* [thread] */
    struct xclient_pending_iq items_iq;
    unsigned count;
    struct xclient_disco_item item[XCLIENT_DISCO_MAX_ITEMS];
};

struct xclient_request {
    struct xclient_request *queue_next; /* [lock] */
    int refs;                           /* [lock] caller + XMPP thread */
    bool done;                          /* [lock] the result below is final */
    pthread_cond_t done_cond;           /* signalled when done turns true */

    enum xclient_request_kind kind;    /* [const] set by the caller before queuing */
    uint64_t deadline_ns, queued_ns;   /* [const] CLOCK_MONOTONIC */
    char to[XSMTP_DOMAIN_MAX + 1];     /* [const] component or domain, lowercased */
    const char *attrs[ATTR_COUNT];     /* [const] verify: copies; relay may be NULL */
    struct xclient_disco_state *disco; /* discover: same allocation as the request */

    struct xclient_request *active_prev, *active_next; /* [thread] */
    bool active;                                       /* [thread] in the active list */
    struct xclient_pending_iq iq;                      /* [thread] verify */

    /* Written by the thread before done is set; read by the caller after. */
    int local_failure; /* an answer_local_failure, or -1: an answer */
    struct xclient_answer verify;
    struct xclient_discovery discovery;
};

struct xclient_queued_notice {
    struct xclient_queued_notice *next;
    char to[XSMTP_DOMAIN_MAX + 1];
    const char *values[5]; /* identity, message-id, status, by, t */
};

enum xclient_link {
    LINK_WAITING,    /* down; next attempt at next_attempt_ns */
    LINK_CONNECTING, /* TCP, TLS, SASL, bind in progress */
    LINK_CONNECTED,  /* session up: queries flow */
    LINK_CLOSING     /* declared dead, libstrophe still closing it */
};

struct xclient {
    /* [const] */
    struct xsmtp_logger logger; /* the caller's (options.logger) */
    char *jid, *server, *ca_file;
    char domain[XSMTP_DOMAIN_MAX + 1]; /* of our own JID: where pings go */
    unsigned port, max_pending, notice_queue_max, backoff_max_s;
    uint64_t keepalive_idle_ns, keepalive_timeout_ns;
    long conn_flags;
    pthread_t thread;
    bool thread_started;
    int wake_fd;                  /* eventfd: "look at the queues" */
    pthread_condattr_t cond_attr; /* CLOCK_MONOTONIC, for every condition */

    pthread_mutex_t lock;
    pthread_cond_t state_cond;                       /* [lock] link_up turned true; users hit 0 */
    struct xclient_request *queue_head, *queue_tail; /* [lock] */
    struct xclient_queued_notice *notice_head, *notice_tail; /* [lock] */
    unsigned pending;                                        /* [lock] requests not done yet */
    unsigned notices_waiting;                                /* [lock] */
    unsigned users;             /* [lock] callers inside a blocking call */
    bool wake_pending;          /* [lock] wake_fd already written */
    bool stopping;              /* [lock] */
    bool link_up;               /* [lock] mirrors link == LINK_CONNECTED */
    struct xclient_stats stats; /* [lock] */

    /* [thread] */
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    xmpp_log_t strophe_logger; /* forwards libstrophe's warnings to logger */
    enum xclient_link link;
    bool closing; /* stop requested: no more attempts */
    unsigned backoff_s;
    uint64_t next_attempt_ns, connecting_since_ns, down_since_ns;
    int sock_fd; /* captured by the sockopt callback; -1 */
    struct xclient_map map;
    struct xclient_request *active_head;
    unsigned long stanzas_seen; /* bumped by every stanza received */
    uint64_t last_rx_ns, next_reap_ns;
    struct xclient_pending_iq ping_iq; /* the keep-alive ping, when in flight */
};

/* Monotonic nanoseconds. */
uint64_t xclient_now_ns(void);

/* client.c: handing results back to the waiting caller (XMPP thread). */
void xclient_request_finish(struct xclient *client, struct xclient_request *request);
void xclient_request_free(struct xclient_request *request);
void xclient_stats_add(struct xclient *client, unsigned long *counter, unsigned long n);

/* client_conn.c */
xsmtp_status xclient_conn_init(struct xclient *client, const char *password);
void xclient_conn_free(struct xclient *client);
void xclient_conn_maintain(struct xclient *client, uint64_t now);
void xclient_conn_wait(struct xclient *client, uint64_t now, unsigned long seen_before);
void xclient_conn_shutdown(struct xclient *client);
void xclient_conn_declare_dead(struct xclient *client, const char *why);

/* client_query.c */
int xclient_iq_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata);
void xclient_query_send(struct xclient *client, struct xclient_request *request);
void xclient_query_fail_all(struct xclient *client, enum xclient_failure why);
void xclient_query_reap(struct xclient *client, uint64_t now);
void xclient_query_fail(struct xclient *client, struct xclient_request *request,
                        enum xclient_failure why);
void xclient_active_add(struct xclient *client, struct xclient_request *request);
bool xclient_stanza_error(xmpp_stanza_t *stanza, const char **type, const char **condition);
xmpp_stanza_t *xclient_iq_with_query(struct xclient *client, const char *type, const char *id,
                                     const char *to, const char *name, const char *ns,
                                     xmpp_stanza_t **payload);
void xclient_notice_send(struct xclient *client, struct xclient_queued_notice *notice);
void xclient_ping_check(struct xclient *client, uint64_t now);

/* client_disco.c */
void xclient_disco_start(struct xclient *client, struct xclient_request *request);
void xclient_disco_answer(struct xclient *client, struct xclient_request *request, int slot,
                          xmpp_stanza_t *stanza);
void xclient_disco_local(enum xclient_failure why, struct xclient_discovery *answer);
void xclient_disco_forget(struct xclient *client, struct xclient_request *request);

#endif
