/*
 * Samples: NaN dropped and counted, and a radix sort.
 *
 * Why radix: every rank-based statistic starts by sorting a million
 * doubles or more, and comparison sorts spend ~60 ns a value there. The
 * IEEE-754 bits of a double, with the sign bit flipped for positives and
 * all bits flipped for negatives, order as unsigned integers exactly like
 * the doubles (-Inf < ... < -0 < +0 < ... < +Inf), so an LSD radix sort
 * over 11-bit digits (6 passes, 2048 counters each, cache-resident) sorts
 * them in a few ns a value. Passes where every key has the same digit (the
 * high exponent bits of most data) are skipped.
 */
#include "sample.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

#define DIGIT_BITS 11
#define DIGITS 2048
#define PASSES 6 /* ceil(64 / 11) */
#define SMALL 64
/* Two samples are sorted on two threads when both have this many values:
 * below, starting a thread costs more than half a sort. */
#define PAIR_THREAD_MIN (64 * 1024)

size_t mlops__drift_rank(const double *x, size_t n, double v, int inclusive)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inclusive ? x[mid] <= v : x[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void mlops__drift_insertion_sort(double *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        /* -0.0 and +0.0 compare equal: keep their input order, as any
         * stable sort would; no statistic tells them apart. */
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

typedef size_t digit_counts[PASSES][DIGITS];

static inline void count_key(digit_counts count, uint64_t k)
{
    for (int p = 0; p < PASSES; p++)
        count[p][(k >> (p * DIGIT_BITS)) & (DIGITS - 1)]++;
}

/* The bits of the double a key stands for. */
static inline uint64_t key_to_bits(uint64_t k)
{
    return (k & 0x8000000000000000ull) ? k & 0x7fffffffffffffffull : ~k;
}

/*
 * LSD radix passes over n >= 1 keys whose digits were counted into count.
 * Returns the buffer (keys or scratch) holding the result. With to_double
 * the last pass writes the doubles' bits instead of the keys, so turning
 * keys back into doubles costs no pass of its own. With *w non-NULL, one
 * double per key (a weight) moves with it between *w and *wscratch, and
 * *w ends as the buffer that holds the weights in sorted order.
 */
static uint64_t *radix_passes(uint64_t *keys, uint64_t *scratch, size_t n, digit_counts count, int to_double,
                              double **w, double **wscratch)
{
    int last = -1;
    for (int p = 0; p < PASSES; p++)
        if (count[p][(keys[0] >> (p * DIGIT_BITS)) & (DIGITS - 1)] != n)
            last = p; /* else every key has this digit: the pass would not move anything */
    uint64_t *a = keys, *b = scratch;
    double *wa = w ? *w : NULL, *wb = w ? *wscratch : NULL;
    for (int p = 0; p <= last; p++) {
        unsigned shift = (unsigned)(p * DIGIT_BITS);
        size_t *c = count[p];
        if (c[(a[0] >> shift) & (DIGITS - 1)] == n)
            continue;
        size_t sum = 0;
        for (unsigned d = 0; d < DIGITS; d++) {
            size_t k = c[d];
            c[d] = sum;
            sum += k;
        }
        int bits = to_double && p == last;
        if (wa) {
            for (size_t i = 0; i < n; i++) {
                uint64_t k = a[i];
                size_t at = c[(k >> shift) & (DIGITS - 1)]++;
                b[at] = bits ? key_to_bits(k) : k;
                wb[at] = wa[i];
            }
            double *t = wa;
            wa = wb;
            wb = t;
        } else if (bits) {
            for (size_t i = 0; i < n; i++) {
                uint64_t k = a[i];
                b[c[(k >> shift) & (DIGITS - 1)]++] = key_to_bits(k);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                uint64_t k = a[i];
                b[c[(k >> shift) & (DIGITS - 1)]++] = k;
            }
        }
        uint64_t *t = a;
        a = b;
        b = t;
    }
    if (to_double && last < 0)
        for (size_t i = 0; i < n; i++)
            a[i] = key_to_bits(a[i]);
    if (w) {
        *w = wa;
        *wscratch = wb;
    }
    return a;
}

void mlops__drift_sort_with(double *x, size_t n, uint64_t *scratch)
{
    if (n < SMALL) {
        mlops__drift_insertion_sort(x, n);
        return;
    }
    static digit_counts zero;
    digit_counts count; /* 96 KiB of stack */
    memcpy(count, zero, sizeof count);
    uint64_t *keys = (uint64_t *)(void *)x; /* same size; converted in place */
    for (size_t i = 0; i < n; i++) {
        keys[i] = mlops__drift_key(x[i]);
        count_key(count, keys[i]);
    }
    uint64_t *r = radix_passes(keys, scratch, n, count, 1, NULL, NULL);
    if (r != keys)
        memcpy(keys, r, n * sizeof *r);
}

void mlops__drift_sort_weighted(double *v, double *w, size_t n, uint64_t *kscratch, double *wscratch)
{
    if (n == 0)
        return;
    static digit_counts zero;
    digit_counts count;
    memcpy(count, zero, sizeof count);
    uint64_t *keys = (uint64_t *)(void *)v;
    for (size_t i = 0; i < n; i++) {
        keys[i] = mlops__drift_key(v[i]);
        count_key(count, keys[i]);
    }
    double *wa = w, *wb = wscratch;
    uint64_t *r = radix_passes(keys, kscratch, n, count, 1, &wa, &wb);
    if (r != keys)
        memcpy(keys, r, n * sizeof *r);
    if (wa != w)
        memcpy(w, wa, n * sizeof *wa);
}

int mlops__drift_sort_codes(int64_t *codes, size_t n)
{
    if (n < 2)
        return 0;
    /* Flipping the sign bit orders two's-complement values as unsigned. */
    const uint64_t flip = 0x8000000000000000ull;
    uint64_t *keys = (uint64_t *)(void *)codes;
    if (n < SMALL) {
        for (size_t i = 1; i < n; i++) {
            uint64_t v = keys[i] ^ flip;
            size_t j = i;
            for (; j > 0 && (keys[j - 1] ^ flip) > v; j--)
                keys[j] = keys[j - 1];
            keys[j] = v ^ flip;
        }
        return 0;
    }
    uint64_t *scratch = mlops__malloc(n * sizeof *scratch);
    if (!scratch)
        return mlops__error_oom();
    static digit_counts zero;
    digit_counts count;
    memcpy(count, zero, sizeof count);
    for (size_t i = 0; i < n; i++) {
        keys[i] ^= flip;
        count_key(count, keys[i]);
    }
    uint64_t *r = radix_passes(keys, scratch, n, count, 0, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        keys[i] = r[i] ^ flip;
    mlops__free(scratch);
    return 0;
}

int mlops__drift_sort(double *x, size_t n)
{
    if (n < SMALL) {
        mlops__drift_insertion_sort(x, n);
        return 0;
    }
    uint64_t *scratch = mlops__malloc(n * sizeof *scratch);
    if (!scratch)
        return mlops__error_oom();
    mlops__drift_sort_with(x, n, scratch);
    mlops__free(scratch);
    return 0;
}

/*
 * The values of x without NaN into s, sorted if asked. Returns 0,
 * MLOPS_ENOMEM or MLOPS_EINVALID (nothing left) without setting a
 * message, so that it can run on a helper thread (messages are
 * thread-local). Sorting reads x once: dropping NaN, making keys and
 * counting their digits in one pass.
 */
static int fill(mlops__drift_sample *s, const double *x, size_t n, int sort)
{
    s->v = NULL;
    s->n = s->nan = 0;
    double *v = mlops__malloc(n ? n * sizeof *v : 1);
    if (!v)
        return MLOPS_ENOMEM;
    size_t k = 0;
    if (!sort || n < SMALL) {
        for (size_t i = 0; i < n; i++) {
            v[k] = x[i];
            k += !isnan(x[i]);
        }
        if (sort)
            mlops__drift_insertion_sort(v, k);
    } else {
        uint64_t *scratch = mlops__malloc(n * sizeof *scratch);
        if (!scratch) {
            mlops__free(v);
            return MLOPS_ENOMEM;
        }
        static digit_counts zero;
        digit_counts count;
        memcpy(count, zero, sizeof count);
        uint64_t *keys = (uint64_t *)(void *)v;
        for (size_t i = 0; i < n; i++) {
            uint64_t key = mlops__drift_key(x[i]);
            keys[k] = key;
            if (!isnan(x[i])) {
                count_key(count, key);
                k++;
            }
        }
        uint64_t *r = k ? radix_passes(keys, scratch, k, count, 1, NULL, NULL) : keys;
        if (r == scratch) { /* keep the buffer holding the result */
            mlops__free(v);
            v = (double *)(void *)scratch;
        } else {
            mlops__free(scratch);
        }
    }
    if (k == 0) {
        mlops__free(v);
        return MLOPS_EINVALID;
    }
    s->v = v;
    s->n = k;
    s->nan = n - k;
    return 0;
}

static int check_input(const double *x, size_t n, const char *what)
{
    if (!x && n)
        return mlops__error_set(MLOPS_EINVALID, "%s: NULL values", what);
    if (n > SIZE_MAX / sizeof(double))
        return mlops__error_set(MLOPS_EINVALID, "%s: too many values", what);
    return 0;
}

static int report(int rc, size_t n, const char *what)
{
    if (rc == MLOPS_ENOMEM)
        return mlops__error_oom();
    if (rc == MLOPS_EINVALID)
        return mlops__error_set(MLOPS_EINVALID, "%s is empty%s", what, n ? " after dropping NaN values" : "");
    return rc;
}

int mlops__drift_sample_init(mlops__drift_sample *s, const double *x, size_t n, int sort, const char *what)
{
    s->v = NULL;
    s->n = s->nan = 0;
    MLOPS__TRY(check_input(x, n, what));
    return report(fill(s, x, n, sort), n, what);
}

typedef struct fill_job {
    mlops__drift_sample *s;
    const double *x;
    size_t n;
    int rc;
} fill_job;

static void *fill_thread(void *arg)
{
    fill_job *j = arg;
    j->rc = fill(j->s, j->x, j->n, 1);
    return NULL;
}

int mlops__drift_sample_init_pair(mlops__drift_sample *a, const double *x, size_t nx, const char *what_a,
                                  mlops__drift_sample *b, const double *y, size_t ny, const char *what_b)
{
    a->v = b->v = NULL;
    a->n = a->nan = b->n = b->nan = 0;
    MLOPS__TRY(check_input(x, nx, what_a));
    MLOPS__TRY(check_input(y, ny, what_b));
    fill_job job = { b, y, ny, 0 };
    pthread_t t;
    int threaded = nx >= PAIR_THREAD_MIN && ny >= PAIR_THREAD_MIN && pthread_create(&t, NULL, fill_thread, &job) == 0;
    int rc = fill(a, x, nx, 1);
    if (threaded)
        pthread_join(t, NULL);
    else
        job.rc = rc == 0 ? fill(b, y, ny, 1) : 0;
    if (rc == 0 && job.rc == 0)
        return 0;
    mlops__drift_sample_dispose(a);
    mlops__drift_sample_dispose(b);
    return rc ? report(rc, nx, what_a) : report(job.rc, ny, what_b);
}

void mlops__drift_sample_dispose(mlops__drift_sample *s)
{
    mlops__free(s->v);
    s->v = NULL;
    s->n = s->nan = 0;
}

int mlops__drift_sample_require_finite(const mlops__drift_sample *s, const char *what)
{
    for (size_t i = 0; i < s->n; i++)
        if (isinf(s->v[i]))
            return mlops__error_set(MLOPS_EINVALID, "%s holds an infinite value (this function needs finite ones)",
                                    what);
    return 0;
}

void mlops__drift_test_result(mlops_drift_test *out, double statistic, double pvalue, mlops_drift_method method,
                              const mlops__drift_sample *a, const mlops__drift_sample *b)
{
    out->statistic = statistic;
    out->pvalue = pvalue;
    out->statistic_location = NAN;
    out->statistic_sign = 0;
    out->method = method;
    out->dof = NAN;
    out->n1 = a->n;
    out->n2 = b->n;
    out->nan1 = a->nan;
    out->nan2 = b->nan;
}
