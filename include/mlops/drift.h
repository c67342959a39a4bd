/*
 * libmlops — drift statistics: two-sample tests and distances on arrays of
 * doubles (scipy's definitions and digits), mergeable column profiles that
 * can be saved in the store and compared without the raw data, and a
 * dataset report with a default test per column.
 *
 * Caveats (read first):
 *  - Samples are arrays of doubles. NaN values are dropped before anything
 *    is computed and counted in the result (nan1, nan2), as scipy's
 *    nan_policy='omit'. +Inf and -Inf are ordinary values that sort below
 *    or above every finite value: tests built on ranks or empirical CDFs
 *    (KS, Mann-Whitney, Anderson-Darling, Cramér-von Mises) accept them;
 *    functions that need finite distances or bins (Wasserstein, energy
 *    distance, PSI) return MLOPS_EINVALID for them, and profiles count
 *    them as missing.
 *  - A sample that is empty after dropping NaN is MLOPS_EINVALID, as are
 *    negative, NaN, infinite or all-zero weights or counts.
 *  - Nothing here keeps global state; every function may be called from
 *    several threads at once. A profile or report handle may be read from
 *    several threads but changed (add, merge) by one at a time.
 *  - Only profiles and reports touch the store (save and load).
 */
#ifndef MLOPS_DRIFT_H
#define MLOPS_DRIFT_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- names of alternatives and methods -------------------------------- */

typedef enum mlops_drift_alternative {
    MLOPS_DRIFT_TWO_SIDED = 0,
    MLOPS_DRIFT_LESS = 1,
    MLOPS_DRIFT_GREATER = 2
} mlops_drift_alternative;

/* How a p-value is computed. scipy spells the asymptotic method "asymp"
 * in ks_2samp and "asymptotic" elsewhere: both parse to ASYMPTOTIC. */
typedef enum mlops_drift_method {
    MLOPS_DRIFT_AUTO = 0,
    MLOPS_DRIFT_EXACT = 1,
    MLOPS_DRIFT_ASYMPTOTIC = 2
} mlops_drift_method;

/* "two-sided", "less", "greater". Errors: MLOPS_EINVALID. */
MLOPS_API int mlops_drift_alternative_parse(mlops_drift_alternative *out, const char *name);
/* "auto", "exact", "asymp" or "asymptotic". Errors: MLOPS_EINVALID. */
MLOPS_API int mlops_drift_method_parse(mlops_drift_method *out, const char *name);

/* ---- two-sample tests --------------------------------------------------- */

/* The result of a test. Fields a test does not define are NaN (doubles)
 * or 0. */
typedef struct mlops_drift_test {
    double statistic;
    double pvalue;
    /* KS: the value where the statistic is attained, and +1 when the first
     * sample's empirical CDF is above the second's there, else -1. */
    double statistic_location;
    int statistic_sign;
    /* The method actually used (EXACT or ASYMPTOTIC; auto resolved, and an
     * exact computation that would overflow falls back as scipy does). */
    mlops_drift_method method;
    double dof;          /* chi-square tests: degrees of freedom */
    size_t n1, n2;       /* values used from each sample */
    size_t nan1, nan2;   /* NaN values dropped from each sample */
} mlops_drift_test;

