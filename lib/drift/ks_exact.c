/*
 * Exact p-values of the two-sample Kolmogorov-Smirnov test: lattice paths
 * from (0, 0) to (m, n), one step right per value of the first sample and
 * one step up per value of the second, all C(m+n, n) equally likely under
 * the null. D >= h/lcm exactly when the path touches a line
 * n x - m y = +-h g (g = gcd). The counting follows Hodges (1958); the
 * decision of WHEN to give up follows scipy 1.10, so that the method
 * reported and the p-value agree with scipy (ks.h).
 */
#include "ks.h"

#include <float.h>
#include <math.h>

#include "common/alloc.h"
#include "common/error.h"
#include "integer.h"

typedef long double ld;

static int64_t floor_div(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

/*
 * Two-sided, m == n: P(D >= h/n) = 2 sum_k (-1)^(k-1) C(2n, n-kh)/C(2n, n),
 * nested as 2 A0 (1 - A1 (1 - A2 (...))) with each Ak a product of h
 * ratios. The operations, their order and their rounding are scipy's
 * (_compute_prob_outside_square): the result lands slightly above 1 for
 * small h more often than not (n = 60, h = 2), scipy then declares the
 * exact computation failed and reports the asymptotic p-value, and so must
 * we.
 */
static double prob_outside_square(uint64_t n, uint64_t h)
{
    double P = 0.0;
    for (int64_t k = (int64_t)(n / h); k >= 0; k--) {
        double p1 = 1.0;
        int64_t kh = k * (int64_t)h;
        for (int64_t j = 0; j < (int64_t)h; j++)
            p1 = ((double)((int64_t)n - kh - j) * p1) / (double)((int64_t)n + kh + j + 1);
        P = p1 * (1.0 - P);
    }
    return 2 * P;
}

/*
 * Two-sided, m != n: the probability that a random path leaves the band
 * |n x - m y| < h g, by Viehmann's (2021) recursion on probabilities
 * rather than counts: column by column, A(x, y) = (x A(x-1, y) +
 * y A(x, y-1)) / (x + y), 1 outside the band. Weighted means of numbers in
 * [0, 1] stay there, so this never overflows and scipy never gives up on
 * it; same window bookkeeping as scipy's, so the same digits.
 */
static int prob_outside_band(double *out, uint64_t m_, uint64_t n_, uint64_t g, uint64_t h_)
{
    if (m_ < n_) {
        uint64_t t = m_;
        m_ = n_;
        n_ = t;
    }
    int64_t m = (int64_t)m_, n = (int64_t)n_, h = (int64_t)h_;
    int64_t mg = m / (int64_t)g, ng = n / (int64_t)g;
    int64_t minj = 0, maxj = ceil_div(h, mg);
    if (maxj > n + 1)
        maxj = n + 1;
    int64_t curlen = maxj - minj;
    int64_t len = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
    double *A = mlops__malloc((size_t)len * sizeof *A);
    if (!A)
        return mlops__error_oom();
    for (int64_t r = 0; r < len; r++)
        A[r] = r < maxj ? 0.0 : 1.0;
    for (int64_t i = 1; i <= m; i++) {
        int64_t lastminj = minj, lastlen = curlen;
        minj = floor_div(ng * i - h, mg) + 1;
        if (minj < 0)
            minj = 0;
        if (minj > n)
            minj = n;
        maxj = ceil_div(ng * i + h, mg);
        if (maxj > n + 1)
            maxj = n + 1;
        if (maxj <= minj) {
            mlops__free(A);
            *out = 1.0;
            return 0;
        }
        double val = minj == 0 ? 0.0 : 1.0;
        for (int64_t jj = 0; jj < maxj - minj; jj++) {
            int64_t j = jj + minj, src = jj + minj - lastminj;
            /* Beyond the stored window the previous column is outside
             * the band (1); never reached with scipy's window length. */
            double prev = src < len ? A[src] : 1.0;
            val = (prev * (double)i + val * (double)j) / (double)(i + j);
            A[jj] = val;
        }
        curlen = maxj - minj;
        for (int64_t r = curlen; r < lastlen && r < len; r++)
            A[r] = 1.0;
    }
    *out = A[maxj - minj - 1];
    mlops__free(A);
    return 0;
}

/* One-sided, m == n: C(2n, n-h)/C(2n, n) = prod_{j<h} (n-j)/(n+j+1), in
 * long double; stops once below the smallest subnormal double. */
static double prob_one_sided_square(uint64_t n, uint64_t h)
{
    ld p = 1;
    for (uint64_t j = 0; j < h; j++) {
        p *= (ld)(n - j) / (ld)(n + j + 1);
        if (p < 1e-330L)
            return 0.0;
    }
    return (double)p;
}

/* C(N, k) by its product, in long double (k small here). */
static ld binom_ld(uint64_t N, uint64_t k)
{
    if (k > N)
        return 0;
    if (k > N - k)
        k = N - k;
    ld r = 1;
    for (uint64_t i = 1; i <= k; i++)
        r = r / (ld)i * (ld)(N - k + i);
    return r;
}

/* log C(m+n, n), n the smaller size and below 520. */
static ld log_binom_small(uint64_t m, uint64_t n)
{
    ld s = 0;
    for (uint64_t i = 1; i <= n; i++)
        s += log1pl((ld)m / (ld)i);
    return s;
}

/* Above this many lattice points the one-sided probability is computed by
 * first passages (then the smaller sample has fewer than ~100 values,
 * since C(m+n, n) is finite). */
#define DP_MAX_CELLS 40000000.0

/*
 * One-sided, m != n (m >= n): the probability that a random path touches
 * n x - m y >= h g, i.e. x/m - y/n >= h/lcm. Column by column,
 * U(x, y) = (x U(x-1, y) + y U(x, y-1)) / (x + y), 1 on and beyond the
 * line: the probability that a random path to (x, y) has touched it.
 */
static int prob_one_sided_dp(double *out, int64_t m, int64_t n, int64_t mg, int64_t ng, int64_t h)
{
    double *U = mlops__calloc((size_t)n + 1, sizeof *U);
    if (!U)
        return mlops__error_oom();
    for (int64_t x = 1; x <= m; x++) {
        /* Points with y <= (ng x - h) / mg are on or beyond the line. */
        int64_t y0 = floor_div(ng * x - h, mg) + 1;
        if (y0 < 0)
            y0 = 0;
        int64_t top = y0 < n + 1 ? y0 : n + 1;
        for (int64_t y = 0; y < top; y++)
            U[y] = 1.0;
        for (int64_t y = top; y <= n; y++)
            U[y] = y == 0 ? U[0] : ((double)x * U[y] + (double)y * U[y - 1]) / (double)(x + y);
    }
    *out = U[n];
    mlops__free(U);
    return 0;
}

/*
 * Same probability by Hodges' first passages, for a small n: B_j, the
 * number of paths reaching the line first at its j-th lattice point
 * (x_j, j), is C(x_j + j, j) minus the paths that reached it earlier;
 * the answer is sum_j B_j C(m - x_j + n - j, n - j) / C(m + n, n). All
 * counts stay below C(m+n, n), finite here; long double keeps the
 * subtractions accurate (they cancel mildly).
 */
static int prob_one_sided_first_passage(double *out, int64_t m, int64_t n, int64_t mg, int64_t ng, int64_t h)
{
    int64_t lxj = n + floor_div(mg - h, mg);
    if (lxj <= 0) {
        *out = 1.0;
        return 0;
    }
    ld *B = mlops__malloc((size_t)lxj * (sizeof(ld) + sizeof(int64_t)));
    if (!B)
        return mlops__error_oom();
    int64_t *xj = (int64_t *)(void *)(B + lxj);
    for (int64_t j = 0; j < lxj; j++)
        xj[j] = ceil_div(h + mg * j, ng);
    ld num = 0;
    for (int64_t j = 0; j < lxj; j++) {
        ld b = binom_ld((uint64_t)(xj[j] + j), (uint64_t)j);
        for (int64_t i = 0; i < j; i++)
            b -= binom_ld((uint64_t)(xj[j] - xj[i] + j - i), (uint64_t)(j - i)) * B[i];
        B[j] = b;
        num += b * binom_ld((uint64_t)(m - xj[j] + n - j), (uint64_t)(n - j));
    }
    mlops__free(B);
    *out = (double)(num / binom_ld((uint64_t)(m + n), (uint64_t)n));
    return 0;
}

/* Returns 1 with *out, or 0 where scipy gives up (C(m+n, n) overflows). */
static int prob_one_sided_rect(double *out, uint64_t m_, uint64_t n_, uint64_t g, uint64_t h)
{
    if (m_ < n_) {
        uint64_t t = m_;
        m_ = n_;
        n_ = t;
    }
    /* C(2n, n) alone overflows from n = 520 on. */
    if (n_ >= 520 || log_binom_small(m_, n_) > (ld)log(DBL_MAX))
        return 0;
    int64_t m = (int64_t)m_, n = (int64_t)n_;
    int64_t mg = m / (int64_t)g, ng = n / (int64_t)g;
    int rc;
    if (((double)m + 1) * ((double)n + 1) <= DP_MAX_CELLS)
        rc = prob_one_sided_dp(out, m, n, mg, ng, (int64_t)h);
    else
        rc = prob_one_sided_first_passage(out, m, n, mg, ng, (int64_t)h);
    return rc < 0 ? rc : 1;
}

int mlops__drift_ks_exact(double *p, double *d_rounded, uint64_t n1, uint64_t n2, double d,
                          mlops_drift_alternative alternative)
{
    uint64_t g = mlops__drift_gcd(n1, n2);
    uint64_t lcm = (n1 / g) * n2;
    /* np.round: to nearest, ties to even, as rint in the default mode. */
    double hd = rint(d * (double)lcm);
    uint64_t h = hd > 0 ? (uint64_t)hd : 0;
    *d_rounded = (double)h / (double)lcm;
    if (h == 0) {
        *p = 1.0;
        return 1;
    }
    double prob = NAN;
    int rc;
    if (alternative == MLOPS_DRIFT_TWO_SIDED) {
        if (n1 == n2) {
            prob = prob_outside_square(n1, h);
        } else {
            rc = prob_outside_band(&prob, n1, n2, g, h);
            if (rc < 0)
                return rc;
        }
    } else if (n1 == n2) {
        prob = prob_one_sided_square(n1, h);
    } else {
        rc = prob_one_sided_rect(&prob, n1, n2, g, h);
        if (rc <= 0)
            return rc;
    }
    if (!(prob >= 0 && prob <= 1))
        return 0;
    *p = prob;
    return 1;
}
