/*
 * message.c -- collects header facts for the hooks (message.h).
 *
 * Only a handful of header names are of interest; everything else costs
 * one case-insensitive prefix test and is not copied.  The X-XMPP-* names
 * live in a small open-addressing hash table keyed by the ASCII-lowercased
 * name, so a flood of headers costs O(1) per header, not a scan of all
 * earlier ones.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash/proto.h"
#include "milter/message.h"

/* Allocations at most this big survive message_reset() for reuse. */
#define MESSAGE_KEEP_SLOTS 64
#define MESSAGE_KEEP_INDICES 64

static void
tracked_clear(struct message_tracked *tracked, bool keep_small)
{
    for (size_t i = 0; i < tracked->capacity; i++) {
        free(tracked->slots[i].name);
        tracked->slots[i].name = NULL;
    }
    if (!keep_small || tracked->capacity > MESSAGE_KEEP_SLOTS) {
        free(tracked->slots);
        tracked->slots = NULL;
        tracked->capacity = 0;
    }
    if (!keep_small || tracked->auth_ours_capacity > MESSAGE_KEEP_INDICES) {
        free(tracked->auth_ours);
        tracked->auth_ours = NULL;
        tracked->auth_ours_capacity = 0;
    }
    tracked->used = 0;
    tracked->verdict_count = 0;
    tracked->auth_results_count = 0;
    tracked->auth_ours_count = 0;
    tracked->auth_ours_incomplete = false;
    tracked->names_incomplete = false;
}

void
message_reset(struct milter_message *message)
{
    /* The value buffers are large: clear only what the next message reads. */
    message->open = false;
    message->queue_id[0] = '\0';
    message->auth_authen[0] = '\0';
    message->authenticated = false;
    message->header_count = 0;
    message->body_bytes = 0;
    message->from.count = message->message_id.count = 0;
    message->xmpp_identity.count = message->xmpp_hash.count = 0;
    message->from.length = message->message_id.length = 0;
    message->xmpp_identity.length = message->xmpp_hash.length = 0;
    message->from.too_long = message->message_id.too_long = false;
    message->xmpp_identity.too_long = message->xmpp_hash.too_long = false;
    message->from.value[0] = message->message_id.value[0] = '\0';
    message->xmpp_identity.value[0] = message->xmpp_hash.value[0] = '\0';
    tracked_clear(&message->tracked, true);
}

void
message_free(struct milter_message *message)
{
    tracked_clear(&message->tracked, false);
}

void
message_copy_macro(char *buf, size_t bufsz, const char *value)
{
    snprintf(buf, bufsz, "%s", value != NULL ? value : "");
}

static void
message_keep_value(struct message_header_value *slot, const char *value)
{
    size_t length;

    if (slot->count < UINT_MAX)
        slot->count++;
    if (slot->count > 1)
        return;
    length = strlen(value);
    if (length > XSMTP_HEADER_VALUE_MAX) {
        slot->too_long = true;
        slot->length = 0;
        slot->value[0] = '\0';
        return;
    }
    memcpy(slot->value, value, length + 1);
    slot->length = length;
}

/* Whether the first token of an Authentication-Results value is ours. */
static bool
message_authserv_is(const char *value, const char *authserv_id)
{
    size_t length;

    if (authserv_id == NULL || *authserv_id == '\0')
        return false;
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    length = strcspn(value, " \t\r\n;(");
    return length == strlen(authserv_id) && strncasecmp(value, authserv_id, length) == 0;
}

static unsigned char
ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the ASCII-lowercased name: equal for names smfi_chgheader
 * would treat as equal. */
static unsigned
name_hash(const char *name)
{
    uint32_t hash = 2166136261u;

    for (; *name != '\0'; name++) {
        hash ^= ascii_lower((unsigned char)*name);
        hash *= 16777619u;
    }
    return hash;
}

/* The slot holding name, or the free slot where it belongs. */
static struct message_name_count *
names_find(struct message_name_count *slots, size_t capacity, const char *name, unsigned hash)
{
    size_t mask = capacity - 1, i = hash & mask;

    while (slots[i].name != NULL && (slots[i].hash != hash || strcasecmp(slots[i].name, name) != 0))
        i = (i + 1) & mask;
    return &slots[i];
}

/* Doubles the table (at least 8 slots); false when out of memory. */
static bool
names_grow(struct message_tracked *tracked)
{
    size_t capacity = tracked->capacity == 0 ? 8 : tracked->capacity * 2;
    struct message_name_count *slots;

    if (capacity > SIZE_MAX / sizeof *slots)
        return false;
    slots = calloc(capacity, sizeof *slots);
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < tracked->capacity; i++) {
        const struct message_name_count *old = &tracked->slots[i];
        if (old->name != NULL)
            *names_find(slots, capacity, old->name, old->hash) = *old;
    }
    free(tracked->slots);
    tracked->slots = slots;
    tracked->capacity = capacity;
    return true;
}

