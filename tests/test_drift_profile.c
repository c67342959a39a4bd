/*
 * Column profiles (drift.h: mlops_drift_profile_*): statistics and
 * histograms against numpy (tests/drift/profile.vec, gen_profile.py), the
 * sketch's answers against the exact ranks of the sorted data (computed
 * here with qsort, independently of the library), the rank-error bound
 * against its formula (sketch.h), merges of shards, the serialized form
 * (round trips, every truncation and byte flip, hostile blobs with a valid
 * checksum), the store, drift between profiles against scipy, bad input
 * and out of memory.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <mlops.h>
#include <mlops/drift.h>

#include "drift_vec.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static mlops_drift_profile *mk(mlops_drift_column_type type, const double *edges, size_t nedges, uint32_t k)
{
    mlops_drift_profile_options o;
    ck_assert_int_eq(mlops_drift_profile_options_init(&o, MLOPS_DRIFT_PROFILE_OPTIONS_VERSION), 0);
    o.type = type;
    o.edges = edges;
    o.nedges = nedges;
    o.sketch_k = k;
    mlops_drift_profile *p = NULL;
    int rc = mlops_drift_profile_new(&p, &o);
    ck_assert_msg(rc == 0, "profile_new: %s", mlops_error_last());
    return p;
}

static void add_chunks(mlops_drift_profile *p, const double *x, size_t n, size_t chunk)
{
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;
        int rc = mlops_drift_profile_add(p, x + i, m);
        ck_assert_msg(rc == 0, "profile_add: %s", mlops_error_last());
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The finite values of x, sorted (qsort: independent of the library). */
static double *sorted_finite(const double *x, size_t n, size_t *out_n)
{
    double *s = tu_xmalloc((n ? n : 1) * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s[m++] = x[i];
    qsort(s, m, sizeof *s, cmp_double);
    *out_n = m;
    return s;
}

/* #(s < x) or #(s <= x) in sorted s. */
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

/* sketch.h's bound: (L + 1) n / (4k), L = #{h >= 0 : 2k 2^h <= n}. */
static double bound_formula(uint64_t n, uint32_t k)
{
    int L = 0;
    for (uint64_t t = 2 * (uint64_t)k; t <= n; t *= 2)
        L++;
    return L == 0 ? 0 : (double)(L + 1) * (double)n / (4.0 * k);
}

/*
 * Every quantile and CDF answer within the reported rank error of the
 * exact answer from the sorted data s[0..n): quantile(q) is a value of the
 * data with #(< v) <= q n + e and #(<= v) >= q n - e; |cdf(x) n - #(<= x)|
 * <= e. Returns the largest error seen (in ranks).
 */
static double check_answers(const mlops_drift_profile *p, const double *s, size_t n, const char *what)
{
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
    ck_assert_uint_eq(st.count, n);
    double e = (double)st.rank_error, worst = 0;
    ck_assert_msg(fabs(st.epsilon - e / (double)n) <= 1e-15, "%s: epsilon", what);
    for (int i = 0; i <= 400; i++) {
        double q = i / 400.0, v;
        ck_assert_int_eq(mlops_drift_profile_quantile(&v, p, q), 0);
        size_t lo = rank_of(s, n, v, 0), hi = rank_of(s, n, v, 1);
        ck_assert_msg(hi > lo, "%s: quantile(%g) = %.17g is not a value of the data", what, q, v);
        double t = q * (double)n;
        ck_assert_msg((double)lo <= t + e && (double)hi >= t - e,
                      "%s: quantile(%g) = %.17g has ranks (%zu, %zu], target %.1f, bound %.0f", what, q, v, lo, hi,
                      t, e);
        double err = (double)lo > t ? (double)lo - t : ((double)hi < t ? t - (double)hi : 0);
        worst = err > worst ? err : worst;
    }
    for (int i = 0; i <= 400; i++) {
        /* data values, points between them, and outside */
        double x;
        if (i == 0)
            x = -INFINITY;
        else if (i == 400)
            x = INFINITY;
        else if (i % 2)
            x = s[(size_t)((double)(n - 1) * i / 400.0)];
        else {
            size_t j = (size_t)((double)(n - 1) * i / 400.0);
            x = j + 1 < n ? s[j] + (s[j + 1] - s[j]) / 2 : s[j] + 1;
        }
        double c;
        ck_assert_int_eq(mlops_drift_profile_cdf(&c, p, x), 0);
        double exact = (double)rank_of(s, n, x, 1), err = fabs(c * (double)n - exact);
        ck_assert_msg(err <= e + 1e-6, "%s: cdf(%.17g) = %.17g, exact %.0f / %zu, bound %.0f",
                      what, x, c, exact, n, e);
        worst = err > worst ? err : worst;
    }
    return worst;
}

static void *encode(const mlops_drift_profile *p, size_t *len)
{
    void *b = NULL;
    int rc = mlops_drift_profile_encode(&b, len, p);
    ck_assert_msg(rc == 0, "encode: %s", mlops_error_last());
    return b;
}

/* Both profiles encode to the same bytes. */
static int same_bytes(const mlops_drift_profile *a, const mlops_drift_profile *b)
{
    size_t la, lb;
    void *ba = encode(a, &la), *bb = encode(b, &lb);
    int same = la == lb && memcmp(ba, bb, la) == 0;
    mlops_free(ba);
    mlops_free(bb);
    return same;
}

static const tv_case *find_case(const tv_file *f, const char *name)
{
    for (size_t i = 0; i < f->ncases; i++)
        if (strcmp(f->cases[i].name, name) == 0)
            return &f->cases[i];
    ck_abort_msg("no case %s in profile.vec", name);
    return NULL;
}

static void assert_stats(const tv_case *c, const mlops_drift_profile *p, const char *how)
{
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
    ck_assert_int_eq(st.type, MLOPS_DRIFT_NUMERIC);
    ck_assert_msg((double)st.count == tv_num(c, "count"), "%s %s: count %llu", c->name, how,
                  (unsigned long long)st.count);
    ck_assert_msg((double)st.missing == tv_num(c, "missing"), "%s %s: missing", c->name, how);
    if (st.count == 0) {
        ck_assert(isnan(st.min) && isnan(st.max) && isnan(st.mean) && isnan(st.variance));
        ck_assert_uint_eq(st.rank_error, 0);
        ck_assert(st.epsilon == 0);
    } else {
        ck_assert_msg(st.min == tv_num(c, "min") && st.max == tv_num(c, "max"), "%s %s: min/max", c->name, how);
        tv_assert_close(c, "mean", st.mean, tv_num(c, "mean"), 1e-12, 0);
        tv_assert_close(c, "var", st.variance, tv_num(c, "var"), 1e-12, 1e-300);
        double wm = tv_num(c, "mean"), wv = tv_num(c, "var");
        fprintf(stderr, "# %s %s: mean rel err %.2g, var rel err %.2g\n", c->name, how,
                wm ? fabs(st.mean - wm) / fabs(wm) : fabs(st.mean), wv ? fabs(st.variance - wv) / wv : st.variance);
    }
    const uint64_t *h;
    size_t nh;
    ck_assert_int_eq(mlops_drift_profile_histogram(&h, &nh, p), 0);
    if (tv_has(c, "hist")) {
        size_t n;
        const double *want = tv_arr(c, "hist", &n);
        ck_assert_uint_eq(nh, n);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg((double)h[i] == want[i], "%s %s: bin %zu: %llu, numpy %.0f", c->name, how, i,
                          (unsigned long long)h[i], want[i]);
    } else {
        ck_assert_uint_eq(nh, 0);
    }
}

/* ---- statistics and histograms vs numpy ----------------------------------- */

START_TEST(stats_vs_numpy)
{
    tv_file f;
    tv_load(&f, "profile.vec");
    int ncases = 0;
    for (size_t ci = 0; ci < f.ncases; ci++) {
        const tv_case *c = &f.cases[ci];
        if (strncmp(c->name, "stats_", 6) != 0)
            continue;
        ncases++;
        size_t n, ne = 0;
        const double *x = tv_arr(c, "x", &n);
        const double *edges = tv_has(c, "edges") ? tv_arr(c, "edges", &ne) : NULL;
        /* Chunkings: whole, the benchmark's, odd sizes (level 0 left in
         * runs), one at a time for small inputs; and small sketches. */
        const size_t chunks[] = { n ? n : 1, 65536, 1000, 7, 1 };
        const uint32_t ks[] = { 0, 64 };
        size_t ns;
        double *s = sorted_finite(x, n, &ns);
        for (size_t ki = 0; ki < 2; ki++) {
            for (size_t j = 0; j < sizeof chunks / sizeof *chunks; j++) {
                if (chunks[j] < 100 && n > 300000)
                    continue;
                mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, edges, ne, ks[ki]);
                add_chunks(p, x, n, chunks[j]);
                char how[64];
                snprintf(how, sizeof how, "k %u chunk %zu", (unsigned)ks[ki], chunks[j]);
                assert_stats(c, p, how);
                if (ns)
                    check_answers(p, s, ns, c->name);
                mlops_drift_profile_free(p);
            }
        }
        free(s);
    }
    ck_assert_int_eq(ncases, 8);
    tv_free(&f);
}
END_TEST

