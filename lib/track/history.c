/*
 * Reading metric histories and keys back from a run's log.
 *
 * The log holds point batches (points.h) in segment order: one segment per
 * writer, each in its writer's append order. The history of one key is
 * therefore a concatenation of a few runs that are usually sorted already
 * (a training loop logs steps in order); sorting is skipped when the
 * points arrive in order and is otherwise a natural merge sort, which
 * costs O(n log r) for r sorted runs and is stable (ties on step and
 * timestamp keep log order, as track.h promises). Points are decoded
 * straight into the result arrays, grown by doubling: no per-point
 * allocation, which is what keeps 10^6 points well under 50 ms.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "points.h"
#include "track_internal.h"

int mlops_history_options_init(mlops_history_options *opts, unsigned int version)
{
    static const mlops_history_options defaults = MLOPS_HISTORY_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_HISTORY_OPTIONS_VERSION, "history");
}

/* A run exists when its record ref does; its log may not (no points). */
static int check_run(mlops_store *store, const char *run_id, char *log_name, size_t cap)
{
    char ref[96];
    mlops_oid id;
    MLOPS__TRY(mlops__track_check_run_id(run_id));
    snprintf(ref, sizeof ref, "track/runs/%s", run_id);
    int rc = mlops_ref_get(&id, store, ref);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(MLOPS_ENOTFOUND, "run %s not found", run_id);
    MLOPS__TRY(rc);
    snprintf(log_name, cap, "track/metrics/%s", run_id);
    return 0;
}

/* Opens the run's log; *it stays NULL when the run has no points yet. */
static int open_log(mlops_log_iterator **it, mlops_store *store, const char *run_id)
{
    char log_name[96];
    *it = NULL;
    MLOPS__TRY(check_run(store, run_id, log_name, sizeof log_name));
    int rc = mlops_log_iterator_new(it, store, log_name);
    if (rc == MLOPS_ENOTFOUND) {
        *it = NULL;
        return 0;
    }
    return rc;
}

/* ---- collecting one key ------------------------------------------------ */

typedef struct collector {
    mlops_metric_history *h;
    size_t cap;
    int64_t min_step, max_step;
    int sorted;
    int64_t last_step, last_ts;
} collector;

static int reserve(collector *c, size_t extra)
{
    mlops_metric_history *h = c->h;
    if (extra <= c->cap - h->n)
        return 0;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < h->n + extra) {
        if (cap > ((size_t)-1 / 2) / sizeof(int64_t))
            return mlops__error_oom();
        cap *= 2;
    }
    double *v = mlops__realloc(h->values, cap * sizeof *v);
    if (!v)
        return mlops__error_oom();
    h->values = v;
    int64_t *s = mlops__realloc(h->steps, cap * sizeof *s);
    if (!s)
        return mlops__error_oom();
    h->steps = s;
    int64_t *t = mlops__realloc(h->timestamps, cap * sizeof *t);
    if (!t)
        return mlops__error_oom();
    h->timestamps = t;
    c->cap = cap;
    return 0;
}

/* Decodes a group of n points at the end of the arrays, then keeps those
 * in the step range and notes whether the order still holds. */
static int take_group(collector *c, mlops__points_reader *r, size_t n)
{
    mlops_metric_history *h = c->h;
    MLOPS__TRY(reserve(c, n));
    MLOPS__TRY(mlops__points_read(r, h->values + h->n, h->steps + h->n, h->timestamps + h->n));
    size_t w = h->n;
    for (size_t i = h->n; i < h->n + n; i++) {
        int64_t s = h->steps[i], t = h->timestamps[i];
        if (s < c->min_step || s > c->max_step)
            continue;
        if (s < c->last_step || (s == c->last_step && t < c->last_ts))
            c->sorted = 0;
        c->last_step = s;
        c->last_ts = t;
        if (w != i) {
            h->values[w] = h->values[i];
            h->steps[w] = s;
            h->timestamps[w] = t;
        }
        w++;
    }
    h->n = w;
    return 0;
}

static int collect(collector *c, mlops_log_iterator *it, const char *key)
{
    size_t keylen = strlen(key);
    const void *rec;
    size_t len;
    int rc;
    while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
        mlops__points_reader r;
        const char *k;
        size_t klen, n;
        MLOPS__TRY(mlops__points_reader_init(&r, rec, len));
        while ((rc = mlops__points_next_group(&r, &k, &klen, &n)) == 1)
            if (klen == keylen && memcmp(k, key, keylen) == 0)
                MLOPS__TRY(take_group(c, &r, n));
        MLOPS__TRY(rc);
    }
    return rc == MLOPS_ITEROVER ? 0 : rc;
}

