/*
 * verify_filter.h -- the verifier's part of the milter callbacks (hooks.c
 * dispatches here when `mode` contains verify).
 *
 * Which mail: every message whose SMTP client is neither internal
 * (sign.internal_hosts) nor authenticated ({auth_authen}); that mail is
 * inbound.  Internal and authenticated mail is the signer's when mode
 * contains sign, and passes untouched otherwise.
 *
 * At end of message the verifier deletes every X-XSMTP-Verdict header and
 * every Authentication-Results header under our authserv-id, decides
 * (verifier.c locally, verify_resolve over the network), inserts its own
 * two headers at the top, and applies verify.on_<verdict>.  Around that:
 * fast-track, Jabber-ID and the s8 notice (verify_policy.h).
 */
#ifndef XSMTP_VERIFY_FILTER_H
#define XSMTP_VERIFY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <libmilter/mfapi.h>

struct milter_session;

/* At MAIL: decides whether this message is the verifier's. */
sfsistat verify_filter_begin(SMFICTX *ctx, struct milter_session *session);
/* Whether the message in transit is the verifier's (after begin). */
bool verify_filter_active(const struct milter_session *session);
/* Each header (after message.c saw it): counts X-XSMTP-Fast-Track and
 * Jabber-ID, which the end of message may delete. */
void verify_filter_header(struct milter_session *session, const char *name, const char *value);
/* At EOH: decides from the headers alone whether the body must be hashed. */
sfsistat verify_filter_headers_done(SMFICTX *ctx, struct milter_session *session);
sfsistat verify_filter_body(SMFICTX *ctx, struct milter_session *session,
                            const unsigned char *chunk, size_t length);
/* At EOM: verdict, header edits, action. */
sfsistat verify_filter_end(SMFICTX *ctx, struct milter_session *session);
/* Frees session->verify (xxfi_close). */
void verify_filter_session_end(struct milter_session *session);

#endif
