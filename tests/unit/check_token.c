/*
 * check_token.c -- unit tests for hash/token.c (canonical input and MAC).
 *
 * The known answers are the vectors of tests/data/vectors (XSMTP-1 s3's two
 * and our own, all computed by tools/make-vectors with openssl) and RFC 4231
 * HMAC answers taken from `openssl dgst -mac HMAC`.  The pipeline test runs
 * the raw headers and body of every vector through extract, identity and
 * bodyhash too, so the parts are proven to fit together.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/b64.h"
#include "hash/bodyhash.h"
#include "hash/extract.h"
#include "hash/identity.h"
#include "hash/keytable.h"
#include "hash/token.h"
#include "tests/unit/vecfile.h"

static char vector_names[VECFILE_MAX][128];
static size_t vector_count;

/* Makes a key from the vector's base64 secret. */
static void
vector_key(const struct vecfile *vec, struct xsmtp_key *key)
{
    const char *secret_text = vecfile_get(vec, "secret", NULL);
    unsigned char secret[XSMTP_SECRET_MAX];
    size_t secret_len;

    memset(key, 0, sizeof *key);
    ck_assert_int_eq(
        xsmtp_b64_decode(secret_text, strlen(secret_text), secret, sizeof secret, &secret_len),
        XSMTP_OK);
    ck_assert_int_eq(xsmtp_key_set_secret(key, secret, secret_len), XSMTP_OK);
}

/* The token input as the vector's hand-extracted values give it. */
static struct xsmtp_token_input
vector_input(const struct vecfile *vec)
{
    struct xsmtp_token_input input = {
        .identity = vecfile_get(vec, "identity", NULL), /* raw: build lowercases */
        .msgid = vecfile_get(vec, "msgid", NULL),
        .from = vecfile_get(vec, "from-address", NULL),
        .t = vecfile_get(vec, "t", NULL),
        .ip = vecfile_get(vec, "ip", NULL),
        .bh = vecfile_get(vec, "bh", NULL),
        .k = vecfile_get(vec, "k", NULL),
    };
    return input;
}

START_TEST(test_vector_canonical)
{
    struct vecfile vec;
    char canonical[XSMTP_CANONICAL_SIZE];
    size_t canonical_len = 0;
    size_t expected_len;

    vecfile_load(vector_names[_i], &vec);
    struct xsmtp_token_input input = vector_input(&vec);
    const char *expected = vecfile_get(&vec, "canonical", &expected_len);
    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, sizeof canonical, &canonical_len),
                     XSMTP_OK);
    ck_assert_uint_eq(canonical_len, expected_len);
    ck_assert_mem_eq(canonical, expected, expected_len);
    vecfile_free(&vec);
}
END_TEST

START_TEST(test_vector_mac)
{
    struct vecfile vec;
    struct xsmtp_key key;
    char h[XSMTP_B64_SHA256 + 1];

    vecfile_load(vector_names[_i], &vec);
    vector_key(&vec, &key);
    struct xsmtp_token_input input = vector_input(&vec);
    const char *expected_h = vecfile_get(&vec, "h", NULL);

    ck_assert_int_eq(xsmtp_token_mac(&key, &input, h), XSMTP_OK);
    ck_assert_str_eq(h, expected_h);
    /* The template is copied, not used up: a second MAC gives the same answer. */
    ck_assert_int_eq(xsmtp_token_mac(&key, &input, h), XSMTP_OK);
    ck_assert_str_eq(h, expected_h);
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, expected_h), XSMTP_OK);

    /* The raw-secret helper agrees on the canonical bytes of the vector. */
    size_t canonical_len;
    const char *canonical = vecfile_get(&vec, "canonical", &canonical_len);
    ck_assert_int_eq(xsmtp_hmac_sha256_b64(key.secret, key.secret_len, canonical, canonical_len, h),
                     XSMTP_OK);
    ck_assert_str_eq(h, expected_h);

    /* Any change to any field changes the MAC. */
    struct xsmtp_token_input changed = input;
    changed.t = "1";
    ck_assert_int_eq(xsmtp_token_verify(&key, &changed, expected_h), XSMTP_EMISMATCH);
    changed = input;
    changed.msgid = "other@x.test";
    ck_assert_int_eq(xsmtp_token_verify(&key, &changed, expected_h), XSMTP_EMISMATCH);

    xsmtp_key_clear(&key);
    vecfile_free(&vec);
}
END_TEST

