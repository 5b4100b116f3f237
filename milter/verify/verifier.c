/*
 * verifier.c -- the verifier's decisions and header texts (verifier.h),
 * free of libmilter and of any I/O so that every branch is unit-tested.
 *
 * All header fields are parsed up front (each only when it occurs exactly
 * once), then the checks run in the fixed order documented in verifier.h.
 * Parsing everything first lets the verdict headers show the identity and
 * From address whenever they are valid, whichever check decided.
 *
 * Everything written into a header comes from a validated value (the
 * identity, the extracted From address, reasons of [A-Za-z0-9._-], domain
 * JIDs) and is quoted where its syntax needs it, so a hostile message
 * cannot add header lines or fake parts of our verdict.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "milter/verify/verifier.h"

/* RFC 5322 s2.1.1: a line MUST NOT exceed 998 octets without CRLF. */
#define VERIFIER_LINE_MAX 998
#define VERIFIER_LOCAL_MAX 64
/* A mailbox as written: a quoted local part doubles at most 64 octets. */
#define MAILBOX_TEXT_SIZE (2 * VERIFIER_LOCAL_MAX + 3 + XSMTP_DOMAIN_MAX + 1)

static void
copy_text(char *out, size_t outsz, const char *text)
{
    snprintf(out, outsz, "%s", text != NULL ? text : "");
}

void
verifier_result_set(struct verifier_result *result, enum xsmtp_verdict verdict, const char *reason,
                    const char *component)
{
    result->verdict = verdict;
    copy_text(result->reason, sizeof result->reason, reason);
    copy_text(result->component, sizeof result->component, component);
    result->cached = false;
}

/* Records a local outcome; returns false (nothing more to do). */
static bool
decide(struct verifier_message *message, enum xsmtp_verdict verdict, const char *reason)
{
    message->decided = true;
    verifier_result_set(&message->result, verdict, reason, NULL);
    return false;
}

static bool
usable(const struct verifier_header *header)
{
    return header->count == 1 && !header->too_long && header->value != NULL;
}

static void
parse_identity(const struct verifier_header *header, struct verifier_message *message)
{
    char trimmed[XSMTP_IDENTITY_SIZE];
    size_t length = 0;
    const char *reason = NULL;

    if (!usable(header))
        return;
    if (xsmtp_unfold_trim(header->value, strlen(header->value), trimmed, sizeof trimmed, &length) !=
        XSMTP_OK) {
        message->detail = "identity too long";
        return;
    }
    if (xsmtp_identity_parse(trimmed, length, message->identity, sizeof message->identity,
                             &reason) != XSMTP_OK) {
        message->detail = reason;
        return;
    }
    message->identity_ok = true;
}

static void
parse_parts(const struct verifier_facts *facts, struct verifier_message *message)
{
    const char *reason = NULL;
    xsmtp_status status;

    parse_identity(&facts->identity, message);
    if (usable(&facts->hash)) {
        if (xsmtp_tags_parse(facts->hash.value, strlen(facts->hash.value), &message->tags,
                             &reason) == XSMTP_OK)
            message->tags_ok = true;
        else if (message->identity_ok || facts->identity.count != 1)
            message->detail = reason;
    }
    if (usable(&facts->from)) {
        status = xsmtp_extract_from(facts->from.value, strlen(facts->from.value),
                                    message->from_address, sizeof message->from_address);
        message->from_ok = status == XSMTP_OK && strchr(message->from_address, '@') != NULL;
        message->from_multiple = status == XSMTP_EMULTIPLE;
    }
    if (usable(&facts->message_id))
        message->msgid_ok =
            xsmtp_extract_msgid(facts->message_id.value, strlen(facts->message_id.value),
                                message->msgid, sizeof message->msgid) == XSMTP_OK;
}

