/*
 * milterload.c -- a load generator for milters: it plays the MTA's side of
 * the milter protocol (version 6) over C concurrent connections until N
 * messages are through, checks every answer, and reports messages per
 * second, latency percentiles, reply counts and the milter's peak RSS.
 *
 *   milterload -s unix:/path/milter.sock -n 3000 -c 32 --expect sign \
 *              --key s1:BASE64 --pid 1234 --json run.json
 *   milterload --write-signed FILE -n 3000 --key s1:BASE64 [--tag T]
 *   milterload --write-message FILE [--signed FILE]   (for smtp-source -F)
 *
 * See usage() for every option and docs/PERFORMANCE.md for how tools/bench
 * uses it.  Exit status: 0 when every message got a correct answer, 1 when
 * some did not, 2 when the run could not be made.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "tools/milterload.h"

#define TICK_MS 50

struct options {
    const char *socket;
    unsigned long messages;
    unsigned concurrency;
    unsigned per_conn;
    const char *client_ip;
    const char *client_name;
    const char *auth;
    const char *domain;
    unsigned users;
    const char *tag;
    const char *signed_path;
    const char *expect;
    const char *key_spec;
    const char *key_file;
    const char *sign_ip;
    const char *dkim_domain;
    long pid;
    const char *label;
    const char *json_path;
    bool quiet;
    unsigned timeout_ms;
    unsigned errors_shown;
    bool nodelay;
    const char *write_signed;
    const char *write_message;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: milterload -s SOCKET [options]        load a milter\n"
            "       milterload --write-signed FILE [options]   write pre-signed messages\n"
            "       milterload --write-message FILE [options]  write message 0 as text\n"
            "                  (LF line ends: the input of smtp-source -F)\n"
            "  -s, --socket SPEC       unix:/PATH (local:/PATH), inet:PORT@IPV4, inet6:PORT@IPV6\n"
            "  -n, --messages N        messages to send (default 1000)\n"
            "  -c, --concurrency C     connections at once (default 1)\n"
            "      --per-connection K  messages per milter connection (default 1)\n"
            "      --client-ip ADDR    SMTP client address (default 127.0.0.1: internal)\n"
            "      --client-name NAME  SMTP client name and HELO (default client.example)\n"
            "      --auth USER         send {auth_authen}=USER at MAIL (authenticated client)\n"
            "      --domain D          sender domain of generated messages (default a.test)\n"
            "      --users U           distinct senders user0..user<U-1>@D (default 100)\n"
            "      --tag T             Message-ID prefix, unique per run (default random)\n"
            "      --signed FILE       messages from FILE (pre-signed, with X-XMPP-* headers)\n"
            "      --expect MODE       any | none | noop | sign | dkim | verify:VERDICT\n"
            "      --key ID:SECRET     key (base64 secret) to check h= or to sign with\n"
            "      --key-file FILE     the same from the first line of FILE (not on the\n"
            "                          command line, where other users may read it)\n"
            "      --sign-ip IP        ip= to expect (sign; default the client address) or to\n"
            "                          write (--write-signed; default 192.0.2.10)\n"
            "      --dkim-domain D     d= to expect from a DKIM signer (default --domain)\n"
            "      --pid PID           the milter's pid: peak RSS and CPU from /proc\n"
            "      --label L           name of the run in the report\n"
            "      --json FILE         also write the report as JSON (- for stdout)\n"
            "      --quiet             no table\n"
            "      --timeout-ms MS     longest wait for one reply (default 10000)\n"
            "      --errors-shown K    print the first K errors in full (default 10)\n"
            "      --nodelay           TCP_NODELAY on our side (Postfix leaves it off)\n");
}

static bool
parse_ulong(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < min || value > max)
        return false;
    *out = value;
    return true;
}

static bool
parse_options(int argc, char **argv, struct options *opt)
{
    enum {
        O_PER = 256,
        O_CIP,
        O_CNAME,
        O_AUTH,
        O_DOMAIN,
        O_USERS,
        O_TAG,
        O_SIGNED,
        O_EXPECT,
        O_KEY,
        O_SIGNIP,
        O_DKIM,
        O_PID,
        O_LABEL,
        O_JSON,
        O_QUIET,
        O_TIMEOUT,
        O_SHOWN,
        O_NODELAY,
        O_WRITE,
        O_WRITE_MESSAGE,
        O_KEY_FILE,
        O_HELP
    };
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"messages", required_argument, NULL, 'n'},
        {"concurrency", required_argument, NULL, 'c'},
        {"per-connection", required_argument, NULL, O_PER},
        {"client-ip", required_argument, NULL, O_CIP},
        {"client-name", required_argument, NULL, O_CNAME},
        {"auth", required_argument, NULL, O_AUTH},
        {"domain", required_argument, NULL, O_DOMAIN},
        {"users", required_argument, NULL, O_USERS},
        {"tag", required_argument, NULL, O_TAG},
        {"signed", required_argument, NULL, O_SIGNED},
        {"expect", required_argument, NULL, O_EXPECT},
        {"key", required_argument, NULL, O_KEY},
        {"key-file", required_argument, NULL, O_KEY_FILE},
        {"sign-ip", required_argument, NULL, O_SIGNIP},
        {"dkim-domain", required_argument, NULL, O_DKIM},
        {"pid", required_argument, NULL, O_PID},
        {"label", required_argument, NULL, O_LABEL},
        {"json", required_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, O_QUIET},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"errors-shown", required_argument, NULL, O_SHOWN},
        {"nodelay", no_argument, NULL, O_NODELAY},
        {"write-signed", required_argument, NULL, O_WRITE},
        {"write-message", required_argument, NULL, O_WRITE_MESSAGE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    unsigned long value;
    int option;

    while ((option = getopt_long(argc, argv, "s:n:c:", longopts, NULL)) != -1) {
        switch (option) {
        case 's': opt->socket = optarg; break;
        case 'n':
            if (!parse_ulong(optarg, 1, 100000000, &opt->messages))
                return false;
            break;
        case 'c':
            if (!parse_ulong(optarg, 1, 5000, &value))
                return false;
            opt->concurrency = (unsigned)value;
            break;
        case O_PER:
            if (!parse_ulong(optarg, 1, 1000000, &value))
                return false;
            opt->per_conn = (unsigned)value;
            break;
        case O_CIP: opt->client_ip = optarg; break;
        case O_CNAME: opt->client_name = optarg; break;
        case O_AUTH: opt->auth = optarg; break;
        case O_DOMAIN: opt->domain = optarg; break;
        case O_USERS:
            if (!parse_ulong(optarg, 1, 1000000, &value))
                return false;
            opt->users = (unsigned)value;
            break;
        case O_TAG: opt->tag = optarg; break;
        case O_SIGNED: opt->signed_path = optarg; break;
        case O_EXPECT: opt->expect = optarg; break;
        case O_KEY: opt->key_spec = optarg; break;
        case O_KEY_FILE: opt->key_file = optarg; break;
        case O_SIGNIP: opt->sign_ip = optarg; break;
        case O_DKIM: opt->dkim_domain = optarg; break;
        case O_PID:
            if (!parse_ulong(optarg, 1, 4194304, &value))
                return false;
            opt->pid = (long)value;
            break;
        case O_LABEL: opt->label = optarg; break;
        case O_JSON: opt->json_path = optarg; break;
        case O_QUIET: opt->quiet = true; break;
        case O_TIMEOUT:
            if (!parse_ulong(optarg, 1, 3600000, &value))
                return false;
            opt->timeout_ms = (unsigned)value;
            break;
        case O_SHOWN:
            if (!parse_ulong(optarg, 0, 1000000, &value))
                return false;
            opt->errors_shown = (unsigned)value;
            break;
        case O_NODELAY: opt->nodelay = true; break;
        case O_WRITE: opt->write_signed = optarg; break;
        case O_WRITE_MESSAGE: opt->write_message = optarg; break;
        case O_HELP: usage(stdout); exit(0);
        default: return false;
        }
    }
    if (optind != argc)
        return false;
    /* The label goes into JSON unquoted-safe: keep it to a plain alphabet. */
    if (strspn(opt->label,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:=/") !=
        strlen(opt->label))
        return false;
    return opt->write_signed != NULL || opt->write_message != NULL || opt->socket != NULL;
}

