/*
 * client.c -- the verifier's XMPP client: start and stop, and the XMPP
 * thread's loop and its side of the request queue (the callers' side, the
 * blocking calls, is in client_calls.c).
 *
 * Hand-off: a caller copies its query into one heap block (the request,
 * reference count 2), appends it to the queue under the lock, writes the
 * eventfd once per batch, and sleeps on the request's own condition
 * variable (CLOCK_MONOTONIC) until done or its deadline.  A caller that
 * gives up drops its reference; the thread drops the other one when it
 * answers, fails or reaps the request, so neither side ever frees memory
 * the other still uses.  One condition per request: an answer wakes
 * exactly the caller it belongs to, never all of them.
 *
 * The loop: take the queues, xmpp_run_once(ctx, 0), reap expired
 * requests, then poll() the socket and the eventfd (see xclient_conn_wait),
 * so a new request is picked up within microseconds (libstrophe is not
 * thread-safe and has no wake-up call of its own).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <syslog.h>
#include <unistd.h>

#include "hash/util/private_file.h"
#include "xmpp/client/client_internal.h"
#include "xmpp/client/client_text.h"

#define DEFAULT_MAX_PENDING 10000
#define DEFAULT_NOTICE_QUEUE 1000
#define DEFAULT_BACKOFF_MAX 60
#define DEFAULT_KEEPALIVE_IDLE 30
#define DEFAULT_KEEPALIVE_TIMEOUT 10
#define PASSWORD_MAX 1024

uint64_t
xclient_now_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

static void
ring_add(uint32_t *ring, unsigned long *count, uint64_t value)
{
    ring[*count % XCLIENT_SAMPLES] = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
    (*count)++;
}

void
xclient_stats_add(struct xclient *client, unsigned long *counter, unsigned long n)
{
    pthread_mutex_lock(&client->lock);
    *counter += n;
    pthread_mutex_unlock(&client->lock);
}

/* Caller holds the lock. */
static void
request_release_locked(struct xclient_request *request, bool *free_it)
{
    *free_it = --request->refs == 0;
}

void
xclient_request_free(struct xclient_request *request)
{
    pthread_cond_destroy(&request->done_cond);
    free(request);
}

void
xclient_request_finish(struct xclient *client, struct xclient_request *request)
{
    bool free_it;

    if (request->active) {
        if (request->active_prev != NULL)
            request->active_prev->active_next = request->active_next;
        else
            client->active_head = request->active_next;
        if (request->active_next != NULL)
            request->active_next->active_prev = request->active_prev;
        request->active = false;
    }
    if (request->kind == REQUEST_VERIFY)
        xclient_map_remove(&client->map, &request->iq);
    else
        xclient_disco_forget(client, request);

    pthread_mutex_lock(&client->lock);
    if (request->kind == REQUEST_VERIFY && request->verify.rtt_us > 0) {
        client->stats.answers++;
        ring_add(client->stats.rtt_us, &client->stats.rtt_count, request->verify.rtt_us);
    } else if (request->kind == REQUEST_DISCOVER) {
        client->stats.discoveries++;
    }
    request->done = true;
    client->pending--;
    pthread_cond_signal(&request->done_cond);
    request_release_locked(request, &free_it);
    pthread_mutex_unlock(&client->lock);
    if (free_it)
        xclient_request_free(request);
}

/* ---- the XMPP thread ---------------------------------------------------- */

/* Takes both queues; returns true when the client is stopping. */
static bool
take_work(struct xclient *client)
{
    struct xclient_request *requests, *request, *next;
    uint64_t now;
    struct xclient_queued_notice *notices, *notice, *next_notice;
    uint64_t counter;
    unsigned long dropped = 0;
    bool stopping;

    /* Drain the eventfd before looking: a write after this point is seen. */
    while (read(client->wake_fd, &counter, sizeof counter) > 0)
        ;
    pthread_mutex_lock(&client->lock);
    now = xclient_now_ns(); /* the moment of pick-up, for the pickup samples */
    requests = client->queue_head;
    notices = client->notice_head;
    client->queue_head = client->queue_tail = NULL;
    client->notice_head = client->notice_tail = NULL;
    client->notices_waiting = 0;
    client->wake_pending = false;
    stopping = client->stopping;
    for (request = requests; request != NULL; request = request->queue_next)
        ring_add(client->stats.pickup_us, &client->stats.pickup_count,
                 now > request->queued_ns ? (now - request->queued_ns) / 1000 : 0);
    pthread_mutex_unlock(&client->lock);

    for (request = requests; request != NULL; request = next) {
        next = request->queue_next;
        if (stopping || client->link != LINK_CONNECTED)
            xclient_query_fail(client, request, XCLIENT_FAILURE_DISCONNECTED);
        else if (now >= request->deadline_ns)
            xclient_query_fail(client, request, XCLIENT_FAILURE_TIMEOUT);
        else if (request->kind == REQUEST_VERIFY)
            xclient_query_send(client, request);
        else
            xclient_disco_start(client, request);
    }
    for (notice = notices; notice != NULL; notice = next_notice) {
        next_notice = notice->next;
        if (!stopping && client->link == LINK_CONNECTED)
            xclient_notice_send(client, notice);
        else
            dropped++;
        free(notice);
    }
    if (dropped > 0)
        xclient_stats_add(client, &client->stats.notices_dropped, dropped);
    return stopping;
}

