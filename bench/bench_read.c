/*
 * bench_read: reading a large object back with hash verification, from the
 * page cache (the object was just written, and one untimed read warms it).
 *
 *  - store.get_file: mlops_object_get_file() into a new file (verified
 *    before the file is published). With durability COMMIT (the default)
 *    get_file also fsyncs the restored file, so that figure includes a disk
 *    write; the same call on a handle with durability NONE measures reading
 *    from the page cache;
 *  - store.reader: mlops_object_reader_read() to the end into a 1 MiB
 *    buffer (verified at the end);
 * Baselines: OpenSSL SHA-256 alone over the source file, and a plain copy
 * of the source file (read + write, no fsync), the floor for get_file.
 * Target (issue 2): >= 1 GB/s with verification from the page cache.
 *
 * Usage: bench_read [size_mb]   (or MLOPS_BENCH_SIZE_MB, default 1024;
 * MLOPS_BENCH_RUNS, default 5).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_read: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static int plain_copy(const char *src, const char *dst)
{
    static char buf[1 << 20];
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc = -1;
    ssize_t n;
    if (in < 0 || out < 0)
        goto done;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            goto done;
    rc = n == 0 ? 0 : -1;
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static double read_all(mlops_object_reader *r, char *buf, size_t cap)
{
    size_t n = 0;
    uint64_t total = 0;
    int rc;
    do {
        if ((rc = mlops_object_reader_read(&n, r, buf, cap)) != 0)
            die("mlops_object_reader_read", rc);
        total += n;
    } while (n > 0);
    return (double)total;
}

int main(int argc, char **argv)
{
    long mb = argc > 1 ? atol(argv[1]) : bench_env_long("MLOPS_BENCH_SIZE_MB", 1024);
    int runs = bench_runs(5), rc;
    uint64_t size;
    char dir[1024], src[2048], out[2048], store_dir[2048], extra[512];
    unsigned char digest[32];
    bench_series get = {0}, get_none = {0}, rd = {0}, sha = {0}, cp = {0};
    mlops_store_options none_opts = MLOPS_STORE_OPTIONS_INIT;
    mlops_store *s = NULL, *s_none = NULL;
    mlops_object_reader *r = NULL;
    mlops_oid id;
    char *buf = malloc(1 << 20);

    if (mb <= 0 || !buf) {
        fprintf(stderr, "usage: bench_read [size_mb]\n");
        return 2;
    }
    size = (uint64_t)mb << 20;
    bench_mkdtemp(dir, sizeof(dir), "read");
    snprintf(src, sizeof(src), "%s/src.bin", dir);
    snprintf(out, sizeof(out), "%s/out.bin", dir);
    snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
    fprintf(stderr, "bench_read: generating %ld MiB in %s\n", mb, src);
    bench_make_file(src, size, "random");

    if ((rc = mlops_store_open(&s, store_dir, NULL)) != 0)
        die("mlops_store_open", rc);
    if ((rc = mlops_object_put_file(&id, s, src)) != 0)
        die("mlops_object_put_file", rc);
    if ((rc = mlops_store_sync(s)) != 0)
        die("mlops_store_sync", rc);
    none_opts.durability = MLOPS_DURABILITY_NONE;
    if ((rc = mlops_store_open(&s_none, store_dir, &none_opts)) != 0)
        die("mlops_store_open", rc);
    /* Warm-up (untimed): brings the stored object into the page cache. */
    if ((rc = mlops_object_get_file(s, &id, out)) != 0)
        die("mlops_object_get_file", rc);
    unlink(out);
    bench_warm(src);

    for (int i = 0; i < runs; i++) {
        double t0 = bench_now();
        if ((rc = mlops_object_get_file(s, &id, out)) != 0)
            die("mlops_object_get_file", rc);
        bench_series_add(&get, bench_now() - t0);
        unlink(out);

        t0 = bench_now();
        if ((rc = mlops_object_get_file(s_none, &id, out)) != 0)
            die("mlops_object_get_file", rc);
        bench_series_add(&get_none, bench_now() - t0);
        unlink(out);

        t0 = bench_now();
        if ((rc = mlops_object_reader_open(&r, s, &id)) != 0)
            die("mlops_object_reader_open", rc);
        if (read_all(r, buf, 1 << 20) != (double)size) {
            fprintf(stderr, "bench_read: short read\n");
            return 1;
        }
        mlops_object_reader_free(r);
        bench_series_add(&rd, bench_now() - t0);

        t0 = bench_now();
        if (bench_sha256_file(src, digest) != 0) {
            perror("bench_read: sha256");
            return 1;
        }
        bench_series_add(&sha, bench_now() - t0);

        t0 = bench_now();
        if (plain_copy(src, out) != 0) {
            perror("bench_read: copy");
            return 1;
        }
        bench_series_add(&cp, bench_now() - t0);
        unlink(out);
    }

    {
        double gn = bench_series_median(&get_none), gnbs = (double)size / gn / 1e9;
        double g = bench_series_median(&get), rr = bench_series_median(&rd), h = bench_series_median(&sha);
        double c = bench_series_median(&cp), gbs = (double)size / g / 1e9, rgbs = (double)size / rr / 1e9;
        snprintf(extra, sizeof(extra),
                 ",\"durability\":\"commit\",\"fsync_of_output\":true,\"verified\":true,\"gb_per_s\":%.3f,"
                 "\"ratio_vs_sha256\":%.3f,\"ratio_vs_plain_copy\":%.3f",
                 gbs, g / h, g / c);
        bench_print("store.get_file", size, &get, (double)size, "MB/s", extra);
        snprintf(extra, sizeof(extra),
                 ",\"durability\":\"none\",\"verified\":true,\"gb_per_s\":%.3f,\"target_gb_per_s_min\":1.0,"
                 "\"met\":%s,\"ratio_vs_sha256\":%.3f,\"ratio_vs_plain_copy\":%.3f",
                 gnbs, gnbs >= 1.0 ? "true" : "false", gn / h, gn / c);
        bench_print("store.get_file", size, &get_none, (double)size, "MB/s", extra);
        snprintf(extra, sizeof(extra),
                 ",\"verified\":true,\"gb_per_s\":%.3f,\"target_gb_per_s_min\":1.0,\"met\":%s,"
                 "\"ratio_vs_sha256\":%.3f",
                 rgbs, rgbs >= 1.0 ? "true" : "false", rr / h);
        bench_print("store.reader", size, &rd, (double)size, "MB/s", extra);
        bench_print("baseline.sha256", size, &sha, (double)size, "MB/s",
                    ",\"what\":\"OpenSSL EVP SHA-256 of the source file\"");
        bench_print("baseline.plain_copy", size, &cp, (double)size, "MB/s",
                    ",\"what\":\"read+write into a new file, no fsync\"");
    }
    mlops_store_free(s_none);
    mlops_store_free(s);
    free(buf);
    bench_rmtree(dir);
    return 0;
}
