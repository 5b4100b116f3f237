/*
 * check_component_verify.c -- unit tests for xmpp/component/component_verify.c: the
 * strict parser of <verify/> attributes and the decision function, with
 * its documented check order.
 *
 * The only MAC used is XSMTP-1's vector 1 (from the spec, computed with
 * openssl there); cases after the MAC check move "now" instead of t, so no
 * other MAC is needed.  The key table is written to a private temp file.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmpp/component/component_verify.h"

#define V1_T 1795000000ULL
#define V1_H "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="
#define V1_BH "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8="
#define MAX_AGE 604800ULL

static const char *const v1[][2] = {
    {"identity", "alice@a.test"},
    {"message-id", "20261122.abc@a.test"},
    {"from", "alice@a.test"},
    {"t", "1795000000"},
    {"ip", "192.0.2.10"},
    {"k", "s1"},
    {"bh", V1_BH},
    {"h", V1_H},
};
#define V1_COUNT (sizeof v1 / sizeof v1[0])

static xmpp_ctx_t *ctx;
static struct xsmtp_keytable *keys;
static char keyfile[64];

static void
setup(void)
{
    FILE *f;
    int fd;
    char err[256];

    strcpy(keyfile, "/tmp/check_component_verify.XXXXXX");
    fd = mkstemp(keyfile);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fputs("s1 c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE= *@a.test\n"
          "alice-2026 c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE= alice@a.test\n"
          "s0 c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE= *@a.test revoked\n",
          f);
    fclose(f);
    ck_assert_int_eq(xsmtp_keytable_load(keyfile, &keys, err, sizeof err), XSMTP_OK);
    ctx = xmpp_ctx_new(NULL, NULL);
    ck_assert_ptr_nonnull(ctx);
}

static void
teardown(void)
{
    xsmtp_keytable_free(keys);
    unlink(keyfile);
    xmpp_ctx_free(ctx);
}

/* A <verify/> with vector 1's attributes; override NAME=VALUE, VALUE NULL removes. */
static xmpp_stanza_t *
verify_stanza(const char *name, const char *value)
{
    xmpp_stanza_t *verify = xmpp_stanza_new(ctx);
    size_t i;

    xmpp_stanza_set_name(verify, "verify");
    xmpp_stanza_set_ns(verify, "urn:xmpp:xsmtp:1");
    for (i = 0; i < V1_COUNT; i++)
        xmpp_stanza_set_attribute(verify, v1[i][0], v1[i][1]);
    if (name != NULL) {
        if (value != NULL)
            xmpp_stanza_set_attribute(verify, name, value);
        else
            xmpp_stanza_del_attribute(verify, name);
    }
    return verify;
}

struct parse_case {
    const char *name, *value;
    const char *problem; /* NULL: parses */
};

static const struct parse_case parse_cases[] = {
    {NULL, NULL, NULL},
    {"relay", "198.51.100.7", NULL},
    {"relay", "2001:db8::25", NULL},
    {"unknown", "ignored", NULL},
    {"message-id", "", NULL},
    {"identity", "Alice@A.Test", NULL},
    {"identity", NULL, "missing attribute 'identity'"},
    {"message-id", NULL, "missing attribute 'message-id'"},
    {"from", NULL, "missing attribute 'from'"},
    {"t", NULL, "missing attribute 't'"},
    {"ip", NULL, "missing attribute 'ip'"},
    {"k", NULL, "missing attribute 'k'"},
    {"bh", NULL, "missing attribute 'bh'"},
    {"h", NULL, "missing attribute 'h'"},
    {"identity", "alice", "malformed attribute 'identity'"},
    {"identity", "al ice@a.test", "malformed attribute 'identity'"},
    {"message-id", "a\nb", "malformed attribute 'message-id'"},
    {"from", "a\rb", "malformed attribute 'from'"},
    {"t", "01795000000", "malformed attribute 't'"},
    {"t", "17950000001", "malformed attribute 't'"},
    {"t", "-5", "malformed attribute 't'"},
    {"ip", "192.0.2.010", "malformed attribute 'ip'"},
    {"ip", "2001:DB8::1", "malformed attribute 'ip'"},
    {"k", "k/1", "malformed attribute 'k'"},
    {"k", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
     "malformed attribute 'k'"},
    {"bh", "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8", "malformed attribute 'bh'"},
    {"h", V1_H "=", "malformed attribute 'h'"},
    {"h", "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhN=", "malformed attribute 'h'"},
    {"relay", "198.51.100", "malformed attribute 'relay'"},
    {"relay", "", "malformed attribute 'relay'"},
};
#define PARSE_COUNT ((int)(sizeof parse_cases / sizeof parse_cases[0]))

