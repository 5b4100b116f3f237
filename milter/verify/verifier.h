/*
 * verifier.h -- what the verifier decides and writes, without libmilter
 * and without any network (XSMTP-1 s3, s6, s7).
 *
 * The milter glue (verify_filter.c) hands over the header facts of one
 * message; this module parses them with hash/ and decides every outcome
 * of s7 that needs no query: none, permerror for malformed, duplicated or
 * missing headers, fail for t outside the verifier's own window, fail
 * body-changed.  For the rest it builds the s6 query.  Whatever the
 * verdict came from (local, cache, component), it builds the exact
 * X-XSMTP-Verdict and Authentication-Results values and the SMTP reply.
 *
 * Order of the local checks (the first that applies decides):
 *   1. neither X-XMPP-Identity nor X-XMPP-Hash            none
 *   2. X-XMPP-Identity twice / X-XMPP-Hash twice           permerror multiple-identity /
 *                                                          multiple-hash
 *   3. only X-XMPP-Hash / only X-XMPP-Identity             permerror missing-identity /
 *                                                          missing-hash
 *   4. identity not a bare JID / hash not a valid tag list permerror malformed-identity /
 *                                                          malformed-hash
 *   5. From: none, several, several mailboxes, unusable    permerror missing-from,
 *                                                          multiple-from, multiple-mailboxes,
 *                                                          malformed-from
 *   6. Message-ID: none, several, unusable                 permerror missing-message-id,
 *                                                          multiple-message-id,
 *                                                          malformed-message-id
 *   7. now - t > max_age / t - now > 300                   fail expired / future
 *   8. (after the body) body hash differs from bh          fail body-changed
 */
#ifndef XSMTP_VERIFIER_H
#define XSMTP_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash/extract.h"
#include "hash/identity.h"
#include "hash/proto.h"
#include "hash/taglist.h"
#include "hash/token.h"
#include "hash/util/status.h"

#define VERIFIER_JID_SIZE (XSMTP_DOMAIN_MAX + 1)

/* One header as the glue saw it: first value, how many, too long. */
struct verifier_header {
    const char *value; /* first value as handed over (folding kept); may be NULL */
    unsigned count;
    bool too_long; /* first value longer than XSMTP_HEADER_VALUE_MAX */
};

struct verifier_facts {
    struct verifier_header identity; /* X-XMPP-Identity */
    struct verifier_header hash;     /* X-XMPP-Hash */
    struct verifier_header from;
    struct verifier_header message_id;
    int64_t now;     /* Unix seconds */
    int64_t max_age; /* verify.max_age, seconds */
};

/* The outcome, however it was reached. */
struct verifier_result {
    enum xsmtp_verdict verdict;
    char reason[XSMTP_REASON_SIZE];    /* "" for none and pass */
    char component[VERIFIER_JID_SIZE]; /* the component that answered; "" if none */
    bool cached;                       /* taken from the verdict cache */
};

/* Everything parsed from one message; large (two header values): keep it
 * per connection, not on the stack. */
struct verifier_message {
    bool decided; /* result holds the final local outcome */
    struct verifier_result result;
    bool identity_ok; /* identity holds a valid, lowercased JID */
    char identity[XSMTP_IDENTITY_SIZE];
    bool from_ok;       /* from_address was extracted */
    bool from_multiple; /* From holds several mailboxes */
    char from_address[XSMTP_EXTRACT_SIZE];
    bool msgid_ok;
    char msgid[XSMTP_EXTRACT_SIZE];
    bool tags_ok;
    struct xsmtp_hash_tags tags;
    const char *detail; /* for the log: why malformed (static text) */
};

/*
 * Steps 1 to 7.  Returns true when the message needs its body hash and a
 * query (message->decided false), false when the outcome is decided
 * (message->result holds it).
 */
bool verifier_check_headers(const struct verifier_facts *facts, struct verifier_message *message);

/* Step 8: body_hash is the 44-character bh of the body received.  Returns
 * true when the query is still needed. */
bool verifier_check_body(struct verifier_message *message, const char *body_hash);

/* The s6 query (pointers into message); relay NULL or "" sends none. */
void verifier_query(const struct verifier_message *message, const char *relay,
                    struct xsmtp_query *query);
/* The s3 canonical input's values, for the cache key. */
void verifier_token_input(const struct verifier_message *message, struct xsmtp_token_input *input);

/* The identity's domain (message->identity_ok must hold). */
const char *verifier_identity_domain(const struct verifier_message *message);

/* Sets a result (reason NULL for none); component NULL for none. */
void verifier_result_set(struct verifier_result *result, enum xsmtp_verdict verdict,
                         const char *reason, const char *component);
/* From a component's answer: anything but a pass without a reason gets
 * "unspecified". */
void verifier_result_from_answer(struct verifier_result *result, enum xsmtp_verdict verdict,
                                 const char *reason, const char *component);
/* From the verdict cache: as verifier_result_set, and cached becomes true. */
void verifier_result_from_cache(struct verifier_result *result, enum xsmtp_verdict verdict,
                                const char *reason, const char *component);

/*
 * Header values of s7 (without the name), as libmilter wants them (a
 * folded line break is "\n\t").  XSMTP_ETOOBIG when out is too small.
 *   X-XSMTP-Verdict: pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)
 *   X-XSMTP-Verdict: fail (identity=alice@a.test; reason=bad-hash; component=...; cached=no)
 *   Authentication-Results: mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test
 *       header.from=alice@a.test                      (one line unless over 998 octets)
 * Parts are left out when unknown: identity= and header.x-xmpp-identity
 * without a valid identity, component= without a component, header.from
 * without a usable From address; none is written as "none" and
 * "AUTHSERV; x-xsmtp=none".  A local part that is not a dot-atom is
 * written as an RFC 5321 quoted string; in the comment, ( ) and \ are
 * escaped as quoted pairs.
 */
xsmtp_status verifier_format_verdict(const struct verifier_message *message,
                                     const struct verifier_result *result, char *out, size_t outsz);
xsmtp_status verifier_format_auth_results(const char *authserv_id,
                                          const struct verifier_message *message,
                                          const struct verifier_result *result, char *out,
                                          size_t outsz);
/*
 * The text of a reject or tempfail reply or of a quarantine reason:
 * "XSMTP verification failed for alice@a.test: bad-hash", or "XSMTP
 * verification failed: REASON" without a printable identity.  for_reply
 * doubles '%' as smfi_setreply wants (a single '%' makes it drop the text).
 */
xsmtp_status verifier_format_reply(const struct verifier_message *message,
                                   const struct verifier_result *result, bool for_reply, char *out,
                                   size_t outsz);

#endif