static void
track_name(struct message_tracked *tracked, const char *name)
{
    unsigned hash = name_hash(name);
    struct message_name_count *slot;

    /* Keep the load at most one half: probes stay short. */
    if ((tracked->used + 1) * 2 > tracked->capacity && !names_grow(tracked)) {
        tracked->names_incomplete = true;
        return;
    }
    slot = names_find(tracked->slots, tracked->capacity, name, hash);
    if (slot->name == NULL) {
        slot->name = strdup(name);
        if (slot->name == NULL) {
            tracked->names_incomplete = true;
            return;
        }
        slot->hash = hash;
        slot->count = 0;
        tracked->used++;
    }
    if (slot->count < INT_MAX)
        slot->count++;
}

static void
track_auth_results(struct message_tracked *tracked, bool ours)
{
    if (tracked->auth_results_count == INT_MAX)
        return;
    tracked->auth_results_count++;
    if (!ours || tracked->auth_ours_incomplete)
        return;
    if (tracked->auth_ours_count == tracked->auth_ours_capacity) {
        size_t capacity = tracked->auth_ours_capacity == 0 ? 8 : tracked->auth_ours_capacity * 2;
        unsigned *indices = capacity <= SIZE_MAX / sizeof *indices
                                ? realloc(tracked->auth_ours, capacity * sizeof *indices)
                                : NULL;
        if (indices == NULL) {
            tracked->auth_ours_incomplete = true;
            return;
        }
        tracked->auth_ours = indices;
        tracked->auth_ours_capacity = capacity;
    }
    tracked->auth_ours[tracked->auth_ours_count++] = tracked->auth_results_count;
}

void
message_header(struct milter_message *message, const char *name, const char *value,
               const char *authserv_id)
{
    struct message_tracked *tracked = &message->tracked;

    if (name == NULL)
        return;
    if (value == NULL)
        value = "";
    message->header_count++;
    if (strcasecmp(name, "From") == 0) {
        message_keep_value(&message->from, value);
    } else if (strcasecmp(name, XSMTP_HEADER_MESSAGE_ID) == 0) {
        message_keep_value(&message->message_id, value);
    } else if (strncasecmp(name, XSMTP_HEADER_XMPP_PREFIX, strlen(XSMTP_HEADER_XMPP_PREFIX)) == 0) {
        if (strcasecmp(name, XSMTP_HEADER_IDENTITY) == 0)
            message_keep_value(&message->xmpp_identity, value);
        else if (strcasecmp(name, XSMTP_HEADER_HASH) == 0)
            message_keep_value(&message->xmpp_hash, value);
        track_name(tracked, name);
    } else if (strcasecmp(name, XSMTP_HEADER_VERDICT) == 0) {
        if (tracked->verdict_count < INT_MAX)
            tracked->verdict_count++;
    } else if (strcasecmp(name, XSMTP_HEADER_AUTH_RESULTS) == 0) {
        track_auth_results(tracked, message_authserv_is(value, authserv_id));
    }
}

/* Deletes name's instances count..1. */
static bool
delete_all(const char *name, unsigned count, message_delete_fn *delete_one, void *arg)
{
    for (unsigned index = count; index >= 1; index--)
        if (!delete_one(arg, name, (int)index))
            return false;
    return true;
}

bool
message_delete(const struct milter_message *message, unsigned sets, message_delete_fn *delete_one,
               void *arg)
{
    const struct message_tracked *tracked = &message->tracked;

    if ((sets & MESSAGE_DELETE_CLIENT_XMPP) != 0) {
        for (size_t i = 0; i < tracked->capacity; i++) {
            const struct message_name_count *slot = &tracked->slots[i];
            if (slot->name != NULL && !delete_all(slot->name, slot->count, delete_one, arg))
                return false;
        }
        if (tracked->names_incomplete)
            return false;
    }
    if ((sets & MESSAGE_DELETE_FORGED) != 0) {
        if (!delete_all(XSMTP_HEADER_VERDICT, tracked->verdict_count, delete_one, arg))
            return false;
        if (tracked->auth_ours_incomplete)
            return delete_all(XSMTP_HEADER_AUTH_RESULTS, tracked->auth_results_count, delete_one,
                              arg);
        for (size_t i = tracked->auth_ours_count; i-- > 0;)
            if (!delete_one(arg, XSMTP_HEADER_AUTH_RESULTS, (int)tracked->auth_ours[i]))
                return false;
    }
    return true;
}

unsigned long
message_delete_count(const struct milter_message *message, unsigned sets)
{
    const struct message_tracked *tracked = &message->tracked;
    unsigned long count = 0;

    if ((sets & MESSAGE_DELETE_CLIENT_XMPP) != 0)
        for (size_t i = 0; i < tracked->capacity; i++)
            if (tracked->slots[i].name != NULL)
                count += tracked->slots[i].count;
    if ((sets & MESSAGE_DELETE_FORGED) != 0)
        count +=
            tracked->verdict_count + (tracked->auth_ours_incomplete ? tracked->auth_results_count
                                                                    : tracked->auth_ours_count);
    return count;
}
