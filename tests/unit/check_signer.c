/*
 * check_signer.c -- unit tests of milter/sign/signer.c: which messages are
 * signed, with which identity and key, and the exact header values.
 *
 * The expected X-XMPP-Hash of the first case is XSMTP-1 s3 vector 1, whose
 * h was computed with openssl, not with this code.
 */
#include "config.h"

#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter/sign/signer.h"

static struct xsmtp_keytable *test_keys;
static char key_path[256];

static const char *const signing_domains[] = {"a.test", "c.test"};

/* identity_map stand-in: one mapping, as sign.identity_map would hold. */
static const char *
map_lookup(const void *map, const char *address)
{
    (void)map;
    if (strcmp(address, "carol@a.test") == 0)
        return "Carol.Jabber@A.test";
    if (strcmp(address, "dave@a.test") == 0)
        return "not a jid";
    return NULL;
}

static void
setup(void)
{
    char err[256];
    char command[600];

    snprintf(key_path, sizeof key_path, "%s/check_signer_keys.%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    snprintf(command, sizeof command, "cp '%s/signer/keys' '%s'", TEST_DATA_DIR, key_path);
    ck_assert_int_eq(system(command), 0);
    ck_assert_int_eq(chmod(key_path, 0600), 0);
    ck_assert_int_eq(xsmtp_keytable_load(key_path, &test_keys, err, sizeof err), XSMTP_OK);
}

static void
teardown(void)
{
    xsmtp_keytable_free(test_keys);
    unlink(key_path);
}

static struct sign_policy
policy(void)
{
    return (struct sign_policy){
        .domains = signing_domains,
        .domain_count = 2,
        .keys = test_keys,
        .identity_lookup = map_lookup,
        .identity_map = NULL,
    };
}

static struct sign_facts
vector1_facts(void)
{
    return (struct sign_facts){
        .from_value = "alice@a.test",
        .from_count = 1,
        .msgid_value = "<20261122.abc@a.test>",
        .msgid_count = 1,
        .client_ip = "192.0.2.10",
        .body_hash = "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=",
        .now = 1795000000,
    };
}

/* s0 is revoked and alice-2026 comes before s1: alice gets alice-2026. */
START_TEST(test_first_non_revoked_key)
{
    struct sign_policy sign_policy = policy();
    struct sign_facts facts = vector1_facts();
    struct sign_result result;

    ck_assert_int_eq(signer_sign(&sign_policy, &facts, &result), SIGN_OK);
    ck_assert_str_eq(result.key_id, "alice-2026");
    ck_assert_str_eq(result.identity, "alice@a.test");
    ck_assert_str_eq(result.added_msgid, "");
}
END_TEST

/* XSMTP-1 vector 1, through the whole signer (bob@a.test gets key s1). */
START_TEST(test_vector1_exact_header)
{
    static const char *const only_s1[] = {"a.test"};
    struct sign_policy sign_policy = policy();
    struct sign_facts facts = vector1_facts();
    struct sign_result result;
    const struct xsmtp_key *s1 = xsmtp_keytable_by_id(test_keys, "s1");
    struct xsmtp_keytable single = {.keys = (struct xsmtp_key *)s1, .key_count = 1};

    sign_policy.domains = only_s1;
    sign_policy.domain_count = 1;
    sign_policy.keys = &single;
    ck_assert_ptr_nonnull(s1);
    ck_assert_int_eq(signer_sign(&sign_policy, &facts, &result), SIGN_OK);
    ck_assert_str_eq(result.identity, "alice@a.test");
    ck_assert_str_eq(result.hash_value, "v=1; k=s1; t=1795000000; ip=192.0.2.10;\n"
                                        " bh=E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=;\n"
                                        " h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=");
}
END_TEST

START_TEST(test_identity_map)
{
    struct sign_policy sign_policy = policy();
    struct sign_facts facts = vector1_facts();
    struct sign_result result;

    facts.from_value = "\"Carol\" <CAROL@a.test>";
    ck_assert_int_eq(signer_sign(&sign_policy, &facts, &result), SIGN_OK);
    ck_assert_str_eq(result.from_address, "carol@a.test");
    ck_assert_str_eq(result.identity, "carol.jabber@a.test");
    ck_assert_str_eq(result.key_id, "s1");
}
END_TEST

START_TEST(test_missing_msgid_added)
{
    struct sign_policy sign_policy = policy();
    struct sign_facts facts = vector1_facts();
    struct sign_result result;
    regex_t pattern;

    facts.msgid_value = NULL;
    facts.msgid_count = 0;
    ck_assert_int_eq(signer_sign(&sign_policy, &facts, &result), SIGN_OK);
    ck_assert_int_eq(
        regcomp(&pattern, "^<[0-9a-f]{32}\\.1795000000@a\\.test>$", REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_int_eq(regexec(&pattern, result.added_msgid, 0, NULL, 0), 0);
    regfree(&pattern);
}
END_TEST

static const struct {
    const char *name;
    const char *from;
    unsigned from_count;
    unsigned msgid_count;
    enum sign_outcome expected;
} skip_cases[] = {
    {"no From", NULL, 0, 1, SIGN_SKIP_NO_FROM},
    {"two From", "alice@a.test", 2, 1, SIGN_SKIP_MULTIPLE_FROM},
    {"two Message-ID", "alice@a.test", 1, 2, SIGN_SKIP_MULTIPLE_MSGID},
    {"two mailboxes", "alice@a.test, bob@a.test", 1, 1, SIGN_SKIP_MULTIPLE_MAILBOX},
    {"foreign domain", "mallory@b.test", 1, 1, SIGN_SKIP_FOREIGN_DOMAIN},
    {"subdomain is foreign", "alice@sub.a.test", 1, 1, SIGN_SKIP_FOREIGN_DOMAIN},
    {"no domain", "alice", 1, 1, SIGN_SKIP_BAD_FROM},
    {"bad mapped identity", "dave@a.test", 1, 1, SIGN_SKIP_BAD_IDENTITY},
    {"bad identity from address", "\"a b\"@a.test", 1, 1, SIGN_SKIP_BAD_IDENTITY},
    {"signing domain without key", "erin@c.test", 1, 1, SIGN_SKIP_NO_KEY},
};

START_TEST(test_skip_cases)
{
    struct sign_policy sign_policy = policy();
    struct sign_facts facts = vector1_facts();
    struct sign_result result;

    facts.from_value = skip_cases[_i].from;
    facts.from_count = skip_cases[_i].from_count;
    facts.msgid_count = skip_cases[_i].msgid_count;
    ck_assert_msg(signer_sign(&sign_policy, &facts, &result) == skip_cases[_i].expected,
                  "case '%s'", skip_cases[_i].name);
}
END_TEST

/*
 * A Message-ID that extracts to nothing is the client's fault: it must be
 * a "not signed" outcome, never SIGN_ERROR (which defers the message under
 * the default on_internal_error = tempfail, on every retry).
 */
static const char *const unusable_msgids[] = {"<>", "", "   ", "\r\n\t", " <> (comment)"};

START_TEST(test_unusable_msgid_skipped)
{
    struct sign_policy sign_policy = policy();
    struct sign_facts facts = vector1_facts();
    struct sign_result result;

    facts.msgid_value = unusable_msgids[_i];
    ck_assert_msg(signer_sign(&sign_policy, &facts, &result) == SIGN_SKIP_BAD_MSGID,
                  "Message-ID '%s'", unusable_msgids[_i]);
    ck_assert_str_eq(signer_outcome_str(SIGN_SKIP_BAD_MSGID), "Message-ID holds no usable msgid");
}
END_TEST

static Suite *
signer_suite(void)
{
    Suite *suite = suite_create("signer");
    TCase *tcase = tcase_create("signer");

    tcase_add_checked_fixture(tcase, setup, teardown);
    tcase_add_test(tcase, test_first_non_revoked_key);
    tcase_add_test(tcase, test_vector1_exact_header);
    tcase_add_test(tcase, test_identity_map);
    tcase_add_test(tcase, test_missing_msgid_added);
    tcase_add_loop_test(tcase, test_skip_cases, 0, sizeof skip_cases / sizeof skip_cases[0]);
    tcase_add_loop_test(tcase, test_unusable_msgid_skipped, 0,
                        sizeof unusable_msgids / sizeof unusable_msgids[0]);
    suite_add_tcase(suite, tcase);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(signer_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
