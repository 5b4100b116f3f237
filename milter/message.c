/*
 * message.c -- collects header facts for the hooks (message.h).
 *
 * Only a handful of header names are of interest; everything else costs
 * one case-insensitive prefix test and is not copied.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "message.h"

void message_reset(struct milter_message *message)
{
    /* The value buffers are large: clear only what the next message reads. */
    message->open = false;
    message->queue_id[0] = '\0';
    message->auth_authen[0] = '\0';
    message->authenticated = false;
    message->header_count = 0;
    message->body_bytes = 0;
    message->from.count = message->message_id.count = 0;
    message->xmpp_identity.count = message->xmpp_hash.count = 0;
    message->from.length = message->message_id.length = 0;
    message->xmpp_identity.length = message->xmpp_hash.length = 0;
    message->from.too_long = message->message_id.too_long = false;
    message->xmpp_identity.too_long = message->xmpp_hash.too_long = false;
    message->from.value[0] = message->message_id.value[0] = '\0';
    message->xmpp_identity.value[0] = message->xmpp_hash.value[0] = '\0';
    message->tracked_count = 0;
    message->tracked_overflow = false;
}

void message_copy_macro(char *buf, size_t bufsz, const char *value)
{
    snprintf(buf, bufsz, "%s", value != NULL ? value : "");
}

static void message_keep_value(struct message_header_value *slot, const char *value)
{
    size_t length;

    slot->count++;
    if (slot->count > 1)
        return;
    length = strlen(value);
    if (length > XSMTP_HEADER_VALUE_MAX) {
        slot->too_long = true;
        slot->length = 0;
        slot->value[0] = '\0';
        return;
    }
    memcpy(slot->value, value, length + 1);
    slot->length = length;
}

/* Whether the first token of an Authentication-Results value is ours. */
static bool message_authserv_is(const char *value, const char *authserv_id)
{
    size_t length;

    if (authserv_id == NULL || *authserv_id == '\0')
        return false;
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    length = strcspn(value, " \t\r\n;(");
    return length == strlen(authserv_id) && strncasecmp(value, authserv_id, length) == 0;
}

static void message_track(struct milter_message *message, enum message_tracked_kind kind,
                          const char *name, bool ours)
{
    struct message_tracked_header *entry;
    int index = 1;

    if (message->tracked_count == MESSAGE_TRACKED_MAX ||
        strlen(name) >= MESSAGE_HEADER_NAME_MAX) {
        message->tracked_overflow = true;
        return;
    }
    /* smfi_chgheader counts per header name, case-insensitively. */
    for (size_t i = 0; i < message->tracked_count; i++)
        if (strcasecmp(message->tracked[i].name, name) == 0)
            index++;
    entry = &message->tracked[message->tracked_count++];
    entry->kind = kind;
    strcpy(entry->name, name);
    entry->index = index;
    entry->ours = ours;
}

void message_header(struct milter_message *message, const char *name, const char *value,
                    const char *authserv_id)
{
    if (name == NULL)
        return;
    if (value == NULL)
        value = "";
    message->header_count++;
    if (strcasecmp(name, "From") == 0) {
        message_keep_value(&message->from, value);
    } else if (strcasecmp(name, "Message-ID") == 0) {
        message_keep_value(&message->message_id, value);
    } else if (strncasecmp(name, "X-XMPP-", 7) == 0) {
        if (strcasecmp(name, "X-XMPP-Identity") == 0)
            message_keep_value(&message->xmpp_identity, value);
        else if (strcasecmp(name, "X-XMPP-Hash") == 0)
            message_keep_value(&message->xmpp_hash, value);
        message_track(message, MESSAGE_TRACKED_XMPP, name, false);
    } else if (strcasecmp(name, "X-XSMTP-Verdict") == 0) {
        message_track(message, MESSAGE_TRACKED_VERDICT, name, false);
    } else if (strcasecmp(name, "Authentication-Results") == 0) {
        message_track(message, MESSAGE_TRACKED_AUTH_RESULTS, name,
                      message_authserv_is(value, authserv_id));
    }
}
