/*
 * client_disco.c -- XSMTP-1 s5 step 3 on the XMPP thread: disco#items to
 * the domain, then disco#info to its items, the first whose features
 * include urn:xmpp:xsmtp:1 being the component.
 *
 * The disco#info queries (at most 20) are sent together, pipelined, and
 * judged in the items' order: item i wins as soon as it has the feature and
 * every item before it has answered without it.  That is the result the
 * one-by-one walk of s5 gives, in one round trip instead of up to twenty.
 *
 * Which items count: those with a jid that is a plain domain (a component
 * address) and no node attribute, in document order, the first 20 of them.
 * An item whose disco#info fails permanently counts as "no feature"; one
 * that fails temporarily (e.g. an offline component: remote-server-timeout)
 * is skipped, but if no item wins the outcome is TEMPFAIL, not NONE: "none
 * found" is cached for an hour and must not come from a passing outage.
 * An error answer to disco#items itself is classed with answer.c's table:
 * permanent -> NONE, temporary -> TEMPFAIL, the condition as reason.
 */
#include "config.h"

#include <string.h>

#include "hash/util/text.h"
#include "xmpp/client/client_internal.h"
#include "xmpp/client/client_text.h"

static void
set_outcome(struct xclient_request *request, enum xclient_discovery_outcome outcome,
            const char *jid, const char *reason)
{
    struct xclient_discovery *answer = &request->discovery;

    answer->outcome = outcome;
    answer->jid[0] = '\0';
    answer->reason[0] = '\0';
    if (jid != NULL)
        memcpy(answer->jid, jid, strlen(jid) + 1); /* validated: fits */
    if (reason != NULL)
        xclient_copy_reason(answer->reason, reason, XSMTP_REASON_UNSPECIFIED);
}

void
xclient_disco_local(enum xclient_failure why, struct xclient_discovery *answer)
{
    struct xclient_answer local;

    xclient_answer_from_local(why, &local);
    answer->outcome = XCLIENT_DISCOVERY_TEMPFAIL;
    answer->jid[0] = '\0';
    memcpy(answer->reason, local.reason, sizeof answer->reason);
}

void
xclient_disco_forget(struct xclient *client, struct xclient_request *request)
{
    struct xclient_disco_state *disco = request->disco;
    unsigned i;

    xclient_map_remove(&client->map, &disco->items_iq);
    for (i = 0; i < disco->count; i++)
        xclient_map_remove(&client->map, &disco->item[i].iq);
}

/* Sends one disco query; false when the stanza could not be built. */
static bool
send_disco(struct xclient *client, struct xclient_request *request,
           struct xclient_pending_iq *pending, const char *to, int slot, const char *ns)
{
    char id[XCLIENT_ID_SIZE];
    xmpp_stanza_t *iq;

    pending->to = to;
    pending->owner = request;
    pending->slot = slot;
    xclient_map_add(&client->map, pending, id);
    iq = xclient_iq_with_query(client, "get", id, to, "query", ns, NULL);
    if (iq == NULL)
        return false;
    pending->sent_ns = xclient_now_ns();
    xmpp_send(client->conn, iq);
    xmpp_stanza_release(iq);
    return true;
}

void
xclient_disco_start(struct xclient *client, struct xclient_request *request)
{
    if (!send_disco(client, request, &request->disco->items_iq, request->to, -1,
                    XMPP_NS_DISCO_ITEMS)) {
        xclient_query_fail(client, request, XCLIENT_FAILURE_INTERNAL);
        return;
    }
    xclient_active_add(client, request);
    xclient_stats_add(client, &client->stats.disco_iqs_sent, 1);
}