START_TEST(test_parse)
{
    const struct parse_case *c = &parse_cases[_i];
    xmpp_stanza_t *verify = verify_stanza(c->name, c->value);
    struct component_request req;
    const char *problem = NULL;
    xsmtp_status status = component_request_parse(verify, &req, &problem);

    if (c->problem == NULL) {
        ck_assert_msg(status == XSMTP_OK, "%s=%s: %s", c->name, c->value, problem);
        ck_assert_str_eq(req.identity, "alice@a.test");
        ck_assert_str_eq(req.identity_domain, "a.test");
        ck_assert_uint_eq(req.time, V1_T);
    } else {
        ck_assert_int_eq(status, XSMTP_EMALFORMED);
        ck_assert_str_eq(problem, c->problem);
    }
    xmpp_stanza_release(verify);
}
END_TEST

START_TEST(test_parse_huge_message_id)
{
    char *big = malloc(XSMTP_HEADER_VALUE_MAX + 2);
    xmpp_stanza_t *verify;
    struct component_request req;
    const char *problem = NULL;

    memset(big, 'x', XSMTP_HEADER_VALUE_MAX + 1);
    big[XSMTP_HEADER_VALUE_MAX + 1] = '\0';
    verify = verify_stanza("message-id", big);
    ck_assert_int_eq(component_request_parse(verify, &req, &problem), XSMTP_EMALFORMED);
    ck_assert_str_eq(problem, "malformed attribute 'message-id'");
    xmpp_stanza_release(verify);
    big[XSMTP_HEADER_VALUE_MAX] = '\0';
    verify = verify_stanza("message-id", big);
    ck_assert_int_eq(component_request_parse(verify, &req, &problem), XSMTP_OK);
    xmpp_stanza_release(verify);
    free(big);
}
END_TEST

/* "pass", "fail.REASON" or "error.CONDITION", as in the counters line. */
static const char *
answer_name(struct component_answer answer)
{
    return component_answer_key(component_answer_index(answer));
}

struct decide_case {
    const char *what;
    const char *name, *value;   /* one attribute changed from vector 1 */
    long long now_offset;       /* now = V1_T + offset */
    bool relays;                /* component.relays = 198.51.100.0/24 */
    const char *expected;       /* the answer's counter name */
    const char *name2, *value2; /* optional second change */
};

static const struct decide_case decide_cases[] = {
    {"vector 1", NULL, NULL, 10, false, "pass", NULL, NULL},
    {"uppercase identity", "identity", "ALICE@a.TEST", 10, false, "pass", NULL, NULL},
    {"foreign domain", "identity", "alice@b.test", 10, false, "error.item-not-found", NULL, NULL},
    {"foreign domain beats unknown key", "identity", "alice@b.test", 10, false,
     "error.item-not-found", "k", "nokey"},
    {"served domain, key for another", "identity", "alice@a2.test", 10, false,
     "fail.identity-not-allowed", NULL, NULL},
    {"unknown key beats a bad MAC", "k", "nokey", 10, false, "fail.unknown-key", "h",
     "NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="},
    {"revoked beats not-allowed", "k", "s0", 10, false, "fail.revoked", "identity", "bob@a2.test"},
    {"unknown key", "k", "nokey", 10, false, "fail.unknown-key", NULL, NULL},
    {"revoked key", "k", "s0", 10, false, "fail.revoked", NULL, NULL},
    {"personal key, other identity", "identity", "bob@a.test", 10, false,
     "fail.identity-not-allowed", "k", "alice-2026"},
    {"personal key, its identity", "k", "alice-2026", 10, false, "fail.bad-hash", NULL, NULL},
    {"tampered message-id", "message-id", "other@a.test", 10, false, "fail.bad-hash", NULL, NULL},
    {"tampered from", "from", "bob@a.test", 10, false, "fail.bad-hash", NULL, NULL},
    {"tampered ip", "ip", "192.0.2.11", 10, false, "fail.bad-hash", NULL, NULL},
    {"tampered h", "h", "NGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=", 10, false, "fail.bad-hash",
     NULL, NULL},
    {"exactly max_age old", NULL, NULL, (long long)MAX_AGE, false, "pass", NULL, NULL},
    {"one second past max_age", NULL, NULL, (long long)MAX_AGE + 1, false, "fail.expired", NULL,
     NULL},
    {"exactly 300 s ahead", NULL, NULL, -300, false, "pass", NULL, NULL},
    {"301 s ahead", NULL, NULL, -301, false, "fail.future", NULL, NULL},
    {"forged and old reads bad-hash", "from", "x@a.test", (long long)MAX_AGE + 100, false,
     "fail.bad-hash", NULL, NULL},
    {"relay in list", "relay", "198.51.100.7", 10, true, "pass", NULL, NULL},
    {"relay not in list", "relay", "203.0.113.1", 10, true, "fail.relay-not-authorized", NULL,
     NULL},
    {"relay not given", NULL, NULL, 10, true, "pass", NULL, NULL},
    {"relay given, no list", "relay", "203.0.113.1", 10, false, "pass", NULL, NULL},
    {"expired beats relay", "relay", "203.0.113.1", (long long)MAX_AGE + 1, true, "fail.expired",
     NULL, NULL},
};
#define DECIDE_COUNT ((int)(sizeof decide_cases / sizeof decide_cases[0]))

