/*
 * Internal: helpers of the distances (distributions.c, wasserstein.c,
 * psi.c) that the profile comparison and the report can share: checking a
 * vector of weights, compensated sums, and PSI from bin counts.
 */
#ifndef MLOPS_LIB_DRIFT_DISTRIBUTIONS_H
#define MLOPS_LIB_DRIFT_DISTRIBUTIONS_H

#include <math.h>
#include <stddef.h>

/*
 * Neumaier's compensated sum. Sums here run over up to millions of terms
 * and must agree with numpy's pairwise sums to 1e-12 relative; a plain
 * loop can drift by n * 2^-53 (2e-10 for a million terms), the
 * compensated one stays within a few ulps whatever the order.
 */
typedef struct mlops__drift_sum {
    double s, c;
} mlops__drift_sum;

static inline void mlops__drift_sum_add(mlops__drift_sum *a, double x)
{
    double t = a->s + x;
    if (fabs(a->s) >= fabs(x))
        a->c += (a->s - t) + x;
    else
        a->c += (x - t) + a->s;
    a->s = t;
}

static inline double mlops__drift_sum_get(const mlops__drift_sum *a)
{
    return a->s + a->c;
}

/* Checks k weights (finite, >= 0, not all zero, finite sum) and returns
 * their sum in *sum. what names the vector in messages ("p"). Errors:
 * MLOPS_EINVALID. */
int mlops__drift_check_weights(double *sum, const double *w, size_t k, const char *what);

/*
 * PSI from bin counts: the shares ref[i] / nref and cur[i] / ncur, a zero
 * share replaced by eps, then sum (cur - ref) * ln(cur / ref). The
 * counts need not sum to nref / ncur (values outside given edges are in
 * the totals but in no bin). No validation: nref, ncur > 0, eps > 0.
 */
double mlops__drift_psi_from_counts(const double *ref, double nref, const double *cur, double ncur, size_t k,
                                    double eps);

#endif
