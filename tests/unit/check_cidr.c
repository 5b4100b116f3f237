/*
 * check_cidr.c -- unit tests for hash/util/cidr.c (address prefix lists).
 *
 * Tables of entries (accepted and refused), of addresses against one list
 * (as text and as socket addresses, IPv4-mapped IPv6 included), and of the
 * inet_ntop text written for socket addresses.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "hash/util/cidr.h"

struct parse_case {
    const char *text;
    xsmtp_status status;
    int family;
    unsigned prefix;
};

static const struct parse_case parse_cases[] = {
    {"192.0.2.0/24", XSMTP_OK, AF_INET, 24},
    {"192.0.2.1", XSMTP_OK, AF_INET, 32},
    {"192.0.2.128/25", XSMTP_OK, AF_INET, 25},
    {"0.0.0.0/0", XSMTP_OK, AF_INET, 0},
    {"::1", XSMTP_OK, AF_INET6, 128},
    {"::/0", XSMTP_OK, AF_INET6, 0},
    {"2001:db8::/32", XSMTP_OK, AF_INET6, 32},
    {"2001:DB8::/32", XSMTP_OK, AF_INET6, 32},       /* config may use any spelling */
    {"::ffff:192.0.2.0/120", XSMTP_OK, AF_INET, 24}, /* mapped: stored as IPv4 */
    {"::ffff:192.0.2.1", XSMTP_OK, AF_INET, 32},
    {"::ffff:0.0.0.0/96", XSMTP_OK, AF_INET, 0},

    {"", XSMTP_EMALFORMED, 0, 0},
    {"/24", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/33", XSMTP_EMALFORMED, 0, 0},
    {"2001:db8::/129", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.1/24", XSMTP_EMALFORMED, 0, 0}, /* host bits set */
    {"2001:db8::1/64", XSMTP_EMALFORMED, 0, 0},
    {"::ffff:192.0.2.0/95", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/024", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/2a", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/-1", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/1000", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/24/8", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0 /24", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.0/24 ", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2", XSMTP_EMALFORMED, 0, 0},
    {"192.0.2.010", XSMTP_EMALFORMED, 0, 0},
    {"fe80::1%eth0", XSMTP_EMALFORMED, 0, 0},
    {"localhost", XSMTP_EMALFORMED, 0, 0},
};
#define PARSE_COUNT (int)(sizeof parse_cases / sizeof parse_cases[0])

START_TEST(test_parse)
{
    const struct parse_case *c = &parse_cases[_i];
    struct xsmtp_cidr entry;

    ck_assert_msg(xsmtp_cidr_parse(c->text, &entry) == c->status, "\"%s\"", c->text);
    if (c->status == XSMTP_OK) {
        ck_assert_int_eq(entry.family, c->family);
        ck_assert_uint_eq(entry.prefix, c->prefix);
    }
}
END_TEST

static const char list_text[] =
    "127.0.0.0/8, 192.0.2.128/25 ::1,2001:db8::/33  10.1.2.3, ::ffff:198.51.100.0/120";

struct match_case {
    const char *address;
    bool matches;
};

static const struct match_case match_cases[] = {
    {"127.0.0.1", true},
    {"127.255.255.255", true},
    {"128.0.0.1", false},
    {"126.255.255.255", false},
    {"192.0.2.128", true},
    {"192.0.2.255", true},
    {"192.0.2.127", false},
    {"10.1.2.3", true},
    {"10.1.2.4", false},
    {"198.51.100.9", true}, /* listed in mapped form */
    {"::1", true},
    {"::2", false},
    {"2001:db8::1", true},
    {"2001:db8:7fff:ffff::1", true},
    {"2001:db8:8000::1", false}, /* bit 33 set */
    {"2001:db9::", false},
    {"::ffff:127.0.0.1", true}, /* IPv4-mapped matched as IPv4 */
    {"::ffff:10.1.2.3", true},
    {"::ffff:10.1.2.4", false},
    {"::127.0.0.1", false}, /* IPv4-compatible is plain IPv6 */
    {"::ffff:7f00:1", true},
    {"", false},
    {"localhost", false},
    {"127.0.0.1/32", false},
};
#define MATCH_COUNT (int)(sizeof match_cases / sizeof match_cases[0])

START_TEST(test_match_text)
{
    const struct match_case *c = &match_cases[_i];
    struct xsmtp_cidr_list list = {0};

    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, list_text), XSMTP_OK);
    ck_assert_uint_eq(list.count, 6);
    ck_assert_msg(xsmtp_cidr_list_match_text(&list, c->address) == c->matches, "\"%s\"",
                  c->address);
    xsmtp_cidr_list_free(&list);
}
END_TEST

/* Fills a sockaddr_storage from text (v4 or v6). */
static const struct sockaddr *
make_sockaddr(const char *text, struct sockaddr_storage *storage)
{
    memset(storage, 0, sizeof *storage);
    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)storage;
        v6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)storage;
        v4->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, text, &v4->sin_addr), 1);
    }
    return (const struct sockaddr *)storage;
}

START_TEST(test_match_sockaddr)
{
    const struct match_case *c = &match_cases[_i];
    struct xsmtp_cidr_list list = {0};
    struct sockaddr_storage storage;
    struct in6_addr v6;
    struct in_addr v4;

    /* Only rows that are addresses. */
    if (inet_pton(AF_INET, c->address, &v4) != 1 && inet_pton(AF_INET6, c->address, &v6) != 1)
        return;
    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, list_text), XSMTP_OK);
    ck_assert_msg(xsmtp_cidr_list_match_sockaddr(&list, make_sockaddr(c->address, &storage)) ==
                      c->matches,
                  "\"%s\"", c->address);
    xsmtp_cidr_list_free(&list);
}
END_TEST

