/*
 * bench_track: metric logging and reading through a run handle (fs store,
 * durability COMMIT), against the baselines that matter:
 *
 *  - track.log_metric: N points of one key, one call per point, explicit
 *    timestamps, buffered (default buffer_points), ending with one
 *    mlops_run_flush() inside the timing. track.log_metric_now: the same
 *    with timestamp -1 (the clock read per point). Baseline: a plain stdio
 *    fwrite loop of the same 24 bytes per point (value, step, timestamp),
 *    then fflush + fsync. Target: >= 10 M points/s.
 *  - track.log_batch_flush: N points in batches of 10,000 with
 *    mlops_log_metric_batch() and a durable mlops_run_flush() after every
 *    100,000 points (each a durability commit). Target: >= 3 M points/s
 *    and >= 5x SQLite.
 *  - baseline.sqlite_insert: the same points into MLflow's metrics table
 *    (run_uuid, key, value, timestamp, step), one prepared statement, one
 *    transaction, WAL, synchronous=FULL (durable at COMMIT, like a flush).
 *    At most SQLITE_MAX points (SQLite runs ~0.5 M rows/s; rates are
 *    compared). Only when built with SQLite (a benchmark-only dependency).
 *  - track.history_read: mlops_metric_history_get() of 1,000,000 points of
 *    one key. Target: <= 50 ms.
 *  - track.bytes_per_point: the run's log segments on disk divided by the
 *    points in it, frames included. Target: <= 24.
 *
 * Usage: bench_track [points]  (or MLOPS_BENCH_TRACK_N, default 10000000;
 * MLOPS_BENCH_RUNS, default 3).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlops.h>
#include <mlops/track.h> /* until the umbrella header includes it (built with -Dtrack=true) */

#ifdef MLOPS_BENCH_SQLITE
#include <sqlite3.h>
#endif

#include "bench_util.h"

#define BATCH 10000
#define FLUSH_EVERY 100000
#define HISTORY_N 1000000
#define T0 1700000000000LL
#define SQLITE_MAX 1000000L

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_track: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

/* A fresh store in dir/name with one run; the caller ends and frees. */
static mlops_run *start_run(mlops_store **s, const char *dir, const char *name)
{
    char path[2048];
    mlops_experiment *e = NULL;
    mlops_run *run = NULL;
    int rc;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((rc = mlops_store_open(s, path, NULL)) != 0)
        die("mlops_store_open", rc);
    if ((rc = mlops_experiment_get_or_create(&e, *s, "bench")) != 0)
        die("mlops_experiment_get_or_create", rc);
    if ((rc = mlops_run_start(&run, *s, e->id, NULL)) != 0)
        die("mlops_run_start", rc);
    mlops_experiment_free(e);
    return run;
}

static void end_run(mlops_store *s, mlops_run *run)
{
    int rc = mlops_run_end(run, MLOPS_RUN_FINISHED);
    if (rc != 0)
        die("mlops_run_end", rc);
    mlops_run_free(run);
    mlops_store_free(s);
}

/* ---- one point at a time ------------------------------------------------ */

static double log_one(const char *dir, const char *name, long n, int now)
{
    mlops_store *s;
    mlops_run *run = start_run(&s, dir, name);
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        int rc = mlops_run_log_metric(run, "train/loss", 1.0 / (double)(i + 1), i, now ? -1 : T0 + 10 * i);
        if (rc != 0)
            die("mlops_run_log_metric", rc);
    }
    int rc = mlops_run_flush(run);
    if (rc != 0)
        die("mlops_run_flush", rc);
    t0 = bench_now() - t0;
    end_run(s, run);
    return t0;
}

static double fwrite_points(const char *path, long n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror("bench_track: fopen");
        exit(1);
    }
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        struct {
            double value;
            int64_t step, ts;
        } p = { 1.0 / (double)(i + 1), i, T0 + 10 * i };
        if (fwrite(&p, sizeof p, 1, f) != 1) {
            perror("bench_track: fwrite");
            exit(1);
        }
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        perror("bench_track: fsync");
        exit(1);
    }
    t0 = bench_now() - t0;
    fclose(f);
    return t0;
}

/* ---- batches ------------------------------------------------------------ */

typedef struct points {
    double *values;
    int64_t *steps, *ts;
    long n;
} points;

