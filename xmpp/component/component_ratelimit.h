/*
 * component_ratelimit.h -- token buckets keyed by a short string (a domain).
 *
 * The component keeps one table for verify queries (keyed by the
 * requesting domain) and one for progress notices (keyed by the sender's
 * domain).  Each key gets a bucket of `burst` tokens refilled at `rate`
 * tokens per second; a request takes one token or is refused.
 */
#ifndef XSMTP_RATELIMIT_H
#define XSMTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hash/util/status.h"

#define COMPONENT_RATELIMIT_KEY_MAX 1023 /* longest domain part of a JID */

struct component_ratelimit;

/*
 * rate: tokens per second (0: never limit); burst: bucket size (>= 1);
 * max_keys: how many buckets may exist at once.  Buckets that have filled
 * up again are forgotten when room is needed, which changes nothing (a new
 * bucket starts full).  When every bucket is in use the request is refused:
 * being flooded by that many domains at once is itself overload.
 */
xsmtp_status component_ratelimit_new(uint32_t rate, uint32_t burst, size_t max_keys,
                                     struct component_ratelimit **out);
void component_ratelimit_free(struct component_ratelimit *limit);

/*
 * Takes one token from key's bucket at time now_ns (a monotonic clock in
 * nanoseconds).  Returns true when the request may go ahead.  A key longer
 * than COMPONENT_RATELIMIT_KEY_MAX is refused.
 */
bool component_ratelimit_take(struct component_ratelimit *limit, const char *key, uint64_t now_ns);

/* Number of buckets held (tests, statistics). */
size_t component_ratelimit_size(const struct component_ratelimit *limit);

#endif
