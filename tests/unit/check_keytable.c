/*
 * check_keytable.c -- unit tests for hash/keytable.c and hash/util/private_file.c.
 *
 * Key tables are written to a fresh temp directory with the mode under test
 * (git does not keep modes, so fixtures from tests/data/keytables are copied
 * there first).  Error messages are compared whole, "PATH:LINE: reason", and
 * checked never to contain the secret of the line.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash/b64.h"
#include "hash/keytable.h"
#include "hash/token.h"
#include "hash/util/private_file.h"

#define SPEC_SECRET_B64 "c2VjcmV0LWZvci10ZXN0LXZlY3Rvci1vbmUtMzJieXRlcyE="
#define SECRET_B "mKgAj40phWDgg/InvfFFgTZd1l0="

/* A temp directory per test, removed by scratch_done. */
struct scratch {
    char dir[256];
    char path[512];
};

static void
scratch_init(struct scratch *scratch)
{
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(scratch->dir, sizeof scratch->dir, "%s/check_keytable.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(scratch->dir));
    snprintf(scratch->path, sizeof scratch->path, "%s/keys", scratch->dir);
}

static void
scratch_write(struct scratch *scratch, const char *content, size_t len, mode_t mode)
{
    unlink(scratch->path);
    FILE *file = fopen(scratch->path, "w");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(content, 1, len, file), len);
    ck_assert_int_eq(fclose(file), 0);
    ck_assert_int_eq(chmod(scratch->path, mode), 0);
}

static void
scratch_copy_fixture(struct scratch *scratch, const char *name, mode_t mode)
{
    char fixture[512];
    char content[8192];
    snprintf(fixture, sizeof fixture, "%s/keytables/%s", TEST_DATA_DIR, name);
    FILE *file = fopen(fixture, "r");
    ck_assert_msg(file != NULL, "cannot open %s", fixture);
    size_t len = fread(content, 1, sizeof content, file);
    fclose(file);
    ck_assert_uint_lt(len, sizeof content);
    scratch_write(scratch, content, len, mode);
}

static void
scratch_done(struct scratch *scratch)
{
    unlink(scratch->path);
    rmdir(scratch->dir);
}

static struct xsmtp_keytable *
load_good(struct scratch *scratch)
{
    struct xsmtp_keytable *table = NULL;
    char err[512] = "unset";
    scratch_copy_fixture(scratch, "good.keys", 0600);
    ck_assert_msg(xsmtp_keytable_load(scratch->path, &table, err, sizeof err) == XSMTP_OK, "%s",
                  err);
    ck_assert_str_eq(err, "");
    ck_assert_ptr_nonnull(table);
    return table;
}

START_TEST(test_load_good)
{
    struct scratch scratch;
    scratch_init(&scratch);
    struct xsmtp_keytable *table = load_good(&scratch);

    ck_assert_uint_eq(table->key_count, 7);
    static const char *const ids[] = {"s0",         "alice-2026", "s1",       "multi",
                                      "hash.local", "old_all",    "catch-all"};
    static const bool revoked[] = {true, false, false, false, false, true, false};
    static const size_t secret_lens[] = {16, 20, 35, 24, 32, 48, 32};
    for (size_t i = 0; i < 7; i++) {
        ck_assert_str_eq(table->keys[i].id, ids[i]);
        ck_assert_int_eq(table->keys[i].revoked, revoked[i]);
        ck_assert_uint_eq(table->keys[i].secret_len, secret_lens[i]);
        ck_assert_ptr_nonnull(table->keys[i].mac_template);
    }
    /* Patterns are stored lowercased, split at commas, blanks dropped. */
    const struct xsmtp_key *multi = &table->keys[3];
    ck_assert_uint_eq(multi->pattern_count, 3);
    ck_assert_str_eq(multi->patterns[0], "bob@b.test");
    ck_assert_str_eq(multi->patterns[1], "*@c.test");
    ck_assert_str_eq(multi->patterns[2], "carol@d.test");
    ck_assert_str_eq(table->keys[1].patterns[0], "alice@a.test");
    /* XSMTP-1 s4: '#' starts a comment wherever it stands. */
    ck_assert_uint_eq(table->keys[4].pattern_count, 1);
    ck_assert_str_eq(table->keys[4].patterns[0], "ab@e.test");
    ck_assert_mem_eq(table->keys[2].secret, "secret-for-test-vector-one-32bytes!", 35);

    xsmtp_keytable_free(table);
    scratch_done(&scratch);
}
END_TEST

