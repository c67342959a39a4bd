/*
 * Metric logging on a run handle: points are buffered per key in the
 * handle and appended to the run's log (track/metrics/<run_id>) as point
 * batches (points.h), either when buffer_points are waiting or at a flush.
 *
 * Why buffer: one log append per point would cost a frame, a CRC and a
 * write(2) per point; a batch of 64k points costs one of each, which is
 * what makes ~10^7 points/s from one thread possible. The price is stated
 * in track.h: points after the last flush may be lost by a crash.
 *
 * Every entry point takes run->lock, so any number of threads may log
 * through one handle. Processes logging into the same run each append to
 * their own log segment (the store's doing), so nothing here coordinates
 * them; only the run record's latest values are merged, by CAS.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "points.h"
#include "track_internal.h"

#define DEFAULT_BUFFER_POINTS 65536
#define FIRST_CAP 64
/* Points per log record: bounds one record to ~28 MiB, far below the
 * store's record limit, however large a batch the caller hands over. */
#define RECORD_POINTS ((size_t)1 << 20)

/* ---- key buffers ------------------------------------------------------- */

/* Binary search of the sorted key buffers: the buffer, or NULL and *at
 * the insertion index. A handful of keys per run is usual, so this is one
 * or two strcmp per point. */
static mlops__key_buffer *find_key(mlops_run *run, const char *key, size_t *at)
{
    size_t lo = 0, hi = run->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, run->keys[mid].key);
        if (c == 0)
            return &run->keys[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *at = lo;
    return NULL;
}

/* The key's buffer, created (after validating the key) if new. Only new
 * keys are validated: a key that has a buffer passed the check before. */
static int key_buffer(mlops__key_buffer **out, mlops_run *run, const char *key)
{
    size_t at = 0;
    if ((*out = find_key(run, key, &at)) != NULL)
        return 0;
    MLOPS__TRY(mlops__track_check_key(key, "metric key"));
    if (run->nkeys == run->capkeys) {
        mlops__key_buffer *k = mlops__grow_array(run->keys, &run->capkeys, sizeof *k, 8);
        if (!k)
            return mlops__error_oom();
        run->keys = k;
    }
    char *copy = mlops__strdup(key);
    if (!copy)
        return mlops__error_oom();
    memmove(&run->keys[at + 1], &run->keys[at], (run->nkeys - at) * sizeof *run->keys);
    memset(&run->keys[at], 0, sizeof *run->keys);
    run->keys[at].key = copy;
    run->nkeys++;
    *out = &run->keys[at];
    return 0;
}

/* Makes room for extra more points. The three arrays are grown one by
 * one; cap changes only when all three succeeded, so a failure leaves a
 * consistent (if partly larger) buffer. */
static int reserve(mlops__key_buffer *kb, size_t extra)
{
    if (extra <= kb->cap - kb->n)
        return 0;
    if (extra > ((size_t)-1 / 2) / sizeof(int64_t) - kb->n)
        return mlops__error_oom();
    size_t cap = kb->cap ? kb->cap : FIRST_CAP;
    while (cap < kb->n + extra)
        cap *= 2;
    double *v = mlops__realloc(kb->values, cap * sizeof *v);
    if (!v)
        return mlops__error_oom();
    kb->values = v;
    int64_t *s = mlops__realloc(kb->steps, cap * sizeof *s);
    if (!s)
        return mlops__error_oom();
    kb->steps = s;
    int64_t *t = mlops__realloc(kb->timestamps, cap * sizeof *t);
    if (!t)
        return mlops__error_oom();
    kb->timestamps = t;
    kb->cap = cap;
    return 0;
}

static size_t threshold(const mlops_run *run)
{
    return run->buffer_points ? run->buffer_points : DEFAULT_BUFFER_POINTS;
}

static int check_run(mlops_run *run, const char *key)
{
    if (!run || !key)
        return mlops__error_set(MLOPS_EINVALID, "log_metric: NULL argument");
    return 0;
}

