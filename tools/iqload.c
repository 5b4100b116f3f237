/*
 * iqload.c -- the raw pipelined verify-IQ rate of an XMPP server and an
 * xsmtp component: the baseline tools/bench sets verify-miss against.
 *
 * A plain libstrophe client (not the verifier's client library, so the
 * number is the server's and component's, not ours) logs in, then keeps
 * WINDOW XSMTP-1 s6 verify queries in flight -- each from a different line
 * of a pre-signed file, so the component checks a real MAC every time --
 * until N answers are in.  It reports answers per second, round-trip
 * percentiles and the verdicts, as a table and as flat JSON.
 *
 *   iqload --server 127.0.0.1 --port 5222 --jid u@b.test/r --password-file F
 *          --to xsmtp.a.test --signed FILE [-n 5000] [-w 100] [--json FILE]
 *
 * libstrophe 0.12: stream management off (acks stall every query), one
 * permanent iq handler (xmpp_id_handler_add leaks), no per-request timers
 * (deleting one scans them all).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <strophe.h>

#include "tools/milterload.h"

struct iqload {
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    const char *to;
    const char *relay;
    const struct ml_signed_list *list;
    unsigned long total, window, sent, answered, pass, other, errors;
    uint64_t *sent_ns;
    uint32_t *rtt_us;
    int state; /* 0 connecting, 1 up, -1 failed */
};

static uint64_t
now_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Appends value with XML's five special characters escaped. */
static size_t
put_escaped(char *out, size_t room, const char *value)
{
    size_t used = 0;

    for (; *value != '\0'; value++) {
        const char *text = NULL;
        char one[2] = {*value, '\0'};

        switch (*value) {
        case '&': text = "&amp;"; break;
        case '<': text = "&lt;"; break;
        case '>': text = "&gt;"; break;
        case '\'': text = "&apos;"; break;
        case '"': text = "&quot;"; break;
        default: text = one; break;
        }
        size_t len = strlen(text);
        if (used + len >= room)
            return room;
        memcpy(out + used, text, len);
        used += len;
    }
    out[used] = '\0';
    return used;
}

static void
send_query(struct iqload *load)
{
    const struct ml_signed *item = &load->list->items[load->sent % load->list->count];
    const char *names[] = {"identity", "message-id", "from", "t", "ip", "k", "bh", "h"};
    const char *values[] = {item->identity, item->msgid, item->from, item->t,
                            item->ip,       item->k,     item->bh,   item->h};
    char stanza[4096];
    size_t used;

    used = (size_t)snprintf(stanza, sizeof stanza,
                            "<iq type='get' id='q%lu' to='%s'><verify xmlns='urn:xmpp:xsmtp:1'",
                            load->sent, load->to);
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used < sizeof stanza; i++) {
        used += (size_t)snprintf(stanza + used, sizeof stanza - used, " %s='", names[i]);
        if (used < sizeof stanza)
            used += put_escaped(stanza + used, sizeof stanza - used, values[i]);
        if (used < sizeof stanza)
            used += (size_t)snprintf(stanza + used, sizeof stanza - used, "'");
    }
    if (used < sizeof stanza && load->relay != NULL)
        used += (size_t)snprintf(stanza + used, sizeof stanza - used, " relay='%s'", load->relay);
    if (used < sizeof stanza)
        used += (size_t)snprintf(stanza + used, sizeof stanza - used, "/></iq>");
    if (used >= sizeof stanza) {
        load->errors++;
        load->state = -1;
        return;
    }
    load->sent_ns[load->sent++] = now_ns();
    xmpp_send_raw(load->conn, stanza, used);
}

