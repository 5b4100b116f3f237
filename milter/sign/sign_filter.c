/*
 * sign_filter.c -- libmilter glue of the signer: collects the body hash,
 * asks signer.c what to write, and edits the header at end of message.
 *
 * Per connection we keep one body hasher (its digest context is allocated
 * once and reset per message), so signing allocates nothing per message
 * and does no I/O beyond the log line.  Every failure of our own ends in
 * sign.on_internal_error's answer, never in a lost message.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash/bodyhash.h"
#include "hash/proto.h"
#include "hash/util/log.h"
#include "milter/config/identity_map.h"
#include "milter/context.h"
#include "milter/hooks.h"
#include "milter/session.h"
#include "milter/sign/sign_filter.h"
#include "milter/sign/signer.h"
#include "milter/stats.h"

struct sign_session {
    struct xsmtp_bodyhash *bodyhash; /* per connection, reset per message */
    bool client_eligible;            /* internal or authenticated, sign mode */
    bool from_eligible;              /* From domain is a signing domain */
    enum sign_outcome from_outcome;  /* why not, when !from_eligible */
    bool failed;                     /* an internal error happened mid-message */
};

bool
sign_filter_client_eligible(const struct milter_session *session)
{
    return session->client_internal || session->message.authenticated;
}

/* The reply for an internal error, as on_internal_error says. */
static sfsistat
internal_error(SMFICTX *ctx, const struct milter_session *session, const char *what)
{
    const struct milter_config *config = session->context->config;

    stats_count(STATS_INTERNAL_ERRORS);
    if (config->on_internal_error == MILTER_ON_ERROR_ACCEPT) {
        log_msg(LOG_ERR,
                "%s: internal error while signing (%s); accepting unsigned "
                "(on_internal_error = accept)",
                session_queue_id(session), what);
        return SMFIS_ACCEPT;
    }
    log_msg(LOG_ERR,
            "%s: internal error while signing (%s); answering tempfail "
            "(on_internal_error = tempfail)",
            session_queue_id(session), what);
    (void)smfi_setreply(ctx, "451", "4.3.0",
                        "xsmtp: internal error while signing, try again later");
    return SMFIS_TEMPFAIL;
}

sfsistat
sign_filter_begin(SMFICTX *ctx, struct milter_session *session)
{
    struct sign_session *sign = session->sign;

    if (sign == NULL) {
        sign = calloc(1, sizeof *sign);
        if (sign == NULL)
            return internal_error(ctx, session, "out of memory");
        session->sign = sign;
    }
    sign->client_eligible = sign_filter_client_eligible(session);
    sign->from_eligible = false;
    sign->from_outcome = SIGN_SKIP_NO_FROM;
    sign->failed = false;
    if (!sign->client_eligible)
        return SMFIS_CONTINUE;
    if (sign->bodyhash == NULL && xsmtp_bodyhash_new(&sign->bodyhash) != XSMTP_OK) {
        sign->failed = true;
        return SMFIS_CONTINUE; /* answered at end of message */
    }
    if (xsmtp_bodyhash_reset(sign->bodyhash) != XSMTP_OK)
        sign->failed = true;
    return SMFIS_CONTINUE;
}

static const char *
map_lookup(const void *map, const char *address)
{
    return identity_map_lookup(map, address);
}

static struct sign_policy
policy_of(const struct milter_config *config)
{
    return (struct sign_policy){
        .domains = (const char *const *)config->sign.domains,
        .domain_count = config->sign.domain_count,
        .keys = config->sign.keys,
        .identity_lookup = config->sign.identity_map != NULL ? map_lookup : NULL,
        .identity_map = config->sign.identity_map,
    };
}

sfsistat
sign_filter_headers_done(SMFICTX *ctx, struct milter_session *session)
{
    struct sign_session *sign = session->sign;
    const struct milter_message *message = &session->message;
    struct sign_policy policy;
    char address[XSMTP_EXTRACT_SIZE];

    (void)ctx;
    if (sign == NULL || !sign->client_eligible)
        return SMFIS_CONTINUE;
    policy = policy_of(session->context->config);
    sign->from_outcome = signer_check_from(&policy, message->from.value, message->from.count,
                                           address, sizeof address);
    if (message->from.too_long)
        sign->from_outcome = SIGN_SKIP_BAD_FROM;
    sign->from_eligible = sign->from_outcome == SIGN_OK;
    return SMFIS_CONTINUE;
}

sfsistat
sign_filter_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk,
                 size_t length)
{
    struct sign_session *sign = session->sign;

    (void)ctx;
    if (sign == NULL || !sign->from_eligible || sign->failed)
        return SMFIS_CONTINUE;
    if (xsmtp_bodyhash_update(sign->bodyhash, chunk, length) != XSMTP_OK)
        sign->failed = true;
    return SMFIS_CONTINUE;
}

/*
 * XSMTP-1 s9: the signer never passes on an X-XMPP-* header a client put
 * in.  message.c remembers every one of them, however many (message.h).
 */
