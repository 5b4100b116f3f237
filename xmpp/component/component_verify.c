/*
 * component_verify.c -- answers the verify query of XSMTP-1 s6.
 *
 * Order of the checks, first match wins (the spec leaves it open):
 *   1. rate limit of the requesting domain   -> wait/resource-constraint
 *      (first, so a flood of garbage costs us no parsing)
 *   2. every attribute present and well formed, in the order identity,
 *      message-id, from, t, ip, k, bh, h, relay (optional) -> modify/bad-request
 *   3. identity's domain is one of component.domains -> else cancel/item-not-found
 *   4. key k exists                 -> else fail unknown-key
 *   5. key k is not revoked         -> else fail revoked
 *   6. key k's patterns allow the identity -> else fail identity-not-allowed
 *   7. the MAC matches              -> else fail bad-hash
 *   8. t >= now - max_age           -> else fail expired
 *   9. t <= now + 300               -> else fail future
 *  10. relays set and relay given: relay in the list -> else fail relay-not-authorized
 *  11. pass
 * Key checks (4-6) come before the MAC because the MAC needs a usable key;
 * the MAC comes before time and relay so that "expired", "future" and
 * "relay-not-authorized" always describe a genuine token (a replay), while
 * anything forged or altered reads "bad-hash" whatever its t or relay.
 */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include "hash/token.h"
#include "hash/util/log.h"
#include "xmpp/component/component_verify.h"

/* Reads one attribute; NULL (with *problem set) when it is absent. */
static const char *
need(xmpp_stanza_t *verify, const char *name, const char *missing, const char **problem)
{
    const char *value = xmpp_stanza_get_attribute(verify, name);

    if (value == NULL)
        *problem = missing;
    return value;
}

/* Copies a value validated to fit (len < size). */
static void
copy_value(char *out, size_t size, const char *value, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(out, value, len);
    out[len] = '\0';
}

/* message-id and from: any text the MTA could have left, minus CR and LF. */
static bool
free_text_ok(const char *value)
{
    return strnlen(value, XSMTP_HEADER_VALUE_MAX + 1) <= XSMTP_HEADER_VALUE_MAX &&
           strpbrk(value, "\r\n") == NULL;
}

