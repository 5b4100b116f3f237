/*
 * fuzz_headers.c -- the milter's header handling as a sequence of header
 * callbacks, without libmilter: message.c collects the facts, verifier.c
 * decides and writes the verdict headers, signer.c signs.
 *
 * Input: one header per line, "Name: value"; a line starting with space or
 * tab continues the previous header (joined with "\n", as libmilter hands
 * folded values over); the value starts after the blanks that follow the
 * colon.  At most 20,000 headers.
 *
 * Invariants:
 *   - deletions (message_delete) run against a model of the MTA's header
 *     list, indices per name, case-insensitive, shifting after each
 *     deletion as Postfix does: every index named exists; afterwards no
 *     X-XSMTP-Verdict and no Authentication-Results of ours is left, and
 *     nothing else was deleted (foreign A-R headers stay); for the signer,
 *     no X-XMPP-* header is left and nothing else was deleted;
 *   - every verdict header value we would write (for the local outcome, a
 *     component's pass and a component's fail) is well formed: valid UTF-8,
 *     no control character except a fold ("\n\t"), lines under 998
 *     octets, the verdict word first; the s6 query's message-id and from
 *     hold no CR or LF;
 *   - what the signer signs, the verifier accepts: its X-XMPP-Identity and
 *     X-XMPP-Hash, with the message's From and Message-ID (or the one it
 *     adds), pass the verifier's local checks and the MAC verifies.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter/message.h"
#include "milter/sign/signer.h"
#include "milter/verify/verifier.h"
#include "tests/fuzz/fuzz.h"
#include "xmpp/client/client_text.h"

#define MAX_HEADERS 20000
#define AUTHSERV "mx.b.test"
#define NOW 1795000100
#define MAX_AGE (7 * 24 * 3600)

struct model_header {
    const char *name;
    const char *value;
    bool deleted;
};

static struct model_header model[MAX_HEADERS];
static size_t model_count;
static struct milter_message message;
static struct verifier_message checked;
static struct xsmtp_keytable *keys;
static const char *const domains[] = {"a.test"};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char keyfile[64], err[256];
    FILE *file;
    int fd;

    (void)argc;
    (void)argv;
    snprintf(keyfile, sizeof keyfile, "%s", "/tmp/fuzz_headers.XXXXXX");
    fd = mkstemp(keyfile);
    FUZZ_CHECK(fd >= 0 && fchmod(fd, 0600) == 0);
    file = fdopen(fd, "w");
    FUZZ_CHECK(file != NULL);
    fputs("s1 c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE= *@a.test\n", file);
    FUZZ_CHECK(fclose(file) == 0);
    FUZZ_CHECK(xsmtp_keytable_load(keyfile, &keys, err, sizeof err) == XSMTP_OK);
    unlink(keyfile);
    return 0;
}

/* ---- input -> header list ---------------------------------------------------------- */

