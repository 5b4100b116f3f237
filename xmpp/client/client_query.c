/*
 * client_query.c -- the XMPP thread's side of verify queries (XSMTP-1 s6):
 * building the IQ, matching answers by id, the periodic reaper, failing
 * everything at once when the stream drops; also the server keep-alive
 * ping, answers to IQs addressed to us, and s8 notices.
 *
 * A verify query is written as text, escaping < > & ' " in every value
 * (client_calls.c has already refused values that XML cannot carry), and
 * handed to xmpp_send_raw(): building a libstrophe stanza tree, serializing
 * and freeing it cost ~40,000 instructions per query (callgrind), more than
 * everything else the XMPP thread does for it but parsing the answer.
 * Other stanzas go through libstrophe's stanza API, which escapes the same
 * five characters when it serializes.  Answers: xclient_map_accept() lets through
 * only an id we have pending whose from is exactly the JID we asked; all
 * else is counted and ignored (logged at debug).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "hash/util/text.h"
#include "xmpp/client/client_internal.h"

static const char *const attr_names[ATTR_COUNT] = {
    XSMTP_ATTR_IDENTITY, XSMTP_ATTR_MESSAGE_ID, XSMTP_ATTR_FROM, XSMTP_ATTR_T,    XSMTP_ATTR_IP,
    XSMTP_ATTR_K,        XSMTP_ATTR_BH,         XSMTP_ATTR_H,    XSMTP_ATTR_RELAY};

xmpp_stanza_t *
xclient_iq_with_query(struct xclient *client, const char *type, const char *id, const char *to,
                      const char *name, const char *ns, xmpp_stanza_t **payload)
{
    xmpp_stanza_t *iq = xmpp_iq_new(client->ctx, type, id), *child;
    bool ok;

    if (iq == NULL)
        return NULL;
    child = xmpp_stanza_new(client->ctx);
    ok = child != NULL && (to == NULL || xmpp_stanza_set_to(iq, to) == XMPP_EOK) &&
         xmpp_stanza_set_name(child, name) == XMPP_EOK &&
         xmpp_stanza_set_ns(child, ns) == XMPP_EOK && xmpp_stanza_add_child(iq, child) == XMPP_EOK;
    if (child != NULL)
        xmpp_stanza_release(child); /* the iq holds its own reference */
    if (!ok) {
        xmpp_stanza_release(iq);
        return NULL;
    }
    if (payload != NULL)
        *payload = child;
    return iq;
}

bool
xclient_stanza_error(xmpp_stanza_t *stanza, const char **type, const char **condition)
{
    xmpp_stanza_t *error = xmpp_stanza_get_child_by_name(stanza, "error"), *child;

    *type = NULL;
    *condition = NULL;
    if (error == NULL)
        return false;
    *type = xmpp_stanza_get_type(error);
    for (child = xmpp_stanza_get_children(error); child != NULL;
         child = xmpp_stanza_get_next(child)) {
        if (xmpp_stanza_is_tag(child) &&
            xsmtp_str_is(xmpp_stanza_get_ns(child), XMPP_NS_STANZAS_IETF) &&
            !xsmtp_str_is(xmpp_stanza_get_name(child), "text")) {
            *condition = xmpp_stanza_get_name(child);
            break;
        }
    }
    return true;
}

void
xclient_active_add(struct xclient *client, struct xclient_request *request)
{
    request->active_prev = NULL;
    request->active_next = client->active_head;
    if (client->active_head != NULL)
        client->active_head->active_prev = request;
    client->active_head = request;
    request->active = true;
}

void
xclient_query_fail(struct xclient *client, struct xclient_request *request,
                   enum xclient_failure why)
{
    request->local_failure = (int)why;
    if (request->kind == REQUEST_VERIFY)
        xclient_answer_from_local(why, &request->verify);
    else
        xclient_disco_local(why, &request->discovery);
    xclient_request_finish(client, request);
}

