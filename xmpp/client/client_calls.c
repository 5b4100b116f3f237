/*
 * client_calls.c -- the callers' side of the XMPP client: the blocking
 * verify and discover calls, notices, counters.  Runs on milter threads.
 *
 * Every call checks and copies its input first (nothing the caller owns is
 * touched after it returns), then either fails at once -- stream down,
 * client stopping, max_pending reached, deadline already past -- or queues
 * the request for the XMPP thread and waits on the request's condition
 * variable with the absolute CLOCK_MONOTONIC deadline.  The wait is the
 * only bound that matters: whatever the XMPP thread does, the call returns
 * by the deadline (plus scheduling).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syslog.h>

#include "xmpp/client/client_internal.h"
#include "xmpp/client/client_text.h"

/*
 * Every call counts itself in client->users while it runs, so that
 * xclient_stop() frees nothing before the last one has left.  (A call
 * that only starts after xclient_stop() has returned is a caller bug
 * no in-object bookkeeping can catch.)
 */
static void
enter(struct xclient *client)
{
    client->users++;
}

/* Caller holds the lock. */
static void
leave(struct xclient *client)
{
    if (--client->users == 0 && client->stopping)
        pthread_cond_broadcast(&client->state_cond);
}

/* The thread reads its queues at least once per wait cap even without a
 * wake-up, so a failed eventfd write only costs latency: log it. */
