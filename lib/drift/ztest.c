/*
 * Z-test for two proportions with the pooled standard error, Evidently's
 * z_stat_test (proportions_diff_z_stat_ind, two-sided):
 *   z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)),  P = (x1 + x2) / (n1 + n2),
 *   p-value = 2 * (1 - Phi(|z|)).
 * Evidently sets the p-value to 1 when both samples hold the same single
 * value, i.e. both proportions are 0 or both are 1 (P (1 - P) = 0): so do
 * we, with z = 0.
 *
 * Two deliberate differences, for accuracy only:
 *  - p1 - p2 is formed as (x1 n2 - x2 n1) / (n1 n2) with exact products,
 *    and 1 - P as ((n1 - x1) + (n2 - x2)) / (n1 + n2): Evidently's
 *    x1/n1 - x2/n2 and 1 - P lose digits when the proportions are close or
 *    P is near 1. Elsewhere the two agree to a few ulps.
 *  - the p-value is 2 * norm_sf(|z|), which keeps its relative accuracy
 *    in the tail where 1 - Phi(|z|) rounds to 0 (|z| > 8.3).
 * Counts are converted to doubles, exact up to 2^53.
 */
#include <math.h>
#include <stdint.h>

#include "common/error.h"
#include "mlops/drift.h"

/* a * b - c * d, correctly rounded or nearly: the products are exact as
 * double pairs (fma), and the difference of the high parts is exact when
 * they are close (Sterbenz), i.e. whenever it cancels. */
static double diff_of_products(double a, double b, double c, double d)
{
    double p = a * b, q = c * d;
    double pe = fma(a, b, -p), qe = fma(c, d, -q);
    return (p - q) + (pe - qe);
}

static size_t clamp_size(uint64_t n)
{
    return (uint64_t)(size_t)n == n ? (size_t)n : SIZE_MAX;
}

int mlops_drift_ztest_proportions(mlops_drift_test *out, uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "ztest_proportions: NULL argument");
    if (n1 == 0 || n2 == 0)
        return mlops__error_set(MLOPS_EINVALID, "ztest_proportions: empty sample (n1 = %llu, n2 = %llu)",
                                (unsigned long long)n1, (unsigned long long)n2);
    if (x1 > n1 || x2 > n2)
        return mlops__error_set(MLOPS_EINVALID,
                                "ztest_proportions: more successes than trials (%llu of %llu, %llu of %llu)",
                                (unsigned long long)x1, (unsigned long long)n1, (unsigned long long)x2,
                                (unsigned long long)n2);

    double dx1 = (double)x1, dn1 = (double)n1, dx2 = (double)x2, dn2 = (double)n2;
    double succ = dx1 + dx2, fail = (double)(n1 - x1) + (double)(n2 - x2), total = dn1 + dn2;

    out->statistic_location = NAN;
    out->statistic_sign = 0;
    out->method = MLOPS_DRIFT_ASYMPTOTIC;
    out->dof = NAN;
    out->n1 = clamp_size(n1);
    out->n2 = clamp_size(n2);
    out->nan1 = out->nan2 = 0;
    if (succ == 0.0 || fail == 0.0) {
        out->statistic = 0.0;
        out->pvalue = 1.0;
        return 0;
    }
    /* z = (p1 - p2) / se = (x1 n2 - x2 n1) / sqrt(n1 n2) * sqrt(N / (S F)) */
    double num = diff_of_products(dx1, dn2, dx2, dn1);
    double z = num / sqrt(dn1 * dn2) * sqrt(total / (succ * fail));
    out->statistic = z;
    out->pvalue = 2.0 * mlops_drift_norm_sf(fabs(z));
    return 0;
}
