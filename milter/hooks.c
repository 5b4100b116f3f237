/*
 * hooks.c -- the pass-through hook bodies (hooks.h).
 *
 * Each function states what the signer/verifier is expected to do there.
 * Dispatch by mode goes here, e.g. in hooks_message_end():
 *
 *     if ((config->mode & MILTER_MODE_SIGN) != 0 && <sign policy>)
 *         return sign_message_end(ctx, session);
 *
 * where the sign policy uses session->client_internal and
 * session->message.authenticated.
 */
#include "config.h"

#include "hooks.h"
#include "session.h"

sfsistat hooks_message_begin(SMFICTX *ctx, struct milter_session *session)
{
    /* Signer: decide here whether this message will be signed and reset
     * the per-connection body hasher (no allocation per message). */
    (void)ctx;
    (void)session;
    return SMFIS_CONTINUE;
}

sfsistat hooks_headers_done(SMFICTX *ctx, struct milter_session *session)
{
    /* Signer: From / Message-ID counts are final here; a message that
     * cannot be signed may stop collecting the body (SMFIS_CONTINUE and
     * ignore it: SMFIS_SKIP needs negotiation per connection). */
    (void)ctx;
    (void)session;
    return SMFIS_CONTINUE;
}

sfsistat hooks_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk,
                    size_t length)
{
    /* Signer and verifier: feed the body hash (xsmtp_bodyhash_update). */
    (void)ctx;
    (void)session;
    (void)chunk;
    (void)length;
    return SMFIS_CONTINUE;
}

sfsistat hooks_message_end(SMFICTX *ctx, struct milter_session *session)
{
    /* Signer: delete tracked X-XMPP-* headers (highest index first), insert
     * X-XMPP-Identity and X-XMPP-Hash.  Verifier: remove forged verdicts,
     * insert ours at index 0. */
    (void)ctx;
    (void)session;
    return SMFIS_ACCEPT;
}

void hooks_message_abort(struct milter_session *session)
{
    /* Signer/verifier: drop per-message state (cancel a pending query). */
    (void)session;
}

void hooks_session_end(struct milter_session *session)
{
    /* Signer/verifier: free session->sign and session->verify. */
    (void)session;
}
