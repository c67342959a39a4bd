/* The dataset report against tests/drift/report.vec (gen_report.py: the
 * documented rules computed with scipy and numpy), its JSON, and every
 * bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift_vec.h"
#include "mlops/drift.h"
#include "testutil.h"

#define MAXCOLS 16

typedef struct table {
    mlops_drift_column ref[MAXCOLS], cur[MAXCOLS];
    mlops_drift_column_options over[MAXCOLS];
    int64_t *codes[2 * MAXCOLS];
    size_t ncols, nover;
} table;

static const double *arr(const tv_case *c, const char *fmt, size_t i, size_t *n)
{
    char key[64];
    snprintf(key, sizeof key, fmt, i);
    return tv_arr(c, key, n);
}

static const char *str(const tv_case *c, const char *fmt, size_t i)
{
    char key[64];
    snprintf(key, sizeof key, fmt, i);
    return tv_str(c, key);
}

static double num(const tv_case *c, const char *fmt, size_t i)
{
    char key[64];
    snprintf(key, sizeof key, fmt, i);
    return tv_num(c, key);
}

static int has(const tv_case *c, const char *fmt, size_t i)
{
    char key[64];
    snprintf(key, sizeof key, fmt, i);
    return tv_has(c, key);
}

static void fill_column(table *t, mlops_drift_column *col, const char *name, int cat, const double *v, size_t n)
{
    col->name = name;
    col->n = n;
    col->type = cat ? MLOPS_DRIFT_CATEGORICAL : MLOPS_DRIFT_NUMERIC;
    if (!cat) {
        col->values = v;
        return;
    }
    int64_t *codes = tu_xmalloc((n ? n : 1) * sizeof *codes);
    for (size_t i = 0; i < n; i++)
        codes[i] = (int64_t)v[i];
    t->codes[(size_t)(col - t->ref) < MAXCOLS ? (size_t)(col - t->ref) : MAXCOLS + (size_t)(col - t->cur)] = codes;
    col->codes = codes;
}

static void load_table(table *t, const tv_case *c)
{
    memset(t, 0, sizeof *t);
    t->ncols = (size_t)tv_num(c, "columns");
    ck_assert_uint_le(t->ncols, MAXCOLS);
    for (size_t i = 0; i < t->ncols; i++) {
        const char *name = str(c, "c%zu.name", i);
        int cat = strcmp(str(c, "c%zu.type", i), "categorical") == 0;
        size_t nr, nc;
        const double *r = arr(c, "c%zu.ref", i, &nr), *cu = arr(c, "c%zu.cur", i, &nc);
        fill_column(t, &t->ref[i], name, cat, r, nr);
        fill_column(t, &t->cur[i], name, cat, cu, nc);
        if (has(c, "c%zu.override", i) || has(c, "c%zu.override_threshold", i)) {
            mlops_drift_column_options *o = &t->over[t->nover++];
            o->name = name;
            o->test = MLOPS_DRIFT_TEST_DEFAULT;
            if (has(c, "c%zu.override", i))
                ck_assert_int_eq(mlops_drift_stattest_parse(&o->test, str(c, "c%zu.override", i)), 0);
            o->threshold = has(c, "c%zu.override_threshold", i) ? num(c, "c%zu.override_threshold", i) : 0;
        }
    }
}

static void free_table(table *t)
{
    for (size_t i = 0; i < 2 * MAXCOLS; i++)
        free(t->codes[i]);
}

static mlops_drift_correction correction_of(const char *s)
{
    if (strcmp(s, "bonferroni") == 0)
        return MLOPS_DRIFT_CORRECTION_BONFERRONI;
    if (strcmp(s, "bh") == 0)
        return MLOPS_DRIFT_CORRECTION_BH;
    ck_assert_str_eq(s, "none");
    return MLOPS_DRIFT_CORRECTION_NONE;
}

START_TEST(matches_reference_results)
{
    tv_file f;
    tv_load(&f, "report.vec");
    for (size_t k = 0; k < f.ncases; k++) {
        const tv_case *c = &f.cases[k];
        table t;
        load_table(&t, c);
        mlops_drift_report_options o = MLOPS_DRIFT_REPORT_OPTIONS_INIT;
        o.correction = correction_of(tv_str(c, "correction"));
        o.drift_share = tv_num(c, "drift_share");
        o.columns = t.over;
        o.ncolumns = t.nover;
        mlops_drift_report *r = NULL;
        int rc = mlops_drift_report_run(&r, t.ref, t.ncols, t.cur, t.ncols, &o);
        ck_assert_msg(rc == 0, "%s: %s", c->name, mlops_error_last());
        ck_assert_uint_eq(r->ncolumns, t.ncols);
        for (size_t i = 0; i < t.ncols; i++) {
            const mlops_drift_column_result *res = &r->columns[i];
            char what[96];
            snprintf(what, sizeof what, "column %s", res->name);
            ck_assert_str_eq(res->name, t.ref[i].name);
            ck_assert_msg(strcmp(mlops_drift_stattest_name(res->test), str(c, "c%zu.want_test", i)) == 0,
                          "%s %s: test %s, want %s", c->name, what, mlops_drift_stattest_name(res->test),
                          str(c, "c%zu.want_test", i));
            tv_assert_close(c, what, res->statistic, num(c, "c%zu.want_statistic", i), 1e-12, 1e-300);
            tv_assert_close(c, what, res->pvalue, num(c, "c%zu.want_pvalue", i), 1e-10, 1e-300);
            tv_assert_close(c, what, res->pvalue_corrected, num(c, "c%zu.want_pvalue_corrected", i), 1e-10, 1e-300);
            ck_assert_int_eq(res->is_pvalue, !isnan(num(c, "c%zu.want_pvalue", i)));
            tv_assert_close(c, what, res->threshold, num(c, "c%zu.want_threshold", i), 0, 0);
            ck_assert_msg(res->drifted == atoi(str(c, "c%zu.want_drifted", i)), "%s %s: drifted %d", c->name, what,
                          res->drifted);
            size_t nn;
            const double *want_n = arr(c, "c%zu.want_n", i, &nn);
            ck_assert_uint_eq(nn, 5);
            ck_assert_uint_eq(res->n_reference, (size_t)want_n[0]);
            ck_assert_uint_eq(res->n_current, (size_t)want_n[1]);
            ck_assert_uint_eq(res->missing_reference, (size_t)want_n[2]);
            ck_assert_uint_eq(res->missing_current, (size_t)want_n[3]);
            ck_assert_uint_eq(res->distinct, (size_t)want_n[4]);
        }
        ck_assert_uint_eq(r->ndrifted, (size_t)atoi(tv_str(c, "want_ndrifted")));
        tv_assert_close(c, "share", r->share_drifted, tv_num(c, "want_share"), 1e-15, 0);
        ck_assert_int_eq(r->dataset_drift, atoi(tv_str(c, "want_dataset_drift")));
        mlops_drift_report_free(r);
        free_table(&t);
    }
    tv_free(&f);
}
END_TEST

/* A two-column report built by hand, for the JSON and error tests. */
static const double ref_x[] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cur_x[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const int64_t ref_k[] = { 0, 1, 1, 2 }, cur_k[] = { 2, 2, 1 };

static void two_columns(mlops_drift_column ref[2], mlops_drift_column cur[2], const char *name0)
{
    memset(ref, 0, 2 * sizeof *ref);
    memset(cur, 0, 2 * sizeof *cur);
    ref[0] = (mlops_drift_column){ name0, MLOPS_DRIFT_NUMERIC, ref_x, NULL, 8 };
    ref[1] = (mlops_drift_column){ "kind", MLOPS_DRIFT_CATEGORICAL, NULL, ref_k, 4 };
    cur[0] = (mlops_drift_column){ name0, MLOPS_DRIFT_NUMERIC, cur_x, NULL, 9 };
    cur[1] = (mlops_drift_column){ "kind", MLOPS_DRIFT_CATEGORICAL, NULL, cur_k, 3 };
}

START_TEST(json_form)
{
    mlops_drift_column ref[2], cur[2];
    two_columns(ref, cur, "a \"quoted\"\\name\n");
    mlops_drift_report *r = NULL;
    ck_assert_int_eq(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), 0);
    char *json = NULL;
    size_t len = 0;
    ck_assert_int_eq(mlops_drift_report_json(&json, &len, r), 0);
    ck_assert_uint_eq(len, strlen(json));
    ck_assert_msg(strncmp(json, "{\"format\":\"mlops.drift.report\",\"version\":1,\"dataset_drift\":", 59) == 0, "%s",
                  json);
    ck_assert_ptr_nonnull(strstr(json, "\"name\":\"a \\\"quoted\\\"\\\\name\\u000a\""));
    ck_assert_ptr_nonnull(strstr(json, "\"test\":\"ks\""));
    ck_assert_ptr_nonnull(strstr(json, "\"type\":\"categorical\",\"test\":\"chisquare\""));
    ck_assert_ptr_nonnull(strstr(json, "\"correction\":\"none\""));
    ck_assert_ptr_nonnull(strstr(json, "\"n_reference\":8,\"n_current\":9,\"missing_reference\":0"));
    /* the statistic reads back as the same double */
    char want[64];
    snprintf(want, sizeof want, "\"statistic\":%.17g", r->columns[0].statistic);
    ck_assert_ptr_nonnull(strstr(json, want));
    ck_assert_ptr_null(strstr(json, "nan"));

    /* saved as an object holding exactly the JSON */
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops_oid id;
    ck_assert_int_eq(mlops_drift_report_save(&id, t.s, r), 0);
    void *data = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_object_get(&data, &n, t.s, &id), 0);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(memcmp(data, json, n), 0);
    char hex[65], sum[65];
    tu_hex(&id, hex);
    tu_sha256sum_buf(json, len, sum);
    ck_assert_str_eq(hex, sum);
    mlops_free(data);
    tu_store_destroy(&t);
    mlops_free(json);
    mlops_drift_report_free(r);
}
END_TEST

