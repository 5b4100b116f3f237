/*
 * signer.c -- the signer's decisions (XSMTP-1 sections 2 to 4), free of
 * libmilter so that they can be unit-tested.
 *
 * Order of decisions, cheapest first: header counts, the From address and
 * its domain, the identity, the key, then the Message-ID and the MAC.  Every
 * "don't sign" outcome is a value, not an error: the caller logs it and
 * lets the message pass untouched.  SIGN_ERROR is kept for faults of our
 * own (CSPRNG, OpenSSL, a buffer that should have been big enough).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "hash/token.h"
#include "milter/sign/signer.h"

/* Domain part of an extracted From address; NULL when there is none. */
static const char *
address_domain(const char *address)
{
    const char *at = strrchr(address, '@');

    if (at == NULL || at == address || at[1] == '\0')
        return NULL;
    return at + 1;
}

static int
domain_is_signing(const struct sign_policy *policy, const char *domain)
{
    for (size_t i = 0; i < policy->domain_count; i++) {
        if (strcasecmp(policy->domains[i], domain) == 0)
            return 1;
    }
    return 0;
}

enum sign_outcome
signer_check_from(const struct sign_policy *policy, const char *from_value, unsigned from_count,
                  char *address, size_t addresssz)
{
    const char *domain;
    xsmtp_status status;

    if (from_count == 0 || from_value == NULL)
        return SIGN_SKIP_NO_FROM;
    if (from_count > 1)
        return SIGN_SKIP_MULTIPLE_FROM;
    status = xsmtp_extract_from(from_value, strlen(from_value), address, addresssz);
    if (status == XSMTP_EMULTIPLE)
        return SIGN_SKIP_MULTIPLE_MAILBOX;
    if (status != XSMTP_OK)
        return SIGN_SKIP_BAD_FROM;
    domain = address_domain(address);
    if (domain == NULL)
        return SIGN_SKIP_BAD_FROM;
    if (!domain_is_signing(policy, domain))
        return SIGN_SKIP_FOREIGN_DOMAIN;
    return SIGN_OK;
}

/*
 * XSMTP-1 s3: a message without Message-ID gets <RANDOM.T@from-domain>,
 * RANDOM being 128 bits from the OS CSPRNG in hex.  getrandom() on a
 * booted system never blocks, so this stays off the "blocking I/O" list.
 */
static enum sign_outcome
make_msgid(const char *domain, const char *t, struct sign_result *result, char *msgid,
           size_t msgidsz)
{
    unsigned char random_bytes[16];
    char random_hex[sizeof random_bytes * 2 + 1];
    int written;

    if (getrandom(random_bytes, sizeof random_bytes, 0) != (ssize_t)sizeof random_bytes)
        return SIGN_ERROR;
    for (size_t i = 0; i < sizeof random_bytes; i++)
        snprintf(random_hex + 2 * i, 3, "%02x", random_bytes[i]);
    written = snprintf(msgid, msgidsz, "%s.%s@%s", random_hex, t, domain);
    if (written < 0 || (size_t)written >= msgidsz)
        return SIGN_ERROR;
    written = snprintf(result->added_msgid, sizeof result->added_msgid, "<%s>", msgid);
    if (written < 0 || (size_t)written >= sizeof result->added_msgid)
        return SIGN_ERROR;
    return SIGN_OK;
}

static enum sign_outcome
pick_identity(const struct sign_policy *policy, struct sign_result *result)
{
    const char *mapped = NULL;
    const char *reason = NULL;

    if (policy->identity_lookup != NULL)
        mapped = policy->identity_lookup(policy->identity_map, result->from_address);
    if (mapped == NULL)
        mapped = result->from_address;
    if (xsmtp_identity_parse(mapped, strlen(mapped), result->identity, sizeof result->identity,
                             &reason) != XSMTP_OK)
        return SIGN_SKIP_BAD_IDENTITY;
    return SIGN_OK;
}

enum sign_outcome
signer_sign(const struct sign_policy *policy, const struct sign_facts *facts,
            struct sign_result *result)
{
    char msgid[XSMTP_EXTRACT_SIZE];
    char time_text[24];
    xsmtp_status status;
    struct xsmtp_hash_tags tags;
    struct xsmtp_token_input input;
    const struct xsmtp_key *key;
    enum sign_outcome outcome;
    int written;

