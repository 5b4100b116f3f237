/*
 * keytable.h -- the shared key table of XSMTP-1 section 4.
 *
 * Loaded once (and again on SIGHUP) by the signer and by the component.
 * Each key keeps a ready HMAC context so the message path never sets up a
 * key.  A loaded table is immutable; reload builds a new table and the
 * caller swaps pointers.  Secrets are wiped when the table is freed and
 * never appear in error text.
 */
#ifndef XSMTP_KEYTABLE_H
#define XSMTP_KEYTABLE_H

#include <stddef.h>
#include <stdbool.h>
#include "hash/util/status.h"

#define XSMTP_SECRET_MIN 16
#define XSMTP_SECRET_MAX 256

struct xsmtp_key {
    char *id;
    unsigned char secret[XSMTP_SECRET_MAX];
    size_t secret_len;
    char **patterns; /* "local@domain", "*@domain" or "*", lowercased */
    size_t pattern_count;
    bool revoked;
    void *mac_template; /* EVP_MAC_CTX keyed with secret; dup'ed per use */
};

struct xsmtp_keytable {
    struct xsmtp_key *keys;
    size_t key_count;
};

/*
 * Loads path.  Refuses (XSMTP_EPERM) a file with any group or other
 * permission bit.  On a syntax error returns XSMTP_EMALFORMED and writes
 * "PATH:LINE: what is wrong" into err (errsz bytes); the table is not
 * created.  Duplicate key ids are an error.  File-level failures
 * (XSMTP_EPERM, XSMTP_EIO) write "PATH: what is wrong".  No message ever
 * quotes a field of the file, so a secret in the wrong column is not logged.
 * Line syntax: KEY-ID SECRET-BASE64 PATTERN[, PATTERN...] [revoked]; a '#'
 * anywhere begins a comment (XSMTP-1 s4).
 */
xsmtp_status xsmtp_keytable_load(const char *path, struct xsmtp_keytable **out, char *err,
                                 size_t errsz);
void xsmtp_keytable_free(struct xsmtp_keytable *table);

/* Key with this id, revoked or not; NULL when absent. */
const struct xsmtp_key *xsmtp_keytable_by_id(const struct xsmtp_keytable *table, const char *id);
/* First non-revoked key whose pattern matches identity; NULL when none. */
const struct xsmtp_key *xsmtp_keytable_for_identity(const struct xsmtp_keytable *table,
                                                    const char *identity);
/* Whether one of the key's patterns matches identity (ASCII case-insensitive). */
bool xsmtp_key_allows(const struct xsmtp_key *key, const char *identity);

/*
 * Stores secret[0..len) (XSMTP_SECRET_MIN..XSMTP_SECRET_MAX bytes) in key and
 * builds its mac_template.  The loader uses it for every line; tests and
 * tools use it to make a key without a file.  XSMTP_EMALFORMED for a bad
 * length, XSMTP_ECRYPTO when OpenSSL refuses.
 */
xsmtp_status xsmtp_key_set_secret(struct xsmtp_key *key, const unsigned char *secret, size_t len);
/* Frees what key owns (id, patterns, mac_template) and wipes the secret. */
void xsmtp_key_clear(struct xsmtp_key *key);

#endif
