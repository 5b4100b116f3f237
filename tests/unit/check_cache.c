/*
 * check_cache.c -- unit tests for the pure half of the Redis cache
 * (milter/cache/cache_key.c): keys, values, TTL rules.
 *
 * Verdict keys are compared with tests/data/cache/keys, computed by
 * `openssl dgst -sha256` over the canonical inputs of tests/data/vectors
 * (tests/data/cache/make-keys); value formats, strict parse refusals and
 * TTL rules are tables with exact expected values.  cache_open's checks are
 * tests/unit/check_cache_open.c; the Redis side (real servers, Sentinel) is
 * tests/integration/test_cache.sh.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/cache/cache.h"
#include "tests/unit/vecfile.h"

/* --- verdict keys against openssl ---------------------------------------- */

#define KEY_CASES_MAX 32

struct key_case {
    char vector[128];
    char relay[CACHE_RELAY_MAX + 1];
    char prefix[CACHE_PREFIX_MAX + 1];
    char key[CACHE_KEY_SIZE];
};

static struct key_case key_cases[KEY_CASES_MAX];
static int key_case_count;

/* Reads "VECTOR relay=R prefix=P key=K" lines; aborts on anything else. */
static void
load_key_cases(void)
{
    char line[1024];
    FILE *file = fopen(TEST_DATA_DIR "/cache/keys", "r");

    if (file == NULL) {
        perror(TEST_DATA_DIR "/cache/keys");
        exit(99);
    }
    while (fgets(line, sizeof line, file) != NULL) {
        struct key_case *c;
        char *relay, *prefix, *key, *end;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (key_case_count == KEY_CASES_MAX)
            break;
        c = &key_cases[key_case_count];
        relay = strstr(line, " relay=");
        prefix = strstr(line, " prefix=");
        key = strstr(line, " key=");
        end = strchr(line, '\n');
        if (relay == NULL || prefix == NULL || key == NULL || end == NULL ||
            !(relay < prefix && prefix < key)) {
            fprintf(stderr, "keys: bad line: %s", line);
            exit(99);
        }
        *relay = *prefix = *key = *end = '\0';
        snprintf(c->vector, sizeof c->vector, "%.127s", line);
        snprintf(c->relay, sizeof c->relay, "%s", relay + 7);
        snprintf(c->prefix, sizeof c->prefix, "%s", prefix + 8);
        snprintf(c->key, sizeof c->key, "%s", key + 5);
        key_case_count++;
    }
    fclose(file);
    if (key_case_count < 6) {
        fprintf(stderr, "keys: only %d cases\n", key_case_count);
        exit(99);
    }
}

START_TEST(test_key_vector)
{
    const struct key_case *c = &key_cases[_i];
    struct vecfile vec;
    struct xsmtp_token_input input;
    char key[CACHE_KEY_SIZE];
    size_t canonical_len;
    const char *canonical;

    vecfile_load(c->vector, &vec);
    input.identity = vecfile_get(&vec, "identity", NULL);
    input.msgid = vecfile_get(&vec, "msgid", NULL);
    input.from = vecfile_get(&vec, "from-address", NULL);
    input.t = vecfile_get(&vec, "t", NULL);
    input.ip = vecfile_get(&vec, "ip", NULL);
    input.bh = vecfile_get(&vec, "bh", NULL);
    input.k = vecfile_get(&vec, "k", NULL);
    ck_assert_int_eq(cache_key_verdict(c->prefix, &input, c->relay, key, sizeof key), XSMTP_OK);
    ck_assert_str_eq(key, c->key);

    /* The same from the canonical bytes directly. */
    canonical = vecfile_get(&vec, "canonical", &canonical_len);
    ck_assert_int_eq(
        cache_key_verdict_canonical(c->prefix, canonical, canonical_len, c->relay, key, sizeof key),
        XSMTP_OK);
    ck_assert_str_eq(key, c->key);

    /* NULL relay is the empty relay. */
    if (c->relay[0] == '\0') {
        ck_assert_int_eq(cache_key_verdict(c->prefix, &input, NULL, key, sizeof key), XSMTP_OK);
        ck_assert_str_eq(key, c->key);
    }
    vecfile_free(&vec);
}
END_TEST

