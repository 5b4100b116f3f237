/*
 * proto.h -- the wire constants of XSMTP-1 in one place: header names,
 * the XMPP namespace with its element and attribute names, the verdict
 * and its reasons, and the delivery statuses of notices.  The signer,
 * the verifier, the cache, the XMPP client and the component all take
 * them from here (docs/PROTOCOL.md describes what each one means).
 */
#ifndef XSMTP_PROTO_H
#define XSMTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/* --- mail header fields (s2, s7, s9) -------------------------------------- */
#define XSMTP_HEADER_IDENTITY "X-XMPP-Identity"
#define XSMTP_HEADER_HASH "X-XMPP-Hash"
/* Every header whose name starts so belongs to us: a client's never passes. */
#define XSMTP_HEADER_XMPP_PREFIX "X-XMPP-"
#define XSMTP_HEADER_VERDICT "X-XSMTP-Verdict"
#define XSMTP_HEADER_AUTH_RESULTS "Authentication-Results"
/* Added on a fast-tracked pass; every incoming one is a forgery. */
#define XSMTP_HEADER_FAST_TRACK "X-XSMTP-Fast-Track"
#define XSMTP_FAST_TRACK_VALUE "yes"
/* RFC 7259; written on a pass when verify.add_jabber_id is set. */
#define XSMTP_HEADER_JABBER_ID "Jabber-ID"
#define XSMTP_HEADER_MESSAGE_ID "Message-ID"
/* The method name in Authentication-Results ("x-xsmtp=pass"). */
#define XSMTP_AUTH_METHOD "x-xsmtp"

/* --- XMPP (s5, s6, s8) ------------------------------------------------------ */
#define XSMTP_NS "urn:xmpp:xsmtp:1"
/* <iq type='get'><verify xmlns=XSMTP_NS identity=... relay=.../></iq> */
#define XSMTP_ELEMENT_VERIFY "verify"
#define XSMTP_ATTR_IDENTITY "identity"
#define XSMTP_ATTR_MESSAGE_ID "message-id"
#define XSMTP_ATTR_FROM "from"
#define XSMTP_ATTR_T "t"
#define XSMTP_ATTR_IP "ip"
#define XSMTP_ATTR_K "k"
#define XSMTP_ATTR_BH "bh"
#define XSMTP_ATTR_H "h"
#define XSMTP_ATTR_RELAY "relay" /* optional */
/* The values of those attributes: message-id and from as extracted (s3),
 * the others as written in the tags; relay NULL when not sent. */
struct xsmtp_query {
    const char *identity, *message_id, *from, *t, *ip, *k, *bh, *h;
    const char *relay;
};
/* <iq type='result'><verdict xmlns=XSMTP_NS result=... [reason=...]/></iq> */
#define XSMTP_ELEMENT_VERDICT "verdict"
#define XSMTP_ATTR_RESULT "result"
#define XSMTP_ATTR_REASON "reason"
/* <message><progress xmlns=XSMTP_NS identity= message-id= status= by= t=/></message> */
#define XSMTP_ELEMENT_PROGRESS "progress"
#define XSMTP_ATTR_STATUS "status"
#define XSMTP_ATTR_BY "by"

/* t may be at most this many seconds ahead of a verifier's clock (s2). */
#define XSMTP_FUTURE_SKEW 300

/* --- the verdict (s7) --------------------------------------------------------- */
enum xsmtp_verdict {
    XSMTP_VERDICT_NONE, /* no XSMTP header: nothing to verify */
    XSMTP_VERDICT_PASS,
    XSMTP_VERDICT_FAIL,
    XSMTP_VERDICT_PERMERROR,
    XSMTP_VERDICT_TEMPERROR
};
#define XSMTP_VERDICT_COUNT 5

/* "none", "pass", "fail", "permerror", "temperror"; "?" outside the enum. */
const char *xsmtp_verdict_name(enum xsmtp_verdict verdict);
/* The verdict named word[0..len) exactly (lowercase); false when none is. */
bool xsmtp_verdict_parse(const char *word, size_t len, enum xsmtp_verdict *out);

/* Room for any reason plus its NUL: 1..63 of A-Z a-z 0-9 . _ - */
#define XSMTP_REASON_SIZE 64

