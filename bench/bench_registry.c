/*
 * bench_registry: the model registry (issue 5), each figure next to a
 * baseline measured in the same run (DESIGN.md §8). One JSON object per line:
 *
 *  registry.register_1000  1,000 mlops_registry_register calls (artifact
 *                          ids already in the store) into one model of a
 *                          fresh fs store, durability COMMIT: every call
 *                          is a commit point. Target: <= 1 s in total.
 *                          Baseline: 1,000 of the cheapest durable atomic
 *                          updates there are (write a temp file, fsync,
 *                          rename, fsync the directory), which is what any
 *                          durable registration must at least do once.
 *                          Both timed sections start after bench_settle()
 *                          (sync, then a pause: see bench_util.h).
 *  registry.resolve_alias  median time of one mlops_registry_resolve of
 *                          "name@production" (warm; the model has the
 *                          1,000 versions), over 10,000 calls per run.
 *                          Target: <= 50 us. Baseline: the median of
 *                          mlops_ref_get of the model's ref (the floor:
 *                          resolution reads that ref first).
 *  registry.concurrent_8x100
 *                          8 processes registering 100 versions each into
 *                          one model at once: wall time, and a check that
 *                          the versions are exactly 1..800 (the test suite
 *                          checks every artifact and the history too).
 *
 * Usage: bench_registry  (MLOPS_BENCH_RUNS, default 3; MLOPS_BENCH_DIR)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

#define VERSIONS 1000
#define RESOLVES 10000
#define PROCS 8
#define PER_PROC 100

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_registry: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static mlops_store *open_store(const char *path)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = MLOPS_DURABILITY_COMMIT;
    mlops_store *s = NULL;
    int rc = mlops_store_open(&s, path, &o);
    if (rc != 0)
        die("mlops_store_open", rc);
    return s;
}

/* n distinct small artifacts, stored and synced before anything is timed. */
static mlops_oid *put_artifacts(mlops_store *s, int n, int salt)
{
    mlops_oid *ids = calloc((size_t)n, sizeof *ids);
    char buf[128];
    if (!ids)
        die("calloc", MLOPS_ENOMEM);
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "model weights %d/%d", salt, i);
        int rc = mlops_object_put(&ids[i], s, buf, (size_t)len);
        if (rc != 0)
            die("mlops_object_put", rc);
    }
    int rc = mlops_store_sync(s);
    if (rc != 0)
        die("mlops_store_sync", rc);
    return ids;
}

static void register_one(mlops_store *s, const char *model, const mlops_oid *id)
{
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = id;
    o.run_id = "0123456789abcdef0123456789abcdef";
    o.dataset = "bench-data@1";
    int rc = mlops_registry_register(NULL, s, model, &o);
    if (rc != 0)
        die("mlops_registry_register", rc);
}

static double time_registrations(const char *path)
{
    mlops_store *s = open_store(path);
    int rc = mlops_registry_create_model(NULL, s, "bench", NULL, NULL, 0);
    if (rc != 0)
        die("mlops_registry_create_model", rc);
    mlops_oid *ids = put_artifacts(s, VERSIONS, 0);
    double t0 = bench_now();
    for (int i = 0; i < VERSIONS; i++)
        register_one(s, "bench", &ids[i]);
    double t = bench_now() - t0;
    free(ids);
    mlops_store_free(s);
    return t;
}

static double time_baseline(const char *path)
{
    char tmp[4200], dst[4200], line[80];
    if (mkdir(path, 0755) != 0) {
        perror("bench_registry: baseline dir");
        exit(1);
    }
    int dfd = open(path, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        perror("bench_registry: baseline dir");
        exit(1);
    }
    snprintf(tmp, sizeof tmp, "%s/state.tmp", path);
    snprintf(dst, sizeof dst, "%s/state", path);
    double t0 = bench_now();
    for (int i = 0; i < VERSIONS; i++) {
        int len = snprintf(line, sizeof line, "version %d\n", i + 1);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 || write(fd, line, (size_t)len) != len || fsync(fd) != 0 || close(fd) != 0 ||
            rename(tmp, dst) != 0 || fsync(dfd) != 0) {
            perror("bench_registry: baseline");
            exit(1);
        }
    }
    double t = bench_now() - t0;
    close(dfd);
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The model's ref: registry/models/<sha256 hex of the name>. */
static char g_ref[128];

/* Median seconds of one call over RESOLVES calls (resolve, or ref_get). */
static double median_call(mlops_store *s, int resolve)
{
    static double t[RESOLVES];
    mlops_oid id;
    for (int i = 0; i < RESOLVES; i++) {
        double t0 = bench_now();
        int rc;
        if (resolve) {
            mlops_registry_version *v = NULL;
            rc = mlops_registry_resolve(&v, s, "bench@production");
            mlops_registry_version_free(v);
        } else {
            rc = mlops_ref_get(&id, s, g_ref);
        }
        t[i] = bench_now() - t0;
        if (rc != 0)
            die(resolve ? "mlops_registry_resolve" : "mlops_ref_get", rc);
    }
    qsort(t, RESOLVES, sizeof *t, cmp_double);
    return t[RESOLVES / 2];
}

