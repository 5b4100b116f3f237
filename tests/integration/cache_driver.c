/*
 * cache_driver.c -- a command-line client of milter/cache/cache.h for
 * tests/integration/test_cache.sh, which runs it against real Redis and Sentinel.
 * (Named check_* for the build's test-program rules; not a Check program.)
 *
 * Usage: cache_driver [OPTIONS] COMMAND ARGS...     one command
 *        cache_driver [OPTIONS] -                   commands on stdin
 * In the second form one struct cache lives across commands (pool, down
 * state, backoff), so a test can stop Redis between two commands; every
 * command prints exactly one line, flushed.
 *
 * Options: --host H --port P --socket PATH --password-file F --db N
 *   --prefix P --timeout-ms N --sentinel H:P (repeat) --master-name N
 *   --pool N --backoff-ms N --backoff-max-ms N --deadline-ms N
 *   --now SECONDS   the clock "put" computes a ttl from (default: time(NULL)),
 *                   so that a test can expect an exact ttl however slowly
 *                   a busy machine runs it
 *
 * Verdict keys are derived from XSMTP-1 vector 1 with the message-id
 * replaced by MSGID, and RELAY ("-": none).  Commands:
 *   key MSGID RELAY                         -> KEY
 *   put MSGID RELAY VERDICT REASON COMPONENT T MAX_AGE
 *                                           -> RESULT ttl=N key=KEY
 *   get MSGID RELAY                         -> RESULT [VERDICT REASON COMPONENT] us=N
 *   put-component DOMAIN JID|-              -> RESULT key=KEY
 *   get-component DOMAIN                    -> RESULT [found JID | none] us=N
 *   lock KEY TTL_MS                         -> RESULT [TOKEN] us=N
 *   unlock KEY TOKEN                        -> RESULT
 *   stats                                   -> stats NAME=N ...
 *   burst N MSGID RELAY     N gets          -> burst n=N hit=H miss=M unavailable=U avg_us= max_us=
 *   threads T N MSGID RELAY T threads x N   -> the same, "threads" first
 *   wait-hit MSGID RELAY SECONDS            -> recovered ms=N tries=N | timeout ms=N
 *       put (pass, ttl 600) then get, every 20 ms, until a hit
 *   sleep MS                                -> slept
 *   quit    (stdin form) close the cache and exit 0 -> bye
 * REASON and COMPONENT "-" mean empty.  Exit status: 0, or 2 on a usage error.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash/util/log.h"
#include "milter/cache/cache.h"

#define WORDS_MAX 16

struct driver {
    struct cache *cache;
    unsigned deadline_ms; /* 0: none, timeout_ms alone */
    int64_t now;          /* 0: time(NULL) */
};

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const struct timespec *
deadline_for(const struct driver *driver, struct timespec *storage)
{
    if (driver->deadline_ms == 0)
        return NULL;
    cache_deadline_after(storage, driver->deadline_ms);
    return storage;
}

static const char *
dash_empty(const char *word)
{
    return strcmp(word, "-") == 0 ? "" : word;
}

static const char *
empty_dash(const char *text)
{
    return text[0] == '\0' ? "-" : text;
}

/* The verdict key of vector 1 with msgid replaced. */
static bool
derive_key(const struct driver *driver, const char *msgid, const char *relay, char *key)
{
    struct xsmtp_token_input input = {"alice@a.test",
                                      msgid,
                                      "alice@a.test",
                                      "1795000000",
                                      "192.0.2.10",
                                      "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=",
                                      "s1"};

    return cache_key_verdict(cache_prefix(driver->cache), &input, dash_empty(relay), key,
                             CACHE_KEY_SIZE) == XSMTP_OK;
}

static bool
parse_verdict(const char *word, enum xsmtp_verdict *verdict)
{
    static const enum xsmtp_verdict all[] = {XSMTP_VERDICT_PASS, XSMTP_VERDICT_FAIL,
                                             XSMTP_VERDICT_PERMERROR, XSMTP_VERDICT_TEMPERROR};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(word, xsmtp_verdict_name(all[i])) == 0) {
            *verdict = all[i];
            return true;
        }
    }
    return false;
}

struct burst_result {
    unsigned long hit, miss, unavailable, other;
    int64_t total_us, max_us;
};

