/*
 * Population stability index (drift.h defines it; tests/drift/
 * gen_distance.py holds the same definition in numpy).
 *
 * Speed: quantile bins need at most 2 (bins + 1) order statistics of the
 * reference, not a sorted reference. They are found by an MSD radix
 * select: one pass counts the top 16 bits of the order-preserving keys
 * of the values (sample.c explains the keys), a second pass copies out
 * only the values whose bucket holds a wanted rank (a few percent of
 * the data for anything spread out), and the next 16 bits or a
 * comparison multi-select finish each such bucket. A comparison-only
 * quickselect mispredicts about every other branch and needs ~log2(k)
 * passes; a full radix sort needs six scattering passes: both measured
 * several times slower on a million values. Counting is one branch-free
 * pass per sample: each value's bin is the number of cut points at or
 * below it, compared a block of values at a time so the compiler can
 * vectorize (a binary search past 16 cuts). The result is several times
 * faster than numpy's partition-based quantile plus its sort-based
 * histogram (bench/bench_drift.c).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "distributions.h"
#include "mlops/drift.h"
#include "sample.h"

#define SMALL 32                 /* insertion sort below */
#define RADIX_BITS 16
#define RADIX (1u << RADIX_BITS)
#define RADIX_MIN 65536          /* comparison select at or below */
#define LINEAR_CUTS 16           /* compare against every cut up to this many */
#define CHUNK 512                /* values counted per block */

int mlops_drift_psi_options_init(mlops_drift_psi_options *opts, unsigned int version)
{
    if (!opts)
        return mlops__error_set(MLOPS_EINVALID, "psi_options_init: NULL options");
    if (version != MLOPS_DRIFT_PSI_OPTIONS_VERSION)
        return mlops__error_set(MLOPS_EINVALID, "psi_options_init: unknown options version %u (this library: %u)",
                                version, (unsigned)MLOPS_DRIFT_PSI_OPTIONS_VERSION);
    mlops_drift_psi_options d = MLOPS_DRIFT_PSI_OPTIONS_INIT;
    *opts = d;
    return 0;
}

double mlops__drift_psi_from_counts(const double *ref, double nref, const double *cur, double ncur, size_t k,
                                    double eps)
{
    mlops__drift_sum acc = { 0, 0 };
    for (size_t i = 0; i < k; i++) {
        double r = ref[i] / nref, c = cur[i] / ncur;
        if (r == 0)
            r = eps;
        if (c == 0)
            c = eps;
        mlops__drift_sum_add(&acc, (c - r) * log(c / r));
    }
    return mlops__drift_sum_get(&acc);
}

/* ---- comparison multi-select ------------------------------------------- */

static inline void swap(double *x, size_t i, size_t j)
{
    double t = x[i];
    x[i] = x[j];
    x[j] = t;
}

/*
 * out[k] = the value of rank r[k] in x[0..n) (r ascending, < n; both
 * arrays are consumed: r is rebased as the search narrows). Hoare's
 * partition around a median of three; it moves values equal to the pivot
 * to both sides, so ties still split in the middle. Past depth levels
 * (an order built against the median of three) the slice is radix-sorted
 * with scratch (n entries).
 */
static void select_ranks(double *x, size_t n, size_t *r, double *out, size_t nr, int depth, uint64_t *scratch)
{
    while (nr > 0) {
        if (n <= SMALL || depth-- == 0) {
            if (n <= SMALL)
                mlops__drift_insertion_sort(x, n);
            else
                mlops__drift_sort_with(x, n, scratch);
            for (size_t k = 0; k < nr; k++)
                out[k] = x[r[k]];
            return;
        }
        size_t mid = n / 2;
        if (x[mid] < x[0])
            swap(x, mid, 0);
        if (x[n - 1] < x[0])
            swap(x, n - 1, 0);
        if (x[n - 1] < x[mid])
            swap(x, n - 1, mid);
        swap(x, 0, mid); /* the median first, as Hoare's scheme wants */
        double pv = x[0];
        size_t i = 0, j = n;
        for (int first = 1;; first = 0) {
            if (!first)
                i++;
            while (x[i] < pv)
                i++;
            do
                j--;
            while (x[j] > pv);
            if (i >= j)
                break;
            swap(x, i, j);
        }
        /* x[0..j] <= pv <= x[j+1..n), both parts non-empty */
        size_t split = j + 1, nl = 0;
        while (nl < nr && r[nl] < split)
            nl++;
        if (nl > 0)
            select_ranks(x, split, r, out, nl, depth, scratch);
        x += split;
        n -= split;
        for (size_t k = nl; k < nr; k++)
            r[k] -= split;
        r += nl;
        out += nl;
        nr -= nl;
    }
}