struct lookup_case {
    const char *identity;
    const char *expected_id;
};

static const struct lookup_case good_lookups[] = {
    {"alice@a.test", "alice-2026"}, /* s0 matches first but is revoked */
    {"ALICE@A.TEST", "alice-2026"}, /* case-insensitive */
    {"bob@a.test", "s1"},
    {"Bob@B.Test", "multi"},
    {"x@c.test", "multi"},
    {"x@sub.c.test", "catch-all"}, /* *@domain is not *@*.domain */
    {"carol@d.test", "multi"},
    {"dave@d.test", "catch-all"},
    {"ab@e.test", "hash.local"},
    {"a#b@e.test", "catch-all"}, /* the comment cut "#..." off the pattern */
    {"anyone@anywhere", "catch-all"},
};
#define GOOD_LOOKUP_COUNT (int)(sizeof good_lookups / sizeof good_lookups[0])

START_TEST(test_lookup_for_identity)
{
    struct scratch scratch;
    scratch_init(&scratch);
    struct xsmtp_keytable *table = load_good(&scratch);
    const struct lookup_case *c = &good_lookups[_i];

    const struct xsmtp_key *key = xsmtp_keytable_for_identity(table, c->identity);
    ck_assert_ptr_nonnull(key);
    ck_assert_str_eq(key->id, c->expected_id);
    ck_assert(xsmtp_key_allows(key, c->identity));
    xsmtp_keytable_free(table);
    scratch_done(&scratch);
}
END_TEST

START_TEST(test_lookup_order)
{
    struct scratch scratch;
    struct xsmtp_keytable *table = NULL;
    char err[512];

    scratch_init(&scratch);
    scratch_copy_fixture(&scratch, "order.keys", 0600);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_OK);
    /* "*" comes first, so it wins even over an exact pattern. */
    ck_assert_str_eq(xsmtp_keytable_for_identity(table, "alice@a.test")->id, "wild");
    ck_assert_str_eq(xsmtp_keytable_for_identity(table, "bob@a.test")->id, "wild");
    xsmtp_keytable_free(table);

    /* Exact before *@domain before *: each wins where it comes first. */
    static const char ordered[] = "exact  " SECRET_B "  alice@a.test\n"
                                  "domain " SPEC_SECRET_B64 "  *@a.test\n"
                                  "wild   " SECRET_B "  *\n";
    scratch_write(&scratch, ordered, sizeof ordered - 1, 0600);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_OK);
    ck_assert_str_eq(xsmtp_keytable_for_identity(table, "alice@a.test")->id, "exact");
    ck_assert_str_eq(xsmtp_keytable_for_identity(table, "bob@a.test")->id, "domain");
    ck_assert_str_eq(xsmtp_keytable_for_identity(table, "bob@b.test")->id, "wild");
    xsmtp_keytable_free(table);

    /* All revoked: nothing to sign with, but every key is still found by id. */
    static const char revoked[] = "r1 " SECRET_B " alice@a.test revoked\n"
                                  "r2 " SECRET_B " * revoked\n";
    scratch_write(&scratch, revoked, sizeof revoked - 1, 0600);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_OK);
    ck_assert_ptr_null(xsmtp_keytable_for_identity(table, "alice@a.test"));
    ck_assert_ptr_nonnull(xsmtp_keytable_by_id(table, "r1"));
    ck_assert(xsmtp_keytable_by_id(table, "r2")->revoked);
    xsmtp_keytable_free(table);
    scratch_done(&scratch);
}
END_TEST

