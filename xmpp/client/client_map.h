/*
 * client_map.h -- the XMPP client's own id -> pending IQ map.
 *
 * libstrophe's per-id handlers leak and scan lists (LAB-NOTES libstrophe
 * #4), so the client keeps one permanent iq handler and this map.  Ids are
 * PREFIX-SERIAL: a random 64-bit prefix drawn once per client (so ids are
 * not guessable from outside and differ between processes and restarts)
 * and a counter in hex, never reused.  An answer is accepted only when its
 * id is pending and its from is exactly the JID the IQ was sent to; an
 * accepted entry leaves the map, so a second answer with the same id is
 * unknown.  Owned by the XMPP thread alone: no locking.  Pure C, unit-tested
 * in tests/check_client_map.c.
 */
#ifndef XSMTP_CLIENT_MAP_H
#define XSMTP_CLIENT_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash/util/status.h"

#define CLIENT_ID_PREFIX_LEN 16
/* prefix + '-' + up to 16 hex digits + NUL */
#define CLIENT_ID_SIZE (CLIENT_ID_PREFIX_LEN + 1 + 16 + 1)

/* Embedded in whoever waits for the answer (a request, a discovery slot). */
struct pending_iq {
    struct pending_iq *hash_next;
    uint64_t serial;
    const char *to;         /* the JID the IQ went to; owned by the embedding struct */
    void *owner;
    int slot;               /* owner's index (discovery items), or -1 */
    uint64_t sent_ns;
    bool in_map;
};

struct client_map {
    struct pending_iq **buckets;
    size_t mask;
    size_t count;
    uint64_t next_serial;
    char prefix[CLIENT_ID_PREFIX_LEN + 1];
};

enum map_miss {
    MAP_FOREIGN_ID,     /* not PREFIX-...: not one of ours (libstrophe's own, junk) */
    MAP_UNKNOWN_ID,     /* ours, but not pending: already answered, expired, forged */
    MAP_WRONG_FROM      /* pending, but from is not the JID we asked */
};

/* buckets: rounded up to a power of two (at least 16); seed: 8 random bytes. */
xsmtp_status client_map_init(struct client_map *map, size_t buckets,
                             const unsigned char seed[8]);
void client_map_free(struct client_map *map);

/* Writes a fresh id (CLIENT_ID_SIZE bytes) without inserting anything. */
uint64_t client_map_new_id(struct client_map *map, char *id);

/* Gives iq a fresh id, writes it to id and inserts iq (iq->to must be set). */
void client_map_add(struct client_map *map, struct pending_iq *iq, char *id);

/* Removes iq when it is in the map; harmless otherwise. */
void client_map_remove(struct client_map *map, struct pending_iq *iq);

/*
 * The pending IQ an answer belongs to, removed from the map; NULL (with
 * *miss set) when the id is not pending or from (NULL allowed) differs.
 */
struct pending_iq *client_map_accept(struct client_map *map, const char *id, const char *from,
                                     enum map_miss *miss);

#endif