/* Caller holds the lock. */
static int check_open(const mlops_run *run)
{
    if (run->ended)
        return mlops__error_set(MLOPS_EINVALID, "run %s has ended: no more logging", run->run_id);
    return 0;
}

/* ---- logging ----------------------------------------------------------- */

/*
 * The automatic append once the buffer is full. Its failure is not the
 * logging call's: the points are buffered and stay so (nothing is lost),
 * the next append retries them, and mlops_run_flush reports a failure that
 * persists. Returning an error here would invite the caller to log the
 * same point again, which would then be stored twice. After a failure the
 * next automatic attempt waits until the buffer has doubled: each attempt
 * encodes the whole buffer, and retrying at every point while the disk is
 * full made logging crawl (a few thousand points/s).
 */
static void append_quietly(mlops_run *run)
{
    if (run->buffered < run->retry_at)
        return;
    run->retry_at = mlops__run_append_buffered(run) < 0 ? 2 * run->buffered : 0;
}

int mlops_run_log_metric(mlops_run *run, const char *key, double value, int64_t step, int64_t timestamp_ms)
{
    mlops__key_buffer *kb = NULL;
    MLOPS__TRY(check_run(run, key));
    if (timestamp_ms < 0) {
        if (timestamp_ms != -1)
            return mlops__error_set(MLOPS_EINVALID, "log_metric: negative timestamp %lld (use -1 for now)",
                                    (long long)timestamp_ms);
        timestamp_ms = mlops__track_now_ms(); /* outside the lock: a vDSO call */
    }
    pthread_mutex_lock(&run->lock);
    int rc = check_open(run);
    if (rc == 0)
        rc = key_buffer(&kb, run, key);
    if (rc == 0)
        rc = reserve(kb, 1);
    if (rc == 0) {
        kb->values[kb->n] = value;
        kb->steps[kb->n] = step;
        kb->timestamps[kb->n] = timestamp_ms;
        kb->n++;
        if (++run->buffered >= threshold(run))
            append_quietly(run);
    }
    pthread_mutex_unlock(&run->lock);
    return rc;
}

int mlops_run_log_metric_batch(mlops_run *run, const char *key, const double *values, const int64_t *steps,
                               const int64_t *timestamps, size_t n)
{
    mlops__key_buffer *kb = NULL;
    int64_t now = 0;
    MLOPS__TRY(check_run(run, key));
    if (n && (!values || !steps))
        return mlops__error_set(MLOPS_EINVALID, "log_metric_batch: NULL values or steps");
    /* Checked before anything is buffered: a bad batch logs nothing. */
    for (size_t i = 0; timestamps && i < n; i++)
        if (timestamps[i] < -1)
            return mlops__error_set(MLOPS_EINVALID, "log_metric_batch: negative timestamp %lld at %zu",
                                    (long long)timestamps[i], i);
    if (n)
        now = mlops__track_now_ms();
    pthread_mutex_lock(&run->lock);
    int rc = check_open(run);
    if (rc == 0)
        rc = key_buffer(&kb, run, key); /* validates the key even for n == 0 */
    if (rc == 0 && n)
        rc = reserve(kb, n);
    if (rc == 0 && n) {
        memcpy(kb->values + kb->n, values, n * sizeof *values);
        memcpy(kb->steps + kb->n, steps, n * sizeof *steps);
        int64_t *ts = kb->timestamps + kb->n;
        if (timestamps)
            for (size_t i = 0; i < n; i++)
                ts[i] = timestamps[i] == -1 ? now : timestamps[i];
        else
            for (size_t i = 0; i < n; i++)
                ts[i] = now;
        kb->n += n;
        run->buffered += n;
        if (run->buffered >= threshold(run))
            append_quietly(run);
    }
    pthread_mutex_unlock(&run->lock);
    return rc;
}

/* ---- appending --------------------------------------------------------- */