static int select_depth(size_t n)
{
    int d = 4;
    for (size_t t = n; t > 1; t >>= 1)
        d += 2;
    return d;
}

/* ---- radix select -------------------------------------------------------- */

static inline unsigned digit(double v, int shift)
{
    return (unsigned)((mlops__drift_key(v) >> shift) & (RADIX - 1));
}

typedef struct radix_state {
    uint32_t *pos;          /* RADIX counters, then write positions */
    unsigned char *need;    /* RADIX flags: the bucket holds a wanted rank */
    size_t *boff, *bstart;  /* per rank: its bucket's offset in y, first rank */
    size_t *blen;
} radix_state;

/*
 * out[k] = the value of rank r[k] in x[0..n) (r ascending, consumed), with
 * y (n entries) as the other buffer: a bucket copied from x to y is
 * finished in y with the same slice of x as its scratch, and so on.
 */
static void radix_select(radix_state *s, double *x, double *y, size_t n, size_t *r, double *out, size_t nr,
                         int shift)
{
    while (n > RADIX_MIN && n <= UINT32_MAX && shift >= 0) {
        uint32_t *c = s->pos;
        memset(c, 0, RADIX * sizeof *c);
        for (size_t i = 0; i < n; i++)
            c[digit(x[i], shift)]++;
        if (c[digit(x[0], shift)] == n) {
            shift -= RADIX_BITS; /* one bucket: the next digit, nothing moved */
            continue;
        }
        memset(s->need, 0, RADIX);
        size_t cum = 0, packed = 0, k = 0;
        for (unsigned d = 0; d < RADIX; d++) {
            size_t cnt = c[d];
            if (k < nr && r[k] < cum + cnt) {
                s->need[d] = 1;
                for (; k < nr && r[k] < cum + cnt; k++) {
                    s->boff[k] = packed;
                    s->bstart[k] = cum;
                    s->blen[k] = cnt;
                }
                c[d] = (uint32_t)packed;
                packed += cnt;
            }
            cum += cnt;
        }
        /* Values of other buckets all go to one dummy slot, y[packed]
         * (there is one: some bucket was not wanted), so the copy loop
         * has no branch. */
        for (unsigned d = 0; d < RADIX; d++)
            if (!s->need[d])
                c[d] = (uint32_t)packed;
        for (size_t i = 0; i < n; i++) {
            double v = x[i];
            unsigned d = digit(v, shift);
            uint32_t p = c[d];
            y[p] = v;
            c[d] = p + s->need[d];
        }
        for (size_t k0 = 0; k0 < nr;) {
            size_t k1 = k0, off = s->boff[k0], st = s->bstart[k0], len = s->blen[k0];
            while (k1 < nr && s->boff[k1] == off)
                k1++;
            for (size_t j = k0; j < k1; j++)
                r[j] -= st;
            radix_select(s, y + off, x + off, len, r + k0, out + k0, k1 - k0, shift - RADIX_BITS);
            k0 = k1;
        }
        return;
    }
    if (shift < 0) { /* every bit seen: the slice holds one value */
        for (size_t k = 0; k < nr; k++)
            out[k] = x[0];
        return;
    }
    select_ranks(x, n, r, out, nr, select_depth(n), (uint64_t *)(void *)y);
}