/*
 * Two-sample Kolmogorov-Smirnov test, as scipy.stats.ks_2samp: statistic
 * D (two-sided), D+ (greater) or D- (less); auto uses the exact
 * distribution when both sizes are at most 10,000, else the asymptotic
 * one; exact p-values for equal and unequal sizes; the asymptotic
 * two-sided p-value is the finite-n Kolmogorov distribution's survival at
 * round(m*n/(m+n)) by scipy's kstwo.sf rule (so it may differ from the
 * exact mlops_drift_kolmogorov_n_sf by up to 2.4e-5), the one-sided Hodges'
 * approximation. Like scipy: exact falls back to asymptotic when scipy's
 * exact computation would give up (lcm(n1, n2) >= 2^31 - 1, rounding
 * above 1, or a one-sided C(n1+n2, n1) beyond the double range), and the
 * exact method reports D rounded to a multiple of 1/lcm(n1, n2).
 * statistic_location: of the values attaining D, the first sample's
 * smallest if any, else the second's (scipy's). Where scipy's numbers are
 * off, the exact ones (one-sided exact p-values with a sample above
 * 10^4, asymptotic two-sided ones with round(m*n/(m+n)) above 10^6: see
 * smirnov_sf). Errors: MLOPS_EINVALID (NULL, empty after NaN, unknown
 * enum value), MLOPS_ENOMEM.
 */
MLOPS_API int mlops_drift_ks_2samp(mlops_drift_test *out, const double *a, size_t na, const double *b, size_t nb,
                                   mlops_drift_alternative alternative, mlops_drift_method method);

/*
 * Chi-square goodness of fit, as scipy.stats.chisquare: f_exp NULL means
 * equal expected counts; otherwise its sum must equal f_obs's within a
 * relative 1e-8 (MLOPS_EINVALID otherwise, as scipy). dof = k - 1 - ddof
 * (the p-value is NaN when dof <= 0, as scipy's); n1 = k.
 * Counts must be finite and >= 0; an expected count of 0 is EINVALID.
 * Errors: MLOPS_EINVALID (NULL, k = 0, bad counts, all f_obs 0).
 */
MLOPS_API int mlops_drift_chisquare(mlops_drift_test *out, const double *f_obs, const double *f_exp, size_t k,
                                    int ddof);

/*
 * Chi-square test of homogeneity/independence of a rows x cols table of
 * counts (row-major), as scipy.stats.chi2_contingency: expected counts
 * from the margins; with correction != 0 and dof == 1, Yates' correction
 * as scipy applies it. Rows and columns that are all zero (a category
 * seen in neither sample) are left out before anything is computed, so a
 * category seen in only one sample is an ordinary cell and nothing is
 * infinite; dof counts the rows and columns kept, n1 and n2 are their
 * numbers. When only one row or only one column is left, the result is
 * statistic 0, p-value 1, dof 0 (scipy's dof == 0 case). expected (may be
 * NULL) receives rows*cols expected counts (0 where left out).
 * Errors: MLOPS_EINVALID (NULL table, rows or cols 0, negative or
 * non-finite counts, all counts 0), MLOPS_ENOMEM.
 */
MLOPS_API int mlops_drift_chi2_contingency(mlops_drift_test *out, double *expected, const double *table, size_t rows,
                                           size_t cols, int correction);

/* Anderson-Darling k-sample test, as scipy.stats.anderson_ksamp
 * (midrank=True): the normalized statistic, the critical values for the
 * significance levels 25%, 10%, 5%, 2.5%, 1%, 0.5%, 0.1%, and scipy's
 * p-value interpolation, capped to [0.001, 0.25] as scipy does. */
typedef struct mlops_drift_anderson {
    double statistic;
    double critical_values[7];
    double pvalue;
    size_t nan_total; /* NaN values dropped from all samples */
} mlops_drift_anderson;
/* samples[i] has sizes[i] values; k >= 2. With 3 values in all, scipy's
 * variance divides by zero: statistic and p-value NaN, as scipy. Errors:
 * MLOPS_EINVALID (fewer than two samples, an empty one, fewer than 3
 * values in all, all values equal), MLOPS_ENOMEM. */
MLOPS_API int mlops_drift_anderson_ksamp(mlops_drift_anderson *out, const double *const *samples,
                                         const size_t *sizes, size_t k);

