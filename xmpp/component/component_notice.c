/*
 * component_notice.c -- forwards delivery-progress notices (XSMTP-1 s8).
 *
 * A verifier sends <message><progress identity=.. message-id=.. status=..
 * by=.. t=../></message> to the component; for an identity of one of our
 * domains the component sends that bare JID a headline message with a
 * readable body and a fresh <progress/> element.  The copy is rebuilt from
 * the validated values, attribute by attribute, so nothing else the sender
 * put in the element (other attributes, children, text) is passed on.
 * Anything that does not validate is dropped and counted; a message never
 * gets an error reply (that could be turned into a reflector).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "hash/identity.h"
#include "hash/taglist.h"
#include "hash/util/log.h"
#include "xmpp/component/component.h"

/* Longest message-id put in a notice: a Message-ID header's whole value. */
#define NOTICE_MSGID_MAX 8192

struct component_progress {
    char identity[XSMTP_IDENTITY_SIZE];
    const char *msgid;
    const char *status;
    const char *by;
    char t[11];
    uint64_t time;
};

static bool
msgid_ok(const char *value)
{
    size_t len = strnlen(value, NOTICE_MSGID_MAX + 1);
    size_t i;

    if (len == 0 || len > NOTICE_MSGID_MAX)
        return false;
    for (i = 0; i < len; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return false;
    return true;
}

static bool
status_ok(const char *value)
{
    static const char *const statuses[] = {XSMTP_STATUS_ACCEPTED, XSMTP_STATUS_QUARANTINED,
                                           XSMTP_STATUS_REJECTED, XSMTP_STATUS_DEFERRED};
    size_t i;

    for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (strcmp(value, statuses[i]) == 0)
            return true;
    return false;
}

static bool
parse_progress(xmpp_stanza_t *progress, struct component_progress *notice)
{
    const char *identity = xmpp_stanza_get_attribute(progress, XSMTP_ATTR_IDENTITY);
    const char *t = xmpp_stanza_get_attribute(progress, XSMTP_ATTR_T);
    const char *why;
    size_t len;

    memset(notice, 0, sizeof *notice);
    notice->msgid = xmpp_stanza_get_attribute(progress, XSMTP_ATTR_MESSAGE_ID);
    notice->status = xmpp_stanza_get_attribute(progress, XSMTP_ATTR_STATUS);
    notice->by = xmpp_stanza_get_attribute(progress, XSMTP_ATTR_BY);
    if (identity == NULL || t == NULL || notice->msgid == NULL || notice->status == NULL ||
        notice->by == NULL)
        return false;
    len = strnlen(identity, XSMTP_IDENTITY_SIZE);
    if (len >= XSMTP_IDENTITY_SIZE ||
        xsmtp_identity_parse(identity, len, notice->identity, sizeof notice->identity, &why) !=
            XSMTP_OK)
        return false;
    len = strnlen(t, sizeof notice->t);
    if (len >= sizeof notice->t || xsmtp_tag_check_time(t, len, &notice->time) != XSMTP_OK)
        return false;
    memcpy(notice->t, t, len + 1);
    len = strnlen(notice->by, XSMTP_DOMAIN_MAX + 1);
    return msgid_ok(notice->msgid) && status_ok(notice->status) && len <= XSMTP_DOMAIN_MAX &&
           xsmtp_domain_check(notice->by, len, &why) == XSMTP_OK;
}

/* "Your message <ID> was accepted by BY at 2026-11-22T14:00:07Z." */
static bool
format_body(const struct component_progress *notice, char *out, size_t outsz)
{
    struct tm when;
    time_t seconds = (time_t)notice->time;
    char stamp[32];
    int n;

    if (gmtime_r(&seconds, &when) == NULL ||
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &when) == 0)
        return false;
    n = snprintf(out, outsz, "Your message <%s> was %s by %s at %s.", notice->msgid, notice->status,
                 notice->by, stamp);
    return n > 0 && (size_t)n < outsz;
}

