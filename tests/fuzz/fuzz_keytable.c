/*
 * fuzz_keytable.c -- the key table loader (XSMTP-1 s4).
 *
 * Input: the file's contents, written to a private (0600) temp file that
 * the loader reads like any key table.  Invariants: a refusal names the
 * file and never quotes a field of it (a secret in the wrong column must
 * not reach a log: no 12-octet base64 run of the file appears in the
 * error); a
 * loaded table has valid ids and secret lengths, finds each key by its id,
 * and for every pattern answers with a non-revoked key that allows an
 * identity made to match it, or with none only when every key allowing it
 * is revoked.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash/identity.h"
#include "hash/keytable.h"
#include "hash/taglist.h"
#include "tests/fuzz/fuzz.h"

/* A fresh name per process; the file exists only while one input is
 * loaded (libFuzzer leaves by _Exit, so nothing at exit would remove it). */
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;

    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "%s", "/tmp/fuzz_keytable.XXXXXX");
    fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    unlink(path);
    return 0;
}

static void
write_input(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
    close(fd);
}

static bool
base64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

/*
 * No run of 12 base64 octets of the file shows up in err.  (Runs of other
 * octets are not checked: the error texts' own words would match them.)
 */
static void
check_error_text(const uint8_t *data, size_t size, const char *err)
{
    size_t start = 0;

    FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
    for (size_t i = 0; i <= size; i++) {
        if (i < size && base64_char(data[i]))
            continue;
        for (size_t at = start; at + 12 <= i; at++)
            FUZZ_CHECK(memmem(err, strlen(err), data + at, 12) == NULL);
        start = i + 1;
    }
}

/* An identity the pattern matches. */
static void
identity_for(const char *pattern, char *out, size_t outsz)
{
    if (strcmp(pattern, "*") == 0)
        snprintf(out, outsz, "%s", "someone@example.test");
    else if (pattern[0] == '*' && pattern[1] == '@')
        snprintf(out, outsz, "someone%s", pattern + 1);
    else
        snprintf(out, outsz, "%s", pattern);
}

static void
check_table(const struct xsmtp_keytable *table)
{
    char identity[XSMTP_IDENTITY_SIZE + 8];

    for (size_t i = 0; i < table->key_count; i++) {
        const struct xsmtp_key *key = &table->keys[i];

        FUZZ_CHECK(xsmtp_tag_check_keyid(key->id, strlen(key->id)) == XSMTP_OK);
        FUZZ_CHECK(key->secret_len >= XSMTP_SECRET_MIN && key->secret_len <= XSMTP_SECRET_MAX);
        FUZZ_CHECK(key->mac_template != NULL && key->pattern_count >= 1);
        FUZZ_CHECK(xsmtp_keytable_by_id(table, key->id) == key);
        for (size_t p = 0; p < key->pattern_count; p++) {
            const struct xsmtp_key *found;
            bool any_live = false;

            identity_for(key->patterns[p], identity, sizeof identity);
            FUZZ_CHECK(xsmtp_key_allows(key, identity));
            for (size_t j = 0; j < table->key_count; j++)
                if (!table->keys[j].revoked && xsmtp_key_allows(&table->keys[j], identity))
                    any_live = true;
            found = xsmtp_keytable_for_identity(table, identity);
            FUZZ_CHECK((found != NULL) == any_live);
            FUZZ_CHECK(found == NULL || (!found->revoked && xsmtp_key_allows(found, identity)));
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xsmtp_keytable *table = NULL;
    xsmtp_status status;
    char err[512];

    if (size > 65536)
        return 0;
    write_input(data, size);
    status = xsmtp_keytable_load(path, &table, err, sizeof err);
    unlink(path);
    if (status != XSMTP_OK) {
        FUZZ_CHECK(table == NULL);
        check_error_text(data, size, err);
        return 0;
    }
    check_table(table);
    xsmtp_keytable_free(table);
    return 0;
}
