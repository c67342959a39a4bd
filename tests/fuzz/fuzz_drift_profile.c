/*
 * Fuzz target: the decoder of serialized drift profiles
 * (lib/drift/profile_codec.c), whatever bytes an attacker stores and a
 * monitoring job loads with mlops_drift_profile_load.
 *
 * Input: [ctl byte][bytes]. With ctl bit 0 set, the bytes are a profile
 * without its 4-byte trailer and the harness appends the right CRC-32, so
 * that the fuzzer explores the decoder's checks instead of the checksum;
 * with it clear, the bytes are decoded as they are.
 * Oracles: the only failures are MLOPS_ECORRUPT, MLOPS_EUNSUPPORTED and
 * MLOPS_ENOMEM; an accepted profile encodes back to exactly the same bytes,
 * and everything a caller may then do with it works without a crash:
 * stats, quantiles and CDF, compare with itself, merge with itself and
 * more values or codes (0, or EINVALID when the counts would pass 2^64),
 * and a second round trip.
 *
 * Seeds (corpus/drift_profile/): encoded profiles of every shape, written
 * by this file built with -DFUZZ_DRIFT_PROFILE_WRITE_SEEDS:
 *   cc -DFUZZ_DRIFT_PROFILE_WRITE_SEEDS -Iinclude -Ilib \
 *      tests/fuzz/fuzz_drift_profile.c build/libmlops_internal.a \
 *      -lz -lcrypto -lm -lpthread -o /tmp/seeds && /tmp/seeds tests/fuzz/corpus/drift_profile
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <mlops.h>
#include <mlops/drift.h>

#ifndef FUZZ_DRIFT_PROFILE_WRITE_SEEDS
#include "fuzz_backend.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_DRIFT_PROFILE_WRITE_SEEDS

static void check(int rc, int also_ok)
{
    fuzz_check_rc(rc);
    if (rc != 0 && rc != MLOPS_ENOMEM && rc != also_ok)
        abort();
}

static void exercise(mlops_drift_profile *p, const unsigned char *blob, size_t len)
{
    void *again = NULL;
    size_t alen = 0;
    int rc = mlops_drift_profile_encode(&again, &alen, p);
    check(rc, 0);
    if (rc == 0 && (alen != len || memcmp(again, blob, len) != 0))
        abort(); /* accepted but not canonical */
    mlops_free(again);

    mlops_drift_profile_stats st;
    if (mlops_drift_profile_stats_get(&st, p) != 0)
        abort();
    fuzz_touch(&st, sizeof st);
    if (st.type == MLOPS_DRIFT_NUMERIC) {
        const uint64_t *h;
        size_t nh;
        if (mlops_drift_profile_histogram(&h, &nh, p) != 0)
            abort();
        fuzz_touch(h, nh * sizeof *h);
        if (st.count) {
            for (int i = 0; i <= 4; i++) {
                double v, c;
                check(mlops_drift_profile_quantile(&v, p, i / 4.0), 0);
                if (mlops_drift_profile_cdf(&c, p, st.min / 2 + st.max / 2 + (i - 2) * st.max) != 0)
                    abort();
                if (!(c >= 0 && c <= 1))
                    abort();
            }
        }
        const double more[] = { -1.5, 0, 2.25, 1e300 };
        check(mlops_drift_profile_add(p, more, 4), MLOPS_EINVALID); /* EINVALID: counts overflow */
    } else {
        const int64_t *codes;
        const uint64_t *counts;
        size_t n;
        if (mlops_drift_profile_categories(&codes, &counts, &n, p) != 0)
            abort();
        fuzz_touch(codes, n * sizeof *codes);
        const int64_t more[] = { 0, 5, -1, INT64_MAX };
        check(mlops_drift_profile_add_codes(p, more, 4), MLOPS_EINVALID);
    }
    mlops_drift_profile_drift d;
    check(mlops_drift_profile_compare(&d, p, p), MLOPS_EINVALID); /* EINVALID: empty */
    check(mlops_drift_profile_merge(p, p), MLOPS_EINVALID);      /* EINVALID: overflow */

    /* What it became still round-trips. */
    rc = mlops_drift_profile_encode(&again, &alen, p);
    check(rc, 0);
    if (rc == 0) {
        mlops_drift_profile *q = NULL;
        rc = mlops_drift_profile_decode(&q, again, alen);
        check(rc, 0);
        mlops_drift_profile_free(q);
        mlops_free(again);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    size_t len = size - 1;
    unsigned char *blob = malloc(len + 4);
    if (!blob)
        return 0;
    memcpy(blob, data + 1, len);
    if (data[0] & 1) {
        uint32_t c = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), blob, len);
        for (int i = 0; i < 4; i++)
            blob[len + i] = (unsigned char)(c >> (8 * i));
        len += 4;
    }
    mlops_drift_profile *p = NULL;
    int rc = mlops_drift_profile_decode(&p, blob, len);
    fuzz_check_rc(rc);
    if (rc != 0 && rc != MLOPS_ECORRUPT && rc != MLOPS_EUNSUPPORTED && rc != MLOPS_ENOMEM)
        abort();
    if ((rc == 0) != (p != NULL))
        abort();
    if (rc == 0)
        exercise(p, blob, len);
    mlops_drift_profile_free(p);
    free(blob);
    return 0;
}

