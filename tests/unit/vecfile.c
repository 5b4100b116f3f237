/*
 * vecfile.c -- reader for the .vec files of tests/data/vectors (see the header).
 *
 * Deliberately independent of libxsmtp: it only undoes the %b escaping the
 * generator used, so a bug in the library cannot leak into the expected
 * values.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/vecfile.h"

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes escaped[0..len) into a new buffer; NULL on a bad escape. */
static char *
unescape(const char *escaped, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    size_t used = 0;

    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < len; i++) {
        if (escaped[i] != '\\') {
            out[used++] = escaped[i];
            continue;
        }
        if (++i == len)
            goto bad;
        switch (escaped[i]) {
        case 'r': out[used++] = '\r'; break;
        case 'n': out[used++] = '\n'; break;
        case 't': out[used++] = '\t'; break;
        case '\\': out[used++] = '\\'; break;
        case 'x': {
            int high = i + 1 < len ? hex_value(escaped[i + 1]) : -1;
            int low = i + 2 < len ? hex_value(escaped[i + 2]) : -1;
            if (high < 0 || low < 0)
                goto bad;
            out[used++] = (char)(high * 16 + low);
            i += 2;
            break;
        }
        default: goto bad;
        }
    }
    out[used] = '\0';
    *out_len = used;
    return out;
bad:
    free(out);
    return NULL;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

size_t
vecfile_list(char names[][128], size_t max)
{
    char dir_path[512];
    snprintf(dir_path, sizeof dir_path, "%s/vectors", TEST_DATA_DIR);
    /* Called from main, outside any test: report on stderr, not with ck_assert. */
    DIR *dir = opendir(dir_path);
    if (dir == NULL) {
        fprintf(stderr, "cannot open %s\n", dir_path);
        return 0;
    }

    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 5 || strcmp(entry->d_name + len - 4, ".vec") != 0)
            continue;
        if (count == max || len >= 128) {
            fprintf(stderr, "%s: too many vectors or name too long\n", dir_path);
            closedir(dir);
            return 0;
        }
        memcpy(names[count++], entry->d_name, len + 1);
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], compare_names);
    return count;
}

void
vecfile_load(const char *name, struct vecfile *vec)
{
    memset(vec, 0, sizeof *vec);
    snprintf(vec->path, sizeof vec->path, "%s/vectors/%s", TEST_DATA_DIR, name);
    FILE *file = fopen(vec->path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", vec->path);

    char *line = NULL;
    size_t capacity = 0;
    ssize_t got;
    size_t line_number = 0;
    while ((got = getline(&line, &capacity, file)) >= 0) {
        line_number++;
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        char *colon = strchr(line, ':');
        ck_assert_msg(colon != NULL && colon[1] == ' ', "%s:%zu: not 'key: value'", vec->path,
                      line_number);
        ck_assert_msg(vec->field_count < VECFILE_FIELDS_MAX, "%s: too many fields", vec->path);
        struct vecfile_field *field = &vec->fields[vec->field_count++];
        field->key = strndup(line, (size_t)(colon - line));
        ck_assert_ptr_nonnull(field->key);
        const char *escaped = colon + 2;
        field->value = unescape(escaped, len - (size_t)(escaped - line), &field->value_len);
        ck_assert_msg(field->value != NULL, "%s:%zu: bad escape", vec->path, line_number);
    }
    free(line);
    fclose(file);
}

const char *
vecfile_get(const struct vecfile *vec, const char *key, size_t *len)
{
    for (size_t i = 0; i < vec->field_count; i++) {
        if (strcmp(vec->fields[i].key, key) == 0) {
            if (len != NULL)
                *len = vec->fields[i].value_len;
            return vec->fields[i].value;
        }
    }
    ck_abort_msg("%s: no field '%s'", vec->path, key);
    return NULL;
}

void
vecfile_free(struct vecfile *vec)
{
    for (size_t i = 0; i < vec->field_count; i++) {
        free(vec->fields[i].key);
        free(vec->fields[i].value);
    }
    vec->field_count = 0;
}