/* ±Inf and NaN are missing; -0.0 counts as a zero. */
START_TEST(missing_values)
{
    const double x[] = { NAN, INFINITY, -INFINITY, -0.0, 0.0, 1.0, NAN };
    const double edges[] = { -1, 0, 1 };
    mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, edges, 3, 0);
    add_chunks(p, x, 7, 7);
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
    ck_assert_uint_eq(st.count, 3);
    ck_assert_uint_eq(st.missing, 4);
    ck_assert(st.min == 0 && st.max == 1);
    const uint64_t *h;
    size_t nh;
    ck_assert_int_eq(mlops_drift_profile_histogram(&h, &nh, p), 0);
    ck_assert_uint_eq(nh, 2);
    ck_assert_uint_eq(h[0], 0); /* [-1, 0) */
    ck_assert_uint_eq(h[1], 3); /* [0, 1] */
    double c;
    ck_assert_int_eq(mlops_drift_profile_cdf(&c, p, 0.0), 0);
    ck_assert(c == 2.0 / 3);
    ck_assert_int_eq(mlops_drift_profile_cdf(&c, p, -0.0), 0);
    ck_assert(c == 2.0 / 3);
    mlops_drift_profile_free(p);
}
END_TEST

/* ---- the rank-error bound ------------------------------------------------------ */

START_TEST(bound_formula_holds)
{
    const size_t ns[] = { 1000, 100000, 1000000, 10000000 };
    const uint32_t ks[] = { 64, 256, 4096 };
    size_t nmax = ns[3];
    double *x = tv_generate("normal", 4242, nmax, 0, 1);
    for (size_t ni = 0; ni < 4; ni++) {
        size_t n = ns[ni], ns_;
        double *s = sorted_finite(x, n, &ns_);
        for (size_t ki = 0; ki < 3; ki++) {
            if (n == nmax && ks[ki] == 256)
                continue; /* time */
            mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, ks[ki]);
            add_chunks(p, x, n, 65536);
            mlops_drift_profile_stats st;
            ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
            double f = bound_formula(n, ks[ki]);
            ck_assert_msg((double)st.rank_error <= f, "n %zu k %u: rank_error %llu > formula %.1f", n,
                          (unsigned)ks[ki], (unsigned long long)st.rank_error, f);
            if (n < 2 * (size_t)ks[ki])
                ck_assert_uint_eq(st.rank_error, 0);
            char what[64];
            snprintf(what, sizeof what, "n %zu k %u", n, (unsigned)ks[ki]);
            double worst = check_answers(p, s, n, what);
            fprintf(stderr, "# %s: rank_error %llu (formula %.0f), epsilon %.3g, worst seen %.0f\n", what,
                    (unsigned long long)st.rank_error, f, st.epsilon, worst);
            mlops_drift_profile_free(p);
        }
        free(s);
    }
    free(x);
}
END_TEST

/* Inputs that trouble sorts and sketches: sorted, reversed, all equal,
 * two values, heavy tails, a range that overflows, subnormals. */
START_TEST(adversarial_inputs)
{
    const size_t n = 300000;
    double *x = tu_xmalloc(n * sizeof *x);
    double *g = tv_generate("normal", 77, n, 0, 1);
    for (int kind = 0; kind < 9; kind++) {
        for (size_t i = 0; i < n; i++) {
            switch (kind) {
            case 0: x[i] = (double)i; break;
            case 1: x[i] = (double)(n - i); break;
            case 2: x[i] = 3.25; break;
            case 3: x[i] = (i * 7919) % 3 ? 1.0 : -1.0; break;
            case 4: x[i] = exp(12 * g[i]); break;
            case 5: x[i] = g[i] * 1e300 * (i % 2 ? 1.7 : -1.7); break;
            case 6: x[i] = g[i] * 1e-310; break;
            case 7: x[i] = (i % 1000 == 0) ? 1e200 : g[i]; break;
            default: x[i] = floor(g[i] * 4) / 4 + ((i % 3 == 0) ? NAN : 0); break;
            }
        }
        for (int ki = 0; ki < 2; ki++) {
            uint32_t k = ki ? 4096 : 64;
            mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, k);
            add_chunks(p, x, n, kind == 3 ? 999 : 65536);
            size_t ns;
            double *s = sorted_finite(x, n, &ns);
            mlops_drift_profile_stats st;
            ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
            ck_assert_uint_eq(st.count, ns);
            ck_assert_uint_eq(st.missing, n - ns);
            ck_assert(st.min == s[0] && st.max == s[ns - 1]);
            ck_assert((double)st.rank_error <= bound_formula(ns, k));
            char what[64];
            snprintf(what, sizeof what, "kind %d k %u", kind, (unsigned)k);
            check_answers(p, s, ns, what);
            free(s);
            mlops_drift_profile_free(p);
        }
    }
    free(g);
    free(x);
}
END_TEST

/* Small samples: the sketch is exact (no compaction below 2k values). */
START_TEST(exact_below_2k)
{
    double *x = tv_generate("int", 5, 8000, 0, 50);
    mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 4096);
    add_chunks(p, x, 8000, 333);
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
    ck_assert_uint_eq(st.rank_error, 0);
    size_t ns;
    double *s = sorted_finite(x, 8000, &ns);
    for (int i = 1; i < 100; i++) {
        double q = i / 100.0, v;
        ck_assert_int_eq(mlops_drift_profile_quantile(&v, p, q), 0);
        /* the smallest value whose count of values <= it reaches q n */
        size_t j = 0;
        while ((double)rank_of(s, ns, s[j], 1) < q * (double)ns)
            j++;
        ck_assert_msg(v == s[j], "quantile(%g) = %g, want %g", q, v, s[j]);
    }
    free(s);
    free(x);
    mlops_drift_profile_free(p);
}
END_TEST

/* ---- merging ----------------------------------------------------------------------- */

#define SHARDS 100

static void merge_tree(mlops_drift_profile **parts, size_t lo, size_t hi)
{
    if (hi - lo < 2)
        return;
    size_t mid = lo + (hi - lo) / 2;
    merge_tree(parts, lo, mid);
    merge_tree(parts, mid, hi);
    ck_assert_int_eq(mlops_drift_profile_merge(parts[lo], parts[mid]), 0);
}

