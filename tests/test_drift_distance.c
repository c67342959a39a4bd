/*
 * Distances (include/mlops/drift.h): KL, Jensen-Shannon, Hellinger, total
 * variation, Wasserstein-1 (raw, weighted, normed), energy distance and
 * PSI against tests/drift/distance.vec (scipy/numpy/mpmath, written by
 * tests/drift/gen_distance.py), a few values derived by hand, every bad
 * input, and allocation failures.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift_vec.h"
#include "mlops.h"
#include "testutil.h"

#define REL 1e-12

static tv_file g_vec;

/* ---- the test vectors -------------------------------------------------- */

static void check_dist(const tv_case *c)
{
    size_t k, kq;
    const double *p = tv_arr(c, "p", &k), *q = tv_arr(c, "q", &kq);
    ck_assert_uint_eq(k, kq);
    double base = tv_num(c, "base"), got;
    ck_assert_int_eq(mlops_drift_kl_divergence(&got, p, q, k, base), 0);
    tv_assert_close(c, "kl", got, tv_num(c, "kl"), REL, 0);
    ck_assert_int_eq(mlops_drift_jensenshannon(&got, p, q, k, base), 0);
    tv_assert_close(c, "js", got, tv_num(c, "js"), REL, 0);
    ck_assert_int_eq(mlops_drift_hellinger(&got, p, q, k), 0);
    tv_assert_close(c, "hellinger", got, tv_num(c, "hellinger"), REL, 0);
    ck_assert_int_eq(mlops_drift_total_variation(&got, p, q, k), 0);
    tv_assert_close(c, "tv", got, tv_num(c, "tv"), REL, 0);
}

static void check_sample(const tv_case *c)
{
    size_t nu, nv, nw;
    const double *u = tv_arr(c, "u", &nu), *v = tv_arr(c, "v", &nv);
    const double *uw = NULL, *vw = NULL;
    if (tv_has(c, "uw")) {
        uw = tv_arr(c, "uw", &nw);
        ck_assert_uint_eq(nw, nu);
    }
    if (tv_has(c, "vw")) {
        vw = tv_arr(c, "vw", &nw);
        ck_assert_uint_eq(nw, nv);
    }
    double got;
    ck_assert_msg(mlops_drift_wasserstein(&got, u, nu, v, nv, uw, vw) == 0, "%s: %s", c->name, mlops_error_last());
    tv_assert_close(c, "wasserstein", got, tv_num(c, "wasserstein"), REL, 0);
    ck_assert_msg(mlops_drift_energy_distance(&got, u, nu, v, nv, uw, vw) == 0, "%s: %s", c->name,
                  mlops_error_last());
    tv_assert_close(c, "energy", got, tv_num(c, "energy"), REL, 0);
    if (tv_has(c, "normed")) {
        ck_assert_msg(mlops_drift_wasserstein_normed(&got, u, nu, v, nv) == 0, "%s: %s", c->name,
                      mlops_error_last());
        tv_assert_close(c, "normed", got, tv_num(c, "normed"), REL, 0);
    }
}

static void check_psi(const tv_case *c)
{
    size_t nr, nc;
    const double *ref = tv_arr(c, "ref", &nr), *cur = tv_arr(c, "cur", &nc);
    mlops_drift_psi_options o;
    ck_assert_int_eq(mlops_drift_psi_options_init(&o, MLOPS_DRIFT_PSI_OPTIONS_VERSION), 0);
    if (tv_has(c, "bins"))
        o.bins = (size_t)tv_num(c, "bins");
    if (tv_has(c, "edges"))
        o.edges = tv_arr(c, "edges", &o.nedges);
    if (tv_has(c, "eps"))
        o.epsilon = tv_num(c, "eps");
    /* the reference is reordered internally, never in the caller's array */
    double *keep = malloc(nr * sizeof *keep);
    ck_assert_ptr_nonnull(keep);
    memcpy(keep, ref, nr * sizeof *keep);
    double got;
    ck_assert_msg(mlops_drift_psi(&got, ref, nr, cur, nc, &o) == 0, "%s: %s", c->name, mlops_error_last());
    tv_assert_close(c, "psi", got, tv_num(c, "psi"), REL, 0);
    ck_assert_msg(memcmp(keep, ref, nr * sizeof *keep) == 0, "%s: the reference was changed", c->name);
    free(keep);
    if (!tv_has(c, "bins") && !tv_has(c, "edges") && !tv_has(c, "eps")) {
        ck_assert_int_eq(mlops_drift_psi(&got, ref, nr, cur, nc, NULL), 0); /* NULL: the same defaults */
        tv_assert_close(c, "psi (NULL options)", got, tv_num(c, "psi"), REL, 0);
    }
}