/* ---- sorting ----------------------------------------------------------- */

typedef struct point {
    int64_t step, ts;
    double value;
} point;

static int before(const point *a, const point *b)
{
    return a->step < b->step || (a->step == b->step && a->ts < b->ts);
}

/* End of the sorted run starting at i. */
static size_t run_end(const point *p, size_t i, size_t n)
{
    while (i + 1 < n && !before(&p[i + 1], &p[i]))
        i++;
    return i + 1;
}

/* Bottom-up natural merge sort: each pass merges neighbouring sorted runs
 * from src into dst, until one run is left. Taking from the right run
 * only when strictly before keeps it stable. */
static point *merge_sort(point *src, point *dst, size_t n)
{
    for (;;) {
        size_t i = 0, runs = 0;
        while (i < n) {
            size_t mid = run_end(src, i, n), end = mid < n ? run_end(src, mid, n) : n;
            size_t a = i, b = mid, o = i;
            while (a < mid && b < end)
                dst[o++] = before(&src[b], &src[a]) ? src[b++] : src[a++];
            memcpy(dst + o, src + a, (mid - a) * sizeof *src);
            o += mid - a;
            memcpy(dst + o, src + b, (end - b) * sizeof *src);
            i = end;
            runs++;
        }
        point *t = src;
        src = dst;
        dst = t;
        if (runs <= 1)
            return src;
    }
}

static int sort_history(mlops_metric_history *h)
{
    point *a = mlops__calloc(h->n, sizeof *a), *b = mlops__calloc(h->n, sizeof *b);
    if (!a || !b) {
        mlops__free(a);
        mlops__free(b);
        return mlops__error_oom();
    }
    for (size_t i = 0; i < h->n; i++) {
        a[i].step = h->steps[i];
        a[i].ts = h->timestamps[i];
        a[i].value = h->values[i];
    }
    point *s = merge_sort(a, b, h->n);
    for (size_t i = 0; i < h->n; i++) {
        h->steps[i] = s[i].step;
        h->timestamps[i] = s[i].ts;
        h->values[i] = s[i].value;
    }
    mlops__free(a);
    mlops__free(b);
    return 0;
}

/* ---- downsampling ------------------------------------------------------ */

static void move_point(mlops_metric_history *h, size_t to, size_t from)
{
    h->values[to] = h->values[from];
    h->steps[to] = h->steps[from];
    h->timestamps[to] = h->timestamps[from];
}

/*
 * Largest-Triangle-Three-Buckets (Steinarsson 2013) on (step, value): the
 * first and last points are kept, the rest split into m - 2 buckets, and
 * from each bucket the point forming the largest triangle with the point
 * kept before it and the mean of the next bucket. Chosen over striding
 * because it keeps spikes (a loss blow-up) that striding would skip. In
 * place: the kept index never runs ahead of the bucket being read. A
 * bucket whose areas are all NaN (NaN values) keeps its first point.
 * m == 1 keeps the last point (the latest), m == 2 the first and last.
 */
static void downsample(mlops_metric_history *h, size_t m)
{
    size_t n = h->n;
    if (m == 0 || n <= m)
        return;
    if (m == 1) {
        move_point(h, 0, n - 1);
        h->n = 1;
        return;
    }
    double every = (double)(n - 2) / (double)(m - 2);
    double ax = (double)h->steps[0], ay = h->values[0];
    for (size_t i = 0; i + 2 < m; i++) {
        size_t ns = (size_t)((double)(i + 1) * every) + 1, ne = (size_t)((double)(i + 2) * every) + 1;
        if (ne > n)
            ne = n;
        if (ns >= ne)
            ns = ne - 1;
        double mx = 0, my = 0;
        for (size_t j = ns; j < ne; j++) {
            mx += (double)h->steps[j];
            my += h->values[j];
        }
        mx /= (double)(ne - ns);
        my /= (double)(ne - ns);
        size_t bs = (size_t)((double)i * every) + 1, be = ns, best = bs;
        double best_area = -1;
        for (size_t j = bs; j < be; j++) {
            double area = (ax - mx) * (h->values[j] - ay) - (ax - (double)h->steps[j]) * (my - ay);
            if (area < 0)
                area = -area;
            if (area > best_area) {
                best_area = area;
                best = j;
            }
        }
        ax = (double)h->steps[best];
        ay = h->values[best];
        move_point(h, i + 1, best);
    }
    move_point(h, m - 1, n - 1);
    h->n = m;
}

