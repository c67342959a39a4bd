/*
 * The rank tests — Mann-Whitney U, Anderson-Darling k-sample, Cramér-von
 * Mises two-sample — against tests/drift/ranks.vec (scipy 1.10.1, exact
 * rationals and mpmath; see gen_ranks.py for where each expectation comes
 * from), the pooled walk against brute-force ranks, every bad input, and
 * out-of-memory failures.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift/ranks.h"
#include "drift/sample.h"
#include "drift_vec.h"
#include "mlops/drift.h"
#include "testutil.h"

/* The agreement: statistics 1e-12 relative, p-values 1e-10
 * relative, 1e-300 absolute near underflow. */
#define STAT_REL 1e-12
#define P_REL 1e-10
#define P_ABS 1e-300

static mlops_drift_method method_of(const tv_case *c, const char *key)
{
    mlops_drift_method m;
    ck_assert_int_eq(mlops_drift_method_parse(&m, tv_str(c, key)), 0);
    return m;
}

static int is_test(const tv_case *c, const char *name)
{
    return strcmp(tv_str(c, "test"), name) == 0;
}

static void check_common(const tv_case *c, const mlops_drift_test *t)
{
    tv_assert_close(c, "statistic", t->statistic, tv_num(c, "statistic"), STAT_REL, 0);
    tv_assert_close(c, "pvalue", t->pvalue, tv_num(c, "pvalue"), P_REL, P_ABS);
    ck_assert_msg(t->method == method_of(c, "method_used"), "%s: method %d, want %s", c->name, (int)t->method,
                  tv_str(c, "method_used"));
    ck_assert_msg(t->nan1 == (size_t)tv_num(c, "nan1") && t->nan2 == (size_t)tv_num(c, "nan2"),
                  "%s: nan counts %zu %zu", c->name, t->nan1, t->nan2);
    ck_assert(isnan(t->statistic_location) && t->statistic_sign == 0 && isnan(t->dof));
}

START_TEST(mannwhitneyu_vectors)
{
    tv_file f;
    tv_load(&f, "ranks.vec");
    size_t seen = 0;
    for (size_t i = 0; i < f.ncases; i++) {
        const tv_case *c = &f.cases[i];
        if (!is_test(c, "mwu"))
            continue;
        size_t na, nb;
        const double *a = tv_arr(c, "a", &na), *b = tv_arr(c, "b", &nb);
        mlops_drift_alternative alt;
        ck_assert_int_eq(mlops_drift_alternative_parse(&alt, tv_str(c, "alternative")), 0);
        int cont = (int)tv_num(c, "continuity");
        mlops_drift_test t;
        int rc = mlops_drift_mannwhitneyu(&t, a, na, b, nb, alt, cont, method_of(c, "method"));
        if (tv_has(c, "error")) {
            tu_assert_err(rc, MLOPS_EINVALID);
        } else {
            ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, mlops_error_last());
            check_common(c, &t);
            ck_assert_uint_eq(t.n1 + t.nan1, na);
            ck_assert_uint_eq(t.n2 + t.nan2, nb);
        }
        seen++;
    }
    ck_assert_uint_ge(seen, 80);
    tv_free(&f);
}
END_TEST

START_TEST(anderson_vectors)
{
    tv_file f;
    tv_load(&f, "ranks.vec");
    size_t seen = 0;
    for (size_t i = 0; i < f.ncases; i++) {
        const tv_case *c = &f.cases[i];
        if (!is_test(c, "anderson"))
            continue;
        size_t k = (size_t)tv_num(c, "k");
        const double *samples[8];
        size_t sizes[8];
        ck_assert(k <= 8);
        for (size_t j = 0; j < k; j++) {
            char key[8];
            snprintf(key, sizeof key, "s%zu", j);
            samples[j] = tv_arr(c, key, &sizes[j]);
        }
        mlops_drift_anderson r;
        int rc = mlops_drift_anderson_ksamp(&r, samples, sizes, k);
        if (tv_has(c, "error")) {
            tu_assert_err(rc, MLOPS_EINVALID);
        } else {
            ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, mlops_error_last());
            tv_assert_close(c, "statistic", r.statistic, tv_num(c, "statistic"), STAT_REL, 0);
            tv_assert_close(c, "pvalue", r.pvalue, tv_num(c, "pvalue"), P_REL, 0);
            size_t nc;
            const double *crit = tv_arr(c, "critical", &nc);
            ck_assert_uint_eq(nc, 7);
            for (size_t j = 0; j < 7; j++)
                tv_assert_close(c, "critical value", r.critical_values[j], crit[j], STAT_REL, 0);
            ck_assert_uint_eq(r.nan_total, (size_t)tv_num(c, "nan_total"));
        }
        seen++;
    }
    ck_assert_uint_ge(seen, 40);
    tv_free(&f);
}
END_TEST