START_TEST(merge_shards)
{
    const size_t n = 1000000, per = n / SHARDS;
    const double edges[] = { -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3 };
    const uint32_t ks[] = { 0, 256 };
    double *x = tv_generate("normal", 9001, n, 0, 1);
    for (size_t i = 0; i < n; i += 997)
        x[i] = NAN;
    size_t ns;
    double *s = sorted_finite(x, n, &ns);
    for (int ki = 0; ki < 2; ki++) {
        uint32_t k = ks[ki] ? ks[ki] : 4096;
        mlops_drift_profile *whole = mk(MLOPS_DRIFT_NUMERIC, edges, 9, k);
        add_chunks(whole, x, n, 65536);
        mlops_drift_profile_stats sw;
        ck_assert_int_eq(mlops_drift_profile_stats_get(&sw, whole), 0);
        for (int order = 0; order < 3; order++) {
            mlops_drift_profile *parts[SHARDS];
            for (size_t i = 0; i < SHARDS; i++) {
                parts[i] = mk(MLOPS_DRIFT_NUMERIC, edges, 9, k);
                add_chunks(parts[i], x + i * per, per, 1000 + i * 37);
            }
            mlops_drift_profile *m;
            if (order == 0) { /* in order */
                m = parts[0];
                for (size_t i = 1; i < SHARDS; i++)
                    ck_assert_int_eq(mlops_drift_profile_merge(m, parts[i]), 0);
            } else if (order == 1) { /* reversed */
                m = parts[SHARDS - 1];
                for (size_t i = SHARDS - 1; i-- > 0;)
                    ck_assert_int_eq(mlops_drift_profile_merge(m, parts[i]), 0);
            } else { /* a balanced tree */
                merge_tree(parts, 0, SHARDS);
                m = parts[0];
            }
            mlops_drift_profile_stats sm;
            ck_assert_int_eq(mlops_drift_profile_stats_get(&sm, m), 0);
            ck_assert_uint_eq(sm.count, sw.count);
            ck_assert_uint_eq(sm.missing, sw.missing);
            ck_assert(sm.min == sw.min && sm.max == sw.max);
            ck_assert_msg(fabs(sm.mean - sw.mean) <= 1e-12 * fabs(sw.mean) + 1e-15, "mean %.17g vs %.17g", sm.mean,
                          sw.mean);
            ck_assert_msg(fabs(sm.variance - sw.variance) <= 1e-12 * sw.variance, "var %.17g vs %.17g",
                          sm.variance, sw.variance);
            const uint64_t *hm, *hw;
            size_t nm, nw;
            ck_assert_int_eq(mlops_drift_profile_histogram(&hm, &nm, m), 0);
            ck_assert_int_eq(mlops_drift_profile_histogram(&hw, &nw, whole), 0);
            ck_assert_uint_eq(nm, nw);
            for (size_t i = 0; i < nm; i++)
                ck_assert_uint_eq(hm[i], hw[i]);
            ck_assert_msg((double)sm.rank_error <= bound_formula(sm.count, k), "merged bound %llu > formula %.0f",
                          (unsigned long long)sm.rank_error, bound_formula(sm.count, k));
            char what[64];
            snprintf(what, sizeof what, "merge order %d k %u", order, (unsigned)k);
            double worst = check_answers(m, s, ns, what);
            fprintf(stderr, "# %s: rank_error %llu, worst seen %.0f\n", what, (unsigned long long)sm.rank_error,
                    worst);
            /* The merged and the whole profile describe the same data: the
             * KS statistic between them is within the bound of 0. */
            mlops_drift_profile_drift d;
            ck_assert_int_eq(mlops_drift_profile_compare(&d, whole, m), 0);
            ck_assert_msg(d.ks_statistic <= d.ks_error_bound, "ks %g > bound %g", d.ks_statistic, d.ks_error_bound);
            for (size_t i = 0; i < SHARDS; i++)
                mlops_drift_profile_free(parts[i]);
        }
        mlops_drift_profile_free(whole);
    }
    free(s);
    free(x);
}
END_TEST

/* Merging a profile into itself doubles it; merging an empty one changes
 * nothing; an empty destination becomes the source. */
START_TEST(merge_edge_cases)
{
    double *x = tv_generate("uniform", 3, 50000, -1, 1);
    mlops_drift_profile *a = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 64), *e = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 64);
    mlops_drift_profile *b = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 64);
    add_chunks(a, x, 50000, 4096);
    add_chunks(b, x, 50000, 4096);
    ck_assert_int_eq(mlops_drift_profile_merge(a, e), 0);
    ck_assert(same_bytes(a, b));
    ck_assert_int_eq(mlops_drift_profile_merge(e, a), 0);
    mlops_drift_profile_stats s1, s2;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&s1, e), 0);
    ck_assert_int_eq(mlops_drift_profile_stats_get(&s2, a), 0);
    ck_assert(s1.count == s2.count && s1.mean == s2.mean && s1.variance == s2.variance && s1.min == s2.min);
    ck_assert_int_eq(mlops_drift_profile_merge(a, a), 0);
    ck_assert_int_eq(mlops_drift_profile_merge(b, b), 0);
    ck_assert(same_bytes(a, b));
    double *dbl = tu_xmalloc(100000 * sizeof *dbl);
    memcpy(dbl, x, 50000 * sizeof *x);
    memcpy(dbl + 50000, x, 50000 * sizeof *x);
    size_t ns;
    double *s = sorted_finite(dbl, 100000, &ns);
    check_answers(a, s, ns, "self-merge");
    ck_assert_int_eq(mlops_drift_profile_stats_get(&s1, a), 0);
    ck_assert_msg(s1.variance == s2.variance && s1.mean == s2.mean, "self-merge changed mean or variance");
    free(s);
    free(dbl);
    free(x);
    mlops_drift_profile_free(a);
    mlops_drift_profile_free(b);
    mlops_drift_profile_free(e);
}
END_TEST

/* ---- categorical ---------------------------------------------------------------------- */

START_TEST(categorical_counts)
{
    tv_file f;
    tv_load(&f, "profile.vec");
    const tv_case *c = find_case(&f, "cat_counts");
    size_t n, nc;
    const double *x = tv_arr(c, "x", &n);
    const double *wc = tv_arr(c, "codes", &nc);
    const double *wn = tv_arr(c, "counts", &nc);
    int64_t *codes = tu_xmalloc(n * sizeof *codes);
    for (size_t i = 0; i < n; i++)
        codes[i] = (int64_t)x[i];
    const size_t chunks[] = { n, 333, 70000 };
    mlops_drift_profile *parts[3];
    for (int j = 0; j < 3; j++) {
        mlops_drift_profile *p = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
        for (size_t i = 0; i < n; i += chunks[j]) {
            size_t m = n - i < chunks[j] ? n - i : chunks[j];
            ck_assert_int_eq(mlops_drift_profile_add_codes(p, codes + i, m), 0);
        }
        mlops_drift_profile_stats st;
        ck_assert_int_eq(mlops_drift_profile_stats_get(&st, p), 0);
        ck_assert_int_eq(st.type, MLOPS_DRIFT_CATEGORICAL);
        ck_assert((double)st.count == tv_num(c, "count"));
        ck_assert((double)st.missing == tv_num(c, "missing"));
        ck_assert_uint_eq(st.ncategories, nc);
        ck_assert(isnan(st.mean) && st.rank_error == 0);
        const int64_t *gc;
        const uint64_t *gn;
        size_t m;
        ck_assert_int_eq(mlops_drift_profile_categories(&gc, &gn, &m, p), 0);
        ck_assert_uint_eq(m, nc);
        for (size_t i = 0; i < nc; i++) {
            ck_assert_msg((double)gc[i] == wc[i] && (double)gn[i] == wn[i], "category %zu: %lld x %llu", i,
                          (long long)gc[i], (unsigned long long)gn[i]);
        }
        parts[j] = p;
    }
    ck_assert(same_bytes(parts[0], parts[1]) && same_bytes(parts[0], parts[2]));
    /* Shards merged: the counts of all. */
    mlops_drift_profile *a = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0), *b = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    ck_assert_int_eq(mlops_drift_profile_add_codes(a, codes, n / 3), 0);
    ck_assert_int_eq(mlops_drift_profile_add_codes(b, codes + n / 3, n - n / 3), 0);
    ck_assert_int_eq(mlops_drift_profile_merge(b, a), 0);
    ck_assert(same_bytes(parts[0], b));
    /* Large codes sort correctly. */
    const int64_t big[] = { INT64_MAX, 0, (int64_t)1 << 40, INT64_MAX, -1, INT64_MIN, 255, 256 };
    mlops_drift_profile *q = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    ck_assert_int_eq(mlops_drift_profile_add_codes(q, big, 8), 0);
    const int64_t *gc;
    const uint64_t *gn;
    size_t m;
    ck_assert_int_eq(mlops_drift_profile_categories(&gc, &gn, &m, q), 0);
    ck_assert_uint_eq(m, 5);
    ck_assert(gc[0] == 0 && gc[1] == 255 && gc[2] == 256 && gc[3] == (int64_t)1 << 40 && gc[4] == INT64_MAX);
    ck_assert(gn[4] == 2);
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, q), 0);
    ck_assert(st.count == 6 && st.missing == 2);
    for (int j = 0; j < 3; j++)
        mlops_drift_profile_free(parts[j]);
    mlops_drift_profile_free(a);
    mlops_drift_profile_free(b);
    mlops_drift_profile_free(q);
    free(codes);
    tv_free(&f);
}
END_TEST

