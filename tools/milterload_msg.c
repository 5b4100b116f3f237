/*
 * milterload_msg.c -- the messages milterload sends: twelve ordinary
 * headers (optionally the two X-XMPP-* headers of a pre-signed message on
 * top) and a 4 KiB plain-text body.
 *
 * Bodies come from a pool of ML_BODY_POOL, made once at start from a
 * fixed seed, so a body index names the same bytes in every run (the
 * pre-signed file relies on that).  Every body is already in DKIM
 * "relaxed" canonical form (single spaces, no trailing blanks, CRLF line
 * ends, a non-empty last line), so its relaxed body hash -- the bh= of
 * XSMTP-1 and of OpenDKIM -- is plainly base64(SHA-256(body)), computed
 * here with OpenSSL and independent of the project's canonicalizer.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "tools/milterload.h"

static const char *const words[] = {
    "the",      "mail",    "gateway",  "signs",     "every",  "message",  "with",    "an",
    "identity", "that",    "a",        "receiving", "server", "can",      "check",   "over",
    "XMPP",     "before",  "delivery", "quarterly", "report", "attached", "please",  "review",
    "numbers",  "meeting", "tomorrow", "at",        "ten",    "regards",  "budget",  "draft",
    "thanks",   "for",     "your",     "patience",  "while",  "we",       "migrate", "servers",
};
#define WORD_COUNT (sizeof words / sizeof words[0])
#define LINE_WIDTH 72

static uint32_t
next_random(uint32_t *state)
{
    /* xorshift32: deterministic and cheap; nothing here needs quality. */
    uint32_t x = *state;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static bool
body_hash(const unsigned char *data, size_t len, char out[ML_B64_SHA256 + 1])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    if (EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != 32)
        return false;
    return EVP_EncodeBlock((unsigned char *)out, digest, 32) == ML_B64_SHA256;
}

/* Body number index: lines of words, exactly ML_BODY_SIZE octets. */
static bool
body_make(struct ml_body *body, unsigned index)
{
    uint32_t state = 0x9e3779b9u ^ (index * 2654435761u + 1u);
    size_t used, line;
    int written;

    written = snprintf((char *)body->data, sizeof body->data,
                       "Body %u of the milterload corpus.\r\n", index);
    if (written < 0 || (size_t)written >= sizeof body->data)
        return false;
    used = (size_t)written;
    /* Full lines while a last line of 3..76 octets can still follow. */
    while (ML_BODY_SIZE - used > LINE_WIDTH + 6) {
        line = 0;
        for (;;) {
            const char *word = words[next_random(&state) % WORD_COUNT];
            size_t len = strlen(word);

            if (line > 0 && line + 1 + len > LINE_WIDTH)
                break;
            if (line > 0)
                body->data[used + line++] = ' ';
            memcpy(body->data + used + line, word, len);
            line += len;
        }
        body->data[used + line++] = '\r';
        body->data[used + line++] = '\n';
        used += line;
    }
    /* The last line fills the body exactly; no blank may end it. */
    memset(body->data + used, 'z', ML_BODY_SIZE - used - 2);
    body->data[ML_BODY_SIZE - 2] = '\r';
    body->data[ML_BODY_SIZE - 1] = '\n';
    return body_hash(body->data, ML_BODY_SIZE, body->bh);
}

bool
ml_corpus_init(struct ml_corpus *corpus, const char *domain, const char *tag, unsigned users,
               const struct ml_signed_list *signed_list)
{
    memset(corpus, 0, sizeof *corpus);
    if (domain == NULL || tag == NULL || users == 0 || strlen(domain) > 100 || strlen(tag) > 64)
        return false;
    corpus->bodies = calloc(ML_BODY_POOL, sizeof *corpus->bodies);
    if (corpus->bodies == NULL)
        return false;
    for (unsigned i = 0; i < ML_BODY_POOL; i++) {
        if (!body_make(&corpus->bodies[i], i)) {
            ml_corpus_free(corpus);
            return false;
        }
    }
    corpus->domain = domain;
    corpus->tag = tag;
    corpus->users = users;
    corpus->signed_list = signed_list;
    return true;
}

void
ml_corpus_free(struct ml_corpus *corpus)
{
    free(corpus->bodies);
    corpus->bodies = NULL;
}

