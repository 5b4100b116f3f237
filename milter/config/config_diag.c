/*
 * config_diag.c -- collects configuration problems as single lines in the
 * format documented in config_diag.h.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/config/config_diag.h"

#define CONFIG_DIAG_LINE_MAX 1024

void
config_diag_init(struct config_diag *diag)
{
    memset(diag, 0, sizeof *diag);
}

void
config_diag_clear(struct config_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++)
        free(diag->lines[i]);
    config_diag_init(diag);
}

size_t
config_diag_total(const struct config_diag *diag)
{
    return diag->count + diag->dropped;
}

void
config_diag_add(struct config_diag *diag, const char *file, int line, const char *subject,
                const char *fmt, ...)
{
    char text[CONFIG_DIAG_LINE_MAX];
    char *out;
    size_t used;
    va_list ap;
    int n;

    if (diag->count >= CONFIG_DIAG_MAX) {
        diag->dropped++;
        return;
    }
    if (line > 0)
        n = snprintf(text, sizeof text, "%s:%d: %s: ", file, line, subject);
    else
        n = snprintf(text, sizeof text, "%s: %s: ", file, subject);
    used = n < 0 ? 0 : ((size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    va_start(ap, fmt);
    vsnprintf(text + used, sizeof text - used, fmt, ap);
    va_end(ap);
    /* One problem, one line: values from the file may hold anything. */
    for (char *p = text; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    out = strdup(text);
    if (out == NULL) {
        diag->dropped++;
        return;
    }
    diag->line_numbers[diag->count] = line > 0 ? line : 0;
    diag->lines[diag->count++] = out;
}

static int
config_diag_key(int line)
{
    return line > 0 ? line : INT_MAX;
}

void
config_diag_sort(struct config_diag *diag, size_t first)
{
    /* Insertion sort: a handful of lines, and it is stable. */
    for (size_t i = first + 1; i < diag->count; i++) {
        char *text = diag->lines[i];
        int line = diag->line_numbers[i];
        size_t j = i;

        while (j > first && config_diag_key(diag->line_numbers[j - 1]) > config_diag_key(line)) {
            diag->lines[j] = diag->lines[j - 1];
            diag->line_numbers[j] = diag->line_numbers[j - 1];
            j--;
        }
        diag->lines[j] = text;
        diag->line_numbers[j] = line;
    }
}

void
config_diag_each(const struct config_diag *diag, const char *file,
                 void (*emit)(void *arg, const char *line), void *arg)
{
    char more[CONFIG_DIAG_LINE_MAX];

    for (size_t i = 0; i < diag->count; i++)
        emit(arg, diag->lines[i]);
    if (diag->dropped > 0) {
        snprintf(more, sizeof more, "%s: file: %zu more problems not shown", file, diag->dropped);
        emit(arg, more);
    }
}
