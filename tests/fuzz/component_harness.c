/*
 * component_harness.c -- see component_harness.h.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "hash/util/log.h"
#include "hash/util/text.h"
#include "tests/fuzz/component_harness.h"
#include "tests/fuzz/fuzz.h"
#include "xmpp/component/component.h"

#define HARNESS_NOW 1795000100ULL
#define HARNESS_MAX_STANZAS 32
#define S1_SECRET "secret-for-test-vector-one-32bytes!"
#define ALICE_SECRET "another-secret-for-alice-only-2026"

static struct component comp;
static uint64_t fake_now_ns = 1000000000ULL;

/* What the stanza being handled asked for; the checker compares with it. */
static struct {
    xmpp_stanza_t *stanza;
    const char *name; /* "iq" or "message" */
    unsigned answers;
} current;

uint64_t
component_now_ns(void)
{
    return fake_now_ns;
}

uint64_t
component_unix_time(void)
{
    return HARNESS_NOW;
}

void
harness_init(void)
{
    static char keyfile[64];
    static char *domains[] = {"a.test"};
    char err[256];
    FILE *file;
    int fd;

    log_reconfigure(LOG_USER, LOG_DEBUG); /* format every line, write none */
    log_set_stderr(false);
    snprintf(keyfile, sizeof keyfile, "%s", "/tmp/fuzz_component.XXXXXX");
    fd = mkstemp(keyfile);
    FUZZ_CHECK(fd >= 0 && fchmod(fd, 0600) == 0);
    file = fdopen(fd, "w");
    FUZZ_CHECK(file != NULL);
    /* Secrets as base64 of the ASCII texts above (openssl base64). */
    fputs("s1 c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE= *@a.test\n"
          "alice-2026 YW5vdGhlci1zZWNyZXQtZm9yLWFsaWNlLW9ubHktMjAyNg== alice@a.test\n"
          "s0 c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE= *@a.test revoked\n",
          file);
    FUZZ_CHECK(fclose(file) == 0);
    FUZZ_CHECK(xsmtp_keytable_load(keyfile, &comp.keys, err, sizeof err) == XSMTP_OK);
    unlink(keyfile);

    comp.config.jid = "xsmtp.a.test";
    comp.config.domains = domains;
    comp.config.domain_count = 1;
    comp.config.max_age = COMPONENT_DEFAULT_MAX_AGE;
    comp.config.relays_set = true;
    FUZZ_CHECK(xsmtp_cidr_list_parse(&comp.config.relays, "198.51.100.0/24, 2001:db8::/32") ==
               XSMTP_OK);
    comp.config.rate_per_domain = 50;
    comp.config.burst = 5;
    comp.config.notify = true;
    FUZZ_CHECK(component_ratelimit_new(50, 5, COMPONENT_RATE_KEYS, &comp.query_limit) == XSMTP_OK);
    FUZZ_CHECK(component_ratelimit_new(50, 5, COMPONENT_RATE_KEYS, &comp.notice_limit) == XSMTP_OK);
    comp.xmpp = xmpp_ctx_new(NULL, NULL);
    FUZZ_CHECK(comp.xmpp != NULL);
    comp.conn = xmpp_conn_new(comp.xmpp);
    FUZZ_CHECK(comp.conn != NULL);
    comp.link = LINK_CONNECTED;
}

/* ---- the independent MAC ---------------------------------------------------------- */