/* ---- drift between profiles vs scipy/numpy ------------------------------------------------ */

static mlops_drift_profile *numeric_of(const tv_case *c, const char *key, const double *edges, size_t ne)
{
    size_t n;
    const double *x = tv_arr(c, key, &n);
    mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, edges, ne, 0);
    add_chunks(p, x, n, 65536);
    return p;
}

START_TEST(compare_vs_scipy)
{
    tv_file f;
    tv_load(&f, "profile.vec");
    const char *names[] = { "cmp_edges", "cmp_deciles_exact", "cmp_deciles_ties", "cmp_ks_1e6" };
    for (int i = 0; i < 4; i++) {
        const tv_case *c = find_case(&f, names[i]);
        size_t ne = 0;
        const double *edges = tv_has(c, "edges") ? tv_arr(c, "edges", &ne) : NULL;
        mlops_drift_profile *a = numeric_of(c, "a", edges, ne), *b = numeric_of(c, "b", edges, ne);
        mlops_drift_profile_drift d;
        ck_assert_int_eq(mlops_drift_profile_compare(&d, a, b), 0);
        double ks = tv_num(c, "ks");
        ck_assert_msg(fabs(d.ks_statistic - ks) <= d.ks_error_bound + 1e-12, "%s: ks %.17g, scipy %.17g, bound %g",
                      c->name, d.ks_statistic, ks, d.ks_error_bound);
        mlops_drift_profile_stats sa, sb;
        ck_assert_int_eq(mlops_drift_profile_stats_get(&sa, a), 0);
        ck_assert_int_eq(mlops_drift_profile_stats_get(&sb, b), 0);
        ck_assert(d.ks_error_bound <= sa.epsilon + sb.epsilon + 1e-15);
        if (sa.rank_error == 0 && sb.rank_error == 0) {
            ck_assert(d.ks_error_bound == 0);
            tv_assert_close(c, "ks", d.ks_statistic, ks, 1e-12, 0);
        }
        fprintf(stderr, "# %s: ks %.6f (scipy %.6f, bound %.2g)\n", c->name, d.ks_statistic, ks, d.ks_error_bound);
        if (tv_has(c, "psi")) {
            tv_assert_close(c, "psi", d.psi, tv_num(c, "psi"), 1e-12, 0);
            tv_assert_close(c, "js", d.jensenshannon, tv_num(c, "js"), 1e-12, 0);
            tv_assert_close(c, "hellinger", d.hellinger, tv_num(c, "hellinger"), 1e-12, 0);
        }
        /* The same profile against itself: no drift. */
        ck_assert_int_eq(mlops_drift_profile_compare(&d, a, a), 0);
        ck_assert(d.ks_statistic == 0 && d.psi == 0 && d.jensenshannon == 0 && d.hellinger == 0);
        mlops_drift_profile_free(a);
        mlops_drift_profile_free(b);
    }
    const tv_case *c = find_case(&f, "cmp_categorical");
    mlops_drift_profile *p[2];
    for (int s = 0; s < 2; s++) {
        size_t n;
        const double *x = tv_arr(c, s ? "b" : "a", &n);
        int64_t *codes = tu_xmalloc(n * sizeof *codes);
        for (size_t i = 0; i < n; i++)
            codes[i] = (int64_t)x[i];
        p[s] = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
        ck_assert_int_eq(mlops_drift_profile_add_codes(p[s], codes, n), 0);
        free(codes);
    }
    mlops_drift_profile_drift d;
    ck_assert_int_eq(mlops_drift_profile_compare(&d, p[0], p[1]), 0);
    ck_assert(isnan(d.ks_statistic) && isnan(d.ks_error_bound));
    tv_assert_close(c, "psi", d.psi, tv_num(c, "psi"), 1e-12, 0);
    tv_assert_close(c, "js", d.jensenshannon, tv_num(c, "js"), 1e-12, 0);
    tv_assert_close(c, "hellinger", d.hellinger, tv_num(c, "hellinger"), 1e-12, 0);
    mlops_drift_profile_free(p[0]);
    mlops_drift_profile_free(p[1]);
    tv_free(&f);
}
END_TEST

/* The KS bound holds against the exact KS of the data, also when both
 * sketches compacted (small k), and for merged profiles. */
START_TEST(compare_ks_bound)
{
    const size_t n = 200000;
    double *a = tv_generate("normal", 61, n, 0, 1), *b = tv_generate("normal", 62, n, 0.05, 1.1);
    size_t na, nb;
    double *sa = sorted_finite(a, n, &na), *sb = sorted_finite(b, n, &nb);
    /* exact two-sample KS from the sorted data */
    double exact = 0;
    for (size_t i = 0, j = 0; i < na || j < nb;) {
        double x = j == nb || (i < na && sa[i] <= sb[j]) ? sa[i] : sb[j];
        while (i < na && sa[i] == x)
            i++;
        while (j < nb && sb[j] == x)
            j++;
        double g = fabs((double)i / na - (double)j / nb);
        exact = g > exact ? g : exact;
    }
    const uint32_t ks[] = { 64, 512, 4096 };
    for (int ki = 0; ki < 3; ki++) {
        mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, ks[ki]), *q = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, ks[ki]);
        add_chunks(p, a, n, 65536);
        add_chunks(q, b, n / 2, 10000);
        mlops_drift_profile *q2 = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, ks[ki]);
        add_chunks(q2, b + n / 2, n - n / 2, 3000);
        ck_assert_int_eq(mlops_drift_profile_merge(q, q2), 0);
        mlops_drift_profile_drift d;
        ck_assert_int_eq(mlops_drift_profile_compare(&d, p, q), 0);
        ck_assert_msg(fabs(d.ks_statistic - exact) <= d.ks_error_bound + 1e-12, "k %u: ks %.17g exact %.17g bound %g",
                      (unsigned)ks[ki], d.ks_statistic, exact, d.ks_error_bound);
        ck_assert(d.ks_error_bound > 0);
        ck_assert(d.psi > 0 && d.jensenshannon > 0 && d.hellinger > 0);
        fprintf(stderr, "# ks k %u: %.6f exact %.6f bound %.3g\n", (unsigned)ks[ki], d.ks_statistic, exact,
                d.ks_error_bound);
        mlops_drift_profile_free(p);
        mlops_drift_profile_free(q);
        mlops_drift_profile_free(q2);
    }
    free(a);
    free(b);
    free(sa);
    free(sb);
}
END_TEST

/* A histogram with nothing inside its edges: the distances are NaN. */
START_TEST(compare_empty_histogram)
{
    const double edges[] = { 10, 20 };
    const double x[] = { 1, 2, 3 }, y[] = { 15 };
    mlops_drift_profile *a = mk(MLOPS_DRIFT_NUMERIC, edges, 2, 0), *b = mk(MLOPS_DRIFT_NUMERIC, edges, 2, 0);
    add_chunks(a, x, 3, 3);
    add_chunks(b, y, 1, 1);
    mlops_drift_profile_drift d;
    ck_assert_int_eq(mlops_drift_profile_compare(&d, a, b), 0);
    ck_assert(d.ks_statistic == 1 && d.ks_error_bound == 0);
    ck_assert(isnan(d.psi) && isnan(d.jensenshannon) && isnan(d.hellinger));
    mlops_drift_profile_free(a);
    mlops_drift_profile_free(b);
}
END_TEST

/* ---- serialized form ------------------------------------------------------------------------------ */

/* A few profiles of every shape: empty, small, multi-level, merged,
 * categorical. */