static void make_points(points *p, long n)
{
    p->n = n;
    p->values = malloc((size_t)n * sizeof *p->values);
    p->steps = malloc((size_t)n * sizeof *p->steps);
    p->ts = malloc((size_t)n * sizeof *p->ts);
    if (!p->values || !p->steps || !p->ts) {
        fprintf(stderr, "bench_track: out of memory\n");
        exit(1);
    }
    for (long i = 0; i < n; i++) {
        p->values[i] = 1.0 / (double)(i + 1);
        p->steps[i] = i;
        p->ts[i] = T0 + 10 * i;
    }
}

static void log_batches(mlops_run *run, const points *p)
{
    for (long i = 0; i < p->n; i += BATCH) {
        size_t k = (size_t)(p->n - i < BATCH ? p->n - i : BATCH);
        int rc = mlops_run_log_metric_batch(run, "train/loss", p->values + i, p->steps + i, p->ts + i, k);
        if (rc != 0)
            die("mlops_run_log_metric_batch", rc);
        if ((i + (long)k) % FLUSH_EVERY == 0 || i + (long)k == p->n)
            if ((rc = mlops_run_flush(run)) != 0)
                die("mlops_run_flush", rc);
    }
}

static double batch_flush(const char *dir, const char *name, const points *p)
{
    mlops_store *s;
    mlops_run *run = start_run(&s, dir, name);
    double t0 = bench_now();
    log_batches(run, p);
    t0 = bench_now() - t0;
    end_run(s, run);
    return t0;
}

