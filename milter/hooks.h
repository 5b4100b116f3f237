/*
 * hooks.h -- where signing and verifying plug into the milter.
 *
 * callbacks.c collects the facts (session.h, message.h) and calls these at
 * fixed points of every message.  Today they pass every message through
 * unchanged.  The signer (milter/sign*.c) and the verifier fill them in:
 * each hook reads session->context->config (the snapshot this message
 * keeps, see context.h) and session->message, and returns a libmilter
 * SMFIS_* code that callbacks.c hands back to the MTA unchanged.
 *
 * Order for one message:
 *   hooks_message_begin   at MAIL; message facts reset, macros {i} and
 *                         {auth_authen} read, snapshot refreshed
 *   hooks_header          for each header, after message.c recorded it
 *   hooks_headers_done    after the last header (EOH); every header fact known
 *   hooks_body            for each body chunk, as libmilter delivers it
 *   hooks_message_end     at EOM: the only place for smfi_insheader/chgheader
 *   hooks_message_abort   instead of the end when the MTA aborts the message
 * and once per connection, at xxfi_close:
 *   hooks_session_end     free session->sign / session->verify
 */
#ifndef XSMTP_HOOKS_H
#define XSMTP_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <libmilter/mfapi.h>

struct milter_session;

sfsistat hooks_message_begin(SMFICTX *ctx, struct milter_session *session);
/* Headers that only one filter cares about (the verifier's X-XSMTP-Fast-Track
 * and Jabber-ID) are tracked there, not in message.c. */
void hooks_header(struct milter_session *session, const char *name, const char *value);
sfsistat hooks_headers_done(SMFICTX *ctx, struct milter_session *session);
sfsistat hooks_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk,
                    size_t length);
sfsistat hooks_message_end(SMFICTX *ctx, struct milter_session *session);
void hooks_message_abort(struct milter_session *session);
void hooks_session_end(struct milter_session *session);

/* message_delete()'s hand for the filters: one smfi_chgheader() deletion
 * (ctx is the SMFICTX); false when libmilter refused it. */
bool hooks_delete_header(void *ctx, const char *name, int index);

#endif
