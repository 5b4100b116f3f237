/*
 * session.h -- per-connection state (one SMTP client connection as the MTA
 * reports it), allocated at xxfi_connect and freed at xxfi_close.
 *
 * The session holds a reference to a configuration snapshot (context.h)
 * and the facts of the message in transit (message.h).  The signer and
 * verifier hang their own per-connection state on `sign` / `verify`
 * (types they define) and free it in hooks_session_end().
 */
#ifndef XSMTP_SESSION_H
#define XSMTP_SESSION_H

#include <stdbool.h>
#include <sys/socket.h>

#include "hash/taglist.h"
#include "milter/context.h"
#include "milter/message.h"

struct sign_session;   /* defined by the signer (milter/sign*.c) */
struct verify_session; /* defined by the verifier */

struct milter_session {
    struct milter_context *context;   /* snapshot; refreshed at MAIL after a reload */
    char client_host[256];            /* host name the MTA gave ("[192.0.2.1]" if none) */
    char client_ip[XSMTP_IP_MAX + 1]; /* inet_ntop form; "" when not an IP client */
    struct sockaddr_storage client_addr;
    bool client_addr_known; /* false for unix-socket or unknown clients */
    bool client_internal;   /* client_ip is in sign.internal_hosts */
    char helo[256];
    unsigned long messages; /* messages begun on this connection */
    struct milter_message message;
    struct sign_session *sign;
    struct verify_session *verify;
};

/*
 * Allocates a session for a new connection, takes a snapshot and counts
 * the connection as open.  hostaddr may be NULL (unknown client).  NULL
 * when out of memory.
 */
struct milter_session *session_open(const char *hostname, const struct sockaddr *hostaddr);
/* Ends the connection: open message aborted, hooks_session_end, snapshot
 * released, uncounted. */
void session_close(struct milter_session *session);

/*
 * Opens a message (MAIL): counts it in flight, refreshes the snapshot,
 * resets the facts.  A message still open is aborted first.  false when
 * a stop has begun: the caller refuses the message.
 */
bool session_message_begin(struct milter_session *session);
/* Closes the open message (end of message, abort); no-op when none is open. */
void session_message_end(struct milter_session *session);

/* The MTA's queue id of the message in transit ({i}), "NOQUEUE" until known. */
const char *session_queue_id(const struct milter_session *session);

/*
 * Switches to the live snapshot if a reload happened since the session
 * took its own (call only between messages) and recomputes what depends on
 * it (client_internal).
 */
void session_refresh_context(struct milter_session *session);

#endif
