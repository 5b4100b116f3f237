/*
 * cidr.c -- address prefix lists (internal_hosts, component relay lists).
 *
 * Entries are stored in network byte order with their family; an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d), whether in the list or being matched, is
 * treated as the IPv4 address it carries, because a dual-stack socket
 * reports IPv4 clients that way and a list written "192.0.2.0/24" must
 * still match them.  An entry with bits set beyond its prefix length is
 * refused, as Postfix does: it is almost always a typo.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hash/util/cidr.h"

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Turns an IPv4-mapped IPv6 entry into its IPv4 form. */
static void
unmap(struct xsmtp_cidr *entry)
{
    if (entry->family == AF_INET6 && memcmp(entry->addr, v4_mapped_prefix, 12) == 0 &&
        entry->prefix >= 96) {
        memmove(entry->addr, entry->addr + 12, 4);
        memset(entry->addr + 4, 0, 12);
        entry->family = AF_INET;
        entry->prefix -= 96;
    }
}

/* Parses an address alone into entry (prefix set to the full length). */
static xsmtp_status
parse_address(const char *text, struct xsmtp_cidr *entry)
{
    memset(entry, 0, sizeof *entry);
    if (strchr(text, ':') != NULL) {
        if (inet_pton(AF_INET6, text, entry->addr) != 1)
            return XSMTP_EMALFORMED;
        entry->family = AF_INET6;
        entry->prefix = 128;
    } else {
        if (inet_pton(AF_INET, text, entry->addr) != 1)
            return XSMTP_EMALFORMED;
        entry->family = AF_INET;
        entry->prefix = 32;
    }
    return XSMTP_OK;
}

/* Whether the first prefix bits of a and b agree. */
static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
    unsigned whole = prefix / 8;
    unsigned rest = prefix % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

