/*
 * verify_policy.h -- what the verifier does around a verdict besides the
 * two s7 headers (issue 6): fast-track, the RFC 7259 Jabber-ID, the s8
 * notice and its status.  Pure decisions on plain values, no libmilter
 * and no I/O, so every rule below is unit-tested (tests/check_verify_policy).
 *
 * Headers the verifier owns besides X-XSMTP-Verdict and our
 * Authentication-Results:
 *   X-XSMTP-Fast-Track  ours alone: every incoming one is deleted, on every
 *                       verified message, whatever the configuration (a
 *                       forged one must never reach the SpamAssassin rule
 *                       XSMTP_FASTTRACK or a later filter);
 *                       "X-XSMTP-Fast-Track: yes" is added on a pass whose
 *                       identity domain is in verify.fast_track.
 *   Jabber-ID           RFC 7259 lets the sender's mail client set it, but
 *                       nothing vouches for it.  With verify.add_jabber_id
 *                       the gateway promises its users "a Jabber-ID here is
 *                       a verified sender": then every incoming one is
 *                       deleted (any verdict), and "Jabber-ID: IDENTITY" is
 *                       added on a pass.  Without the option the verifier
 *                       makes no such promise and leaves Jabber-ID alone.
 */
#ifndef XSMTP_VERIFY_POLICY_H
#define XSMTP_VERIFY_POLICY_H

#include <stdbool.h>

#include "milter/config/milter_config.h"
#include "milter/verify/verifier.h"

#define VERIFY_FAST_TRACK_HEADER "X-XSMTP-Fast-Track"
#define VERIFY_FAST_TRACK_VALUE "yes"
#define VERIFY_JABBER_ID_HEADER "Jabber-ID"

/* What became of the message, as an s8 status. */
enum verify_outcome {
    VERIFY_OUTCOME_ACCEPTED,
    VERIFY_OUTCOME_QUARANTINED,
    VERIFY_OUTCOME_REJECTED,
    VERIFY_OUTCOME_DEFERRED
};

/* "accepted", "quarantined", "rejected", "deferred". */
const char *verify_outcome_name(enum verify_outcome outcome);
/* The status for the action really applied (a refused quarantine is an
 * accept, a failed header edit a tempfail). */
enum verify_outcome verify_outcome_of(enum verify_action applied);

/* Headers the verifier tracks while they stream past. */
enum verify_tracked_header {
    VERIFY_TRACKED_NONE,
    VERIFY_TRACKED_FAST_TRACK,
    VERIFY_TRACKED_JABBER_ID
};
/* Which one name is (header names compare without case); NULL is NONE. */
enum verify_tracked_header verify_tracked_kind(const char *name);

/* Whether domain (any case) is in list; always true when list->all. */
bool verify_domain_listed(const struct domain_list *list, const char *domain);

/* The decisions for one message once its verdict is known. */
struct verify_extras {
    bool fast_tracked;          /* add X-XSMTP-Fast-Track: yes, stop there */
    bool add_jabber_id;         /* add Jabber-ID: identity */
    bool delete_jabber_ids;     /* delete every incoming Jabber-ID */
    bool notify;                /* queue an s8 notice (after the action) */
};

/*
 * Fast-track and Jabber-ID need a pass with a valid identity; the notice
 * needs a pass, notify.enabled, a known component and an identity domain
 * not in notify.exclude_domains.
 */
void verify_extras_decide(const struct milter_config *config,
                          const struct verifier_message *message,
                          const struct verifier_result *result, struct verify_extras *extras);

#endif
