/*
 * Column profiles: building from chunks, merging, and the queries
 * (drift.h). The serialized form is in profile_codec.c, drift between
 * profiles in profile_compare.c, the quantile sketch in sketch.c.
 *
 * Numeric ingest runs at tens of millions of values a second because
 * everything is done per block of the sketch's level 0 (2k values, in
 * cache): non-finite values are dropped while copying the chunk into
 * level 0; one pass gives the block's sum, minimum and maximum, a second
 * the squared deviations from the block mean (the two-pass formula is
 * exact enough that Chan et al.'s pairwise update, which merges the
 * block into the running mean and M2, agrees with numpy.var to ~1e-14);
 * the sketch sorts the block anyway, so the histogram takes one binary
 * search per edge instead of one per value.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "profile_internal.h"
#include "sample.h"

/* Categorical codes are sorted in pieces of this many (bounded scratch). */
#define CODES_PIECE 65536

static const mlops_drift_profile_options profile_defaults = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;

int mlops_drift_profile_options_init(mlops_drift_profile_options *opts, unsigned int version)
{
    return mlops__options_init(opts, &profile_defaults, sizeof *opts, version, MLOPS_DRIFT_PROFILE_OPTIONS_VERSION,
                               "profile");
}

int mlops__drift_profile_check_edges(const double *edges, size_t nedges, int code, const char *what)
{
    if (nedges == 0)
        return 0;
    if (nedges == 1)
        return mlops__error_set(code, "%s: a histogram needs at least 2 edges", what);
    if (nedges > MLOPS__DRIFT_PROFILE_MAX_EDGES)
        return mlops__error_set(code, "%s: more than %u histogram edges", what, MLOPS__DRIFT_PROFILE_MAX_EDGES);
    for (size_t i = 0; i < nedges; i++) {
        if (!isfinite(edges[i]))
            return mlops__error_set(code, "%s: histogram edge %zu is not finite", what, i);
        if (i > 0 && !(edges[i] > edges[i - 1]))
            return mlops__error_set(code, "%s: histogram edges are not strictly increasing (edge %zu)", what, i);
    }
    return 0;
}

int mlops__drift_profile_create(mlops_drift_profile **out, mlops_drift_column_type type, const double *edges,
                                size_t nedges, uint32_t sketch_k)
{
    mlops_drift_profile *p = mlops__calloc(1, sizeof *p);
    if (!p)
        return mlops__error_oom();
    p->type = type;
    p->sketch_k = sketch_k;
    mlops__drift_sketch_init(&p->sk, sketch_k);
    if (nedges) {
        p->edges = mlops__malloc(nedges * sizeof *p->edges);
        p->hist = mlops__calloc(nedges - 1, sizeof *p->hist);
        if (!p->edges || !p->hist) {
            mlops_drift_profile_free(p);
            return mlops__error_oom();
        }
        memcpy(p->edges, edges, nedges * sizeof *edges);
        p->nedges = nedges;
    }
    *out = p;
    return 0;
}

int mlops_drift_profile_new(mlops_drift_profile **out, const mlops_drift_profile_options *opts)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "profile_new: NULL argument");
    *out = NULL;
    mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
    if (opts) {
        MLOPS__TRY(mlops__options_version(opts->version, MLOPS_DRIFT_PROFILE_OPTIONS_VERSION, "profile"));
        o = *opts;
    }
    if (o.type != MLOPS_DRIFT_NUMERIC && o.type != MLOPS_DRIFT_CATEGORICAL)
        return mlops__error_set(MLOPS_EINVALID, "profile_new: unknown column type %d", (int)o.type);
    if (o.nedges && !o.edges)
        return mlops__error_set(MLOPS_EINVALID, "profile_new: NULL edges with nedges %zu", o.nedges);
    if (o.type == MLOPS_DRIFT_CATEGORICAL && o.nedges)
        return mlops__error_set(MLOPS_EINVALID, "profile_new: histogram edges given for a categorical column");
    uint32_t k = o.sketch_k ? o.sketch_k : MLOPS__DRIFT_SKETCH_K_DEFAULT;
    if (k < MLOPS__DRIFT_SKETCH_K_MIN || k > MLOPS__DRIFT_SKETCH_K_MAX)
        return mlops__error_set(MLOPS_EINVALID, "profile_new: sketch_k %u is outside %u..%u", (unsigned)o.sketch_k,
                                MLOPS__DRIFT_SKETCH_K_MIN, MLOPS__DRIFT_SKETCH_K_MAX);
    MLOPS__TRY(mlops__drift_profile_check_edges(o.edges, o.nedges, MLOPS_EINVALID, "profile_new"));
    return mlops__drift_profile_create(out, o.type, o.edges, o.nedges, k);
}

