/*
 * client.h -- the verifier's XMPP client (XSMTP-1 s5, s6, s8, client side).
 *
 * One c2s connection per milter process, owned by one dedicated thread
 * (libstrophe is not thread-safe).  Any number of milter threads call
 * xclient_verify() / xclient_discover() at once: each call hands a
 * plain C request to the XMPP thread through a locked queue (plus an
 * eventfd wake-up) and sleeps on a condition variable until the answer or
 * its absolute CLOCK_MONOTONIC deadline, whichever comes first.  Queries
 * are pipelined on the one stream and matched by id.
 *
 * Never hangs past the deadline: requests made while the stream is down,
 * and requests in flight when it drops, fail at once as temperror
 * ("disconnected"); the thread reconnects by itself with backoff (1, 2, 4,
 * ... s, at most backoff_max_s).
 *
 * Life cycle: xclient_start() (connects in the background; optionally
 * xclient_wait_connected()), calls from any thread, then
 * xclient_stop() once, which fails whatever is pending at once, joins
 * the thread and frees everything after the last caller has returned.  No
 * call may start after xclient_stop() has returned.
 */
#ifndef XSMTP_CLIENT_H
#define XSMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hash/identity.h"
#include "hash/proto.h"
#include "hash/util/logger.h"
#include "hash/util/status.h"
#include "xmpp/client/answer.h"

enum xclient_tls {
    XCLIENT_TLS_REQUIRED = 0, /* STARTTLS or nothing: never log in in clear */
    XCLIENT_TLS_OPTIONAL      /* STARTTLS when the server offers it */
};

/* Plain options; the configuration layer fills them from xsmtp.conf's xmpp { }. */
struct xclient_options {
    const char *jid;           /* full JID with resource, e.g. milter@b.test/gw1 */
    const char *password_file; /* its first line is the password; refused when group
                                 * or other may read or write it (hash/util/private_file.h) */
    const char *password;      /* or the password itself (copied); exactly one of the two */
    const char *server;        /* host to connect to; NULL: DNS SRV of the JID's domain */
    unsigned port;             /* 0: 5222 (or what SRV says) */
    enum xclient_tls tls;      /* default (0) required */
    const char *ca_file;       /* PEM file of trusted CAs; NULL: the system's store */
    bool tls_trust;            /* skip certificate verification: test labs only (warns) */
    unsigned max_pending;      /* requests queued or in flight; 0: 10000 */
    unsigned notice_queue_max; /* notices waiting to be sent; 0: 1000 */
    unsigned backoff_max_s;    /* longest pause between connection attempts; 0: 60 */
    /* Dead-stream detection: after keepalive_idle_s without any stanza from
     * the server, ping it (XEP-0199); no stanza within keepalive_timeout_s
     * more and the stream is declared dead: pending calls fail at once and
     * the client reconnects.  0: 30 and 10. */
    unsigned keepalive_idle_s, keepalive_timeout_s;
    struct xsmtp_logger logger; /* where the client's lines go; {NULL}: nowhere */
};

/*
 * A query's values (struct xsmtp_query, proto.h) must be valid UTF-8
 * without control characters and at most XCLIENT_VALUE_MAX octets each;
 * markup characters are escaped on the way out.
 */
#define XCLIENT_VALUE_MAX 8192

enum xclient_discovery_outcome {
    XCLIENT_DISCOVERY_FOUND,   /* jid holds the component */
    XCLIENT_DISCOVERY_NONE,    /* no item has urn:xmpp:xsmtp:1 (cache 1 h, permerror) */
    XCLIENT_DISCOVERY_TEMPFAIL /* could not tell now (temperror, do not cache) */
};

struct xclient_discovery {
    enum xclient_discovery_outcome outcome;
    char jid[XSMTP_DOMAIN_MAX + 1]; /* XCLIENT_DISCOVERY_FOUND only */
    /* NONE/TEMPFAIL: "no-items", "no-feature", "timeout", "disconnected",
     * "overloaded", or the stanza error condition of the disco#items answer. */
    char reason[XSMTP_REASON_SIZE];
    unsigned items; /* items asked with disco#info */
};

/* s8 <progress/>; all values as they go on the wire. */
struct xclient_notice {
    const char *identity, *message_id, *status, *by, *t;
};

