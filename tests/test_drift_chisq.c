/*
 * Chi-square goodness of fit, chi-square test of contingency tables and
 * the two-proportion Z-test against tests/drift/chisq.vec
 * (tests/drift/gen_chisq.py: scipy.stats.chisquare / chi2_contingency and
 * a transcription of Evidently's z_stat_test), and every bad input.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drift_vec.h"
#include "mlops/drift.h"
#include "testutil.h"

/* The agreement: statistics 1e-12 relative, p-values 1e-10
 * relative (1e-300 absolute near underflow). */
#define STAT_REL 1e-12
#define P_REL 1e-10
#define P_ABS 1e-300

static tv_file vec;

static void setup(void)
{
    tv_load(&vec, "chisq.vec");
}

static void teardown(void)
{
    tv_free(&vec);
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_common(const tv_case *c, const mlops_drift_test *t)
{
    ck_assert_msg(isnan(t->statistic_location) && t->statistic_sign == 0, "%s: KS-only fields set", c->name);
    ck_assert_msg(t->method == MLOPS_DRIFT_ASYMPTOTIC, "%s: method %d", c->name, (int)t->method);
    ck_assert_msg(t->nan1 == 0 && t->nan2 == 0, "%s: NaN counts set", c->name);
}

/* ---- chisquare ----------------------------------------------------------- */

START_TEST(chisquare_vectors)
{
    size_t ncases = 0;
    for (size_t i = 0; i < vec.ncases; i++) {
        const tv_case *c = &vec.cases[i];
        if (!has_prefix(c->name, "chisquare_"))
            continue;
        ncases++;
        size_t k, ke = 0;
        const double *obs = tv_arr(c, "f_obs", &k);
        const double *exp = tv_has(c, "f_exp") ? tv_arr(c, "f_exp", &ke) : NULL;
        ck_assert(!exp || ke == k);
        mlops_drift_test t;
        int rc = mlops_drift_chisquare(&t, obs, exp, k, (int)tv_num(c, "ddof"));
        ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, mlops_error_last());
        tv_assert_close(c, "statistic", t.statistic, tv_num(c, "stat"), STAT_REL, 0.0);
        tv_assert_close(c, "pvalue", t.pvalue, tv_num(c, "p"), P_REL, P_ABS);
        ck_assert_msg(t.dof == tv_num(c, "dof"), "%s: dof %g", c->name, t.dof);
        ck_assert_msg(t.n1 == k && t.n2 == 0, "%s: n1 %zu n2 %zu", c->name, t.n1, t.n2);
        check_common(c, &t);
    }
    ck_assert_uint_ge(ncases, 30);
}
END_TEST

