/*
 * check_message.c -- unit tests for milter/message.c: header facts and the
 * deletions the signer and verifier ask libmilter for.
 *
 * Each row feeds headers (as libmilter hands them over) and lists the
 * smfi_chgheader deletions expected for each set, "Name:index" in the
 * order made within each name (across names the order is free, so both
 * sides are compared grouped by name).  The rows cover what the old
 * 32-entry table could not: 1,000 copies of one header, 40 distinct
 * X-XMPP-* names, a 200-octet name; plus case-insensitive names, our
 * authserv-id against look-alikes, and reuse after message_reset.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/message.h"

#define AUTHSERV "mx.b.test"

struct header {
    const char *name, *value;
};

struct deletion_case {
    const char *what;
    struct header headers[12];
    const char *authserv;
    const char *forged; /* expected for MESSAGE_DELETE_FORGED */
    const char *xmpp;   /* expected for MESSAGE_DELETE_CLIENT_XMPP */
};

static const struct deletion_case cases[] = {
    {"nothing to delete", {{"From", "a@a.test"}, {"Subject", "x"}}, AUTHSERV, "", ""},
    {"verdicts, any case",
     {{"X-XSMTP-Verdict", "pass"}, {"x-xsmtp-verdict", "pass"}, {"X-XSMTP-VERDICT", "fail"}},
     AUTHSERV,
     "X-XSMTP-Verdict:3,X-XSMTP-Verdict:2,X-XSMTP-Verdict:1",
     ""},
    {"only our A-R, highest first",
     {{"Authentication-Results", "other.example; spf=pass"},
      {"Authentication-Results", "mx.b.test; x-xsmtp=pass"},
      {"Authentication-Results", "mx.b.test.evil; x-xsmtp=pass"},
      {"authentication-results", "  MX.B.TEST(c); x-xsmtp=pass"},
      {"Authentication-Results", "mx.b.tes; x-xsmtp=pass"}},
     AUTHSERV,
     "Authentication-Results:4,Authentication-Results:2",
     ""},
    {"no authserv-id: no A-R is ours", {{"Authentication-Results", "mx.b.test; x"}}, "", "", ""},
    {"X-XMPP-* names, case kept from the first",
     {{"X-XMPP-Hash", "1"},
      {"x-xmpp-hash", "2"},
      {"X-XMPP-Identity", "a@a.test"},
      {"X-XMPP-HASH", "3"},
      {"X-XMPP-Other", ""}},
     AUTHSERV,
     "",
     "X-XMPP-Hash:3,X-XMPP-Hash:2,X-XMPP-Hash:1,X-XMPP-Identity:1,X-XMPP-Other:1"},
    {"both sets apart",
     {{"X-XMPP-Identity", "a@a.test"},
      {"X-XSMTP-Verdict", "pass"},
      {"Authentication-Results", "mx.b.test; x-xsmtp=pass"},
      {"Received", "x"}},
     AUTHSERV,
     "Authentication-Results:1,X-XSMTP-Verdict:1",
     "X-XMPP-Identity:1"},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

/* Deletions as made: "Name:index" joined by ','. */
struct recorder {
    char **items;
    size_t count;
};

static bool
record(void *arg, const char *name, int index)
{
    struct recorder *recorder = arg;
    char *item = malloc(strlen(name) + 16);

    ck_assert_ptr_nonnull(item);
    sprintf(item, "%s:%d", name, index);
    recorder->items = realloc(recorder->items, (recorder->count + 1) * sizeof *recorder->items);
    ck_assert_ptr_nonnull(recorder->items);
    recorder->items[recorder->count++] = item;
    return true;
}

/* Groups by name (stable), then joins: order within a name is kept. */
static char *
joined(struct recorder *recorder)
{
    size_t total = 1;
    char *out;

    for (size_t i = 1; i < recorder->count; i++) {
        char *item = recorder->items[i];
        size_t j = i;
        size_t length = strcspn(item, ":");
        while (j > 0 && strncasecmp(recorder->items[j - 1], item, length) > 0) {
            recorder->items[j] = recorder->items[j - 1];
            j--;
        }
        recorder->items[j] = item;
    }
    for (size_t i = 0; i < recorder->count; i++)
        total += strlen(recorder->items[i]) + 1;
    out = calloc(1, total);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < recorder->count; i++) {
        if (i > 0)
            strcat(out, ",");
        strcat(out, recorder->items[i]);
        free(recorder->items[i]);
    }
    free(recorder->items);
    recorder->items = NULL;
    recorder->count = 0;
    return out;
}

static char *
deletions(const struct milter_message *message, unsigned set)
{
    struct recorder recorder = {NULL, 0};

    ck_assert(message_delete(message, set, record, &recorder));
    ck_assert_uint_eq(message_delete_count(message, set), recorder.count);
    return joined(&recorder);
}

static struct milter_message message;

