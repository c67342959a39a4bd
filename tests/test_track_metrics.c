/* Tracking: metric point batches (codec), buffered logging on a run
 * handle, flush durability, several threads and processes, histories,
 * keys and the latest values merged into the run record.
 *
 * Runs are handles initialised here by hand over a record written with
 * mlops__run_record_write, so these tests depend only on the internals
 * of track_internal.h, not on run.c. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "track/points.h"
#include "track/track_internal.h"
#include "common/fault.h"
#include "testutil.h"

/* ---- helpers --------------------------------------------------------- */

static const char *const RUN_A = "0123456789abcdef0123456789abcdef";
static const char *const RUN_B = "fedcba9876543210fedcba9876543210";

static void record_create(mlops_store *s, const char *run_id)
{
    mlops_run_info info;
    memset(&info, 0, sizeof info);
    memcpy(info.run_id, run_id, MLOPS_RUN_ID_HEXSZ + 1);
    strcpy(info.experiment_id, "0");
    info.run_name = "metrics-test";
    info.user = "tester";
    info.status = MLOPS_RUN_RUNNING;
    info.start_time = 1;
    int rc = mlops__run_record_write(s, &info, NULL);
    ck_assert_msg(rc == 0, "record_write: %d %s", rc, mlops_error_last());
}

/* What mlops_run_start sets up, minus the record. */
static void run_init(mlops_run *run, mlops_store *s, const char *run_id, size_t buffer_points)
{
    memset(run, 0, sizeof *run);
    run->store = s;
    memcpy(run->run_id, run_id, MLOPS_RUN_ID_HEXSZ + 1);
    strcpy(run->experiment_id, "0");
    snprintf(run->log_name, sizeof run->log_name, "track/metrics/%s", run_id);
    ck_assert_int_eq(pthread_mutex_init(&run->lock, NULL), 0);
    run->buffer_points = buffer_points;
}

static void run_dispose(mlops_run *run)
{
    mlops__run_buffers_dispose(run);
    pthread_mutex_destroy(&run->lock);
}

