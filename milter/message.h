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
 * without any limit on their number, in the form smfi_chgheader() wants
 * them: a header is named by its name and its 1-based index among the
 * headers of that name (compared case-insensitively, as Postfix and
 * Sendmail do).  So per distinct name only a count is kept (the last one
 * seen has index count), plus the indices of the Authentication-Results
 * headers under our own authserv-id.  Memory grows with the number of
 * distinct X-XMPP-* names and of our A-R headers, both bounded by the
 * header bytes the client sent; 1,000 copies of one header cost nothing.
 * message_delete() walks them highest index first (under Postfix each
 * deletion shifts the later indices of the same name).
 */
#ifndef XSMTP_MESSAGE_H
#define XSMTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "hash/extract.h"

/* First value and number of occurrences of one header name. */
struct message_header_value {
    unsigned count;
    bool too_long; /* first value > XSMTP_HEADER_VALUE_MAX */
    size_t length;
    char value[XSMTP_HEADER_VALUE_MAX + 1];
};

/* One distinct X-XMPP-* name and how often it came. */
struct message_name_count {
    char *name; /* as first sent (case kept); NULL: free slot */
    unsigned hash;
    unsigned count;
};

struct message_tracked {
    struct message_name_count *slots; /* open addressing; capacity a power of two */
    size_t capacity;
    size_t used;
    unsigned verdict_count;      /* X-XSMTP-Verdict (a forgery on input) */
    unsigned auth_results_count; /* Authentication-Results, any authserv-id */
    unsigned *auth_ours;         /* indices of A-R whose authserv-id is ours, ascending */
    size_t auth_ours_count;
    size_t auth_ours_capacity;
    bool auth_ours_incomplete; /* out of memory: every A-R is treated as ours */
    bool names_incomplete;     /* out of memory: an X-XMPP-* name was not kept */
};

struct milter_message {
    bool open;             /* between MAIL and EOM or abort */
    char queue_id[64];     /* macro {i}; "" until known */
    char auth_authen[256]; /* macro {auth_authen}; "" if none */
    bool authenticated;    /* the client authenticated with SMTP AUTH */
    unsigned long header_count;
    unsigned long long body_bytes;
    struct message_header_value from;
    struct message_header_value message_id;
    struct message_header_value xmpp_identity;
    struct message_header_value xmpp_hash;
    struct message_tracked tracked;
};

/* Forgets everything (MAIL, abort); keeps small allocations for reuse.
 * A zeroed struct is a valid empty message. */
void message_reset(struct milter_message *message);
/* Frees what the message holds (end of the connection). */
void message_free(struct milter_message *message);

/*
 * Records one header.  authserv_id decides whether an Authentication-
 * Results header is ours (its first token compared case-insensitively).
 */
void message_header(struct milter_message *message, const char *name, const char *value,
                    const char *authserv_id);

/* Copies a macro value into buf (bounded); "" for NULL. */
void message_copy_macro(char *buf, size_t bufsz, const char *value);

/* What message_delete() visits. */
enum message_delete_set {
    /* every X-XMPP-* header: the signer never passes one on (XSMTP-1 s9) */
    MESSAGE_DELETE_CLIENT_XMPP = 1,
    /* every X-XSMTP-Verdict and every Authentication-Results of ours (s7) */
    MESSAGE_DELETE_FORGED = 2
};

/* Deletes one header (smfi_chgheader(ctx, name, index, NULL)); false: failed. */
typedef bool message_delete_fn(void *arg, const char *name, int index);

/*
 * Calls delete_one for every header of the sets asked for, within each
 * name from the highest index down.  When our A-R headers could not all be
 * remembered (out of memory) every A-R is deleted: losing a foreign one is
 * safer than keeping a forged one of ours.  Returns false when delete_one
 * failed, or when an X-XMPP-* name was lost to a lack of memory (the
 * caller cannot promise they are all gone).
 */
bool message_delete(const struct milter_message *message, unsigned sets,
                    message_delete_fn *delete_one, void *arg);

/* How many deletions message_delete() would make (tests, logs). */
unsigned long message_delete_count(const struct milter_message *message, unsigned sets);

#endif