START_TEST(test_lookup_by_id)
{
    struct scratch scratch;
    scratch_init(&scratch);
    struct xsmtp_keytable *table = load_good(&scratch);

    const struct xsmtp_key *key = xsmtp_keytable_by_id(table, "s0");
    ck_assert_ptr_nonnull(key);
    ck_assert(key->revoked); /* found by id although revoked */
    ck_assert(xsmtp_key_allows(key, "x@A.TEST"));
    ck_assert(!xsmtp_key_allows(key, "x@b.test"));
    ck_assert_ptr_nonnull(xsmtp_keytable_by_id(table, "old_all"));
    ck_assert_ptr_null(xsmtp_keytable_by_id(table, "S1")); /* ids are exact */
    ck_assert_ptr_null(xsmtp_keytable_by_id(table, "nope"));
    ck_assert_ptr_null(xsmtp_keytable_by_id(table, NULL));
    ck_assert_ptr_null(xsmtp_keytable_by_id(NULL, "s1"));
    ck_assert_ptr_null(xsmtp_keytable_for_identity(table, NULL));

    key = xsmtp_keytable_by_id(table, "alice-2026");
    ck_assert(xsmtp_key_allows(key, "alice@a.test"));
    ck_assert(!xsmtp_key_allows(key, "alice@a.test.evil"));
    ck_assert(!xsmtp_key_allows(key, "bob@a.test"));
    ck_assert(!xsmtp_key_allows(key, NULL));
    xsmtp_keytable_free(table);
    scratch_done(&scratch);
}
END_TEST

/* The loader's key MACs vector 1 of XSMTP-1 s3 correctly. */
START_TEST(test_loaded_key_macs)
{
    struct scratch scratch;
    char h[XSMTP_B64_SHA256 + 1];
    scratch_init(&scratch);
    struct xsmtp_keytable *table = load_good(&scratch);

    struct xsmtp_token_input input = {
        "alice@a.test", "20261122.abc@a.test", "alice@a.test",
        "1795000000",   "192.0.2.10",          "E8ZjMrWimLk3s5c1h2qvL/90flZHjfLaM7JjTtd2mn8=",
        "s1",
    };
    const struct xsmtp_key *key = xsmtp_keytable_for_identity(table, "bob@a.test");
    ck_assert_str_eq(key->id, "s1");
    ck_assert_int_eq(xsmtp_token_mac(key, &input, h), XSMTP_OK);
    ck_assert_str_eq(h, "MGBZq8JzpazJsbi5OLB7gyfrSVojYAV1GDuneJBPwhM=");
    xsmtp_keytable_free(table);
    scratch_done(&scratch);
}
END_TEST

struct bad_case {
    const char *content;
    size_t len;           /* 0: strlen */
    const char *expected; /* after "PATH:" */
    const char *secret;   /* must not appear in the message (or NULL) */
};

#define S "  " SECRET_B "  "
#define ID65 "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii"
/* 85 quanta of "AAAA": 255 zero bytes; + "AA==" makes 256, + "AAA=" 257 */
#define Z85 \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAA"

