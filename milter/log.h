/*
 * log.h -- logging for both daemons: syslog always, stderr too in the
 * foreground.
 *
 * One process-wide logger, set up once at start (and again on reload) from
 * the configuration; the state lives in a single named struct in log.c.
 * Callers must never pass secret material.
 */
#ifndef XSMTP_LOG_H
#define XSMTP_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Maps "mail", "daemon", "local0".."local7", "user" to LOG_*; -1 if unknown. */
int log_facility_from_name(const char *name);
/* Maps "debug", "info", "notice", "warning", "err" to LOG_*; -1 if unknown. */
int log_level_from_name(const char *name);

/* ident: program name; also_stderr: mirror every line to stderr (-f). */
void log_open(const char *ident, int facility, int max_level, bool also_stderr);
/* Change facility/level after a reload. */
void log_reconfigure(int facility, int max_level);
void log_close(void);

/* printf-style; lines above the configured level are dropped cheaply. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_enabled(int level);

#endif
