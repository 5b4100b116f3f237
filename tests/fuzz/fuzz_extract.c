/*
 * fuzz_extract.c -- msgid and from-address extraction (XSMTP-1 s3).
 *
 * Input: a raw header value as the MTA hands it over (folding, quotes,
 * angle brackets, any octet).  Signer and verifier MAC what these return,
 * so they are checked against a second, deliberately naive reading of the
 * spec's text written here: delete every CR and LF, trim space and tab,
 * take the text between the first '<' and the first '>' after it; for
 * From, refuse a ',' outside double quotes (with quoted-pairs) and outside
 * <...>, then ASCII-lowercase.  A value over 8,192 octets or holding a NUL
 * is refused, and nothing extracted contains CR or LF.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "hash/extract.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* The reference: returns the length written to out, or -1 for "refused". */
static long
reference(const uint8_t *raw, size_t len, bool from, char *out)
{
    size_t n = 0, start = 0, end;
    bool quoted = false, angle = false;

    if (len > XSMTP_HEADER_VALUE_MAX || memchr(raw, '\0', len) != NULL)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (raw[i] != '\r' && raw[i] != '\n')
            out[n++] = (char)raw[i];
    end = n;
    while (start < end && (out[start] == ' ' || out[start] == '\t'))
        start++;
    while (end > start && (out[end - 1] == ' ' || out[end - 1] == '\t'))
        end--;
    memmove(out, out + start, end - start);
    n = end - start;
    if (from) {
        for (size_t i = 0; i < n; i++) {
            if (quoted) {
                if (out[i] == '\\' && i + 1 < n)
                    i++;
                else if (out[i] == '"')
                    quoted = false;
            } else if (angle) {
                angle = out[i] != '>';
            } else if (out[i] == '"') {
                quoted = true;
            } else if (out[i] == '<') {
                angle = true;
            } else if (out[i] == ',') {
                return -2;
            }
        }
    }
    char *open = memchr(out, '<', n);
    char *close = open != NULL ? memchr(open + 1, '>', n - (size_t)(open + 1 - out)) : NULL;
    if (close != NULL) {
        n = (size_t)(close - open - 1);
        memmove(out, open + 1, n);
    }
    if (n == 0)
        return -1;
    if (from)
        for (size_t i = 0; i < n; i++)
            if (out[i] >= 'A' && out[i] <= 'Z')
                out[i] = (char)(out[i] - 'A' + 'a');
    out[n] = '\0';
    return (long)n;
}

static void
check(const uint8_t *data, size_t size, bool from)
{
    static char got[XSMTP_EXTRACT_SIZE], want[XSMTP_HEADER_VALUE_MAX + 2];
    xsmtp_status status;
    long expected;

    if (size > XSMTP_HEADER_VALUE_MAX + 1)
        size = XSMTP_HEADER_VALUE_MAX + 1; /* one over the limit is enough to test it */
    status = from ? xsmtp_extract_from((const char *)data, size, got, sizeof got)
                  : xsmtp_extract_msgid((const char *)data, size, got, sizeof got);
    expected = reference(data, size, from, want);
    if (expected == -2) {
        FUZZ_CHECK(status == XSMTP_EMULTIPLE);
    } else if (expected < 0) {
        FUZZ_CHECK(status == XSMTP_EMALFORMED);
    } else {
        FUZZ_CHECK(status == XSMTP_OK);
        FUZZ_CHECK(strlen(got) == (size_t)expected && memcmp(got, want, (size_t)expected) == 0);
        FUZZ_CHECK(strpbrk(got, "\r\n") == NULL);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char small[8];
    size_t length;

    check(data, size, false);
    check(data, size, true);
    /* A buffer too small must be refused, never overrun. */
    if (xsmtp_unfold_trim((const char *)data, size, small, sizeof small, &length) == XSMTP_OK)
        FUZZ_CHECK(length < sizeof small && strlen(small) == length);
    return 0;
}
