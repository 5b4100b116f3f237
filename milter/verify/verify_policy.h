/*
 * verify_policy.h -- what the verifier does around a verdict besides the
 * two s7 headers: the action, fast-track, the RFC 7259 Jabber-ID, the s8
 * notice and its status.  Pure decisions on plain values, no libmilter
 * and no I/O, so every rule below is unit-tested
 * (tests/unit/check_verify_policy.c).  The configuration fills the types
 * declared here (verify.on_*, domain lists); verify_filter.c acts on the
 * decisions.
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
#include <stddef.h>

#include "hash/proto.h"
#include "milter/verify/verifier.h"

/* What the verifier does with a message after a verdict (verify.on_*). */
enum verify_action {
    VERIFY_ACTION_ACCEPT,     /* deliver, verdict headers added */
    VERIFY_ACTION_QUARANTINE, /* deliver into the MTA's hold queue (smfi_quarantine) */
    VERIFY_ACTION_REJECT,     /* 550 5.7.1 */
    VERIFY_ACTION_TEMPFAIL    /* 451 4.7.1 */
};

/* A list of domains from the file: lowercased, sorted, unique; `all` when
 * it held "*" (where the option allows it). */
struct domain_list {
    char **domains;
    size_t count;
    bool all;
};

/* What became of the message, as an s8 status. */
enum verify_status {
    VERIFY_STATUS_ACCEPTED,
    VERIFY_STATUS_QUARANTINED,
    VERIFY_STATUS_REJECTED,
    VERIFY_STATUS_DEFERRED
};

/* XSMTP_STATUS_ACCEPTED, ... (proto.h); "?" outside the enum. */
const char *verify_status_name(enum verify_status status);
/* The status for the action really applied (a refused quarantine is an
 * accept, a failed header edit a tempfail). */
enum verify_status verify_status_of(enum verify_action applied);

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

/* The settings the decisions read: verify.fast_track, verify.add_jabber_id,
 * notify.enabled, notify.exclude_domains (NULL lists are empty). */
struct verify_policy {
    const struct domain_list *fast_track;
    bool add_jabber_id;
    bool notify;
    const struct domain_list *notify_exclude;
};

/* The decisions for one message once its verdict is known. */
struct verify_extras {
    bool fast_tracked;      /* add X-XSMTP-Fast-Track: yes, stop there */
    bool add_jabber_id;     /* add Jabber-ID: identity */
    bool delete_jabber_ids; /* delete every incoming Jabber-ID */
    bool notify;            /* queue an s8 notice (after the action) */
};

/*
 * Fast-track and Jabber-ID need a pass with a valid identity; the notice
 * needs a pass, policy->notify, a known component and an identity domain
 * not in policy->notify_exclude.
 */
void verify_extras_decide(const struct verify_policy *policy,
                          const struct verifier_message *message,
                          const struct verifier_result *result, struct verify_extras *extras);

#endif
