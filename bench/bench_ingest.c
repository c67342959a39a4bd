/*
 * bench_ingest: mlops_object_put_file() of a large file, with durability
 * COMMIT (the default) and mlops_store_sync() inside the timing, because a
 * put is durable only once the next commit point returns.
 *
 * Baselines, measured in the same run on the same file and filesystem:
 *  - a durable copy (read + write + fsync + directory fsync: `cp` + `sync`)
 *    done in-process, and the same with the commands `cp SRC DST && sync DST`
 *    (coreutils; `sync FILE` fsyncs just that file, so other processes'
 *    dirty data do not count);
 *  - OpenSSL SHA-256 alone over the file (EVP);
 *  - `git hash-object -w` into a fresh `git init` repository.
 * Targets (issue 2): put <= 1.3x the durable copy, >= 3x faster than git,
 * resident memory during the put < 64 MiB above the baseline.
 *
 * Usage: bench_ingest [size_mb]   (or MLOPS_BENCH_SIZE_MB, default 1024;
 * MLOPS_BENCH_RUNS, default 3; MLOPS_BENCH_DIR for the scratch directory).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

static uint64_t g_du;

static int du_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_F)
        g_du += (uint64_t)st->st_size;
    return 0;
}

/* Sum of the sizes of the regular files under path. */
static uint64_t du(const char *path)
{
    g_du = 0;
    nftw(path, du_one, 64, FTW_PHYS);
    return g_du;
}

