/*
 * component_ratelimit.c -- token buckets in a chained hash table.
 *
 * Tokens are kept in fixed point (millionths of a token) so refill is
 * exact integer arithmetic: no drift from floating point, and the same
 * sequence of calls always gives the same answers (tests rely on that).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "xmpp/component/component_ratelimit.h"

#define TOKEN_UNIT 1000000ULL /* one token in fixed point */
#define BUCKET_CHAINS 1024

struct bucket {
    struct bucket *next;
    uint64_t tokens;   /* fixed point */
    uint64_t stamp_ns; /* time tokens was last brought up to date */
    char key[];
};

struct component_ratelimit {
    uint64_t rate;     /* tokens per second (whole tokens) */
    uint64_t capacity; /* burst in fixed point */
    uint64_t fill_ns;  /* time an empty bucket takes to fill up */
    size_t max_keys;
    size_t key_count;
    struct bucket *chains[BUCKET_CHAINS];
};

xsmtp_status
component_ratelimit_new(uint32_t rate, uint32_t burst, size_t max_keys,
                        struct component_ratelimit **out)
{
    struct component_ratelimit *limit;

    *out = NULL;
    if (burst == 0 || max_keys == 0)
        return XSMTP_EMALFORMED;
    limit = calloc(1, sizeof *limit);
    if (limit == NULL)
        return XSMTP_ENOMEM;
    limit->rate = rate;
    limit->capacity = (uint64_t)burst * TOKEN_UNIT;
    /* capacity * 1000 <= 2^32 * 10^9 < 2^64: no overflow (rate 0 never refills). */
    limit->fill_ns = rate == 0 ? UINT64_MAX : (limit->capacity * 1000 + rate - 1) / rate;
    limit->max_keys = max_keys;
    *out = limit;
    return XSMTP_OK;
}

void
component_ratelimit_free(struct component_ratelimit *limit)
{
    size_t i;
    struct bucket *b, *next;

    if (limit == NULL)
        return;
    for (i = 0; i < BUCKET_CHAINS; i++) {
        for (b = limit->chains[i]; b != NULL; b = next) {
            next = b->next;
            free(b);
        }
    }
    free(limit);
}

/* FNV-1a: keys are domains of authenticated JIDs, not attacker-chosen at scale. */
static size_t
chain_of(const char *key)
{
    uint32_t hash = 2166136261u;

    for (; *key != '\0'; key++) {
        hash ^= (unsigned char)*key;
        hash *= 16777619u;
    }
    return hash % BUCKET_CHAINS;
}

static void
refill(const struct component_ratelimit *limit, struct bucket *b, uint64_t now_ns)
{
    uint64_t elapsed, add;

    if (now_ns <= b->stamp_ns)
        return;
    elapsed = now_ns - b->stamp_ns;
    /*
     * rate tokens/s * elapsed ns, in millionths of a token: rate*elapsed/1000.
     * Past the time an empty bucket takes to fill, the bucket is full; below
     * it, rate*elapsed < capacity*1000 <= 2^32 * 10^9, so the product cannot
     * wrap whatever rate the caller chose.
     */
    if (elapsed >= limit->fill_ns)
        add = limit->capacity;
    else
        add = limit->rate * elapsed / 1000;
    b->tokens = (b->tokens + add > limit->capacity) ? limit->capacity : b->tokens + add;
    b->stamp_ns = now_ns;
}

/* Forgets buckets that are full again: a fresh bucket would be the same. */
static void
sweep(struct component_ratelimit *limit, uint64_t now_ns)
{
    size_t i;
    struct bucket **link, *b;

    for (i = 0; i < BUCKET_CHAINS; i++) {
        link = &limit->chains[i];
        while ((b = *link) != NULL) {
            refill(limit, b, now_ns);
            if (b->tokens >= limit->capacity) {
                *link = b->next;
                free(b);
                limit->key_count--;
            } else {
                link = &b->next;
            }
        }
    }
}

bool
component_ratelimit_take(struct component_ratelimit *limit, const char *key, uint64_t now_ns)
{
    size_t chain, keylen;
    struct bucket *b;

    if (limit->rate == 0)
        return true;
    keylen = strnlen(key, COMPONENT_RATELIMIT_KEY_MAX + 1);
    if (keylen > COMPONENT_RATELIMIT_KEY_MAX)
        return false;
    chain = chain_of(key);
    for (b = limit->chains[chain]; b != NULL; b = b->next)
        if (strcmp(b->key, key) == 0)
            break;
    if (b == NULL) {
        if (limit->key_count >= limit->max_keys)
            sweep(limit, now_ns);
        if (limit->key_count >= limit->max_keys)
            return false;
        b = malloc(sizeof *b + keylen + 1);
        if (b == NULL)
            return false;
        memcpy(b->key, key, keylen + 1);
        b->tokens = limit->capacity;
        b->stamp_ns = now_ns;
        b->next = limit->chains[chain];
        limit->chains[chain] = b;
        limit->key_count++;
    }
    refill(limit, b, now_ns);
    if (b->tokens < TOKEN_UNIT)
        return false;
    b->tokens -= TOKEN_UNIT;
    return true;
}

size_t
component_ratelimit_size(const struct component_ratelimit *limit)
{
    return limit->key_count;
}
