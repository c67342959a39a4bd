/*
 * The quantile sketch of numeric profiles (see sketch.h for the design
 * and the proof of its rank-error bound).
 *
 * Where the time goes. Every value passes through one level-0
 * compaction, which needs its 2k-item buffer sorted: at >= 50 million
 * values a second, the sort is most of the budget. The radix sort of
 * sample.c costs ~16 ns a value on 8192 doubles (six 11-bit passes, since
 * normal data spans the sign and many exponents). Here the block's
 * minimum and maximum are known (the caller computed them with the sum),
 * so a first pass scatters the values into about one bucket per value by
 * (x - lo) * scale, which is monotone in x in IEEE arithmetic (subtraction
 * and multiplication by a positive number round monotonically, truncation
 * too), so buckets are ordered; a final insertion sort over the whole
 * array only moves values within their bucket. Crowded buckets (skewed
 * data) are sorted the same way on their own range first, at most three
 * levels deep, then by the radix sort; so is a range that overflows.
 */
#include "sketch.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "sample.h"

#define SORT_SMALL 16
#define TOP_BUCKETS 32768u
#define NESTED_BUCKETS 2048u
#define SORT_MAX_DEPTH 3

/* ---- sorting ------------------------------------------------------------ */

/* Insertion sort of src into dst (which may be src). */
static void insertion_copy(double *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = src[i];
        size_t j = i;
        while (j > 0 && dst[j - 1] > v) {
            dst[j] = dst[j - 1];
            j--;
        }
        dst[j] = v;
    }
}

static void min_max(const double *x, size_t n, double *lo, double *hi)
{
    double a = x[0], b = x[0];
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        a = v < a ? v : a;
        b = v > b ? v : b;
    }
    *lo = a;
    *hi = b;
}

static void bucket_sort(double *x, size_t n, double lo, double hi, double *tmp, uint16_t *idx, uint32_t *cnt,
                        size_t maxb, int depth)
{
    if (n <= SORT_SMALL) {
        insertion_copy(x, x, n);
        return;
    }
    if (!(lo < hi))
        return; /* all equal */
    size_t nb = 16;
    while (nb < maxb && nb * 2 <= n)
        nb *= 2;
    double range = hi - lo, scale = (double)nb / range;
    if (depth > SORT_MAX_DEPTH || !isfinite(range) || !isfinite(scale)) {
        mlops__drift_sort_with(x, n, (uint64_t *)(void *)tmp);
        return;
    }
    memset(cnt, 0, (nb + 1) * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((x[i] - lo) * scale);
        b = b < nb ? b : nb - 1;
        idx[i] = (uint16_t)b;
        cnt[b + 1]++;
    }
    for (size_t b = 1; b <= nb; b++)
        cnt[b] += cnt[b - 1];
    for (size_t i = 0; i < n; i++)
        tmp[cnt[idx[i]]++] = x[i];
    /* cnt[b] is now the end of bucket b. */
    size_t s = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t e = cnt[b];
        if (e - s > SORT_SMALL) {
            double a, z;
            uint32_t sub[NESTED_BUCKETS + 1];
            min_max(tmp + s, e - s, &a, &z);
            bucket_sort(tmp + s, e - s, a, z, x + s, idx, sub, NESTED_BUCKETS, depth + 1);
        }
        s = e;
    }
    insertion_copy(x, tmp, n);
}

static size_t top_buckets(size_t n)
{
    return n < TOP_BUCKETS ? n : TOP_BUCKETS;
}

/* ---- merging sorted arrays ------------------------------------------------ */

/*
 * The merges run once per compacted item, so they are written without
 * data-dependent branches (the comparison picks an index: a mispredicted
 * branch on every other item of random data costs more than the copy),
 * and merge2 works from both ends at once: the front produces the
 * smallest half and the back the largest, two independent dependency
 * chains. Ties go to a first at both ends (the front takes a's equal item,
 * the back takes b's), so the two ends agree on one merged order and
 * never take the same item while the front is below half and the back
 * above it.
 */
