/*
 * client_conn.c -- the XMPP client's connection: libstrophe set-up,
 * connect, TLS policy, reconnect with backoff, and the thread's wait.
 *
 * One xmpp_conn_t lives as long as the client; after any fault it is
 * connected again through xmpp_connect_client after 1, 2, 4, ... seconds
 * (at most backoff_max_s); a session resets the delay.  Flags: stream
 * management off (see client.c); tls = required sets
 * XMPP_CONN_FLAG_MANDATORY_TLS, so with a server that offers no STARTTLS
 * the attempt ends before any authentication (never a login in clear).
 *
 * Waiting: libstrophe has no wake-up call and its own select() cannot
 * see our queue, so the thread runs
 * xmpp_run_once(ctx, 0) and then waits in poll() on the stream's socket
 * (captured by the sockopt callback) and the client's eventfd.  POLLOUT
 * only while libstrophe has bytes queued.  The wait is capped because
 * some events are invisible to poll(): records already decrypted inside
 * OpenSSL, libstrophe's own timers, TCP connect completion while
 * connecting.  After a round that delivered stanzas the thread does not
 * wait at all: more may be buffered.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <syslog.h>

#include "xmpp/client/client_internal.h"

/* Wait caps in milliseconds. */
#define WAIT_CAP_TLS_MS 2
#define WAIT_CAP_PLAIN_MS 20
#define WAIT_CAP_CONNECTING_MS 1
#define WAIT_CAP_DOWN_MS 100

/*
 * The sockopt callback gets the connection but no user data; each client's
 * sockets are created on its own XMPP thread, so the thread's client is
 * found here.
 */
static _Thread_local struct xclient *thread_client;

static pthread_once_t strophe_once = PTHREAD_ONCE_INIT;

static void
strophe_initialize(void)
{
    xmpp_initialize();
}

static void
libstrophe_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
    struct xclient *client = userdata;

    /* Debug and info lines carry whole stanzas, SASL exchanges included. */
    if (level >= XMPP_LEVEL_WARN)
        xsmtp_log(&client->logger, level == XMPP_LEVEL_ERROR ? LOG_ERR : LOG_WARNING,
                  "xmpp: libstrophe %s: %.200s", area, msg);
}

static int
capture_socket(xmpp_conn_t *conn, void *sock)
{
    struct xclient *client = thread_client;
    const struct xsmtp_logger *logger = client != NULL ? &client->logger : NULL;
    int fd = *(int *)sock, on = 1;

    /* libstrophe select()s on it: an fd past FD_SETSIZE would abort the
     * process.  Refuse the socket instead. */
    if (fd < 0 || fd >= FD_SETSIZE) {
        xsmtp_log(logger, LOG_ERR,
                  "xmpp: socket descriptor %d is beyond select()'s limit %d: "
                  "attempt refused (start the client earlier, or lower the number of open "
                  "files)",
                  fd, FD_SETSIZE);
        return -1;
    }
    if (client != NULL)
        client->sock_fd = fd;
    /* Queries are small and latency-bound: no Nagle delay behind an
     * unacknowledged one. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
        xsmtp_log(logger, LOG_WARNING, "xmpp: TCP_NODELAY: %s", strerror(errno));
    return xmpp_sockopt_cb_keepalive(conn, sock);
}

/* Every stanza passes here first: the wait logic and the keep-alive
 * need to know that something arrived. */
static int
stanza_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct xclient *client = userdata;
    const char *name = xmpp_stanza_get_name(stanza);

    client->stanzas_seen++;
    client->last_rx_ns = xclient_now_ns();
    if (name != NULL && strcmp(name, "iq") == 0)
        return xclient_iq_handler(conn, stanza, userdata);
    return 1;
}

static void
set_link_up(struct xclient *client, bool up, bool was_connected)
{
    pthread_mutex_lock(&client->lock);
    client->link_up = up;
    if (up) {
        client->stats.connects++;
        pthread_cond_broadcast(&client->state_cond);
    } else if (was_connected) {
        client->stats.disconnects++;
    } else {
        client->stats.connect_failures++;
    }
    pthread_mutex_unlock(&client->lock);
}

static void
schedule_retry(struct xclient *client, uint64_t now)
{
    client->link = LINK_WAITING;
    client->next_attempt_ns = now + (uint64_t)client->backoff_s * 1000000000ULL;
    xsmtp_log(&client->logger, LOG_NOTICE, "xmpp: next connection attempt in %u s",
              client->backoff_s);
    client->backoff_s = client->backoff_s * 2 > client->backoff_max_s ? client->backoff_max_s
                                                                      : client->backoff_s * 2;
}

