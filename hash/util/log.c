/*
 * log.c -- the process logger behind log.h.
 *
 * Every line goes to syslog with the configured facility; with -f (and
 * during start-up, before detaching) the same line also goes to stderr as
 * "IDENT[PID]: LEVEL: TEXT".  Callback threads log concurrently, so the
 * settings that a reload may change are atomics and each line is written
 * with a single write(2).  The only mutable state is `log_state`.
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hash/util/log.h"

#define LOG_LINE_MAX 2048

struct log_name {
    const char *name;
    int value;
};

static const struct log_name log_facilities[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static const struct log_name log_levels[] = {
    {"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"notice", LOG_NOTICE},
    {"warning", LOG_WARNING}, {"err", LOG_ERR},   {"crit", LOG_CRIT},
};

/* The one logger of the process (see log.h). */
static struct log_state {
    atomic_int facility;
    atomic_int max_level;
    atomic_bool also_stderr;
    atomic_bool opened;
    char ident[64];
} log_state = {
    .facility = LOG_MAIL,
    .max_level = LOG_INFO,
    .also_stderr = true,
    .opened = false,
    .ident = "xsmtp",
};

static int
log_lookup(const struct log_name *table, size_t count, const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (strcasecmp(table[i].name, name) == 0)
            return table[i].value;
    return -1;
}

static const char *
log_reverse(const struct log_name *table, size_t count, int value)
{
    for (size_t i = 0; i < count; i++)
        if (table[i].value == value)
            return table[i].name;
    return "?";
}

int
log_facility_from_name(const char *name)
{
    return log_lookup(log_facilities, sizeof log_facilities / sizeof log_facilities[0], name);
}

int
log_level_from_name(const char *name)
{
    /* "crit" is for our own fatal lines only, not a configurable level. */
    if (name != NULL && strcasecmp(name, "crit") == 0)
        return -1;
    return log_lookup(log_levels, sizeof log_levels / sizeof log_levels[0], name);
}

const char *
log_facility_name(int facility)
{
    return log_reverse(log_facilities, sizeof log_facilities / sizeof log_facilities[0], facility);
}

const char *
log_level_name(int level)
{
    return log_reverse(log_levels, sizeof log_levels / sizeof log_levels[0], level);
}

void
log_open(const char *ident, int facility, int max_level, bool also_stderr)
{
    if (ident != NULL) {
        /* openlog keeps the pointer: it must stay valid, hence the copy. */
        snprintf(log_state.ident, sizeof log_state.ident, "%s", ident);
    }
    atomic_store(&log_state.facility, facility);
    atomic_store(&log_state.max_level, max_level);
    atomic_store(&log_state.also_stderr, also_stderr);
    /* LOG_NDELAY: connect to /dev/log now, before privileges are dropped. */
    openlog(log_state.ident, LOG_PID | LOG_NDELAY, facility);
    atomic_store(&log_state.opened, true);
}

void
log_reconfigure(int facility, int max_level)
{
    /* Each syslog() call names its facility, so no reopen is needed. */
    atomic_store(&log_state.facility, facility);
    atomic_store(&log_state.max_level, max_level);
}

void
log_set_stderr(bool also_stderr)
{
    atomic_store(&log_state.also_stderr, also_stderr);
}

void
log_close(void)
{
    if (atomic_exchange(&log_state.opened, false))
        closelog();
}

bool
log_enabled(int level)
{
    return level <= atomic_load(&log_state.max_level);
}

void
log_msg(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

static void log_sink(void *arg, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_sink(void *arg, int level, const char *fmt, va_list ap)
{
    (void)arg;
    log_vmsg(level, fmt, ap);
}

struct xsmtp_logger
log_logger(void)
{
    return (struct xsmtp_logger){log_sink, NULL};
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    char out[LOG_LINE_MAX + 128];
    int len;

    if (!log_enabled(level))
        return;
    len = vsnprintf(line, sizeof line, fmt, ap);
    if (len < 0)
        return;
    for (char *p = line; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';

    if (atomic_load(&log_state.opened))
        syslog(LOG_MAKEPRI(atomic_load(&log_state.facility), level), "%s", line);

    if (atomic_load(&log_state.also_stderr)) {
        len = snprintf(out, sizeof out, "%s[%ld]: %s: %s\n", log_state.ident, (long)getpid(),
                       log_level_name(level), line);
        if (len > 0) {
            size_t n = (size_t)len < sizeof out ? (size_t)len : sizeof out - 1;
            out[n - 1] = '\n'; /* a truncated line still ends the line */
            /* One write per line keeps lines from concurrent threads whole. */
            ssize_t written = write(STDERR_FILENO, out, n);
            (void)written;
        }
    }
}
