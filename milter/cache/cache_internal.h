/*
 * cache_internal.h -- what cache.c, cache_pool.c and cache_sentinel.c
 * share; not for other callers (they use cache.h).
 *
 * One struct cache holds the copied options, the password, and the pool:
 * a fixed array of hiredis contexts plus the health state (up, or down
 * until a retry time) and, with Sentinel, the master address currently
 * believed in.  All of it is guarded by pool.lock; a context is used
 * outside the lock only by the thread that borrowed it.
 */
#ifndef XSMTP_CACHE_INTERNAL_H
#define XSMTP_CACHE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "milter/cache/cache.h"

#define CACHE_HOST_MAX 255
#define CACHE_PASSWORD_MAX 512

struct cache_endpoint {
    char host[CACHE_HOST_MAX + 1];
    unsigned port;
};

struct cache_slot {
    redisContext *context; /* NULL: not connected */
    unsigned generation;   /* master generation it was connected to */
    bool in_use;
};

struct cache_pool {
    pthread_mutex_t lock;
    pthread_cond_t slot_free; /* CLOCK_MONOTONIC */
    struct cache_slot *slots;
    size_t slot_count;

    /* Health: down until retry_at_ns, then one caller probes. */
    bool down;
    bool probing;
    int64_t retry_at_ns;
    int64_t backoff_ns;      /* the next backoff to use */
    int64_t last_warning_ns; /* 0: never warned */
    bool warned_this_outage;

    /* Sentinel: the master believed in (valid when master_known). */
    bool master_known;
    bool resolving;
    struct cache_endpoint master;
    unsigned generation;       /* bumped whenever master changes */
    size_t preferred_sentinel; /* the one that answered last */

    struct cache_stats stats;
};

struct cache {
    /* Copied options. */
    struct cache_endpoint server; /* host/port when not a socket */
    char *socket_path;            /* NULL: TCP or Sentinel */
    struct cache_endpoint *sentinels;
    size_t sentinel_count;
    char *master_name;
    char prefix[CACHE_PREFIX_MAX + 1];
    unsigned db;
    int64_t timeout_ns;
    int64_t backoff_min_ns;
    int64_t backoff_max_ns;
    bool has_password;
    char password[CACHE_PASSWORD_MAX];
    struct xsmtp_logger logger;

    struct cache_pool pool;
};

/* Monotonic clock in nanoseconds. */
int64_t cache_clock_ns(void);

/* cache_pool.c */
int cache_pool_init(struct cache *cache, size_t slots);
void cache_pool_destroy(struct cache *cache);
/*
 * Runs one command (argv form; argvlen NULL for NUL-terminated strings) on
 * a borrowed context, connecting first if needed, bounded by the sooner of
 * deadline and now + timeout_ms.  CACHE_OK: *reply is set (the caller frees
 * it with freeReplyObject); the only error reply passed on is WRONGTYPE
 * (the key holds another type: a foreign value).  Otherwise
 * CACHE_UNAVAILABLE, *reply is NULL and stats.errors was counted.
 */
enum cache_result cache_pool_command(struct cache *cache, const struct timespec *deadline, int argc,
                                     const char **argv, const size_t *argvlen, redisReply **reply);
/*
 * One command on a connected context, waiting for the answer with ppoll
 * until end_ns (not with socket timeouts: those round up to kernel ticks).
 * NULL on failure: *timed_out tells a timeout from an I/O error (then
 * context->err is set).  After a failure the context must be freed.
 */
redisReply *cache_context_command(redisContext *context, int64_t end_ns, int argc,
                                  const char **argv, const size_t *argvlen, bool *timed_out);
/* Counts one unavailable answer. */
void cache_count_error(struct cache *cache);

/* cache_sentinel.c */
/*
 * Asks the sentinels in turn for the master before end_ns; true and
 * *master set on the first answer.  Updates preferred_sentinel and
 * stats.sentinel_queries under the pool lock.
 */
bool cache_sentinel_resolve(struct cache *cache, int64_t end_ns, struct cache_endpoint *master);
/* Parses "host:port" / "[v6]:port" into endpoint; false if malformed. */
bool cache_endpoint_parse(const char *text, struct cache_endpoint *endpoint);
/* ROLE answers "master" on this context (checked after a Sentinel lookup). */
bool cache_sentinel_is_master(redisContext *context, int64_t end_ns);

#endif
