/*
 * xclient_probe.c -- drives the verifier's XMPP client (xmpp/client/client.h)
 * for tests/integration/test_xmpp_client.sh, against a real Prosody and xsmtp-component.
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
 *   load N THREADS JID MS [same-deadline]   N verifies from THREADS threads: counts per
 *                                      outcome (same-deadline: all due at one instant)
 *   rtt N JID MS                       N sequential verifies: latency percentiles
 *   killmid PID SIG THREADS JID MS     threads verify in a loop; PID gets SIG; how they end
 *   stopmid THREADS JID MS             threads verify; the client is stopped under them
 *   until SECONDS JID                  verify every 50 ms until pass
 *   notice JID IDENTITY MSGID STATUS BY T   /   notices N JID
 *   stats                              the counters
 * The commands that run many calls at once are in xclient_probe_load.c.
 *   sleep MS                           "slept"
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hash/util/log.h"
#include "tests/integration/xclient_probe.h"

#define LINE_MAX_LEN 65536
#define MAX_WORDS 64

struct probe probe;

static const char *const attr_names[9] = {"identity", "message-id", "from", "t",    "ip",
                                          "k",        "bh",         "h",    "relay"};

double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct timespec
deadline_in(long ms)
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

static int
hexval(char c)
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
static void
unescape(char *s)
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

bool
build_query(struct query_values *qv, char **words, int count, struct xsmtp_query *query)
{
    const char **fields[9] = {&query->identity, &query->message_id, &query->from,
                              &query->t,        &query->ip,         &query->k,
                              &query->bh,       &query->h,          &query->relay};
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

void
describe(const struct xclient_answer *answer, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s%s", xsmtp_verdict_name(answer->verdict),
             answer->reason[0] != '\0' ? " " : "", answer->reason);
}

/* ---- commands ------------------------------------------------------------------ */

static void
cmd_start(char **w, int n)
{
    struct xclient_options options = probe.options;
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
    options.logger = log_logger();
    status = xclient_start(&options, &probe.client, err, sizeof err);
    if (status == XSMTP_OK)
        printf("start ok\n");
    else
        printf("start %s: %s\n", xsmtp_status_str(status), err);
}

