/*
 * Internal: samples as the drift functions use them — NaN dropped and
 * counted, optionally sorted — and the sort itself.
 */
#ifndef MLOPS_LIB_DRIFT_SAMPLE_H
#define MLOPS_LIB_DRIFT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mlops/drift.h"

/* A sample's values without NaN, in a buffer owned by the sample. */
typedef struct mlops__drift_sample {
    double *v;
    size_t n;    /* values kept */
    size_t nan;  /* NaN values dropped */
} mlops__drift_sample;

/* Copies x[0..n) without NaN into s (sorted ascending if sort != 0).
 * what names the sample in messages ("first sample"). Errors:
 * MLOPS_EINVALID (x NULL with n > 0, nothing left after dropping NaN),
 * MLOPS_ENOMEM. */
int mlops__drift_sample_init(mlops__drift_sample *s, const double *x, size_t n, int sort, const char *what);
/* Both samples, sorted, the second on a helper thread when both are large
 * (two-sample statistics spend most of their time sorting). On failure
 * neither holds anything. */
int mlops__drift_sample_init_pair(mlops__drift_sample *a, const double *x, size_t nx, const char *what_a,
                                  mlops__drift_sample *b, const double *y, size_t ny, const char *what_b);
void mlops__drift_sample_dispose(mlops__drift_sample *s);
/* MLOPS_EINVALID if the (NaN-free) sample holds +Inf or -Inf. */
int mlops__drift_sample_require_finite(const mlops__drift_sample *s, const char *what);

/* Fills a two-sample test's result: statistic, p-value, the method used
 * and the samples' sizes; the fields only some tests define (location,
 * sign, dof) NaN or 0. */
void mlops__drift_test_result(mlops_drift_test *out, double statistic, double pvalue, mlops_drift_method method,
                              const mlops__drift_sample *a, const mlops__drift_sample *b);

/* The IEEE-754 bits of d as an unsigned key that orders like d itself:
 * the sign bit flipped for positives, every bit for negatives, so that
 * -Inf < ... < -0 < +0 < ... < +Inf compare as integers (radix sorts). */
static inline uint64_t mlops__drift_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u & 0x8000000000000000ull) ? ~u : u | 0x8000000000000000ull;
}

/* In sorted x[0..n): how many values are below v (inclusive != 0: at
 * or below v); numpy's searchsorted, side "left" or "right". */
size_t mlops__drift_rank(const double *x, size_t n, double v, int inclusive);

/* Insertion sort, for the few values where a radix sort does not pay. */
void mlops__drift_insertion_sort(double *x, size_t n);

/* Sorts ascending (-Inf first, +Inf last; no NaN allowed): LSD radix sort
 * on the IEEE bits, insertion sort below 64 values. Errors: MLOPS_ENOMEM
 * (the scratch buffer). */
int mlops__drift_sort(double *x, size_t n);
/* Same, with a caller's scratch of n uint64_t (no allocation). */
void mlops__drift_sort_with(double *x, size_t n, uint64_t *scratch);
/* Sorts v ascending (no NaN) and moves w[i] with v[i], stably: the same
 * radix sort, with scratch of n keys and n weights. */
void mlops__drift_sort_weighted(double *v, double *w, size_t n, uint64_t *kscratch, double *wscratch);
/* Sorts category codes ascending (radix sort). Errors: MLOPS_ENOMEM. */
int mlops__drift_sort_codes(int64_t *codes, size_t n);

#endif