static bool
delete_client_xmpp_headers(SMFICTX *ctx, const struct milter_session *session)
{
    return message_delete(&session->message, MESSAGE_DELETE_CLIENT_XMPP, hooks_delete_header, ctx);
}

static void
log_not_signed(const struct milter_session *session, enum sign_outcome outcome,
               const struct sign_result *result)
{
    stats_count(STATS_NOT_SIGNED);
    if (outcome == SIGN_SKIP_NO_KEY && result != NULL)
        log_msg(LOG_WARNING, "%s: not signed: no key for identity %s", session_queue_id(session),
                result->identity);
    else if (outcome == SIGN_SKIP_FOREIGN_DOMAIN)
        log_msg(LOG_DEBUG, "%s: not signed: %s", session_queue_id(session),
                signer_outcome_str(outcome));
    else
        log_msg(LOG_INFO, "%s: not signed: %s", session_queue_id(session),
                signer_outcome_str(outcome));
}

static sfsistat
sign_and_edit(SMFICTX *ctx, struct milter_session *session)
{
    const struct milter_config *config = session->context->config;
    const struct milter_message *message = &session->message;
    struct sign_session *sign = session->sign;
    struct sign_policy policy = policy_of(config);
    struct sign_result result;
    struct sign_facts facts;
    char body_hash[XSMTP_B64_SHA256 + 1];
    enum sign_outcome outcome;

    if (xsmtp_bodyhash_final(sign->bodyhash, body_hash) != XSMTP_OK)
        return internal_error(ctx, session, "body hash");
    facts = (struct sign_facts){
        .from_value = message->from.value,
        .from_count = message->from.count,
        .msgid_value = message->message_id.value,
        .msgid_count = message->message_id.count,
        .client_ip =
            config->sign.ip_source == SIGN_IP_FIXED ? config->sign.fixed_ip : session->client_ip,
        .body_hash = body_hash,
        .now = time(NULL),
    };
    if (message->message_id.too_long) {
        log_msg(LOG_INFO, "%s: not signed: Message-ID longer than %d octets",
                session_queue_id(session), XSMTP_HEADER_VALUE_MAX);
        return SMFIS_ACCEPT;
    }
    if (facts.client_ip[0] == '\0') {
        log_msg(LOG_INFO, "%s: not signed: the client has no IP address (set sign.ip)",
                session_queue_id(session));
        return SMFIS_ACCEPT;
    }
    outcome = signer_sign(&policy, &facts, &result);
    if (outcome == SIGN_ERROR)
        return internal_error(ctx, session, "building the token");
    if (outcome != SIGN_OK) {
        log_not_signed(session, outcome, &result);
        return SMFIS_ACCEPT;
    }
    if (result.added_msgid[0] != '\0' &&
        smfi_addheader(ctx, XSMTP_HEADER_MESSAGE_ID, result.added_msgid) != MI_SUCCESS)
        return internal_error(ctx, session, "adding Message-ID");
    /* Hash first, then Identity, both at index 0: Identity ends up on top. */
    if (smfi_insheader(ctx, 0, XSMTP_HEADER_HASH, result.hash_value) != MI_SUCCESS ||
        smfi_insheader(ctx, 0, XSMTP_HEADER_IDENTITY, result.identity) != MI_SUCCESS)
        return internal_error(ctx, session, "inserting headers");
    stats_count(STATS_SIGNED);
    log_msg(LOG_INFO, "%s: signed identity=%s key=%s ip=%s%s", session_queue_id(session),
            result.identity, result.key_id, facts.client_ip,
            result.added_msgid[0] != '\0' ? " (Message-ID added)" : "");
    return SMFIS_ACCEPT;
}

sfsistat
sign_filter_end(SMFICTX *ctx, struct milter_session *session)
{
    struct sign_session *sign = session->sign;

    if (sign == NULL)
        return SMFIS_ACCEPT;
    if (!sign->client_eligible) {
        log_msg(LOG_DEBUG, "%s: not signed: client %s is neither internal nor authenticated",
                session_queue_id(session),
                session->client_ip[0] != '\0' ? session->client_ip : "(unknown)");
        return SMFIS_ACCEPT;
    }
    /*
     * Deletion comes before any internal-error answer: with
     * on_internal_error = accept the message still goes on, and a client's
     * X-XMPP-* headers must never go with it (XSMTP-1 s9).
     */
    if (!delete_client_xmpp_headers(ctx, session))
        return internal_error(ctx, session, "deleting client X-XMPP-* headers");
    if (sign->failed)
        return internal_error(ctx, session, "body hasher");
    if (!sign->from_eligible) {
        log_not_signed(session, sign->from_outcome, NULL);
        return SMFIS_ACCEPT;
    }
    return sign_and_edit(ctx, session);
}

void
sign_filter_session_end(struct milter_session *session)
{
    struct sign_session *sign = session->sign;

    if (sign == NULL)
        return;
    xsmtp_bodyhash_free(sign->bodyhash);
    free(sign);
    session->sign = NULL;
}