START_TEST(cramervonmises_vectors)
{
    tv_file f;
    tv_load(&f, "ranks.vec");
    size_t seen = 0;
    for (size_t i = 0; i < f.ncases; i++) {
        const tv_case *c = &f.cases[i];
        if (!is_test(c, "cvm"))
            continue;
        size_t na, nb;
        const double *a = tv_arr(c, "a", &na), *b = tv_arr(c, "b", &nb);
        mlops_drift_test t;
        int rc = mlops_drift_cramervonmises_2samp(&t, a, na, b, nb, method_of(c, "method"));
        if (tv_has(c, "error")) {
            tu_assert_err(rc, MLOPS_EINVALID);
        } else {
            ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, mlops_error_last());
            check_common(c, &t);
        }
        seen++;
    }
    ck_assert_uint_ge(seen, 50);
    tv_free(&f);
}
END_TEST

/* ---- the pooled walk, against ranks computed the slow way --------------- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

START_TEST(pool_matches_brute_force)
{
    double pool_vals[] = { -INFINITY, -0.0, 0.0, 1, 2, 2.5, INFINITY };
    for (unsigned seed = 1; seed <= 200; seed++) {
        size_t k = 1 + seed % 4, total = 0;
        mlops__drift_sample s[4];
        double *all = tu_xmalloc(4 * 12 * sizeof *all);
        for (size_t i = 0; i < k; i++) {
            size_t n = 1 + (seed * 7 + i * 3) % 11;
            double *u = tv_generate("int", seed * 10 + i, n, 0, 6);
            for (size_t j = 0; j < n; j++)
                u[j] = pool_vals[(size_t)u[j]];
            ck_assert_int_eq(mlops__drift_sample_init(&s[i], u, n, 1, "sample"), 0);
            memcpy(all + total, s[i].v, n * sizeof *all);
            total += n;
            free(u);
        }
        qsort(all, total, sizeof *all, cmp_double);
        size_t first[4], count[4], runs = 0, seen = 0;
        mlops__drift_pool p;
        mlops__drift_pool_init(&p, s, k, first, count);
        while (mlops__drift_pool_next(&p)) {
            /* brute force: values below, values equal, per sample too */
            size_t below = 0, eq = 0;
            for (size_t j = 0; j < total; j++) {
                below += all[j] < p.value;
                eq += all[j] == p.value;
            }
            ck_assert_uint_eq(p.below, below);
            ck_assert_uint_eq(p.run, eq);
            for (size_t i = 0; i < k; i++) {
                size_t bi = 0, ei = 0;
                for (size_t j = 0; j < s[i].n; j++) {
                    bi += s[i].v[j] < p.value;
                    ei += s[i].v[j] == p.value;
                }
                ck_assert_uint_eq(first[i], bi);
                ck_assert_uint_eq(count[i], ei);
            }
            seen += p.run;
            runs++;
        }
        ck_assert_uint_eq(seen, total);
        ck_assert_int_eq(mlops__drift_pool_next(&p), 0); /* stays at the end */
        size_t distinct = 1;
        for (size_t j = 1; j < total; j++)
            distinct += all[j] != all[j - 1];
        ck_assert_uint_eq(runs, distinct);
        for (size_t i = 0; i < k; i++)
            mlops__drift_sample_dispose(&s[i]);
        free(all);
    }
}
END_TEST

