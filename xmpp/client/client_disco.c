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

#include "xmpp/client/client_internal.h"
#include "xmpp/client/client_text.h"

static bool is(const char *value, const char *expected)
{
    return value != NULL && strcmp(value, expected) == 0;
}

static void set_outcome(struct client_request *request, enum discovery_outcome outcome,
                        const char *jid, const char *reason)
{
    struct discovery_answer *answer = &request->discovery;

    answer->outcome = outcome;
    answer->jid[0] = '\0';
    answer->reason[0] = '\0';
    if (jid != NULL)
        memcpy(answer->jid, jid, strlen(jid) + 1);     /* validated: fits */
    if (reason != NULL)
        answer_copy_reason(answer->reason, reason, "unspecified");
}

void client_disco_local(enum answer_local_failure why, struct discovery_answer *answer)
{
    struct verify_answer local;

    answer_from_local(why, &local);
    answer->outcome = DISCOVERY_TEMPFAIL;
    answer->jid[0] = '\0';
    memcpy(answer->reason, local.reason, sizeof answer->reason);
}

void client_disco_forget(struct xmpp_client *client, struct client_request *request)
{
    struct disco_state *disco = request->disco;
    unsigned i;

    client_map_remove(&client->map, &disco->items_iq);
    for (i = 0; i < disco->count; i++)
        client_map_remove(&client->map, &disco->item[i].iq);
}

/* Sends one disco query; false when the stanza could not be built. */
static bool send_disco(struct xmpp_client *client, struct client_request *request,
                       struct pending_iq *pending, const char *to, int slot, const char *ns)
{
    char id[CLIENT_ID_SIZE];
    xmpp_stanza_t *iq;

    pending->to = to;
    pending->owner = request;
    pending->slot = slot;
    client_map_add(&client->map, pending, id);
    iq = client_iq_with_query(client, "get", id, to, "query", ns, NULL);
    if (iq == NULL)
        return false;
    pending->sent_ns = client_now_ns();
    xmpp_send(client->conn, iq);
    xmpp_stanza_release(iq);
    return true;
}

void client_disco_start(struct xmpp_client *client, struct client_request *request)
{
    if (!send_disco(client, request, &request->disco->items_iq, request->to, -1,
                    CLIENT_NS_DISCO_ITEMS)) {
        client_query_fail(client, request, ANSWER_INTERNAL);
        return;
    }
    client_active_add(client, request);
    client_stats_add(client, &client->stats.disco_iqs_sent, 1);
}

static void items_answer(struct xmpp_client *client, struct client_request *request,
                         xmpp_stanza_t *stanza)
{
    struct disco_state *disco = request->disco;
    const char *type, *condition;
    struct verify_answer classed;
    xmpp_stanza_t *query, *child;
    unsigned i;

    if (is(xmpp_stanza_get_type(stanza), "error")) {
        client_stanza_error(stanza, &type, &condition);
        answer_from_error(type, condition, &classed);
        set_outcome(request,
                    classed.verdict == VERIFY_VERDICT_PERMERROR ? DISCOVERY_NONE
                                                                : DISCOVERY_TEMPFAIL,
                    NULL, classed.reason);
        client_request_finish(client, request);
        return;
    }
    query = xmpp_stanza_get_child_by_name_and_ns(stanza, "query", CLIENT_NS_DISCO_ITEMS);
    child = query != NULL ? xmpp_stanza_get_children(query) : NULL;
    for (; child != NULL && disco->count < CLIENT_DISCO_MAX_ITEMS;
         child = xmpp_stanza_get_next(child)) {
        struct disco_item *item = &disco->item[disco->count];

        if (!xmpp_stanza_is_tag(child) || !is(xmpp_stanza_get_name(child), "item") ||
            xmpp_stanza_get_attribute(child, "node") != NULL ||
            !client_text_domain(xmpp_stanza_get_attribute(child, "jid"), item->jid,
                                sizeof item->jid))
            continue;
        item->state = ITEM_WAITING;
        disco->count++;
    }
    request->discovery.items = disco->count;
    if (disco->count == 0) {
        set_outcome(request, DISCOVERY_NONE, NULL, "no-items");
        client_request_finish(client, request);
        return;
    }
    for (i = 0; i < disco->count; i++) {
        if (!send_disco(client, request, &disco->item[i].iq, disco->item[i].jid, (int)i,
                        CLIENT_NS_DISCO_INFO)) {
            client_query_fail(client, request, ANSWER_INTERNAL);
            return;
        }
    }
    client_stats_add(client, &client->stats.disco_iqs_sent, disco->count);
}

static bool has_feature(xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *query, *child;

    query = xmpp_stanza_get_child_by_name_and_ns(stanza, "query", CLIENT_NS_DISCO_INFO);
    if (query == NULL)
        return false;
    for (child = xmpp_stanza_get_children(query); child != NULL;
         child = xmpp_stanza_get_next(child))
        if (xmpp_stanza_is_tag(child) && is(xmpp_stanza_get_name(child), "feature") &&
            is(xmpp_stanza_get_attribute(child, "var"), CLIENT_NS_XSMTP))
            return true;
    return false;
}

/* Finishes the request once the items' order allows a decision. */
static void decide(struct xmpp_client *client, struct client_request *request)
{
    struct disco_state *disco = request->disco;
    const char *temporary = NULL;
    unsigned i;

    for (i = 0; i < disco->count; i++) {
        if (disco->item[i].state == ITEM_WAITING)
            return;
        if (disco->item[i].state == ITEM_HAS_FEATURE) {
            set_outcome(request, DISCOVERY_FOUND, disco->item[i].jid, NULL);
            client_request_finish(client, request);
            return;
        }
        if (disco->item[i].state == ITEM_FAILED_TEMP && temporary == NULL)
            temporary = disco->item[i].failure;
    }
    if (temporary != NULL)
        set_outcome(request, DISCOVERY_TEMPFAIL, NULL, temporary);
    else
        set_outcome(request, DISCOVERY_NONE, NULL, "no-feature");
    client_request_finish(client, request);
}

static void info_answer(struct xmpp_client *client, struct client_request *request,
                        unsigned slot, xmpp_stanza_t *stanza)
{
    struct disco_item *item = &request->disco->item[slot];
    const char *type, *condition;
    struct verify_answer classed;

    if (is(xmpp_stanza_get_type(stanza), "error")) {
        client_stanza_error(stanza, &type, &condition);
        answer_from_error(type, condition, &classed);
        if (classed.verdict == VERIFY_VERDICT_PERMERROR) {
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

void client_disco_answer(struct xmpp_client *client, struct client_request *request, int slot,
                         xmpp_stanza_t *stanza)
{
    if (slot < 0)
        items_answer(client, request, stanza);
    else if ((unsigned)slot < request->disco->count)
        info_answer(client, request, (unsigned)slot, stanza);
}
