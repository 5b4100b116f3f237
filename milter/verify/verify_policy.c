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

static const char *const outcome_names[] = {
    [VERIFY_OUTCOME_ACCEPTED] = "accepted",
    [VERIFY_OUTCOME_QUARANTINED] = "quarantined",
    [VERIFY_OUTCOME_REJECTED] = "rejected",
    [VERIFY_OUTCOME_DEFERRED] = "deferred",
};

const char *verify_outcome_name(enum verify_outcome outcome)
{
    if ((size_t)outcome < sizeof outcome_names / sizeof outcome_names[0])
        return outcome_names[outcome];
    return "?";
}

enum verify_outcome verify_outcome_of(enum verify_action applied)
{
    switch (applied) {
    case VERIFY_ACTION_QUARANTINE: return VERIFY_OUTCOME_QUARANTINED;
    case VERIFY_ACTION_REJECT: return VERIFY_OUTCOME_REJECTED;
    case VERIFY_ACTION_TEMPFAIL: return VERIFY_OUTCOME_DEFERRED;
    case VERIFY_ACTION_ACCEPT: break;
    }
    return VERIFY_OUTCOME_ACCEPTED;
}

enum verify_tracked_header verify_tracked_kind(const char *name)
{
    if (name == NULL)
        return VERIFY_TRACKED_NONE;
    if (strcasecmp(name, VERIFY_FAST_TRACK_HEADER) == 0)
        return VERIFY_TRACKED_FAST_TRACK;
    if (strcasecmp(name, VERIFY_JABBER_ID_HEADER) == 0)
        return VERIFY_TRACKED_JABBER_ID;
    return VERIFY_TRACKED_NONE;
}

static int compare_domain_key(const void *key, const void *element)
{
    return strcasecmp(key, *(char *const *)element);
}

bool verify_domain_listed(const struct domain_list *list, const char *domain)
{
    if (list == NULL || domain == NULL || *domain == '\0')
        return false;
    if (list->all)
        return true;
    /* The list is lowercased and sorted (config_verify.c); strcasecmp
     * orders a lowercased key the same way. */
    return list->count > 0 && bsearch(domain, list->domains, list->count,
                                      sizeof *list->domains, compare_domain_key) != NULL;
}

void verify_extras_decide(const struct milter_config *config,
                          const struct verifier_message *message,
                          const struct verifier_result *result, struct verify_extras *extras)
{
    bool pass = result->verdict == VERIFIER_PASS && message->identity_ok;
    const char *domain = pass ? verifier_identity_domain(message) : "";

    extras->fast_tracked = pass && verify_domain_listed(&config->verify.fast_track, domain);
    extras->add_jabber_id = pass && config->verify.add_jabber_id;
    extras->delete_jabber_ids = config->verify.add_jabber_id;
    extras->notify = pass && config->notify.enabled && result->component[0] != '\0' &&
                     message->msgid_ok &&
                     !verify_domain_listed(&config->notify.exclude_domains, domain);
}