/* --- key refusals --------------------------------------------------------- */

static const char canonical_sample[] = "xsmtp-1\nidentity:a@b.test\n";

struct key_error_case {
    const char *prefix;
    const char *relay;
    size_t outsz;
    xsmtp_status status;
};

static const struct key_error_case key_error_cases[] = {
    {"xsmtp:1:", "192.0.2.1", CACHE_KEY_SIZE, XSMTP_OK},
    {"xsmtp:1:", "192.0.2.1\n", CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"xsmtp:1:", "192.0.2.1\r", CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"xsmtp:1:", "192.0.2.1 x", CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"xsmtp:1:", "\x7f", CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"xsmtp:1:", "0123456789012345678901234567890123456789012345678901234567890123", CACHE_KEY_SIZE,
     XSMTP_OK}, /* 64: the longest */
    {"xsmtp:1:", "01234567890123456789012345678901234567890123456789012345678901234",
     CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"xsmtp 1:", "", CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"xsmtp:1:\n", "", CACHE_KEY_SIZE, XSMTP_EMALFORMED},
    {"0123456789012345678901234567890123456789012345678901234567890123", "", CACHE_KEY_SIZE,
     XSMTP_OK},
    {"01234567890123456789012345678901234567890123456789012345678901234", "", CACHE_KEY_SIZE,
     XSMTP_EMALFORMED},
    {"xsmtp:1:", "", 8 + 2 + 64 + 1, XSMTP_OK}, /* exactly enough */
    {"xsmtp:1:", "", 8 + 2 + 64, XSMTP_ETOOBIG},
    {"xsmtp:1:", "", 0, XSMTP_ETOOBIG},
};
#define KEY_ERROR_COUNT (int)(sizeof key_error_cases / sizeof key_error_cases[0])

START_TEST(test_key_errors)
{
    const struct key_error_case *c = &key_error_cases[_i];
    char key[CACHE_KEY_SIZE];

    memset(key, 'X', sizeof key);
    ck_assert_int_eq(cache_key_verdict_canonical(c->prefix, canonical_sample,
                                                 sizeof canonical_sample - 1, c->relay, key,
                                                 c->outsz),
                     c->status);
    if (c->status == XSMTP_OK)
        ck_assert_uint_eq(strlen(key), strlen(c->prefix) + 2 + 64);
    else if (c->outsz > 0)
        ck_assert_str_eq(key, "");
}
END_TEST

START_TEST(test_key_refuses_line_break_in_input)
{
    struct xsmtp_token_input input = {"alice@a.test",
                                      "x\ny",
                                      "alice@a.test",
                                      "1795000000",
                                      "192.0.2.10",
                                      "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=",
                                      "s1"};
    char key[CACHE_KEY_SIZE];

    ck_assert_int_eq(cache_key_verdict("xsmtp:1:", &input, "", key, sizeof key), XSMTP_EMALFORMED);
    ck_assert_int_eq(cache_key_verdict("xsmtp:1:", NULL, "", key, sizeof key), XSMTP_EMALFORMED);
    ck_assert_int_eq(cache_key_verdict_canonical("xsmtp:1:", "", 0, "", key, sizeof key),
                     XSMTP_EMALFORMED);
}
END_TEST

/* --- discovery keys --------------------------------------------------------- */

struct component_key_case {
    const char *prefix;
    const char *domain;
    xsmtp_status status;
    const char *key;
};

static const struct component_key_case component_key_cases[] = {
    {"xsmtp:1:", "a.test", XSMTP_OK, "xsmtp:1:c:a.test"},
    {"xsmtp:1:", "A.Test", XSMTP_OK, "xsmtp:1:c:a.test"},
    {"p:", "MAIL-1.Example.ORG", XSMTP_OK, "p:c:mail-1.example.org"},
    {"", "b.test", XSMTP_OK, "c:b.test"},
    {"xsmtp:1:", "", XSMTP_EMALFORMED, ""},
    {"xsmtp:1:", "a b.test", XSMTP_EMALFORMED, ""},
    {"xsmtp:1:", "alice@a.test", XSMTP_EMALFORMED, ""},
    {"xsmtp:1:", "a.test\n", XSMTP_EMALFORMED, ""},
    {"xsmtp:1:", "a_b.test", XSMTP_EMALFORMED, ""},
    {"xsmtp:1:", "\xc3\xa9.test", XSMTP_EMALFORMED, ""},
    {"x y", "a.test", XSMTP_EMALFORMED, ""},
};
#define COMPONENT_KEY_COUNT (int)(sizeof component_key_cases / sizeof component_key_cases[0])