START_TEST(vectors)
{
    tv_load(&g_vec, "distance.vec");
    size_t seen[3] = { 0, 0, 0 };
    for (size_t i = 0; i < g_vec.ncases; i++) {
        const tv_case *c = &g_vec.cases[i];
        const char *kind = tv_str(c, "kind");
        if (strcmp(kind, "dist") == 0) {
            check_dist(c);
            seen[0]++;
        } else if (strcmp(kind, "sample") == 0) {
            check_sample(c);
            seen[1]++;
        } else if (strcmp(kind, "psi") == 0) {
            check_psi(c);
            seen[2]++;
        } else {
            ck_abort_msg("%s: unknown kind %s", c->name, kind);
        }
    }
    ck_assert_uint_ge(seen[0], 20);
    ck_assert_uint_ge(seen[1], 20);
    ck_assert_uint_ge(seen[2], 20);
    tv_free(&g_vec);
}
END_TEST

/* ---- values derived by hand -------------------------------------------- */

START_TEST(by_hand)
{
    double r;
    const double a[] = { 0 }, b[] = { 1 };
    ck_assert_int_eq(mlops_drift_wasserstein(&r, a, 1, b, 1, NULL, NULL), 0);
    ck_assert(r == 1.0);
    /* energy: sqrt(2 * integral of 1 over [0, 1]) */
    ck_assert_int_eq(mlops_drift_energy_distance(&r, a, 1, b, 1, NULL, NULL), 0);
    ck_assert(fabs(r - sqrt(2.0)) <= 1e-15);
    /* {0, 0, 2} vs {1}: the CDFs differ by 2/3 on [0, 1) and 1/3 on [1, 2) */
    const double u[] = { 0, 2, 0 }, v[] = { 1 };
    ck_assert_int_eq(mlops_drift_wasserstein(&r, u, 3, v, 1, NULL, NULL), 0);
    ck_assert(fabs(r - 1.0) <= 1e-15);
    /* weights 2:1 on {0, 1} vs {1}: 2/3 on [0, 1) */
    const double w2[] = { 2, 1 }, u2[] = { 0, 1 };
    ck_assert_int_eq(mlops_drift_wasserstein(&r, u2, 2, v, 1, w2, NULL), 0);
    ck_assert(fabs(r - 2.0 / 3.0) <= 1e-15);
    /* normed: std of {0, 2, 0} is sqrt(8/9) */
    ck_assert_int_eq(mlops_drift_wasserstein_normed(&r, u, 3, v, 1), 0);
    ck_assert(fabs(r - 1.0 / sqrt(8.0 / 9.0)) <= 1e-15);
    /* normed, constant reference: W / 0.001 (Evidently's floor) */
    const double c3[] = { 5, 5, 5 }, c1[] = { 5.5 };
    ck_assert_int_eq(mlops_drift_wasserstein_normed(&r, c3, 3, c1, 1), 0);
    ck_assert(fabs(r - 500.0) <= 1e-12);

    /* disjoint supports: TV = Hellinger = 1, JS = sqrt(ln 2) nats, 1 bit */
    const double p[] = { 1, 3, 0 }, q[] = { 0, 0, 2 };
    ck_assert_int_eq(mlops_drift_total_variation(&r, p, q, 3), 0);
    ck_assert(r == 1.0);
    ck_assert_int_eq(mlops_drift_hellinger(&r, p, q, 3), 0);
    ck_assert(r == 1.0);
    ck_assert_int_eq(mlops_drift_jensenshannon(&r, p, q, 3, 2), 0);
    ck_assert(fabs(r - 1.0) <= 1e-15);
    ck_assert_int_eq(mlops_drift_jensenshannon(&r, p, q, 3, 0), 0);
    ck_assert(fabs(r - sqrt(log(2.0))) <= 1e-15);
    ck_assert_int_eq(mlops_drift_jensenshannon(&r, p, q, 3, -1), 0); /* base <= 0 means e */
    ck_assert(fabs(r - sqrt(log(2.0))) <= 1e-15);
    ck_assert_int_eq(mlops_drift_kl_divergence(&r, p, q, 3, 0), 0);
    ck_assert(isinf(r) && r > 0);
    /* KL of (1/2, 1/2) from (1/4, 3/4) = ln(4/3)/2 + ... by hand in base 2 */
    const double h1[] = { 1, 1 }, h2[] = { 1, 3 };
    ck_assert_int_eq(mlops_drift_kl_divergence(&r, h1, h2, 2, 2), 0);
    ck_assert(fabs(r - (0.5 * log2(2.0) + 0.5 * log2(2.0 / 3.0))) <= 1e-15);
    /* base between 0 and 1: scipy's sign */
    ck_assert_int_eq(mlops_drift_kl_divergence(&r, h1, h2, 2, 0.5), 0);
    ck_assert(fabs(r + (0.5 * log2(2.0) + 0.5 * log2(2.0 / 3.0))) <= 1e-15);

    /* PSI on edges [0, 2, 4]: reference shares 1/2, 1/2; current 3/4, 1/4 */
    const double ref[] = { 0, 1, 2, 3 }, cur[] = { 0, 0, 0, 3 }, e[] = { 0, 2, 4 };
    mlops_drift_psi_options o = MLOPS_DRIFT_PSI_OPTIONS_INIT;
    o.edges = e;
    o.nedges = 3;
    ck_assert_int_eq(mlops_drift_psi(&r, ref, 4, cur, 4, &o), 0);
    ck_assert(fabs(r - 0.25 * log(3.0)) <= 1e-15);
    /* an empty current bin takes epsilon: cur {0, 0} -> shares 1, eps */
    o.epsilon = 1e-3;
    ck_assert_int_eq(mlops_drift_psi(&r, ref, 4, cur, 2, &o), 0);
    ck_assert(fabs(r - ((1 - 0.5) * log(2.0) + (1e-3 - 0.5) * log(1e-3 / 0.5))) <= 1e-14);
    /* quantile bins of {0, 1, 2, 3} at halves: edges 0, 1.5, 3, one cut at
     * 1.5; cur {0, 0, 0, 3}: shares 3/4, 1/4 against 1/2, 1/2 */
    o = (mlops_drift_psi_options)MLOPS_DRIFT_PSI_OPTIONS_INIT;
    o.bins = 2;
    ck_assert_int_eq(mlops_drift_psi(&r, ref, 4, cur, 4, &o), 0);
    ck_assert(fabs(r - 0.25 * log(3.0)) <= 1e-15);
}
END_TEST

