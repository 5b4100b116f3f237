/*
 * component_conn.c -- the XEP-0114 connection: connect, reconnect with
 * exponential backoff, and hand each incoming stanza to its part.
 *
 * One connection object lives for the whole process; after a network fault
 * it is connected again through xmpp_connect_component after 1, 2, 4, ...
 * seconds (at most COMPONENT_BACKOFF_MAX), so the process never exits on a
 * network problem.  Two permanent handlers (iq, message) are added once;
 * libstrophe keeps user handlers across reconnects.  Per-id handlers are
 * never used: libstrophe 0.12's leak memory with every IQ.
 *
 * libstrophe 0.12: a component connection crashes (on any stanza and on
 * disconnect) because its stream-management state is only allocated by
 * xmpp_connect_client.  Right
 * after the first xmpp_connect_component that returns XMPP_EOK we call
 * xmpp_connect_client once on the same object: it allocates that state and
 * returns XMPP_EINVOP because the object is already connecting.  Guarded by
 * XSMTP_STROPHE_COMPONENT_WORKAROUND, which configure sets by version.
 */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include "hash/util/log.h"
#include "hash/util/text.h"
#include "xmpp/component/component.h"

static void
libstrophe_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
    (void)userdata;
    /* Debug and info lines carry whole stanzas (and the handshake digest). */
    if (level >= XMPP_LEVEL_WARN)
        log_msg(level == XMPP_LEVEL_ERROR ? LOG_ERR : LOG_WARNING, "libstrophe %s: %.200s", area,
                msg);
}

/* The first element child, and how many element children there are. */
static xmpp_stanza_t *
only_payload(xmpp_stanza_t *stanza, int *count)
{
    xmpp_stanza_t *child, *first = NULL;

    *count = 0;
    for (child = xmpp_stanza_get_children(stanza); child != NULL;
         child = xmpp_stanza_get_next(child)) {
        if (!xmpp_stanza_is_tag(child))
            continue;
        if (first == NULL)
            first = child;
        (*count)++;
    }
    return first;
}

static void
send_error(struct component *comp, xmpp_stanza_t *iq, const char *type, const char *condition,
           const char *text)
{
    xmpp_stanza_t *answer = component_iq_error(comp, iq, type, condition, text);

    comp->counters.other_iq++;
    if (answer == NULL) {
        log_msg(LOG_ERR, "cannot build an error answer (out of memory)");
        return;
    }
    xmpp_send(comp->conn, answer);
    xmpp_stanza_release(answer);
}

int
component_iq_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct component *comp = userdata;
    const char *type = xmpp_stanza_get_type(stanza);
    const char *id = xmpp_stanza_get_id(stanza);
    xmpp_stanza_t *payload;
    int count;

    (void)conn;
    /* Results and errors are never answered (RFC 6120 s8.2.3); nor is junk. */
    if (!xsmtp_str_is(type, "get") && !xsmtp_str_is(type, "set")) {
        comp->counters.ignored++;
        return 1;
    }
    if (id == NULL || xmpp_stanza_get_from(stanza) == NULL ||
        strnlen(id, COMPONENT_ID_MAX + 1) > COMPONENT_ID_MAX) {
        comp->counters.ignored++;
        log_msg(LOG_NOTICE, "iq without from, without id or with an id over %d octets dropped",
                COMPONENT_ID_MAX);
        return 1;
    }
    payload = only_payload(stanza, &count);
    if (count == 1 && xsmtp_str_is(xmpp_stanza_get_name(payload), XSMTP_ELEMENT_VERIFY) &&
        xsmtp_str_is(xmpp_stanza_get_ns(payload), XSMTP_NS))
        component_verify_query(comp, stanza, payload);
    else if (count == 1 && xsmtp_str_is(type, "get") &&
             xsmtp_str_is(xmpp_stanza_get_name(payload), "query") &&
             xsmtp_str_is(xmpp_stanza_get_ns(payload), XMPP_NS_DISCO_INFO))
        component_disco_info(comp, stanza, payload);
    else if (count != 1)
        send_error(comp, stanza, "modify", XSMTP_ERROR_BAD_REQUEST,
                   "an iq carries exactly one payload");
    else
        send_error(comp, stanza, "cancel", "service-unavailable", NULL);
    return 1;
}

