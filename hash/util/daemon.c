/*
 * daemon.c -- detaching, the pid file and dropping root (daemon.h).
 *
 * Shared by xsmtp-milter and xsmtp-component.  Every step reports failure
 * with a reason instead of exiting, so the caller decides what to log and
 * how to stop.  The pid file is written through a temporary file and
 * rename(2), so a reader never sees a half-written pid.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash/util/daemon.h"

static xsmtp_status
daemon_fail(xsmtp_status status, char *err, size_t errsz, const char *what, int error)
{
    if (err != NULL && errsz > 0) {
        if (error != 0)
            snprintf(err, errsz, "%s: %s", what, strerror(error));
        else
            snprintf(err, errsz, "%s", what);
    }
    return status;
}

static xsmtp_status daemon_failf(xsmtp_status status, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static xsmtp_status
daemon_failf(xsmtp_status status, char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errsz > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return status;
}

static xsmtp_status
daemon_stdio_to_null(char *err, size_t errsz)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return daemon_fail(XSMTP_EIO, err, errsz, "cannot open /dev/null", errno);
    for (int target = STDIN_FILENO; target <= STDERR_FILENO; target++) {
        if (dup2(fd, target) < 0) {
            int error = errno;
            close(fd);
            return daemon_fail(XSMTP_EIO, err, errsz, "cannot redirect stdio", error);
        }
    }
    if (fd > STDERR_FILENO)
        close(fd);
    return XSMTP_OK;
}

xsmtp_status
daemon_detach(char *err, size_t errsz)
{
    pid_t pid;

    /* Flush now so buffered output is not written twice by the children. */
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return daemon_fail(XSMTP_EIO, err, errsz, "fork", errno);
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return daemon_fail(XSMTP_EIO, err, errsz, "setsid", errno);
    /* Second fork: a session leader that is not a child of ours could
     * otherwise acquire a controlling terminal by opening one. */
    pid = fork();
    if (pid < 0)
        return daemon_fail(XSMTP_EIO, err, errsz, "fork", errno);
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return daemon_fail(XSMTP_EIO, err, errsz, "chdir /", errno);
    return daemon_stdio_to_null(err, errsz);
}

/* Reads the pid in path; 0 when missing or unparsable. */
static pid_t
daemon_read_pid(const char *path)
{
    char text[32];
    ssize_t len;
    long value;
    char *end;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return 0;
    len = read(fd, text, sizeof text - 1);
    close(fd);
    if (len <= 0)
        return 0;
    text[len] = '\0';
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || end == text || (*end != '\n' && *end != '\0') || value <= 1 ||
        value > INT_MAX)
        return 0;
    return (pid_t)value;
}

xsmtp_status
daemon_check_pidfile(const char *path, char *err, size_t errsz)
{
    pid_t pid;

    if (path == NULL || *path == '\0')
        return XSMTP_OK;
    pid = daemon_read_pid(path);
    if (pid == 0 || pid == getpid())
        return XSMTP_OK;
    if (kill(pid, 0) == 0 || errno == EPERM) {
        return daemon_failf(XSMTP_EIO, err, errsz, "pid file %s: process %ld is still running",
                            path, (long)pid);
    }
    return XSMTP_OK;
}

xsmtp_status
daemon_write_pidfile(const char *path, char *err, size_t errsz)
{
    char temp[PATH_MAX];
    char text[32];
    int fd, len, error;

    if (path == NULL || *path == '\0')
        return XSMTP_OK;
    if (snprintf(temp, sizeof temp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof temp)
        return daemon_fail(XSMTP_ETOOBIG, err, errsz, "pid file path too long", 0);
    fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        return daemon_failf(XSMTP_EIO, err, errsz, "cannot create %s: %s", temp, strerror(errno));
    }
    len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (write(fd, text, (size_t)len) != len || fsync(fd) < 0) {
        error = errno;
        close(fd);
        unlink(temp);
        return daemon_failf(XSMTP_EIO, err, errsz, "cannot write %s: %s", temp, strerror(error));
    }
    if (close(fd) < 0 || rename(temp, path) < 0) {
        error = errno;
        unlink(temp);
        return daemon_failf(XSMTP_EIO, err, errsz, "cannot install pid file %s: %s", path,
                            strerror(error));
    }
    return XSMTP_OK;
}

void
daemon_remove_pidfile(const char *path)
{
    /* Only remove our own: a successor may already have written its pid. */
    if (path != NULL && *path != '\0' && daemon_read_pid(path) == getpid())
        (void)unlink(path);
}

xsmtp_status
daemon_lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errsz)
{
    struct passwd *entry;

    if (user == NULL || *user == '\0')
        return daemon_fail(XSMTP_ENOTFOUND, err, errsz, "no user given", 0);
    entry = getpwnam(user);
    if (entry == NULL) {
        /* errno is unreliable here (NSS modules set it for "not found"). */
        return daemon_failf(XSMTP_ENOTFOUND, err, errsz, "unknown user '%s'", user);
    }
    *uid = entry->pw_uid;
    *gid = entry->pw_gid;
    return XSMTP_OK;
}

xsmtp_status
daemon_drop_privileges(const char *user, char *err, size_t errsz)
{
    uid_t uid;
    gid_t gid;
    xsmtp_status status;

    if (user == NULL || *user == '\0')
        return XSMTP_OK;
    status = daemon_lookup_user(user, &uid, &gid, err, errsz);
    if (status != XSMTP_OK)
        return status;
    if (geteuid() != 0) {
        /* Not root: nothing to drop, but running as someone else is a
         * configuration mistake worth refusing. */
        if (geteuid() == uid)
            return XSMTP_OK;
        return daemon_failf(XSMTP_EPERM, err, errsz, "not root and not user '%s': cannot switch",
                            user);
    }
    if (uid == 0)
        return daemon_fail(XSMTP_EPERM, err, errsz, "refusing to run as a uid 0 user", 0);
    /* Groups first: after setuid we could no longer change them. */
    if (initgroups(user, gid) < 0)
        return daemon_fail(XSMTP_EPERM, err, errsz, "initgroups", errno);
    if (setgid(gid) < 0)
        return daemon_fail(XSMTP_EPERM, err, errsz, "setgid", errno);
    if (setuid(uid) < 0)
        return daemon_fail(XSMTP_EPERM, err, errsz, "setuid", errno);
    /* The switch must be permanent: getting root back must fail. */
    if (setuid(0) == 0 || seteuid(0) == 0 || geteuid() != uid || getuid() != uid ||
        getegid() != gid)
        return daemon_fail(XSMTP_EPERM, err, errsz, "privileges could be regained", 0);
    return XSMTP_OK;
}
