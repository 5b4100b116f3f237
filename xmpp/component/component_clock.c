/*
 * component_clock.c -- the component's two clocks: monotonic nanoseconds
 * (rate limits, backoff, timers) and Unix seconds (the t of a token).
 * The fuzz harness brings fake ones instead (tests/fuzz/component_harness.c).
 */
#include "config.h"

#include <time.h>

#include "xmpp/component/component.h"

uint64_t
component_now_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

uint64_t
component_unix_time(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > 0 ? (uint64_t)now.tv_sec : 0;
}
