/*
 * check_cache_open.c -- unit tests for what cache_open checks (options,
 * password file permissions) and for calls that need no server: argument
 * refusals, and a server that refuses connections (backoff after the
 * first attempt).  Table-driven; no Redis is contacted.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter/cache/cache.h"

static char private_password[256], open_password[256];

static void
write_password_files(void)
{
    FILE *file;

    snprintf(private_password, sizeof private_password, "/tmp/check_cache.%ld.private",
             (long)getpid());
    snprintf(open_password, sizeof open_password, "/tmp/check_cache.%ld.open", (long)getpid());
    file = fopen(private_password, "w");
    ck_assert_ptr_nonnull(file);
    fputs("s3cret\n", file);
    fclose(file);
    file = fopen(open_password, "w");
    ck_assert_ptr_nonnull(file);
    fputs("s3cret\n", file);
    fclose(file);
    ck_assert_int_eq(chmod(private_password, 0600), 0);
    ck_assert_int_eq(chmod(open_password, 0644), 0);
}

static void
remove_password_files(void)
{
    unlink(private_password);
    unlink(open_password);
}

static const char *const good_sentinels[] = {"127.0.0.1:26379", "[::1]:26380",
                                             "sentinel.example:5000"};
static const char *const bad_sentinel_1[] = {"127.0.0.1"};
static const char *const bad_sentinel_2[] = {"::1:26379"};
static const char *const bad_sentinel_3[] = {"127.0.0.1:0"};
static const char *const bad_sentinel_4[] = {"127.0.0.1:65536"};
static const char *const bad_sentinel_5[] = {"[127.0.0.1]:5000"};

enum password_choice { PW_NONE, PW_PRIVATE, PW_OPEN, PW_MISSING };

struct open_case {
    const char *host;
    unsigned port;
    const char *socket;
    const char *const *sentinels;
    size_t sentinel_count;
    const char *master_name;
    const char *prefix;
    unsigned timeout_ms;
    unsigned pool_size;
    enum password_choice password;
    xsmtp_status status;
};

static const struct open_case open_cases[] = {
    {"127.0.0.1", 6379, NULL, NULL, 0, NULL, NULL, 0, 0, PW_NONE, XSMTP_OK},
    {NULL, 0, "/run/redis/redis.sock", NULL, 0, NULL, "p:", 50, 1, PW_PRIVATE, XSMTP_OK},
    {NULL, 0, NULL, good_sentinels, 3, "mymaster", NULL, 0, 0, PW_NONE, XSMTP_OK},
    {"127.0.0.1", 0, NULL, NULL, 0, NULL, NULL, 0, 0, PW_OPEN, XSMTP_EPERM},
    {"127.0.0.1", 0, NULL, NULL, 0, NULL, NULL, 0, 0, PW_MISSING, XSMTP_EIO},
    {"127.0.0.1", 0, "/tmp/r.sock", NULL, 0, NULL, NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, NULL, 0, NULL, NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, "relative.sock", NULL, 0, NULL, NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {"127.0.0.1", 70000, NULL, NULL, 0, NULL, NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {"bad host", 0, NULL, NULL, 0, NULL, NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {"127.0.0.1", 0, NULL, NULL, 0, "mymaster", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {"127.0.0.1", 0, NULL, good_sentinels, 1, "mymaster", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, good_sentinels, 1, NULL, NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, bad_sentinel_1, 1, "m", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, bad_sentinel_2, 1, "m", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, bad_sentinel_3, 1, "m", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, bad_sentinel_4, 1, "m", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {NULL, 0, NULL, bad_sentinel_5, 1, "m", NULL, 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {"127.0.0.1", 0, NULL, NULL, 0, NULL, "has space", 0, 0, PW_NONE, XSMTP_EMALFORMED},
    {"127.0.0.1", 0, NULL, NULL, 0, NULL, NULL, 60001, 0, PW_NONE, XSMTP_EMALFORMED},
    {"127.0.0.1", 0, NULL, NULL, 0, NULL, NULL, 60000, 64, PW_NONE, XSMTP_OK},
    {"127.0.0.1", 0, NULL, NULL, 0, NULL, NULL, 0, 65, PW_NONE, XSMTP_EMALFORMED},
};
#define OPEN_COUNT (int)(sizeof open_cases / sizeof open_cases[0])

START_TEST(test_open_options)
{
    const struct open_case *c = &open_cases[_i];
    struct cache_options options;
    struct cache *cache = (struct cache *)&options; /* must be reset to NULL */
    char err[256];
    xsmtp_status status;

    write_password_files();
    memset(&options, 0, sizeof options);
    options.host = c->host;
    options.port = c->port;
    options.socket = c->socket;
    options.sentinels = c->sentinels;
    options.sentinel_count = c->sentinel_count;
    options.master_name = c->master_name;
    options.prefix = c->prefix;
    options.timeout_ms = c->timeout_ms;
    options.pool_size = c->pool_size;
    options.password_file = c->password == PW_PRIVATE   ? private_password
                            : c->password == PW_OPEN    ? open_password
                            : c->password == PW_MISSING ? "/nonexistent/redis.pass"
                                                        : NULL;
    status = cache_open(&options, &cache, err, sizeof err);
    remove_password_files();
    ck_assert_msg(status == c->status, "case %d: %s (%s)", _i, xsmtp_status_str(status), err);
    if (status == XSMTP_OK) {
        ck_assert_ptr_nonnull(cache);
        ck_assert_str_eq(cache_prefix(cache), c->prefix != NULL ? c->prefix : "xsmtp:1:");
        cache_close(cache);
    } else {
        ck_assert_ptr_null(cache);
        ck_assert_msg(strncmp(err, "redis: ", 7) == 0, "err \"%s\"", err);
        ck_assert_ptr_null(strstr(err, "s3cret"));
    }
}
END_TEST

