/*
 * The dataset report: every reference column against the current column
 * of the same name, one test each (report_rule.c), then the correction
 * across columns and the dataset verdict.
 *
 * Missing values: NaN, and ±Inf as Evidently does (it replaces them with
 * NaN before testing), for numeric columns; codes < 0 for categorical.
 * They are counted, never tested.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "distributions.h"
#include "report_internal.h"
#include "sample.h"

int mlops_drift_report_options_init(mlops_drift_report_options *opts, unsigned int version)
{
    static const mlops_drift_report_options defaults = MLOPS_DRIFT_REPORT_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_DRIFT_REPORT_OPTIONS_VERSION,
                               "drift report");
}

/* One column's kept values, sorted: doubles, or codes for categorical. */
typedef struct kept {
    double *v;
    int64_t *c;
    size_t n, missing;
} kept;

static void kept_dispose(kept *k)
{
    mlops__free(k->v);
    mlops__free(k->c);
    memset(k, 0, sizeof *k);
}

static int keep(kept *k, const mlops_drift_column *col, const char *which)
{
    memset(k, 0, sizeof *k);
    size_t n = col->n;
    if (col->type == MLOPS_DRIFT_NUMERIC) {
        k->v = mlops__malloc(n ? n * sizeof *k->v : 1);
        if (!k->v)
            return mlops__error_oom();
        for (size_t i = 0; i < n; i++) {
            k->v[k->n] = col->values[i];
            k->n += isfinite(col->values[i]) != 0;
        }
    } else {
        k->c = mlops__malloc(n ? n * sizeof *k->c : 1);
        if (!k->c)
            return mlops__error_oom();
        for (size_t i = 0; i < n; i++) {
            k->c[k->n] = col->codes[i];
            k->n += col->codes[i] >= 0;
        }
    }
    k->missing = n - k->n;
    if (k->n == 0)
        return mlops__error_set(MLOPS_EINVALID, "column '%s' has no values in the %s data", col->name, which);
    return k->v ? mlops__drift_sort(k->v, k->n) : mlops__drift_sort_codes(k->c, k->n);
}

/* The value at i of a kept column, as a double for comparisons: codes
 * compare as int64 through cmp_at instead (they may exceed 2^53). */
static int cmp_at(const kept *a, size_t i, const kept *b, size_t j)
{
    if (a->v)
        return a->v[i] < b->v[j] ? -1 : a->v[i] > b->v[j];
    return a->c[i] < b->c[j] ? -1 : a->c[i] > b->c[j];
}

/*
 * Walks the distinct values of both sorted columns in order, calling
 * cb(count in ref, count in cur) for each; returns the number of distinct
 * values. cb may be NULL (just counting).
 */
typedef void (*pair_cb)(size_t cref, size_t ccur, void *payload);
static size_t walk_distinct(const kept *r, const kept *c, pair_cb cb, void *payload)
{
    size_t i = 0, j = 0, distinct = 0;
    while (i < r->n || j < c->n) {
        int side;
        if (i == r->n)
            side = 1;
        else if (j == c->n)
            side = -1;
        else
            side = cmp_at(r, i, c, j);
        size_t ci = 0, cj = 0;
        if (side <= 0) {
            size_t s = i;
            while (i < r->n && cmp_at(r, i, r, s) == 0)
                i++;
            ci = i - s;
        }
        if (side >= 0) {
            size_t s = j;
            while (j < c->n && cmp_at(c, j, c, s) == 0)
                j++;
            cj = j - s;
        }
        if (cb)
            cb(ci, cj, payload);
        distinct++;
    }
    return distinct;
}

/* Counts per distinct value, two rows (reference, current). */
typedef struct table2 {
    double *row[2];
    size_t k;
} table2;

static void table_add(size_t cref, size_t ccur, void *payload)
{
    table2 *t = payload;
    t->row[0][t->k] = (double)cref;
    t->row[1][t->k] = (double)ccur;
    t->k++;
}