static void merge2(double *out, const double *a, size_t na, const double *b, size_t nb)
{
    size_t n = na + nb, half = n / 2;
    size_t i = 0, j = 0, o = 0, ib = na, jb = nb, ob = n;
    while (o < half && i < na && j < nb && ib > 0 && jb > 0) {
        double x = a[i], y = b[j];
        size_t t = y < x;
        out[o++] = t ? y : x;
        j += t;
        i += 1 - t;
        double xb = a[ib - 1], yb = b[jb - 1];
        size_t u = xb > yb;
        out[--ob] = u ? xb : yb;
        ib -= u;
        jb -= 1 - u;
    }
    while (o < half) {
        if (j >= nb || (i < na && !(b[j] < a[i])))
            out[o++] = a[i++];
        else
            out[o++] = b[j++];
    }
    while (ob > half) {
        if (jb == 0 || (ib > 0 && a[ib - 1] > b[jb - 1]))
            out[--ob] = a[--ib];
        else
            out[--ob] = b[--jb];
    }
}

/* a (na items, room for na + nb) and b merged into a, from the back. */
static void merge_into(double *a, size_t na, const double *b, size_t nb)
{
    size_t i = na, j = nb, o = na + nb;
    while (i > 0 && j > 0) {
        double x = a[i - 1], y = b[j - 1];
        size_t t = x > y;
        a[--o] = t ? x : y;
        i -= t;
        j -= 1 - t;
    }
    /* what is left of a is in place already */
    if (j)
        memcpy(a, b, j * sizeof *b);
}

/* Every other item of sorted src[0..m) (m even) from offset off. */
static void take_alternate(double *out, const double *src, size_t m, int off)
{
    for (size_t i = 0, o = (size_t)off; o < m; i++, o += 2)
        out[i] = src[o];
}

/* The greedy offset: grow the smaller of the two error sums by w. */
static int choose_offset(uint64_t *plus, uint64_t *minus, uint64_t w)
{
    if (*plus <= *minus) {
        *plus += w;
        return 0;
    }
    *minus += w;
    return 1;
}

/* ---- life cycle and ingest -------------------------------------------------- */

void mlops__drift_sketch_init(mlops__drift_sketch *sk, uint32_t k)
{
    memset(sk, 0, sizeof *sk);
    sk->k = k;
}

void mlops__drift_sketch_dispose(mlops__drift_sketch *sk)
{
    for (int h = 0; h < MLOPS__DRIFT_SKETCH_LEVELS; h++)
        mlops__free(sk->lv[h].v);
    mlops__free(sk->tmp);
    mlops__free(sk->mbuf);
    mlops__free(sk->pbuf);
    mlops__free(sk->idx);
    mlops__free(sk->cnt);
    memset(sk, 0, sizeof *sk);
}

int mlops__drift_sketch_reserve(mlops__drift_sketch *sk, uint64_t more)
{
    size_t k2 = 2 * (size_t)sk->k;
    if (!sk->tmp) {
        double *tmp = mlops__malloc(k2 * sizeof *tmp);
        double *mbuf = mlops__malloc(2 * k2 * sizeof *mbuf);
        double *pbuf = mlops__malloc(k2 * sizeof *pbuf);
        uint16_t *idx = mlops__malloc(k2 * sizeof *idx);
        uint32_t *cnt = mlops__malloc((top_buckets(k2) + 1) * sizeof *cnt);
        if (!tmp || !mbuf || !pbuf || !idx || !cnt) {
            mlops__free(tmp);
            mlops__free(mbuf);
            mlops__free(pbuf);
            mlops__free(idx);
            mlops__free(cnt);
            return mlops__error_oom();
        }
        sk->tmp = tmp;
        sk->mbuf = mbuf;
        sk->pbuf = pbuf;
        sk->idx = idx;
        sk->cnt = cnt;
    }
    /* Level h can receive items only once the total weight reaches
     * k 2^h (a compaction below it consumed 2k items of weight 2^(h-1)). */
    uint64_t total = sk->weight > UINT64_MAX - more ? UINT64_MAX : sk->weight + more;
    int top = 0;
    for (uint64_t w = sk->k; top + 1 < MLOPS__DRIFT_SKETCH_LEVELS && w <= total / 2; w *= 2)
        top++;
    for (int h = 0; h <= top; h++) {
        mlops__drift_sketch_level *L = &sk->lv[h];
        if (L->cap >= k2)
            continue;
        double *v = mlops__realloc(L->v, k2 * sizeof *v);
        if (!v)
            return mlops__error_oom();
        L->v = v;
        L->cap = (uint32_t)k2;
    }
    return 0;
}

