/*
 * xmpp_client_probe.c -- drives the verifier's XMPP client (xmpp/client.h)
 * for tests/test_xmpp_client.sh, against a real Prosody and xsmtp-component.
 *
 * Options give the client's settings; then commands are read from stdin,
 * one per line, and each prints exactly one line on stdout (flushed), so
 * the shell can assert on exact text.  Values are written NAME=VALUE with
 * %XX escapes (for spaces, quotes, markup and 8-bit octets).
 *
 *   start [max-pending=N] [notice-queue=N]   (re)start the client
 *   stop                               stop it
 *   connected MS                       "connected" | "not-connected"
 *   set NAME=VALUE...                  default verify attributes
 *   verify JID MS [NAME=VALUE...]      "VERDICT[ REASON]" ("bad-query ..." if refused)
 *   tverify JID MS [NAME=VALUE...]     the same plus " elapsed_ms=X"
 *   discover DOMAIN MS                 "found JID items=N" | "none R items=N" | "tempfail R"
 *   load N THREADS JID MS              N verifies from THREADS threads: counts per outcome
 *   rtt N JID MS                       N sequential verifies: latency percentiles
 *   killmid PID SIG THREADS JID MS     threads verify in a loop; PID gets SIG; how they end
 *   stopmid THREADS JID MS             threads verify; the client is stopped under them
 *   until SECONDS JID                  verify every 50 ms until pass
 *   notice JID IDENTITY MSGID STATUS BY T   /   notices N JID
 *   stats                              the counters
 *   sleep MS                           "slept"
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "log.h"

#define LINE_MAX_LEN 65536
#define MAX_WORDS 64
#define MAX_LABELS 16

static struct probe {
    struct xmpp_client_options options;
    struct xmpp_client *client;
    char defaults[9][XMPP_CLIENT_VALUE_MAX + 1];    /* verify attributes, "" = unset */
    bool has_default[9];
} probe;