/* Step 5 when the From header is the problem; NULL when it is fine. */
static const char *
from_problem(const struct verifier_facts *facts, const struct verifier_message *message)
{
    if (facts->from.count == 0)
        return XSMTP_REASON_MISSING_FROM;
    if (facts->from.count > 1)
        return XSMTP_REASON_MULTIPLE_FROM;
    if (message->from_ok)
        return NULL;
    if (message->from_multiple)
        return XSMTP_REASON_MULTIPLE_MAILBOXES;
    return XSMTP_REASON_MALFORMED_FROM;
}

bool
verifier_check_headers(const struct verifier_facts *facts, struct verifier_message *message)
{
    const char *problem;
    int64_t t;

    message->decided = false;
    message->identity_ok = message->from_ok = message->msgid_ok = message->tags_ok = false;
    message->from_multiple = false;
    message->identity[0] = message->from_address[0] = message->msgid[0] = '\0';
    message->detail = NULL;
    memset(&message->tags, 0, sizeof message->tags);
    verifier_result_set(&message->result, XSMTP_VERDICT_NONE, NULL, NULL);
    parse_parts(facts, message);

    if (facts->identity.count == 0 && facts->hash.count == 0)
        return decide(message, XSMTP_VERDICT_NONE, NULL);
    if (facts->identity.count > 1)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MULTIPLE_IDENTITY);
    if (facts->hash.count > 1)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MULTIPLE_HASH);
    if (facts->identity.count == 0)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MISSING_IDENTITY);
    if (facts->hash.count == 0)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MISSING_HASH);
    if (!message->identity_ok) {
        if (facts->identity.too_long)
            message->detail = "value over 8192 octets";
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MALFORMED_IDENTITY);
    }
    if (!message->tags_ok) {
        if (facts->hash.too_long)
            message->detail = "value over 8192 octets";
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MALFORMED_HASH);
    }
    problem = from_problem(facts, message);
    if (problem != NULL)
        return decide(message, XSMTP_VERDICT_PERMERROR, problem);
    if (facts->message_id.count == 0)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MISSING_MESSAGE_ID);
    if (facts->message_id.count > 1)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MULTIPLE_MESSAGE_ID);
    if (!message->msgid_ok)
        return decide(message, XSMTP_VERDICT_PERMERROR, XSMTP_REASON_MALFORMED_MESSAGE_ID);

    /* t has at most 10 digits (taglist.c), so it fits an int64_t. */
    t = (int64_t)message->tags.time;
    if (facts->now - t > facts->max_age)
        return decide(message, XSMTP_VERDICT_FAIL, XSMTP_REASON_EXPIRED);
    if (t - facts->now > XSMTP_FUTURE_SKEW)
        return decide(message, XSMTP_VERDICT_FAIL, XSMTP_REASON_FUTURE);
    return true;
}

bool
verifier_check_body(struct verifier_message *message, const char *body_hash)
{
    if (message->decided)
        return false;
    /* bh and the body hash are public values: no constant-time need. */
    if (body_hash == NULL || strcmp(body_hash, message->tags.bh) != 0)
        return decide(message, XSMTP_VERDICT_FAIL, XSMTP_REASON_BODY_CHANGED);
    return true;
}

void
verifier_query(const struct verifier_message *message, const char *relay, struct xsmtp_query *query)
{
    *query = (struct xsmtp_query){
        .identity = message->identity,
        .message_id = message->msgid,
        .from = message->from_address,
        .t = message->tags.t,
        .ip = message->tags.ip,
        .k = message->tags.k,
        .bh = message->tags.bh,
        .h = message->tags.h,
        .relay = relay != NULL && *relay != '\0' ? relay : NULL,
    };
}

void
verifier_token_input(const struct verifier_message *message, struct xsmtp_token_input *input)
{
    *input = (struct xsmtp_token_input){
        .identity = message->identity,
        .msgid = message->msgid,
        .from = message->from_address,
        .t = message->tags.t,
        .ip = message->tags.ip,
        .bh = message->tags.bh,
        .k = message->tags.k,
    };
}

const char *
verifier_identity_domain(const struct verifier_message *message)
{
    const char *at = strrchr(message->identity, '@');
    return at != NULL ? at + 1 : "";
}