static int
on_iq(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct iqload *load = userdata;
    const char *id = xmpp_stanza_get_id(stanza), *type = xmpp_stanza_get_type(stanza);
    xmpp_stanza_t *verdict;
    const char *result;
    char *end;
    unsigned long index;

    (void)conn;
    if (id == NULL || id[0] != 'q' || type == NULL ||
        (strcmp(type, "result") != 0 && strcmp(type, "error") != 0))
        return 1;
    index = strtoul(id + 1, &end, 10);
    if (*end != '\0' || index >= load->sent)
        return 1;
    load->rtt_us[load->answered++] = (uint32_t)((now_ns() - load->sent_ns[index]) / 1000u);
    verdict = xmpp_stanza_get_child_by_name(stanza, "verdict");
    result = verdict != NULL ? xmpp_stanza_get_attribute(verdict, "result") : NULL;
    if (strcmp(type, "result") == 0 && result != NULL && strcmp(result, "pass") == 0)
        load->pass++;
    else
        load->other++;
    if (load->sent < load->total)
        send_query(load);
    return 1;
}

static void
on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error, xmpp_stream_error_t *stream_error,
        void *userdata)
{
    struct iqload *load = userdata;

    (void)error;
    (void)stream_error;
    if (event == XMPP_CONN_CONNECT) {
        xmpp_handler_add(conn, on_iq, NULL, "iq", NULL, load);
        load->state = 1;
    } else {
        load->state = -1;
    }
}

static int
compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *sorted, unsigned long count, unsigned p)
{
    unsigned long rank = (unsigned long)(((unsigned long long)count * p + 99) / 100);

    return count == 0 ? 0.0 : sorted[(rank > 0 ? rank : 1) - 1] / 1000.0;
}