/* ---- bins ----------------------------------------------------------------- */

static void sort_sizes(size_t *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = r[i], j = i;
        while (j > 0 && r[j - 1] > v) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = v;
    }
}

static size_t lower_index(const size_t *r, size_t n, size_t want)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid] < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * The cut points of the quantile bins of x[0..n) (reordered; y is n
 * entries of scratch): numpy's 'linear' quantiles at i/bins (virtual
 * index (n-1) q, and numpy's lerp, which starts from the upper neighbour
 * when the fraction is >= 0.5), sorted and merged as np.unique does,
 * without the outer two (the outer bins are open). cuts has room for
 * bins + 1 values.
 */
static int psi_cuts(size_t *ncuts, double *cuts, double *x, double *y, size_t n, size_t bins)
{
    size_t nq = bins + 1, nr = 0;
    int big = n > RADIX_MIN;
    /* lo (nq), ranks and their working copy (2 nq each), the bucket of
     * each rank (3 x 2 nq), the values selected (2 nq doubles), then the
     * radix tables */
    size_t bytes = 13 * nq * sizeof(size_t) + (big ? RADIX * sizeof(uint32_t) + RADIX : 0);
    size_t *lo = mlops__malloc(bytes);
    if (!lo)
        return mlops__error_oom();
    size_t *ranks = lo + nq, *work = ranks + 2 * nq, *bk = work + 2 * nq;
    double *vals = (double *)(void *)(bk + 6 * nq), *frac = cuts;
    for (size_t i = 0; i < nq; i++) {
        double h = (double)(n - 1) * ((double)i / (double)bins);
        if (h >= (double)(n - 1)) {
            lo[i] = n - 1;
            frac[i] = -1; /* the maximum itself */
        } else {
            double f = floor(h);
            lo[i] = (size_t)f;
            frac[i] = h - f;
            ranks[nr++] = lo[i] + 1;
        }
        ranks[nr++] = lo[i];
    }
    sort_sizes(ranks, nr);
    size_t m = 0;
    for (size_t k = 0; k < nr; k++)
        if (m == 0 || ranks[k] != ranks[m - 1])
            ranks[m++] = ranks[k];
    memcpy(work, ranks, m * sizeof *work); /* consumed by the selection */
    if (big) {
        radix_state s;
        s.boff = bk;
        s.bstart = bk + 2 * nq;
        s.blen = bk + 4 * nq;
        s.pos = (uint32_t *)(void *)(vals + 2 * nq);
        s.need = (unsigned char *)(s.pos + RADIX);
        radix_select(&s, x, y, n, work, vals, m, 64 - RADIX_BITS);
    } else {
        select_ranks(x, n, work, vals, m, select_depth(n), (uint64_t *)(void *)y);
    }
    for (size_t i = 0; i < nq; i++) {
        double t = frac[i], a = vals[lower_index(ranks, m, lo[i])];
        if (t < 0) {
            cuts[i] = a;
        } else {
            double b = vals[lower_index(ranks, m, lo[i] + 1)], d = b - a;
            cuts[i] = t >= 0.5 ? b - d * (1 - t) : a + d * t;
        }
    }
    mlops__free(lo);
    for (size_t i = 0; i < nq; i++)
        if (isnan(cuts[i]) || isinf(cuts[i]))
            return mlops__error_set(MLOPS_EINVALID, "psi: the reference's values spread beyond the largest double "
                                                    "(a quantile between them overflows)");
    mlops__drift_insertion_sort(cuts, nq);
    size_t u = 0;
    for (size_t i = 0; i < nq; i++)
        if (u == 0 || cuts[i] != cuts[u - 1])
            cuts[u++] = cuts[i];
    /* u distinct edges; the outer two go (open outer bins) */
    size_t c = u >= 2 ? u - 2 : 0;
    memmove(cuts, cuts + 1, c * sizeof *cuts);
    *ncuts = c;
    return 0;
}

