/*
 * socket_spec.c -- checks the `socket` option and tunes the socket that
 * libmilter opened (socket_spec.h).
 *
 * The check is stricter than libmilter (numeric ports, explicit host,
 * absolute unix paths) so that `xsmtp-milter -t` catches what would only
 * fail, or silently listen somewhere unexpected, at start.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter/config/socket_spec.h"

const char *
socket_kind_name(enum socket_kind kind)
{
    switch (kind) {
    case SOCKET_INET: return "inet";
    case SOCKET_INET6: return "inet6";
    case SOCKET_UNIX: return "unix";
    }
    return "?";
}

static bool
socket_host_name_ok(const char *host)
{
    size_t len = strlen(host);

    if (len == 0 || len > SOCKET_HOST_MAX || host[0] == '-' || host[0] == '.')
        return false;
    for (const char *p = host; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

static xsmtp_status
socket_parse_inet(const char *rest, struct socket_spec *out, const char **reason)
{
    const char *at = strchr(rest, '@');
    unsigned long port = 0;
    unsigned char addr[sizeof(struct in6_addr)];
    size_t digits = (size_t)(at != NULL ? at - rest : (ptrdiff_t)strlen(rest));

    if (digits == 0 || digits > 5) {
        *reason = "expected a port number 1..65535 before '@'";
        return XSMTP_EMALFORMED;
    }
    for (size_t i = 0; i < digits; i++) {
        if (rest[i] < '0' || rest[i] > '9') {
            *reason = "expected a port number 1..65535 before '@'";
            return XSMTP_EMALFORMED;
        }
        port = port * 10 + (unsigned long)(rest[i] - '0');
    }
    if (port == 0 || port > 65535) {
        *reason = "port out of range 1..65535";
        return XSMTP_EMALFORMED;
    }
    if (at == NULL || at[1] == '\0') {
        *reason = "missing @HOST; write 0.0.0.0 or :: to listen on every address";
        return XSMTP_EMALFORMED;
    }
    if (strlen(at + 1) > SOCKET_HOST_MAX) {
        *reason = "host name too long";
        return XSMTP_EMALFORMED;
    }
    out->port = (unsigned)port;
    strcpy(out->host, at + 1);
    if (out->kind == SOCKET_INET6) {
        if (inet_pton(AF_INET6, out->host, addr) == 1 || socket_host_name_ok(out->host))
            return XSMTP_OK;
        *reason = "bad IPv6 address or host name";
        return XSMTP_EMALFORMED;
    }
    if (inet_pton(AF_INET, out->host, addr) == 1 || socket_host_name_ok(out->host))
        return XSMTP_OK;
    *reason = "bad IPv4 address or host name";
    return XSMTP_EMALFORMED;
}

xsmtp_status
socket_spec_parse(const char *text, struct socket_spec *out, const char **reason)
{
    static const char expected[] =
        "expected inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH";
    const char *rest;

    memset(out, 0, sizeof *out);
    *reason = expected;
    if (text == NULL || *text == '\0')
        return XSMTP_EMALFORMED;
    if (strncmp(text, "inet:", 5) == 0) {
        out->kind = SOCKET_INET;
        return socket_parse_inet(text + 5, out, reason);
    }
    if (strncmp(text, "inet6:", 6) == 0) {
        out->kind = SOCKET_INET6;
        return socket_parse_inet(text + 6, out, reason);
    }
    if (strncmp(text, "unix:", 5) == 0)
        rest = text + 5;
    else if (strncmp(text, "local:", 6) == 0)
        rest = text + 6;
    else
        return XSMTP_EMALFORMED;
    out->kind = SOCKET_UNIX;
    if (rest[0] != '/') {
        *reason = "unix socket path must be absolute";
        return XSMTP_EMALFORMED;
    }
    if (strlen(rest) >= sizeof out->path) {
        *reason = "unix socket path too long";
        return XSMTP_EMALFORMED;
    }
    strcpy(out->path, rest);
    return XSMTP_OK;
}

/* Whether fd is a listening socket matching spec. */
static bool
socket_fd_matches(int fd, const struct socket_spec *spec)
{
    struct sockaddr_storage addr;
    socklen_t addrlen = sizeof addr;
    int listening = 0;
    socklen_t optlen = sizeof listening;

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) < 0 || !listening)
        return false;
    memset(&addr, 0, sizeof addr);
    if (getsockname(fd, (struct sockaddr *)&addr, &addrlen) < 0)
        return false;
    switch (spec->kind) {
    case SOCKET_INET:
        return addr.ss_family == AF_INET &&
               ntohs(((struct sockaddr_in *)&addr)->sin_port) == spec->port;
    case SOCKET_INET6:
        return addr.ss_family == AF_INET6 &&
               ntohs(((struct sockaddr_in6 *)&addr)->sin6_port) == spec->port;
    case SOCKET_UNIX:
        return addr.ss_family == AF_UNIX &&
               strncmp(((struct sockaddr_un *)&addr)->sun_path, spec->path, sizeof spec->path) == 0;
    }
    return false;
}

xsmtp_status
socket_find_listener(const struct socket_spec *spec, int *fd, char *err, size_t errsz)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *entry;
    int found = -1;

    if (dir == NULL) {
        snprintf(err, errsz, "cannot list /proc/self/fd: %s", strerror(errno));
        return XSMTP_EIO;
    }
    while (found < 0 && (entry = readdir(dir)) != NULL) {
        char *end;
        long candidate = strtol(entry->d_name, &end, 10);

        if (end == entry->d_name || *end != '\0' || candidate < 0 || candidate == dirfd(dir))
            continue;
        if (socket_fd_matches((int)candidate, spec))
            found = (int)candidate;
    }
    closedir(dir);
    if (found < 0) {
        snprintf(err, errsz, "no listening %s socket found among open descriptors",
                 socket_kind_name(spec->kind));
        return XSMTP_ENOTFOUND;
    }
    *fd = found;
    return XSMTP_OK;
}

xsmtp_status
socket_set_nodelay(int fd, char *err, size_t errsz)
{
    int on = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0) {
        snprintf(err, errsz, "TCP_NODELAY on descriptor %d: %s", fd, strerror(errno));
        return XSMTP_EIO;
    }
    return XSMTP_OK;
}

xsmtp_status
socket_give_to(const struct socket_spec *spec, uid_t uid, gid_t gid, char *err, size_t errsz)
{
    struct stat info;

    if (spec->kind != SOCKET_UNIX)
        return XSMTP_OK;
    if (lstat(spec->path, &info) < 0 || !S_ISSOCK(info.st_mode)) {
        snprintf(err, errsz, "%s is not the socket libmilter created", spec->path);
        return XSMTP_EIO;
    }
    /* lchown: never follow a link someone may have put in the directory. */
    if (lchown(spec->path, uid, gid) < 0) {
        snprintf(err, errsz, "chown %s: %s", spec->path, strerror(errno));
        return XSMTP_EIO;
    }
    if (chmod(spec->path, 0660) < 0) {
        snprintf(err, errsz, "chmod %s: %s", spec->path, strerror(errno));
        return XSMTP_EIO;
    }
    return XSMTP_OK;
}