START_TEST(options_init)
{
    mlops_drift_psi_options o;
    memset(&o, 0xab, sizeof o);
    ck_assert_int_eq(mlops_drift_psi_options_init(&o, MLOPS_DRIFT_PSI_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.version, MLOPS_DRIFT_PSI_OPTIONS_VERSION);
    ck_assert_uint_eq(o.bins, 10);
    ck_assert_ptr_null(o.edges);
    ck_assert_uint_eq(o.nedges, 0);
    ck_assert(o.epsilon == 1e-4);
    tu_assert_err(mlops_drift_psi_options_init(&o, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi_options_init(&o, MLOPS_DRIFT_PSI_OPTIONS_VERSION + 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi_options_init(NULL, MLOPS_DRIFT_PSI_OPTIONS_VERSION), MLOPS_EINVALID);
}
END_TEST

/* ---- bad input ----------------------------------------------------------- */

typedef int (*dist_fn)(double *, const double *, const double *, size_t, double);

static int kl(double *o, const double *p, const double *q, size_t k, double b)
{
    return mlops_drift_kl_divergence(o, p, q, k, b);
}
static int js(double *o, const double *p, const double *q, size_t k, double b)
{
    return mlops_drift_jensenshannon(o, p, q, k, b);
}
static int hel(double *o, const double *p, const double *q, size_t k, double b)
{
    (void)b;
    return mlops_drift_hellinger(o, p, q, k);
}
static int tvd(double *o, const double *p, const double *q, size_t k, double b)
{
    (void)b;
    return mlops_drift_total_variation(o, p, q, k);
}

START_TEST(bad_distributions)
{
    static const dist_fn fns[] = { kl, js, hel, tvd };
    const double ok[] = { 1, 2, 3 }, neg[] = { 1, -1, 3 }, zero[] = { 0, 0, 0 };
    const double nan_w[] = { 1, NAN, 3 }, inf_w[] = { 1, INFINITY, 3 }, huge[] = { 1e308, 1e308, 1e308 };
    double r = 0;
    for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
        tu_assert_err(fns[f](NULL, ok, ok, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, NULL, ok, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, NULL, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, ok, 0, 0), MLOPS_EINVALID); /* k = 0 */
        tu_assert_err(fns[f](&r, neg, ok, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, neg, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, zero, ok, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, zero, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, nan_w, ok, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, inf_w, 3, 0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, huge, ok, 3, 0), MLOPS_EINVALID); /* the sum overflows */
        ck_assert_int_eq(fns[f](&r, ok, ok, 3, 0), 0);
    }
    /* bases: 1, NaN and +Inf are unusable; JS also refuses (0, 1) */
    for (size_t f = 0; f < 2; f++) {
        tu_assert_err(fns[f](&r, ok, ok, 3, 1.0), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, ok, 3, NAN), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, ok, 3, INFINITY), MLOPS_EINVALID);
    }
    tu_assert_err(mlops_drift_jensenshannon(&r, ok, ok, 3, 0.5), MLOPS_EINVALID);
}
END_TEST

