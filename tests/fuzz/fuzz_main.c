/*
 * fuzz_main.c -- runs a fuzz target without libFuzzer: every file named on
 * the command line (or every regular file of a directory named there) is
 * read whole and handed to LLVMFuzzerTestOneInput() once.
 *
 * This is how the seed corpora and the kept crashers (tests/fuzz/corpus/,
 * tests/fuzz/crashers/) run in every `make check`, with gcc and in the
 * ASan+UBSan pass of tools/test, so a fixed crash stays fixed even where
 * clang and libFuzzer are not installed.  With --enable-fuzzing the
 * targets link libFuzzer's own main() instead and this file is not built.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Reads path whole; NULL on error (reported). */
static uint8_t *
read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    uint8_t *data = NULL;
    long length;

    if (file == NULL) {
        perror(path);
        return NULL;
    }
    if (fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) >= 0 &&
        fseek(file, 0, SEEK_SET) == 0) {
        /* Exactly size bytes (plus none): an over-read shows up under ASan. */
        data = malloc(length > 0 ? (size_t)length : 1);
        if (data != NULL && length > 0 && fread(data, 1, (size_t)length, file) != (size_t)length) {
            free(data);
            data = NULL;
        }
        *size = (size_t)length;
    }
    if (data == NULL)
        fprintf(stderr, "%s: cannot read\n", path);
    fclose(file);
    return data;
}

static int
run_file(const char *path, unsigned long *count)
{
    size_t size = 0;
    uint8_t *data = read_file(path, &size);

    if (data == NULL)
        return 1;
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    ++*count;
    return 0;
}

static int
compare_names(const void *left, const void *right)
{
    return strcmp(*(char *const *)left, *(char *const *)right);
}

/* Runs every regular file of dir, in name order (reproducible output). */
static int
run_dir(const char *dir, unsigned long *count)
{
    DIR *handle = opendir(dir);
    struct dirent *entry;
    char **names = NULL, path[4096];
    size_t used = 0, capacity = 0;
    int failures = 0;
    struct stat info;

    if (handle == NULL) {
        perror(dir);
        return 1;
    }
    while ((entry = readdir(handle)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        if (used == capacity) {
            char **grown = realloc(names, (capacity = capacity * 2 + 16) * sizeof *names);
            if (grown == NULL)
                abort();
            names = grown;
        }
        if ((names[used++] = strdup(entry->d_name)) == NULL)
            abort();
    }
    closedir(handle);
    if (used > 0)
        qsort(names, used, sizeof *names, compare_names);
    for (size_t i = 0; i < used; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &info) == 0 && S_ISREG(info.st_mode))
            failures += run_file(path, count);
        free(names[i]);
    }
    free(names);
    return failures;
}

int
main(int argc, char **argv)
{
    unsigned long count = 0;
    int failures = 0;
    struct stat info;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue; /* a libFuzzer option (-runs=0 ...): meaningless here */
        if (stat(argv[i], &info) != 0) {
            perror(argv[i]);
            failures++;
        } else if (S_ISDIR(info.st_mode)) {
            failures += run_dir(argv[i], &count);
        } else {
            failures += run_file(argv[i], &count);
        }
    }
    printf("%s: %lu inputs replayed, %d unreadable\n", argv[0], count, failures);
    return failures == 0 ? 0 : 1;
}
