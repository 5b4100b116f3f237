/*
 * check_bodyhash.c -- unit tests for hash/bodyhash.c (relaxed body + SHA-256).
 *
 * Expected digests never come from the code under test: the vectors carry
 * openssl's digest of a hand-canonicalized body, and each table row pairs a
 * raw body with its relaxed form written by hand, hashed here with plain
 * OpenSSL SHA-256.  The split tests feed the same bodies in every possible
 * pair (and a sample in every triple) of chunks, since libmilter may cut a
 * body anywhere, even between CR and LF.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "hash/bodyhash.h"
#include "tests/unit/vecfile.h"

#define EMPTY_BH "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static char vector_names[VECFILE_MAX][128];
static size_t vector_count;

/* base64(SHA-256(text)) with OpenSSL alone: the oracle for table rows. */
static void
oracle_digest(const char *text, size_t len, char out[XSMTP_B64_SHA256 + 1])
{
    unsigned char digest[32];
    unsigned int digest_len = 0;
    ck_assert_int_eq(EVP_Digest(text, len, digest, &digest_len, EVP_sha256(), NULL), 1);
    ck_assert_uint_eq(digest_len, 32);
    ck_assert_int_eq(EVP_EncodeBlock((unsigned char *)out, digest, 32), XSMTP_B64_SHA256);
}

/* Hashes body fed in chunks cut at the given offsets (ascending, within len). */
static void
hash_in_chunks(struct xsmtp_bodyhash *bodyhash, const char *body, size_t len, const size_t *cuts,
               size_t cut_count, char out[XSMTP_B64_SHA256 + 1])
{
    size_t start = 0;
    ck_assert_int_eq(xsmtp_bodyhash_reset(bodyhash), XSMTP_OK);
    for (size_t i = 0; i <= cut_count; i++) {
        size_t end = i < cut_count ? cuts[i] : len;
        ck_assert_int_eq(
            xsmtp_bodyhash_update(bodyhash, (const uint8_t *)body + start, end - start), XSMTP_OK);
        start = end;
    }
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, out), XSMTP_OK);
}

START_TEST(test_vectors)
{
    struct vecfile vec;
    struct xsmtp_bodyhash *bodyhash;
    char out[XSMTP_B64_SHA256 + 1];
    size_t body_len;
    size_t relaxed_len;

    vecfile_load(vector_names[_i], &vec);
    const char *body = vecfile_get(&vec, "body", &body_len);
    const char *relaxed = vecfile_get(&vec, "relaxed-body", &relaxed_len);
    const char *expected = vecfile_get(&vec, "bh", NULL);
    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);

    hash_in_chunks(bodyhash, body, body_len, NULL, 0, out);
    ck_assert_str_eq(out, expected);
    /* The relaxed form is a fixed point: canonicalizing it again changes nothing. */
    hash_in_chunks(bodyhash, relaxed, relaxed_len, NULL, 0, out);
    ck_assert_str_eq(out, expected);
    /* Every two-chunk split, including the empty first and last chunks. */
    for (size_t cut = 0; cut <= body_len; cut++) {
        hash_in_chunks(bodyhash, body, body_len, &cut, 1, out);
        ck_assert_msg(strcmp(out, expected) == 0, "%s: split at %zu", vector_names[_i], cut);
    }
    xsmtp_bodyhash_free(bodyhash);
    vecfile_free(&vec);
}
END_TEST

struct relaxed_case {
    const char *body;
    size_t body_len;     /* 0: strlen */
    const char *relaxed; /* written by hand from RFC 6376 s3.4.4 */
    size_t relaxed_len;  /* 0: strlen */
};