/* The value's rank in the tie-break: a total order, so that writers
 * flushing in any order agree on the latest value. NaN lowest (it never
 * beats a number), then the numbers, -0.0 below +0.0. */
static int value_cmp(double a, double b)
{
    int na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na == nb ? 0 : na ? -1 : 1;
    if (a != b)
        return a < b ? -1 : 1;
    return signbit(a) == signbit(b) ? 0 : signbit(a) ? -1 : 1;
}

/* MLflow's "latest" is the point with the largest (step, timestamp,
 * value); on a full tie (the same value) the later one wins. */
static int newer(int64_t s1, int64_t t1, double v1, int64_t s2, int64_t t2, double v2)
{
    if (s1 != s2)
        return s1 > s2;
    if (t1 != t2)
        return t1 > t2;
    return value_cmp(v1, v2) >= 0;
}

static void note_latest(mlops__key_buffer *kb, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (!kb->has_latest ||
            newer(kb->steps[i], kb->timestamps[i], kb->values[i], kb->latest_step, kb->latest_ts, kb->latest_value)) {
            kb->has_latest = 1;
            kb->latest_value = kb->values[i];
            kb->latest_step = kb->steps[i];
            kb->latest_ts = kb->timestamps[i];
        }
    }
}

/* Drops the points that reached the log: all of keys [0, kend) and the
 * first off points of key kend. They now count for the latest values. */
static void consume(mlops_run *run, size_t kend, size_t off)
{
    for (size_t k = 0; k < run->nkeys && k <= kend; k++) {
        mlops__key_buffer *kb = &run->keys[k];
        size_t upto = k < kend ? kb->n : off;
        if (upto == 0)
            continue;
        note_latest(kb, 0, upto);
        size_t rest = kb->n - upto;
        memmove(kb->values, kb->values + upto, rest * sizeof *kb->values);
        memmove(kb->steps, kb->steps + upto, rest * sizeof *kb->steps);
        memmove(kb->timestamps, kb->timestamps + upto, rest * sizeof *kb->timestamps);
        kb->n = rest;
        run->buffered -= upto;
        run->latest_dirty = 1;
    }
}

/* Encodes up to RECORD_POINTS points starting at key *k, point *off into
 * rec, advancing the cursor. */
static int encode_record(mlops__buf *rec, mlops_run *run, size_t *k, size_t *off)
{
    size_t room = RECORD_POINTS;
    rec->len = 0;
    MLOPS__TRY(mlops__points_begin(rec));
    while (*k < run->nkeys && room) {
        mlops__key_buffer *kb = &run->keys[*k];
        if (kb->n == *off) { /* nothing buffered (its arrays may be NULL) */
            ++*k;
            *off = 0;
            continue;
        }
        size_t take = kb->n - *off < room ? kb->n - *off : room;
        MLOPS__TRY(mlops__points_add_group(rec, kb->key, strlen(kb->key), kb->values + *off, kb->steps + *off,
                                           kb->timestamps + *off, take));
        room -= take;
        *off += take;
        if (*off == kb->n) {
            ++*k;
            *off = 0;
        }
    }
    return 0;
}

int mlops__run_append_buffered(mlops_run *run)
{
    mlops__buf rec = MLOPS__BUF_INIT;
    size_t k = 0, off = 0;
    int rc = 0;
    if (run->buffered == 0)
        return 0;
    while (k < run->nkeys) {
        size_t k0 = k, off0 = off;
        rc = encode_record(&rec, run, &k, &off);
        if (rc == 0 && rec.len > 1)
            rc = mlops_log_append(run->store, run->log_name, rec.ptr, rec.len);
        if (rc < 0) {
            /* what was appended before stays appended; the rest stays
             * buffered for the next attempt */
            consume(run, k0, off0);
            break;
        }
    }
    if (rc == 0)
        consume(run, run->nkeys, 0);
    mlops__buf_dispose(&rec);
    return rc;
}