/* The number of cuts <= t (cuts ascending, ncuts >= 1), branch-free. */
static inline size_t cuts_at_or_below(const double *cuts, size_t ncuts, double t)
{
    size_t lo = 0, len = ncuts;
    while (len > 1) {
        size_t half = len / 2;
        lo += (t >= cuts[lo + half - 1]) ? half : 0;
        len -= half;
    }
    return lo + (t >= cuts[lo]);
}

/*
 * Counts x[0..n) into ext[0..ncuts+3): ext[0] gets values below lo (and
 * NaN), ext[ncuts+2] values above hi, ext[1 + b] bin b. ±Inf is refused.
 * *kept gets the non-NaN count.
 */
static int count_bins(uint64_t *ext, size_t *kept, const double *x, size_t n, const double *cuts, size_t ncuts,
                      double lo, double hi, const char *what)
{
    if (!x && n)
        return mlops__error_set(MLOPS_EINVALID, "psi: %s: NULL values", what);
    memset(ext, 0, (ncuts + 3) * sizeof *ext);
    /* Bin numbers are kept as doubles (exact, small): x86-64's baseline
     * SSE2 has no cheap way to turn a double comparison into a 64-bit
     * integer lane, so gcc vectorizes these loops only this way. */
    double idx[CHUNK];
    size_t nan = 0;
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        const double *xs = x + at;
        double nn = 0, inf = 0;
        for (size_t i = 0; i < m; i++) {
            nn += xs[i] != xs[i] ? 1.0 : 0.0;
            inf += fabs(xs[i]) == INFINITY ? 1.0 : 0.0;
        }
        if (inf > 0) {
            size_t i = 0;
            while (!isinf(xs[i]))
                i++;
            return mlops__error_set(MLOPS_EINVALID, "psi: %s[%zu] is infinite (values must be finite)", what, at + i);
        }
        nan += (size_t)nn;
        if (ncuts <= LINEAR_CUTS) {
            for (size_t i = 0; i < m; i++)
                idx[i] = (xs[i] >= lo ? 1.0 : 0.0) + (xs[i] > hi ? 1.0 : 0.0);
            for (size_t k = 0; k < ncuts; k++) {
                double c = cuts[k];
                for (size_t i = 0; i < m; i++)
                    idx[i] += xs[i] >= c ? 1.0 : 0.0;
            }
        } else {
            for (size_t i = 0; i < m; i++)
                idx[i] = xs[i] >= lo ? (double)(1 + cuts_at_or_below(cuts, ncuts, xs[i])) + (xs[i] > hi) : 0.0;
        }
        for (size_t i = 0; i < m; i++)
            ext[(size_t)idx[i]]++;
    }
    if (nan == n)
        return mlops__error_set(MLOPS_EINVALID, "psi: %s is empty%s", what, n ? " after dropping NaN values" : "");
    *kept = n - nan;
    return 0;
}

static int check_options(const mlops_drift_psi_options *o)
{
    if (o->version != MLOPS_DRIFT_PSI_OPTIONS_VERSION)
        return mlops__error_set(MLOPS_EINVALID, "psi: unknown options version %u (this library: %u)", o->version,
                                (unsigned)MLOPS_DRIFT_PSI_OPTIONS_VERSION);
    if (!(o->epsilon > 0) || isinf(o->epsilon))
        return mlops__error_set(MLOPS_EINVALID, "psi: epsilon %g must be finite and > 0", o->epsilon);
    if (!o->edges) {
        if (o->nedges)
            return mlops__error_set(MLOPS_EINVALID, "psi: nedges is %zu but edges is NULL", o->nedges);
        if (o->bins < 1)
            return mlops__error_set(MLOPS_EINVALID, "psi: bins must be >= 1");
        if (o->bins > SIZE_MAX / 256)
            return mlops__error_set(MLOPS_EINVALID, "psi: too many bins");
        return 0;
    }
    if (o->nedges < 2)
        return mlops__error_set(MLOPS_EINVALID, "psi: %zu edges (at least 2 are needed)", o->nedges);
    if (o->nedges > SIZE_MAX / 256)
        return mlops__error_set(MLOPS_EINVALID, "psi: too many edges");
    for (size_t i = 0; i < o->nedges; i++) {
        if (!isfinite(o->edges[i]))
            return mlops__error_set(MLOPS_EINVALID, "psi: edges[%zu] = %g is not finite", i, o->edges[i]);
        if (i && !(o->edges[i] > o->edges[i - 1]))
            return mlops__error_set(MLOPS_EINVALID, "psi: edges must increase strictly (edges[%zu] = %g after %g)", i,
                                    o->edges[i], o->edges[i - 1]);
    }
    return 0;
}