START_TEST(test_component_key)
{
    const struct component_key_case *c = &component_key_cases[_i];
    char key[CACHE_KEY_SIZE];

    ck_assert_int_eq(cache_key_component(c->prefix, c->domain, key, sizeof key), c->status);
    ck_assert_str_eq(key, c->key);
}
END_TEST

START_TEST(test_component_key_lengths)
{
    char domain[CACHE_JID_MAX + 2];
    char key[CACHE_KEY_SIZE];

    memset(domain, 'a', sizeof domain);
    domain[CACHE_JID_MAX] = '\0'; /* 253: the longest domain */
    ck_assert_int_eq(cache_key_component(CACHE_DEFAULT_PREFIX, domain, key, sizeof key), XSMTP_OK);
    ck_assert_uint_eq(strlen(key), 8 + 2 + 253);
    ck_assert_int_eq(cache_key_component(CACHE_DEFAULT_PREFIX, domain, key, 8 + 2 + 253),
                     XSMTP_ETOOBIG);
    domain[CACHE_JID_MAX] = 'a';
    domain[CACHE_JID_MAX + 1] = '\0'; /* 254 */
    ck_assert_int_eq(cache_key_component(CACHE_DEFAULT_PREFIX, domain, key, sizeof key),
                     XSMTP_EMALFORMED);
}
END_TEST

/* --- verdict values --------------------------------------------------------- */

struct value_case {
    enum xsmtp_verdict verdict;
    const char *reason;
    const char *component;
    const char *text;
};

static const struct value_case value_cases[] = {
    {XSMTP_VERDICT_PASS, "", "xsmtp.a.test", "pass\t\txsmtp.a.test"},
    {XSMTP_VERDICT_FAIL, "bad-hash", "xsmtp.a.test", "fail\tbad-hash\txsmtp.a.test"},
    {XSMTP_VERDICT_FAIL, "relay-not-authorized", "X_1.A-b.test",
     "fail\trelay-not-authorized\tX_1.A-b.test"},
    {XSMTP_VERDICT_PERMERROR, "no-component", "", "permerror\tno-component\t"},
    {XSMTP_VERDICT_PERMERROR, "item-not-found", "xsmtp.c.test",
     "permerror\titem-not-found\txsmtp.c.test"},
    {XSMTP_VERDICT_FAIL, "abcdefghijklmnopqrstuvwxyz-01234", "c",
     "fail\tabcdefghijklmnopqrstuvwxyz-01234\tc"}, /* 32: the longest reason */
};
#define VALUE_COUNT (int)(sizeof value_cases / sizeof value_cases[0])