static void
conn_event(xmpp_conn_t *conn, xmpp_conn_event_t event, int error, xmpp_stream_error_t *stream_error,
           void *userdata)
{
    struct xclient *client = userdata;
    uint64_t now = xclient_now_ns();
    bool was_connected = client->link == LINK_CONNECTED || client->link == LINK_CLOSING;

    if (event == XMPP_CONN_CONNECT) {
        client->link = LINK_CONNECTED;
        client->backoff_s = 1;
        client->last_rx_ns = now;
        xsmtp_log(&client->logger, LOG_NOTICE, "xmpp: connected as %s, %s, after %.1f ms",
                  xmpp_conn_get_bound_jid(conn) != NULL ? xmpp_conn_get_bound_jid(conn)
                                                        : client->jid,
                  xmpp_conn_is_secured(conn) ? "TLS" : "no TLS",
                  (double)(now - client->connecting_since_ns) / 1e6);
        if (client->down_since_ns != 0)
            xsmtp_log(&client->logger, LOG_NOTICE, "xmpp: stream was down for %.1f s",
                      (double)(now - client->down_since_ns) / 1e9);
        client->down_since_ns = 0;
        set_link_up(client, true, false);
        return;
    }
    client->sock_fd = -1; /* closed by libstrophe; the number may be reused */
    if (client->closing) {
        client->link = LINK_WAITING;
        pthread_mutex_lock(&client->lock);
        client->link_up = false;
        pthread_mutex_unlock(&client->lock);
        return;
    }
    if (stream_error != NULL && stream_error->type == XMPP_SE_CONFLICT)
        /* Prosody logs the older session out when the same full JID logs in
         * again: two processes sharing a resource would take turns forever. */
        xsmtp_log(&client->logger, LOG_ERR,
                  "xmpp: the server closed the stream: another session logged in as "
                  "%s; every milter process needs its own resource in xmpp.jid",
                  client->jid);
    else if (was_connected)
        xsmtp_log(&client->logger, LOG_WARNING, "xmpp: connection lost%s%s%s",
                  error != 0 ? ": " : "", error != 0 ? strerror(error) : "",
                  stream_error != NULL ? " (stream error from the server)" : "");
    else
        /* Refused, bad password, no STARTTLS under tls = required and a bad
         * certificate all end here alike: libstrophe reports error 0. */
        xsmtp_log(&client->logger, LOG_WARNING,
                  "xmpp: cannot connect as %s%s%s%s: check the lines before, "
                  "xmpp.server/port, the password, TLS settings and the server's log",
                  client->jid, error != 0 ? " (" : "", error != 0 ? strerror(error) : "",
                  error != 0 ? ")" : "");
    if (client->down_since_ns == 0)
        client->down_since_ns = now;
    client->link = LINK_WAITING;
    set_link_up(client, false, was_connected);
    xclient_map_remove(&client->map, &client->ping_iq);
    xclient_query_fail_all(client, XCLIENT_FAILURE_DISCONNECTED);
    schedule_retry(client, now);
}

xsmtp_status
xclient_conn_init(struct xclient *client, const char *password)
{
    pthread_once(&strophe_once, strophe_initialize);
    client->strophe_logger.handler = libstrophe_log;
    client->strophe_logger.userdata = client;
    client->ctx = xmpp_ctx_new(NULL, &client->strophe_logger);
    if (client->ctx == NULL)
        return XSMTP_ENOMEM;
    client->conn = xmpp_conn_new(client->ctx);
    if (client->conn == NULL)
        return XSMTP_ENOMEM;
    if (xmpp_conn_set_flags(client->conn, client->conn_flags) != XMPP_EOK)
        return XSMTP_EMALFORMED;
    xmpp_conn_set_jid(client->conn, client->jid);
    xmpp_conn_set_pass(client->conn, password);
    if (xmpp_conn_get_jid(client->conn) == NULL || xmpp_conn_get_pass(client->conn) == NULL)
        return XSMTP_ENOMEM;
    if (client->ca_file != NULL)
        xmpp_conn_set_cafile(client->conn, client->ca_file);
    xmpp_conn_set_sockopt_callback(client->conn, capture_socket);
    /* One permanent handler for everything; libstrophe keeps it across
     * reconnects.  No per-id handlers (see client_map.h). */
    xmpp_handler_add(client->conn, stanza_handler, NULL, NULL, NULL, client);
    client->link = LINK_WAITING;
    client->backoff_s = 1;
    client->next_attempt_ns = 0;
    client->ping_iq.owner = NULL;
    client->ping_iq.slot = -2;
    client->ping_iq.to = client->domain;
    return XSMTP_OK;
}

