/*
 * Mann-Whitney U test with scipy 1.10's semantics (stats/_mannwhitneyu.py):
 * the statistic is U1 = R1 - n1(n1+1)/2 of the first sample; the p-value
 * uses U1 ('greater'), U2 = n1 n2 - U1 ('less') or max(U1, U2) doubled
 * ('two-sided'), always as a survival function, clipped to [0, 1]; auto
 * is asymptotic when both samples have more than 8 values or when any two
 * values are equal, else exact.
 *
 * U1 is counted, not summed from ranks: U1 = #{x > y} + #{x == y} / 2,
 * exact in 64-bit integers, where scipy's float sums of midranks are exact
 * only while they stay below 2^53 (so the two agree wherever scipy is
 * exact).
 */
#include <math.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/error.h"
#include "mlops/drift.h"
#include "ranks.h"
#include "sample.h"

/*
 * The exact null distribution. U's counts for sizes (m, n) are the
 * coefficients of the Gaussian binomial [m+n choose m]_q (partitions of u
 * in an m x n box). With s = min(m, n) and b = max(m, n) it is built in s
 * passes, [b+i choose i]_q = [b+i-1 choose i-1]_q (1 - q^(b+i)) / (1 - q^i):
 * the product is one subtraction per coefficient, the division a running
 * sum with stride i. This is O(s * m n / 2) work, where scipy's recursion
 * (Di Bucchianico's Theorem 2.5) is O(m n * m n / 2) in time and memory.
 * Coefficients are rescaled to probabilities after every pass (times
 * i / (b + i)), so nothing overflows even where binom(m+n, m) does, and
 * the running sums are kept in double-double, so their error does not
 * grow with the number of terms. Only coefficients up to the one needed
 * are computed, and by the distribution's symmetry (P(U = u) =
 * P(U = mn - u)) never more than m n / 2 + 1 of them.
 *
 * The price of the product form is cancellation in the middle of the
 * distribution, growing with s: measured against the same computation in
 * double-double, the cdf's worst relative error over all u is 1e-15 for
 * s <= 150, 6e-14 at s = 200 (worst around b = 2s), but 4e-12 at s = 250
 * and 6e-9 at s = 400 (small s with any b, e.g. 8 and 10^5, stays at
 * 1e-15). Hence EXACT_MAX_SMALL. Beyond it, or beyond EXACT_MAX_LEN
 * coefficients or EXACT_MAX_WORK passes x coefficients (128 MiB, about a
 * second), the exact method falls back to the normal approximation and
 * says so in the result's method. scipy has no limit, but its memo table
 * of (m+1)(n+1)(mn/2) doubles is out of reach long before: auto chooses
 * exact only for a sample of at most 8 values, where n1 n2 / 2 <= 4 n is
 * inside the limits up to 4 million values in the other sample.
 */
#define EXACT_MAX_SMALL 200
#define EXACT_MAX_LEN ((uint64_t)1 << 24)
#define EXACT_MAX_WORK ((uint64_t)1 << 30)

static int exact_feasible(uint64_t m, uint64_t n)
{
    double mn = (double)m * (double)n;
    double len = floor(mn / 2) + 1;
    double s = (double)(m < n ? m : n);
    return s <= EXACT_MAX_SMALL && len <= (double)EXACT_MAX_LEN && s * len <= (double)EXACT_MAX_WORK;
}

/* P(U <= k) for samples of m and n values (both >= 1). */
static int exact_cdf(double *out, uint64_t m, uint64_t n, uint64_t k)
{
    uint64_t mn = m * n;
    if (k >= mn) {
        *out = 1.0;
        return 0;
    }
    /* P(U <= k) = 1 - P(U >= k + 1) = 1 - P(U <= mn - k - 1). */
    uint64_t kc = mn - k - 1;
    int complement = kc < k;
    uint64_t kk = complement ? kc : k;
    uint64_t s = m < n ? m : n, b = m < n ? n : m;

    double *c = mlops__calloc((size_t)kk + 1, sizeof *c);
    mlops__drift_dd *acc = mlops__malloc((size_t)s * sizeof *acc);
    if (!c || !acc) {
        mlops__free(c);
        mlops__free(acc);
        return mlops__error_oom();
    }
    c[0] = 1.0;
    for (uint64_t i = 1; i <= s; i++) {
        /* [b+i-1 choose i-1]_q has degree (i-1) b; the new one i b. */
        uint64_t top = i * b < kk ? i * b : kk;
        uint64_t shift = b + i;
        for (uint64_t j = top; j >= shift; j--)
            c[j] -= c[j - shift];
        double f = (double)i / (double)(b + i);
        for (uint64_t r = 0; r < i; r++)
            acc[r] = mlops__drift_dd_from(0.0);
        uint64_t r = 0;
        for (uint64_t j = 0; j <= top; j++) {
            acc[r] = mlops__drift_dd_add_d(acc[r], c[j]);
            c[j] = acc[r].hi * f;
            if (++r == i)
                r = 0;
        }
    }
    mlops__drift_dd sum = mlops__drift_dd_from(0.0);
    for (uint64_t j = 0; j <= kk; j++)
        sum = mlops__drift_dd_add_d(sum, c[j]);
    mlops__free(c);
    mlops__free(acc);
    *out = complement ? (1.0 - sum.hi) - sum.lo : sum.hi;
    return 0;
}

