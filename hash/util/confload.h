/*
 * confload.h -- reading a configuration file with libconfuse: the one
 * loader both daemons use.
 *
 * libconfuse 3.3 keeps no line number per option, and its line counter
 * drifts after '#' comments (each one adds two phantom lines).  So the
 * file is read here (a regular file, not writable by everyone, at most
 * CONFLOAD_FILE_MAX bytes, no NUL), '#' comments are blanked with their
 * newlines kept, and the buffer is parsed: line numbers are then exact,
 * and a validate callback on every option records where it was set.
 * libconfuse's scanner keeps global state and its callbacks carry no user
 * pointer, so parsing is serialized by one process-wide lock.
 *
 * Problems come out through the caller's callback, one at a time, with
 * the line they are on (0 when there is none: the file as a whole);
 * libconfuse's own messages are rewritten ("no such option 'x'" becomes
 * "x: unknown option").  Unknown options are always refused.
 */
#ifndef XSMTP_CONFLOAD_H
#define XSMTP_CONFLOAD_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

#include "hash/util/status.h"

#define CONFLOAD_FILE_MAX (1024 * 1024) /* a configuration is a few kilobytes */
#define CONFLOAD_NAME_MAX 64            /* "section.option" */
#define CONFLOAD_OPTIONS_MAX 128        /* options across all sections */

/*
 * One problem.  subject: the option's full name ("socket",
 * "sign.internal_hosts"), "syntax" for one not tied to an option, "file"
 * for the file itself.  line: 1-based, 0 when there is none.  text: what
 * is wrong, without a line end.
 */
typedef void confload_problem_fn(void *arg, int line, const char *subject, const char *text);

/* Where an option was set, and how often. */
struct confload_line {
    char name[CONFLOAD_NAME_MAX];
    int line;
    unsigned count;
};

struct confload {
    /* Set by the caller. */
    confload_problem_fn *problem;
    void *arg;
    bool refuse_repeats; /* a scalar or section set twice is a problem (else
                             * the last one counts, as libconfuse has it) */
    /* Filled by confload_parse. */
    struct confload_line lines[CONFLOAD_OPTIONS_MAX];
    size_t line_count;
    unsigned problems; /* reported so far */
};

/*
 * Parses the file at path into cfg (made by cfg_init with CFGF_NONE; up to
 * one level of sections).  XSMTP_OK: cfg holds the values and
 * load->problems may still be > 0 (options set twice).  XSMTP_EIO: the
 * file could not be used; XSMTP_EMALFORMED: libconfuse refused it;
 * XSMTP_ENOMEM.  Every failure has been reported through load->problem.
 */
xsmtp_status confload_parse(struct confload *load, const char *path, cfg_t *cfg);

/* Line where option name ("socket", "sign.keys") was set; 0 if not set. */
int confload_line(const struct confload *load, const char *name);

/* Reports one more problem through load->problem (and counts it). */
void confload_report(struct confload *load, int line, const char *subject, const char *text);

#endif
