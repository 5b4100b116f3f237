/*
 * client_text.c -- UTF-8 / XML character checks and domain JIDs for the
 * verifier's XMPP client (see client_text.h for why they exist).
 */
#include "config.h"

#include <string.h>

#include "hash/identity.h"
#include "xmpp/client/client_text.h"

/* Length of the UTF-8 sequence at s (1..4) when it is well formed and an
 * acceptable XML character; 0 otherwise.  n: octets left. */
static size_t
xml_char_len(const unsigned char *s, size_t n)
{
    unsigned long cp;
    size_t len, i;

    if (s[0] < 0x80)
        return s[0] >= 0x20 ? 1 : 0;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0; /* continuation byte, C0/C1 lead (overlong) or F5..FF */
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong, or beyond Unicode */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0; /* surrogates and the two non-characters XML excludes */
    return len;
}

bool
xclient_text_xml_ok(const char *value, size_t max)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n, step;

    if (value == NULL)
        return false;
    n = strnlen(value, max + 1);
    if (n > max)
        return false;
    while (n > 0) {
        step = xml_char_len(s, n);
        if (step == 0)
            return false;
        s += step;
        n -= step;
    }
    return true;
}

bool
xclient_text_domain(const char *in, char *out, size_t outsz)
{
    size_t len, i;

    if (in == NULL || out == NULL)
        return false;
    len = strnlen(in, XSMTP_DOMAIN_MAX + 1);
    if (len >= outsz || xsmtp_domain_check(in, len, NULL) != XSMTP_OK)
        return false;
    for (i = 0; i < len; i++)
        out[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i]);
    out[len] = '\0';
    return true;
}

bool
xclient_text_full_jid(const char *jid)
{
    const char *at, *slash;

    if (jid == NULL || !xclient_text_xml_ok(jid, 3071))
        return false;
    slash = strchr(jid, '/');
    if (slash == NULL || slash[1] == '\0')
        return false;
    at = memchr(jid, '@', (size_t)(slash - jid));
    return at != NULL && at != jid && at + 1 != slash;
}