static int category_counts(table2 *t, const kept *r, const kept *c, size_t distinct)
{
    t->k = 0;
    t->row[0] = mlops__malloc(2 * distinct * sizeof(double));
    if (!t->row[0])
        return mlops__error_oom();
    t->row[1] = t->row[0] + distinct;
    walk_distinct(r, c, table_add, t);
    return 0;
}

/*
 * numpy.histogram_bin_edges(both, bins="sturges") and the two
 * histograms, as Evidently bins numeric columns for its distances: equal
 * bins over the pooled range, as many as log2(n) + 1 needs, numpy's bin
 * assignment (last bin closed).
 */
static int sturges_counts(table2 *t, const kept *r, const kept *c)
{
    double lo = fmin(r->v[0], c->v[0]), hi = fmax(r->v[r->n - 1], c->v[c->n - 1]);
    if (!isfinite(hi - lo)) /* numpy cannot bin it either */
        return mlops__error_set(MLOPS_EINVALID, "the values span more than the largest double, too wide to bin");
    double width = (hi - lo) / (log2((double)(r->n + c->n)) + 1.0);
    size_t bins = 1;
    if (lo == hi) {
        lo -= 0.5;
        hi += 0.5;
    } else if (width > 0) {
        bins = (size_t)ceil((hi - lo) / width);
    }
    t->k = bins;
    t->row[0] = mlops__calloc(2 * bins, sizeof(double));
    if (!t->row[0])
        return mlops__error_oom();
    t->row[1] = t->row[0] + bins;
    double step = (hi - lo) / (double)bins;
    for (int s = 0; s < 2; s++) {
        const kept *k = s ? c : r;
        double norm = (double)bins / (hi - lo);
        for (size_t i = 0; i < k->n; i++) {
            double x = k->v[i];
            size_t b = (size_t)((x - lo) * norm);
            if (b >= bins)
                b = bins - 1;
            /* numpy corrects the float index against the edges i*step + lo */
            if (b > 0 && x < (double)b * step + lo)
                b--;
            else if (b + 1 < bins && x >= (double)(b + 1) * step + lo)
                b++;
            t->row[s][b] += 1.0;
        }
    }
    return 0;
}

/* Evidently's feel_zeroes: an empty bin gets a millionth of the smallest
 * non-empty share, so KL and JS stay finite. Turns counts into shares. */
static void shares(double *row, size_t k, int fill_zeros)
{
    double total = 0, smallest = INFINITY;
    for (size_t i = 0; i < k; i++)
        total += row[i];
    for (size_t i = 0; i < k; i++) {
        row[i] /= total;
        if (row[i] > 0 && row[i] < smallest)
            smallest = row[i];
    }
    if (fill_zeros)
        for (size_t i = 0; i < k; i++)
            if (row[i] == 0)
                row[i] = smallest / 1e6;
}

static int run_binned(mlops_drift_column_result *res, const kept *r, const kept *c)
{
    table2 t = { { NULL, NULL }, 0 };
    int rc = r->v ? sturges_counts(&t, r, c) : category_counts(&t, r, c, res->distinct);
    if (rc < 0)
        return rc;
    if (res->test == MLOPS_DRIFT_TEST_PSI) { /* categorical: Evidently's epsilon for empty shares */
        res->statistic = mlops__drift_psi_from_counts(t.row[0], (double)r->n, t.row[1], (double)c->n, t.k, 1e-4);
        mlops__free(t.row[0]);
        return 0;
    }
    int fill = res->test == MLOPS_DRIFT_TEST_JENSENSHANNON || res->test == MLOPS_DRIFT_TEST_KL;
    shares(t.row[0], t.k, fill);
    shares(t.row[1], t.k, fill);
    switch (res->test) {
    case MLOPS_DRIFT_TEST_JENSENSHANNON:
        rc = mlops_drift_jensenshannon(&res->statistic, t.row[0], t.row[1], t.k, 0);
        break;
    case MLOPS_DRIFT_TEST_KL:
        rc = mlops_drift_kl_divergence(&res->statistic, t.row[0], t.row[1], t.k, 0);
        break;
    case MLOPS_DRIFT_TEST_HELLINGER:
        rc = mlops_drift_hellinger(&res->statistic, t.row[0], t.row[1], t.k);
        break;
    default:
        rc = mlops_drift_total_variation(&res->statistic, t.row[0], t.row[1], t.k);
        break;
    }
    mlops__free(t.row[0]);
    return rc;
}

