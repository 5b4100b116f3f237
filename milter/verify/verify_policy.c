/*
 * verify_policy.c -- fast-track, Jabber-ID and notice decisions of the
 * verifier (verify_policy.h).  No libmilter, no I/O: verify_filter.c acts
 * on what these functions decide.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/verify/verify_policy.h"

static const char *const status_names[] = {
    [VERIFY_STATUS_ACCEPTED] = XSMTP_STATUS_ACCEPTED,
    [VERIFY_STATUS_QUARANTINED] = XSMTP_STATUS_QUARANTINED,
    [VERIFY_STATUS_REJECTED] = XSMTP_STATUS_REJECTED,
    [VERIFY_STATUS_DEFERRED] = XSMTP_STATUS_DEFERRED,
};

const char *
verify_status_name(enum verify_status status)
{
    if ((size_t)status < sizeof status_names / sizeof status_names[0])
        return status_names[status];
    return "?";
}

enum verify_status
verify_status_of(enum verify_action applied)
{
    switch (applied) {
    case VERIFY_ACTION_QUARANTINE: return VERIFY_STATUS_QUARANTINED;
    case VERIFY_ACTION_REJECT: return VERIFY_STATUS_REJECTED;
    case VERIFY_ACTION_TEMPFAIL: return VERIFY_STATUS_DEFERRED;
    case VERIFY_ACTION_ACCEPT: break;
    }
    return VERIFY_STATUS_ACCEPTED;
}

enum verify_tracked_header
verify_tracked_kind(const char *name)
{
    if (name == NULL)
        return VERIFY_TRACKED_NONE;
    if (strcasecmp(name, XSMTP_HEADER_FAST_TRACK) == 0)
        return VERIFY_TRACKED_FAST_TRACK;
    if (strcasecmp(name, XSMTP_HEADER_JABBER_ID) == 0)
        return VERIFY_TRACKED_JABBER_ID;
    return VERIFY_TRACKED_NONE;
}

static int
compare_domain_key(const void *key, const void *element)
{
    return strcasecmp(key, *(char *const *)element);
}

bool
verify_domain_listed(const struct domain_list *list, const char *domain)
{
    if (list == NULL || domain == NULL || *domain == '\0')
        return false;
    if (list->all)
        return true;
    /* The list is lowercased and sorted (config_verify.c); strcasecmp
     * orders a lowercased key the same way. */
    return list->count > 0 && bsearch(domain, list->domains, list->count, sizeof *list->domains,
                                      compare_domain_key) != NULL;
}

void
verify_extras_decide(const struct verify_policy *policy, const struct verifier_message *message,
                     const struct verifier_result *result, struct verify_extras *extras)
{
    bool pass = result->verdict == XSMTP_VERDICT_PASS && message->identity_ok;
    const char *domain = pass ? verifier_identity_domain(message) : "";

    extras->fast_tracked = pass && verify_domain_listed(policy->fast_track, domain);
    extras->add_jabber_id = pass && policy->add_jabber_id;
    extras->delete_jabber_ids = policy->add_jabber_id;
    extras->notify = pass && policy->notify && result->component[0] != '\0' && message->msgid_ok &&
                     !verify_domain_listed(policy->notify_exclude, domain);
}