/* Our own CPU time (user + system), seconds. */
static double
cpu_seconds(void)
{
    struct rusage usage;

    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0.0;
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static bool
read_password(const char *path, char *out, size_t outsz)
{
    FILE *in = fopen(path, "r");
    bool ok = in != NULL && fgets(out, (int)outsz, in) != NULL;

    if (in != NULL)
        fclose(in);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 'S'},
        {"port", required_argument, NULL, 'P'},
        {"jid", required_argument, NULL, 'j'},
        {"password-file", required_argument, NULL, 'p'},
        {"to", required_argument, NULL, 't'},
        {"signed", required_argument, NULL, 'f'},
        {"relay", required_argument, NULL, 'r'},
        {"json", required_argument, NULL, 'J'},
        {"label", required_argument, NULL, 'l'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *server = "127.0.0.1", *jid = NULL, *password_file = NULL, *signed_path = NULL;
    const char *json_path = NULL, *label = "iq";
    unsigned short port = 5222;
    unsigned long timeout_ms = 60000;
    struct ml_signed_list list = {NULL, 0};
    struct iqload load = {.total = 5000, .window = 100};
    char password[256], err[256];
    uint64_t start, deadline;
    double seconds, cpu_start, cpu_used;
    int option, status;

    while ((option = getopt_long(argc, argv, "n:w:", longopts, NULL)) != -1) {
        switch (option) {
        case 'S': server = optarg; break;
        case 'P': port = (unsigned short)strtoul(optarg, NULL, 10); break;
        case 'j': jid = optarg; break;
        case 'p': password_file = optarg; break;
        case 't': load.to = optarg; break;
        case 'f': signed_path = optarg; break;
        case 'r': load.relay = optarg; break;
        case 'J': json_path = optarg; break;
        case 'l': label = optarg; break;
        case 'T': timeout_ms = strtoul(optarg, NULL, 10); break;
        case 'n': load.total = strtoul(optarg, NULL, 10); break;
        case 'w': load.window = strtoul(optarg, NULL, 10); break;
        default: return 2;
        }
    }
    if (jid == NULL || password_file == NULL || load.to == NULL || signed_path == NULL ||
        load.total == 0 || load.window == 0 || port == 0 || strchr(load.to, '\'') != NULL ||
        (load.relay != NULL && strchr(load.relay, '\'') != NULL) ||
        strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789-_.:=") != strlen(label)) {
        fprintf(stderr, "usage: iqload --jid J --password-file F --to COMPONENT --signed FILE "
                        "[--server H] [--port P] [-n N] [-w WINDOW] [--relay IP] [--json FILE]\n");
        return 2;
    }
    if (!read_password(password_file, password, sizeof password) ||
        !ml_signed_load(signed_path, &list, err, sizeof err)) {
        fprintf(stderr, "iqload: cannot read the password file or %s\n", signed_path);
        return 2;
    }
    load.list = &list;
    load.sent_ns = calloc(load.total, sizeof *load.sent_ns);
    load.rtt_us = calloc(load.total, sizeof *load.rtt_us);
    xmpp_initialize();
    load.ctx = xmpp_ctx_new(NULL, NULL);
    load.conn = load.ctx != NULL ? xmpp_conn_new(load.ctx) : NULL;
    if (load.sent_ns == NULL || load.rtt_us == NULL || load.conn == NULL)
        return 2;
    xmpp_conn_set_flags(load.conn, XMPP_CONN_FLAG_DISABLE_SM);
    xmpp_conn_set_jid(load.conn, jid);
    xmpp_conn_set_pass(load.conn, password);
    if (xmpp_connect_client(load.conn, server, port, on_conn, &load) != XMPP_EOK) {
        fprintf(stderr, "iqload: cannot connect to %s:%u\n", server, (unsigned)port);
        return 2;
    }
    deadline = now_ns() + 10000000000u;
    while (load.state == 0 && now_ns() < deadline)
        xmpp_run_once(load.ctx, 5);
    if (load.state != 1) {
        fprintf(stderr, "iqload: no XMPP session as %s\n", jid);
        return 2;
    }
    start = now_ns();
    cpu_start = cpu_seconds();
    deadline = start + (uint64_t)timeout_ms * 1000000u;
    while (load.sent < load.window && load.sent < load.total)
        send_query(&load);
    while (load.answered < load.total && load.state == 1 && now_ns() < deadline)
        xmpp_run_once(load.ctx, 1);
    seconds = (double)(now_ns() - start) / 1e9;
    cpu_used = cpu_seconds() - cpu_start;
    qsort(load.rtt_us, load.answered, sizeof *load.rtt_us, compare_u32);
    load.errors += load.total - load.answered + load.other;
    printf("iqload %s: %lu queries, window %lu: %.1f answers/s (%.3f s), rtt ms p50 %.3f "
           "p90 %.3f p99 %.3f max %.3f, pass %lu, other %lu, unanswered %lu\n",
           label, load.total, load.window, load.answered / seconds, seconds,
           pct(load.rtt_us, load.answered, 50), pct(load.rtt_us, load.answered, 90),
           pct(load.rtt_us, load.answered, 99), pct(load.rtt_us, load.answered, 100), load.pass,
           load.other, load.total - load.answered);
    if (json_path != NULL) {
        FILE *out = fopen(json_path, "w");

        if (out == NULL)
            return 2;
        fprintf(out,
                "{\n  \"label\": \"%s\",\n  \"queries\": %lu,\n  \"window\": %lu,\n"
                "  \"seconds\": %.6f,\n  \"answers_per_s\": %.1f,\n  \"p50_ms\": %.3f,\n"
                "  \"p99_ms\": %.3f,\n  \"pass\": %lu,\n  \"errors\": %lu,\n"
                "  \"client_cpu_us_per_iq\": %.1f\n}\n",
                label, load.total, load.window, seconds, load.answered / seconds,
                pct(load.rtt_us, load.answered, 50), pct(load.rtt_us, load.answered, 99), load.pass,
                load.errors, cpu_used * 1e6 / (double)load.total);
        fclose(out);
    }
    status = load.errors == 0 ? 0 : 1;
    xmpp_disconnect(load.conn);
    for (int i = 0; i < 100 && load.state == 1; i++)
        xmpp_run_once(load.ctx, 5);
    xmpp_conn_release(load.conn);
    xmpp_ctx_free(load.ctx);
    xmpp_shutdown();
    ml_signed_free(&list);
    free(load.sent_ns);
    free(load.rtt_us);
    return status;
}
