/*
 * cache.h -- the verifier's verdict cache in Redis, shared by every milter
 * process of a site (XSMTP-1 s5 and s7).
 *
 * Why it exists: one verification costs an XMPP round trip to the sender's
 * component; the same message often reaches a site several times (several
 * recipients, several gateways), and discovery answers (s5) are reused for
 * every message of a domain.  The cache is an optimisation only: whatever
 * happens to Redis, the caller verifies uncached and mail is never held
 * past its deadline because of it.
 *
 * Keys (all start with the configured prefix, default "xsmtp:1:"):
 *   verdict    PREFIX "v:" HEX   HEX = lowercase hex SHA-256 of the XSMTP-1
 *              s3 canonical input (exactly the bytes xsmtp_canonical_build
 *              writes) followed by "relay:" ADDR LF.  ADDR is the address
 *              text of the SMTP client that delivered the message to us (the
 *              relay= of s6), empty when the query carries no relay.  The
 *              relay is part of the key because the component's answer may
 *              depend on it (relay-not-authorized).
 *   discovery  PREFIX "c:" DOMAIN   DOMAIN lowercased (ASCII).
 *   lock       KEY ":lock"          for any of the above (cache_lock_*).
 *
 * Values (plain text, no line end, parsed strictly: anything else is a
 * miss, counted in stats.bad_values and logged at debug):
 *   verdict    VERDICT TAB REASON TAB COMPONENT
 *              VERDICT  "pass", "fail" or "permerror" (temperror is never
 *                       stored);
 *              REASON   empty for pass, else 1..32 of [a-z0-9-];
 *              COMPONENT the component JID that answered, 1..253 of
 *                       [A-Za-z0-9._-]; may be empty for permerror only.
 *              e.g. "pass\t\txsmtp.a.test", "fail\tbad-hash\txsmtp.a.test",
 *                   "permerror\tno-component\t"
 *   discovery  "found" TAB JID  (JID as above)  or  "none"
 *   lock       32 lowercase hex digits (random token of the holder)
 * A change of these formats must come with a new default prefix
 * ("xsmtp:2:"), so old and new milters never read each other's values.
 *
 * TTL (cache_ttl_for, cache_component_ttl): pass until t + max_age, capped
 * at 24 h, not stored once t + max_age has passed; fail and permerror 1 h;
 * temperror never; discovery found 24 h, none found 1 h.
 *
 * Time: every Redis call takes an absolute deadline on CLOCK_MONOTONIC
 * (NULL: none) and is bounded by the sooner of it and now + timeout_ms.
 * Past that bound it answers CACHE_UNAVAILABLE; it never waits longer.
 * When Redis fails (refused, timeout, bad AUTH) it is marked down and not
 * tried again for a backoff (1 s doubling to 30 s): meanwhile calls answer
 * CACHE_UNAVAILABLE at once, without touching the network.  After the
 * backoff one caller probes; success brings the cache back by itself.
 * A warning is logged at most once a minute while Redis is unavailable.
 *
 * Threads: a struct cache may be used by any number of threads.  hiredis
 * contexts are not thread-safe, so each call borrows one context from a
 * small pool (options.pool_size); a caller that gets none before its bound
 * answers CACHE_UNAVAILABLE.
 *
 * Sentinel: with options.sentinel_count > 0 the master named master_name is
 * asked of each sentinel in turn (SENTINEL get-master-addr-by-name), checked
 * with ROLE, and looked up again after a connection error or a READONLY
 * reply (failover).  Sentinels are expected to need no password.
 *
 * Process requirement: SIGPIPE must be ignored (libmilter's smfi_main does
 * it): hiredis writes with write(2), and a write on a connection Redis has
 * closed would otherwise kill the process.
 */
#ifndef XSMTP_CACHE_H
#define XSMTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hash/proto.h"
#include "hash/token.h"
#include "hash/util/logger.h"
#include "hash/util/status.h"

#define CACHE_DEFAULT_PREFIX "xsmtp:1:"
#define CACHE_DEFAULT_PORT 6379
#define CACHE_DEFAULT_TIMEOUT_MS 100
#define CACHE_DEFAULT_POOL_SIZE 4
#define CACHE_DEFAULT_BACKOFF_MS 1000      /* first backoff after a failure */
#define CACHE_DEFAULT_BACKOFF_MAX_MS 30000 /* cap of the doubling */

