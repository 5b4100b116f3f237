/*
 * identity.c -- validate and lowercase XSMTP-1 identities (bare JIDs).
 *
 * The rules are exactly those of XSMTP-1 section 2 and nothing more, so that
 * any two implementations accept the same set: local part 1..64 octets
 * without "&'/:<>@, space or control characters; domain 1..253 octets of
 * letters, digits, '-' and '.'.  Octets >= 0x80 are allowed in the local
 * part (JIDs are UTF-8) and kept as they are; only ASCII is lowercased.
 * They must form well-formed UTF-8, though (RFC 7622: a JID is a UTF-8
 * string; no overlong forms, surrogates, or code points above U+10FFFF),
 * and the C1 controls U+0080..U+009F and the non-characters U+FFFE/U+FFFF
 * count as control characters: an identity is copied into verdict headers
 * and XML attributes, where such octets would make them ill-formed.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "hash/identity.h"

static unsigned char
ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool
local_char_ok(unsigned char c)
{
    if (c < 0x20 || c == 0x7f || c == ' ')
        return false;
    return strchr("\"&'/:<>@", c) == NULL;
}

/*
 * Length (2..4) of the well-formed UTF-8 sequence at s, which starts with
 * an octet >= 0x80, and its code point; 0 when ill-formed.  n: octets left.
 */
static size_t
utf8_sequence(const char *s, size_t n, unsigned long *code_point)
{
    const unsigned char *octets = (const unsigned char *)s;
    unsigned long value;
    size_t length;

    if (octets[0] >= 0xc2 && octets[0] <= 0xdf) {
        length = 2;
        value = octets[0] & 0x1fu;
    } else if (octets[0] >= 0xe0 && octets[0] <= 0xef) {
        length = 3;
        value = octets[0] & 0x0fu;
    } else if (octets[0] >= 0xf0 && octets[0] <= 0xf4) {
        length = 4;
        value = octets[0] & 0x07u;
    } else {
        return 0; /* a continuation octet, an overlong lead (C0, C1) or F5..FF */
    }
    if (n < length)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((octets[i] & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (octets[i] & 0x3fu);
    }
    if ((length == 3 && value < 0x800) || (length == 4 && (value < 0x10000 || value > 0x10ffff)) ||
        (value >= 0xd800 && value <= 0xdfff))
        return 0; /* overlong, a surrogate, or beyond Unicode */
    *code_point = value;
    return length;
}

static bool
domain_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

xsmtp_status
xsmtp_domain_check(const char *domain, size_t len, const char **reason)
{
    const char *why = NULL;

    if (domain == NULL || len == 0)
        why = "empty domain";
    else if (len > XSMTP_DOMAIN_MAX)
        why = "domain longer than 253 octets";
    else {
        for (size_t i = 0; i < len; i++) {
            if (!domain_char_ok((unsigned char)domain[i])) {
                why = "invalid character in domain";
                break;
            }
        }
    }
    if (reason != NULL)
        *reason = why;
    return why == NULL ? XSMTP_OK : XSMTP_EMALFORMED;
}

xsmtp_status
xsmtp_identity_parse(const char *in, size_t len, char *out, size_t outsz, const char **reason)
{
    const char *why = NULL;
    const char *at = in == NULL ? NULL : memchr(in, '@', len);
    xsmtp_status status;

    if (reason != NULL)
        *reason = NULL;
    if (in == NULL || len == 0) {
        why = "empty identity";
        goto malformed;
    }
    if (at == NULL) {
        why = "no '@' in identity";
        goto malformed;
    }
    size_t local_len = (size_t)(at - in);
    if (local_len == 0) {
        why = "empty local part";
        goto malformed;
    }
    if (local_len > XSMTP_LOCAL_MAX) {
        why = "local part longer than 64 octets";
        goto malformed;
    }
    for (size_t i = 0; i < local_len;) {
        size_t step = 1;
        if ((unsigned char)in[i] >= 0x80) {
            unsigned long code_point = 0;
            step = utf8_sequence(in + i, local_len - i, &code_point);
            if (step == 0) {
                why = "invalid UTF-8 in local part";
                goto malformed;
            }
            if (code_point <= 0x9f || code_point == 0xfffe || code_point == 0xffff) {
                why = "invalid character in local part";
                goto malformed;
            }
        } else if (!local_char_ok((unsigned char)in[i])) {
            why = "invalid character in local part";
            goto malformed;
        }
        i += step;
    }
    /* A second '@' lands in the domain, where it is not a legal character. */
    status = xsmtp_domain_check(at + 1, len - local_len - 1, &why);
    if (status != XSMTP_OK)
        goto malformed;

    if (out == NULL || outsz < len + 1)
        return XSMTP_ETOOBIG;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)ascii_lower((unsigned char)in[i]);
    out[len] = '\0';
    return XSMTP_OK;

malformed:
    if (reason != NULL)
        *reason = why;
    return XSMTP_EMALFORMED;
}

const char *
xsmtp_identity_domain(const char *identity)
{
    const char *at = identity == NULL ? NULL : strchr(identity, '@');
    return at == NULL ? NULL : at + 1;
}
