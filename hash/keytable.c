/*
 * keytable.c -- load and query the key table of XSMTP-1 section 4.
 *
 * Line format:  KEY-ID  SECRET-BASE64  PATTERN[,PATTERN...]  [revoked]
 * '#' at the start of a word starts a comment (so a local part such as
 * "a#b" stays usable in a pattern); blank lines are ignored; blanks after
 * the commas of the pattern list are allowed.
 *
 * Secrets are handled so that no copy outlives the table: the stdio buffer
 * and the line buffer are ours and wiped, the key array is never realloc'ed
 * (realloc could leave a copy behind), and error text names the line and
 * the problem but never echoes a field, since a misplaced secret would
 * otherwise end up in a log.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "hash/b64.h"
#include "hash/identity.h"
#include "hash/keytable.h"
#include "hash/taglist.h"
#include "hash/util/private_file.h"

#define LINE_MAX_OCTETS 8192
/* Longest base64 text that can decode to at most XSMTP_SECRET_MAX bytes. */
#define SECRET_TEXT_MAX XSMTP_B64_LEN(XSMTP_SECRET_MAX)

/* ---- keys ---- */

xsmtp_status
xsmtp_key_set_secret(struct xsmtp_key *key, const unsigned char *secret, size_t len)
{
    if (key == NULL || secret == NULL || len < XSMTP_SECRET_MIN || len > XSMTP_SECRET_MAX)
        return XSMTP_EMALFORMED;

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        return XSMTP_ECRYPTO;
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (context == NULL)
        return XSMTP_ENOMEM;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(context, secret, len, params) != 1) {
        EVP_MAC_CTX_free(context);
        return XSMTP_ECRYPTO;
    }
    if (key->mac_template != NULL)
        EVP_MAC_CTX_free(key->mac_template);
    key->mac_template = context;
    OPENSSL_cleanse(key->secret, sizeof key->secret);
    memcpy(key->secret, secret, len);
    key->secret_len = len;
    return XSMTP_OK;
}

void
xsmtp_key_clear(struct xsmtp_key *key)
{
    if (key == NULL)
        return;
    free(key->id);
    for (size_t i = 0; i < key->pattern_count; i++)
        free(key->patterns[i]);
    free(key->patterns);
    EVP_MAC_CTX_free(key->mac_template); /* OpenSSL wipes its copy of the key */
    OPENSSL_cleanse(key, sizeof *key);
}

static int
ascii_casecmp(const char *left, const char *right)
{
    for (;; left++, right++) {
        unsigned char a = (unsigned char)*left;
        unsigned char b = (unsigned char)*right;
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b - 'A' + 'a');
        if (a != b || a == '\0')
            return a - b;
    }
}

bool
xsmtp_key_allows(const struct xsmtp_key *key, const char *identity)
{
    if (key == NULL || identity == NULL)
        return false;
    const char *domain = xsmtp_identity_domain(identity);
    for (size_t i = 0; i < key->pattern_count; i++) {
        const char *pattern = key->patterns[i];
        if (strcmp(pattern, "*") == 0)
            return true;
        if (pattern[0] == '*' && pattern[1] == '@') {
            if (domain != NULL && ascii_casecmp(pattern + 2, domain) == 0)
                return true;
        } else if (ascii_casecmp(pattern, identity) == 0) {
            return true;
        }
    }
    return false;
}

const struct xsmtp_key *
xsmtp_keytable_by_id(const struct xsmtp_keytable *table, const char *id)
{
    if (table == NULL || id == NULL)
        return NULL;
    for (size_t i = 0; i < table->key_count; i++) {
        if (strcmp(table->keys[i].id, id) == 0)
            return &table->keys[i];
    }
    return NULL;
}

const struct xsmtp_key *
xsmtp_keytable_for_identity(const struct xsmtp_keytable *table, const char *identity)
{
    if (table == NULL || identity == NULL)
        return NULL;
    for (size_t i = 0; i < table->key_count; i++) {
        if (!table->keys[i].revoked && xsmtp_key_allows(&table->keys[i], identity))
            return &table->keys[i];
    }
    return NULL;
}