/* Raw headers and body -> extract, identity, bodyhash, token: the vector's h. */
START_TEST(test_vector_pipeline)
{
    struct vecfile vec;
    struct xsmtp_key key;
    struct xsmtp_bodyhash *bodyhash = NULL;
    char identity[XSMTP_IDENTITY_SIZE];
    char msgid[XSMTP_EXTRACT_SIZE];
    char from[XSMTP_EXTRACT_SIZE];
    char bh[XSMTP_B64_SHA256 + 1];
    char h[XSMTP_B64_SHA256 + 1];
    size_t len;
    const char *raw;
    const char *reason;

    vecfile_load(vector_names[_i], &vec);
    vector_key(&vec, &key);
    raw = vecfile_get(&vec, "identity", &len);
    ck_assert_int_eq(xsmtp_identity_parse(raw, len, identity, sizeof identity, &reason), XSMTP_OK);
    ck_assert_str_eq(identity, vecfile_get(&vec, "identity-lowercased", NULL));
    raw = vecfile_get(&vec, "message-id", &len);
    ck_assert_int_eq(xsmtp_extract_msgid(raw, len, msgid, sizeof msgid), XSMTP_OK);
    raw = vecfile_get(&vec, "from", &len);
    ck_assert_int_eq(xsmtp_extract_from(raw, len, from, sizeof from), XSMTP_OK);
    raw = vecfile_get(&vec, "body", &len);
    ck_assert_int_eq(xsmtp_bodyhash_new(&bodyhash), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_update(bodyhash, (const uint8_t *)raw, len), XSMTP_OK);
    ck_assert_int_eq(xsmtp_bodyhash_final(bodyhash, bh), XSMTP_OK);
    ck_assert_str_eq(bh, vecfile_get(&vec, "bh", NULL));

    struct xsmtp_token_input input = {
        identity,
        msgid,
        from,
        vecfile_get(&vec, "t", NULL),
        vecfile_get(&vec, "ip", NULL),
        bh,
        vecfile_get(&vec, "k", NULL),
    };
    ck_assert_int_eq(xsmtp_token_mac(&key, &input, h), XSMTP_OK);
    ck_assert_str_eq(h, vecfile_get(&vec, "h", NULL));

    xsmtp_bodyhash_free(bodyhash);
    xsmtp_key_clear(&key);
    vecfile_free(&vec);
}
END_TEST

#define SPEC_SECRET "secret-for-test-vector-one-32bytes!"
#define SPEC_BH "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8="
#define SPEC_H "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="

static void
spec_key(struct xsmtp_key *key)
{
    memset(key, 0, sizeof *key);
    ck_assert_int_eq(
        xsmtp_key_set_secret(key, (const unsigned char *)SPEC_SECRET, strlen(SPEC_SECRET)),
        XSMTP_OK);
}

static struct xsmtp_token_input
spec_input(void)
{
    struct xsmtp_token_input input = {
        "alice@a.test", "20261122.abc@a.test", "alice@a.test", "1795000000", "192.0.2.10", SPEC_BH,
        "s1",
    };
    return input;
}

/* Identity and from are lowercased by the build, msgid is not. */
START_TEST(test_lowercasing)
{
    struct xsmtp_key key;
    char h[XSMTP_B64_SHA256 + 1];
    char canonical[XSMTP_CANONICAL_SIZE];
    size_t len;

    spec_key(&key);
    struct xsmtp_token_input input = spec_input();
    input.identity = "ALICE@A.Test";
    input.from = "Alice@A.TEST";
    ck_assert_int_eq(xsmtp_token_mac(&key, &input, h), XSMTP_OK);
    ck_assert_str_eq(h, SPEC_H);
    input.msgid = "20261122.ABC@a.test";
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, SPEC_H), XSMTP_EMISMATCH);
    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, sizeof canonical, &len), XSMTP_OK);
    canonical[len] = '\0';
    ck_assert_str_eq(canonical, "xsmtp-1\nidentity:alice@a.test\nmessage-id:20261122.ABC@a.test\n"
                                "from:alice@a.test\ntime:1795000000\nip:192.0.2.10\n"
                                "body-hash:" SPEC_BH "\nkey:s1\n");
    xsmtp_key_clear(&key);
}
END_TEST

/* Field index 0..6 and a bad value: CR, LF or CRLF inside, or NULL. */
static const char *const bad_values[] = {"a\rb", "a\nb", "a\r\nb", "\n", NULL};
#define BAD_VALUE_COUNT 5
#define FIELD_COUNT 7