START_TEST(test_deletions)
{
    const struct deletion_case *c = &cases[_i];
    char *forged, *xmpp;

    message_reset(&message);
    for (size_t i = 0; i < 12 && c->headers[i].name != NULL; i++)
        message_header(&message, c->headers[i].name, c->headers[i].value, c->authserv);
    forged = deletions(&message, MESSAGE_DELETE_FORGED);
    xmpp = deletions(&message, MESSAGE_DELETE_CLIENT_XMPP);
    ck_assert_msg(strcmp(forged, c->forged) == 0, "%s: forged: %s", c->what, forged);
    ck_assert_msg(strcmp(xmpp, c->xmpp) == 0, "%s: xmpp: %s", c->what, xmpp);
    free(forged);
    free(xmpp);
    message_free(&message);
}
END_TEST

/* One name 1,000 times: 1,000 deletions, 1000 down to 1. */
START_TEST(test_thousand_copies)
{
    struct recorder recorder = {NULL, 0};

    message_reset(&message);
    for (int i = 0; i < 1000; i++)
        message_header(&message, i % 2 ? "X-XMPP-Hash" : "x-xmpp-hash", "v=1", AUTHSERV);
    message_header(&message, "Authentication-Results", "mx.b.test; x", AUTHSERV);
    ck_assert_uint_eq(message.xmpp_hash.count, 1000);
    ck_assert(message_delete(&message, MESSAGE_DELETE_CLIENT_XMPP, record, &recorder));
    ck_assert_uint_eq(recorder.count, 1000);
    for (size_t i = 0; i < 1000; i++) {
        char expected[32];
        snprintf(expected, sizeof expected, "x-xmpp-hash:%zu", 1000 - i);
        ck_assert_str_eq(recorder.items[i], expected);
    }
    free(joined(&recorder));
    message_free(&message);
}
END_TEST

/* Past the old limits: 40 names, 1,000 of our A-R, a 200-octet name. */
START_TEST(test_many_names)
{
    char name[256], *list;
    struct recorder recorder = {NULL, 0};

    message_reset(&message);
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof name, "X-XMPP-Junk-%d", i);
        message_header(&message, name, "x", AUTHSERV);
    }
    memset(name, 'n', 200);
    memcpy(name, "X-XMPP-", 7);
    name[200] = '\0';
    message_header(&message, name, "x", AUTHSERV);
    for (int i = 0; i < 1000; i++)
        message_header(&message, "Authentication-Results",
                       i % 3 == 0 ? "other; spf=pass" : "mx.b.test; x", AUTHSERV);
    ck_assert_uint_eq(message_delete_count(&message, MESSAGE_DELETE_CLIENT_XMPP), 41);
    list = deletions(&message, MESSAGE_DELETE_CLIENT_XMPP);
    ck_assert_ptr_nonnull(strstr(list, "X-XMPP-Junk-40:1"));
    ck_assert_ptr_nonnull(strstr(list, "X-XMPP-nnnnnnnn"));
    free(list);
    ck_assert(message_delete(&message, MESSAGE_DELETE_FORGED, record, &recorder));
    ck_assert_uint_eq(recorder.count, 666);
    ck_assert_str_eq(recorder.items[0], "Authentication-Results:999");
    ck_assert_str_eq(recorder.items[665], "Authentication-Results:2");
    free(joined(&recorder));
    /* Reused for the next message: nothing of the old one is left. */
    message_reset(&message);
    message_header(&message, "X-XMPP-Junk-7", "x", AUTHSERV);
    list = deletions(&message, MESSAGE_DELETE_CLIENT_XMPP | MESSAGE_DELETE_FORGED);
    ck_assert_str_eq(list, "X-XMPP-Junk-7:1");
    free(list);
    message_free(&message);
}
END_TEST

START_TEST(test_values)
{
    char *long_value = malloc(XSMTP_HEADER_VALUE_MAX + 2);

    ck_assert_ptr_nonnull(long_value);
    memset(long_value, 'x', XSMTP_HEADER_VALUE_MAX + 1);
    long_value[XSMTP_HEADER_VALUE_MAX + 1] = '\0';
    message_reset(&message);
    message_header(&message, "from", "first@a.test", AUTHSERV);
    message_header(&message, "FROM", "second@a.test", AUTHSERV);
    message_header(&message, "Message-ID", long_value, AUTHSERV);
    message_header(&message, "X-XMPP-Identity", NULL, AUTHSERV);
    message_header(&message, NULL, "ignored", AUTHSERV);
    ck_assert_uint_eq(message.header_count, 4);
    ck_assert_uint_eq(message.from.count, 2);
    ck_assert_str_eq(message.from.value, "first@a.test");
    ck_assert(message.message_id.too_long);
    ck_assert_str_eq(message.message_id.value, "");
    ck_assert_uint_eq(message.xmpp_identity.count, 1);
    ck_assert_str_eq(message.xmpp_identity.value, "");
    message_free(&message);
    free(long_value);
}
END_TEST

static Suite *
message_suite(void)
{
    Suite *suite = suite_create("message");
    TCase *tcase = tcase_create("deletions");

    tcase_add_loop_test(tcase, test_deletions, 0, CASE_COUNT);
    tcase_add_test(tcase, test_thousand_copies);
    tcase_add_test(tcase, test_many_names);
    tcase_add_test(tcase, test_values);
    suite_add_tcase(suite, tcase);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(message_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
