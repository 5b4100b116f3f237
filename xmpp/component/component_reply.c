/*
 * component_reply.c -- answers to IQs, built attribute by attribute.
 *
 * libstrophe's xmpp_stanza_reply() copies every attribute of the request,
 * including ones we never asked for; the component builds each answer from
 * scratch instead, so nothing the sender wrote is sent back except the id
 * (which RFC 6120 requires) and the address it came from.  libstrophe
 * escapes every attribute and text value when it serializes.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "xmpp/component/component.h"

xmpp_stanza_t *
component_iq_reply(struct component *comp, xmpp_stanza_t *request, const char *type)
{
    const char *id = xmpp_stanza_get_id(request);
    const char *from = xmpp_stanza_get_from(request);
    xmpp_stanza_t *reply;

    if (id == NULL || from == NULL)
        return NULL;
    reply = xmpp_iq_new(comp->xmpp, type, id);
    if (reply == NULL)
        return NULL;
    if (xmpp_stanza_set_to(reply, from) != XMPP_EOK ||
        xmpp_stanza_set_from(reply, comp->config.jid) != XMPP_EOK) {
        xmpp_stanza_release(reply);
        return NULL;
    }
    return reply;
}

/* Appends <name xmlns=ns/> (with optional text) to parent. */
static bool
add_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *ns,
          const char *text)
{
    xmpp_stanza_t *child = xmpp_stanza_new(ctx), *body;
    bool ok;

    if (child == NULL)
        return false;
    ok = xmpp_stanza_set_name(child, name) == XMPP_EOK &&
         (ns == NULL || xmpp_stanza_set_ns(child, ns) == XMPP_EOK);
    if (ok && text != NULL) {
        body = xmpp_stanza_new(ctx);
        ok = body != NULL && xmpp_stanza_set_text(body, text) == XMPP_EOK &&
             xmpp_stanza_add_child(child, body) == XMPP_EOK;
        if (body != NULL)
            xmpp_stanza_release(body);
    }
    ok = ok && xmpp_stanza_add_child(parent, child) == XMPP_EOK;
    xmpp_stanza_release(child);
    return ok;
}

xmpp_stanza_t *
component_iq_error(struct component *comp, xmpp_stanza_t *request, const char *error_type,
                   const char *condition, const char *text)
{
    xmpp_stanza_t *reply = component_iq_reply(comp, request, "error");
    xmpp_stanza_t *error;
    bool ok;

    if (reply == NULL)
        return NULL;
    error = xmpp_stanza_new(comp->xmpp);
    ok = error != NULL && xmpp_stanza_set_name(error, "error") == XMPP_EOK &&
         xmpp_stanza_set_type(error, error_type) == XMPP_EOK &&
         add_child(comp->xmpp, error, condition, XMPP_NS_STANZAS_IETF, NULL) &&
         (text == NULL || add_child(comp->xmpp, error, "text", XMPP_NS_STANZAS_IETF, text)) &&
         xmpp_stanza_add_child(reply, error) == XMPP_EOK;
    if (error != NULL)
        xmpp_stanza_release(error);
    if (!ok) {
        xmpp_stanza_release(reply);
        return NULL;
    }
    return reply;
}

bool
component_jid_domain(const char *jid, char *out, size_t outsz)
{
    const char *start = jid, *end, *at;
    size_t len, i;

    end = strchr(jid, '/');
    if (end == NULL)
        end = jid + strlen(jid);
    at = memchr(jid, '@', (size_t)(end - jid));
    if (at != NULL)
        start = at + 1;
    len = (size_t)(end - start);
    if (len == 0 || len >= outsz)
        return false;
    for (i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)start[i]);
    out[len] = '\0';
    return true;
}