#define CACHE_PREFIX_MAX 64
#define CACHE_RELAY_MAX 64
#define CACHE_REASON_MAX 32
#define CACHE_JID_MAX 253
#define CACHE_SENTINELS_MAX 16
/* Room for any key: prefix, "c:", a 253-octet domain, ":lock", NUL. */
#define CACHE_KEY_SIZE 384
/* Room for any value of the formats above, NUL included. */
#define CACHE_VALUE_SIZE 320

#define CACHE_TTL_PASS_MAX 86400 /* seconds */
#define CACHE_TTL_NEGATIVE 3600  /* fail, permerror */
#define CACHE_TTL_COMPONENT_FOUND 86400
#define CACHE_TTL_COMPONENT_NONE 3600

/* What the configuration layer fills in (redis { ... }). */
struct cache_options {
    const char *host;             /* TCP server; an IP address is best: name
                                   lookup is not bounded by timeout_ms */
    unsigned port;                /* 0: 6379 */
    const char *socket;           /* unix socket path; exclusive with host */
    const char *password_file;    /* NULL: no AUTH; refused if group/other
                                   may read or write it */
    unsigned db;                  /* SELECT db when not 0 */
    const char *prefix;           /* NULL: CACHE_DEFAULT_PREFIX; at most 64
                                   printable non-space ASCII octets */
    unsigned timeout_ms;          /* per call; 0: default; 1..60000 */
    const char *const *sentinels; /* "host:port" or "[v6]:port" */
    size_t sentinel_count;        /* 0: no Sentinel; else host/socket unset */
    const char *master_name;      /* required with sentinels */
    unsigned pool_size;           /* contexts; 0: default; 1..64 */
    unsigned backoff_ms;          /* 0: default (tests shorten it) */
    unsigned backoff_max_ms;      /* 0: default */
    struct xsmtp_logger logger;   /* where the cache's lines go; {NULL}: nowhere */
};

enum cache_result {
    CACHE_OK = 0,      /* stored, released */
    CACHE_HIT,         /* get: a well-formed value was found */
    CACHE_MISS,        /* get: none, or an unparsable one; release: the
                           lock was no longer ours (expired) */
    CACHE_LOCKED,      /* lock_acquire: we hold it now */
    CACHE_BUSY,        /* lock_acquire: someone else holds it */
    CACHE_UNAVAILABLE, /* Redis down, slow, in backoff, pool exhausted,
                           deadline passed: go on uncached */
    CACHE_EINVAL       /* bad argument (a bug in the caller) */
};

/* A stored verdict: pass, fail or permerror (proto.h). */
struct cache_verdict_entry {
    enum xsmtp_verdict verdict;
    char reason[CACHE_REASON_MAX + 1]; /* "" for pass */
    char component[CACHE_JID_MAX + 1]; /* "" only for permerror */
};

struct cache_component_entry {
    bool found;                  /* false: "none found" */
    char jid[CACHE_JID_MAX + 1]; /* "" when !found */
};

/* A held lock: what cache_lock_release needs to delete only our own. */
struct cache_lock {
    char key[CACHE_KEY_SIZE]; /* KEY ":lock" */
    char token[33];           /* 32 hex digits + NUL */
};

/* Counters since cache_open, copied under the pool lock. */
struct cache_stats {
    uint64_t hits, misses, stores;
    uint64_t errors;           /* calls answered CACHE_UNAVAILABLE */
    uint64_t bad_values;       /* unparsable values read (counted as misses) */
    uint64_t connect_attempts; /* connections tried (sentinels excluded) */
    uint64_t connects;         /* connections made (AUTH/SELECT done) */
    uint64_t backoff_skips;    /* calls answered at once: Redis marked down */
    uint64_t pool_timeouts;    /* no context free before the bound */
    uint64_t sentinel_queries; /* get-master-addr-by-name asked */
    uint64_t master_changes;   /* master address differed from the last */
    bool down;                 /* marked down now */
};

struct cache;

/* Short constant name of a result ("hit", "unavailable", ...). */
const char *cache_result_str(enum cache_result result);

/* CLOCK_MONOTONIC now + ms, the deadline form the calls below take. */
void cache_deadline_after(struct timespec *deadline, unsigned ms);

/* --- pure functions (no Redis) ------------------------------------------ */

/*
 * The verdict key for the canonical input of input (built with
 * xsmtp_canonical_build) and relay (NULL or "" for none; else 1..64
 * printable non-space ASCII octets).  XSMTP_EMALFORMED for a bad prefix,
 * relay or input, XSMTP_ETOOBIG if out is too small, XSMTP_ENOMEM,
 * XSMTP_ECRYPTO.
 */
xsmtp_status cache_key_verdict(const char *prefix, const struct xsmtp_token_input *input,
                               const char *relay, char *out, size_t outsz);
