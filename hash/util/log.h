/*
 * log.h -- the daemons' process logger: syslog always, stderr too in the
 * foreground.
 *
 * One per process, set up once at start (and again on reload) from the
 * configuration; the state lives in a single named struct in log.c.  Only
 * programs use it directly; libraries log through the struct xsmtp_logger
 * in their options (logger.h), which a program points here with
 * log_logger().  Callers must never pass secret material.
 */
#ifndef XSMTP_LOG_H
#define XSMTP_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

#include "hash/util/logger.h"

/* Maps "mail", "daemon", "local0".."local7", "user" to LOG_*; -1 if unknown. */
int log_facility_from_name(const char *name);
/* Maps "debug", "info", "notice", "warning", "err" to LOG_*; -1 if unknown. */
int log_level_from_name(const char *name);
/* Inverse maps, for log lines and -t output; "?" when unknown. */
const char *log_facility_name(int facility);
const char *log_level_name(int level);

/* ident: program name; also_stderr: mirror every line to stderr (-f). */
void log_open(const char *ident, int facility, int max_level, bool also_stderr);
/* Change facility/level after a reload. */
void log_reconfigure(int facility, int max_level);
/* Start or stop mirroring to stderr (off once detached: stderr is /dev/null). */
void log_set_stderr(bool also_stderr);
void log_close(void);

/*
 * printf-style; lines above the configured level are dropped cheaply.
 * Control characters in the formatted line are replaced by '?', so one
 * call is always exactly one log line (no injection through values).
 */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
bool log_enabled(int level);

/* A library logger that writes through log_vmsg(). */
struct xsmtp_logger log_logger(void);

#endif
