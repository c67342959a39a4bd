/*
 * bench_drift_profile: column profiles (issue 6), one JSON object per line.
 *
 *  drift.profile_ingest   mlops_drift_profile_add of N values (default
 *                         10^8, MLOPS_BENCH_N) in chunks of 65536 into a
 *                         numeric profile with 10 histogram edges and the
 *                         default sketch (k 4096), on one thread. The data
 *                         are normal (the test vectors' Gen "normal": 12
 *                         splitmix64 uniforms summed) and generated before
 *                         anything is timed. Target: >= 50 million values
 *                         a second ("met"). Baseline, same data, same run:
 *                         a plain loop summing the values and their squares
 *                         (the least any single-pass statistic costs, at
 *                         memory speed); "ratio_vs_sumsq" is the profile's
 *                         time over the loop's.
 *  drift.profile_merge_100
 *                         the first M values (default 10^7,
 *                         MLOPS_BENCH_MERGE_N) in 100 shard profiles merged
 *                         into one (merge time is the figure), checked
 *                         against the exact data: the largest |cdf(x) -
 *                         F(x)| over 200,000 probe points (every
 *                         M/200,000-th sorted value) and the largest rank
 *                         miss of 1,001 quantiles, both within the merged
 *                         profile's stated epsilon; and the KS statistic
 *                         between the merged profile and one built from all
 *                         M values within its stated bound of 0.
 *
 * Usage: bench_drift_profile  (MLOPS_BENCH_RUNS, default 3)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlops.h>
#include <mlops/drift.h>

#include "bench_util.h"

#define CHUNK 65536
#define SHARDS 100
#define PROBES 200000

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_drift_profile: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static const double edges[10] = { -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 2, 3 };

static mlops_drift_profile *new_profile(void)
{
    mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
    o.edges = edges;
    o.nedges = 10;
    mlops_drift_profile *p = NULL;
    int rc = mlops_drift_profile_new(&p, &o);
    if (rc != 0)
        die("mlops_drift_profile_new", rc);
    return p;
}

static void ingest(mlops_drift_profile *p, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i += CHUNK) {
        int rc = mlops_drift_profile_add(p, x + i, n - i < CHUNK ? n - i : CHUNK);
        if (rc != 0)
            die("mlops_drift_profile_add", rc);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t rank_of(const double *s, size_t n, double x, int inclusive)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inclusive ? s[mid] <= x : s[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void bench_ingest(const double *x, size_t n, int runs)
{
    bench_series prof = { { 0 }, 0 }, base = { { 0 }, 0 };
    volatile double sink = 0;
    uint64_t rank_error = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        double s = 0, q = 0;
        for (size_t i = 0; i < n; i++) {
            s += x[i];
            q += x[i] * x[i];
        }
        bench_series_add(&base, bench_now() - t0);
        sink += s + q;
        mlops_drift_profile *p = new_profile();
        t0 = bench_now();
        ingest(p, x, n);
        bench_series_add(&prof, bench_now() - t0);
        mlops_drift_profile_stats st;
        mlops_drift_profile_stats_get(&st, p);
        rank_error = st.rank_error;
        if (st.count != n)
            die("count check", MLOPS_EINVALID);
        mlops_drift_profile_free(p);
    }
    double rate = (double)n / bench_series_median(&prof);
    char extra[512];
    snprintf(extra, sizeof extra,
             ",\"baseline_sumsq_seconds\":%.6f,\"baseline_rate\":%.1f,\"ratio_vs_sumsq\":%.2f,"
             "\"edges\":10,\"sketch_k\":4096,\"rank_error\":%llu,\"epsilon\":%.3g,\"target\":5e7,\"met\":%s",
             bench_series_median(&base), (double)n / bench_series_median(&base),
             bench_series_median(&prof) / bench_series_median(&base), (unsigned long long)rank_error,
             (double)rank_error / (double)n, rate >= 5e7 ? "true" : "false");
    bench_print("drift.profile_ingest", n, &prof, (double)n, "values/s", extra);
    (void)sink;
}

static void bench_merge(const double *x, size_t n, int runs)
{
    size_t per = n / SHARDS;
    n = per * SHARDS;
    mlops_drift_profile *whole = new_profile();
    ingest(whole, x, n);
    double *s = malloc(n * sizeof *s);
    if (!s)
        die("malloc", MLOPS_ENOMEM);
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    bench_series t = { { 0 }, 0 };
    double cdf_miss = 0, q_miss = 0, eps = 0, ks = 0, ks_bound = 0;
    for (int r = 0; r < runs; r++) {
        mlops_drift_profile *parts[SHARDS];
        for (size_t i = 0; i < SHARDS; i++) {
            parts[i] = new_profile();
            ingest(parts[i], x + i * per, per);
        }
        double t0 = bench_now();
        for (size_t i = 1; i < SHARDS; i++) {
            int rc = mlops_drift_profile_merge(parts[0], parts[i]);
            if (rc != 0)
                die("mlops_drift_profile_merge", rc);
        }
        bench_series_add(&t, bench_now() - t0);
        if (r == 0) {
            mlops_drift_profile *m = parts[0];
            mlops_drift_profile_stats st;
            mlops_drift_profile_stats_get(&st, m);
            eps = st.epsilon;
            for (size_t j = 0; j < PROBES; j++) {
                size_t at = (size_t)((double)j * (double)(n - 1) / (PROBES - 1));
                double c;
                int rc = mlops_drift_profile_cdf(&c, m, s[at]);
                if (rc != 0)
                    die("mlops_drift_profile_cdf", rc);
                double miss = fabs(c - (double)rank_of(s, n, s[at], 1) / (double)n);
                cdf_miss = miss > cdf_miss ? miss : cdf_miss;
            }
            for (int j = 0; j <= 1000; j++) {
                double q = j / 1000.0, v;
                int rc = mlops_drift_profile_quantile(&v, m, q);
                if (rc != 0)
                    die("mlops_drift_profile_quantile", rc);
                double lo = (double)rank_of(s, n, v, 0), hi = (double)rank_of(s, n, v, 1), tq = q * (double)n;
                double miss = (lo > tq ? lo - tq : (hi < tq ? tq - hi : 0)) / (double)n;
                q_miss = miss > q_miss ? miss : q_miss;
            }
            mlops_drift_profile_drift d;
            int rc = mlops_drift_profile_compare(&d, whole, m);
            if (rc != 0)
                die("mlops_drift_profile_compare", rc);
            ks = d.ks_statistic;
            ks_bound = d.ks_error_bound;
        }
        for (size_t i = 0; i < SHARDS; i++)
            mlops_drift_profile_free(parts[i]);
    }
    int ok = cdf_miss <= eps && q_miss <= eps && ks <= ks_bound;
    char extra[512];
    snprintf(extra, sizeof extra,
             ",\"shards\":%d,\"epsilon\":%.4g,\"cdf_max_miss\":%.4g,\"cdf_probes\":%d,\"quantile_max_miss\":%.4g,"
             "\"ks_vs_whole\":%.4g,\"ks_bound\":%.4g,\"within_bound\":%s",
             SHARDS, eps, cdf_miss, PROBES, q_miss, ks, ks_bound, ok ? "true" : "false");
    bench_print("drift.profile_merge_100", n, &t, SHARDS - 1, "merges/s", extra);
    free(s);
    mlops_drift_profile_free(whole);
}

int main(void)
{
    size_t n = (size_t)bench_env_long("MLOPS_BENCH_N", 100000000L);
    size_t nm = (size_t)bench_env_long("MLOPS_BENCH_MERGE_N", 10000000L);
    int runs = bench_runs(3);
    fprintf(stderr, "bench_drift_profile: generating %zu normal values\n", n);
    double *x = bench_normal(20240611, n, 0.0, 1.0);
    bench_ingest(x, n, runs);
    bench_merge(x, nm < n ? nm : n, runs);
    free(x);
    return 0;
}