/* Counters, read with xclient_get_stats(). */
#define XCLIENT_SAMPLES 1024
struct xclient_stats {
    bool connected;
    unsigned long connects;            /* sessions established */
    unsigned long disconnects;         /* established sessions lost */
    unsigned long connect_failures;    /* attempts that never got a session */
    unsigned long queries_sent;        /* verify IQs written */
    unsigned long answers;             /* verify answers accepted */
    unsigned long answers_ignored;     /* answers with one of our ids that is not pending
                                         * (late, repeated) or from another JID */
    unsigned long timeouts;            /* calls that reached their deadline */
    unsigned long failed_disconnected; /* calls failed because the stream was down */
    unsigned long overloaded;          /* calls refused: max_pending reached */
    unsigned long discoveries;         /* discovery calls that got an answer */
    unsigned long disco_iqs_sent;      /* disco#items and disco#info IQs written */
    unsigned long notices_queued, notices_sent, notices_dropped;
    /* The last XCLIENT_SAMPLES values (a ring; *_count counts them all):
     * verify round trips, and how long a request waited in the queue before
     * the XMPP thread picked it up, both in microseconds. */
    unsigned long rtt_count, pickup_count;
    uint32_t rtt_us[XCLIENT_SAMPLES];
    uint32_t pickup_us[XCLIENT_SAMPLES];
};

struct xclient;

/*
 * Checks the options, reads the password, creates the XMPP thread (with
 * SIGHUP, SIGTERM, SIGINT, SIGUSR1 and SIGPIPE blocked in it) and starts
 * connecting.  XSMTP_EMALFORMED: bad option; XSMTP_EPERM / XSMTP_EIO: the
 * password file; XSMTP_ENOMEM.  err (may be NULL) gets a one-line reason
 * without secrets.
 */
xsmtp_status xclient_start(const struct xclient_options *options, struct xclient **out, char *err,
                           size_t errsz);

/* Fails every pending request at once, closes the stream, joins, frees. */
void xclient_stop(struct xclient *client);

/* Waits until a session is up: XSMTP_OK, or XSMTP_EIO at the deadline. */
xsmtp_status xclient_wait_connected(struct xclient *client, const struct timespec *deadline);

/*
 * Sends the s6 query to component_jid (a domain JID, compared without
 * case) and waits for the answer or the deadline.  XSMTP_OK: answer holds
 * the s7 class (temperror "timeout", "disconnected", "overloaded"
 * included).  XSMTP_EMALFORMED: a value is missing or unusable, nothing was
 * sent, answer is permerror "bad-query".  XSMTP_ENOMEM: answer is
 * temperror "internal-error".
 */
xsmtp_status xclient_verify(struct xclient *client, const char *component_jid,
                            const struct xsmtp_query *query, const struct timespec *deadline,
                            struct xclient_answer *answer);

/*
 * XSMTP-1 s5 step 3: disco#items to domain, then disco#info to its items
 * (at most 20, in order; only items whose jid is a plain domain and that
 * carry no node); the first whose features include urn:xmpp:xsmtp:1 wins.
 * Items whose disco#info fails are skipped; when no item qualifies and one
 * of them failed temporarily the outcome is TEMPFAIL, not NONE.
 * XSMTP_OK with the outcome in answer; XSMTP_EMALFORMED for a bad domain.
 */
xsmtp_status xclient_discover(struct xclient *client, const char *domain,
                              const struct timespec *deadline, struct xclient_discovery *answer);

/*
 * Queues an s8 notice without waiting.  XSMTP_OK: queued; XSMTP_ETOOBIG:
 * queue full; XSMTP_EIO: the stream is down.  Both drop it and count it.
 * XSMTP_EMALFORMED: a value is unusable.
 */
xsmtp_status xclient_send_notice(struct xclient *client, const char *component_jid,
                                 const struct xclient_notice *notice);

/* A consistent copy of the counters. */
xsmtp_status xclient_get_stats(struct xclient *client, struct xclient_stats *out);

/*
 * The p-th percentile (0..100) of the samples in a ring of the stats
 * (count = rtt_count or pickup_count; only the last XCLIENT_SAMPLES
 * are kept).  0 when there are none.
 */
uint32_t xclient_percentile(const uint32_t *ring, unsigned long count, double p);

#endif