static int run_counts(mlops_drift_column_result *res, const kept *r, const kept *c)
{
    table2 t = { { NULL, NULL }, 0 };
    MLOPS__TRY(category_counts(&t, r, c, res->distinct));
    mlops_drift_test out;
    int rc;
    if (res->test == MLOPS_DRIFT_TEST_CHISQUARE) {
        /* Two rows laid out as the 2 x k table chi2_contingency takes. */
        rc = mlops_drift_chi2_contingency(&out, NULL, t.row[0], 2, t.k, 1);
    } else if (t.k > 2) {
        rc = mlops__error_set(MLOPS_EINVALID, "%zu distinct values: the z-test needs at most 2", t.k);
    } else {
        /* Successes: the first (smallest) value; a constant column has
         * every value a success on both sides. */
        rc = mlops_drift_ztest_proportions(&out, (uint64_t)t.row[0][0], (uint64_t)r->n, (uint64_t)t.row[1][0],
                                           (uint64_t)c->n);
    }
    mlops__free(t.row[0]);
    if (rc == 0) {
        res->statistic = out.statistic;
        res->pvalue = out.pvalue;
    }
    return rc;
}

static int run_values(mlops_drift_column_result *res, const kept *r, const kept *c)
{
    mlops_drift_test out;
    int rc;
    switch (res->test) {
    case MLOPS_DRIFT_TEST_KS:
        rc = mlops_drift_ks_2samp(&out, r->v, r->n, c->v, c->n, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO);
        break;
    case MLOPS_DRIFT_TEST_CRAMERVONMISES:
        rc = mlops_drift_cramervonmises_2samp(&out, r->v, r->n, c->v, c->n, MLOPS_DRIFT_AUTO);
        break;
    case MLOPS_DRIFT_TEST_MANNWHITNEY:
        rc = mlops_drift_mannwhitneyu(&out, r->v, r->n, c->v, c->n, MLOPS_DRIFT_TWO_SIDED, 1, MLOPS_DRIFT_AUTO);
        break;
    case MLOPS_DRIFT_TEST_ANDERSON: {
        const double *samples[2] = { r->v, c->v };
        size_t sizes[2] = { r->n, c->n };
        mlops_drift_anderson ad;
        rc = mlops_drift_anderson_ksamp(&ad, samples, sizes, 2);
        out.statistic = ad.statistic;
        out.pvalue = ad.pvalue;
        break;
    }
    case MLOPS_DRIFT_TEST_WASSERSTEIN:
        return mlops_drift_wasserstein_normed(&res->statistic, r->v, r->n, c->v, c->n);
    case MLOPS_DRIFT_TEST_ENERGY:
        return mlops_drift_energy_distance(&res->statistic, r->v, r->n, c->v, c->n, NULL, NULL);
    case MLOPS_DRIFT_TEST_PSI:
        return mlops_drift_psi(&res->statistic, r->v, r->n, c->v, c->n, NULL);
    default:
        return run_binned(res, r, c);
    }
    if (rc == 0) {
        res->statistic = out.statistic;
        res->pvalue = out.pvalue;
    }
    return rc;
}

static const mlops_drift_column_options *override_for(const mlops_drift_report_options *o, const char *name)
{
    for (size_t i = 0; i < o->ncolumns; i++)
        if (o->columns[i].name && strcmp(o->columns[i].name, name) == 0)
            return &o->columns[i];
    return NULL;
}