START_TEST(bad_input)
{
    mlops_drift_column ref[2], cur[2];
    mlops_drift_report *r = NULL;
    two_columns(ref, cur, "x");
    tu_assert_err(mlops_drift_report_run(NULL, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_report_run(&r, ref, 0, cur, 2, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_report_run(&r, NULL, 2, cur, 2, NULL), MLOPS_EINVALID);
    /* a reference column missing from the current data, or of another type */
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 1, NULL), MLOPS_EINVALID);
    cur[1].type = MLOPS_DRIFT_NUMERIC;
    cur[1].values = cur_x;
    cur[1].codes = NULL;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    two_columns(ref, cur, "x");
    /* values on a categorical column, both or neither set, unknown type */
    ref[1].values = ref_x;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    ref[1].values = NULL;
    ref[1].codes = NULL;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    two_columns(ref, cur, "x");
    ref[0].type = (mlops_drift_column_type)7;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    /* names: empty, NULL, invalid UTF-8, twice */
    two_columns(ref, cur, "");
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    two_columns(ref, cur, "\xc3\x28");
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    two_columns(ref, cur, "kind");
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    /* empty after dropping missing values */
    static const double all_nan[] = { NAN, INFINITY, NAN };
    two_columns(ref, cur, "x");
    cur[0].values = all_nan;
    cur[0].n = 3;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);
    two_columns(ref, cur, "x");
    ref[0].n = 0;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, NULL), MLOPS_EINVALID);

    /* options */
    two_columns(ref, cur, "x");
    mlops_drift_report_options o = MLOPS_DRIFT_REPORT_OPTIONS_INIT;
    o.version = 99;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_report_options_init(&o, MLOPS_DRIFT_REPORT_OPTIONS_VERSION), 0);
    tu_assert_err(mlops_drift_report_options_init(&o, 2), MLOPS_EINVALID);
    o.drift_share = 0;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    o.drift_share = 1.5;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    o.drift_share = 0.5;
    o.correction = (mlops_drift_correction)9;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    o.correction = MLOPS_DRIFT_CORRECTION_BH;
    o.pvalue_threshold = -0.1;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    o.pvalue_threshold = NAN;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    o.pvalue_threshold = 0;
    /* a test that does not fit the column type, or is unknown */
    o.categorical_test = MLOPS_DRIFT_TEST_KS;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    o.categorical_test = MLOPS_DRIFT_TEST_DEFAULT;
    mlops_drift_column_options over = { "kind", MLOPS_DRIFT_TEST_MANNWHITNEY, 0 };
    o.columns = &over;
    o.ncolumns = 1;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    over.test = (mlops_drift_stattest)99;
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    over = (mlops_drift_column_options){ "no such column", MLOPS_DRIFT_TEST_KS, 0 };
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    /* the z-test on a column with more than two values */
    over = (mlops_drift_column_options){ "x", MLOPS_DRIFT_TEST_ZTEST, 0 };
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    over = (mlops_drift_column_options){ "x", MLOPS_DRIFT_TEST_KS, -1 };
    tu_assert_err(mlops_drift_report_run(&r, ref, 2, cur, 2, &o), MLOPS_EINVALID);
    ck_assert_ptr_null(r);

    tu_assert_err(mlops_drift_report_json(NULL, NULL, NULL), MLOPS_EINVALID);
    mlops_drift_report_free(NULL);
    mlops_drift_stattest st;
    tu_assert_err(mlops_drift_stattest_parse(&st, "Kolmogorov"), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_stattest_parse(&st, "cramer_von_mises"), 0);
    ck_assert_int_eq(st, MLOPS_DRIFT_TEST_CRAMERVONMISES);
    ck_assert_str_eq(mlops_drift_stattest_name((mlops_drift_stattest)77), "?");
}
END_TEST

