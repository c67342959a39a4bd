/*
 * The two-sided finite-n Kolmogorov survival P(D_n >= d), exactly, for
 * n up to MLOPS__KSTWO_EXACT_MAX_N: mlops_drift_kolmogorov_n_sf.
 *
 * scipy's kstwo.sf (Simard & L'Ecuyer's rule, which ks_2samp keeps for
 * its asymptotic p-values: lib/drift/special_kolmogorov.c) computes the
 * survival as 1 - cdf in the middle of the range, losing the cdf's
 * rounding relative to a small survival (measured 1.6e-12 at n = 140,
 * n d^2 = 3), and as twice the one-sided survival from n d^2 = 4 (n <=
 * 140) or 2.2 (n > 140) on, which leaves out the probability that both
 * one-sided statistics reach d (6.6e-12 relative at n = 140, n d^2 = 4.1;
 * ~2e-6 at 2.2); for n > 140 the middle is Pelz-Good's expansion (2.4e-5
 * off at n = 141, n d^2 = 2.19; 5e-9 at n = 10^4).
 *
 * Here the survival is a sum of positive terms. Poissonize: with N a
 * Poisson process of rate 1 on [0, n] and u = n d, the uniform order
 * statistics given N(n) = n stay inside the band iff
 *     s - u < N(s) < s + u   for all s in [0, n].
 * The band's integer limits change only at s = i - u (the upper one
 * rises) and s = i + u (the lower one rises), so between consecutive
 * such points the count moves by a Poisson(length) step and can leave
 * only upwards, to the states above the upper limit; at a lower point
 * the lowest state leaves. Carrying the probabilities of the states
 * still inside (the recursion of Pomeranz, 1974, in this form) and
 * adding, for every mass that leaves at s from state j, its chance of
 * ending at N(n) = n, P(Poisson(n - s) = n - j), gives
 *     P(D_n >= d) = sum(leaving mass x P(Poisson(n - s) = n - j))
 *                   / P(Poisson(n) = n)
 * with no subtraction anywhere: the relative error is the rounding of
 * ~2n convolution steps in long double, ~1e-16 measured for n = 10^4.
 * The Poisson ratios are formed from Stirling's form so that nothing of
 * size n cancels in the exponent.
 *
 * Cost: 2n steps of (2 n d + TAIL) x TAIL operations, O(n^1.5 sqrt(n d^2));
 * 0.3 s at n = 10^4 in the upper tail, hence the bound on n. Above it,
 * and where d is large enough for twice the one-sided survival to be
 * exact to the last digit (n d^2 >= 6.3: the two-sided excess is below
 * e^-37 of it), the scipy rule is used.
 */
#include <math.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/error.h"
#include "ks.h"
#include "mlops/drift.h"

typedef long double ld;

#define PI_L 3.141592653589793238462643383279502884L

/* Poisson probabilities of a step are cut after this many terms: a step
 * is at most 1 long, and 1/27! < 1e-28 of the mass. */
#define TAIL 27
/* n d^2 from which 2 P(D+_n >= d) is P(D_n >= d) to within 1e-16. */
#define TWO_SMIRNOV_T 6.3

/* log P(Poisson(lambda) = m) - log P(Poisson(n) = n), where lambda - m =
 * gap is given apart (it is small where lambda and m are large). */
static ld log_poisson_ratio(ld lambda, ld gap, uint64_t m, ld log_pnn)
{
    if (m == 0)
        return -lambda - log_pnn;
    ld mm = (ld)m;
    /* log(lambda^m e^-lambda / m!) = -m g(gap / m) - log(2 pi m)/2 - S(m)
     * with g(z) = z - log(1 + z) and S Stirling's remainder. */
    return -mm * mlops__drift_log1pmx(gap / mm) - 0.5L * logl(2 * PI_L * mm) - mlops__drift_stirling_rest(mm) -
           log_pnn;
}

