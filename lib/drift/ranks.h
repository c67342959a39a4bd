/*
 * Internal: what the rank tests (Mann-Whitney, Anderson-Darling k-sample,
 * Cramér-von Mises) share — a walk over k sorted samples pooled, one run
 * of equal values at a time, which gives every midrank and tie count in
 * one O(N) pass after the per-sample sorts — and the double-double sums
 * they use to keep statistics exact where scipy's are merely rounded.
 */
#ifndef MLOPS_LIB_DRIFT_RANKS_H
#define MLOPS_LIB_DRIFT_RANKS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sample.h"

/*
 * The pooled walk. After each successful mlops__drift_pool_next(), the
 * current run is every copy of `value` in the k samples: count[i] of them
 * in sample i, starting at index first[i] (which is also how many values
 * of sample i are smaller), run in all, below pooled values smaller. The
 * run's midrank (1-based, as scipy's rankdata 'average') is
 * below + (run + 1) / 2. -0.0 and +0.0 are one run, as they compare
 * equal; ±Inf are ordinary values.
 */
typedef struct mlops__drift_pool {
    const mlops__drift_sample *s; /* k samples, each sorted ascending */
    size_t k;
    size_t *first;  /* caller's storage of k entries */
    size_t *count;  /* caller's storage of k entries */
    double value;
    size_t below;
    size_t run;
} mlops__drift_pool;

/* first and count are k entries each, owned by the caller. */
void mlops__drift_pool_init(mlops__drift_pool *p, const mlops__drift_sample *s, size_t k, size_t *first,
                            size_t *count);
/* Moves to the next run: 1, or 0 when every sample is exhausted. */
int mlops__drift_pool_next(mlops__drift_pool *p);

/* t^3 - t for a run of t tied values (the tie correction's term), exact
 * while it fits 64 bits and correctly rounded after that. */
double mlops__drift_tie_term(size_t t);

/*
 * Double-double numbers (hi + lo, |lo| <= ulp(hi) / 2): about 106 bits,
 * enough to keep sums of integers and half-integers exact and long sums
 * of positive terms correct to the last bit of a double.
 */
typedef struct mlops__drift_dd {
    double hi, lo;
} mlops__drift_dd;

static inline mlops__drift_dd mlops__drift_dd_from(double x)
{
    mlops__drift_dd r = { x, 0.0 };
    return r;
}

/* Knuth's two-sum, then renormalized. */
static inline mlops__drift_dd mlops__drift_dd_add_d(mlops__drift_dd a, double b)
{
    double s = a.hi + b, bb = s - a.hi;
    double e = (a.hi - (s - bb)) + (b - bb) + a.lo;
    mlops__drift_dd r;
    r.hi = s + e;
    r.lo = e - (r.hi - s);
    return r;
}

static inline mlops__drift_dd mlops__drift_dd_add(mlops__drift_dd a, mlops__drift_dd b)
{
    double s = a.hi + b.hi, bb = s - a.hi;
    double e = (a.hi - (s - bb)) + (b.hi - bb) + a.lo + b.lo;
    mlops__drift_dd r;
    r.hi = s + e;
    r.lo = e - (r.hi - s);
    return r;
}

static inline mlops__drift_dd mlops__drift_dd_neg(mlops__drift_dd a)
{
    mlops__drift_dd r = { -a.hi, -a.lo };
    return r;
}

/* The exact product of two doubles (fma gives the rounding error). */
static inline mlops__drift_dd mlops__drift_dd_prod(double a, double b)
{
    mlops__drift_dd r;
    r.hi = a * b;
    r.lo = fma(a, b, -r.hi);
    return r;
}

static inline mlops__drift_dd mlops__drift_dd_mul_d(mlops__drift_dd a, double b)
{
    mlops__drift_dd p = mlops__drift_dd_prod(a.hi, b);
    return mlops__drift_dd_add_d(p, a.lo * b);
}

static inline mlops__drift_dd mlops__drift_dd_div_d(mlops__drift_dd a, double b)
{
    double q1 = a.hi / b;
    mlops__drift_dd r = mlops__drift_dd_add(a, mlops__drift_dd_neg(mlops__drift_dd_prod(q1, b)));
    double q2 = r.hi / b;
    return mlops__drift_dd_add_d(mlops__drift_dd_from(q1), q2);
}

static inline mlops__drift_dd mlops__drift_dd_div(mlops__drift_dd a, mlops__drift_dd b)
{
    double q1 = a.hi / b.hi;
    mlops__drift_dd r = mlops__drift_dd_add(a, mlops__drift_dd_neg(mlops__drift_dd_mul_d(b, q1)));
    double q2 = r.hi / b.hi;
    return mlops__drift_dd_add_d(mlops__drift_dd_from(q1), q2);
}

#endif
