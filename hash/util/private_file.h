/*
 * private_file.h -- open files that hold secrets (key table, XMPP password,
 * component secret, Redis password) and refuse them when group or other
 * may read or write them, the way ssh refuses a world-readable key.
 */
#ifndef XSMTP_PRIVATE_FILE_H
#define XSMTP_PRIVATE_FILE_H

#include <stddef.h>
#include <stdio.h>
#include "hash/util/status.h"

/*
 * Opens path for reading after checking (on the open descriptor, so there is
 * no race) that it is a regular file with no group/other permission bits.
 * XSMTP_EPERM or XSMTP_EIO write the reason into err.
 */
xsmtp_status xsmtp_private_file_open(const char *path, FILE **out, char *err, size_t errsz);

/*
 * Reads a one-line secret (password files): the first line without its line
 * end (LF or CRLF), at most outsz-1 bytes (else XSMTP_ETOOBIG).  Same
 * permission rule.  An empty first line or a NUL is XSMTP_EMALFORMED; on any
 * error out is wiped and left empty.
 */
xsmtp_status xsmtp_private_file_read_line(const char *path, char *out, size_t outsz, char *err,
                                          size_t errsz);

#endif
