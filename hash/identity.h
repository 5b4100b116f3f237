/*
 * identity.h -- XSMTP-1 section 2 identities (bare JIDs local@domain).
 *
 * An identity is validated and written lowercased (ASCII only).  The same
 * rules apply to the X-XMPP-Identity header, to identity_map values, and to
 * the identity attribute of a verify query.
 */
#ifndef XSMTP_IDENTITY_H
#define XSMTP_IDENTITY_H

#include <stddef.h>
#include "hash/util/status.h"

#define XSMTP_LOCAL_MAX 64
#define XSMTP_DOMAIN_MAX 253
/* local + '@' + domain + NUL */
#define XSMTP_IDENTITY_SIZE (XSMTP_LOCAL_MAX + 1 + XSMTP_DOMAIN_MAX + 1)

/*
 * Validates in[0..len) (no trimming is done: callers trim header values) and
 * writes its lowercased form to out.  On XSMTP_EMALFORMED *reason says why.
 */
xsmtp_status xsmtp_identity_parse(const char *in, size_t len, char *out, size_t outsz,
                                  const char **reason);

/* Pointer to the domain part of a validated identity (after the '@'). */
const char *xsmtp_identity_domain(const char *identity);

/* Validates a domain name alone (1..253 of letters, digits, '-', '.'). */
xsmtp_status xsmtp_domain_check(const char *domain, size_t len, const char **reason);

#endif