/* Cramér-von Mises two-sample test, as scipy.stats.cramervonmises_2samp:
 * auto is exact when both sizes are at most 20, else asymptotic. Where
 * scipy loses digits this does not: T is computed without its
 * cancellation, and the asymptotic p-value is the limiting distribution's
 * survival function itself (scipy's 1 - truncated cdf is wrong below
 * ~1e-5). An exact count beyond its limits (values past 2^53, 128 MiB
 * of lists or ~1 s of work; never under auto) falls back to asymptotic,
 * as out->method says. Errors: MLOPS_EINVALID (fewer than 2 values in a sample after
 * dropping NaN, unknown method), MLOPS_ENOMEM. */
MLOPS_API int mlops_drift_cramervonmises_2samp(mlops_drift_test *out, const double *a, size_t na, const double *b,
                                               size_t nb, mlops_drift_method method);

/* Mann-Whitney U test, as scipy.stats.mannwhitneyu: the statistic is U of
 * the first sample; auto is exact when a sample has at most 8 values and
 * there are no ties, else the normal approximation with tie correction
 * and (use_continuity != 0) continuity correction. Exact falls back to
 * the normal approximation (as out->method says) when the smaller sample
 * has more than 200 values or the distribution would need more than 2^24
 * terms or 2^30 operations. Errors: MLOPS_EINVALID (empty sample after
 * NaN, unknown alternative or method), MLOPS_ENOMEM. */
MLOPS_API int mlops_drift_mannwhitneyu(mlops_drift_test *out, const double *a, size_t na, const double *b, size_t nb,
                                       mlops_drift_alternative alternative, int use_continuity,
                                       mlops_drift_method method);

/* Z-test for two proportions (pooled standard error): x1 successes of
 * n1, x2 of n2; statistic z = (p1 - p2) / se, two-sided p-value. Both
 * proportions 0 or both 1 gives z = 0, p = 1. Errors: MLOPS_EINVALID
 * (n = 0, x > n). */
MLOPS_API int mlops_drift_ztest_proportions(mlops_drift_test *out, uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2);

/* ---- distances ---------------------------------------------------------- */

/* PSI options. Bins: with edges NULL, `bins` bins between the reference's
 * quantiles at i/bins (numpy's default 'linear' quantile), repeated edges
 * merged; the first and last bin are open (-Inf, e1) and [e_last, +Inf),
 * so no current value falls outside (a constant reference leaves one bin:
 * PSI 0). With edges given (nedges >= 2, finite, strictly increasing;
 * bins is then ignored), numpy.histogram's bins: [e_i, e_i+1), the last
 * one closed, values outside counted nowhere. A bin's share is its count
 * over the sample's size without NaN (values outside given edges count
 * in the size); an empty bin's share is replaced by epsilon (default
 * 1e-4, Evidently's; finite and > 0) before
 * PSI = sum (cur - ref) * ln(cur / ref). */
typedef struct mlops_drift_psi_options {
    unsigned int version;
    size_t bins;          /* default 10 */
    const double *edges;  /* optional */
    size_t nedges;
    double epsilon;       /* default 1e-4 */
} mlops_drift_psi_options;
#define MLOPS_DRIFT_PSI_OPTIONS_VERSION 1
#define MLOPS_DRIFT_PSI_OPTIONS_INIT { MLOPS_DRIFT_PSI_OPTIONS_VERSION, 10, NULL, 0, 1e-4 }
MLOPS_API int mlops_drift_psi_options_init(mlops_drift_psi_options *opts, unsigned int version);

/* PSI of current against reference samples (opts NULL: defaults).
 * Errors: MLOPS_EINVALID (bins < 1, bad edges or epsilon, unknown options
 * version, empty sample, ±Inf), MLOPS_ENOMEM. */
MLOPS_API int mlops_drift_psi(double *out, const double *reference, size_t nref, const double *current, size_t ncur,
                              const mlops_drift_psi_options *opts);

