/*
 * milterload_check.c -- what a correct end-of-message answer is, per
 * --expect mode, and the check of each answer against it.
 *
 * A benchmark that counts wrong answers as fast answers measures nothing,
 * so every message's header changes are checked exactly: names, indices,
 * order where the specification fixes it, and the values that can be
 * known in advance (the signer's identity, ip=, bh= and, given the key,
 * h=; the verifier's verdict word; OpenDKIM's d= and bh=).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tools/milterload.h"

#define NOOP_HEADER "X-Milterload-Noop"

bool
ml_expect_parse(const char *spec, struct ml_expect *expect, char *err, size_t errsz)
{
    memset(expect, 0, sizeof *expect);
    if (strcmp(spec, "any") == 0) {
        expect->kind = ML_EXPECT_ANY;
    } else if (strcmp(spec, "noop") == 0) {
        expect->kind = ML_EXPECT_NOOP;
    } else if (strcmp(spec, "sign") == 0) {
        expect->kind = ML_EXPECT_SIGN;
    } else if (strcmp(spec, "dkim") == 0) {
        expect->kind = ML_EXPECT_DKIM;
    } else if (strcmp(spec, "none") == 0) {
        expect->kind = ML_EXPECT_NONE;
    } else if (strncmp(spec, "verify:", 7) == 0 && spec[7] != '\0' &&
               strlen(spec + 7) < sizeof expect->verdict) {
        expect->kind = ML_EXPECT_VERIFY;
        memcpy(expect->verdict, spec + 7, strlen(spec + 7) + 1);
    } else {
        snprintf(err, errsz, "--expect is any, noop, sign, dkim, none or verify:VERDICT");
        return false;
    }
    return true;
}

/* Copies value without CR, LF, SP and HTAB (folding and FWS gone). */
static void
squeeze(const char *value, char *out, size_t outsz)
{
    size_t n = 0;

    for (; *value != '\0' && n + 1 < outsz; value++) {
        if (*value != '\r' && *value != '\n' && *value != ' ' && *value != '\t')
            out[n++] = *value;
    }
    out[n] = '\0';
}

/* Value of tag name in a squeezed tag list ("a=1;b=2"); NULL if absent or twice. */
static const char *
tag_value(const char *list, const char *name, char *out, size_t outsz)
{
    size_t name_len = strlen(name);
    const char *found = NULL;

    for (const char *p = list; *p != '\0';) {
        const char *end = strchr(p, ';');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            if (found != NULL)
                return NULL;
            found = p;
            snprintf(out, outsz, "%.*s", (int)(len - name_len - 1), p + name_len + 1);
        }
        p += len;
        if (*p == ';')
            p++;
    }
    return found != NULL ? out : NULL;
}