static int run_column(mlops_drift_column_result *res, const mlops_drift_column *ref, const mlops_drift_column *cur,
                      const mlops_drift_report_options *o)
{
    kept r, c;
    int rc = keep(&r, ref, "reference");
    if (rc == 0)
        rc = keep(&c, cur, "current");
    else
        memset(&c, 0, sizeof c);
    if (rc == 0) {
        res->n_reference = r.n;
        res->n_current = c.n;
        res->missing_reference = r.missing;
        res->missing_current = c.missing;
        res->distinct = walk_distinct(&r, &c, NULL, NULL);
        const mlops_drift_column_options *ov = override_for(o, ref->name);
        mlops_drift_stattest t = ov ? ov->test : MLOPS_DRIFT_TEST_DEFAULT;
        if (t == MLOPS_DRIFT_TEST_DEFAULT)
            t = ref->type == MLOPS_DRIFT_NUMERIC ? o->numeric_test : o->categorical_test;
        if (t == MLOPS_DRIFT_TEST_DEFAULT)
            t = mlops__drift_default_test(ref->type, r.n, res->distinct);
        res->test = t;
        res->is_pvalue = mlops__drift_test_is_pvalue(t);
        res->threshold = mlops__drift_threshold(t, ov ? ov->threshold : 0, o);
        rc = mlops__drift_test_check(t, ref->type, ref->name);
    }
    if (rc == 0) {
        if (res->test == MLOPS_DRIFT_TEST_CHISQUARE || res->test == MLOPS_DRIFT_TEST_ZTEST)
            rc = run_counts(res, &r, &c);
        else if (ref->type == MLOPS_DRIFT_CATEGORICAL)
            rc = run_binned(res, &r, &c);
        else
            rc = run_values(res, &r, &c);
        if (rc < 0 && rc != MLOPS_ENOMEM) { /* say which column the test failed on */
            char why[400];
            snprintf(why, sizeof why, "%s", mlops_error_last());
            rc = mlops__error_set(rc, "column '%s', test %s: %s", ref->name, mlops_drift_stattest_name(res->test),
                                  why);
        }
    }
    kept_dispose(&r);
    kept_dispose(&c);
    return rc;
}

/* ---- checking the input ----------------------------------------------- */

static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
            return 0;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        if (len == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
            return 0; /* overlong, or a UTF-16 surrogate */
        if (len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
            return 0;
        p += len;
    }
    return 1;
}

#define NAME_MAX_BYTES 1024

static int check_table(const mlops_drift_column *cols, size_t n, const char *which)
{
    if (n && !cols)
        return mlops__error_set(MLOPS_EINVALID, "%s columns: NULL", which);
    for (size_t i = 0; i < n; i++) {
        const mlops_drift_column *c = &cols[i];
        if (!c->name || !*c->name || strlen(c->name) > NAME_MAX_BYTES || !utf8_ok(c->name))
            return mlops__error_set(MLOPS_EINVALID, "%s column %zu: a name must be 1..%d bytes of UTF-8", which, i,
                                    NAME_MAX_BYTES);
        if (c->type != MLOPS_DRIFT_NUMERIC && c->type != MLOPS_DRIFT_CATEGORICAL)
            return mlops__error_set(MLOPS_EINVALID, "%s column '%s': unknown type %d", which, c->name, (int)c->type);
        int numeric = c->type == MLOPS_DRIFT_NUMERIC;
        if ((numeric && (c->codes || (!c->values && c->n))) || (!numeric && (c->values || (!c->codes && c->n))))
            return mlops__error_set(MLOPS_EINVALID, "%s column '%s': a %s column takes %s only", which, c->name,
                                    numeric ? "numeric" : "categorical", numeric ? "values" : "codes");
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, c->name) == 0)
                return mlops__error_set(MLOPS_EINVALID, "%s column '%s' appears twice", which, c->name);
    }
    return 0;
}

static const mlops_drift_column *find_column(const mlops_drift_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return &cols[i];
    return NULL;
}

static int check_threshold(double t, const char *what)
{
    if (!(t >= 0) || isinf(t))
        return mlops__error_set(MLOPS_EINVALID, "%s must be a finite number >= 0 (0: the default)", what);
    return 0;
}

