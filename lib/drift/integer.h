/* Internal: integer helpers of the exact distributions. */
#ifndef MLOPS_LIB_DRIFT_INTEGER_H
#define MLOPS_LIB_DRIFT_INTEGER_H

#include <stdint.h>

/* Greatest common divisor (Euclid); gcd(a, 0) = a. */
static inline uint64_t mlops__drift_gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

#endif