static const struct bad_case bad_cases[] = {
    {"s1\n", 0, "1: missing secret", NULL},
    {"s1" S "\n", 0, "1: missing identities", SECRET_B},
    {"s1" S "revoked\n", 0, "1: missing identities", SECRET_B},
    {"bad/id" S "*\n", 0, "1: malformed key id", SECRET_B},
    {ID65 S "*\n", 0, "1: malformed key id", SECRET_B},
    {"# comment\n\n  s1 c2Vj!!== *@a.test\n", 0, "3: secret is not valid base64", NULL},
    {"s1 c2VjcmV0 *@a.test\n", 0, "1: secret shorter than 16 bytes", "c2VjcmV0"},
    {"s1 c2VjcmV0= *@a.test\n", 0, "1: secret is not valid base64", "c2VjcmV0"},
    {"s1 MDEyMzQ1Njc4OWFiY2Rl *@a.test\n", 0, "1: secret shorter than 16 bytes",
     "MDEyMzQ1Njc4OWFiY2Rl"},
    {"s1 " Z85 "AAA= *@a.test\n", 0, "1: secret longer than 256 bytes", NULL},
    {"s1 " Z85 "AAAAAAAA *@a.test\n", 0, "1: secret longer than 256 bytes", NULL},
    {"s1" S "a@x.test b@x.test\n", 0, "1: identity patterns must be separated by commas", SECRET_B},
    {"s1" S "a@x.test disabled\n", 0, "1: identity patterns must be separated by commas", SECRET_B},
    {"s1" S "a@x.test REVOKED\n", 0, "1: identity patterns must be separated by commas", SECRET_B},
    {"s1" S "a@x.test,,b@x.test\n", 0, "1: identity pattern 2 is empty", SECRET_B},
    {"s1" S "a@x.test,\n", 0, "1: identity pattern 2 is empty", SECRET_B},
    {"s1" S "alice\n", 0, "1: identity pattern 1: no '@' in identity", SECRET_B},
    {"s1" S "*@bad_domain\n", 0, "1: identity pattern 1: invalid character in domain", SECRET_B},
    {"s1" S "*@\n", 0, "1: identity pattern 1: empty domain", SECRET_B},
    {"s1" S "a@x.test, *.x.test\n", 0, "1: identity pattern 2: no '@' in identity", SECRET_B},
    {"s1" S "a@x.test\n# again\ns1" S "b@x.test\n", 0, "3: duplicate key id (first on line 1)",
     SECRET_B},
    {"s1" S "a@x.test\ns1\0" S "b@x.test\n", 24 + 2 * sizeof SECRET_B, "2: NUL byte in line",
     SECRET_B},
    /* A secret in the wrong column must not be echoed. */
    {"s1 *@a.test " SPEC_SECRET_B64 "\n", 0, "1: secret is not valid base64", SPEC_SECRET_B64},
    {"s1" S "a@x.test " SPEC_SECRET_B64 "\n", 0, "1: identity patterns must be separated by commas",
     SPEC_SECRET_B64},
    {"s1" S SPEC_SECRET_B64 "\n", 0, "1: identity pattern 1: no '@' in identity", SPEC_SECRET_B64},
};
#define BAD_COUNT (int)(sizeof bad_cases / sizeof bad_cases[0])

START_TEST(test_bad_lines)
{
    const struct bad_case *c = &bad_cases[_i];
    struct scratch scratch;
    struct xsmtp_keytable *table = (struct xsmtp_keytable *)&scratch; /* must be reset */
    char err[512];
    char expected[600];

    scratch_init(&scratch);
    scratch_write(&scratch, c->content, c->len != 0 ? c->len : strlen(c->content), 0600);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_EMALFORMED);
    ck_assert_ptr_null(table);
    snprintf(expected, sizeof expected, "%s:%s", scratch.path, c->expected);
    ck_assert_str_eq(err, expected);
    if (c->secret != NULL)
        ck_assert_ptr_null(strstr(err, c->secret));
    scratch_done(&scratch);
}
END_TEST

START_TEST(test_long_line)
{
    struct scratch scratch;
    struct xsmtp_keytable *table;
    char err[512];
    char expected[600];
    char *content = malloc(8192 + 64);

    ck_assert_ptr_nonnull(content);
    scratch_init(&scratch);
    /* Line 2 has 8,193 octets before its LF. */
    size_t used = (size_t)sprintf(content, "# ok\n");
    memset(content + used, ' ', 8193);
    memcpy(content + used + 8193, "\n", 1);
    scratch_write(&scratch, content, used + 8194, 0600);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_EMALFORMED);
    snprintf(expected, sizeof expected, "%s:2: line longer than 8192 octets", scratch.path);
    ck_assert_str_eq(err, expected);
    /* 8,192 blanks is a (blank) line like any other. */
    scratch_write(&scratch, content, used + 8192, 0600);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_OK);
    xsmtp_keytable_free(table);
    free(content);
    scratch_done(&scratch);
}
END_TEST

