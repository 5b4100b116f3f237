/*
 * hooks.c -- dispatch of the per-message hooks (hooks.h) to the signer
 * and the verifier, by the configured mode and the client.
 *
 * A message is the verifier's when `mode` contains verify and the client
 * is neither internal nor authenticated (inbound mail); everything else
 * is the signer's when `mode` contains sign (the signer itself passes on
 * what it does not sign), and passes through otherwise.  Both decisions
 * are taken at MAIL and kept in session->sign / session->verify, so the
 * later hooks only look at them.
 */
#include "config.h"

#include "milter/context.h"
#include "milter/hooks.h"
#include "milter/session.h"
#include "milter/sign/sign_filter.h"
#include "milter/verify/verify_filter.h"

static bool
signing(const struct milter_session *session)
{
    return (session->context->config->mode & MILTER_MODE_SIGN) != 0;
}

static bool
verifying(const struct milter_session *session)
{
    return (session->context->config->mode & MILTER_MODE_VERIFY) != 0;
}

sfsistat
hooks_message_begin(SMFICTX *ctx, struct milter_session *session)
{
    sfsistat status;

    if (verifying(session)) {
        status = verify_filter_begin(ctx, session);
        if (status != SMFIS_CONTINUE || verify_filter_active(session))
            return status;
    } else if (session->verify != NULL) {
        /* A reload switched verify off: forget the old decision. */
        verify_filter_session_end(session);
    }
    if (signing(session))
        return sign_filter_begin(ctx, session);
    return SMFIS_CONTINUE;
}

void
hooks_header(struct milter_session *session, const char *name, const char *value)
{
    if (verify_filter_active(session))
        verify_filter_header(session, name, value);
}

sfsistat
hooks_headers_done(SMFICTX *ctx, struct milter_session *session)
{
    if (verify_filter_active(session))
        return verify_filter_headers_done(ctx, session);
    if (signing(session))
        return sign_filter_headers_done(ctx, session);
    return SMFIS_CONTINUE;
}

sfsistat
hooks_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk, size_t length)
{
    if (verify_filter_active(session))
        return verify_filter_body(ctx, session, chunk, length);
    if (signing(session))
        return sign_filter_body(ctx, session, chunk, length);
    return SMFIS_CONTINUE;
}

sfsistat
hooks_message_end(SMFICTX *ctx, struct milter_session *session)
{
    if (verify_filter_active(session))
        return verify_filter_end(ctx, session);
    if (signing(session))
        return sign_filter_end(ctx, session);
    return SMFIS_ACCEPT;
}

void
hooks_message_abort(struct milter_session *session)
{
    /* The body hashers are reset at the next message; nothing is pending. */
    (void)session;
}

void
hooks_session_end(struct milter_session *session)
{
    sign_filter_session_end(session);
    verify_filter_session_end(session);
}

bool
hooks_delete_header(void *ctx, const char *name, int index)
{
    /* libmilter only reads the name; its prototype lacks the const. */
    return smfi_chgheader(ctx, (char *)name, index, NULL) == MI_SUCCESS;
}
