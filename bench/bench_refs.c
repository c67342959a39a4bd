/*
 * bench_refs: ref compare-and-swap updates per second in one process, fs
 * store, for one ref updated over and over and for many refs (1000) updated
 * in turn, with durability COMMIT (every update is a commit point: fsynced
 * before it returns) and NONE.
 * Baseline: the cheapest atomic file replacement, i.e. write a temp file,
 * rename it over the target (plus fsync of the file and of the directory
 * for COMMIT), with no lock and no compare step.
 *
 * Usage: bench_refs  (MLOPS_BENCH_REFS_N: updates per run with COMMIT,
 * default 2000; NONE does 10x as many; MLOPS_BENCH_RUNS, default 3).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

#define MANY 1000

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_refs: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static double run_store(const char *path, long n, int nrefs, mlops_durability durability)
{
    mlops_store_options opts = MLOPS_STORE_OPTIONS_INIT;
    mlops_store *s = NULL;
    mlops_oid ids[2];
    unsigned char *cur = calloc((size_t)nrefs, 1); /* which of ids[] each ref holds */
    char name[64];
    double t0;
    int rc;

    opts.durability = durability;
    if (!cur || (rc = mlops_store_open(&s, path, &opts)) != 0)
        die("mlops_store_open", cur ? rc : MLOPS_ENOMEM);
    if ((rc = mlops_object_put(&ids[0], s, "a", 1)) != 0 || (rc = mlops_object_put(&ids[1], s, "b", 1)) != 0)
        die("mlops_object_put", rc);
    for (int k = 0; k < nrefs; k++) {
        snprintf(name, sizeof(name), "bench/ref-%04d", k);
        if ((rc = mlops_ref_set(s, name, &ids[0], NULL)) != 0)
            die("mlops_ref_set", rc);
    }
    t0 = bench_now();
    for (long i = 0; i < n; i++) {
        int k = (int)(i % nrefs);
        snprintf(name, sizeof(name), "bench/ref-%04d", k);
        if ((rc = mlops_ref_set(s, name, &ids[!cur[k]], &ids[cur[k]])) != 0)
            die("mlops_ref_set", rc);
        cur[k] = !cur[k];
    }
    t0 = bench_now() - t0;
    mlops_store_free(s);
    free(cur);
    return t0;
}

static double run_baseline(const char *path, long n, int nrefs, int durable)
{
    char tmp[4200], dst[4200];
    char line[66];
    double t0;
    int dfd;

    if (mkdir(path, 0755) != 0 || (dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
        perror("bench_refs: baseline dir");
        exit(1);
    }
    memset(line, 'a', 64);
    line[64] = '\n';
    snprintf(tmp, sizeof(tmp), "%s/ref.tmp", path);
    t0 = bench_now();
    for (long i = 0; i < n; i++) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
        line[0] = (char)('a' + (i & 1));
        snprintf(dst, sizeof(dst), "%s/ref-%04d", path, (int)(i % nrefs));
        if (fd < 0 || write(fd, line, 65) != 65 || (durable && fsync(fd) != 0) || close(fd) != 0 ||
            rename(tmp, dst) != 0 || (durable && fsync(dfd) != 0)) {
            perror("bench_refs: baseline");
            exit(1);
        }
    }
    t0 = bench_now() - t0;
    close(dfd);
    return t0;
}

int main(void)
{
    long n_commit = bench_env_long("MLOPS_BENCH_REFS_N", 2000);
    int runs = bench_runs(3);
    char dir[1024], path[2048], extra[512];
    static const struct {
        const char *name;
        mlops_durability d;
    } modes[] = {{"commit", MLOPS_DURABILITY_COMMIT}, {"none", MLOPS_DURABILITY_NONE}};

    bench_mkdtemp(dir, sizeof(dir), "refs");
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        long n = modes[m].d == MLOPS_DURABILITY_NONE ? n_commit * 10 : n_commit;
        for (int nrefs = 1; nrefs <= MANY; nrefs *= MANY) {
            bench_series st = {0}, base = {0};
            for (int r = 0; r < runs; r++) {
                snprintf(path, sizeof(path), "%s/store-%s-%d-%d", dir, modes[m].name, nrefs, r);
                bench_series_add(&st, run_store(path, n, nrefs, modes[m].d));
                snprintf(path, sizeof(path), "%s/base-%s-%d-%d", dir, modes[m].name, nrefs, r);
                bench_series_add(&base, run_baseline(path, n, nrefs, modes[m].d != MLOPS_DURABILITY_NONE));
            }
            snprintf(extra, sizeof(extra), ",\"durability\":\"%s\",\"refs\":%d,\"ratio_vs_rename_baseline\":%.3f",
                     modes[m].name, nrefs, bench_series_median(&st) / bench_series_median(&base));
            bench_print("store.ref_cas", (uint64_t)n, &st, (double)n, "updates/s", extra);
            snprintf(extra, sizeof(extra),
                     ",\"durability\":\"%s\",\"refs\":%d,\"what\":\"write tmp%s + rename%s\"", modes[m].name,
                     nrefs, modes[m].d != MLOPS_DURABILITY_NONE ? " + fsync" : "",
                     modes[m].d != MLOPS_DURABILITY_NONE ? " + fsync dir" : "");
            bench_print("baseline.rename", (uint64_t)n, &base, (double)n, "updates/s", extra);
        }
    }
    bench_rmtree(dir);
    return 0;
}
