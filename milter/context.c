/*
 * context.c -- the reference-counted configuration snapshot (context.h).
 *
 * libmilter calls our callbacks without any user pointer: the only way a
 * new connection can find the configuration is through process-wide state.
 * That state is `milter_runtime` below and nothing else: the live snapshot
 * pointer (swapped under a mutex on reload), its generation (atomic, so a
 * session can check for a reload without locking), and the open-session
 * count that the orderly stop waits on.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "context.h"

static struct milter_runtime {
    pthread_mutex_t lock;                   /* guards live and sessions */
    pthread_cond_t idle;                    /* signalled when sessions drops to 0 */
    struct milter_context *live;
    atomic_ulong live_generation;
    unsigned sessions;
} milter_runtime = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .idle = PTHREAD_COND_INITIALIZER,
    .live = NULL,
    .live_generation = 0,
    .sessions = 0,
};

static struct milter_context *context_wrap(struct milter_config *config,
                                           unsigned long generation)
{
    struct milter_context *context = calloc(1, sizeof *context);

    if (context == NULL)
        return NULL;
    context->config = config;
    context->generation = generation;
    atomic_init(&context->references, 1);   /* the runtime's own reference */
    return context;
}

xsmtp_status context_start(struct milter_config *config)
{
    return context_install(config) != 0 ? XSMTP_OK : XSMTP_ENOMEM;
}

void context_stop(void)
{
    struct milter_context *old;

    pthread_mutex_lock(&milter_runtime.lock);
    old = milter_runtime.live;
    milter_runtime.live = NULL;
    pthread_mutex_unlock(&milter_runtime.lock);
    context_release(old);
}

struct milter_context *context_acquire(void)
{
    struct milter_context *context;

    pthread_mutex_lock(&milter_runtime.lock);
    context = milter_runtime.live;
    if (context != NULL)
        atomic_fetch_add(&context->references, 1);
    pthread_mutex_unlock(&milter_runtime.lock);
    return context;
}

void context_release(struct milter_context *context)
{
    if (context == NULL)
        return;
    if (atomic_fetch_sub(&context->references, 1) == 1) {
        /* Last user gone: nobody else can reach this snapshot any more. */
        config_free((struct milter_config *)context->config);
        free(context);
    }
}

bool context_is_live(const struct milter_context *context)
{
    return context != NULL &&
           context->generation == atomic_load(&milter_runtime.live_generation);
}

unsigned long context_install(struct milter_config *config)
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
    pthread_mutex_unlock(&milter_runtime.lock);
    /* Outside the lock: freeing a key table wipes secrets and takes time. */
    context_release(old);
    return generation;
}

void context_session_opened(void)
{
    pthread_mutex_lock(&milter_runtime.lock);
    milter_runtime.sessions++;
    pthread_mutex_unlock(&milter_runtime.lock);
}

void context_session_closed(void)
{
    pthread_mutex_lock(&milter_runtime.lock);
    if (milter_runtime.sessions > 0)
        milter_runtime.sessions--;
    if (milter_runtime.sessions == 0)
        pthread_cond_broadcast(&milter_runtime.idle);
    pthread_mutex_unlock(&milter_runtime.lock);
}

unsigned context_sessions_active(void)
{
    unsigned sessions;

    pthread_mutex_lock(&milter_runtime.lock);
    sessions = milter_runtime.sessions;
    pthread_mutex_unlock(&milter_runtime.lock);
    return sessions;
}

bool context_wait_idle(unsigned seconds)
{
    struct timespec deadline;
    bool idle;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds;
    pthread_mutex_lock(&milter_runtime.lock);
    while (milter_runtime.sessions > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&milter_runtime.idle, &milter_runtime.lock, &deadline);
    idle = milter_runtime.sessions == 0;
    pthread_mutex_unlock(&milter_runtime.lock);
    return idle;
}