/* The normal approximation, with scipy's tie correction and continuity
 * correction, in scipy's order of operations (_get_mwu_z). */
static double asymptotic_sf(double u, uint64_t n1, uint64_t n2, double tie_term, int continuity)
{
    double mu = (double)(n1 * n2) / 2.0;
    uint64_t n = n1 + n2;
    double s = sqrt((double)(n1 * n2) / 12.0 * ((double)(n + 1) - tie_term / (double)(n * (n - 1))));
    double num = u - mu;
    if (continuity)
        num -= 0.5;
    double z;
    if (s > 0)
        z = num / s;
    else if (s == 0 && num != 0) /* every value tied: scipy's num / 0 */
        z = num > 0 ? INFINITY : -INFINITY;
    else
        z = NAN; /* 0 / 0, or the square root of a rounding below 0 */
    return mlops_drift_norm_sf(z);
}

int mlops_drift_mannwhitneyu(mlops_drift_test *out, const double *a, size_t na, const double *b, size_t nb,
                             mlops_drift_alternative alternative, int use_continuity, mlops_drift_method method)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "mannwhitneyu: NULL result");
    if ((unsigned)alternative > MLOPS_DRIFT_GREATER)
        return mlops__error_set(MLOPS_EINVALID, "mannwhitneyu: unknown alternative %d", (int)alternative);
    if ((unsigned)method > MLOPS_DRIFT_ASYMPTOTIC)
        return mlops__error_set(MLOPS_EINVALID, "mannwhitneyu: unknown method %d", (int)method);

    mlops__drift_sample s[2];
    int rc = mlops__drift_sample_init_pair(&s[0], a, na, "mannwhitneyu: first sample", &s[1], b, nb,
                                           "mannwhitneyu: second sample");
    if (rc < 0)
        return rc;
    uint64_t n1 = s[0].n, n2 = s[1].n;

    /* 2 U1 = sum over runs of c1 (2 * (second-sample values below) + c2). */
    size_t first[2], count[2];
    mlops__drift_pool pool;
    mlops__drift_pool_init(&pool, s, 2, first, count);
    uint64_t twice_u1 = 0;
    mlops__drift_dd tie = mlops__drift_dd_from(0.0);
    int ties = 0;
    while (mlops__drift_pool_next(&pool)) {
        twice_u1 += (uint64_t)count[0] * (2 * (uint64_t)first[1] + count[1]);
        if (pool.run > 1) {
            ties = 1;
            tie = mlops__drift_dd_add_d(tie, mlops__drift_tie_term(pool.run));
        }
    }
    uint64_t twice_u2 = 2 * n1 * n2 - twice_u1;

    if (method == MLOPS_DRIFT_AUTO)
        method = (n1 > 8 && n2 > 8) || ties ? MLOPS_DRIFT_ASYMPTOTIC : MLOPS_DRIFT_EXACT;
    if (method == MLOPS_DRIFT_EXACT && !exact_feasible(n1, n2))
        method = MLOPS_DRIFT_ASYMPTOTIC;

    uint64_t twice_u;
    double factor = 1.0;
    if (alternative == MLOPS_DRIFT_GREATER)
        twice_u = twice_u1;
    else if (alternative == MLOPS_DRIFT_LESS)
        twice_u = twice_u2; /* the survival function of U2, not the cdf of U1 */
    else {
        twice_u = twice_u1 > twice_u2 ? twice_u1 : twice_u2;
        factor = 2.0;
    }

    double p = NAN;
    if (method == MLOPS_DRIFT_EXACT) {
        /* scipy's sf(U.astype(int)): a tied U of k + 1/2 counts as k, and
         * sf(k) = P(U >= k) = P(U <= mn - k) by symmetry. */
        rc = exact_cdf(&p, n1, n2, n1 * n2 - twice_u / 2);
        if (rc < 0)
            goto done;
    } else {
        p = asymptotic_sf((double)twice_u / 2.0, n1, n2, tie.hi, use_continuity);
    }
    p *= factor;
    if (p > 1.0)
        p = 1.0; /* e.g. two-sided exact with U = mn/2: twice a cdf above 1/2 */
    else if (p < 0.0)
        p = 0.0;

    mlops__drift_test_result(out, (double)twice_u1 / 2.0, p, method, &s[0], &s[1]);
done:
    mlops__drift_sample_dispose(&s[0]);
    mlops__drift_sample_dispose(&s[1]);
    return rc;
}
