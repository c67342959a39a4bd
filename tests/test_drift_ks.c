/*
 * The Kolmogorov-Smirnov test and its distributions against
 * tests/drift/ks.vec (tests/drift/gen_ks.py): scipy 1.10.1's ks_2samp,
 * its exact two-sample distribution and the Kolmogorov / Smirnov special
 * functions, with mpmath's exact values where scipy is not exact (see the
 * script). Statistics within 1e-12 relative, p-values within 1e-10 (1e-300
 * absolute near underflow), special functions as tight as the case says.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift/ks.h"
#include "drift_vec.h"
#include "mlops/drift.h"
#include "testutil.h"

#define STAT_REL 1e-12
#define P_REL 1e-10
#define P_ABS 1e-300
/* Special functions are compared down to the subnormals. */
#define SF_ABS 1e-320

static tv_file vec;

static void setup(void)
{
    tv_load(&vec, "ks.vec");
}

static void teardown(void)
{
    tv_free(&vec);
}

static const tv_case *find_case(const char *name)
{
    for (size_t i = 0; i < vec.ncases; i++)
        if (strcmp(vec.cases[i].name, name) == 0)
            return &vec.cases[i];
    ck_abort_msg("no case '%s' in ks.vec", name);
    return NULL;
}

/* rel is a scalar or one per point. */
static double rel_at(const tv_case *c, size_t i, size_t n)
{
    const tv_field *f = NULL;
    for (size_t k = 0; k < c->nfields; k++)
        if (strcmp(c->fields[k].key, "rel") == 0)
            f = &c->fields[k];
    ck_assert_msg(f != NULL, "%s: no rel", c->name);
    if (!f->is_array)
        return strtod(f->text, NULL);
    ck_assert_msg(f->n == n, "%s: %zu tolerances for %zu points", c->name, f->n, n);
    return f->v[i];
}

/* ---- special functions ---------------------------------------------------- */

static void check_kolmogorov(const char *name)
{
    const tv_case *c = find_case(name);
    size_t n, ns;
    const double *x = tv_arr(c, "x", &n), *sf = tv_arr(c, "sf", &ns);
    ck_assert(n == ns && n > 0);
    for (size_t i = 0; i < n; i++) {
        double got = mlops_drift_kolmogorov_sf(x[i]);
        ck_assert_msg(tv_close(got, sf[i], rel_at(c, i, n), SF_ABS), "%s: kolmogorov(%.17g) = %.17g, want %.17g",
                      name, x[i], got, sf[i]);
    }
}

/* which: 0 smirnov, 1 kstwo by scipy's rule (ks_2samp's asymptotic
 * p-values), 2 the exact kstwo (mlops_drift_kolmogorov_n_sf) */
static void check_nd_in(const tv_case *c, int which)
{
    const char *name = c->name;
    size_t n, nd, ns;
    const double *nn = tv_arr(c, "n", &n), *d = tv_arr(c, "d", &nd), *sf = tv_arr(c, "sf", &ns);
    ck_assert(n == nd && n == ns && n > 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)nn[i];
        double got = NAN;
        if (which == 0)
            got = mlops_drift_smirnov_sf(k, d[i]);
        else if (which == 1)
            ck_assert_int_eq(mlops__drift_kstwo_sf_scipy(&got, k, d[i]), 0);
        else
            got = mlops_drift_kolmogorov_n_sf(k, d[i]);
        static const char *const fn[] = {"smirnov_sf", "kstwo_sf_scipy", "kolmogorov_n_sf"};
        ck_assert_msg(tv_close(got, sf[i], rel_at(c, i, n), SF_ABS), "%s: %s(%llu, %.17g) = %.17g, want %.17g", name,
                      fn[which], (unsigned long long)k, d[i], got, sf[i]);
    }
}

static void check_nd(const char *name, int which)
{
    check_nd_in(find_case(name), which);
}

START_TEST(kolmogorov_limit)
{
    check_kolmogorov("kolmogorov");
    check_kolmogorov("kolmogorov_nan");
}
END_TEST

START_TEST(smirnov_one_sided)
{
    check_nd("smirnov", 0);
    check_nd("smirnov_domain", 0);
}
END_TEST

/* n > 10^6: exact sums (scipy approximates there) */
START_TEST(smirnov_large_n)
{
    check_nd("smirnov_big", 0);
}
END_TEST

