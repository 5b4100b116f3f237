/*
 * check_client_map.c -- unit tests for xmpp/client/client_map.c: id format, the
 * "pending id AND exact from" acceptance rule, removal, and many entries
 * sharing few buckets.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/client/client_map.h"

static const unsigned char seed[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xab};
#define PREFIX "01020304050607ab"

START_TEST(test_id_format)
{
    struct xclient_map map;
    char id[XCLIENT_ID_SIZE];

    ck_assert_int_eq(xclient_map_init(&map, 10, seed), XSMTP_OK);
    ck_assert_uint_eq(map.mask, 15);
    ck_assert_uint_eq(xclient_map_new_id(&map, id), 1);
    ck_assert_str_eq(id, PREFIX "-1");
    ck_assert_uint_eq(xclient_map_new_id(&map, id), 2);
    ck_assert_str_eq(id, PREFIX "-2");
    map.next_serial = 0xfffffffffffffffeULL;
    xclient_map_new_id(&map, id);
    ck_assert_str_eq(id, PREFIX "-fffffffffffffffe");
    xclient_map_free(&map);
}
END_TEST

START_TEST(test_accept_rules)
{
    struct xclient_map map;
    struct xclient_pending_iq a = {.to = "xsmtp.a.test"}, b = {.to = "a.test"};
    char id_a[XCLIENT_ID_SIZE], id_b[XCLIENT_ID_SIZE];
    enum xclient_map_miss miss;

    ck_assert_int_eq(xclient_map_init(&map, 64, seed), XSMTP_OK);
    xclient_map_add(&map, &a, id_a);
    xclient_map_add(&map, &b, id_b);
    ck_assert_str_eq(id_a, PREFIX "-1");
    ck_assert_str_eq(id_b, PREFIX "-2");
    ck_assert_uint_eq(map.count, 2);

    /* right id, wrong from: ignored, still pending */
    ck_assert_ptr_null(xclient_map_accept(&map, id_a, "XSMTP.A.TEST", &miss));
    ck_assert_int_eq(miss, MAP_WRONG_FROM);
    ck_assert_ptr_null(xclient_map_accept(&map, id_a, "xsmtp.a.test/res", &miss));
    ck_assert_int_eq(miss, MAP_WRONG_FROM);
    ck_assert_ptr_null(xclient_map_accept(&map, id_a, "alice@a.test", &miss));
    ck_assert_int_eq(miss, MAP_WRONG_FROM);
    ck_assert_ptr_null(xclient_map_accept(&map, id_a, NULL, &miss));
    ck_assert_int_eq(miss, MAP_WRONG_FROM);
    ck_assert_uint_eq(map.count, 2);
    /* right id and from: accepted once */
    ck_assert_ptr_eq(xclient_map_accept(&map, id_a, "xsmtp.a.test", &miss), &a);
    ck_assert_uint_eq(map.count, 1);
    ck_assert(!a.in_map);
    ck_assert_ptr_null(xclient_map_accept(&map, id_a, "xsmtp.a.test", &miss));
    ck_assert_int_eq(miss, MAP_UNKNOWN_ID);
    ck_assert_ptr_eq(xclient_map_accept(&map, id_b, "a.test", &miss), &b);
    ck_assert_uint_eq(map.count, 0);
    xclient_map_free(&map);
}
END_TEST

