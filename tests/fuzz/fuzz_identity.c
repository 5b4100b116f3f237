/*
 * fuzz_identity.c -- identity (bare JID) and domain validation (XSMTP-1
 * s2), as applied to X-XMPP-Identity, identity_map values and the identity
 * attribute of a verify query.
 *
 * Input: the raw text.  Invariants on an accepted identity: the output is
 * the input ASCII-lowercased, byte for byte; exactly one '@'; a local part
 * of 1..64 octets without the forbidden characters, controls or space; a
 * domain of 1..253 octets of letters, digits, '-' and '.' that
 * xsmtp_domain_check accepts; the whole is well-formed UTF-8 of XML
 * characters (checked with the XMPP client's own, separate validator);
 * parsing the output again gives it back.  A
 * refusal comes with a printable reason.  The domain checker is held to
 * the same rules on its own.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "hash/identity.h"
#include "tests/fuzz/fuzz.h"
#include "xmpp/client/client_text.h"

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

static bool
domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

static void
check_identity(const uint8_t *data, size_t size)
{
    char out[XSMTP_IDENTITY_SIZE], again[XSMTP_IDENTITY_SIZE];
    const char *reason = NULL, *at;
    size_t local_len;

    if (xsmtp_identity_parse((const char *)data, size, out, sizeof out, &reason) != XSMTP_OK) {
        /* Only a too-small buffer may come without a reason, and ours is not. */
        check_reason(reason);
        return;
    }
    FUZZ_CHECK(strlen(out) == size);
    for (size_t i = 0; i < size; i++) {
        unsigned char c = data[i];
        FUZZ_CHECK((unsigned char)out[i] == (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    at = strchr(out, '@');
    FUZZ_CHECK(at != NULL && strchr(at + 1, '@') == NULL);
    local_len = (size_t)(at - out);
    FUZZ_CHECK(local_len >= 1 && local_len <= XSMTP_LOCAL_MAX);
    for (size_t i = 0; i < local_len; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c > 0x20 && c != 0x7f && strchr("\"&'/:<>@", c) == NULL);
    }
    FUZZ_CHECK(xsmtp_identity_domain(out) == at + 1);
    FUZZ_CHECK(xclient_text_xml_ok(out, sizeof out));
    FUZZ_CHECK(strlen(at + 1) >= 1 && strlen(at + 1) <= XSMTP_DOMAIN_MAX);
    FUZZ_CHECK(xsmtp_domain_check(at + 1, strlen(at + 1), &reason) == XSMTP_OK);
    FUZZ_CHECK(xsmtp_identity_parse(out, strlen(out), again, sizeof again, &reason) == XSMTP_OK);
    FUZZ_CHECK(strcmp(out, again) == 0);
}

static void
check_domain(const uint8_t *data, size_t size)
{
    const char *reason = NULL;

    if (xsmtp_domain_check((const char *)data, size, &reason) != XSMTP_OK) {
        check_reason(reason);
        return;
    }
    FUZZ_CHECK(size >= 1 && size <= XSMTP_DOMAIN_MAX);
    for (size_t i = 0; i < size; i++)
        FUZZ_CHECK(domain_char(data[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_identity(data, size);
    check_domain(data, size);
    return 0;
}