#ifdef MLOPS_BENCH_SQLITE
static void sq(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_track: sqlite %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static double sqlite_insert(const char *path, const points *p)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    sq(NULL, sqlite3_open(path, &db), "open");
    sq(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                            "CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL,"
                            " timestamp BIGINT NOT NULL, run_uuid VARCHAR(32) NOT NULL, step BIGINT NOT NULL,"
                            " is_nan BOOLEAN NOT NULL DEFAULT 0,"
                            " PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan))",
                       NULL, NULL, NULL),
       "schema");
    double t0 = bench_now();
    sq(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    sq(db, sqlite3_prepare_v2(db, "INSERT INTO metrics (run_uuid, key, value, timestamp, step) VALUES (?,?,?,?,?)",
                              -1, &st, NULL),
       "prepare");
    for (long i = 0; i < p->n && i < SQLITE_MAX; i++) {
        sqlite3_bind_text(st, 1, "0123456789abcdef0123456789abcdef", 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "train/loss", 10, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, p->values[i]);
        sqlite3_bind_int64(st, 4, p->ts[i]);
        sqlite3_bind_int64(st, 5, p->steps[i]);
        sq(db, sqlite3_step(st), "step");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sq(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    t0 = bench_now() - t0;
    sqlite3_close(db);
    return t0;
}
#endif

/* ---- reading and size ---------------------------------------------------- */

static long long tree_bytes;
static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        tree_bytes += st->st_size;
    return 0;
}

/* Logs HISTORY_N points in batches, then times reading them back. Also
 * measures the on-disk size of that run's log. */
static void history_and_size(const char *dir, int runs)
{
    bench_series rd = { 0 };
    points p;
    mlops_store *s;
    mlops_run *run = start_run(&s, dir, "history");
    char run_id[MLOPS_RUN_ID_HEXSZ + 1], path[2048], extra[256];
    make_points(&p, HISTORY_N);
    snprintf(run_id, sizeof run_id, "%s", mlops_run_id(run));
    log_batches(run, &p);
    for (int r = 0; r < runs + 1; r++) {
        mlops_metric_history h;
        double t0 = bench_now();
        int rc = mlops_metric_history_get(&h, s, run_id, "train/loss", NULL);
        t0 = bench_now() - t0;
        if (rc != 0)
            die("mlops_metric_history_get", rc);
        if (h.n != HISTORY_N) {
            fprintf(stderr, "bench_track: history has %zu points, want %d\n", h.n, HISTORY_N);
            exit(1);
        }
        mlops_metric_history_free(&h);
        if (r > 0) /* the first read warms the page cache */
            bench_series_add(&rd, t0);
    }
    snprintf(extra, sizeof extra, ",\"ms\":%.2f,\"target_ms\":50", bench_series_median(&rd) * 1e3);
    bench_print("track.history_read", HISTORY_N, &rd, HISTORY_N, "points/s", extra);

    snprintf(path, sizeof path, "%s/history/logs/track/metrics/%s", dir, run_id);
    tree_bytes = 0;
    if (nftw(path, add_size, 16, FTW_PHYS) != 0) {
        perror("bench_track: nftw");
        exit(1);
    }
    printf("{\"bench\":\"track.bytes_per_point\",\"n\":%d,\"bytes\":%lld,\"rate\":%.3f,\"unit\":\"bytes/point\","
           "\"target\":24,\"vs_raw_24\":%.3f}\n",
           HISTORY_N, tree_bytes, (double)tree_bytes / HISTORY_N, (double)tree_bytes / HISTORY_N / 24.0);
    fflush(stdout);
    end_run(s, run);
    free(p.values);
    free(p.steps);
    free(p.ts);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : bench_env_long("MLOPS_BENCH_TRACK_N", 10000000);
    int runs = bench_runs(3);
    char dir[1024], name[64], path[2048], extra[512];
    bench_series one = { 0 }, now = { 0 }, fw = { 0 }, batch = { 0 }, sql = { 0 };
    long nsql = n < SQLITE_MAX ? n : SQLITE_MAX;
    points p;

    if (n <= 0) {
        fprintf(stderr, "usage: bench_track [points]\n");
        return 2;
    }
    bench_mkdtemp(dir, sizeof dir, "track");
    make_points(&p, n);
    for (int r = 0; r < runs; r++) {
        snprintf(name, sizeof name, "one-%d", r);
        bench_series_add(&one, log_one(dir, name, n, 0));
        snprintf(name, sizeof name, "now-%d", r);
        bench_series_add(&now, log_one(dir, name, n, 1));
        snprintf(path, sizeof path, "%s/fwrite-%d", dir, r);
        bench_series_add(&fw, fwrite_points(path, n));
        snprintf(name, sizeof name, "batch-%d", r);
        bench_series_add(&batch, batch_flush(dir, name, &p));
#ifdef MLOPS_BENCH_SQLITE
        snprintf(path, sizeof path, "%s/sqlite-%d.db", dir, r);
        bench_series_add(&sql, sqlite_insert(path, &p));
#endif
    }
    snprintf(extra, sizeof extra, ",\"ratio_vs_fwrite\":%.3f,\"target_rate\":1e7",
             bench_series_median(&fw) / bench_series_median(&one));
    bench_print("track.log_metric", (uint64_t)n, &one, (double)n, "points/s", extra);
    snprintf(extra, sizeof extra, ",\"timestamp\":\"now\",\"ratio_vs_fwrite\":%.3f",
             bench_series_median(&fw) / bench_series_median(&now));
    bench_print("track.log_metric_now", (uint64_t)n, &now, (double)n, "points/s", extra);
    bench_print("baseline.fwrite", (uint64_t)n, &fw, (double)n, "points/s",
                ",\"what\":\"stdio fwrite of 24-byte points + fflush + fsync\"");
#ifdef MLOPS_BENCH_SQLITE
    snprintf(extra, sizeof extra, ",\"batch\":%d,\"flush_every\":%d,\"ratio_vs_sqlite\":%.3f,\"target_rate\":3e6",
             BATCH, FLUSH_EVERY, (double)n / bench_series_median(&batch) / ((double)nsql / bench_series_median(&sql)));
    bench_print("track.log_batch_flush", (uint64_t)n, &batch, (double)n, "points/s", extra);
    bench_print("baseline.sqlite_insert", (uint64_t)nsql, &sql, (double)nsql, "points/s",
                ",\"what\":\"MLflow metrics table, one prepared INSERT, one transaction, WAL, synchronous=FULL\"");
#else
    snprintf(extra, sizeof extra, ",\"batch\":%d,\"flush_every\":%d,\"target_rate\":3e6", BATCH, FLUSH_EVERY);
    bench_print("track.log_batch_flush", (uint64_t)n, &batch, (double)n, "points/s", extra);
    bench_note("baseline.sqlite_insert", "skipped: built without sqlite3 (benchmark-only dependency)");
    (void)sql;
    (void)nsql;
#endif
    history_and_size(dir, runs);
    free(p.values);
    free(p.steps);
    free(p.ts);
    bench_rmtree(dir);
    return 0;
}
