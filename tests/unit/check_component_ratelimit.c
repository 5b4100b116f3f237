/*
 * check_component_ratelimit.c -- unit tests for
 * xmpp/component/component_ratelimit.c (token buckets).
 *
 * Each row is a script of take() calls at given times with the exact
 * answer expected; times are synthetic nanoseconds, so the results do not
 * depend on the machine's speed.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/component/component_ratelimit.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

struct take {
    const char *key;
    uint64_t at_ns;
    bool allowed;
};

struct script {
    const char *name;
    uint32_t rate, burst;
    size_t max_keys;
    struct take takes[16];
};

static const struct script scripts[] = {
    {"burst then refused",
     1,
     3,
     10,
     {{"b.test", 0, true},
      {"b.test", 1, true},
      {"b.test", 2, true},
      {"b.test", 3, false},
      {NULL, 0, false}}},
    {"one token back after 1/rate",
     2,
     1,
     10,
     {{"b.test", 0, true},
      {"b.test", 499 * MS, false},
      {"b.test", 500 * MS, true},
      {"b.test", 500 * MS, false},
      {NULL, 0, false}}},
    {"refill never exceeds burst",
     10,
     2,
     10,
     {{"b.test", 0, true},
      {"b.test", 100 * SEC, true},
      {"b.test", 100 * SEC, true},
      {"b.test", 100 * SEC, false},
      {NULL, 0, false}}},
    {"domains do not share a bucket",
     1,
     1,
     10,
     {{"b.test", 0, true},
      {"b.test", 1, false},
      {"c.test", 2, true},
      {"c.test", 3, false},
      {NULL, 0, false}}},
    {"rate 0 never limits",
     0,
     1,
     1,
     {{"b.test", 0, true},
      {"b.test", 0, true},
      {"c.test", 0, true},
      {"d.test", 0, true},
      {NULL, 0, false}}},
    {"full table: refused until a bucket has refilled",
     1,
     1,
     2,
     {{"b.test", 0, true},
      {"c.test", 0, true},
      {"d.test", 0, false},
      {"d.test", 1 * SEC, true},
      {"b.test", 1 * SEC, true},
      {NULL, 0, false}}},
    {"clock going backwards adds nothing",
     1,
     1,
     10,
     {{"b.test", 5 * SEC, true},
      {"b.test", 1 * SEC, false},
      {"b.test", 5 * SEC, false},
      {"b.test", 6 * SEC, true},
      {NULL, 0, false}}},
    {"fractional refill accumulates",
     3,
     1,
     10,
     {{"b.test", 0, true},
      {"b.test", 200 * MS, false},
      {"b.test", 334 * MS, true},
      {NULL, 0, false}}},
};
#define SCRIPT_COUNT ((int)(sizeof scripts / sizeof scripts[0]))

START_TEST(test_script)
{
    const struct script *s = &scripts[_i];
    struct component_ratelimit *limit = NULL;
    size_t i;

    ck_assert_int_eq(component_ratelimit_new(s->rate, s->burst, s->max_keys, &limit), XSMTP_OK);
    for (i = 0; s->takes[i].key != NULL; i++)
        ck_assert_msg(component_ratelimit_take(limit, s->takes[i].key, s->takes[i].at_ns) ==
                          s->takes[i].allowed,
                      "%s: take %zu (%s at %llu ns) should be %s", s->name, i, s->takes[i].key,
                      (unsigned long long)s->takes[i].at_ns,
                      s->takes[i].allowed ? "allowed" : "refused");
    component_ratelimit_free(limit);
}
END_TEST

START_TEST(test_bad_arguments)
{
    struct component_ratelimit *limit = (struct component_ratelimit *)1;

    ck_assert_int_eq(component_ratelimit_new(1, 0, 10, &limit), XSMTP_EMALFORMED);
    ck_assert_ptr_null(limit);
    ck_assert_int_eq(component_ratelimit_new(1, 1, 0, &limit), XSMTP_EMALFORMED);
    component_ratelimit_free(NULL);
}
END_TEST

START_TEST(test_long_key_refused)
{
    struct component_ratelimit *limit = NULL;
    char key[COMPONENT_RATELIMIT_KEY_MAX + 2];

    memset(key, 'a', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    ck_assert_int_eq(component_ratelimit_new(1, 5, 10, &limit), XSMTP_OK);
    ck_assert(!component_ratelimit_take(limit, key, 0));
    key[COMPONENT_RATELIMIT_KEY_MAX] = '\0';
    ck_assert(component_ratelimit_take(limit, key, 0));
    ck_assert_uint_eq(component_ratelimit_size(limit), 1);
    component_ratelimit_free(limit);
}
END_TEST

START_TEST(test_many_domains_bounded)
{
    struct component_ratelimit *limit = NULL;
    char key[32];
    unsigned i, allowed = 0;

    ck_assert_int_eq(component_ratelimit_new(1, 1, 1000, &limit), XSMTP_OK);
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "d%u.test", i);
        allowed += component_ratelimit_take(limit, key, 0);
    }
    ck_assert_uint_eq(allowed, 1000);
    ck_assert_uint_eq(component_ratelimit_size(limit), 1000);
    /* One second later every bucket is full again: all are forgotten on demand. */
    ck_assert(component_ratelimit_take(limit, "new.test", SEC));
    ck_assert_uint_eq(component_ratelimit_size(limit), 1);
    component_ratelimit_free(limit);
}
END_TEST

/*
 * The API takes any uint32_t rate.  At 2^32-1 tokens/s, rate * elapsed_ns
 * wraps a uint64_t after about 4.3 s: 2^32+2 ns later the bucket must be
 * full again (it refills in ~23 us), not hold the ~4 tokens the wrapped
 * product gives.
 */
START_TEST(test_huge_rate_refills_fully)
{
    struct component_ratelimit *limit = NULL;
    const uint64_t later = (1ULL << 32) + 2;
    unsigned i;

    ck_assert_int_eq(component_ratelimit_new(UINT32_MAX, 100, 10, &limit), XSMTP_OK);
    for (i = 0; i < 100; i++)
        ck_assert(component_ratelimit_take(limit, "b.test", 0));
    ck_assert(!component_ratelimit_take(limit, "b.test", 0));
    for (i = 0; i < 100; i++)
        ck_assert_msg(component_ratelimit_take(limit, "b.test", later), "take %u after refill", i);
    ck_assert(!component_ratelimit_take(limit, "b.test", later));
    component_ratelimit_free(limit);
}
END_TEST

static Suite *
ratelimit_suite(void)
{
    Suite *suite = suite_create("ratelimit");
    TCase *tc = tcase_create("buckets");

    tcase_add_loop_test(tc, test_script, 0, SCRIPT_COUNT);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_long_key_refused);
    tcase_add_test(tc, test_many_domains_bounded);
    tcase_add_test(tc, test_huge_rate_refills_fully);
    suite_add_tcase(suite, tc);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(ratelimit_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