/* The following take two distributions p and q of k non-negative weights
 * each, normalized to sum 1 first, as scipy does. base <= 0 means e.
 * They are computed from the exact differences of the normalized weights,
 * so nearly equal distributions get accurate tiny values where scipy's
 * can be off by orders of magnitude (or NaN, for the JS distance).
 * Errors: MLOPS_EINVALID (NULL, k = 0, a weight negative or not finite,
 * all weights zero, a sum that overflows; base 1, NaN or +Inf). */

/* KL divergence sum p ln(p/q) (scipy.stats.entropy(p, q, base)); +Inf
 * when q is 0 where p is not. */
MLOPS_API int mlops_drift_kl_divergence(double *out, const double *p, const double *q, size_t k, double base);
/* Jensen-Shannon distance (scipy.spatial.distance.jensenshannon): the
 * square root of the JS divergence. A base between 0 and 1 is EINVALID
 * (the divergence would be negative; scipy returns NaN). */
MLOPS_API int mlops_drift_jensenshannon(double *out, const double *p, const double *q, size_t k, double base);
/* Hellinger distance sqrt(sum (sqrt p - sqrt q)^2 / 2), in [0, 1]. */
MLOPS_API int mlops_drift_hellinger(double *out, const double *p, const double *q, size_t k);
/* Total variation distance sum |p - q| / 2, in [0, 1]. */
MLOPS_API int mlops_drift_total_variation(double *out, const double *p, const double *q, size_t k);

/* Wasserstein-1 distance between the empirical distributions of u and v
 * (scipy.stats.wasserstein_distance); weights may be NULL (all 1), else
 * one non-negative finite weight per value, not all zero. A NaN value is
 * dropped with its weight. Errors: MLOPS_EINVALID (NULL, a sample empty
 * after dropping NaN, ±Inf values, bad weights), MLOPS_ENOMEM. */
MLOPS_API int mlops_drift_wasserstein(double *out, const double *u, size_t nu, const double *v, size_t nv,
                                      const double *u_weights, const double *v_weights);
/* Wasserstein-1 divided by the reference (u) population standard
 * deviation (ddof 0), Evidently's normed form: the divisor is
 * max(std, 0.001) (Evidently's floor), so a constant reference, or any
 * whose std is below 0.001, divides by 0.001. Unweighted. */
MLOPS_API int mlops_drift_wasserstein_normed(double *out, const double *u, size_t nu, const double *v, size_t nv);
/* Energy distance (scipy.stats.energy_distance), weights as above. */
MLOPS_API int mlops_drift_energy_distance(double *out, const double *u, size_t nu, const double *v, size_t nv,
                                          const double *u_weights, const double *v_weights);

/* ---- special functions -------------------------------------------------- */
/* Accurate to about 1e-14 relative wherever the value is a normal double,
 * also far in the tails; NaN for arguments outside the domain. */

/* Regularized lower and upper incomplete gamma P(a, x), Q(a, x); a > 0,
 * x >= 0 (scipy.special.gammainc, gammaincc). */
MLOPS_API double mlops_drift_gammainc(double a, double x);
MLOPS_API double mlops_drift_gammaincc(double a, double x);
/* Chi-square survival function (scipy.stats.chi2.sf). */
MLOPS_API double mlops_drift_chi2_sf(double x, double dof);
/* Standard normal survival function (scipy.stats.norm.sf). */
MLOPS_API double mlops_drift_norm_sf(double x);
/* Kolmogorov limit distribution's survival function
 * (scipy.special.kolmogorov): P(sqrt(n) D_n > x) as n -> infinity. */
MLOPS_API double mlops_drift_kolmogorov_sf(double x);
/* One-sided finite-n Smirnov survival P(D+_n >= d)
 * (scipy.special.smirnov, which switches to a rough approximation above
 * n = 10^6; this stays exact). Domain 1 <= n <= 2^53. */
