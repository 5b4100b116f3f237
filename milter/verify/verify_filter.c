/*
 * verify_filter.c -- libmilter glue of the verifier: collects the body
 * hash, asks verifier.c and verify_resolve() for the verdict, edits the
 * header and applies verify.on_<verdict> at end of message.
 *
 * Per connection we keep one body hasher (allocated once, reset per
 * message) and one `struct verifier_message` (two header-sized buffers),
 * so a verification allocates nothing per message.  The body is hashed
 * only when the headers alone do not decide.
 *
 * Around the verdict: a pass from a verify.fast_track domain gets
 * X-XSMTP-Fast-Track: yes and ends our work on the message there (no quarantine step; the
 * SpamAssassin rule XSMTP_FASTTRACK short-circuits on it); with
 * verify.add_jabber_id a pass gets Jabber-ID; after the action a pass may
 * queue an s8 notice whose status is the action really applied.  The rules
 * for these headers are in verify_policy.h; their incoming copies are
 * counted here as they stream past (hooks_header), so the end of message
 * can delete each by index.
 *
 * Never lose mail: every fault of our own after MAIL becomes the verdict
 * temperror XSMTP_REASON_INTERNAL_ERROR and goes through verify.on_temperror like any
 * other temperror; only a failure to allocate the per-connection state at
 * MAIL falls back to on_internal_error (there is nothing to work with).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash/bodyhash.h"
#include "hash/proto.h"
#include "hash/util/log.h"
#include "milter/context.h"
#include "milter/hooks.h"
#include "milter/session.h"
#include "milter/sign/sign_filter.h"
#include "milter/stats.h"
#include "milter/verify/verifier.h"
#include "milter/verify/verify_filter.h"
#include "milter/verify/verify_policy.h"
#include "milter/verify/verify_runtime.h"

/* Room for the reply / quarantine text (identity up to ~390 octets). */
#define VERIFY_REPLY_SIZE 640
/* Room for our two header values (see verifier_format_*). */
#define VERIFY_HEADER_SIZE 2048

struct verify_session {
    struct xsmtp_bodyhash *bodyhash;  /* per connection, reset per message */
    bool active;                      /* this message is the verifier's */
    bool need_body;                   /* the headers did not decide */
    const char *failure;              /* an internal fault mid-message; NULL: none */
    unsigned long fast_track_headers; /* incoming X-XSMTP-Fast-Track (forgeries) */
    unsigned long jabber_id_headers;  /* incoming Jabber-ID */
    struct verifier_message message;
};

static double
elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

bool
verify_filter_active(const struct milter_session *session)
{
    return session->verify != NULL && session->verify->active;
}

sfsistat
verify_filter_begin(SMFICTX *ctx, struct milter_session *session)
{
    const struct milter_config *config = session->context->config;
    struct verify_session *verify = session->verify;

    verify_runtime_note_config(config, session->context->generation);
    if (verify == NULL) {
        verify = calloc(1, sizeof *verify);
        if (verify == NULL) {
            /* Nothing to remember the message with: on_internal_error. */
            log_msg(LOG_ERR, "%s: verifier out of memory at MAIL; answering %s",
                    session_queue_id(session),
                    config->on_internal_error == MILTER_ON_ERROR_ACCEPT ? "accept" : "tempfail");
            if (config->on_internal_error == MILTER_ON_ERROR_ACCEPT)
                return SMFIS_ACCEPT;
            (void)smfi_setreply(ctx, "451", "4.3.0",
                                "xsmtp: internal error while verifying, try again later");
            return SMFIS_TEMPFAIL;
        }
        session->verify = verify;
    }
    verify->active = !sign_filter_client_eligible(session);
    verify->need_body = false;
    verify->failure = NULL;
    verify->fast_track_headers = verify->jabber_id_headers = 0;
    /* Until the headers are checked (EOH) the outcome is "we do not know". */
    verify->message.decided = false;
    verify->message.identity_ok = verify->message.from_ok = false;
    verify->message.detail = NULL;
    verifier_result_set(&verify->message.result, XSMTP_VERDICT_TEMPERROR,
                        XSMTP_REASON_INTERNAL_ERROR, NULL);
    return SMFIS_CONTINUE;
}