xsmtp_status
component_request_parse(xmpp_stanza_t *verify, struct component_request *req, const char **problem)
{
    const char *value, *why;
    size_t len;

    memset(req, 0, sizeof *req);
    *problem = NULL;

#define MALFORMED(text) \
    do { \
        *problem = (text); \
        return XSMTP_EMALFORMED; \
    } while (0)
#define NEED(attr) need(verify, attr, "missing attribute '" attr "'", problem)
#define BAD(attr) "malformed attribute '" attr "'"
    if ((value = NEED(XSMTP_ATTR_IDENTITY)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, XSMTP_IDENTITY_SIZE);
    if (len >= XSMTP_IDENTITY_SIZE ||
        xsmtp_identity_parse(value, len, req->identity, sizeof req->identity, &why) != XSMTP_OK)
        MALFORMED(BAD(XSMTP_ATTR_IDENTITY));
    req->identity_domain = xsmtp_identity_domain(req->identity);

    if ((value = NEED(XSMTP_ATTR_MESSAGE_ID)) == NULL)
        return XSMTP_EMALFORMED;
    if (!free_text_ok(value))
        MALFORMED(BAD(XSMTP_ATTR_MESSAGE_ID));
    req->msgid = value;

    if ((value = NEED(XSMTP_ATTR_FROM)) == NULL)
        return XSMTP_EMALFORMED;
    if (!free_text_ok(value))
        MALFORMED(BAD(XSMTP_ATTR_FROM));
    req->from = value;

    if ((value = NEED(XSMTP_ATTR_T)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->t);
    if (len >= sizeof req->t || xsmtp_tag_check_time(value, len, &req->time) != XSMTP_OK)
        MALFORMED(BAD(XSMTP_ATTR_T));
    copy_value(req->t, sizeof req->t, value, len);

    if ((value = NEED(XSMTP_ATTR_IP)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->ip);
    if (len >= sizeof req->ip || xsmtp_tag_check_ip(value, len) != XSMTP_OK)
        MALFORMED(BAD(XSMTP_ATTR_IP));
    copy_value(req->ip, sizeof req->ip, value, len);

    if ((value = NEED(XSMTP_ATTR_K)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->k);
    if (len >= sizeof req->k || xsmtp_tag_check_keyid(value, len) != XSMTP_OK)
        MALFORMED(BAD(XSMTP_ATTR_K));
    copy_value(req->k, sizeof req->k, value, len);

    if ((value = NEED(XSMTP_ATTR_BH)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->bh);
    if (len >= sizeof req->bh || xsmtp_tag_check_b64_sha256(value, len) != XSMTP_OK)
        MALFORMED(BAD(XSMTP_ATTR_BH));
    copy_value(req->bh, sizeof req->bh, value, len);

    if ((value = NEED(XSMTP_ATTR_H)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->h);
    if (len >= sizeof req->h || xsmtp_tag_check_b64_sha256(value, len) != XSMTP_OK)
        MALFORMED(BAD(XSMTP_ATTR_H));
    copy_value(req->h, sizeof req->h, value, len);

    value = xmpp_stanza_get_attribute(verify, XSMTP_ATTR_RELAY);
    if (value != NULL) {
        len = strnlen(value, sizeof req->relay);
        if (len >= sizeof req->relay || xsmtp_tag_check_ip(value, len) != XSMTP_OK)
            MALFORMED(BAD(XSMTP_ATTR_RELAY));
        copy_value(req->relay, sizeof req->relay, value, len);
        req->has_relay = true;
    }
#undef BAD
#undef NEED
#undef MALFORMED
    return XSMTP_OK;
}

static struct component_answer
answer(enum xsmtp_verdict verdict, const char *reason)
{
    return (struct component_answer){verdict, reason};
}

struct component_answer
component_decide(const struct component_config *cfg, const struct xsmtp_keytable *keys,
                 const struct component_request *req, uint64_t now)
{
    const struct xsmtp_key *key;
    struct xsmtp_token_input input;
    xsmtp_status status;

    if (!component_config_serves(cfg, req->identity_domain))
        return answer(XSMTP_VERDICT_PERMERROR, XSMTP_ERROR_ITEM_NOT_FOUND);
    key = keys != NULL ? xsmtp_keytable_by_id(keys, req->k) : NULL;
    if (key == NULL)
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_UNKNOWN_KEY);
    if (key->revoked)
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_REVOKED);
    if (!xsmtp_key_allows(key, req->identity))
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_IDENTITY_NOT_ALLOWED);

    input.identity = req->identity;
    input.msgid = req->msgid;
    input.from = req->from;
    input.t = req->t;
    input.ip = req->ip;
    input.bh = req->bh;
    input.k = req->k;
    status = xsmtp_token_verify(key, &input, req->h);
    if (status == XSMTP_EMISMATCH)
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_BAD_HASH);
    if (status == XSMTP_EMALFORMED || status == XSMTP_ETOOBIG)
        return answer(XSMTP_VERDICT_PERMERROR, XSMTP_ERROR_BAD_REQUEST);
    if (status != XSMTP_OK)
        return answer(XSMTP_VERDICT_TEMPERROR, XSMTP_ERROR_INTERNAL);

    if (req->time + cfg->max_age < now)
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_EXPIRED);
    if (req->time > now + XSMTP_FUTURE_SKEW)
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_FUTURE);
    if (cfg->relays_set && req->has_relay && !xsmtp_cidr_list_match_text(&cfg->relays, req->relay))
        return answer(XSMTP_VERDICT_FAIL, XSMTP_REASON_RELAY_NOT_AUTHORIZED);
    return answer(XSMTP_VERDICT_PASS, "");
}

/* Every answer there is, in the order of the counters line, and how a
 * stanza error is sent: its type and the text that goes with it. */
static const struct {
    struct component_answer answer;
    const char *key;
    const char *error_type; /* NULL: a <verdict/> */
    const char *text;       /* NULL: none; bad-request says what was wrong */
} answer_kinds[COMPONENT_ANSWER_KINDS] = {
    {{XSMTP_VERDICT_PASS, ""}, "pass", NULL, NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_BAD_HASH}, "fail." XSMTP_REASON_BAD_HASH, NULL, NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_UNKNOWN_KEY}, "fail." XSMTP_REASON_UNKNOWN_KEY, NULL, NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_REVOKED}, "fail." XSMTP_REASON_REVOKED, NULL, NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_IDENTITY_NOT_ALLOWED},
     "fail." XSMTP_REASON_IDENTITY_NOT_ALLOWED,
     NULL,
     NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_EXPIRED}, "fail." XSMTP_REASON_EXPIRED, NULL, NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_FUTURE}, "fail." XSMTP_REASON_FUTURE, NULL, NULL},
    {{XSMTP_VERDICT_FAIL, XSMTP_REASON_RELAY_NOT_AUTHORIZED},
     "fail." XSMTP_REASON_RELAY_NOT_AUTHORIZED,
     NULL,
     NULL},
    {{XSMTP_VERDICT_PERMERROR, XSMTP_ERROR_BAD_REQUEST},
     "error." XSMTP_ERROR_BAD_REQUEST,
     "modify",
     NULL},
    {{XSMTP_VERDICT_PERMERROR, XSMTP_ERROR_ITEM_NOT_FOUND},
     "error." XSMTP_ERROR_ITEM_NOT_FOUND,
     "cancel",
     "identity domain not served here"},
    {{XSMTP_VERDICT_TEMPERROR, XSMTP_ERROR_RESOURCE_CONSTRAINT},
     "error." XSMTP_ERROR_RESOURCE_CONSTRAINT,
     "wait",
     "rate limit for your domain exceeded"},
    {{XSMTP_VERDICT_TEMPERROR, XSMTP_ERROR_INTERNAL}, "error." XSMTP_ERROR_INTERNAL, "wait", NULL},
};