START_TEST(test_refuses_line_breaks)
{
    struct xsmtp_key key;
    char canonical[XSMTP_CANONICAL_SIZE];
    char h[XSMTP_B64_SHA256 + 1] = "unchanged";
    size_t len = 99;
    int field = _i / BAD_VALUE_COUNT;
    const char *bad = bad_values[_i % BAD_VALUE_COUNT];

    spec_key(&key);
    struct xsmtp_token_input input = spec_input();
    const char **slots[FIELD_COUNT] = {
        &input.identity, &input.msgid, &input.from, &input.t, &input.ip, &input.bh, &input.k,
    };
    *slots[field] = bad;
    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, sizeof canonical, &len),
                     XSMTP_EMALFORMED);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(xsmtp_token_mac(&key, &input, h), XSMTP_EMALFORMED);
    ck_assert_str_eq(h, "");
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, SPEC_H), XSMTP_EMALFORMED);
    xsmtp_key_clear(&key);
}
END_TEST

START_TEST(test_build_sizes)
{
    char canonical[XSMTP_CANONICAL_SIZE];
    size_t len;
    struct xsmtp_token_input input = spec_input();

    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, sizeof canonical, &len), XSMTP_OK);
    size_t exact = len;
    /* The output is not NUL-terminated, so exactly len bytes suffice. */
    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, exact, &len), XSMTP_OK);
    ck_assert_uint_eq(len, exact);
    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, exact - 1, &len), XSMTP_ETOOBIG);
    ck_assert_int_eq(xsmtp_canonical_build(NULL, canonical, sizeof canonical, &len),
                     XSMTP_EMALFORMED);

    /* Largest values still fit XSMTP_CANONICAL_SIZE. */
    char *big_msgid = malloc(XSMTP_HEADER_VALUE_MAX + 1);
    char *big_from = malloc(XSMTP_HEADER_VALUE_MAX + 1);
    ck_assert_ptr_nonnull(big_msgid);
    ck_assert_ptr_nonnull(big_from);
    memset(big_msgid, 'm', XSMTP_HEADER_VALUE_MAX);
    big_msgid[XSMTP_HEADER_VALUE_MAX] = '\0';
    memset(big_from, 'F', XSMTP_HEADER_VALUE_MAX);
    big_from[XSMTP_HEADER_VALUE_MAX] = '\0';
    input.msgid = big_msgid;
    input.from = big_from;
    input.identity = "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll@"
                     "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
                     "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
                     "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
                     "dddddddddddddddddddddddddddddddddddddddddddddd";
    input.ip = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    input.t = "9999999999";
    input.k = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
    ck_assert_int_eq(xsmtp_canonical_build(&input, canonical, sizeof canonical, &len), XSMTP_OK);
    /* Lowercasing goes through a chunk buffer: check its joints. */
    ck_assert_int_eq(canonical[len - 1], '\n');
    const char *from_field = memmem(canonical, len, "\nfrom:", 6);
    ck_assert_ptr_nonnull(from_field);
    for (size_t i = 0; i < XSMTP_HEADER_VALUE_MAX; i++)
        ck_assert_int_eq(from_field[6 + i], 'f');
    ck_assert_int_eq(from_field[6 + XSMTP_HEADER_VALUE_MAX], '\n');
    free(big_msgid);
    free(big_from);
}
END_TEST

START_TEST(test_verify_claims)
{
    struct xsmtp_key key;
    struct xsmtp_token_input input = spec_input();
    char flipped[] = SPEC_H;

    spec_key(&key);
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, SPEC_H), XSMTP_OK);
    flipped[0] = 'N'; /* one bit of the first byte */
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, flipped), XSMTP_EMISMATCH);
    ck_assert_int_eq(
        xsmtp_token_verify(&key, &input, "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM"),
        XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, SPEC_H "A"), XSMTP_EMALFORMED);
    /* Same bytes, non-canonical trailing bits: refused, not "equal". */
    ck_assert_int_eq(
        xsmtp_token_verify(&key, &input, "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhN="),
        XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, ""), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_token_verify(&key, &input, NULL), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_token_verify(NULL, &input, SPEC_H), XSMTP_EMALFORMED);

    /* Another key gives another MAC. */
    struct xsmtp_key other;
    memset(&other, 0, sizeof other);
    ck_assert_int_eq(xsmtp_key_set_secret(&other, (const unsigned char *)"0123456789abcdef", 16),
                     XSMTP_OK);
    ck_assert_int_eq(xsmtp_token_verify(&other, &input, SPEC_H), XSMTP_EMISMATCH);

    /* A key with no template is an error, not a silent pass. */
    struct xsmtp_key empty;
    memset(&empty, 0, sizeof empty);
    ck_assert_int_eq(xsmtp_token_verify(&empty, &input, SPEC_H), XSMTP_ECRYPTO);
    xsmtp_key_clear(&other);
    xsmtp_key_clear(&key);
}
END_TEST