void
verifier_result_from_answer(struct verifier_result *result, enum xsmtp_verdict verdict,
                            const char *reason, const char *component)
{
    verifier_result_set(result, verdict, verdict == XSMTP_VERDICT_PASS ? NULL : reason, component);
    if (verdict != XSMTP_VERDICT_PASS && result->reason[0] == '\0')
        copy_text(result->reason, sizeof result->reason, XSMTP_REASON_UNSPECIFIED);
}

void
verifier_result_from_cache(struct verifier_result *result, enum xsmtp_verdict verdict,
                           const char *reason, const char *component)
{
    verifier_result_set(result, verdict, reason, component);
    result->cached = true;
}

/* --- header texts ----------------------------------------------------------- */

struct text {
    char *out;
    size_t size;
    size_t used;
    bool overflow;
};

static void
put_bytes(struct text *text, const char *bytes, size_t length)
{
    if (text->overflow || length >= text->size - text->used) {
        text->overflow = true;
        return;
    }
    memcpy(text->out + text->used, bytes, length);
    text->used += length;
    text->out[text->used] = '\0';
}

static void
put(struct text *text, const char *string)
{
    put_bytes(text, string, strlen(string));
}

static bool
atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 Dot-string: atoms of atext joined by single dots. */
static bool
dot_string(const char *local, size_t length)
{
    if (length == 0 || local[0] == '.' || local[length - 1] == '.')
        return false;
    for (size_t i = 0; i < length; i++) {
        if (local[i] == '.' ? local[i + 1] == '.' : !atext((unsigned char)local[i]))
            return false;
    }
    return true;
}

/* local@domain as an RFC 5321 Mailbox: a local part that is not a
 * Dot-string becomes a quoted string with " and \ escaped. */
static void
put_mailbox(struct text *text, const char *address)
{
    const char *at = strrchr(address, '@');
    size_t local_length = at != NULL ? (size_t)(at - address) : strlen(address);
    bool quoted = !dot_string(address, local_length);

    if (!quoted) {
        put(text, address);
        return;
    }
    put(text, "\"");
    for (size_t i = 0; i < local_length; i++) {
        if (address[i] == '"' || address[i] == '\\')
            put(text, "\\");
        put_bytes(text, address + i, 1);
    }
    put(text, "\"");
    if (at != NULL)
        put(text, at);
}

/* The same inside a comment: ( ) and \ become quoted pairs (RFC 5322 ctext). */
static void
put_mailbox_in_comment(struct text *text, const char *address)
{
    char mailbox[MAILBOX_TEXT_SIZE];
    struct text plain = {mailbox, sizeof mailbox, 0, false};

    mailbox[0] = '\0';
    put_mailbox(&plain, address);
    if (plain.overflow) {
        text->overflow = true;
        return;
    }
    for (const char *p = mailbox; *p != '\0'; p++) {
        if (*p == '(' || *p == ')' || *p == '\\')
            put(text, "\\");
        put_bytes(text, p, 1);
    }
}

/* Whether the From address can go into header.from: printable ASCII,
 * local part 1..64 octets, a valid domain. */
