/*
 * status.h -- the one status type every libxsmtp call returns.
 *
 * Each public call of hash/ returns an xsmtp_status; callers that need
 * detail get a human-readable reason through an out parameter (a static
 * string, never containing secret material).
 */
#ifndef XSMTP_STATUS_H
#define XSMTP_STATUS_H

typedef enum xsmtp_status {
    XSMTP_OK = 0,
    XSMTP_EMALFORMED, /* input violates XSMTP-1 syntax */
    XSMTP_EMULTIPLE,  /* several mailboxes / several headers */
    XSMTP_ENOTFOUND,  /* no such key, no matching pattern */
    XSMTP_ETOOBIG,    /* output buffer or input limit exceeded */
    XSMTP_ENOMEM,     /* allocation failed */
    XSMTP_EIO,        /* file could not be opened or read */
    XSMTP_EPERM,      /* file readable or writable by group/other */
    XSMTP_ECRYPTO,    /* OpenSSL reported an error */
    XSMTP_EMISMATCH   /* MAC or body hash did not match */
} xsmtp_status;

/* Short constant name of a status, for log lines ("malformed", ...). */
const char *xsmtp_status_str(xsmtp_status status);

#endif
