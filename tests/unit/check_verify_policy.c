/*
 * check_verify_policy.c -- unit tests of milter/verify/verify_policy.c:
 * the s8 status for each applied action, which header names the verifier
 * tracks, domain lists with and without "*", and the fast-track /
 * Jabber-ID / notice decisions for every verdict and configuration.
 *
 * Messages are built with verifier_check_headers() from XSMTP-1 s3
 * vector 1, so the identity and msgid are the ones the milter would see.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "milter/verify/verify_policy.h"

#define V1_T 1795000000
#define V1_HASH \
    "v=1; k=s1; t=1795000000; ip=192.0.2.10;\r\n" \
    " bh=E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=;\r\n" \
    " h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="

/* --- outcomes ------------------------------------------------------------------ */

static const struct {
    enum verify_action applied;
    const char *status;
} outcome_cases[] = {
    {VERIFY_ACTION_ACCEPT, "accepted"},
    {VERIFY_ACTION_QUARANTINE, "quarantined"},
    {VERIFY_ACTION_REJECT, "rejected"},
    {VERIFY_ACTION_TEMPFAIL, "deferred"},
};

START_TEST(test_outcomes)
{
    ck_assert_str_eq(verify_status_name(verify_status_of(outcome_cases[_i].applied)),
                     outcome_cases[_i].status);
}
END_TEST

START_TEST(test_outcome_out_of_range)
{
    ck_assert_str_eq(verify_status_name((enum verify_status)4), "?");
    ck_assert_str_eq(verify_status_name((enum verify_status) - 1), "?");
}
END_TEST

/* --- tracked header names ---------------------------------------------------- */

static const struct {
    const char *name;
    enum verify_tracked_header kind;
} tracked_cases[] = {
    {"X-XSMTP-Fast-Track", VERIFY_TRACKED_FAST_TRACK},
    {"x-xsmtp-fast-track", VERIFY_TRACKED_FAST_TRACK},
    {"X-XSMTP-FAST-TRACK", VERIFY_TRACKED_FAST_TRACK},
    {"Jabber-ID", VERIFY_TRACKED_JABBER_ID},
    {"jabber-id", VERIFY_TRACKED_JABBER_ID},
    {"X-XSMTP-Fast-Track2", VERIFY_TRACKED_NONE},
    {"X-XSMTP-Fast-Trac", VERIFY_TRACKED_NONE},
    {"Jabber-ID ", VERIFY_TRACKED_NONE},
    {"X-Jabber-ID", VERIFY_TRACKED_NONE},
    {"X-XSMTP-Verdict", VERIFY_TRACKED_NONE},
    {"", VERIFY_TRACKED_NONE},
    {NULL, VERIFY_TRACKED_NONE},
};

START_TEST(test_tracked)
{
    ck_assert_int_eq(verify_tracked_kind(tracked_cases[_i].name), tracked_cases[_i].kind);
}
END_TEST

/* --- domain lists ------------------------------------------------------------- */

/* Sorted and lowercased, as config_verify.c stores them. */
static char *list_domains[] = {"a.test", "d.test", "mail.example.org"};
static const struct domain_list three = {list_domains, 3, false};
static const struct domain_list empty = {NULL, 0, false};
static const struct domain_list star = {NULL, 0, true};

static const struct {
    const struct domain_list *list;
    const char *domain;
    bool listed;
} listed_cases[] = {
    {&three, "a.test", true},
    {&three, "A.Test", true},
    {&three, "d.test", true},
    {&three, "MAIL.EXAMPLE.ORG", true},
    {&three, "b.test", false},
    {&three, "sub.a.test", false}, /* exact domains only, no subdomains */
    {&three, "a.tes", false},
    {&three, "a.test.", false},
    {&three, "", false},
    {&three, NULL, false},
    {&empty, "a.test", false},
    {&star, "anything.example", true},
    {&star, "", false}, /* "*" still needs a domain */
    {NULL, "a.test", false},
};

START_TEST(test_listed)
{
    ck_assert_int_eq(verify_domain_listed(listed_cases[_i].list, listed_cases[_i].domain),
                     listed_cases[_i].listed);
}
END_TEST

/* --- extras --------------------------------------------------------------------- */

static char *fast_a[] = {"a.test"};
static char *exclude_a[] = {"a.test"};
static char *exclude_other[] = {"other.test"};

struct extras_case {
    const char *name;
    enum xsmtp_verdict verdict;
    const char *component;
    struct domain_list fast_track;
    bool add_jabber_id;
    bool notify_enabled;
    struct domain_list exclude;
    bool fast_tracked, add, delete_ids, notify;
};

#define NOLIST \
    { \
        NULL, 0, false \
    }
