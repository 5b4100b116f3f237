/*
 * milterload_conn.c -- one milter connection, driven as an MTA drives it.
 *
 * The conversation of one message: OPTNEG (first message only), CONNECT,
 * HELO, MAIL, RCPT, DATA, one HEADER per header, EOH, BODY, BODYEOB, each
 * preceded by its macros, skipped when the milter negotiated the step away
 * (SMFIP_NO*), and sent without waiting when it asked for no reply
 * (SMFIP_NR_*).  Like Postfix we wait for each reply before the next
 * command.  After the final reply the connection carries the next message
 * (from MAIL) or says QUIT, as --per-connection says.
 *
 * Everything is non-blocking: the epoll loop in milterload.c hands events
 * here, and a broken, late or wrong answer ends the message as an error
 * (counted and printed) and the connection with it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "tools/milterload.h"

/* clang-format off */
enum step {
    STEP_OPTNEG, STEP_CONNECT, STEP_HELO, STEP_MAIL, STEP_RCPT, STEP_DATA,
    STEP_HEADER, STEP_EOH, STEP_BODY, STEP_EOB,
};

static const char *const step_names[] = {
    "OPTNEG", "CONNECT", "HELO", "MAIL", "RCPT", "DATA", "HEADER", "EOH", "BODY", "BODYEOB",
};

/* Per step: the SMFIP_ bit that skips it and the one that drops its reply. */
static const uint32_t step_skip[] = {
    0, SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT, SMFIP_NODATA,
    SMFIP_NOHDRS, SMFIP_NOEOH, SMFIP_NOBODY, 0,
};
static const uint32_t step_noreply[] = {
    0, SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT, SMFIP_NR_DATA,
    SMFIP_NR_HDR, SMFIP_NR_EOH, SMFIP_NR_BODY, 0,
};
/* clang-format on */

uint64_t
ml_now_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void
conn_close(struct ml_run *run, struct ml_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd); /* leaves the epoll set with it */
    conn->fd = -1;
    conn->retry_at_ns = 0;
    conn->want_write = false;
    conn->out.len = conn->out_sent = 0;
    conn->in.len = 0;
    conn->message_open = false;
    conn->connected = false;
    run->active--;
    /* Restarted by the loop, not from here: no recursion through failures. */
    run->idle[run->idle_count++] = conn;
}

/* A message ends: correct or not, it is counted once. */
static void
message_end(struct ml_run *run, struct ml_conn *conn, bool ok, const char *why)
{
    uint64_t now = ml_now_ns();

    conn->message_open = false;
    run->stats->done++;
    if (ok) {
        uint64_t latency = (now - conn->message_start_ns) / 1000u;
        uint64_t eom = conn->eob_sent_ns != 0 ? (now - conn->eob_sent_ns) / 1000u : 0;

        run->stats->ok++;
        ml_stats_sample(run->stats, latency > UINT32_MAX ? UINT32_MAX : (uint32_t)latency,
                        eom > UINT32_MAX ? UINT32_MAX : (uint32_t)eom);
        return;
    }
    run->stats->errors++;
    if (run->errors_shown < run->errors_shown_max) {
        run->errors_shown++;
        fprintf(stderr, "milterload: error: message %lu (%s) at %s: %s\n", conn->message.index,
                conn->message.queue_id, step_names[conn->step], why);
    } else if (run->errors_shown == run->errors_shown_max) {
        run->errors_shown++;
        fprintf(stderr, "milterload: further errors are counted, not shown\n");
    }
}

/* The connection is beyond use: its message (if any) failed. */
static void
conn_fail(struct ml_run *run, struct ml_conn *conn, const char *why)
{
    if (conn->message_open)
        message_end(run, conn, false, why);
    conn_close(run, conn);
}

