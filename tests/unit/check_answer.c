/*
 * check_answer.c -- unit tests for xmpp/client/answer.c: the XSMTP-1 s7 mapping of
 * component answers, stanza errors and local failures to verdict classes.
 *
 * One table per entry point; each row is the input as it comes off the
 * wire (attribute values, error type and condition) and the exact verdict,
 * reason and error type expected.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/client/answer.h"

#define R63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"
#define R64 R63 "l"

struct result_row {
    const char *result, *reason;
    enum xsmtp_verdict verdict;
    const char *expected_reason;
};

static const struct result_row result_rows[] = {
    {"pass", NULL, XSMTP_VERDICT_PASS, ""},
    {"pass", "bad-hash", XSMTP_VERDICT_PASS, ""}, /* reason ignored on pass */
    {"fail", "bad-hash", XSMTP_VERDICT_FAIL, "bad-hash"},
    {"fail", "unknown-key", XSMTP_VERDICT_FAIL, "unknown-key"},
    {"fail", "revoked", XSMTP_VERDICT_FAIL, "revoked"},
    {"fail", "identity-not-allowed", XSMTP_VERDICT_FAIL, "identity-not-allowed"},
    {"fail", "expired", XSMTP_VERDICT_FAIL, "expired"},
    {"fail", "future", XSMTP_VERDICT_FAIL, "future"},
    {"fail", "relay-not-authorized", XSMTP_VERDICT_FAIL, "relay-not-authorized"},
    {"fail", "a-reason-from-a-newer-spec", XSMTP_VERDICT_FAIL, "a-reason-from-a-newer-spec"},
    {"fail", "Mixed_Case.1", XSMTP_VERDICT_FAIL, "Mixed_Case.1"},
    {"fail", R63, XSMTP_VERDICT_FAIL, R63},
    {"fail", R64, XSMTP_VERDICT_FAIL, "unspecified"}, /* too long for a header */
    {"fail", NULL, XSMTP_VERDICT_FAIL, "unspecified"},
    {"fail", "", XSMTP_VERDICT_FAIL, "unspecified"},
    {"fail", "bad hash", XSMTP_VERDICT_FAIL, "unspecified"},
    {"fail", "x\"; pass", XSMTP_VERDICT_FAIL, "unspecified"}, /* header injection */
    {"fail", "caf\xc3\xa9", XSMTP_VERDICT_FAIL, "unspecified"},
    {"PASS", NULL, XSMTP_VERDICT_PERMERROR, "malformed-answer"},
    {"maybe", "bad-hash", XSMTP_VERDICT_PERMERROR, "malformed-answer"},
    {"", NULL, XSMTP_VERDICT_PERMERROR, "malformed-answer"},
    {NULL, NULL, XSMTP_VERDICT_PERMERROR, "malformed-answer"}, /* no <verdict/> */
};

struct error_row {
    const char *type, *condition;
    enum xsmtp_verdict verdict;
    const char *reason, *error_type;
};

static const struct error_row error_rows[] = {
    /* XSMTP-1 s7's permerror list */
    {"modify", "bad-request", XSMTP_VERDICT_PERMERROR, "bad-request", "modify"},
    {"cancel", "item-not-found", XSMTP_VERDICT_PERMERROR, "item-not-found", "cancel"},
    {"cancel", "remote-server-not-found", XSMTP_VERDICT_PERMERROR, "remote-server-not-found",
     "cancel"},
    {"cancel", "service-unavailable", XSMTP_VERDICT_PERMERROR, "service-unavailable", "cancel"},
    {"cancel", "feature-not-implemented", XSMTP_VERDICT_PERMERROR, "feature-not-implemented",
     "cancel"},
    {NULL, "item-not-found", XSMTP_VERDICT_PERMERROR, "item-not-found", ""},
    /* s7's temperror list: by condition whatever the type, and every wait */
    {"wait", "remote-server-timeout", XSMTP_VERDICT_TEMPERROR, "remote-server-timeout", "wait"},
    {"cancel", "remote-server-timeout", XSMTP_VERDICT_TEMPERROR, "remote-server-timeout", "cancel"},
    {"wait", "internal-server-error", XSMTP_VERDICT_TEMPERROR, "internal-server-error", "wait"},
    {"cancel", "internal-server-error", XSMTP_VERDICT_TEMPERROR, "internal-server-error", "cancel"},
    {"wait", "resource-constraint", XSMTP_VERDICT_TEMPERROR, "resource-constraint", "wait"},
    {"wait", "item-not-found", XSMTP_VERDICT_TEMPERROR, "item-not-found", "wait"},
    {"wait", NULL, XSMTP_VERDICT_TEMPERROR, "undefined-condition", "wait"},
    /* conditions s7 does not name: by type */
    {"cancel", "not-allowed", XSMTP_VERDICT_PERMERROR, "not-allowed", "cancel"},
    {"auth", "forbidden", XSMTP_VERDICT_PERMERROR, "forbidden", "auth"},
    {"modify", "not-acceptable", XSMTP_VERDICT_PERMERROR, "not-acceptable", "modify"},
    {"cancel", NULL, XSMTP_VERDICT_PERMERROR, "undefined-condition", "cancel"},
    {"continue", "undefined-condition", XSMTP_VERDICT_TEMPERROR, "undefined-condition", "continue"},
    {"bogus", "conflict", XSMTP_VERDICT_TEMPERROR, "conflict", "bogus"},
    {NULL, NULL, XSMTP_VERDICT_TEMPERROR, "undefined-condition", ""},
    {NULL, "conflict", XSMTP_VERDICT_TEMPERROR, "conflict", ""},
    /* hostile values never reach a header */
    {"cancel", "evil\"cond", XSMTP_VERDICT_PERMERROR, "undefined-condition", "cancel"},
    {"can cel", "gone", XSMTP_VERDICT_TEMPERROR, "gone", ""},
    {"averyveryverylongtype", "gone", XSMTP_VERDICT_TEMPERROR, "gone", ""},
};

