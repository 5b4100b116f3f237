/*
 * sign_filter.h -- the signer's part of the milter callbacks (hooks.c
 * dispatches here when `mode` contains sign).
 *
 * Which mail: the SMTP client is internal (sign.internal_hosts) or
 * authenticated ({auth_authen}), and the single From address's domain is
 * one of sign.domains.  Such a client never passes an X-XMPP-* header on
 * (XSMTP-1 s9): those are deleted whether or not the message is signed.
 */
#ifndef XSMTP_SIGN_FILTER_H
#define XSMTP_SIGN_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <libmilter/mfapi.h>

struct milter_session;

/* Whether the message in transit comes from a client we sign for. */
bool sign_filter_client_eligible(const struct milter_session *session);

/* At MAIL: starts a message (the body hasher is kept per connection). */
sfsistat sign_filter_begin(SMFICTX *ctx, struct milter_session *session);
/* At EOH: decides from the From header whether the body must be hashed. */
sfsistat sign_filter_headers_done(SMFICTX *ctx, struct milter_session *session);
sfsistat sign_filter_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk,
                          size_t length);
/* At EOM: deletes client X-XMPP-* headers, signs, answers the MTA. */
sfsistat sign_filter_end(SMFICTX *ctx, struct milter_session *session);
/* Frees session->sign (xxfi_close). */
void sign_filter_session_end(struct milter_session *session);

#endif