/* scipy's rule, which ks_2samp's asymptotic p-values follow, against
 * scipy (exact smirnov sums above n = 10^6) */
START_TEST(kolmogorov_two_sided_n_scipy)
{
    check_nd("kstwo", 1);
    check_nd("kstwo_big", 1);
    check_nd("kstwo_domain", 1);
}
END_TEST

/* The exact survival against Durbin's matrix in mpmath
 * (tests/drift/gen_kstwo.py), where scipy's rule is off by up to 1e-6. */
START_TEST(kolmogorov_two_sided_n_exact)
{
    tv_file exact;
    tv_load(&exact, "kstwo.vec");
    ck_assert_int_eq(exact.ncases, 1);
    check_nd_in(&exact.cases[0], 2);
    tv_free(&exact);
    check_nd("kstwo_domain", 2);
}
END_TEST

/* Up to n = 10^4, beyond what the mpmath reference can afford: the
 * recursion's inside and leaving probabilities add up to 1, and where it
 * hands over to twice the one-sided survival (n d^2 = 6.3; the two-sided
 * excess is below 1e-16 of it there) both agree. The sum drifts from 1
 * by the rounding of the Poisson step weights, the same at every one of
 * the ~2n steps (three step lengths only): n 2^-64 or so, 8.9e-16
 * measured at n = 10^4; a relative error of that size in every mass. */
START_TEST(kolmogorov_two_sided_n_consistent)
{
    static const uint64_t ns[] = {2, 7, 141, 999, 4096, 10000};
    static const double ts[] = {0.02, 0.3, 1.1, 2.2, 4.0, 6.2};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        for (size_t j = 0; j < sizeof ts / sizeof ts[0]; j++) {
            double d = sqrt(ts[j] / (double)ns[i]), sf, cdf;
            if ((double)ns[i] * d <= 1 || d >= 0.5 || (ns[i] > 1000 && j % 2 == 0)) /* 0.3 s each */
                continue;
            ck_assert_int_eq(mlops__drift_kstwo_exit(&sf, &cdf, ns[i], d), 0);
            ck_assert_msg(fabs(sf + cdf - 1) < 2e-19 * (double)ns[i] + 2.3e-16, "n %llu, d %.17g: sf %.17g + cdf %.17g",
                          (unsigned long long)ns[i], d, sf, cdf);
            ck_assert(sf == mlops_drift_kolmogorov_n_sf(ns[i], d));
        }
        double d = sqrt(6.29 / (double)ns[i]);
        if (ns[i] < 100)
            continue;
        double exact = mlops_drift_kolmogorov_n_sf(ns[i], d);
        double two = 2 * mlops_drift_smirnov_sf(ns[i], d);
        ck_assert_msg(tv_close(exact, two, 1e-15, 0), "n %llu: %.17g vs 2 smirnov %.17g", (unsigned long long)ns[i],
                      exact, two);
    }
}
END_TEST

/* Hand-derived values: P(D+_2 >= 1/2) = 1 - d (1 + d) = 1/4 (Birnbaum-
 * Tingey for d <= 1/n); P(D+_1 >= d) = 1 - d; D_1 = max(U, 1 - U), so
 * P(D_1 >= d) = 2 (1 - d) above 1/2 and 1 below; the limit law at 1 is
 * 2 (e^-2 - e^-8 + e^-18 - ...). */
START_TEST(special_hand_values)
{
    ck_assert(tv_close(mlops_drift_smirnov_sf(2, 0.5), 0.25, 1e-15, 0));
    ck_assert(tv_close(mlops_drift_smirnov_sf(1, 0.3), 0.7, 1e-15, 0));
    ck_assert(tv_close(mlops_drift_kolmogorov_n_sf(1, 0.8), 0.4, 1e-15, 0));
    ck_assert(tv_close(mlops_drift_kolmogorov_n_sf(1, 0.5), 1.0, 0, 0));
    double k1 = 2 * (exp(-2.0) - exp(-8.0) + exp(-18.0) - exp(-32.0) + exp(-50.0));
    ck_assert(tv_close(mlops_drift_kolmogorov_sf(1.0), k1, 1e-15, 0));
    ck_assert(mlops_drift_kolmogorov_sf(INFINITY) == 0);
    ck_assert(isnan(mlops_drift_smirnov_sf(3, NAN)));
}
END_TEST