static void
set_events(struct ml_run *run, struct ml_conn *conn, bool want_write)
{
    struct epoll_event event = {
        .events = EPOLLIN | (want_write ? EPOLLOUT : 0u),
        .data.ptr = conn,
    };

    if (conn->want_write == want_write)
        return;
    if (epoll_ctl(run->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event) == 0)
        conn->want_write = want_write;
}

/* Writes what is queued; false when the connection broke (already failed). */
static bool
flush(struct ml_run *run, struct ml_conn *conn)
{
    while (conn->out_sent < conn->out.len) {
        ssize_t sent = send(conn->fd, conn->out.data + conn->out_sent,
                            conn->out.len - conn->out_sent, MSG_NOSIGNAL);

        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(run, conn, true);
            return true;
        }
        if (sent <= 0) {
            conn_fail(run, conn, "write failed");
            return false;
        }
        conn->out_sent += (size_t)sent;
    }
    conn->out.len = conn->out_sent = 0;
    set_events(run, conn, false);
    return true;
}

/* Takes the next message for this connection; false when none is left. */
static bool
message_begin(struct ml_run *run, struct ml_conn *conn)
{
    if (run->next_index >= run->messages)
        return false;
    if (!ml_message_build(run->corpus, run->next_index, &conn->message)) {
        fprintf(stderr, "milterload: cannot build message %lu\n", run->next_index);
        run->fatal = true;
        return false;
    }
    run->next_index++;
    conn->messages_here++;
    conn->message_open = true;
    conn->message_start_ns = ml_now_ns();
    conn->eob_sent_ns = 0;
    conn->action_count = 0;
    conn->too_many_actions = false;
    conn->header_next = 0;
    return true;
}

static bool
put_connect(struct ml_run *run, struct ml_conn *conn)
{
    char client[300], port_text[8];
    const char *macros[] = {
        "j",
        "mx.milterload.test",
        "{daemon_name}",
        "milterload",
        "v",
        "Postfix 3.7 (milterload)",
        "_",
        client,
        "{client_addr}",
        run->client_ip,
        "{client_port}",
        port_text,
    };
    uint16_t port = (uint16_t)(40000u + conn->message.index % 20000u);
    size_t start;

    snprintf(client, sizeof client, "%s [%s]", run->client_name, run->client_ip);
    snprintf(port_text, sizeof port_text, "%u", (unsigned)port);
    return ml_put_macros(&conn->out, SMFIC_CONNECT, macros, sizeof macros / sizeof macros[0]) &&
           ml_packet_begin(&conn->out, SMFIC_CONNECT, &start) &&
           ml_put_string(&conn->out, run->client_name) &&
           ml_put_bytes(&conn->out, run->client_family == AF_INET6 ? "6" : "4", 1) &&
           ml_put_u16(&conn->out, port) && ml_put_string(&conn->out, run->client_ip) &&
           (ml_packet_end(&conn->out, start), true);
}

static bool
put_simple(struct ml_buf *out, char cmd, const char *arg)
{
    size_t start;

    if (!ml_packet_begin(out, cmd, &start))
        return false;
    if (arg != NULL && !ml_put_string(out, arg))
        return false;
    ml_packet_end(out, start);
    return true;
}

static bool
put_mail(struct ml_run *run, struct ml_conn *conn)
{
    const char *macros[10] = {
        "i",    conn->message.queue_id, "{mail_addr}", conn->message.from_address, "{mail_mailer}",
        "smtp",
    };
    size_t count = 6;

    if (run->auth != NULL) {
        macros[count++] = "{auth_type}";
        macros[count++] = "PLAIN";
        macros[count++] = "{auth_authen}";
        macros[count++] = run->auth;
    }
    return ml_put_macros(&conn->out, SMFIC_MAIL, macros, count) &&
           put_simple(&conn->out, SMFIC_MAIL, conn->message.envelope_from);
}