static void
run_gets(struct driver *driver, const char *key, unsigned long count, struct burst_result *out)
{
    struct cache_verdict_entry entry;
    struct timespec storage;

    memset(out, 0, sizeof *out);
    for (unsigned long i = 0; i < count; i++) {
        int64_t start = now_us(), took;
        enum cache_result result =
            cache_get_verdict(driver->cache, key, deadline_for(driver, &storage), &entry);
        took = now_us() - start;
        out->total_us += took;
        if (took > out->max_us)
            out->max_us = took;
        if (result == CACHE_HIT)
            out->hit++;
        else if (result == CACHE_MISS)
            out->miss++;
        else if (result == CACHE_UNAVAILABLE)
            out->unavailable++;
        else
            out->other++;
    }
}

static void
print_burst(const char *name, unsigned long n, const struct burst_result *r)
{
    printf("%s n=%lu hit=%lu miss=%lu unavailable=%lu other=%lu avg_us=%.2f max_us=%lld\n", name, n,
           r->hit, r->miss, r->unavailable, r->other, n > 0 ? (double)r->total_us / (double)n : 0.0,
           (long long)r->max_us);
}

struct thread_job {
    struct driver *driver;
    const char *key;
    unsigned long count;
    struct burst_result result;
};

static void *
thread_main(void *arg)
{
    struct thread_job *job = arg;

    run_gets(job->driver, job->key, job->count, &job->result);
    return NULL;
}

static void
cmd_threads(struct driver *driver, const char *key, unsigned threads, unsigned long count)
{
    pthread_t ids[64];
    struct thread_job jobs[64];
    struct burst_result total;
    unsigned started = 0;

    memset(&total, 0, sizeof total);
    for (unsigned i = 0; i < threads && i < 64; i++) {
        jobs[i].driver = driver;
        jobs[i].key = key;
        jobs[i].count = count;
        if (pthread_create(&ids[i], NULL, thread_main, &jobs[i]) != 0)
            break;
        started++;
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(ids[i], NULL);
        total.hit += jobs[i].result.hit;
        total.miss += jobs[i].result.miss;
        total.unavailable += jobs[i].result.unavailable;
        total.other += jobs[i].result.other;
        total.total_us += jobs[i].result.total_us;
        if (jobs[i].result.max_us > total.max_us)
            total.max_us = jobs[i].result.max_us;
    }
    print_burst("threads", (unsigned long)started * count, &total);
}

static void
cmd_wait_hit(struct driver *driver, const char *key, unsigned seconds)
{
    struct cache_verdict_entry entry, got;
    struct timespec storage;
    int64_t start = now_us(), limit = (int64_t)seconds * 1000000;
    unsigned long tries = 0;

    memset(&entry, 0, sizeof entry);
    entry.verdict = XSMTP_VERDICT_PASS;
    snprintf(entry.component, sizeof entry.component, "xsmtp.a.test");
    while (now_us() - start < limit) {
        tries++;
        if (cache_put_verdict(driver->cache, key, &entry, 600, deadline_for(driver, &storage)) ==
                CACHE_OK &&
            cache_get_verdict(driver->cache, key, deadline_for(driver, &storage), &got) ==
                CACHE_HIT) {
            printf("recovered ms=%lld tries=%lu\n", (long long)((now_us() - start) / 1000), tries);
            return;
        }
        nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
    }
    printf("timeout ms=%lld tries=%lu\n", (long long)((now_us() - start) / 1000), tries);
}

static void
cmd_stats(struct driver *driver)
{
    struct cache_stats s;

    cache_get_stats(driver->cache, &s);
    printf("stats hits=%llu misses=%llu stores=%llu errors=%llu bad_values=%llu "
           "connect_attempts=%llu connects=%llu backoff_skips=%llu pool_timeouts=%llu "
           "sentinel_queries=%llu master_changes=%llu down=%d\n",
           (unsigned long long)s.hits, (unsigned long long)s.misses, (unsigned long long)s.stores,
           (unsigned long long)s.errors, (unsigned long long)s.bad_values,
           (unsigned long long)s.connect_attempts, (unsigned long long)s.connects,
           (unsigned long long)s.backoff_skips, (unsigned long long)s.pool_timeouts,
           (unsigned long long)s.sentinel_queries, (unsigned long long)s.master_changes,
           s.down ? 1 : 0);
}

