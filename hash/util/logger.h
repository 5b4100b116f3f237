/*
 * logger.h -- how a library logs: through a callback that its caller puts
 * in the library's options, the way libstrophe takes an xmpp_log_t in its
 * context.  A library never decides where a line goes (syslog, stderr, a
 * test's buffer); without a callback it says nothing.  Levels are
 * syslog's (LOG_ERR ... LOG_DEBUG).  Callers must never pass secrets.
 */
#ifndef XSMTP_LOGGER_H
#define XSMTP_LOGGER_H

#include <stdarg.h>
#include <syslog.h>

/* Writes one line; may be called from any thread at once. */
typedef void xsmtp_log_fn(void *arg, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

struct xsmtp_logger {
    xsmtp_log_fn *fn; /* NULL: silent */
    void *arg;
};

/* printf-style; one call is one line.  A NULL logger is silent too. */
void xsmtp_log(const struct xsmtp_logger *logger, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