typedef int (*sample_fn)(double *, const double *, size_t, const double *, size_t, const double *, const double *);

static int normed(double *o, const double *u, size_t nu, const double *v, size_t nv, const double *uw,
                  const double *vw)
{
    ck_assert(!uw && !vw);
    return mlops_drift_wasserstein_normed(o, u, nu, v, nv);
}

START_TEST(bad_samples)
{
    static const sample_fn fns[] = { mlops_drift_wasserstein, mlops_drift_energy_distance, normed };
    const double ok[] = { 1, 2, 3 }, nans[] = { NAN, NAN }, pinf[] = { 1, INFINITY }, minf[] = { -INFINITY, 1 };
    double r;
    for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
        tu_assert_err(fns[f](NULL, ok, 3, ok, 3, NULL, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, NULL, 3, ok, 3, NULL, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, 3, NULL, 3, NULL, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, 0, ok, 3, NULL, NULL), MLOPS_EINVALID);   /* empty */
        tu_assert_err(fns[f](&r, ok, 3, ok, 0, NULL, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, nans, 2, ok, 3, NULL, NULL), MLOPS_EINVALID); /* empty after NaN */
        tu_assert_err(fns[f](&r, ok, 3, nans, 2, NULL, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, pinf, 2, ok, 3, NULL, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, 3, minf, 2, NULL, NULL), MLOPS_EINVALID);
    }
    /* weights: negative, NaN, infinite, all zero, all zero once the NaN
     * value's weight is dropped, a sum that overflows; on either side */
    const double neg[] = { 1, -1, 1 }, nan_w[] = { 1, NAN, 1 }, inf_w[] = { INFINITY, 1, 1 }, zero[] = { 0, 0, 0 };
    const double huge[] = { 1e308, 1e308, 1e308 }, with_nan[] = { 1, NAN, 3 }, w_on_nan[] = { 0, 5, 0 };
    const double *bad[] = { neg, nan_w, inf_w, zero, huge };
    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            tu_assert_err(fns[f](&r, ok, 3, ok, 3, bad[i], NULL), MLOPS_EINVALID);
            tu_assert_err(fns[f](&r, ok, 3, ok, 3, NULL, bad[i]), MLOPS_EINVALID);
            tu_assert_err(fns[f](&r, ok, 3, ok, 3, ok, bad[i]), MLOPS_EINVALID);
        }
        tu_assert_err(fns[f](&r, with_nan, 3, ok, 3, w_on_nan, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, ok, 3, pinf, 2, ok, ok), MLOPS_EINVALID); /* ±Inf with weights too */
        tu_assert_err(fns[f](&r, nans, 2, ok, 3, ok, NULL), MLOPS_EINVALID);
        tu_assert_err(fns[f](&r, NULL, 3, ok, 3, ok, NULL), MLOPS_EINVALID);
        ck_assert_int_eq(fns[f](&r, with_nan, 3, ok, 3, ok, NULL), 0);
    }
    /* the C API takes one weight per value by construction (nu weights for
     * nu values): a length mismatch can only arise in a binding. */
}
END_TEST

