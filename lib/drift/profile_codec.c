/*
 * The serialized form of a profile (docs/FORMAT.md, "Drift profiles"):
 * little-endian, a magic and a version, the fields, a CRC-32 trailer.
 *
 * A profile may come from another process or an attacker's store, so the
 * decoder trusts nothing: the CRC only catches accidents; after it, every
 * length is checked against the bytes that are there before anything is
 * allocated (so allocations stay proportional to the input), and every
 * invariant the encoder's output has is checked — finite sorted sketch
 * levels whose weights add up to the count, each level below 2k items and
 * reachable at that count, the error sums within their proven limits
 * (sketch.h), histogram and category counts consistent with the count,
 * canonical zeros. What decodes encodes back to the same bytes.
 */
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "profile_internal.h"

#define MAGIC "MDPF"
#define FORMAT_VERSION 1
#define HEADER 24       /* magic, version, type, 2 zero bytes, count, missing */
#define NUMERIC_FIXED 72 /* sketch_k .. the 4 zero bytes after nlevels */
#define TRAILER 4

/* ---- little-endian bytes ------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_u64(p, u);
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static double get_f64(const unsigned char *p)
{
    uint64_t u = get_u64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint32_t crc_of(const unsigned char *p, size_t n)
{
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), p, n);
}

/* ---- encode ------------------------------------------------------------------ */

static int top_levels(const mlops__drift_sketch *sk)
{
    int n = 0;
    for (int h = 0; h < MLOPS__DRIFT_SKETCH_LEVELS; h++)
        if (sk->lv[h].n)
            n = h + 1;
    return n;
}

int mlops_drift_profile_encode(void **out, size_t *len, const mlops_drift_profile *p)
{
    if (!out || !len || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_encode: NULL argument");
    *out = NULL;
    *len = 0;
    size_t size = HEADER + TRAILER;
    int nlevels = 0;
    if (p->type == MLOPS_DRIFT_NUMERIC) {
        nlevels = top_levels(&p->sk);
        size += NUMERIC_FIXED + (p->nedges ? p->nedges * 8 + (p->nedges - 1) * 8 : 0);
        for (int h = 0; h < nlevels; h++)
            size += 4 + (size_t)p->sk.lv[h].n * 8;
    } else {
        size += 8 + p->ncat * 16;
    }
    unsigned char *b = mlops__malloc(size);
    double *l0 = NULL;
    if (p->type == MLOPS_DRIFT_NUMERIC && p->sk.lv[0].n)
        l0 = mlops__malloc(p->sk.lv[0].n * sizeof *l0);
    if (!b || (p->type == MLOPS_DRIFT_NUMERIC && p->sk.lv[0].n && !l0)) {
        mlops__free(b);
        mlops__free(l0);
        return mlops__error_oom();
    }
    if (l0) {
        int rc = mlops__drift_sketch_sorted_l0(&p->sk, l0);
        if (rc < 0) {
            mlops__free(b);
            mlops__free(l0);
            return rc;
        }
    }
    memcpy(b, MAGIC, 4);
    b[4] = FORMAT_VERSION;
    b[5] = (unsigned char)p->type;
    b[6] = b[7] = 0;
    put_u64(b + 8, p->count);
    put_u64(b + 16, p->missing);
    size_t o = HEADER;
    if (p->type == MLOPS_DRIFT_NUMERIC) {
        put_u32(b + o, p->sketch_k);
        put_u32(b + o + 4, (uint32_t)p->nedges);
        put_f64(b + o + 8, p->min);
        put_f64(b + o + 16, p->max);
        put_f64(b + o + 24, p->mean);
        put_f64(b + o + 32, p->mean_lo);
        put_f64(b + o + 40, p->m2);
        put_u64(b + o + 48, p->sk.err_plus);
        put_u64(b + o + 56, p->sk.err_minus);
        put_u32(b + o + 64, (uint32_t)nlevels);
        put_u32(b + o + 68, 0);
        o += NUMERIC_FIXED;
        for (size_t i = 0; i < p->nedges; i++, o += 8)
            put_f64(b + o, p->edges[i]);
        for (size_t i = 0; i + 1 < p->nedges; i++, o += 8)
            put_u64(b + o, p->hist[i]);
        for (int h = 0; h < nlevels; h++) {
            const mlops__drift_sketch_level *L = &p->sk.lv[h];
            const double *v = h ? L->v : l0;
            put_u32(b + o, L->n);
            o += 4;
            for (uint32_t i = 0; i < L->n; i++, o += 8)
                put_f64(b + o, v[i]);
        }
    } else {
        put_u64(b + o, p->ncat);
        o += 8;
        for (size_t i = 0; i < p->ncat; i++, o += 16) {
            put_u64(b + o, (uint64_t)p->codes[i]);
            put_u64(b + o + 8, p->ccounts[i]);
        }
    }
    put_u32(b + o, crc_of(b, o));
    mlops__free(l0);
    *out = b;
    *len = size;
    return 0;
}

/* ---- decode ------------------------------------------------------------------ */

#define CORRUPT(...) mlops__error_set(MLOPS_ECORRUPT, "profile_decode: " __VA_ARGS__)

static int is_neg_zero(double d)
{
    return d == 0 && signbit(d);
}

/* Unsigned 128-bit arithmetic, enough for the error-sum check. */
typedef struct u128 {
    uint64_t hi, lo;
} u128;

static u128 u128_add(u128 a, uint64_t hi, uint64_t lo)
{
    a.lo += lo;
    a.hi += hi + (a.lo < lo);
    return a;
}

static u128 u128_mul(uint64_t a, uint64_t b)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    u128 r = { hh + (lh >> 32) + (hl >> 32) + (mid >> 32), (mid << 32) | (ll & 0xffffffffu) };
    return r;
}

