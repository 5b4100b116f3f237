/*
 * token.h -- the bytes that are MACed and the MAC itself (XSMTP-1 s3).
 *
 * The canonical input is built from already-extracted values; the MAC is
 * HMAC-SHA256 keyed by a key-table entry whose OpenSSL context was set up
 * once at load time, so signing and verifying do no per-message key setup.
 */
#ifndef XSMTP_TOKEN_H
#define XSMTP_TOKEN_H

#include <stddef.h>
#include "hash/keytable.h"
#include "hash/taglist.h"
#include "hash/util/status.h"

/*
 * Enough for any canonical input: msgid and from are at most one header
 * value each (XSMTP_HEADER_VALUE_MAX), the other fields are short.
 */
#define XSMTP_CANONICAL_SIZE (2 * 8192 + 1024)

/* The seven values of the canonical input, all NUL-terminated. */
struct xsmtp_token_input {
    const char *identity; /* as in X-XMPP-Identity; lowercased when built */
    const char *msgid;    /* extracted, case kept */
    const char *from;     /* extracted, lowercased when built */
    const char *t;
    const char *ip;
    const char *bh;
    const char *k;
};

/*
 * Writes the canonical input ("xsmtp-1\nidentity:...\n...key:...\n") into
 * out, *outlen bytes (no NUL is counted).  Lowercases identity and from.
 * Any value containing CR or LF is refused (XSMTP_EMALFORMED): it would let
 * one field impersonate another.
 */
xsmtp_status xsmtp_canonical_build(const struct xsmtp_token_input *input, char *out, size_t outsz,
                                   size_t *outlen);

/* h = base64(HMAC-SHA256(key secret, canonical)); out gets 44 chars + NUL. */
xsmtp_status xsmtp_token_mac(const struct xsmtp_key *key, const struct xsmtp_token_input *input,
                             char out[XSMTP_B64_SHA256 + 1]);

/* Recomputes the MAC and compares with claimed_h in constant time. */
xsmtp_status xsmtp_token_verify(const struct xsmtp_key *key, const struct xsmtp_token_input *input,
                                const char *claimed_h);

/* HMAC-SHA256 of raw bytes with a raw secret (tests and tools). */
xsmtp_status xsmtp_hmac_sha256_b64(const unsigned char *secret, size_t secretlen, const char *data,
                                   size_t datalen, char out[XSMTP_B64_SHA256 + 1]);

#endif
