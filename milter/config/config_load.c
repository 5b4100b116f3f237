/*
 * config_load.c -- reads the configuration file with libconfuse and runs
 * the section validators (milter_config.h, config_internal.h).
 *
 * Two libconfuse 3.3 traits shape this file:
 *  - It keeps no line number per option, and it miscounts lines after '#'
 *    comments (each one adds two phantom lines).  So we read the file
 *    ourselves, blank out '#' comments (keeping every newline), and parse
 *    the buffer; line numbers are then exact.  A validate callback on every
 *    option records where it was set.
 *  - Its scanner keeps global state and its callbacks carry no user
 *    pointer.  Parsing is therefore serialized by config_parse_lock, and
 *    the load in progress is reachable from the callbacks only through
 *    config_parse_current, which is set under that lock for the duration of
 *    one cfg_parse_buf() call.
 * Unknown options are refused (cfg_init with CFGF_NONE); libconfuse's own
 * messages are rewritten into our one-line format (config_diag.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter/config/config_internal.h"
#include "milter/config/milter_config.h"

/* A configuration file is a few kilobytes; anything this big is a mistake. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* The verifier's sections (config_verify.c, config_xmpp.c, config_redis.c). */
extern const struct config_section config_section_verify;
extern const struct config_section config_section_notify;
extern const struct config_section config_section_xmpp;
extern const struct config_section config_section_redis;

/* Sections in file order; the top level first (later ones may use its values). */
static const struct config_section *const config_sections[] = {
    &config_section_top,
    &config_section_sign,
    &config_section_verify,
    &config_section_notify,
    &config_section_xmpp,
    &config_section_redis,
};
#define CONFIG_SECTION_COUNT (sizeof config_sections / sizeof config_sections[0])

/* libconfuse's scanner is not reentrant: one parse at a time, process-wide. */
static pthread_mutex_t config_parse_lock = PTHREAD_MUTEX_INITIALIZER;
/* The load whose cfg_parse_buf() is running; guarded by config_parse_lock. */
static struct config_check *config_parse_current;

/* libconfuse messages that name an option, and what we say instead. */
static const struct {
    const char *format;
    const char *text;
} config_confuse_messages[] = {
    {"no such option '%s'", "unknown option"},
    {"missing equal sign after option '%s'", "missing '=' after the option name"},
    {"missing opening brace for section '%s'", "missing '{' after the section name"},
    {"attempt to append to non-list option '%s'", "'+=' used on an option that is not a list"},
    {"invalid integer value for option '%s'", "not an integer"},
    {"integer value for option '%s' is out of range", "integer out of range"},
    {"invalid floating point value for option '%s'", "not a number"},
    {"floating point value for option '%s' is out of range", "number out of range"},
    {"invalid boolean value for option '%s'", "not a boolean (true or false)"},
    {"duplicate option '%s' not allowed", "given twice"},
};

int config_option_line(const struct config_check *check, const char *name)
{
    for (size_t i = 0; i < check->line_count; i++)
        if (strcmp(check->lines[i].name, name) == 0)
            return check->lines[i].line;
    return 0;
}

void config_problem(struct config_check *check, const char *name, const char *fmt, ...)
{
    char text[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    config_diag_add(check->diag, check->file, config_option_line(check, name), name, "%s",
                    text);
}

char *config_strdup(struct config_check *check, const char *name, const char *value)
{
    char *copy;

    if (value == NULL)
        return NULL;
    copy = strdup(value);
    if (copy == NULL)
        config_problem(check, name, "out of memory");
    return copy;
}

bool config_check_absolute(struct config_check *check, const char *name, const char *value)
{
    if (value != NULL && value[0] == '/')
        return true;
    config_problem(check, name, "not an absolute path '%s'", value != NULL ? value : "");
    return false;
}

/* "option" at the top level, "section.option" inside a section. */
static void config_qualified_name(cfg_t *cfg, const char *option, char *out, size_t outsz)
{
    const char *section = cfg_name(cfg);

    if (section == NULL || strcmp(section, "root") == 0)
        snprintf(out, outsz, "%s", option != NULL ? option : "?");
    else
        snprintf(out, outsz, "%s.%s", section, option != NULL ? option : "?");
}

/* libconfuse error function: one problem line per message. */
/* libconfuse's own printf-style message (so -Wformat-nonliteral holds). */
static void config_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void config_confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    struct config_check *check = config_parse_current;
    char subject[CONFIG_NAME_MAX];
    char text[512];
    int line = cfg != NULL ? cfg->line : 0;

    if (check == NULL)
        return;
    for (size_t i = 0; i < sizeof config_confuse_messages / sizeof config_confuse_messages[0];
         i++) {
        if (fmt != NULL && strcmp(fmt, config_confuse_messages[i].format) == 0) {
            const char *option = va_arg(ap, const char *);
            config_qualified_name(cfg, option, subject, sizeof subject);
            config_diag_add(check->diag, check->file, line, subject, "%s",
                            config_confuse_messages[i].text);
            return;
        }
    }
    vsnprintf(text, sizeof text, fmt != NULL ? fmt : "error", ap);
    config_diag_add(check->diag, check->file, line, "syntax", "%s", text);
}