void
xclient_query_fail_all(struct xclient *client, enum xclient_failure why)
{
    while (client->active_head != NULL)
        xclient_query_fail(client, client->active_head, why);
}

void
xclient_query_reap(struct xclient *client, uint64_t now)
{
    struct xclient_request *request, *next;

    for (request = client->active_head; request != NULL; request = next) {
        next = request->active_next;
        if (now >= request->deadline_ns)
            xclient_query_fail(client, request, XCLIENT_FAILURE_TIMEOUT);
    }
}

/* Length of value with XML's five special characters escaped. */
static size_t
escaped_length(const char *value)
{
    size_t length = 0;

    for (; *value != '\0'; value++) {
        switch (*value) {
        case '&': length += 5; break; /* &amp; */
        case '<':
        case '>': length += 4; break;
        case '\'':
        case '"': length += 6; break;
        default: length++; break;
        }
    }
    return length;
}

static char *
put_escaped(char *out, const char *value)
{
    for (; *value != '\0'; value++) {
        const char *entity = NULL;

        switch (*value) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '\'': entity = "&apos;"; break;
        case '"': entity = "&quot;"; break;
        default: *out++ = *value; continue;
        }
        memcpy(out, entity, strlen(entity));
        out += strlen(entity);
    }
    return out;
}

static char *
put_attribute(char *out, const char *name, const char *value)
{
    *out++ = ' ';
    memcpy(out, name, strlen(name));
    out += strlen(name);
    *out++ = '=';
    *out++ = '"';
    out = put_escaped(out, value);
    *out++ = '"';
    return out;
}

/*
 * <iq type="get" id=ID to=TO><verify xmlns=... ATTRS/></iq>, in a buffer
 * sized exactly (the caller frees it); NULL when out of memory.
 */
static char *
verify_query_text(const struct xclient_request *request, const char *id, size_t *length)
{
    static const char head[] = "<iq type=\"get\"";
    static const char open_verify[] = "><" XSMTP_ELEMENT_VERIFY " xmlns=\"" XSMTP_NS "\"";
    static const char tail[] = "/></iq>";
    size_t size = sizeof head + sizeof open_verify + sizeof tail;
    char *text, *out;
    int i;

    size += 6 + escaped_length(id) + 6 + escaped_length(request->to);
    for (i = 0; i < ATTR_COUNT; i++)
        if (request->attrs[i] != NULL)
            size += strlen(attr_names[i]) + 4 + escaped_length(request->attrs[i]);
    text = malloc(size);
    if (text == NULL)
        return NULL;
    out = text;
    memcpy(out, head, sizeof head - 1);
    out += sizeof head - 1;
    out = put_attribute(out, "id", id);
    out = put_attribute(out, "to", request->to);
    memcpy(out, open_verify, sizeof open_verify - 1);
    out += sizeof open_verify - 1;
    for (i = 0; i < ATTR_COUNT; i++)
        if (request->attrs[i] != NULL)
            out = put_attribute(out, attr_names[i], request->attrs[i]);
    memcpy(out, tail, sizeof tail - 1);
    out += sizeof tail - 1;
    *out = '\0';
    *length = (size_t)(out - text);
    return text;
}

void
xclient_query_send(struct xclient *client, struct xclient_request *request)
{
    char id[XCLIENT_ID_SIZE];
    size_t length = 0;
    char *text;

    request->iq.to = request->to;
    request->iq.owner = request;
    request->iq.slot = -1;
    xclient_map_add(&client->map, &request->iq, id);
    text = verify_query_text(request, id, &length);
    if (text == NULL) {
        xsmtp_log(&client->logger, LOG_ERR, "xmpp: cannot build a verify query (out of memory)");
        xclient_query_fail(client, request, XCLIENT_FAILURE_INTERNAL);
        return;
    }
    request->iq.sent_ns = xclient_now_ns();
    xmpp_send_raw(client->conn, text, length);
    free(text);
    xclient_active_add(client, request);
    xclient_stats_add(client, &client->stats.queries_sent, 1);
}