#define OK(expr)                                                                  \
    do {                                                                          \
        int rc_ = (expr);                                                         \
        ck_assert_msg(rc_ == 0, "%s: %d %s", #expr, rc_, mlops_error_last());     \
    } while (0)

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

static double from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* Decodes a whole record; returns 0, a negative code, and the points. */
static int decode_all(const void *rec, size_t len, size_t *npoints)
{
    mlops__points_reader r;
    const char *key;
    size_t klen, n;
    int rc;
    double v[4096];
    int64_t s[4096], t[4096];
    *npoints = 0;
    if ((rc = mlops__points_reader_init(&r, rec, len)) < 0)
        return rc;
    while ((rc = mlops__points_next_group(&r, &key, &klen, &n)) == 1) {
        ck_assert_uint_gt(klen, 0);
        if (n <= 4096 && (*npoints & 1)) { /* read some groups, skip others */
            if ((rc = mlops__points_read(&r, v, s, t)) < 0)
                return rc;
        }
        *npoints += n;
    }
    return rc;
}

/* ---- codec ----------------------------------------------------------- */

static const uint64_t special[] = {
    0x7ff8000000000123ull, /* quiet NaN with a payload */
    0x7ff0000000000001ull, /* signalling NaN */
    0xfff8000000000000ull, /* negative NaN */
    0x7ff0000000000000ull, /* +Inf */
    0xfff0000000000000ull, /* -Inf */
    0x8000000000000000ull, /* -0.0 */
    0x0000000000000001ull, /* smallest subnormal */
    0x3ff0000000000000ull, /* 1.0 */
};
#define NSPECIAL (sizeof special / sizeof special[0])

START_TEST(codec_round_trip)
{
    double v[NSPECIAL];
    int64_t st[NSPECIAL] = { 0, INT64_MAX, INT64_MIN, -1, 1, 5, 5, 4 };
    int64_t ts[NSPECIAL] = { 0, 1700000000000, 1, INT64_MAX, 0, 3, 3, 2 };
    for (size_t i = 0; i < NSPECIAL; i++)
        v[i] = from_bits(special[i]);
    mlops__buf b = MLOPS__BUF_INIT;
    OK(mlops__points_begin(&b));
    OK(mlops__points_add_group(&b, "loss", 4, v, st, ts, NSPECIAL));
    OK(mlops__points_add_group(&b, "a/b c", 5, v + 2, st + 2, ts + 2, 3));

    mlops__points_reader r;
    const char *key;
    size_t klen, n;
    double dv[NSPECIAL];
    int64_t ds[NSPECIAL], dt[NSPECIAL];
    OK(mlops__points_reader_init(&r, b.ptr, b.len));
    ck_assert_int_eq(mlops__points_next_group(&r, &key, &klen, &n), 1);
    ck_assert_uint_eq(klen, 4);
    ck_assert(memcmp(key, "loss", 4) == 0);
    ck_assert_uint_eq(n, NSPECIAL);
    OK(mlops__points_read(&r, dv, ds, dt));
    for (size_t i = 0; i < NSPECIAL; i++) {
        ck_assert_msg(bits(dv[i]) == special[i], "value %zu: %016llx", i, (unsigned long long)bits(dv[i]));
        ck_assert(ds[i] == st[i]);
        ck_assert(dt[i] == ts[i]);
    }
    ck_assert_int_eq(mlops__points_next_group(&r, &key, &klen, &n), 1);
    ck_assert_uint_eq(klen, 5);
    ck_assert(memcmp(key, "a/b c", 5) == 0);
    ck_assert_uint_eq(n, 3);
    OK(mlops__points_read(&r, dv, ds, dt));
    ck_assert(bits(dv[0]) == special[2] && ds[0] == INT64_MIN && dt[1] == INT64_MAX && dt[2] == 0);
    ck_assert_int_eq(mlops__points_next_group(&r, &key, &klen, &n), 0);
    mlops__buf_dispose(&b);
}
END_TEST

static void expect_corrupt(const unsigned char *rec, size_t len, int want)
{
    size_t n;
    int rc = decode_all(rec, len, &n);
    tu_assert_err(rc, want);
}

START_TEST(codec_rejects_bad_records)
{
    /* version */
    expect_corrupt((const unsigned char *)"", 0, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x00", 1, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x02", 1, MLOPS_EUNSUPPORTED);
    /* key length 0, > 250, truncated key, NUL in key */
    expect_corrupt((const unsigned char *)"\x01\x00", 2, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x01\xfb\x01", 3, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x01\x05" "ab", 4, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x01\x02" "a\0" "\x01", 5, MLOPS_ECORRUPT);
    /* n = 0, n beyond the bytes left, n as an overlong varint */
    expect_corrupt((const unsigned char *)"\x01\x01" "k\x00", 4, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x01\x01" "k\x7f" "12345678\x00\x00", 14, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x01\x01" "k\x81\x00" "12345678\x00\x00", 15, MLOPS_ECORRUPT);
    /* eleven-byte and 64-bit overflowing varints as the key length */
    expect_corrupt((const unsigned char *)"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, MLOPS_ECORRUPT);
    expect_corrupt((const unsigned char *)"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11, MLOPS_ECORRUPT);
    /* a valid point, then a step delta that is an overlong varint */
    unsigned char ok[] = { 1, 1, 'k', 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 2, 4 };
    size_t n;
    OK(decode_all(ok, sizeof ok, &n));
    ck_assert_uint_eq(n, 1);
    unsigned char bad[] = { 1, 1, 'k', 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x82, 0x00, 4 };
    expect_corrupt(bad, sizeof bad, MLOPS_ECORRUPT);
}
END_TEST

/* Every truncation of a valid record is either a group boundary (a
 * shorter valid record) or ECORRUPT, and the decoder never reads past the
 * end (ASan builds check that: each prefix is its own allocation). */
START_TEST(codec_truncations)
{
    double v[50];
    int64_t s[50], t[50];
    for (int i = 0; i < 50; i++) {
        v[i] = i * 0.5;
        s[i] = i * 300 - 7000;
        t[i] = 1700000000000 + i * 12345;
    }
    mlops__buf b = MLOPS__BUF_INIT;
    OK(mlops__points_begin(&b));
    size_t bounds[3] = { b.len, 0, 0 };
    OK(mlops__points_add_group(&b, "train/loss", 10, v, s, t, 50));
    bounds[1] = b.len;
    OK(mlops__points_add_group(&b, "acc", 3, v, s, t, 7));
    bounds[2] = b.len;
    for (size_t len = 0; len < b.len; len++) {
        unsigned char *copy = tu_xmalloc(len);
        memcpy(copy, b.ptr, len);
        size_t n;
        int rc = decode_all(copy, len, &n);
        if (len == bounds[0] || len == bounds[1])
            ck_assert_msg(rc == 0, "prefix %zu: %d", len, rc);
        else
            ck_assert_msg(rc == MLOPS_ECORRUPT, "prefix %zu: %d", len, rc);
        free(copy);
    }
    ck_assert_uint_eq(bounds[2], b.len);
    mlops__buf_dispose(&b);
}
END_TEST

START_TEST(codec_garbage_never_crashes)
{
    uint64_t seed = 42;
    mlops__buf b = MLOPS__BUF_INIT;
    double v[64];
    int64_t s[64], t[64];
    for (int i = 0; i < 64; i++) {
        v[i] = i;
        s[i] = i;
        t[i] = 1000 + 10 * i;
    }
    OK(mlops__points_begin(&b));
    OK(mlops__points_add_group(&b, "x", 1, v, s, t, 64));
    OK(mlops__points_add_group(&b, "yy", 2, v, s, t, 3));
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = iter % 2 ? b.len : (size_t)(iter % 97);
        unsigned char *rec = tu_xmalloc(len);
        if (iter % 2) {
            memcpy(rec, b.ptr, len);
            unsigned char flip[8];
            tu_fill_random(flip, sizeof flip, seed++);
            for (int k = 0; k < 1 + flip[0] % 4; k++)
                rec[flip[1 + k] % len] ^= (unsigned char)(flip[5] | 1);
        } else {
            tu_fill_random(rec, len, seed++);
            if (len)
                rec[0] = 1;
        }
        size_t n;
        int rc = decode_all(rec, len, &n);
        ck_assert_msg(rc == 0 || rc == MLOPS_ECORRUPT || rc == MLOPS_EUNSUPPORTED, "iter %d: %d", iter, rc);
        free(rec);
    }
    mlops__buf_dispose(&b);
}
END_TEST

START_TEST(codec_bytes_per_point)
{
    enum { N = 100000 };
    double *v = tu_xmalloc(N * sizeof *v);
    int64_t *s = tu_xmalloc(N * sizeof *s), *t = tu_xmalloc(N * sizeof *t);
    for (int i = 0; i < N; i++) {
        v[i] = 1.0 / (1 + i);
        s[i] = i;
        t[i] = 1700000000000 + 10 * (int64_t)i + i % 3; /* ~10 ms apart, jittery */
    }
    mlops__buf b = MLOPS__BUF_INIT;
    OK(mlops__points_begin(&b));
    OK(mlops__points_add_group(&b, "loss", 4, v, s, t, N));
    double per = (double)b.len / N;
    ck_assert_msg(per <= 24.0, "%.2f bytes per point", per);
    ck_assert_msg(per <= 12.0, "%.2f bytes per point (expected ~10)", per);
    mlops__buf_dispose(&b);
    free(v);
    free(s);
    free(t);
}
END_TEST

/* ---- logging and history --------------------------------------------- */

static mlops_metric_history history(mlops_store *s, const char *run_id, const char *key,
                                    const mlops_history_options *opts)
{
    mlops_metric_history h;
    OK(mlops_metric_history_get(&h, s, run_id, key, opts));
    return h;
}

/* Sum of the sizes of the run's log segments (fs store). */
static long long log_bytes(const char *dir, const char *run_id)
{
    char *logdir = tu_path("%s/logs/track/metrics/%s", dir, run_id);
    char *files[64];
    size_t n = tu_list_files(logdir, files, 64);
    long long total = 0;
    for (size_t i = 0; i < n; i++)
        total += tu_file_size(files[i]);
    tu_free_list(files, n);
    free(logdir);
    return total;
}

START_TEST(log_flush_read_back)
{
    tu_store t;
    mlops_run run;
    tu_store_open(&t, _i, NULL);
    record_create(t.s, RUN_A);
    run_init(&run, t.s, RUN_A, 1000);
    for (size_t i = 0; i < NSPECIAL; i++)
        OK(mlops_run_log_metric(&run, "special", from_bits(special[i]), (int64_t)i, 100 + (int64_t)i));
    enum { N = 25000 };
    for (int i = 0; i < N; i++)
        OK(mlops_run_log_metric(&run, "train/loss", 1.0 / (i + 1), i, 1700000000000 + 10 * (int64_t)i));
    OK(mlops_run_log_metric(&run, "now", 1, 0, -1));
    OK(mlops_run_flush(&run));
    ck_assert_uint_eq(run.buffered, 0);

    mlops_metric_history h = history(t.s, RUN_A, "special", NULL);
    ck_assert_uint_eq(h.n, NSPECIAL);
    for (size_t i = 0; i < NSPECIAL; i++) {
        ck_assert(bits(h.values[i]) == special[i]);
        ck_assert(h.steps[i] == (int64_t)i && h.timestamps[i] == 100 + (int64_t)i);
    }
    mlops_metric_history_free(&h);
    ck_assert(h.n == 0 && h.values == NULL);
    h = history(t.s, RUN_A, "train/loss", NULL);
    ck_assert_uint_eq(h.n, N);
    for (int i = 0; i < N; i++)
        ck_assert(h.steps[i] == i && h.values[i] == 1.0 / (i + 1) && h.timestamps[i] == 1700000000000 + 10 * (int64_t)i);
    mlops_metric_history_free(&h);
    h = history(t.s, RUN_A, "now", NULL);
    ck_assert_uint_eq(h.n, 1);
    ck_assert(h.timestamps[0] > 1600000000000);
    mlops_metric_history_free(&h);
    h = history(t.s, RUN_A, "never", NULL);
    ck_assert(h.n == 0 && !h.values && !h.steps && !h.timestamps);

    char **keys;
    size_t nkeys;
    OK(mlops_metric_keys(&keys, &nkeys, t.s, RUN_A));
    ck_assert_uint_eq(nkeys, 3);
    ck_assert_str_eq(keys[0], "now");
    ck_assert_str_eq(keys[1], "special");
    ck_assert_str_eq(keys[2], "train/loss");
    mlops_string_list_free(keys, nkeys);

    if (t.kind == TU_FS) { /* on disk, frames included */
        double per = (double)log_bytes(t.dir, RUN_A) / (N + NSPECIAL + 1);
        ck_assert_msg(per <= 24.0, "%.2f bytes per point on disk", per);
    }
    run_dispose(&run);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(bad_input_logs_nothing)
{
    tu_store t;
    mlops_run run;
    tu_store_open(&t, TU_MEMORY, NULL);
    record_create(t.s, RUN_A);
    run_init(&run, t.s, RUN_A, 0);
    double v[2] = { 1, 2 };
    int64_t s[2] = { 1, 2 }, ts[2] = { 5, -7 };
    tu_assert_err(mlops_run_log_metric(NULL, "k", 1, 1, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(&run, NULL, 1, 1, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(&run, "k", 1, 1, -2), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(&run, "", 1, 1, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(&run, "/abs", 1, 1, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(&run, "a/../b", 1, 1, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(&run, "bad*char", 1, 1, 1), MLOPS_EINVALID);
    char longkey[MLOPS_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    tu_assert_err(mlops_run_log_metric(&run, longkey, 1, 1, 1), MLOPS_EINVALID);
    longkey[MLOPS_KEY_MAX] = 0;
    OK(mlops_run_log_metric(&run, longkey, 1, 1, 1)); /* exactly 250 is fine */
    tu_assert_err(mlops_run_log_metric_batch(&run, "k", v, s, ts, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric_batch(&run, "k", NULL, s, NULL, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric_batch(&run, "k", v, NULL, NULL, 2), MLOPS_EINVALID);
    ck_assert_uint_eq(run.buffered, 1);
    ts[1] = -1; /* -1 is "now" in a batch too */
    OK(mlops_run_log_metric_batch(&run, "k", v, s, ts, 2));
    OK(mlops_run_log_metric_batch(&run, "k", NULL, NULL, NULL, 0));
    ck_assert_uint_eq(run.buffered, 3);
    run.ended = 1;
    tu_assert_err(mlops_run_log_metric(&run, "k", 1, 1, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric_batch(&run, "k", v, s, NULL, 2), MLOPS_EINVALID);
    OK(mlops_run_flush(&run)); /* what was buffered before the end still goes */
    OK(mlops_run_flush(&run)); /* and then there is nothing to do */
    mlops_metric_history h = history(t.s, RUN_A, "k", NULL);
    ck_assert_uint_eq(h.n, 2);
    ck_assert(h.timestamps[0] == 5 && h.timestamps[1] > 1600000000000);
    mlops_metric_history_free(&h);

    mlops_history_options o;
    tu_assert_err(mlops_history_options_init(&o, 99), MLOPS_EINVALID);
    OK(mlops_history_options_init(&o, MLOPS_HISTORY_OPTIONS_VERSION));
    o.version = 7;
    tu_assert_err(mlops_metric_history_get(&h, t.s, RUN_A, "k", &o), MLOPS_EINVALID);
    tu_assert_err(mlops_metric_history_get(&h, t.s, RUN_B, "k", NULL), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_metric_history_get(&h, t.s, "nothex", "k", NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_metric_history_get(NULL, t.s, RUN_A, "k", NULL), MLOPS_EINVALID);
    char **keys;
    size_t nkeys;
    tu_assert_err(mlops_metric_keys(&keys, &nkeys, t.s, RUN_B), MLOPS_ENOTFOUND);
    record_create(t.s, RUN_B); /* a run without points */
    OK(mlops_metric_keys(&keys, &nkeys, t.s, RUN_B));
    ck_assert(nkeys == 0 && keys == NULL);
    h = history(t.s, RUN_B, "k", NULL);
    ck_assert_uint_eq(h.n, 0);
    tu_assert_err(mlops_run_flush(NULL), MLOPS_EINVALID);
    run_dispose(&run);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(history_order_range_downsample)
{
    tu_store t;
    mlops_run a, b;
    tu_store_open(&t, _i, NULL);
    record_create(t.s, RUN_A);
    run_init(&a, t.s, RUN_A, 0);
    run_init(&b, t.s, RUN_A, 0);
    /* handle a logs even steps descending, handle b odd steps ascending,
     * plus ties on step ordered by timestamp, then by log order */
    for (int i = 998; i >= 0; i -= 2)
        OK(mlops_run_log_metric(&a, "m", i, i, 1000 + i));
    for (int i = 1; i < 1000; i += 2)
        OK(mlops_run_log_metric(&b, "m", i, i, 1000 + i));
    OK(mlops_run_log_metric(&a, "m", -1, 500, 9)); /* earlier timestamp: before 500 */
    OK(mlops_run_log_metric(&a, "m", -2, 500, 5000));
    OK(mlops_run_flush(&a));
    OK(mlops_run_flush(&b));
    OK(mlops_run_log_metric(&b, "m", -3, 500, 5000)); /* same step and time: after -2 */
    OK(mlops_run_flush(&b));

    mlops_metric_history h = history(t.s, RUN_A, "m", NULL);
    ck_assert_uint_eq(h.n, 1003);
    for (size_t i = 1; i < h.n; i++)
        ck_assert(h.steps[i - 1] < h.steps[i] ||
                  (h.steps[i - 1] == h.steps[i] && h.timestamps[i - 1] <= h.timestamps[i]));
    ck_assert(h.steps[0] == 0 && h.steps[h.n - 1] == 999);
    ck_assert(h.values[500] == -1 && h.values[501] == 500 && h.values[502] == -2 && h.values[503] == -3);
    mlops_metric_history_free(&h);

    mlops_history_options o = MLOPS_HISTORY_OPTIONS_INIT;
    o.min_step = 100;
    o.max_step = 199;
    h = history(t.s, RUN_A, "m", &o);
    ck_assert_uint_eq(h.n, 100);
    for (size_t i = 0; i < h.n; i++)
        ck_assert(h.steps[i] == 100 + (int64_t)i);
    mlops_metric_history_free(&h);

    o.min_step = INT64_MIN;
    o.max_step = INT64_MAX;
    size_t sizes[] = { 1, 2, 3, 10, 1002, 1003, 5000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        o.max_points = sizes[k];
        h = history(t.s, RUN_A, "m", &o);
        size_t want = sizes[k] < 1003 ? sizes[k] : 1003;
        ck_assert_uint_eq(h.n, want);
        if (want == 1) {
            ck_assert(h.steps[0] == 999); /* one point: the latest */
        } else {
            ck_assert(h.steps[0] == 0 && h.steps[h.n - 1] == 999);
            for (size_t i = 1; i < h.n; i++)
                ck_assert(h.steps[i - 1] <= h.steps[i]);
        }
        mlops_metric_history_free(&h);
    }
    /* a spike survives downsampling (LTTB) */
    for (int i = 0; i < 10000; i++)
        OK(mlops_run_log_metric(&a, "spiky", i == 4321 ? 1e6 : 1.0, i, 1));
    OK(mlops_run_flush(&a));
    o.max_points = 50;
    h = history(t.s, RUN_A, "spiky", &o);
    ck_assert_uint_eq(h.n, 50);
    int found = 0;
    for (size_t i = 0; i < h.n; i++)
        found |= h.steps[i] == 4321;
    ck_assert(found);
    mlops_metric_history_free(&h);
    run_dispose(&a);
    run_dispose(&b);
    tu_store_destroy(&t);
}
END_TEST

/* Batches: arrays in, automatic appends at the threshold, records split
 * however large the batch. */
START_TEST(batches)
{
    tu_store t;
    mlops_run run;
    tu_store_open(&t, _i, NULL);
    record_create(t.s, RUN_A);
    run_init(&run, t.s, RUN_A, 10000);
    enum { N = 1500000 };
    double *v = tu_xmalloc(N * sizeof *v);
    int64_t *s = tu_xmalloc(N * sizeof *s), *ts = tu_xmalloc(N * sizeof *ts);
    for (int i = 0; i < N; i++) {
        v[i] = i;
        s[i] = i;
        ts[i] = 1000 + i;
    }
    OK(mlops_run_log_metric_batch(&run, "big", v, s, ts, N));
    ck_assert_uint_eq(run.buffered, 0); /* past the threshold: appended */
    OK(mlops_run_log_metric_batch(&run, "small", v, s, NULL, 10));
    ck_assert_uint_eq(run.buffered, 10);
    OK(mlops_run_flush(&run));
    mlops_metric_history h = history(t.s, RUN_A, "big", NULL);
    ck_assert_uint_eq(h.n, N);
    ck_assert(memcmp(h.values, v, N * sizeof *v) == 0);
    ck_assert(memcmp(h.steps, s, N * sizeof *s) == 0);
    ck_assert(memcmp(h.timestamps, ts, N * sizeof *ts) == 0);
    mlops_metric_history_free(&h);
    free(v);
    free(s);
    free(ts);
    run_dispose(&run);
    tu_store_destroy(&t);
}
END_TEST

/* ---- latest values in the run record ----------------------------------- */

static const mlops_metric_latest *latest(const mlops_run_info *info, const char *key)
{
    for (size_t i = 0; i < info->nmetrics; i++)
        if (strcmp(info->metrics[i].key, key) == 0)
            return &info->metrics[i];
    return NULL;
}

/* A store of the loop's kind with run A and two handles on it, as two
 * processes writing one run would have. */
static void two_writers(tu_store *t, int kind, mlops_run *a, mlops_run *b)
{
    tu_store_open(t, kind, NULL);
    record_create(t->s, RUN_A);
    run_init(a, t->s, RUN_A, 0);
    run_init(b, t->s, RUN_A, 0);
}

START_TEST(latest_values_merge)
{
    tu_store t;
    mlops_run a, b;
    mlops_run_info *info;
    mlops_oid ref;
    two_writers(&t, _i, &a, &b);
    OK(mlops_run_log_metric(&a, "acc", 0.5, 10, 100));
    OK(mlops_run_log_metric(&a, "acc", 0.4, 9, 200)); /* lower step: not latest */
    OK(mlops_run_log_metric(&a, "loss", 3, 1, 100));
    OK(mlops_run_flush(&a));
    OK(mlops_run_log_metric(&b, "acc", 0.9, 5, 300)); /* older step from another writer */
    OK(mlops_run_log_metric(&b, "loss", 2, 1, 150));  /* same step, later time: wins */
    OK(mlops_run_log_metric(&b, "zeta", -0.0, 0, 1));
    OK(mlops_run_flush(&b));
    OK(mlops__run_record_read(&info, &ref, t.s, RUN_A));
    ck_assert_uint_eq(info->nmetrics, 3);
    ck_assert_str_eq(info->metrics[0].key, "acc");
    ck_assert_str_eq(info->metrics[1].key, "loss");
    ck_assert_str_eq(info->metrics[2].key, "zeta");
    const mlops_metric_latest *m = latest(info, "acc");
    ck_assert(m->value == 0.5 && m->step == 10 && m->timestamp == 100);
    m = latest(info, "loss");
    ck_assert(m->value == 2 && m->timestamp == 150);
    ck_assert(bits(latest(info, "zeta")->value) == 0x8000000000000000ull);
    mlops_run_info_free(info);
    /* a flush with nothing new leaves the record alone */
    OK(mlops_run_flush(&a));
    mlops_oid ref2;
    OK(mlops__run_record_read(&info, &ref2, t.s, RUN_A));
    ck_assert(mlops_oid_cmp(&ref, &ref2) == 0);
    mlops_run_info_free(info);
    run_dispose(&a);
    run_dispose(&b);
    tu_store_destroy(&t);
}
END_TEST

/* Full ties between writers (same step and time) end on the same value
 * whichever flushes last: NaN never beats a number, +0.0 beats -0.0. */
START_TEST(latest_ties_converge)
{
    static const double pairs[][2] = { { NAN, 1.0 }, { -0.0, 0.0 }, { NAN, -INFINITY } };
    static const uint64_t want[] = { 0x3ff0000000000000ull, 0, 0xfff0000000000000ull };
    for (size_t p = 0; p < 3; p++)
        for (int order = 0; order < 2; order++) {
            tu_store t;
            mlops_run a, b;
            mlops_run_info *info;
            mlops_oid ref;
            two_writers(&t, _i, &a, &b);
            OK(mlops_run_log_metric(&a, "m", pairs[p][0], 5, 100));
            OK(mlops_run_log_metric(&b, "m", pairs[p][1], 5, 100));
            OK(mlops_run_flush(order ? &b : &a));
            OK(mlops_run_flush(order ? &a : &b));
            OK(mlops__run_record_read(&info, &ref, t.s, RUN_A));
            ck_assert_msg(bits(latest(info, "m")->value) == want[p], "pair %zu, order %d: %.17g", p, order,
                          latest(info, "m")->value);
            mlops_run_info_free(info);
            run_dispose(&a);
            run_dispose(&b);
            tu_store_destroy(&t);
        }
}
END_TEST

/* Automatic appends that keep failing (here a read-only store; a full disk
 * in life) are retried only once the buffer has doubled, not at every
 * point (which made logging crawl); nothing buffered is dropped. */
START_TEST(failing_appends_back_off)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    tu_store_close(&t);
    mlops_store_options ro = MLOPS_STORE_OPTIONS_INIT;
    ro.flags |= MLOPS_STORE_READONLY;
    tu_store_reopen(&t, &ro);
    mlops_run r;
    run_init(&r, t.s, RUN_A, 10);
    for (int i = 0; i < 10; i++)
        OK(mlops_run_log_metric(&r, "loss", i, i, 1));
    ck_assert_uint_eq(r.buffered, 10);
    ck_assert_uint_eq(r.retry_at, 20); /* the append at 10 failed */
    for (int i = 10; i < 19; i++)
        OK(mlops_run_log_metric(&r, "loss", i, i, 1));
    ck_assert_uint_eq(r.retry_at, 20); /* no attempt at 11..19 */
    OK(mlops_run_log_metric(&r, "loss", 19, 19, 1));
    ck_assert_uint_eq(r.retry_at, 40); /* tried again at 20 */
    ck_assert_uint_eq(r.buffered, 20);
    tu_assert_err(mlops_run_flush(&r), MLOPS_EPERM); /* an explicit flush always tries */
    ck_assert_uint_eq(r.buffered, 20);
    run_dispose(&r);
    tu_store_destroy(&t);
}
END_TEST

/* Durability FULL: a flush whose fsync fails keeps its points buffered and
 * the next flush stores them once (the failed append used to stay in the
 * log, and the retry stored every point twice). */
START_TEST(full_flush_fsync_failure_stores_once)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = MLOPS_DURABILITY_FULL;
    tu_store t;
    tu_store_open(&t, TU_FS, &o);
    record_create(t.s, RUN_A);
    mlops_run r;
    run_init(&r, t.s, RUN_A, 0);
    for (int i = 0; i < 10; i++)
        OK(mlops_run_log_metric(&r, "loss", i, i, 1));
    mlops__fault_arm(MLOPS__FAULT_FSYNC, 1, EIO);
    tu_assert_err(mlops_run_flush(&r), MLOPS_EIO);
    mlops__fault_reset();
    OK(mlops_run_flush(&r));
    mlops_metric_history h = history(t.s, RUN_A, "loss", NULL);
    ck_assert_uint_eq(h.n, 10);
    mlops_metric_history_free(&h);
    run_dispose(&r);
    tu_store_destroy(&t);
}
END_TEST

/* ---- concurrency and crashes ------------------------------------------- */

enum { THREADS = 4, PER_THREAD = 100000 };

typedef struct worker {
    mlops_run *run;
    int id;
} worker;

static void *log_thread(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        int64_t step = (int64_t)w->id * PER_THREAD + i;
        if (mlops_run_log_metric(w->run, i % 2 ? "odd" : "all", (double)step, step, 1) != 0)
            return (void *)1;
        if (i % 2 && mlops_run_log_metric(w->run, "all", (double)step, step, 1) != 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(threads_share_a_handle)
{
    tu_store t;
    mlops_run run;
    pthread_t th[THREADS];
    worker w[THREADS];
    tu_store_open(&t, _i, NULL);
    record_create(t.s, RUN_A);
    run_init(&run, t.s, RUN_A, 4096);
    for (int i = 0; i < THREADS; i++) {
        w[i].run = &run;
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, log_thread, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        ck_assert(ret == NULL);
    }
    OK(mlops_run_flush(&run));
    mlops_metric_history h = history(t.s, RUN_A, "all", NULL);
    ck_assert_uint_eq(h.n, THREADS * PER_THREAD);
    for (size_t i = 0; i < h.n; i++)
        ck_assert_msg(h.steps[i] == (int64_t)i && h.values[i] == (double)i, "point %zu", i);
    mlops_metric_history_free(&h);
    h = history(t.s, RUN_A, "odd", NULL);
    ck_assert_uint_eq(h.n, THREADS * PER_THREAD / 2);
    mlops_metric_history_free(&h);
    run_dispose(&run);
    tu_store_destroy(&t);
}
END_TEST

/* A child process: its own store handle and run handle on dir. */
static void child_log(const char *dir, int id, int n, int notify_fd, int forever)
{
    mlops_store *s = NULL;
    mlops_run run;
    if (mlops_store_open(&s, dir, NULL) != 0)
        _exit(10);
    run_init(&run, s, RUN_A, 1000);
    for (int i = 0; i < n; i++)
        if (mlops_run_log_metric(&run, "m", i, (int64_t)id * 10000000 + i, 1) != 0)
            _exit(11);
    if (mlops_run_flush(&run) != 0)
        _exit(12);
    if (notify_fd >= 0 && write(notify_fd, "x", 1) != 1)
        _exit(13);
    int64_t i = n;
    while (forever) { /* until SIGKILL */
        if (mlops_run_log_metric(&run, "m", (double)i, (int64_t)id * 10000000 + i, 1) != 0)
            _exit(14);
        i++;
    }
    run_dispose(&run);
    mlops_store_free(s);
    _exit(0);
}

START_TEST(two_processes_one_run)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    record_create(t.s, RUN_A);
    enum { N = 50000 };
    pid_t pid[2];
    for (int c = 0; c < 2; c++) {
        pid[c] = fork();
        ck_assert(pid[c] >= 0);
        if (pid[c] == 0)
            child_log(t.dir, c + 1, N, -1, 0);
    }
    for (int c = 0; c < 2; c++) {
        int st;
        ck_assert(waitpid(pid[c], &st, 0) == pid[c]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %d", c, st);
    }
    mlops_metric_history h = history(t.s, RUN_A, "m", NULL);
    ck_assert_uint_eq(h.n, 2 * N);
    for (size_t i = 0; i < h.n; i++)
        ck_assert(h.steps[i] == (int64_t)(i / N + 1) * 10000000 + (int64_t)(i % N));
    mlops_metric_history_free(&h);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(flush_survives_sigkill)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    record_create(t.s, RUN_A);
    enum { N = 30000 };
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_log(t.dir, 1, N, fds[1], 1);
    }
    close(fds[1]);
    char c;
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    usleep(20000 + (unsigned)(getpid() % 20) * 1000); /* let it append more */
    kill(pid, SIGKILL);
    int st;
    ck_assert(waitpid(pid, &st, 0) == pid);
    ck_assert(WIFSIGNALED(st));
    close(fds[0]);

    tu_store_reopen(&t, NULL);
    mlops_metric_history h = history(t.s, RUN_A, "m", NULL);
    ck_assert_uint_ge(h.n, N);
    for (size_t i = 0; i < h.n; i++) /* an intact prefix, in order */
        ck_assert(h.steps[i] == 10000000 + (int64_t)i && h.values[i] == (double)i);
    mlops_metric_history_free(&h);
    tu_verify_clean(t.s);
    /* the run's log takes more points after the crash */
    mlops_run run;
    run_init(&run, t.s, RUN_A, 0);
    OK(mlops_run_log_metric(&run, "m", 0, 0, 1));
    OK(mlops_run_flush(&run));
    run_dispose(&run);
    tu_store_destroy(&t);
}
END_TEST

/* ---- out of memory ------------------------------------------------------ */

START_TEST(oom_log_and_read)
{
    unsigned long n;
    for (n = 1; n < 2000; n++) {
        tu_alloc a;
        tu_store t;
        mlops_run run;
        memset(&a, 0, sizeof a);
        tu_alloc_install(&a); /* the store's blocks too: it is freed below */
        tu_store_open(&t, TU_MEMORY, NULL);
        record_create(t.s, RUN_A);
        run_init(&run, t.s, RUN_A, 100);
        a.fail_at = a.calls + n;
        int rc = 0;
        for (int i = 0; i < 150 && rc == 0; i++)
            rc = mlops_run_log_metric(&run, i % 3 ? "x" : "y", i, i, 1);
        if (rc == 0)
            rc = mlops_run_flush(&run);
        mlops_metric_history h = { 0, NULL, NULL, NULL };
        if (rc == 0)
            rc = mlops_metric_history_get(&h, t.s, RUN_A, "x", NULL);
        mlops_metric_history_free(&h);
        a.fail_at = 0;
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "fail_at %lu: %d %s", n, rc, mlops_error_last());
        if (rc == MLOPS_ENOMEM) { /* the handle is still usable */
            OK(mlops_run_log_metric(&run, "x", 1, 1000, 1));
            OK(mlops_run_flush(&run));
            OK(mlops_metric_history_get(&h, t.s, RUN_A, "x", NULL));
            ck_assert_uint_ge(h.n, 1);
            mlops_metric_history_free(&h);
        }
        run_dispose(&run);
        tu_store_destroy(&t);
        tu_alloc_remove();
        ck_assert_msg(a.outstanding == 0, "fail_at %lu: %ld blocks leaked", n, a.outstanding);
        if (a.failures == 0)
            break;
    }
    ck_assert_uint_lt(n, 2000);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("track_metrics");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, codec_round_trip);
    tcase_add_test(tc, codec_rejects_bad_records);
    tcase_add_test(tc, codec_truncations);
    tcase_add_test(tc, codec_garbage_never_crashes);
    tcase_add_test(tc, codec_bytes_per_point);
    suite_add_tcase(s, tc);
    tc = tcase_create("logging");
    tcase_add_loop_test(tc, log_flush_read_back, 0, TU_KINDS);
    tcase_add_test(tc, bad_input_logs_nothing);
    tcase_add_loop_test(tc, history_order_range_downsample, 0, TU_KINDS);
    tcase_add_loop_test(tc, batches, 0, TU_KINDS);
    tcase_add_loop_test(tc, latest_values_merge, 0, TU_KINDS);
    tcase_add_loop_test(tc, latest_ties_converge, 0, TU_KINDS);
    tcase_add_test(tc, failing_appends_back_off);
    tcase_add_test(tc, full_flush_fsync_failure_stores_once);
    tcase_add_test(tc, oom_log_and_read);
    suite_add_tcase(s, tc);
    tc = tcase_create("concurrency");
    tcase_add_loop_test(tc, threads_share_a_handle, 0, TU_KINDS);
    tcase_add_test(tc, two_processes_one_run);
    tcase_add_test(tc, flush_survives_sigkill);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
