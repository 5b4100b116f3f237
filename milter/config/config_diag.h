/*
 * config_diag.h -- configuration problems, one line each.
 *
 * Every problem found while loading a configuration (by libconfuse, by our
 * checks, or while loading the key table and identity map) becomes exactly
 * one line of this form:
 *
 *     FILE:LINE: SUBJECT: TEXT
 *     FILE: SUBJECT: TEXT          when there is no line to point at
 *
 * FILE     the configuration file as named on the command line (-c).
 * LINE     where the option is set (1-based); left out when the option is
 *          not in the file (a required option is missing) or the problem
 *          is about the file as a whole.
 * SUBJECT  the option's full name ("socket", "sign.internal_hosts"), or
 *          "syntax" for a syntax error not tied to an option, or "file" for
 *          the file itself (cannot be read, too big, unsafe permissions).
 * TEXT     what is wrong; the offending value is quoted in single quotes,
 *          e.g. "bad address '10.0.0.0/33'".  Control characters are
 *          written as '?', so a problem is always one line.
 *
 * The same lines are printed by `xsmtp-milter -t`, printed and logged when
 * the daemon refuses to start, and logged when a reload is refused.
 */
#ifndef XSMTP_CONFIG_DIAG_H
#define XSMTP_CONFIG_DIAG_H

#include <stddef.h>

/* More problems than this are counted, not kept (one fix often clears many). */
#define CONFIG_DIAG_MAX 50

struct config_diag {
    char *lines[CONFIG_DIAG_MAX];
    int line_numbers[CONFIG_DIAG_MAX]; /* LINE of each, 0 when left out */
    size_t count;                      /* lines kept */
    size_t dropped;                    /* problems beyond CONFIG_DIAG_MAX */
};

void config_diag_init(struct config_diag *diag);
/* Frees the lines; the diag can be reused after. */
void config_diag_clear(struct config_diag *diag);

/* Adds one problem; line <= 0 leaves LINE out. */
void config_diag_add(struct config_diag *diag, const char *file, int line, const char *subject,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Orders lines[first..count) by line number, stable, problems without a
 * line last: the file reads top to bottom whatever order checks ran in.
 */
void config_diag_sort(struct config_diag *diag, size_t first);

/* Total problems, kept or not. */
size_t config_diag_total(const struct config_diag *diag);

/*
 * Calls emit for every line, then once more with "N more problems not
 * shown" when some were dropped.
 */
void config_diag_each(const struct config_diag *diag, const char *file,
                      void (*emit)(void *arg, const char *line), void *arg);

#endif