static xmpp_stanza_t *
build_headline(struct component *comp, const struct component_progress *notice)
{
    static char body[NOTICE_MSGID_MAX + 512]; /* too big for the stack of a handler */
    char id[32];
    xmpp_stanza_t *message, *progress;
    bool ok;

    if (!format_body(notice, body, sizeof body))
        return NULL;
    snprintf(id, sizeof id, "xsmtp-n%" PRIu64, ++comp->notice_seq);
    message = xmpp_message_new(comp->xmpp, "headline", notice->identity, id);
    if (message == NULL)
        return NULL;
    progress = xmpp_stanza_new(comp->xmpp);
    ok = progress != NULL && xmpp_stanza_set_from(message, comp->config.jid) == XMPP_EOK &&
         xmpp_message_set_body(message, body) == XMPP_EOK &&
         xmpp_stanza_set_name(progress, XSMTP_ELEMENT_PROGRESS) == XMPP_EOK &&
         xmpp_stanza_set_ns(progress, XSMTP_NS) == XMPP_EOK &&
         xmpp_stanza_set_attribute(progress, XSMTP_ATTR_IDENTITY, notice->identity) == XMPP_EOK &&
         xmpp_stanza_set_attribute(progress, XSMTP_ATTR_MESSAGE_ID, notice->msgid) == XMPP_EOK &&
         xmpp_stanza_set_attribute(progress, XSMTP_ATTR_STATUS, notice->status) == XMPP_EOK &&
         xmpp_stanza_set_attribute(progress, XSMTP_ATTR_BY, notice->by) == XMPP_EOK &&
         xmpp_stanza_set_attribute(progress, XSMTP_ATTR_T, notice->t) == XMPP_EOK &&
         xmpp_stanza_add_child(message, progress) == XMPP_EOK;
    if (progress != NULL)
        xmpp_stanza_release(progress);
    if (!ok) {
        xmpp_stanza_release(message);
        return NULL;
    }
    return message;
}

const char *
component_notice_drop_name(enum component_notice_drop drop)
{
    static const char *const names[NOTICE_DROP_COUNT] = {
        [NOTICE_DROP_DISABLED] = "disabled",   [NOTICE_DROP_RATE] = "rate",
        [NOTICE_DROP_MALFORMED] = "malformed", [NOTICE_DROP_FOREIGN] = "foreign",
        [NOTICE_DROP_INTERNAL] = "internal",
    };
    return (unsigned)drop < NOTICE_DROP_COUNT ? names[drop] : "?";
}

static void
drop(struct component *comp, enum component_notice_drop why, const char *sender_domain)
{
    comp->counters.notices_dropped[why]++;
    log_msg(LOG_INFO, "notice from %s dropped: %s", sender_domain, component_notice_drop_name(why));
}

void
component_notice(struct component *comp, xmpp_stanza_t *message, xmpp_stanza_t *progress)
{
    struct component_progress notice;
    char domain[COMPONENT_RATELIMIT_KEY_MAX + 1];
    xmpp_stanza_t *headline;

    if (!component_jid_domain(xmpp_stanza_get_from(message), domain, sizeof domain))
        snprintf(domain, sizeof domain, "%s", "(invalid)");
    if (!comp->config.notify) {
        drop(comp, NOTICE_DROP_DISABLED, domain);
        return;
    }
    if (!component_ratelimit_take(comp->notice_limit, domain, component_now_ns())) {
        drop(comp, NOTICE_DROP_RATE, domain);
        return;
    }
    if (!parse_progress(progress, &notice)) {
        drop(comp, NOTICE_DROP_MALFORMED, domain);
        return;
    }
    if (!component_config_serves(&comp->config, xsmtp_identity_domain(notice.identity))) {
        drop(comp, NOTICE_DROP_FOREIGN, domain);
        return;
    }
    headline = build_headline(comp, &notice);
    if (headline == NULL) {
        drop(comp, NOTICE_DROP_INTERNAL, domain);
        return;
    }
    xmpp_send(comp->conn, headline);
    xmpp_stanza_release(headline);
    comp->counters.notices_forwarded++;
    log_msg(LOG_INFO, "notice from %s forwarded to %s: %s by %s", domain, notice.identity,
            notice.status, notice.by);
}