static const char *const attr_names[9] = {
    "identity", "message-id", "from", "t", "ip", "k", "bh", "h", "relay"
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct timespec deadline_in(long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* In-place %XX decoding. */
static void unescape(char *s)
{
    char *out = s;

    for (; *s != '\0'; s++) {
        if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *out++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* A query: the defaults, overridden by NAME=VALUE words ("NAME=" unsets). */
struct query_values {
    char values[9][XMPP_CLIENT_VALUE_MAX + 1];
    bool set[9];
};

static bool build_query(struct query_values *qv, char **words, int count,
                        struct verify_query *query)
{
    const char **fields[9] = { &query->identity, &query->message_id, &query->from, &query->t,
                               &query->ip, &query->k, &query->bh, &query->h, &query->relay };
    int i, a;

    for (a = 0; a < 9; a++) {
        qv->set[a] = probe.has_default[a];
        memcpy(qv->values[a], probe.defaults[a], sizeof qv->values[a]);
    }
    for (i = 0; i < count; i++) {
        char *eq = strchr(words[i], '=');

        if (eq == NULL)
            return false;
        *eq = '\0';
        for (a = 0; a < 9 && strcmp(words[i], attr_names[a]) != 0; a++)
            ;
        if (a == 9)
            return false;
        unescape(eq + 1);
        snprintf(qv->values[a], sizeof qv->values[a], "%s", eq + 1);
        qv->set[a] = eq[1] != '\0';
    }
    for (a = 0; a < 9; a++)
        *fields[a] = qv->set[a] ? qv->values[a] : NULL;
    return true;
}

static void describe(const struct verify_answer *answer, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s%s", verify_verdict_name(answer->verdict),
             answer->reason[0] != '\0' ? " " : "", answer->reason);
}

/* ---- counting outcomes over many calls ------------------------------------- */

struct tally {
    pthread_mutex_t lock;
    char label[MAX_LABELS][96];
    unsigned long count[MAX_LABELS];
    int used;
    double last_end_ms;
};

static void tally_add(struct tally *t, const char *label, double end_ms)
{
    int i;

    pthread_mutex_lock(&t->lock);
    for (i = 0; i < t->used && strcmp(t->label[i], label) != 0; i++)
        ;
    if (i == t->used && t->used < MAX_LABELS)
        snprintf(t->label[t->used++], sizeof t->label[0], "%s", label);
    if (i < t->used)
        t->count[i]++;
    if (end_ms > t->last_end_ms)
        t->last_end_ms = end_ms;
    pthread_mutex_unlock(&t->lock);
}

static void tally_print(struct tally *t, FILE *out)
{
    int i, j;

    /* sorted by label, so the line is the same whatever the timing */
    for (i = 0; i < t->used; i++)
        for (j = i + 1; j < t->used; j++)
            if (strcmp(t->label[j], t->label[i]) < 0) {
                char label[96];
                unsigned long count = t->count[i];

                memcpy(label, t->label[i], sizeof label);
                memcpy(t->label[i], t->label[j], sizeof label);
                memcpy(t->label[j], label, sizeof label);
                t->count[i] = t->count[j];
                t->count[j] = count;
            }
    for (i = 0; i < t->used; i++)
        fprintf(out, "%s%s=%lu", i > 0 ? " " : "", t->label[i], t->count[i]);
}

struct worker {
    pthread_t thread;
    struct tally *tally;
    const char *jid;
    long deadline_ms;
    unsigned long calls;            /* load: how many calls */
    bool until_not_pass;            /* killmid/stopmid: loop until a non-pass */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct query_values *qv = malloc(sizeof *qv);
    struct verify_query query;
    struct verify_answer answer;
    struct timespec deadline;
    char label[96];
    unsigned long i;

    if (qv == NULL || !build_query(qv, NULL, 0, &query)) {
        tally_add(w->tally, "probe-error", now_ms());
        free(qv);
        return NULL;
    }
    for (i = 0; w->until_not_pass || i < w->calls; i++) {
        deadline = deadline_in(w->deadline_ms);
        if (xmpp_client_verify(probe.client, w->jid, &query, &deadline, &answer) != XSMTP_OK) {
            tally_add(w->tally, "status-error", now_ms());
            break;
        }
        if (w->until_not_pass && answer.verdict == VERIFY_VERDICT_PASS)
            continue;
        describe(&answer, label, sizeof label);
        for (char *p = label; *p != '\0'; p++)
            if (*p == ' ')
                *p = '/';
        tally_add(w->tally, label, now_ms());
        if (w->until_not_pass)
            break;
    }
    free(qv);
    return NULL;
}

/* Runs threads workers; between their start and the join, runs action. */
static void run_workers(int threads, unsigned long calls_each, unsigned long extra,
                        bool until_not_pass, const char *jid, long deadline_ms,
                        struct tally *tally, void (*action)(void *), void *action_arg)
{
    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    int i;

    pthread_mutex_init(&tally->lock, NULL);
    if (workers == NULL)
        return;
    for (i = 0; i < threads; i++) {
        workers[i].tally = tally;
        workers[i].jid = jid;
        workers[i].deadline_ms = deadline_ms;
        workers[i].calls = calls_each + ((unsigned long)i < extra ? 1 : 0);
        workers[i].until_not_pass = until_not_pass;
        pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
    }
    if (action != NULL)
        action(action_arg);
    for (i = 0; i < threads; i++)
        pthread_join(workers[i].thread, NULL);
    free(workers);
}

/* ---- commands ------------------------------------------------------------------ */

static void cmd_start(char **w, int n)
{
    struct xmpp_client_options options = probe.options;
    char err[512] = "";
    xsmtp_status status;
    int i;

    if (probe.client != NULL) {
        printf("already started\n");
        return;
    }
    for (i = 1; i < n; i++) {
        if (strncmp(w[i], "max-pending=", 12) == 0)
            options.max_pending = (unsigned)atoi(w[i] + 12);
        else if (strncmp(w[i], "notice-queue=", 13) == 0)
            options.notice_queue_max = (unsigned)atoi(w[i] + 13);
    }
    status = xmpp_client_start(&options, &probe.client, err, sizeof err);
    if (status == XSMTP_OK)
        printf("start ok\n");
    else
        printf("start %s: %s\n", xsmtp_status_str(status), err);
}

static void cmd_verify(char **w, int n, bool timed)
{
    struct query_values *qv = malloc(sizeof *qv);
    struct verify_query query;
    struct verify_answer answer;
    struct timespec deadline;
    xsmtp_status status;
    char text[128];
    double start;

    if (qv == NULL || n < 3 || !build_query(qv, w + 3, n - 3, &query)) {
        printf("usage: verify JID MS [NAME=VALUE...]\n");
        free(qv);
        return;
    }
    deadline = deadline_in(atol(w[2]));
    start = now_ms();
    status = xmpp_client_verify(probe.client, w[1], &query, &deadline, &answer);
    describe(&answer, text, sizeof text);
    if (status != XSMTP_OK)
        printf("status %s (%s)", xsmtp_status_str(status), text);
    else
        printf("%s", text);
    if (timed)
        printf(" elapsed_ms=%.1f", now_ms() - start);
    printf("\n");
    free(qv);
}

static void cmd_discover(char **w, int n)
{
    struct discovery_answer answer;
    struct timespec deadline;
    xsmtp_status status;

    if (n != 3) {
        printf("usage: discover DOMAIN MS\n");
        return;
    }
    deadline = deadline_in(atol(w[2]));
    status = xmpp_client_discover(probe.client, w[1], &deadline, &answer);
    if (status != XSMTP_OK)
        printf("status %s\n", xsmtp_status_str(status));
    else if (answer.outcome == DISCOVERY_FOUND)
        printf("found %s items=%u\n", answer.jid, answer.items);
    else if (answer.outcome == DISCOVERY_NONE)
        printf("none %s items=%u\n", answer.reason, answer.items);
    else
        printf("tempfail %s\n", answer.reason);
}

static void cmd_load(char **w, int n)
{
    struct tally tally = { .used = 0 };
    unsigned long total;
    int threads;
    double start, seconds;

    if (n != 5 || (threads = atoi(w[2])) <= 0 || (total = strtoul(w[1], NULL, 10)) == 0) {
        printf("usage: load N THREADS JID MS\n");
        return;
    }
    start = now_ms();
    run_workers(threads, total / (unsigned long)threads, total % (unsigned long)threads, false,
                w[3], atol(w[4]), &tally, NULL, NULL);
    seconds = (now_ms() - start) / 1e3;
    printf("load n=%lu ", total);
    tally_print(&tally, stdout);
    printf(" seconds=%.3f per_second=%.0f\n", seconds, (double)total / seconds);
}

static void cmd_rtt(char **w, int n)
{
    struct xmpp_client_stats *before = malloc(sizeof *before), *after = malloc(sizeof *after);
    struct query_values *qv = malloc(sizeof *qv);
    uint32_t *rtt = NULL, *pickup = NULL;
    struct verify_query query;
    struct verify_answer answer;
    struct timespec deadline;
    unsigned long count, i, pass = 0, fresh_rtt, fresh_pickup;

    if (before == NULL || after == NULL || qv == NULL || n != 4 ||
        (count = strtoul(w[1], NULL, 10)) == 0 || count > XMPP_CLIENT_SAMPLES ||
        !build_query(qv, NULL, 0, &query)) {
        printf("usage: rtt N(<=%d) JID MS\n", XMPP_CLIENT_SAMPLES);
        goto out;
    }
    xmpp_client_get_stats(probe.client, before);
    for (i = 0; i < count; i++) {
        deadline = deadline_in(atol(w[3]));
        if (xmpp_client_verify(probe.client, w[2], &query, &deadline, &answer) == XSMTP_OK &&
            answer.verdict == VERIFY_VERDICT_PASS)
            pass++;
    }
    xmpp_client_get_stats(probe.client, after);
    fresh_rtt = after->rtt_count - before->rtt_count;
    fresh_pickup = after->pickup_count - before->pickup_count;
    /* Only this run's samples: the newest ones of each ring. */
    rtt = calloc(XMPP_CLIENT_SAMPLES, sizeof *rtt);
    pickup = calloc(XMPP_CLIENT_SAMPLES, sizeof *pickup);
    if (rtt == NULL || pickup == NULL)
        goto out;
    for (i = 0; i < fresh_rtt && i < XMPP_CLIENT_SAMPLES; i++)
        rtt[i] = after->rtt_us[(after->rtt_count - 1 - i) % XMPP_CLIENT_SAMPLES];
    for (i = 0; i < fresh_pickup && i < XMPP_CLIENT_SAMPLES; i++)
        pickup[i] = after->pickup_us[(after->pickup_count - 1 - i) % XMPP_CLIENT_SAMPLES];
    printf("rtt n=%lu pass=%lu rtt_us p50=%u p90=%u p99=%u max=%u pickup_us p50=%u p99=%u "
           "max=%u\n", count, pass,
           xmpp_client_percentile(rtt, fresh_rtt, 50), xmpp_client_percentile(rtt, fresh_rtt, 90),
           xmpp_client_percentile(rtt, fresh_rtt, 99),
           xmpp_client_percentile(rtt, fresh_rtt, 100),
           xmpp_client_percentile(pickup, fresh_pickup, 50),
           xmpp_client_percentile(pickup, fresh_pickup, 99),
           xmpp_client_percentile(pickup, fresh_pickup, 100));
out:
    free(before);
    free(after);
    free(qv);
    free(rtt);
    free(pickup);
}

struct signal_action {
    pid_t pid;
    int signo;
    double at_ms;
};

static void send_signal_later(void *arg)
{
    struct signal_action *action = arg;

    usleep(300000);
    action->at_ms = now_ms();
    if (action->pid > 0)
        kill(action->pid, action->signo);
    else
        xmpp_client_stop(probe.client);     /* stopmid */
}

static void cmd_killmid(char **w, int n)
{
    struct signal_action action = { 0, 0, 0 };
    struct tally tally = { .used = 0 };
    int threads;

    if (n != 6 || (action.pid = (pid_t)atol(w[1])) <= 0 || (threads = atoi(w[3])) <= 0) {
        printf("usage: killmid PID SIG THREADS JID MS\n");
        return;
    }
    action.signo = atoi(w[2]);
    run_workers(threads, 0, 0, true, w[4], atol(w[5]), &tally, send_signal_later, &action);
    printf("killmid ");
    tally_print(&tally, stdout);
    printf(" last_end_after_signal_ms=%.1f\n", tally.last_end_ms - action.at_ms);
}

static void cmd_stopmid(char **w, int n)
{
    struct signal_action action = { 0, 0, 0 };
    struct tally tally = { .used = 0 };
    int threads;

    if (n != 4 || (threads = atoi(w[1])) <= 0 || probe.client == NULL) {
        printf("usage: stopmid THREADS JID MS (client started)\n");
        return;
    }
    run_workers(threads, 1, 0, false, w[2], atol(w[3]), &tally, send_signal_later, &action);
    probe.client = NULL;
    printf("stopmid ");
    tally_print(&tally, stdout);
    printf(" last_end_after_stop_ms=%.1f\n", tally.last_end_ms - action.at_ms);
}

static void cmd_until(char **w, int n)
{
    struct query_values *qv = malloc(sizeof *qv);
    struct verify_query query;
    struct verify_answer answer;
    struct timespec deadline;
    double start = now_ms(), limit;

    if (qv == NULL || n != 3 || !build_query(qv, NULL, 0, &query)) {
        printf("usage: until SECONDS JID\n");
        free(qv);
        return;
    }
    limit = atof(w[1]) * 1e3;
    while (now_ms() - start < limit) {
        deadline = deadline_in(1000);
        if (xmpp_client_verify(probe.client, w[2], &query, &deadline, &answer) == XSMTP_OK &&
            answer.verdict == VERIFY_VERDICT_PASS) {
            printf("reached after %.2f s\n", (now_ms() - start) / 1e3);
            free(qv);
            return;
        }
        usleep(50000);
    }
    printf("not reached in %s s\n", w[1]);
    free(qv);
}

static void cmd_notice(char **w, int n)
{
    struct progress_notice notice;
    xsmtp_status status;
    int i;

    if (n != 7) {
        printf("usage: notice JID IDENTITY MSGID STATUS BY T\n");
        return;
    }
    for (i = 2; i < 7; i++)
        unescape(w[i]);
    notice = (struct progress_notice){ w[2], w[3], w[4], w[5], w[6] };
    status = xmpp_client_send_notice(probe.client, w[1], &notice);
    printf("notice %s\n", xsmtp_status_str(status));
}

static void cmd_notices(char **w, int n)
{
    struct progress_notice notice = { "alice@a.test", "burst@a.test", "accepted", "b.test",
                                      "1795356007" };
    unsigned long count, i, ok = 0, full = 0, other = 0;
    xsmtp_status status;

    if (n != 3 || (count = strtoul(w[1], NULL, 10)) == 0) {
        printf("usage: notices N JID\n");
        return;
    }
    for (i = 0; i < count; i++) {
        status = xmpp_client_send_notice(probe.client, w[2], &notice);
        if (status == XSMTP_OK)
            ok++;
        else if (status == XSMTP_ETOOBIG)
            full++;
        else
            other++;
    }
    printf("notices total=%lu ok_plus_full=%lu other=%lu full=%lu\n", count, ok + full, other,
           full);
}

static void cmd_stats(void)
{
    struct xmpp_client_stats *s = malloc(sizeof *s);

    if (s == NULL || xmpp_client_get_stats(probe.client, s) != XSMTP_OK) {
        printf("stats unavailable\n");
        free(s);
        return;
    }
    printf("stats connected=%d connects=%lu disconnects=%lu connect_failures=%lu queries=%lu "
           "answers=%lu ignored=%lu timeouts=%lu failed_disconnected=%lu overloaded=%lu "
           "discoveries=%lu disco_iqs=%lu notices_queued=%lu notices_sent=%lu "
           "notices_dropped=%lu\n",
           s->connected, s->connects, s->disconnects, s->connect_failures, s->queries_sent,
           s->answers, s->answers_ignored, s->timeouts, s->failed_disconnected, s->overloaded,
           s->discoveries, s->disco_iqs_sent, s->notices_queued, s->notices_sent,
           s->notices_dropped);
    free(s);
}

static void dispatch(char **w, int n)
{
    if (strcmp(w[0], "start") == 0) {
        cmd_start(w, n);
    } else if (strcmp(w[0], "stop") == 0) {
        xmpp_client_stop(probe.client);
        probe.client = NULL;
        printf("stopped\n");
    } else if (strcmp(w[0], "sleep") == 0 && n == 2) {
        usleep((useconds_t)atol(w[1]) * 1000);
        printf("slept\n");
    } else if (probe.client == NULL && strcmp(w[0], "set") != 0) {
        printf("not started\n");
    } else if (strcmp(w[0], "connected") == 0 && n == 2) {
        struct timespec deadline = deadline_in(atol(w[1]));

        printf("%s\n", xmpp_client_wait_connected(probe.client, &deadline) == XSMTP_OK
                           ? "connected" : "not-connected");
    } else if (strcmp(w[0], "set") == 0) {
        struct query_values *qv = malloc(sizeof *qv);
        struct verify_query ignored;

        if (qv != NULL && build_query(qv, w + 1, n - 1, &ignored)) {
            memcpy(probe.defaults, qv->values, sizeof probe.defaults);
            memcpy(probe.has_default, qv->set, sizeof probe.has_default);
            printf("set\n");
        } else {
            printf("usage: set NAME=VALUE...\n");
        }
        free(qv);
    } else if (strcmp(w[0], "verify") == 0 || strcmp(w[0], "tverify") == 0) {
        cmd_verify(w, n, w[0][0] == 't');
    } else if (strcmp(w[0], "discover") == 0) {
        cmd_discover(w, n);
    } else if (strcmp(w[0], "load") == 0) {
        cmd_load(w, n);
    } else if (strcmp(w[0], "rtt") == 0) {
        cmd_rtt(w, n);
    } else if (strcmp(w[0], "killmid") == 0) {
        cmd_killmid(w, n);
    } else if (strcmp(w[0], "stopmid") == 0) {
        cmd_stopmid(w, n);
    } else if (strcmp(w[0], "until") == 0) {
        cmd_until(w, n);
    } else if (strcmp(w[0], "notice") == 0) {
        cmd_notice(w, n);
    } else if (strcmp(w[0], "notices") == 0) {
        cmd_notices(w, n);
    } else if (strcmp(w[0], "stats") == 0) {
        cmd_stats();
    } else {
        printf("unknown command %s\n", w[0]);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "jid", required_argument, NULL, 'j' },
        { "password-file", required_argument, NULL, 'p' },
        { "server", required_argument, NULL, 's' },
        { "port", required_argument, NULL, 'P' },
        { "tls", required_argument, NULL, 't' },
        { "ca-file", required_argument, NULL, 'c' },
        { "trust", no_argument, NULL, 'T' },
        { "max-pending", required_argument, NULL, 'm' },
        { "notice-queue", required_argument, NULL, 'n' },
        { "keepalive-idle", required_argument, NULL, 'k' },
        { "keepalive-timeout", required_argument, NULL, 'K' },
        { "debug", no_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    static char line[LINE_MAX_LEN];
    int opt, level = LOG_INFO;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j': probe.options.jid = optarg; break;
        case 'p': probe.options.password_file = optarg; break;
        case 's': probe.options.server = optarg; break;
        case 'P': probe.options.port = (unsigned)atoi(optarg); break;
        case 't':
            probe.options.tls = strcmp(optarg, "optional") == 0 ? XMPP_CLIENT_TLS_OPTIONAL
                                                                 : XMPP_CLIENT_TLS_REQUIRED;
            break;
        case 'c': probe.options.ca_file = optarg; break;
        case 'T': probe.options.tls_trust = true; break;
        case 'm': probe.options.max_pending = (unsigned)atoi(optarg); break;
        case 'n': probe.options.notice_queue_max = (unsigned)atoi(optarg); break;
        case 'k': probe.options.keepalive_idle_s = (unsigned)atoi(optarg); break;
        case 'K': probe.options.keepalive_timeout_s = (unsigned)atoi(optarg); break;
        case 'd': level = LOG_DEBUG; break;
        default:
            fprintf(stderr, "usage: xmpp_client_probe --jid J --password-file F [--server H] "
                            "[--port P] [--tls required|optional] [--ca-file F] [--trust] "
                            "[--max-pending N] [--notice-queue N] [--keepalive-idle S] "
                            "[--keepalive-timeout S] [--debug]\n");
            return 2;
        }
    }
    log_open("xmpp_client_probe", LOG_USER, level, true);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *words[MAX_WORDS], *save = NULL, *word;
        int n = 0;

        line[strcspn(line, "\r\n")] = '\0';
        for (word = strtok_r(line, " ", &save); word != NULL && n < MAX_WORDS;
             word = strtok_r(NULL, " ", &save))
            words[n++] = word;
        if (n == 0)
            continue;
        if (strcmp(words[0], "quit") == 0)
            break;
        dispatch(words, n);
        fflush(stdout);
    }
    xmpp_client_stop(probe.client);
    log_close();
    return 0;
}
