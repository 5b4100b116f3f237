/*
 * b64.h -- strict standard base64 (RFC 4648 section 4, with padding).
 *
 * The decoder refuses anything a strict encoder would not write: characters
 * outside the alphabet, whitespace, missing or extra padding, and non-zero
 * bits in the final padded quantum.  That makes "h" and "bh" values
 * canonical, so one MAC has exactly one spelling.
 */
#ifndef XSMTP_B64_H
#define XSMTP_B64_H

#include <stddef.h>
#include <stdint.h>
#include "hash/util/status.h"

/* Encoded length (without NUL) of n input bytes. */
#define XSMTP_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the encoding of in[0..inlen) and a NUL into out (outsz bytes). */
xsmtp_status xsmtp_b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outsz);

/* Decodes text[0..textlen) into out (at most outsz bytes), *outlen = bytes. */
xsmtp_status xsmtp_b64_decode(const char *text, size_t textlen, uint8_t *out, size_t outsz,
                              size_t *outlen);

#endif
