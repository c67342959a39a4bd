/*
 * Internal: the exact null distribution of the two-sample
 * Kolmogorov-Smirnov statistic, as scipy 1.10's ks_2samp uses it.
 */
#ifndef MLOPS_LIB_DRIFT_KS_H
#define MLOPS_LIB_DRIFT_KS_H

#include <stdint.h>

#include "mlops/drift.h"

/*
 * The exact p-value of statistic d for sample sizes n1, n2 (both >= 1),
 * scipy's _attempt_exact_2kssamp: d is first rounded to h / lcm(n1, n2)
 * (written to *d_rounded whatever happens), then
 *  - two-sided, n1 == n2: P(D >= h/n) by the alternating Hodges series,
 *    evaluated exactly as scipy does (bit for bit), because rounding can
 *    push it just above 1, and then scipy gives up;
 *  - two-sided, n1 != n2: the probability of leaving the band, by
 *    Viehmann's recursion of probabilities (never fails);
 *  - one-sided, n1 == n2: binom(2n, n-h) / binom(2n, n) as a product;
 *  - one-sided, n1 != n2: paths crossing one line. scipy counts them with
 *    binomial coefficients in doubles and gives up exactly when
 *    binom(n1 + n2, n1) overflows; that is the rule here too, but the
 *    probability itself is computed stably (scipy's counts lose up to
 *    ~1e-9 relative for one sample above 10^5).
 * Returns 1 with *p set, 0 when scipy would fall back to the asymptotic
 * p-value, or MLOPS_ENOMEM.
 */
int mlops__drift_ks_exact(double *p, double *d_rounded, uint64_t n1, uint64_t n2, double d,
                          mlops_drift_alternative alternative);

/* scipy's kstwo.sf(d, n) by scipy's rule (Simard & L'Ecuyer), which
 * ks_2samp's asymptotic p-values follow; MLOPS_ENOMEM (the Durbin matrix,
 * up to 117 x 117) instead of a NaN. */
int mlops__drift_kstwo_sf_scipy(double *out, uint64_t n, double d);

/* mlops_drift_kolmogorov_n_sf, exact up to this n, reporting
 * MLOPS_ENOMEM. */
#define MLOPS__KSTWO_EXACT_MAX_N 10000
int mlops__drift_kolmogorov_n_sf(double *out, uint64_t n, double d);

/* P(D_n >= d) and P(D_n < d) by the recursion of special_kstwo_exact.c,
 * for 2 <= n, 1 < n d, d < 1; cdf_out may be NULL. MLOPS_ENOMEM. */
int mlops__drift_kstwo_exit(double *sf_out, double *cdf_out, uint64_t n, double d);

/* g(z) = z - log(1 + z) >= 0 for z > -1, without cancellation near 0. */
long double mlops__drift_log1pmx(long double z);
/* Stirling's remainder S(k) = log k! - (k + 1/2) log k + k - log(2 pi)/2,
 * k >= 1 an integer. */
long double mlops__drift_stirling_rest(long double k);

#endif
