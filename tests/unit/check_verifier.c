/*
 * check_verifier.c -- unit tests of milter/verify/verifier.c: the local outcomes
 * of XSMTP-1 s7 (no network), the s6 query built from the headers, the
 * mapping of answers and cache entries, and the exact X-XSMTP-Verdict,
 * Authentication-Results and reply texts.
 *
 * Header values are XSMTP-1 s3 vectors 1 and 2 (h computed with openssl by
 * the spec's authors); every expected string below is written by hand
 * from the spec text, never produced by the code under test.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/cache/cache.h"
#include "milter/verify/verifier.h"

#define V1_T 1795000000
#define V1_HASH \
    "v=1; k=s1; t=1795000000; ip=192.0.2.10;\r\n" \
    " bh=E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=;\r\n" \
    " h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="
#define V1_BH "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8="
#define WEEK 604800

static struct verifier_message message;

static struct verifier_facts
v1_facts(void)
{
    return (struct verifier_facts){
        .identity = {"alice@a.test", 1, false},
        .hash = {V1_HASH, 1, false},
        .from = {"alice@a.test", 1, false},
        .message_id = {"<20261122.abc@a.test>", 1, false},
        .now = V1_T + 10,
        .max_age = WEEK,
    };
}

/* --- local decisions, table-driven ------------------------------------------- */

struct local_case {
    const char *name;
    struct verifier_header identity, hash, from, message_id;
    int64_t now;
    bool need_query;            /* verifier_check_headers' answer */
    enum xsmtp_verdict verdict; /* when decided */
    const char *reason;
};

/* The case tables are laid out by hand, one case per line or two. */
/* clang-format off */
#define ID_OK {"alice@a.test", 1, false}
#define HASH_OK {V1_HASH, 1, false}
#define FROM_OK {"alice@a.test", 1, false}
#define MSGID_OK {"<20261122.abc@a.test>", 1, false}
#define ABSENT {NULL, 0, false}

