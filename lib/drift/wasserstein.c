/*
 * Wasserstein-1 and energy distance between two empirical distributions,
 * as scipy.stats.wasserstein_distance / energy_distance: both integrate a
 * power of |U - V|, the difference of the two CDFs, over the real line
 * (scipy's _cdf_distance with p = 1 and p = 2; the energy distance is
 * sqrt(2) times the p = 2 integral's root).
 *
 * scipy sorts both samples, concatenates and sorts again, then binary-
 * searches every value in both: three sorts and two searches. Here both
 * samples are radix-sorted once and walked by one merge: between two
 * consecutive values of the merged order the CDFs are constant, so the
 * integral is a sum over the merge steps. Without weights the CDF
 * difference is the integer i*nv - j*nu over nu*nv, updated by +nv or -nu
 * at each step: exact, and the loop is branch-free. With weights it is
 * cu/Wu - cv/Wv from running sums in sorted order, the same quotients
 * scipy forms from its cumsum.
 *
 * Each side ends with a +Inf sentinel so the merge needs no bounds test
 * (values themselves must be finite: an infinite value makes the integral
 * infinite or NaN, hence MLOPS_EINVALID as drift.h says).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "distributions.h"
#include "mlops/drift.h"
#include "sample.h"

/* Merge steps summed plainly before the block sum joins the compensated
 * total: keeps the hot loop free of the compensation's dependency chain
 * while bounding the rounding to a 256-term sum. */
#define BLOCK 256

/* ---- unweighted: sorted copies ------------------------------------------ */

typedef struct sorted_pair {
    double *mem;
    double *u, *v; /* nu + 1 and nv + 1 values, the last one +Inf */
    size_t nu, nv;
    size_t nanu, nanv;
} sorted_pair;

static int copy_finite(double *dst, size_t *kept, const double *x, size_t n, const char *fn, const char *what)
{
    if (!x && n)
        return mlops__error_set(MLOPS_EINVALID, "%s: %s: NULL values", fn, what);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double t = x[i];
        if (isnan(t))
            continue;
        if (isinf(t))
            return mlops__error_set(MLOPS_EINVALID, "%s: %s[%zu] is infinite (values must be finite)", fn, what, i);
        dst[k++] = t;
    }
    if (k == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s: %s is empty%s", fn, what, n ? " after dropping NaN values" : "");
    *kept = k;
    return 0;
}

static void sorted_pair_dispose(sorted_pair *s)
{
    mlops__free(s->mem);
    s->mem = NULL;
}

static int sorted_pair_init(sorted_pair *s, const double *u, size_t nu, const double *v, size_t nv, const char *fn)
{
    memset(s, 0, sizeof *s);
    size_t big = nu > nv ? nu : nv;
    if (nu > SIZE_MAX / 32 || nv > SIZE_MAX / 32)
        return mlops__error_set(MLOPS_EINVALID, "%s: too many values", fn);
    /* u, v with sentinels, then the radix sort's scratch. */
    s->mem = mlops__malloc((nu + nv + 2 + big) * sizeof(double));
    if (!s->mem)
        return mlops__error_oom();
    s->u = s->mem;
    s->v = s->mem + nu + 1;
    uint64_t *scratch = (uint64_t *)(void *)(s->v + nv + 1);
    int rc = copy_finite(s->u, &s->nu, u, nu, fn, "u");
    if (rc == 0)
        rc = copy_finite(s->v, &s->nv, v, nv, fn, "v");
    if (rc < 0) {
        sorted_pair_dispose(s);
        return rc;
    }
    s->nanu = nu - s->nu;
    s->nanv = nv - s->nv;
    mlops__drift_sort_with(s->u, s->nu, scratch);
    mlops__drift_sort_with(s->v, s->nv, scratch);
    s->u[s->nu] = INFINITY;
    s->v[s->nv] = INFINITY;
    return 0;
}

/*
 * The integral of |U - V|^p (p = 1 or 2) over the merged order of a and
 * b (sorted, +Inf after the last value). d = i*nb - j*na is (U - V) *
 * na*nb after i values of a and j of b; it stays an exact integer as long
 * as na*nb fits int64 (the caller checks).
 */
