/*
 * config_load.c -- reads the configuration file (hash/util/confload.h:
 * exact line numbers, unknown options refused, an option set twice
 * refused) and runs the section validators (milter_config.h,
 * config_internal.h).  Problems become lines in the format of
 * config_diag.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/util/confload.h"
#include "milter/config/config_internal.h"
#include "milter/config/milter_config.h"

/* The verifier's sections (config_verify.c, config_xmpp.c, config_redis.c). */
extern const struct config_section config_section_verify;
extern const struct config_section config_section_notify;
extern const struct config_section config_section_xmpp;
extern const struct config_section config_section_redis;

/* Sections in file order; the top level first (later ones may use its values). */
static const struct config_section *const config_sections[] = {
    &config_section_top,    &config_section_sign, &config_section_verify,
    &config_section_notify, &config_section_xmpp, &config_section_redis,
};
#define CONFIG_SECTION_COUNT (sizeof config_sections / sizeof config_sections[0])

int
config_option_line(const struct config_check *check, const char *name)
{
    return confload_line(&check->load, name);
}

void
config_problem(struct config_check *check, const char *name, const char *fmt, ...)
{
    char text[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    config_diag_add(check->diag, check->file, config_option_line(check, name), name, "%s", text);
}

char *
config_strdup(struct config_check *check, const char *name, const char *value)
{
    char *copy;

    if (value == NULL)
        return NULL;
    copy = strdup(value);
    if (copy == NULL)
        config_problem(check, name, "out of memory");
    return copy;
}

bool
config_check_absolute(struct config_check *check, const char *name, const char *value)
{
    if (value != NULL && value[0] == '/')
        return true;
    config_problem(check, name, "not an absolute path '%s'", value != NULL ? value : "");
    return false;
}

/* confload's problems become lines of the diag. */
static void
config_confload_problem(void *arg, int line, const char *subject, const char *text)
{
    struct config_check *check = arg;

    config_diag_add(check->diag, check->file, line, subject, "%s", text);
}

/* Builds the option tree from the section table; cfg_init copies it. */
static cfg_t *
config_schema_init(void)
{
    cfg_opt_t root[CONFLOAD_OPTIONS_MAX];
    size_t count = 0;

    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
        const struct config_section *section = config_sections[s];
        if (section->name != NULL)
            continue;
        for (const cfg_opt_t *opt = section->options; opt->name != NULL; opt++)
            if (count < CONFLOAD_OPTIONS_MAX - CONFIG_SECTION_COUNT - 1)
                root[count++] = *opt;
    }
    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
        const struct config_section *section = config_sections[s];
        if (section->name == NULL)
            continue;
        /* libconfuse wants a mutable pointer but only reads and copies. */
        root[count++] = (cfg_opt_t)CFG_SEC(section->name, (cfg_opt_t *)section->options, CFGF_NONE);
    }
    root[count++] = (cfg_opt_t)CFG_END();
    return cfg_init(root, CFGF_NONE);
}

void
config_free(struct milter_config *config)
{
    if (config == NULL)
        return;
    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++)
        config_sections[s]->free(config);
    free(config->path);
    free(config);
}

xsmtp_status
config_load(const char *path, const char *display_path, struct milter_config **out,
            struct config_diag *diag)
{
    struct config_check *check;
    struct milter_config *config = NULL;
    size_t problems_before = config_diag_total(diag);
    size_t first_line = diag->count;
    xsmtp_status status;
    cfg_t *cfg;

    *out = NULL;
    check = calloc(1, sizeof *check);
    if (check == NULL) {
        config_diag_add(diag, display_path != NULL ? display_path : path, 0, "file",
                        "out of memory");
        return XSMTP_ENOMEM;
    }
    check->file = display_path != NULL ? display_path : path;
    check->diag = diag;
    check->load.problem = config_confload_problem;
    check->load.arg = check;
    check->load.refuse_repeats = true;
    cfg = config_schema_init();
    if (cfg == NULL) {
        config_diag_add(diag, check->file, 0, "file", "cannot set up the parser");
        free(check);
        return XSMTP_ENOMEM;
    }
    status = confload_parse(&check->load, path, cfg);
    if (status == XSMTP_EIO) {
        cfg_free(cfg);
        free(check);
        return XSMTP_EIO;
    }
    if (status == XSMTP_OK) {
        config = calloc(1, sizeof *config);
        if (config == NULL) {
            config_diag_add(diag, check->file, 0, "file", "out of memory");
        } else {
            config->path = config_strdup(check, "file", path);
            for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
                const struct config_section *section = config_sections[s];
                cfg_t *section_cfg = section->name != NULL ? cfg_getsec(cfg, section->name) : cfg;
                if (section_cfg != NULL)
                    section->validate(check, section_cfg, config);
            }
        }
    }
    cfg_free(cfg);
    free(check);
    if (config_diag_total(diag) != problems_before) {
        config_diag_sort(diag, first_line);
        config_free(config);
        return XSMTP_EMALFORMED;
    }
    *out = config;
    return XSMTP_OK;
}

const char *
config_mode_text(unsigned mode)
{
    switch (mode & (MILTER_MODE_SIGN | MILTER_MODE_VERIFY)) {
    case MILTER_MODE_SIGN: return "sign";
    case MILTER_MODE_VERIFY: return "verify";
    case MILTER_MODE_SIGN | MILTER_MODE_VERIFY: return "sign+verify";
    default: return "none";
    }
}