/* Validate callback on every option: remembers where it was set. */
static int config_record_option(cfg_t *cfg, cfg_opt_t *opt)
{
    struct config_check *check = config_parse_current;
    char name[CONFIG_NAME_MAX];
    struct config_option_line *entry = NULL;

    if (check == NULL)
        return 0;
    config_qualified_name(cfg, cfg_opt_name(opt), name, sizeof name);
    for (size_t i = 0; i < check->line_count; i++)
        if (strcmp(check->lines[i].name, name) == 0)
            entry = &check->lines[i];
    if (entry == NULL) {
        if (check->line_count < CONFIG_OPTIONS_MAX) {
            entry = &check->lines[check->line_count++];
            snprintf(entry->name, sizeof entry->name, "%s", name);
            entry->line = cfg->line;
            entry->count = 1;
        }
        return 0;
    }
    /* libconfuse calls this once per list element, so only scalars and
     * sections can be told apart as "given twice". */
    entry->count++;
    if (opt->type == CFGT_SEC)
        config_diag_add(check->diag, check->file, cfg->line, name,
                        "section given twice (first ends on line %d)", entry->line);
    else if ((opt->flags & CFGF_LIST) == 0)
        config_diag_add(check->diag, check->file, cfg->line, name,
                        "given twice (first on line %d)", entry->line);
    return 0;
}

/* Reads the whole file into a NUL-terminated buffer. */
static char *config_read_file(const char *path, struct config_check *check)
{
    struct stat info;
    char *text = NULL;
    size_t used = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        config_diag_add(check->diag, check->file, 0, "file", "cannot open: %s",
                        strerror(errno));
        return NULL;
    }
    if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode)) {
        config_diag_add(check->diag, check->file, 0, "file", "not a regular file");
        goto fail;
    }
    if ((info.st_mode & S_IWOTH) != 0) {
        config_diag_add(check->diag, check->file, 0, "file",
                        "writable by everyone (mode %04o): refused",
                        (unsigned)(info.st_mode & 07777));
        goto fail;
    }
    if (info.st_size > CONFIG_FILE_MAX) {
        config_diag_add(check->diag, check->file, 0, "file", "larger than %d bytes",
                        CONFIG_FILE_MAX);
        goto fail;
    }
    text = malloc((size_t)info.st_size + 1);
    if (text == NULL) {
        config_diag_add(check->diag, check->file, 0, "file", "out of memory");
        goto fail;
    }
    while (used < (size_t)info.st_size) {
        ssize_t got = read(fd, text + used, (size_t)info.st_size - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            config_diag_add(check->diag, check->file, 0, "file", "cannot read: %s",
                            got < 0 ? strerror(errno) : "file shrank while reading");
            goto fail;
        }
        used += (size_t)got;
    }
    text[used] = '\0';
    if (strlen(text) != used) {
        int line = 1;
        for (const char *p = text; *p != '\0'; p++)
            line += *p == '\n';
        config_diag_add(check->diag, check->file, line, "syntax", "NUL byte in the file");
        goto fail;
    }
    close(fd);
    return text;
fail:
    free(text);
    close(fd);
    return NULL;
}

/*
 * Overwrites '#' comments with spaces, newlines kept, following the
 * scanner's rules: '#' outside a quoted string or ${...} always starts a
 * comment (an unquoted word cannot contain '#').  "//" and C comments are
 * left to libconfuse.
 */
static void config_blank_comments(char *text)
{
    enum { PLAIN, DOUBLE_QUOTED, SINGLE_QUOTED, ENV_VAR } state = PLAIN;

    for (char *p = text; *p != '\0'; p++) {
        switch (state) {
        case PLAIN:
            if (*p == '#') {
                while (*p != '\0' && *p != '\n')
                    *p++ = ' ';
                if (*p == '\0')
                    return;
            } else if (*p == '"') {
                state = DOUBLE_QUOTED;
            } else if (*p == '\'') {
                state = SINGLE_QUOTED;
            } else if (p[0] == '$' && p[1] == '{') {
                state = ENV_VAR;
                p++;
            }
            break;
        case DOUBLE_QUOTED:
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                state = PLAIN;
            break;
        case SINGLE_QUOTED:
            if (*p == '\\' && (p[1] == '\\' || p[1] == '\'' || p[1] == '\n'))
                p++;
            else if (*p == '\'')
                state = PLAIN;
            break;
        case ENV_VAR:
            if (*p == '}')
                state = PLAIN;
            break;
        }
    }
}