static int check_options(const mlops_drift_report_options *o, const mlops_drift_column *ref, size_t nref)
{
    MLOPS__TRY(mlops__options_version(o->version, MLOPS_DRIFT_REPORT_OPTIONS_VERSION, "drift report"));
    if (!(o->drift_share > 0 && o->drift_share <= 1))
        return mlops__error_set(MLOPS_EINVALID, "drift_share must be in (0, 1]");
    if ((unsigned)o->correction > MLOPS_DRIFT_CORRECTION_BH)
        return mlops__error_set(MLOPS_EINVALID, "unknown multiple-testing correction %d", (int)o->correction);
    MLOPS__TRY(check_threshold(o->pvalue_threshold, "pvalue_threshold"));
    MLOPS__TRY(check_threshold(o->distance_threshold, "distance_threshold"));
    if (o->pvalue_threshold > 1)
        return mlops__error_set(MLOPS_EINVALID, "pvalue_threshold must be at most 1");
    MLOPS__TRY(mlops__drift_test_check(o->numeric_test, MLOPS_DRIFT_NUMERIC, "(every numeric)"));
    MLOPS__TRY(mlops__drift_test_check(o->categorical_test, MLOPS_DRIFT_CATEGORICAL, "(every categorical)"));
    if (o->ncolumns && !o->columns)
        return mlops__error_set(MLOPS_EINVALID, "column options: NULL");
    for (size_t i = 0; i < o->ncolumns; i++) {
        const mlops_drift_column_options *c = &o->columns[i];
        if (!c->name || !find_column(ref, nref, c->name))
            return mlops__error_set(MLOPS_EINVALID, "column options %zu name no reference column ('%.64s')", i,
                                    c->name ? c->name : "(null)");
        MLOPS__TRY(check_threshold(c->threshold, "a column's threshold"));
        if ((unsigned)c->test > MLOPS_DRIFT_TEST_ENERGY)
            return mlops__error_set(MLOPS_EINVALID, "column '%s': unknown drift test %d", c->name, (int)c->test);
    }
    return 0;
}

/* ---- running the columns on two threads --------------------------------- */

/*
 * Columns are independent, so a helper thread takes every other one: a
 * report over 100 columns of 100,000 rows is mostly sorting, and this
 * machine has two cores. Error messages are thread-local, so a failing
 * column's message is copied and set again on the calling thread; the
 * first failing column in column order is the one reported, as if the
 * columns had run one after the other.
 */
#define THREAD_MIN_VALUES 100000 /* below, a thread costs more than it saves */

typedef struct column_job {
    mlops_drift_report *r;
    const mlops_drift_column *reference, *current;
    size_t ncur;
    const mlops_drift_report_options *o;
    size_t first, step;
    size_t failed;  /* index of the first failing column, or ncolumns */
    int rc;
    char message[512];
} column_job;

static void run_share(column_job *j)
{
    j->failed = j->r->ncolumns;
    j->rc = 0;
    for (size_t i = j->first; i < j->r->ncolumns; i += j->step) {
        const mlops_drift_column *ref = &j->reference[i];
        int rc = run_column(&j->r->columns[i], ref, find_column(j->current, j->ncur, ref->name), j->o);
        if (rc < 0) {
            j->failed = i;
            j->rc = rc;
            snprintf(j->message, sizeof j->message, "%s", mlops_error_last());
            return;
        }
    }
}

static void *run_share_thread(void *arg)
{
    run_share(arg);
    return NULL;
}

static int run_columns(mlops_drift_report *r, const mlops_drift_column *reference, const mlops_drift_column *current,
                       size_t ncur, const mlops_drift_report_options *o)
{
    size_t values = 0;
    for (size_t i = 0; i < r->ncolumns; i++)
        values += reference[i].n;
    column_job jobs[2] = { { r, reference, current, ncur, o, 0, 1, 0, 0, "" },
                           { r, reference, current, ncur, o, 1, 2, 0, 0, "" } };
    pthread_t t;
    int threaded = r->ncolumns > 1 && values >= THREAD_MIN_VALUES &&
                   pthread_create(&t, NULL, run_share_thread, &jobs[1]) == 0;
    if (threaded)
        jobs[0].step = 2;
    run_share(&jobs[0]);
    if (threaded)
        pthread_join(t, NULL);
    else
        jobs[1].failed = r->ncolumns;
    const column_job *bad = jobs[1].failed < jobs[0].failed ? &jobs[1] : &jobs[0];
    if (bad->failed == r->ncolumns)
        return 0;
    if (bad->rc == MLOPS_ENOMEM)
        return mlops__error_oom();
    return mlops__error_set(bad->rc, "%s", bad->message);
}