static bool
put_header(struct ml_conn *conn)
{
    const struct ml_header *header = &conn->message.headers[conn->header_next++];
    size_t start;

    return ml_packet_begin(&conn->out, SMFIC_HEADER, &start) &&
           ml_put_string(&conn->out, header->name) &&
           ((conn->protocol & SMFIP_HDR_LEADSPC) == 0 || ml_put_bytes(&conn->out, " ", 1)) &&
           ml_put_string(&conn->out, header->value) && (ml_packet_end(&conn->out, start), true);
}

static bool
put_body(struct ml_conn *conn)
{
    size_t start;

    return ml_packet_begin(&conn->out, SMFIC_BODY, &start) &&
           ml_put_bytes(&conn->out, conn->message.body->data, ML_BODY_SIZE) &&
           (ml_packet_end(&conn->out, start), true);
}

static int
step_after(const struct ml_conn *conn, int step)
{
    if (step == STEP_HEADER && conn->header_next < conn->message.header_count)
        return STEP_HEADER;
    return step + 1;
}

static bool
put_step(struct ml_run *run, struct ml_conn *conn, int step)
{
    const char *eob_macros[] = {"i", conn->message.queue_id};
    const char *rcpt_macros[] = {"{rcpt_addr}", "bob@b.test", "{rcpt_mailer}", "smtp"};

    switch (step) {
    case STEP_CONNECT: return put_connect(run, conn);
    case STEP_HELO: return put_simple(&conn->out, SMFIC_HELO, run->client_name);
    case STEP_MAIL: return put_mail(run, conn);
    case STEP_RCPT:
        return ml_put_macros(&conn->out, SMFIC_RCPT, rcpt_macros, 4) &&
               put_simple(&conn->out, SMFIC_RCPT, "<bob@b.test>");
    case STEP_DATA: return put_simple(&conn->out, SMFIC_DATA, NULL);
    case STEP_HEADER: return put_header(conn);
    case STEP_EOH: return put_simple(&conn->out, SMFIC_EOH, NULL);
    case STEP_BODY: return put_body(conn);
    case STEP_EOB:
        conn->eob_sent_ns = ml_now_ns();
        return ml_put_macros(&conn->out, SMFIC_BODYEOB, eob_macros, 2) &&
               put_simple(&conn->out, SMFIC_BODYEOB, NULL);
    }
    return false;
}

/*
 * Queues steps after conn->step up to the next one that wants a reply,
 * then writes them in one go.
 */
static void
send_next(struct ml_run *run, struct ml_conn *conn)
{
    int step = conn->step;

    for (;;) {
        step = step_after(conn, step);
        if ((conn->protocol & step_skip[step]) != 0) {
            if (step == STEP_HEADER)
                conn->header_next = conn->message.header_count;
            continue;
        }
        if (step == STEP_HEADER && conn->message.header_count == 0)
            continue;
        conn->step = step;
        if (!put_step(run, conn, step)) {
            conn_fail(run, conn, "out of memory");
            return;
        }
        if ((conn->protocol & step_noreply[step]) == 0)
            break;
    }
    conn->deadline_ns = ml_now_ns() + (uint64_t)run->timeout_ms * 1000000u;
    (void)flush(run, conn);
}

/* After a final reply: the next message here, or QUIT. */
static void
after_message(struct ml_run *run, struct ml_conn *conn, char final)
{
    if (final != SMFIR_CONN_FAIL && final != SMFIR_SHUTDOWN &&
        conn->messages_here < run->per_conn && message_begin(run, conn)) {
        conn->step = STEP_HELO; /* the next step is MAIL */
        send_next(run, conn);
        return;
    }
    if (put_simple(&conn->out, SMFIC_QUIT, NULL))
        (void)send(conn->fd, conn->out.data, conn->out.len, MSG_NOSIGNAL);
    conn_close(run, conn);
}

static bool
record_action(struct ml_conn *conn, char code, const unsigned char *payload, size_t len)
{
    if (conn->action_count == ML_ACTIONS_MAX) {
        conn->too_many_actions = true;
        return true;
    }
    return ml_action_parse(code, payload, len, &conn->actions[conn->action_count++]);
}