#else /* FUZZ_DRIFT_PROFILE_WRITE_SEEDS */

static void write_seed(const char *dir, const char *name, const mlops_drift_profile *p, int raw)
{
    void *b = NULL;
    size_t len = 0;
    if (mlops_drift_profile_encode(&b, &len, p) != 0)
        exit(1);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    unsigned char ctl = raw ? 0 : 1;
    /* ctl 1: the trailer is left for the harness to compute */
    if (!f || fwrite(&ctl, 1, 1, f) != 1 || fwrite(b, 1, raw ? len : len - 4, f) != (raw ? len : len - 4))
        exit(1);
    fclose(f);
    mlops_free(b);
}

static mlops_drift_profile *numeric(const double *edges, size_t nedges, uint32_t k)
{
    mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
    o.edges = edges;
    o.nedges = nedges;
    o.sketch_k = k;
    mlops_drift_profile *p = NULL;
    if (mlops_drift_profile_new(&p, &o) != 0)
        exit(1);
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const double edges[] = { -2, -1, 0, 1, 2 };
    double x[600];
    uint64_t st = 7;
    for (int i = 0; i < 600; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (double)(int64_t)(st >> 40) / (double)(1 << 22) - 2;
    }
    mlops_drift_profile *p = numeric(NULL, 0, 64);
    write_seed(argv[1], "numeric_empty", p, 0);
    if (mlops_drift_profile_add(p, x, 5) != 0)
        exit(1);
    write_seed(argv[1], "numeric_five", p, 0);
    write_seed(argv[1], "numeric_five_raw", p, 1);
    mlops_drift_profile_free(p);
    p = numeric(edges, 5, 64);
    if (mlops_drift_profile_add(p, x, 600) != 0)
        exit(1);
    write_seed(argv[1], "numeric_levels", p, 0);
    mlops_drift_profile *q = numeric(edges, 5, 64);
    if (mlops_drift_profile_add(q, x + 100, 333) != 0 || mlops_drift_profile_merge(q, p) != 0)
        exit(1);
    write_seed(argv[1], "numeric_merged", q, 0);
    mlops_drift_profile_free(p);
    mlops_drift_profile_free(q);
    mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
    o.type = MLOPS_DRIFT_CATEGORICAL;
    if (mlops_drift_profile_new(&p, &o) != 0)
        exit(1);
    write_seed(argv[1], "categorical_empty", p, 0);
    const int64_t codes[] = { 3, 1, 4, 1, 5, -9, 2, 6, 5, 3, 5, 1000000007 };
    if (mlops_drift_profile_add_codes(p, codes, 12) != 0)
        exit(1);
    write_seed(argv[1], "categorical", p, 0);
    mlops_drift_profile_free(p);
    return 0;
}

#endif
