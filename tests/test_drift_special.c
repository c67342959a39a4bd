/*
 * Special functions of the drift module against tests/drift/special.vec
 * (tests/drift/gen_special.py): the regularized incomplete gamma functions
 * and the chi-square survival function against mpmath's 50-digit values
 * (scipy 1.10 is off by up to 1e-12 in the far tails and by whole percents
 * for a ~ 1e7 just beyond 4.5 sqrt(a) of x = a, see the script), their
 * edge values against scipy's, and the normal survival function against
 * mpmath and scipy.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "drift_vec.h"
#include "mlops/drift.h"
#include "testutil.h"

/* The accuracy the header promises wherever the value is a normal double;
 * below DBL_MIN anything within DBL_MIN passes. */
#define GAMMA_REL 1e-14

static tv_file vec;

static const tv_case *find_case(const char *name)
{
    for (size_t i = 0; i < vec.ncases; i++) {
        if (strcmp(vec.cases[i].name, name) == 0)
            return &vec.cases[i];
    }
    ck_abort_msg("no case '%s' in special.vec", name);
    return NULL;
}

static void setup(void)
{
    tv_load(&vec, "special.vec");
}

static void teardown(void)
{
    tv_free(&vec);
}

/* Every point of a gamma_* case: P and Q within rel of the true values. */
static void check_gamma_case(const char *name, double rel, double abs)
{
    const tv_case *c = find_case(name);
    size_t na, nx, np, nq;
    const double *a = tv_arr(c, "a", &na), *x = tv_arr(c, "x", &nx);
    const double *p = tv_arr(c, "p", &np), *q = tv_arr(c, "q", &nq);
    ck_assert(na == nx && na == np && na == nq && na > 0);
    for (size_t i = 0; i < na; i++) {
        double gp = mlops_drift_gammainc(a[i], x[i]), gq = mlops_drift_gammaincc(a[i], x[i]);
        ck_assert_msg(tv_close(gp, p[i], rel, abs), "%s: P(%.17g, %.17g) = %.17g, want %.17g", name, a[i], x[i], gp,
                      p[i]);
        ck_assert_msg(tv_close(gq, q[i], rel, abs), "%s: Q(%.17g, %.17g) = %.17g, want %.17g", name, a[i], x[i], gq,
                      q[i]);
    }
}

START_TEST(gamma_grid)
{
    check_gamma_case("gamma_grid", GAMMA_REL, DBL_MIN);
}
END_TEST

START_TEST(gamma_q_far_tail)
{
    /* x >> a, Q from 1e-9 down to 1e-300 */
    check_gamma_case("gamma_q_tail", GAMMA_REL, DBL_MIN);
}
END_TEST

START_TEST(gamma_p_far_tail)
{
    /* x << a, P down to underflow */
    check_gamma_case("gamma_p_tail", GAMMA_REL, DBL_MIN);
}
END_TEST

START_TEST(gamma_large_a)
{
    /* a up to 1e9, x within 40 standard deviations of a */
    check_gamma_case("gamma_large_a", GAMMA_REL, DBL_MIN);
}
END_TEST

START_TEST(gamma_small_a)
{
    /* a down to 1e-300 (Q ~ a E1(x)), x down to 1e-300 */
    check_gamma_case("gamma_small_a", GAMMA_REL, DBL_MIN);
}
END_TEST

START_TEST(gamma_random)
{
    check_gamma_case("gamma_random", GAMMA_REL, DBL_MIN);
}
END_TEST

START_TEST(gamma_edges)
{
    /* scipy's values outside the interior of the domain: exact, NaN = NaN */
    check_gamma_case("gamma_edges", 0.0, 0.0);
}
END_TEST

START_TEST(gamma_complement)
{
    /* P + Q = 1 where neither is tiny, across the region boundaries
     * (a = 20, x = 1.1, |x - a| = 0.3 a) */
    static const double as[] = {0.3, 1.0, 5.0, 19.99, 20.01, 150.0, 1e4};
    static const double rs[] = {0.5, 0.69999, 0.70001, 0.99, 1.0, 1.01, 1.29999, 1.30001, 2.0};
    for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
        for (size_t j = 0; j < sizeof rs / sizeof rs[0]; j++) {
            double a = as[i], x = a * rs[j];
            double s = mlops_drift_gammainc(a, x) + mlops_drift_gammaincc(a, x);
            ck_assert_msg(fabs(s - 1.0) <= 4 * DBL_EPSILON, "P + Q = %.17g at a = %g, x = %g", s, a, x);
        }
    }
}
END_TEST

