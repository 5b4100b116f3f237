/*
 * cache_key.c -- the pure half of the cache: key derivation, the value
 * formats and the TTL rules documented in cache.h.
 *
 * Nothing here talks to Redis, so all of it is unit-tested on its own
 * (tests/unit/check_cache.c, keys against `openssl dgst -sha256`).  Values read
 * back from Redis are untrusted (another version of the milter, or anyone
 * with access to Redis, may have written them): the parsers accept exactly
 * what the formatters write and nothing else.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "milter/cache/cache.h"

static const char hex_digits[] = "0123456789abcdef";

const char *
cache_result_str(enum cache_result result)
{
    switch (result) {
    case CACHE_OK: return "ok";
    case CACHE_HIT: return "hit";
    case CACHE_MISS: return "miss";
    case CACHE_LOCKED: return "locked";
    case CACHE_BUSY: return "busy";
    case CACHE_UNAVAILABLE: return "unavailable";
    case CACHE_EINVAL: return "invalid";
    }
    return "unknown";
}

/* Printable ASCII without space: what a prefix or a relay may hold. */
static bool
printable_token(const char *text, size_t max, bool allow_empty)
{
    size_t len = strnlen(text, max + 1);

    if (len > max || (len == 0 && !allow_empty))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

xsmtp_status
cache_key_verdict_canonical(const char *prefix, const char *canonical, size_t canonical_len,
                            const char *relay, char *out, size_t outsz)
{
    static const char relay_tag[] = "relay:";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    size_t prefix_len, need;
    EVP_MD_CTX *md;
    bool ok;

    if (out != NULL && outsz > 0)
        out[0] = '\0';
    if (prefix == NULL || canonical == NULL || out == NULL || canonical_len == 0)
        return XSMTP_EMALFORMED;
    if (relay == NULL)
        relay = "";
    if (!printable_token(prefix, CACHE_PREFIX_MAX, true) ||
        !printable_token(relay, CACHE_RELAY_MAX, true))
        return XSMTP_EMALFORMED;
    prefix_len = strlen(prefix);
    need = prefix_len + 2 + 64 + 1;
    if (outsz < need)
        return XSMTP_ETOOBIG;

    md = EVP_MD_CTX_new();
    if (md == NULL)
        return XSMTP_ENOMEM;
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(md, canonical, canonical_len) == 1 &&
         EVP_DigestUpdate(md, relay_tag, sizeof relay_tag - 1) == 1 &&
         EVP_DigestUpdate(md, relay, strlen(relay)) == 1 && EVP_DigestUpdate(md, "\n", 1) == 1 &&
         EVP_DigestFinal_ex(md, digest, &digest_len) == 1 && digest_len == 32;
    EVP_MD_CTX_free(md);
    if (!ok)
        return XSMTP_ECRYPTO;

    memcpy(out, prefix, prefix_len);
    memcpy(out + prefix_len, "v:", 2);
    for (unsigned int i = 0; i < digest_len; i++) {
        out[prefix_len + 2 + 2 * i] = hex_digits[digest[i] >> 4];
        out[prefix_len + 2 + 2 * i + 1] = hex_digits[digest[i] & 0x0f];
    }
    out[need - 1] = '\0';
    return XSMTP_OK;
}

xsmtp_status
cache_key_verdict(const char *prefix, const struct xsmtp_token_input *input, const char *relay,
                  char *out, size_t outsz)
{
    char *canonical;
    size_t canonical_len = 0;
    xsmtp_status status;

    if (out != NULL && outsz > 0)
        out[0] = '\0';
    if (input == NULL)
        return XSMTP_EMALFORMED;
    /* ~17 KB: on the heap, milter threads may have small stacks. */
    canonical = malloc(XSMTP_CANONICAL_SIZE);
    if (canonical == NULL)
        return XSMTP_ENOMEM;
    status = xsmtp_canonical_build(input, canonical, XSMTP_CANONICAL_SIZE, &canonical_len);
    if (status == XSMTP_OK)
        status = cache_key_verdict_canonical(prefix, canonical, canonical_len, relay, out, outsz);
    free(canonical);
    return status;
}

static bool
domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

xsmtp_status
cache_key_component(const char *prefix, const char *domain, char *out, size_t outsz)
{
    size_t prefix_len, domain_len;

    if (out != NULL && outsz > 0)
        out[0] = '\0';
    if (prefix == NULL || domain == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    if (!printable_token(prefix, CACHE_PREFIX_MAX, true))
        return XSMTP_EMALFORMED;
    domain_len = strnlen(domain, CACHE_JID_MAX + 1);
    if (domain_len == 0 || domain_len > CACHE_JID_MAX)
        return XSMTP_EMALFORMED;
    for (size_t i = 0; i < domain_len; i++)
        if (!domain_char((unsigned char)domain[i]))
            return XSMTP_EMALFORMED;
    prefix_len = strlen(prefix);
    if (outsz < prefix_len + 2 + domain_len + 1)
        return XSMTP_ETOOBIG;
    memcpy(out, prefix, prefix_len);
    memcpy(out + prefix_len, "c:", 2);
    for (size_t i = 0; i < domain_len; i++) {
        char c = domain[i];
        out[prefix_len + 2 + i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[prefix_len + 2 + domain_len] = '\0';
    return XSMTP_OK;
}

/* --- values ------------------------------------------------------------- */

static bool
reason_ok(const char *text, size_t len)
{
    if (len == 0 || len > CACHE_REASON_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool
jid_ok(const char *text, size_t len)
{
    if (len == 0 || len > CACHE_JID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* The rules both directions share; lengths are of the fields as given. */
static bool
verdict_fields_ok(enum xsmtp_verdict verdict, const char *reason, size_t reason_len,
                  const char *component, size_t component_len)
{
    switch (verdict) {
    case XSMTP_VERDICT_PASS: return reason_len == 0 && jid_ok(component, component_len);
    case XSMTP_VERDICT_FAIL:
        return reason_ok(reason, reason_len) && jid_ok(component, component_len);
    case XSMTP_VERDICT_PERMERROR:
        return reason_ok(reason, reason_len) &&
               (component_len == 0 || jid_ok(component, component_len));
    case XSMTP_VERDICT_NONE:
    case XSMTP_VERDICT_TEMPERROR: break;
    }
    return false;
}

bool
cache_verdict_entry_set(struct cache_verdict_entry *entry, enum xsmtp_verdict verdict,
                        const char *reason, const char *component)
{
    size_t reason_len, component_len;

    memset(entry, 0, sizeof *entry);
    if (verdict == XSMTP_VERDICT_PASS || reason == NULL)
        reason = "";
    if (component == NULL)
        component = "";
    reason_len = strnlen(reason, sizeof entry->reason);
    component_len = strnlen(component, sizeof entry->component);
    if (reason_len == sizeof entry->reason || component_len == sizeof entry->component ||
        !verdict_fields_ok(verdict, reason, reason_len, component, component_len))
        return false;
    entry->verdict = verdict;
    memcpy(entry->reason, reason, reason_len + 1);
    memcpy(entry->component, component, component_len + 1);
    return true;
}

xsmtp_status
cache_verdict_format(const struct cache_verdict_entry *entry, char *out, size_t outsz)
{
    size_t reason_len, component_len;
    int written;

    if (out != NULL && outsz > 0)
        out[0] = '\0';
    if (entry == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    reason_len = strnlen(entry->reason, sizeof entry->reason);
    component_len = strnlen(entry->component, sizeof entry->component);
    if (reason_len == sizeof entry->reason || component_len == sizeof entry->component ||
        !verdict_fields_ok(entry->verdict, entry->reason, reason_len, entry->component,
                           component_len))
        return XSMTP_EMALFORMED;
    written = snprintf(out, outsz, "%s\t%s\t%s", xsmtp_verdict_name(entry->verdict), entry->reason,
                       entry->component);
    if (written < 0 || (size_t)written >= outsz) {
        if (outsz > 0)
            out[0] = '\0';
        return XSMTP_ETOOBIG;
    }
    return XSMTP_OK;
}

xsmtp_status
cache_verdict_parse(const char *value, size_t len, struct cache_verdict_entry *entry)
{
    const char *tab1, *tab2, *reason, *component;
    size_t word_len, reason_len, component_len;
    enum xsmtp_verdict verdict;

    if (entry == NULL)
        return XSMTP_EMALFORMED;
    memset(entry, 0, sizeof *entry);
    if (value == NULL || len == 0 || len >= CACHE_VALUE_SIZE)
        return XSMTP_EMALFORMED;
    /* memchr, not strchr: a value holding a NUL must not parse. */
    if (memchr(value, '\0', len) != NULL)
        return XSMTP_EMALFORMED;
    tab1 = memchr(value, '\t', len);
    if (tab1 == NULL)
        return XSMTP_EMALFORMED;
    tab2 = memchr(tab1 + 1, '\t', len - (size_t)(tab1 + 1 - value));
    if (tab2 == NULL)
        return XSMTP_EMALFORMED;
    word_len = (size_t)(tab1 - value);
    reason = tab1 + 1;
    reason_len = (size_t)(tab2 - reason);
    component = tab2 + 1;
    component_len = len - (size_t)(component - value);

    /* none and temperror are words of a verdict, but never stored (below);
     * a third tab would land in component, whose charset refuses it. */
    if (!xsmtp_verdict_parse(value, word_len, &verdict))
        return XSMTP_EMALFORMED;
    if (!verdict_fields_ok(verdict, reason, reason_len, component, component_len))
        return XSMTP_EMALFORMED;

    entry->verdict = verdict;
    memcpy(entry->reason, reason, reason_len);
    entry->reason[reason_len] = '\0';
    memcpy(entry->component, component, component_len);
    entry->component[component_len] = '\0';
    return XSMTP_OK;
}

xsmtp_status
cache_component_format(const struct cache_component_entry *entry, char *out, size_t outsz)
{
    size_t jid_len;
    int written;

    if (out != NULL && outsz > 0)
        out[0] = '\0';
    if (entry == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    jid_len = strnlen(entry->jid, sizeof entry->jid);
    if (!entry->found) {
        if (jid_len != 0)
            return XSMTP_EMALFORMED;
        written = snprintf(out, outsz, "none");
    } else {
        if (jid_len == sizeof entry->jid || !jid_ok(entry->jid, jid_len))
            return XSMTP_EMALFORMED;
        written = snprintf(out, outsz, "found\t%s", entry->jid);
    }
    if (written < 0 || (size_t)written >= outsz) {
        if (outsz > 0)
            out[0] = '\0';
        return XSMTP_ETOOBIG;
    }
    return XSMTP_OK;
}

xsmtp_status
cache_component_parse(const char *value, size_t len, struct cache_component_entry *entry)
{
    if (entry == NULL)
        return XSMTP_EMALFORMED;
    memset(entry, 0, sizeof *entry);
    if (value == NULL || len == 0 || len >= CACHE_VALUE_SIZE)
        return XSMTP_EMALFORMED;
    if (len == 4 && memcmp(value, "none", 4) == 0)
        return XSMTP_OK;
    if (len > 6 && memcmp(value, "found\t", 6) == 0 && jid_ok(value + 6, len - 6)) {
        entry->found = true;
        memcpy(entry->jid, value + 6, len - 6);
        entry->jid[len - 6] = '\0';
        return XSMTP_OK;
    }
    return XSMTP_EMALFORMED;
}

/* --- TTL ---------------------------------------------------------------- */

int64_t
cache_ttl_for(enum xsmtp_verdict verdict, int64_t t, int64_t max_age, int64_t now)
{
    int64_t expires, left;

    switch (verdict) {
    case XSMTP_VERDICT_PASS:
        if (max_age < 0 || t < 0)
            return 0;
        /* t has at most 10 digits, but the caller's max_age is any int64. */
        if (max_age > INT64_MAX - t)
            expires = INT64_MAX;
        else
            expires = t + max_age;
        if (expires <= now)
            return 0;
        if (now < 0 && expires > INT64_MAX + now)
            return CACHE_TTL_PASS_MAX;
        left = expires - now;
        return left > CACHE_TTL_PASS_MAX ? CACHE_TTL_PASS_MAX : left;
    case XSMTP_VERDICT_FAIL:
    case XSMTP_VERDICT_PERMERROR: return CACHE_TTL_NEGATIVE;
    case XSMTP_VERDICT_NONE:
    case XSMTP_VERDICT_TEMPERROR: break;
    }
    return 0;
}

int64_t
cache_component_ttl(bool found)
{
    return found ? CACHE_TTL_COMPONENT_FOUND : CACHE_TTL_COMPONENT_NONE;
}
