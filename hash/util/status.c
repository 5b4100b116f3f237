/*
 * status.c -- short names for xsmtp_status values.
 *
 * The names are stable words meant for log lines and test output, so a log
 * reader can grep for "malformed" without knowing the enum's numbers.
 */
#include "config.h"

#include "hash/util/status.h"

const char *
xsmtp_status_str(xsmtp_status status)
{
    switch (status) {
    case XSMTP_OK: return "ok";
    case XSMTP_EMALFORMED: return "malformed";
    case XSMTP_EMULTIPLE: return "multiple";
    case XSMTP_ENOTFOUND: return "not-found";
    case XSMTP_ETOOBIG: return "too-big";
    case XSMTP_ENOMEM: return "no-memory";
    case XSMTP_EIO: return "io-error";
    case XSMTP_EPERM: return "bad-permissions";
    case XSMTP_ECRYPTO: return "crypto-error";
    case XSMTP_EMISMATCH: return "mismatch";
    }
    /* A value outside the enum: never index anything with it. */
    return "unknown";
}
