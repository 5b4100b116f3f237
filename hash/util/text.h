/*
 * text.h -- small text helpers.
 */
#ifndef XSMTP_TEXT_H
#define XSMTP_TEXT_H

#include <stdbool.h>

/* Whether value is exactly expected; a NULL value (an absent attribute,
 * a missing child) is not. */
bool xsmtp_str_is(const char *value, const char *expected);

#endif
