/*
 * Divergences and distances between two discrete distributions given as
 * weights: KL (scipy.stats.entropy(p, q)), Jensen-Shannon
 * (scipy.spatial.distance.jensenshannon), Hellinger, total variation.
 *
 * Why not scipy's formulas: scipy normalizes (a = p/sum p, b = q/sum q,
 * each rounded) and sums a ln(a/b). When the two distributions nearly
 * coincide, which is the no-drift case a monitor sees most, the terms are
 * about |a - b| while the divergence is about (a - b)^2: the rounding of
 * a and b alone leaves scipy's KL of [.2, .3, .5] against a 1e-9
 * perturbation 5x too large (tests/drift/gen_distance.py checks it with
 * mpmath). Here every function is written in terms of the exact
 * difference of the normalized weights,
 *     a - b = (p sum q - q sum p) / (sum p sum q),
 * with the sums kept as double-doubles and the products split exactly
 * (fma), and of functions that are >= 0 term by term:
 *     KL = sum b h(r),  r = (a - b)/b,  h(r) = (1+r) ln(1+r) - r
 * (the linear parts sum to 0 because both distributions sum to 1), and
 *     JS divergence = sum m g(t)/2, m = (a+b)/2, t = (a-b)/(a+b),
 *     g(t) = (1+t) ln(1+t) + (1-t) ln(1-t),
 * with series for small r and t. Elsewhere the results are scipy's to a
 * few ulps. Weights are first scaled by a power of two (exact) so that
 * their sums are near 1 and no product overflows.
 *
 * Zeros follow scipy.special.rel_entr: a zero weight in p contributes
 * nothing to KL(p || q), a positive one where q is 0 makes it +Inf.
 */
#include <math.h>

#include "common/error.h"
#include "distributions.h"
#include "mlops/drift.h"

static int check_weights_dd(mlops__drift_sum *sum, const double *w, size_t k, const char *what)
{
    if (!w)
        return mlops__error_set(MLOPS_EINVALID, "%s: NULL weights", what);
    if (k == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s: no weights (k = 0)", what);
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < k; i++) {
        if (!(w[i] >= 0) || isinf(w[i]))
            return mlops__error_set(MLOPS_EINVALID, "%s[%zu] = %g: weights must be finite and >= 0", what, i, w[i]);
        mlops__drift_sum_add(&acc, w[i]);
    }
    double s = mlops__drift_sum_get(&acc);
    if (s == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s: all weights are zero", what);
    if (isinf(s) || isinf(acc.s))
        return mlops__error_set(MLOPS_EINVALID, "%s: the sum of the weights is not finite", what);
    *sum = acc;
    return 0;
}

int mlops__drift_check_weights(double *sum, const double *w, size_t k, const char *what)
{
    mlops__drift_sum acc;
    MLOPS__TRY(check_weights_dd(&acc, w, k, what));
    *sum = mlops__drift_sum_get(&acc);
    return 0;
}

/* p and q scaled by 2^-ep, 2^-eq, and their sums as double-doubles. */
typedef struct pair {
    const double *p, *q;
    size_t k;
    int ep, eq;
    double sp, spl, sq, sql;
} pair;

static int pair_init(pair *x, const double *p, const double *q, size_t k, const void *out, const char *fn)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "%s: NULL output", fn);
    mlops__drift_sum a, b;
    int rc = check_weights_dd(&a, p, k, "p");
    if (rc == 0)
        rc = check_weights_dd(&b, q, k, "q");
    if (rc < 0)
        return mlops__error_prefix(rc, "%s", fn);
    /* (s, c) -> a normalized double-double, then scaled into [0.5, 1) */
    double sp = a.s + a.c, spl = a.c - (sp - a.s);
    double sq = b.s + b.c, sql = b.c - (sq - b.s);
    x->p = p;
    x->q = q;
    x->k = k;
    frexp(sp, &x->ep);
    frexp(sq, &x->eq);
    x->sp = ldexp(sp, -x->ep);
    x->spl = ldexp(spl, -x->ep);
    x->sq = ldexp(sq, -x->eq);
    x->sql = ldexp(sql, -x->eq);
    return 0;
}

/* The normalized weights a, b of entry i and their exact difference. */
static inline void pair_at(const pair *x, size_t i, double *a, double *b, double *diff)
{
    double ps = ldexp(x->p[i], -x->ep), qs = ldexp(x->q[i], -x->eq);
    *a = ps / x->sp;
    *b = qs / x->sq;
    /* ps * (sq + sql) - qs * (sp + spl), the leading products split
     * exactly into value + error */
    double u = ps * x->sq, eu = fma(ps, x->sq, -u);
    double v = qs * x->sp, ev = fma(qs, x->sp, -v);
    double num = (u - v) + ((eu - ev) + (ps * x->sql - qs * x->spl));
    *diff = num / (x->sp * x->sq);
}

/* ln(base), with base <= 0 meaning e. base 1 would divide by zero and an
 * infinite base would turn every divergence into 0 or NaN. */
static int log_base(double *out, double base, const char *fn)
{
    if (isnan(base))
        return mlops__error_set(MLOPS_EINVALID, "%s: base is NaN", fn);
    if (base <= 0) {
        *out = 1.0;
        return 0;
    }
    if (base == 1 || isinf(base))
        return mlops__error_set(MLOPS_EINVALID, "%s: base %g is not usable (> 0, != 1, finite; <= 0 means e)", fn,
                                base);
    *out = log(base);
    return 0;
}