/* unix:/PATH, local:/PATH, inet:PORT@IPV4, inet6:PORT@IPV6 */
static bool
parse_socket(const char *spec, struct ml_run *run)
{
    const char *at;
    unsigned long port;
    char host[64], port_text[8];

    memset(&run->address, 0, sizeof run->address);
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&run->address;
        const char *path = strchr(spec, ':') + 1;

        if (path[0] != '/' || strlen(path) >= sizeof un->sun_path)
            return false;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, path, strlen(path) + 1);
        run->address_len = (socklen_t)sizeof *un;
        return true;
    }
    bool six = strncmp(spec, "inet6:", 6) == 0;
    if (!six && strncmp(spec, "inet:", 5) != 0)
        return false;
    spec += six ? 6 : 5;
    at = strchr(spec, '@');
    if (at == NULL || (size_t)(at - spec) >= sizeof port_text || strlen(at + 1) >= sizeof host)
        return false;
    memcpy(port_text, spec, (size_t)(at - spec));
    port_text[at - spec] = '\0';
    snprintf(host, sizeof host, "%s", at + 1);
    if (!parse_ulong(port_text, 1, 65535, &port))
        return false;
    if (six) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&run->address;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        run->address_len = (socklen_t)sizeof *in6;
        return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)&run->address;
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    run->address_len = (socklen_t)sizeof *in4;
    return inet_pton(AF_INET, host, &in4->sin_addr) == 1;
}