int mlops_drift_profile_new_like(mlops_drift_profile **out, const mlops_drift_profile *p)
{
    if (out)
        *out = NULL;
    if (!out || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_new_like: NULL argument");
    return mlops__drift_profile_create(out, p->type, p->edges, p->nedges, p->sketch_k);
}

void mlops_drift_profile_free(mlops_drift_profile *p)
{
    if (!p)
        return;
    mlops__drift_sketch_dispose(&p->sk);
    mlops__free(p->edges);
    mlops__free(p->hist);
    mlops__free(p->codes);
    mlops__free(p->ccounts);
    mlops__free(p);
}

/* ---- numeric ingest ----------------------------------------------------- */

/* Copies the finite values of src into dst, -0.0 made +0.0 (so that the
 * sketch's items, min and max have one bit pattern per number and the
 * serialized form is canonical). Returns how many were kept. */
static size_t copy_finite(double *dst, const double *src, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        double v = src[i];
        dst[j] = v + 0.0;
        j += isfinite(v) != 0;
    }
    return j;
}

/* a + b = *s + *e exactly (Knuth's two-sum). */
static void two_sum(double a, double b, double *s, double *e)
{
    double x = a + b, bv = x - a, av = x - bv;
    *s = x;
    *e = (a - av) + (b - bv);
}

/*
 * Chan, Golub and LeVeque's update: (count, mean, m2) of a set merged
 * with those of a disjoint one (mean bh + bl). Why the means are
 * double-doubles: the update's m2 term n_a n_b / n (mean_b - mean_a)^2 is
 * first-order sensitive to an error e in either mean (it shifts m2 by
 * about 2 (mean_b - mean_a) e n_a n_b / n), and a mean rounded to a double
 * has e ~ 1e-16 |mean|; for data far from zero (mean 1e6, deviation 1e-3)
 * that alone costs ~1e-10 of relative accuracy in the variance, where
 * numpy's two-pass variance (second-order in its mean's error) keeps
 * ~1e-15. Carrying each mean's rounding residue (the block's from the
 * second pass, the running one through two-sums) removes the first-order
 * term.
 */
static void chan_merge(mlops_drift_profile *p, uint64_t nb, double bh, double bl, double m2_b)
{
    if (nb == 0)
        return;
    if (p->count == 0) {
        two_sum(bh, bl, &p->mean, &p->mean_lo);
        p->m2 = m2_b;
    } else {
        double na = (double)p->count, n = na + (double)nb;
        double delta = (bh - p->mean) + (bl - p->mean_lo), fb = (double)nb / n, s, e;
        two_sum(p->mean, delta * fb, &s, &e);
        two_sum(s, p->mean_lo + e, &p->mean, &p->mean_lo);
        p->m2 += m2_b + delta * delta * na * fb;
    }
    if (!isfinite(p->mean))
        p->mean_lo = 0; /* an overflowing mean: no residue (and one encoding) */
    p->count += nb;
}

static void block_moments(const double *x, size_t m, double *sum, double *lo, double *hi)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, a = x[0], b = x[0];
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
        double v0 = x[i], v1 = x[i + 1], v2 = x[i + 2], v3 = x[i + 3];
        s0 += v0;
        s1 += v1;
        s2 += v2;
        s3 += v3;
        double l0 = v0 < v1 ? v0 : v1, l1 = v2 < v3 ? v2 : v3;
        double h0 = v0 > v1 ? v0 : v1, h1 = v2 > v3 ? v2 : v3;
        l0 = l0 < l1 ? l0 : l1;
        h0 = h0 > h1 ? h0 : h1;
        a = l0 < a ? l0 : a;
        b = h0 > b ? h0 : b;
    }
    for (; i < m; i++) {
        s0 += x[i];
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *sum = (s0 + s1) + (s2 + s3);
    *lo = a;
    *hi = b;
}

/* The second pass: sums of the deviations from c and of their squares
 * (the corrected two-pass algorithm: the first is the rounding error of
 * c as the mean, times m). */