static void
append(char *out, size_t outsz, size_t *used, const char *text, bool lower)
{
    for (; *text != '\0'; text++) {
        char c = *text;
        FUZZ_CHECK(*used + 1 < outsz);
        out[(*used)++] = lower && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[*used] = '\0';
}

/* Whether h is the right MAC for the query's attributes under secret. */
static bool
mac_right(xmpp_stanza_t *verify, const char *secret)
{
    static const char *const fields[][2] = {
        {"identity:", "identity"},
        {"message-id:", "message-id"},
        {"from:", "from"},
        {"time:", "t"},
        {"ip:", "ip"},
        {"body-hash:", "bh"},
        {"key:", "k"},
    };
    static char canonical[3 * 8192 + 512];
    unsigned char mac[32];
    char encoded[48];
    size_t used = 0, mac_len = 0;

    append(canonical, sizeof canonical, &used, "xsmtp-1\n", false);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *value = xmpp_stanza_get_attribute(verify, fields[i][1]);
        FUZZ_CHECK(value != NULL);
        append(canonical, sizeof canonical, &used, fields[i][0], false);
        append(canonical, sizeof canonical, &used, value,
               strcmp(fields[i][1], "identity") == 0 || strcmp(fields[i][1], "from") == 0);
        append(canonical, sizeof canonical, &used, "\n", false);
    }
    FUZZ_CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, strlen(secret),
                         (const unsigned char *)canonical, used, mac, sizeof mac,
                         &mac_len) != NULL &&
               mac_len == 32);
    FUZZ_CHECK(EVP_EncodeBlock((unsigned char *)encoded, mac, 32) == 44);
    return xsmtp_str_is(xmpp_stanza_get_attribute(verify, "h"), encoded);
}

static const char *
secret_of(const char *key_id)
{
    if (xsmtp_str_is(key_id, "s1"))
        return S1_SECRET;
    if (xsmtp_str_is(key_id, "alice-2026"))
        return ALICE_SECRET;
    return NULL;
}

/* ---- the checker in place of xmpp_send --------------------------------------------- */

static void
check_well_formed(xmpp_stanza_t *stanza)
{
    xmpp_stanza_t *again;
    char *text = NULL;
    size_t length = 0;

    FUZZ_CHECK(xmpp_stanza_to_text(stanza, &text, &length) == XMPP_EOK && text != NULL);
    FUZZ_CHECK(strlen(text) == length);
    again = xmpp_stanza_new_from_string(comp.xmpp, text);
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_name(again), xmpp_stanza_get_name(stanza)));
    xmpp_stanza_release(again);
    xmpp_free(comp.xmpp, text);
}

static void
check_verdict(xmpp_stanza_t *answer)
{
    xmpp_stanza_t *verdict = xmpp_stanza_get_child_by_name_and_ns(answer, "verdict", XSMTP_NS);
    xmpp_stanza_t *verify;
    const char *result, *reason, *secret;

    if (verdict == NULL)
        return;
    verify = xmpp_stanza_get_child_by_name_and_ns(current.stanza, "verify", XSMTP_NS);
    FUZZ_CHECK(verify != NULL);
    result = xmpp_stanza_get_attribute(verdict, "result");
    reason = xmpp_stanza_get_attribute(verdict, "reason");
    FUZZ_CHECK(xsmtp_str_is(result, "pass") || xsmtp_str_is(result, "fail"));
    secret = secret_of(xmpp_stanza_get_attribute(verify, "k"));
    if (xsmtp_str_is(result, "pass")) {
        FUZZ_CHECK(reason == NULL && secret != NULL && mac_right(verify, secret));
    } else if (xsmtp_str_is(reason, "bad-hash")) {
        FUZZ_CHECK(secret != NULL && !mac_right(verify, secret));
    } else {
        FUZZ_CHECK(xsmtp_str_is(reason, "unknown-key") || xsmtp_str_is(reason, "revoked") ||
                   xsmtp_str_is(reason, "identity-not-allowed") ||
                   xsmtp_str_is(reason, "expired") || xsmtp_str_is(reason, "future") ||
                   xsmtp_str_is(reason, "relay-not-authorized"));
    }
}

static void
check_iq_answer(xmpp_stanza_t *answer)
{
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_name(answer), "iq"));
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_type(answer), "result") ||
               xsmtp_str_is(xmpp_stanza_get_type(answer), "error"));
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_id(answer), xmpp_stanza_get_id(current.stanza)));
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_to(answer), xmpp_stanza_get_from(current.stanza)));
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_from(answer), comp.config.jid));
    if (xsmtp_str_is(xmpp_stanza_get_type(answer), "result"))
        check_verdict(answer);
}