static bool fail(char *err, size_t errsz, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes why into err; always false, so a check can end with return fail(...). */
static bool
fail(char *err, size_t errsz, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(err, errsz, format, args);
    va_end(args);
    return false;
}

static bool
is_action(const struct ml_action *action, char code, const char *name)
{
    return action->code == code && strcasecmp(action->name, name) == 0;
}

static bool
check_sign_hash(const struct ml_expect *expect, const struct ml_message *message, const char *hash,
                char *err, size_t errsz)
{
    char list[ML_ACTION_TEXT], v[8], k[80], t[24], ip[64], bh[64], h[64], want[64];
    long long t_value, now = (long long)time(NULL);

    squeeze(hash, list, sizeof list);
    if (tag_value(list, "v", v, sizeof v) == NULL || tag_value(list, "k", k, sizeof k) == NULL ||
        tag_value(list, "t", t, sizeof t) == NULL || tag_value(list, "ip", ip, sizeof ip) == NULL ||
        tag_value(list, "bh", bh, sizeof bh) == NULL || tag_value(list, "h", h, sizeof h) == NULL)
        return fail(err, errsz, "X-XMPP-Hash misses or repeats a tag: %s", hash);
    if (strcmp(v, "1") != 0)
        return fail(err, errsz, "X-XMPP-Hash v=%s", v);
    t_value = strtoll(t, NULL, 10);
    if (t_value < now - 600 || t_value > now + 600)
        return fail(err, errsz, "X-XMPP-Hash t=%s is not now", t);
    if (expect->sign_ip != NULL && strcmp(ip, expect->sign_ip) != 0)
        return fail(err, errsz, "X-XMPP-Hash ip=%s, expected %s", ip, expect->sign_ip);
    if (strcmp(bh, message->body->bh) != 0)
        return fail(err, errsz, "X-XMPP-Hash bh=%s, expected %s", bh, message->body->bh);
    if (expect->key == NULL)
        return strlen(h) == ML_B64_SHA256 ? true : fail(err, errsz, "X-XMPP-Hash h=%s", h);
    if (strcmp(k, expect->key->id) != 0)
        return fail(err, errsz, "X-XMPP-Hash k=%s, expected %s", k, expect->key->id);
    if (!ml_mac(expect->key, message->from_address, message->msgid, message->from_address, t, ip,
                bh, k, want))
        return fail(err, errsz, "cannot compute the MAC");
    if (strcmp(h, want) != 0)
        return fail(err, errsz, "X-XMPP-Hash h=%s, expected %s", h, want);
    return true;
}

static bool
check_sign(const struct ml_expect *expect, const struct ml_message *message,
           const struct ml_action *actions, size_t count, char *err, size_t errsz)
{
    if (count != 2 || !is_action(&actions[0], 'i', "X-XMPP-Hash") || actions[0].index != 0 ||
        !is_action(&actions[1], 'i', "X-XMPP-Identity") || actions[1].index != 0)
        return fail(err, errsz, "expected insert X-XMPP-Hash then X-XMPP-Identity at index 0");
    if (strcmp(actions[1].value, message->from_address) != 0)
        return fail(err, errsz, "X-XMPP-Identity is '%s', expected '%s'", actions[1].value,
                    message->from_address);
    return check_sign_hash(expect, message, actions[0].value, err, errsz);
}

static bool
check_verify(const struct ml_expect *expect, const struct ml_message *message,
             const struct ml_action *actions, size_t count, char *err, size_t errsz)
{
    const struct ml_action *verdict = NULL, *results = NULL;
    size_t word_len = strlen(expect->verdict);
    char needle[ML_TEXT_MAX + 32];

    for (size_t i = 0; i < count; i++) {
        if (is_action(&actions[i], 'i', "X-XSMTP-Verdict") && verdict == NULL &&
            actions[i].index == 0)
            verdict = &actions[i];
        else if (is_action(&actions[i], 'i', "Authentication-Results") && results == NULL &&
                 actions[i].index == 0)
            results = &actions[i];
        else
            return fail(err, errsz, "unexpected header change '%c' %s", actions[i].code,
                        actions[i].name);
    }
    if (verdict == NULL || results == NULL)
        return fail(err, errsz, "expected X-XSMTP-Verdict and Authentication-Results");
    if (strncmp(verdict->value, expect->verdict, word_len) != 0 ||
        (verdict->value[word_len] != '\0' && verdict->value[word_len] != ' '))
        return fail(err, errsz, "X-XSMTP-Verdict: %s (expected %s)", verdict->value,
                    expect->verdict);
    if (message->signed_item != NULL && strcmp(expect->verdict, "none") != 0) {
        snprintf(needle, sizeof needle, "identity=%s", message->signed_item->identity);
        if (strstr(verdict->value, needle) == NULL)
            return fail(err, errsz, "X-XSMTP-Verdict: %s (expected %s)", verdict->value, needle);
    }
    snprintf(needle, sizeof needle, "x-xsmtp=%s", expect->verdict);
    if (strstr(results->value, needle) == NULL)
        return fail(err, errsz, "Authentication-Results: %s (expected %s)", results->value, needle);
    return true;
}

static bool
check_dkim(const struct ml_expect *expect, const struct ml_message *message,
           const struct ml_action *actions, size_t count, char *err, size_t errsz)
{
    char list[ML_ACTION_TEXT], value[128];

    if (count != 1 || (!is_action(&actions[0], 'h', "DKIM-Signature") &&
                       !is_action(&actions[0], 'i', "DKIM-Signature")))
        return fail(err, errsz, "expected one DKIM-Signature header");
    squeeze(actions[0].value, list, sizeof list);
    if (tag_value(list, "bh", value, sizeof value) == NULL || strcmp(value, message->body->bh) != 0)
        return fail(err, errsz, "DKIM-Signature bh is not %s: %s", message->body->bh,
                    actions[0].value);
    if (expect->dkim_domain != NULL && (tag_value(list, "d", value, sizeof value) == NULL ||
                                        strcasecmp(value, expect->dkim_domain) != 0))
        return fail(err, errsz, "DKIM-Signature d= is not %s: %s", expect->dkim_domain,
                    actions[0].value);
    return true;
}

bool
ml_expect_check(const struct ml_expect *expect, const struct ml_message *message,
                const struct ml_action *actions, size_t action_count, char final, char *err,
                size_t errsz)
{
    if (final != 'a' && final != 'c') {
        snprintf(err, errsz, "final reply '%c', expected accept or continue", final);
        return false;
    }
    for (size_t i = 0; i < action_count; i++) {
        if (actions[i].truncated) {
            snprintf(err, errsz, "header %s longer than %d octets", actions[i].name,
                     ML_ACTION_TEXT - 1);
            return false;
        }
    }
    switch (expect->kind) {
    case ML_EXPECT_ANY: return true;
    case ML_EXPECT_NONE:
        return action_count == 0 ? true : fail(err, errsz, "a header change (%s)", actions[0].name);
    case ML_EXPECT_NOOP:
        return action_count == 1 && is_action(&actions[0], 'h', NOOP_HEADER)
                   ? true
                   : fail(err, errsz, "expected only: add %s", NOOP_HEADER);
    case ML_EXPECT_SIGN: return check_sign(expect, message, actions, action_count, err, errsz);
    case ML_EXPECT_VERIFY: return check_verify(expect, message, actions, action_count, err, errsz);
    case ML_EXPECT_DKIM: return check_dkim(expect, message, actions, action_count, err, errsz);
    }
    snprintf(err, errsz, "unknown expectation");
    return false;
}