/* ---- the exact two-sample distribution ------------------------------------ */

START_TEST(exact_distribution)
{
    const tv_case *c = find_case("exact");
    size_t n, k;
    const double *n1 = tv_arr(c, "n1", &n), *n2 = tv_arr(c, "n2", &k);
    ck_assert(k == n);
    const double *d = tv_arr(c, "d", &k), *alt = tv_arr(c, "alternative", &k), *ok = tv_arr(c, "ok", &k);
    const double *dr = tv_arr(c, "d_rounded", &k), *p = tv_arr(c, "p", &k);
    ck_assert(k == n && n > 0);
    for (size_t i = 0; i < n; i++) {
        double gp = NAN, gd = NAN;
        int rc = mlops__drift_ks_exact(&gp, &gd, (uint64_t)n1[i], (uint64_t)n2[i], d[i], (mlops_drift_alternative)alt[i]);
        ck_assert_msg(rc == (int)ok[i], "exact(%g, %g, d=%.17g, alt %g): rc %d, scipy %s", n1[i], n2[i], d[i], alt[i],
                      rc, ok[i] ? "succeeds" : "falls back");
        ck_assert_msg(gd == dr[i], "exact(%g, %g, d=%.17g): rounded d %.17g, want %.17g", n1[i], n2[i], d[i], gd,
                      dr[i]);
        if (rc == 1)
            ck_assert_msg(tv_close(gp, p[i], rel_at(c, i, n), P_ABS),
                          "exact(%g, %g, d=%.17g, alt %g) = %.17g, want %.17g", n1[i], n2[i], d[i], alt[i], gp, p[i]);
    }
}
END_TEST

/* ---- ks_2samp --------------------------------------------------------------- */

/* One ks_* case: a pair of samples and, per entry, an alternative and a
 * method (codes as in drift.h) with scipy's answer. */
static void check_ks_case(const tv_case *c)
{
    size_t na, nb, n, k;
    const double *a = tv_arr(c, "a", &na), *b = tv_arr(c, "b", &nb);
    const double *alt = tv_arr(c, "alternative", &n), *meth = tv_arr(c, "method", &k);
    ck_assert(k == n && n > 0);
    const double *used = tv_arr(c, "used", &k), *stat = tv_arr(c, "statistic", &k), *pv = tv_arr(c, "pvalue", &k);
    const double *loc = tv_arr(c, "location", &k), *sign = tv_arr(c, "sign", &k);
    ck_assert(k == n);
    for (size_t i = 0; i < n; i++) {
        mlops_drift_test r;
        memset(&r, 0xab, sizeof r);
        int rc = mlops_drift_ks_2samp(&r, a, na, b, nb, (mlops_drift_alternative)alt[i], (mlops_drift_method)meth[i]);
        ck_assert_msg(rc == 0, "%s[%zu]: rc %d (%s)", c->name, i, rc, mlops_error_last());
        ck_assert_msg(tv_close(r.statistic, stat[i], STAT_REL, 0), "%s[%zu] (alt %g, method %g): statistic %.17g, want %.17g",
                      c->name, i, alt[i], meth[i], r.statistic, stat[i]);
        ck_assert_msg(tv_close(r.pvalue, pv[i], P_REL, P_ABS), "%s[%zu] (alt %g, method %g): p-value %.17g, want %.17g",
                      c->name, i, alt[i], meth[i], r.pvalue, pv[i]);
        ck_assert_msg(r.statistic_location == loc[i], "%s[%zu]: location %.17g, want %.17g", c->name, i,
                      r.statistic_location, loc[i]);
        ck_assert_msg(r.statistic_sign == (int)sign[i], "%s[%zu]: sign %d, want %g", c->name, i, r.statistic_sign,
                      sign[i]);
        ck_assert_msg(r.method == (mlops_drift_method)used[i], "%s[%zu]: method %d, scipy used %g", c->name, i,
                      (int)r.method, used[i]);
        ck_assert_msg(r.n1 == (size_t)tv_num(c, "n1") && r.n2 == (size_t)tv_num(c, "n2"), "%s: sizes %zu %zu",
                      c->name, r.n1, r.n2);
        ck_assert_msg(r.nan1 == (size_t)tv_num(c, "nan1") && r.nan2 == (size_t)tv_num(c, "nan2"), "%s: NaN %zu %zu",
                      c->name, r.nan1, r.nan2);
        ck_assert(isnan(r.dof));
    }
}

