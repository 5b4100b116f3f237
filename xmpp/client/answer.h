/*
 * answer.h -- what a verification query came to, as XSMTP-1 s7 classes.
 *
 * The pure mapping from "what came back on the wire" (a verdict element, a
 * stanza error, or nothing at all) to the verifier's verdict classes pass,
 * fail, permerror and temperror, with the reason that goes into the
 * X-XSMTP-Verdict and Authentication-Results headers.  No I/O, no
 * libstrophe: the XMPP client extracts a few strings from the stanza and
 * hands them here, so the whole table is unit-tested on its own.
 *
 * Reasons are always safe to put into a header: 1..63 characters of
 * A-Z a-z 0-9 . _ - (anything else the peer sent is replaced, see answer.c).
 */
#ifndef XSMTP_ANSWER_H
#define XSMTP_ANSWER_H

#include <stdint.h>

#include "hash/proto.h"

/* Why no answer came back; each maps to temperror with the reason shown. */
enum xclient_failure {
    XCLIENT_FAILURE_TIMEOUT,      /* "timeout": the caller's deadline passed */
    XCLIENT_FAILURE_DISCONNECTED, /* "disconnected": stream down, or dropped in flight */
    XCLIENT_FAILURE_OVERLOADED,   /* "overloaded": too many requests already pending */
    XCLIENT_FAILURE_INTERNAL      /* "internal-error": out of memory and the like */
};

struct xclient_answer {
    enum xsmtp_verdict verdict;
    /* pass: "";  fail: the component's reason;  permerror/temperror: the
     * stanza error condition or the local failure's name. */
    char reason[XSMTP_REASON_SIZE];
    /* The stanza error's type attribute when the answer was an error, else "". */
    char error_type[16];
    /* Time from sending the query to its answer (0 when nothing came back). */
    uint64_t rtt_us;
};

/*
 * An <iq type='result'>.  result and reason are the attributes of its
 * <verdict xmlns='urn:xmpp:xsmtp:1'/> child (result NULL when there is no
 * such child).  pass -> pass; fail -> fail with the reason ("unspecified"
 * when absent or unusable); anything else -> permerror "malformed-answer".
 */
void xclient_answer_from_result(const char *result, const char *reason, struct xclient_answer *out);

/*
 * An <iq type='error'>.  type is the <error/> element's type attribute and
 * condition the name of its defined-condition child (either NULL when
 * absent).  See answer.c for the table.
 */
void xclient_answer_from_error(const char *type, const char *condition, struct xclient_answer *out);

/* No answer at all. */
void xclient_answer_from_local(enum xclient_failure failure, struct xclient_answer *out);

/*
 * Copies value into out (XSMTP_REASON_SIZE bytes) when it is 1..63
 * characters of A-Z a-z 0-9 . _ - and returns 1; else writes fallback and
 * returns 0.
 */
int xclient_copy_reason(char *out, const char *value, const char *fallback);

#endif
