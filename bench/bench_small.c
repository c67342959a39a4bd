/*
 * bench_small: many puts of small objects (default 100,000 x 4 KiB of
 * distinct incompressible content) into a fresh store, with durability
 * COMMIT (the default) and one mlops_store_sync() at the end inside the
 * timing: the puts are durable only once that commit point returns.
 * Also measured: the same with durability NONE (no sync), and a baseline of
 * the cheapest durable way to write as many files: create + write + close
 * each file (256 fan-out directories), then one syncfs().
 * Target (issue 2): >= 20,000 objects/s with durability COMMIT.
 *
 * Every run writes into a fresh directory; trees are deleted only at the
 * end (on this ext4 without journal, file creation is slow for a while
 * after a mass delete, DESIGN.md §8).
 *
 * Usage: bench_small [count]  (or MLOPS_BENCH_SMALL_N, default 100000;
 * MLOPS_BENCH_RUNS, default 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

#define OBJ_SIZE 4096

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_small: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

/* Object i: a shared random block with its first 16 bytes made unique. */
static void make_object(unsigned char *obj, const unsigned char *base, uint64_t i, uint64_t *state)
{
    uint64_t r = bench_rand64(state);
    memcpy(obj, base, OBJ_SIZE);
    memcpy(obj, &i, 8);
    memcpy(obj + 8, &r, 8);
}

static double run_store(const char *path, long n, mlops_durability durability, const unsigned char *base)
{
    mlops_store_options opts = MLOPS_STORE_OPTIONS_INIT;
    unsigned char obj[OBJ_SIZE];
    uint64_t state = 42;
    mlops_store *s = NULL;
    mlops_oid id;
    double t0;
    int rc;

    opts.durability = durability;
    if ((rc = mlops_store_open(&s, path, &opts)) != 0)
        die("mlops_store_open", rc);
    t0 = bench_now();
    for (long i = 0; i < n; i++) {
        make_object(obj, base, (uint64_t)i, &state);
        if ((rc = mlops_object_put(&id, s, obj, sizeof(obj))) != 0)
            die("mlops_object_put", rc);
    }
    if ((rc = mlops_store_sync(s)) != 0)
        die("mlops_store_sync", rc);
    t0 = bench_now() - t0;
    mlops_store_free(s);
    return t0;
}

static double run_baseline(const char *path, long n, const unsigned char *base)
{
    unsigned char obj[OBJ_SIZE];
    char name[4200];
    uint64_t state = 42;
    double t0;
    int dfd;

    if (mkdir(path, 0755) != 0) {
        perror("bench_small: mkdir");
        exit(1);
    }
    t0 = bench_now();
    for (int d = 0; d < 256; d++) {
        snprintf(name, sizeof(name), "%s/%02x", path, d);
        if (mkdir(name, 0755) != 0) {
            perror("bench_small: mkdir");
            exit(1);
        }
    }
    for (long i = 0; i < n; i++) {
        int fd;
        make_object(obj, base, (uint64_t)i, &state);
        snprintf(name, sizeof(name), "%s/%02lx/%08lx", path, (unsigned long)(i & 0xff), (unsigned long)i);
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 || write(fd, obj, sizeof(obj)) != (ssize_t)sizeof(obj) || close(fd) != 0) {
            perror("bench_small: baseline write");
            exit(1);
        }
    }
    dfd = open(path, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || syncfs(dfd) != 0) {
        perror("bench_small: syncfs");
        exit(1);
    }
    close(dfd);
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : bench_env_long("MLOPS_BENCH_SMALL_N", 100000);
    int runs = bench_runs(3);
    unsigned char base[OBJ_SIZE];
    uint64_t state = 7;
    char dir[1024], path[2048], extra[512];
    bench_series commit = {0}, none = {0}, files = {0};

    if (n <= 0) {
        fprintf(stderr, "usage: bench_small [count]\n");
        return 2;
    }
    bench_fill_random(base, sizeof(base), &state);
    bench_mkdtemp(dir, sizeof(dir), "small");
    for (int r = 0; r < runs; r++) {
        snprintf(path, sizeof(path), "%s/commit-%d", dir, r);
        bench_series_add(&commit, run_store(path, n, MLOPS_DURABILITY_COMMIT, base));
        snprintf(path, sizeof(path), "%s/files-%d", dir, r);
        bench_series_add(&files, run_baseline(path, n, base));
        snprintf(path, sizeof(path), "%s/none-%d", dir, r);
        bench_series_add(&none, run_store(path, n, MLOPS_DURABILITY_NONE, base));
    }
    {
        double c = bench_series_median(&commit), rate = (double)n / c;
        snprintf(extra, sizeof(extra),
                 ",\"object_bytes\":%d,\"durability\":\"commit\",\"target_rate_min\":20000,\"met\":%s,"
                 "\"ratio_vs_files_syncfs\":%.3f,\"ratio_vs_durability_none\":%.3f",
                 OBJ_SIZE, rate >= 20000.0 ? "true" : "false", c / bench_series_median(&files),
                 c / bench_series_median(&none));
        bench_print("store.put_small", (uint64_t)n, &commit, (double)n, "objects/s", extra);
        snprintf(extra, sizeof(extra), ",\"object_bytes\":%d,\"durability\":\"none\"", OBJ_SIZE);
        bench_print("store.put_small", (uint64_t)n, &none, (double)n, "objects/s", extra);
        snprintf(extra, sizeof(extra),
                 ",\"object_bytes\":%d,\"what\":\"create+write+close per file, 256 dirs, one syncfs\"",
                 OBJ_SIZE);
        bench_print("baseline.files_syncfs", (uint64_t)n, &files, (double)n, "objects/s", extra);
    }
    if (!getenv("MLOPS_BENCH_KEEP"))
        bench_rmtree(dir);
    return 0;
}