START_TEST(chi2_sf_values)
{
    const tv_case *c = find_case("chi2_sf");
    size_t n, nk, ns;
    const double *x = tv_arr(c, "x", &n), *k = tv_arr(c, "dof", &nk), *sf = tv_arr(c, "sf", &ns);
    ck_assert(n == nk && n == ns && n > 0);
    for (size_t i = 0; i < n; i++) {
        double got = mlops_drift_chi2_sf(x[i], k[i]);
        ck_assert_msg(tv_close(got, sf[i], GAMMA_REL, DBL_MIN), "chi2_sf(%.17g, %.17g) = %.17g, want %.17g", x[i],
                      k[i], got, sf[i]);
    }
}
END_TEST

START_TEST(chi2_sf_edges)
{
    const tv_case *c = find_case("chi2_sf_edges");
    size_t n, nk, ns;
    const double *x = tv_arr(c, "x", &n), *k = tv_arr(c, "dof", &nk), *sf = tv_arr(c, "sf", &ns);
    ck_assert(n == nk && n == ns && n > 0);
    for (size_t i = 0; i < n; i++) {
        double got = mlops_drift_chi2_sf(x[i], k[i]);
        ck_assert_msg(tv_close(got, sf[i], 0.0, 0.0), "chi2_sf(%g, %g) = %.17g, want %.17g (scipy)", x[i], k[i], got,
                      sf[i]);
    }
}
END_TEST

START_TEST(chi2_sf_closed_forms)
{
    /* dof 2: e^(-x/2), exactly what exp gives for an exact argument;
     * dof 1: erfc(sqrt(x/2)) where sqrt(x/2) is exact */
    static const double xs[] = {1e-6, 0.5, 3.0, 100.0, 1000.0, 1400.0};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double got = mlops_drift_chi2_sf(xs[i], 2.0), want = exp(-xs[i] / 2);
        ck_assert_msg(tv_close(got, want, 4 * DBL_EPSILON, 0.0), "chi2_sf(%g, 2) = %.17g, want %.17g", xs[i], got,
                      want);
    }
    static const double ys[] = {0.25, 1.0, 2.0, 8.0, 18.0};
    for (size_t i = 0; i < sizeof ys / sizeof ys[0]; i++) {
        double x = 2 * ys[i] * ys[i], got = mlops_drift_chi2_sf(x, 1.0), want = erfc(ys[i]);
        ck_assert_msg(tv_close(got, want, 1e-15, 0.0), "chi2_sf(%g, 1) = %.17g, want %.17g", x, got, want);
    }
}
END_TEST

START_TEST(norm_sf_values)
{
    /* Against mpmath: 1e-14 relative everywhere (special_normal.c forms
     * x^2 exactly, where scipy's ndtr loses ~x^2 2^-53 at large x); against
     * scipy: 1e-12. */
    const tv_case *c = find_case("norm_sf");
    size_t n, ns, nsc;
    const double *x = tv_arr(c, "x", &n), *sf = tv_arr(c, "sf", &ns), *sc = tv_arr(c, "scipy", &nsc);
    ck_assert(n == ns && n == nsc && n > 0);
    for (size_t i = 0; i < n; i++) {
        double got = mlops_drift_norm_sf(x[i]);
        double rel = !isfinite(x[i]) ? 0.0 : 1e-14;
        ck_assert_msg(tv_close(got, sf[i], rel, DBL_MIN), "norm_sf(%.17g) = %.17g, want %.17g (rel %g)", x[i], got,
                      sf[i], rel);
        ck_assert_msg(tv_close(got, sc[i], 1e-12, DBL_MIN), "norm_sf(%.17g) = %.17g, scipy %.17g", x[i], got, sc[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_special");
    TCase *tc = tcase_create("gamma");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, gamma_grid);
    tcase_add_test(tc, gamma_q_far_tail);
    tcase_add_test(tc, gamma_p_far_tail);
    tcase_add_test(tc, gamma_large_a);
    tcase_add_test(tc, gamma_small_a);
    tcase_add_test(tc, gamma_random);
    tcase_add_test(tc, gamma_edges);
    tcase_add_test(tc, gamma_complement);
    suite_add_tcase(s, tc);
    tc = tcase_create("chi2_normal");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, chi2_sf_values);
    tcase_add_test(tc, chi2_sf_edges);
    tcase_add_test(tc, chi2_sf_closed_forms);
    tcase_add_test(tc, norm_sf_values);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
