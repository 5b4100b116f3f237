/*
 * identity_map.c -- loads and searches sign.identity_map (identity_map.h).
 *
 * Each entry holds one allocation ("address\0jid\0"); the array is sorted
 * once after loading and searched with bsearch.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/identity.h"
#include "milter/config/identity_map.h"

#define IDENTITY_MAP_LINE_MAX 1024
#define IDENTITY_MAP_ADDRESS_MAX (XSMTP_LOCAL_MAX + 1 + XSMTP_DOMAIN_MAX)

struct identity_map_loader {
    const char *path;
    identity_map_problem_fn problem;
    void *arg;
    unsigned problems;
};

static void identity_map_report(struct identity_map_loader *loader, unsigned line, const char *fmt,
                                ...) __attribute__((format(printf, 3, 4)));

static void
identity_map_report(struct identity_map_loader *loader, unsigned line, const char *fmt, ...)
{
    char text[512];
    char full[768];
    va_list ap;

    loader->problems++;
    if (loader->problem == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(full, sizeof full, "%s:%u: %s", loader->path, line, text);
    else
        snprintf(full, sizeof full, "%s: %s", loader->path, text);
    loader->problem(loader->arg, full);
}

static void
identity_map_lowercase(char *text)
{
    for (; *text != '\0'; text++)
        if (*text >= 'A' && *text <= 'Z')
            *text = (char)(*text - 'A' + 'a');
}

/* A mailbox local@domain without quoting; *reason on failure. */
static bool
identity_map_address_ok(const char *address, const char **reason)
{
    const char *at = strrchr(address, '@');
    size_t local_len;

    if (at == NULL) {
        *reason = "no '@'";
        return false;
    }
    local_len = (size_t)(at - address);
    if (local_len == 0 || local_len > XSMTP_LOCAL_MAX) {
        *reason = "local part must be 1..64 characters";
        return false;
    }
    for (const char *p = address; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("@\"<>,;()[]\\", c) != NULL) {
            *reason = "unsupported character in the local part";
            return false;
        }
    }
    return xsmtp_domain_check(at + 1, strlen(at + 1), reason) == XSMTP_OK;
}

static int
identity_map_compare(const void *left, const void *right)
{
    const struct identity_map_entry *a = left;
    const struct identity_map_entry *b = right;
    int order = strcmp(a->address, b->address);

    /* Ties by line, so duplicates come out in file order. */
    if (order != 0)
        return order;
    return a->line < b->line ? -1 : (a->line > b->line ? 1 : 0);
}

static int
identity_map_compare_key(const void *key, const void *element)
{
    const struct identity_map_entry *entry = element;
    return strcmp(key, entry->address);
}

void
identity_map_free(struct identity_map *map)
{
    if (map == NULL)
        return;
    for (size_t i = 0; i < map->count; i++)
        free((char *)map->entries[i].address);
    free(map->entries);
    free(map);
}