void
verify_filter_header(struct milter_session *session, const char *name, const char *value)
{
    struct verify_session *verify = session->verify;

    (void)value;
    if (verify == NULL || !verify->active)
        return;
    /* Per-name counts are the smfi_chgheader indices (names compare
     * without case, in Postfix and sendmail alike). */
    switch (verify_tracked_kind(name)) {
    case VERIFY_TRACKED_FAST_TRACK: verify->fast_track_headers++; break;
    case VERIFY_TRACKED_JABBER_ID: verify->jabber_id_headers++; break;
    case VERIFY_TRACKED_NONE: break;
    }
}

static struct verifier_header
header_of(const struct message_header_value *value)
{
    return (struct verifier_header){
        .value = value->count > 0 ? value->value : NULL,
        .count = value->count,
        .too_long = value->too_long,
    };
}

sfsistat
verify_filter_headers_done(SMFICTX *ctx, struct milter_session *session)
{
    struct verify_session *verify = session->verify;
    const struct milter_message *message = &session->message;
    struct verifier_facts facts;

    (void)ctx;
    if (verify == NULL || !verify->active)
        return SMFIS_CONTINUE;
    facts = (struct verifier_facts){
        .identity = header_of(&message->xmpp_identity),
        .hash = header_of(&message->xmpp_hash),
        .from = header_of(&message->from),
        .message_id = header_of(&message->message_id),
        .now = (int64_t)time(NULL),
        .max_age = session->context->config->verify.max_age,
    };
    verify->need_body = verifier_check_headers(&facts, &verify->message);
    if (!verify->need_body)
        return SMFIS_CONTINUE;
    if (verify->bodyhash == NULL && xsmtp_bodyhash_new(&verify->bodyhash) != XSMTP_OK)
        verify->failure = "body hasher";
    else if (xsmtp_bodyhash_reset(verify->bodyhash) != XSMTP_OK)
        verify->failure = "body hasher";
    return SMFIS_CONTINUE;
}

sfsistat
verify_filter_body(SMFICTX *ctx, struct milter_session *session, const unsigned char *chunk,
                   size_t length)
{
    struct verify_session *verify = session->verify;

    (void)ctx;
    if (verify == NULL || !verify->active || !verify->need_body || verify->failure != NULL)
        return SMFIS_CONTINUE;
    if (xsmtp_bodyhash_update(verify->bodyhash, chunk, length) != XSMTP_OK)
        verify->failure = "body hasher";
    return SMFIS_CONTINUE;
}