/* --key-file: "ID:SECRET" on the first line of path. */
static bool
read_key_file(const char *path, struct ml_key *key, char *err, size_t errsz)
{
    FILE *in = fopen(path, "r");
    char line[512];
    bool ok;

    if (in == NULL || fgets(line, sizeof line, in) == NULL) {
        snprintf(err, errsz, "cannot read a key from %s", path);
        if (in != NULL)
            fclose(in);
        return false;
    }
    fclose(in);
    line[strcspn(line, "\r\n")] = '\0';
    ok = ml_key_parse(line, key, err, errsz);
    OPENSSL_cleanse(line, sizeof line);
    return ok;
}

static double
cpu_seconds(void)
{
    struct rusage usage;

    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0.0;
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* --write-signed: N pre-signed messages, MACs made with --key. */
static int
write_signed(const struct options *opt, const struct ml_corpus *corpus, const struct ml_key *key)
{
    FILE *out = strcmp(opt->write_signed, "-") == 0 ? stdout : fopen(opt->write_signed, "w");
    struct ml_signed item;
    long long now = (long long)time(NULL);

    if (out == NULL) {
        fprintf(stderr, "milterload: %s: %s\n", opt->write_signed, strerror(errno));
        return 2;
    }
    fprintf(out, "# milterload pre-signed messages: identity msgid from t ip k bh h body-index\n");
    for (unsigned long i = 0; i < opt->messages; i++) {
        if (!ml_signed_make(corpus, key, i, opt->sign_ip != NULL ? opt->sign_ip : "192.0.2.10", now,
                            &item) ||
            !ml_signed_write_line(out, &item)) {
            fprintf(stderr, "milterload: cannot write pre-signed message %lu\n", i);
            return 2;
        }
    }
    if ((out != stdout && fclose(out) != 0) || (out == stdout && fflush(out) != 0)) {
        fprintf(stderr, "milterload: %s: write error\n", opt->write_signed);
        return 2;
    }
    return 0;
}

/* --write-message: message 0 as RFC 5322 text with LF line ends. */
static int
write_message(const struct options *opt, const struct ml_corpus *corpus)
{
    FILE *out = fopen(opt->write_message, "w");
    struct ml_message *message = malloc(sizeof *message);
    int status = 2;

    if (out != NULL && message != NULL && ml_message_build(corpus, 0, message)) {
        for (size_t i = 0; i < message->header_count; i++)
            fprintf(out, "%s: %s\n", message->headers[i].name, message->headers[i].value);
        fputc('\n', out);
        for (size_t i = 0; i < ML_BODY_SIZE; i++) {
            if (message->body->data[i] != '\r')
                fputc(message->body->data[i], out);
        }
        status = ferror(out) ? 2 : 0;
    }
    if (out == NULL || fclose(out) != 0)
        status = 2;
    if (status != 0)
        fprintf(stderr, "milterload: cannot write %s\n", opt->write_message);
    free(message);
    return status;
}

static bool
run_loop(struct ml_run *run)
{
    struct epoll_event events[256];
    uint64_t next_tick = ml_now_ns() + TICK_MS * 1000000u;

    for (unsigned i = 0; i < run->concurrency; i++)
        run->idle[run->idle_count++] = &run->conns[i];
    for (;;) {
        while (run->idle_count > 0 && !run->fatal && run->next_index < run->messages)
            (void)ml_conn_start(run, run->idle[--run->idle_count]);
        if (run->fatal)
            return false;
        if (run->active == 0)
            return true;
        int ready = epoll_wait(run->epoll_fd, events, 256, TICK_MS / 5);
        if (ready < 0 && errno != EINTR) {
            perror("milterload: epoll_wait");
            return false;
        }
        for (int i = 0; i < ready; i++)
            ml_conn_event(run, events[i].data.ptr, events[i].events);
        uint64_t now = ml_now_ns();
        if (now >= next_tick || run->stats->connect_retries > 0) {
            for (unsigned i = 0; i < run->concurrency; i++)
                ml_conn_tick(run, &run->conns[i], now);
            next_tick = now + TICK_MS * 1000000u;
        }
    }
}

static int
load(const struct options *opt, const struct ml_corpus *corpus, const struct ml_expect *expect)
{
    struct ml_stats stats;
    struct ml_run run = {
        .messages = opt->messages,
        .concurrency = opt->concurrency,
        .per_conn = opt->per_conn,
        .client_ip = opt->client_ip,
        .client_name = opt->client_name,
        .auth = opt->auth,
        .timeout_ms = opt->timeout_ms,
        .nodelay = opt->nodelay,
        .errors_shown_max = opt->errors_shown,
        .corpus = corpus,
        .expect = expect,
        .stats = &stats,
    };
    struct ml_report_info info = {
        .label = opt->label,
        .socket = opt->socket,
        .concurrency = opt->concurrency,
        .per_conn = opt->per_conn,
        .expect = opt->expect,
        .pid = (pid_t)opt->pid,
    };
    unsigned char probe[16];
    uint64_t start;
    double cpu_start;
    bool finished;
    int status;

    if (!parse_socket(opt->socket, &run)) {
        fprintf(stderr, "milterload: bad socket '%s'\n", opt->socket);
        return 2;
    }
    run.client_family = inet_pton(AF_INET, opt->client_ip, probe) == 1    ? AF_INET
                        : inet_pton(AF_INET6, opt->client_ip, probe) == 1 ? AF_INET6
                                                                          : 0;
    if (run.client_family == 0) {
        fprintf(stderr, "milterload: --client-ip is not an address\n");
        return 2;
    }
    if (!ml_stats_init(&stats, opt->messages))
        return 2;
    run.conns = calloc(opt->concurrency, sizeof *run.conns);
    run.idle = calloc(opt->concurrency, sizeof *run.idle);
    run.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (run.conns == NULL || run.idle == NULL || run.epoll_fd < 0) {
        fprintf(stderr, "milterload: out of memory or epoll\n");
        return 2;
    }
    for (unsigned i = 0; i < opt->concurrency; i++)
        run.conns[i].fd = -1;
    if (opt->pid > 0)
        (void)ml_proc_read((pid_t)opt->pid, &stats.milter_before);
    cpu_start = cpu_seconds();
    start = ml_now_ns();
    finished = run_loop(&run);
    stats.seconds = (double)(ml_now_ns() - start) / 1e9;
    stats.driver_cpu_seconds = cpu_seconds() - cpu_start;
    if (opt->pid > 0 && !ml_proc_read((pid_t)opt->pid, &stats.milter_after))
        fprintf(stderr, "milterload: cannot read /proc/%ld\n", opt->pid);
    if (!opt->quiet)
        ml_stats_print_table(&stats, &info, stdout);
    if (opt->json_path != NULL) {
        FILE *out = strcmp(opt->json_path, "-") == 0 ? stdout : fopen(opt->json_path, "w");

        if (out == NULL || !ml_stats_write_json(&stats, &info, out) ||
            (out != stdout && fclose(out) != 0)) {
            fprintf(stderr, "milterload: cannot write %s\n", opt->json_path);
            finished = false;
        }
    }
    status = !finished ? 2 : stats.errors > 0 || stats.ok != stats.planned ? 1 : 0;
    for (unsigned i = 0; i < opt->concurrency; i++)
        ml_conn_free(&run.conns[i]);
    free(run.conns);
    free(run.idle);
    close(run.epoll_fd);
    ml_stats_free(&stats);
    return status;
}

int
main(int argc, char **argv)
{
    struct options opt = {
        .messages = 1000,
        .concurrency = 1,
        .per_conn = 1,
        .client_ip = "127.0.0.1",
        .client_name = "client.example",
        .domain = "a.test",
        .users = 100,
        .expect = "any",
        .label = "run",
        .timeout_ms = 10000,
        .errors_shown = 10,
    };
    struct ml_signed_list signed_list = {NULL, 0};
    struct ml_corpus corpus;
    struct ml_expect expect;
    struct ml_key key;
    char err[256], tag[24];
    unsigned char random_bytes[4];
    int status;

    if (!parse_options(argc, argv, &opt)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (opt.tag == NULL) {
        if (getrandom(random_bytes, sizeof random_bytes, 0) != (ssize_t)sizeof random_bytes)
            return 2;
        snprintf(tag, sizeof tag, "ml%02x%02x%02x%02x", random_bytes[0], random_bytes[1],
                 random_bytes[2], random_bytes[3]);
        opt.tag = tag;
    }
    if (!ml_expect_parse(opt.expect, &expect, err, sizeof err) ||
        (opt.key_spec != NULL && !ml_key_parse(opt.key_spec, &key, err, sizeof err)) ||
        (opt.key_file != NULL && !read_key_file(opt.key_file, &key, err, sizeof err)) ||
        (opt.signed_path != NULL &&
         !ml_signed_load(opt.signed_path, &signed_list, err, sizeof err))) {
        fprintf(stderr, "milterload: %s\n", err);
        return 2;
    }
    if (opt.key_file != NULL)
        opt.key_spec = opt.key_file; /* "a key was given" below */
    if (opt.write_signed != NULL && opt.key_spec == NULL) {
        fprintf(stderr, "milterload: --write-signed needs --key\n");
        return 2;
    }
    expect.key = opt.key_spec != NULL ? &key : NULL;
    expect.sign_ip = opt.sign_ip != NULL ? opt.sign_ip : opt.client_ip;
    expect.dkim_domain = opt.dkim_domain != NULL ? opt.dkim_domain : opt.domain;
    if (!ml_corpus_init(&corpus, opt.domain, opt.tag, opt.users,
                        opt.signed_path != NULL ? &signed_list : NULL)) {
        fprintf(stderr, "milterload: cannot make the messages (domain or tag too long?)\n");
        return 2;
    }
    if (opt.write_signed != NULL)
        status = write_signed(&opt, &corpus, &key);
    else if (opt.write_message != NULL)
        status = write_message(&opt, &corpus);
    else
        status = load(&opt, &corpus, &expect);
    ml_corpus_free(&corpus);
    ml_signed_free(&signed_list);
    return status;
}