/* Large reports run their columns on two threads: the same results as
 * each column alone, and a failure in a column of the helper thread is
 * reported with its own message. */
START_TEST(threaded_columns)
{
    enum { COLS = 5, N = 40000 };
    mlops_drift_column ref[COLS], cur[COLS];
    double *data[2 * COLS];
    char names[COLS][8];
    for (int c = 0; c < COLS; c++) {
        snprintf(names[c], sizeof names[c], "c%d", c);
        data[2 * c] = tv_generate("normal", 100 + c, N, 0, 1);
        data[2 * c + 1] = tv_generate(c == 3 ? "int" : "normal", 200 + c, N, 0.01 * c, 4);
        ref[c] = (mlops_drift_column){ names[c], MLOPS_DRIFT_NUMERIC, data[2 * c], NULL, N };
        cur[c] = (mlops_drift_column){ names[c], MLOPS_DRIFT_NUMERIC, data[2 * c + 1], NULL, N };
    }
    mlops_drift_report *all = NULL;
    ck_assert_int_eq(mlops_drift_report_run(&all, ref, COLS, cur, COLS, NULL), 0);
    for (int c = 0; c < COLS; c++) {
        mlops_drift_report *one = NULL;
        ck_assert_int_eq(mlops_drift_report_run(&one, &ref[c], 1, &cur[c], 1, NULL), 0);
        ck_assert_int_eq(all->columns[c].test, one->columns[0].test);
        ck_assert(all->columns[c].statistic == one->columns[0].statistic);
        ck_assert_uint_eq(all->columns[c].distinct, one->columns[0].distinct);
        mlops_drift_report_free(one);
    }
    mlops_drift_report_free(all);
    for (size_t i = 0; i < N; i++)
        data[2 * 3 + 1][i] = NAN; /* column 3: the helper thread's */
    tu_assert_err(mlops_drift_report_run(&all, ref, COLS, cur, COLS, NULL), MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "'c3'"));
    for (int i = 0; i < 2 * COLS; i++)
        free(data[i]);
}
END_TEST