/* Nothing listens on port 1: calls answer at once, arguments are checked. */
START_TEST(test_calls_without_server)
{
    struct cache_options options;
    struct cache *cache = NULL;
    struct cache_verdict_entry entry, got;
    struct cache_stats stats;
    struct cache_lock lock;
    char err[256];

    memset(&options, 0, sizeof options);
    options.host = "127.0.0.1";
    options.port = 1;
    ck_assert_int_eq(cache_open(&options, &cache, err, sizeof err), XSMTP_OK);
    memset(&entry, 0, sizeof entry);
    entry.verdict = XSMTP_VERDICT_PASS;
    snprintf(entry.component, sizeof entry.component, "xsmtp.a.test");

    ck_assert_int_eq(cache_get_verdict(cache, "xsmtp:1:v:00", NULL, &got), CACHE_UNAVAILABLE);
    ck_assert_int_eq(cache_put_verdict(cache, "k", &entry, 60, NULL), CACHE_UNAVAILABLE);
    cache_get_stats(cache, &stats);
    ck_assert_uint_eq(stats.connect_attempts, 1); /* the second call was in backoff */
    ck_assert_uint_eq(stats.backoff_skips, 1);
    ck_assert_uint_eq(stats.errors, 2);
    ck_assert(stats.down);

    /* Argument checks come before Redis. */
    ck_assert_int_eq(cache_get_verdict(cache, "", NULL, &got), CACHE_EINVAL);
    ck_assert_int_eq(cache_get_verdict(cache, NULL, NULL, &got), CACHE_EINVAL);
    ck_assert_int_eq(cache_put_verdict(cache, "k", &entry, -1, NULL), CACHE_EINVAL);
    ck_assert_int_eq(cache_put_verdict(cache, "k", &entry, 86401, NULL), CACHE_EINVAL);
    ck_assert_int_eq(cache_put_verdict(cache, "k", &entry, 0, NULL), CACHE_OK);
    entry.verdict = XSMTP_VERDICT_TEMPERROR;
    ck_assert_int_eq(cache_put_verdict(cache, "k", &entry, 60, NULL), CACHE_EINVAL);
    ck_assert_int_eq(cache_lock_acquire(cache, "k", 0, NULL, &lock), CACHE_EINVAL);
    ck_assert_int_eq(cache_lock_acquire(cache, "k", 60001, NULL, &lock), CACHE_EINVAL);
    memset(&lock, 0, sizeof lock);
    ck_assert_int_eq(cache_lock_release(cache, &lock, NULL), CACHE_EINVAL);
    cache_close(cache);
}
END_TEST

static Suite *
cache_open_suite(void)
{
    Suite *suite = suite_create("cache_open");
    TCase *open = tcase_create("open");

    tcase_add_loop_test(open, test_open_options, 0, OPEN_COUNT);
    tcase_add_test(open, test_calls_without_server);
    suite_add_tcase(suite, open);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(cache_open_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