    memset(result, 0, sizeof *result);
    outcome = signer_check_from(policy, facts->from_value, facts->from_count, result->from_address,
                                sizeof result->from_address);
    if (outcome != SIGN_OK)
        return outcome;
    if (facts->msgid_count > 1)
        return SIGN_SKIP_MULTIPLE_MSGID;
    outcome = pick_identity(policy, result);
    if (outcome != SIGN_OK)
        return outcome;
    key = xsmtp_keytable_for_identity(policy->keys, result->identity);
    if (key == NULL)
        return SIGN_SKIP_NO_KEY;

    memset(&tags, 0, sizeof tags);
    if (facts->now < 0 || strlen(key->id) > XSMTP_KEYID_MAX ||
        strlen(facts->client_ip) > XSMTP_IP_MAX || strlen(facts->body_hash) != XSMTP_B64_SHA256)
        return SIGN_ERROR;
    /* t is at most 10 digits (XSMTP-1 s2): good until the year 2286. */
    if ((uint64_t)facts->now > UINT64_C(9999999999))
        return SIGN_ERROR;
    tags.time = (uint64_t)facts->now;
    snprintf(time_text, sizeof time_text, "%" PRIu64, tags.time);
    memcpy(tags.t, time_text, strlen(time_text) + 1);
    memcpy(tags.k, key->id, strlen(key->id) + 1);
    memcpy(tags.ip, facts->client_ip, strlen(facts->client_ip) + 1);
    memcpy(tags.bh, facts->body_hash, XSMTP_B64_SHA256 + 1);

    if (facts->msgid_count == 0 || facts->msgid_value == NULL) {
        outcome =
            make_msgid(address_domain(result->from_address), tags.t, result, msgid, sizeof msgid);
        if (outcome != SIGN_OK)
            return outcome;
    } else {
        status = xsmtp_extract_msgid(facts->msgid_value, strlen(facts->msgid_value), msgid,
                                     sizeof msgid);
        /*
         * "<>" or a blank value is the client's doing, not ours: answering it
         * as an internal error would defer the message for ever.  The
         * verifier refuses such a msgid too, so signing it would be useless.
         */
        if (status == XSMTP_EMALFORMED)
            return SIGN_SKIP_BAD_MSGID;
        if (status != XSMTP_OK)
            return SIGN_ERROR;
    }

    input = (struct xsmtp_token_input){
        .identity = result->identity,
        .msgid = msgid,
        .from = result->from_address,
        .t = tags.t,
        .ip = tags.ip,
        .bh = tags.bh,
        .k = tags.k,
    };
    if (xsmtp_token_mac(key, &input, tags.h) != XSMTP_OK)
        return SIGN_ERROR;
    if (xsmtp_tags_format(&tags, result->hash_value, sizeof result->hash_value) != XSMTP_OK)
        return SIGN_ERROR;
    written = snprintf(result->key_id, sizeof result->key_id, "%s", key->id);
    if (written < 0 || (size_t)written >= sizeof result->key_id)
        return SIGN_ERROR;
    return SIGN_OK;
}

const char *
signer_outcome_str(enum sign_outcome outcome)
{
    switch (outcome) {
    case SIGN_OK: return "signed";
    case SIGN_SKIP_NO_FROM: return "no From header";
    case SIGN_SKIP_MULTIPLE_FROM: return "several From headers";
    case SIGN_SKIP_MULTIPLE_MSGID: return "several Message-ID headers";
    case SIGN_SKIP_BAD_MSGID: return "Message-ID holds no usable msgid";
    case SIGN_SKIP_MULTIPLE_MAILBOX: return "From holds several mailboxes";
    case SIGN_SKIP_BAD_FROM: return "From address unusable";
    case SIGN_SKIP_FOREIGN_DOMAIN: return "From domain is not a signing domain";
    case SIGN_SKIP_BAD_IDENTITY: return "identity is not a valid bare JID";
    case SIGN_SKIP_NO_KEY: return "no key for the identity";
    case SIGN_ERROR: return "internal error";
    }
    return "unknown";
}
