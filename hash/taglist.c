/*
 * taglist.c -- parse and format the X-XMPP-Hash tag list (XSMTP-1 s2).
 *
 * The grammar is DKIM's tag list (RFC 6376 s3.2): tag-name = ALPHA
 * *(ALPHA / DIGIT / "_"), values of VALCHAR (%x21-3A / %x3C-7E), folding
 * whitespace around names, '=', values and ';', and an optional trailing
 * ';'.  On top of it XSMTP-1 pins the six required tags to single tokens
 * with exact syntax, so a value with a line break or blank inside it is
 * malformed instead of being "unfolded" into something else.  Unknown tags
 * keep DKIM's freedom (inner blanks) except for line breaks, and are checked
 * for duplicates like the known ones.
 *
 * Reasons are static strings: they go into logs and verdict comments.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/b64.h"
#include "hash/extract.h"
#include "hash/taglist.h"

enum tag_id { TAG_V, TAG_K, TAG_T, TAG_IP, TAG_BH, TAG_H, TAG_COUNT, TAG_UNKNOWN = TAG_COUNT };

static const char *const tag_names[TAG_COUNT] = {"v", "k", "t", "ip", "bh", "h"};
static const char *const reason_duplicate[TAG_COUNT] = {
    "duplicate tag v",  "duplicate tag k",  "duplicate tag t",
    "duplicate tag ip", "duplicate tag bh", "duplicate tag h",
};
static const char *const reason_missing[TAG_COUNT] = {
    "missing tag v",  "missing tag k",  "missing tag t",
    "missing tag ip", "missing tag bh", "missing tag h",
};
static const char *const reason_break[TAG_COUNT] = {
    "line break inside value of v",  "line break inside value of k",
    "line break inside value of t",  "line break inside value of ip",
    "line break inside value of bh", "line break inside value of h",
};
static const char *const reason_blank[TAG_COUNT] = {
    "whitespace inside value of v",  "whitespace inside value of k",
    "whitespace inside value of t",  "whitespace inside value of ip",
    "whitespace inside value of bh", "whitespace inside value of h",
};
static const char *const reason_char[TAG_COUNT] = {
    "invalid character in value of v",  "invalid character in value of k",
    "invalid character in value of t",  "invalid character in value of ip",
    "invalid character in value of bh", "invalid character in value of h",
};

/* The most tag-specs 8,192 octets can hold: "a=;" is the shortest. */
#define MAX_TAGS (XSMTP_HEADER_VALUE_MAX / 3 + 1)

struct tag_name_span {
    unsigned short offset;
    unsigned short length;
};

static bool
is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_valchar(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 0x21 && u <= 0x7e && u != ';';
}

/* Length of a line fold at value[pos] (CRLF WSP or LF WSP minus the WSP), or 0. */
static size_t
fold_length(const char *value, size_t len, size_t pos)
{
    if (value[pos] == '\r' && pos + 2 < len && value[pos + 1] == '\n' && is_wsp(value[pos + 2]))
        return 2;
    if (value[pos] == '\n' && pos + 1 < len && is_wsp(value[pos + 1]))
        return 1;
    return 0;
}

/* Skips [FWS]; stops at anything else, including a line break that is not a fold. */
static size_t
skip_fws(const char *value, size_t len, size_t pos)
{
    while (pos < len) {
        if (is_wsp(value[pos])) {
            pos++;
            continue;
        }
        size_t fold = fold_length(value, len, pos);
        if (fold == 0)
            break;
        pos += fold;
    }
    return pos;
}

/* ---- single-value validators (shared with the verify query) ---- */

xsmtp_status
xsmtp_tag_check_keyid(const char *value, size_t len)
{
    if (value == NULL || len == 0 || len > XSMTP_KEYID_MAX)
        return XSMTP_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        char c = value[i];
        if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-')
            return XSMTP_EMALFORMED;
    }
    return XSMTP_OK;
}

xsmtp_status
xsmtp_tag_check_time(const char *value, size_t len, uint64_t *time)
{
    uint64_t number = 0;

    if (time != NULL)
        *time = 0;
    if (value == NULL || len == 0 || len > 10)
        return XSMTP_EMALFORMED;
    if (value[0] == '0' && len > 1)
        return XSMTP_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(value[i]))
            return XSMTP_EMALFORMED;
        number = number * 10 + (uint64_t)(value[i] - '0');
    }
    if (time != NULL)
        *time = number;
    return XSMTP_OK;
}