static void *
xclient_thread(void *arg)
{
    struct xclient *client = arg;
    unsigned long seen;
    uint64_t now;

    for (;;) {
        now = xclient_now_ns();
        xclient_conn_maintain(client, now);
        if (take_work(client))
            break;
        seen = client->stanzas_seen;
        xmpp_run_once(client->ctx, 0);
        now = xclient_now_ns();
        if (now >= client->next_reap_ns) {
            xclient_query_reap(client, now);
            xclient_ping_check(client, now);
            client->next_reap_ns = now + XCLIENT_REAP_MS * 1000000ULL;
        }
        xclient_conn_wait(client, now, seen);
    }
    xclient_conn_shutdown(client);
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

static xsmtp_status
fail_start(char *err, size_t errsz, xsmtp_status status, const char *what)
{
    if (err != NULL && errsz > 0)
        snprintf(err, errsz, "%s", what);
    return status;
}

static xsmtp_status
check_options(const struct xclient_options *o, char *err, size_t errsz)
{
    if (!xclient_text_full_jid(o->jid))
        return fail_start(err, errsz, XSMTP_EMALFORMED,
                          "xmpp.jid: not a JID with a resource "
                          "(local@domain/resource)");
    if ((o->password == NULL) == (o->password_file == NULL))
        return fail_start(err, errsz, XSMTP_EMALFORMED,
                          "xmpp: give exactly one of password_file and password");
    if (o->server != NULL && (o->server[0] == '\0' || !xclient_text_xml_ok(o->server, 253)))
        return fail_start(err, errsz, XSMTP_EMALFORMED, "xmpp.server: not a host name");
    if (o->port > 65535)
        return fail_start(err, errsz, XSMTP_EMALFORMED, "xmpp.port: not in 1..65535");
    if (o->tls != XCLIENT_TLS_REQUIRED && o->tls != XCLIENT_TLS_OPTIONAL)
        return fail_start(err, errsz, XSMTP_EMALFORMED, "xmpp.tls: required or optional");
    if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0)
        return fail_start(err, errsz, XSMTP_EIO, "xmpp.ca_file: cannot read the file");
    return XSMTP_OK;
}

static void
xclient_free(struct xclient *client)
{
    struct xclient_queued_notice *notice;

    xclient_conn_free(client);
    xclient_map_free(&client->map);
    while ((notice = client->notice_head) != NULL) {
        client->notice_head = notice->next;
        free(notice);
    }
    if (client->wake_fd >= 0)
        close(client->wake_fd);
    pthread_cond_destroy(&client->state_cond);
    pthread_condattr_destroy(&client->cond_attr);
    pthread_mutex_destroy(&client->lock);
    free(client->jid);
    free(client->server);
    free(client->ca_file);
    free(client);
}

static char *
dup_or_null(const char *s, bool *ok)
{
    char *copy;

    if (s == NULL)
        return NULL;
    copy = strdup(s);
    if (copy == NULL)
        *ok = false;
    return copy;
}

/* Allocation and every field; the thread is not running yet. */
static xsmtp_status
xclient_new(const struct xclient_options *o, struct xclient **out)
{
    struct xclient *client = calloc(1, sizeof *client);
    unsigned char seed[8];
    const char *at, *slash;
    bool ok = true;

    *out = NULL;
    if (client == NULL)
        return XSMTP_ENOMEM;
    client->wake_fd = -1;
    client->sock_fd = -1;
    pthread_mutex_init(&client->lock, NULL);
    pthread_condattr_init(&client->cond_attr);
    pthread_condattr_setclock(&client->cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&client->state_cond, &client->cond_attr);
    client->jid = dup_or_null(o->jid, &ok);
    client->server = dup_or_null(o->server, &ok);
    client->ca_file = dup_or_null(o->ca_file, &ok);
    *out = client;
    if (!ok)
        return XSMTP_ENOMEM;
    at = strchr(o->jid, '@');
    slash = strchr(at, '/');
    if ((size_t)(slash - at - 1) >= sizeof client->domain)
        return XSMTP_EMALFORMED;
    memcpy(client->domain, at + 1, (size_t)(slash - at - 1));
    if (!xclient_text_domain(client->domain, client->domain, sizeof client->domain))
        return XSMTP_EMALFORMED;
    client->port = o->port;
    client->logger = o->logger;
    client->max_pending = o->max_pending != 0 ? o->max_pending : DEFAULT_MAX_PENDING;
    client->notice_queue_max =
        o->notice_queue_max != 0 ? o->notice_queue_max : DEFAULT_NOTICE_QUEUE;
    client->backoff_max_s = o->backoff_max_s != 0 ? o->backoff_max_s : DEFAULT_BACKOFF_MAX;
    client->keepalive_idle_ns =
        (uint64_t)(o->keepalive_idle_s != 0 ? o->keepalive_idle_s : DEFAULT_KEEPALIVE_IDLE) *
        1000000000ULL;
    client->keepalive_timeout_ns =
        (uint64_t)(o->keepalive_timeout_s != 0 ? o->keepalive_timeout_s
                                               : DEFAULT_KEEPALIVE_TIMEOUT) *
        1000000000ULL;
    /* No stream management: with Prosody's smacks every query would wait
     * for an ack (40-90 ms). */
    client->conn_flags = XMPP_CONN_FLAG_DISABLE_SM;
    if (o->tls == XCLIENT_TLS_REQUIRED)
        client->conn_flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
    if (o->tls_trust)
        client->conn_flags |= XMPP_CONN_FLAG_TRUST_TLS;
    client->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (client->wake_fd < 0)
        return XSMTP_EIO;
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        return XSMTP_EIO;
    return xclient_map_init(&client->map, 2 * (size_t)client->max_pending, seed);
}