/* ---- the report ------------------------------------------------------- */

void mlops_drift_report_free(mlops_drift_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncolumns; i++)
        mlops__free(r->columns[i].name);
    mlops__free(r->columns);
    mlops__free(r);
}

/* Corrected p-values, drift flags and the dataset verdict. */
static int conclude(mlops_drift_report *r)
{
    double *p = mlops__malloc(r->ncolumns * sizeof *p);
    if (!p)
        return mlops__error_oom();
    for (size_t i = 0; i < r->ncolumns; i++)
        p[i] = r->columns[i].is_pvalue ? r->columns[i].pvalue : NAN;
    int rc = mlops__drift_correct(p, r->ncolumns, r->correction);
    for (size_t i = 0; rc == 0 && i < r->ncolumns; i++) {
        mlops_drift_column_result *c = &r->columns[i];
        c->pvalue_corrected = p[i];
        c->drifted = c->is_pvalue ? p[i] < c->threshold : c->statistic >= c->threshold;
        r->ndrifted += c->drifted != 0;
    }
    mlops__free(p);
    r->share_drifted = (double)r->ndrifted / (double)r->ncolumns;
    r->dataset_drift = r->share_drifted >= r->drift_share;
    return rc;
}

int mlops_drift_report_run(mlops_drift_report **out, const mlops_drift_column *reference, size_t nref_cols,
                           const mlops_drift_column *current, size_t ncur_cols,
                           const mlops_drift_report_options *opts)
{
    static const mlops_drift_report_options defaults = MLOPS_DRIFT_REPORT_OPTIONS_INIT;
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "report_run: NULL argument");
    *out = NULL;
    const mlops_drift_report_options *o = opts ? opts : &defaults;
    if (nref_cols == 0)
        return mlops__error_set(MLOPS_EINVALID, "report_run: no reference columns");
    MLOPS__TRY(check_table(reference, nref_cols, "reference"));
    MLOPS__TRY(check_table(current, ncur_cols, "current"));
    MLOPS__TRY(check_options(o, reference, nref_cols));
    for (size_t i = 0; i < nref_cols; i++) {
        const mlops_drift_column *c = find_column(current, ncur_cols, reference[i].name);
        if (!c)
            return mlops__error_set(MLOPS_EINVALID, "column '%s' is missing from the current data",
                                    reference[i].name);
        if (c->type != reference[i].type)
            return mlops__error_set(MLOPS_EINVALID, "column '%s' is %s in the reference and %s in the current data",
                                    c->name, reference[i].type == MLOPS_DRIFT_NUMERIC ? "numeric" : "categorical",
                                    c->type == MLOPS_DRIFT_NUMERIC ? "numeric" : "categorical");
    }
    mlops_drift_report *r = mlops__calloc(1, sizeof *r);
    if (!r)
        return mlops__error_oom();
    r->columns = mlops__calloc(nref_cols, sizeof *r->columns);
    if (!r->columns) {
        mlops__free(r);
        return mlops__error_oom();
    }
    r->drift_share = o->drift_share;
    r->correction = o->correction;
    r->ncolumns = nref_cols;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nref_cols; i++) {
        mlops_drift_column_result *res = &r->columns[i];
        res->name = mlops__strdup(reference[i].name);
        if (!res->name)
            rc = mlops__error_oom();
        res->type = reference[i].type;
        res->statistic = res->pvalue = res->pvalue_corrected = NAN;
    }
    if (rc == 0)
        rc = run_columns(r, reference, current, ncur_cols, o);
    if (rc == 0)
        rc = conclude(r);
    if (rc < 0) {
        mlops_drift_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
