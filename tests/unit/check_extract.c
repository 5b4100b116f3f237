/*
 * check_extract.c -- unit tests for hash/extract.c (msgid, from-address).
 *
 * The vectors give header values as an MTA hands them over (folded with
 * CRLF) and the extracted text written by hand from XSMTP-1 s3; the tables
 * pin the edge cases of the spec's literal rules, including the ones that
 * differ from RFC 5322 on purpose.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/extract.h"
#include "tests/unit/vecfile.h"

static char vector_names[VECFILE_MAX][128];
static size_t vector_count;

START_TEST(test_vectors)
{
    struct vecfile vec;
    char out[XSMTP_EXTRACT_SIZE];
    size_t raw_len;

    vecfile_load(vector_names[_i], &vec);
    const char *raw = vecfile_get(&vec, "message-id", &raw_len);
    ck_assert_int_eq(xsmtp_extract_msgid(raw, raw_len, out, sizeof out), XSMTP_OK);
    ck_assert_str_eq(out, vecfile_get(&vec, "msgid", NULL));

    raw = vecfile_get(&vec, "from", &raw_len);
    ck_assert_int_eq(xsmtp_extract_from(raw, raw_len, out, sizeof out), XSMTP_OK);
    ck_assert_str_eq(out, vecfile_get(&vec, "from-address", NULL));
    vecfile_free(&vec);
}
END_TEST

struct extract_case {
    const char *raw;
    xsmtp_status status;
    const char *expected;
};

static const struct extract_case msgid_cases[] = {
    {"<a@b.test>", XSMTP_OK, "a@b.test"},
    {" \t<a@b.test> \t", XSMTP_OK, "a@b.test"},
    {"\r\n <a@b.test>\r\n", XSMTP_OK, "a@b.test"},
    {"<Mixed.Case@B.Test>", XSMTP_OK, "Mixed.Case@B.Test"},
    {"<a\r\n\t.b@c.test>", XSMTP_OK, "a\t.b@c.test"},  /* WSP after a fold stays */
    {"x <a@b.test> <c@d.test>", XSMTP_OK, "a@b.test"}, /* first <, next > */
    {"> <a@b.test>", XSMTP_OK, "a@b.test"},            /* '>' before '<' is text */
    {"<a<b@c.test>", XSMTP_OK, "a<b@c.test"},          /* the first '<' counts */
    {"<a@b.test", XSMTP_OK, "<a@b.test"},              /* no '>': trimmed value */
    {"a@b.test>", XSMTP_OK, "a@b.test>"},
    {"bare-id@b.test", XSMTP_OK, "bare-id@b.test"},
    {"<>", XSMTP_EMALFORMED, ""},
    {"", XSMTP_EMALFORMED, ""},
    {" \r\n\t", XSMTP_EMALFORMED, ""},
};
#define MSGID_COUNT (int)(sizeof msgid_cases / sizeof msgid_cases[0])

START_TEST(test_msgid_table)
{
    const struct extract_case *c = &msgid_cases[_i];
    char out[XSMTP_EXTRACT_SIZE];

    xsmtp_status status = xsmtp_extract_msgid(c->raw, strlen(c->raw), out, sizeof out);
    ck_assert_msg(status == c->status, "case %d: status %d", _i, status);
    if (status == XSMTP_OK)
        ck_assert_str_eq(out, c->expected);
}
END_TEST

static const struct extract_case from_cases[] = {
    {"alice@a.test", XSMTP_OK, "alice@a.test"},
    {"ALICE@A.TEST", XSMTP_OK, "alice@a.test"},
    {"Alice <Alice@A.Test>", XSMTP_OK, "alice@a.test"},
    {"\"Doe, Alice\" <alice@a.test>", XSMTP_OK, "alice@a.test"},
    /* An escaped quote does not end the quoted string, so its ',' is inside. */
    {"\"A \\\", B\" <alice@a.test>", XSMTP_OK, "alice@a.test"},
    {"\"A \\\\\" <alice@a.test>", XSMTP_OK, "alice@a.test"},
    {"<odd,local@a.test>", XSMTP_OK, "odd,local@a.test"},
    {"Alice (Sales) <alice@a.test>", XSMTP_OK, "alice@a.test"},
    {"<alice@a.test> (Alice)", XSMTP_OK, "alice@a.test"},
    {"Alice\r\n <alice@a.test>", XSMTP_OK, "alice@a.test"},
    {"<Alice@A.test", XSMTP_OK, "<alice@a.test"}, /* no '>': trimmed value */
    /* Spec letter: the first '<' anywhere, even inside a quoted display name. */
    {"\"x <Shown@X.test>\" <real@a.test>", XSMTP_OK, "shown@x.test"},
    {"\xc3\x89lise <Elise@A.test>", XSMTP_OK, "elise@a.test"},

    {"alice@a.test, bob@a.test", XSMTP_EMULTIPLE, ""},
    {"<alice@a.test>,<bob@a.test>", XSMTP_EMULTIPLE, ""},
    {"\"A \\\"\", B <alice@a.test>", XSMTP_EMULTIPLE, ""}, /* quote closed before ',' */
    {"Friends: alice@a.test, bob@a.test;", XSMTP_EMULTIPLE, ""},
    /* Spec letter: comments are not special, so a ',' in one counts. */
    {"alice@a.test (Alice, Sales)", XSMTP_EMULTIPLE, ""},
    {"alice@a.test,", XSMTP_EMULTIPLE, ""},
    {"<>", XSMTP_EMALFORMED, ""},
    {"  ", XSMTP_EMALFORMED, ""},
};
#define FROM_COUNT (int)(sizeof from_cases / sizeof from_cases[0])