xsmtp_status
xsmtp_tag_check_ip(const char *value, size_t len)
{
    char copy[XSMTP_IP_MAX + 1];
    char written[XSMTP_IP_MAX + 1];
    unsigned char binary[16];

    if (value == NULL || len == 0 || len > XSMTP_IP_MAX)
        return XSMTP_EMALFORMED;
    memcpy(copy, value, len);
    copy[len] = '\0';
    if (strlen(copy) != len)
        return XSMTP_EMALFORMED;
    int family = memchr(copy, ':', len) != NULL ? AF_INET6 : AF_INET;
    if (inet_pton(family, copy, binary) != 1)
        return XSMTP_EMALFORMED;
    if (inet_ntop(family, binary, written, sizeof written) == NULL)
        return XSMTP_EMALFORMED;
    /* Only the one spelling inet_ntop writes is accepted (RFC 5952 for IPv6). */
    return strcmp(copy, written) == 0 ? XSMTP_OK : XSMTP_EMALFORMED;
}

xsmtp_status
xsmtp_tag_check_b64_sha256(const char *value, size_t len)
{
    uint8_t digest[32];
    size_t digest_len;

    if (value == NULL || len != XSMTP_B64_SHA256)
        return XSMTP_EMALFORMED;
    if (xsmtp_b64_decode(value, len, digest, sizeof digest, &digest_len) != XSMTP_OK)
        return XSMTP_EMALFORMED;
    return digest_len == sizeof digest ? XSMTP_OK : XSMTP_EMALFORMED;
}

/* ---- the tag list ---- */

static enum tag_id
tag_lookup(const char *name, size_t len)
{
    for (int id = 0; id < TAG_COUNT; id++) {
        if (strlen(tag_names[id]) == len && memcmp(tag_names[id], name, len) == 0)
            return (enum tag_id)id;
    }
    return TAG_UNKNOWN;
}

/* Explicit bound: value is not NUL-terminated inside the header. */
static bool
all_digits(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(value[i]))
            return false;
    }
    return true;
}

/* Checks one required tag's value and stores it; returns a reason or NULL. */
static const char *
store_value(enum tag_id id, const char *value, size_t len, struct xsmtp_hash_tags *tags)
{
    switch (id) {
    case TAG_V: return (len == 1 && value[0] == '1') ? NULL : "v is not 1";
    case TAG_K:
        if (xsmtp_tag_check_keyid(value, len) != XSMTP_OK)
            return "malformed k";
        memcpy(tags->k, value, len);
        tags->k[len] = '\0';
        return NULL;
    case TAG_T:
        if (len == 0 || !all_digits(value, len))
            return "malformed t";
        if (len > 10)
            return "t longer than 10 digits";
        if (xsmtp_tag_check_time(value, len, &tags->time) != XSMTP_OK)
            return "t has a leading zero";
        memcpy(tags->t, value, len);
        tags->t[len] = '\0';
        return NULL;
    case TAG_IP:
        if (xsmtp_tag_check_ip(value, len) != XSMTP_OK)
            return "malformed ip";
        memcpy(tags->ip, value, len);
        tags->ip[len] = '\0';
        return NULL;
    case TAG_BH:
    case TAG_H:
        if (xsmtp_tag_check_b64_sha256(value, len) != XSMTP_OK)
            return id == TAG_BH ? "malformed bh" : "malformed h";
        memcpy(id == TAG_BH ? tags->bh : tags->h, value, len);
        (id == TAG_BH ? tags->bh : tags->h)[len] = '\0';
        return NULL;
    case TAG_UNKNOWN: break;
    }
    return NULL;
}

static int
compare_names(const void *left, const void *right, void *base)
{
    const struct tag_name_span *a = left;
    const struct tag_name_span *b = right;
    const char *text = base;
    size_t common = a->length < b->length ? a->length : b->length;
    int order = memcmp(text + a->offset, text + b->offset, common);
    if (order != 0)
        return order;
    return (int)a->length - (int)b->length;
}

/* Whether two unknown tags share a name: sort, then compare neighbours. */
static bool
unknown_duplicated(const char *value, struct tag_name_span *names, size_t count)
{
    qsort_r(names, count, sizeof names[0], compare_names, (void *)value);
    for (size_t i = 1; i < count; i++) {
        if (compare_names(&names[i - 1], &names[i], (void *)value) == 0)
            return true;
    }
    return false;
}