struct layout_case {
    const char *content;
    size_t keys;
};

static const struct layout_case layouts[] = {
    {"", 0},
    {"# only a comment\n\n \t \n", 0},
    {"s1" S "a@x.test", 1},                        /* no final line end */
    {"s1" S "a@x.test\r\ns2" S "b@x.test\r\n", 2}, /* CRLF line ends */
    {"s1" S "a@x.test#comment-right-after\n", 1},
    {"\ts1\t" SECRET_B "\t*\trevoked\t# why\n", 1},
    {"max " Z85 "AA== *\n", 1}, /* a 256-byte secret */
};
#define LAYOUT_COUNT (int)(sizeof layouts / sizeof layouts[0])

START_TEST(test_layouts)
{
    const struct layout_case *c = &layouts[_i];
    struct scratch scratch;
    struct xsmtp_keytable *table = NULL;
    char err[512];

    scratch_init(&scratch);
    scratch_write(&scratch, c->content, strlen(c->content), 0600);
    ck_assert_msg(xsmtp_keytable_load(scratch.path, &table, err, sizeof err) == XSMTP_OK, "%s",
                  err);
    ck_assert_uint_eq(table->key_count, c->keys);
    if (_i == 3)
        ck_assert_str_eq(table->keys[1].patterns[0], "b@x.test");
    if (_i == 4)
        ck_assert_str_eq(table->keys[0].patterns[0], "a@x.test");
    if (_i == 5)
        ck_assert(table->keys[0].revoked);
    if (_i == 6)
        ck_assert_uint_eq(table->keys[0].secret_len, XSMTP_SECRET_MAX);
    xsmtp_keytable_free(table);
    scratch_done(&scratch);
}
END_TEST

struct mode_case {
    mode_t mode;
    xsmtp_status status;
};

static const struct mode_case modes[] = {
    {0600, XSMTP_OK},    {0400, XSMTP_OK},    {0700, XSMTP_OK},    {0640, XSMTP_EPERM},
    {0604, XSMTP_EPERM}, {0620, XSMTP_EPERM}, {0602, XSMTP_EPERM}, {0610, XSMTP_EPERM},
    {0601, XSMTP_EPERM}, {0644, XSMTP_EPERM}, {0666, XSMTP_EPERM},
};
#define MODE_COUNT (int)(sizeof modes / sizeof modes[0])

START_TEST(test_permissions)
{
    const struct mode_case *c = &modes[_i];
    struct scratch scratch;
    struct xsmtp_keytable *table = NULL;
    char err[512];
    char expected[600];
    static const char content[] = "s1" S "*@a.test\n";

    scratch_init(&scratch);
    scratch_write(&scratch, content, sizeof content - 1, c->mode);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), c->status);
    if (c->status == XSMTP_OK) {
        ck_assert_uint_eq(table->key_count, 1);
        xsmtp_keytable_free(table);
    } else {
        ck_assert_ptr_null(table);
        snprintf(expected, sizeof expected,
                 "%s: group or other may access it (mode %04o); run chmod 600 on it", scratch.path,
                 (unsigned)c->mode);
        ck_assert_str_eq(err, expected);
    }
    scratch_done(&scratch);
}
END_TEST

