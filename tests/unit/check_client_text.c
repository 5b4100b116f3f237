/*
 * check_client_text.c -- unit tests for xmpp/client/client_text.c: which values
 * the XMPP client lets into a stanza (UTF-8 and XML character rules),
 * domain JIDs, and the full JID the client logs in with.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/client/client_text.h"

struct xml_row {
    const char *value;
    bool ok;
    const char *what;
};

static const struct xml_row xml_rows[] = {
    {"", true, "empty"},
    {"20261122.abc@a.test", true, "plain message-id"},
    {"a<b>&\"'c", true, "markup characters (escaped by libstrophe)"},
    {"\x7f", true, "DEL is an XML Char"},
    {"caf\xc3\xa9", true, "2-octet UTF-8"},
    {"\xe2\x82\xac", true, "3-octet UTF-8 (euro sign)"},
    {"\xef\xbf\xbd", true, "U+FFFD"},
    {"\xf0\x9f\x98\x80", true, "4-octet UTF-8"},
    {"\xf4\x8f\xbf\xbf", true, "U+10FFFF"},
    {"\t", false, "tab (becomes a space in an attribute)"},
    {"a\rb", false, "CR"},
    {"a\nb", false, "LF"},
    {"\x01", false, "C0 control"},
    {"\x1f", false, "unit separator"},
    {"\x80", false, "lone continuation octet"},
    {"\xc3", false, "truncated 2-octet sequence"},
    {"\xe2\x82", false, "truncated 3-octet sequence"},
    {"\xc3\x28", false, "bad continuation"},
    {"\xc0\xaf", false, "overlong 2-octet"},
    {"\xc1\xbf", false, "overlong 2-octet (C1 lead)"},
    {"\xe0\x80\xaf", false, "overlong 3-octet"},
    {"\xf0\x80\x80\xaf", false, "overlong 4-octet"},
    {"\xed\xa0\x80", false, "surrogate U+D800"},
    {"\xed\xbf\xbf", false, "surrogate U+DFFF"},
    {"\xef\xbf\xbe", false, "U+FFFE"},
    {"\xef\xbf\xbf", false, "U+FFFF"},
    {"\xf4\x90\x80\x80", false, "above U+10FFFF"},
    {"\xf5\x80\x80\x80", false, "F5 lead"},
    {"\xff", false, "FF"},
};

struct domain_row {
    const char *in;
    size_t outsz;
    const char *out; /* NULL: refused */
};

static char long_domain[300];

START_TEST(test_xml)
{
    const struct xml_row *row = &xml_rows[_i];

    ck_assert_msg(xclient_text_xml_ok(row->value, 100) == row->ok, "row %d: %s", _i, row->what);
}
END_TEST

START_TEST(test_xml_limits)
{
    char *big = malloc(8194);

    ck_assert_ptr_nonnull(big);
    memset(big, 'a', 8193);
    big[8193] = '\0';
    ck_assert(!xclient_text_xml_ok(big, 8192));
    big[8192] = '\0';
    ck_assert(xclient_text_xml_ok(big, 8192));
    ck_assert(!xclient_text_xml_ok(NULL, 10));
    /* a sequence cut by the limit is not read past it */
    ck_assert(!xclient_text_xml_ok("ab\xc3\xa9", 3));
    free(big);
}
END_TEST

START_TEST(test_domain)
{
    static const struct domain_row rows[] = {
        {"xsmtp.a.test", 254, "xsmtp.a.test"},
        {"XSMTP.A.Test", 254, "xsmtp.a.test"},
        {"b-1.example", 254, "b-1.example"},
        {"", 254, NULL},
        {"a b.test", 254, NULL},
        {"alice@a.test", 254, NULL},
        {"a.test/res", 254, NULL},
        {"a.test'", 254, NULL},
        {"a.test", 6, NULL}, /* no room for the NUL */
        {"a.test", 7, "a.test"},
    };
    char out[300];
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool ok = xclient_text_domain(rows[i].in, out, rows[i].outsz);

        ck_assert_msg(ok == (rows[i].out != NULL), "row %zu", i);
        if (ok)
            ck_assert_str_eq(out, rows[i].out);
    }
    ck_assert(!xclient_text_domain(NULL, out, sizeof out));
    memset(long_domain, 'a', 253);
    long_domain[253] = '\0';
    ck_assert(xclient_text_domain(long_domain, out, sizeof out));
    long_domain[253] = 'a';
    long_domain[254] = '\0';
    ck_assert(!xclient_text_domain(long_domain, out, sizeof out));
}
END_TEST

START_TEST(test_full_jid)
{
    ck_assert(xclient_text_full_jid("milter@b.test/gw1"));
    ck_assert(xclient_text_full_jid("milter@b.test/gw/1"));
    ck_assert(!xclient_text_full_jid("milter@b.test"));
    ck_assert(!xclient_text_full_jid("b.test/gw1"));
    ck_assert(!xclient_text_full_jid("@b.test/gw1"));
    ck_assert(!xclient_text_full_jid("milter@/gw1"));
    ck_assert(!xclient_text_full_jid("milter@b.test/"));
    ck_assert(!xclient_text_full_jid("milter@b.test/g\x01"));
    ck_assert(!xclient_text_full_jid("gw/1@b.test"));
    ck_assert(!xclient_text_full_jid(NULL));
}
END_TEST

int
main(void)
{
    Suite *suite = suite_create("xclient_text");
    TCase *tc = tcase_create("xclient_text");
    SRunner *runner;
    int failed;

    tcase_add_loop_test(tc, test_xml, 0, (int)(sizeof xml_rows / sizeof xml_rows[0]));
    tcase_add_test(tc, test_xml_limits);
    tcase_add_test(tc, test_domain);
    tcase_add_test(tc, test_full_jid);
    suite_add_tcase(suite, tc);
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