/* k 2^h <= count: level h can hold items (sketch.h). */
static int reachable(uint64_t count, uint32_t k, uint32_t h)
{
    uint64_t w = k;
    for (uint32_t i = 0; i < h; i++) {
        if (w > count / 2)
            return 0;
        w *= 2;
    }
    return 1;
}

/* The numeric part after the header: b[0..n) excludes the trailer. */
static int decode_numeric(mlops_drift_profile **out, const unsigned char *b, size_t n, uint64_t count,
                          uint64_t missing)
{
    if (n < HEADER + NUMERIC_FIXED)
        return CORRUPT("truncated numeric profile");
    size_t o = HEADER;
    uint32_t k = get_u32(b + o), nlevels = get_u32(b + o + 64);
    uint64_t nedges = get_u32(b + o + 4);
    double mn = get_f64(b + o + 8), mx = get_f64(b + o + 16), mean = get_f64(b + o + 24);
    double mean_lo = get_f64(b + o + 32), m2 = get_f64(b + o + 40);
    uint64_t plus = get_u64(b + o + 48), minus = get_u64(b + o + 56);
    if (k < MLOPS__DRIFT_SKETCH_K_MIN || k > MLOPS__DRIFT_SKETCH_K_MAX)
        return CORRUPT("sketch_k %u out of range", (unsigned)k);
    if (get_u32(b + o + 68) != 0)
        return CORRUPT("reserved bytes are not zero");
    if (nlevels > MLOPS__DRIFT_SKETCH_LEVELS)
        return CORRUPT("%u sketch levels", (unsigned)nlevels);
    o += NUMERIC_FIXED;
    if (nedges == 1 || nedges > MLOPS__DRIFT_PROFILE_MAX_EDGES)
        return CORRUPT("%u histogram edges", (unsigned)nedges);
    size_t hist_bytes = nedges ? (size_t)nedges * 16 - 8 : 0;
    if (n - o < hist_bytes)
        return CORRUPT("truncated histogram");
    if (count == 0) {
        uint64_t z = get_u64(b + HEADER + 8) | get_u64(b + HEADER + 16) | get_u64(b + HEADER + 24) |
                     get_u64(b + HEADER + 32) | get_u64(b + HEADER + 40);
        if (z || plus || minus || nlevels)
            return CORRUPT("an empty profile with non-zero statistics");
    } else {
        if (!isfinite(mn) || !isfinite(mx) || !(mn <= mx) || is_neg_zero(mn) || is_neg_zero(mx))
            return CORRUPT("bad minimum or maximum");
        /* Values near DBL_MAX can overflow the mean and m2 (as numpy's):
         * then they are Inf or NaN and the residue 0; otherwise the residue
         * is below half an ulp of the mean (two-sum's output). */
        if (isfinite(mean) ? !isfinite(mean_lo) || mean + mean_lo != mean : get_u64(b + HEADER + 32) != 0)
            return CORRUPT("bad mean");
        if (!isnan(m2) && signbit(m2))
            return CORRUPT("negative variance");
        if (nlevels == 0)
            return CORRUPT("a non-empty profile without sketch items");
    }
    mlops_drift_profile *p = NULL;
    double *edges = NULL;
    if (nedges) {
        edges = mlops__malloc((size_t)nedges * sizeof *edges);
        if (!edges)
            return mlops__error_oom();
        for (size_t i = 0; i < nedges; i++)
            edges[i] = get_f64(b + o + 8 * i);
        int rc = mlops__drift_profile_check_edges(edges, (size_t)nedges, MLOPS_ECORRUPT, "profile_decode");
        if (rc == 0)
            rc = mlops__drift_profile_create(&p, MLOPS_DRIFT_NUMERIC, edges, (size_t)nedges, k);
        mlops__free(edges);
        if (rc < 0)
            return rc;
        o += (size_t)nedges * 8;
    } else {
        MLOPS__TRY(mlops__drift_profile_create(&p, MLOPS_DRIFT_NUMERIC, NULL, 0, k));
    }
    int rc = 0;
    uint64_t hsum = 0;
    for (size_t i = 0; i + 1 < nedges; i++, o += 8) {
        p->hist[i] = get_u64(b + o);
        if (p->hist[i] > count - hsum) {
            rc = CORRUPT("histogram counts exceed the count");
            goto fail;
        }
        hsum += p->hist[i];
    }
    p->count = count;
    p->missing = missing;
    p->min = mn;
    p->max = mx;
    p->mean = mean;
    p->mean_lo = mean_lo;
    p->m2 = m2;
    /* Sketch levels. */
    uint64_t k2 = 2 * (uint64_t)k, weight = 0;
    for (uint32_t h = 0; h < nlevels; h++) {
        if (n - o < 4) {
            rc = CORRUPT("truncated sketch level %u", (unsigned)h);
            goto fail;
        }
        uint32_t m = get_u32(b + o);
        o += 4;
        if (m >= k2 || (h + 1 == nlevels && m == 0)) {
            rc = CORRUPT("sketch level %u holds %u items", (unsigned)h, (unsigned)m);
            goto fail;
        }
        if ((n - o) / 8 < m) {
            rc = CORRUPT("truncated sketch level %u", (unsigned)h);
            goto fail;
        }
        if (m == 0)
            continue;
        /* Level h >= 1 fills only once k 2^h values were seen (sketch.h):
         * also what keeps a short input from claiming many levels. */
        if (!reachable(count, k, h)) {
            rc = CORRUPT("sketch level %u is out of reach at count %llu", (unsigned)h, (unsigned long long)count);
            goto fail;
        }
        uint64_t w = (uint64_t)m << h;
        if ((w >> h) != m || w > count - weight) {
            rc = CORRUPT("sketch weights exceed the count");
            goto fail;
        }
        weight += w;
        double *v = mlops__malloc((size_t)m * sizeof *v);
        if (!v) {
            rc = mlops__error_oom();
            goto fail;
        }
        p->sk.lv[h].v = v;
        p->sk.lv[h].cap = m;
        for (uint32_t i = 0; i < m; i++, o += 8) {
            double x = get_f64(b + o);
            if (!isfinite(x) || is_neg_zero(x) || x < mn || x > mx || (i > 0 && x < v[i - 1])) {
                rc = CORRUPT("sketch level %u: item %u is not finite, in range and sorted", (unsigned)h,
                             (unsigned)i);
                goto fail;
            }
            v[i] = x;
        }
        p->sk.lv[h].n = m;
    }
    if (weight != count) {
        rc = CORRUPT("sketch weights do not add up to the count");
        goto fail;
    }
    /* The error sums within limits that every sketch satisfies and that
     * adds and merges preserve from any state satisfying them (so that
     * whatever decodes stays decodable after more values and merges):
     * 2k |plus - minus| <= count (a compaction of weight w needs 2k w <=
     * count, and the greedy keeps |plus - minus| <= max(its old value,
     * w); merges add both sides), and 2k (plus + minus) <= sum over
     * levels of h n_h 2^h (a compaction of c >= 2k items at level h adds
     * 2k 2^h to the left and c 2^h to the right; adds and merges leave
     * the two sides' difference alone or grow it). */
    uint64_t d = plus > minus ? plus - minus : minus - plus;
    u128 lhs = { plus > UINT64_MAX - minus, plus + minus }, rhs = { 0, 0 };
    lhs = u128_add(u128_mul(lhs.lo, k2), lhs.hi * k2, 0);
    for (uint32_t h = 1; h < nlevels; h++) {
        u128 t = u128_mul((uint64_t)h * p->sk.lv[h].n, (uint64_t)1 << h);
        rhs = u128_add(rhs, t.hi, t.lo);
    }
    if (d > count / k2 || lhs.hi > rhs.hi || (lhs.hi == rhs.hi && lhs.lo > rhs.lo)) {
        rc = CORRUPT("sketch error sums out of their bounds");
        goto fail;
    }
    p->sk.weight = count;
    p->sk.err_plus = plus;
    p->sk.err_minus = minus;
    p->sk.run_a = p->sk.run_b = p->sk.lv[0].n;
    if (o != n) {
        rc = CORRUPT("%zu bytes after the profile", n - o);
        goto fail;
    }
    *out = p;
    return 0;
fail:
    mlops_drift_profile_free(p);
    return rc;
}

