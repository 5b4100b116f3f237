/*
 * check_identity.c -- unit tests for hash/identity.c (XSMTP-1 s2 identities).
 *
 * One table row per rule of the spec's identity syntax, each with the exact
 * lowercased output or the exact reason.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hash/identity.h"

struct identity_case {
    const char *input;
    size_t len; /* 0: strlen(input) */
    xsmtp_status status;
    const char *expected; /* lowercased output, or the reason */
};

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D50 "dddddddddddddddddddddddddddddddddddddddddddddddddd"
#define D49 "ddddddddddddddddddddddddddddddddddddddddddddddddd"
/* 4 * 50 + 49 + 4 dots = 253 octets */
#define D253 D50 "." D50 "." D50 "." D50 "." D49
#define D254 D253 "b"

static const struct identity_case cases[] = {
    {"alice@a.test", 0, XSMTP_OK, "alice@a.test"},
    {"Bob@A.Test", 0, XSMTP_OK, "bob@a.test"},
    {"ALICE.Z-9_+x@MAIL.Example-1.ORG", 0, XSMTP_OK, "alice.z-9_+x@mail.example-1.org"},
    {L64 "@a.test", 0, XSMTP_OK, L64 "@a.test"},
    {"a@" D253, 0, XSMTP_OK, "a@" D253},
    /* Non-ASCII octets are legal in the local part and are not case-folded. */
    {"\xc3\x89lise@a.test", 0, XSMTP_OK, "\xc3\x89lise@a.test"},
    {"#!$%*+=?^`{|}~@a.test", 0, XSMTP_OK, "#!$%*+=?^`{|}~@a.test"},

    {"", 0, XSMTP_EMALFORMED, "empty identity"},
    {"alice", 0, XSMTP_EMALFORMED, "no '@' in identity"},
    {"@a.test", 0, XSMTP_EMALFORMED, "empty local part"},
    {"alice@", 0, XSMTP_EMALFORMED, "empty domain"},
    {"a" L64 "@a.test", 0, XSMTP_EMALFORMED, "local part longer than 64 octets"},
    {"a@" D254, 0, XSMTP_EMALFORMED, "domain longer than 253 octets"},
    {"a\"b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a&b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a'b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a/b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a:b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a<b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a>b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a b@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a\tb@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a\x01@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a\x7f@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a\0b@a.test", 10, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a@b@a.test", 0, XSMTP_EMALFORMED, "invalid character in domain"},
    {"a@a_b.test", 0, XSMTP_EMALFORMED, "invalid character in domain"},
    {"a@a.test ", 0, XSMTP_EMALFORMED, "invalid character in domain"},
    {" a@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"a@\xc3\xa9.test", 0, XSMTP_EMALFORMED, "invalid character in domain"},
    {"a@a.test\r\n", 0, XSMTP_EMALFORMED, "invalid character in domain"},
    /* The local part may be UTF-8 (it goes into headers and XML). */
    {"\xf0\x9f\x98\x80\xe4\xb8\xad\xc2\xa0@a.test", 0, XSMTP_OK,
     "\xf0\x9f\x98\x80\xe4\xb8\xad\xc2\xa0@a.test"},
    {"\xcax@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"\xff@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"a\x80@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"\xc0\xaf@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"\xe0\x80\xaf@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"\xed\xa0\x80@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"\xf4\x90\x80\x80@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"a\xc3@a.test", 0, XSMTP_EMALFORMED, "invalid UTF-8 in local part"},
    {"\xc2\x85@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
    {"\xef\xbf\xbe@a.test", 0, XSMTP_EMALFORMED, "invalid character in local part"},
};
#define CASE_COUNT (int)(sizeof cases / sizeof cases[0])

START_TEST(test_identity_parse)
{
    const struct identity_case *c = &cases[_i];
    char out[XSMTP_IDENTITY_SIZE];
    const char *reason = "unset";
    size_t len = c->len != 0 ? c->len : strlen(c->input);

    xsmtp_status status = xsmtp_identity_parse(c->input, len, out, sizeof out, &reason);
    ck_assert_msg(status == c->status, "case %d: status %d, expected %d", _i, status, c->status);
    if (c->status == XSMTP_OK) {
        ck_assert_str_eq(out, c->expected);
        ck_assert_ptr_null(reason);
    } else {
        ck_assert_ptr_nonnull(reason);
        ck_assert_str_eq(reason, c->expected);
    }
}
END_TEST

START_TEST(test_identity_output_size)
{
    char out[13];
    const char *reason;

    /* "alice@a.test" is 12 octets: 13 bytes hold it with its NUL, 12 do not. */
    ck_assert_int_eq(xsmtp_identity_parse("alice@a.test", 12, out, 12, &reason), XSMTP_ETOOBIG);
    ck_assert_int_eq(xsmtp_identity_parse("alice@a.test", 12, out, 13, &reason), XSMTP_OK);
    ck_assert_str_eq(out, "alice@a.test");
    /* Only the given length is read. */
    ck_assert_int_eq(xsmtp_identity_parse("alice@a.testXYZ", 12, out, 13, NULL), XSMTP_OK);
    ck_assert_str_eq(out, "alice@a.test");
    ck_assert_int_eq(xsmtp_identity_parse(NULL, 0, out, 13, &reason), XSMTP_EMALFORMED);
}
END_TEST

START_TEST(test_identity_domain)
{
    ck_assert_str_eq(xsmtp_identity_domain("alice@a.test"), "a.test");
    ck_assert_ptr_null(xsmtp_identity_domain("alice"));
    ck_assert_ptr_null(xsmtp_identity_domain(NULL));
}
END_TEST

START_TEST(test_domain_check)
{
    ck_assert_uint_eq(strlen(D253), 253);
    const char *reason = "unset";
    ck_assert_int_eq(xsmtp_domain_check("A-1.test", 8, &reason), XSMTP_OK);
    ck_assert_ptr_null(reason);
    ck_assert_int_eq(xsmtp_domain_check("", 0, &reason), XSMTP_EMALFORMED);
    ck_assert_str_eq(reason, "empty domain");
    ck_assert_int_eq(xsmtp_domain_check("a*b", 3, &reason), XSMTP_EMALFORMED);
    ck_assert_str_eq(reason, "invalid character in domain");
    ck_assert_int_eq(xsmtp_domain_check(D254, strlen(D254), &reason), XSMTP_EMALFORMED);
    ck_assert_str_eq(reason, "domain longer than 253 octets");
    ck_assert_int_eq(xsmtp_domain_check(D253, strlen(D253), NULL), XSMTP_OK);
}
END_TEST

static Suite *
identity_suite(void)
{
    Suite *suite = suite_create("identity");
    TCase *table = tcase_create("parse table");
    tcase_add_loop_test(table, test_identity_parse, 0, CASE_COUNT);
    suite_add_tcase(suite, table);
    TCase *other = tcase_create("helpers");
    tcase_add_test(other, test_identity_output_size);
    tcase_add_test(other, test_identity_domain);
    tcase_add_test(other, test_domain_check);
    suite_add_tcase(suite, other);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(identity_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
