/*
 * bodyhash.c -- streaming DKIM "relaxed" body canonicalization + SHA-256.
 *
 * RFC 6376 s3.4.4, applied byte by byte so chunks may split anywhere:
 *   - a line ends at CRLF or at a bare LF (read as CRLF); a CR not followed
 *     by LF is an ordinary character;
 *   - blanks (SP, HTAB) at the end of a line are dropped, runs of blanks
 *     inside a line become one SP;
 *   - empty lines at the end of the body are dropped (counted, written only
 *     when a later line has content); a non-empty last line without a line
 *     end gets CRLF; an empty body hashes as the empty string.
 * Canonical bytes are collected in a small buffer and handed to the digest
 * in blocks, because one EVP call per byte would dominate the cost.
 *
 * Most of a body is already canonical: words separated by single spaces.
 * Such a run is found with a table lookup per byte and copied in one go;
 * only blanks that are doubled, tabs or trailing, and line ends take the
 * byte-wise path.  (callgrind, 4 KiB of text: 140,000 instructions per
 * message before, see docs/PERFORMANCE.md for after.)
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "hash/b64.h"
#include "hash/bodyhash.h"

#define OUTPUT_BUFFER 4096

struct xsmtp_bodyhash {
    EVP_MD_CTX *digest;
    bool failed;           /* a digest call failed; final reports it */
    bool pending_cr;       /* last byte was CR; its meaning depends on the next */
    bool pending_blank;    /* blanks seen in this line and not yet written */
    bool line_has_content; /* this line has written something */
    size_t empty_lines;    /* empty lines held back (they may end the body) */
    size_t used;
    unsigned char output[OUTPUT_BUFFER];
};

static void
flush(struct xsmtp_bodyhash *bodyhash)
{
    if (bodyhash->used > 0 &&
        EVP_DigestUpdate(bodyhash->digest, bodyhash->output, bodyhash->used) != 1)
        bodyhash->failed = true;
    bodyhash->used = 0;
}

static void
put(struct xsmtp_bodyhash *bodyhash, unsigned char c)
{
    if (bodyhash->used == OUTPUT_BUFFER)
        flush(bodyhash);
    bodyhash->output[bodyhash->used++] = c;
}

static void
put_bytes(struct xsmtp_bodyhash *bodyhash, const unsigned char *data, size_t len)
{
    while (len > 0) {
        size_t room, take;

        if (bodyhash->used == OUTPUT_BUFFER)
            flush(bodyhash);
        room = OUTPUT_BUFFER - bodyhash->used;
        take = len < room ? len : room;
        memcpy(bodyhash->output + bodyhash->used, data, take);
        bodyhash->used += take;
        data += take;
        len -= take;
    }
}

/* 1 for the octets that need the byte-wise path: CR, LF, SP, HTAB. */
static const unsigned char special[256] = {
    ['\r'] = 1,
    ['\n'] = 1,
    [' '] = 1,
    ['\t'] = 1,
};

/*
 * Eight octets at p, and the one after them, need no change: no octet
 * below SP (CR, LF, HTAB, other controls) and no SP followed by an octet
 * up to SP.  Branch-free per-octet compares on 64-bit words ("SWAR"): an
 * octet's high bit in lt() is set exactly when it is below n (n <= 0x80),
 * and no carry crosses from one octet into the next.  Conservative: some
 * canonical words fail (a control octet) and take the byte-wise path.
 */
#define OCTETS(x) ((uint64_t)(x)*UINT64_C(0x0101010101010101))

static inline uint64_t
lt(uint64_t word, unsigned n)
{
    return ~(((word & OCTETS(0x7f)) + OCTETS(0x80 - n)) | word) & OCTETS(0x80);
}

static inline bool
word_is_canonical(const unsigned char *p)
{
    uint64_t word, next;

    memcpy(&word, p, sizeof word);
    memcpy(&next, p + 1, sizeof next);
    return (lt(word, 0x20) | (lt(word ^ OCTETS(' '), 1) & lt(next, 0x21))) == 0;
}

/*
 * Length of the canonical run at data (whose first octet is ordinary):
 * ordinary octets, and single SPs followed by an ordinary octet.  A SP at
 * the end of the chunk is left out: the next chunk decides what it is.
 */
static size_t
canonical_run(const unsigned char *data, size_t len)
{
    size_t i = 1;

    while (i < len) {
        /* Whole words while the octet after the word is there to see. */
        while (len - i >= 9 && word_is_canonical(data + i))
            i += 8;
        if (i >= len)
            break;
        if (!special[data[i]])
            i++;
        else if (data[i] == ' ' && i + 1 < len && !special[data[i + 1]])
            i += 2;
        else
            break;
    }
    return i;
}