MLOPS_API double mlops_drift_smirnov_sf(uint64_t n, double d);
/* Two-sided finite-n Kolmogorov survival P(D_n >= d) (scipy.stats.kstwo.sf),
 * exact to ~1e-14 relative for n <= 10^4 and, for any n, from n d^2 = 5.4
 * on; where scipy approximates (Pelz-Good above n = 140; up to 2.4e-5 off)
 * this differs from it. Above n = 10^4 and below n d^2 = 5.4 it uses
 * scipy's rule, measured within 5e-9 (n d^2 < 2.2) and 2e-6 (2.2 to 5.4)
 * at n = 10^4. Costs O(n^1.5): 0.3 s at n = 10^4. ks_2samp's asymptotic
 * p-value uses scipy's rule throughout, as scipy does.
 * Domain 1 <= n <= 2^53; NaN also if memory runs out. */
MLOPS_API double mlops_drift_kolmogorov_n_sf(uint64_t n, double d);

/* ---- profiles ----------------------------------------------------------- */

typedef enum mlops_drift_column_type {
    MLOPS_DRIFT_NUMERIC = 0,
    MLOPS_DRIFT_CATEGORICAL = 1
} mlops_drift_column_type;

/*
 * A profile: a mergeable summary of one column, built from chunks.
 * Numeric: count, missing (NaN) count, min, max, mean, variance, an exact
 * histogram on the given edges (numpy.histogram's bins; values outside
 * the edges are counted in no bin) and a quantile sketch whose rank error
 * is bounded deterministically: every quantile or CDF it answers is
 * within rank_error ranks of the truth, and rank_error / count <= the
 * epsilon that sketch_k gives (stated by mlops_drift_profile_stats):
 *     epsilon <= (floor(log2(n / (2 k))) + 2) / (4 k)  for n >= 2k values,
 *     0 (exact) below 2k values;
 * for the default k = 4096: 4.9e-4 at n = 1e6, 7.3e-4 at 1e7, 9.2e-4 at
 * 1e8 (lib/drift/sketch.h has the proof). ±Inf values are counted as
 * missing. Categorical: counts per category code (int64); code < 0 is
 * missing. Merging two profiles of the same type, edges and sketch_k, in
 * any order and any number, gives a profile of all their values with the
 * same bound (as a function of the total n).
 */
typedef struct mlops_drift_profile mlops_drift_profile;

typedef struct mlops_drift_profile_options {
    unsigned int version;
    mlops_drift_column_type type;
    const double *edges;  /* numeric: histogram edges (optional) */
    size_t nedges;
    uint32_t sketch_k;    /* sketch buffer size; 0: default (4096) */
} mlops_drift_profile_options;
#define MLOPS_DRIFT_PROFILE_OPTIONS_VERSION 1
#define MLOPS_DRIFT_PROFILE_OPTIONS_INIT { MLOPS_DRIFT_PROFILE_OPTIONS_VERSION, MLOPS_DRIFT_NUMERIC, NULL, 0, 0 }
MLOPS_API int mlops_drift_profile_options_init(mlops_drift_profile_options *opts, unsigned int version);

/* Errors: MLOPS_EINVALID (edges not strictly increasing or not finite,
 * sketch_k outside 64..65536), MLOPS_ENOMEM. */
MLOPS_API int mlops_drift_profile_new(mlops_drift_profile **out, const mlops_drift_profile_options *opts);
/* A new empty profile with the type, edges and sketch_k of p: to profile
 * new data for mlops_drift_profile_compare against p. */
MLOPS_API int mlops_drift_profile_new_like(mlops_drift_profile **out, const mlops_drift_profile *p);
MLOPS_API void mlops_drift_profile_free(mlops_drift_profile *p);
/* Adds values to a numeric profile (EINVALID for a categorical one). */
MLOPS_API int mlops_drift_profile_add(mlops_drift_profile *p, const double *values, size_t n);
/* Adds category codes to a categorical profile (EINVALID for numeric). */
MLOPS_API int mlops_drift_profile_add_codes(mlops_drift_profile *p, const int64_t *codes, size_t n);
/* Adds everything in src to dst. Errors: MLOPS_EINVALID (different type,
 * edges or sketch_k). */