static void
cmd_verify(char **w, int n, bool timed)
{
    struct query_values *qv = malloc(sizeof *qv);
    struct xsmtp_query query;
    struct xclient_answer answer;
    struct timespec deadline;
    xsmtp_status status;
    char text[128];
    double start;

    if (qv == NULL || n < 3 || !build_query(qv, w + 3, n - 3, &query)) {
        printf("usage: verify JID MS [NAME=VALUE...]\n");
        free(qv);
        return;
    }
    /* The clock starts before the deadline is computed, so a call that ends
     * at its deadline never shows less than MS, however long this thread
     * was descheduled in between. */
    start = now_ms();
    deadline = deadline_in(atol(w[2]));
    status = xclient_verify(probe.client, w[1], &query, &deadline, &answer);
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

static void
cmd_discover(char **w, int n)
{
    struct xclient_discovery answer;
    struct timespec deadline;
    xsmtp_status status;

    if (n != 3) {
        printf("usage: discover DOMAIN MS\n");
        return;
    }
    deadline = deadline_in(atol(w[2]));
    status = xclient_discover(probe.client, w[1], &deadline, &answer);
    if (status != XSMTP_OK)
        printf("status %s\n", xsmtp_status_str(status));
    else if (answer.outcome == XCLIENT_DISCOVERY_FOUND)
        printf("found %s items=%u\n", answer.jid, answer.items);
    else if (answer.outcome == XCLIENT_DISCOVERY_NONE)
        printf("none %s items=%u\n", answer.reason, answer.items);
    else
        printf("tempfail %s\n", answer.reason);
}

static void
cmd_notice(char **w, int n)
{
    struct xclient_notice notice;
    xsmtp_status status;
    int i;

    if (n != 7) {
        printf("usage: notice JID IDENTITY MSGID STATUS BY T\n");
        return;
    }
    for (i = 2; i < 7; i++)
        unescape(w[i]);
    notice = (struct xclient_notice){w[2], w[3], w[4], w[5], w[6]};
    status = xclient_send_notice(probe.client, w[1], &notice);
    printf("notice %s\n", xsmtp_status_str(status));
}

static void
cmd_notices(char **w, int n)
{
    struct xclient_notice notice = {"alice@a.test", "burst@a.test", "accepted", "b.test",
                                    "1795356007"};
    unsigned long count, i, ok = 0, full = 0, other = 0;
    xsmtp_status status;

    if (n != 3 || (count = strtoul(w[1], NULL, 10)) == 0) {
        printf("usage: notices N JID\n");
        return;
    }
    for (i = 0; i < count; i++) {
        status = xclient_send_notice(probe.client, w[2], &notice);
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

static void
cmd_stats(void)
{
    struct xclient_stats *s = malloc(sizeof *s);

    if (s == NULL || xclient_get_stats(probe.client, s) != XSMTP_OK) {
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

static void
dispatch(char **w, int n)
{
    if (strcmp(w[0], "start") == 0) {
        cmd_start(w, n);
    } else if (strcmp(w[0], "stop") == 0) {
        xclient_stop(probe.client);
        probe.client = NULL;
        printf("stopped\n");
    } else if (strcmp(w[0], "sleep") == 0 && n == 2) {
        usleep((useconds_t)atol(w[1]) * 1000);
        printf("slept\n");
    } else if (probe.client == NULL && strcmp(w[0], "set") != 0) {
        printf("not started\n");
    } else if (strcmp(w[0], "connected") == 0 && n == 2) {
        struct timespec deadline = deadline_in(atol(w[1]));

        printf("%s\n", xclient_wait_connected(probe.client, &deadline) == XSMTP_OK
                           ? "connected"
                           : "not-connected");
    } else if (strcmp(w[0], "set") == 0) {
        struct query_values *qv = malloc(sizeof *qv);
        struct xsmtp_query ignored;

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

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"jid", required_argument, NULL, 'j'},
        {"password-file", required_argument, NULL, 'p'},
        {"server", required_argument, NULL, 's'},
        {"port", required_argument, NULL, 'P'},
        {"tls", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'c'},
        {"trust", no_argument, NULL, 'T'},
        {"max-pending", required_argument, NULL, 'm'},
        {"notice-queue", required_argument, NULL, 'n'},
        {"keepalive-idle", required_argument, NULL, 'k'},
        {"keepalive-timeout", required_argument, NULL, 'K'},
        {"debug", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
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
            probe.options.tls =
                strcmp(optarg, "optional") == 0 ? XCLIENT_TLS_OPTIONAL : XCLIENT_TLS_REQUIRED;
            break;
        case 'c': probe.options.ca_file = optarg; break;
        case 'T': probe.options.tls_trust = true; break;
        case 'm': probe.options.max_pending = (unsigned)atoi(optarg); break;
        case 'n': probe.options.notice_queue_max = (unsigned)atoi(optarg); break;
        case 'k': probe.options.keepalive_idle_s = (unsigned)atoi(optarg); break;
        case 'K': probe.options.keepalive_timeout_s = (unsigned)atoi(optarg); break;
        case 'd': level = LOG_DEBUG; break;
        default:
            fprintf(stderr, "usage: xclient_probe --jid J --password-file F [--server H] "
                            "[--port P] [--tls required|optional] [--ca-file F] [--trust] "
                            "[--max-pending N] [--notice-queue N] [--keepalive-idle S] "
                            "[--keepalive-timeout S] [--debug]\n");
            return 2;
        }
    }
    log_open("xclient_probe", LOG_USER, level, true);
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
    xclient_stop(probe.client);
    log_close();
    return 0;
}