static void
on_optneg(struct ml_run *run, struct ml_conn *conn, char code, const unsigned char *payload,
          size_t len)
{
    uint32_t version;

    if (code != SMFIC_OPTNEG || len < 12) {
        conn_fail(run, conn, "bad OPTNEG reply");
        return;
    }
    version = ml_get_u32(payload);
    if (version < 2 || version > SMFI_PROT_VERSION) {
        conn_fail(run, conn, "unsupported milter protocol version");
        return;
    }
    /* Macro lists may follow (smfi_setsymlist); we send our macros anyway. */
    conn->protocol = ml_get_u32(payload + 8) & (uint32_t)ML_OFFER_PROTOCOL;
    send_next(run, conn);
}

static bool
is_final(char code)
{
    return code == SMFIR_ACCEPT || code == SMFIR_CONTINUE || code == SMFIR_REJECT ||
           code == SMFIR_TEMPFAIL || code == SMFIR_DISCARD || code == SMFIR_REPLYCODE ||
           code == SMFIR_CONN_FAIL || code == SMFIR_SHUTDOWN;
}

static void
on_eob_reply(struct ml_run *run, struct ml_conn *conn, char code, const unsigned char *payload,
             size_t len)
{
    char why[ML_ACTION_TEXT + 128];
    bool ok;

    if (!is_final(code)) {
        if (!record_action(conn, code, payload, len))
            conn_fail(run, conn, "malformed header change");
        return;
    }
    if (conn->too_many_actions) {
        snprintf(why, sizeof why, "more than %d modifications", ML_ACTIONS_MAX);
        ok = false;
    } else {
        ok = ml_expect_check(run->expect, &conn->message, conn->actions, conn->action_count, code,
                             why, sizeof why);
    }
    message_end(run, conn, ok, why);
    after_message(run, conn, code);
}

static void
on_packet(struct ml_run *run, struct ml_conn *conn, char code, const unsigned char *payload,
          size_t len)
{
    char why[96];

    ml_stats_reply(run->stats, code);
    if (conn->step == STEP_OPTNEG) {
        on_optneg(run, conn, code, payload, len);
        return;
    }
    if (code == SMFIR_PROGRESS) {
        conn->deadline_ns = ml_now_ns() + (uint64_t)run->timeout_ms * 1000000u;
        return;
    }
    if (!conn->message_open) {
        conn_fail(run, conn, "reply when none was asked for");
        return;
    }
    if (conn->step == STEP_EOB) {
        on_eob_reply(run, conn, code, payload, len);
        return;
    }
    if (code == SMFIR_CONTINUE || (code == SMFIR_SKIP && conn->step == STEP_BODY)) {
        send_next(run, conn);
        return;
    }
    if (is_final(code)) {
        /* An early verdict is only right when any answer is. */
        bool ok = run->expect->kind == ML_EXPECT_ANY && code == SMFIR_ACCEPT;

        snprintf(why, sizeof why, "early final reply '%c'", code);
        message_end(run, conn, ok, why);
        after_message(run, conn, code);
        return;
    }
    snprintf(why, sizeof why, "unexpected reply '%c' (0x%02x)", code, (unsigned char)code);
    conn_fail(run, conn, why);
}

static void
on_readable(struct ml_run *run, struct ml_conn *conn)
{
    int fd = conn->fd;

    for (;;) {
        ssize_t got;
        size_t used = 0;

        if (!ml_buf_reserve(&conn->in, 16384)) {
            conn_fail(run, conn, "out of memory");
            return;
        }
        got = read(fd, conn->in.data + conn->in.len, conn->in.cap - conn->in.len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0) {
            conn_fail(run, conn, got == 0 ? "milter closed the connection" : "read failed");
            return;
        }
        conn->in.len += (size_t)got;
        while (conn->fd == fd) {
            const unsigned char *payload;
            size_t payload_len;
            char code;
            long taken = ml_packet_parse(conn->in.data + used, conn->in.len - used, &code, &payload,
                                         &payload_len);

            if (taken < 0) {
                conn_fail(run, conn, "impossible packet length");
                return;
            }
            if (taken == 0)
                break;
            used += (size_t)taken;
            on_packet(run, conn, code, payload, payload_len);
        }
        /* The slot may now hold a new connection with an empty buffer. */
        if (conn->fd != fd)
            return;
        memmove(conn->in.data, conn->in.data + used, conn->in.len - used);
        conn->in.len -= used;
    }
}