/* Every allocation failing in turn (report, then its JSON): a clean
 * MLOPS_ENOMEM and no leak, until the run that needs no failure. */
static void oom_loop(const mlops_drift_column *ref, const mlops_drift_column *cur, size_t ncols)
{
    tu_alloc a;
    int done = 0;
    for (unsigned long n = 1; !done && n < 500; n++) {
        memset(&a, 0, sizeof a);
        a.fail_at = n;
        tu_alloc_install(&a);
        mlops_drift_report *r = NULL;
        int rc = mlops_drift_report_run(&r, ref, ncols, cur, ncols, NULL);
        char *json = NULL;
        if (rc == 0)
            rc = mlops_drift_report_json(&json, NULL, r);
        mlops_free(json);
        mlops_drift_report_free(r);
        tu_alloc_remove();
        if (a.failures == 0) {
            ck_assert_int_eq(rc, 0);
            done = 1;
        } else {
            tu_assert_err(rc, MLOPS_ENOMEM);
        }
        ck_assert_int_eq(a.outstanding, 0);
    }
    ck_assert(done);
}

START_TEST(out_of_memory)
{
    mlops_drift_column ref[2], cur[2];
    two_columns(ref, cur, "x");
    oom_loop(ref, cur, 2);
}
END_TEST

/* A report large enough for the helper thread, whose own allocations
 * (and the two-thread sort's) fail in turn too. */
