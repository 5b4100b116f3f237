/*
 * component_disco.c -- the XEP-0030 disco#info answer of XSMTP-1 s5.
 *
 * Verifiers find the component by asking disco#info of each item of the
 * domain and looking for the feature urn:xmpp:xsmtp:1, so this answer is
 * exactly: identity component/generic "XSMTP", features disco#info and
 * urn:xmpp:xsmtp:1.  A query for a node we do not have gets item-not-found
 * (XEP-0030 s3.1).
 */
#include "config.h"

#include <syslog.h>

#include "hash/util/log.h"
#include "xmpp/component/component.h"

static bool
add_tag(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *const *attrs)
{
    xmpp_stanza_t *child = xmpp_stanza_new(ctx);
    bool ok;

    if (child == NULL)
        return false;
    ok = xmpp_stanza_set_name(child, name) == XMPP_EOK;
    for (; ok && attrs[0] != NULL; attrs += 2)
        ok = xmpp_stanza_set_attribute(child, attrs[0], attrs[1]) == XMPP_EOK;
    ok = ok && xmpp_stanza_add_child(parent, child) == XMPP_EOK;
    xmpp_stanza_release(child);
    return ok;
}

static xmpp_stanza_t *
build_info(struct component *comp, xmpp_stanza_t *iq)
{
    static const char *const identity[] = {"category", "component", "type", "generic",
                                           "name",     "XSMTP",     NULL};
    static const char *const feature_disco[] = {"var", XMPP_NS_DISCO_INFO, NULL};
    static const char *const feature_xsmtp[] = {"var", XSMTP_NS, NULL};
    xmpp_stanza_t *reply = component_iq_reply(comp, iq, "result");
    xmpp_stanza_t *query;
    bool ok;

    if (reply == NULL)
        return NULL;
    query = xmpp_stanza_new(comp->xmpp);
    ok = query != NULL && xmpp_stanza_set_name(query, "query") == XMPP_EOK &&
         xmpp_stanza_set_ns(query, XMPP_NS_DISCO_INFO) == XMPP_EOK &&
         add_tag(comp->xmpp, query, "identity", identity) &&
         add_tag(comp->xmpp, query, "feature", feature_disco) &&
         add_tag(comp->xmpp, query, "feature", feature_xsmtp) &&
         xmpp_stanza_add_child(reply, query) == XMPP_EOK;
    if (query != NULL)
        xmpp_stanza_release(query);
    if (!ok) {
        xmpp_stanza_release(reply);
        return NULL;
    }
    return reply;
}

void
component_disco_info(struct component *comp, xmpp_stanza_t *iq, xmpp_stanza_t *query)
{
    xmpp_stanza_t *reply;

    if (xmpp_stanza_get_attribute(query, "node") != NULL)
        reply = component_iq_error(comp, iq, "cancel", XSMTP_ERROR_ITEM_NOT_FOUND, NULL);
    else
        reply = build_info(comp, iq);
    if (reply == NULL) {
        log_msg(LOG_ERR, "disco#info: cannot build the answer (out of memory)");
        comp->counters.ignored++;
        return;
    }
    comp->counters.disco++;
    xmpp_send(comp->conn, reply);
    xmpp_stanza_release(reply);
}
