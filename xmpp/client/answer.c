/*
 * answer.c -- XSMTP-1 s7: map what a component (or the servers on the way)
 * answered to pass / fail / permerror / temperror.
 *
 * Stanza errors, first matching row wins:
 *   1. remote-server-timeout, internal-server-error        -> temperror
 *   2. any condition with type='wait'                      -> temperror
 *   3. bad-request, item-not-found, remote-server-not-found,
 *      service-unavailable, feature-not-implemented        -> permerror
 *   4. any other condition with type cancel, modify, auth  -> permerror
 *   5. anything else (type continue, unknown or missing)    -> temperror
 * Row 2 comes before row 3 on purpose: type='wait' is the sender saying
 * "retry later" (RFC 6120 s8.3.2), and a permerror is cached for an hour,
 * so a wait-type answer must never be read as permanent.  Row 5 is the
 * cautious default for answers we cannot classify: a temperror makes the
 * MTA retry, a wrong permerror would stick.  The reason is the condition's
 * name ("undefined-condition" when there is none).
 *
 * Everything the peer wrote is untrusted; reasons end up inside header
 * fields (reason=REASON; and reason="REASON"), so only a conservative
 * token alphabet is copied and anything else is replaced.
 */
#include "config.h"

#include <string.h>

#include "xmpp/client/answer.h"

const char *verify_verdict_name(enum verify_verdict verdict)
{
    switch (verdict) {
    case VERIFY_VERDICT_PASS: return "pass";
    case VERIFY_VERDICT_FAIL: return "fail";
    case VERIFY_VERDICT_PERMERROR: return "permerror";
    case VERIFY_VERDICT_TEMPERROR: return "temperror";
    }
    return "?";
}

static int reason_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

int answer_copy_reason(char *out, const char *value, const char *fallback)
{
    size_t len, i;

    if (value != NULL) {
        len = strnlen(value, ANSWER_REASON_SIZE);
        for (i = 0; i < len && reason_char_ok(value[i]); i++)
            ;
        if (len > 0 && len < ANSWER_REASON_SIZE && i == len) {
            memcpy(out, value, len + 1);
            return 1;
        }
    }
    /* Callers pass short literals; still never write past the buffer. */
    len = strnlen(fallback, ANSWER_REASON_SIZE - 1);
    memcpy(out, fallback, len);
    out[len] = '\0';
    return 0;
}

static void set(struct verify_answer *out, enum verify_verdict verdict)
{
    out->verdict = verdict;
    out->reason[0] = '\0';
    out->error_type[0] = '\0';
}

static int is(const char *value, const char *expected)
{
    return value != NULL && strcmp(value, expected) == 0;
}

void answer_from_result(const char *result, const char *reason, struct verify_answer *out)
{
    if (is(result, "pass")) {
        set(out, VERIFY_VERDICT_PASS);
    } else if (is(result, "fail")) {
        set(out, VERIFY_VERDICT_FAIL);
        answer_copy_reason(out->reason, reason, "unspecified");
    } else {
        /* No verdict element, or a result word s6 does not define. */
        set(out, VERIFY_VERDICT_PERMERROR);
        answer_copy_reason(out->reason, "malformed-answer", "malformed-answer");
    }
}

static const char *const temporary_conditions[] = {
    "remote-server-timeout", "internal-server-error", NULL
};
static const char *const permanent_conditions[] = {
    "bad-request", "item-not-found", "remote-server-not-found", "service-unavailable",
    "feature-not-implemented", NULL
};
static const char *const permanent_types[] = { "cancel", "modify", "auth", NULL };

static int listed(const char *value, const char *const *list)
{
    for (; *list != NULL; list++)
        if (is(value, *list))
            return 1;
    return 0;
}

void answer_from_error(const char *type, const char *condition, struct verify_answer *out)
{
    enum verify_verdict verdict;

    if (listed(condition, temporary_conditions) || is(type, "wait"))
        verdict = VERIFY_VERDICT_TEMPERROR;
    else if (listed(condition, permanent_conditions) || listed(type, permanent_types))
        verdict = VERIFY_VERDICT_PERMERROR;
    else
        verdict = VERIFY_VERDICT_TEMPERROR;
    set(out, verdict);
    answer_copy_reason(out->reason, condition, "undefined-condition");
    /* error_type is informational (logs): copy it only when it is a plain word. */
    if (type != NULL && strnlen(type, sizeof out->error_type) < sizeof out->error_type) {
        char word[ANSWER_REASON_SIZE];

        if (answer_copy_reason(word, type, ""))
            memcpy(out->error_type, word, strlen(word) + 1);
    }
}

void answer_from_local(enum answer_local_failure failure, struct verify_answer *out)
{
    const char *reason = "internal-error";

    switch (failure) {
    case ANSWER_TIMEOUT: reason = "timeout"; break;
    case ANSWER_DISCONNECTED: reason = "disconnected"; break;
    case ANSWER_OVERLOADED: reason = "overloaded"; break;
    case ANSWER_INTERNAL: reason = "internal-error"; break;
    }
    set(out, VERIFY_VERDICT_TEMPERROR);
    answer_copy_reason(out->reason, reason, "internal-error");
    out->rtt_us = 0;
}
