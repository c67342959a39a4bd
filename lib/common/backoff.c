/* The randomized wait of compare-and-swap loops (backoff.h). */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"

uint64_t mlops__backoff_seed(const void *where)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)getpid() << 16) ^
                 (uint64_t)(uintptr_t)where;
    return s ? s : 0x9e3779b97f4a7c15u;
}

void mlops__backoff_sleep(uint64_t *seed, unsigned attempt)
{
    uint64_t x = *seed; /* xorshift64: cheap, and never 0 from a non-zero seed */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *seed = x;
    unsigned shift = attempt < 6 ? attempt : 6;
    struct timespec ts = { 0, (long)(x % ((uint64_t)100 << shift)) * 1000 };
    nanosleep(&ts, NULL);
}
