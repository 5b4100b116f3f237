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
static const char *need(xmpp_stanza_t *verify, const char *name, const char *missing,
                        const char **problem)
{
    const char *value = xmpp_stanza_get_attribute(verify, name);

    if (value == NULL)
        *problem = missing;
    return value;
}

/* Copies a value validated to fit (len < size). */
static void copy_value(char *out, size_t size, const char *value, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(out, value, len);
    out[len] = '\0';
}

/* message-id and from: any text the MTA could have left, minus CR and LF. */
static bool free_text_ok(const char *value)
{
    return strnlen(value, XSMTP_HEADER_VALUE_MAX + 1) <= XSMTP_HEADER_VALUE_MAX &&
           strpbrk(value, "\r\n") == NULL;
}

xsmtp_status verify_request_parse(xmpp_stanza_t *verify, struct verify_request *req,
                                  const char **problem)
{
    const char *value, *why;
    size_t len;

    memset(req, 0, sizeof *req);
    *problem = NULL;

#define MALFORMED(text) do { *problem = (text); return XSMTP_EMALFORMED; } while (0)
    if ((value = need(verify, "identity", "missing attribute 'identity'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, XSMTP_IDENTITY_SIZE);
    if (len >= XSMTP_IDENTITY_SIZE ||
        xsmtp_identity_parse(value, len, req->identity, sizeof req->identity, &why) != XSMTP_OK)
        MALFORMED("malformed attribute 'identity'");
    req->identity_domain = xsmtp_identity_domain(req->identity);

    if ((value = need(verify, "message-id", "missing attribute 'message-id'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    if (!free_text_ok(value))
        MALFORMED("malformed attribute 'message-id'");
    req->msgid = value;

    if ((value = need(verify, "from", "missing attribute 'from'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    if (!free_text_ok(value))
        MALFORMED("malformed attribute 'from'");
    req->from = value;

    if ((value = need(verify, "t", "missing attribute 't'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->t);
    if (len >= sizeof req->t || xsmtp_tag_check_time(value, len, &req->time) != XSMTP_OK)
        MALFORMED("malformed attribute 't'");
    copy_value(req->t, sizeof req->t, value, len);

    if ((value = need(verify, "ip", "missing attribute 'ip'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->ip);
    if (len >= sizeof req->ip || xsmtp_tag_check_ip(value, len) != XSMTP_OK)
        MALFORMED("malformed attribute 'ip'");
    copy_value(req->ip, sizeof req->ip, value, len);

    if ((value = need(verify, "k", "missing attribute 'k'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->k);
    if (len >= sizeof req->k || xsmtp_tag_check_keyid(value, len) != XSMTP_OK)
        MALFORMED("malformed attribute 'k'");
    copy_value(req->k, sizeof req->k, value, len);

    if ((value = need(verify, "bh", "missing attribute 'bh'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->bh);
    if (len >= sizeof req->bh || xsmtp_tag_check_b64_sha256(value, len) != XSMTP_OK)
        MALFORMED("malformed attribute 'bh'");
    copy_value(req->bh, sizeof req->bh, value, len);

    if ((value = need(verify, "h", "missing attribute 'h'", problem)) == NULL)
        return XSMTP_EMALFORMED;
    len = strnlen(value, sizeof req->h);
    if (len >= sizeof req->h || xsmtp_tag_check_b64_sha256(value, len) != XSMTP_OK)
        MALFORMED("malformed attribute 'h'");
    copy_value(req->h, sizeof req->h, value, len);

    value = xmpp_stanza_get_attribute(verify, "relay");
    if (value != NULL) {
        len = strnlen(value, sizeof req->relay);
        if (len >= sizeof req->relay || xsmtp_tag_check_ip(value, len) != XSMTP_OK)
            MALFORMED("malformed attribute 'relay'");
        copy_value(req->relay, sizeof req->relay, value, len);
        req->has_relay = true;
    }
#undef MALFORMED
    return XSMTP_OK;
}

enum verify_outcome verify_decide(const struct component_config *cfg,
                                  const struct xsmtp_keytable *keys,
                                  const struct verify_request *req, uint64_t now)
{
    const struct xsmtp_key *key;
    struct xsmtp_token_input input;
    xsmtp_status status;

    if (!component_config_serves(cfg, req->identity_domain))
        return VERIFY_ERR_ITEM_NOT_FOUND;
    key = keys != NULL ? xsmtp_keytable_by_id(keys, req->k) : NULL;
    if (key == NULL)
        return VERIFY_FAIL_UNKNOWN_KEY;
    if (key->revoked)
        return VERIFY_FAIL_REVOKED;
    if (!xsmtp_key_allows(key, req->identity))
        return VERIFY_FAIL_IDENTITY_NOT_ALLOWED;

    input.identity = req->identity;
    input.msgid = req->msgid;
    input.from = req->from;
    input.t = req->t;
    input.ip = req->ip;
    input.bh = req->bh;
    input.k = req->k;
    status = xsmtp_token_verify(key, &input, req->h);
    if (status == XSMTP_EMISMATCH)
        return VERIFY_FAIL_BAD_HASH;
    if (status == XSMTP_EMALFORMED || status == XSMTP_ETOOBIG)
        return VERIFY_ERR_BAD_REQUEST;
    if (status != XSMTP_OK)
        return VERIFY_ERR_INTERNAL;

    if (req->time + cfg->max_age < now)
        return VERIFY_FAIL_EXPIRED;
    if (req->time > now + COMPONENT_FUTURE_SKEW)
        return VERIFY_FAIL_FUTURE;
    if (cfg->relays_set && req->has_relay && !xsmtp_cidr_list_match_text(&cfg->relays, req->relay))
        return VERIFY_FAIL_RELAY_NOT_AUTHORIZED;
    return VERIFY_PASS;
}

const char *verify_outcome_name(enum verify_outcome outcome)
{
    static const char *const names[VERIFY_OUTCOME_COUNT] = {
        [VERIFY_PASS] = "pass",
        [VERIFY_FAIL_BAD_HASH] = "bad-hash",
        [VERIFY_FAIL_UNKNOWN_KEY] = "unknown-key",
        [VERIFY_FAIL_REVOKED] = "revoked",
        [VERIFY_FAIL_IDENTITY_NOT_ALLOWED] = "identity-not-allowed",
        [VERIFY_FAIL_EXPIRED] = "expired",
        [VERIFY_FAIL_FUTURE] = "future",
        [VERIFY_FAIL_RELAY_NOT_AUTHORIZED] = "relay-not-authorized",
        [VERIFY_ERR_BAD_REQUEST] = "bad-request",
        [VERIFY_ERR_ITEM_NOT_FOUND] = "item-not-found",
        [VERIFY_ERR_RATE_LIMITED] = "resource-constraint",
        [VERIFY_ERR_INTERNAL] = "internal-server-error",
    };
    return (unsigned)outcome < VERIFY_OUTCOME_COUNT ? names[outcome] : "?";
}

/* <iq type='result'><verdict xmlns=... result=... [reason=...]/></iq> */
static xmpp_stanza_t *build_verdict(struct component *comp, xmpp_stanza_t *iq,
                                    enum verify_outcome outcome)
{
    xmpp_stanza_t *reply = component_iq_reply(comp, iq, "result");
    xmpp_stanza_t *verdict;
    bool ok;

    if (reply == NULL)
        return NULL;
    verdict = xmpp_stanza_new(comp->xmpp);
    ok = verdict != NULL && xmpp_stanza_set_name(verdict, "verdict") == XMPP_EOK &&
         xmpp_stanza_set_ns(verdict, XSMTP_NS) == XMPP_EOK &&
         xmpp_stanza_set_attribute(verdict, "result",
                                   outcome == VERIFY_PASS ? "pass" : "fail") == XMPP_EOK &&
         (outcome == VERIFY_PASS ||
          xmpp_stanza_set_attribute(verdict, "reason", verify_outcome_name(outcome)) ==
              XMPP_EOK) &&
         xmpp_stanza_add_child(reply, verdict) == XMPP_EOK;
    if (verdict != NULL)
        xmpp_stanza_release(verdict);
    if (!ok) {
        xmpp_stanza_release(reply);
        return NULL;
    }
    return reply;
}

static xmpp_stanza_t *build_answer(struct component *comp, xmpp_stanza_t *iq,
                                   enum verify_outcome outcome, const char *problem)
{
    switch (outcome) {
    case VERIFY_ERR_BAD_REQUEST:
        return component_iq_error(comp, iq, "modify", "bad-request", problem);
    case VERIFY_ERR_ITEM_NOT_FOUND:
        return component_iq_error(comp, iq, "cancel", "item-not-found",
                                  "identity domain not served here");
    case VERIFY_ERR_RATE_LIMITED:
        return component_iq_error(comp, iq, "wait", "resource-constraint",
                                  "rate limit for your domain exceeded");
    case VERIFY_ERR_INTERNAL:
        return component_iq_error(comp, iq, "wait", "internal-server-error", NULL);
    default:
        return build_verdict(comp, iq, outcome);
    }
}

void component_verify_query(struct component *comp, xmpp_stanza_t *iq, xmpp_stanza_t *verify)
{
    struct verify_request req;
    enum verify_outcome outcome;
    const char *problem = NULL;
    const char *type = xmpp_stanza_get_type(iq);
    char domain[RATELIMIT_KEY_MAX + 1];
    xmpp_stanza_t *answer;

    comp->counters.queries++;
    if (!component_jid_domain(xmpp_stanza_get_from(iq), domain, sizeof domain))
        snprintf(domain, sizeof domain, "%s", "(invalid)");
    if (!ratelimit_take(comp->query_limit, domain, component_now_ns()))
        outcome = VERIFY_ERR_RATE_LIMITED;
    else if (strcmp(type, "get") != 0) {
        outcome = VERIFY_ERR_BAD_REQUEST;
        problem = "verify is sent with type='get'";
    } else if (verify_request_parse(verify, &req, &problem) != XSMTP_OK)
        outcome = VERIFY_ERR_BAD_REQUEST;
    else
        outcome = verify_decide(&comp->config, comp->keys, &req, component_unix_time());

    comp->counters.outcome[outcome]++;
    if (outcome == VERIFY_PASS || outcome < VERIFY_ERR_BAD_REQUEST)
        log_msg(LOG_INFO, "verify from %s: identity=%s k=%s: %s%s", domain, req.identity, req.k,
                outcome == VERIFY_PASS ? "" : "fail ", verify_outcome_name(outcome));
    else
        log_msg(LOG_NOTICE, "verify from %s: %s%s%s", domain, verify_outcome_name(outcome),
                problem != NULL ? ": " : "", problem != NULL ? problem : "");

    answer = build_answer(comp, iq, outcome, problem);
    if (answer == NULL) {
        log_msg(LOG_ERR, "verify: cannot build the answer (out of memory)");
        return;
    }
    xmpp_send(comp->conn, answer);
    xmpp_stanza_release(answer);
}