MLOPS_API int mlops_drift_profile_merge(mlops_drift_profile *dst, const mlops_drift_profile *src);

typedef struct mlops_drift_profile_stats {
    mlops_drift_column_type type;
    uint64_t count;        /* values counted (missing excluded) */
    uint64_t missing;
    double min, max;       /* numeric; NaN when count is 0 */
    double mean, variance; /* numeric; population variance (ddof 0) */
    uint64_t rank_error;   /* numeric: the sketch's proven rank error */
    double epsilon;        /* rank_error / count (0 when count is 0) */
    size_t ncategories;    /* categorical: distinct codes seen */
} mlops_drift_profile_stats;
MLOPS_API int mlops_drift_profile_stats_get(mlops_drift_profile_stats *out, const mlops_drift_profile *p);
/* Numeric: the q-quantile (0 <= q <= 1) from the sketch, within the rank
 * error: a value v of the data with #(values < v) <= q count + rank_error
 * and #(values <= v) >= q count - rank_error (q = 0 and 1 give the exact
 * min and max). Errors: MLOPS_EINVALID (categorical, empty, q outside
 * [0, 1]). */
MLOPS_API int mlops_drift_profile_quantile(double *out, const mlops_drift_profile *p, double q);
/* Numeric: the fraction of values <= x, from the sketch (within epsilon).
 * Errors: MLOPS_EINVALID (categorical, empty, x NaN). */
MLOPS_API int mlops_drift_profile_cdf(double *out, const mlops_drift_profile *p, double x);
/* Numeric: the histogram counts (nedges - 1 of them), valid while the
 * profile lives and is not changed. *n is 0 without edges. */
MLOPS_API int mlops_drift_profile_histogram(const uint64_t **counts, size_t *n, const mlops_drift_profile *p);
/* Categorical: the distinct codes (ascending) and their counts, valid
 * while the profile lives and is not changed. */
MLOPS_API int mlops_drift_profile_categories(const int64_t **codes, const uint64_t **counts, size_t *n,
                                             const mlops_drift_profile *p);

/* Serialized form (docs/FORMAT.md): *out is released with mlops_free. */
MLOPS_API int mlops_drift_profile_encode(void **out, size_t *len, const mlops_drift_profile *p);
/* Errors: MLOPS_ECORRUPT (anything that is not exactly what encode
 * writes), MLOPS_EUNSUPPORTED (a newer format version). */
MLOPS_API int mlops_drift_profile_decode(mlops_drift_profile **out, const void *data, size_t len);
/* Stores the encoded profile as an object. */
MLOPS_API int mlops_drift_profile_save(mlops_oid *out, mlops_store *s, const mlops_drift_profile *p);
/* Errors: MLOPS_ENOTFOUND, MLOPS_ECORRUPT, MLOPS_EUNSUPPORTED. */
MLOPS_API int mlops_drift_profile_load(mlops_drift_profile **out, mlops_store *s, const mlops_oid *id);

/* Drift between two profiles of the same type (and edges, for numeric
 * ones with edges). Numeric: the KS statistic between the two sketches,
 * with ks_error_bound such that the true KS statistic of the underlying
 * data lies within ks_statistic ± ks_error_bound; PSI, Jensen-Shannon
 * distance (base e) and Hellinger on the histogram when there are edges,
 * else on 10 bins between the reference sketch's deciles.
 * Categorical: KS fields NaN; PSI, JS and Hellinger on the category
 * shares (union of codes; PSI's epsilon for empty shares). The decile
 * bins are (-Inf, d1), [d1, d2), ..., [d9, +Inf), repeated deciles merged;
 * a histogram with nothing inside its edges makes PSI, JS and Hellinger
 * NaN. On a histogram, shares are of the values inside the edges (a
 * profile keeps no count of the others by bin), where mlops_drift_psi
 * with the same edges divides by every value: the two PSIs differ when
 * values fall outside the edges. Errors: MLOPS_EINVALID (different types
 * or edges, an empty profile). */
