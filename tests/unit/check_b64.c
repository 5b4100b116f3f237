/*
 * check_b64.c -- unit tests for hash/b64.c (strict base64).
 *
 * Encoding answers are RFC 4648 s10's; the decoder table lists every way a
 * non-canonical spelling can sneak in (padding, whitespace, alphabet,
 * trailing bits), since "h" must have exactly one spelling.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hash/b64.h"

struct known_answer {
    const char *plain;
    const char *encoded;
};

/* RFC 4648 section 10. */
static const struct known_answer rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};
#define RFC4648_COUNT (int)(sizeof rfc4648 / sizeof rfc4648[0])

START_TEST(test_encode_rfc4648)
{
    const struct known_answer *vector = &rfc4648[_i];
    char out[16];
    size_t len = strlen(vector->plain);

    ck_assert_int_eq(xsmtp_b64_encode((const uint8_t *)vector->plain, len, out, sizeof out),
                     XSMTP_OK);
    ck_assert_str_eq(out, vector->encoded);
    ck_assert_uint_eq(strlen(out), XSMTP_B64_LEN(len));
}
END_TEST

START_TEST(test_decode_rfc4648)
{
    const struct known_answer *vector = &rfc4648[_i];
    uint8_t out[16];
    size_t out_len = 99;

    ck_assert_int_eq(
        xsmtp_b64_decode(vector->encoded, strlen(vector->encoded), out, sizeof out, &out_len),
        XSMTP_OK);
    ck_assert_uint_eq(out_len, strlen(vector->plain));
    ck_assert_mem_eq(out, vector->plain, out_len);
}
END_TEST

/* Spellings a strict decoder must refuse. */
static const char *const refused[] = {
    "Zg",             /* padding missing */
    "Zg=",            /* length not a multiple of 4 */
    "Zg===",          /* extra padding */
    "Z===",           /* three padding characters */
    "====",           /* padding only */
    "=Zg=",           /* padding first */
    "Zm=v",           /* padding in the middle */
    "Zg==Zm8=",       /* padding before the last quantum */
    "Zh==",           /* non-zero trailing bits (4 unused bits) */
    "Zm9=",           /* non-zero trailing bits (2 unused bits) */
    "Zm8 ",           /* space */
    " Zm8",           /* leading space */
    "Zm9v\n",         /* line end */
    "Zm9\tv",         /* tab */
    "Zm9v-_==",       /* URL-safe alphabet */
    "Zm9v!A==",       /* outside the alphabet */
    "Zm9v\xc3\xa9==", /* 8-bit octets */
};
#define REFUSED_COUNT (int)(sizeof refused / sizeof refused[0])

START_TEST(test_decode_refused)
{
    uint8_t out[16];
    size_t out_len = 99;

    ck_assert_msg(xsmtp_b64_decode(refused[_i], strlen(refused[_i]), out, sizeof out, &out_len) ==
                      XSMTP_EMALFORMED,
                  "accepted \"%s\"", refused[_i]);
    ck_assert_uint_eq(out_len, 0);
}
END_TEST

START_TEST(test_decode_nul_inside)
{
    uint8_t out[16];
    size_t out_len;

    ck_assert_int_eq(xsmtp_b64_decode("Zm\0v", 4, out, sizeof out, &out_len), XSMTP_EMALFORMED);
}
END_TEST

START_TEST(test_sizes)
{
    char text[9];
    uint8_t bytes[5];
    size_t out_len;

    /* "foobar" needs 8 characters plus the NUL. */
    ck_assert_int_eq(xsmtp_b64_encode((const uint8_t *)"foobar", 6, text, 8), XSMTP_ETOOBIG);
    ck_assert_int_eq(xsmtp_b64_encode((const uint8_t *)"foobar", 6, text, 9), XSMTP_OK);
    /* Decoding "Zm9vYmFy" needs 6 bytes. */
    ck_assert_int_eq(xsmtp_b64_decode("Zm9vYmFy", 8, bytes, 5, &out_len), XSMTP_ETOOBIG);
    /* "Zm9vYg==" needs only 4: padding is taken into account. */
    ck_assert_int_eq(xsmtp_b64_decode("Zm9vYg==", 8, bytes, 4, &out_len), XSMTP_OK);
    ck_assert_uint_eq(out_len, 4);
    ck_assert_int_eq(xsmtp_b64_encode(NULL, 1, text, sizeof text), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_b64_decode("Zg==", 4, bytes, sizeof bytes, NULL), XSMTP_EMALFORMED);
}
END_TEST

/* Every byte value at every position of lengths 0..40 survives a round trip. */
START_TEST(test_round_trip)
{
    uint8_t plain[40];
    char text[XSMTP_B64_LEN(40) + 1];
    uint8_t back[40];
    size_t back_len;

    for (size_t len = 0; len <= sizeof plain; len++) {
        for (size_t i = 0; i < len; i++)
            plain[i] = (uint8_t)((i * 97 + len * 31 + 7) & 0xff);
        ck_assert_int_eq(xsmtp_b64_encode(plain, len, text, sizeof text), XSMTP_OK);
        ck_assert_int_eq(xsmtp_b64_decode(text, strlen(text), back, sizeof back, &back_len),
                         XSMTP_OK);
        ck_assert_uint_eq(back_len, len);
        ck_assert_mem_eq(back, plain, len);
    }
    /* And all 256 octets once. */
    uint8_t all[256];
    char all_text[XSMTP_B64_LEN(256) + 1];
    uint8_t all_back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    ck_assert_int_eq(xsmtp_b64_encode(all, sizeof all, all_text, sizeof all_text), XSMTP_OK);
    ck_assert_int_eq(
        xsmtp_b64_decode(all_text, strlen(all_text), all_back, sizeof all_back, &back_len),
        XSMTP_OK);
    ck_assert_uint_eq(back_len, 256);
    ck_assert_mem_eq(all_back, all, 256);
}
END_TEST

/* Each of the 64 alphabet characters decodes to its own value. */
START_TEST(test_alphabet)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int value = 0; value < 64; value++) {
        /* "X" + alphabet[value] + "AA": 3 bytes, the 2nd character lands in bits 12..17. */
        char text[5] = {'A', alphabet[value], 'A', 'A', '\0'};
        uint8_t out[3];
        size_t out_len;
        ck_assert_int_eq(xsmtp_b64_decode(text, 4, out, sizeof out, &out_len), XSMTP_OK);
        unsigned got = ((unsigned)out[0] << 16 | (unsigned)out[1] << 8 | out[2]) >> 12;
        ck_assert_uint_eq(got, (unsigned)value);
    }
}
END_TEST

static Suite *
b64_suite(void)
{
    Suite *suite = suite_create("b64");
    TCase *known = tcase_create("known answers");
    tcase_add_loop_test(known, test_encode_rfc4648, 0, RFC4648_COUNT);
    tcase_add_loop_test(known, test_decode_rfc4648, 0, RFC4648_COUNT);
    tcase_add_test(known, test_alphabet);
    suite_add_tcase(suite, known);

    TCase *strict = tcase_create("strict decoding");
    tcase_add_loop_test(strict, test_decode_refused, 0, REFUSED_COUNT);
    tcase_add_test(strict, test_decode_nul_inside);
    suite_add_tcase(suite, strict);

    TCase *limits = tcase_create("sizes and round trips");
    tcase_add_test(limits, test_sizes);
    tcase_add_test(limits, test_round_trip);
    suite_add_tcase(suite, limits);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(b64_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