START_TEST(bad_psi)
{
    const double ok[] = { 1, 2, 3, 4 }, nans[] = { NAN }, pinf[] = { 1, INFINITY }, minf[] = { -INFINITY };
    double r;
    mlops_drift_psi_options o = MLOPS_DRIFT_PSI_OPTIONS_INIT;
    tu_assert_err(mlops_drift_psi(NULL, ok, 4, ok, 4, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, NULL, 4, ok, 4, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, ok, 4, NULL, 4, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, ok, 0, ok, 4, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, ok, 4, ok, 0, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, nans, 1, ok, 4, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, ok, 4, nans, 1, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, pinf, 2, ok, 4, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, ok, 4, minf, 1, NULL), MLOPS_EINVALID);
    o.bins = 0;
    tu_assert_err(mlops_drift_psi(&r, ok, 4, ok, 4, &o), MLOPS_EINVALID);
    o = (mlops_drift_psi_options)MLOPS_DRIFT_PSI_OPTIONS_INIT;
    o.version = 0;
    tu_assert_err(mlops_drift_psi(&r, ok, 4, ok, 4, &o), MLOPS_EINVALID);
    o.version = MLOPS_DRIFT_PSI_OPTIONS_VERSION + 1;
    tu_assert_err(mlops_drift_psi(&r, ok, 4, ok, 4, &o), MLOPS_EINVALID);
    const double eps_bad[] = { 0, -1e-4, NAN, INFINITY };
    for (size_t i = 0; i < 4; i++) {
        o = (mlops_drift_psi_options)MLOPS_DRIFT_PSI_OPTIONS_INIT;
        o.epsilon = eps_bad[i];
        tu_assert_err(mlops_drift_psi(&r, ok, 4, ok, 4, &o), MLOPS_EINVALID);
    }
    /* edges: unsorted, repeated, NaN, infinite, fewer than 2, NULL with a count */
    const double unsorted[] = { 0, 2, 1, 3 }, repeated[] = { 0, 1, 1, 3 }, nan_e[] = { 0, NAN, 3 };
    const double inf_e[] = { 0, 1, INFINITY }, one[] = { 1 };
    struct {
        const double *e;
        size_t n;
    } bad[] = { { unsorted, 4 }, { repeated, 4 }, { nan_e, 3 }, { inf_e, 3 }, { one, 1 }, { one, 0 }, { NULL, 3 } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        o = (mlops_drift_psi_options)MLOPS_DRIFT_PSI_OPTIONS_INIT;
        o.edges = bad[i].e;
        o.nedges = bad[i].n;
        tu_assert_err(mlops_drift_psi(&r, ok, 4, ok, 4, &o), MLOPS_EINVALID);
    }
    /* with edges, ±Inf is still refused (outside the edges or not) */
    const double e[] = { 0, 10 };
    o = (mlops_drift_psi_options)MLOPS_DRIFT_PSI_OPTIONS_INIT;
    o.edges = e;
    o.nedges = 2;
    tu_assert_err(mlops_drift_psi(&r, ok, 4, pinf, 2, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&r, nans, 1, ok, 4, &o), MLOPS_EINVALID);
    o.bins = 0; /* ignored when edges are given */
    ck_assert_int_eq(mlops_drift_psi(&r, ok, 4, ok, 4, &o), 0);
    ck_assert(r == 0);
}
END_TEST

