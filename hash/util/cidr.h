/*
 * cidr.h -- address lists such as "127.0.0.0/8, ::1" (internal_hosts,
 * component relays).
 *
 * A list is parsed once from configuration; matching is a linear scan of a
 * handful of prefixes, which is cheaper than any tree at these sizes.
 */
#ifndef XSMTP_CIDR_H
#define XSMTP_CIDR_H

#include <stddef.h>
#include <stdbool.h>
#include <sys/socket.h>
#include "hash/util/status.h"

struct xsmtp_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix; /* bits */
};

struct xsmtp_cidr_list {
    struct xsmtp_cidr *entries;
    size_t count;
};

/* Parses one "ADDR" or "ADDR/LEN" entry (no whitespace). */
xsmtp_status xsmtp_cidr_parse(const char *text, struct xsmtp_cidr *out);
/* Appends one parsed entry; the list owns its storage. */
xsmtp_status xsmtp_cidr_list_add(struct xsmtp_cidr_list *list, const struct xsmtp_cidr *entry);
/*
 * Parses a whole list such as "127.0.0.0/8, ::1" (entries separated by
 * commas and/or blanks) and appends every entry; stops at the first bad one.
 */
xsmtp_status xsmtp_cidr_list_parse(struct xsmtp_cidr_list *list, const char *text);
void xsmtp_cidr_list_free(struct xsmtp_cidr_list *list);

/* Matches a socket address (IPv4-mapped IPv6 is matched as IPv4). */
bool xsmtp_cidr_list_match_sockaddr(const struct xsmtp_cidr_list *list,
                                    const struct sockaddr *addr);
/* Matches a textual address ("192.0.2.1", "2001:db8::1"); false if unparsable. */
bool xsmtp_cidr_list_match_text(const struct xsmtp_cidr_list *list, const char *addr);

/*
 * Writes the inet_ntop form of a socket address (IPv4-mapped IPv6 written
 * as dotted quad) into out; XSMTP_EMALFORMED for non-IP families.
 */
xsmtp_status xsmtp_sockaddr_text(const struct sockaddr *addr, char *out, size_t outsz);

#endif