static const struct relaxed_case relaxed_cases[] = {
    {"", 0, "", 0},
    {"\r\n", 0, "", 0},
    {"\r\n\r\n\r\n", 0, "", 0},        /* only blank lines */
    {" \t\r\n\t\r\n  \r\n", 0, "", 0}, /* only whitespace lines */
    {"\n\n", 0, "", 0},
    {" ", 0, "", 0},      /* whitespace, no line end */
    {"a", 0, "a\r\n", 0}, /* last line end added */
    {"a\r\n", 0, "a\r\n", 0},
    {"a\n", 0, "a\r\n", 0}, /* bare LF = CRLF */
    {"a\nb\n\n", 0, "a\r\nb\r\n", 0},
    {"a  b\r\n", 0, "a b\r\n", 0},
    {"a \t b \t\r\n", 0, "a b\r\n", 0},
    {" \ta\r\n", 0, " a\r\n", 0},                /* leading run becomes one SP */
    {"a\r\n \r\nb\r\n", 0, "a\r\n\r\nb\r\n", 0}, /* inner blank line kept, emptied */
    {"a\r\n\r\n\r\nb", 0, "a\r\n\r\n\r\nb\r\n", 0},
    {"a\r\n\r\n \r\n\t\r\n", 0, "a\r\n", 0},
    {"a\rb\r\n", 0, "a\rb\r\n", 0}, /* bare CR is an ordinary character */
    {"a\r", 0, "a\r\r\n", 0},
    {"\r", 0, "\r\r\n", 0},
    {"a \r \r\n", 0, "a \r\r\n", 0},
    {"a\r\r\n", 0, "a\r\r\n", 0},
    {"a\r\r\r\n\r\n", 0, "a\r\r\r\n", 0},
    {"\n\r\n\na", 0, "\r\n\r\n\r\na\r\n", 0},
    {"x\0y \r\n", 6, "x\0y\r\n", 5}, /* NUL is an ordinary octet */
    {"\xc3\xa9t\xc3\xa9\t\r\n", 0, "\xc3\xa9t\xc3\xa9\r\n", 0},
    {"\v\f\r\n", 0, "\v\f\r\n", 0}, /* only SP and HTAB are WSP */
};
#define RELAXED_COUNT (int)(sizeof relaxed_cases / sizeof relaxed_cases[0])

START_TEST(test_relaxed_table)
{
    const struct relaxed_case *c = &relaxed_cases[_i];
    size_t body_len = c->body_len != 0 ? c->body_len : strlen(c->body);
    size_t relaxed_len = c->relaxed_len != 0 ? c->relaxed_len : strlen(c->relaxed);
    struct xsmtp_bodyhash *bodyhash;
    char expected[XSMTP_B64_SHA256 + 1];
    char out[XSMTP_B64_SHA256 + 1];

    oracle_digest(c->relaxed, relaxed_len, expected);
    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);
    hash_in_chunks(bodyhash, c->body, body_len, NULL, 0, out);
    ck_assert_msg(strcmp(out, expected) == 0, "case %d", _i);
    for (size_t cut = 0; cut <= body_len; cut++) {
        hash_in_chunks(bodyhash, c->body, body_len, &cut, 1, out);
        ck_assert_msg(strcmp(out, expected) == 0, "case %d split at %zu", _i, cut);
    }
    xsmtp_bodyhash_free(bodyhash);
}
END_TEST

START_TEST(test_empty_body)
{
    struct xsmtp_bodyhash *bodyhash;
    char out[XSMTP_B64_SHA256 + 1];

    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);
    /* No update at all. */
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, out), XSMTP_OK);
    ck_assert_str_eq(out, EMPTY_BH);
    /* Zero-length updates. */
    ck_assert_int_eq(xsmtp_bodyhash_reset(bodyhash), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, (const uint8_t *)"", 0), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, NULL, 0), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, out), XSMTP_OK);
    ck_assert_str_eq(out, EMPTY_BH);
    xsmtp_bodyhash_free(bodyhash);
}
END_TEST

/* Every split into three chunks of a body that has each tricky boundary. */
START_TEST(test_three_chunk_splits)
{
    static const char body[] = "A  b\t\r\n\r\n c\rd \r\r\n\n\t\r\n e\n \r\n\r\n";
    static const char relaxed[] = "A b\r\n\r\n c\rd \r\r\n\r\n\r\n e\r\n";
    const size_t len = sizeof body - 1;
    struct xsmtp_bodyhash *bodyhash;
    char expected[XSMTP_B64_SHA256 + 1];
    char out[XSMTP_B64_SHA256 + 1];

    oracle_digest(relaxed, sizeof relaxed - 1, expected);
    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);
    for (size_t first = 0; first <= len; first++) {
        for (size_t second = first; second <= len; second++) {
            size_t cuts[2] = {first, second};
            hash_in_chunks(bodyhash, body, len, cuts, 2, out);
            ck_assert_msg(strcmp(out, expected) == 0, "cuts %zu %zu", first, second);
        }
    }
    /* One octet at a time. */
    size_t cuts[sizeof body];
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    hash_in_chunks(bodyhash, body, len, cuts, len, out);
    ck_assert_str_eq(out, expected);
    xsmtp_bodyhash_free(bodyhash);
}
END_TEST