static void
check_notice(xmpp_stanza_t *answer)
{
    static const char *const allowed[] = {"xmlns", "identity", "message-id", "status", "by", "t"};
    const char *attributes[16];
    xmpp_stanza_t *progress;
    const char *to, *at;
    int count;

    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_name(answer), "message"));
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_type(answer), "headline"));
    FUZZ_CHECK(!xsmtp_str_is(xmpp_stanza_get_type(current.stanza), "error"));
    to = xmpp_stanza_get_to(answer);
    FUZZ_CHECK(to != NULL && strchr(to, '/') == NULL);
    at = strchr(to, '@');
    FUZZ_CHECK(at != NULL && xsmtp_str_is(at + 1, "a.test"));
    FUZZ_CHECK(xmpp_stanza_get_child_by_name(answer, "body") != NULL);
    progress = xmpp_stanza_get_child_by_name_and_ns(answer, "progress", XSMTP_NS);
    FUZZ_CHECK(progress != NULL);
    FUZZ_CHECK(xsmtp_str_is(xmpp_stanza_get_attribute(progress, "identity"), to));
    count = xmpp_stanza_get_attributes(progress, attributes, 16);
    FUZZ_CHECK(count == 12); /* six names and their values */
    for (int i = 0; i < count; i += 2) {
        bool known = false;
        for (size_t j = 0; j < sizeof allowed / sizeof allowed[0]; j++)
            known = known || xsmtp_str_is(attributes[i], allowed[j]);
        FUZZ_CHECK(known);
    }
}

void __wrap_xmpp_send(xmpp_conn_t *conn, xmpp_stanza_t *stanza);
void
__wrap_xmpp_send(xmpp_conn_t *conn, xmpp_stanza_t *stanza)
{
    FUZZ_CHECK(conn == comp.conn && current.stanza != NULL);
    current.answers++;
    check_well_formed(stanza);
    if (strcmp(current.name, "iq") == 0)
        check_iq_answer(stanza);
    else
        check_notice(stanza);
}

/* ---- feeding -------------------------------------------------------------------------- */

static void
feed_one(xmpp_stanza_t *stanza, const char *name)
{
    const char *type = xmpp_stanza_get_type(stanza);
    const char *id = xmpp_stanza_get_id(stanza);
    bool must_answer;

    current.stanza = stanza;
    current.name = name;
    current.answers = 0;
    if (strcmp(name, "iq") == 0) {
        component_iq_handler(comp.conn, stanza, &comp);
        must_answer = (xsmtp_str_is(type, "get") || xsmtp_str_is(type, "set")) && id != NULL &&
                      strlen(id) <= COMPONENT_ID_MAX && xmpp_stanza_get_from(stanza) != NULL;
        FUZZ_CHECK(current.answers == (must_answer ? 1u : 0u));
    } else {
        component_message_handler(comp.conn, stanza, &comp);
        FUZZ_CHECK(current.answers <= 1);
    }
    current.stanza = NULL;
}

void
harness_feed(const uint8_t *data, size_t size, const char *name)
{
    char *text = malloc(size + 1);
    size_t start = 0;
    int stanzas = 0;

    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    /* Every NUL ends one stanza's text; the last one ends at the end. */
    while (start <= size && stanzas < HARNESS_MAX_STANZAS) {
        size_t length = strlen(text + start);
        xmpp_stanza_t *stanza =
            length > 0 ? xmpp_stanza_new_from_string(comp.xmpp, text + start) : NULL;
        fake_now_ns += 10000000ULL;
        if (stanza != NULL) {
            if (xsmtp_str_is(xmpp_stanza_get_name(stanza), name))
                feed_one(stanza, name);
            xmpp_stanza_release(stanza);
            stanzas++;
        }
        start += length + 1;
    }
    free(text);
}
