/*
 * vecfile.h -- read the known-answer vectors of tests/data/vectors.
 *
 * A .vec file holds "key: value" lines written by tools/make-vectors, values
 * in printf %b notation (\r \n \t \\ \xHH).  Not a test program itself: it is
 * linked into check_token, check_bodyhash and check_extract.
 */
#ifndef XSMTP_TESTS_VECFILE_H
#define XSMTP_TESTS_VECFILE_H

#include <stddef.h>

#define VECFILE_FIELDS_MAX 32
#define VECFILE_MAX 64

struct vecfile_field {
    char *key;
    char *value;      /* decoded, NUL-terminated */
    size_t value_len; /* decoded length (a value may hold NUL) */
};

struct vecfile {
    char path[512];
    struct vecfile_field fields[VECFILE_FIELDS_MAX];
    size_t field_count;
};

/* Names of the *.vec files in TEST_DATA_DIR/vectors, sorted; returns how many. */
size_t vecfile_list(char names[][128], size_t max);
/* Loads TEST_DATA_DIR/vectors/name; aborts the test on any syntax error. */
void vecfile_load(const char *name, struct vecfile *vec);
/* The decoded value of key (test aborts if absent); *len gets its length if non-NULL. */
const char *vecfile_get(const struct vecfile *vec, const char *key, size_t *len);
void vecfile_free(struct vecfile *vec);

#endif