static inline double integrate_counts(const double *a, size_t na, const double *b, size_t nb, int p)
{
    const double scale = 1.0 / ((double)na * (double)nb);
    const int64_t up = (int64_t)nb, down = (int64_t)na;
    size_t i = 0, j = 0, left = na + nb;
    int64_t d = 0;
    double prev = a[0] < b[0] ? a[0] : b[0];
    mlops__drift_sum total = { 0, 0 };
    while (left) {
        size_t m = left < BLOCK ? left : BLOCK;
        left -= m;
        double part = 0;
        for (size_t s = 0; s < m; s++) {
            double xa = a[i], xb = b[j];
            int ta = xa <= xb;
            double x = ta ? xa : xb;
            double f = (double)d * scale;
            part += (p == 1 ? fabs(f) : f * f) * (x - prev);
            prev = x;
            i += (size_t)ta;
            j += (size_t)!ta;
            d += ta ? up : -down;
        }
        mlops__drift_sum_add(&total, part);
    }
    return mlops__drift_sum_get(&total);
}

static double integrate_counts_p1(const double *a, size_t na, const double *b, size_t nb)
{
    return integrate_counts(a, na, b, nb, 1);
}

static double integrate_counts_p2(const double *a, size_t na, const double *b, size_t nb)
{
    return integrate_counts(a, na, b, nb, 2);
}

/* ---- weighted: sorted (value, weight) pairs ----------------------------- */

typedef struct wside {
    double *mem;
    double *v;   /* n + 1 values, sorted, the last one +Inf */
    double *w;   /* n weights, in the same order */
    size_t n;
    double total; /* sum of w in sorted order, as scipy's cumsum ends */
} wside;

static void wside_dispose(wside *s)
{
    mlops__free(s->mem);
    s->mem = NULL;
}

/* Values without NaN (each dropped with its weight) and their weights
 * (all 1 when w is NULL), sorted by value. */
static int wside_init(wside *s, const double *x, const double *w, size_t n, const char *fn, const char *what)
{
    memset(s, 0, sizeof *s);
    if (!x && n)
        return mlops__error_set(MLOPS_EINVALID, "%s: %s: NULL values", fn, what);
    if (n > SIZE_MAX / 64)
        return mlops__error_set(MLOPS_EINVALID, "%s: %s: too many values", fn, what);
    if (w)
        for (size_t i = 0; i < n; i++)
            if (!(w[i] >= 0) || isinf(w[i]))
                return mlops__error_set(MLOPS_EINVALID, "%s: %s weight [%zu] = %g: weights must be finite and >= 0",
                                        fn, what, i, w[i]);
    /* values (n + 1), weights, scratch keys, scratch weights */
    s->mem = mlops__malloc((4 * n + 1) * sizeof(double));
    if (!s->mem)
        return mlops__error_oom();
    s->v = s->mem;
    s->w = s->mem + n + 1;
    int rc = copy_finite(s->v, &s->n, x, n, fn, what);
    if (rc < 0) {
        wside_dispose(s);
        return rc;
    }
    for (size_t i = 0, k = 0; i < n; i++)
        if (!isnan(x[i]))
            s->w[k++] = w ? w[i] : 1.0;
    mlops__drift_sort_weighted(s->v, s->w, s->n, (uint64_t *)(void *)(s->w + n), s->w + 2 * n);
    s->v[s->n] = INFINITY;
    double t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->w[i];
    if (!(t > 0) || isinf(t)) {
        wside_dispose(s);
        return mlops__error_set(MLOPS_EINVALID, "%s: %s: the weights of the values kept must have a positive, finite sum",
                                fn, what);
    }
    s->total = t;
    return 0;
}

