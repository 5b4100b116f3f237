/*
 * logger.c -- the library side of logging (logger.h).
 */
#include "config.h"

#include <stddef.h>

#include "hash/util/logger.h"

void
xsmtp_log(const struct xsmtp_logger *logger, int level, const char *fmt, ...)
{
    va_list ap;

    if (logger == NULL || logger->fn == NULL)
        return;
    va_start(ap, fmt);
    logger->fn(logger->arg, level, fmt, ap);
    va_end(ap);
}
