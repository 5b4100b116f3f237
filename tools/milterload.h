/*
 * milterload.h -- shared types of tools/milterload, a load generator that
 * speaks the milter protocol (version 6) straight to a milter socket.
 *
 * The program is split by job:
 *   milterload.c         options, the epoll loop, the pre-signed file writer
 *   milterload_conn.c    one state machine per milter connection
 *   milterload_wire.c    packet encoding and decoding (the MTA's side)
 *   milterload_msg.c     the messages: headers, bodies, body hashes
 *   milterload_signed.c  the file of pre-signed messages and the XSMTP-1 s3
 *                        MAC, computed with OpenSSL alone (not with the
 *                        project's code: the tool checks that code)
 *   milterload_check.c   what a correct reply to each message is
 *   milterload_stats.c   latencies, reply counts, the milter's RSS and CPU,
 *                        the table and the JSON
 */
#ifndef XSMTP_MILTERLOAD_H
#define XSMTP_MILTERLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* ---- byte buffers and milter packets (milterload_wire.c) ------------------ */

/* Largest packet accepted from a milter (libmilter's 1 MiB data limit). */
#define ML_PACKET_MAX (1024 * 1024 + 1)

struct ml_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
};

bool ml_buf_reserve(struct ml_buf *buf, size_t more);
void ml_buf_free(struct ml_buf *buf);
/* Starts a packet with command cmd; returns its offset for ml_packet_end. */
bool ml_packet_begin(struct ml_buf *buf, char cmd, size_t *start);
bool ml_put_bytes(struct ml_buf *buf, const void *data, size_t len);
bool ml_put_string(struct ml_buf *buf, const char *text); /* with its NUL */
bool ml_put_u32(struct ml_buf *buf, uint32_t value);
bool ml_put_u16(struct ml_buf *buf, uint16_t value);
void ml_packet_end(struct ml_buf *buf, size_t start);

/* A macro packet ('D') for stage cmd; names and values alternate. */
bool ml_put_macros(struct ml_buf *buf, char stage, const char *const *pairs, size_t count);

/*
 * One packet at the front of data.  Returns the bytes it takes (> 0), 0
 * when more bytes are needed, -1 when the length is impossible.
 */
long ml_packet_parse(const unsigned char *data, size_t avail, char *cmd,
                     const unsigned char **payload, size_t *payload_len);
uint32_t ml_get_u32(const unsigned char *p);

/* The protocol bits we offer in OPTNEG: everything an MTA of v6 knows. */
#define ML_OFFER_ACTIONS 0x000001FFUL
#define ML_OFFER_PROTOCOL 0x001FFFFFUL

/* ---- messages (milterload_msg.c, milterload_signed.c) ---------------------- */

#define ML_BODY_SIZE 4096
#define ML_BODY_POOL 64
#define ML_B64_SHA256 44
#define ML_HEADERS_MAX 20
#define ML_TEXT_MAX 256

/* One pre-signed message: the XSMTP-1 s6 attribute values and a body. */
struct ml_signed {
    char identity[ML_TEXT_MAX];
    char msgid[ML_TEXT_MAX]; /* extracted, without <> */
    char from[ML_TEXT_MAX];  /* the address */
    char t[16];
    char ip[48];
    char k[72];
    char bh[ML_B64_SHA256 + 1];
    char h[ML_B64_SHA256 + 1];
    unsigned body_index;
};

struct ml_signed_list {
    struct ml_signed *items;
    size_t count;
};

/* A key for making or checking MACs: "ID:BASE64-SECRET". */
struct ml_key {
    char id[72];
    unsigned char secret[256];
    size_t secret_len;
};

bool ml_key_parse(const char *spec, struct ml_key *key, char *err, size_t errsz);
/* XSMTP-1 s3: base64 HMAC-SHA256 of the canonical text of s. */
bool ml_mac(const struct ml_key *key, const char *identity, const char *msgid, const char *from,
            const char *t, const char *ip, const char *bh, const char *k,
            char out[ML_B64_SHA256 + 1]);