int
component_message_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct component *comp = userdata;
    xmpp_stanza_t *progress;

    (void)conn;
    progress = xmpp_stanza_get_child_by_name_and_ns(stanza, XSMTP_ELEMENT_PROGRESS, XSMTP_NS);
    if (xsmtp_str_is(xmpp_stanza_get_type(stanza), "error") || progress == NULL ||
        xmpp_stanza_get_from(stanza) == NULL) {
        comp->counters.ignored++;
        return 1;
    }
    component_notice(comp, stanza, progress);
    return 1;
}

static void
schedule_retry(struct component *comp)
{
    uint64_t now = component_now_ns();

    comp->link = LINK_WAITING;
    if (comp->stopping)
        return;
    comp->next_attempt_ns = now + (uint64_t)comp->backoff_s * 1000000000ULL;
    log_msg(LOG_NOTICE, "next connection attempt to %s:%u in %u s", comp->config.server,
            comp->config.port, comp->backoff_s);
    comp->backoff_s =
        comp->backoff_s * 2 > COMPONENT_BACKOFF_MAX ? COMPONENT_BACKOFF_MAX : comp->backoff_s * 2;
}

static void
conn_event(xmpp_conn_t *conn, xmpp_conn_event_t event, int error, xmpp_stream_error_t *stream_error,
           void *userdata)
{
    struct component *comp = userdata;
    uint64_t now = component_now_ns();

    (void)conn;
    if (event == XMPP_CONN_CONNECT) {
        comp->counters.connects++;
        if (comp->down_since_ns != 0)
            log_msg(LOG_NOTICE, "connected to %s:%u as %s after %.1f s down", comp->config.server,
                    comp->config.port, comp->config.jid, (double)(now - comp->down_since_ns) / 1e9);
        else
            log_msg(LOG_NOTICE, "connected to %s:%u as %s", comp->config.server, comp->config.port,
                    comp->config.jid);
        comp->link = LINK_CONNECTED;
        comp->backoff_s = 1;
        comp->down_since_ns = 0;
        return;
    }
    if (comp->link == LINK_CONNECTED) {
        comp->counters.disconnects++;
        comp->down_since_ns = now;
        log_msg(comp->stopping ? LOG_INFO : LOG_WARNING, "connection to %s:%u lost%s%s",
                comp->config.server, comp->config.port, error != 0 ? ": " : "",
                error != 0 ? strerror(error) : "");
    } else {
        /* Refused, bad secret and "no such component" all arrive from
         * libstrophe as a disconnect with error 0; the server's log says
         * which. */
        log_msg(LOG_WARNING, "cannot connect to %s:%u as %s%s%s%s", comp->config.server,
                comp->config.port, comp->config.jid, error != 0 ? ": " : "",
                error != 0 ? strerror(error) : "",
                stream_error != NULL ? " (the server sent a stream error: check "
                                       "component.jid and the secret)"
                                     : "");
        if (comp->down_since_ns == 0)
            comp->down_since_ns = now;
    }
    schedule_retry(comp);
}

static void
try_connect(struct component *comp)
{
    int rc;

    rc = xmpp_connect_component(comp->conn, comp->config.server, (unsigned short)comp->config.port,
                                conn_event, comp);
    if (rc != XMPP_EOK) {
        log_msg(LOG_WARNING, "cannot start a connection to %s:%u (%d)", comp->config.server,
                comp->config.port, rc);
        if (comp->down_since_ns == 0)
            comp->down_since_ns = component_now_ns();
        schedule_retry(comp);
        return;
    }
    comp->link = LINK_CONNECTING;
    comp->connecting_since_ns = component_now_ns();
#ifdef XSMTP_STROPHE_COMPONENT_WORKAROUND
    if (!comp->sm_workaround_applied) {
        /* Only after XMPP_EOK: on a failed component connect this call
         * would really connect as a client. */
        rc = xmpp_connect_client(comp->conn, comp->config.server, (unsigned short)comp->config.port,
                                 conn_event, comp);
        comp->sm_workaround_applied = true;
        if (rc != XMPP_EINVOP)
            log_msg(LOG_WARNING,
                    "libstrophe workaround: xmpp_connect_client returned %d, "
                    "expected %d",
                    rc, XMPP_EINVOP);
    }
#endif
}

