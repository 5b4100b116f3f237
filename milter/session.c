/*
 * session.c -- allocation and life cycle of `struct milter_session`
 * (session.h).
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/util/cidr.h"
#include "milter/hooks.h"
#include "milter/session.h"

static void
session_classify_client(struct milter_session *session)
{
    const struct milter_config *config = session->context->config;

    session->client_internal =
        session->client_addr_known &&
        xsmtp_cidr_list_match_sockaddr(&config->sign.internal_hosts,
                                       (const struct sockaddr *)&session->client_addr);
}

struct milter_session *
session_open(const char *hostname, const struct sockaddr *hostaddr)
{
    struct milter_session *session = calloc(1, sizeof *session);

    if (session == NULL)
        return NULL;
    session->context = context_acquire();
    if (session->context == NULL) {
        free(session);
        return NULL;
    }
    snprintf(session->client_host, sizeof session->client_host, "%s",
             hostname != NULL ? hostname : "unknown");
    if (hostaddr != NULL && (hostaddr->sa_family == AF_INET || hostaddr->sa_family == AF_INET6)) {
        size_t size = hostaddr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                     : sizeof(struct sockaddr_in6);
        memcpy(&session->client_addr, hostaddr, size);
        if (xsmtp_sockaddr_text(hostaddr, session->client_ip, sizeof session->client_ip) ==
            XSMTP_OK)
            session->client_addr_known = true;
        else
            session->client_ip[0] = '\0';
    }
    session_classify_client(session);
    message_reset(&session->message);
    context_session_opened();
    return session;
}

void
session_close(struct milter_session *session)
{
    if (session == NULL)
        return;
    if (session->message.open) {
        hooks_message_abort(session);
        session_message_end(session);
    }
    hooks_session_end(session);
    message_free(&session->message);
    context_release(session->context);
    free(session);
    context_session_closed();
}

void
session_refresh_context(struct milter_session *session)
{
    struct milter_context *live;

    if (context_is_live(session->context))
        return;
    live = context_acquire();
    if (live == NULL)
        return;
    context_release(session->context);
    session->context = live;
    session_classify_client(session);
}

bool
session_message_begin(struct milter_session *session)
{
    struct milter_message *message = &session->message;

    if (message->open) {
        /* MAIL again without end of message or abort: drop the old one. */
        hooks_message_abort(session);
        session_message_end(session);
    }
    message_reset(message);
    if (!context_message_begin())
        return false;
    message->open = true;
    session->messages++;
    /* Between messages: the only safe moment to switch snapshots. */
    session_refresh_context(session);
    return true;
}

void
session_message_end(struct milter_session *session)
{
    if (!session->message.open)
        return;
    session->message.open = false;
    context_message_end();
}

const char *
session_queue_id(const struct milter_session *session)
{
    return session->message.queue_id[0] != '\0' ? session->message.queue_id : "NOQUEUE";
}