static size_t sample_profiles(mlops_drift_profile **out)
{
    const double edges[] = { -2, -1, 0, 1, 2 };
    double *x = tv_generate("normal", 17, 20000, 0, 1);
    size_t n = 0;
    out[n++] = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 0);
    out[n++] = mk(MLOPS_DRIFT_NUMERIC, edges, 5, 64);
    add_chunks(out[n - 1], x, 1000, 77); /* level 0 in many runs */
    out[n++] = mk(MLOPS_DRIFT_NUMERIC, edges, 5, 64);
    add_chunks(out[n - 1], x, 20000, 4096);
    out[n] = mk(MLOPS_DRIFT_NUMERIC, edges, 5, 64);
    add_chunks(out[n], x + 5000, 15000, 999);
    ck_assert_int_eq(mlops_drift_profile_merge(out[n], out[n - 1]), 0);
    n++;
    out[n++] = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    out[n] = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    const int64_t codes[] = { 3, -1, 7, 3, 100000000000, 0, 7, 7 };
    ck_assert_int_eq(mlops_drift_profile_add_codes(out[n], codes, 8), 0);
    n++;
    free(x);
    return n;
}

START_TEST(codec_roundtrip)
{
    mlops_drift_profile *ps[8];
    size_t np = sample_profiles(ps);
    double *more = tv_generate("normal", 18, 30000, 0.5, 1);
    for (size_t i = 0; i < np; i++) {
        size_t len, len2;
        void *b = encode(ps[i], &len);
        mlops_drift_profile *d = NULL;
        int rc = mlops_drift_profile_decode(&d, b, len);
        ck_assert_msg(rc == 0, "profile %zu: %s", i, mlops_error_last());
        void *b2 = encode(d, &len2);
        ck_assert_msg(len == len2 && memcmp(b, b2, len) == 0, "profile %zu: re-encoding differs", i);
        mlops_drift_profile_stats s1, s2;
        ck_assert_int_eq(mlops_drift_profile_stats_get(&s1, ps[i]), 0);
        ck_assert_int_eq(mlops_drift_profile_stats_get(&s2, d), 0);
        ck_assert(s1.count == s2.count && s1.missing == s2.missing && s1.rank_error == s2.rank_error);
        ck_assert(s1.ncategories == s2.ncategories);
        ck_assert(memcmp(&s1.mean, &s2.mean, sizeof s1.mean) == 0);
        /* A decoded profile goes on exactly as the original. */
        if (s1.type == MLOPS_DRIFT_NUMERIC) {
            add_chunks(ps[i], more, 30000, 8192);
            add_chunks(d, more, 30000, 8192);
            ck_assert_msg(same_bytes(ps[i], d), "profile %zu: differs after more values", i);
            ck_assert_int_eq(mlops_drift_profile_merge(d, ps[i]), 0);
        } else {
            const int64_t c[] = { 1, 2, 3, 3 };
            ck_assert_int_eq(mlops_drift_profile_add_codes(ps[i], c, 4), 0);
            ck_assert_int_eq(mlops_drift_profile_add_codes(d, c, 4), 0);
            ck_assert(same_bytes(ps[i], d));
        }
        mlops_free(b);
        mlops_free(b2);
        mlops_drift_profile_free(d);
        mlops_drift_profile_free(ps[i]);
    }
    free(more);
}
END_TEST

static uint32_t crc(const unsigned char *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* Sets the trailer to the checksum of what precedes it. */
static void fix_crc(unsigned char *b, size_t len)
{
    uint32_t c = crc(b, len - 4);
    for (int i = 0; i < 4; i++)
        b[len - 4 + i] = (unsigned char)(c >> (8 * i));
}

/* rc must be ECORRUPT/EUNSUPPORTED, or a valid profile that re-encodes to
 * the same bytes. Returns rc. */
static int decode_check(const unsigned char *b, size_t len)
{
    mlops_drift_profile *d = NULL;
    int rc = mlops_drift_profile_decode(&d, b, len);
    if (rc == 0) {
        size_t l2;
        void *b2 = encode(d, &l2);
        ck_assert_msg(l2 == len && memcmp(b2, b, len) == 0, "accepted blob is not canonical");
        mlops_free(b2);
        /* and usable */
        mlops_drift_profile_stats st;
        ck_assert_int_eq(mlops_drift_profile_stats_get(&st, d), 0);
        if (st.type == MLOPS_DRIFT_NUMERIC && st.count) {
            double v;
            ck_assert_int_eq(mlops_drift_profile_quantile(&v, d, 0.5), 0);
            mlops_drift_profile_drift dd;
            ck_assert_int_eq(mlops_drift_profile_compare(&dd, d, d), 0);
            const double more[] = { 1, 2, 3 };
            ck_assert_int_eq(mlops_drift_profile_add(d, more, 3), 0);
        }
        int mrc = mlops_drift_profile_merge(d, d); /* EINVALID: counts would overflow */
        ck_assert_msg(mrc == 0 || mrc == MLOPS_EINVALID, "merge: %d", mrc);
        mlops_drift_profile_free(d);
    } else {
        ck_assert_msg(rc == MLOPS_ECORRUPT || rc == MLOPS_EUNSUPPORTED, "decode: %d (%s)", rc, mlops_error_last());
        ck_assert(d == NULL);
        ck_assert(mlops_error_last()[0] != '\0');
    }
    return rc;
}

START_TEST(codec_truncations_and_flips)
{
    mlops_drift_profile *ps[8];
    size_t np = sample_profiles(ps);
    for (size_t i = 0; i < np; i++) {
        size_t len;
        unsigned char *b = encode(ps[i], &len);
        unsigned char *c = tu_xmalloc(len);
        for (size_t t = 0; t < len; t++) /* every truncation */
            tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, b, t), MLOPS_ECORRUPT);
        const unsigned char xors[] = { 0x01, 0x5a, 0x80, 0xff };
        for (size_t o = 0; o < len; o++) { /* every single-byte flip */
            for (int x = 0; x < 4; x++) {
                memcpy(c, b, len);
                c[o] ^= xors[x];
                mlops_drift_profile *d = NULL;
                int rc = mlops_drift_profile_decode(&d, c, len);
                tu_assert_err(rc, o == 4 && (c[4] > 1) ? MLOPS_EUNSUPPORTED : MLOPS_ECORRUPT);
            }
        }
        free(c);
        mlops_free(b);
        mlops_drift_profile_free(ps[i]);
    }
}
END_TEST

START_TEST(codec_version)
{
    mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 0);
    const double x[] = { 1, 2, 3 };
    add_chunks(p, x, 3, 3);
    size_t len;
    unsigned char *b = encode(p, &len);
    ck_assert(memcmp(b, "MDPF", 4) == 0 && b[4] == 1);
    b[4] = 2;
    tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, b, len), MLOPS_EUNSUPPORTED);
    fix_crc(b, len);
    tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, b, len), MLOPS_EUNSUPPORTED);
    b[4] = 255;
    tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, b, 5), MLOPS_EUNSUPPORTED);
    b[4] = 0;
    fix_crc(b, len);
    tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, b, len), MLOPS_ECORRUPT);
    tu_assert_err(mlops_drift_profile_decode(NULL, b, len), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, NULL, 3), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_encode(NULL, &len, p), MLOPS_EINVALID);
    mlops_free(b);
    mlops_drift_profile_free(p);
}
END_TEST

/* Little-endian field access into an encoded numeric profile (offsets of
 * docs/FORMAT.md). */