static void block_deviations(const double *x, size_t m, double c, double *sd, double *sq)
{
    double d0 = 0, d1 = 0, d2 = 0, d3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
        double e0 = x[i] - c, e1 = x[i + 1] - c, e2 = x[i + 2] - c, e3 = x[i + 3] - c;
        d0 += e0;
        d1 += e1;
        d2 += e2;
        d3 += e3;
        q0 += e0 * e0;
        q1 += e1 * e1;
        q2 += e2 * e2;
        q3 += e3 * e3;
    }
    for (; i < m; i++) {
        double e = x[i] - c;
        d0 += e;
        q0 += e * e;
    }
    *sd = (d0 + d1) + (d2 + d3);
    *sq = (q0 + q1) + (q2 + q3);
}

/* numpy.histogram's bins: [e_i, e_i+1), the last one closed. */
static void histogram_sorted(mlops_drift_profile *p, const double *x, size_t m)
{
    if (p->nedges == 0)
        return;
    size_t prev = mlops__drift_rank(x, m, p->edges[0], 0);
    for (size_t j = 1; j < p->nedges; j++) {
        size_t cur = mlops__drift_rank(x, m, p->edges[j], j + 1 == p->nedges);
        p->hist[j - 1] += cur - prev;
        prev = cur;
    }
}

int mlops_drift_profile_add(mlops_drift_profile *p, const double *values, size_t n)
{
    if (!p || (!values && n))
        return mlops__error_set(MLOPS_EINVALID, "profile_add: NULL argument");
    if (p->type != MLOPS_DRIFT_NUMERIC)
        return mlops__error_set(MLOPS_EINVALID, "profile_add: the profile is categorical (use profile_add_codes)");
    if (n == 0)
        return 0;
    if (p->count > UINT64_MAX - n || p->missing > UINT64_MAX - n)
        return mlops__error_set(MLOPS_EINVALID, "profile_add: the profile would hold more than 2^64 values");
    /* Everything that allocates happens here, before any change. */
    MLOPS__TRY(mlops__drift_sketch_reserve(&p->sk, n));
    size_t i = 0;
    while (i < n) {
        size_t room, m = 0;
        double *slot = mlops__drift_sketch_slot(&p->sk, &room);
        while (m < room && i < n) {
            size_t take = n - i < room - m ? n - i : room - m;
            size_t kept = copy_finite(slot + m, values + i, take);
            p->missing += take - kept;
            i += take;
            m += kept;
        }
        if (m == 0)
            break;
        double sum, lo, hi;
        block_moments(slot, m, &sum, &lo, &hi);
        double mean_b = sum / (double)m, sd, sq;
        block_deviations(slot, m, mean_b, &sd, &sq);
        double m2_b = sq - sd * sd / (double)m;
        if (p->count == 0 || lo < p->min)
            p->min = lo;
        if (p->count == 0 || hi > p->max)
            p->max = hi;
        chan_merge(p, m, mean_b, sd / (double)m, m2_b < 0 ? 0 : m2_b);
        const double *sorted = mlops__drift_sketch_accept(&p->sk, m, lo, hi);
        histogram_sorted(p, sorted, m);
        mlops__drift_sketch_settle(&p->sk);
    }
    return 0;
}

/* ---- categorical ingest ------------------------------------------------------ */

/* LSD radix sort of non-negative codes, 8-bit digits, passes where every
 * code has the same digit skipped (small codes sort in one or two). */