static void
verify_answer(struct xclient *client, struct xclient_request *request, xmpp_stanza_t *stanza,
              const char *type)
{
    uint64_t rtt_us = (xclient_now_ns() - request->iq.sent_ns) / 1000;
    const char *error_type, *condition;
    xmpp_stanza_t *verdict;

    if (xsmtp_str_is(type, "result")) {
        verdict = xmpp_stanza_get_child_by_name_and_ns(stanza, XSMTP_ELEMENT_VERDICT, XSMTP_NS);
        xclient_answer_from_result(
            verdict != NULL ? xmpp_stanza_get_attribute(verdict, XSMTP_ATTR_RESULT) : NULL,
            verdict != NULL ? xmpp_stanza_get_attribute(verdict, XSMTP_ATTR_REASON) : NULL,
            &request->verify);
    } else {
        xclient_stanza_error(stanza, &error_type, &condition);
        xclient_answer_from_error(error_type, condition, &request->verify);
    }
    request->verify.rtt_us = rtt_us > 0 ? rtt_us : 1;
    xclient_request_finish(client, request);
}

/* An IQ get/set addressed to us: a ping is answered, the rest refused
 * (RFC 6120 s8.2.3 requires an answer). */
static void
answer_incoming(struct xclient *client, xmpp_stanza_t *stanza)
{
    const char *id = xmpp_stanza_get_id(stanza), *from = xmpp_stanza_get_from(stanza);
    xmpp_stanza_t *reply, *error = NULL, *condition = NULL;
    bool ping, ok;

    if (id == NULL || strnlen(id, 257) > 256)
        return;
    ping = xsmtp_str_is(xmpp_stanza_get_type(stanza), "get") &&
           xmpp_stanza_get_child_by_name_and_ns(stanza, "ping", XCLIENT_NS_PING) != NULL;
    reply = xmpp_iq_new(client->ctx, ping ? "result" : "error", id);
    if (reply == NULL)
        return;
    ok = from == NULL || xmpp_stanza_set_to(reply, from) == XMPP_EOK;
    if (ok && !ping) {
        error = xmpp_stanza_new(client->ctx);
        condition = xmpp_stanza_new(client->ctx);
        ok = error != NULL && condition != NULL &&
             xmpp_stanza_set_name(error, "error") == XMPP_EOK &&
             xmpp_stanza_set_type(error, "cancel") == XMPP_EOK &&
             xmpp_stanza_set_name(condition, "service-unavailable") == XMPP_EOK &&
             xmpp_stanza_set_ns(condition, XMPP_NS_STANZAS_IETF) == XMPP_EOK &&
             xmpp_stanza_add_child(error, condition) == XMPP_EOK &&
             xmpp_stanza_add_child(reply, error) == XMPP_EOK;
    }
    if (ok)
        xmpp_send(client->conn, reply);
    if (condition != NULL)
        xmpp_stanza_release(condition);
    if (error != NULL)
        xmpp_stanza_release(error);
    xmpp_stanza_release(reply);
}