static int decode_categorical(mlops_drift_profile **out, const unsigned char *b, size_t n, uint64_t count,
                              uint64_t missing)
{
    if (n < HEADER + 8)
        return CORRUPT("truncated categorical profile");
    uint64_t ncat = get_u64(b + HEADER);
    size_t o = HEADER + 8;
    if (ncat > (n - o) / 16 || ncat * 16 != n - o)
        return CORRUPT("category table of the wrong size");
    mlops_drift_profile *p = NULL;
    MLOPS__TRY(mlops__drift_profile_create(&p, MLOPS_DRIFT_CATEGORICAL, NULL, 0, MLOPS__DRIFT_SKETCH_K_DEFAULT));
    int rc = 0;
    if (ncat) {
        p->codes = mlops__malloc((size_t)ncat * sizeof *p->codes);
        p->ccounts = mlops__malloc((size_t)ncat * sizeof *p->ccounts);
        if (!p->codes || !p->ccounts) {
            rc = mlops__error_oom();
            goto fail;
        }
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < ncat; i++, o += 16) {
        int64_t code = (int64_t)get_u64(b + o);
        uint64_t c = get_u64(b + o + 8);
        if (code < 0 || (i > 0 && code <= p->codes[i - 1])) {
            rc = CORRUPT("category codes are not non-negative and increasing");
            goto fail;
        }
        if (c == 0 || c > count - sum) {
            rc = CORRUPT("category counts do not fit the count");
            goto fail;
        }
        sum += c;
        p->codes[i] = code;
        p->ccounts[i] = c;
    }
    if (sum != count) {
        rc = CORRUPT("category counts do not add up to the count");
        goto fail;
    }
    p->ncat = (size_t)ncat;
    p->count = count;
    p->missing = missing;
    *out = p;
    return 0;
fail:
    mlops_drift_profile_free(p);
    return rc;
}