/* ---- sizes the vectors do not reach -------------------------------------- */

/* The quantile selection must not depend on the order of the reference:
 * orders that defeat a median of three (sorted, reversed, organ pipe),
 * all values equal, few distinct values, and values so close that their
 * top key bits agree (the radix select's skipped digits) give the same
 * PSI as the same values shuffled, below and above the size where the
 * radix select takes over (65,536). */
START_TEST(psi_orders)
{
    static const size_t sizes[] = { 20000, 150001 };
    for (size_t si = 0; si < 2; si++) {
        size_t n = sizes[si];
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *cur = tv_generate("normal", 5, n, 0.3, 3000);
        ck_assert(x && y && cur);
        for (int kind = 0; kind < 6; kind++) {
            for (size_t i = 0; i < n; i++) {
                double d = (double)i;
                switch (kind) {
                case 0: x[i] = d; break;
                case 1: x[i] = (double)n - d; break;
                case 2: x[i] = i < n / 2 ? d : (double)(n - i); break;
                case 3: x[i] = 7; break;
                case 4: x[i] = (double)(i % 3); break;
                default: x[i] = 1e6 + d * 1e-9; break;
                }
            }
            memcpy(y, x, n * sizeof *x);
            uint64_t s = 12345;
            for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates, fixed seed */
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                size_t j = (size_t)((s >> 33) % (uint64_t)(i + 1));
                double t = y[i];
                y[i] = y[j];
                y[j] = t;
            }
            for (size_t bins = 1; bins <= 64; bins = bins * 3 + 1) {
                mlops_drift_psi_options o = MLOPS_DRIFT_PSI_OPTIONS_INIT;
                o.bins = bins;
                double a, b;
                ck_assert_int_eq(mlops_drift_psi(&a, x, n, cur, n, &o), 0);
                ck_assert_int_eq(mlops_drift_psi(&b, y, n, cur, n, &o), 0);
                ck_assert_msg(a == b, "n %zu, order %d, %zu bins: %.17g vs %.17g", n, kind, bins, a, b);
                ck_assert(a >= 0 && isfinite(a));
            }
        }
        free(x);
        free(y);
        free(cur);
    }
}
END_TEST

/* Weights all 1 must give the unweighted (integer) path's value. */
START_TEST(unit_weights)
{
    enum { N = 3000, M = 2000 };
    double *u = tv_generate("normal", 21, N, 0, 1), *v = tv_generate("int", 22, M, -3, 3);
    double *wu = malloc(N * sizeof *wu), *wv = malloc(M * sizeof *wv);
    ck_assert(u && v && wu && wv);
    for (int i = 0; i < N; i++)
        wu[i] = 1;
    for (int i = 0; i < M; i++)
        wv[i] = 1;
    double a, b;
    ck_assert_int_eq(mlops_drift_wasserstein(&a, u, N, v, M, NULL, NULL), 0);
    ck_assert_int_eq(mlops_drift_wasserstein(&b, u, N, v, M, wu, wv), 0);
    ck_assert_msg(fabs(a - b) <= 1e-13 * a, "%.17g vs %.17g", a, b);
    ck_assert_int_eq(mlops_drift_energy_distance(&a, u, N, v, M, NULL, NULL), 0);
    ck_assert_int_eq(mlops_drift_energy_distance(&b, u, N, v, M, NULL, wv), 0);
    ck_assert_msg(fabs(a - b) <= 1e-13 * a, "%.17g vs %.17g", a, b);
    free(u);
    free(v);
    free(wu);
    free(wv);
}
END_TEST

