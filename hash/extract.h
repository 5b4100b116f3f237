/*
 * extract.h -- msgid and from-address from raw header values (XSMTP-1 s3).
 *
 * Both take the header value as the MTA handed it over (possibly folded
 * with CR/LF) and write the exact bytes that go into the canonical input.
 */
#ifndef XSMTP_EXTRACT_H
#define XSMTP_EXTRACT_H

#include <stddef.h>
#include "hash/util/status.h"

/* Size that holds any extracted value: a header value is at most 8,192 octets. */
#define XSMTP_HEADER_VALUE_MAX 8192
#define XSMTP_EXTRACT_SIZE (XSMTP_HEADER_VALUE_MAX + 1)

/*
 * All three: XSMTP_EMALFORMED for a raw value over XSMTP_HEADER_VALUE_MAX
 * octets (XSMTP-1 s2) or holding a NUL; XSMTP_ETOOBIG when out is too small.
 * msgid and from also refuse an empty result (e.g. "<>") as XSMTP_EMALFORMED.
 */

/* Message-ID: unfold, trim, take the text between the first '<' and the next '>'. */
xsmtp_status xsmtp_extract_msgid(const char *raw, size_t rawlen, char *out, size_t outsz);

/*
 * From: unfold, trim, refuse several mailboxes (XSMTP_EMULTIPLE: a ','
 * outside double quotes and outside <...>), take <...> if present, then
 * ASCII-lowercase.
 */
xsmtp_status xsmtp_extract_from(const char *raw, size_t rawlen, char *out, size_t outsz);

/* Unfold (delete every CR and LF) and trim space/tab; used by both above. */
xsmtp_status xsmtp_unfold_trim(const char *raw, size_t rawlen, char *out, size_t outsz,
                               size_t *outlen);

#endif