static const struct local_case local_cases[] = {
    {"vector 1 needs a query", ID_OK, HASH_OK, FROM_OK, MSGID_OK, V1_T + 10, true,
     XSMTP_VERDICT_NONE, ""},
    {"no X-XMPP header at all", ABSENT, ABSENT, FROM_OK, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_NONE, ""},
    {"no headers, not even From", ABSENT, ABSENT, ABSENT, ABSENT, V1_T, false,
     XSMTP_VERDICT_NONE, ""},
    {"identity twice", {"alice@a.test", 2, false}, HASH_OK, FROM_OK, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "multiple-identity"},
    {"hash twice", ID_OK, {V1_HASH, 2, false}, FROM_OK, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "multiple-hash"},
    {"both twice: identity is checked first", {"alice@a.test", 2, false},
     {V1_HASH, 2, false}, FROM_OK, MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR,
     "multiple-identity"},
    {"hash only", ABSENT, HASH_OK, FROM_OK, MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR,
     "missing-identity"},
    {"identity only", ID_OK, ABSENT, FROM_OK, MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR,
     "missing-hash"},
    {"identity without domain", {"alice", 1, false}, HASH_OK, FROM_OK, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "malformed-identity"},
    {"identity with a resource", {"alice@a.test/home", 1, false}, HASH_OK, FROM_OK, MSGID_OK,
     V1_T, false, XSMTP_VERDICT_PERMERROR, "malformed-identity"},
    {"identity over 8192 octets", {"", 1, true}, HASH_OK, FROM_OK, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "malformed-identity"},
    {"folded, upper-case identity is fine", {" Alice@A.Test\r\n ", 1, false}, HASH_OK,
     FROM_OK, MSGID_OK, V1_T, true, XSMTP_VERDICT_NONE, ""},
    {"hash without h", ID_OK, {"v=1; k=s1; t=1795000000; ip=192.0.2.10; bh=" V1_BH, 1, false},
     FROM_OK, MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR, "malformed-hash"},
    {"hash with v=2", ID_OK, {"v=2; k=s1; t=1795000000; ip=192.0.2.10; bh=" V1_BH "; h=" V1_BH,
     1, false}, FROM_OK, MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR, "malformed-hash"},
    {"hash with a duplicated tag", ID_OK, {V1_HASH "; t=1795000000", 1, false}, FROM_OK,
     MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR, "malformed-hash"},
    {"hash over 8192 octets", ID_OK, {"", 1, true}, FROM_OK, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "malformed-hash"},
    {"no From", ID_OK, HASH_OK, ABSENT, MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR,
     "missing-from"},
    {"two From headers", ID_OK, HASH_OK, {"alice@a.test", 2, false}, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "multiple-from"},
    {"two mailboxes in From", ID_OK, HASH_OK, {"alice@a.test, bob@a.test", 1, false},
     MSGID_OK, V1_T, false, XSMTP_VERDICT_PERMERROR, "multiple-mailboxes"},
    {"empty From address", ID_OK, HASH_OK, {"Alice <>", 1, false}, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "malformed-from"},
    {"From over 8192 octets", ID_OK, HASH_OK, {"", 1, true}, MSGID_OK, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "malformed-from"},
    {"no Message-ID", ID_OK, HASH_OK, FROM_OK, ABSENT, V1_T, false, XSMTP_VERDICT_PERMERROR,
     "missing-message-id"},
    {"two Message-IDs", ID_OK, HASH_OK, FROM_OK, {"<a@b>", 2, false}, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "multiple-message-id"},
    {"empty Message-ID", ID_OK, HASH_OK, FROM_OK, {"<>", 1, false}, V1_T, false,
     XSMTP_VERDICT_PERMERROR, "malformed-message-id"},
    {"malformed headers come before the time check", {"alice", 1, false}, HASH_OK, FROM_OK,
     MSGID_OK, V1_T + 10 * WEEK, false, XSMTP_VERDICT_PERMERROR, "malformed-identity"},
    {"t exactly max_age old is accepted", ID_OK, HASH_OK, FROM_OK, MSGID_OK, V1_T + WEEK,
     true, XSMTP_VERDICT_NONE, ""},
    {"t one second older than max_age", ID_OK, HASH_OK, FROM_OK, MSGID_OK, V1_T + WEEK + 1,
     false, XSMTP_VERDICT_FAIL, "expired"},
    {"t exactly 300 s ahead is accepted", ID_OK, HASH_OK, FROM_OK, MSGID_OK, V1_T - 300, true,
     XSMTP_VERDICT_NONE, ""},
    {"t 301 s ahead", ID_OK, HASH_OK, FROM_OK, MSGID_OK, V1_T - 301, false, XSMTP_VERDICT_FAIL,
     "future"},
};
/* clang-format on */

START_TEST(test_local_cases)
{
    const struct local_case *c = &local_cases[_i];
    struct verifier_facts facts = {
        .identity = c->identity,
        .hash = c->hash,
        .from = c->from,
        .message_id = c->message_id,
        .now = c->now,
        .max_age = WEEK,
    };
    bool need = verifier_check_headers(&facts, &message);

    ck_assert_msg(need == c->need_query, "%s: need_query %d", c->name, need);
    ck_assert_msg(message.decided == !c->need_query, "%s: decided", c->name);
    if (!need) {
        ck_assert_msg(message.result.verdict == c->verdict, "%s: verdict %s", c->name,
                      xsmtp_verdict_name(message.result.verdict));
        ck_assert_msg(strcmp(message.result.reason, c->reason) == 0, "%s: reason '%s'", c->name,
                      message.result.reason);
        ck_assert(!message.result.cached);
        ck_assert_str_eq(message.result.component, "");
    }
}
END_TEST