typedef struct mlops_drift_profile_drift {
    double ks_statistic;
    double ks_error_bound;
    double psi;
    double jensenshannon;
    double hellinger;
} mlops_drift_profile_drift;
MLOPS_API int mlops_drift_profile_compare(mlops_drift_profile_drift *out, const mlops_drift_profile *reference,
                                          const mlops_drift_profile *current);

/* ---- dataset report ----------------------------------------------------- */

/*
 * The tests a report can run on a column, and how the report feeds them:
 * rank and value tests (KS, Anderson-Darling, Cramér-von Mises,
 * Mann-Whitney, energy, normed Wasserstein) get the column's values;
 * chi-square gets the 2 x k table of counts per distinct value
 * (chi2_contingency: homogeneity of the two samples, where Evidently runs
 * goodness of fit against the reference's shares, which is infinite for
 * a value new in the current data); the Z-test counts the smallest of at
 * most two distinct values; JS, KL, Hellinger and TV get Evidently's
 * binning (numeric: numpy's "sturges" bins over both samples; categorical:
 * the shares of each code), JS and KL with Evidently's zero filling (an
 * empty share becomes a millionth of the smallest non-empty one); PSI
 * gets mlops_drift_psi's reference-quantile bins (numeric) or the code
 * shares with its epsilon (categorical).
 */
typedef enum mlops_drift_stattest {
    MLOPS_DRIFT_TEST_DEFAULT = 0, /* Evidently's rule, see below */
    MLOPS_DRIFT_TEST_KS,
    MLOPS_DRIFT_TEST_CHISQUARE,    /* chi2_contingency on the 2 x k table */
    MLOPS_DRIFT_TEST_ZTEST,        /* two proportions (binary columns) */
    MLOPS_DRIFT_TEST_WASSERSTEIN,  /* normed */
    MLOPS_DRIFT_TEST_JENSENSHANNON,
    MLOPS_DRIFT_TEST_PSI,
    MLOPS_DRIFT_TEST_KL,
    MLOPS_DRIFT_TEST_HELLINGER,
    MLOPS_DRIFT_TEST_TV,
    MLOPS_DRIFT_TEST_ANDERSON,
    MLOPS_DRIFT_TEST_CRAMERVONMISES,
    MLOPS_DRIFT_TEST_MANNWHITNEY,
    MLOPS_DRIFT_TEST_ENERGY
} mlops_drift_stattest;
/* "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", "kl_div",
 * "hellinger", "TV", "anderson", "cramer_von_mises", "mannw", "ed"
 * (Evidently's names), "default". Errors: MLOPS_EINVALID. */
MLOPS_API int mlops_drift_stattest_parse(mlops_drift_stattest *out, const char *name);
MLOPS_API const char *mlops_drift_stattest_name(mlops_drift_stattest test);

typedef enum mlops_drift_correction {
    MLOPS_DRIFT_CORRECTION_NONE = 0,
    MLOPS_DRIFT_CORRECTION_BONFERRONI = 1,
    MLOPS_DRIFT_CORRECTION_BH = 2 /* Benjamini-Hochberg */
} mlops_drift_correction;

/* One column of a table: numeric values (NaN = missing) or categorical
 * codes (< 0 = missing); exactly one of values / codes is set. */
typedef struct mlops_drift_column {
    const char *name;
    mlops_drift_column_type type;
    const double *values;
    const int64_t *codes;
    size_t n;
} mlops_drift_column;

/* Per-column choice of test and threshold (0: the test's default). */
typedef struct mlops_drift_column_options {
    const char *name;
    mlops_drift_stattest test;
    double threshold;
} mlops_drift_column_options;