static double integrate_weights(const wside *a, const wside *b, int p)
{
    size_t i = 0, j = 0, left = a->n + b->n;
    double cum_a = 0, cum_b = 0, fa = 0, fb = 0;
    double prev = a->v[0] < b->v[0] ? a->v[0] : b->v[0];
    mlops__drift_sum total = { 0, 0 };
    while (left) {
        size_t m = left < BLOCK ? left : BLOCK;
        left -= m;
        double part = 0;
        for (size_t s = 0; s < m; s++) {
            double xa = a->v[i], xb = b->v[j];
            double f = fa - fb;
            if (xa <= xb) {
                part += (p == 1 ? fabs(f) : f * f) * (xa - prev);
                prev = xa;
                cum_a += a->w[i++];
                fa = cum_a / a->total;
            } else {
                part += (p == 1 ? fabs(f) : f * f) * (xb - prev);
                prev = xb;
                cum_b += b->w[j++];
                fb = cum_b / b->total;
            }
        }
        mlops__drift_sum_add(&total, part);
    }
    return mlops__drift_sum_get(&total);
}

/* ---- the distances ------------------------------------------------------- */

static int cdf_distance(double *out, const double *u, size_t nu, const double *v, size_t nv, const double *uw,
                        const double *vw, int p, const char *fn)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "%s: NULL output", fn);
    /* The integer path needs nu*nv in int64; past that (never in memory
     * today) the weighted path computes the same with unit weights. */
    int counts = !uw && !vw && (nu == 0 || nv <= (size_t)INT64_MAX / nu);
    double r;
    if (counts) {
        sorted_pair s;
        MLOPS__TRY(sorted_pair_init(&s, u, nu, v, nv, fn));
        r = p == 1 ? integrate_counts_p1(s.u, s.nu, s.v, s.nv) : integrate_counts_p2(s.u, s.nu, s.v, s.nv);
        sorted_pair_dispose(&s);
    } else {
        wside a, b;
        MLOPS__TRY(wside_init(&a, u, uw, nu, fn, "u"));
        int rc = wside_init(&b, v, vw, nv, fn, "v");
        if (rc < 0) {
            wside_dispose(&a);
            return rc;
        }
        r = integrate_weights(&a, &b, p);
        wside_dispose(&a);
        wside_dispose(&b);
    }
    *out = p == 1 ? r : sqrt(2.0 * r);
    return 0;
}

int mlops_drift_wasserstein(double *out, const double *u, size_t nu, const double *v, size_t nv,
                            const double *u_weights, const double *v_weights)
{
    return cdf_distance(out, u, nu, v, nv, u_weights, v_weights, 1, "wasserstein");
}

int mlops_drift_energy_distance(double *out, const double *u, size_t nu, const double *v, size_t nv,
                                const double *u_weights, const double *v_weights)
{
    return cdf_distance(out, u, nu, v, nv, u_weights, v_weights, 2, "energy_distance");
}

/* Evidently's wasserstein_distance_norm divides by max(np.std(reference),
 * 0.001): the floor applies to any small spread, not only to a constant
 * reference. */
#define NORM_FLOOR 0.001

int mlops_drift_wasserstein_normed(double *out, const double *u, size_t nu, const double *v, size_t nv)
{
    static const char fn[] = "wasserstein_normed";
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "%s: NULL output", fn);
    if (nu && nv > (size_t)INT64_MAX / nu)
        return mlops__error_set(MLOPS_EINVALID, "%s: too many values", fn);
    sorted_pair s;
    MLOPS__TRY(sorted_pair_init(&s, u, nu, v, nv, fn));
    double w = integrate_counts_p1(s.u, s.nu, s.v, s.nv);
    /* Two passes (mean, then squared deviations) as numpy's std: exact
     * enough for a large mean and a small spread. */
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < s.nu; i++)
        mlops__drift_sum_add(&acc, s.u[i]);
    double mean = mlops__drift_sum_get(&acc) / (double)s.nu;
    mlops__drift_sum sq = { 0, 0 };
    for (size_t i = 0; i < s.nu; i++) {
        double d = s.u[i] - mean;
        mlops__drift_sum_add(&sq, d * d);
    }
    double sd = sqrt(mlops__drift_sum_get(&sq) / (double)s.nu);
    sorted_pair_dispose(&s);
    if (!isfinite(sd) || !isfinite(w))
        return mlops__error_set(MLOPS_EINVALID, "%s: the values spread beyond the largest double (the reference's "
                                                "standard deviation or the distance overflows)", fn);
    *out = w / (sd > NORM_FLOOR ? sd : NORM_FLOOR);
    return 0;
}