static void
on_connected(struct ml_run *run, struct ml_conn *conn)
{
    size_t start;

    conn->step = STEP_OPTNEG;
    conn->deadline_ns = ml_now_ns() + (uint64_t)run->timeout_ms * 1000000u;
    if (!ml_packet_begin(&conn->out, SMFIC_OPTNEG, &start) ||
        !ml_put_u32(&conn->out, SMFI_PROT_VERSION) || !ml_put_u32(&conn->out, ML_OFFER_ACTIONS) ||
        !ml_put_u32(&conn->out, ML_OFFER_PROTOCOL)) {
        conn_fail(run, conn, "out of memory");
        return;
    }
    ml_packet_end(&conn->out, start);
    (void)flush(run, conn);
}

/* One connect attempt for the message the slot holds. */
static void
conn_connect(struct ml_run *run, struct ml_conn *conn)
{
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.ptr = conn};
    int fd = socket(run->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;

    conn->retry_at_ns = 0;
    if (fd < 0) {
        conn_fail(run, conn, "socket() failed");
        return;
    }
    if (run->nodelay && run->address.ss_family != AF_UNIX)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    conn->fd = fd;
    conn->step = STEP_OPTNEG;
    conn->want_write = true;
    conn->deadline_ns = ml_now_ns() + (uint64_t)run->timeout_ms * 1000000u;
    if (connect(fd, (const struct sockaddr *)&run->address, run->address_len) < 0 &&
        errno != EINPROGRESS) {
        if (errno == EAGAIN) {
            /* A unix socket's backlog is full: try again in a moment. */
            close(fd);
            conn->fd = -1;
            run->stats->connect_retries++;
            conn->retry_at_ns = ml_now_ns() + 1000000u;
            return;
        }
        conn_fail(run, conn, strerror(errno));
        return;
    }
    run->stats->connections++;
    if (epoll_ctl(run->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
        conn_fail(run, conn, "epoll_ctl failed");
}

bool
ml_conn_start(struct ml_run *run, struct ml_conn *conn)
{
    conn->messages_here = 0;
    conn->protocol = 0;
    if (!message_begin(run, conn))
        return false;
    run->active++;
    conn_connect(run, conn);
    return true;
}

void
ml_conn_event(struct ml_run *run, struct ml_conn *conn, uint32_t events)
{
    if (conn->fd < 0)
        return;
    if (!conn->connected) {
        int error = 0;
        socklen_t size = sizeof error;

        if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0 || error != 0) {
            conn_fail(run, conn, error != 0 ? strerror(error) : "connect failed");
            return;
        }
        conn->connected = true;
        on_connected(run, conn);
        return;
    }
    if ((events & EPOLLOUT) != 0 && !flush(run, conn))
        return;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
        on_readable(run, conn);
}

void
ml_conn_tick(struct ml_run *run, struct ml_conn *conn, uint64_t now)
{
    char why[64];

    if (conn->fd < 0 && conn->retry_at_ns != 0 && now >= conn->retry_at_ns) {
        conn_connect(run, conn);
        return;
    }
    if (conn->fd >= 0 && now > conn->deadline_ns) {
        snprintf(why, sizeof why, "no reply within %u ms", run->timeout_ms);
        conn_fail(run, conn, why);
    }
}

void
ml_conn_free(struct ml_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd);
    conn->fd = -1;
    ml_buf_free(&conn->out);
    ml_buf_free(&conn->in);
}