bool ml_signed_load(const char *path, struct ml_signed_list *list, char *err, size_t errsz);
void ml_signed_free(struct ml_signed_list *list);
bool ml_signed_write_line(FILE *out, const struct ml_signed *item);

struct ml_body {
    unsigned char data[ML_BODY_SIZE];
    char bh[ML_B64_SHA256 + 1]; /* base64 SHA-256: the body is relaxed-canonical */
};

struct ml_corpus {
    struct ml_body *bodies;                   /* ML_BODY_POOL of them */
    const struct ml_signed_list *signed_list; /* NULL: no X-XMPP-* headers */
    const char *domain;                       /* sender domain of generated messages */
    const char *tag;                          /* makes Message-IDs unique per run */
    unsigned users;                           /* distinct senders user0..user<users-1> */
};

struct ml_header {
    const char *name;
    const char *value;
};

/* One message, built into its own storage (no allocation per message). */
struct ml_message {
    unsigned long index;
    struct ml_header headers[ML_HEADERS_MAX];
    size_t header_count;
    const struct ml_body *body;
    const struct ml_signed *signed_item; /* NULL: generated, unsigned */
    char envelope_from[ML_TEXT_MAX + 2]; /* with <> */
    char from_address[ML_TEXT_MAX];      /* lowercased: the identity a signer picks */
    char msgid[ML_TEXT_MAX];             /* without <> */
    char queue_id[32];
    char storage[4096];
    size_t used;
};

bool ml_corpus_init(struct ml_corpus *corpus, const char *domain, const char *tag, unsigned users,
                    const struct ml_signed_list *signed_list);
void ml_corpus_free(struct ml_corpus *corpus);
bool ml_message_build(const struct ml_corpus *corpus, unsigned long index,
                      struct ml_message *message);
/* Fills item with message index's facts and a MAC made with key. */
bool ml_signed_make(const struct ml_corpus *corpus, const struct ml_key *key, unsigned long index,
                    const char *ip, long long now, struct ml_signed *item);

/* ---- checking replies (milterload_check.c) --------------------------------- */

enum ml_expect_kind {
    ML_EXPECT_ANY,    /* any modifications; final accept or continue */
    ML_EXPECT_NOOP,   /* exactly: add X-Milterload-Noop */
    ML_EXPECT_SIGN,   /* exactly: insert X-XMPP-Hash, insert X-XMPP-Identity */
    ML_EXPECT_VERIFY, /* exactly: insert X-XSMTP-Verdict and Authentication-Results */
    ML_EXPECT_DKIM,   /* exactly: one DKIM-Signature */
    ML_EXPECT_NONE    /* no modification at all */
};

struct ml_expect {
    enum ml_expect_kind kind;
    char verdict[16];         /* ML_EXPECT_VERIFY: the verdict word */
    const struct ml_key *key; /* ML_EXPECT_SIGN: check h= too (NULL: not) */
    const char *sign_ip;      /* ML_EXPECT_SIGN: the ip= to expect */
    const char *dkim_domain;  /* ML_EXPECT_DKIM: d= */
};

#define ML_ACTIONS_MAX 16
#define ML_ACTION_TEXT 1024

struct ml_action {
    char code;
    uint32_t index;
    char name[128];
    char value[ML_ACTION_TEXT];
    bool truncated;
};

/* One modification the milter sent before its final reply (SMFIR_ADDHEADER,
 * _INSHEADER, _CHGHEADER, ...); false when its payload is malformed. */
bool ml_action_parse(char code, const unsigned char *payload, size_t len, struct ml_action *action);

bool ml_expect_parse(const char *spec, struct ml_expect *expect, char *err, size_t errsz);
/* true when the end-of-message answer is right; else why in err. */
bool ml_expect_check(const struct ml_expect *expect, const struct ml_message *message,
                     const struct ml_action *actions, size_t action_count, char final, char *err,
                     size_t errsz);

/* ---- statistics (milterload_stats.c) --------------------------------------- */