/* ---- allocation failures ------------------------------------------------- */

typedef int (*op_fn)(double *);

static double g_u[300], g_v[200], g_w[300];

static int op_wass(double *r)
{
    return mlops_drift_wasserstein(r, g_u, 300, g_v, 200, NULL, NULL);
}
static int op_wass_weighted(double *r)
{
    return mlops_drift_wasserstein(r, g_u, 300, g_v, 200, g_w, NULL);
}
static int op_energy(double *r)
{
    return mlops_drift_energy_distance(r, g_u, 300, g_v, 200, NULL, g_w);
}
static int op_normed(double *r)
{
    return mlops_drift_wasserstein_normed(r, g_u, 300, g_v, 200);
}
static int op_psi(double *r)
{
    return mlops_drift_psi(r, g_u, 300, g_v, 200, NULL);
}
static int op_psi_edges(double *r)
{
    const double e[] = { -1, 0, 1 };
    mlops_drift_psi_options o = MLOPS_DRIFT_PSI_OPTIONS_INIT;
    o.edges = e;
    o.nedges = 3;
    return mlops_drift_psi(r, g_u, 300, g_v, 200, &o);
}

START_TEST(oom)
{
    for (int i = 0; i < 300; i++) {
        g_u[i] = sin(i * 0.7) * 3;
        g_w[i] = 1 + (i % 5);
    }
    for (int i = 0; i < 200; i++)
        g_v[i] = cos(i * 1.3) * 2 + 0.5;
    static const op_fn ops[] = { op_wass, op_wass_weighted, op_energy, op_normed, op_psi, op_psi_edges };
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
        double want;
        ck_assert_int_eq(ops[k](&want), 0);
        unsigned long n;
        for (n = 1;; n++) {
            tu_alloc a;
            memset(&a, 0, sizeof a);
            tu_alloc_install(&a);
            a.fail_at = n;
            double got = NAN;
            int rc = ops[k](&got);
            tu_alloc_remove();
            ck_assert_msg(a.outstanding == 0, "op %zu, failure %lu: %ld blocks leaked", k, n, a.outstanding);
            if (a.failures == 0) {
                ck_assert_int_eq(rc, 0);
                ck_assert(got == want);
                break;
            }
            tu_assert_err(rc, MLOPS_ENOMEM);
        }
        ck_assert_uint_gt(n, 1); /* at least one allocation was made to fail */
    }
}
END_TEST

/* Finite values whose spread overflows a double: a clear error, not a
 * NaN, infinite or zero result (review finding). */
START_TEST(overflowing_spread)
{
    double big[64], zero[8] = { 0 };
    for (int i = 0; i < 64; i++)
        big[i] = i % 2 ? 1.7e308 : -1.7e308;
    double out = 0;
    tu_assert_err(mlops_drift_wasserstein_normed(&out, big, 64, zero, 8), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_psi(&out, big, 64, zero, 8, NULL), MLOPS_EINVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_distance");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, vectors);
    tcase_add_test(tc, by_hand);
    tcase_add_test(tc, options_init);
    tcase_add_test(tc, bad_distributions);
    tcase_add_test(tc, bad_samples);
    tcase_add_test(tc, bad_psi);
    tcase_add_test(tc, psi_orders);
    tcase_add_test(tc, unit_weights);
    tcase_add_test(tc, oom);
    tcase_add_test(tc, overflowing_spread);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