void
xsmtp_keytable_free(struct xsmtp_keytable *table)
{
    if (table == NULL)
        return;
    for (size_t i = 0; i < table->key_count; i++)
        xsmtp_key_clear(&table->keys[i]);
    free(table->keys);
    free(table);
}

/* ---- loading ---- */

struct loader {
    struct xsmtp_keytable *table;
    size_t capacity;
    size_t *first_lines; /* line of each key, for duplicate messages */
    char why[160];       /* the reason of the current error */
};

static xsmtp_status fail(struct loader *loader, xsmtp_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static xsmtp_status
fail(struct loader *loader, xsmtp_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(loader->why, sizeof loader->why, format, args);
    va_end(args);
    return status;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Grows the key array by copying (never realloc: the old block holds secrets). */
static xsmtp_status
reserve_key(struct loader *loader)
{
    struct xsmtp_keytable *table = loader->table;
    if (table->key_count < loader->capacity)
        return XSMTP_OK;
    size_t capacity = loader->capacity == 0 ? 8 : loader->capacity * 2;
    struct xsmtp_key *keys = calloc(capacity, sizeof *keys);
    size_t *lines = calloc(capacity, sizeof *lines);
    if (keys == NULL || lines == NULL) {
        free(keys);
        free(lines);
        return XSMTP_ENOMEM;
    }
    if (table->key_count > 0) {
        memcpy(keys, table->keys, table->key_count * sizeof *keys);
        memcpy(lines, loader->first_lines, table->key_count * sizeof *lines);
        OPENSSL_cleanse(table->keys, table->key_count * sizeof *keys);
    }
    free(table->keys);
    free(loader->first_lines);
    table->keys = keys;
    loader->first_lines = lines;
    loader->capacity = capacity;
    return XSMTP_OK;
}

/* Validates one pattern item and appends its lowercased form to key. */
static xsmtp_status
add_pattern(struct loader *loader, struct xsmtp_key *key, const char *item, size_t len,
            size_t ordinal)
{
    char pattern[XSMTP_IDENTITY_SIZE];
    const char *why = NULL;

    if (len == 0)
        return fail(loader, XSMTP_EMALFORMED, "identity pattern %zu is empty", ordinal);
    for (size_t i = 0; i < len; i++) {
        if (is_blank(item[i]))
            return fail(loader, XSMTP_EMALFORMED, "identity patterns must be separated by commas");
    }
    if (len == 1 && item[0] == '*') {
        strcpy(pattern, "*");
    } else if (len > 2 && item[0] == '*' && item[1] == '@') {
        if (xsmtp_domain_check(item + 2, len - 2, &why) != XSMTP_OK)
            return fail(loader, XSMTP_EMALFORMED, "identity pattern %zu: %s", ordinal, why);
        pattern[0] = '*';
        pattern[1] = '@';
        for (size_t i = 2; i < len; i++)
            pattern[i] = (item[i] >= 'A' && item[i] <= 'Z') ? (char)(item[i] - 'A' + 'a') : item[i];
        pattern[len] = '\0';
    } else {
        xsmtp_status status = xsmtp_identity_parse(item, len, pattern, sizeof pattern, &why);
        if (status != XSMTP_OK)
            return fail(loader, XSMTP_EMALFORMED, "identity pattern %zu: %s", ordinal,
                        why != NULL ? why : "too long");
    }

    char **patterns = realloc(key->patterns, (key->pattern_count + 1) * sizeof *patterns);
    if (patterns == NULL)
        return fail(loader, XSMTP_ENOMEM, "out of memory");
    key->patterns = patterns;
    key->patterns[key->pattern_count] = strdup(pattern);
    if (key->patterns[key->pattern_count] == NULL)
        return fail(loader, XSMTP_ENOMEM, "out of memory");
    key->pattern_count++;
    return XSMTP_OK;
}

/* Splits "a@x, *@y" (blanks already trimmed at both ends) into patterns. */
static xsmtp_status
add_patterns(struct loader *loader, struct xsmtp_key *key, const char *list, size_t len)
{
    size_t ordinal = 1;
    size_t start = 0;

    for (size_t pos = 0; pos <= len; pos++) {
        if (pos < len && list[pos] != ',')
            continue;
        size_t item_start = start;
        size_t item_end = pos;
        while (item_start < item_end && is_blank(list[item_start]))
            item_start++;
        while (item_end > item_start && is_blank(list[item_end - 1]))
            item_end--;
        xsmtp_status status =
            add_pattern(loader, key, list + item_start, item_end - item_start, ordinal);
        if (status != XSMTP_OK)
            return status;
        ordinal++;
        start = pos + 1;
    }
    return XSMTP_OK;
}

/* Parses one line (comment already cut, no line end) into a new key. */
static xsmtp_status
parse_key_line(struct loader *loader, char *line, size_t len, size_t line_number)
{
    unsigned char secret[XSMTP_SECRET_MAX + 3];
    size_t secret_len = 0;
    size_t pos = 0;
    xsmtp_status status;

    while (pos < len && is_blank(line[pos]))
        pos++;
    if (pos == len)
        return XSMTP_OK;

    size_t id_start = pos;
    while (pos < len && !is_blank(line[pos]))
        pos++;
    size_t id_len = pos - id_start;
    while (pos < len && is_blank(line[pos]))
        pos++;
    size_t secret_start = pos;
    while (pos < len && !is_blank(line[pos]))
        pos++;
    size_t secret_text_len = pos - secret_start;
    while (pos < len && is_blank(line[pos]))
        pos++;
    size_t rest_start = pos;
    size_t rest_end = len;
    while (rest_end > rest_start && is_blank(line[rest_end - 1]))
        rest_end--;

    if (xsmtp_tag_check_keyid(line + id_start, id_len) != XSMTP_OK)
        return fail(loader, XSMTP_EMALFORMED, "malformed key id");
    if (secret_text_len == 0)
        return fail(loader, XSMTP_EMALFORMED, "missing secret");

    /* "revoked" may only be the last word, after at least one pattern. */
    bool revoked = false;
    static const char revoked_word[] = "revoked";
    const size_t revoked_len = sizeof revoked_word - 1;
    if (rest_end - rest_start > revoked_len &&
        memcmp(line + rest_end - revoked_len, revoked_word, revoked_len) == 0 &&
        is_blank(line[rest_end - revoked_len - 1])) {
        revoked = true;
        rest_end -= revoked_len;
        while (rest_end > rest_start && is_blank(line[rest_end - 1]))
            rest_end--;
    }
    if (rest_end == rest_start || (rest_end - rest_start == revoked_len &&
                                   memcmp(line + rest_start, revoked_word, revoked_len) == 0))
        return fail(loader, XSMTP_EMALFORMED, "missing identities");

    for (size_t i = 0; i < loader->table->key_count; i++) {
        if (strlen(loader->table->keys[i].id) == id_len &&
            memcmp(loader->table->keys[i].id, line + id_start, id_len) == 0)
            return fail(loader, XSMTP_EMALFORMED, "duplicate key id (first on line %zu)",
                        loader->first_lines[i]);
    }

    if (secret_text_len > SECRET_TEXT_MAX)
        return fail(loader, XSMTP_EMALFORMED, "secret longer than %d bytes", XSMTP_SECRET_MAX);
    status =
        xsmtp_b64_decode(line + secret_start, secret_text_len, secret, sizeof secret, &secret_len);
    if (status != XSMTP_OK) {
        OPENSSL_cleanse(secret, sizeof secret);
        return fail(loader, XSMTP_EMALFORMED, "secret is not valid base64");
    }
    if (secret_len < XSMTP_SECRET_MIN || secret_len > XSMTP_SECRET_MAX) {
        OPENSSL_cleanse(secret, sizeof secret);
        return fail(loader, XSMTP_EMALFORMED, "secret %s than %d bytes",
                    secret_len < XSMTP_SECRET_MIN ? "shorter" : "longer",
                    secret_len < XSMTP_SECRET_MIN ? XSMTP_SECRET_MIN : XSMTP_SECRET_MAX);
    }

    status = reserve_key(loader);
    if (status != XSMTP_OK) {
        OPENSSL_cleanse(secret, sizeof secret);
        return fail(loader, status, "out of memory");
    }
    /* The key is counted at once so that the table's free cleans up after any failure. */
    struct xsmtp_key *key = &loader->table->keys[loader->table->key_count++];
    loader->first_lines[loader->table->key_count - 1] = line_number;
    key->revoked = revoked;
    key->id = strndup(line + id_start, id_len);
    status = key->id == NULL ? XSMTP_ENOMEM : xsmtp_key_set_secret(key, secret, secret_len);
    OPENSSL_cleanse(secret, sizeof secret);
    if (status == XSMTP_ENOMEM)
        return fail(loader, status, "out of memory");
    if (status != XSMTP_OK)
        return fail(loader, status, "OpenSSL refused the secret");
    return add_patterns(loader, key, line + rest_start, rest_end - rest_start);
}

/*
 * Cuts the line at its first '#': XSMTP-1 s4 says '#' starts a comment,
 * wherever it stands.  No field can need one: base64 has no '#', and a key
 * id is [A-Za-z0-9._-].
 */
static size_t
cut_comment(const char *line, size_t len)
{
    const char *hash = memchr(line, '#', len);

    return hash != NULL ? (size_t)(hash - line) : len;
}

/*
 * Reads one line into line (without its '\n').  Returns 1 for a line, 0 at
 * the end of the file, -1 for a line too long (rest of it skipped).
 */
static int
read_line(FILE *file, char *line, size_t size, size_t *len)
{
    size_t used = 0;
    int c = EOF;
    bool too_long = false;

    while ((c = getc(file)) != EOF && c != '\n') {
        if (used + 1 < size)
            line[used++] = (char)c;
        else
            too_long = true;
    }
    *len = used;
    if (c == EOF && used == 0 && !too_long)
        return 0;
    return too_long ? -1 : 1;
}

static xsmtp_status
load_lines(struct loader *loader, FILE *file, char *line, size_t *line_number)
{
    size_t len;
    int got;

    while ((got = read_line(file, line, LINE_MAX_OCTETS + 1, &len)) != 0) {
        ++*line_number;
        if (got < 0)
            return fail(loader, XSMTP_EMALFORMED, "line longer than %d octets", LINE_MAX_OCTETS);
        if (memchr(line, '\0', len) != NULL)
            return fail(loader, XSMTP_EMALFORMED, "NUL byte in line");
        xsmtp_status status = parse_key_line(loader, line, cut_comment(line, len), *line_number);
        if (status != XSMTP_OK)
            return status;
    }
    if (ferror(file))
        return fail(loader, XSMTP_EIO, "read error");
    return XSMTP_OK;
}

xsmtp_status
xsmtp_keytable_load(const char *path, struct xsmtp_keytable **out, char *err, size_t errsz)
{
    struct loader loader = {0};
    FILE *file = NULL;
    size_t line_number = 0;
    xsmtp_status status;

    if (err != NULL && errsz > 0)
        err[0] = '\0';
    if (out == NULL || path == NULL)
        return XSMTP_EMALFORMED;
    *out = NULL;

    status = xsmtp_private_file_open(path, &file, err, errsz);
    if (status != XSMTP_OK)
        return status;

    /* Our own stdio and line buffers, so both can be wiped afterwards. */
    char *io_buffer = malloc(BUFSIZ);
    char *line = malloc(LINE_MAX_OCTETS + 1);
    loader.table = calloc(1, sizeof *loader.table);
    if (io_buffer == NULL || line == NULL || loader.table == NULL) {
        status = fail(&loader, XSMTP_ENOMEM, "out of memory");
    } else if (setvbuf(file, io_buffer, _IOFBF, BUFSIZ) != 0) {
        status = fail(&loader, XSMTP_EIO, "cannot set up reading");
    } else {
        status = load_lines(&loader, file, line, &line_number);
    }
    fclose(file);

    if (io_buffer != NULL)
        OPENSSL_cleanse(io_buffer, BUFSIZ);
    if (line != NULL)
        OPENSSL_cleanse(line, LINE_MAX_OCTETS + 1);
    free(io_buffer);
    free(line);
    free(loader.first_lines);

    if (status != XSMTP_OK) {
        if (err != NULL && errsz > 0)
            snprintf(err, errsz, "%s:%zu: %s", path, line_number, loader.why);
        xsmtp_keytable_free(loader.table);
        return status;
    }
    *out = loader.table;
    return XSMTP_OK;
}