/* Reply kinds counted, by code. */
#define ML_REPLY_CODES "cashimlqprtdy+-2ebfO"

struct ml_proc_sample {
    bool ok;
    long vm_hwm_kib;
    long vm_rss_kib;
    double cpu_seconds;  /* utime + stime */
    double user_seconds; /* utime alone: our code, not the kernel's */
    long threads;
};

struct ml_stats {
    unsigned long planned;
    unsigned long done; /* messages that ended (correctly or not) */
    unsigned long ok;
    unsigned long errors;
    unsigned long connections;
    unsigned long connect_retries;
    unsigned long replies[sizeof ML_REPLY_CODES]; /* last slot: other codes */
    uint32_t *latency_us;                         /* whole conversation of each correct message */
    uint32_t *eom_us;                             /* end of message to final reply */
    unsigned long samples;
    double seconds;
    double driver_cpu_seconds;
    struct ml_proc_sample milter_before;
    struct ml_proc_sample milter_after;
};

bool ml_stats_init(struct ml_stats *stats, unsigned long planned);
void ml_stats_free(struct ml_stats *stats);
void ml_stats_reply(struct ml_stats *stats, char code);
void ml_stats_sample(struct ml_stats *stats, uint32_t latency_us, uint32_t eom_us);
bool ml_proc_read(pid_t pid, struct ml_proc_sample *sample);

struct ml_report_info {
    const char *label;
    const char *socket;
    unsigned concurrency;
    unsigned per_conn;
    const char *expect;
    pid_t pid;
};

void ml_stats_print_table(struct ml_stats *stats, const struct ml_report_info *info, FILE *out);
bool ml_stats_write_json(struct ml_stats *stats, const struct ml_report_info *info, FILE *out);

/* ---- one run: the connections and their state machine (milterload_conn.c) -- */

struct ml_conn {
    int fd;                 /* -1: slot idle */
    int step;               /* the step whose reply we wait for (conn.c) */
    size_t header_next;     /* next header to send */
    uint32_t protocol;      /* negotiated SMFIP_* flags */
    unsigned messages_here; /* messages begun on this connection */
    bool message_open;
    bool connected;  /* connect() completed */
    bool want_write; /* EPOLLOUT registered */
    struct ml_buf out;
    size_t out_sent;
    struct ml_buf in;
    uint64_t message_start_ns;
    uint64_t eob_sent_ns;
    uint64_t deadline_ns;
    uint64_t retry_at_ns; /* connect to retry (backlog full); 0: none */
    struct ml_action actions[ML_ACTIONS_MAX];
    size_t action_count;
    bool too_many_actions;
    struct ml_message message;
};

struct ml_run {
    struct sockaddr_storage address;
    socklen_t address_len;
    unsigned long messages;
    unsigned concurrency;
    unsigned per_conn;
    const char *client_ip;
    const char *client_name;
    int client_family; /* AF_INET or AF_INET6 */
    const char *auth;  /* {auth_authen}; NULL: not authenticated */
    unsigned timeout_ms;
    bool nodelay;
    unsigned errors_shown_max;
    const struct ml_corpus *corpus;
    const struct ml_expect *expect;
    struct ml_stats *stats;
    int epoll_fd;
    unsigned long next_index; /* next message to hand out */
    unsigned errors_shown;
    unsigned active; /* connections open or waiting to retry */
    bool fatal;      /* a fault of the tool itself: stop */
    struct ml_conn *conns;
    struct ml_conn **idle; /* slots to restart (a stack of concurrency) */
    size_t idle_count;
};

uint64_t ml_now_ns(void);
/* Starts the next message on an idle slot; false when none is left (the
 * slot stays idle).  Called by the loop only. */
bool ml_conn_start(struct ml_run *run, struct ml_conn *conn);
void ml_conn_event(struct ml_run *run, struct ml_conn *conn, uint32_t events);
/* Deadlines and connect retries that fell due by now. */
void ml_conn_tick(struct ml_run *run, struct ml_conn *conn, uint64_t now);
void ml_conn_free(struct ml_conn *conn);

#endif