START_TEST(test_body_hash)
{
    struct verifier_facts facts = v1_facts();

    ck_assert(verifier_check_headers(&facts, &message));
    ck_assert(verifier_check_body(&message, V1_BH));
    ck_assert(!message.decided);
    ck_assert(!verifier_check_body(&message, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
    ck_assert(message.decided);
    ck_assert_int_eq(message.result.verdict, XSMTP_VERDICT_FAIL);
    ck_assert_str_eq(message.result.reason, "body-changed");
    /* A decided message stays decided. */
    ck_assert(!verifier_check_body(&message, V1_BH));
}
END_TEST

/* XSMTP-1 s6 from vector 2's raw header values. */
START_TEST(test_query_vector2)
{
    struct verifier_facts facts = {
        .identity = {"Bob@A.Test", 1, false},
        .hash = {"v=1; k=k-2026.1; t=1795000123; ip=2001:db8::25;\n"
                 " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
                 " h=KJ7/2Qt//XyU8KhXIsy6bS1a4zDbxgf8NgMfDjcEiAU=",
                 1, false},
        .from = {"\"Bob Example\" <Bob@A.Test>", 1, false},
        .message_id = {" <k9.Zz@A.test> (x)", 1, false},
        .now = 1795000123,
        .max_age = WEEK,
    };
    struct xsmtp_query query;
    struct xsmtp_token_input input;

    ck_assert(verifier_check_headers(&facts, &message));
    verifier_query(&message, "198.51.100.7", &query);
    ck_assert_str_eq(query.identity, "bob@a.test");
    ck_assert_str_eq(query.message_id, "k9.Zz@A.test");
    ck_assert_str_eq(query.from, "bob@a.test");
    ck_assert_str_eq(query.t, "1795000123");
    ck_assert_str_eq(query.ip, "2001:db8::25");
    ck_assert_str_eq(query.k, "k-2026.1");
    ck_assert_str_eq(query.bh, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    ck_assert_str_eq(query.h, "KJ7/2Qt//XyU8KhXIsy6bS1a4zDbxgf8NgMfDjcEiAU=");
    ck_assert_str_eq(query.relay, "198.51.100.7");
    verifier_query(&message, "", &query);
    ck_assert_ptr_null(query.relay);
    verifier_token_input(&message, &input);
    ck_assert_str_eq(input.identity, "bob@a.test");
    ck_assert_str_eq(input.msgid, "k9.Zz@A.test");
    ck_assert_str_eq(input.k, "k-2026.1");
    ck_assert_str_eq(verifier_identity_domain(&message), "a.test");
}
END_TEST

/* --- header texts ---------------------------------------------------------------- */

struct text_case {
    const char *name;
    enum xsmtp_verdict verdict;
    const char *reason, *component;
    bool cached;
    const char *verdict_text, *results_text, *reply_text;
};

static const struct text_case text_cases[] = {
    {"pass", XSMTP_VERDICT_PASS, NULL, "xsmtp.a.test", false,
     "pass (identity=alice@a.test; component=xsmtp.a.test; cached=no)",
     "mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test header.from=alice@a.test",
     "XSMTP verification failed for alice@a.test: pass"},
    {"pass from the cache", XSMTP_VERDICT_PASS, NULL, "xsmtp.a.test", true,
     "pass (identity=alice@a.test; component=xsmtp.a.test; cached=yes)",
     "mx.b.test; x-xsmtp=pass header.x-xmpp-identity=alice@a.test header.from=alice@a.test", NULL},
    {"fail bad-hash", XSMTP_VERDICT_FAIL, "bad-hash", "xsmtp.a.test", false,
     "fail (identity=alice@a.test; reason=bad-hash; component=xsmtp.a.test; cached=no)",
     "mx.b.test; x-xsmtp=fail reason=\"bad-hash\" header.x-xmpp-identity=alice@a.test "
     "header.from=alice@a.test",
     "XSMTP verification failed for alice@a.test: bad-hash"},
    {"local fail body-changed", XSMTP_VERDICT_FAIL, "body-changed", NULL, false,
     "fail (identity=alice@a.test; reason=body-changed; cached=no)",
     "mx.b.test; x-xsmtp=fail reason=\"body-changed\" header.x-xmpp-identity=alice@a.test "
     "header.from=alice@a.test",
     "XSMTP verification failed for alice@a.test: body-changed"},
    {"permerror no-component", XSMTP_VERDICT_PERMERROR, "no-component", NULL, false,
     "permerror (identity=alice@a.test; reason=no-component; cached=no)",
     "mx.b.test; x-xsmtp=permerror reason=\"no-component\" header.x-xmpp-identity=alice@a.test "
     "header.from=alice@a.test",
     "XSMTP verification failed for alice@a.test: no-component"},
    {"temperror timeout", XSMTP_VERDICT_TEMPERROR, "timeout", "xsmtp.a.test", false,
     "temperror (identity=alice@a.test; reason=timeout; component=xsmtp.a.test; cached=no)",
     "mx.b.test; x-xsmtp=temperror reason=\"timeout\" header.x-xmpp-identity=alice@a.test "
     "header.from=alice@a.test",
     "XSMTP verification failed for alice@a.test: timeout"},
};

START_TEST(test_texts)
{
    const struct text_case *c = &text_cases[_i];
    struct verifier_facts facts = v1_facts();
    struct verifier_result result;
    char text[2048];

    ck_assert(verifier_check_headers(&facts, &message));
    verifier_result_set(&result, c->verdict, c->reason, c->component);
    result.cached = c->cached;
    ck_assert_int_eq(verifier_format_verdict(&message, &result, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, c->verdict_text);
    ck_assert_int_eq(
        verifier_format_auth_results("mx.b.test", &message, &result, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, c->results_text);
    if (c->reply_text != NULL) {
        ck_assert_int_eq(verifier_format_reply(&message, &result, true, text, sizeof text),
                         XSMTP_OK);
        ck_assert_str_eq(text, c->reply_text);
    }
}
END_TEST

START_TEST(test_texts_none)
{
    struct verifier_facts facts = v1_facts();
    char text[256];

    facts.identity = (struct verifier_header){NULL, 0, false};
    facts.hash = facts.identity;
    ck_assert(!verifier_check_headers(&facts, &message));
    ck_assert_int_eq(verifier_format_verdict(&message, &message.result, text, sizeof text),
                     XSMTP_OK);
    ck_assert_str_eq(text, "none");
    ck_assert_int_eq(
        verifier_format_auth_results("mx.b.test", &message, &message.result, text, sizeof text),
        XSMTP_OK);
    ck_assert_str_eq(text, "mx.b.test; x-xsmtp=none");
}
END_TEST

/* Unknown identity and From: the parts are left out, never guessed. */
START_TEST(test_texts_without_identity)
{
    struct verifier_facts facts = v1_facts();
    char text[512];

    facts.identity.value = "not a jid";
    ck_assert(!verifier_check_headers(&facts, &message));
    ck_assert_int_eq(verifier_format_verdict(&message, &message.result, text, sizeof text),
                     XSMTP_OK);
    ck_assert_str_eq(text, "permerror (reason=malformed-identity; cached=no)");
    ck_assert_int_eq(
        verifier_format_auth_results("mx.b.test", &message, &message.result, text, sizeof text),
        XSMTP_OK);
    ck_assert_str_eq(text, "mx.b.test; x-xsmtp=permerror reason=\"malformed-identity\" "
                           "header.from=alice@a.test");
    ck_assert_int_eq(verifier_format_reply(&message, &message.result, true, text, sizeof text),
                     XSMTP_OK);
    ck_assert_str_eq(text, "XSMTP verification failed: malformed-identity");

    facts = v1_facts();
    facts.from.value = "alice@a.test, bob@a.test";
    ck_assert(!verifier_check_headers(&facts, &message));
    ck_assert_int_eq(
        verifier_format_auth_results("mx.b.test", &message, &message.result, text, sizeof text),
        XSMTP_OK);
    ck_assert_str_eq(text, "mx.b.test; x-xsmtp=permerror reason=\"multiple-mailboxes\" "
                           "header.x-xmpp-identity=alice@a.test");
}
END_TEST

/* A local part that is no Dot-string is quoted; in the comment ( ) \ are escaped. */
START_TEST(test_texts_quoting)
{
    struct verifier_facts facts = v1_facts();
    struct verifier_result result;
    char text[1024];

    facts.identity.value = "a(b)\\c%d@a.test";
    facts.from.value = "\"x y\"@a.test";
    ck_assert(verifier_check_headers(&facts, &message));
    verifier_result_set(&result, XSMTP_VERDICT_FAIL, "bad-hash", "xsmtp.a.test");
    ck_assert_int_eq(verifier_format_verdict(&message, &result, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, "fail (identity=\"a\\(b\\)\\\\\\\\c%d\"@a.test; reason=bad-hash; "
                           "component=xsmtp.a.test; cached=no)");
    ck_assert_int_eq(
        verifier_format_auth_results("mx.b.test", &message, &result, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, "mx.b.test; x-xsmtp=fail reason=\"bad-hash\" "
                           "header.x-xmpp-identity=\"a(b)\\\\c%d\"@a.test "
                           "header.from=\"\\\"x y\\\"\"@a.test");
    ck_assert_int_eq(verifier_format_reply(&message, &result, true, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, "XSMTP verification failed for \"a(b)\\\\c%%d\"@a.test: bad-hash");
    ck_assert_int_eq(verifier_format_reply(&message, &result, false, text, sizeof text), XSMTP_OK);
    ck_assert_str_eq(text, "XSMTP verification failed for \"a(b)\\\\c%d\"@a.test: bad-hash");
}
END_TEST

/* What verify_resolve.c takes from a component's answer. */
struct test_answer {
    enum xsmtp_verdict verdict;
    char reason[XSMTP_REASON_SIZE];
};

/* Over 998 octets on one line: folded before each property. */
START_TEST(test_texts_folding)
{
    char domain[254], authserv[254], identity[400], from[400], reason[64], expected[2048];
    char text[2048];
    struct verifier_facts facts = v1_facts();
    struct verifier_result result;
    struct test_answer answer;

    /* 4 labels of 62 letters, dots between: 251 octets. */
    snprintf(domain, sizeof domain, "%.62s.%.62s.%.62s.%.62s",
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    snprintf(authserv, sizeof authserv, "%s", domain);
    authserv[0] = 'm';
    snprintf(identity, sizeof identity, "%.64s@%s",
             "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii", domain);
    snprintf(from, sizeof from, "%.64s@%s",
             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", domain);
    memset(reason, 'r', 63);
    reason[63] = '\0';
    facts.identity.value = identity;
    facts.from.value = from;
    ck_assert(verifier_check_headers(&facts, &message));
    memset(&answer, 0, sizeof answer);
    answer.verdict = XSMTP_VERDICT_TEMPERROR;
    memcpy(answer.reason, reason, sizeof reason);
    verifier_result_from_answer(&result, answer.verdict, answer.reason, "xsmtp.a.test");
    snprintf(expected, sizeof expected,
             "%s; x-xsmtp=temperror\n\treason=\"%s\"\n\theader.x-xmpp-identity=%s\n\t"
             "header.from=%s",
             authserv, reason, identity, from);
    ck_assert_int_eq(verifier_format_auth_results(authserv, &message, &result, text, sizeof text),
                     XSMTP_OK);
    ck_assert_str_eq(text, expected);
    /* Too small a buffer is an error, never a cut header. */
    ck_assert_int_eq(verifier_format_auth_results(authserv, &message, &result, text, 300),
                     XSMTP_ETOOBIG);
    ck_assert_int_eq(verifier_format_verdict(&message, &result, text, 20), XSMTP_ETOOBIG);
}
END_TEST

/* --- answers and cache entries -------------------------------------------------- */

/* What verify_resolve.c stores: the cache's own rules decide. */
static bool
to_cache(const struct verifier_result *result, struct cache_verdict_entry *entry)
{
    return cache_verdict_entry_set(entry, result->verdict, result->reason, result->component);
}

START_TEST(test_answers)
{
    struct test_answer answer;
    struct verifier_result result;

    memset(&answer, 0, sizeof answer);
    answer.verdict = XSMTP_VERDICT_PASS;
    verifier_result_from_answer(&result, answer.verdict, answer.reason, "xsmtp.a.test");
    ck_assert_int_eq(result.verdict, XSMTP_VERDICT_PASS);
    ck_assert_str_eq(result.reason, "");
    ck_assert_str_eq(result.component, "xsmtp.a.test");
    ck_assert(!result.cached);

    answer.verdict = XSMTP_VERDICT_FAIL;
    snprintf(answer.reason, sizeof answer.reason, "unknown-key");
    verifier_result_from_answer(&result, answer.verdict, answer.reason, "xsmtp.a.test");
    ck_assert_int_eq(result.verdict, XSMTP_VERDICT_FAIL);
    ck_assert_str_eq(result.reason, "unknown-key");

    answer.verdict = XSMTP_VERDICT_PERMERROR;
    snprintf(answer.reason, sizeof answer.reason, "item-not-found");
    verifier_result_from_answer(&result, answer.verdict, answer.reason, "xsmtp.a.test");
    ck_assert_int_eq(result.verdict, XSMTP_VERDICT_PERMERROR);
    ck_assert_str_eq(result.reason, "item-not-found");

    answer.verdict = XSMTP_VERDICT_TEMPERROR;
    answer.reason[0] = '\0';
    verifier_result_from_answer(&result, answer.verdict, answer.reason, "xsmtp.a.test");
    ck_assert_int_eq(result.verdict, XSMTP_VERDICT_TEMPERROR);
    ck_assert_str_eq(result.reason, "unspecified");
}
END_TEST

START_TEST(test_cache_entries)
{
    struct verifier_result result;
    struct cache_verdict_entry entry;

    verifier_result_set(&result, XSMTP_VERDICT_PASS, NULL, "xsmtp.a.test");
    ck_assert(to_cache(&result, &entry));
    ck_assert_int_eq(entry.verdict, XSMTP_VERDICT_PASS);
    ck_assert_str_eq(entry.reason, "");
    ck_assert_str_eq(entry.component, "xsmtp.a.test");

    verifier_result_set(&result, XSMTP_VERDICT_FAIL, "bad-hash", "xsmtp.a.test");
    ck_assert(to_cache(&result, &entry));
    ck_assert_int_eq(entry.verdict, XSMTP_VERDICT_FAIL);
    ck_assert_str_eq(entry.reason, "bad-hash");
    verifier_result_from_cache(&result, entry.verdict, entry.reason, entry.component);
    ck_assert_int_eq(result.verdict, XSMTP_VERDICT_FAIL);
    ck_assert_str_eq(result.reason, "bad-hash");
    ck_assert_str_eq(result.component, "xsmtp.a.test");
    ck_assert(result.cached);

    verifier_result_set(&result, XSMTP_VERDICT_PERMERROR, "no-component", NULL);
    ck_assert(to_cache(&result, &entry));
    ck_assert_str_eq(entry.component, "");

    /* Never stored: temperror, none, a reason or JID the format cannot hold. */
    verifier_result_set(&result, XSMTP_VERDICT_TEMPERROR, "timeout", "xsmtp.a.test");
    ck_assert(!to_cache(&result, &entry));
    verifier_result_set(&result, XSMTP_VERDICT_NONE, NULL, NULL);
    ck_assert(!to_cache(&result, &entry));
    verifier_result_set(&result, XSMTP_VERDICT_FAIL, "Bad_Hash", "xsmtp.a.test");
    ck_assert(!to_cache(&result, &entry));
    verifier_result_set(&result, XSMTP_VERDICT_FAIL, "a-reason-of-thirty-three-octets-x",
                        "xsmtp.a.test");
    ck_assert(!to_cache(&result, &entry));
    verifier_result_set(&result, XSMTP_VERDICT_FAIL, "bad-hash", NULL);
    ck_assert(!to_cache(&result, &entry));
}
END_TEST

static Suite *
verifier_suite(void)
{
    Suite *suite = suite_create("verifier");
    TCase *tcase = tcase_create("core");

    tcase_add_loop_test(tcase, test_local_cases, 0,
                        (int)(sizeof local_cases / sizeof local_cases[0]));
    tcase_add_test(tcase, test_body_hash);
    tcase_add_test(tcase, test_query_vector2);
    tcase_add_loop_test(tcase, test_texts, 0, (int)(sizeof text_cases / sizeof text_cases[0]));
    tcase_add_test(tcase, test_texts_none);
    tcase_add_test(tcase, test_texts_without_identity);
    tcase_add_test(tcase, test_texts_quoting);
    tcase_add_test(tcase, test_texts_folding);
    tcase_add_test(tcase, test_answers);
    tcase_add_test(tcase, test_cache_entries);
    suite_add_tcase(suite, tcase);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(verifier_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