void
xclient_conn_free(struct xclient *client)
{
    if (client->conn != NULL)
        xmpp_conn_release(client->conn);
    if (client->ctx != NULL)
        xmpp_ctx_free(client->ctx);
    client->conn = NULL;
    client->ctx = NULL;
}

static void
try_connect(struct xclient *client, uint64_t now)
{
    int rc;

    thread_client = client;
    client->connecting_since_ns = now;
    client->link = LINK_CONNECTING;
    rc = xmpp_connect_client(client->conn, client->server, (unsigned short)client->port, conn_event,
                             client);
    if (rc != XMPP_EOK) {
        xsmtp_log(&client->logger, LOG_WARNING,
                  "xmpp: cannot start a connection to %s:%u (libstrophe %d)",
                  client->server != NULL ? client->server : "(SRV)", client->port, rc);
        if (client->down_since_ns == 0)
            client->down_since_ns = now;
        set_link_up(client, false, false);
        schedule_retry(client, now);
    }
}

void
xclient_conn_maintain(struct xclient *client, uint64_t now)
{
    if (client->link == LINK_WAITING && now >= client->next_attempt_ns) {
        try_connect(client, now);
    } else if ((client->link == LINK_CONNECTING || client->link == LINK_CLOSING) &&
               now - client->connecting_since_ns >
                   (uint64_t)XCLIENT_HANDSHAKE_TIMEOUT_S * 1000000000ULL) {
        xsmtp_log(&client->logger, LOG_WARNING,
                  "xmpp: no session after %d s: giving up this attempt",
                  XCLIENT_HANDSHAKE_TIMEOUT_S);
        client->connecting_since_ns = now;
        xmpp_disconnect(client->conn);
    }
}

void
xclient_conn_wait(struct xclient *client, uint64_t now, unsigned long seen_before)
{
    struct pollfd fds[2];
    unsigned long cap;
    nfds_t count = 1;

    if (client->stanzas_seen != seen_before)
        return;
    if (client->link == LINK_WAITING) {
        cap = WAIT_CAP_DOWN_MS;
        if (client->next_attempt_ns > now && (client->next_attempt_ns - now) / 1000000 < cap)
            cap = (unsigned long)((client->next_attempt_ns - now) / 1000000) + 1;
    } else if (client->link != LINK_CONNECTED) {
        cap = WAIT_CAP_CONNECTING_MS;
    } else {
        cap = xmpp_conn_is_secured(client->conn) ? WAIT_CAP_TLS_MS : WAIT_CAP_PLAIN_MS;
    }
    fds[0].fd = client->wake_fd;
    fds[0].events = POLLIN;
    if (client->sock_fd >= 0) {
        fds[1].fd = client->sock_fd;
        fds[1].events = POLLIN;
        if (xmpp_conn_send_queue_len(client->conn) > 0)
            fds[1].events |= POLLOUT;
        count = 2;
    }
    if (poll(fds, count, (int)cap) < 0 && errno != EINTR)
        xsmtp_log(&client->logger, LOG_ERR, "xmpp: poll: %s", strerror(errno));
}

void
xclient_conn_declare_dead(struct xclient *client, const char *why)
{
    xsmtp_log(&client->logger, LOG_WARNING, "xmpp: %s: closing the stream and reconnecting", why);
    /* libstrophe waits up to 2 s for the server's </stream:stream> before it
     * reports the disconnection; nobody should wait for that. */
    client->link = LINK_CLOSING;
    client->connecting_since_ns = xclient_now_ns(); /* the watchdog covers closing too */
    pthread_mutex_lock(&client->lock);
    client->link_up = false;
    pthread_mutex_unlock(&client->lock);
    xclient_map_remove(&client->map, &client->ping_iq);
    xclient_query_fail_all(client, XCLIENT_FAILURE_DISCONNECTED);
    xmpp_disconnect(client->conn);
}

void
xclient_conn_shutdown(struct xclient *client)
{
    uint64_t give_up = xclient_now_ns() + 2000000000ULL;

    client->closing = true;
    xclient_query_fail_all(client, XCLIENT_FAILURE_DISCONNECTED);
    if (client->link == LINK_WAITING)
        return;
    xmpp_disconnect(client->conn);
    /* The closing </stream:stream> exchange; libstrophe gives up after 2 s too. */
    while (client->link != LINK_WAITING && xclient_now_ns() < give_up)
        xmpp_run_once(client->ctx, 10);
    xsmtp_log(&client->logger, LOG_INFO, "xmpp: client %s stopped", client->jid);
}
