/*
 * Search benchmark (issue 3 target: one metric clause and one param clause
 * over 10,000 runs in at most 200 ms). Baseline in the same run: reading
 * every run record with mlops_run_get, which is the work a search without
 * an index cannot avoid, so the ratio shows what filtering and sorting add.
 *
 * Usage: bench_search [runs]  (or MLOPS_BENCH_SEARCH_RUNS, default 10000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlops.h>

#include "bench_util.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_search: %s: %s (%s)\n", what, mlops_error_last(), mlops_error_name(rc));
    exit(1);
}

/* Runs with lr in {0.001, 0.01, 0.1} and an accuracy spread over [0, 1). */
static void populate(mlops_store *s, const char *exp_id, long n)
{
    static const char *rates[] = { "0.001", "0.01", "0.1" };
    uint64_t seed = 7;
    for (long i = 0; i < n; i++) {
        mlops_run *run = NULL;
        int rc = mlops_run_start(&run, s, exp_id, NULL);
        if (rc == 0)
            rc = mlops_run_log_param(run, "lr", rates[i % 3]);
        if (rc == 0)
            rc = mlops_run_log_metric(run, "acc", (double)(bench_rand64(&seed) % 1000) / 1000.0, 0, 1000);
        if (rc == 0)
            rc = mlops_run_end(run, MLOPS_RUN_FINISHED);
        mlops_run_free(run);
        if (rc < 0)
            die("populate", rc);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : bench_env_long("MLOPS_BENCH_SEARCH_RUNS", 10000);
    char dir[512];
    bench_mkdtemp(dir, sizeof dir, "search");
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = MLOPS_DURABILITY_NONE; /* setup speed only: search reads */
    mlops_store *s = NULL;
    mlops_experiment *e = NULL;
    int rc = mlops_store_open(&s, dir, &o);
    if (rc == 0)
        rc = mlops_experiment_get_or_create(&e, s, "bench");
    if (rc < 0)
        die("setup", rc);
    populate(s, e->id, n);
    const char *exps[] = { e->id };
    const char *order[] = { "metrics.acc DESC" };
    mlops_search_options so = MLOPS_SEARCH_OPTIONS_INIT;
    so.filter = "metrics.acc > 0.9 and params.lr = '0.01'";
    so.order_by = order;
    so.norder_by = 1;
    bench_series search = { { 0 }, 0 }, read_all = { { 0 }, 0 };
    size_t found = 0;
    int runs = bench_runs(5);
    for (int r = 0; r < runs; r++) {
        mlops_run_list list;
        double t0 = bench_now();
        if ((rc = mlops_run_search(&list, s, exps, 1, &so)) < 0)
            die("search", rc);
        bench_series_add(&search, bench_now() - t0);
        found = list.count;
        mlops_run_list_free(&list);

        /* baseline: every record read once, no filtering */
        mlops_run_list all;
        mlops_search_options none = MLOPS_SEARCH_OPTIONS_INIT;
        none.max_results = 50000;
        t0 = bench_now();
        if ((rc = mlops_run_search(&all, s, exps, 1, &none)) < 0)
            die("list", rc);
        bench_series_add(&read_all, bench_now() - t0);
        mlops_run_list_free(&all);
    }
    char extra[256];
    snprintf(extra, sizeof extra, ",\"matches\":%zu,\"ms\":%.1f,\"target_ms\":200,\"met\":%s,\"ratio_vs_read_all\":%.3f",
             found, bench_series_median(&search) * 1000, bench_series_median(&search) <= 0.2 ? "true" : "false",
             bench_series_median(&search) / bench_series_median(&read_all));
    bench_print("track.search", (uint64_t)n, &search, (double)n, "runs/s", extra);
    bench_print("baseline.read_all_runs", (uint64_t)n, &read_all, (double)n, "runs/s",
                ",\"what\":\"search with no filter and no order: every record read\"");
    mlops_experiment_free(e);
    mlops_store_free(s);
    bench_rmtree(dir);
    return 0;
}
