/*
 * Chi-square tests on counts: goodness of fit (scipy.stats.chisquare) and
 * the test of a contingency table (scipy.stats.chi2_contingency with
 * lambda_=None, i.e. Pearson's statistic). The p-value is the chi-square
 * survival function (special_gamma.c), accurate far into the tail.
 *
 * Sums of cells use Neumaier's compensated summation: numpy's pairwise
 * sums are within a few ulps of the exact sum, and so is this, so the
 * statistics agree with scipy's to ~1e-15 whatever the number of cells.
 */
#include <math.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/error.h"
#include "mlops/drift.h"

typedef struct ksum {
    double s, c;
} ksum;

static void ksum_add(ksum *k, double v)
{
    double t = k->s + v;
    if (fabs(k->s) >= fabs(v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

static double ksum_value(const ksum *k)
{
    return k->s + k->c;
}

static void test_init(mlops_drift_test *out)
{
    out->statistic = NAN;
    out->pvalue = NAN;
    out->statistic_location = NAN;
    out->statistic_sign = 0;
    /* both p-values come from the chi-square limit distribution */
    out->method = MLOPS_DRIFT_ASYMPTOTIC;
    out->dof = NAN;
    out->n1 = out->n2 = 0;
    out->nan1 = out->nan2 = 0;
}

/* EINVALID unless every count is finite and >= 0 (NaN fails both). */
static int check_counts(const double *v, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= 0.0) || isinf(v[i]))
            return mlops__error_set(MLOPS_EINVALID, "%s[%zu] = %g: counts must be finite and >= 0", what, i, v[i]);
    }
    return 0;
}

int mlops_drift_chisquare(mlops_drift_test *out, const double *f_obs, const double *f_exp, size_t k, int ddof)
{
    if (!out || !f_obs)
        return mlops__error_set(MLOPS_EINVALID, "chisquare: NULL argument");
    if (k == 0)
        return mlops__error_set(MLOPS_EINVALID, "chisquare: no categories");
    MLOPS__TRY(check_counts(f_obs, k, "f_obs"));
    if (f_exp)
        MLOPS__TRY(check_counts(f_exp, k, "f_exp"));

    ksum so = {0, 0}, se = {0, 0};
    for (size_t i = 0; i < k; i++)
        ksum_add(&so, f_obs[i]);
    double sum_obs = ksum_value(&so), mean = sum_obs / (double)k;
    if (!isfinite(sum_obs))
        return mlops__error_set(MLOPS_EINVALID, "chisquare: the observed counts sum beyond the largest double");
    if (sum_obs == 0.0)
        return mlops__error_set(MLOPS_EINVALID, "chisquare: all observed counts are 0");
    if (f_exp) {
        for (size_t i = 0; i < k; i++) {
            if (f_exp[i] == 0.0)
                return mlops__error_set(MLOPS_EINVALID, "chisquare: expected count f_exp[%zu] is 0", i);
            ksum_add(&se, f_exp[i]);
        }
        /* scipy's check: relative difference of the sums, over the
         * smaller one, at most 1e-8 */
        double sum_exp = ksum_value(&se);
        if (!isfinite(sum_exp))
            return mlops__error_set(MLOPS_EINVALID, "chisquare: the expected counts sum beyond the largest double");
        double rel = fabs(sum_obs - sum_exp) / fmin(sum_obs, sum_exp);
        if (!(rel <= 1e-8))
            return mlops__error_set(MLOPS_EINVALID,
                                    "chisquare: observed counts sum to %.17g, expected to %.17g (relative "
                                    "difference %.3g > 1e-8)",
                                    sum_obs, sum_exp, rel);
    }

    ksum stat = {0, 0};
    for (size_t i = 0; i < k; i++) {
        double e = f_exp ? f_exp[i] : mean, d = f_obs[i] - e;
        ksum_add(&stat, d * d / e);
    }
    test_init(out);
    out->statistic = ksum_value(&stat);
    /* in double: ddof may be anything an int holds */
    out->dof = (double)k - 1.0 - (double)ddof;
    /* dof <= 0 leaves the p-value NaN, as scipy */
    out->pvalue = mlops_drift_chi2_sf(out->statistic, out->dof);
    out->n1 = k;
    return 0;
}

/*
 * Yates' correction as scipy applies it (only when dof == 1): every
 * observed count moves 0.5 towards its expected count, but never past it.
 */
static double yates(double o, double e)
{
    double diff = e - o, m = fmin(0.5, fabs(diff));
    return diff > 0 ? o + m : diff < 0 ? o - m : o;
}

int mlops_drift_chi2_contingency(mlops_drift_test *out, double *expected, const double *table, size_t rows,
                                 size_t cols, int correction)
{
    if (!out || !table)
        return mlops__error_set(MLOPS_EINVALID, "chi2_contingency: NULL argument");
    if (rows == 0 || cols == 0)
        return mlops__error_set(MLOPS_EINVALID, "chi2_contingency: empty table (%zu x %zu)", rows, cols);
    if (rows > SIZE_MAX / cols || rows * cols > SIZE_MAX / sizeof(double))
        return mlops__error_set(MLOPS_EINVALID, "chi2_contingency: table of %zu x %zu cells is too large", rows,
                                cols);
    size_t ncells = rows * cols;
    MLOPS__TRY(check_counts(table, ncells, "table"));

    double *rsum = mlops__calloc(rows + cols, sizeof(double));
    if (!rsum)
        return mlops__error_oom();
    double *csum = rsum + rows;
    for (size_t i = 0; i < rows; i++) {
        ksum r = {0, 0};
        for (size_t j = 0; j < cols; j++) {
            ksum_add(&r, table[i * cols + j]);
            csum[j] += table[i * cols + j];
        }
        rsum[i] = ksum_value(&r);
    }
    ksum tot = {0, 0};
    size_t kept_rows = 0, kept_cols = 0;
    for (size_t i = 0; i < rows; i++) {
        ksum_add(&tot, rsum[i]);
        kept_rows += rsum[i] > 0.0;
    }
    for (size_t j = 0; j < cols; j++)
        kept_cols += csum[j] > 0.0;
    double total = ksum_value(&tot);
    if (total == 0.0) {
        mlops__free(rsum);
        return mlops__error_set(MLOPS_EINVALID, "chi2_contingency: all counts are 0");
    }

    /* rows and columns of zeros are left out: their expected counts would
     * be 0 (scipy raises) and they carry no information */
    size_t dof = (kept_rows - 1) * (kept_cols - 1);
    int yates_on = correction && dof == 1;
    ksum stat = {0, 0};
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            double e = 0.0;
            if (rsum[i] > 0.0 && csum[j] > 0.0) {
                /* scipy's order: product of the margins over the total */
                e = rsum[i] * csum[j] / total;
                double o = table[i * cols + j];
                if (yates_on)
                    o = yates(o, e);
                double d = o - e;
                ksum_add(&stat, d * d / e);
            }
            if (expected)
                expected[i * cols + j] = e;
        }
    }
    mlops__free(rsum);

    test_init(out);
    out->dof = (double)dof;
    out->n1 = kept_rows;
    out->n2 = kept_cols;
    if (dof == 0) {
        /* one row or one column left: observed == expected (scipy's
         * degenerate case) */
        out->statistic = 0.0;
        out->pvalue = 1.0;
    } else {
        out->statistic = ksum_value(&stat);
        out->pvalue = mlops_drift_chi2_sf(out->statistic, out->dof);
    }
    return 0;
}