/* Bodies larger than the internal buffer, with many held-back blank lines. */
START_TEST(test_large_body)
{
    const size_t blank_lines = 100000;
    const size_t text_lines = 3000;
    size_t body_cap = blank_lines * 4 + text_lines * 64 + 64;
    char *body = malloc(body_cap);
    char *relaxed = malloc(body_cap);
    size_t body_len = 0;
    size_t relaxed_len = 0;
    struct xsmtp_bodyhash *bodyhash;
    char expected[XSMTP_B64_SHA256 + 1];
    char out[XSMTP_B64_SHA256 + 1];

    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_nonnull(relaxed);
    for (size_t i = 0; i < text_lines; i++) {
        body_len += (size_t)sprintf(body + body_len, "line %zu   with  blanks \t\r\n", i);
        relaxed_len += (size_t)sprintf(relaxed + relaxed_len, "line %zu with blanks\r\n", i);
    }
    for (size_t i = 0; i < blank_lines; i++) {
        memcpy(body + body_len, " \t\r\n", 4);
        body_len += 4;
        memcpy(relaxed + relaxed_len, "\r\n", 2);
        relaxed_len += 2;
    }
    memcpy(body + body_len, "end", 3);
    body_len += 3;
    memcpy(relaxed + relaxed_len, "end\r\n", 5);
    relaxed_len += 5;
    /* Then a quarter as many blank lines again, which are dropped. */
    for (size_t i = 0; i < blank_lines; i += 4) {
        memcpy(body + body_len, "\r\n", 2);
        body_len += 2;
    }

    oracle_digest(relaxed, relaxed_len, expected);
    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);
    hash_in_chunks(bodyhash, body, body_len, NULL, 0, out);
    ck_assert_str_eq(out, expected);
    size_t cuts[] = {1, 4095, 4096, 4097, 65535, body_len - 1};
    hash_in_chunks(bodyhash, body, body_len, cuts, sizeof cuts / sizeof cuts[0], out);
    ck_assert_str_eq(out, expected);
    xsmtp_bodyhash_free(bodyhash);
    free(body);
    free(relaxed);
}
END_TEST

/* One hasher serves many messages: reset forgets all state. */
START_TEST(test_reset_reuse)
{
    struct xsmtp_bodyhash *bodyhash;
    char out[XSMTP_B64_SHA256 + 1];
    char expected[XSMTP_B64_SHA256 + 1];

    oracle_digest("b\r\n", 3, expected);
    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);
    /* Leave pending CR, blanks and blank lines behind, unfinished. */
    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, (const uint8_t *)"a\r\n\r\n  \r", 8),
                     XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_reset(bodyhash), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, (const uint8_t *)"b", 1), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, out), XSMTP_OK);
    ck_assert_str_eq(out, expected);

    /* After final, updating without reset is an error, not a silent wrong hash. */
    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, (const uint8_t *)"b", 1), XSMTP_ECRYPTO);
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, out), XSMTP_ECRYPTO);
    ck_assert_int_eq(xsmtp_bodyhash_reset(bodyhash), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, out), XSMTP_OK);
    ck_assert_str_eq(out, EMPTY_BH);

    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, NULL, 1), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_bodyhash_update(NULL, (const uint8_t *)"a", 1), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_bodyhash_new(NULL), XSMTP_EMALFORMED);
    xsmtp_bodyhash_free(bodyhash);
    xsmtp_bodyhash_free(NULL);
}
END_TEST

static Suite *
bodyhash_suite(void)
{
    Suite *suite = suite_create("bodyhash");
    TCase *vectors = tcase_create("vectors");
    tcase_add_loop_test(vectors, test_vectors, 0, (int)vector_count);
    suite_add_tcase(suite, vectors);
    TCase *relaxed = tcase_create("relaxed");
    tcase_add_loop_test(relaxed, test_relaxed_table, 0, RELAXED_COUNT);
    tcase_add_test(relaxed, test_empty_body);
    tcase_add_test(relaxed, test_three_chunk_splits);
    tcase_add_test(relaxed, test_large_body);
    tcase_add_test(relaxed, test_reset_reuse);
    suite_add_tcase(suite, relaxed);
    return suite;
}

int
main(void)
{
    vector_count = vecfile_list(vector_names, VECFILE_MAX);
    if (vector_count < 8) {
        fprintf(stderr, "expected at least 8 vectors in %s/vectors, found %zu\n", TEST_DATA_DIR,
                vector_count);
        return EXIT_FAILURE;
    }
    SRunner *runner = srunner_create(bodyhash_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