/* Builds the option tree from the section table; cfg_init copies it. */
static cfg_t *config_schema_init(void)
{
    cfg_opt_t root[CONFIG_OPTIONS_MAX];
    size_t count = 0;
    cfg_t *cfg;

    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
        const struct config_section *section = config_sections[s];
        if (section->name != NULL)
            continue;
        for (const cfg_opt_t *opt = section->options; opt->name != NULL; opt++)
            if (count < CONFIG_OPTIONS_MAX - CONFIG_SECTION_COUNT - 1)
                root[count++] = *opt;
    }
    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
        const struct config_section *section = config_sections[s];
        if (section->name == NULL)
            continue;
        /* libconfuse wants a mutable pointer but only reads and copies. */
        root[count++] = (cfg_opt_t)CFG_SEC(section->name, (cfg_opt_t *)section->options,
                                           CFGF_NONE);
    }
    root[count++] = (cfg_opt_t)CFG_END();
    cfg = cfg_init(root, CFGF_NONE);
    if (cfg == NULL)
        return NULL;
    cfg_set_error_function(cfg, config_confuse_error);
    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
        const struct config_section *section = config_sections[s];
        char path[CONFIG_NAME_MAX];
        if (section->name != NULL)
            cfg_set_validate_func(cfg, section->name, config_record_option);
        for (const cfg_opt_t *opt = section->options; opt->name != NULL; opt++) {
            if (section->name != NULL)
                snprintf(path, sizeof path, "%s|%s", section->name, opt->name);
            else
                snprintf(path, sizeof path, "%s", opt->name);
            cfg_set_validate_func(cfg, path, config_record_option);
        }
    }
    return cfg;
}

void config_free(struct milter_config *config)
{
    if (config == NULL)
        return;
    for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++)
        config_sections[s]->free(config);
    free(config->path);
    free(config);
}

xsmtp_status config_load(const char *path, const char *display_path,
                         struct milter_config **out, struct config_diag *diag)
{
    struct config_check *check;
    struct milter_config *config = NULL;
    size_t problems_before = config_diag_total(diag);
    size_t first_line = diag->count;
    char *text;
    cfg_t *cfg;
    int rc;

    *out = NULL;
    check = calloc(1, sizeof *check);
    if (check == NULL) {
        config_diag_add(diag, display_path != NULL ? display_path : path, 0, "file",
                        "out of memory");
        return XSMTP_ENOMEM;
    }
    check->file = display_path != NULL ? display_path : path;
    check->diag = diag;
    text = config_read_file(path, check);
    if (text == NULL) {
        free(check);
        return XSMTP_EIO;
    }
    config_blank_comments(text);

    pthread_mutex_lock(&config_parse_lock);
    cfg = config_schema_init();
    if (cfg == NULL) {
        pthread_mutex_unlock(&config_parse_lock);
        config_diag_add(diag, check->file, 0, "file", "cannot set up the parser");
        free(text);
        free(check);
        return XSMTP_ENOMEM;
    }
    config_parse_current = check;
    rc = cfg_parse_buf(cfg, text);
    config_parse_current = NULL;
    pthread_mutex_unlock(&config_parse_lock);
    free(text);

    if (rc != CFG_SUCCESS && config_diag_total(diag) == problems_before)
        config_diag_add(diag, check->file, 0, "syntax", "cannot parse the file");
    if (rc == CFG_SUCCESS) {
        config = calloc(1, sizeof *config);
        if (config == NULL) {
            config_diag_add(diag, check->file, 0, "file", "out of memory");
        } else {
            config->path = config_strdup(check, "file", path);
            for (size_t s = 0; s < CONFIG_SECTION_COUNT; s++) {
                const struct config_section *section = config_sections[s];
                cfg_t *section_cfg =
                    section->name != NULL ? cfg_getsec(cfg, section->name) : cfg;
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

const char *config_mode_text(unsigned mode)
{
    switch (mode & (MILTER_MODE_SIGN | MILTER_MODE_VERIFY)) {
    case MILTER_MODE_SIGN:
        return "sign";
    case MILTER_MODE_VERIFY:
        return "verify";
    case MILTER_MODE_SIGN | MILTER_MODE_VERIFY:
        return "sign+verify";
    default:
        return "none";
    }
}