static void put64(unsigned char *b, size_t o, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[o + i] = (unsigned char)(v >> (8 * i));
}
static void put32(unsigned char *b, size_t o, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[o + i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *b, size_t o)
{
    return (uint32_t)b[o] | (uint32_t)b[o + 1] << 8 | (uint32_t)b[o + 2] << 16 | (uint32_t)b[o + 3] << 24;
}
static void putf(unsigned char *b, size_t o, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put64(b, o, u);
}

/* Hostile blobs with a valid checksum: every invariant is checked. */
START_TEST(codec_hostile)
{
    const double edges[] = { -2, 0, 2 };
    mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, edges, 3, 64);
    double *x = tv_generate("normal", 23, 1000, 0, 1);
    add_chunks(p, x, 1000, 1000);
    size_t len;
    unsigned char *b = encode(p, &len);
    /* Layout: header 24, fixed 72 (k 24, nedges 28, min 32, max 40, mean
     * 48, mean_lo 56, m2 64, plus 72, minus 80, nlevels 88, zero 92),
     * edges 96..120, hist 120..136, then levels: u32 n + items. */
    const size_t L0 = 136;
    ck_assert_uint_eq(get32(b, 24), 64);
    ck_assert_uint_eq(get32(b, 28), 3);
    uint32_t nlev = get32(b, 88), n0 = get32(b, L0);
    ck_assert_uint_gt(nlev, 2);
    unsigned char *c = tu_xmalloc(len + 64);
    struct {
        const char *what;
        size_t off;
        int width; /* 1, 4, 8 or 'd' double */
        uint64_t u;
        double d;
    } cases[] = {
        { "sketch_k 63", 24, 4, 63, 0 },
        { "sketch_k 65537", 24, 4, 65537, 0 },
        { "nedges 1", 28, 4, 1, 0 },
        { "nedges 4", 28, 4, 4, 0 },
        { "nedges huge", 28, 4, 0xffffffffu, 0 },
        { "min NaN", 32, 'd', 0, NAN },
        { "min > max", 32, 'd', 0, 100 },
        { "max Inf", 40, 'd', 0, INFINITY },
        { "min -0", 32, 'd', 0, -0.0 },
        { "mean_lo too large", 56, 'd', 0, 1.0 },
        { "mean_lo NaN", 56, 'd', 0, NAN },
        { "m2 negative", 64, 'd', 0, -1 },
        { "m2 -0", 64, 'd', 0, -0.0 },
        { "err_plus huge", 72, 8, 1000000, 0 },
        { "err_minus huge", 80, 8, 1000000, 0 },
        { "nlevels 65", 88, 4, 65, 0 },
        { "nlevels 0", 88, 4, 0, 0 },
        { "nlevels + 1", 88, 4, nlev + 1, 0 },
        { "reserved", 92, 4, 1, 0 },
        { "edge NaN", 96, 'd', 0, NAN },
        { "edges unsorted", 104, 'd', 0, -3 },
        { "hist > count", 120, 8, 2000, 0 },
        { "count + 1", 8, 8, 1001, 0 },
        { "count 0", 8, 8, 0, 0 },
        { "level 0 size 128", L0, 4, 128, 0 },
        { "level 0 size - 1", L0, 4, n0 - 1, 0 },
        { "level 0 item NaN", L0 + 4, 'd', 0, NAN },
        { "level 0 item -0", L0 + 4, 'd', 0, -0.0 },
        { "level 0 item below min", L0 + 4, 'd', 0, -1e9 },
        { "level 0 unsorted", L0 + 4, 'd', 0, 1e-3 },
        { "type 2", 5, 1, 2, 0 },
        { "reserved header", 6, 1, 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(c, b, len);
        if (cases[i].width == 4)
            put32(c, cases[i].off, (uint32_t)cases[i].u);
        else if (cases[i].width == 8)
            put64(c, cases[i].off, cases[i].u);
        else if (cases[i].width == 1)
            c[cases[i].off] = (unsigned char)cases[i].u;
        else
            putf(c, cases[i].off, cases[i].d);
        fix_crc(c, len);
        mlops_drift_profile *d = NULL;
        int rc = mlops_drift_profile_decode(&d, c, len);
        ck_assert_msg(rc == MLOPS_ECORRUPT, "%s: decode gave %d", cases[i].what, rc);
        ck_assert(mlops_error_last()[0] != '\0');
    }
    /* The level-0 items are all in [min, max] and sorted: swapping two
     * distinct ones breaks the order. */
    memcpy(c, b, len);
    if (n0 >= 2) {
        unsigned char t[8];
        memcpy(t, c + L0 + 4, 8);
        memcpy(c + L0 + 4, c + L0 + 4 + 8 * (n0 - 1), 8);
        memcpy(c + L0 + 4 + 8 * (n0 - 1), t, 8);
        fix_crc(c, len);
        tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, c, len), MLOPS_ECORRUPT);
    }
    /* Trailing bytes, with a valid checksum. */
    memcpy(c, b, len - 4);
    memset(c + len - 4, 0, 8);
    fix_crc(c, len + 4);
    tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, c, len + 4), MLOPS_ECORRUPT);
    /* Moving an item from level 0 to a level it cannot reach yet: the
     * weights still add up if two level-0 items become one level-1 item,
     * but level sizes change the layout; instead claim a huge count with
     * one item on a high level. */
    {
        unsigned char h[512];
        size_t o = 0;
        memcpy(h, "MDPF\x01\x00\x00\x00", 8);
        put64(h, 8, (uint64_t)1 << 40);
        put64(h, 16, 0);
        put32(h, 24, 64);
        put32(h, 28, 0);
        putf(h, 32, 1);
        putf(h, 40, 1);
        putf(h, 48, 1);
        putf(h, 56, 0);
        putf(h, 64, 0);
        put64(h, 72, 0);
        put64(h, 80, 0);
        put32(h, 88, 41);
        put32(h, 92, 0);
        o = 96;
        for (int lv = 0; lv < 40; lv++, o += 4)
            put32(h, o, 0);
        put32(h, o, 1);
        putf(h, o + 4, 1);
        o += 12;
        fix_crc(h, o + 4);
        tu_assert_err(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, h, o + 4), MLOPS_ECORRUPT);
    }
    /* Categorical: codes out of order, a zero count, counts not adding up,
     * a negative code. */
    mlops_drift_profile *q = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    const int64_t codes[] = { 1, 2, 2, 5 };
    ck_assert_int_eq(mlops_drift_profile_add_codes(q, codes, 4), 0);
    size_t ql;
    unsigned char *qb = encode(q, &ql);
    ck_assert_uint_eq(ql, 24 + 8 + 3 * 16 + 4);
    const struct {
        size_t off;
        uint64_t v;
    } qc[] = { { 32, 2 }, { 40, 0 }, { 56, 5 }, { 32, (uint64_t)-1 }, { 24, 2 }, { 24, 4 }, { 8, 5 } };
    for (size_t i = 0; i < sizeof qc / sizeof *qc; i++) {
        memcpy(c, qb, ql);
        put64(c, qc[i].off, qc[i].v);
        fix_crc(c, ql);
        ck_assert_msg(mlops_drift_profile_decode(&(mlops_drift_profile *){ NULL }, c, ql) == MLOPS_ECORRUPT,
                      "categorical case %zu", i);
    }
    mlops_free(qb);
    mlops_drift_profile_free(q);
    free(c);
    free(x);
    mlops_free(b);
    mlops_drift_profile_free(p);
}
END_TEST

/* Random mutations with a valid checksum: never a crash, and whatever is
 * accepted is canonical (re-encodes to the same bytes) and usable. */
START_TEST(codec_random_mutations)
{
    mlops_drift_profile *ps[8];
    size_t np = sample_profiles(ps);
    uint64_t st = 12345;
    int accepted = 0;
    for (size_t i = 0; i < np; i++) {
        size_t len;
        unsigned char *b = encode(ps[i], &len);
        unsigned char *c = tu_xmalloc(len);
        for (int r = 0; r < 3000; r++) {
            memcpy(c, b, len);
            int edits = 1 + r % 3;
            for (int e = 0; e < edits; e++) {
                st = st * 6364136223846793005ull + 1442695040888963407ull;
                size_t o = 8 + (size_t)(st >> 33) % (len - 12);
                c[o] = (unsigned char)(r % 5 == 0 ? 0 : (st >> 20));
            }
            fix_crc(c, len);
            accepted += decode_check(c, len) == 0;
        }
        free(c);
        mlops_free(b);
        mlops_drift_profile_free(ps[i]);
    }
    fprintf(stderr, "# random mutations accepted (canonical): %d\n", accepted);
}
END_TEST

/* ---- store -------------------------------------------------------------------------------------------- */