/* Every ks_* case, the ones with more than 30,000 values in all (large)
 * or the others. */
static void check_ks_cases(int large)
{
    size_t count = 0;
    for (size_t i = 0; i < vec.ncases; i++) {
        const tv_case *c = &vec.cases[i];
        if (strncmp(c->name, "ks_", 3) != 0)
            continue;
        size_t na, nb;
        tv_arr(c, "a", &na);
        tv_arr(c, "b", &nb);
        if ((na + nb > 30000) != large)
            continue;
        check_ks_case(c);
        count++;
    }
    ck_assert_msg(count > 5, "only %zu ks_2samp cases", count);
}

START_TEST(ks_cases)
{
    check_ks_cases(0);
}
END_TEST

START_TEST(ks_cases_large)
{
    check_ks_cases(1);
}
END_TEST

/* Hand-checked: disjoint samples of 3 and 2 values. D = 1, attained at
 * the first sample's largest value (3.0) with its CDF above; of the
 * C(5, 2) = 10 orderings only the two that keep the samples apart reach
 * D = 1, so the exact two-sided p-value is 0.2, the one-sided 0.1. */
START_TEST(ks_hand_checked)
{
    const double a[] = {1, 2, 3}, b[] = {10, 11};
    mlops_drift_test r;
    ck_assert_int_eq(mlops_drift_ks_2samp(&r, a, 3, b, 2, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_EXACT), 0);
    ck_assert(r.statistic == 1.0);
    ck_assert(tv_close(r.pvalue, 0.2, 1e-15, 0));
    ck_assert(r.statistic_location == 3.0 && r.statistic_sign == 1);
    ck_assert_int_eq(r.method, MLOPS_DRIFT_EXACT);
    /* one-sided "greater" (F1 above F2): 1/C(5, 2) */
    ck_assert_int_eq(mlops_drift_ks_2samp(&r, a, 3, b, 2, MLOPS_DRIFT_GREATER, MLOPS_DRIFT_EXACT), 0);
    ck_assert(tv_close(r.pvalue, 0.1, 1e-15, 0));
    /* "less": F1 is never below F2, D- = 0, p = 1 */
    ck_assert_int_eq(mlops_drift_ks_2samp(&r, a, 3, b, 2, MLOPS_DRIFT_LESS, MLOPS_DRIFT_AUTO), 0);
    ck_assert(r.statistic == 0.0 && r.pvalue == 1.0 && r.statistic_sign == -1);
}
END_TEST

/* ---- bad input ------------------------------------------------------------- */