xsmtp_status
component_conn_init(struct component *comp, const char *secret)
{
    comp->xmpp_logger.handler = libstrophe_log;
    comp->xmpp_logger.userdata = NULL;
    xmpp_initialize();
    comp->xmpp = xmpp_ctx_new(NULL, &comp->xmpp_logger);
    if (comp->xmpp == NULL)
        return XSMTP_ENOMEM;
    comp->conn = xmpp_conn_new(comp->xmpp);
    if (comp->conn == NULL)
        return XSMTP_ENOMEM;
    /* No stream management: with Prosody's smacks an ack after every
     * stanza stalls each answer by 40-90 ms. */
    if (xmpp_conn_set_flags(comp->conn, XMPP_CONN_FLAG_DISABLE_SM) != XMPP_EOK)
        return XSMTP_ENOMEM;
    xmpp_conn_set_jid(comp->conn, comp->config.jid);
    xmpp_conn_set_pass(comp->conn, secret);
    if (xmpp_conn_get_jid(comp->conn) == NULL || xmpp_conn_get_pass(comp->conn) == NULL)
        return XSMTP_ENOMEM;
    xmpp_conn_set_sockopt_callback(comp->conn, xmpp_sockopt_cb_keepalive);
    xmpp_handler_add(comp->conn, component_iq_handler, NULL, "iq", NULL, comp);
    xmpp_handler_add(comp->conn, component_message_handler, NULL, "message", NULL, comp);
    comp->link = LINK_WAITING;
    comp->backoff_s = 1;
    comp->next_attempt_ns = component_now_ns();
    return XSMTP_OK;
}

void
component_conn_step(struct component *comp)
{
    uint64_t now = component_now_ns();
    unsigned long timeout_ms = 200;

    if (comp->link == LINK_WAITING && !comp->stopping) {
        if (now >= comp->next_attempt_ns)
            try_connect(comp);
        else if ((comp->next_attempt_ns - now) / 1000000 < timeout_ms)
            timeout_ms = (unsigned long)((comp->next_attempt_ns - now) / 1000000) + 1;
    } else if (comp->link == LINK_CONNECTING &&
               now - comp->connecting_since_ns >
                   (uint64_t)COMPONENT_HANDSHAKE_TIMEOUT * 1000000000ULL) {
        log_msg(LOG_WARNING, "no handshake with %s:%u after %d s: giving up this attempt",
                comp->config.server, comp->config.port, COMPONENT_HANDSHAKE_TIMEOUT);
        comp->connecting_since_ns = now;
        xmpp_disconnect(comp->conn);
    }
    /* Answers queued by the handlers go out at the start of the next round. */
    if (xmpp_conn_send_queue_len(comp->conn) > 0)
        timeout_ms = 1;
    xmpp_run_once(comp->xmpp, timeout_ms);
}

void
component_conn_shutdown(struct component *comp)
{
    uint64_t deadline = component_now_ns() + 2000000000ULL;

    comp->stopping = true;
    if (comp->conn == NULL || comp->link == LINK_WAITING)
        return;
    xmpp_disconnect(comp->conn);
    while (comp->link != LINK_WAITING && component_now_ns() < deadline)
        xmpp_run_once(comp->xmpp, 50);
}

void
component_conn_free(struct component *comp)
{
    if (comp->conn != NULL)
        xmpp_conn_release(comp->conn);
    if (comp->xmpp != NULL)
        xmpp_ctx_free(comp->xmpp);
    comp->conn = NULL;
    comp->xmpp = NULL;
    xmpp_shutdown();
}