static const struct extras_case extras_cases[] = {
    {"pass, nothing configured", XSMTP_VERDICT_PASS, "xsmtp.a.test", NOLIST, false, false, NOLIST,
     false, false, false, false},
    {"pass, fast-track a.test",
     XSMTP_VERDICT_PASS,
     "xsmtp.a.test",
     {fast_a, 1, false},
     false,
     false,
     NOLIST,
     true,
     false,
     false,
     false},
    {"pass, fast-track *",
     XSMTP_VERDICT_PASS,
     "xsmtp.a.test",
     {NULL, 0, true},
     false,
     false,
     NOLIST,
     true,
     false,
     false,
     false},
    {"pass, fast-track other domain",
     XSMTP_VERDICT_PASS,
     "xsmtp.a.test",
     {exclude_other, 1, false},
     false,
     false,
     NOLIST,
     false,
     false,
     false,
     false},
    {"pass, Jabber-ID", XSMTP_VERDICT_PASS, "xsmtp.a.test", NOLIST, true, false, NOLIST, false,
     true, true, false},
    {"pass, notify", XSMTP_VERDICT_PASS, "xsmtp.a.test", NOLIST, false, true, NOLIST, false, false,
     false, true},
    {"pass, notify, other domain excluded",
     XSMTP_VERDICT_PASS,
     "xsmtp.a.test",
     NOLIST,
     false,
     true,
     {exclude_other, 1, false},
     false,
     false,
     false,
     true},
    {"pass, notify, a.test excluded",
     XSMTP_VERDICT_PASS,
     "xsmtp.a.test",
     NOLIST,
     false,
     true,
     {exclude_a, 1, false},
     false,
     false,
     false,
     false},
    {"pass without component (no one to tell)", XSMTP_VERDICT_PASS, "", NOLIST, false, true, NOLIST,
     false, false, false, false},
    {"pass, everything",
     XSMTP_VERDICT_PASS,
     "xsmtp.a.test",
     {fast_a, 1, false},
     true,
     true,
     NOLIST,
     true,
     true,
     true,
     true},
    {"fail, everything",
     XSMTP_VERDICT_FAIL,
     "xsmtp.a.test",
     {NULL, 0, true},
     true,
     true,
     NOLIST,
     false,
     false,
     true,
     false},
    {"permerror, everything",
     XSMTP_VERDICT_PERMERROR,
     "",
     {NULL, 0, true},
     true,
     true,
     NOLIST,
     false,
     false,
     true,
     false},
    {"temperror, everything",
     XSMTP_VERDICT_TEMPERROR,
     "",
     {NULL, 0, true},
     true,
     true,
     NOLIST,
     false,
     false,
     true,
     false},
    {"none, everything",
     XSMTP_VERDICT_NONE,
     "",
     {NULL, 0, true},
     true,
     true,
     NOLIST,
     false,
     false,
     true,
     false},
    {"fail, nothing", XSMTP_VERDICT_FAIL, "xsmtp.a.test", NOLIST, false, false, NOLIST, false,
     false, false, false},
};

START_TEST(test_extras)
{
    const struct extras_case *c = &extras_cases[_i];
    struct verifier_facts facts = {
        .identity = {"Alice@A.Test", 1, false},
        .hash = {V1_HASH, 1, false},
        .from = {"alice@a.test", 1, false},
        .message_id = {"<20261122.abc@a.test>", 1, false},
        .now = V1_T + 10,
        .max_age = 604800,
    };
    struct verify_policy policy = {
        .fast_track = &c->fast_track,
        .add_jabber_id = c->add_jabber_id,
        .notify = c->notify_enabled,
        .notify_exclude = &c->exclude,
    };
    struct verifier_result result;
    struct verify_extras extras;
    static struct verifier_message message;

    ck_assert(verifier_check_headers(&facts, &message));
    ck_assert_str_eq(verifier_identity_domain(&message), "a.test");
    verifier_result_set(&result, c->verdict, c->verdict == XSMTP_VERDICT_PASS ? NULL : "x",
                        c->component);
    memset(&extras, 0xff, sizeof extras);
    verify_extras_decide(&policy, &message, &result, &extras);
    ck_assert_msg(extras.fast_tracked == c->fast_tracked, "%s: fast_tracked", c->name);
    ck_assert_msg(extras.add_jabber_id == c->add, "%s: add_jabber_id", c->name);
    ck_assert_msg(extras.delete_jabber_ids == c->delete_ids, "%s: delete_jabber_ids", c->name);
    ck_assert_msg(extras.notify == c->notify, "%s: notify", c->name);
}
END_TEST

/* A pass whose identity did not parse cannot happen in the milter, but
 * the policy must not fast-track or name it. */
START_TEST(test_extras_without_identity)
{
    static const struct domain_list all = {NULL, 0, true};
    struct verify_policy policy = {
        .fast_track = &all,
        .add_jabber_id = true,
        .notify = true,
        .notify_exclude = NULL,
    };
    struct verifier_result result;
    struct verify_extras extras;
    static struct verifier_message message;

    memset(&message, 0, sizeof message);
    verifier_result_set(&result, XSMTP_VERDICT_PASS, NULL, "xsmtp.a.test");
    verify_extras_decide(&policy, &message, &result, &extras);
    ck_assert(!extras.fast_tracked);
    ck_assert(!extras.add_jabber_id);
    ck_assert(extras.delete_jabber_ids);
    ck_assert(!extras.notify);
}
END_TEST

static Suite *
policy_suite(void)
{
    Suite *suite = suite_create("verify_policy");
    TCase *tcase = tcase_create("core");

    tcase_add_loop_test(tcase, test_outcomes, 0,
                        (int)(sizeof outcome_cases / sizeof outcome_cases[0]));
    tcase_add_test(tcase, test_outcome_out_of_range);
    tcase_add_loop_test(tcase, test_tracked, 0,
                        (int)(sizeof tracked_cases / sizeof tracked_cases[0]));
    tcase_add_loop_test(tcase, test_listed, 0, (int)(sizeof listed_cases / sizeof listed_cases[0]));
    tcase_add_loop_test(tcase, test_extras, 0, (int)(sizeof extras_cases / sizeof extras_cases[0]));
    tcase_add_test(tcase, test_extras_without_identity);
    suite_add_tcase(suite, tcase);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(policy_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
