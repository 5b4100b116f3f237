/*
 * context.c -- the reference-counted configuration snapshot (context.h).
 *
 * libmilter calls our callbacks without any user pointer: the only way a
 * new connection can find the configuration is through process-wide state.
 * That state is `milter_runtime` below and nothing else: the live snapshot
 * pointer (swapped under a mutex on reload), its generation (atomic, so a
 * session can check for a reload without locking), and the counts of
 * open connections and messages in flight with the "stopping" flag that
 * the orderly stop uses.  Installing a snapshot also hands its
 * stats_interval to stats.c, and every message begun is counted there.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "milter/context.h"
#include "milter/stats.h"

static struct milter_runtime {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t idle;  /* signalled when messages drops to 0 */
    struct milter_context *live;
    atomic_ulong live_generation;
    unsigned sessions; /* connections open */
    unsigned messages; /* messages in flight */
    atomic_bool stopping;
} milter_runtime = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .idle = PTHREAD_COND_INITIALIZER,
    .live = NULL,
    .live_generation = 0,
    .sessions = 0,
    .messages = 0,
    .stopping = false,
};

static struct milter_context *
context_wrap(struct milter_config *config, unsigned long generation)
{
    struct milter_context *context = calloc(1, sizeof *context);

    if (context == NULL)
        return NULL;
    context->config = config;
    context->generation = generation;
    atomic_init(&context->references, 1); /* the runtime's own reference */
    return context;
}

xsmtp_status
context_start(struct milter_config *config)
{
    stats_started();
    return context_install(config) != 0 ? XSMTP_OK : XSMTP_ENOMEM;
}

void
context_stop(void)
{
    struct milter_context *old;

    pthread_mutex_lock(&milter_runtime.lock);
    old = milter_runtime.live;
    milter_runtime.live = NULL;
    pthread_mutex_unlock(&milter_runtime.lock);
    context_release(old);
}

struct milter_context *
context_acquire(void)
{
    struct milter_context *context;

    pthread_mutex_lock(&milter_runtime.lock);
    context = milter_runtime.live;
    if (context != NULL)
        atomic_fetch_add(&context->references, 1);
    pthread_mutex_unlock(&milter_runtime.lock);
    return context;
}

void
context_release(struct milter_context *context)
{
    if (context == NULL)
        return;
    if (atomic_fetch_sub(&context->references, 1) == 1) {
        /* Last user gone: nobody else can reach this snapshot any more. */
        config_free((struct milter_config *)context->config);
        free(context);
    }
}

bool
context_is_live(const struct milter_context *context)
{
    return context != NULL && context->generation == atomic_load(&milter_runtime.live_generation);
}

unsigned long
context_install(struct milter_config *config)
{
    struct milter_context *context, *old;
    unsigned long generation;

    pthread_mutex_lock(&milter_runtime.lock);
    generation = atomic_load(&milter_runtime.live_generation) + 1;
    context = context_wrap(config, generation);
    if (context == NULL) {
        pthread_mutex_unlock(&milter_runtime.lock);
        config_free(config);
        return 0;
    }
    old = milter_runtime.live;
    milter_runtime.live = context;
    atomic_store(&milter_runtime.live_generation, generation);
    /* The signal thread picks the new period up before its next wait. */
    stats_interval_set(config->stats_interval);
    pthread_mutex_unlock(&milter_runtime.lock);
    /* Outside the lock: freeing a key table wipes secrets and takes time. */
    context_release(old);
    return generation;
}

void
context_session_opened(void)
{
    pthread_mutex_lock(&milter_runtime.lock);
    milter_runtime.sessions++;
    pthread_mutex_unlock(&milter_runtime.lock);
}

void
context_session_closed(void)
{
    pthread_mutex_lock(&milter_runtime.lock);
    if (milter_runtime.sessions > 0)
        milter_runtime.sessions--;
    pthread_mutex_unlock(&milter_runtime.lock);
}

unsigned
context_sessions_active(void)
{
    unsigned sessions;

    pthread_mutex_lock(&milter_runtime.lock);
    sessions = milter_runtime.sessions;
    pthread_mutex_unlock(&milter_runtime.lock);
    return sessions;
}

bool
context_message_begin(void)
{
    bool accepted;

    pthread_mutex_lock(&milter_runtime.lock);
    /* Checked under the lock: a drain that saw 0 stays at 0. */
    accepted = !atomic_load(&milter_runtime.stopping);
    if (accepted)
        milter_runtime.messages++;
    pthread_mutex_unlock(&milter_runtime.lock);
    if (accepted)
        stats_count(STATS_MESSAGES);
    return accepted;
}

void
context_message_end(void)
{
    pthread_mutex_lock(&milter_runtime.lock);
    if (milter_runtime.messages > 0)
        milter_runtime.messages--;
    if (milter_runtime.messages == 0)
        pthread_cond_broadcast(&milter_runtime.idle);
    pthread_mutex_unlock(&milter_runtime.lock);
}

unsigned
context_messages_active(void)
{
    unsigned messages;

    pthread_mutex_lock(&milter_runtime.lock);
    messages = milter_runtime.messages;
    pthread_mutex_unlock(&milter_runtime.lock);
    return messages;
}

bool
context_stopping(void)
{
    return atomic_load(&milter_runtime.stopping);
}

unsigned
context_drain(unsigned seconds)
{
    struct timespec deadline;
    unsigned left;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds;
    pthread_mutex_lock(&milter_runtime.lock);
    atomic_store(&milter_runtime.stopping, true);
    while (milter_runtime.messages > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&milter_runtime.idle, &milter_runtime.lock, &deadline);
    left = milter_runtime.messages;
    pthread_mutex_unlock(&milter_runtime.lock);
    return left;
}
