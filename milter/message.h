/*
 * message.h -- facts collected about the message in transit, for the
 * signer and verifier hooks (hooks.h).
 *
 * Filled by the header callback; reset at MAIL and at abort.  Values are
 * copied as libmilter hands them over (folding kept); only the first
 * occurrence of each header is kept, with a count, because XSMTP-1 treats
 * a second From, Message-ID or X-XMPP-* header as an error anyway.
 *
 * Headers that the signer or verifier may have to delete are remembered
 * with the per-name index that smfi_chgheader() wants (1-based among
 * headers of the same name; delete from the highest index down, LAB-NOTES).
 */
#ifndef XSMTP_MESSAGE_H
#define XSMTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "extract.h"

#define MESSAGE_TRACKED_MAX 32
#define MESSAGE_HEADER_NAME_MAX 64

/* First value and number of occurrences of one header name. */
struct message_header_value {
    unsigned count;
    bool too_long;                          /* first value > XSMTP_HEADER_VALUE_MAX */
    size_t length;
    char value[XSMTP_HEADER_VALUE_MAX + 1];
};

enum message_tracked_kind {
    MESSAGE_TRACKED_XMPP,           /* any X-XMPP-* header (the signer replaces them) */
    MESSAGE_TRACKED_VERDICT,        /* X-XSMTP-Verdict (always a forgery on input) */
    MESSAGE_TRACKED_AUTH_RESULTS    /* Authentication-Results */
};

struct message_tracked_header {
    enum message_tracked_kind kind;
    char name[MESSAGE_HEADER_NAME_MAX]; /* as sent (case kept) */
    int index;                          /* for smfi_chgheader(ctx, name, index, NULL) */
    bool ours;                          /* Authentication-Results: authserv-id is ours */
};

struct milter_message {
    bool open;                          /* between MAIL and EOM or abort */
    char queue_id[64];                  /* macro {i}; "" until known */
    char auth_authen[256];              /* macro {auth_authen}; "" if none */
    bool authenticated;                 /* the client authenticated with SMTP AUTH */
    unsigned long header_count;
    unsigned long long body_bytes;
    struct message_header_value from;
    struct message_header_value message_id;
    struct message_header_value xmpp_identity;
    struct message_header_value xmpp_hash;
    struct message_tracked_header tracked[MESSAGE_TRACKED_MAX];
    size_t tracked_count;
    bool tracked_overflow;              /* more than MESSAGE_TRACKED_MAX: cannot clean */
};

/* Forgets everything (MAIL, abort). */
void message_reset(struct milter_message *message);

/*
 * Records one header.  authserv_id decides message_tracked_header.ours for
 * Authentication-Results (its first token compared case-insensitively).
 */
void message_header(struct milter_message *message, const char *name, const char *value,
                    const char *authserv_id);

/* Copies a macro value into buf (bounded); "" for NULL. */
void message_copy_macro(char *buf, size_t bufsz, const char *value);

#endif
