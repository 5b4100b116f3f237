/*
 * client_map.c -- id generation and the id -> pending IQ hash table of
 * the verifier's XMPP client (see client_map.h).
 *
 * Chained hashing on the serial; the bucket array is sized once from the
 * client's max_pending, so inserts never allocate.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/client/client_map.h"

static size_t
bucket_of(const struct xclient_map *map, uint64_t serial)
{
    /* Fibonacci hashing: serials are consecutive, spread them out. */
    return (size_t)((serial * 0x9E3779B97F4A7C15ULL) >> 32) & map->mask;
}

xsmtp_status
xclient_map_init(struct xclient_map *map, size_t buckets, const unsigned char seed[8])
{
    size_t size = 16;
    int i;

    memset(map, 0, sizeof *map);
    while (size < buckets && size < ((size_t)1 << 24))
        size <<= 1;
    map->buckets = calloc(size, sizeof *map->buckets);
    if (map->buckets == NULL)
        return XSMTP_ENOMEM;
    map->mask = size - 1;
    map->next_serial = 1;
    for (i = 0; i < 8; i++)
        snprintf(map->prefix + 2 * i, 3, "%02x", seed[i]);
    return XSMTP_OK;
}

void
xclient_map_free(struct xclient_map *map)
{
    free(map->buckets);
    map->buckets = NULL;
    map->count = 0;
}

static void
format_id(const struct xclient_map *map, uint64_t serial, char *id)
{
    snprintf(id, XCLIENT_ID_SIZE, "%s-%llx", map->prefix, (unsigned long long)serial);
}

uint64_t
xclient_map_new_id(struct xclient_map *map, char *id)
{
    uint64_t serial = map->next_serial++;

    format_id(map, serial, id);
    return serial;
}

void
xclient_map_add(struct xclient_map *map, struct xclient_pending_iq *iq, char *id)
{
    size_t b;

    iq->serial = xclient_map_new_id(map, id);
    b = bucket_of(map, iq->serial);
    iq->hash_next = map->buckets[b];
    map->buckets[b] = iq;
    iq->in_map = true;
    map->count++;
}

void
xclient_map_remove(struct xclient_map *map, struct xclient_pending_iq *iq)
{
    struct xclient_pending_iq **link;

    if (!iq->in_map)
        return;
    for (link = &map->buckets[bucket_of(map, iq->serial)]; *link != NULL;
         link = &(*link)->hash_next) {
        if (*link == iq) {
            *link = iq->hash_next;
            iq->hash_next = NULL;
            iq->in_map = false;
            map->count--;
            return;
        }
    }
}

/* Parses the serial after our prefix and '-' (checked by the caller);
 * false for anything else (leading zeros, upper case, a serial we never
 * handed out). */
static bool
parse_id(const struct xclient_map *map, const char *id, uint64_t *serial)
{
    uint64_t value = 0;
    const char *p;
    size_t digits = 0;

    p = id + XCLIENT_ID_PREFIX_LEN + 1;
    if (*p == '0')
        return false;
    for (; *p != '\0'; p++, digits++) {
        if (digits == 16)
            return false;
        if (*p >= '0' && *p <= '9')
            value = (value << 4) | (uint64_t)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            value = (value << 4) | (uint64_t)(*p - 'a' + 10);
        else
            return false;
    }
    if (digits == 0 || value >= map->next_serial)
        return false;
    *serial = value;
    return true;
}

struct xclient_pending_iq *
xclient_map_accept(struct xclient_map *map, const char *id, const char *from,
                   enum xclient_map_miss *miss)
{
    struct xclient_pending_iq *iq;
    uint64_t serial;

    *miss = MAP_FOREIGN_ID;
    if (id == NULL || strncmp(id, map->prefix, XCLIENT_ID_PREFIX_LEN) != 0 ||
        id[XCLIENT_ID_PREFIX_LEN] != '-')
        return NULL;
    *miss = MAP_UNKNOWN_ID;
    if (!parse_id(map, id, &serial))
        return NULL;
    for (iq = map->buckets[bucket_of(map, serial)]; iq != NULL; iq = iq->hash_next)
        if (iq->serial == serial)
            break;
    if (iq == NULL)
        return NULL;
    if (from == NULL || iq->to == NULL || strcmp(from, iq->to) != 0) {
        /* Stays pending: the real answer may still come. */
        *miss = MAP_WRONG_FROM;
        return NULL;
    }
    xclient_map_remove(map, iq);
    return iq;
}
