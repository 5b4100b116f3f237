/*
 * fuzz_component_notice.c -- the component's handling of <message/>
 * stanzas, among them delivery-progress notices (XSMTP-1 s8).
 *
 * Input: stanzas as XML text separated by NUL octets (see
 * component_harness.h for what is checked on every headline sent).
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
    harness_feed(data, size, "message");
    return 0;
}