START_TEST(test_from_table)
{
    const struct extract_case *c = &from_cases[_i];
    char out[XSMTP_EXTRACT_SIZE];

    xsmtp_status status = xsmtp_extract_from(c->raw, strlen(c->raw), out, sizeof out);
    ck_assert_msg(status == c->status, "case %d: status %d", _i, status);
    if (status == XSMTP_OK)
        ck_assert_str_eq(out, c->expected);
}
END_TEST

START_TEST(test_unfold_trim)
{
    char out[32];
    size_t len = 99;

    ck_assert_int_eq(xsmtp_unfold_trim(" \t a\r\n b \t\r\n", 12, out, sizeof out, &len), XSMTP_OK);
    ck_assert_str_eq(out, "a b");
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(xsmtp_unfold_trim("", 0, out, sizeof out, &len), XSMTP_OK);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(len, 0);
    /* A lone CR inside is deleted too: the spec says every CR and LF. */
    ck_assert_int_eq(xsmtp_unfold_trim("a\rb\nc", 5, out, sizeof out, &len), XSMTP_OK);
    ck_assert_str_eq(out, "abc");
}
END_TEST

START_TEST(test_limits)
{
    char out[XSMTP_EXTRACT_SIZE];
    char *raw = malloc(XSMTP_HEADER_VALUE_MAX + 2);
    size_t len;

    ck_assert_ptr_nonnull(raw);
    /* 8,192 octets is the largest value. */
    memset(raw, 'a', XSMTP_HEADER_VALUE_MAX);
    raw[0] = '<';
    raw[XSMTP_HEADER_VALUE_MAX - 1] = '>';
    ck_assert_int_eq(xsmtp_extract_msgid(raw, XSMTP_HEADER_VALUE_MAX, out, sizeof out), XSMTP_OK);
    ck_assert_uint_eq(strlen(out), XSMTP_HEADER_VALUE_MAX - 2);
    /* One more octet is malformed (XSMTP-1 s2), for both headers. */
    memset(raw, 'a', XSMTP_HEADER_VALUE_MAX + 1);
    ck_assert_int_eq(xsmtp_extract_msgid(raw, XSMTP_HEADER_VALUE_MAX + 1, out, sizeof out),
                     XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_extract_from(raw, XSMTP_HEADER_VALUE_MAX + 1, out, sizeof out),
                     XSMTP_EMALFORMED);
    free(raw);

    /* A NUL inside the value would cut it short: refused. */
    ck_assert_int_eq(xsmtp_extract_msgid("<a\0b@c>", 7, out, sizeof out), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_extract_from("a\0b@c", 5, out, sizeof out), XSMTP_EMALFORMED);

    /* Output too small: "<a@b.test>" unfolds to 10 octets + NUL. */
    ck_assert_int_eq(xsmtp_unfold_trim("<a@b.test>", 10, out, 10, &len), XSMTP_ETOOBIG);
    ck_assert_int_eq(xsmtp_unfold_trim("<a@b.test>", 10, out, 11, &len), XSMTP_OK);
    ck_assert_int_eq(xsmtp_extract_msgid("<a@b.test>", 10, out, 5), XSMTP_ETOOBIG);
    ck_assert_int_eq(xsmtp_extract_msgid(NULL, 3, out, sizeof out), XSMTP_EMALFORMED);
}
END_TEST

static Suite *
extract_suite(void)
{
    Suite *suite = suite_create("extract");
    TCase *vectors = tcase_create("vectors");
    tcase_add_loop_test(vectors, test_vectors, 0, (int)vector_count);
    suite_add_tcase(suite, vectors);
    TCase *tables = tcase_create("tables");
    tcase_add_loop_test(tables, test_msgid_table, 0, MSGID_COUNT);
    tcase_add_loop_test(tables, test_from_table, 0, FROM_COUNT);
    tcase_add_test(tables, test_unfold_trim);
    tcase_add_test(tables, test_limits);
    suite_add_tcase(suite, tables);
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
    SRunner *runner = srunner_create(extract_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