/*
 * Report options. The default test per column follows Evidently: with at
 * most 1000 reference rows, KS for a numeric column with more than 5
 * distinct values, else chi-square when there are more than 2 distinct
 * values and the Z-test when there are 2 or fewer; with more reference
 * rows, the normed Wasserstein distance for a numeric column with more
 * than 5 distinct values, else Jensen-Shannon. A p-value test detects
 * drift when its (corrected) p-value is below the threshold (default
 * 0.05); a distance when it is at or above the threshold (default 0.1).
 * The dataset drifts when the share of drifted columns is at or above
 * drift_share (default 0.5). Corrections adjust the p-values of p-value
 * tests only.
 */
typedef struct mlops_drift_report_options {
    unsigned int version;
    double drift_share;                  /* default 0.5 */
    mlops_drift_correction correction;   /* default NONE */
    mlops_drift_stattest numeric_test;   /* for every numeric column; DEFAULT: the rule */
    mlops_drift_stattest categorical_test;
    double pvalue_threshold;             /* 0: 0.05 */
    double distance_threshold;           /* 0: 0.1 */
    const mlops_drift_column_options *columns; /* per-column overrides */
    size_t ncolumns;
} mlops_drift_report_options;
#define MLOPS_DRIFT_REPORT_OPTIONS_VERSION 1
#define MLOPS_DRIFT_REPORT_OPTIONS_INIT                                                                   \
    { MLOPS_DRIFT_REPORT_OPTIONS_VERSION, 0.5, MLOPS_DRIFT_CORRECTION_NONE, MLOPS_DRIFT_TEST_DEFAULT,    \
      MLOPS_DRIFT_TEST_DEFAULT, 0, 0, NULL, 0 }
MLOPS_API int mlops_drift_report_options_init(mlops_drift_report_options *opts, unsigned int version);

typedef struct mlops_drift_column_result {
    char *name;
    mlops_drift_column_type type;
    mlops_drift_stattest test;   /* the test that ran */
    int is_pvalue;               /* 1: statistic has a p-value; 0: a distance */
    double statistic;            /* the distance for distance tests */
    double pvalue;               /* NaN for distances */
    double pvalue_corrected;     /* after the correction (= pvalue for NONE) */
    double threshold;
    int drifted;
    size_t n_reference, n_current;         /* non-missing values */
    size_t missing_reference, missing_current;
    size_t distinct;             /* distinct values in both samples */
} mlops_drift_column_result;

typedef struct mlops_drift_report {
    mlops_drift_column_result *columns; /* in the reference's column order */
    size_t ncolumns;
    size_t ndrifted;
    double share_drifted;
    double drift_share;
    int dataset_drift;
    mlops_drift_correction correction;
} mlops_drift_report;

/*
 * Compares the columns of current against the reference columns of the
 * same name (every reference column must be in current, with the same
 * type). Release with mlops_drift_report_free. Errors: MLOPS_EINVALID
 * (missing or mistyped column, empty column, unknown test, a test that
 * does not fit the column type, bad options), MLOPS_ENOMEM.
 */
MLOPS_API int mlops_drift_report_run(mlops_drift_report **out, const mlops_drift_column *reference, size_t nref_cols,
                                     const mlops_drift_column *current, size_t ncur_cols,
                                     const mlops_drift_report_options *opts);
MLOPS_API void mlops_drift_report_free(mlops_drift_report *r);
/* The report as one JSON object (docs/FORMAT.md); *out is NUL-terminated,
 * released with mlops_free; *len (may be NULL) excludes the NUL. */
MLOPS_API int mlops_drift_report_json(char **out, size_t *len, const mlops_drift_report *r);
/* Stores the report's JSON as an object. */
MLOPS_API int mlops_drift_report_save(mlops_oid *out, mlops_store *s, const mlops_drift_report *r);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_DRIFT_H */
