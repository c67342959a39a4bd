/*
 * Anderson-Darling k-sample test with scipy 1.10's semantics
 * (stats/_morestats.py, anderson_ksamp with midrank=True): Scholz and
 * Stephens (1987), eq. 7 for A2akN, their variance for the normalized
 * statistic, Table 2's interpolation coefficients for the critical values,
 * and scipy's p-value: exp of the least-squares quadratic through
 * (critical value, log significance level) evaluated at the statistic,
 * or 0.25 / 0.001 when the statistic lies below the smallest / above the
 * largest critical value. scipy 1.10 neither extrapolates nor clips inside
 * that range, so a statistic just inside it may give a p-value slightly
 * beyond 0.25 or 0.001; so does this.
 *
 * Accuracy: every term of A2akN is positive and is summed in double-double,
 * as are the harmonic sums h and g (scipy's cumsum rounds N times), so the
 * statistic is the correctly rounded value of the formula up to the one
 * cancellation the formula itself has, A2akN - (k - 1).
 */
#include <math.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/error.h"
#include "mlops/drift.h"
#include "ranks.h"
#include "sample.h"

static const double sig[7] = { 0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001 };
/* Scholz and Stephens (1987), Table 2, as scipy 1.10 lists them. */
static const double b0[7] = { 0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085 };
static const double b1[7] = { -0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615 };
static const double b2[7] = { -0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154 };

/*
 * numpy.polyfit(x, y, 2) for 7 points: the Vandermonde columns (x^2, x, 1)
 * are scaled to unit norm as numpy does, then the least-squares problem is
 * solved by Householder QR (numpy uses LAPACK's SVD; both are backward
 * stable and this system's condition number is small, so the coefficients
 * agree to a few units in the last place). c[0] multiplies x^2.
 */
static void polyfit2(double c[3], const double x[7], const double y[7])
{
    double a[7][3], r[7], scale[3];
    for (int i = 0; i < 7; i++) {
        a[i][0] = x[i] * x[i];
        a[i][1] = x[i];
        a[i][2] = 1.0;
        r[i] = y[i];
    }
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int i = 0; i < 7; i++)
            s += a[i][j] * a[i][j];
        scale[j] = sqrt(s);
        for (int i = 0; i < 7; i++)
            a[i][j] /= scale[j];
    }
    for (int j = 0; j < 3; j++) {
        double norm = 0;
        for (int i = j; i < 7; i++)
            norm += a[i][j] * a[i][j];
        norm = sqrt(norm);
        double alpha = a[j][j] > 0 ? -norm : norm;
        double v[7];
        for (int i = 0; i < 7; i++)
            v[i] = i < j ? 0.0 : a[i][j];
        v[j] -= alpha;
        double vv = 0;
        for (int i = j; i < 7; i++)
            vv += v[i] * v[i];
        if (vv == 0)
            continue;
        for (int col = j; col < 3; col++) {
            double d = 0;
            for (int i = j; i < 7; i++)
                d += v[i] * a[i][col];
            d = 2 * d / vv;
            for (int i = j; i < 7; i++)
                a[i][col] -= d * v[i];
        }
        double d = 0;
        for (int i = j; i < 7; i++)
            d += v[i] * r[i];
        d = 2 * d / vv;
        for (int i = j; i < 7; i++)
            r[i] -= d * v[i];
    }
    for (int j = 2; j >= 0; j--) {
        double s = r[j];
        for (int col = j + 1; col < 3; col++)
            s -= a[j][col] * c[col];
        c[j] = s / a[j][j];
    }
    for (int j = 0; j < 3; j++)
        c[j] /= scale[j];
}

/* scipy's p-value from the statistic and the critical values. */
static double pvalue_of(double a2, const double crit[7])
{
    double lo = crit[0], hi = crit[0];
    for (int i = 1; i < 7; i++) {
        lo = crit[i] < lo ? crit[i] : lo;
        hi = crit[i] > hi ? crit[i] : hi;
    }
    if (a2 < lo)
        return 0.25;
    if (a2 > hi)
        return 0.001;
    double y[7], c[3];
    for (int i = 0; i < 7; i++)
        y[i] = log(sig[i]);
    polyfit2(c, crit, y);
    return exp((c[0] * a2 + c[1]) * a2 + c[2]); /* numpy.polyval's Horner order */
}

/* A2akN, Scholz and Stephens' eq. 7, over the pooled runs. */
static double a2akn(mlops__drift_pool *pool, const mlops__drift_sample *s, size_t k, double nn)
{
    mlops__drift_dd sum = mlops__drift_dd_from(0.0);
    while (mlops__drift_pool_next(pool)) {
        /* With L values below the run, l in it and R above, B = L + l/2
         * and B (N - B) - N l / 4 = L R + (L + R) l / 4, which is positive
         * unless every value is in this run (refused earlier). */
        double l = (double)pool->run, below = (double)pool->below;
        double above = nn - below - l;
        double bj = below + l / 2;
        double w = l / nn / (below * above + (below + above) * l / 4);
        for (size_t i = 0; i < k; i++) {
            double mij = (double)pool->first[i] + (double)pool->count[i] / 2;
            double d = nn * mij - bj * (double)s[i].n;
            sum = mlops__drift_dd_add_d(sum, w * d * d / (double)s[i].n);
        }
    }
    return sum.hi * ((nn - 1.0) / nn);
}