/* ---- public ------------------------------------------------------------ */

int mlops_metric_history_get(mlops_metric_history *out, mlops_store *store, const char *run_id, const char *key,
                             const mlops_history_options *opts)
{
    mlops_history_options def = MLOPS_HISTORY_OPTIONS_INIT;
    mlops_log_iterator *it = NULL;
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !store || !run_id || !key)
        return mlops__error_set(MLOPS_EINVALID, "metric_history: NULL argument");
    if (!opts)
        opts = &def;
    MLOPS__TRY(mlops__options_version(opts->version, MLOPS_HISTORY_OPTIONS_VERSION, "history"));
    MLOPS__TRY(mlops__track_check_key(key, "metric key"));
    MLOPS__TRY(open_log(&it, store, run_id));
    if (!it)
        return 0;
    collector c = { out, 0, opts->min_step, opts->max_step, 1, INT64_MIN, INT64_MIN };
    int rc = collect(&c, it, key);
    mlops_log_iterator_free(it);
    if (rc == 0 && !c.sorted)
        rc = sort_history(out);
    if (rc < 0) {
        mlops_metric_history_free(out);
        return rc;
    }
    downsample(out, opts->max_points);
    if (out->n == 0)
        mlops_metric_history_free(out); /* n == 0 comes with NULL arrays */
    return 0;
}

void mlops_metric_history_free(mlops_metric_history *history)
{
    if (!history)
        return;
    mlops__free(history->values);
    mlops__free(history->steps);
    mlops__free(history->timestamps);
    memset(history, 0, sizeof *history);
}

/* ---- keys -------------------------------------------------------------- */

typedef struct key_set {
    char **keys;
    size_t n, cap;
} key_set;

/* Adds key (klen bytes) unless present; the set stays sorted. Runs have
 * few keys and each batch names each once, so a binary search per group
 * is cheap. */
static int key_set_add(key_set *set, const char *key, size_t klen)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(key, set->keys[mid], klen);
        if (c == 0 && set->keys[mid][klen] == '\0')
            return 0;
        if (c <= 0) /* c == 0 here: key is a prefix of the stored one */
            hi = mid;
        else
            lo = mid + 1;
    }
    if (set->n == set->cap) {
        char **k = mlops__grow_array(set->keys, &set->cap, sizeof *k, 16);
        if (!k)
            return mlops__error_oom();
        set->keys = k;
    }
    char *copy = mlops__strndup(key, klen);
    if (!copy)
        return mlops__error_oom();
    memmove(&set->keys[lo + 1], &set->keys[lo], (set->n - lo) * sizeof *set->keys);
    set->keys[lo] = copy;
    set->n++;
    return 0;
}

static int collect_keys(key_set *set, mlops_log_iterator *it)
{
    const void *rec;
    size_t len;
    int rc;
    while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
        mlops__points_reader r;
        const char *k;
        size_t klen, n;
        MLOPS__TRY(mlops__points_reader_init(&r, rec, len));
        while ((rc = mlops__points_next_group(&r, &k, &klen, &n)) == 1)
            MLOPS__TRY(key_set_add(set, k, klen));
        MLOPS__TRY(rc);
    }
    return rc == MLOPS_ITEROVER ? 0 : rc;
}

int mlops_metric_keys(char ***out, size_t *count, mlops_store *store, const char *run_id)
{
    key_set set = { NULL, 0, 0 };
    mlops_log_iterator *it = NULL;
    if (out)
        *out = NULL;
    if (count)
        *count = 0;
    if (!out || !count || !store || !run_id)
        return mlops__error_set(MLOPS_EINVALID, "metric_keys: NULL argument");
    MLOPS__TRY(open_log(&it, store, run_id));
    if (!it)
        return 0;
    int rc = collect_keys(&set, it);
    mlops_log_iterator_free(it);
    if (rc < 0) {
        mlops_string_list_free(set.keys, set.n);
        return rc;
    }
    *out = set.keys;
    *count = set.n;
    return 0;
}

void mlops_string_list_free(char **list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++)
        mlops__free(list[i]);
    mlops__free(list);
}
