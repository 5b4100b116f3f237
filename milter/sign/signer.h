/*
 * signer.h -- what the signer decides and writes, without libmilter.
 *
 * The milter glue (sign_filter.c) collects the facts of one message (its
 * From and Message-ID values, the client, the body hash) and hands them
 * here; this module picks the identity and the key, builds the
 * X-XMPP-Identity and X-XMPP-Hash values, and, when the message has no
 * Message-ID, the one to add.  Keeping libmilter out makes every branch
 * testable with plain unit tests, and keeps the message path free of I/O:
 * the only system call is the CSPRNG read for a missing Message-ID.
 */
#ifndef XSMTP_SIGNER_H
#define XSMTP_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "hash/extract.h"
#include "hash/identity.h"
#include "hash/keytable.h"
#include "hash/taglist.h"
#include "hash/util/status.h"

/* Why a message was not signed; SIGN_OK when it was. */
enum sign_outcome {
    SIGN_OK = 0,
    SIGN_SKIP_NO_FROM,          /* no From header */
    SIGN_SKIP_MULTIPLE_FROM,    /* several From headers */
    SIGN_SKIP_MULTIPLE_MSGID,   /* several Message-ID headers */
    SIGN_SKIP_BAD_MSGID,        /* the Message-ID yields an empty msgid ("<>", blank) */
    SIGN_SKIP_MULTIPLE_MAILBOX, /* From lists several mailboxes */
    SIGN_SKIP_BAD_FROM,         /* From address unusable (no domain, too long) */
    SIGN_SKIP_FOREIGN_DOMAIN,   /* From domain not in sign.domains */
    SIGN_SKIP_BAD_IDENTITY,     /* identity is not a valid bare JID */
    SIGN_SKIP_NO_KEY,           /* no non-revoked key matches the identity */
    SIGN_ERROR                  /* internal error: apply on_internal_error */
};

/* The facts of one message, as the glue collected them. */
struct sign_facts {
    const char *from_value; /* raw value of the only From, or NULL */
    unsigned from_count;
    const char *msgid_value; /* raw value of the only Message-ID, or NULL */
    unsigned msgid_count;
    const char *client_ip; /* inet_ntop form of the address to sign */
    const char *body_hash; /* bh, 44 chars */
    time_t now;
};

/* Looks an e-mail address up in sign.identity_map; NULL when absent. */
typedef const char *(*sign_identity_lookup)(const void *map, const char *address);

struct sign_policy {
    const char *const *domains; /* lowercased signing domains */
    size_t domain_count;
    const struct xsmtp_keytable *keys;
    sign_identity_lookup identity_lookup; /* may be NULL */
    const void *identity_map;
};

/* What to write into the message. */
struct sign_result {
    char identity[XSMTP_IDENTITY_SIZE];
    char from_address[XSMTP_EXTRACT_SIZE];
    char key_id[XSMTP_KEYID_MAX + 1];
    /* X-XMPP-Hash value, folded with LF + space (libmilter convention) */
    char hash_value[256];
    /* Non-empty when the message had no Message-ID: the header value to add */
    char added_msgid[320];
};

/* The From address's domain decides eligibility before the body is read. */
enum sign_outcome signer_check_from(const struct sign_policy *policy, const char *from_value,
                                    unsigned from_count, char *address, size_t addresssz);

/* Decides and builds everything; result is filled only for SIGN_OK. */
enum sign_outcome signer_sign(const struct sign_policy *policy, const struct sign_facts *facts,
                              struct sign_result *result);

/* A short phrase for log lines ("several From headers"). */
const char *signer_outcome_str(enum sign_outcome outcome);

#endif