/* The same from canonical bytes the caller already built. */
xsmtp_status cache_key_verdict_canonical(const char *prefix, const char *canonical,
                                         size_t canonical_len, const char *relay, char *out,
                                         size_t outsz);
/* PREFIX "c:" lowercased domain; domain: 1..253 of letters, digits, - and . */
xsmtp_status cache_key_component(const char *prefix, const char *domain, char *out, size_t outsz);

/*
 * Fills entry with a verdict, its reason (ignored for pass) and the
 * component that gave it (NULL: none).  false when that verdict is never
 * stored (none, temperror) or a value does not fit the format above.
 */
bool cache_verdict_entry_set(struct cache_verdict_entry *entry, enum xsmtp_verdict verdict,
                             const char *reason, const char *component);

/* Value formats above.  format refuses entries that parse would refuse. */
xsmtp_status cache_verdict_format(const struct cache_verdict_entry *entry, char *out, size_t outsz);
xsmtp_status cache_verdict_parse(const char *value, size_t len, struct cache_verdict_entry *entry);
xsmtp_status cache_component_format(const struct cache_component_entry *entry, char *out,
                                    size_t outsz);
xsmtp_status cache_component_parse(const char *value, size_t len,
                                   struct cache_component_entry *entry);

/*
 * Seconds a verdict may live in the cache; 0 means "do not store".
 * t: the message's signing time, max_age: the verifier's verify.max_age,
 * now: Unix seconds.  pass: t + max_age - now capped at 24 h (0 once
 * t + max_age <= now, or for a negative max_age); fail, permerror: 1 h;
 * temperror and unknown values: 0.
 */
int64_t cache_ttl_for(enum xsmtp_verdict verdict, int64_t t, int64_t max_age, int64_t now);
/* Discovery: 24 h when found, 1 h for none found. */
int64_t cache_component_ttl(bool found);

/* --- the cache ------------------------------------------------------------ */

/*
 * Checks and copies options and reads the password file; does not connect
 * (the first call does), so it succeeds while Redis is down.
 * XSMTP_EMALFORMED (bad options), XSMTP_EPERM / XSMTP_EIO (password file),
 * XSMTP_ENOMEM.  err gets a one-line reason without secrets.
 */
xsmtp_status cache_open(const struct cache_options *options, struct cache **out, char *err,
                        size_t errsz);
/* Closes every context and wipes the password.  No call may be running. */
void cache_close(struct cache *cache);
/* The prefix in use, for cache_key_*. */
const char *cache_prefix(const struct cache *cache);

enum cache_result cache_get_verdict(struct cache *cache, const char *key,
                                    const struct timespec *deadline,
                                    struct cache_verdict_entry *entry);
/*
 * ttl_seconds from cache_ttl_for; 0 stores nothing and answers CACHE_OK.
 * A temperror entry or one format refuses is CACHE_EINVAL.
 */
enum cache_result cache_put_verdict(struct cache *cache, const char *key,
                                    const struct cache_verdict_entry *entry, int64_t ttl_seconds,
                                    const struct timespec *deadline);
enum cache_result cache_get_component(struct cache *cache, const char *key,
                                      const struct timespec *deadline,
                                      struct cache_component_entry *entry);
/* The TTL is cache_component_ttl(entry->found). */
enum cache_result cache_put_component(struct cache *cache, const char *key,
                                      const struct cache_component_entry *entry,
                                      const struct timespec *deadline);

/*
 * SET KEY:lock TOKEN NX PX ttl_ms: CACHE_LOCKED (lock filled in),
 * CACHE_BUSY or CACHE_UNAVAILABLE.  The lock expires by itself after ttl_ms
 * (1..60000), so a holder that dies blocks nobody for long.  Intended use
 * after a miss: LOCKED -> query, put, release; BUSY -> read again every
 * few ms until a hit, the lock's ttl or the deadline, then query anyway;
 * UNAVAILABLE -> query uncached.  Only other processes are kept out this
 * way: threads of one process should share one query in memory first.
 */
enum cache_result cache_lock_acquire(struct cache *cache, const char *key, unsigned ttl_ms,
                                     const struct timespec *deadline, struct cache_lock *lock);
/* Deletes the lock if it still holds our token: CACHE_OK, CACHE_MISS
 * (expired or taken over meanwhile) or CACHE_UNAVAILABLE. */
enum cache_result cache_lock_release(struct cache *cache, const struct cache_lock *lock,
                                     const struct timespec *deadline);

void cache_get_stats(struct cache *cache, struct cache_stats *out);

#endif