/* One command; false on a usage error. */
static bool
run_command(struct driver *driver, int argc, char **argv)
{
    char key[CACHE_KEY_SIZE];
    struct timespec storage;
    const char *cmd = argc > 0 ? argv[0] : "";
    enum cache_result result;
    int64_t start;

    if (strcmp(cmd, "key") == 0 && argc == 3) {
        if (!derive_key(driver, argv[1], argv[2], key))
            return false;
        printf("%s\n", key);
    } else if (strcmp(cmd, "put") == 0 && argc == 8) {
        struct cache_verdict_entry entry;
        int64_t ttl;
        memset(&entry, 0, sizeof entry);
        if (!derive_key(driver, argv[1], argv[2], key) || !parse_verdict(argv[3], &entry.verdict))
            return false;
        snprintf(entry.reason, sizeof entry.reason, "%s", dash_empty(argv[4]));
        snprintf(entry.component, sizeof entry.component, "%s", dash_empty(argv[5]));
        ttl = cache_ttl_for(entry.verdict, strtoll(argv[6], NULL, 10), strtoll(argv[7], NULL, 10),
                            driver->now != 0 ? driver->now : (int64_t)time(NULL));
        result = cache_put_verdict(driver->cache, key, &entry, ttl, deadline_for(driver, &storage));
        printf("%s ttl=%lld key=%s\n", cache_result_str(result), (long long)ttl, key);
    } else if (strcmp(cmd, "get") == 0 && argc == 3) {
        struct cache_verdict_entry entry;
        if (!derive_key(driver, argv[1], argv[2], key))
            return false;
        start = now_us();
        result = cache_get_verdict(driver->cache, key, deadline_for(driver, &storage), &entry);
        if (result == CACHE_HIT)
            printf("hit %s %s %s us=%lld\n", xsmtp_verdict_name(entry.verdict),
                   empty_dash(entry.reason), empty_dash(entry.component),
                   (long long)(now_us() - start));
        else
            printf("%s us=%lld\n", cache_result_str(result), (long long)(now_us() - start));
    } else if (strcmp(cmd, "put-component") == 0 && argc == 3) {
        struct cache_component_entry entry;
        memset(&entry, 0, sizeof entry);
        if (cache_key_component(cache_prefix(driver->cache), argv[1], key, sizeof key) != XSMTP_OK)
            return false;
        entry.found = strcmp(argv[2], "-") != 0;
        snprintf(entry.jid, sizeof entry.jid, "%s", dash_empty(argv[2]));
        result = cache_put_component(driver->cache, key, &entry, deadline_for(driver, &storage));
        printf("%s key=%s\n", cache_result_str(result), key);
    } else if (strcmp(cmd, "get-component") == 0 && argc == 2) {
        struct cache_component_entry entry;
        if (cache_key_component(cache_prefix(driver->cache), argv[1], key, sizeof key) != XSMTP_OK)
            return false;
        start = now_us();
        result = cache_get_component(driver->cache, key, deadline_for(driver, &storage), &entry);
        if (result == CACHE_HIT && entry.found)
            printf("hit found %s us=%lld\n", entry.jid, (long long)(now_us() - start));
        else if (result == CACHE_HIT)
            printf("hit none us=%lld\n", (long long)(now_us() - start));
        else
            printf("%s us=%lld\n", cache_result_str(result), (long long)(now_us() - start));
    } else if (strcmp(cmd, "lock") == 0 && argc == 3) {
        struct cache_lock lock;
        start = now_us();
        result = cache_lock_acquire(driver->cache, argv[1], (unsigned)strtoul(argv[2], NULL, 10),
                                    deadline_for(driver, &storage), &lock);
        printf("%s%s%s us=%lld\n", cache_result_str(result), result == CACHE_LOCKED ? " " : "",
               result == CACHE_LOCKED ? lock.token : "", (long long)(now_us() - start));
    } else if (strcmp(cmd, "unlock") == 0 && argc == 3) {
        struct cache_lock lock;
        memset(&lock, 0, sizeof lock);
        snprintf(lock.key, sizeof lock.key, "%s:lock", argv[1]);
        snprintf(lock.token, sizeof lock.token, "%s", argv[2]);
        result = cache_lock_release(driver->cache, &lock, deadline_for(driver, &storage));
        printf("%s\n", cache_result_str(result));
    } else if (strcmp(cmd, "stats") == 0 && argc == 1) {
        cmd_stats(driver);
    } else if (strcmp(cmd, "burst") == 0 && argc == 4) {
        struct burst_result r;
        unsigned long n = strtoul(argv[1], NULL, 10);
        if (!derive_key(driver, argv[2], argv[3], key))
            return false;
        run_gets(driver, key, n, &r);
        print_burst("burst", n, &r);
    } else if (strcmp(cmd, "threads") == 0 && argc == 5) {
        if (!derive_key(driver, argv[3], argv[4], key))
            return false;
        cmd_threads(driver, key, (unsigned)strtoul(argv[1], NULL, 10), strtoul(argv[2], NULL, 10));
    } else if (strcmp(cmd, "wait-hit") == 0 && argc == 4) {
        if (!derive_key(driver, argv[1], argv[2], key))
            return false;
        cmd_wait_hit(driver, key, (unsigned)strtoul(argv[3], NULL, 10));
    } else if (strcmp(cmd, "sleep") == 0 && argc == 2) {
        unsigned long ms = strtoul(argv[1], NULL, 10);
        nanosleep(&(struct timespec){(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L}, NULL);
        printf("slept\n");
    } else {
        return false;
    }
    fflush(stdout);
    return true;
}

static int
usage(void)
{
    fprintf(stderr, "usage: cache_driver [OPTIONS] COMMAND ARGS... | -\n"
                    "(see the comment at the top of tests/integration/cache_driver.c)\n");
    return 2;
}

/* Commands from stdin, one a line; an unknown one prints "usage". */
static int
run_stdin(struct driver *driver)
{
    char line[1024];

    while (fgets(line, sizeof line, stdin) != NULL) {
        char *words[WORDS_MAX], *save = NULL, *word;
        int count = 0;
        for (word = strtok_r(line, " \t\n", &save); word != NULL && count < WORDS_MAX;
             word = strtok_r(NULL, " \t\n", &save))
            words[count++] = word;
        if (count == 0)
            continue;
        if (strcmp(words[0], "quit") == 0 && count == 1) {
            printf("bye\n");
            fflush(stdout);
            break;
        }
        if (!run_command(driver, count, words)) {
            printf("usage\n");
            fflush(stdout);
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *sentinels[CACHE_SENTINELS_MAX];
    struct cache_options options;
    struct driver driver;
    char err[256];
    int i, rc;

    /* What libmilter does in the milter (see cache.h). */
    signal(SIGPIPE, SIG_IGN);
    log_open("cache_driver", LOG_MAIL, LOG_INFO, true);
    memset(&options, 0, sizeof options);
    memset(&driver, 0, sizeof driver);
    options.sentinels = sentinels;
    options.logger = log_logger();
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *name = argv[i] + 2, *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL)
            return usage();
        if (strcmp(name, "host") == 0)
            options.host = value;
        else if (strcmp(name, "port") == 0)
            options.port = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "socket") == 0)
            options.socket = value;
        else if (strcmp(name, "password-file") == 0)
            options.password_file = value;
        else if (strcmp(name, "db") == 0)
            options.db = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "prefix") == 0)
            options.prefix = value;
        else if (strcmp(name, "timeout-ms") == 0)
            options.timeout_ms = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "sentinel") == 0 && options.sentinel_count < CACHE_SENTINELS_MAX)
            sentinels[options.sentinel_count++] = value;
        else if (strcmp(name, "master-name") == 0)
            options.master_name = value;
        else if (strcmp(name, "pool") == 0)
            options.pool_size = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "backoff-ms") == 0)
            options.backoff_ms = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "backoff-max-ms") == 0)
            options.backoff_max_ms = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "deadline-ms") == 0)
            driver.deadline_ms = (unsigned)strtoul(value, NULL, 10);
        else if (strcmp(name, "now") == 0)
            driver.now = strtoll(value, NULL, 10);
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    if (cache_open(&options, &driver.cache, err, sizeof err) != XSMTP_OK) {
        printf("open-failed %s\n", err);
        return 1;
    }
    if (strcmp(argv[i], "-") == 0 && i + 1 == argc)
        rc = run_stdin(&driver);
    else
        rc = run_command(&driver, argc - i, argv + i) ? 0 : usage();
    cache_close(driver.cache);
    log_close();
    return rc;
}