static void
items_answer(struct xclient *client, struct xclient_request *request, xmpp_stanza_t *stanza)
{
    struct xclient_disco_state *disco = request->disco;
    const char *type, *condition;
    struct xclient_answer classed;
    xmpp_stanza_t *query, *child;
    unsigned i;

    if (xsmtp_str_is(xmpp_stanza_get_type(stanza), "error")) {
        xclient_stanza_error(stanza, &type, &condition);
        xclient_answer_from_error(type, condition, &classed);
        set_outcome(request,
                    classed.verdict == XSMTP_VERDICT_PERMERROR ? XCLIENT_DISCOVERY_NONE
                                                               : XCLIENT_DISCOVERY_TEMPFAIL,
                    NULL, classed.reason);
        xclient_request_finish(client, request);
        return;
    }
    query = xmpp_stanza_get_child_by_name_and_ns(stanza, "query", XMPP_NS_DISCO_ITEMS);
    child = query != NULL ? xmpp_stanza_get_children(query) : NULL;
    for (; child != NULL && disco->count < XCLIENT_DISCO_MAX_ITEMS;
         child = xmpp_stanza_get_next(child)) {
        struct xclient_disco_item *item = &disco->item[disco->count];

        if (!xmpp_stanza_is_tag(child) || !xsmtp_str_is(xmpp_stanza_get_name(child), "item") ||
            xmpp_stanza_get_attribute(child, "node") != NULL ||
            !xclient_text_domain(xmpp_stanza_get_attribute(child, "jid"), item->jid,
                                 sizeof item->jid))
            continue;
        item->state = ITEM_WAITING;
        disco->count++;
    }
    request->discovery.items = disco->count;
    if (disco->count == 0) {
        set_outcome(request, XCLIENT_DISCOVERY_NONE, NULL, XSMTP_REASON_NO_ITEMS);
        xclient_request_finish(client, request);
        return;
    }
    for (i = 0; i < disco->count; i++) {
        if (!send_disco(client, request, &disco->item[i].iq, disco->item[i].jid, (int)i,
                        XMPP_NS_DISCO_INFO)) {
            xclient_query_fail(client, request, XCLIENT_FAILURE_INTERNAL);
            return;
        }
    }
    xclient_stats_add(client, &client->stats.disco_iqs_sent, disco->count);
}

static bool
has_feature(xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *query, *child;

    query = xmpp_stanza_get_child_by_name_and_ns(stanza, "query", XMPP_NS_DISCO_INFO);
    if (query == NULL)
        return false;
    for (child = xmpp_stanza_get_children(query); child != NULL;
         child = xmpp_stanza_get_next(child))
        if (xmpp_stanza_is_tag(child) && xsmtp_str_is(xmpp_stanza_get_name(child), "feature") &&
            xsmtp_str_is(xmpp_stanza_get_attribute(child, "var"), XSMTP_NS))
            return true;
    return false;
}

/* Finishes the request once the items' order allows a decision. */
static void
decide(struct xclient *client, struct xclient_request *request)
{
    struct xclient_disco_state *disco = request->disco;
    const char *temporary = NULL;
    unsigned i;

    for (i = 0; i < disco->count; i++) {
        if (disco->item[i].state == ITEM_WAITING)
            return;
        if (disco->item[i].state == ITEM_HAS_FEATURE) {
            set_outcome(request, XCLIENT_DISCOVERY_FOUND, disco->item[i].jid, NULL);
            xclient_request_finish(client, request);
            return;
        }
        if (disco->item[i].state == ITEM_FAILED_TEMP && temporary == NULL)
            temporary = disco->item[i].failure;
    }
    if (temporary != NULL)
        set_outcome(request, XCLIENT_DISCOVERY_TEMPFAIL, NULL, temporary);
    else
        set_outcome(request, XCLIENT_DISCOVERY_NONE, NULL, XSMTP_REASON_NO_FEATURE);
    xclient_request_finish(client, request);
}

static void
info_answer(struct xclient *client, struct xclient_request *request, unsigned slot,
            xmpp_stanza_t *stanza)
{
    struct xclient_disco_item *item = &request->disco->item[slot];
    const char *type, *condition;
    struct xclient_answer classed;

    if (xsmtp_str_is(xmpp_stanza_get_type(stanza), "error")) {
        xclient_stanza_error(stanza, &type, &condition);
        xclient_answer_from_error(type, condition, &classed);
        if (classed.verdict == XSMTP_VERDICT_PERMERROR) {
            item->state = ITEM_NO_FEATURE;
        } else {
            item->state = ITEM_FAILED_TEMP;
            memcpy(item->failure, classed.reason, sizeof item->failure);
        }
    } else {
        item->state = has_feature(stanza) ? ITEM_HAS_FEATURE : ITEM_NO_FEATURE;
    }
    decide(client, request);
}

void
xclient_disco_answer(struct xclient *client, struct xclient_request *request, int slot,
                     xmpp_stanza_t *stanza)
{
    if (slot < 0)
        items_answer(client, request, stanza);
    else if ((unsigned)slot < request->disco->count)
        info_answer(client, request, (unsigned)slot, stanza);
}