/* fail, as a component answers it (s6); expired and future are also
 * decided locally by the verifier, against its own clock. */
#define XSMTP_REASON_BAD_HASH "bad-hash"
#define XSMTP_REASON_UNKNOWN_KEY "unknown-key"
#define XSMTP_REASON_REVOKED "revoked"
#define XSMTP_REASON_IDENTITY_NOT_ALLOWED "identity-not-allowed"
#define XSMTP_REASON_EXPIRED "expired"
#define XSMTP_REASON_FUTURE "future"
#define XSMTP_REASON_RELAY_NOT_AUTHORIZED "relay-not-authorized"
/* fail, decided by the verifier: the body is not the one signed. */
#define XSMTP_REASON_BODY_CHANGED "body-changed"
/* fail from a component that gave no usable reason. */
#define XSMTP_REASON_UNSPECIFIED "unspecified"

/* permerror, decided from the headers alone (s7). */
#define XSMTP_REASON_MULTIPLE_IDENTITY "multiple-identity"
#define XSMTP_REASON_MULTIPLE_HASH "multiple-hash"
#define XSMTP_REASON_MISSING_IDENTITY "missing-identity"
#define XSMTP_REASON_MISSING_HASH "missing-hash"
#define XSMTP_REASON_MALFORMED_IDENTITY "malformed-identity"
#define XSMTP_REASON_MALFORMED_HASH "malformed-hash"
#define XSMTP_REASON_MISSING_FROM "missing-from"
#define XSMTP_REASON_MULTIPLE_FROM "multiple-from"
#define XSMTP_REASON_MULTIPLE_MAILBOXES "multiple-mailboxes"
#define XSMTP_REASON_MALFORMED_FROM "malformed-from"
#define XSMTP_REASON_MISSING_MESSAGE_ID "missing-message-id"
#define XSMTP_REASON_MULTIPLE_MESSAGE_ID "multiple-message-id"
#define XSMTP_REASON_MALFORMED_MESSAGE_ID "malformed-message-id"
/* permerror: no component found for the identity's domain (s5). */
#define XSMTP_REASON_NO_COMPONENT "no-component"
/* permerror: the answer was no verdict s6 defines. */
#define XSMTP_REASON_MALFORMED_ANSWER "malformed-answer"
/* permerror: a value of the query cannot be sent; nothing was. */
#define XSMTP_REASON_BAD_QUERY "bad-query"

/* temperror, when no answer came back. */
#define XSMTP_REASON_TIMEOUT "timeout"
#define XSMTP_REASON_DISCONNECTED "disconnected"
#define XSMTP_REASON_OVERLOADED "overloaded"
#define XSMTP_REASON_INTERNAL_ERROR "internal-error"
/* Why discovery found no component: the domain lists no items, or none
 * of them has the XSMTP_NS feature (both mean permerror no-component). */
#define XSMTP_REASON_NO_ITEMS "no-items"
#define XSMTP_REASON_NO_FEATURE "no-feature"
/* temperror: discovery could not tell now and gave no better reason. */
#define XSMTP_REASON_DISCOVERY_FAILED "discovery-failed"

/* Stanza errors a component answers a verify query with (s6); the
 * condition becomes the reason of a permerror (bad-request,
 * item-not-found) or of a temperror (type wait). */
#define XSMTP_ERROR_BAD_REQUEST "bad-request"                 /* modify */
#define XSMTP_ERROR_ITEM_NOT_FOUND "item-not-found"           /* cancel */
#define XSMTP_ERROR_RESOURCE_CONSTRAINT "resource-constraint" /* wait */
#define XSMTP_ERROR_INTERNAL "internal-server-error"          /* wait */
/* The reason when an error names no condition. */
#define XSMTP_ERROR_UNDEFINED "undefined-condition"

/* --- notices (s8): what became of a passed message ----------------------- */
#define XSMTP_STATUS_ACCEPTED "accepted"
#define XSMTP_STATUS_QUARANTINED "quarantined"
#define XSMTP_STATUS_REJECTED "rejected"
#define XSMTP_STATUS_DEFERRED "deferred"

#endif