static void tohex(char out[65], const unsigned char d[32])
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static int have_git(void)
{
    return system("git --version >/dev/null 2>&1") == 0;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_ingest: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static void bench_kind(const char *dir, const char *kind, uint64_t size, int runs, int git)
{
    char src[4096], copy[4096], store_dir[4096], repo[4096], cmd[16384], extra[1024], hex[65], sha_hex[65];
    unsigned char digest[32];
    bench_series cp = {0}, cpcmd = {0}, sha = {0}, put = {0}, gitx = {0};
    long rss_extra_max = -1, rss_base = -1;
    uint64_t stored = 0;
    int hwm_ok = 1;

    snprintf(src, sizeof(src), "%s/%s.bin", dir, kind);
    snprintf(copy, sizeof(copy), "%s/%s.copy", dir, kind);
    fprintf(stderr, "bench_ingest: generating %llu MiB of %s data in %s\n",
            (unsigned long long)(size >> 20), kind, src);
    bench_make_file(src, size, kind);
    bench_warm(src);

    for (int r = 0; r < runs; r++) {
        mlops_store *s = NULL;
        mlops_oid id;
        double t0;
        int rc;

        /* Durable copy. */
        t0 = bench_now();
        if (bench_durable_copy(src, copy) != 0) {
            perror("bench_ingest: durable copy");
            exit(1);
        }
        bench_series_add(&cp, bench_now() - t0);
        unlink(copy);

        /* The same with the cp and sync commands. */
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && sync '%s'", src, copy, copy);
        t0 = bench_now();
        if (system(cmd) == 0)
            bench_series_add(&cpcmd, bench_now() - t0);
        unlink(copy);

        /* SHA-256 alone. */
        t0 = bench_now();
        if (bench_sha256_file(src, digest) != 0) {
            perror("bench_ingest: sha256");
            exit(1);
        }
        bench_series_add(&sha, bench_now() - t0);
        tohex(sha_hex, digest);

        /* The put, into a fresh store, with its commit point. */
        snprintf(store_dir, sizeof(store_dir), "%s/store-%s-%d", dir, kind, r);
        if ((rc = mlops_store_open(&s, store_dir, NULL)) != 0)
            die("mlops_store_open", rc);
        rss_base = bench_vm_kib("VmRSS");
        if (bench_reset_hwm() != 0)
            hwm_ok = 0;
        t0 = bench_now();
        if ((rc = mlops_object_put_file(&id, s, src)) != 0)
            die("mlops_object_put_file", rc);
        if ((rc = mlops_store_sync(s)) != 0)
            die("mlops_store_sync", rc);
        bench_series_add(&put, bench_now() - t0);
        if (hwm_ok) {
            long extra_kib = bench_vm_kib("VmHWM") - rss_base;
            if (extra_kib > rss_extra_max)
                rss_extra_max = extra_kib;
        }
        mlops_store_free(s);
        mlops_oid_tohex(hex, &id);
        if (strcmp(hex, sha_hex) != 0) {
            fprintf(stderr, "bench_ingest: id %s != sha256 %s\n", hex, sha_hex);
            exit(1);
        }
        stored = du(store_dir);
        bench_rmtree(store_dir);

        /* git hash-object -w into a fresh repository. */
        if (git) {
            snprintf(repo, sizeof(repo), "%s/git-%s-%d", dir, kind, r);
            snprintf(cmd, sizeof(cmd), "git init -q '%s'", repo);
            if (system(cmd) != 0) {
                git = 0;
            } else {
                snprintf(cmd, sizeof(cmd), "git -C '%s' hash-object -w '%s' >/dev/null", repo, src);
                t0 = bench_now();
                if (system(cmd) != 0)
                    git = 0;
                else
                    bench_series_add(&gitx, bench_now() - t0);
                bench_rmtree(repo);
            }
        }
    }

    {
        double p = bench_series_median(&put), c = bench_series_median(&cp), h = bench_series_median(&sha);
        double put_vs_cp = p / c;
        int n = snprintf(extra, sizeof(extra),
                         ",\"file\":\"%s\",\"durability\":\"commit\",\"stored_bytes\":%llu,"
                         "\"ratio_put_vs_cp\":%.3f,\"target_put_vs_cp_max\":1.3,\"met_put_vs_cp\":%s,"
                         "\"ratio_put_vs_sha256\":%.3f",
                         kind, (unsigned long long)stored, put_vs_cp, put_vs_cp <= 1.3 ? "true" : "false",
                         p / h);
        if (cpcmd.n > 0) {
            double r = p / bench_series_median(&cpcmd);
            n += snprintf(extra + n, sizeof(extra) - (size_t)n,
                          ",\"ratio_put_vs_cp_sync_cmd\":%.3f,\"met_put_vs_cp_sync_cmd\":%s", r,
                          r <= 1.3 ? "true" : "false");
        }
        if (gitx.n > 0) {
            double g = bench_series_median(&gitx) / p;
            n += snprintf(extra + n, sizeof(extra) - (size_t)n,
                          ",\"ratio_git_vs_put\":%.3f,\"target_git_vs_put_min\":3,\"met_git_vs_put\":%s", g,
                          g >= 3.0 ? "true" : "false");
        }
        if (hwm_ok && rss_extra_max >= 0)
            snprintf(extra + n, sizeof(extra) - (size_t)n,
                     ",\"rss_baseline_mib\":%.1f,\"rss_above_baseline_mib\":%.1f,\"target_rss_mib_max\":64,"
                     "\"met_rss\":%s",
                     rss_base / 1024.0, rss_extra_max / 1024.0, rss_extra_max < 64 * 1024 ? "true" : "false");
        bench_print("store.put_file", size, &put, (double)size, "MB/s", extra);
    }
    snprintf(extra, sizeof(extra), ",\"file\":\"%s\",\"what\":\"read+write+fsync file+fsync dir\"", kind);
    bench_print("baseline.durable_copy", size, &cp, (double)size, "MB/s", extra);
    if (cpcmd.n > 0) {
        snprintf(extra, sizeof(extra), ",\"file\":\"%s\",\"what\":\"cp SRC DST && sync DST\"", kind);
        bench_print("baseline.cp_sync_cmd", size, &cpcmd, (double)size, "MB/s", extra);
    }
    snprintf(extra, sizeof(extra), ",\"file\":\"%s\",\"what\":\"OpenSSL EVP SHA-256 of the file\"", kind);
    bench_print("baseline.sha256", size, &sha, (double)size, "MB/s", extra);
    if (gitx.n > 0) {
        snprintf(extra, sizeof(extra), ",\"file\":\"%s\",\"what\":\"git hash-object -w, fresh repo\"", kind);
        bench_print("baseline.git_hash_object", size, &gitx, (double)size, "MB/s", extra);
    } else {
        bench_note("baseline.git_hash_object", "skipped: git not available");
    }
    if (!hwm_ok)
        bench_note("store.put_file", "resident memory not measured: /proc/self/clear_refs unavailable");
    unlink(src);
}

int main(int argc, char **argv)
{
    long mb = argc > 1 ? atol(argv[1]) : bench_env_long("MLOPS_BENCH_SIZE_MB", 1024);
    int runs = bench_runs(3), git = have_git();
    char dir[1024];

    if (mb <= 0) {
        fprintf(stderr, "usage: bench_ingest [size_mb]\n");
        return 2;
    }
    bench_mkdtemp(dir, sizeof(dir), "ingest");
    bench_kind(dir, "semi", (uint64_t)mb << 20, runs, git);
    bench_kind(dir, "random", (uint64_t)mb << 20, runs, git);
    bench_rmtree(dir);
    return 0;
}