START_TEST(chisquare_bad_input)
{
    mlops_drift_test t;
    const double obs[] = {4, 5, 6}, exp[] = {5, 5, 5};
    tu_assert_err(mlops_drift_chisquare(NULL, obs, NULL, 3, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chisquare(&t, NULL, NULL, 3, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chisquare(&t, NULL, exp, 3, 0), MLOPS_EINVALID);
    /* empty */
    tu_assert_err(mlops_drift_chisquare(&t, obs, NULL, 0, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chisquare(&t, obs, exp, 0, 0), MLOPS_EINVALID);
    /* negative or non-finite counts, in f_obs or f_exp */
    const double bad[][3] = {{4, -1, 6}, {4, NAN, 6}, {4, INFINITY, 6}, {-INFINITY, 5, 6}, {4, 5, -0.5}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_assert_err(mlops_drift_chisquare(&t, bad[i], NULL, 3, 0), MLOPS_EINVALID);
        tu_assert_err(mlops_drift_chisquare(&t, bad[i], exp, 3, 0), MLOPS_EINVALID);
        tu_assert_err(mlops_drift_chisquare(&t, obs, bad[i], 3, 0), MLOPS_EINVALID);
    }
    /* all-zero observed counts */
    const double zeros[] = {0, 0, 0};
    tu_assert_err(mlops_drift_chisquare(&t, zeros, NULL, 3, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chisquare(&t, zeros, exp, 3, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chisquare(&t, obs, zeros, 3, 0), MLOPS_EINVALID);
    /* an expected count of 0 (sums agreeing) */
    const double exp0[] = {0, 7.5, 7.5};
    tu_assert_err(mlops_drift_chisquare(&t, obs, exp0, 3, 0), MLOPS_EINVALID);
    /* sums that differ by more than scipy's relative 1e-8; 0.9e-8 passes */
    const double far[] = {5, 5, 5.000001}, near[] = {5, 5, 5 + 1.35e-7};
    tu_assert_err(mlops_drift_chisquare(&t, obs, far, 3, 0), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_chisquare(&t, obs, near, 3, 0), 0);
}
END_TEST

/* ---- chi2_contingency ------------------------------------------------------- */

START_TEST(contingency_vectors)
{
    size_t ncases = 0;
    for (size_t i = 0; i < vec.ncases; i++) {
        const tv_case *c = &vec.cases[i];
        if (!has_prefix(c->name, "contingency_"))
            continue;
        ncases++;
        size_t n;
        const double *table = tv_arr(c, "table", &n);
        size_t rows = (size_t)tv_num(c, "rows"), cols = (size_t)tv_num(c, "cols");
        ck_assert(rows * cols == n);
        double *expected = malloc(n * sizeof *expected);
        ck_assert_ptr_nonnull(expected);
        for (size_t j = 0; j < n; j++)
            expected[j] = -1.0;
        mlops_drift_test t, t2;
        int corr = tv_num(c, "correction") != 0;
        int rc = mlops_drift_chi2_contingency(&t, expected, table, rows, cols, corr);
        ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, mlops_error_last());
        tv_assert_close(c, "statistic", t.statistic, tv_num(c, "stat"), STAT_REL, 0.0);
        tv_assert_close(c, "pvalue", t.pvalue, tv_num(c, "p"), P_REL, P_ABS);
        ck_assert_msg(t.dof == tv_num(c, "dof"), "%s: dof %g", c->name, t.dof);
        ck_assert_msg(t.n1 == (size_t)tv_num(c, "kept_rows") && t.n2 == (size_t)tv_num(c, "kept_cols"),
                      "%s: kept %zu x %zu", c->name, t.n1, t.n2);
        check_common(c, &t);
        if (tv_has(c, "expected")) {
            size_t ne;
            const double *want = tv_arr(c, "expected", &ne);
            ck_assert(ne == n);
            for (size_t j = 0; j < n; j++)
                ck_assert_msg(tv_close(expected[j], want[j], STAT_REL, 0.0), "%s: expected[%zu] = %.17g, want %.17g",
                              c->name, j, expected[j], want[j]);
        } else {
            for (size_t j = 0; j < n; j++)
                ck_assert_msg(expected[j] >= 0.0, "%s: expected[%zu] not written", c->name, j);
        }
        /* expected NULL gives the same result */
        ck_assert_int_eq(mlops_drift_chi2_contingency(&t2, NULL, table, rows, cols, corr), 0);
        ck_assert(t2.statistic == t.statistic && t2.dof == t.dof);
        ck_assert(t2.pvalue == t.pvalue);
        free(expected);
    }
    ck_assert_uint_ge(ncases, 30);
}
END_TEST

START_TEST(contingency_transpose)
{
    /* the test does not depend on which variable is the row: the
     * transposed table gives the same statistic, p-value and dof */
    const double a[] = {10, 0, 5, 7, 8, 4, 0, 9, 1, 0, 2, 3};
    double at[12];
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++)
            at[j * 3 + i] = a[i * 4 + j];
    mlops_drift_test t1, t2;
    ck_assert_int_eq(mlops_drift_chi2_contingency(&t1, NULL, a, 3, 4, 1), 0);
    ck_assert_int_eq(mlops_drift_chi2_contingency(&t2, NULL, at, 4, 3, 1), 0);
    ck_assert(tv_close(t1.statistic, t2.statistic, 1e-14, 0.0));
    ck_assert(tv_close(t1.pvalue, t2.pvalue, 1e-13, 0.0));
    ck_assert(t1.dof == 6.0 && t2.dof == 6.0);
}
END_TEST

START_TEST(contingency_bad_input)
{
    mlops_drift_test t;
    double e[6];
    const double ok[] = {1, 2, 3, 4, 5, 6};
    tu_assert_err(mlops_drift_chi2_contingency(NULL, e, ok, 2, 3, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chi2_contingency(&t, e, NULL, 2, 3, 1), MLOPS_EINVALID);
    /* empty tables */
    tu_assert_err(mlops_drift_chi2_contingency(&t, e, ok, 0, 3, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chi2_contingency(&t, e, ok, 2, 0, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chi2_contingency(&t, e, ok, 0, 0, 0), MLOPS_EINVALID);
    /* a size that cannot exist is refused before the table is read */
    tu_assert_err(mlops_drift_chi2_contingency(&t, NULL, ok, SIZE_MAX, 2, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chi2_contingency(&t, NULL, ok, SIZE_MAX / sizeof(double) + 1, 1, 1), MLOPS_EINVALID);
    /* negative, NaN, infinite counts anywhere */
    const double badv[] = {-1, NAN, INFINITY, -INFINITY, -1e-300};
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        for (size_t pos = 0; pos < 6; pos++) {
            double tb[6] = {1, 2, 3, 4, 5, 6};
            tb[pos] = badv[i];
            tu_assert_err(mlops_drift_chi2_contingency(&t, e, tb, 2, 3, 1), MLOPS_EINVALID);
        }
    }
    /* all-zero table */
    const double zeros[6] = {0};
    tu_assert_err(mlops_drift_chi2_contingency(&t, e, zeros, 2, 3, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chi2_contingency(&t, e, zeros, 1, 1, 0), MLOPS_EINVALID);
}
END_TEST

START_TEST(contingency_out_of_memory)
{
    const double tb[] = {10, 0, 5, 7, 8, 4, 0, 9};
    mlops_drift_test want, t;
    ck_assert_int_eq(mlops_drift_chi2_contingency(&want, NULL, tb, 2, 4, 1), 0);
    int ok = 0;
    for (unsigned long n = 1; !ok && n < 10; n++) {
        tu_alloc al;
        memset(&al, 0, sizeof al);
        al.fail_at = n;
        tu_alloc_install(&al);
        int rc = mlops_drift_chi2_contingency(&t, NULL, tb, 2, 4, 1);
        tu_alloc_remove();
        ck_assert_int_eq(al.outstanding, 0);
        if (rc == 0) {
            ok = 1;
            ck_assert(t.statistic == want.statistic && t.pvalue == want.pvalue);
        } else {
            tu_assert_err(rc, MLOPS_ENOMEM);
        }
    }
    ck_assert(ok);
}
END_TEST

/* ---- Z-test ------------------------------------------------------------------ */

START_TEST(ztest_vectors)
{
    size_t ncases = 0;
    for (size_t i = 0; i < vec.ncases; i++) {
        const tv_case *c = &vec.cases[i];
        if (!has_prefix(c->name, "ztest_"))
            continue;
        ncases++;
        uint64_t x1 = (uint64_t)tv_num(c, "x1"), n1 = (uint64_t)tv_num(c, "n1");
        uint64_t x2 = (uint64_t)tv_num(c, "x2"), n2 = (uint64_t)tv_num(c, "n2");
        mlops_drift_test t, s;
        int rc = mlops_drift_ztest_proportions(&t, x1, n1, x2, n2);
        ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, mlops_error_last());
        tv_assert_close(c, "z", t.statistic, tv_num(c, "z"), STAT_REL, 0.0);
        tv_assert_close(c, "pvalue", t.pvalue, tv_num(c, "p"), P_REL, P_ABS);
        ck_assert(t.n1 == n1 && t.n2 == n2 && isnan(t.dof));
        check_common(c, &t);
        /* swapping the samples negates z and keeps the p-value */
        ck_assert_int_eq(mlops_drift_ztest_proportions(&s, x2, n2, x1, n1), 0);
        ck_assert_msg(s.statistic == -t.statistic && s.pvalue == t.pvalue, "%s: swapped %.17g %.17g", c->name,
                      s.statistic, s.pvalue);
    }
    ck_assert_uint_ge(ncases, 20);
}
END_TEST

START_TEST(ztest_bad_input)
{
    mlops_drift_test t;
    tu_assert_err(mlops_drift_ztest_proportions(NULL, 1, 2, 1, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ztest_proportions(&t, 0, 0, 1, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ztest_proportions(&t, 1, 2, 0, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ztest_proportions(&t, 0, 0, 0, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ztest_proportions(&t, 3, 2, 1, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ztest_proportions(&t, 1, 2, 3, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_ztest_proportions(&t, UINT64_MAX, 1, 0, 1), MLOPS_EINVALID);
}
END_TEST

/* Counts whose sum overflows a double: EINVALID, not a NaN result. */
START_TEST(chisquare_overflowing_sum)
{
    double obs[2] = { 1e308, 1e308 }, exp_ok[2] = { 1, 1 };
    mlops_drift_test t;
    tu_assert_err(mlops_drift_chisquare(&t, obs, NULL, 2, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_chisquare(&t, exp_ok, obs, 2, 0), MLOPS_EINVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_chisq");
    TCase *tc = tcase_create("chisquare");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, chisquare_vectors);
    tcase_add_test(tc, chisquare_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("contingency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, contingency_vectors);
    tcase_add_test(tc, contingency_transpose);
    tcase_add_test(tc, contingency_bad_input);
    tcase_add_test(tc, contingency_out_of_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("ztest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ztest_vectors);
    tcase_add_test(tc, ztest_bad_input);
    tcase_add_test(tc, chisquare_overflowing_sum);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