static void
end_line(struct xsmtp_bodyhash *bodyhash)
{
    if (bodyhash->line_has_content) {
        put(bodyhash, '\r');
        put(bodyhash, '\n');
    } else {
        bodyhash->empty_lines++;
    }
    bodyhash->line_has_content = false;
    bodyhash->pending_blank = false;
}

/* A character that is neither a blank nor part of a line end. */
static void
content(struct xsmtp_bodyhash *bodyhash, unsigned char c)
{
    if (!bodyhash->line_has_content) {
        /* The held-back empty lines were not the end of the body after all. */
        for (; bodyhash->empty_lines > 0; bodyhash->empty_lines--) {
            put(bodyhash, '\r');
            put(bodyhash, '\n');
        }
        bodyhash->line_has_content = true;
    }
    if (bodyhash->pending_blank) {
        put(bodyhash, ' ');
        bodyhash->pending_blank = false;
    }
    put(bodyhash, c);
}

xsmtp_status
xsmtp_bodyhash_reset(struct xsmtp_bodyhash *bodyhash)
{
    if (bodyhash == NULL)
        return XSMTP_EMALFORMED;
    bodyhash->failed = false;
    bodyhash->pending_cr = false;
    bodyhash->pending_blank = false;
    bodyhash->line_has_content = false;
    bodyhash->empty_lines = 0;
    bodyhash->used = 0;
    if (EVP_DigestInit_ex(bodyhash->digest, EVP_sha256(), NULL) != 1) {
        bodyhash->failed = true;
        return XSMTP_ECRYPTO;
    }
    return XSMTP_OK;
}

xsmtp_status
xsmtp_bodyhash_new(struct xsmtp_bodyhash **out)
{
    if (out == NULL)
        return XSMTP_EMALFORMED;
    *out = NULL;
    struct xsmtp_bodyhash *bodyhash = calloc(1, sizeof *bodyhash);
    if (bodyhash == NULL)
        return XSMTP_ENOMEM;
    bodyhash->digest = EVP_MD_CTX_new();
    if (bodyhash->digest == NULL) {
        free(bodyhash);
        return XSMTP_ENOMEM;
    }
    xsmtp_status status = xsmtp_bodyhash_reset(bodyhash);
    if (status != XSMTP_OK) {
        xsmtp_bodyhash_free(bodyhash);
        return status;
    }
    *out = bodyhash;
    return XSMTP_OK;
}

xsmtp_status
xsmtp_bodyhash_update(struct xsmtp_bodyhash *bodyhash, const uint8_t *data, size_t len)
{
    if (bodyhash == NULL || (data == NULL && len > 0))
        return XSMTP_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = data[i];
        if (!bodyhash->pending_cr && !special[c]) {
            size_t run = canonical_run(data + i, len - i);

            /* The first octet settles held-back lines and blanks; the rest
             * of the run is canonical as it stands. */
            content(bodyhash, c);
            put_bytes(bodyhash, data + i + 1, run - 1);
            i += run - 1;
            continue;
        }
        if (bodyhash->pending_cr) {
            bodyhash->pending_cr = false;
            if (c == '\n') {
                end_line(bodyhash);
                continue;
            }
            content(bodyhash, '\r');
        }
        if (c == '\r')
            bodyhash->pending_cr = true;
        else if (c == '\n')
            end_line(bodyhash);
        else if (c == ' ' || c == '\t')
            bodyhash->pending_blank = true;
        else
            content(bodyhash, c);
    }
    return bodyhash->failed ? XSMTP_ECRYPTO : XSMTP_OK;
}

xsmtp_status
xsmtp_bodyhash_final(struct xsmtp_bodyhash *bodyhash, char out[XSMTP_B64_SHA256 + 1])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    if (bodyhash == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    out[0] = '\0';
    if (bodyhash->pending_cr) {
        bodyhash->pending_cr = false;
        content(bodyhash, '\r');
    }
    /* A last line without its line end still ends with CRLF canonically. */
    if (bodyhash->line_has_content)
        end_line(bodyhash);
    flush(bodyhash);
    if (bodyhash->failed)
        return XSMTP_ECRYPTO;
    if (EVP_DigestFinal_ex(bodyhash->digest, digest, &digest_len) != 1 || digest_len != 32) {
        bodyhash->failed = true;
        return XSMTP_ECRYPTO;
    }
    /* Further updates need a reset; make that visible instead of hashing garbage. */
    bodyhash->failed = true;
    return xsmtp_b64_encode(digest, digest_len, out, XSMTP_B64_SHA256 + 1);
}

void
xsmtp_bodyhash_free(struct xsmtp_bodyhash *bodyhash)
{
    if (bodyhash == NULL)
        return;
    EVP_MD_CTX_free(bodyhash->digest);
    free(bodyhash);
}