START_TEST(test_decide)
{
    const struct decide_case *c = &decide_cases[_i];
    struct component_config cfg;
    char *domains[] = {"a.test", "a2.test"};
    struct xsmtp_cidr relay;
    xmpp_stanza_t *verify;
    struct component_request req;
    const char *problem = NULL;
    const char *outcome;

    memset(&cfg, 0, sizeof cfg);
    cfg.domains = domains;
    cfg.domain_count = 2;
    cfg.max_age = MAX_AGE;
    if (c->relays) {
        ck_assert_int_eq(xsmtp_cidr_parse("198.51.100.0/24", &relay), XSMTP_OK);
        ck_assert_int_eq(xsmtp_cidr_list_add(&cfg.relays, &relay), XSMTP_OK);
        cfg.relays_set = true;
    }
    verify = verify_stanza(c->name, c->value);
    if (c->name2 != NULL)
        xmpp_stanza_set_attribute(verify, c->name2, c->value2);
    ck_assert_int_eq(component_request_parse(verify, &req, &problem), XSMTP_OK);
    outcome = answer_name(
        component_decide(&cfg, keys, &req, (uint64_t)((long long)V1_T + c->now_offset)));
    ck_assert_msg(strcmp(outcome, c->expected) == 0, "%s: got %s, expected %s", c->what, outcome,
                  c->expected);
    xmpp_stanza_release(verify);
    xsmtp_cidr_list_free(&cfg.relays);
}
END_TEST

START_TEST(test_no_key_table)
{
    struct component_config cfg;
    char *domains[] = {"a.test"};
    xmpp_stanza_t *verify = verify_stanza(NULL, NULL);
    struct component_request req;
    const char *problem;

    memset(&cfg, 0, sizeof cfg);
    cfg.domains = domains;
    cfg.domain_count = 1;
    cfg.max_age = MAX_AGE;
    ck_assert_int_eq(component_request_parse(verify, &req, &problem), XSMTP_OK);
    ck_assert_str_eq(answer_name(component_decide(&cfg, NULL, &req, V1_T)), "fail.unknown-key");
    xmpp_stanza_release(verify);
}
END_TEST

static Suite *
verify_suite(void)
{
    Suite *suite = suite_create("component_verify");
    TCase *parse = tcase_create("parse");
    TCase *decide = tcase_create("decide");

    tcase_add_checked_fixture(parse, setup, teardown);
    tcase_add_loop_test(parse, test_parse, 0, PARSE_COUNT);
    tcase_add_test(parse, test_parse_huge_message_id);
    suite_add_tcase(suite, parse);
    tcase_add_checked_fixture(decide, setup, teardown);
    tcase_add_loop_test(decide, test_decide, 0, DECIDE_COUNT);
    tcase_add_test(decide, test_no_key_table);
    suite_add_tcase(suite, decide);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(verify_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