static void bench_resolve(const char *path, int runs)
{
    mlops_store *s = open_store(path);
    int rc = mlops_registry_set_alias(s, "bench", "production", VERSIONS / 2);
    if (rc != 0)
        die("mlops_registry_set_alias", rc);
    mlops_oid id;
    char hex[MLOPS_OID_HEXSZ + 1];
    /* The ref name is the registry's business (docs/FORMAT.md); a failure
     * here only means that layout changed. */
    if ((rc = mlops_oid_hash(&id, "bench", 5)) != 0 || (rc = mlops_oid_tohex(hex, &id)) != 0)
        die("mlops_oid_hash", rc);
    snprintf(g_ref, sizeof g_ref, "registry/models/%s", hex);
    if ((rc = mlops_ref_get(&id, s, g_ref)) != 0)
        die("mlops_ref_get of the model's ref (ref layout changed?)", rc);
    bench_series res = { 0 }, ref = { 0 };
    (void)median_call(s, 1); /* warm */
    for (int r = 0; r < runs; r++) {
        bench_series_add(&res, median_call(s, 1));
        bench_series_add(&ref, median_call(s, 0));
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             ",\"median_us\":%.2f,\"versions\":%d,\"baseline\":\"mlops_ref_get\",\"baseline_us\":%.2f,"
             "\"ratio\":%.2f,\"target_us_max\":50,\"met\":%s",
             bench_series_median(&res) * 1e6, VERSIONS, bench_series_median(&ref) * 1e6,
             bench_series_median(&res) / bench_series_median(&ref),
             bench_series_median(&res) * 1e6 <= 50 ? "true" : "false");
    bench_print("registry.resolve_alias", RESOLVES, &res, 1.0, "calls/s", extra);
    bench_print("baseline.ref_get", RESOLVES, &ref, 1.0, "calls/s", ",\"what\":\"mlops_ref_get, median call\"");
    fprintf(stderr, "  resolve name@alias   median %6.1f us  (ref_get %.1f us; target <= 50 us: %s)\n",
            bench_series_median(&res) * 1e6, bench_series_median(&ref) * 1e6,
            bench_series_median(&res) * 1e6 <= 50 ? "met" : "MISSED");
    mlops_store_free(s);
}

static double time_concurrent(const char *path)
{
    mlops_store *s = open_store(path);
    int rc = mlops_registry_create_model(NULL, s, "shared", NULL, NULL, 0);
    if (rc != 0)
        die("mlops_registry_create_model", rc);
    mlops_oid *ids = put_artifacts(s, PROCS * PER_PROC, 1);
    mlops_store_free(s);
    pid_t pids[PROCS];
    double t0 = bench_now();
    for (int p = 0; p < PROCS; p++) {
        if ((pids[p] = fork()) < 0) {
            perror("bench_registry: fork");
            exit(1);
        }
        if (pids[p] == 0) {
            mlops_store *cs = open_store(path);
            for (int i = 0; i < PER_PROC; i++)
                register_one(cs, "shared", &ids[p * PER_PROC + i]);
            mlops_store_free(cs);
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int st;
        if (waitpid(pids[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bench_registry: a registering process failed\n");
            exit(1);
        }
    }
    double t = bench_now() - t0;
    s = open_store(path);
    mlops_registry_version **vs = NULL;
    size_t n = 0;
    if ((rc = mlops_registry_list_versions(&vs, &n, s, "shared")) != 0)
        die("mlops_registry_list_versions", rc);
    if (n != PROCS * PER_PROC) {
        fprintf(stderr, "bench_registry: %zu versions after the concurrent run, want %d\n", n, PROCS * PER_PROC);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        if (vs[i]->version != i + 1) {
            fprintf(stderr, "bench_registry: version %zu is numbered %llu\n", i + 1,
                    (unsigned long long)vs[i]->version);
            exit(1);
        }
    mlops_registry_version_list_free(vs, n);
    mlops_store_free(s);
    free(ids);
    return t;
}

int main(void)
{
    int runs = bench_runs(3);
    char dir[1024], path[2048], extra[512];
    bench_mkdtemp(dir, sizeof dir, "registry");

    bench_series reg = { 0 }, base = { 0 }, conc = { 0 };
    for (int r = 0; r < runs; r++) {
        snprintf(path, sizeof path, "%s/store-%d", dir, r);
        bench_settle();
        bench_series_add(&reg, time_registrations(path));
        snprintf(path, sizeof path, "%s/base-%d", dir, r);
        bench_settle();
        bench_series_add(&base, time_baseline(path));
    }
    double m = bench_series_median(&reg), b = bench_series_median(&base);
    snprintf(extra, sizeof extra,
             ",\"durability\":\"commit\",\"baseline\":\"write tmp + fsync + rename + fsync dir\","
             "\"baseline_seconds\":%.6f,\"ratio\":%.3f,\"target_seconds_max\":1,\"met\":%s",
             b, m / b, m <= 1.0 ? "true" : "false");
    bench_print("registry.register_1000", VERSIONS, &reg, VERSIONS, "versions/s", extra);
    bench_print("baseline.durable_rename", VERSIONS, &base, VERSIONS, "updates/s",
                ",\"what\":\"write tmp + fsync + rename + fsync dir, 1000 times\"");
    fprintf(stderr, "bench_registry summary (medians, %d runs):\n", runs);
    fprintf(stderr, "  register 1000        %7.3f s  (durable rename x1000 %.3f s, ratio %.2f; target <= 1 s: %s)\n",
            m, b, m / b, m <= 1.0 ? "met" : "MISSED");

    snprintf(path, sizeof path, "%s/store-%d", dir, runs - 1);
    bench_resolve(path, runs);

    for (int r = 0; r < runs; r++) {
        snprintf(path, sizeof path, "%s/concurrent-%d", dir, r);
        bench_series_add(&conc, time_concurrent(path));
    }
    bench_print("registry.concurrent_8x100", PROCS * PER_PROC, &conc, PROCS * PER_PROC, "versions/s",
                ",\"processes\":8,\"check\":\"versions exactly 1..800\"");
    fprintf(stderr, "  8 x 100 concurrent   %7.3f s  (versions exactly 1..800)\n", bench_series_median(&conc));
    bench_rmtree(dir);
    return 0;
}