xsmtp_status
xsmtp_cidr_parse(const char *text, struct xsmtp_cidr *out)
{
    char address[INET6_ADDRSTRLEN];
    struct xsmtp_cidr entry;

    if (text == NULL || out == NULL)
        return XSMTP_EMALFORMED;
    memset(out, 0, sizeof *out);

    const char *slash = strchr(text, '/');
    size_t address_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
    if (address_len == 0 || address_len >= sizeof address)
        return XSMTP_EMALFORMED;
    memcpy(address, text, address_len);
    address[address_len] = '\0';
    if (parse_address(address, &entry) != XSMTP_OK)
        return XSMTP_EMALFORMED;

    if (slash != NULL) {
        const char *digits = slash + 1;
        size_t digit_count = strlen(digits);
        if (digit_count == 0 || digit_count > 3 || (digits[0] == '0' && digit_count > 1))
            return XSMTP_EMALFORMED;
        unsigned prefix = 0;
        for (size_t i = 0; i < digit_count; i++) {
            if (digits[i] < '0' || digits[i] > '9')
                return XSMTP_EMALFORMED;
            prefix = prefix * 10 + (unsigned)(digits[i] - '0');
        }
        if (prefix > entry.prefix)
            return XSMTP_EMALFORMED;
        entry.prefix = prefix;

        /* No host bits beyond the prefix. */
        unsigned char masked[16];
        memcpy(masked, entry.addr, sizeof masked);
        for (unsigned bit = prefix; bit < 128; bit++)
            masked[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
        if (memcmp(masked, entry.addr, sizeof masked) != 0)
            return XSMTP_EMALFORMED;
    }
    unmap(&entry);
    *out = entry;
    return XSMTP_OK;
}

xsmtp_status
xsmtp_cidr_list_add(struct xsmtp_cidr_list *list, const struct xsmtp_cidr *entry)
{
    if (list == NULL || entry == NULL)
        return XSMTP_EMALFORMED;
    if (entry->family != AF_INET && entry->family != AF_INET6)
        return XSMTP_EMALFORMED;
    if (entry->prefix > (entry->family == AF_INET ? 32u : 128u))
        return XSMTP_EMALFORMED;
    struct xsmtp_cidr *entries = realloc(list->entries, (list->count + 1) * sizeof *entries);
    if (entries == NULL)
        return XSMTP_ENOMEM;
    list->entries = entries;
    list->entries[list->count++] = *entry;
    return XSMTP_OK;
}

xsmtp_status
xsmtp_cidr_list_parse(struct xsmtp_cidr_list *list, const char *text)
{
    char item[INET6_ADDRSTRLEN + 5];
    struct xsmtp_cidr entry;

    if (list == NULL || text == NULL)
        return XSMTP_EMALFORMED;
    const char *pos = text;
    for (;;) {
        pos += strspn(pos, " \t,");
        if (*pos == '\0')
            return XSMTP_OK;
        size_t len = strcspn(pos, " \t,");
        if (len >= sizeof item)
            return XSMTP_EMALFORMED;
        memcpy(item, pos, len);
        item[len] = '\0';
        xsmtp_status status = xsmtp_cidr_parse(item, &entry);
        if (status == XSMTP_OK)
            status = xsmtp_cidr_list_add(list, &entry);
        if (status != XSMTP_OK)
            return status;
        pos += len;
    }
}

void
xsmtp_cidr_list_free(struct xsmtp_cidr_list *list)
{
    if (list == NULL)
        return;
    free(list->entries);
    list->entries = NULL;
    list->count = 0;
}

/* Matches an address given as family + bytes (already unmapped). */
static bool
list_match(const struct xsmtp_cidr_list *list, int family, const unsigned char *addr)
{
    if (list == NULL)
        return false;
    for (size_t i = 0; i < list->count; i++) {
        const struct xsmtp_cidr *entry = &list->entries[i];
        if (entry->family == family && prefix_equal(entry->addr, addr, entry->prefix))
            return true;
    }
    return false;
}

/* Reads a socket address as family + 4 or 16 bytes, IPv4-mapped as IPv4. */
static bool
sockaddr_bytes(const struct sockaddr *addr, int *family, unsigned char bytes[16])
{
    if (addr == NULL)
        return false;
    if (addr->sa_family == AF_INET) {
        struct sockaddr_in v4;
        memcpy(&v4, addr, sizeof v4);
        memcpy(bytes, &v4.sin_addr, 4);
        *family = AF_INET;
        return true;
    }
    if (addr->sa_family == AF_INET6) {
        struct sockaddr_in6 v6;
        memcpy(&v6, addr, sizeof v6);
        if (memcmp(v6.sin6_addr.s6_addr, v4_mapped_prefix, 12) == 0) {
            memcpy(bytes, v6.sin6_addr.s6_addr + 12, 4);
            *family = AF_INET;
        } else {
            memcpy(bytes, v6.sin6_addr.s6_addr, 16);
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

bool
xsmtp_cidr_list_match_sockaddr(const struct xsmtp_cidr_list *list, const struct sockaddr *addr)
{
    unsigned char bytes[16];
    int family;

    if (!sockaddr_bytes(addr, &family, bytes))
        return false;
    return list_match(list, family, bytes);
}

bool
xsmtp_cidr_list_match_text(const struct xsmtp_cidr_list *list, const char *addr)
{
    struct xsmtp_cidr entry;

    if (addr == NULL || strchr(addr, '/') != NULL)
        return false;
    if (parse_address(addr, &entry) != XSMTP_OK)
        return false;
    unmap(&entry);
    return list_match(list, entry.family, entry.addr);
}

xsmtp_status
xsmtp_sockaddr_text(const struct sockaddr *addr, char *out, size_t outsz)
{
    char text[INET6_ADDRSTRLEN];
    unsigned char bytes[16];
    int family;

    if (out == NULL)
        return XSMTP_EMALFORMED;
    if (outsz > 0)
        out[0] = '\0';
    if (!sockaddr_bytes(addr, &family, bytes))
        return XSMTP_EMALFORMED;
    if (inet_ntop(family, bytes, text, sizeof text) == NULL)
        return XSMTP_EMALFORMED;
    size_t len = strlen(text);
    if (len + 1 > outsz)
        return XSMTP_ETOOBIG;
    memcpy(out, text, len + 1);
    return XSMTP_OK;
}
