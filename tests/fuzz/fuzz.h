/*
 * fuzz.h -- what every fuzz target (tests/fuzz/fuzz_*.c) provides, and the
 * check that stops a run when an invariant breaks.
 *
 * Each target defines LLVMFuzzerTestOneInput() and LLVMFuzzerInitialize()
 * (the latter may do nothing).  They link either libFuzzer (configure
 * --enable-fuzzing, `make fuzz`) or fuzz_main.c, which replays corpus
 * files in `make check`.  FUZZ_CHECK aborts: libFuzzer then keeps the
 * input as a crasher, and the replay fails the test.
 */
#ifndef XSMTP_FUZZ_H
#define XSMTP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) { \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
            abort(); \
        } \
    } while (0)

#endif
