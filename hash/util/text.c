/*
 * text.c -- small text helpers (text.h).
 */
#include "config.h"

#include <string.h>

#include "hash/util/text.h"

bool
xsmtp_str_is(const char *value, const char *expected)
{
    return value != NULL && strcmp(value, expected) == 0;
}