int mlops_drift_profile_decode(mlops_drift_profile **out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "profile_decode: NULL argument");
    *out = NULL;
    const unsigned char *b = data;
    if (len < 5 || memcmp(b, MAGIC, 4) != 0)
        return CORRUPT("not a profile (bad magic)");
    /* The version comes before anything else is judged: a newer format
     * may change everything after it, checksum included. */
    if (b[4] > FORMAT_VERSION)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "profile_decode: format version %u is newer than this library's (%u)",
                                (unsigned)b[4], FORMAT_VERSION);
    if (b[4] != FORMAT_VERSION)
        return CORRUPT("format version %u", (unsigned)b[4]);
    if (len < HEADER + TRAILER)
        return CORRUPT("truncated");
    size_t n = len - TRAILER;
    if (get_u32(b + n) != crc_of(b, n))
        return CORRUPT("checksum mismatch");
    if (b[6] || b[7])
        return CORRUPT("reserved bytes are not zero");
    uint64_t count = get_u64(b + 8), missing = get_u64(b + 16);
    switch (b[5]) {
    case MLOPS_DRIFT_NUMERIC:
        return decode_numeric(out, b, n, count, missing);
    case MLOPS_DRIFT_CATEGORICAL:
        return decode_categorical(out, b, n, count, missing);
    default:
        return CORRUPT("unknown column type %u", (unsigned)b[5]);
    }
}