#define SERIES_MAX 0.1
#define LN2 0.693147180559945309417232121458176568

/* h(r) = (1+r) ln(1+r) - r for |r| <= 0.1: sum over k >= 2 of
 * (-1)^k r^k / (k (k-1)); 19 terms leave < 1e-20 relative. */
static double h_small(double r)
{
    double s = 0;
    for (int k = 20; k >= 2; k--)
        s = s * r + ((k & 1) ? -1.0 : 1.0) / ((double)k * (double)(k - 1));
    return s * r * r;
}

/* g(t) = (1+t) ln(1+t) + (1-t) ln(1-t) for |t| <= 0.1: sum over j >= 1
 * of t^(2j) / (j (2j - 1)). */
static double g_small(double t)
{
    double t2 = t * t, s = 0;
    for (int j = 10; j >= 1; j--)
        s = s * t2 + 1.0 / ((double)j * (double)(2 * j - 1));
    return s * t2;
}

/* ln(a/b) for a, b > 0, also when a/b overflows or underflows. */
static double log_ratio(double a, double b)
{
    double r = a / b;
    if (isinf(r) || r < 0x1p-1022)
        return log(a) - log(b);
    return log(r);
}

int mlops_drift_kl_divergence(double *out, const double *p, const double *q, size_t k, double base)
{
    pair x;
    double lb = 1.0;
    MLOPS__TRY(pair_init(&x, p, q, k, out, "kl_divergence"));
    MLOPS__TRY(log_base(&lb, base, "kl_divergence"));
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < k; i++) {
        double a, b, d;
        pair_at(&x, i, &a, &b, &d);
        if (b == 0) {
            if (a > 0) {
                *out = base <= 0 || lb > 0 ? INFINITY : -INFINITY;
                return 0;
            }
            continue; /* 0 ln 0: nothing */
        }
        double r = d / b;
        if (fabs(r) <= SERIES_MAX)
            mlops__drift_sum_add(&acc, b * h_small(r));
        else if (a == 0)
            mlops__drift_sum_add(&acc, b); /* h(-1) = 1 */
        else
            mlops__drift_sum_add(&acc, a * log_ratio(a, b) - d); /* b h(r), no cancellation here */
    }
    double s = mlops__drift_sum_get(&acc);
    /* Divided by ln(base) only for an explicit base, as scipy (a base
     * between 0 and 1 gives a negative divergence, as it does there). */
    *out = base <= 0 ? s : s / lb;
    return 0;
}

int mlops_drift_jensenshannon(double *out, const double *p, const double *q, size_t k, double base)
{
    pair x;
    double lb = 1.0;
    MLOPS__TRY(pair_init(&x, p, q, k, out, "jensenshannon"));
    MLOPS__TRY(log_base(&lb, base, "jensenshannon"));
    if (base > 0 && base < 1)
        return mlops__error_set(MLOPS_EINVALID,
                                "jensenshannon: base %g < 1 makes the divergence negative and its root undefined",
                                base);
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < k; i++) {
        double a, b, d;
        pair_at(&x, i, &a, &b, &d);
        double s = a + b;
        if (s == 0)
            continue;
        double t = d / s, g;
        if (fabs(t) <= SERIES_MAX)
            g = g_small(t);
        else if (t >= 1 || t <= -1)
            g = 2 * LN2; /* one side is 0 */
        else
            g = (1 + t) * log1p(t) + (1 - t) * log1p(-t);
        mlops__drift_sum_add(&acc, s * g); /* 2 m g(t) = left + right terms */
    }
    double js = mlops__drift_sum_get(&acc) / 2.0; /* scipy's left + right */
    if (base > 0)
        js /= lb;
    /* >= 0 by construction: scipy's sum can round to -1e-17 for (nearly)
     * equal inputs and returns NaN there; this is 0. */
    *out = sqrt(js / 2.0);
    return 0;
}

int mlops_drift_hellinger(double *out, const double *p, const double *q, size_t k)
{
    pair x;
    MLOPS__TRY(pair_init(&x, p, q, k, out, "hellinger"));
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < k; i++) {
        double a, b, d;
        pair_at(&x, i, &a, &b, &d);
        double s = sqrt(a) + sqrt(b);
        if (s == 0)
            continue;
        double e = d / s; /* sqrt a - sqrt b */
        mlops__drift_sum_add(&acc, e * e);
    }
    double h = sqrt(mlops__drift_sum_get(&acc) / 2.0);
    *out = h < 1.0 ? h : 1.0; /* disjoint supports: 1, not 1 + 1 ulp */
    return 0;
}

int mlops_drift_total_variation(double *out, const double *p, const double *q, size_t k)
{
    pair x;
    MLOPS__TRY(pair_init(&x, p, q, k, out, "total_variation"));
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < k; i++) {
        double a, b, d;
        pair_at(&x, i, &a, &b, &d);
        mlops__drift_sum_add(&acc, fabs(d));
    }
    double tv = mlops__drift_sum_get(&acc) / 2.0;
    *out = tv < 1.0 ? tv : 1.0;
    return 0;
}