int
xclient_iq_handler(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct xclient *client = userdata;
    const char *type = xmpp_stanza_get_type(stanza);
    const char *id = xmpp_stanza_get_id(stanza), *from = xmpp_stanza_get_from(stanza);
    struct xclient_request *request;
    struct xclient_pending_iq *pending;
    enum xclient_map_miss miss;

    (void)conn;
    /* Before the session is up, IQs are libstrophe's own (bind, session). */
    if (client->link != LINK_CONNECTED)
        return 1;
    if (xsmtp_str_is(type, "get") || xsmtp_str_is(type, "set")) {
        answer_incoming(client, stanza);
        return 1;
    }
    if (!xsmtp_str_is(type, "result") && !xsmtp_str_is(type, "error"))
        return 1;
    pending = xclient_map_accept(&client->map, id, from, &miss);
    if (pending == NULL) {
        /* Foreign ids are libstrophe's own IQs (bind) or junk: not counted. */
        if (miss != MAP_FOREIGN_ID)
            xclient_stats_add(client, &client->stats.answers_ignored, 1);
        xsmtp_log(&client->logger, LOG_DEBUG, "xmpp: answer ignored (%s): id '%.60s' from '%.300s'",
                  miss == MAP_WRONG_FROM   ? "not from the JID asked"
                  : miss == MAP_FOREIGN_ID ? "not one of our ids"
                                           : "no such query pending",
                  id != NULL ? id : "", from != NULL ? from : "");
        return 1;
    }
    if (pending == &client->ping_iq)
        return 1; /* any answer, even an error, shows the stream is alive */
    request = pending->owner;
    if (xclient_now_ns() >= request->deadline_ns) {
        /* Its caller has gone; the reaper just has not come by yet. */
        xclient_stats_add(client, &client->stats.answers_ignored, 1);
        xsmtp_log(&client->logger, LOG_DEBUG,
                  "xmpp: answer ignored (after the deadline): id '%.60s' from '%.300s'",
                  id != NULL ? id : "", from != NULL ? from : "");
        xclient_query_fail(client, request, XCLIENT_FAILURE_TIMEOUT);
        return 1;
    }
    if (request->kind == REQUEST_VERIFY)
        verify_answer(client, request, stanza, type);
    else
        xclient_disco_answer(client, request, pending->slot, stanza);
    return 1;
}

void
xclient_ping_check(struct xclient *client, uint64_t now)
{
    char id[XCLIENT_ID_SIZE];
    xmpp_stanza_t *iq;

    if (client->link != LINK_CONNECTED)
        return;
    if (client->ping_iq.in_map) {
        /* Anything received since the ping shows the stream is alive. */
        if (client->last_rx_ns >= client->ping_iq.sent_ns)
            xclient_map_remove(&client->map, &client->ping_iq);
        else if (now - client->ping_iq.sent_ns >= client->keepalive_timeout_ns)
            xclient_conn_declare_dead(client, "no answer to a ping from the server");
        return;
    }
    if (now - client->last_rx_ns < client->keepalive_idle_ns)
        return;
    xclient_map_add(&client->map, &client->ping_iq, id);
    iq = xclient_iq_with_query(client, "get", id, client->domain, "ping", XCLIENT_NS_PING, NULL);
    if (iq == NULL) {
        xclient_map_remove(&client->map, &client->ping_iq);
        return;
    }
    client->ping_iq.sent_ns = now;
    xmpp_send(client->conn, iq);
    xmpp_stanza_release(iq);
}

void
xclient_notice_send(struct xclient *client, struct xclient_queued_notice *notice)
{
    static const char *const names[5] = {XSMTP_ATTR_IDENTITY, XSMTP_ATTR_MESSAGE_ID,
                                         XSMTP_ATTR_STATUS, XSMTP_ATTR_BY, XSMTP_ATTR_T};
    xmpp_stanza_t *message, *progress;
    char id[XCLIENT_ID_SIZE];
    bool ok;
    int i;

    xclient_map_new_id(&client->map, id);
    message = xmpp_message_new(client->ctx, NULL, notice->to, id);
    progress = xmpp_stanza_new(client->ctx);
    ok = message != NULL && progress != NULL &&
         xmpp_stanza_set_name(progress, XSMTP_ELEMENT_PROGRESS) == XMPP_EOK &&
         xmpp_stanza_set_ns(progress, XSMTP_NS) == XMPP_EOK;
    for (i = 0; ok && i < 5; i++)
        ok = xmpp_stanza_set_attribute(progress, names[i], notice->values[i]) == XMPP_EOK;
    ok = ok && xmpp_stanza_add_child(message, progress) == XMPP_EOK;
    if (ok)
        xmpp_send(client->conn, message);
    if (progress != NULL)
        xmpp_stanza_release(progress);
    if (message != NULL)
        xmpp_stanza_release(message);
    xclient_stats_add(client, ok ? &client->stats.notices_sent : &client->stats.notices_dropped, 1);
}