/* scipy's h = sum_{i=1}^{N-1} 1/i and g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1}
 * 1/((N-i) j), the latter as scipy writes it: sum over t of
 * (1/(N-1) + ... + 1/(N-1-t)) / (t + 2). */
static void harmonic_sums(double *h, double *g, size_t n)
{
    mlops__drift_dd hs = mlops__drift_dd_from(0.0), gs = mlops__drift_dd_from(0.0);
    for (size_t t = 0; t + 2 < n; t++) {
        hs = mlops__drift_dd_add_d(hs, 1.0 / (double)(n - 1 - t));
        gs = mlops__drift_dd_add(gs, mlops__drift_dd_div_d(hs, (double)(t + 2)));
    }
    *h = mlops__drift_dd_add_d(hs, 1.0).hi;
    *g = gs.hi;
}

/* N**3 as a Python integer converted to float: exact while it fits 64
 * bits, then rounded once. */
static double int_cube(size_t n)
{
    if (n < 2000000) {
        uint64_t u = (uint64_t)n;
        return (double)(u * u * u);
    }
    double d = (double)n;
    return d * d * d;
}

int mlops_drift_anderson_ksamp(mlops_drift_anderson *out, const double *const *samples, const size_t *sizes,
                               size_t k)
{
    if (!out || !samples || !sizes)
        return mlops__error_set(MLOPS_EINVALID, "anderson_ksamp: NULL argument");
    if (k < 2)
        return mlops__error_set(MLOPS_EINVALID, "anderson_ksamp needs at least two samples (got %zu)", k);
    if (k > SIZE_MAX / (2 * sizeof(size_t) + sizeof(mlops__drift_sample)))
        return mlops__error_set(MLOPS_EINVALID, "anderson_ksamp: too many samples");

    int rc = 0;
    mlops__drift_sample *s = mlops__calloc(k, sizeof *s);
    size_t *first = mlops__calloc(2 * k, sizeof *first);
    if (!s || !first) {
        rc = mlops__error_oom();
        goto done;
    }
    size_t nan_total = 0, total = 0;
    for (size_t i = 0; i < k; i++) {
        rc = mlops__drift_sample_init(&s[i], samples[i], sizes[i], 1, "anderson_ksamp: a sample");
        if (rc < 0)
            goto done;
        nan_total += s[i].nan;
        total += s[i].n;
    }

    mlops__drift_pool pool;
    mlops__drift_pool_init(&pool, s, k, first, first + k);
    if (!mlops__drift_pool_next(&pool) || pool.run == total) {
        rc = mlops__error_set(MLOPS_EINVALID, "anderson_ksamp needs more than one distinct value");
        goto done;
    }
    if (total < 3) {
        /* scipy 1.10 fails there too (an IndexError in its harmonic sums). */
        rc = mlops__error_set(MLOPS_EINVALID, "anderson_ksamp needs at least 3 values (got %zu)", total);
        goto done;
    }
    mlops__drift_pool_init(&pool, s, k, first, first + k);

    double nn = (double)total, kk = (double)k;
    double a2kn = a2akn(&pool, s, k, nn);

    double hsum = 0;
    for (size_t i = 0; i < k; i++)
        hsum += 1.0 / (double)s[i].n;
    double h, g;
    harmonic_sums(&h, &g, total);
    /* scipy's expressions, in its order of operations: k**2, N**2 and
     * N**3 are Python integers, rounded once when they meet a float. */
    double k2 = kk * kk;
    double n2 = (double)((uint64_t)total * total), n3 = int_cube(total);
    double a = (4 * g - 6) * (kk - 1) + (10 - 6 * g) * hsum;
    double b = (2 * g - 4) * k2 + 8 * h * kk + (2 * g - 14 * h - 4) * hsum - 8 * h + 4 * g - 6;
    double c = (6 * h + 2 * g - 2) * k2 + (4 * h - 4 * g + 6) * kk + (2 * h - 6) * hsum + 4 * h;
    double d = (2 * h + 6) * k2 - 4 * h * kk;
    double num = a * n3 + b * n2 + c * nn + d;
    double den = (nn - 1.0) * (nn - 2.0) * (nn - 3.0);
    double m = kk - 1;
    double a2;
    if (den > 0) {
        a2 = (a2kn - m) / sqrt(num / den);
    } else {
        /* N = 3: scipy divides by 0.0; a positive numerator gives an
         * infinite variance and a statistic of 0, anything else NaN. */
        a2 = num > 0 ? (a2kn - m) / INFINITY : NAN;
    }

    for (int i = 0; i < 7; i++)
        out->critical_values[i] = b0[i] + b1[i] / sqrt(m) + b2[i] / m;
    out->statistic = a2;
    out->pvalue = isnan(a2) ? NAN : pvalue_of(a2, out->critical_values);
    out->nan_total = nan_total;
done:
    if (s)
        for (size_t i = 0; i < k; i++)
            mlops__drift_sample_dispose(&s[i]);
    mlops__free(s);
    mlops__free(first);
    return rc;
}