static bool
from_displayable(const struct verifier_message *message)
{
    const char *address = message->from_address;
    const char *at = strrchr(address, '@');
    const char *reason = NULL;

    if (!message->from_ok || at == NULL || at == address ||
        (size_t)(at - address) > VERIFIER_LOCAL_MAX)
        return false;
    for (const char *p = address; p < at; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return false;
    return xsmtp_domain_check(at + 1, strlen(at + 1), &reason) == XSMTP_OK;
}

static bool
has_reason(const struct verifier_result *result)
{
    return (result->verdict == XSMTP_VERDICT_FAIL || result->verdict == XSMTP_VERDICT_PERMERROR ||
            result->verdict == XSMTP_VERDICT_TEMPERROR) &&
           result->reason[0] != '\0';
}

static xsmtp_status
finish(const struct text *text)
{
    return text->overflow ? XSMTP_ETOOBIG : XSMTP_OK;
}

xsmtp_status
verifier_format_verdict(const struct verifier_message *message,
                        const struct verifier_result *result, char *out, size_t outsz)
{
    struct text text = {out, outsz, 0, outsz == 0};

    if (outsz > 0)
        out[0] = '\0';
    put(&text, xsmtp_verdict_name(result->verdict));
    if (result->verdict == XSMTP_VERDICT_NONE)
        return finish(&text);
    put(&text, " (");
    if (message->identity_ok) {
        put(&text, "identity=");
        put_mailbox_in_comment(&text, message->identity);
        put(&text, "; ");
    }
    if (has_reason(result)) {
        put(&text, "reason=");
        put(&text, result->reason);
        put(&text, "; ");
    }
    if (result->component[0] != '\0') {
        put(&text, "component=");
        put(&text, result->component);
        put(&text, "; ");
    }
    put(&text, result->cached ? "cached=yes)" : "cached=no)");
    return finish(&text);
}

xsmtp_status
verifier_format_auth_results(const char *authserv_id, const struct verifier_message *message,
                             const struct verifier_result *result, char *out, size_t outsz)
{
    char parts[3][MAILBOX_TEXT_SIZE + 32];
    size_t count = 0, total;
    struct text part, text = {out, outsz, 0, outsz == 0};
    const char *separator;

    if (outsz > 0)
        out[0] = '\0';
    if (result->verdict != XSMTP_VERDICT_NONE) {
        if (has_reason(result))
            snprintf(parts[count++], sizeof parts[0], "reason=\"%s\"", result->reason);
        if (message->identity_ok) {
            part = (struct text){parts[count], sizeof parts[0], 0, false};
            put(&part, "header.x-xmpp-identity=");
            put_mailbox(&part, message->identity);
            if (part.overflow)
                return XSMTP_ETOOBIG;
            count++;
        }
        if (from_displayable(message)) {
            part = (struct text){parts[count], sizeof parts[0], 0, false};
            put(&part, "header.from=");
            put_mailbox(&part, message->from_address);
            if (part.overflow)
                return XSMTP_ETOOBIG;
            count++;
        }
    }
    put(&text, authserv_id != NULL ? authserv_id : "");
    put(&text, "; " XSMTP_AUTH_METHOD "=");
    put(&text, xsmtp_verdict_name(result->verdict));
    /* Fold only when the one-line form would break the line limit. */
    total = strlen(XSMTP_HEADER_AUTH_RESULTS ": ") + text.used;
    for (size_t i = 0; i < count; i++)
        total += 1 + strlen(parts[i]);
    separator = total > VERIFIER_LINE_MAX ? "\n\t" : " ";
    for (size_t i = 0; i < count; i++) {
        put(&text, separator);
        put(&text, parts[i]);
    }
    return finish(&text);
}

xsmtp_status
verifier_format_reply(const struct verifier_message *message, const struct verifier_result *result,
                      bool for_reply, char *out, size_t outsz)
{
    struct text text = {out, outsz, 0, outsz == 0};
    char identity[MAILBOX_TEXT_SIZE];
    struct text shown = {identity, sizeof identity, 0, false};
    bool printable = message->identity_ok;

    if (outsz > 0)
        out[0] = '\0';
    identity[0] = '\0';
    if (printable) {
        put_mailbox(&shown, message->identity);
        for (const char *p = identity; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                printable = false;
    }
    put(&text, "XSMTP verification failed");
    if (printable && !shown.overflow) {
        put(&text, " for ");
        /* smfi_setreply: a single '%' drops the text; write "%%". */
        for (const char *p = identity; *p != '\0'; p++) {
            if (*p == '%' && for_reply)
                put(&text, "%");
            put_bytes(&text, p, 1);
        }
    }
    put(&text, ": ");
    put(&text, result->reason[0] != '\0' ? result->reason : xsmtp_verdict_name(result->verdict));
    return finish(&text);
}
