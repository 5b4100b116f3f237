/*
 * check_taglist.c -- unit tests for hash/taglist.c (the X-XMPP-Hash header).
 *
 * Every malformed case named in XSMTP-1 s2 has a row with its exact reason;
 * the accepted forms cover DKIM tag-list whitespace and folding, trailing
 * ';', unknown tags and the limits; format-then-parse closes the loop.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/taglist.h"

#define BH "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8="
#define H "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM="
#define V_ "v=1; "
#define K_ "k=s1; "
#define T_ "t=1795000000; "
#define IP_ "ip=192.0.2.10; "
#define BH_ "bh=" BH "; "
#define H_ "h=" H
#define K65 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define SPEC_HEADER "v=1; k=s1; t=1795000000; ip=192.0.2.10;\r\n bh=" BH ";\r\n h=" H

struct malformed_case {
    const char *value;
    size_t len; /* 0: strlen(value) */
    const char *reason;
};

static const struct malformed_case malformed[] = {
    {V_ K_ K_ T_ IP_ BH_ H_, 0, "duplicate tag k"},
    {V_ K_ T_ IP_ BH_ H_ "; v=1", 0, "duplicate tag v"},
    {V_ K_ T_ IP_ BH_ H_ "; h=" H, 0, "duplicate tag h"},
    {V_ K_ T_ IP_ BH_, 0, "missing tag h"},
    {V_ K_ T_ BH_ H_, 0, "missing tag ip"},
    {K_ T_ IP_ BH_ H_, 0, "missing tag v"},
    {"V=1; " K_ T_ IP_ BH_ H_, 0, "missing tag v"}, /* tag names keep case */
    {"", 0, "missing tag v"},
    {"v=2; " K_ T_ IP_ BH_ H_, 0, "v is not 1"},
    {"v=01; " K_ T_ IP_ BH_ H_, 0, "v is not 1"},
    {"v=; " K_ T_ IP_ BH_ H_, 0, "v is not 1"},
    {V_ K_ "t=01; " IP_ BH_ H_, 0, "t has a leading zero"},
    {V_ K_ "t=17950000001; " IP_ BH_ H_, 0, "t longer than 10 digits"},
    {V_ K_ "t=-1; " IP_ BH_ H_, 0, "malformed t"},
    {V_ K_ "t=+1795000000; " IP_ BH_ H_, 0, "malformed t"},
    {V_ K_ "t=1795000000.5; " IP_ BH_ H_, 0, "malformed t"},
    {V_ K_ "t=; " IP_ BH_ H_, 0, "malformed t"},
    {V_ K_ T_ "ip=192.0.2.010; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=2001:DB8:0::1; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=2001:db8:0::1; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=2001:db8:0:0:0:0:0:25; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=::FFFF:192.0.2.1; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=fe80::1%eth0; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=192.0.2; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=192.0.2.256; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=[192.0.2.10]; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ "ip=; " BH_ H_, 0, "malformed ip"},
    {V_ K_ T_ IP_ BH_ "h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM", 0, "malformed h"},
    {V_ K_ T_ IP_ BH_ "h=" H "A", 0, "malformed h"},
    {V_ K_ T_ IP_ BH_ "h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhN=", 0, "malformed h"},
    {V_ K_ T_ IP_ BH_ "h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPw!M=", 0, "malformed h"},
    {V_ K_ T_ IP_ BH_ "h=MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPw_M=", 0, "malformed h"},
    {V_ K_ T_ IP_ "bh=E8ZjMrWimLk3s5c1h2qvL-90flZHjfLaM7JjTtd2mn8=; " H_, 0, "malformed bh"},
    {V_ K_ T_ IP_ "bh=" BH "=; " H_, 0, "malformed bh"},
    {V_ K_ T_ IP_ "bh=; " H_, 0, "malformed bh"},
    {V_ "k=" K65 "; " T_ IP_ BH_ H_, 0, "malformed k"},
    {V_ "k=s/1; " T_ IP_ BH_ H_, 0, "malformed k"},
    {V_ "k=; " T_ IP_ BH_ H_, 0, "malformed k"},
    {V_ "k=s\x80; " T_ IP_ BH_ H_, 0, "invalid character in value of k"},
    {V_ "k=s\0001; " T_ IP_ BH_ H_, sizeof(V_ "k=s\0001; " T_ IP_ BH_ H_) - 1,
     "NUL byte in header"},
    {V_ "k=s\r\n 1; " T_ IP_ BH_ H_, 0, "line break inside value of k"},
    {V_ "k=s\n\t1; " T_ IP_ BH_ H_, 0, "line break inside value of k"},
    {V_ K_ T_ IP_ "bh=E8ZjMrWimLk3s5c1h2qvL/90flZH\r\n jfLaM7JjTtd2mn8=; " H_, 0,
     "line break inside value of bh"},
    {V_ K_ T_ IP_ BH_ "h=MGBZq8JzpazJsbi5OLB7gyf\n rSVojYAV1GDuneJBPwhM=", 0,
     "line break inside value of h"},
    {V_ "k=s 1; " T_ IP_ BH_ H_, 0, "whitespace inside value of k"},
    {V_ K_ T_ "ip=192.0.2.10\r; " BH_ H_, 0, "line break not followed by whitespace"},
    {V_ K_ T_ "ip=192.0.2.10\n; " BH_ H_, 0, "line break not followed by whitespace"},
    {V_ K_ "\r\nt=1795000000; " IP_ BH_ H_, 0, "line break not followed by whitespace"},
    {V_ K_ T_ IP_ BH_ H_ "\r\n", 0, "line break not followed by whitespace"},
    {V_ "x=a\r\n b; " K_ T_ IP_ BH_ H_, 0, "line break inside a value"},
    {V_ "x=\x7f; " K_ T_ IP_ BH_ H_, 0, "invalid character in a value"},
    {V_ "x=1; " K_ "x=2; " T_ IP_ BH_ H_, 0, "duplicate unknown tag"},
    {V_ "foo_1=1; " K_ "foo=2; foo_1=; " T_ IP_ BH_ H_, 0, "duplicate unknown tag"},
    {"; " V_ K_ T_ IP_ BH_ H_, 0, "empty tag"},
    {V_ K_ ";" T_ IP_ BH_ H_, 0, "empty tag"},
    {V_ K_ T_ IP_ BH_ H_ ";;", 0, "empty tag"},
    {"v 1; " K_ T_ IP_ BH_ H_, 0, "missing '=' after tag name"},
    {V_ K_ T_ IP_ BH_ H_ "; x", 0, "missing '=' after tag name"},
    {V_ "1x=2; " K_ T_ IP_ BH_ H_, 0, "malformed tag name"},
    {V_ "_x=2; " K_ T_ IP_ BH_ H_, 0, "malformed tag name"},
    {V_ "=2; " K_ T_ IP_ BH_ H_, 0, "malformed tag name"},
};
#define MALFORMED_COUNT (int)(sizeof malformed / sizeof malformed[0])

START_TEST(test_malformed)
{
    const struct malformed_case *c = &malformed[_i];
    struct xsmtp_hash_tags tags;
    const char *reason = NULL;
    size_t len = c->len != 0 ? c->len : strlen(c->value);

    memset(&tags, 0x55, sizeof tags);
    ck_assert_int_eq(xsmtp_tags_parse(c->value, len, &tags, &reason), XSMTP_EMALFORMED);
    ck_assert_msg(reason != NULL && strcmp(reason, c->reason) == 0,
                  "case %d: reason \"%s\", expected \"%s\"", _i, reason != NULL ? reason : "(null)",
                  c->reason);
    /* Nothing half-parsed is left behind. */
    ck_assert_str_eq(tags.k, "");
    ck_assert_str_eq(tags.h, "");
}
END_TEST

struct accepted_case {
    const char *value;
    const char *k;
    const char *t;
    uint64_t time;
    const char *ip;
};

static const struct accepted_case accepted[] = {
    {SPEC_HEADER, "s1", "1795000000", 1795000000, "192.0.2.10"},
    /* libmilter convention: LF + space folding. */
    {"v=1; k=s1; t=1795000000; ip=192.0.2.10;\n bh=" BH ";\n h=" H, "s1", "1795000000", 1795000000,
     "192.0.2.10"},
    {SPEC_HEADER ";", "s1", "1795000000", 1795000000, "192.0.2.10"},
    {SPEC_HEADER " ;\r\n ", "s1", "1795000000", 1795000000, "192.0.2.10"},
    {" \t v = 1 ;\tk\t=\ts1\t;\r\n\tt=\r\n 1795000000\r\n ; ip =192.0.2.10;bh=" BH ";h=" H "  ",
     "s1", "1795000000", 1795000000, "192.0.2.10"},
    /* Order does not matter; unknown tags (empty, blanks inside) are skipped. */
    {"h=" H "; x=; bh=" BH "; y2_z=a b  c; ip=2001:db8::25; t=0; k=k-2026.1; v=1", "k-2026.1", "0",
     0, "2001:db8::25"},
    {V_ "k=A.b_C-9; t=9999999999; ip=::ffff:192.0.2.1; " BH_ H_, "A.b_C-9", "9999999999",
     9999999999ULL, "::ffff:192.0.2.1"},
    {V_ "k=" K65 "; " T_ "ip=::; " BH_ H_, NULL, "1795000000", 1795000000, "::"},
    {V_ K_ T_ "ip=::1; " BH_ H_, "s1", "1795000000", 1795000000, "::1"},
    {V_ K_ T_ "ip=0.0.0.0; " BH_ H_, "s1", "1795000000", 1795000000, "0.0.0.0"},
    {V_ K_ T_ IP_ BH_ H_ "; note=x=y:z", "s1", "1795000000", 1795000000, "192.0.2.10"},
};
#define ACCEPTED_COUNT (int)(sizeof accepted / sizeof accepted[0])

START_TEST(test_accepted)
{
    const struct accepted_case *c = &accepted[_i];
    struct xsmtp_hash_tags tags;
    const char *reason = "unset";
    xsmtp_status status = xsmtp_tags_parse(c->value, strlen(c->value), &tags, &reason);

    if (c->k == NULL) {
        /* The 65-character k row is the one refused here (k is 1..64). */
        ck_assert_int_eq(status, XSMTP_EMALFORMED);
        ck_assert_str_eq(reason, "malformed k");
        return;
    }
    ck_assert_msg(status == XSMTP_OK, "case %d refused: %s", _i, reason);
    ck_assert_ptr_null(reason);
    ck_assert_str_eq(tags.k, c->k);
    ck_assert_str_eq(tags.t, c->t);
    ck_assert_uint_eq(tags.time, c->time);
    ck_assert_str_eq(tags.ip, c->ip);
    ck_assert_str_eq(tags.bh, BH);
    ck_assert_str_eq(tags.h, H);
}
END_TEST

/* 8,192 octets is accepted, 8,193 is not (XSMTP-1 s2). */
START_TEST(test_length_limit)
{
    static const char base[] = SPEC_HEADER "; pad=";
    char *value = malloc(8194);
    struct xsmtp_hash_tags tags;
    const char *reason = NULL;

    ck_assert_ptr_nonnull(value);
    memset(value, 'p', 8193);
    memcpy(value, base, strlen(base));
    value[8193] = '\0';
    ck_assert_int_eq(xsmtp_tags_parse(value, 8192, &tags, &reason), XSMTP_OK);
    ck_assert_str_eq(tags.h, H);
    ck_assert_int_eq(xsmtp_tags_parse(value, 8193, &tags, &reason), XSMTP_EMALFORMED);
    ck_assert_str_eq(reason, "header longer than 8192 octets");

    /* The most tags a header can hold: "a=;" repeated, all distinct names. */
    size_t used = (size_t)snprintf(value, 8194, "%s", SPEC_HEADER);
    for (unsigned n = 0; used + 8 < 8192; n++)
        used += (size_t)snprintf(value + used, 8194 - used, ";t%u=", n);
    ck_assert_int_eq(xsmtp_tags_parse(value, used, &tags, &reason), XSMTP_OK);
    /* ...and the same with one repeated name at the very end. */
    used += (size_t)snprintf(value + used, 8194 - used, ";t0=");
    ck_assert_int_eq(xsmtp_tags_parse(value, used, &tags, &reason), XSMTP_EMALFORMED);
    ck_assert_str_eq(reason, "duplicate unknown tag");
    free(value);
}
END_TEST

static void
spec_tags(struct xsmtp_hash_tags *tags)
{
    memset(tags, 0, sizeof *tags);
    strcpy(tags->k, "s1");
    strcpy(tags->t, "1795000000");
    tags->time = 1795000000;
    strcpy(tags->ip, "192.0.2.10");
    strcpy(tags->bh, BH);
    strcpy(tags->h, H);
}

START_TEST(test_format_exact)
{
    struct xsmtp_hash_tags tags;
    char out[512];
    static const char expected[] = "v=1; k=s1; t=1795000000; ip=192.0.2.10;\n bh=" BH ";\n h=" H;

    spec_tags(&tags);
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof out), XSMTP_OK);
    ck_assert_str_eq(out, expected);
    /* Exactly strlen + 1 bytes are needed. */
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof expected), XSMTP_OK);
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof expected - 1), XSMTP_ETOOBIG);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_format_refuses_bad_tags)
{
    struct xsmtp_hash_tags tags;
    char out[512];

    spec_tags(&tags);
    strcpy(tags.k, "s 1");
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof out), XSMTP_EMALFORMED);
    spec_tags(&tags);
    strcpy(tags.t, "01");
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof out), XSMTP_EMALFORMED);
    spec_tags(&tags);
    strcpy(tags.ip, "2001:DB8::1");
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof out), XSMTP_EMALFORMED);
    spec_tags(&tags);
    tags.bh[10] = '\0';
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof out), XSMTP_EMALFORMED);
    spec_tags(&tags);
    memset(tags.h, 'A', sizeof tags.h); /* not even terminated */
    ck_assert_int_eq(xsmtp_tags_format(&tags, out, sizeof out), XSMTP_EMALFORMED);
}
END_TEST

