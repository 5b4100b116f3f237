/*
 * confload.c -- the libconfuse loader (confload.h).
 *
 * The load in progress is reachable from libconfuse's callbacks only
 * through confload_current, which is set under confload_lock for the
 * duration of one cfg_parse_buf() call.
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

#include "hash/util/confload.h"

/* libconfuse's scanner is not reentrant: one parse at a time, process-wide. */
static pthread_mutex_t confload_lock = PTHREAD_MUTEX_INITIALIZER;
/* The load whose cfg_parse_buf() is running; guarded by confload_lock. */
static struct confload *confload_current;

/* libconfuse messages that name an option, and what we say instead. */
static const struct {
    const char *format;
    const char *text;
} confload_messages[] = {
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

void
confload_report(struct confload *load, int line, const char *subject, const char *text)
{
    load->problems++;
    if (load->problem != NULL)
        load->problem(load->arg, line > 0 ? line : 0, subject, text);
}

static void confload_reportf(struct confload *load, int line, const char *subject, const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));

static void
confload_reportf(struct confload *load, int line, const char *subject, const char *fmt, ...)
{
    char text[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    confload_report(load, line, subject, text);
}

int
confload_line(const struct confload *load, const char *name)
{
    for (size_t i = 0; i < load->line_count; i++)
        if (strcmp(load->lines[i].name, name) == 0)
            return load->lines[i].line;
    return 0;
}

/* "option" at the top level, "section.option" inside a section. */
static void
confload_qualified_name(cfg_t *cfg, const char *option, char *out, size_t outsz)
{
    const char *section = cfg_name(cfg);

    if (section == NULL || strcmp(section, "root") == 0)
        snprintf(out, outsz, "%s", option != NULL ? option : "?");
    else
        snprintf(out, outsz, "%s.%s", section, option != NULL ? option : "?");
}

/* libconfuse's error function: one problem per message (printf-style for
 * the compiler too, so -Wformat-nonliteral holds). */
static void confload_error(cfg_t *cfg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
confload_error(cfg_t *cfg, const char *fmt, va_list ap)
{
    struct confload *load = confload_current;
    char subject[CONFLOAD_NAME_MAX];
    char text[512];
    int line = cfg != NULL ? cfg->line : 0;

    if (load == NULL)
        return;
    for (size_t i = 0; i < sizeof confload_messages / sizeof confload_messages[0]; i++) {
        if (fmt != NULL && strcmp(fmt, confload_messages[i].format) == 0) {
            const char *option = va_arg(ap, const char *);
            confload_qualified_name(cfg, option, subject, sizeof subject);
            confload_report(load, line, subject, confload_messages[i].text);
            return;
        }
    }
    vsnprintf(text, sizeof text, fmt != NULL ? fmt : "error", ap);
    confload_report(load, line, "syntax", text);
}

/* Validate callback on every option: remembers where it was set. */
static int
confload_record(cfg_t *cfg, cfg_opt_t *opt)
{
    struct confload *load = confload_current;
    char name[CONFLOAD_NAME_MAX];
    struct confload_line *entry = NULL;

    if (load == NULL)
        return 0;
    confload_qualified_name(cfg, cfg_opt_name(opt), name, sizeof name);
    for (size_t i = 0; i < load->line_count; i++)
        if (strcmp(load->lines[i].name, name) == 0)
            entry = &load->lines[i];
    if (entry == NULL) {
        if (load->line_count < CONFLOAD_OPTIONS_MAX) {
            entry = &load->lines[load->line_count++];
            snprintf(entry->name, sizeof entry->name, "%s", name);
            entry->line = cfg->line;
            entry->count = 1;
        }
        return 0;
    }
    /* libconfuse calls this once per list element, so only scalars and
     * sections can be told apart as "set twice". */
    entry->count++;
    if (opt->type != CFGT_SEC && (opt->flags & CFGF_LIST) != 0)
        return 0;
    if (!load->refuse_repeats)
        entry->line = cfg->line;
    else if (opt->type == CFGT_SEC)
        confload_reportf(load, cfg->line, name, "section given twice (first ends on line %d)",
                         entry->line);
    else
        confload_reportf(load, cfg->line, name, "given twice (first on line %d)", entry->line);
    return 0;
}

/* Reads the whole file into a NUL-terminated buffer. */
static char *
confload_read(struct confload *load, const char *path)
{
    struct stat info;
    char *text = NULL;
    size_t used = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        confload_reportf(load, 0, "file", "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode)) {
        confload_report(load, 0, "file", "not a regular file");
        goto fail;
    }
    if ((info.st_mode & S_IWOTH) != 0) {
        confload_reportf(load, 0, "file", "writable by everyone (mode %04o): refused",
                         (unsigned)(info.st_mode & 07777));
        goto fail;
    }
    if (info.st_size > CONFLOAD_FILE_MAX) {
        confload_reportf(load, 0, "file", "larger than %d bytes", CONFLOAD_FILE_MAX);
        goto fail;
    }
    text = malloc((size_t)info.st_size + 1);
    if (text == NULL) {
        confload_report(load, 0, "file", "out of memory");
        goto fail;
    }
    while (used < (size_t)info.st_size) {
        ssize_t got = read(fd, text + used, (size_t)info.st_size - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            confload_reportf(load, 0, "file", "cannot read: %s",
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
        confload_report(load, line, "syntax", "NUL byte in the file");
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
static void
confload_blank_comments(char *text)
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

/* Puts confload_record on every option of cfg, and on every option of
 * its sections ("section|option"). */
static void
confload_watch(cfg_t *cfg)
{
    char path[2 * CONFLOAD_NAME_MAX];

    for (unsigned i = 0; i < cfg_num(cfg); i++) {
        cfg_opt_t *opt = cfg_getnopt(cfg, i);

        cfg_set_validate_func(cfg, opt->name, confload_record);
        if (opt->type != CFGT_SEC || opt->subopts == NULL)
            continue;
        for (const cfg_opt_t *sub = opt->subopts; sub->name != NULL; sub++) {
            snprintf(path, sizeof path, "%s|%s", opt->name, sub->name);
            cfg_set_validate_func(cfg, path, confload_record);
        }
    }
}

xsmtp_status
confload_parse(struct confload *load, const char *path, cfg_t *cfg)
{
    unsigned problems_before = load->problems;
    char *text;
    int rc;

    load->line_count = 0;
    text = confload_read(load, path);
    if (text == NULL)
        return XSMTP_EIO;
    confload_blank_comments(text);

    pthread_mutex_lock(&confload_lock);
    cfg_set_error_function(cfg, confload_error);
    confload_watch(cfg);
    confload_current = load;
    rc = cfg_parse_buf(cfg, text);
    confload_current = NULL;
    pthread_mutex_unlock(&confload_lock);
    free(text);

    if (rc == CFG_SUCCESS)
        return XSMTP_OK;
    if (load->problems == problems_before)
        confload_report(load, 0, "syntax", "cannot parse the file");
    return XSMTP_EMALFORMED;
}