START_TEST(test_value_round_trip)
{
    const struct value_case *c = &value_cases[_i];
    struct cache_verdict_entry entry, back;
    char text[CACHE_VALUE_SIZE];

    memset(&entry, 0, sizeof entry);
    entry.verdict = c->verdict;
    snprintf(entry.reason, sizeof entry.reason, "%s", c->reason);
    snprintf(entry.component, sizeof entry.component, "%s", c->component);
    ck_assert_int_eq(cache_verdict_format(&entry, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, c->text);
    ck_assert_int_eq(cache_verdict_parse(text, strlen(text), &back), XSMTP_OK);
    ck_assert_int_eq(back.verdict, c->verdict);
    ck_assert_str_eq(back.reason, c->reason);
    ck_assert_str_eq(back.component, c->component);
}
END_TEST

static const char long_component[] =
    "a123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "01234567890123456789012345678901234567890123"; /* 254 */

/* Each must be refused: parse is strict. */
static const char *const bad_values[] = {
    "",
    "pass",
    "pass\t",
    "pass\t\t",                         /* pass needs a component */
    "pass\tok\txsmtp.a.test",           /* pass has no reason */
    "fail\t\txsmtp.a.test",             /* fail needs a reason */
    "fail\tbad-hash\t",                 /* ... and a component */
    "temperror\ttimeout\txsmtp.a.test", /* never stored, never read */
    "none\t\txsmtp.a.test",
    "PASS\t\txsmtp.a.test",
    "Pass\t\txsmtp.a.test",
    " pass\t\txsmtp.a.test",
    "pass \t\txsmtp.a.test",
    "pass\t\txsmtp.a.test\n",
    "pass\t\txsmtp.a.test\r\n",
    "pass\t\txsmtp.a.test\t",
    "pass\t\txsmtp.a.test\tx",
    "pass\t\txsmtp a.test",
    "pass\t\talice@a.test",
    "pass\t\txsmtp.a.test/res",
    "fail\tBad-Hash\txsmtp.a.test",
    "fail\tbad hash\txsmtp.a.test",
    "fail\tbad_hash\txsmtp.a.test",
    "fail\tabcdefghijklmnopqrstuvwxyz-012345\tc", /* 33-octet reason */
    "permerror\tno-component",
    "permerror\t\t",
    "pass;;xsmtp.a.test",
    "pass\t\t\xc3\xa9.test",
};
#define BAD_VALUE_COUNT (int)(sizeof bad_values / sizeof bad_values[0])

START_TEST(test_value_rejects)
{
    struct cache_verdict_entry entry;

    memset(&entry, 'X', sizeof entry);
    ck_assert_msg(cache_verdict_parse(bad_values[_i], strlen(bad_values[_i]), &entry) ==
                      XSMTP_EMALFORMED,
                  "accepted \"%s\"", bad_values[_i]);
    /* Nothing of a refused value is left behind. */
    ck_assert_str_eq(entry.reason, "");
    ck_assert_str_eq(entry.component, "");
}
END_TEST

START_TEST(test_value_rejects_lengths)
{
    struct cache_verdict_entry entry;
    char text[CACHE_VALUE_SIZE + 16];
    static const char with_nul[] = "pass\t\txsmtp\0.a.test";

    snprintf(text, sizeof text, "pass\t\t%s", long_component);
    ck_assert_int_eq(cache_verdict_parse(text, strlen(text), &entry), XSMTP_EMALFORMED);
    /* 253 is still fine. */
    snprintf(text, sizeof text, "pass\t\t%.253s", long_component);
    ck_assert_int_eq(cache_verdict_parse(text, strlen(text), &entry), XSMTP_OK);
    ck_assert_uint_eq(strlen(entry.component), 253);
    /* A NUL inside the value, found by length, not by strlen. */
    ck_assert_int_eq(cache_verdict_parse(with_nul, sizeof with_nul - 1, &entry), XSMTP_EMALFORMED);
    /* Shorter length than the text: only that prefix is the value. */
    ck_assert_int_eq(cache_verdict_parse("pass\t\tc.test", 7, &entry), XSMTP_OK);
    ck_assert_str_eq(entry.component, "c");
    ck_assert_int_eq(cache_verdict_parse(NULL, 0, &entry), XSMTP_EMALFORMED);
}
END_TEST

START_TEST(test_value_format_refuses)
{
    struct cache_verdict_entry entry;
    char text[CACHE_VALUE_SIZE];

    memset(&entry, 0, sizeof entry);
    entry.verdict = XSMTP_VERDICT_TEMPERROR;
    snprintf(entry.reason, sizeof entry.reason, "timeout");
    snprintf(entry.component, sizeof entry.component, "xsmtp.a.test");
    ck_assert_int_eq(cache_verdict_format(&entry, text, sizeof text), XSMTP_EMALFORMED);
    ck_assert_str_eq(text, "");
    entry.verdict = XSMTP_VERDICT_PASS; /* pass with a reason */
    ck_assert_int_eq(cache_verdict_format(&entry, text, sizeof text), XSMTP_EMALFORMED);
    entry.verdict = XSMTP_VERDICT_FAIL;
    snprintf(entry.component, sizeof entry.component, "xsmtp.a.test\tx");
    ck_assert_int_eq(cache_verdict_format(&entry, text, sizeof text), XSMTP_EMALFORMED);
    snprintf(entry.component, sizeof entry.component, "xsmtp.a.test");
    ck_assert_int_eq(cache_verdict_format(&entry, text, 10), XSMTP_ETOOBIG);
    ck_assert_str_eq(text, "");
    ck_assert_int_eq(cache_verdict_format(&entry, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, "fail\ttimeout\txsmtp.a.test");
}
END_TEST

/* --- discovery values --------------------------------------------------------- */

struct component_value_case {
    const char *text;
    xsmtp_status status;
    bool found;
    const char *jid;
};

static const struct component_value_case component_value_cases[] = {
    {"found\txsmtp.a.test", XSMTP_OK, true, "xsmtp.a.test"},
    {"none", XSMTP_OK, false, ""},
    {"found\t", XSMTP_EMALFORMED, false, ""},
    {"found", XSMTP_EMALFORMED, false, ""},
    {"found xsmtp.a.test", XSMTP_EMALFORMED, false, ""},
    {"found\txsmtp.a.test\n", XSMTP_EMALFORMED, false, ""},
    {"found\txsmtp.a.test\tx", XSMTP_EMALFORMED, false, ""},
    {"none\t", XSMTP_EMALFORMED, false, ""},
    {"None", XSMTP_EMALFORMED, false, ""},
    {"nonexsmtp", XSMTP_EMALFORMED, false, ""},
    {"", XSMTP_EMALFORMED, false, ""},
};
#define COMPONENT_VALUE_COUNT (int)(sizeof component_value_cases / sizeof component_value_cases[0])

START_TEST(test_component_value)
{
    const struct component_value_case *c = &component_value_cases[_i];
    struct cache_component_entry entry;
    char text[CACHE_VALUE_SIZE];

    ck_assert_int_eq(cache_component_parse(c->text, strlen(c->text), &entry), c->status);
    ck_assert_int_eq(entry.found, c->found);
    ck_assert_str_eq(entry.jid, c->jid);
    if (c->status == XSMTP_OK) {
        ck_assert_int_eq(cache_component_format(&entry, text, sizeof text), XSMTP_OK);
        ck_assert_str_eq(text, c->text);
    }
}
END_TEST

START_TEST(test_component_format_refuses)
{
    struct cache_component_entry entry;
    char text[CACHE_VALUE_SIZE];

    memset(&entry, 0, sizeof entry);
    entry.found = true; /* found, no JID */
    ck_assert_int_eq(cache_component_format(&entry, text, sizeof text), XSMTP_EMALFORMED);
    entry.found = false; /* none, with a JID */
    snprintf(entry.jid, sizeof entry.jid, "xsmtp.a.test");
    ck_assert_int_eq(cache_component_format(&entry, text, sizeof text), XSMTP_EMALFORMED);
    entry.found = true;
    snprintf(entry.jid, sizeof entry.jid, "x@a.test");
    ck_assert_int_eq(cache_component_format(&entry, text, sizeof text), XSMTP_EMALFORMED);
}
END_TEST

/* --- TTL rules --------------------------------------------------------------- */

#define NOW 1795000000LL
#define WEEK 604800LL

struct ttl_case {
    enum xsmtp_verdict verdict;
    int64_t t, max_age, now;
    int64_t ttl;
};

static const struct ttl_case ttl_cases[] = {
    {XSMTP_VERDICT_PASS, NOW, WEEK, NOW, 86400},            /* capped at 24 h */
    {XSMTP_VERDICT_PASS, NOW - WEEK + 100, WEEK, NOW, 100}, /* until t + max_age */
    {XSMTP_VERDICT_PASS, NOW - WEEK + 86400, WEEK, NOW, 86400},
    {XSMTP_VERDICT_PASS, NOW - WEEK + 86401, WEEK, NOW, 86400},
    {XSMTP_VERDICT_PASS, NOW - WEEK + 86399, WEEK, NOW, 86399},
    {XSMTP_VERDICT_PASS, NOW - WEEK + 1, WEEK, NOW, 1},
    {XSMTP_VERDICT_PASS, NOW - WEEK, WEEK, NOW, 0},     /* expires now: not stored */
    {XSMTP_VERDICT_PASS, NOW - WEEK - 1, WEEK, NOW, 0}, /* already past */
    {XSMTP_VERDICT_PASS, NOW + 300, 60, NOW, 360},      /* t slightly ahead */
    {XSMTP_VERDICT_PASS, NOW, 0, NOW, 0},
    {XSMTP_VERDICT_PASS, NOW, -1, NOW, 0},
    {XSMTP_VERDICT_PASS, NOW, INT64_MAX, NOW, 86400}, /* no overflow */
    {XSMTP_VERDICT_PASS, 0, WEEK, NOW, 0},
    {XSMTP_VERDICT_FAIL, NOW, WEEK, NOW, 3600},
    {XSMTP_VERDICT_FAIL, 0, 0, NOW, 3600}, /* fail: t does not matter */
    {XSMTP_VERDICT_PERMERROR, NOW - 2 * WEEK, WEEK, NOW, 3600},
    {XSMTP_VERDICT_TEMPERROR, NOW, WEEK, NOW, 0}, /* never stored */
    {(enum xsmtp_verdict)42, NOW, WEEK, NOW, 0},
};
#define TTL_COUNT (int)(sizeof ttl_cases / sizeof ttl_cases[0])

START_TEST(test_ttl)
{
    const struct ttl_case *c = &ttl_cases[_i];

    ck_assert_int_eq(cache_ttl_for(c->verdict, c->t, c->max_age, c->now), c->ttl);
}
END_TEST

START_TEST(test_component_ttl)
{
    ck_assert_int_eq(cache_component_ttl(true), 86400);
    ck_assert_int_eq(cache_component_ttl(false), 3600);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(cache_result_str(CACHE_OK), "ok");
    ck_assert_str_eq(cache_result_str(CACHE_HIT), "hit");
    ck_assert_str_eq(cache_result_str(CACHE_MISS), "miss");
    ck_assert_str_eq(cache_result_str(CACHE_LOCKED), "locked");
    ck_assert_str_eq(cache_result_str(CACHE_BUSY), "busy");
    ck_assert_str_eq(cache_result_str(CACHE_UNAVAILABLE), "unavailable");
    ck_assert_str_eq(cache_result_str(CACHE_EINVAL), "invalid");
    ck_assert_str_eq(cache_result_str((enum cache_result)99), "unknown");
    ck_assert_str_eq(xsmtp_verdict_name(XSMTP_VERDICT_PERMERROR), "permerror");
    ck_assert_str_eq(xsmtp_verdict_name((enum xsmtp_verdict)99), "?");
}
END_TEST

static Suite *
cache_suite(void)
{
    Suite *suite = suite_create("cache");
    TCase *keys = tcase_create("keys");
    TCase *values = tcase_create("values");
    TCase *ttl = tcase_create("ttl");

    tcase_add_loop_test(keys, test_key_vector, 0, key_case_count);
    tcase_add_loop_test(keys, test_key_errors, 0, KEY_ERROR_COUNT);
    tcase_add_test(keys, test_key_refuses_line_break_in_input);
    tcase_add_loop_test(keys, test_component_key, 0, COMPONENT_KEY_COUNT);
    tcase_add_test(keys, test_component_key_lengths);
    suite_add_tcase(suite, keys);

    tcase_add_loop_test(values, test_value_round_trip, 0, VALUE_COUNT);
    tcase_add_loop_test(values, test_value_rejects, 0, BAD_VALUE_COUNT);
    tcase_add_test(values, test_value_rejects_lengths);
    tcase_add_test(values, test_value_format_refuses);
    tcase_add_loop_test(values, test_component_value, 0, COMPONENT_VALUE_COUNT);
    tcase_add_test(values, test_component_format_refuses);
    tcase_add_test(values, test_names);
    suite_add_tcase(suite, values);

    tcase_add_loop_test(ttl, test_ttl, 0, TTL_COUNT);
    tcase_add_test(ttl, test_component_ttl);
    suite_add_tcase(suite, ttl);

    return suite;
}

int
main(void)
{
    load_key_cases();
    SRunner *runner = srunner_create(cache_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
