/*
 * config_internal.h -- shared by the config_*.c files only.
 *
 * config_load.c parses the file with hash/util/confload.h, which
 * remembers on which line each option was set.  Each section module
 * (config_top.c, config_sign.c, config_verify.c, config_xmpp.c,
 * config_redis.c) supplies its option table, a validation function that
 * fills its part of `struct milter_config` and reports problems through
 * config_problem(), and a free function.
 */
#ifndef XSMTP_CONFIG_INTERNAL_H
#define XSMTP_CONFIG_INTERNAL_H

#include <confuse.h>
#include <stdbool.h>

#include "hash/util/confload.h"
#include "milter/config/config_diag.h"
#include "milter/config/milter_config.h"

/* One load in progress. */
struct config_check {
    const char *file; /* name used in problem lines */
    struct config_diag *diag;
    struct confload load; /* lines where options were set */
};

/* A section of the file: NULL name for the top level. */
struct config_section {
    const char *name;
    /* Option table, CFG_END()-terminated; libconfuse only copies it. */
    const cfg_opt_t *options;
    /* Reads cfg (the section), fills config, reports problems. */
    void (*validate)(struct config_check *check, cfg_t *cfg, struct milter_config *config);
    /* Frees what validate allocated (also after a failed validate). */
    void (*free)(struct milter_config *config);
};

extern const struct config_section config_section_top;
extern const struct config_section config_section_sign;

/* Line where the option "name" ("socket", "sign.keys") was set; 0 if not set. */
int config_option_line(const struct config_check *check, const char *name);

/* Reports a problem about option name at the line where it was set. */
void config_problem(struct config_check *check, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* strdup that reports "out of memory" against name; NULL value stays NULL. */
char *config_strdup(struct config_check *check, const char *name, const char *value);

/* Checks that value is an absolute path; reports against name otherwise. */
bool config_check_absolute(struct config_check *check, const char *name, const char *value);

#endif
