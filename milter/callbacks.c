/*
 * callbacks.c -- the libmilter callbacks, kept thin on purpose.
 *
 * Each callback finds its session (smfi_getpriv), records facts
 * (session.c, message.c) and calls the hook for that step (hooks.h).  No
 * policy lives here.  Steps we never need (RCPT, DATA, unknown commands)
 * are switched off in negotiation so the MTA does not send them.
 *
 * A failure of our own (out of memory, a callback without a session) is
 * answered as configured by on_internal_error: tempfail (the MTA retries
 * later) or accept (mail flows unsigned).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hash/util/log.h"
#include "milter/callbacks.h"
#include "milter/hooks.h"
#include "milter/session.h"
#include "milter/stats.h"

/* The configured answer when we cannot do our job (on_internal_error). */
static sfsistat
callbacks_fallback(const struct milter_session *session, int level, const char *what,
                   const char *step)
{
    struct milter_context *context = session != NULL ? session->context : context_acquire();
    enum milter_on_internal_error action =
        context != NULL ? context->config->on_internal_error : MILTER_ON_ERROR_TEMPFAIL;

    if (session == NULL)
        context_release(context);
    log_msg(level, "%s at %s: answering %s", what, step,
            action == MILTER_ON_ERROR_ACCEPT ? "accept" : "tempfail");
    return action == MILTER_ON_ERROR_ACCEPT ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

/* What to answer when our own code failed. */
static sfsistat
callbacks_internal_error(const struct milter_session *session, const char *step)
{
    stats_count(STATS_INTERNAL_ERRORS);
    return callbacks_fallback(session, LOG_ERR, "internal error", step);
}

/*
 * During an orderly stop nothing new may start (signals.c, context.h):
 * answered as for an internal error, since the milter cannot do its job.
 */
static sfsistat
callbacks_stopping(const struct milter_session *session, const char *step)
{
    return callbacks_fallback(session, LOG_INFO, "stopping", step);
}

static struct milter_session *
callbacks_session(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static sfsistat
callbacks_negotiate(SMFICTX *ctx, unsigned long offered_actions, unsigned long offered_steps,
                    unsigned long unused2, unsigned long unused3, unsigned long *actions,
                    unsigned long *steps, unsigned long *unused2_out, unsigned long *unused3_out)
{
    /* Header changes are for the signer and verifier, quarantine for the
     * verifier's verify.on_* = quarantine; the symbol list asks for
     * {auth_authen} at MAIL (Postfix does not send it everywhere). */
    const unsigned long wanted_actions =
        SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    unsigned long skipped_steps = SMFIP_NOUNKNOWN;
    struct milter_context *context = context_acquire();

    /*
     * RCPT and DATA tell us nothing, but over TCP skipping them costs ~40 ms
     * a message: Postfix still sends their macros, in writes of their own
     * with no reply between them, so Nagle on its side waits for our delayed
     * ACK (docs/PERFORMANCE.md).  A reply to each step keeps the exchange a
     * ping-pong; on a unix socket there is no such stall and we skip them.
     */
    if (context != NULL && context->config->socket_spec.kind == SOCKET_UNIX)
        skipped_steps |= SMFIP_NORCPT | SMFIP_NODATA;
    if (context != NULL)
        context_release(context);
    (void)unused2;
    (void)unused3;
    *actions = offered_actions & wanted_actions;
    *steps = offered_steps & skipped_steps;
    *unused2_out = 0;
    *unused3_out = 0;
    if ((*actions & SMFIF_SETSYMLIST) != 0 &&
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen} i") != MI_SUCCESS)
        log_msg(LOG_WARNING, "cannot ask the MTA for {auth_authen} at MAIL");
    return SMFIS_CONTINUE;
}

static sfsistat
callbacks_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct milter_session *session;

    if (context_stopping())
        return callbacks_stopping(NULL, "connect");
    session = session_open(hostname, hostaddr);
    if (session == NULL)
        return callbacks_internal_error(NULL, "connect");
    if (smfi_setpriv(ctx, session) != MI_SUCCESS) {
        session_close(session);
        return callbacks_internal_error(NULL, "connect");
    }
    if (log_enabled(LOG_DEBUG))
        log_msg(LOG_DEBUG, "connect from %s [%s]%s (configuration %lu)", session->client_host,
                session->client_addr_known ? session->client_ip : "unknown",
                session->client_internal ? " internal" : "", session->context->generation);
    return SMFIS_CONTINUE;
}

static sfsistat
callbacks_helo(SMFICTX *ctx, char *helo)
{
    struct milter_session *session = callbacks_session(ctx);

    if (session == NULL)
        return callbacks_internal_error(NULL, "HELO");
    snprintf(session->helo, sizeof session->helo, "%s", helo != NULL ? helo : "");
    return SMFIS_CONTINUE;
}

static sfsistat
callbacks_envfrom(SMFICTX *ctx, char **argv)
{
    struct milter_session *session = callbacks_session(ctx);
    struct milter_message *message;

    (void)argv;
    if (session == NULL)
        return callbacks_internal_error(NULL, "MAIL");
    if (!session_message_begin(session))
        return callbacks_stopping(session, "MAIL");
    message = &session->message;
    message_copy_macro(message->queue_id, sizeof message->queue_id, smfi_getsymval(ctx, "i"));
    message_copy_macro(message->auth_authen, sizeof message->auth_authen,
                       smfi_getsymval(ctx, "{auth_authen}"));
    message->authenticated = message->auth_authen[0] != '\0';
    return hooks_message_begin(ctx, session);
}

static sfsistat
callbacks_header(SMFICTX *ctx, char *name, char *value)
{
    struct milter_session *session = callbacks_session(ctx);

    if (session == NULL)
        return callbacks_internal_error(NULL, "header");
    message_header(&session->message, name, value, session->context->config->authserv_id);
    hooks_header(session, name, value);
    return SMFIS_CONTINUE;
}

static sfsistat
callbacks_eoh(SMFICTX *ctx)
{
    struct milter_session *session = callbacks_session(ctx);

    if (session == NULL)
        return callbacks_internal_error(NULL, "end of headers");
    return hooks_headers_done(ctx, session);
}

static sfsistat
callbacks_body(SMFICTX *ctx, unsigned char *chunk, size_t length)
{
    struct milter_session *session = callbacks_session(ctx);

    if (session == NULL)
        return callbacks_internal_error(NULL, "body");
    session->message.body_bytes += length;
    return hooks_body(ctx, session, chunk, length);
}

static sfsistat
callbacks_eom(SMFICTX *ctx)
{
    struct milter_session *session = callbacks_session(ctx);
    struct milter_message *message;
    sfsistat result;

    if (session == NULL)
        return callbacks_internal_error(NULL, "end of message");
    message = &session->message;
    if (message->queue_id[0] == '\0')
        message_copy_macro(message->queue_id, sizeof message->queue_id, smfi_getsymval(ctx, "i"));
    result = hooks_message_end(ctx, session);
    if (log_enabled(LOG_DEBUG))
        log_msg(LOG_DEBUG, "%s: message from [%s]: %lu headers, %llu body bytes, passed on",
                message->queue_id[0] != '\0' ? message->queue_id : "NOQUEUE",
                session->client_addr_known ? session->client_ip : "unknown", message->header_count,
                message->body_bytes);
    session_message_end(session);
    return result;
}

static sfsistat
callbacks_abort(SMFICTX *ctx)
{
    struct milter_session *session = callbacks_session(ctx);

    if (session == NULL)
        return SMFIS_CONTINUE;
    if (session->message.open) {
        hooks_message_abort(session);
        session_message_end(session);
    }
    message_reset(&session->message);
    return SMFIS_CONTINUE;
}

static sfsistat
callbacks_close(SMFICTX *ctx)
{
    struct milter_session *session = callbacks_session(ctx);

    if (session != NULL) {
        smfi_setpriv(ctx, NULL);
        session_close(session);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc *
callbacks_filter(void)
{
    static char filter_name[] = "xsmtp-milter";
    /* Read-only after start: libmilter keeps the pointer. */
    static struct smfiDesc filter = {
        .xxfi_name = filter_name,
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
        .xxfi_connect = callbacks_connect,
        .xxfi_helo = callbacks_helo,
        .xxfi_envfrom = callbacks_envfrom,
        .xxfi_envrcpt = NULL,
        .xxfi_header = callbacks_header,
        .xxfi_eoh = callbacks_eoh,
        .xxfi_body = callbacks_body,
        .xxfi_eom = callbacks_eom,
        .xxfi_abort = callbacks_abort,
        .xxfi_close = callbacks_close,
        .xxfi_unknown = NULL,
        .xxfi_data = NULL,
        .xxfi_negotiate = callbacks_negotiate,
    };
    return &filter;
}