static void sort_codes(uint64_t *a, uint64_t *tmp, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 8; d++)
            count[d][(a[i] >> (8 * d)) & 0xff]++;
    uint64_t *src = a, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        if (count[d][(src[0] >> (8 * d)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = count[d][b];
            count[d][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[d][(src[i] >> (8 * d)) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* A sorted list of distinct codes with counts. */
typedef struct code_list {
    int64_t *codes;
    uint64_t *counts;
    size_t n;
} code_list;

static void code_list_dispose(code_list *l)
{
    mlops__free(l->codes);
    mlops__free(l->counts);
    memset(l, 0, sizeof *l);
}

/* out = a + b (a union with counts added). Errors: MLOPS_ENOMEM. */
static int code_list_merge(code_list *out, const int64_t *ac, const uint64_t *an, size_t na, const int64_t *bc,
                           const uint64_t *bn, size_t nb)
{
    size_t cap = na + nb ? na + nb : 1;
    out->codes = mlops__malloc(cap * sizeof *out->codes);
    out->counts = mlops__malloc(cap * sizeof *out->counts);
    out->n = 0;
    if (!out->codes || !out->counts) {
        code_list_dispose(out);
        return mlops__error_oom();
    }
    size_t i = 0, j = 0, o = 0;
    while (i < na || j < nb) {
        if (j == nb || (i < na && ac[i] < bc[j])) {
            out->codes[o] = ac[i];
            out->counts[o++] = an[i++];
        } else if (i == na || bc[j] < ac[i]) {
            out->codes[o] = bc[j];
            out->counts[o++] = bn[j++];
        } else {
            out->codes[o] = ac[i];
            out->counts[o++] = an[i++] + bn[j++];
        }
    }
    out->n = o;
    return 0;
}

int mlops_drift_profile_add_codes(mlops_drift_profile *p, const int64_t *codes, size_t n)
{
    if (!p || (!codes && n))
        return mlops__error_set(MLOPS_EINVALID, "profile_add_codes: NULL argument");
    if (p->type != MLOPS_DRIFT_CATEGORICAL)
        return mlops__error_set(MLOPS_EINVALID, "profile_add_codes: the profile is numeric (use profile_add)");
    if (n == 0)
        return 0;
    if (p->count > UINT64_MAX - n || p->missing > UINT64_MAX - n)
        return mlops__error_set(MLOPS_EINVALID, "profile_add_codes: the profile would hold more than 2^64 values");
    size_t piece = n < CODES_PIECE ? n : CODES_PIECE;
    uint64_t *keys = mlops__malloc(piece * sizeof *keys), *tmp = mlops__malloc(piece * sizeof *tmp);
    int64_t *rc_codes = mlops__malloc(piece * sizeof *rc_codes);
    uint64_t *rc_counts = mlops__malloc(piece * sizeof *rc_counts);
    code_list acc = { NULL, NULL, 0 };
    uint64_t missing = 0, added = 0;
    int rc = keys && tmp && rc_codes && rc_counts ? 0 : mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < n; i += piece) {
        size_t take = n - i < piece ? n - i : piece, m = 0;
        for (size_t j = 0; j < take; j++) {
            int64_t c = codes[i + j];
            keys[m] = (uint64_t)c;
            m += c >= 0;
        }
        missing += take - m;
        added += m;
        if (m == 0)
            continue;
        sort_codes(keys, tmp, m);
        size_t r = 0;
        for (size_t j = 0; j < m; j++) {
            if (r > 0 && rc_codes[r - 1] == (int64_t)keys[j]) {
                rc_counts[r - 1]++;
            } else {
                rc_codes[r] = (int64_t)keys[j];
                rc_counts[r++] = 1;
            }
        }
        code_list next;
        rc = code_list_merge(&next, acc.codes, acc.counts, acc.n, rc_codes, rc_counts, r);
        if (rc == 0) {
            code_list_dispose(&acc);
            acc = next;
        }
    }
    mlops__free(keys);
    mlops__free(tmp);
    mlops__free(rc_codes);
    mlops__free(rc_counts);
    if (rc == 0 && acc.n) {
        code_list merged;
        rc = code_list_merge(&merged, p->codes, p->ccounts, p->ncat, acc.codes, acc.counts, acc.n);
        if (rc == 0) {
            mlops__free(p->codes);
            mlops__free(p->ccounts);
            p->codes = merged.codes;
            p->ccounts = merged.counts;
            p->ncat = merged.n;
        }
    }
    code_list_dispose(&acc);
    if (rc < 0)
        return rc;
    p->count += added;
    p->missing += missing;
    return 0;
}

/* ---- merge ---------------------------------------------------------------------- */

int mlops_drift_profile_merge(mlops_drift_profile *dst, const mlops_drift_profile *src)
{
    if (!dst || !src)
        return mlops__error_set(MLOPS_EINVALID, "profile_merge: NULL argument");
    if (dst->type != src->type)
        return mlops__error_set(MLOPS_EINVALID, "profile_merge: a numeric and a categorical profile");
    if (dst->count > UINT64_MAX - src->count || dst->missing > UINT64_MAX - src->missing)
        return mlops__error_set(MLOPS_EINVALID, "profile_merge: more than 2^64 values");
    uint64_t count = src->count, missing = src->missing;
    if (dst->type == MLOPS_DRIFT_CATEGORICAL) {
        code_list merged;
        MLOPS__TRY(code_list_merge(&merged, dst->codes, dst->ccounts, dst->ncat, src->codes, src->ccounts,
                                   src->ncat));
        mlops__free(dst->codes);
        mlops__free(dst->ccounts);
        dst->codes = merged.codes;
        dst->ccounts = merged.counts;
        dst->ncat = merged.n;
        dst->count += count;
        dst->missing += missing;
        return 0;
    }
    if (dst->sketch_k != src->sketch_k)
        return mlops__error_set(MLOPS_EINVALID, "profile_merge: different sketch_k (%u, %u)",
                                (unsigned)dst->sketch_k, (unsigned)src->sketch_k);
    if (dst->nedges != src->nedges ||
        (dst->nedges && memcmp(dst->edges, src->edges, dst->nedges * sizeof *dst->edges) != 0))
        return mlops__error_set(MLOPS_EINVALID, "profile_merge: different histogram edges");
    /* src may be dst: read its figures before anything changes. */
    double mean = src->mean, mean_lo = src->mean_lo, m2 = src->m2, lo = src->min, hi = src->max;
    MLOPS__TRY(mlops__drift_sketch_merge(&dst->sk, &src->sk));
    if (count) {
        if (dst->count == 0 || lo < dst->min)
            dst->min = lo;
        if (dst->count == 0 || hi > dst->max)
            dst->max = hi;
    }
    chan_merge(dst, count, mean, mean_lo, m2);
    for (size_t i = 0; i + 1 < dst->nedges; i++)
        dst->hist[i] += src->hist[i];
    dst->missing += missing;
    return 0;
}

/* ---- queries ---------------------------------------------------------------------- */

int mlops_drift_profile_stats_get(mlops_drift_profile_stats *out, const mlops_drift_profile *p)
{
    if (!out || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_stats_get: NULL argument");
    memset(out, 0, sizeof *out);
    out->type = p->type;
    out->count = p->count;
    out->missing = p->missing;
    out->min = out->max = out->mean = out->variance = NAN;
    if (p->type == MLOPS_DRIFT_CATEGORICAL) {
        out->ncategories = p->ncat;
        return 0;
    }
    if (p->count) {
        out->min = p->min;
        out->max = p->max;
        out->mean = p->mean;
        out->variance = p->m2 / (double)p->count;
        out->rank_error = mlops__drift_sketch_rank_error(&p->sk);
        out->epsilon = (double)out->rank_error / (double)p->count;
    }
    return 0;
}

static int require_numeric(const mlops_drift_profile *p, const char *what)
{
    if (p->type != MLOPS_DRIFT_NUMERIC)
        return mlops__error_set(MLOPS_EINVALID, "%s: the profile is categorical", what);
    if (p->count == 0)
        return mlops__error_set(MLOPS_EINVALID, "%s: the profile is empty", what);
    return 0;
}

int mlops_drift_profile_quantile(double *out, const mlops_drift_profile *p, double q)
{
    if (!out || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_quantile: NULL argument");
    MLOPS__TRY(require_numeric(p, "profile_quantile"));
    if (!(q >= 0 && q <= 1))
        return mlops__error_set(MLOPS_EINVALID, "profile_quantile: q = %g is outside [0, 1]", q);
    /* The extremes are known exactly. */
    if (q == 0) {
        *out = p->min;
        return 0;
    }
    if (q == 1) {
        *out = p->max;
        return 0;
    }
    mlops__drift_sketch_view v;
    MLOPS__TRY(mlops__drift_sketch_view_init(&v, &p->sk));
    *out = mlops__drift_sketch_view_quantile(&v, q * (double)p->count);
    mlops__drift_sketch_view_dispose(&v);
    return 0;
}

int mlops_drift_profile_cdf(double *out, const mlops_drift_profile *p, double x)
{
    if (!out || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_cdf: NULL argument");
    MLOPS__TRY(require_numeric(p, "profile_cdf"));
    if (isnan(x))
        return mlops__error_set(MLOPS_EINVALID, "profile_cdf: x is NaN");
    *out = (double)mlops__drift_sketch_rank(&p->sk, x, 0) / (double)p->count;
    return 0;
}

int mlops_drift_profile_histogram(const uint64_t **counts, size_t *n, const mlops_drift_profile *p)
{
    if (!counts || !n || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_histogram: NULL argument");
    if (p->type != MLOPS_DRIFT_NUMERIC)
        return mlops__error_set(MLOPS_EINVALID, "profile_histogram: the profile is categorical");
    *counts = p->hist;
    *n = p->nedges ? p->nedges - 1 : 0;
    return 0;
}

int mlops_drift_profile_categories(const int64_t **codes, const uint64_t **counts, size_t *n,
                                   const mlops_drift_profile *p)
{
    if (!codes || !counts || !n || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_categories: NULL argument");
    if (p->type != MLOPS_DRIFT_CATEGORICAL)
        return mlops__error_set(MLOPS_EINVALID, "profile_categories: the profile is numeric");
    *codes = p->codes;
    *counts = p->ccounts;
    *n = p->ncat;
    return 0;
}
