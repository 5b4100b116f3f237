/*
 * socket_spec.h -- the libmilter listening socket: checking the `socket`
 * option and adjusting the socket libmilter opened.
 *
 * Accepted forms (a subset of what libmilter takes, on purpose):
 *   inet:PORT@HOST    IPv4 address or host name; PORT numeric 1..65535
 *   inet6:PORT@HOST   IPv6 address or host name
 *   unix:/PATH        absolute path (also spelled local:/PATH)
 * HOST is required: listening on every interface must be written out
 * (inet:8893@0.0.0.0), never implied.
 */
#ifndef XSMTP_SOCKET_SPEC_H
#define XSMTP_SOCKET_SPEC_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>
#include "hash/util/status.h"

enum socket_kind { SOCKET_INET, SOCKET_INET6, SOCKET_UNIX };

#define SOCKET_HOST_MAX 253

struct socket_spec {
    enum socket_kind kind;
    unsigned port;                                          /* inet, inet6 */
    char host[SOCKET_HOST_MAX + 1];                         /* inet, inet6 */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix */
};

/* Parses text; on XSMTP_EMALFORMED *reason says what is wrong (static text). */
xsmtp_status socket_spec_parse(const char *text, struct socket_spec *out, const char **reason);

/* Short kind name for log lines: "inet", "inet6", "unix". */
const char *socket_kind_name(enum socket_kind kind);

/*
 * Finds the listening socket that libmilter opened for spec among our open
 * descriptors (libmilter does not hand it out): /proc/self/fd, then
 * SO_ACCEPTCONN and getsockname() must match.  *fd is set on XSMTP_OK.
 */
xsmtp_status socket_find_listener(const struct socket_spec *spec, int *fd, char *err, size_t errsz);

/*
 * Sets TCP_NODELAY on an inet/inet6 listening socket.  Linux copies the
 * option to every accepted socket; without it Nagle and delayed ACKs
 * stall each message ~40 ms when the MTA's small packets go out alone.
 */
xsmtp_status socket_set_nodelay(int fd, char *err, size_t errsz);

/* Gives a unix socket to uid:gid with mode 0660 (the MTA joins the group). */
xsmtp_status socket_give_to(const struct socket_spec *spec, uid_t uid, gid_t gid, char *err,
                            size_t errsz);

#endif