static const struct xsmtp_hash_tags round_trip_tags[] = {
    {"s1", "1795000000", 1795000000, "192.0.2.10", BH, H},
    {"k-2026.1", "0", 0, "2001:db8::25", H, BH},
    {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "9999999999",
     9999999999ULL, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", BH, H},
    {"_", "1", 1, "::ffff:10.0.0.1", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", H},
};
#define ROUND_TRIP_COUNT (int)(sizeof round_trip_tags / sizeof round_trip_tags[0])

START_TEST(test_round_trip)
{
    const struct xsmtp_hash_tags *in = &round_trip_tags[_i];
    struct xsmtp_hash_tags back;
    char out[512];
    const char *reason = NULL;

    ck_assert_int_eq(xsmtp_tags_format(in, out, sizeof out), XSMTP_OK);
    ck_assert_msg(xsmtp_tags_parse(out, strlen(out), &back, &reason) == XSMTP_OK, "\"%s\": %s", out,
                  reason);
    ck_assert_str_eq(back.k, in->k);
    ck_assert_str_eq(back.t, in->t);
    ck_assert_uint_eq(back.time, in->time);
    ck_assert_str_eq(back.ip, in->ip);
    ck_assert_str_eq(back.bh, in->bh);
    ck_assert_str_eq(back.h, in->h);
}
END_TEST

struct validator_case {
    const char *value;
    xsmtp_status status;
};

START_TEST(test_validators)
{
    uint64_t time = 7;

    ck_assert_int_eq(xsmtp_tag_check_keyid("s1", 2), XSMTP_OK);
    ck_assert_int_eq(xsmtp_tag_check_keyid(K65, 64), XSMTP_OK);
    ck_assert_int_eq(xsmtp_tag_check_keyid(K65, 65), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_tag_check_keyid("", 0), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_tag_check_keyid("a+b", 3), XSMTP_EMALFORMED);

    ck_assert_int_eq(xsmtp_tag_check_time("0", 1, &time), XSMTP_OK);
    ck_assert_uint_eq(time, 0);
    ck_assert_int_eq(xsmtp_tag_check_time("4294967296", 10, &time), XSMTP_OK);
    ck_assert_uint_eq(time, 4294967296ULL);
    ck_assert_int_eq(xsmtp_tag_check_time("00", 2, &time), XSMTP_EMALFORMED);
    ck_assert_uint_eq(time, 0);
    ck_assert_int_eq(xsmtp_tag_check_time("12345678901", 11, NULL), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_tag_check_time("1 2", 3, NULL), XSMTP_EMALFORMED);

    ck_assert_int_eq(xsmtp_tag_check_ip("192.0.2.10", 10), XSMTP_OK);
    ck_assert_int_eq(xsmtp_tag_check_ip("2001:db8::25", 12), XSMTP_OK);
    ck_assert_int_eq(xsmtp_tag_check_ip("192.0.2.010", 11), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_tag_check_ip("2001:DB8:0::1", 13), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_tag_check_ip("192.0.2.1\0", 10), XSMTP_EMALFORMED);
    ck_assert_int_eq(xsmtp_tag_check_ip("", 0), XSMTP_EMALFORMED);

    ck_assert_int_eq(xsmtp_tag_check_b64_sha256(BH, 44), XSMTP_OK);
    ck_assert_int_eq(xsmtp_tag_check_b64_sha256(BH, 43), XSMTP_EMALFORMED);
    /* 44 characters but 33 bytes: "AAAA" * 11 */
    ck_assert_int_eq(xsmtp_tag_check_b64_sha256("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 44),
                     XSMTP_EMALFORMED);
}
END_TEST

static Suite *
taglist_suite(void)
{
    Suite *suite = suite_create("taglist");
    TCase *bad = tcase_create("malformed");
    tcase_add_loop_test(bad, test_malformed, 0, MALFORMED_COUNT);
    suite_add_tcase(suite, bad);
    TCase *good = tcase_create("accepted");
    tcase_add_loop_test(good, test_accepted, 0, ACCEPTED_COUNT);
    tcase_add_test(good, test_length_limit);
    tcase_add_test(good, test_validators);
    suite_add_tcase(suite, good);
    TCase *format = tcase_create("format");
    tcase_add_test(format, test_format_exact);
    tcase_add_test(format, test_format_refuses_bad_tags);
    tcase_add_loop_test(format, test_round_trip, 0, ROUND_TRIP_COUNT);
    suite_add_tcase(suite, format);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(taglist_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
