/*
 * fuzz_bodyhash.c -- the streaming relaxed body hash (XSMTP-1 s2 bh=,
 * RFC 6376 s3.4.4), whose fast path reads words of eight octets.
 *
 * Input: a body, any octets.  The first two octets pick chunk sizes, the
 * rest is the body.  Invariants: the body fed in those chunks, the body
 * fed whole, and the body canonicalized here by a slow, line-by-line
 * reading of the rules (then hashed with OpenSSL's one-shot SHA-256) give
 * the same bh; a hasher reset after one message gives the same bh again.
 * Rules as XSMTP-1 has them: a line ends at CRLF or a bare LF; a CR not
 * before LF is an ordinary octet; runs of SP/HTAB become one SP, blanks at
 * a line's end go; empty lines at the end go; a non-empty last line gets
 * CRLF; an empty body hashes as the empty string.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <openssl/evp.h>

#include "hash/bodyhash.h"
#include "tests/fuzz/fuzz.h"

static struct xsmtp_bodyhash *hasher;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(xsmtp_bodyhash_new(&hasher) == XSMTP_OK);
    return 0;
}

/* The slow reading: returns the canonical length written to out
 * (at most 2 * len + 2 octets). */
static size_t
reference(const uint8_t *body, size_t len, uint8_t *out)
{
    size_t written = 0, kept = 0, start = 0;

    while (start < len) {
        size_t end = start, next;
        bool terminated = false, blank = false;
        size_t line_start = written;

        while (end < len && body[end] != '\n' &&
               !(body[end] == '\r' && end + 1 < len && body[end + 1] == '\n'))
            end++;
        if (end < len) {
            terminated = true;
            next = end + (body[end] == '\r' ? 2 : 1);
        } else {
            next = len;
        }
        for (size_t i = start; i < end; i++) {
            if (body[i] == ' ' || body[i] == '\t') {
                blank = true;
                continue;
            }
            if (blank)
                out[written++] = ' '; /* leading blanks too become one SP */
            blank = false;
            out[written++] = body[i];
        }
        if (terminated || written > line_start) {
            out[written++] = '\r';
            out[written++] = '\n';
            /* Only a line with content makes the empty lines before it stay. */
            if (written - line_start > 2)
                kept = written;
        }
        start = next;
    }
    return kept;
}

static void
digest_of(const uint8_t *data, size_t len, char out[XSMTP_B64_SHA256 + 1])
{
    unsigned char digest[32];
    unsigned int digest_len = 0;

    FUZZ_CHECK(EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) == 1);
    FUZZ_CHECK(EVP_EncodeBlock((unsigned char *)out, digest, 32) == XSMTP_B64_SHA256);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char whole[XSMTP_B64_SHA256 + 1], chunked[XSMTP_B64_SHA256 + 1];
    char expected[XSMTP_B64_SHA256 + 1];
    const uint8_t *body;
    uint8_t *canonical;
    size_t len, at = 0, step;
    unsigned seed;

    if (size < 2)
        return 0;
    seed = (unsigned)data[0] << 8 | data[1];
    body = data + 2;
    len = size - 2;

    canonical = malloc(2 * len + 2);
    FUZZ_CHECK(canonical != NULL);
    digest_of(canonical, reference(body, len, canonical), expected);
    free(canonical);

    FUZZ_CHECK(xsmtp_bodyhash_reset(hasher) == XSMTP_OK);
    FUZZ_CHECK(xsmtp_bodyhash_update(hasher, body, len) == XSMTP_OK);
    FUZZ_CHECK(xsmtp_bodyhash_final(hasher, whole) == XSMTP_OK);

    FUZZ_CHECK(xsmtp_bodyhash_reset(hasher) == XSMTP_OK);
    while (at < len) {
        /* Chunks of 1..16 octets, or 1..4096, as the seed's bits say. */
        step = (seed & 0x8000) ? 1 + (seed * 2654435761u >> 20) % 4096 : 1 + seed % 16;
        seed = seed * 1103515245u + 12345u;
        if (step > len - at)
            step = len - at;
        FUZZ_CHECK(xsmtp_bodyhash_update(hasher, body + at, step) == XSMTP_OK);
        at += step;
    }
    FUZZ_CHECK(xsmtp_bodyhash_final(hasher, chunked) == XSMTP_OK);

    FUZZ_CHECK(strcmp(whole, expected) == 0);
    FUZZ_CHECK(strcmp(chunked, expected) == 0);
    return 0;
}