START_TEST(tie_term_exact)
{
    ck_assert(mlops__drift_tie_term(1) == 0);
    ck_assert(mlops__drift_tie_term(2) == 6);
    ck_assert(mlops__drift_tie_term(1000) == 999999000.0);
    /* 1999999^3 - 1999999 = 7999988000004000000 (Python), rounded once */
    ck_assert(mlops__drift_tie_term(1999999) == (double)7999988000004000000ull);
    ck_assert(tv_close(mlops__drift_tie_term(3000000), 2.6999999999997e19, 1e-15, 0));
}
END_TEST

/* ---- properties that follow from the definitions ----------------------- */

START_TEST(mannwhitneyu_symmetry)
{
    /* U1(a, b) + U1(b, a) = n1 n2, and 'less' for (a, b) is 'greater' for
     * (b, a), in both methods. */
    double *a = tv_generate("normal", 5, 7, 0, 1), *b = tv_generate("normal", 6, 30, 0.5, 1);
    for (int m = MLOPS_DRIFT_EXACT; m <= MLOPS_DRIFT_ASYMPTOTIC; m++) {
        mlops_drift_test x, y;
        ck_assert_int_eq(mlops_drift_mannwhitneyu(&x, a, 7, b, 30, MLOPS_DRIFT_LESS, 1, (mlops_drift_method)m), 0);
        ck_assert_int_eq(mlops_drift_mannwhitneyu(&y, b, 30, a, 7, MLOPS_DRIFT_GREATER, 1, (mlops_drift_method)m),
                         0);
        ck_assert(x.statistic + y.statistic == 7 * 30);
        ck_assert(tv_close(x.pvalue, y.pvalue, 1e-15, 0));
        ck_assert_int_eq(x.method, m);
    }
    free(a);
    free(b);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

START_TEST(mannwhitneyu_bad_input)
{
    double a[] = { 1, 2, 3 }, b[] = { 4, 5 }, nan2[] = { NAN, NAN };
    mlops_drift_test t;
    tu_assert_err(mlops_drift_mannwhitneyu(NULL, a, 3, b, 2, MLOPS_DRIFT_TWO_SIDED, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, NULL, 3, b, 2, MLOPS_DRIFT_TWO_SIDED, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 3, NULL, 2, MLOPS_DRIFT_TWO_SIDED, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 0, b, 2, MLOPS_DRIFT_TWO_SIDED, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 3, nan2, 2, MLOPS_DRIFT_TWO_SIDED, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 3, b, 2, (mlops_drift_alternative)3, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 3, b, 2, (mlops_drift_alternative)-1, 1, MLOPS_DRIFT_AUTO),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 3, b, 2, MLOPS_DRIFT_LESS, 1, (mlops_drift_method)3),
                  MLOPS_EINVALID);
    tu_assert_err(mlops_drift_mannwhitneyu(&t, a, 3, b, 2, MLOPS_DRIFT_LESS, 1, (mlops_drift_method)-1),
                  MLOPS_EINVALID);
}
END_TEST

