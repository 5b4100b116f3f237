/*
 * fuzz_taglist.c -- the X-XMPP-Hash tag-list parser (XSMTP-1 s2).
 *
 * Input: the raw header value.  Invariants: a value over 8,192 octets is
 * refused; a refusal comes with a printable reason (it ends up in logs and
 * verdict comments); an accepted value yields fields that each pass their
 * own validator, formats (as the signer writes it) and parses back to the
 * same fields.
 */
#include "config.h"

#include <string.h>

#include "hash/extract.h"
#include "hash/taglist.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void
check_reason(const char *reason)
{
    FUZZ_CHECK(reason != NULL && reason[0] != '\0');
    for (const char *p = reason; *p != '\0'; p++)
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xsmtp_hash_tags tags, again;
    const char *reason = NULL;
    char formatted[512];
    uint64_t time;

    memset(&tags, 0, sizeof tags);
    if (xsmtp_tags_parse((const char *)data, size, &tags, &reason) != XSMTP_OK) {
        check_reason(reason);
        return 0;
    }
    FUZZ_CHECK(size <= XSMTP_HEADER_VALUE_MAX);
    FUZZ_CHECK(xsmtp_tag_check_keyid(tags.k, strlen(tags.k)) == XSMTP_OK);
    FUZZ_CHECK(xsmtp_tag_check_time(tags.t, strlen(tags.t), &time) == XSMTP_OK);
    FUZZ_CHECK(time == tags.time);
    FUZZ_CHECK(xsmtp_tag_check_ip(tags.ip, strlen(tags.ip)) == XSMTP_OK);
    FUZZ_CHECK(xsmtp_tag_check_b64_sha256(tags.bh, strlen(tags.bh)) == XSMTP_OK);
    FUZZ_CHECK(xsmtp_tag_check_b64_sha256(tags.h, strlen(tags.h)) == XSMTP_OK);

    FUZZ_CHECK(xsmtp_tags_format(&tags, formatted, sizeof formatted) == XSMTP_OK);
    /* What the signer writes has no CR (libmilter folds with LF). */
    FUZZ_CHECK(strchr(formatted, '\r') == NULL);
    memset(&again, 0, sizeof again);
    FUZZ_CHECK(xsmtp_tags_parse(formatted, strlen(formatted), &again, &reason) == XSMTP_OK);
    FUZZ_CHECK(strcmp(again.k, tags.k) == 0 && strcmp(again.t, tags.t) == 0 &&
               again.time == tags.time && strcmp(again.ip, tags.ip) == 0 &&
               strcmp(again.bh, tags.bh) == 0 && strcmp(again.h, tags.h) == 0);
    return 0;
}
