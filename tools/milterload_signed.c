/*
 * milterload_signed.c -- the file of pre-signed messages and the XSMTP-1
 * s3 MAC, written with OpenSSL only.
 *
 * The MAC is computed here from the specification's text, not with the
 * project's hash/ library: milterload checks the signer's h= with it, and
 * the verifier and component check the messages it signs, so each side is
 * an oracle for the other.
 *
 * File format, one message a line, fields separated by one TAB, '#'
 * starts a comment line:
 *     identity  msgid  from  t  ip  k  bh  h  body-index
 * (the XSMTP-1 s6 attribute values; body-index picks one of milterload's
 * ML_BODY_POOL fixed bodies, whose hash bh is).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tools/milterload.h"

#define FIELDS 9

bool
ml_key_parse(const char *spec, struct ml_key *key, char *err, size_t errsz)
{
    const char *colon = spec != NULL ? strchr(spec, ':') : NULL;
    unsigned char decoded[sizeof key->secret + 4];
    size_t id_len, b64_len, padding = 0;
    int length;

    memset(key, 0, sizeof *key);
    if (colon == NULL || colon == spec) {
        snprintf(err, errsz, "a key is ID:BASE64-SECRET");
        return false;
    }
    id_len = (size_t)(colon - spec);
    b64_len = strlen(colon + 1);
    if (id_len >= sizeof key->id || b64_len == 0 || b64_len % 4 != 0 ||
        b64_len / 4 * 3 > sizeof decoded) {
        snprintf(err, errsz, "key id or secret has a bad length");
        return false;
    }
    memcpy(key->id, spec, id_len);
    length = EVP_DecodeBlock(decoded, (const unsigned char *)colon + 1, (int)b64_len);
    if (length < 0) {
        snprintf(err, errsz, "key secret is not base64");
        return false;
    }
    /* EVP_DecodeBlock counts the padding as zero octets. */
    if (colon[b64_len] == '=')
        padding++;
    if (colon[b64_len - 1] == '=')
        padding++;
    key->secret_len = (size_t)length - padding;
    if (key->secret_len < 16 || key->secret_len > sizeof key->secret) {
        snprintf(err, errsz, "key secret must decode to 16..%zu octets", sizeof key->secret);
        return false;
    }
    memcpy(key->secret, decoded, key->secret_len);
    OPENSSL_cleanse(decoded, sizeof decoded);
    return true;
}

/* ASCII-lowercase into buf; false when it does not fit. */
static bool
lower(const char *in, char *buf, size_t bufsz)
{
    size_t i;

    for (i = 0; in[i] != '\0'; i++) {
        if (i + 1 >= bufsz)
            return false;
        buf[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    }
    buf[i] = '\0';
    return true;
}

bool
ml_mac(const struct ml_key *key, const char *identity, const char *msgid, const char *from,
       const char *t, const char *ip, const char *bh, const char *k, char out[ML_B64_SHA256 + 1])
{
    char identity_lower[ML_TEXT_MAX], from_lower[ML_TEXT_MAX];
    char canonical[4 * ML_TEXT_MAX + 256];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int written;

    if (!lower(identity, identity_lower, sizeof identity_lower) ||
        !lower(from, from_lower, sizeof from_lower))
        return false;
    written = snprintf(canonical, sizeof canonical,
                       "xsmtp-1\nidentity:%s\nmessage-id:%s\nfrom:%s\ntime:%s\nip:%s\n"
                       "body-hash:%s\nkey:%s\n",
                       identity_lower, msgid, from_lower, t, ip, bh, k);
    if (written < 0 || (size_t)written >= sizeof canonical)
        return false;
    if (HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (unsigned char *)canonical,
             (size_t)written, mac, &mac_len) == NULL ||
        mac_len != 32)
        return false;
    return EVP_EncodeBlock((unsigned char *)out, mac, 32) == ML_B64_SHA256;
}

/* Copies one field; false when it is empty, too long or holds a line end. */
static bool
field(char *out, size_t outsz, const char *value)
{
    size_t len = strlen(value);

    if (len == 0 || len >= outsz || strpbrk(value, "\r\n") != NULL)
        return false;
    memcpy(out, value, len + 1);
    return true;
}

static bool
parse_line(char *line, struct ml_signed *item)
{
    char *fields[FIELDS];
    char *cursor = line, *end;
    unsigned long body_index;
    size_t n = 0;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < FIELDS) {
        fields[n++] = cursor;
        cursor = strchr(cursor, '\t');
        if (cursor == NULL)
            break;
        *cursor++ = '\0';
    }
    if (n != FIELDS || cursor != NULL)
        return false;
    errno = 0;
    body_index = strtoul(fields[8], &end, 10);
    if (errno != 0 || *end != '\0' || end == fields[8] || body_index >= ML_BODY_POOL)
        return false;
    item->body_index = (unsigned)body_index;
    return field(item->identity, sizeof item->identity, fields[0]) &&
           field(item->msgid, sizeof item->msgid, fields[1]) &&
           field(item->from, sizeof item->from, fields[2]) &&
           field(item->t, sizeof item->t, fields[3]) &&
           field(item->ip, sizeof item->ip, fields[4]) &&
           field(item->k, sizeof item->k, fields[5]) &&
           field(item->bh, sizeof item->bh, fields[6]) && field(item->h, sizeof item->h, fields[7]);
}

bool
ml_signed_load(const char *path, struct ml_signed_list *list, char *err, size_t errsz)
{
    FILE *in = fopen(path, "r");
    char *line = NULL;
    size_t linesz = 0, cap = 0;
    unsigned long lineno = 0;
    bool ok = true;

    list->items = NULL;
    list->count = 0;
    if (in == NULL) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return false;
    }
    while (ok && getline(&line, &linesz, in) >= 0) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
            continue;
        if (list->count == cap) {
            size_t grown = cap > 0 ? cap * 2 : 1024;
            struct ml_signed *items = realloc(list->items, grown * sizeof *items);

            if (items == NULL) {
                snprintf(err, errsz, "%s: out of memory", path);
                ok = false;
                break;
            }
            list->items = items;
            cap = grown;
        }
        if (!parse_line(line, &list->items[list->count])) {
            snprintf(err, errsz, "%s:%lu: not a pre-signed message line", path, lineno);
            ok = false;
            break;
        }
        list->count++;
    }
    if (ok && ferror(in)) {
        snprintf(err, errsz, "%s: read error", path);
        ok = false;
    }
    if (ok && list->count == 0) {
        snprintf(err, errsz, "%s: no messages", path);
        ok = false;
    }
    free(line);
    fclose(in);
    if (!ok)
        ml_signed_free(list);
    return ok;
}

void
ml_signed_free(struct ml_signed_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

bool
ml_signed_write_line(FILE *out, const struct ml_signed *item)
{
    return fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%u\n", item->identity, item->msgid,
                   item->from, item->t, item->ip, item->k, item->bh, item->h, item->body_index) > 0;
}
