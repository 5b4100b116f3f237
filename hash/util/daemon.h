/*
 * daemon.h -- process plumbing shared by xsmtp-milter and xsmtp-component:
 * detaching, the pid file, and dropping root.
 */
#ifndef XSMTP_DAEMON_H
#define XSMTP_DAEMON_H

#include <stddef.h>
#include <sys/types.h>
#include "hash/util/status.h"

/* Forks into the background, new session, stdio on /dev/null, cwd "/". */
xsmtp_status daemon_detach(char *err, size_t errsz);

/*
 * Refuses (XSMTP_EIO, reason in err) when path names a pid file whose
 * process is still alive, so a second instance does not steal the first
 * one's socket.  A missing or stale pid file is fine.
 */
xsmtp_status daemon_check_pidfile(const char *path, char *err, size_t errsz);

/* Writes our pid to path (created 0644, replaced atomically). */
xsmtp_status daemon_write_pidfile(const char *path, char *err, size_t errsz);
void daemon_remove_pidfile(const char *path);

/*
 * Looks up user (name) and, when running as root, switches to its uid/gid
 * and supplementary groups; refuses to stay root if the switch fails.
 * A NULL or empty user is a no-op.  Verifies the switch cannot be undone.
 */
xsmtp_status daemon_drop_privileges(const char *user, char *err, size_t errsz);

/* Resolves user to uid/gid without switching (to chown sockets, pid files). */
xsmtp_status daemon_lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errsz);

#endif