struct local_row {
    enum xclient_failure failure;
    const char *reason;
};

static const struct local_row local_rows[] = {
    {XCLIENT_FAILURE_TIMEOUT, "timeout"},
    {XCLIENT_FAILURE_DISCONNECTED, "disconnected"},
    {XCLIENT_FAILURE_OVERLOADED, "overloaded"},
    {XCLIENT_FAILURE_INTERNAL, "internal-error"},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void
dirty(struct xclient_answer *answer)
{
    memset(answer, 'X', sizeof *answer);
    answer->reason[sizeof answer->reason - 1] = '\0';
    answer->error_type[sizeof answer->error_type - 1] = '\0';
    answer->rtt_us = 77;
}

START_TEST(test_result)
{
    const struct result_row *row = &result_rows[_i];
    struct xclient_answer answer;

    dirty(&answer);
    xclient_answer_from_result(row->result, row->reason, &answer);
    ck_assert_msg(answer.verdict == row->verdict, "row %d: verdict %s, expected %s", _i,
                  xsmtp_verdict_name(answer.verdict), xsmtp_verdict_name(row->verdict));
    ck_assert_str_eq(answer.reason, row->expected_reason);
    ck_assert_str_eq(answer.error_type, "");
    ck_assert_uint_eq(answer.rtt_us, 77); /* left to the caller */
}
END_TEST

START_TEST(test_error)
{
    const struct error_row *row = &error_rows[_i];
    struct xclient_answer answer;

    dirty(&answer);
    xclient_answer_from_error(row->type, row->condition, &answer);
    ck_assert_msg(answer.verdict == row->verdict, "row %d (%s/%s): verdict %s, expected %s", _i,
                  row->type ? row->type : "-", row->condition ? row->condition : "-",
                  xsmtp_verdict_name(answer.verdict), xsmtp_verdict_name(row->verdict));
    ck_assert_str_eq(answer.reason, row->reason);
    ck_assert_str_eq(answer.error_type, row->error_type);
}
END_TEST

START_TEST(test_local)
{
    const struct local_row *row = &local_rows[_i];
    struct xclient_answer answer;

    dirty(&answer);
    xclient_answer_from_local(row->failure, &answer);
    ck_assert_int_eq(answer.verdict, XSMTP_VERDICT_TEMPERROR);
    ck_assert_str_eq(answer.reason, row->reason);
    ck_assert_str_eq(answer.error_type, "");
    ck_assert_uint_eq(answer.rtt_us, 0);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(xsmtp_verdict_name(XSMTP_VERDICT_PASS), "pass");
    ck_assert_str_eq(xsmtp_verdict_name(XSMTP_VERDICT_FAIL), "fail");
    ck_assert_str_eq(xsmtp_verdict_name(XSMTP_VERDICT_PERMERROR), "permerror");
    ck_assert_str_eq(xsmtp_verdict_name(XSMTP_VERDICT_TEMPERROR), "temperror");
    ck_assert_str_eq(xsmtp_verdict_name((enum xsmtp_verdict)99), "?");
}
END_TEST

START_TEST(test_copy_reason)
{
    char out[XSMTP_REASON_SIZE];

    ck_assert_int_eq(xclient_copy_reason(out, "bad-hash", "x"), 1);
    ck_assert_str_eq(out, "bad-hash");
    ck_assert_int_eq(xclient_copy_reason(out, NULL, "fallback"), 0);
    ck_assert_str_eq(out, "fallback");
    ck_assert_int_eq(xclient_copy_reason(out, "a;b", ""), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(xclient_copy_reason(out, R64, R64), 0); /* fallback cut to fit */
    ck_assert_str_eq(out, R63);
}
END_TEST

int
main(void)
{
    Suite *suite = suite_create("answer");
    TCase *tc = tcase_create("answer");
    SRunner *runner;
    int failed;

    tcase_add_loop_test(tc, test_result, 0, COUNT(result_rows));
    tcase_add_loop_test(tc, test_error, 0, COUNT(error_rows));
    tcase_add_loop_test(tc, test_local, 0, COUNT(local_rows));
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_copy_reason);
    suite_add_tcase(suite, tc);
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
