/*
 * Internal: the quantile sketch of numeric profiles — a deterministic,
 * mergeable compactor hierarchy (Manku-Rajagopalan-Lindsay style) whose
 * rank error is tracked exactly.
 *
 * Structure. Level h holds items of weight 2^h, sorted (level 0 may hold
 * unsorted runs, see run_a/run_b). When a level holds 2k items or more,
 * an even number of them (all, or all but the largest) is compacted: of
 * the sorted items, every other one, starting at offset 0 or 1, moves up
 * to level h+1 with twice the weight. Merging two sketches merges their
 * levels bottom-up and compacts the same way. The items are always values
 * of the data, and the total weight is the number of values.
 *
 * Why the error is bounded. Let est(x) be the total weight of items <= x
 * and true(x) the number of values <= x (the same holds for < x). Items
 * <= x form a prefix of a sorted buffer; if r of the compacted items are
 * <= x, the compaction replaces weight r 2^h by 2^(h+1) ceil(r/2) (offset
 * 0) or 2^(h+1) floor(r/2) (offset 1): est(x) grows by 0 or 2^h with
 * offset 0, shrinks by 0 or 2^h with offset 1, whatever x is. So, with
 * err_plus the sum of 2^h over offset-0 compactions and err_minus over
 * offset-1 ones, est(x) - true(x) lies in [-err_minus, err_plus] for every
 * x. Merging adds both sums (est and true are additive). The offset of
 * each compaction is chosen to grow the smaller of the two sums
 * (deterministic), and rank_error = max(err_plus, err_minus).
 *
 * The bound as a function of n (values) and k, for any sequence of adds
 * and merges (proof: the weight that ever enters level h is at most n, and
 * a compaction at level h consumes at least 2k items of weight 2^h, so
 * level h compacts at most n / (2k 2^h) times, and only when 2k 2^h <= n;
 * hence err_plus + err_minus <= L n / (2k) with L = the number of levels h
 * with 2k 2^h <= n. The greedy offset keeps |err_plus - err_minus| at most
 * the largest weight compacted, <= n / (2k), also across merges, where the
 * differences add and so do the n):
 *
 *     rank_error <= (L + 1) n / (4k),   L = floor(log2(n / (2k))) + 1
 *                                            (0 when n < 2k: exact),
 *     epsilon = rank_error / n <= (floor(log2(n / (2k))) + 2) / (4k).
 *
 * For k = 4096 (the default): epsilon <= 4.9e-4 at n = 1e6, 7.3e-4 at
 * 1e7, 9.2e-4 at 1e8. Memory: about 2k items per level, and
 * log2(n / k) levels (the top levels are partly full).
 *
 * Answers. cdf(x) = est(x) / n, within epsilon of the true fraction.
 * quantile(q) is the first item (in sorted order) whose est(<= item)
 * reaches q n; for it, #(values < v) < q n + err_minus and
 * #(values <= v) >= q n - err_plus: v is a value of the data whose rank
 * is within rank_error of q n.
 *
 * Not thread-safe for changes; the const functions may run concurrently.
 */
#ifndef MLOPS_LIB_DRIFT_SKETCH_H
#define MLOPS_LIB_DRIFT_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define MLOPS__DRIFT_SKETCH_LEVELS 64
#define MLOPS__DRIFT_SKETCH_K_MIN 64
#define MLOPS__DRIFT_SKETCH_K_MAX 65536
#define MLOPS__DRIFT_SKETCH_K_DEFAULT 4096

typedef struct mlops__drift_sketch_level {
    double *v;    /* n items, sorted (level 0: see run_a/run_b) */
    uint32_t n;   /* < 2k between calls */
    uint32_t cap; /* allocated items; grown to 2k by reserve */
} mlops__drift_sketch_level;

typedef struct mlops__drift_sketch {
    uint32_t k;
    uint64_t weight;    /* values added (the sum of the items' weights) */
    uint64_t err_plus;  /* see above */
    uint64_t err_minus;
    mlops__drift_sketch_level lv[MLOPS__DRIFT_SKETCH_LEVELS];
    /* Level 0 is [0, run_a) sorted, [run_a, run_b) sorted, [run_b, n)
     * unsorted: compacting two runs is a linear merge, more runs a sort. */
    uint32_t run_a, run_b;
    /* Ingest scratch, allocated by reserve (NULL before): tmp 2k doubles,
     * mbuf 4k, pbuf 2k, idx 2k uint16, cnt nb + 1 uint32. */
    double *tmp, *mbuf, *pbuf;
    uint16_t *idx;
    uint32_t *cnt;
} mlops__drift_sketch;

void mlops__drift_sketch_init(mlops__drift_sketch *sk, uint32_t k);
void mlops__drift_sketch_dispose(mlops__drift_sketch *sk);

/* Makes room for adding up to `more` values (scratch, level buffers) so
 * that nothing below allocates. Errors: MLOPS_ENOMEM (nothing changed
 * that matters: capacities only). */
int mlops__drift_sketch_reserve(mlops__drift_sketch *sk, uint64_t more);
/* Where the next values go, and how many fit before level 0 is full. */
double *mlops__drift_sketch_slot(mlops__drift_sketch *sk, size_t *room);
/* Accepts the m finite values (no -0.0, lo and hi their minimum and
 * maximum) just written at the slot: sorts them in place and returns them
 * sorted, valid until the next call. Then call settle. */
const double *mlops__drift_sketch_accept(mlops__drift_sketch *sk, size_t m, double lo, double hi);
/* Compacts level 0 (and up) if it is full. */
void mlops__drift_sketch_settle(mlops__drift_sketch *sk);

/* Adds src's items to dst (dst may equal src). All or nothing.
 * Errors: MLOPS_EINVALID (different k, total weight overflow),
 * MLOPS_ENOMEM. */
int mlops__drift_sketch_merge(mlops__drift_sketch *dst, const mlops__drift_sketch *src);

/* max(err_plus, err_minus). */
uint64_t mlops__drift_sketch_rank_error(const mlops__drift_sketch *sk);
/* The weight of the items <= x (strict: < x). No allocation. */
uint64_t mlops__drift_sketch_rank(const mlops__drift_sketch *sk, double x, int strict);

/* All items in one sorted list of distinct values with the cumulative
 * weight up to and including each: cum[i] = est(<= v[i]). */
typedef struct mlops__drift_sketch_view {
    double *v;
    uint64_t *cum;
    size_t n;
} mlops__drift_sketch_view;
int mlops__drift_sketch_view_init(mlops__drift_sketch_view *out, const mlops__drift_sketch *sk);
void mlops__drift_sketch_view_dispose(mlops__drift_sketch_view *v);
/* The first value whose cumulative weight reaches target (the last value
 * if none). The view must not be empty. */
double mlops__drift_sketch_view_quantile(const mlops__drift_sketch_view *v, double target);
/* est(< x) / est(<= x) from the view: binary search. */
uint64_t mlops__drift_sketch_view_rank(const mlops__drift_sketch_view *v, double x, int strict);

/* Level 0's items sorted into out (room for lv[0].n). Errors:
 * MLOPS_ENOMEM (a sort scratch when level 0 holds more than two runs). */
int mlops__drift_sketch_sorted_l0(const mlops__drift_sketch *sk, double *out);

#endif
