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

#include "hash/util/text.h"
#include "xmpp/client/answer.h"

static int
reason_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int
xclient_copy_reason(char *out, const char *value, const char *fallback)
{
    size_t len, i;

    if (value != NULL) {
        len = strnlen(value, XSMTP_REASON_SIZE);
        for (i = 0; i < len && reason_char_ok(value[i]); i++)
            ;
        if (len > 0 && len < XSMTP_REASON_SIZE && i == len) {
            memcpy(out, value, len + 1);
            return 1;
        }
    }
    /* Callers pass short literals; still never write past the buffer. */
    len = strnlen(fallback, XSMTP_REASON_SIZE - 1);
    memcpy(out, fallback, len);
    out[len] = '\0';
    return 0;
}

static void
set(struct xclient_answer *out, enum xsmtp_verdict verdict)
{
    out->verdict = verdict;
    out->reason[0] = '\0';
    out->error_type[0] = '\0';
}

void
xclient_answer_from_result(const char *result, const char *reason, struct xclient_answer *out)
{
    enum xsmtp_verdict verdict = XSMTP_VERDICT_NONE;

    if (result != NULL && !xsmtp_verdict_parse(result, strlen(result), &verdict))
        verdict = XSMTP_VERDICT_NONE;
    switch (verdict) {
    case XSMTP_VERDICT_PASS: set(out, XSMTP_VERDICT_PASS); break;
    case XSMTP_VERDICT_FAIL:
        set(out, XSMTP_VERDICT_FAIL);
        xclient_copy_reason(out->reason, reason, XSMTP_REASON_UNSPECIFIED);
        break;
    default:
        /* No verdict element, or a result word s6 does not define. */
        set(out, XSMTP_VERDICT_PERMERROR);
        xclient_copy_reason(out->reason, XSMTP_REASON_MALFORMED_ANSWER,
                            XSMTP_REASON_MALFORMED_ANSWER);
        break;
    }
}

static const char *const temporary_conditions[] = {"remote-server-timeout", XSMTP_ERROR_INTERNAL,
                                                   NULL};
static const char *const permanent_conditions[] = {
    XSMTP_ERROR_BAD_REQUEST, XSMTP_ERROR_ITEM_NOT_FOUND, "remote-server-not-found",
    "service-unavailable",   "feature-not-implemented",  NULL};
static const char *const permanent_types[] = {"cancel", "modify", "auth", NULL};

static int
listed(const char *value, const char *const *list)
{
    for (; *list != NULL; list++)
        if (xsmtp_str_is(value, *list))
            return 1;
    return 0;
}

void
xclient_answer_from_error(const char *type, const char *condition, struct xclient_answer *out)
{
    enum xsmtp_verdict verdict;

    if (listed(condition, temporary_conditions) || xsmtp_str_is(type, "wait"))
        verdict = XSMTP_VERDICT_TEMPERROR;
    else if (listed(condition, permanent_conditions) || listed(type, permanent_types))
        verdict = XSMTP_VERDICT_PERMERROR;
    else
        verdict = XSMTP_VERDICT_TEMPERROR;
    set(out, verdict);
    xclient_copy_reason(out->reason, condition, XSMTP_ERROR_UNDEFINED);
    /* error_type is informational (logs): copy it only when it is a plain word. */
    if (type != NULL && strnlen(type, sizeof out->error_type) < sizeof out->error_type) {
        char word[XSMTP_REASON_SIZE];

        if (xclient_copy_reason(word, type, ""))
            memcpy(out->error_type, word, strlen(word) + 1);
    }
}

void
xclient_answer_from_local(enum xclient_failure failure, struct xclient_answer *out)
{
    const char *reason = XSMTP_REASON_INTERNAL_ERROR;

    switch (failure) {
    case XCLIENT_FAILURE_TIMEOUT: reason = XSMTP_REASON_TIMEOUT; break;
    case XCLIENT_FAILURE_DISCONNECTED: reason = XSMTP_REASON_DISCONNECTED; break;
    case XCLIENT_FAILURE_OVERLOADED: reason = XSMTP_REASON_OVERLOADED; break;
    case XCLIENT_FAILURE_INTERNAL: reason = XSMTP_REASON_INTERNAL_ERROR; break;
    }
    set(out, XSMTP_VERDICT_TEMPERROR);
    xclient_copy_reason(out->reason, reason, XSMTP_REASON_INTERNAL_ERROR);
    out->rtt_us = 0;
}