double *mlops__drift_sketch_slot(mlops__drift_sketch *sk, size_t *room)
{
    mlops__drift_sketch_level *L = &sk->lv[0];
    *room = 2 * (size_t)sk->k - L->n;
    return L->v + L->n;
}

const double *mlops__drift_sketch_accept(mlops__drift_sketch *sk, size_t m, double lo, double hi)
{
    mlops__drift_sketch_level *L = &sk->lv[0];
    double *block = L->v + L->n;
    uint32_t start = L->n, end = (uint32_t)(L->n + m);
    bucket_sort(block, m, lo, hi, sk->tmp, sk->idx, sk->cnt, TOP_BUCKETS, 0);
    if (sk->run_b == start) {
        /* Everything before is at most two sorted runs: if [0, run_a) is
         * empty or [run_a, run_b) is, they are one run and the block is
         * the second; else three runs would be needed, and from here on
         * level 0 is left unsorted (sorted whole when it compacts). */
        if (sk->run_a == 0 || sk->run_a == sk->run_b) {
            sk->run_a = start;
            sk->run_b = end;
        }
    }
    L->n = end;
    sk->weight += m;
    return block;
}

void mlops__drift_sketch_settle(mlops__drift_sketch *sk)
{
    mlops__drift_sketch_level *L0 = &sk->lv[0];
    size_t k2 = 2 * (size_t)sk->k;
    if (L0->n < k2)
        return;
    const double *sorted = L0->v;
    if (sk->run_b == L0->n) {
        if (sk->run_a != 0 && sk->run_a != L0->n) {
            merge2(sk->mbuf, L0->v, sk->run_a, L0->v + sk->run_a, L0->n - sk->run_a);
            sorted = sk->mbuf;
        }
    } else {
        double lo, hi;
        min_max(L0->v, L0->n, &lo, &hi);
        bucket_sort(L0->v, L0->n, lo, hi, sk->tmp, sk->idx, sk->cnt, TOP_BUCKETS, 0);
    }
    int off = choose_offset(&sk->err_plus, &sk->err_minus, 1);
    take_alternate(sk->pbuf, sorted, k2, off);
    size_t np = k2 / 2;
    L0->n = 0;
    sk->run_a = sk->run_b = 0;
    for (int h = 1; h < MLOPS__DRIFT_SKETCH_LEVELS && np > 0; h++) {
        mlops__drift_sketch_level *L = &sk->lv[h];
        size_t total = L->n + np;
        if (total < k2) {
            merge_into(L->v, L->n, sk->pbuf, np);
            L->n = (uint32_t)total;
            break;
        }
        merge2(sk->mbuf, L->v, L->n, sk->pbuf, np);
        size_t keep = total & 1, m = total - keep;
        off = choose_offset(&sk->err_plus, &sk->err_minus, (uint64_t)1 << h);
        take_alternate(sk->pbuf, sk->mbuf, m, off);
        np = m / 2;
        if (keep)
            L->v[0] = sk->mbuf[total - 1];
        L->n = (uint32_t)keep;
    }
}

/* ---- merge -------------------------------------------------------------------- */

int mlops__drift_sketch_sorted_l0(const mlops__drift_sketch *sk, double *out)
{
    const mlops__drift_sketch_level *L = &sk->lv[0];
    size_t n = L->n;
    if (sk->run_b == n) {
        merge2(out, L->v, sk->run_a, L->v + sk->run_a, n - sk->run_a);
        return 0;
    }
    memcpy(out, L->v, n * sizeof *out);
    return mlops__drift_sort(out, n);
}