START_TEST(test_match_edges)
{
    struct xsmtp_cidr_list list = {0};
    struct sockaddr_storage storage;
    struct sockaddr_un unix_address;

    /* An empty list matches nothing. */
    ck_assert(!xsmtp_cidr_list_match_text(&list, "127.0.0.1"));
    ck_assert(!xsmtp_cidr_list_match_sockaddr(&list, make_sockaddr("::1", &storage)));
    /* /0 matches everything of its family only. */
    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, "0.0.0.0/0"), XSMTP_OK);
    ck_assert(xsmtp_cidr_list_match_text(&list, "203.0.113.9"));
    ck_assert(xsmtp_cidr_list_match_text(&list, "::ffff:203.0.113.9"));
    ck_assert(!xsmtp_cidr_list_match_text(&list, "2001:db8::1"));
    memset(&unix_address, 0, sizeof unix_address);
    unix_address.sun_family = AF_UNIX;
    ck_assert(!xsmtp_cidr_list_match_sockaddr(&list, (const struct sockaddr *)&unix_address));
    ck_assert(!xsmtp_cidr_list_match_sockaddr(&list, NULL));
    ck_assert(!xsmtp_cidr_list_match_text(&list, NULL));
    ck_assert(!xsmtp_cidr_list_match_text(NULL, "1.2.3.4"));
    xsmtp_cidr_list_free(&list);
    ck_assert_ptr_null(list.entries);
    ck_assert_uint_eq(list.count, 0);
}
END_TEST

START_TEST(test_list_building)
{
    struct xsmtp_cidr_list list = {0};
    struct xsmtp_cidr entry;

    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, ""), XSMTP_OK);
    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, " ,\t, "), XSMTP_OK);
    ck_assert_uint_eq(list.count, 0);
    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, "10.0.0.0/8,,\t::1"), XSMTP_OK);
    ck_assert_uint_eq(list.count, 2);
    /* A bad entry stops the parse; entries before it stay (the caller frees). */
    ck_assert_int_eq(xsmtp_cidr_list_parse(&list, "192.0.2.0/24, 192.0.2.1/24, ::2"),
                     XSMTP_EMALFORMED);
    ck_assert_uint_eq(list.count, 3);

    memset(&entry, 0, sizeof entry);
    entry.family = AF_UNIX;
    ck_assert_int_eq(xsmtp_cidr_list_add(&list, &entry), XSMTP_EMALFORMED);
    entry.family = AF_INET;
    entry.prefix = 33;
    ck_assert_int_eq(xsmtp_cidr_list_add(&list, &entry), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_cidr_parse("198.51.100.0/24", &entry), XSMTP_OK);
    ck_assert_int_eq(xsmtp_cidr_list_add(&list, &entry), XSMTP_OK);
    ck_assert_uint_eq(list.count, 4);
    ck_assert(xsmtp_cidr_list_match_text(&list, "198.51.100.1"));
    xsmtp_cidr_list_free(&list);
}
END_TEST

struct text_case {
    const char *address;
    const char *expected;
};

static const struct text_case text_cases[] = {
    {"192.0.2.7", "192.0.2.7"},
    {"0.0.0.0", "0.0.0.0"},
    {"2001:DB8:0:0::1", "2001:db8::1"},
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {"::ffff:127.0.0.1", "127.0.0.1"}, /* mapped written as dotted quad */
    {"::1", "::1"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
};
#define TEXT_COUNT (int)(sizeof text_cases / sizeof text_cases[0])

START_TEST(test_sockaddr_text)
{
    const struct text_case *c = &text_cases[_i];
    struct sockaddr_storage storage;
    char out[INET6_ADDRSTRLEN];
    size_t len = strlen(c->expected);

    const struct sockaddr *address = make_sockaddr(c->address, &storage);
    ck_assert_int_eq(xsmtp_sockaddr_text(address, out, sizeof out), XSMTP_OK);
    ck_assert_str_eq(out, c->expected);
    ck_assert_int_eq(xsmtp_sockaddr_text(address, out, len + 1), XSMTP_OK);
    ck_assert_int_eq(xsmtp_sockaddr_text(address, out, len), XSMTP_ETOOBIG);
}
END_TEST

START_TEST(test_sockaddr_text_refused)
{
    struct sockaddr_un unix_address;
    char out[INET6_ADDRSTRLEN] = "unchanged";

    memset(&unix_address, 0, sizeof unix_address);
    unix_address.sun_family = AF_UNIX;
    ck_assert_int_eq(xsmtp_sockaddr_text((const struct sockaddr *)&unix_address, out, sizeof out),
                     XSMTP_EMALFORMED);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(xsmtp_sockaddr_text(NULL, out, sizeof out), XSMTP_EMALFORMED);
}
END_TEST

static Suite *
cidr_suite(void)
{
    Suite *suite = suite_create("cidr");
    TCase *parse = tcase_create("parse");
    tcase_add_loop_test(parse, test_parse, 0, PARSE_COUNT);
    tcase_add_test(parse, test_list_building);
    suite_add_tcase(suite, parse);
    TCase *match = tcase_create("match");
    tcase_add_loop_test(match, test_match_text, 0, MATCH_COUNT);
    tcase_add_loop_test(match, test_match_sockaddr, 0, MATCH_COUNT);
    tcase_add_test(match, test_match_edges);
    suite_add_tcase(suite, match);
    TCase *text = tcase_create("sockaddr text");
    tcase_add_loop_test(text, test_sockaddr_text, 0, TEXT_COUNT);
    tcase_add_test(text, test_sockaddr_text_refused);
    suite_add_tcase(suite, text);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(cidr_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