xsmtp_status
xclient_start(const struct xclient_options *options, struct xclient **out, char *err, size_t errsz)
{
    char password[PASSWORD_MAX]; /* wiped before returning */
    struct xclient *client = NULL;
    sigset_t blocked, saved;
    char reason[256] = "";
    xsmtp_status status;
    int rc;

    if (out == NULL || options == NULL)
        return fail_start(err, errsz, XSMTP_EMALFORMED, "xmpp: no options");
    *out = NULL;
    if ((status = check_options(options, err, errsz)) != XSMTP_OK)
        return status;
    if (options->password_file != NULL) {
        status = xsmtp_private_file_read_line(options->password_file, password, sizeof password,
                                              reason, sizeof reason);
        if (status != XSMTP_OK) {
            char line[400];

            snprintf(line, sizeof line, "xmpp.password_file: %s",
                     reason[0] != '\0' ? reason : xsmtp_status_str(status));
            return fail_start(err, errsz, status, line);
        }
    } else if (snprintf(password, sizeof password, "%s", options->password) >=
               (int)sizeof password) {
        explicit_bzero(password, sizeof password);
        return fail_start(err, errsz, XSMTP_ETOOBIG, "xmpp: password too long");
    }

    status = xclient_new(options, &client);
    if (status == XSMTP_OK)
        status = xclient_conn_init(client, password);
    explicit_bzero(password, sizeof password);
    if (status != XSMTP_OK) {
        if (client != NULL)
            xclient_free(client);
        return fail_start(err, errsz, status, "xmpp: cannot set up the client");
    }
    if (options->tls_trust)
        xsmtp_log(&client->logger, LOG_WARNING,
                  "xmpp.tls_trust = yes: the server certificate is NOT verified "
                  "(for test labs only)");

    /* The milter's signal thread must get SIGHUP/SIGTERM/..., never this one
     * (libmilter waits for them in a thread of its own and any thread that
     * does not block them may take them).  SIGPIPE: a write to a closed
     * socket must return EPIPE here, not kill the process. */
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGUSR1);
    sigaddset(&blocked, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &blocked, &saved);
    rc = pthread_create(&client->thread, NULL, xclient_thread, client);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0) {
        xclient_free(client);
        return fail_start(err, errsz, XSMTP_ENOMEM, "xmpp: cannot create the XMPP thread");
    }
    client->thread_started = true;
    xsmtp_log(&client->logger, LOG_INFO, "xmpp: client %s started (server %s:%u, tls %s)",
              client->jid, client->server != NULL ? client->server : "(SRV)", client->port,
              options->tls == XCLIENT_TLS_REQUIRED ? "required" : "optional");
    *out = client;
    return XSMTP_OK;
}

void
xclient_stop(struct xclient *client)
{
    uint64_t one = 1;

    if (client == NULL)
        return;
    pthread_mutex_lock(&client->lock);
    client->stopping = true;
    pthread_cond_broadcast(&client->state_cond);
    pthread_mutex_unlock(&client->lock);
    if (write(client->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        xsmtp_log(&client->logger, LOG_ERR, "xmpp: cannot wake the XMPP thread: %s",
                  strerror(errno));
    if (client->thread_started)
        pthread_join(client->thread, NULL);
    /* Callers woken by the thread's shutdown still have to leave. */
    pthread_mutex_lock(&client->lock);
    while (client->users > 0)
        pthread_cond_wait(&client->state_cond, &client->lock);
    pthread_mutex_unlock(&client->lock);
    xclient_free(client);
}