/* A sorted copy of level 0 (NULL when empty). */
static int sorted_l0_copy(double **out, const mlops__drift_sketch *sk)
{
    *out = NULL;
    size_t n = sk->lv[0].n;
    if (n == 0)
        return 0;
    double *c = mlops__malloc(n * sizeof *c);
    if (!c)
        return mlops__error_oom();
    int rc = mlops__drift_sketch_sorted_l0(sk, c);
    if (rc < 0) {
        mlops__free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void merge3(double *out, const double *a, size_t na, const double *b, size_t nb, const double *c, size_t nc)
{
    size_t i = 0, j = 0, o = 0;
    /* a and b into out, then c merged in from the back. */
    while (i < na && j < nb)
        out[o++] = b[j] < a[i] ? b[j++] : a[i++];
    while (i < na)
        out[o++] = a[i++];
    while (j < nb)
        out[o++] = b[j++];
    merge_into(out, o, c, nc);
}

int mlops__drift_sketch_merge(mlops__drift_sketch *dst, const mlops__drift_sketch *src)
{
    if (dst->k != src->k)
        return mlops__error_set(MLOPS_EINVALID, "profiles with different sketch_k (%u, %u) cannot be merged",
                                (unsigned)dst->k, (unsigned)src->k);
    uint64_t src_weight = src->weight;
    if (src_weight > UINT64_MAX - dst->weight)
        return mlops__error_set(MLOPS_EINVALID, "merged profile would hold more than 2^64 values");
    if (src_weight == 0)
        return 0;
    size_t k2 = 2 * (size_t)dst->k;
    uint64_t plus = dst->err_plus + src->err_plus, minus = dst->err_minus + src->err_minus;
    mlops__drift_sketch_level nl[MLOPS__DRIFT_SKETCH_LEVELS];
    memset(nl, 0, sizeof nl);
    double *a0 = NULL, *b0 = NULL, *prom = NULL;
    size_t np = 0;
    int rc = sorted_l0_copy(&a0, dst);
    if (rc == 0)
        rc = sorted_l0_copy(&b0, src);
    for (int h = 0; rc == 0 && h < MLOPS__DRIFT_SKETCH_LEVELS; h++) {
        const double *a = h ? dst->lv[h].v : a0, *b = h ? src->lv[h].v : b0;
        size_t na = dst->lv[h].n, nb = src->lv[h].n, total = na + nb + np;
        if (total == 0)
            continue;
        double *t = mlops__malloc(total * sizeof *t);
        if (!t) {
            rc = mlops__error_oom();
            break;
        }
        merge3(t, a, na, b, nb, prom, np);
        mlops__free(prom);
        prom = NULL;
        np = 0;
        /* Level 63 cannot fill: 2k items of weight 2^63 exceed 2^64. */
        if (total >= k2 && h + 1 < MLOPS__DRIFT_SKETCH_LEVELS) {
            size_t keep = total & 1, m = total - keep;
            prom = mlops__malloc(m / 2 * sizeof *prom);
            if (!prom) {
                mlops__free(t);
                rc = mlops__error_oom();
                break;
            }
            int off = choose_offset(&plus, &minus, (uint64_t)1 << h);
            take_alternate(prom, t, m, off);
            np = m / 2;
            if (keep) {
                t[0] = t[total - 1];
                nl[h] = (mlops__drift_sketch_level){ t, 1, (uint32_t)total };
            } else {
                mlops__free(t);
            }
        } else {
            nl[h] = (mlops__drift_sketch_level){ t, (uint32_t)total, (uint32_t)total };
        }
    }
    mlops__free(a0);
    mlops__free(b0);
    mlops__free(prom);
    if (rc < 0) {
        for (int h = 0; h < MLOPS__DRIFT_SKETCH_LEVELS; h++)
            mlops__free(nl[h].v);
        return rc;
    }
    for (int h = 0; h < MLOPS__DRIFT_SKETCH_LEVELS; h++) {
        mlops__free(dst->lv[h].v);
        dst->lv[h] = nl[h];
    }
    dst->weight += src_weight;
    dst->err_plus = plus;
    dst->err_minus = minus;
    dst->run_a = dst->run_b = dst->lv[0].n;
    return 0;
}

/* ---- queries ---------------------------------------------------------------------- */

uint64_t mlops__drift_sketch_rank_error(const mlops__drift_sketch *sk)
{
    return sk->err_plus > sk->err_minus ? sk->err_plus : sk->err_minus;
}

/* Items of sorted v[0..n) that are <= x (strict: < x). */
static size_t count_upto(const double *v, size_t n, double x, int strict)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strict ? v[mid] < x : v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t mlops__drift_sketch_rank(const mlops__drift_sketch *sk, double x, int strict)
{
    const mlops__drift_sketch_level *L0 = &sk->lv[0];
    uint64_t r = 0;
    for (size_t i = 0; i < L0->n; i++)
        r += strict ? L0->v[i] < x : L0->v[i] <= x;
    for (int h = 1; h < MLOPS__DRIFT_SKETCH_LEVELS; h++)
        if (sk->lv[h].n)
            r += (uint64_t)count_upto(sk->lv[h].v, sk->lv[h].n, x, strict) << h;
    return r;
}

int mlops__drift_sketch_view_init(mlops__drift_sketch_view *out, const mlops__drift_sketch *sk)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (int h = 0; h < MLOPS__DRIFT_SKETCH_LEVELS; h++)
        total += sk->lv[h].n;
    if (total == 0)
        return 0;
    double *l0 = NULL, *v = mlops__malloc(total * sizeof *v);
    uint64_t *cum = mlops__malloc(total * sizeof *cum);
    int rc = v && cum ? sorted_l0_copy(&l0, sk) : mlops__error_oom();
    if (rc < 0) {
        mlops__free(v);
        mlops__free(cum);
        return rc;
    }
    /* A merge of the sorted levels, scanning the level heads (there are
     * at most 64, usually ~15): the smallest head goes next. */
    const double *src[MLOPS__DRIFT_SKETCH_LEVELS];
    size_t pos[MLOPS__DRIFT_SKETCH_LEVELS], len[MLOPS__DRIFT_SKETCH_LEVELS];
    int lev[MLOPS__DRIFT_SKETCH_LEVELS], nlev = 0;
    for (int h = 0; h < MLOPS__DRIFT_SKETCH_LEVELS; h++) {
        if (sk->lv[h].n == 0)
            continue;
        src[nlev] = h ? sk->lv[h].v : l0;
        len[nlev] = sk->lv[h].n;
        pos[nlev] = 0;
        lev[nlev] = h;
        nlev++;
    }
    uint64_t acc = 0;
    size_t m = 0;
    for (size_t done = 0; done < total; done++) {
        int best = -1;
        for (int i = 0; i < nlev; i++)
            if (pos[i] < len[i] && (best < 0 || src[i][pos[i]] < src[best][pos[best]]))
                best = i;
        double x = src[best][pos[best]++];
        acc += (uint64_t)1 << lev[best];
        if (m > 0 && v[m - 1] == x) {
            cum[m - 1] = acc;
        } else {
            v[m] = x;
            cum[m] = acc;
            m++;
        }
    }
    mlops__free(l0);
    out->v = v;
    out->cum = cum;
    out->n = m;
    return 0;
}

void mlops__drift_sketch_view_dispose(mlops__drift_sketch_view *v)
{
    mlops__free(v->v);
    mlops__free(v->cum);
    memset(v, 0, sizeof *v);
}

double mlops__drift_sketch_view_quantile(const mlops__drift_sketch_view *v, double target)
{
    size_t lo = 0, hi = v->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)v->cum[mid] >= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return v->v[lo];
}

uint64_t mlops__drift_sketch_view_rank(const mlops__drift_sketch_view *v, double x, int strict)
{
    size_t i = count_upto(v->v, v->n, x, strict);
    return i ? v->cum[i - 1] : 0;
}