START_TEST(anderson_bad_input)
{
    double x[] = { 1, 2, 3 }, y[] = { 4, 5 }, nan1[] = { NAN };
    const double *s2[] = { x, y }, *snull[] = { x, NULL }, *snan[] = { x, nan1 };
    size_t z2[] = { 3, 2 }, z0[] = { 3, 0 }, z1[] = { 3, 1 };
    mlops_drift_anderson r;
    tu_assert_err(mlops_drift_anderson_ksamp(NULL, s2, z2, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_anderson_ksamp(&r, NULL, z2, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_anderson_ksamp(&r, s2, NULL, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_anderson_ksamp(&r, s2, z2, 1), MLOPS_EINVALID); /* fewer than 2 samples */
    tu_assert_err(mlops_drift_anderson_ksamp(&r, s2, z2, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_anderson_ksamp(&r, snull, z2, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_anderson_ksamp(&r, s2, z0, 2), MLOPS_EINVALID); /* empty sample */
    tu_assert_err(mlops_drift_anderson_ksamp(&r, snan, z1, 2), MLOPS_EINVALID); /* empty after NaN */
    tu_assert_err(mlops_drift_anderson_ksamp(&r, s2, z2, SIZE_MAX), MLOPS_EINVALID);
}
END_TEST

START_TEST(cramervonmises_bad_input)
{
    double a[] = { 1, 2, 3 }, b[] = { 4, 5 }, one_left[] = { NAN, 7 };
    mlops_drift_test t;
    tu_assert_err(mlops_drift_cramervonmises_2samp(NULL, a, 3, b, 2, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, NULL, 3, b, 2, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, a, 3, NULL, 2, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, a, 0, b, 2, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, a, 1, b, 2, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, a, 3, one_left, 2, MLOPS_DRIFT_AUTO), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, a, 3, b, 2, (mlops_drift_method)3), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_cramervonmises_2samp(&t, a, 3, b, 2, (mlops_drift_method)-1), MLOPS_EINVALID);
}
END_TEST

/* ---- out of memory: every allocation may fail, cleanly ------------------ */

typedef int (*call_fn)(void *ctx);

static void oom_loop(call_fn fn, void *ctx, const char *what)
{
    for (unsigned long n = 1;; n++) {
        tu_alloc a;
        memset(&a, 0, sizeof a);
        a.fail_at = n;
        tu_alloc_install(&a);
        int rc = fn(ctx);
        tu_alloc_remove();
        ck_assert_msg(a.outstanding == 0, "%s: %ld blocks leaked after failing allocation %lu", what,
                      a.outstanding, n);
        if (a.failures == 0) {
            ck_assert_msg(rc == 0, "%s: rc %d without a failure", what, rc);
            break;
        }
        tu_assert_err(rc, MLOPS_ENOMEM);
        ck_assert_msg(n < 5000, "%s: still failing after 5000 allocations", what);
    }
}

typedef struct call_ctx {
    const double *a, *b;
    size_t na, nb;
    mlops_drift_method method;
} call_ctx;

static int call_mwu(void *p)
{
    call_ctx *c = p;
    mlops_drift_test t;
    return mlops_drift_mannwhitneyu(&t, c->a, c->na, c->b, c->nb, MLOPS_DRIFT_TWO_SIDED, 1, c->method);
}

static int call_cvm(void *p)
{
    call_ctx *c = p;
    mlops_drift_test t;
    return mlops_drift_cramervonmises_2samp(&t, c->a, c->na, c->b, c->nb, c->method);
}

static int call_anderson(void *p)
{
    call_ctx *c = p;
    const double *s[3] = { c->a, c->b, c->a };
    size_t n[3] = { c->na, c->nb, c->na };
    mlops_drift_anderson r;
    return mlops_drift_anderson_ksamp(&r, s, n, 3);
}

START_TEST(out_of_memory)
{
    double *a = tv_generate("normal", 1, 12, 0, 1), *b = tv_generate("normal", 2, 100, 0.3, 1);
    call_ctx c = { a, b, 12, 100, MLOPS_DRIFT_EXACT };
    oom_loop(call_mwu, &c, "mannwhitneyu exact");
    c.method = MLOPS_DRIFT_ASYMPTOTIC;
    oom_loop(call_mwu, &c, "mannwhitneyu asymptotic");
    oom_loop(call_anderson, &c, "anderson_ksamp");
    c.nb = 15;
    c.method = MLOPS_DRIFT_EXACT;
    oom_loop(call_cvm, &c, "cramervonmises exact");
    c.method = MLOPS_DRIFT_ASYMPTOTIC;
    oom_loop(call_cvm, &c, "cramervonmises asymptotic");
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_ranks");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mannwhitneyu_vectors);
    tcase_add_test(tc, anderson_vectors);
    tcase_add_test(tc, cramervonmises_vectors);
    tcase_add_test(tc, pool_matches_brute_force);
    tcase_add_test(tc, tie_term_exact);
    tcase_add_test(tc, mannwhitneyu_symmetry);
    tcase_add_test(tc, mannwhitneyu_bad_input);
    tcase_add_test(tc, anderson_bad_input);
    tcase_add_test(tc, cramervonmises_bad_input);
    tcase_add_test(tc, out_of_memory);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
