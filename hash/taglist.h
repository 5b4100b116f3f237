/*
 * taglist.h -- the X-XMPP-Hash header: parse and format (XSMTP-1 s2).
 *
 * The parser is strict about the six required tags and ignores unknown
 * ones; every failure comes back as XSMTP_EMALFORMED with a reason that is
 * safe to put in a log line or a verdict.
 */
#ifndef XSMTP_TAGLIST_H
#define XSMTP_TAGLIST_H

#include <stddef.h>
#include <stdint.h>
#include "hash/util/status.h"

#define XSMTP_KEYID_MAX 64
#define XSMTP_IP_MAX 46 /* INET6_ADDRSTRLEN */
#define XSMTP_B64_SHA256 44

struct xsmtp_hash_tags {
    char k[XSMTP_KEYID_MAX + 1];
    char t[11];                /* decimal, as written */
    uint64_t time;             /* t as a number */
    char ip[XSMTP_IP_MAX + 1]; /* canonical inet_ntop form */
    char bh[XSMTP_B64_SHA256 + 1];
    char h[XSMTP_B64_SHA256 + 1];
};

/* Parses value[0..len) (may contain folding CRLF/LF + WSP). */
xsmtp_status xsmtp_tags_parse(const char *value, size_t len, struct xsmtp_hash_tags *tags,
                              const char **reason);

/*
 * Writes "v=1; k=..; t=..; ip=..;\n bh=..;\n h=.." into out: folded with a
 * bare LF plus one space, as libmilter expects (the MTA writes CRLF).
 * Uses the string fields only (tags->time is ignored) and refuses
 * (XSMTP_EMALFORMED) any value the parser would refuse.
 */
xsmtp_status xsmtp_tags_format(const struct xsmtp_hash_tags *tags, char *out, size_t outsz);

/* Single-value validators shared with the component's verify query. */
xsmtp_status xsmtp_tag_check_keyid(const char *value, size_t len);
xsmtp_status xsmtp_tag_check_time(const char *value, size_t len, uint64_t *time);
xsmtp_status xsmtp_tag_check_ip(const char *value, size_t len);
xsmtp_status xsmtp_tag_check_b64_sha256(const char *value, size_t len);

#endif
