/*
 * proto.c -- the verdict's words (proto.h).
 */
#include "config.h"

#include <string.h>

#include "hash/proto.h"

static const char *const verdict_names[XSMTP_VERDICT_COUNT] = {
    [XSMTP_VERDICT_NONE] = "none",           [XSMTP_VERDICT_PASS] = "pass",
    [XSMTP_VERDICT_FAIL] = "fail",           [XSMTP_VERDICT_PERMERROR] = "permerror",
    [XSMTP_VERDICT_TEMPERROR] = "temperror",
};

const char *
xsmtp_verdict_name(enum xsmtp_verdict verdict)
{
    if ((unsigned)verdict < XSMTP_VERDICT_COUNT)
        return verdict_names[verdict];
    return "?";
}

bool
xsmtp_verdict_parse(const char *word, size_t len, enum xsmtp_verdict *out)
{
    for (unsigned i = 0; i < XSMTP_VERDICT_COUNT; i++) {
        if (strlen(verdict_names[i]) == len && memcmp(word, verdict_names[i], len) == 0) {
            *out = (enum xsmtp_verdict)i;
            return true;
        }
    }
    return false;
}