START_TEST(ks_bad_input)
{
    const double a[] = {1, 2, 3}, nan3[] = {NAN, NAN, NAN};
    mlops_drift_test r;
    tu_assert_err(mlops_drift_ks_2samp(NULL, a, 3, a, 3, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, NULL, 3, a, 3, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, NULL, 3, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 0, a, 3, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, a, 0, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, NULL, 0, a, 3, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, nan3, 3, a, 3, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, nan3, 3, MLOPS_DRIFT_LESS, MLOPS_DRIFT_EXACT), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, a, 3, (mlops_drift_alternative)3, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, a, 3, (mlops_drift_alternative)-1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, a, 3, MLOPS_DRIFT_TWO_SIDED, (mlops_drift_method)3), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ks_2samp(&r, a, 3, a, 3, MLOPS_DRIFT_TWO_SIDED, (mlops_drift_method)-7),
                  MLOPS_EINVALID);

    mlops_drift_alternative alt;
    mlops_drift_method meth;
    tu_assert_err(mlops_drift_alternative_parse(&alt, "two_sided"), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_alternative_parse(&alt, "Two-Sided"), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_alternative_parse(&alt, ""), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_alternative_parse(&alt, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_alternative_parse(NULL, "less"), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_method_parse(&meth, "asymptotics"), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_method_parse(&meth, "approx"), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_method_parse(&meth, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_method_parse(NULL, "exact"), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_alternative_parse(&alt, "greater"), 0);
    ck_assert_int_eq(alt, MLOPS_DRIFT_GREATER);
    ck_assert_int_eq(mlops_drift_method_parse(&meth, "asymptotic"), 0);
    ck_assert_int_eq(meth, MLOPS_DRIFT_ASYMPTOTIC);
}
END_TEST

/* Out of memory at every allocation in turn: MLOPS_ENOMEM, nothing leaked,
 * then the same answer as without failures. Covers the sample copies, the
 * radix sort's scratch, the exact recursions and the Durbin matrix. */
START_TEST(ks_out_of_memory)
{
    double a[300], b[200];
    for (int i = 0; i < 300; i++)
        a[i] = sin(i * 1.7) * 3;
    for (int i = 0; i < 200; i++)
        b[i] = cos(i * 0.9) * 3 + 0.2;
    static const struct {
        mlops_drift_alternative alt;
        mlops_drift_method meth;
        size_t nb;
    } runs[] = {
        {MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_EXACT, 200}, /* band recursion */
        {MLOPS_DRIFT_GREATER, MLOPS_DRIFT_EXACT, 7},     /* one-sided paths */
        {MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_ASYMPTOTIC, 200},
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        mlops_drift_test want, got;
        ck_assert_int_eq(mlops_drift_ks_2samp(&want, a, 300, b, runs[k].nb, runs[k].alt, runs[k].meth), 0);
        int ok = 0;
        for (unsigned long n = 1; n < 50 && !ok; n++) {
            tu_alloc al;
            memset(&al, 0, sizeof al);
            al.fail_at = n;
            tu_alloc_install(&al);
            int rc = mlops_drift_ks_2samp(&got, a, 300, b, runs[k].nb, runs[k].alt, runs[k].meth);
            tu_alloc_remove();
            ck_assert_msg(al.outstanding == 0, "run %zu, failing allocation %lu: %ld blocks leaked", k, n,
                          al.outstanding);
            if (al.failures == 0) {
                ck_assert_int_eq(rc, 0);
                ok = 1;
            } else {
                tu_assert_err(rc, MLOPS_ENOMEM);
            }
        }
        ck_assert_msg(ok, "run %zu never succeeded", k);
        ck_assert(got.statistic == want.statistic && got.method == want.method);
        ck_assert(got.pvalue == want.pvalue || (isnan(got.pvalue) && isnan(want.pvalue)));
    }
    /* the asymptotic p-value's Durbin matrix (n <= 140, n d^2 small) and
     * the exact survival's rows */
    for (int which = 0; which < 2; which++) {
        double want = NAN, got = NAN;
        int (*sf)(double *, uint64_t, double) = which ? mlops__drift_kolmogorov_n_sf : mlops__drift_kstwo_sf_scipy;
        ck_assert_int_eq(sf(&want, 100, 0.05), 0);
        ck_assert(want > 0.9 && want < 1);
        for (unsigned long n = 1;; n++) {
            tu_alloc al;
            memset(&al, 0, sizeof al);
            al.fail_at = n;
            tu_alloc_install(&al);
            int rc = sf(&got, 100, 0.05);
            tu_alloc_remove();
            ck_assert(al.outstanding == 0);
            if (al.failures == 0) {
                ck_assert_int_eq(rc, 0);
                break;
            }
            tu_assert_err(rc, MLOPS_ENOMEM);
            ck_assert(isnan(got));
        }
        ck_assert(got == want);
    }
    ck_assert(isnan(mlops_drift_kolmogorov_n_sf(100, NAN)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_ks");
    TCase *tc = tcase_create("special");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, kolmogorov_limit);
    tcase_add_test(tc, smirnov_one_sided);
    tcase_add_test(tc, smirnov_large_n);
    tcase_add_test(tc, kolmogorov_two_sided_n_scipy);
    tcase_add_test(tc, kolmogorov_two_sided_n_exact);
    tcase_add_test(tc, kolmogorov_two_sided_n_consistent);
    tcase_add_test(tc, special_hand_values);
    suite_add_tcase(s, tc);

    tc = tcase_create("exact");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, exact_distribution);
    suite_add_tcase(s, tc);

    tc = tcase_create("ks_2samp");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ks_cases);
    tcase_add_test(tc, ks_cases_large);
    tcase_add_test(tc, ks_hand_checked);
    tcase_add_test(tc, ks_bad_input);
    tcase_add_test(tc, ks_out_of_memory);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
