/*
 * client_map.h -- the XMPP client's own id -> pending IQ map.
 *
 * libstrophe 0.12's per-id handlers leak (about 65 bytes per IQ) and are
 * kept in lists that only grow, so the client keeps one permanent iq
 * handler and this map.  Ids are
 * PREFIX-SERIAL: a random 64-bit prefix drawn once per client (so ids are
 * not guessable from outside and differ between processes and restarts)
 * and a counter in hex, never reused.  An answer is accepted only when its
 * id is pending and its from is exactly the JID the IQ was sent to; an
 * accepted entry leaves the map, so a second answer with the same id is
 * unknown.  Owned by the XMPP thread alone: no locking.  Pure C, unit-tested
 * in tests/unit/check_client_map.c.
 */
#ifndef XSMTP_CLIENT_MAP_H
#define XSMTP_CLIENT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash/util/status.h"

#define XCLIENT_ID_PREFIX_LEN 16
/* prefix + '-' + up to 16 hex digits + NUL */
#define XCLIENT_ID_SIZE (XCLIENT_ID_PREFIX_LEN + 1 + 16 + 1)

/* Embedded in whoever waits for the answer (a request, a discovery slot). */
struct xclient_pending_iq {
    struct xclient_pending_iq *hash_next;
    uint64_t serial;
    const char *to; /* the JID the IQ went to; owned by the embedding struct */
    void *owner;
    int slot; /* owner's index (discovery items), or -1 */
    uint64_t sent_ns;
    bool in_map;
};

struct xclient_map {
    struct xclient_pending_iq **buckets;
    size_t mask;
    size_t count;
    uint64_t next_serial;
    char prefix[XCLIENT_ID_PREFIX_LEN + 1];
};

enum xclient_map_miss {
    MAP_FOREIGN_ID, /* not PREFIX-...: not one of ours (libstrophe's own, junk) */
    MAP_UNKNOWN_ID, /* ours, but not pending: already answered, expired, forged */
    MAP_WRONG_FROM  /* pending, but from is not the JID we asked */
};

/* buckets: rounded up to a power of two (at least 16); seed: 8 random bytes. */
xsmtp_status xclient_map_init(struct xclient_map *map, size_t buckets, const unsigned char seed[8]);
void xclient_map_free(struct xclient_map *map);

/* Writes a fresh id (XCLIENT_ID_SIZE bytes) without inserting anything. */
uint64_t xclient_map_new_id(struct xclient_map *map, char *id);

/* Gives iq a fresh id, writes it to id and inserts iq (iq->to must be set). */
void xclient_map_add(struct xclient_map *map, struct xclient_pending_iq *iq, char *id);

/* Removes iq when it is in the map; harmless otherwise. */
void xclient_map_remove(struct xclient_map *map, struct xclient_pending_iq *iq);

/*
 * The pending IQ an answer belongs to, removed from the map; NULL (with
 * *miss set) when the id is not pending or from (NULL allowed) differs.
 */
struct xclient_pending_iq *xclient_map_accept(struct xclient_map *map, const char *id,
                                              const char *from, enum xclient_map_miss *miss);

#endif