START_TEST(test_not_a_private_file)
{
    struct scratch scratch;
    struct xsmtp_keytable *table = NULL;
    char err[512];
    char expected[600];

    scratch_init(&scratch);
    /* Missing file. */
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_EIO);
    snprintf(expected, sizeof expected, "%s: cannot open: %s", scratch.path, strerror(ENOENT));
    ck_assert_str_eq(err, expected);
    /* A directory. */
    ck_assert_int_eq(xsmtp_keytable_load(scratch.dir, &table, err, sizeof err), XSMTP_EIO);
    snprintf(expected, sizeof expected, "%s: not a regular file", scratch.dir);
    ck_assert_str_eq(err, expected);
    /* A FIFO: refused at once (the open does not wait for a writer). */
    ck_assert_int_eq(mkfifo(scratch.path, 0600), 0);
    ck_assert_int_eq(xsmtp_keytable_load(scratch.path, &table, err, sizeof err), XSMTP_EIO);
    snprintf(expected, sizeof expected, "%s: not a regular file", scratch.path);
    ck_assert_str_eq(err, expected);
    ck_assert_ptr_null(table);
    scratch_done(&scratch);
}
END_TEST

struct read_line_case {
    const char *content;
    mode_t mode;
    size_t outsz;
    xsmtp_status status;
    const char *expected; /* the line, or the message after "PATH: " */
};

static const struct read_line_case read_line_cases[] = {
    {"s3cret\n", 0600, 64, XSMTP_OK, "s3cret"},
    {"s3cret\r\nsecond line\n", 0600, 64, XSMTP_OK, "s3cret"},
    {"s3cret", 0400, 64, XSMTP_OK, "s3cret"},
    {"pass word \n", 0600, 64, XSMTP_OK, "pass word "},
    {"s3cret\n", 0600, 7, XSMTP_OK, "s3cret"},
    {"s3cret\n", 0600, 6, XSMTP_ETOOBIG, "first line too long"},
    {"", 0600, 64, XSMTP_EMALFORMED, "empty first line"},
    {"\nsecond\n", 0600, 64, XSMTP_EMALFORMED, "empty first line"},
    {"s3cret\n", 0640, 64, XSMTP_EPERM,
     "group or other may access it (mode 0640); run chmod 600 on it"},
};
#define READ_LINE_COUNT (int)(sizeof read_line_cases / sizeof read_line_cases[0])

START_TEST(test_read_line)
{
    const struct read_line_case *c = &read_line_cases[_i];
    struct scratch scratch;
    char out[64];
    char err[512];
    char expected[600];

    scratch_init(&scratch);
    scratch_write(&scratch, c->content, strlen(c->content), c->mode);
    memset(out, 'x', sizeof out);
    ck_assert_int_eq(xsmtp_private_file_read_line(scratch.path, out, c->outsz, err, sizeof err),
                     c->status);
    if (c->status == XSMTP_OK) {
        ck_assert_str_eq(out, c->expected);
    } else {
        ck_assert_str_eq(out, ""); /* no partial secret left behind */
        snprintf(expected, sizeof expected, "%s: %s", scratch.path, c->expected);
        ck_assert_str_eq(err, expected);
    }
    scratch_done(&scratch);
}
END_TEST

static Suite *
keytable_suite(void)
{
    Suite *suite = suite_create("keytable");
    TCase *load = tcase_create("load");
    tcase_add_test(load, test_load_good);
    tcase_add_loop_test(load, test_layouts, 0, LAYOUT_COUNT);
    tcase_add_loop_test(load, test_bad_lines, 0, BAD_COUNT);
    tcase_add_test(load, test_long_line);
    suite_add_tcase(suite, load);

    TCase *lookup = tcase_create("lookup");
    tcase_add_loop_test(lookup, test_lookup_for_identity, 0, GOOD_LOOKUP_COUNT);
    tcase_add_test(lookup, test_lookup_order);
    tcase_add_test(lookup, test_lookup_by_id);
    tcase_add_test(lookup, test_loaded_key_macs);
    suite_add_tcase(suite, lookup);

    TCase *files = tcase_create("private files");
    tcase_add_loop_test(files, test_permissions, 0, MODE_COUNT);
    tcase_add_test(files, test_not_a_private_file);
    tcase_add_loop_test(files, test_read_line, 0, READ_LINE_COUNT);
    suite_add_tcase(suite, files);
    return suite;
}

int
main(void)
{
    SRunner *runner = srunner_create(keytable_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