START_TEST(test_key_secret_lengths)
{
    unsigned char secret[XSMTP_SECRET_MAX + 1];
    struct xsmtp_key key;

    memset(secret, 0x5a, sizeof secret);
    memset(&key, 0, sizeof key);
    ck_assert_int_eq(xsmtp_key_set_secret(&key, secret, 15), XSMTP_EMALFORMED);
    ck_assert_ptr_null(key.mac_template);
    ck_assert_int_eq(xsmtp_key_set_secret(&key, secret, XSMTP_SECRET_MAX + 1), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_key_set_secret(&key, secret, 16), XSMTP_OK);
    ck_assert_uint_eq(key.secret_len, 16);
    /* Setting again replaces the template (no leak under ASan/valgrind). */
    ck_assert_int_eq(xsmtp_key_set_secret(&key, secret, XSMTP_SECRET_MAX), XSMTP_OK);
    ck_assert_uint_eq(key.secret_len, XSMTP_SECRET_MAX);
    xsmtp_key_clear(&key);
    ck_assert_ptr_null(key.mac_template);
    ck_assert_uint_eq(key.secret_len, 0);
    for (size_t i = 0; i < sizeof key.secret; i++)
        ck_assert_uint_eq(key.secret[i], 0);
}
END_TEST

struct hmac_case {
    const unsigned char *key;
    size_t key_len;
    const char *data;
    const char *expected; /* from `openssl dgst -sha256 -mac HMAC ... | base64` */
};

static const unsigned char long_key[131] = {
#define AA10 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa
    AA10, AA10, AA10, AA10, AA10, AA10, AA10, AA10, AA10, AA10, AA10, AA10, AA10, 0xaa,
};
static const unsigned char counting_key[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                               8, 9, 10, 11, 12, 13, 14, 15};

static const struct hmac_case hmac_cases[] = {
    /* RFC 4231 test case 2 */
    {(const unsigned char *)"Jefe", 4, "what do ya want for nothing?",
     "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="},
    /* RFC 4231 test case 6: key longer than the block */
    {long_key, sizeof long_key, "Test Using Larger Than Block-Size Key - Hash Key First",
     "YOQxWR7gtn8Niiaqy/W3f44LxiE3KMUUBUYEDw7jf1Q="},
    /* empty message */
    {counting_key, sizeof counting_key, "", "B+/4sya3eYycz8vb5XlImseFp5laBGGLGigTwmdEd30="},
};
#define HMAC_COUNT (int)(sizeof hmac_cases / sizeof hmac_cases[0])

START_TEST(test_hmac_known_answers)
{
    const struct hmac_case *c = &hmac_cases[_i];
    char out[XSMTP_B64_SHA256 + 1];

    ck_assert_int_eq(xsmtp_hmac_sha256_b64(c->key, c->key_len, c->data, strlen(c->data), out),
                     XSMTP_OK);
    ck_assert_str_eq(out, c->expected);
}
END_TEST

static Suite *
token_suite(void)
{
    Suite *suite = suite_create("token");
    TCase *vectors = tcase_create("vectors");
    tcase_add_loop_test(vectors, test_vector_canonical, 0, (int)vector_count);
    tcase_add_loop_test(vectors, test_vector_mac, 0, (int)vector_count);
    tcase_add_loop_test(vectors, test_vector_pipeline, 0, (int)vector_count);
    suite_add_tcase(suite, vectors);

    TCase *rules = tcase_create("canonical rules");
    tcase_add_test(rules, test_lowercasing);
    tcase_add_loop_test(rules, test_refuses_line_breaks, 0, FIELD_COUNT * BAD_VALUE_COUNT);
    tcase_add_test(rules, test_build_sizes);
    suite_add_tcase(suite, rules);

    TCase *mac = tcase_create("mac");
    tcase_add_test(mac, test_verify_claims);
    tcase_add_test(mac, test_key_secret_lengths);
    tcase_add_loop_test(mac, test_hmac_known_answers, 0, HMAC_COUNT);
    suite_add_tcase(suite, mac);
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
    SRunner *runner = srunner_create(token_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
