/*
 * xclient_probe_load.c -- the test driver's commands that make many
 * calls: load (N calls from T threads), rtt (sequential, with the
 * client's own RTT and pick-up samples), killmid and stopmid (threads
 * keep calling while the server is killed or the client stopped under
 * them), until (poll for recovery).  Outcomes are tallied per
 * "verdict/reason" and printed sorted, so a line does not depend on timing.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/xclient_probe.h"

#define MAX_LABELS 16

/* ---- counting outcomes over many calls ------------------------------------- */

struct tally {
    pthread_mutex_t lock;
    char label[MAX_LABELS][96];
    unsigned long count[MAX_LABELS];
    int used;
    double last_end_ms;
};

static void
tally_add(struct tally *t, const char *label, double end_ms)
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

static void
tally_print(struct tally *t, FILE *out)
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
    const struct timespec *shared_deadline; /* set: every call has this one */
    unsigned long calls;                    /* load: how many calls */
    bool until_not_pass;                    /* killmid/stopmid: loop until a non-pass */
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct query_values *qv = malloc(sizeof *qv);
    struct xsmtp_query query;
    struct xclient_answer answer;
    struct timespec deadline;
    char label[96];
    unsigned long i;

    if (qv == NULL || !build_query(qv, NULL, 0, &query)) {
        tally_add(w->tally, "probe-error", now_ms());
        free(qv);
        return NULL;
    }
    for (i = 0; w->until_not_pass || i < w->calls; i++) {
        deadline = w->shared_deadline != NULL ? *w->shared_deadline : deadline_in(w->deadline_ms);
        if (xclient_verify(probe.client, w->jid, &query, &deadline, &answer) != XSMTP_OK) {
            tally_add(w->tally, "status-error", now_ms());
            break;
        }
        if (w->until_not_pass && answer.verdict == XSMTP_VERDICT_PASS)
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
static void
run_workers(int threads, unsigned long calls_each, unsigned long extra, bool until_not_pass,
            const char *jid, long deadline_ms, const struct timespec *shared_deadline,
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
        workers[i].shared_deadline = shared_deadline;
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

void
cmd_load(char **w, int n)
{
    struct tally tally = {.used = 0};
    struct timespec shared;
    unsigned long total;
    int threads;
    double start, seconds;
    bool same;

    same = n == 6 && strcmp(w[5], "same-deadline") == 0;
    if ((n != 5 && !same) || (threads = atoi(w[2])) <= 0 ||
        (total = strtoul(w[1], NULL, 10)) == 0) {
        printf("usage: load N THREADS JID MS [same-deadline]\n");
        return;
    }
    start = now_ms();
    /* same-deadline: all calls end at one instant, MS from now, however the
     * threads' start is spread (so the reaper frees them in a single pass). */
    shared = deadline_in(atol(w[4]));
    run_workers(threads, total / (unsigned long)threads, total % (unsigned long)threads, false,
                w[3], atol(w[4]), same ? &shared : NULL, &tally, NULL, NULL);
    seconds = (now_ms() - start) / 1e3;
    printf("load n=%lu ", total);
    tally_print(&tally, stdout);
    printf(" seconds=%.3f per_second=%.0f\n", seconds, (double)total / seconds);
}

void
cmd_rtt(char **w, int n)
{
    struct xclient_stats *before = malloc(sizeof *before), *after = malloc(sizeof *after);
    struct query_values *qv = malloc(sizeof *qv);
    uint32_t *rtt = NULL, *pickup = NULL;
    struct xsmtp_query query;
    struct xclient_answer answer;
    struct timespec deadline;
    unsigned long count, i, pass = 0, fresh_rtt, fresh_pickup;

    if (before == NULL || after == NULL || qv == NULL || n != 4 ||
        (count = strtoul(w[1], NULL, 10)) == 0 || count > XCLIENT_SAMPLES ||
        !build_query(qv, NULL, 0, &query)) {
        printf("usage: rtt N(<=%d) JID MS\n", XCLIENT_SAMPLES);
        goto out;
    }
    xclient_get_stats(probe.client, before);
    for (i = 0; i < count; i++) {
        deadline = deadline_in(atol(w[3]));
        if (xclient_verify(probe.client, w[2], &query, &deadline, &answer) == XSMTP_OK &&
            answer.verdict == XSMTP_VERDICT_PASS)
            pass++;
    }
    xclient_get_stats(probe.client, after);
    fresh_rtt = after->rtt_count - before->rtt_count;
    fresh_pickup = after->pickup_count - before->pickup_count;
    /* Only this run's samples: the newest ones of each ring. */
    rtt = calloc(XCLIENT_SAMPLES, sizeof *rtt);
    pickup = calloc(XCLIENT_SAMPLES, sizeof *pickup);
    if (rtt == NULL || pickup == NULL)
        goto out;
    for (i = 0; i < fresh_rtt && i < XCLIENT_SAMPLES; i++)
        rtt[i] = after->rtt_us[(after->rtt_count - 1 - i) % XCLIENT_SAMPLES];
    for (i = 0; i < fresh_pickup && i < XCLIENT_SAMPLES; i++)
        pickup[i] = after->pickup_us[(after->pickup_count - 1 - i) % XCLIENT_SAMPLES];
    /* n= in each group: how many samples this run added (one per request
     * that was picked up, one per answer). */
    printf("rtt n=%lu pass=%lu rtt_us n=%lu p50=%u p90=%u p99=%u max=%u pickup_us n=%lu p50=%u "
           "p90=%u p99=%u max=%u\n",
           count, pass, fresh_rtt, xclient_percentile(rtt, fresh_rtt, 50),
           xclient_percentile(rtt, fresh_rtt, 90), xclient_percentile(rtt, fresh_rtt, 99),
           xclient_percentile(rtt, fresh_rtt, 100), fresh_pickup,
           xclient_percentile(pickup, fresh_pickup, 50),
           xclient_percentile(pickup, fresh_pickup, 90),
           xclient_percentile(pickup, fresh_pickup, 99),
           xclient_percentile(pickup, fresh_pickup, 100));
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
    unsigned long threads;     /* how many workers must have a query out first */
    unsigned long sent_before; /* queries_sent before the workers started */
};

static unsigned long
queries_sent_now(void)
{
    struct xclient_stats *s = malloc(sizeof *s);
    unsigned long sent = 0;

    if (s != NULL && xclient_get_stats(probe.client, s) == XSMTP_OK)
        sent = s->queries_sent;
    free(s);
    return sent;
}

/* Acts once every worker has had a query written (so the signal or the stop
 * really lands on queries in flight, however slowly the threads got going
 * on a busy machine), and no sooner than 300 ms after the start (so killmid's
 * workers have been through many round trips).  Gives up waiting after 60 s;
 * the tally then shows what went wrong. */
static void
send_signal_later(void *arg)
{
    struct signal_action *action = arg;
    double start = now_ms();

    usleep(300000);
    while (queries_sent_now() - action->sent_before < action->threads && now_ms() - start < 60000)
        usleep(1000);
    action->at_ms = now_ms();
    if (action->pid > 0)
        kill(action->pid, action->signo);
    else
        xclient_stop(probe.client); /* stopmid */
}

void
cmd_killmid(char **w, int n)
{
    struct signal_action action = {.pid = 0};
    struct tally tally = {.used = 0};
    int threads;

    if (n != 6 || (action.pid = (pid_t)atol(w[1])) <= 0 || (threads = atoi(w[3])) <= 0) {
        printf("usage: killmid PID SIG THREADS JID MS\n");
        return;
    }
    action.signo = atoi(w[2]);
    action.threads = (unsigned long)threads;
    action.sent_before = queries_sent_now();
    run_workers(threads, 0, 0, true, w[4], atol(w[5]), NULL, &tally, send_signal_later, &action);
    printf("killmid ");
    tally_print(&tally, stdout);
    printf(" last_end_after_signal_ms=%.1f\n", tally.last_end_ms - action.at_ms);
}

void
cmd_stopmid(char **w, int n)
{
    struct signal_action action = {.pid = 0};
    struct tally tally = {.used = 0};
    int threads;

    if (n != 4 || (threads = atoi(w[1])) <= 0 || probe.client == NULL) {
        printf("usage: stopmid THREADS JID MS (client started)\n");
        return;
    }
    action.threads = (unsigned long)threads;
    action.sent_before = queries_sent_now();
    run_workers(threads, 1, 0, false, w[2], atol(w[3]), NULL, &tally, send_signal_later, &action);
    probe.client = NULL;
    printf("stopmid ");
    tally_print(&tally, stdout);
    printf(" last_end_after_stop_ms=%.1f\n", tally.last_end_ms - action.at_ms);
}

void
cmd_until(char **w, int n)
{
    struct query_values *qv = malloc(sizeof *qv);
    struct xsmtp_query query;
    struct xclient_answer answer;
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
        if (xclient_verify(probe.client, w[2], &query, &deadline, &answer) == XSMTP_OK &&
            answer.verdict == XSMTP_VERDICT_PASS) {
            printf("reached after %.2f s\n", (now_ms() - start) / 1e3);
            free(qv);
            return;
        }
        usleep(50000);
    }
    printf("not reached in %s s\n", w[1]);
    free(qv);
}
