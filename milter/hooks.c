/*
 * hooks.c -- dispatch of the per-message hooks (hooks.h) to the signer
 * and, later, the verifier, by the configured mode.
 *
 * A message is the signer's when `mode` contains sign and the client is
 * internal or authenticated; everything else passes through (and will be
 * the verifier's when `mode` contains verify).  The decision is taken at
 * MAIL and kept in session->sign, so the later hooks only look at it.
 */
#include "config.h"

#include "context.h"
#include "hooks.h"
#include "session.h"
#include "sign_filter.h"

static bool signing(const struct milter_session *session)
{
    return (session->context->config->mode & MILTER_MODE_SIGN) != 0;
}

sfsistat hooks_message_begin(SMFICTX *ctx, struct milter_session *session)
{
    if (signing(session))
        return sign_filter_begin(ctx, session);
    return SMFIS_CONTINUE;
}

sfsistat hooks_headers_done(SMFICTX *ctx, struct milter_session *session)
{
    if (signing(session))
        return sign_filter_headers_done(ctx, session);
    return SMFIS_CONTINUE;
}

sfsistat hooks_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk,
                    size_t length)
{
    if (signing(session))
        return sign_filter_body(ctx, session, chunk, length);
    return SMFIS_CONTINUE;
}

sfsistat hooks_message_end(SMFICTX *ctx, struct milter_session *session)
{
    if (signing(session))
        return sign_filter_end(ctx, session);
    return SMFIS_ACCEPT;
}

void hooks_message_abort(struct milter_session *session)
{
    /* The body hasher is reset at the next MAIL; nothing is pending. */
    (void)session;
}

void hooks_session_end(struct milter_session *session)
{
    sign_filter_session_end(session);
}
