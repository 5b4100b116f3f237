/*
 * fuzz_component_iq.c -- the component's handling of IQs: verify queries
 * (XSMTP-1 s6), disco#info (s5) and anything else a peer may send.
 *
 * Input: stanzas as XML text separated by NUL octets (see
 * component_harness.h for what is checked on every answer).
 */
#include "config.h"

#include "tests/fuzz/component_harness.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    harness_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_feed(data, size, "iq");
    return 0;
}
