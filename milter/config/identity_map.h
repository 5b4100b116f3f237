/*
 * identity_map.h -- sign.identity_map: which XMPP identity (bare JID) a
 * sender address signs as.
 *
 * File format: one mapping a line, "email-address JID", separated by
 * spaces or tabs; '#' at the start of a line or after a blank starts a
 * comment; blank lines are ignored.  Addresses are matched ASCII
 * case-insensitively; JIDs follow XSMTP-1 section 2 and are kept
 * lowercased.  An address given twice is an error, not "last one wins".
 *
 * The loaded map is immutable and sorted, so lookups are O(log n) with no
 * locking; a reload builds a new map.
 */
#ifndef XSMTP_IDENTITY_MAP_H
#define XSMTP_IDENTITY_MAP_H

#include <stddef.h>
#include "hash/util/status.h"

struct identity_map_entry {
    const char *address; /* lowercased */
    const char *jid;     /* lowercased */
    unsigned line;       /* in the file, for error messages */
};

struct identity_map {
    struct identity_map_entry *entries; /* sorted by address */
    size_t count;
};

/* Receives one problem as "PATH:LINE: text" (or "PATH: text"). */
typedef void (*identity_map_problem_fn)(void *arg, const char *problem);

/*
 * Loads path.  Every bad line is reported through problem (may be NULL);
 * any problem makes the load fail (XSMTP_EMALFORMED, XSMTP_EIO, ...) and
 * *out stays NULL.
 */
xsmtp_status identity_map_load(const char *path, struct identity_map **out,
                               identity_map_problem_fn problem, void *arg);
void identity_map_free(struct identity_map *map);

/* The JID for address (any case), or NULL. */
const char *identity_map_lookup(const struct identity_map *map, const char *address);

#endif