/* The verdict: local, or over the network within the deadline. */
static void
decide(struct milter_session *session, const struct timespec *start, struct verifier_result *result)
{
    const struct milter_config *config = session->context->config;
    struct verify_session *verify = session->verify;
    char body_hash[XSMTP_B64_SHA256 + 1];
    struct timespec deadline = *start;

    if (verify->failure == NULL && verify->need_body &&
        xsmtp_bodyhash_final(verify->bodyhash, body_hash) != XSMTP_OK)
        verify->failure = "body hash";
    if (verify->failure != NULL) {
        verifier_result_set(result, XSMTP_VERDICT_TEMPERROR, XSMTP_REASON_INTERNAL_ERROR, NULL);
        return;
    }
    if (!verify->need_body || !verifier_check_body(&verify->message, body_hash)) {
        *result = verify->message.result;
        return;
    }
    deadline.tv_sec += (time_t)(config->verify.timeout_ms / 1000);
    deadline.tv_nsec += (long)(config->verify.timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    verify_resolve(config, &verify->message, session->client_ip, &deadline, result);
}

static enum verify_action
action_for(const struct milter_config *config, enum xsmtp_verdict verdict)
{
    switch (verdict) {
    case XSMTP_VERDICT_FAIL: return config->verify.on_fail;
    case XSMTP_VERDICT_PERMERROR: return config->verify.on_permerror;
    case XSMTP_VERDICT_TEMPERROR: return config->verify.on_temperror;
    default: return VERIFY_ACTION_ACCEPT;
    }
}

/*
 * XSMTP-1 s7/s9: every X-XSMTP-Verdict and every Authentication-Results
 * under our authserv-id is a forgery.  message.c remembers every one of
 * them, however many, and deletes highest index first (Postfix shifts
 * later indices after a deletion).
 */
static bool
delete_forged(SMFICTX *ctx, const struct milter_session *session)
{
    return message_delete(&session->message, MESSAGE_DELETE_FORGED, hooks_delete_header, ctx);
}

/* Deletes the count headers called name, highest index first. */
static bool
delete_all(SMFICTX *ctx, const char *name, unsigned long count)
{
    for (unsigned long index = count; index > 0; index--)
        if (smfi_chgheader(ctx, (char *)name, (int)index, NULL) != MI_SUCCESS)
            return false;
    return true;
}

/*
 * Deletions first (every index refers to the header as received), then
 * insertions at index 0, so the top reads X-XSMTP-Verdict,
 * Authentication-Results[, X-XSMTP-Fast-Track], then the MTA's Received.
 * Jabber-ID is an originator field (RFC 7259): it goes to the end.
 */
static bool
edit_header(SMFICTX *ctx, const struct milter_session *session,
            const struct verifier_result *result, const struct verify_extras *extras)
{
    const struct verifier_message *message = &session->verify->message;
    const struct verify_session *verify = session->verify;
    char verdict[VERIFY_HEADER_SIZE], results[VERIFY_HEADER_SIZE];

    if (verifier_format_verdict(message, result, verdict, sizeof verdict) != XSMTP_OK ||
        verifier_format_auth_results(session->context->config->authserv_id, message, result,
                                     results, sizeof results) != XSMTP_OK)
        return false;
    if (!delete_forged(ctx, session) ||
        !delete_all(ctx, XSMTP_HEADER_FAST_TRACK, verify->fast_track_headers) ||
        (extras->delete_jabber_ids &&
         !delete_all(ctx, XSMTP_HEADER_JABBER_ID, verify->jabber_id_headers)))
        return false;
    if (extras->fast_tracked &&
        smfi_insheader(ctx, 0, XSMTP_HEADER_FAST_TRACK, XSMTP_FAST_TRACK_VALUE) != MI_SUCCESS)
        return false;
    if (smfi_insheader(ctx, 0, XSMTP_HEADER_AUTH_RESULTS, results) != MI_SUCCESS ||
        smfi_insheader(ctx, 0, XSMTP_HEADER_VERDICT, verdict) != MI_SUCCESS)
        return false;
    /* The identity is a validated bare JID (XSMTP-1 s2): no folding, no
     * character that needs quoting in an RFC 7259 jid. */
    return !extras->add_jabber_id ||
           smfi_addheader(ctx, XSMTP_HEADER_JABBER_ID, (char *)message->identity) == MI_SUCCESS;
}

static void
log_verdict(const struct milter_session *session, const struct verifier_result *result,
            enum verify_action action, double elapsed, bool fast_tracked, const char *notice_status,
            const char *notice_result)
{
    const struct verifier_message *message = &session->verify->message;

    log_msg(LOG_INFO,
            "%s: verified verdict=%s identity=%s reason=%s component=%s cached=%s "
            "elapsed_ms=%.3f action=%s%s%s%s%s%s%s%s%s%s",
            session_queue_id(session), xsmtp_verdict_name(result->verdict),
            message->identity_ok ? message->identity : "-",
            result->reason[0] != '\0' ? result->reason : "-",
            result->component[0] != '\0' ? result->component : "-", result->cached ? "yes" : "no",
            elapsed, config_verify_action_text(action), message->detail != NULL ? " (" : "",
            message->detail != NULL ? message->detail : "", message->detail != NULL ? ")" : "",
            fast_tracked ? " fast-tracked" : "", notice_status != NULL ? " notice=" : "",
            notice_status != NULL ? notice_status : "", notice_status != NULL ? " (" : "",
            notice_status != NULL ? notice_result : "", notice_status != NULL ? ")" : "");
}

sfsistat
verify_filter_end(SMFICTX *ctx, struct milter_session *session)
{
    const struct milter_config *config = session->context->config;
    struct verify_session *verify = session->verify;
    struct verifier_result result;
    struct verify_policy policy;
    struct verify_extras extras;
    enum verify_action action, applied;
    const char *notice_status = NULL, *notice_result = NULL;
    char reply[VERIFY_REPLY_SIZE];
    struct timespec start;
    double elapsed;
    sfsistat status = SMFIS_ACCEPT;

    if (verify == NULL || !verify->active)
        return SMFIS_ACCEPT;
    clock_gettime(CLOCK_MONOTONIC, &start);
    verify_runtime_count(VERIFY_COUNT_MESSAGES);
    decide(session, &start, &result);
    stats_count_verdict(result.verdict);
    elapsed = elapsed_ms(&start);
    policy = (struct verify_policy){
        .fast_track = &config->verify.fast_track,
        .add_jabber_id = config->verify.add_jabber_id,
        .notify = config->notify.enabled,
        .notify_exclude = &config->notify.exclude_domains,
    };
    verify_extras_decide(&policy, &verify->message, &result, &extras);
    applied = action = action_for(config, result.verdict);
    if (verifier_format_reply(&verify->message, &result, action != VERIFY_ACTION_QUARANTINE, reply,
                              sizeof reply) != XSMTP_OK)
        snprintf(reply, sizeof reply, "XSMTP verification failed: %s",
                 xsmtp_verdict_name(result.verdict));

    if (action == VERIFY_ACTION_REJECT) {
        /* Should the text be refused, the MTA still answers with a 5xx. */
        (void)smfi_setreply(ctx, "550", "5.7.1", reply);
        status = SMFIS_REJECT;
    } else if (action == VERIFY_ACTION_TEMPFAIL) {
        (void)smfi_setreply(ctx, "451", "4.7.1", reply);
        status = SMFIS_TEMPFAIL;
    } else if (!edit_header(ctx, session, &result, &extras)) {
        /* Forged verdicts might stay in: let the client retry instead. */
        log_msg(LOG_ERR, "%s: cannot edit the header (libmilter refused); answering tempfail",
                session_queue_id(session));
        (void)smfi_setreply(ctx, "451", "4.3.0",
                            "xsmtp: cannot record the verdict, try again later");
        status = SMFIS_TEMPFAIL;
        applied = VERIFY_ACTION_TEMPFAIL;
        extras.fast_tracked = false;
    } else if (extras.fast_tracked) {
        /* Fast lane: the verdict is all this message gets from us. */
        verify_runtime_count(VERIFY_COUNT_FAST_TRACKED);
    } else if (action == VERIFY_ACTION_QUARANTINE && smfi_quarantine(ctx, reply) != MI_SUCCESS) {
        log_msg(LOG_ERR,
                "%s: quarantine refused by the MTA; delivering with the verdict "
                "headers",
                session_queue_id(session));
        applied = VERIFY_ACTION_ACCEPT;
    }
    /* After the action, so the notice tells what was done; queued, never
     * waited for. */
    if (extras.notify) {
        notice_status = verify_status_name(verify_status_of(applied));
        notice_result = verify_notice_result_text(
            verify_runtime_notice(&verify->message, &result, notice_status));
    }
    log_verdict(session, &result, action, elapsed, extras.fast_tracked, notice_status,
                notice_result);
    return status;
}

void
verify_filter_session_end(struct milter_session *session)
{
    struct verify_session *verify = session->verify;

    if (verify == NULL)
        return;
    xsmtp_bodyhash_free(verify->bodyhash);
    free(verify);
    session->verify = NULL;
}
