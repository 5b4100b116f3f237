/*
 * context.h -- the live configuration snapshot and the connection count.
 *
 * A `struct milter_context` wraps one loaded `struct milter_config` (which
 * owns the key table and identity map) with a reference count.  Sessions
 * take a reference and keep reading that snapshot without locks; a reload
 * installs a new context and drops the runtime's reference to the old one,
 * which is freed when the last session using it lets go.  So a message in
 * flight always finishes with the configuration it started with.
 *
 * When a session picks up a new snapshot: at xxfi_connect, and at each new
 * message (MAIL) if a reload happened since (session_refresh_context()).
 */
#ifndef XSMTP_CONTEXT_H
#define XSMTP_CONTEXT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "milter/config/milter_config.h"

struct milter_context {
    const struct milter_config *config; /* immutable while referenced */
    unsigned long generation;           /* 1 at start, +1 per reload */
    atomic_uint references;
};

/* Installs the first configuration (the runtime takes ownership). */
xsmtp_status context_start(struct milter_config *config);
/* Drops the runtime's reference (at exit, after sessions are done). */
void context_stop(void);

/* A new reference to the live snapshot; NULL only before context_start. */
struct milter_context *context_acquire(void);
void context_release(struct milter_context *context);
/* Whether context is still the live snapshot (cheap: one atomic load). */
bool context_is_live(const struct milter_context *context);

/*
 * Makes config the live snapshot (the runtime takes ownership); returns
 * the new generation, or 0 (config freed) when out of memory.
 */
unsigned long context_install(struct milter_config *config);

/*
 * Accounting for an orderly stop.  Connections are counted for the logs;
 * what a stop waits for is messages in flight (MAIL to end of message or
 * abort): an MTA keeps a milter connection for its whole SMTP session, so
 * waiting for connections would mostly wait for idle clients.
 */
void context_session_opened(void);
void context_session_closed(void);
unsigned context_sessions_active(void);
/* Counts a new message; false once a stop has begun (refuse it). */
bool context_message_begin(void);
void context_message_end(void);
unsigned context_messages_active(void);
/* Whether a stop has begun: new connections and messages are refused. */
bool context_stopping(void);
/*
 * Begins the stop (nothing new starts from now on) and waits until no
 * message is in flight or seconds pass.  Returns the messages still open.
 */
unsigned context_drain(unsigned seconds);

#endif
