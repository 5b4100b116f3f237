/*
 * b64.c -- strict standard base64 (RFC 4648 section 4, with padding).
 *
 * Encoding uses OpenSSL's EVP_EncodeBlock, which already writes the exact
 * canonical form.  Decoding is done here instead of with EVP_DecodeBlock,
 * because that function skips whitespace, cannot say how much padding it saw
 * and accepts non-zero trailing bits; each of those would give one MAC
 * several spellings.  The character mapping uses arithmetic instead of a
 * lookup table so that decoding a key-table secret does not touch memory at
 * secret-dependent addresses.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hash/b64.h"

xsmtp_status
xsmtp_b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outsz)
{
    if (out == NULL || (in == NULL && inlen > 0))
        return XSMTP_EMALFORMED;
    /* EVP_EncodeBlock takes an int; refuse lengths whose output overflows it. */
    if (inlen > (size_t)INT_MAX / 4 * 3 - 3)
        return XSMTP_ETOOBIG;
    if (outsz < XSMTP_B64_LEN(inlen) + 1)
        return XSMTP_ETOOBIG;
    if (inlen == 0) {
        out[0] = '\0';
        return XSMTP_OK;
    }
    int written = EVP_EncodeBlock((unsigned char *)out, in, (int)inlen);
    if (written < 0 || (size_t)written != XSMTP_B64_LEN(inlen))
        return XSMTP_ECRYPTO;
    return XSMTP_OK;
}

/*
 * Value 0..63 of one alphabet character, or -1.  Every range test is
 * computed for every input, so the time does not depend on which range
 * the character falls into.
 */
static int
b64_value(unsigned char c)
{
    int ch = c;
    int value = -1;

    /* Each mask is -1 when ch is inside the range, 0 otherwise. */
    int upper = ((('A' - 1) - ch) & (ch - ('Z' + 1))) >> 8;
    int lower = ((('a' - 1) - ch) & (ch - ('z' + 1))) >> 8;
    int digit = ((('0' - 1) - ch) & (ch - ('9' + 1))) >> 8;
    int plus = (((ch ^ '+') - 1) >> 8);
    int slash = (((ch ^ '/') - 1) >> 8);

    value += upper & (ch - 'A' + 1);
    value += lower & (ch - 'a' + 26 + 1);
    value += digit & (ch - '0' + 52 + 1);
    value += plus & (62 + 1);
    value += slash & (63 + 1);
    return value;
}

xsmtp_status
xsmtp_b64_decode(const char *text, size_t textlen, uint8_t *out, size_t outsz, size_t *outlen)
{
    if (outlen != NULL)
        *outlen = 0;
    if ((text == NULL && textlen > 0) || outlen == NULL)
        return XSMTP_EMALFORMED;
    if (textlen % 4 != 0)
        return XSMTP_EMALFORMED;
    if (textlen == 0)
        return XSMTP_OK;

    size_t padding = 0;
    if (text[textlen - 1] == '=') {
        padding = 1;
        if (text[textlen - 2] == '=')
            padding = 2;
    }
    size_t decoded_len = textlen / 4 * 3 - padding;
    if (out == NULL || outsz < decoded_len)
        return XSMTP_ETOOBIG;

    size_t written = 0;
    int bad = 0;
    for (size_t pos = 0; pos < textlen; pos += 4) {
        bool last = pos + 4 == textlen;
        int v0 = b64_value((unsigned char)text[pos]);
        int v1 = b64_value((unsigned char)text[pos + 1]);
        /* '=' is only legal as the padding counted above, in the last quantum. */
        int v2 = (last && padding == 2) ? 0 : b64_value((unsigned char)text[pos + 2]);
        int v3 = (last && padding >= 1) ? 0 : b64_value((unsigned char)text[pos + 3]);
        bad |= v0 | v1 | v2 | v3; /* any -1 sets the sign bit */

        uint32_t quantum = ((uint32_t)(v0 & 63) << 18) | ((uint32_t)(v1 & 63) << 12) |
                           ((uint32_t)(v2 & 63) << 6) | (uint32_t)(v3 & 63);
        if (last && padding == 2) {
            /* Canonical form: the 4 unused bits of the second character are 0. */
            if ((v1 & 0x0f) != 0)
                bad = -1;
            out[written++] = (uint8_t)(quantum >> 16);
        } else if (last && padding == 1) {
            /* Canonical form: the 2 unused bits of the third character are 0. */
            if ((v2 & 0x03) != 0)
                bad = -1;
            out[written++] = (uint8_t)(quantum >> 16);
            out[written++] = (uint8_t)(quantum >> 8);
        } else {
            out[written++] = (uint8_t)(quantum >> 16);
            out[written++] = (uint8_t)(quantum >> 8);
            out[written++] = (uint8_t)quantum;
        }
    }
    if (bad < 0) {
        OPENSSL_cleanse(out, written);
        return XSMTP_EMALFORMED;
    }
    *outlen = written;
    return XSMTP_OK;
}