/* The parser proper; returns a reason or NULL. */
static const char *
parse_list(const char *value, size_t len, struct xsmtp_hash_tags *tags)
{
    bool seen[TAG_COUNT] = {false};
    struct tag_name_span unknown[MAX_TAGS];
    size_t unknown_count = 0;
    size_t pos = 0;

    if (len > XSMTP_HEADER_VALUE_MAX)
        return "header longer than 8192 octets";
    if (memchr(value, '\0', len) != NULL)
        return "NUL byte in header";

    for (;;) {
        pos = skip_fws(value, len, pos);
        if (pos == len)
            break;
        if (value[pos] == ';')
            return "empty tag";
        if (value[pos] == '\r' || value[pos] == '\n')
            return "line break not followed by whitespace";
        if (!is_alpha(value[pos]))
            return "malformed tag name";

        size_t name_start = pos;
        while (pos < len && (is_alpha(value[pos]) || is_digit(value[pos]) || value[pos] == '_'))
            pos++;
        size_t name_len = pos - name_start;
        enum tag_id id = tag_lookup(value + name_start, name_len);

        pos = skip_fws(value, len, pos);
        if (pos == len || value[pos] != '=')
            return "missing '=' after tag name";
        pos = skip_fws(value, len, pos + 1);

        /* The value: VALCHARs up to ';', with blanks and folds noted, not kept. */
        size_t value_start = pos;
        size_t value_end = pos;
        bool pending_blank = false;
        bool pending_break = false;
        bool blank_inside = false;
        bool break_inside = false;
        bool bad_char = false;
        while (pos < len && value[pos] != ';') {
            char c = value[pos];
            if (is_wsp(c)) {
                pending_blank = true;
                pos++;
            } else if (c == '\r' || c == '\n') {
                size_t fold = fold_length(value, len, pos);
                if (fold == 0)
                    return "line break not followed by whitespace";
                pending_break = true;
                pos += fold;
            } else {
                if (!is_valchar(c))
                    bad_char = true;
                blank_inside |= pending_blank;
                break_inside |= pending_break;
                pending_blank = pending_break = false;
                pos++;
                value_end = pos;
            }
        }
        size_t value_len = value_end - value_start;

        if (id == TAG_UNKNOWN) {
            if (break_inside)
                return "line break inside a value";
            if (bad_char)
                return "invalid character in a value";
            unknown[unknown_count].offset = (unsigned short)name_start;
            unknown[unknown_count].length = (unsigned short)name_len;
            unknown_count++;
        } else {
            if (seen[id])
                return reason_duplicate[id];
            seen[id] = true;
            if (break_inside)
                return reason_break[id];
            if (blank_inside)
                return reason_blank[id];
            if (bad_char)
                return reason_char[id];
            const char *why = store_value(id, value + value_start, value_len, tags);
            if (why != NULL)
                return why;
        }

        if (pos == len)
            break;
        pos++; /* the ';' */
    }

    for (int id = 0; id < TAG_COUNT; id++) {
        if (!seen[id])
            return reason_missing[id];
    }
    if (unknown_count > 1 && unknown_duplicated(value, unknown, unknown_count))
        return "duplicate unknown tag";
    return NULL;
}

xsmtp_status
xsmtp_tags_parse(const char *value, size_t len, struct xsmtp_hash_tags *tags, const char **reason)
{
    if (reason != NULL)
        *reason = NULL;
    if (tags == NULL)
        return XSMTP_EMALFORMED;
    memset(tags, 0, sizeof *tags);
    if (value == NULL) {
        if (reason != NULL)
            *reason = "no header value";
        return XSMTP_EMALFORMED;
    }
    const char *why = parse_list(value, len, tags);
    if (why != NULL) {
        memset(tags, 0, sizeof *tags);
        if (reason != NULL)
            *reason = why;
        return XSMTP_EMALFORMED;
    }
    return XSMTP_OK;
}

/* Length of a NUL-terminated field held in an array of size n, or n if unterminated. */
static size_t
field_length(const char *field, size_t n)
{
    const char *nul = memchr(field, '\0', n);
    return nul == NULL ? n : (size_t)(nul - field);
}

xsmtp_status
xsmtp_tags_format(const struct xsmtp_hash_tags *tags, char *out, size_t outsz)
{
    if (tags == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    /* Never write a header our own parser would refuse. */
    if (xsmtp_tag_check_keyid(tags->k, field_length(tags->k, sizeof tags->k)) != XSMTP_OK ||
        xsmtp_tag_check_time(tags->t, field_length(tags->t, sizeof tags->t), NULL) != XSMTP_OK ||
        xsmtp_tag_check_ip(tags->ip, field_length(tags->ip, sizeof tags->ip)) != XSMTP_OK ||
        xsmtp_tag_check_b64_sha256(tags->bh, field_length(tags->bh, sizeof tags->bh)) != XSMTP_OK ||
        xsmtp_tag_check_b64_sha256(tags->h, field_length(tags->h, sizeof tags->h)) != XSMTP_OK)
        return XSMTP_EMALFORMED;
    int written = snprintf(out, outsz, "v=1; k=%s; t=%s; ip=%s;\n bh=%s;\n h=%s", tags->k, tags->t,
                           tags->ip, tags->bh, tags->h);
    if (written < 0 || (size_t)written >= outsz) {
        if (outsz > 0)
            out[0] = '\0';
        return XSMTP_ETOOBIG;
    }
    return XSMTP_OK;
}