int mlops_run_flush(mlops_run *run)
{
    if (!run)
        return mlops__error_set(MLOPS_EINVALID, "flush: NULL run");
    pthread_mutex_lock(&run->lock);
    int rc = 0;
    if (run->ended && run->buffered == 0 && !run->latest_dirty)
        goto out; /* an ended run was flushed by its end */
    if ((rc = mlops__run_append_buffered(run)) < 0)
        goto out;
    run->retry_at = 0; /* appending works again */
    if ((rc = mlops_log_sync(run->store, run->log_name)) < 0)
        goto out;
    if (run->latest_dirty)
        rc = mlops__run_record_latest(run);
out:
    pthread_mutex_unlock(&run->lock);
    return rc;
}

/* ---- latest values in the run record ------------------------------------ */

/* Edit callback: merges the handle's latest values (sorted by key) into
 * info->metrics (sorted by key), keeping the newer point per key. Other
 * processes' values already in the record win when they are newer, so
 * concurrent writers converge on MLflow's answer. Returns 1 if nothing
 * changed (no record write). */
static int merge_latest(mlops_run_info *info, void *payload)
{
    mlops_run *run = payload;
    size_t cap = info->nmetrics + run->nkeys, n = 0, i = 0, j = 0;
    int changed = 0;
    mlops_metric_latest *out = mlops__calloc(cap ? cap : 1, sizeof *out);
    if (!out)
        return mlops__error_oom();
    while (i < info->nmetrics || j < run->nkeys) {
        const mlops__key_buffer *kb = j < run->nkeys ? &run->keys[j] : NULL;
        if (kb && !kb->has_latest) {
            j++;
            continue;
        }
        int c = !kb ? -1 : i == info->nmetrics ? 1 : strcmp(info->metrics[i].key, kb->key);
        if (c < 0) {
            out[n++] = info->metrics[i++];
            continue;
        }
        mlops_metric_latest *m = &out[n++];
        if (c == 0) {
            *m = info->metrics[i++];
            j++;
            if (!newer(kb->latest_step, kb->latest_ts, kb->latest_value, m->step, m->timestamp, m->value) ||
                (m->step == kb->latest_step && m->timestamp == kb->latest_ts &&
                 memcmp(&m->value, &kb->latest_value, sizeof m->value) == 0))
                continue;
        } else {
            j++;
            if (!(m->key = mlops__strdup(kb->key)))
                goto oom;
        }
        m->value = kb->latest_value;
        m->step = kb->latest_step;
        m->timestamp = kb->latest_ts;
        changed = 1;
    }
    if (!changed) {
        mlops__free(out);
        return 1;
    }
    mlops__free(info->metrics);
    info->metrics = out;
    info->nmetrics = n;
    return 0;
oom:
    /* free only the keys this call duplicated: out keeps info's entries
     * in their order, so one walk tells them apart */
    for (size_t a = 0, b = 0; a < n; a++) {
        if (b < info->nmetrics && out[a].key == info->metrics[b].key)
            b++;
        else
            mlops__free(out[a].key);
    }
    mlops__free(out);
    return mlops__error_oom();
}

/* Caller holds run->lock (it reads the key buffers); mlops_run_flush
 * does, and so must a caller in run.c. A record write failure keeps
 * latest_dirty set, so the next flush tries again. */
int mlops__run_record_latest(mlops_run *run)
{
    int rc = mlops__run_record_update(run->store, run->run_id, merge_latest, run);
    if (rc >= 0) {
        run->latest_dirty = 0;
        rc = 0;
    }
    return rc;
}

void mlops__run_buffers_dispose(mlops_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->nkeys; i++) {
        mlops__free(run->keys[i].key);
        mlops__free(run->keys[i].values);
        mlops__free(run->keys[i].steps);
        mlops__free(run->keys[i].timestamps);
    }
    mlops__free(run->keys);
    run->keys = NULL;
    run->nkeys = run->capkeys = 0;
    run->buffered = 0;
}