/* The reference's cut points, from a copy without NaN (the caller's
 * array is never reordered) and a second buffer for the selection. The
 * copy also validates the reference. */
static int reference_cuts(size_t *ncuts, double *cuts, const double *x, size_t n, size_t bins)
{
    if (!x && n)
        return mlops__error_set(MLOPS_EINVALID, "psi: reference: NULL values");
    if (n > SIZE_MAX / 16)
        return mlops__error_set(MLOPS_EINVALID, "psi: reference: too many values");
    double *v = mlops__malloc(n ? 2 * n * sizeof *v : 1);
    if (!v)
        return mlops__error_oom();
    size_t k = 0, inf = 0;
    for (size_t i = 0; i < n; i++) {
        v[k] = x[i];
        k += x[i] == x[i];
        inf += fabs(x[i]) == INFINITY;
    }
    int rc = 0;
    if (inf) {
        size_t i = 0;
        while (!isinf(x[i]))
            i++;
        rc = mlops__error_set(MLOPS_EINVALID, "psi: reference[%zu] is infinite (values must be finite)", i);
    } else if (k == 0) {
        rc = mlops__error_set(MLOPS_EINVALID, "psi: reference is empty%s", n ? " after dropping NaN values" : "");
    } else {
        rc = psi_cuts(ncuts, cuts, v, v + k, k, bins);
    }
    mlops__free(v);
    return rc;
}

int mlops_drift_psi(double *out, const double *reference, size_t nref, const double *current, size_t ncur,
                    const mlops_drift_psi_options *opts)
{
    mlops_drift_psi_options dflt = MLOPS_DRIFT_PSI_OPTIONS_INIT;
    const mlops_drift_psi_options *o = opts ? opts : &dflt;
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "psi: NULL output");
    MLOPS__TRY(check_options(o));

    /* cuts, the two samples' counters, their shares */
    size_t cap = (o->edges ? o->nedges : o->bins + 1) + 3;
    double *mem = mlops__malloc(5 * cap * sizeof *mem);
    if (!mem)
        return mlops__error_oom();
    double *cuts = mem, *rs = mem + cap, *cs = mem + 2 * cap;
    uint64_t *rc = (uint64_t *)(void *)(mem + 3 * cap), *cc = rc + cap;
    size_t ncuts = 0, kr = 0, kc = 0;
    double lo = -INFINITY, hi = INFINITY;
    if (o->edges) {
        ncuts = o->nedges - 2;
        memcpy(cuts, o->edges + 1, ncuts * sizeof *cuts);
        lo = o->edges[0];
        hi = o->edges[o->nedges - 1];
    }
    int err = o->edges ? 0 : reference_cuts(&ncuts, cuts, reference, nref, o->bins);
    if (err == 0)
        err = count_bins(rc, &kr, reference, nref, cuts, ncuts, lo, hi, "reference");
    if (err == 0)
        err = count_bins(cc, &kc, current, ncur, cuts, ncuts, lo, hi, "current");
    if (err == 0) {
        for (size_t b = 0; b <= ncuts; b++) {
            rs[b] = (double)rc[b + 1];
            cs[b] = (double)cc[b + 1];
        }
        *out = mlops__drift_psi_from_counts(rs, (double)kr, cs, (double)kc, ncuts + 1, o->epsilon);
    }
    mlops__free(mem);
    return err;
}