START_TEST(test_foreign_ids)
{
    static const struct {
        const char *id;
        enum xclient_map_miss miss;
    } rows[] = {
        {"ffffffffffffffff-1", MAP_FOREIGN_ID}, /* another prefix */
        {"_xmpp_bind1", MAP_FOREIGN_ID},        /* libstrophe's own */
        {PREFIX, MAP_FOREIGN_ID},
        {PREFIX "1", MAP_FOREIGN_ID},
        {"", MAP_FOREIGN_ID},
        {NULL, MAP_FOREIGN_ID},
        {PREFIX "-01", MAP_UNKNOWN_ID}, /* leading zero: never written */
        {PREFIX "-0", MAP_UNKNOWN_ID},
        {PREFIX "-1A", MAP_UNKNOWN_ID}, /* upper case */
        {PREFIX "-1x", MAP_UNKNOWN_ID},
        {PREFIX "-", MAP_UNKNOWN_ID},
        {PREFIX "-10000000000000001", MAP_UNKNOWN_ID}, /* 17 digits */
        {PREFIX "-3", MAP_UNKNOWN_ID},                 /* never handed out */
        {PREFIX "-2", MAP_UNKNOWN_ID},                 /* handed out, not pending */
    };
    struct xclient_map map;
    struct xclient_pending_iq a = {.to = "xsmtp.a.test"};
    char id[XCLIENT_ID_SIZE];
    enum xclient_map_miss miss;
    size_t i;

    ck_assert_int_eq(xclient_map_init(&map, 16, seed), XSMTP_OK);
    xclient_map_add(&map, &a, id);
    xclient_map_new_id(&map, id); /* serial 2 handed out but not pending */
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        miss = MAP_WRONG_FROM;
        ck_assert_msg(xclient_map_accept(&map, rows[i].id, "xsmtp.a.test", &miss) == NULL,
                      "row %zu accepted", i);
        ck_assert_msg(miss == rows[i].miss, "row %zu: miss %d, expected %d", i, (int)miss,
                      (int)rows[i].miss);
    }
    ck_assert_uint_eq(map.count, 1);
    xclient_map_free(&map);
}
END_TEST

START_TEST(test_remove)
{
    struct xclient_map map;
    struct xclient_pending_iq a = {.to = "x.test"}, b = {.to = "x.test"};
    char id_a[XCLIENT_ID_SIZE], id_b[XCLIENT_ID_SIZE];
    enum xclient_map_miss miss;

    ck_assert_int_eq(xclient_map_init(&map, 1, seed), XSMTP_OK); /* one chain */
    xclient_map_add(&map, &a, id_a);
    xclient_map_add(&map, &b, id_b);
    xclient_map_remove(&map, &a);
    xclient_map_remove(&map, &a); /* twice is harmless */
    ck_assert_uint_eq(map.count, 1);
    ck_assert_ptr_null(xclient_map_accept(&map, id_a, "x.test", &miss));
    ck_assert_int_eq(miss, MAP_UNKNOWN_ID);
    ck_assert_ptr_eq(xclient_map_accept(&map, id_b, "x.test", &miss), &b);
    xclient_map_free(&map);
}
END_TEST

START_TEST(test_many)
{
    enum { N = 20000 };
    struct xclient_pending_iq *iqs = calloc(N, sizeof *iqs);
    char(*ids)[XCLIENT_ID_SIZE] = calloc(N, XCLIENT_ID_SIZE);
    struct xclient_map map;
    enum xclient_map_miss miss;
    size_t i, j;

    ck_assert_ptr_nonnull(iqs);
    ck_assert_ptr_nonnull(ids);
    ck_assert_int_eq(xclient_map_init(&map, 16, seed), XSMTP_OK);
    for (i = 0; i < N; i++) {
        iqs[i].to = "xsmtp.a.test";
        xclient_map_add(&map, &iqs[i], ids[i]);
    }
    ck_assert_uint_eq(map.count, N);
    /* answers in a scrambled order (7919 is prime to N) */
    for (i = 0; i < N; i++) {
        j = (i * 7919) % N;
        ck_assert_ptr_eq(xclient_map_accept(&map, ids[j], "xsmtp.a.test", &miss), &iqs[j]);
    }
    ck_assert_uint_eq(map.count, 0);
    xclient_map_free(&map);
    free(iqs);
    free(ids);
}
END_TEST

int
main(void)
{
    Suite *suite = suite_create("xclient_map");
    TCase *tc = tcase_create("xclient_map");
    SRunner *runner;
    int failed;

    tcase_add_test(tc, test_id_format);
    tcase_add_test(tc, test_accept_rules);
    tcase_add_test(tc, test_foreign_ids);
    tcase_add_test(tc, test_remove);
    tcase_add_test(tc, test_many);
    suite_add_tcase(suite, tc);
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