size_t
component_answer_index(struct component_answer answer)
{
    size_t i;

    for (i = 0; i < COMPONENT_ANSWER_KINDS; i++)
        if (answer_kinds[i].answer.verdict == answer.verdict && answer.reason != NULL &&
            strcmp(answer_kinds[i].answer.reason, answer.reason) == 0)
            break;
    return i;
}

const char *
component_answer_key(size_t index)
{
    return index < COMPONENT_ANSWER_KINDS ? answer_kinds[index].key : "?";
}

/* <iq type='result'><verdict xmlns=... result=... [reason=...]/></iq> */
static xmpp_stanza_t *
build_verdict(struct component *comp, xmpp_stanza_t *iq, struct component_answer answer)
{
    xmpp_stanza_t *reply = component_iq_reply(comp, iq, "result");
    xmpp_stanza_t *verdict;
    bool pass = answer.verdict == XSMTP_VERDICT_PASS;
    bool ok;

    if (reply == NULL)
        return NULL;
    verdict = xmpp_stanza_new(comp->xmpp);
    ok = verdict != NULL && xmpp_stanza_set_name(verdict, XSMTP_ELEMENT_VERDICT) == XMPP_EOK &&
         xmpp_stanza_set_ns(verdict, XSMTP_NS) == XMPP_EOK &&
         xmpp_stanza_set_attribute(verdict, XSMTP_ATTR_RESULT,
                                   xsmtp_verdict_name(answer.verdict)) == XMPP_EOK &&
         (pass ||
          xmpp_stanza_set_attribute(verdict, XSMTP_ATTR_REASON, answer.reason) == XMPP_EOK) &&
         xmpp_stanza_add_child(reply, verdict) == XMPP_EOK;
    if (verdict != NULL)
        xmpp_stanza_release(verdict);
    if (!ok) {
        xmpp_stanza_release(reply);
        return NULL;
    }
    return reply;
}

static xmpp_stanza_t *
build_answer(struct component *comp, xmpp_stanza_t *iq, size_t kind, const char *problem)
{
    if (answer_kinds[kind].error_type == NULL)
        return build_verdict(comp, iq, answer_kinds[kind].answer);
    return component_iq_error(comp, iq, answer_kinds[kind].error_type,
                              answer_kinds[kind].answer.reason,
                              answer_kinds[kind].text != NULL ? answer_kinds[kind].text : problem);
}

void
component_verify_query(struct component *comp, xmpp_stanza_t *iq, xmpp_stanza_t *verify)
{
    struct component_request req;
    struct component_answer outcome;
    const char *problem = NULL;
    const char *type = xmpp_stanza_get_type(iq);
    char domain[COMPONENT_RATELIMIT_KEY_MAX + 1];
    xmpp_stanza_t *reply;
    size_t kind;

    comp->counters.queries++;
    if (!component_jid_domain(xmpp_stanza_get_from(iq), domain, sizeof domain))
        snprintf(domain, sizeof domain, "%s", "(invalid)");
    if (!component_ratelimit_take(comp->query_limit, domain, component_now_ns()))
        outcome = answer(XSMTP_VERDICT_TEMPERROR, XSMTP_ERROR_RESOURCE_CONSTRAINT);
    else if (strcmp(type, "get") != 0) {
        outcome = answer(XSMTP_VERDICT_PERMERROR, XSMTP_ERROR_BAD_REQUEST);
        problem = "verify is sent with type='get'";
    } else if (component_request_parse(verify, &req, &problem) != XSMTP_OK)
        outcome = answer(XSMTP_VERDICT_PERMERROR, XSMTP_ERROR_BAD_REQUEST);
    else
        outcome = component_decide(&comp->config, comp->keys, &req, component_unix_time());

    kind = component_answer_index(outcome);
    if (kind == COMPONENT_ANSWER_KINDS) { /* cannot happen: every answer is listed */
        kind = component_answer_index(answer(XSMTP_VERDICT_TEMPERROR, XSMTP_ERROR_INTERNAL));
        outcome = answer_kinds[kind].answer;
    }
    comp->counters.answers[kind]++;
    if (outcome.verdict == XSMTP_VERDICT_PASS || outcome.verdict == XSMTP_VERDICT_FAIL)
        log_msg(LOG_INFO, "verify from %s: identity=%s k=%s: %s%s", domain, req.identity, req.k,
                outcome.verdict == XSMTP_VERDICT_PASS ? "" : "fail ",
                outcome.verdict == XSMTP_VERDICT_PASS ? "pass" : outcome.reason);
    else
        log_msg(LOG_NOTICE, "verify from %s: %s%s%s", domain, outcome.reason,
                problem != NULL ? ": " : "", problem != NULL ? problem : "");

    reply = build_answer(comp, iq, kind, problem);
    if (reply == NULL) {
        log_msg(LOG_ERR, "verify: cannot build the answer (out of memory)");
        return;
    }
    xmpp_send(comp->conn, reply);
    xmpp_stanza_release(reply);
}