static void
wake_thread(struct xclient *client)
{
    uint64_t one = 1;

    if (write(client->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        xsmtp_log(&client->logger, LOG_ERR, "xmpp: cannot wake the XMPP thread: %s",
                  strerror(errno));
}

/* A local failure, written to the caller's own answer structs. */
static void
fill_local(enum xclient_request_kind kind, enum xclient_failure why,
           struct xclient_answer *verify_out, struct xclient_discovery *disco_out)
{
    if (kind == REQUEST_VERIFY)
        xclient_answer_from_local(why, verify_out);
    else
        xclient_disco_local(why, disco_out);
}

/*
 * Queues request and waits for it; fills verify_out or disco_out.  After
 * the deadline the request may still be in the XMPP thread's hands (it may
 * even be writing its result fields right now), so a timed-out caller
 * never touches those fields: it only drops its reference.
 */
static void
submit_and_wait(struct xclient *client, struct xclient_request *request,
                const struct timespec *deadline, struct xclient_answer *verify_out,
                struct xclient_discovery *disco_out)
{
    enum xclient_request_kind kind = request->kind;
    enum xclient_failure why = XCLIENT_FAILURE_DISCONNECTED;
    uint64_t now = xclient_now_ns();
    bool wake = false, queued = false, free_it;
    int rc = 0;

    pthread_mutex_lock(&client->lock);
    if (client->stopping || !client->link_up) {
        client->stats.failed_disconnected++;
    } else if (client->pending >= client->max_pending) {
        why = XCLIENT_FAILURE_OVERLOADED;
        client->stats.overloaded++;
    } else if (now >= request->deadline_ns) {
        why = XCLIENT_FAILURE_TIMEOUT;
        client->stats.timeouts++;
    } else {
        queued = true;
        request->refs = 2;
        request->queued_ns = now;
        if (client->queue_tail != NULL)
            client->queue_tail->queue_next = request;
        else
            client->queue_head = request;
        client->queue_tail = request;
        client->pending++;
        enter(client);
        if (!client->wake_pending) {
            client->wake_pending = true;
            wake = true;
        }
    }
    pthread_mutex_unlock(&client->lock);
    if (!queued) {
        fill_local(kind, why, verify_out, disco_out);
        xclient_request_free(request);
        return;
    }
    if (wake)
        wake_thread(client);

    pthread_mutex_lock(&client->lock);
    while (!request->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&request->done_cond, &client->lock, deadline);
    if (request->done) {
        if (request->local_failure == XCLIENT_FAILURE_TIMEOUT)
            client->stats.timeouts++;
        else if (request->local_failure == XCLIENT_FAILURE_DISCONNECTED)
            client->stats.failed_disconnected++;
        if (verify_out != NULL)
            *verify_out = request->verify;
        if (disco_out != NULL)
            *disco_out = request->discovery;
    } else {
        client->stats.timeouts++;
        fill_local(kind, XCLIENT_FAILURE_TIMEOUT, verify_out, disco_out);
    }
    leave(client);
    free_it = --request->refs == 0;
    pthread_mutex_unlock(&client->lock);
    if (free_it)
        xclient_request_free(request);
}

static struct xclient_request *
request_new(struct xclient *client, size_t extra, enum xclient_request_kind kind, const char *to,
            const struct timespec *deadline)
{
    struct xclient_request *request = calloc(1, sizeof *request + extra);

    if (request == NULL)
        return NULL;
    if (pthread_cond_init(&request->done_cond, &client->cond_attr) != 0) {
        free(request);
        return NULL;
    }
    request->kind = kind;
    request->local_failure = -1;
    request->deadline_ns = (uint64_t)deadline->tv_sec * 1000000000ULL + (uint64_t)deadline->tv_nsec;
    memcpy(request->to, to, strlen(to) + 1);
    return request;
}

static bool
deadline_ok(const struct timespec *deadline)
{
    return deadline != NULL && deadline->tv_sec >= 0 && deadline->tv_nsec >= 0 &&
           deadline->tv_nsec < 1000000000L;
}

xsmtp_status
xclient_verify(struct xclient *client, const char *component_jid, const struct xsmtp_query *query,
               const struct timespec *deadline, struct xclient_answer *answer)
{
    char to[XSMTP_DOMAIN_MAX + 1];
    const char *values[ATTR_COUNT];
    size_t lengths[ATTR_COUNT], total = 0;
    struct xclient_request *request;
    char *copy;
    int i;

    if (answer == NULL)
        return XSMTP_EMALFORMED;
    memset(answer, 0, sizeof *answer);
    answer->verdict = XSMTP_VERDICT_PERMERROR;
    xclient_copy_reason(answer->reason, XSMTP_REASON_BAD_QUERY, XSMTP_REASON_BAD_QUERY);
    if (client == NULL || query == NULL || !deadline_ok(deadline) ||
        !xclient_text_domain(component_jid, to, sizeof to))
        return XSMTP_EMALFORMED;
    values[ATTR_IDENTITY] = query->identity;
    values[ATTR_MESSAGE_ID] = query->message_id;
    values[ATTR_FROM] = query->from;
    values[ATTR_T] = query->t;
    values[ATTR_IP] = query->ip;
    values[ATTR_K] = query->k;
    values[ATTR_BH] = query->bh;
    values[ATTR_H] = query->h;
    values[ATTR_RELAY] = query->relay;
    for (i = 0; i < ATTR_COUNT; i++) {
        lengths[i] = 0;
        if (values[i] == NULL && i == ATTR_RELAY)
            continue;
        if (!xclient_text_xml_ok(values[i], XCLIENT_VALUE_MAX))
            return XSMTP_EMALFORMED;
        lengths[i] = strlen(values[i]) + 1;
        total += lengths[i];
    }
    request = request_new(client, total, REQUEST_VERIFY, to, deadline);
    if (request == NULL) {
        xclient_answer_from_local(XCLIENT_FAILURE_INTERNAL, answer);
        return XSMTP_ENOMEM;
    }
    copy = (char *)(request + 1);
    for (i = 0; i < ATTR_COUNT; i++) {
        if (lengths[i] == 0)
            continue;
        memcpy(copy, values[i], lengths[i]);
        request->attrs[i] = copy;
        copy += lengths[i];
    }
    submit_and_wait(client, request, deadline, answer, NULL);
    return XSMTP_OK;
}

xsmtp_status
xclient_discover(struct xclient *client, const char *domain, const struct timespec *deadline,
                 struct xclient_discovery *answer)
{
    char to[XSMTP_DOMAIN_MAX + 1];
    struct xclient_request *request;

    if (answer == NULL)
        return XSMTP_EMALFORMED;
    memset(answer, 0, sizeof *answer);
    answer->outcome = XCLIENT_DISCOVERY_TEMPFAIL;
    xclient_copy_reason(answer->reason, XSMTP_REASON_BAD_QUERY, XSMTP_REASON_BAD_QUERY);
    if (client == NULL || !deadline_ok(deadline) || !xclient_text_domain(domain, to, sizeof to))
        return XSMTP_EMALFORMED;
    request =
        request_new(client, sizeof(struct xclient_disco_state), REQUEST_DISCOVER, to, deadline);
    if (request == NULL) {
        xclient_copy_reason(answer->reason, XSMTP_REASON_INTERNAL_ERROR,
                            XSMTP_REASON_INTERNAL_ERROR);
        return XSMTP_ENOMEM;
    }
    request->disco = (struct xclient_disco_state *)(request + 1);
    submit_and_wait(client, request, deadline, NULL, answer);
    return XSMTP_OK;
}

xsmtp_status
xclient_send_notice(struct xclient *client, const char *component_jid,
                    const struct xclient_notice *notice)
{
    char to[XSMTP_DOMAIN_MAX + 1];
    const char *values[5];
    size_t lengths[5], total = 0;
    struct xclient_queued_notice *queued;
    xsmtp_status status = XSMTP_OK;
    char *copy;
    int i;

    if (client == NULL || notice == NULL || !xclient_text_domain(component_jid, to, sizeof to))
        return XSMTP_EMALFORMED;
    values[0] = notice->identity;
    values[1] = notice->message_id;
    values[2] = notice->status;
    values[3] = notice->by;
    values[4] = notice->t;
    for (i = 0; i < 5; i++) {
        if (!xclient_text_xml_ok(values[i], XCLIENT_VALUE_MAX))
            return XSMTP_EMALFORMED;
        lengths[i] = strlen(values[i]) + 1;
        total += lengths[i];
    }
    queued = calloc(1, sizeof *queued + total);
    if (queued == NULL)
        return XSMTP_ENOMEM;
    memcpy(queued->to, to, strlen(to) + 1);
    copy = (char *)(queued + 1);
    for (i = 0; i < 5; i++) {
        memcpy(copy, values[i], lengths[i]);
        queued->values[i] = copy;
        copy += lengths[i];
    }
    pthread_mutex_lock(&client->lock);
    if (client->stopping || !client->link_up) {
        status = XSMTP_EIO;
    } else if (client->notices_waiting >= client->notice_queue_max) {
        status = XSMTP_ETOOBIG;
    } else {
        if (client->notice_tail != NULL)
            client->notice_tail->next = queued;
        else
            client->notice_head = queued;
        client->notice_tail = queued;
        client->notices_waiting++;
        client->stats.notices_queued++;
        if (!client->wake_pending) {
            client->wake_pending = true;
            /* Under the lock: this call is not counted in users. */
            wake_thread(client);
        }
    }
    if (status != XSMTP_OK)
        client->stats.notices_dropped++;
    pthread_mutex_unlock(&client->lock);
    if (status != XSMTP_OK)
        free(queued);
    return status;
}

xsmtp_status
xclient_wait_connected(struct xclient *client, const struct timespec *deadline)
{
    bool up;
    int rc = 0;

    if (client == NULL || !deadline_ok(deadline))
        return XSMTP_EMALFORMED;
    pthread_mutex_lock(&client->lock);
    enter(client);
    while (!client->link_up && !client->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&client->state_cond, &client->lock, deadline);
    up = client->link_up;
    leave(client);
    pthread_mutex_unlock(&client->lock);
    return up ? XSMTP_OK : XSMTP_EIO;
}

xsmtp_status
xclient_get_stats(struct xclient *client, struct xclient_stats *out)
{
    if (client == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    pthread_mutex_lock(&client->lock);
    *out = client->stats;
    out->connected = client->link_up;
    pthread_mutex_unlock(&client->lock);
    return XSMTP_OK;
}

static int
compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

uint32_t
xclient_percentile(const uint32_t *ring, unsigned long count, double p)
{
    uint32_t sorted[XCLIENT_SAMPLES];
    size_t n = count < XCLIENT_SAMPLES ? (size_t)count : XCLIENT_SAMPLES, rank;

    if (ring == NULL || n == 0)
        return 0;
    memcpy(sorted, ring, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_u32);
    if (p <= 0)
        return sorted[0];
    if (p >= 100)
        return sorted[n - 1];
    /* Nearest rank: the smallest value with at least p % of samples at or below it. */
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    return sorted[rank == 0 ? 0 : rank - 1];
}