START_TEST(store_roundtrip)
{
    for (int kind = 0; kind < TU_KINDS; kind++) {
        tu_store t;
        tu_store_open(&t, kind, NULL);
        mlops_drift_profile *ps[8];
        size_t np = sample_profiles(ps);
        for (size_t i = 0; i < np; i++) {
            mlops_oid id, id2;
            ck_assert_int_eq(mlops_drift_profile_save(&id, t.s, ps[i]), 0);
            ck_assert_int_eq(mlops_drift_profile_save(&id2, t.s, ps[i]), 0);
            ck_assert(mlops_oid_cmp(&id, &id2) == 0);
            mlops_drift_profile *d = NULL;
            ck_assert_int_eq(mlops_drift_profile_load(&d, t.s, &id), 0);
            ck_assert(same_bytes(ps[i], d));
            mlops_drift_profile_free(d);
            mlops_drift_profile_free(ps[i]);
        }
        if (kind == TU_FS) {
            tu_store_reopen(&t, NULL);
        }
        mlops_oid other = tu_put_str(t.s, "not a profile");
        mlops_drift_profile *d = NULL;
        tu_assert_err(mlops_drift_profile_load(&d, t.s, &other), MLOPS_ECORRUPT);
        ck_assert(d == NULL);
        mlops_oid missing = tu_oid("00000000000000000000000000000000000000000000000000000000000000ff");
        tu_assert_err(mlops_drift_profile_load(&d, t.s, &missing), MLOPS_ENOTFOUND);
        tu_assert_err(mlops_drift_profile_load(NULL, t.s, &missing), MLOPS_EINVALID);
        tu_assert_err(mlops_drift_profile_save(&other, t.s, NULL), MLOPS_EINVALID);
        tu_store_destroy(&t);
    }
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------------------------ */

START_TEST(wrong_column_type)
{
    const double edges[] = { 0, 1, 2 }, edges2[] = { 0, 1, 3 };
    const double x[] = { 0.5 };
    const int64_t codes[] = { 1 };
    mlops_drift_profile *num = mk(MLOPS_DRIFT_NUMERIC, edges, 3, 0), *cat = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    mlops_drift_profile *num2 = mk(MLOPS_DRIFT_NUMERIC, edges2, 3, 0), *num3 = mk(MLOPS_DRIFT_NUMERIC, NULL, 0, 0);
    mlops_drift_profile *num4 = mk(MLOPS_DRIFT_NUMERIC, edges, 3, 128);
    mlops_drift_profile_drift d;
    double v;
    const uint64_t *h;
    const int64_t *cc;
    size_t n;
    /* empty profiles: quantile, cdf and compare refuse */
    tu_assert_err(mlops_drift_profile_quantile(&v, num, 0.5), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_cdf(&v, num, 0.5), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(&d, num, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(&d, cat, cat), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_profile_add(num, x, 1), 0);
    ck_assert_int_eq(mlops_drift_profile_add(num2, x, 1), 0);
    ck_assert_int_eq(mlops_drift_profile_add(num3, x, 1), 0);
    ck_assert_int_eq(mlops_drift_profile_add_codes(cat, codes, 1), 0);
    tu_assert_err(mlops_drift_profile_add(cat, x, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_add_codes(num, codes, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(num, cat), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(cat, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(num, num2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(num, num3), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(num, num4), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(&d, num, cat), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(&d, num, num2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(&d, num, num3), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_quantile(&v, cat, 0.5), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_cdf(&v, cat, 0.5), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_histogram(&h, &n, cat), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_categories(&cc, &h, &n, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_quantile(&v, num, -0.1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_quantile(&v, num, 1.5), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_quantile(&v, num, NAN), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_cdf(&v, num, NAN), MLOPS_EINVALID);
    /* NULL arguments */
    tu_assert_err(mlops_drift_profile_add(NULL, x, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_add(num, NULL, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_add_codes(cat, NULL, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(NULL, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_merge(num, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_stats_get(NULL, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_quantile(NULL, num, 0.5), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(NULL, num, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_compare(&d, NULL, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_histogram(NULL, &n, num), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_categories(&cc, &h, NULL, cat), MLOPS_EINVALID);
    /* Nothing changed by the refusals. */
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, num), 0);
    ck_assert_uint_eq(st.count, 1);
    ck_assert_int_eq(mlops_drift_profile_add(num, NULL, 0), 0);
    mlops_drift_profile_free(NULL);
    mlops_drift_profile_free(num);
    mlops_drift_profile_free(num2);
    mlops_drift_profile_free(num3);
    mlops_drift_profile_free(num4);
    mlops_drift_profile_free(cat);
}
END_TEST

START_TEST(bad_options)
{
    mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
    mlops_drift_profile *p = NULL;
    const double unsorted[] = { 0, 2, 1 }, equal[] = { 0, 1, 1 }, withnan[] = { 0, NAN, 1 },
                 withinf[] = { 0, 1, INFINITY };
    const double *bad[] = { unsorted, equal, withnan, withinf };
    for (int i = 0; i < 4; i++) {
        o.edges = bad[i];
        o.nedges = 3;
        tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
        ck_assert(p == NULL);
    }
    o.edges = unsorted;
    o.nedges = 1;
    tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    o.edges = NULL;
    o.nedges = 3;
    tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    o.nedges = 0;
    const uint32_t badk[] = { 1, 63, 65537, 0xffffffffu };
    for (int i = 0; i < 4; i++) {
        o.sketch_k = badk[i];
        tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    }
    o.sketch_k = 64;
    ck_assert_int_eq(mlops_drift_profile_new(&p, &o), 0);
    mlops_drift_profile_free(p);
    o.sketch_k = 65536;
    ck_assert_int_eq(mlops_drift_profile_new(&p, &o), 0);
    mlops_drift_profile_free(p);
    o.version = 0;
    tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    o.version = 2;
    tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    o.version = MLOPS_DRIFT_PROFILE_OPTIONS_VERSION;
    o.type = (mlops_drift_column_type)7;
    tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    o.type = MLOPS_DRIFT_CATEGORICAL;
    o.edges = equal;
    o.nedges = 2;
    tu_assert_err(mlops_drift_profile_new(&p, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_new(NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_options_init(&o, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_options_init(&o, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_drift_profile_options_init(NULL, 1), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_profile_options_init(&o, 1), 0);
    ck_assert(o.type == MLOPS_DRIFT_NUMERIC && o.edges == NULL && o.sketch_k == 0);
    /* NULL options: defaults (numeric, k 4096) */
    ck_assert_int_eq(mlops_drift_profile_new(&p, NULL), 0);
    const double x[] = { 1 };
    ck_assert_int_eq(mlops_drift_profile_add(p, x, 1), 0);
    mlops_drift_profile_free(p);
}
END_TEST

/* ---- out of memory ------------------------------------------------------------------------------------------ */

typedef struct oom_ctx {
    mlops_drift_profile *num, *num2, *cat, *cat2;
    mlops_store *s;
    mlops_oid id;
    void *blob;
    size_t blob_len;
    const double *x;
    const int64_t *codes;
} oom_ctx;

#define OOM_N 50000

static void oom_setup(oom_ctx *c, const double *x, const int64_t *codes)
{
    memset(c, 0, sizeof *c);
    const double edges[] = { -1, 0, 1 };
    c->x = x;
    c->codes = codes;
    c->num = mk(MLOPS_DRIFT_NUMERIC, edges, 3, 64);
    add_chunks(c->num, x, 5000, 999);
    c->num2 = mk(MLOPS_DRIFT_NUMERIC, edges, 3, 64);
    add_chunks(c->num2, x + 5000, 20000, 4096);
    c->cat = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    ck_assert_int_eq(mlops_drift_profile_add_codes(c->cat, codes, 1000), 0);
    c->cat2 = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    ck_assert_int_eq(mlops_drift_profile_add_codes(c->cat2, codes + 1000, 3000), 0);
    ck_assert_int_eq(mlops_store_open_memory(&c->s, NULL), 0);
    ck_assert_int_eq(mlops_drift_profile_save(&c->id, c->s, c->num2), 0);
    c->blob = encode(c->num2, &c->blob_len);
}

static void oom_teardown(oom_ctx *c)
{
    mlops_drift_profile_free(c->num);
    mlops_drift_profile_free(c->num2);
    mlops_drift_profile_free(c->cat);
    mlops_drift_profile_free(c->cat2);
    mlops_store_free(c->s);
    mlops_free(c->blob);
}

static int op_new(oom_ctx *c)
{
    const double edges[] = { 0, 1, 2, 3 };
    mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
    o.edges = edges;
    o.nedges = 4;
    mlops_drift_profile *p = NULL;
    int rc = mlops_drift_profile_new(&p, &o);
    if (rc == 0)
        rc = mlops_drift_profile_add(p, c->x, 100);
    mlops_drift_profile_free(p);
    return rc;
}
static int op_add(oom_ctx *c)
{
    return mlops_drift_profile_add(c->num, c->x + 5000, OOM_N - 5000);
}
static int op_add_codes(oom_ctx *c)
{
    return mlops_drift_profile_add_codes(c->cat, c->codes, OOM_N);
}
static int op_merge(oom_ctx *c)
{
    return mlops_drift_profile_merge(c->num, c->num2);
}
static int op_merge_cat(oom_ctx *c)
{
    return mlops_drift_profile_merge(c->cat, c->cat2);
}
static int op_codec(oom_ctx *c)
{
    mlops_drift_profile *p = NULL;
    int rc = mlops_drift_profile_decode(&p, c->blob, c->blob_len);
    if (rc == 0) {
        void *b = NULL;
        size_t len;
        rc = mlops_drift_profile_encode(&b, &len, p);
        mlops_free(b);
    }
    mlops_drift_profile_free(p);
    return rc;
}
static int op_store(oom_ctx *c)
{
    mlops_oid id;
    mlops_drift_profile *p = NULL;
    int rc = mlops_drift_profile_save(&id, c->s, c->num);
    if (rc == 0)
        rc = mlops_drift_profile_load(&p, c->s, &c->id);
    mlops_drift_profile_free(p);
    return rc;
}
static int op_queries(oom_ctx *c)
{
    double v;
    mlops_drift_profile_drift d;
    int rc = mlops_drift_profile_quantile(&v, c->num, 0.3);
    if (rc == 0)
        rc = mlops_drift_profile_compare(&d, c->num, c->num2);
    if (rc == 0)
        rc = mlops_drift_profile_compare(&d, c->cat, c->cat2);
    return rc;
}

/* Snapshot of the three mutable profiles, taken with the failing
 * allocator disarmed. */
static void snapshot(oom_ctx *c, unsigned char **out, size_t *len)
{
    mlops_drift_profile *ps[3] = { c->num, c->cat, c->num2 };
    size_t total = 0;
    void *b[3];
    size_t l[3];
    for (int i = 0; i < 3; i++) {
        b[i] = encode(ps[i], &l[i]);
        total += l[i];
    }
    *out = tu_xmalloc(total);
    *len = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(*out + *len, b[i], l[i]);
        *len += l[i];
        mlops_free(b[i]);
    }
}

static void oom_loop(const char *name, int (*op)(oom_ctx *), const double *x, const int64_t *codes)
{
    unsigned long n;
    for (n = 1; n < 100000; n++) {
        tu_alloc al;
        memset(&al, 0, sizeof al);
        tu_alloc_install(&al);
        oom_ctx c;
        oom_setup(&c, x, codes);
        unsigned char *before, *after;
        size_t lb, la;
        snapshot(&c, &before, &lb);
        al.fail_at = al.calls + n;
        int rc = op(&c);
        al.fail_at = 0;
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "%s: allocation %lu: %d %s", name, n, rc, mlops_error_last());
        if (rc == MLOPS_ENOMEM) {
            snapshot(&c, &after, &la);
            ck_assert_msg(la == lb && memcmp(before, after, la) == 0, "%s: allocation %lu: a profile changed", name,
                          n);
            free(after);
            ck_assert_msg(op(&c) == 0, "%s: not usable after allocation %lu failed: %s", name, n,
                          mlops_error_last());
        }
        free(before);
        oom_teardown(&c);
        tu_alloc_remove();
        ck_assert_msg(al.outstanding == 0, "%s: allocation %lu: %ld blocks leaked", name, n, al.outstanding);
        if (rc == 0 && al.failures == 0)
            break;
    }
    fprintf(stderr, "# oom %s: success at N=%lu\n", name, n);
    ck_assert_uint_gt(n, 1);
    ck_assert_uint_lt(n, 100000);
}

START_TEST(out_of_memory)
{
    double *x = tv_generate("normal", 99, OOM_N, 0, 1);
    double *xc = tv_generate("int", 98, OOM_N, -2, 300);
    int64_t *codes = tu_xmalloc(OOM_N * sizeof *codes);
    for (size_t i = 0; i < OOM_N; i++)
        codes[i] = (int64_t)xc[i];
    oom_loop("new", op_new, x, codes);
    oom_loop("add", op_add, x, codes);
    oom_loop("add_codes", op_add_codes, x, codes);
    oom_loop("merge", op_merge, x, codes);
    oom_loop("merge categorical", op_merge_cat, x, codes);
    oom_loop("encode/decode", op_codec, x, codes);
    oom_loop("save/load", op_store, x, codes);
    oom_loop("queries", op_queries, x, codes);
    free(codes);
    free(xc);
    free(x);
}
END_TEST

/* new_like: an empty profile with the same settings, which therefore
 * merges with and compares against the original. */
START_TEST(new_like_copies_settings)
{
    static const double edges[] = { -1, 0, 0.5, 2 };
    mlops_drift_profile *p = mk(MLOPS_DRIFT_NUMERIC, edges, 4, 128), *q = NULL;
    double v[] = { -0.5, 0.25, 1.5, 3 };
    ck_assert_int_eq(mlops_drift_profile_add(p, v, 4), 0);
    ck_assert_int_eq(mlops_drift_profile_new_like(&q, p), 0);
    mlops_drift_profile_stats st;
    ck_assert_int_eq(mlops_drift_profile_stats_get(&st, q), 0);
    ck_assert_uint_eq(st.count, 0);
    ck_assert_int_eq(st.type, MLOPS_DRIFT_NUMERIC);
    const uint64_t *h;
    size_t nh;
    ck_assert_int_eq(mlops_drift_profile_histogram(&h, &nh, q), 0);
    ck_assert_uint_eq(nh, 3);
    ck_assert_uint_eq(h[0] + h[1] + h[2], 0);
    ck_assert_int_eq(mlops_drift_profile_merge(q, p), 0); /* same edges and k */
    ck_assert_int_eq(mlops_drift_profile_histogram(&h, &nh, q), 0);
    ck_assert(h[0] == 1 && h[1] == 1 && h[2] == 1);
    mlops_drift_profile_free(q);
    mlops_drift_profile_free(p);

    p = mk(MLOPS_DRIFT_CATEGORICAL, NULL, 0, 0);
    ck_assert_int_eq(mlops_drift_profile_new_like(&q, p), 0);
    int64_t codes[] = { 4, 4, 9 };
    tu_assert_err(mlops_drift_profile_add(q, v, 1), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_drift_profile_add_codes(q, codes, 3), 0);
    mlops_drift_profile_free(q);
    q = (mlops_drift_profile *)1;
    tu_assert_err(mlops_drift_profile_new_like(&q, NULL), MLOPS_EINVALID);
    ck_assert_ptr_null(q);
    tu_assert_err(mlops_drift_profile_new_like(NULL, p), MLOPS_EINVALID);
    mlops_drift_profile_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("drift_profile");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, stats_vs_numpy);
    tcase_add_test(tc, missing_values);
    tcase_add_test(tc, categorical_counts);
    suite_add_tcase(s, tc);
    tc = tcase_create("sketch");
    tcase_add_test(tc, bound_formula_holds);
    tcase_add_test(tc, adversarial_inputs);
    tcase_add_test(tc, exact_below_2k);
    tcase_add_test(tc, merge_shards);
    tcase_add_test(tc, merge_edge_cases);
    tcase_add_test(tc, new_like_copies_settings);
    suite_add_tcase(s, tc);
    tc = tcase_create("compare");
    tcase_add_test(tc, compare_vs_scipy);
    tcase_add_test(tc, compare_ks_bound);
    tcase_add_test(tc, compare_empty_histogram);
    suite_add_tcase(s, tc);
    tc = tcase_create("codec");
    tcase_add_test(tc, codec_roundtrip);
    tcase_add_test(tc, codec_truncations_and_flips);
    tcase_add_test(tc, codec_version);
    tcase_add_test(tc, codec_hostile);
    tcase_add_test(tc, codec_random_mutations);
    tcase_add_test(tc, store_roundtrip);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, wrong_column_type);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, out_of_memory);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