/* Appends a formatted string to the message's storage; NULL when full. */
static const char *store(struct ml_message *message, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static const char *
store(struct ml_message *message, const char *format, ...)
{
    size_t room = sizeof message->storage - message->used;
    char *at = message->storage + message->used;
    va_list args;
    int written;

    va_start(args, format);
    written = vsnprintf(at, room, format, args);
    va_end(args);
    if (written < 0 || (size_t)written >= room)
        return NULL;
    message->used += (size_t)written + 1;
    return at;
}

static bool
add_header(struct ml_message *message, const char *name, const char *value)
{
    if (value == NULL || message->header_count >= ML_HEADERS_MAX)
        return false;
    message->headers[message->header_count++] = (struct ml_header){name, value};
    return true;
}

static void
lowercase_copy(char *out, size_t outsz, const char *in)
{
    size_t i;

    for (i = 0; i + 1 < outsz && in[i] != '\0'; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    out[i] = '\0';
}

/* The X-XMPP-Hash value as a signer writes it: folded before bh= and h=. */
static const char *
hash_value(struct ml_message *message, const struct ml_signed *item)
{
    return store(message, "v=1; k=%s; t=%s; ip=%s;\n bh=%s;\n h=%s", item->k, item->t, item->ip,
                 item->bh, item->h);
}

bool
ml_message_build(const struct ml_corpus *corpus, unsigned long index, struct ml_message *message)
{
    const struct ml_signed *item = NULL;
    const char *display;
    unsigned long user = index % corpus->users;
    bool ok = true;

    message->index = index;
    message->header_count = 0;
    message->used = 0;
    if (corpus->signed_list != NULL && corpus->signed_list->count > 0)
        item = &corpus->signed_list->items[index % corpus->signed_list->count];
    message->signed_item = item;
    snprintf(message->queue_id, sizeof message->queue_id, "ML%08lX", index);
    if (item != NULL) {
        message->body = &corpus->bodies[item->body_index % ML_BODY_POOL];
        snprintf(message->msgid, sizeof message->msgid, "%s", item->msgid);
        lowercase_copy(message->from_address, sizeof message->from_address, item->from);
        display = store(message, "\"Sender\" <%s>", item->from);
        ok = add_header(message, "X-XMPP-Identity", store(message, "%s", item->identity)) &&
             add_header(message, "X-XMPP-Hash", hash_value(message, item));
    } else {
        message->body = &corpus->bodies[index % ML_BODY_POOL];
        snprintf(message->msgid, sizeof message->msgid, "%s.%lu@%s", corpus->tag, index,
                 corpus->domain);
        snprintf(message->from_address, sizeof message->from_address, "user%lu@%s", user,
                 corpus->domain);
        display = store(message, "\"User %lu\" <user%lu@%s>", user, user, corpus->domain);
    }
    snprintf(message->envelope_from, sizeof message->envelope_from, "<%s>", message->from_address);
    ok = ok &&
         add_header(message, "Received",
                    store(message,
                          "from client.example (client.example [192.0.2.10])\n"
                          "\tby mx.milterload.test (Postfix) with ESMTP id %s\n"
                          "\tfor <bob@b.test>; Mon, 23 Nov 2026 10:00:00 +0000",
                          message->queue_id)) &&
         add_header(message, "Date", "Mon, 23 Nov 2026 10:00:00 +0000") &&
         add_header(message, "From", display) &&
         add_header(message, "To", "\"Bob Example\" <bob@b.test>") &&
         add_header(message, "Cc", "carol@b.test") &&
         add_header(message, "Subject",
                    store(message, "Load test message %lu of run %s", index, corpus->tag)) &&
         add_header(message, "Message-ID", store(message, "<%s>", message->msgid)) &&
         add_header(message, "MIME-Version", "1.0") &&
         add_header(message, "Content-Type", "text/plain; charset=utf-8; format=flowed") &&
         add_header(message, "Content-Transfer-Encoding", "8bit") &&
         add_header(message, "User-Agent", "milterload/1") &&
         add_header(message, "Reply-To", store(message, "%s", message->from_address));
    return ok;
}

bool
ml_signed_make(const struct ml_corpus *corpus, const struct ml_key *key, unsigned long index,
               const char *ip, long long now, struct ml_signed *item)
{
    unsigned long user = index % corpus->users;
    int written;

    memset(item, 0, sizeof *item);
    item->body_index = (unsigned)(index % ML_BODY_POOL);
    written = snprintf(item->from, sizeof item->from, "user%lu@%s", user, corpus->domain);
    if (written < 0 || (size_t)written >= sizeof item->from)
        return false;
    memcpy(item->identity, item->from, sizeof item->identity);
    snprintf(item->msgid, sizeof item->msgid, "%s.%lu@%s", corpus->tag, index, corpus->domain);
    snprintf(item->t, sizeof item->t, "%lld", now);
    snprintf(item->ip, sizeof item->ip, "%s", ip);
    snprintf(item->k, sizeof item->k, "%s", key->id);
    memcpy(item->bh, corpus->bodies[item->body_index].bh, sizeof item->bh);
    return ml_mac(key, item->identity, item->msgid, item->from, item->t, item->ip, item->bh,
                  item->k, item->h);
}