/* Parses one line into map (fields split in place); reports problems. */
static void
identity_map_line(struct identity_map_loader *loader, struct identity_map *map, size_t *capacity,
                  char *text, unsigned line)
{
    char *fields[3] = {NULL, NULL, NULL};
    size_t count = 0;
    char jid[XSMTP_IDENTITY_SIZE];
    const char *reason = NULL;
    char *p = text;

    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            break;
        if (count < 3)
            fields[count] = p;
        count++;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (*p != '\0')
            *p++ = '\0';
    }
    if (count == 0)
        return;
    if (count != 2) {
        identity_map_report(loader, line, "expected 'email-address JID', found %zu field%s", count,
                            count == 1 ? "" : "s");
        return;
    }
    identity_map_lowercase(fields[0]);
    if (strlen(fields[0]) > IDENTITY_MAP_ADDRESS_MAX ||
        !identity_map_address_ok(fields[0], &reason)) {
        identity_map_report(loader, line, "bad address '%s' (%s)", fields[0],
                            reason != NULL ? reason : "too long");
        return;
    }
    if (xsmtp_identity_parse(fields[1], strlen(fields[1]), jid, sizeof jid, &reason) != XSMTP_OK) {
        identity_map_report(loader, line, "bad JID '%s' (%s)", fields[1],
                            reason != NULL ? reason : "malformed");
        return;
    }
    if (map->count == *capacity) {
        size_t grown = *capacity == 0 ? 64 : *capacity * 2;
        struct identity_map_entry *entries = realloc(map->entries, grown * sizeof *entries);
        if (entries == NULL) {
            identity_map_report(loader, line, "out of memory");
            return;
        }
        map->entries = entries;
        *capacity = grown;
    }
    {
        size_t address_len = strlen(fields[0]);
        size_t jid_len = strlen(jid);
        char *storage = malloc(address_len + 1 + jid_len + 1);
        if (storage == NULL) {
            identity_map_report(loader, line, "out of memory");
            return;
        }
        memcpy(storage, fields[0], address_len + 1);
        memcpy(storage + address_len + 1, jid, jid_len + 1);
        map->entries[map->count].address = storage;
        map->entries[map->count].jid = storage + address_len + 1;
        map->entries[map->count].line = line;
        map->count++;
    }
}

xsmtp_status
identity_map_load(const char *path, struct identity_map **out, identity_map_problem_fn problem,
                  void *arg)
{
    struct identity_map_loader loader = {path, problem, arg, 0};
    struct identity_map *map;
    char text[IDENTITY_MAP_LINE_MAX + 2];
    size_t capacity = 0;
    unsigned line = 0;
    FILE *file;

    *out = NULL;
    file = fopen(path, "re");
    if (file == NULL) {
        identity_map_report(&loader, 0, "cannot open: %s", strerror(errno));
        return XSMTP_EIO;
    }
    map = calloc(1, sizeof *map);
    if (map == NULL) {
        fclose(file);
        identity_map_report(&loader, 0, "out of memory");
        return XSMTP_ENOMEM;
    }
    while (fgets(text, sizeof text, file) != NULL) {
        size_t len = strlen(text);
        line++;
        if (len > 0 && text[len - 1] == '\n') {
            text[--len] = '\0';
        } else if (!feof(file)) {
            identity_map_report(&loader, line, "line longer than %d characters",
                                IDENTITY_MAP_LINE_MAX);
            int c;
            while ((c = fgetc(file)) != EOF && c != '\n')
                ;
            continue;
        }
        if (len > 0 && text[len - 1] == '\r')
            text[--len] = '\0';
        identity_map_line(&loader, map, &capacity, text, line);
    }
    if (ferror(file))
        identity_map_report(&loader, 0, "cannot read: %s", strerror(errno));
    fclose(file);

    if (map->count > 1)
        qsort(map->entries, map->count, sizeof map->entries[0], identity_map_compare);
    for (size_t i = 1, first = 0; i < map->count; i++) {
        const struct identity_map_entry *again = &map->entries[i];
        if (strcmp(map->entries[first].address, again->address) != 0) {
            first = i;
            continue;
        }
        identity_map_report(&loader, again->line, "address '%s' given twice (first on line %u)",
                            again->address, map->entries[first].line);
    }
    if (loader.problems > 0) {
        identity_map_free(map);
        return XSMTP_EMALFORMED;
    }
    *out = map;
    return XSMTP_OK;
}

const char *
identity_map_lookup(const struct identity_map *map, const char *address)
{
    char key[IDENTITY_MAP_ADDRESS_MAX + 1];
    size_t len;
    const struct identity_map_entry *found;

    if (map == NULL || address == NULL)
        return NULL;
    len = strlen(address);
    if (len > IDENTITY_MAP_ADDRESS_MAX)
        return NULL;
    memcpy(key, address, len + 1);
    identity_map_lowercase(key);
    found =
        bsearch(key, map->entries, map->count, sizeof map->entries[0], identity_map_compare_key);
    return found != NULL ? found->jid : NULL;
}
