/*
 * bodyhash.h -- the bh= value: SHA-256 over the DKIM relaxed body.
 *
 * Streaming: the milter feeds body chunks as libmilter delivers them, split
 * anywhere (even between CR and LF).  Bare LF line ends count as CRLF.  The
 * digest context is allocated once per user (per connection) and reset per
 * message, so there is no per-message allocation.
 */
#ifndef XSMTP_BODYHASH_H
#define XSMTP_BODYHASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "hash/taglist.h"
#include "hash/util/status.h"

struct xsmtp_bodyhash;

/* Allocates a hasher ready for a first message. */
xsmtp_status xsmtp_bodyhash_new(struct xsmtp_bodyhash **out);
/* Starts a new body (discarding any previous state). */
xsmtp_status xsmtp_bodyhash_reset(struct xsmtp_bodyhash *bodyhash);
xsmtp_status xsmtp_bodyhash_update(struct xsmtp_bodyhash *bodyhash, const uint8_t *data,
                                   size_t len);
/* Finishes and writes the 44-character base64 digest plus NUL. */
xsmtp_status xsmtp_bodyhash_final(struct xsmtp_bodyhash *bodyhash, char out[XSMTP_B64_SHA256 + 1]);
void xsmtp_bodyhash_free(struct xsmtp_bodyhash *bodyhash);

#endif