int mlops__drift_kstwo_exit(double *sf_out, double *cdf_out, uint64_t n, double d)
{
    *sf_out = NAN;
    if (cdf_out)
        *cdf_out = NAN;
    ld u = (ld)n * (ld)d;
    ld nl = (ld)n;
    ld *row = mlops__calloc(2 * ((size_t)n + TAIL + 1), sizeof *row);
    if (!row)
        return mlops__error_oom();
    ld *next = row + n + TAIL + 1;
    ld log_pnn = -0.5L * logl(2 * PI_L * nl) - mlops__drift_stirling_rest(nl);
    row[0] = 1;
    uint64_t lo = 0;                    /* lowest state inside the band */
    uint64_t hi = (uint64_t)ceill(u) - 1; /* highest: the largest integer < s + u */
    uint64_t top = 0;                   /* highest state holding mass */
    uint64_t iu = hi + 1, il = 0;       /* next rises at s = iu - u and s = il + u */
    ld s = 0, left = 0;
    ld pmf[TAIL + 1];
    for (;;) {
        ld su = (ld)iu - u, sl = (ld)il + u;
        ld snext = su < sl ? su : sl;
        if (snext > nl)
            snext = nl;
        ld lambda = snext - s;
        pmf[0] = expl(-lambda);
        for (int e = 1; e <= TAIL; e++)
            pmf[e] = pmf[e - 1] * lambda / e;
        /* One Poisson step of the states lo..top, kept up to state n (the
         * others can never end at N(n) = n). */
        uint64_t ntop = top + TAIL < n ? top + TAIL : n;
        for (uint64_t j = lo; j <= ntop; j++) {
            uint64_t e0 = j > top ? j - top : 0, e1 = j - lo < TAIL ? j - lo : TAIL;
            ld acc = 0;
            for (uint64_t e = e0; e <= e1; e++)
                acc += row[j - e] * pmf[e];
            next[j] = acc;
        }
        /* Mass above the upper limit has left during the step. */
        for (uint64_t j = hi + 1; j <= ntop; j++) {
            if (next[j] != 0)
                left += next[j] * expl(log_poisson_ratio(nl - snext, (ld)j - snext, n - j, log_pnn));
            next[j] = 0;
        }
        top = ntop < hi ? ntop : hi;
        for (uint64_t j = lo; j <= ntop; j++) {
            row[j] = next[j];
            next[j] = 0;
        }
        s = snext;
        if (s >= nl)
            break;
        if (su == s) {
            hi++;
            iu++;
        }
        if (sl == s) {
            /* N(s) > s - u = il: state il leaves. */
            if (lo <= top && row[lo] != 0)
                left += row[lo] * expl(log_poisson_ratio(nl - s, (ld)lo - s, n - lo, log_pnn));
            row[lo] = 0;
            lo++;
            il++;
            if (top < lo)
                top = lo;
        }
    }
    ld inside = (lo <= n && n <= top) ? row[n] / expl(log_pnn) : 0;
    mlops__free(row);
    *sf_out = (double)left;
    if (cdf_out)
        *cdf_out = (double)inside;
    return 0;
}

int mlops__drift_kolmogorov_n_sf(double *out, uint64_t n, double d)
{
    double t = (double)n * d * d;
    /* The exact recursion where scipy's rule approximates: 1 < n d,
     * d < 1/2 (above, twice the one-sided survival is exact: D+ and D-
     * cannot both reach d) and n d^2 below the two-sided excess. */
    if (!isnan(d) && n >= 2 && n <= MLOPS__KSTWO_EXACT_MAX_N && (double)n * d > 1 && d < 0.5 &&
        t < TWO_SMIRNOV_T)
        return mlops__drift_kstwo_exit(out, NULL, n, d);
    return mlops__drift_kstwo_sf_scipy(out, n, d);
}

double mlops_drift_kolmogorov_n_sf(uint64_t n, double d)
{
    double sf = NAN;
    mlops__drift_kolmogorov_n_sf(&sf, n, d);
    return sf;
}
