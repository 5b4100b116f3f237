/*
 * extract.c -- msgid and from-address (XSMTP-1 section 3).
 *
 * Signer and verifier must derive the same bytes from the same header
 * value, so these follow the spec's text literally rather than RFC 5322:
 * unfolding deletes CR and LF (the WSP after them stays), and "<...>" means
 * the first '<' and the first '>' after it, wherever they are.  No comment
 * or quoted-string parsing is done beyond the one rule that needs it: a ','
 * outside double quotes and outside <...> means several mailboxes.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "hash/extract.h"

xsmtp_status
xsmtp_unfold_trim(const char *raw, size_t rawlen, char *out, size_t outsz, size_t *outlen)
{
    if (outlen != NULL)
        *outlen = 0;
    if ((raw == NULL && rawlen > 0) || out == NULL || outlen == NULL)
        return XSMTP_EMALFORMED;
    if (rawlen > XSMTP_HEADER_VALUE_MAX)
        return XSMTP_EMALFORMED;
    /* A NUL would silently cut every C string made from the value. */
    if (rawlen > 0 && memchr(raw, '\0', rawlen) != NULL)
        return XSMTP_EMALFORMED;

    size_t start = 0;
    size_t end = rawlen;
    /* Trim over CR/LF too: they are deleted anyway, so "\r\n <x>" trims to "<x>". */
    while (start < end && strchr(" \t\r\n", raw[start]) != NULL)
        start++;
    while (end > start && strchr(" \t\r\n", raw[end - 1]) != NULL)
        end--;

    size_t written = 0;
    for (size_t i = start; i < end; i++) {
        if (raw[i] == '\r' || raw[i] == '\n')
            continue;
        if (written + 1 >= outsz)
            return XSMTP_ETOOBIG;
        out[written++] = raw[i];
    }
    if (outsz == 0)
        return XSMTP_ETOOBIG;
    out[written] = '\0';
    *outlen = written;
    return XSMTP_OK;
}

/*
 * If text has a '<' and a '>' after it, moves the text strictly between
 * them to the start of text and returns its length; else returns len.
 */
static size_t
take_angle(char *text, size_t len)
{
    char *open = memchr(text, '<', len);
    if (open == NULL)
        return len;
    size_t after_open = (size_t)(open - text) + 1;
    char *close = memchr(open + 1, '>', len - after_open);
    if (close == NULL)
        return len;
    size_t inner = (size_t)(close - open - 1);
    memmove(text, open + 1, inner);
    text[inner] = '\0';
    return inner;
}

xsmtp_status
xsmtp_extract_msgid(const char *raw, size_t rawlen, char *out, size_t outsz)
{
    size_t len;
    xsmtp_status status = xsmtp_unfold_trim(raw, rawlen, out, outsz, &len);
    if (status != XSMTP_OK)
        return status;
    len = take_angle(out, len);
    /* An empty msgid would let every message share one binding. */
    if (len == 0)
        return XSMTP_EMALFORMED;
    return XSMTP_OK;
}

/* Whether an unfolded From value holds a ',' outside "..." and <...>. */
static bool
several_mailboxes(const char *text, size_t len)
{
    bool in_quotes = false;
    bool in_angle = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_quotes) {
            if (c == '\\' && i + 1 < len)
                i++; /* quoted-pair: the next octet is literal */
            else if (c == '"')
                in_quotes = false;
        } else if (in_angle) {
            if (c == '>')
                in_angle = false;
        } else if (c == '"') {
            in_quotes = true;
        } else if (c == '<') {
            in_angle = true;
        } else if (c == ',') {
            return true;
        }
    }
    return false;
}

xsmtp_status
xsmtp_extract_from(const char *raw, size_t rawlen, char *out, size_t outsz)
{
    size_t len;
    xsmtp_status status = xsmtp_unfold_trim(raw, rawlen, out, outsz, &len);
    if (status != XSMTP_OK)
        return status;
    if (several_mailboxes(out, len)) {
        out[0] = '\0';
        return XSMTP_EMULTIPLE;
    }
    len = take_angle(out, len);
    if (len == 0)
        return XSMTP_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    }
    return XSMTP_OK;
}