/* Splits text (NUL-terminated copy of the input) into model[] in place. */
static void
split_headers(char *text)
{
    char *line = text, *next, *colon, *end;

    model_count = 0;
    while (line != NULL && *line != '\0') {
        next = strchr(line, '\n');
        /* Continuation lines stay part of this header's value. */
        while (next != NULL && (next[1] == ' ' || next[1] == '\t'))
            next = strchr(next + 1, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (model_count == MAX_HEADERS)
            break;
        colon = strchr(line, ':');
        if (colon != NULL) {
            *colon = '\0';
            end = colon + 1;
            while (*end == ' ' || *end == '\t')
                end++;
            model[model_count++] = (struct model_header){line, end, false};
        } else {
            model[model_count++] = (struct model_header){line, "", false};
        }
        line = next;
    }
}

/* ---- the MTA's side of smfi_chgheader ------------------------------------------------ */

static bool
model_delete(void *arg, const char *name, int index)
{
    int seen = 0;

    (void)arg;
    FUZZ_CHECK(index >= 1);
    for (size_t i = 0; i < model_count; i++) {
        if (model[i].deleted || strcasecmp(model[i].name, name) != 0)
            continue;
        if (++seen == index) {
            model[i].deleted = true;
            return true;
        }
    }
    fprintf(stderr, "deleted %.80s index %d, which does not exist\n", name, index);
    abort();
}

static bool
ours(const char *value)
{
    size_t length;

    value += strspn(value, " \t\r\n");
    length = strcspn(value, " \t\r\n;(");
    return length == strlen(AUTHSERV) && strncasecmp(value, AUTHSERV, length) == 0;
}

static void
check_deletions(void)
{
    size_t forged = 0, xmpp = 0, deleted = 0;

    for (size_t i = 0; i < model_count; i++) {
        model[i].deleted = false;
        if (strcasecmp(model[i].name, "X-XSMTP-Verdict") == 0 ||
            (strcasecmp(model[i].name, "Authentication-Results") == 0 && ours(model[i].value)))
            forged++;
        if (strncasecmp(model[i].name, "X-XMPP-", 7) == 0)
            xmpp++;
    }
    FUZZ_CHECK(message_delete_count(&message, MESSAGE_DELETE_FORGED) == forged);
    FUZZ_CHECK(message_delete(&message, MESSAGE_DELETE_FORGED, model_delete, NULL));
    for (size_t i = 0; i < model_count; i++) {
        bool is_forged =
            strcasecmp(model[i].name, "X-XSMTP-Verdict") == 0 ||
            (strcasecmp(model[i].name, "Authentication-Results") == 0 && ours(model[i].value));
        FUZZ_CHECK(model[i].deleted == is_forged);
        model[i].deleted = false;
    }
    FUZZ_CHECK(message_delete_count(&message, MESSAGE_DELETE_CLIENT_XMPP) == xmpp);
    FUZZ_CHECK(message_delete(&message, MESSAGE_DELETE_CLIENT_XMPP, model_delete, NULL));
    for (size_t i = 0; i < model_count; i++) {
        FUZZ_CHECK(model[i].deleted == (strncasecmp(model[i].name, "X-XMPP-", 7) == 0));
        deleted += model[i].deleted;
    }
    FUZZ_CHECK(deleted == xmpp);
}

/* ---- the verifier's headers ----------------------------------------------------------- */

/* Valid UTF-8 (xclient_text's check, which refuses controls), line by line. */
static void
check_header_value(const char *value)
{
    char line[2048];
    const char *start = value;

    for (;;) {
        const char *fold = strstr(start, "\n\t");
        size_t length = fold != NULL ? (size_t)(fold - start) : strlen(start);

        FUZZ_CHECK(length < 998 - 24); /* plus "Authentication-Results: " */
        memcpy(line, start, length);
        line[length] = '\0';
        FUZZ_CHECK(xclient_text_xml_ok(line, sizeof line));
        if (fold == NULL)
            break;
        start = fold + 2;
    }
}

static void
check_result_headers(const struct verifier_result *result)
{
    char verdict[2048], results[2048];
    const char *word = xsmtp_verdict_name(result->verdict);

    FUZZ_CHECK(verifier_format_verdict(&checked, result, verdict, sizeof verdict) == XSMTP_OK);
    FUZZ_CHECK(verifier_format_auth_results(AUTHSERV, &checked, result, results, sizeof results) ==
               XSMTP_OK);
    check_header_value(verdict);
    check_header_value(results);
    FUZZ_CHECK(strncmp(verdict, word, strlen(word)) == 0 &&
               (verdict[strlen(word)] == '\0' || verdict[strlen(word)] == ' '));
    FUZZ_CHECK(strncmp(results, AUTHSERV "; x-xsmtp=", strlen(AUTHSERV) + 10) == 0);
}

static struct verifier_header
header_of(const struct message_header_value *value)
{
    return (struct verifier_header){
        .value = value->count > 0 ? value->value : NULL,
        .count = value->count,
        .too_long = value->too_long,
    };
}

static void
check_verifier(void)
{
    struct verifier_facts facts = {
        .identity = header_of(&message.xmpp_identity),
        .hash = header_of(&message.xmpp_hash),
        .from = header_of(&message.from),
        .message_id = header_of(&message.message_id),
        .now = NOW,
        .max_age = MAX_AGE,
    };
    struct verifier_result result;
    struct xsmtp_query query;

    if (!verifier_check_headers(&facts, &checked)) {
        FUZZ_CHECK(checked.decided);
        check_result_headers(&checked.result);
        return;
    }
    FUZZ_CHECK(checked.identity_ok && checked.tags_ok && checked.from_ok && checked.msgid_ok);
    FUZZ_CHECK(verifier_check_body(&checked, checked.tags.bh));
    verifier_query(&checked, "198.51.100.7", &query);
    FUZZ_CHECK(strpbrk(query.message_id, "\r\n") == NULL && strpbrk(query.from, "\r\n") == NULL);
    verifier_result_set(&result, XSMTP_VERDICT_PASS, NULL, "xsmtp.a.test");
    check_result_headers(&result);
    verifier_result_set(&result, XSMTP_VERDICT_FAIL, "bad-hash", "xsmtp.a.test");
    check_result_headers(&result);
}

/* ---- signer -> verifier ----------------------------------------------------------------- */

static void
check_round_trip(void)
{
    static struct sign_result signed_result;
    static char address[XSMTP_EXTRACT_SIZE];
    const struct sign_policy policy = {
        .domains = domains,
        .domain_count = 1,
        .keys = keys,
    };
    const char *body_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    struct sign_facts facts;
    struct verifier_facts verifier_facts;
    struct xsmtp_token_input input;
    const struct xsmtp_key *key;

    if (message.from.too_long || message.message_id.too_long ||
        signer_check_from(&policy, message.from.value, message.from.count, address,
                          sizeof address) != SIGN_OK)
        return;
    facts = (struct sign_facts){
        .from_value = message.from.value,
        .from_count = message.from.count,
        .msgid_value = message.message_id.value,
        .msgid_count = message.message_id.count,
        .client_ip = "192.0.2.10",
        .body_hash = body_hash,
        .now = NOW,
    };
    if (signer_sign(&policy, &facts, &signed_result) != SIGN_OK)
        return;
    verifier_facts = (struct verifier_facts){
        .identity = {signed_result.identity, 1, false},
        .hash = {signed_result.hash_value, 1, false},
        .from = {message.from.value, 1, false},
        .message_id = {signed_result.added_msgid[0] != '\0' ? signed_result.added_msgid
                                                            : message.message_id.value,
                       1, false},
        .now = NOW,
        .max_age = MAX_AGE,
    };
    FUZZ_CHECK(verifier_check_headers(&verifier_facts, &checked));
    FUZZ_CHECK(verifier_check_body(&checked, body_hash));
    verifier_token_input(&checked, &input);
    key = xsmtp_keytable_by_id(keys, checked.tags.k);
    FUZZ_CHECK(key != NULL);
    FUZZ_CHECK(xsmtp_token_verify(key, &input, checked.tags.h) == XSMTP_OK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size > 4 * 1024 * 1024)
        return 0;
    text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    split_headers(text);
    /* The same struct serves message after message, as on one connection. */
    message_reset(&message);
    for (size_t i = 0; i < model_count; i++)
        message_header(&message, model[i].name, model[i].value, AUTHSERV);
    FUZZ_CHECK(message.header_count == model_count);
    check_deletions();
    check_verifier();
    check_round_trip();
    free(text);
    return 0;
}