START_TEST(out_of_memory_threaded)
{
    enum { N = 60000 };
    double *x[4];
    for (int i = 0; i < 4; i++)
        x[i] = tv_generate("normal", 300 + i, N, 0.1 * i, 1);
    mlops_drift_column ref[2] = { { "a", MLOPS_DRIFT_NUMERIC, x[0], NULL, N }, { "b", MLOPS_DRIFT_NUMERIC, x[1], NULL, N } };
    mlops_drift_column cur[2] = { { "a", MLOPS_DRIFT_NUMERIC, x[2], NULL, N }, { "b", MLOPS_DRIFT_NUMERIC, x[3], NULL, N } };
    oom_loop(ref, cur, 2);
    for (int i = 0; i < 4; i++)
        free(x[i]);
}
END_TEST

/* A numeric column whose values span more than a double: binning for
 * Jensen-Shannon cannot work, so EINVALID naming the column (this once
 * overflowed the bin count and wrote out of bounds). */
START_TEST(overflowing_range)
{
    static double big[2000];
    static const double cur_v[4] = { 0, 1, 1, 0 }; /* 4 distinct in all: binned Jensen-Shannon */
    for (int i = 0; i < 2000; i++)
        big[i] = i % 2 ? 1.7e308 : -1.7e308;
    mlops_drift_column ref = { "wide", MLOPS_DRIFT_NUMERIC, big, NULL, 2000 };
    mlops_drift_column cur = { "wide", MLOPS_DRIFT_NUMERIC, cur_v, NULL, 4 };
    mlops_drift_report *r = NULL;
    tu_assert_err(mlops_drift_report_run(&r, &ref, 1, &cur, 1, NULL), MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "column 'wide', test jensenshannon"));
    ck_assert_ptr_null(r);
    /* more distinct values: normed Wasserstein, which refuses it too */
    static const double many[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    cur.values = many;
    cur.n = 8;
    tu_assert_err(mlops_drift_report_run(&r, &ref, 1, &cur, 1, NULL), MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "column 'wide', test wasserstein"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_report");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, matches_reference_results);
    tcase_add_test(tc, json_form);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, threaded_columns);
    tcase_add_test(tc, out_of_memory);
    tcase_add_test(tc, out_of_memory_threaded);
    tcase_add_test(tc, overflowing_range);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
