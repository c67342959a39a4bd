/*
 * bench_log: log appends per second, records of 64 bytes, appended one at a
 * time (mlops_log_append) and in batches of 1000 (mlops_log_append_batch),
 * durability COMMIT with one mlops_log_sync() at the end inside the timing.
 * Baseline: a plain stdio fwrite loop of the same record bytes into a file,
 * then fflush + fsync.
 *
 * Usage: bench_log [records]  (or MLOPS_BENCH_LOG_N, default 1000000;
 * MLOPS_BENCH_RUNS, default 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

#define REC 64
#define BATCH 1000

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_log: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static void make_record(unsigned char *rec, long i)
{
    memset(rec, 'x', REC);
    memcpy(rec, &i, sizeof(i));
}

static double run_store(const char *path, long n, int batch)
{
    static unsigned char recs[BATCH][REC];
    const void *ptrs[BATCH];
    size_t lens[BATCH];
    mlops_store *s = NULL;
    double t0;
    int rc;

    for (int j = 0; j < BATCH; j++) {
        ptrs[j] = recs[j];
        lens[j] = REC;
    }
    if ((rc = mlops_store_open(&s, path, NULL)) != 0)
        die("mlops_store_open", rc);
    t0 = bench_now();
    if (!batch) {
        for (long i = 0; i < n; i++) {
            make_record(recs[0], i);
            if ((rc = mlops_log_append(s, "bench/metrics", recs[0], REC)) != 0)
                die("mlops_log_append", rc);
        }
    } else {
        for (long i = 0; i < n; i += BATCH) {
            size_t k = (size_t)(n - i < BATCH ? n - i : BATCH);
            for (size_t j = 0; j < k; j++)
                make_record(recs[j], i + (long)j);
            if ((rc = mlops_log_append_batch(s, "bench/metrics", ptrs, lens, k)) != 0)
                die("mlops_log_append_batch", rc);
        }
    }
    if ((rc = mlops_log_sync(s, "bench/metrics")) != 0)
        die("mlops_log_sync", rc);
    t0 = bench_now() - t0;
    mlops_store_free(s);
    return t0;
}

static double run_fwrite(const char *path, long n)
{
    unsigned char rec[REC];
    FILE *f = fopen(path, "wb");
    double t0 = bench_now();
    if (!f) {
        perror("bench_log: fopen");
        exit(1);
    }
    for (long i = 0; i < n; i++) {
        make_record(rec, i);
        if (fwrite(rec, REC, 1, f) != 1) {
            perror("bench_log: fwrite");
            exit(1);
        }
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        perror("bench_log: fsync");
        exit(1);
    }
    t0 = bench_now() - t0;
    fclose(f);
    return t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : bench_env_long("MLOPS_BENCH_LOG_N", 1000000);
    int runs = bench_runs(3);
    char dir[1024], path[2048], extra[512];
    bench_series one = {0}, batch = {0}, fw = {0};

    if (n <= 0) {
        fprintf(stderr, "usage: bench_log [records]\n");
        return 2;
    }
    bench_mkdtemp(dir, sizeof(dir), "log");
    for (int r = 0; r < runs; r++) {
        snprintf(path, sizeof(path), "%s/one-%d", dir, r);
        bench_series_add(&one, run_store(path, n, 0));
        snprintf(path, sizeof(path), "%s/batch-%d", dir, r);
        bench_series_add(&batch, run_store(path, n, 1));
        snprintf(path, sizeof(path), "%s/fwrite-%d", dir, r);
        bench_series_add(&fw, run_fwrite(path, n));
    }
    snprintf(extra, sizeof(extra), ",\"record_bytes\":%d,\"batch\":1,\"ratio_vs_fwrite\":%.3f", REC,
             bench_series_median(&one) / bench_series_median(&fw));
    bench_print("store.log_append", (uint64_t)n, &one, (double)n, "records/s", extra);
    snprintf(extra, sizeof(extra), ",\"record_bytes\":%d,\"batch\":%d,\"ratio_vs_fwrite\":%.3f", REC, BATCH,
             bench_series_median(&batch) / bench_series_median(&fw));
    bench_print("store.log_append_batch", (uint64_t)n, &batch, (double)n, "records/s", extra);
    snprintf(extra, sizeof(extra), ",\"record_bytes\":%d,\"what\":\"stdio fwrite loop + fflush + fsync\"", REC);
    bench_print("baseline.fwrite", (uint64_t)n, &fw, (double)n, "records/s", extra);
    bench_rmtree(dir);
    return 0;
}
