/* Chunked objects: the chunker (bounds, determinism, locality, against a
 * naive reading of docs/FORMAT.md), the dual SHA-256, round trips, dedup
 * across versions, missing and corrupt chunks, gc, changing files, options,
 * custom backends, allocation failures. Loop tests run on the memory store
 * (_i == 0) and on the fs store (_i == 1). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/chunked.h"
#include "store/chunker.h"
#include "store/object_put.h"
#include "store/sha256_dual.h"
#include "store/store_internal.h"
#include "testutil.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Small chunks, so that small files have many. */
static mlops_put_options small_opts(mlops_chunking mode)
{
    mlops_put_options o = MLOPS_PUT_OPTIONS_INIT;
    o.chunking = mode;
    o.chunk_threshold = MiB;
    o.chunk_min = 64 * KiB;
    o.chunk_avg = 128 * KiB;
    o.chunk_max = 256 * KiB;
    return o;
}

/* ---- the chunker ----------------------------------------------------- */

/* Cut offsets of the whole buffer, fed in pieces of at most `piece`
 * bytes (0: all at once); returns their number (the end counts). */
static size_t cuts_of(const unsigned char *p, size_t n, const mlops_put_options *o, size_t piece, uint64_t *cuts)
{
    mlops__chunker c;
    mlops__chunker_init(&c, o->chunk_min, o->chunk_avg, o->chunk_max);
    size_t off = 0, nc = 0, last = 0;
    unsigned seed = 7;
    while (off < n) {
        size_t len = n - off;
        if (piece) {
            seed = seed * 1103515245u + 12345u;
            len = 1 + (seed >> 8) % piece;
            if (len > n - off)
                len = n - off;
        }
        size_t i = 0;
        while (i < len) {
            int cut = 0;
            i += mlops__chunker_scan(&c, p + off + i, len - i, &cut);
            if (cut)
                cuts[nc++] = last = off + i;
        }
        off += len;
    }
    if (last < n)
        cuts[nc++] = n;
    return nc;
}

/* docs/FORMAT.md read literally: roll the gear hash from each chunk's
 * start, test every length from min on. */
static size_t naive_cuts(const unsigned char *p, size_t n, const mlops_put_options *o, uint64_t *cuts)
{
    const uint64_t *gear = mlops__gear_table();
    unsigned k = 0;
    while ((1u << k) < o->chunk_avg)
        k++;
    uint64_t mask_s = ~UINT64_C(0) << (64 - (k + 1)), mask_l = ~UINT64_C(0) << (64 - (k - 1));
    size_t normal = o->chunk_avg - o->chunk_min > o->chunk_min ? o->chunk_avg - o->chunk_min : o->chunk_min;
    size_t nc = 0, s = 0;
    while (s < n) {
        uint64_t h = 0;
        size_t len = 0;
        for (size_t l = 1; l <= o->chunk_max && s + l <= n && !len; l++) {
            h = (h << 1) + gear[p[s + l - 1]];
            if (l >= o->chunk_min && !(h & (l <= normal ? mask_s : mask_l)))
                len = l;
        }
        if (!len)
            len = s + o->chunk_max <= n ? o->chunk_max : n - s;
        s += len;
        cuts[nc++] = s;
    }
    return nc;
}

START_TEST(gear_table_fixed)
{
    /* The table is format: these values must never change. */
    const uint64_t *g = mlops__gear_table();
    ck_assert_uint_eq(g[0], UINT64_C(0x6447a2280f2859d9));
    ck_assert_uint_eq(g[1], UINT64_C(0x4eccd8d33f897bb2));
    ck_assert_uint_eq(g[255], UINT64_C(0xbdec2120a1b1e7f6));
}
END_TEST

START_TEST(chunker_bounds_and_determinism)
{
    size_t n = 24 * MiB;
    unsigned char *p = tu_xmalloc(n);
    tu_fill_random(p, n, 11);
    memset(p + 5 * MiB, 0, 9 * MiB); /* no content cut: max-size chunks */
    uint64_t *a = tu_xmalloc(4096 * sizeof *a), *b = tu_xmalloc(4096 * sizeof *b);
    mlops_put_options opts[2] = { MLOPS_PUT_OPTIONS_INIT, small_opts(MLOPS_CHUNKING_ALWAYS) };
    for (int o = 0; o < 2; o++) {
        size_t na = naive_cuts(p, n, &opts[o], a);
        size_t pieces[] = { 0, 1000, 3 * MiB + 1, 70 };
        for (size_t t = 0; t < sizeof pieces / sizeof pieces[0]; t++) {
            size_t nb = cuts_of(p, n, &opts[o], pieces[t], b);
            ck_assert_uint_eq(nb, na);
            ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0, "options %d, pieces %zu: cuts differ", o, pieces[t]);
        }
        uint64_t prev = 0, max_seen = 0;
        for (size_t i = 0; i < na; i++) {
            uint64_t len = a[i] - prev;
            if (i + 1 < na)
                ck_assert_msg(len >= opts[o].chunk_min && len <= opts[o].chunk_max, "chunk %zu has %llu bytes", i,
                              (unsigned long long)len);
            max_seen = len > max_seen ? len : max_seen;
            prev = a[i];
        }
        ck_assert_uint_eq(max_seen, opts[o].chunk_max); /* the zeros */
        double avg = (double)n / (double)na;
        ck_assert_msg(avg > opts[o].chunk_avg * 0.7 && avg < opts[o].chunk_avg * 1.6, "average chunk %.0f", avg);
    }
    free(a);
    free(b);
    free(p);
}
END_TEST

START_TEST(chunker_insertion_is_local)
{
    size_t n = 32 * MiB, ins = 100;
    unsigned char *p = tu_xmalloc(n + ins), *q = tu_xmalloc(n + ins);
    tu_fill_random(p, n, 12);
    size_t at = n / 2 + 12345;
    memcpy(q, p, at);
    tu_fill_random(q + at, ins, 13);
    memcpy(q + at + ins, p + at, n - at);
    uint64_t *a = tu_xmalloc(4096 * sizeof *a), *b = tu_xmalloc(4096 * sizeof *b);
    mlops_put_options o = MLOPS_PUT_OPTIONS_INIT;
    size_t na = cuts_of(p, n, &o, 0, a), nb = cuts_of(q, n + ins, &o, 0, b);
    /* Cuts before the insertion stay; cuts after it move by ins; only
     * those near it may differ. */
    size_t shared = 0;
    for (size_t i = 0, j = 0; i < na && j < nb;) {
        uint64_t x = a[i], y = b[j] >= at + ins ? b[j] - ins : b[j];
        if (x == y && (x <= at || b[j] >= at + ins))
            shared++, i++, j++;
        else if (x < y)
            i++;
        else
            j++;
    }
    ck_assert_msg(shared + 3 >= na, "only %zu of %zu cuts survive an insertion", shared, na);
    free(a);
    free(b);
    free(p);
    free(q);
}
END_TEST

START_TEST(dual_sha_matches_openssl)
{
    size_t n = 3 * MiB;
    unsigned char *p = tu_xmalloc(n);
    tu_fill_random(p, n, 14);
    unsigned seed = 1;
    for (int trial = 0; trial < 600; trial++) {
        mlops__sha_dual d;
        ck_assert_int_eq(mlops__sha_dual_init(&d, trial % 3 != 0), 0);
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 4) % (trial < 300 ? 300 : n), cut = len ? (seed >> 2) % (len + 1) : 0, off = 0;
        mlops_oid first, second, whole, want;
        int cut_done = 0;
        while (off < len || !cut_done) {
            if (off == cut && !cut_done) {
                ck_assert_int_eq(mlops__sha_dual_next(&d, first.id), 0);
                cut_done = 1;
                continue;
            }
            seed = seed * 1103515245u + 12345u;
            size_t k = 1 + (seed >> 8) % (trial % 2 ? 70 : 200000);
            k = k > len - off ? len - off : k;
            k = off < cut && off + k > cut ? cut - off : k;
            ck_assert_int_eq(mlops__sha_dual_update(&d, p + off, k), 0);
            off += k;
        }
        ck_assert_int_eq(mlops__sha_dual_next(&d, second.id), 0);
        ck_assert_int_eq(mlops__sha_dual_final(&d, whole.id), 0);
        mlops__sha_dual_dispose(&d);
        mlops_oid_hash(&want, p, len);
        ck_assert_mem_eq(whole.id, want.id, 32);
        mlops_oid_hash(&want, p, cut);
        ck_assert_mem_eq(first.id, want.id, 32);
        mlops_oid_hash(&want, p + cut, len - cut);
        ck_assert_mem_eq(second.id, want.id, 32);
    }
    free(p);
}
END_TEST

/* ---- round trips --------------------------------------------------- */

static char *scratch_file(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = tu_path("%s/%s", dir, name);
    tu_write_file(path, data, len);
    return path;
}

/* Everything a reader can do gives the file's bytes back. */
static void check_reads(mlops_store *s, const mlops_oid *id, const unsigned char *data, size_t len, const char *dir)
{
    void *out = NULL;
    size_t n = 0;
    int rc = mlops_object_get(&out, &n, s, id);
    ck_assert_msg(rc == 0, "get: %s", mlops_error_last());
    ck_assert_uint_eq(n, len);
    ck_assert_msg(len == 0 || memcmp(out, data, len) == 0, "get: different bytes");
    mlops_free(out);

    char *dst = tu_path("%s/out.bin", dir);
    ck_assert_msg(mlops_object_get_file(s, id, dst) == 0, "get_file: %s", mlops_error_last());
    size_t flen = 0;
    char *back = tu_read_file(dst, &flen);
    ck_assert_uint_eq(flen, len);
    ck_assert_msg(len == 0 || memcmp(back, data, len) == 0, "get_file: different bytes");
    free(back);
    unlink(dst);
    free(dst);

    mlops_object_reader *r = NULL;
    ck_assert_int_eq(mlops_object_reader_open(&r, s, id), 0);
    ck_assert_uint_eq(mlops_object_reader_size(r), len);
    unsigned char buf[7777];
    size_t done = 0;
    for (;;) {
        ck_assert_msg(mlops_object_reader_read(&n, r, buf, sizeof buf) == 0, "read: %s", mlops_error_last());
        if (n == 0)
            break;
        ck_assert_msg(done + n <= len && memcmp(buf, data + done, n) == 0, "reader: different bytes at %zu", done);
        done += n;
    }
    ck_assert_uint_eq(done, len);
    mlops_object_reader_free(r);

    uint64_t size = 0;
    ck_assert_int_eq(mlops_object_size(&size, s, id), 0);
    ck_assert_uint_eq(size, len);
    ck_assert_int_eq(mlops_object_exists(s, id), 1);
}

static int count_chunk(void *arg, const mlops_oid *chunk)
{
    (void)chunk;
    (*(size_t *)arg)++;
    return 0;
}

/* Puts a file of len bytes, checks the id, the statistics and the reads;
 * returns the id. */
static mlops_oid put_and_check(mlops_store *s, const char *dir, const unsigned char *data, size_t len,
                               const mlops_put_options *o, int want_chunked)
{
    char *path = scratch_file(dir, "in.bin", data, len);
    mlops_oid id;
    mlops_put_stats st;
    memset(&st, 0xff, sizeof st);
    int rc = mlops_object_put_file_ext(&id, &st, s, path, o);
    ck_assert_msg(rc == 0, "put of %zu bytes: %s", len, mlops_error_last());
    char want[65], got[65];
    tu_sha256sum_file(path, want);
    tu_hex(&id, got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(st.size, len);
    size_t nchunks = 0;
    ck_assert_int_eq(mlops__chunked_foreach(s, &id, count_chunk, &nchunks), want_chunked);
    ck_assert_uint_eq(st.chunks, nchunks);
    ck_assert_msg(want_chunked || st.chunks == 0, "%zu bytes: chunked, should not be", len);
    check_reads(s, &id, data, len, dir);
    unlink(path);
    free(path);
    return id;
}

START_TEST(roundtrip_sizes)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp();
    mlops_put_options always = small_opts(MLOPS_CHUNKING_ALWAYS), in_auto = small_opts(MLOPS_CHUNKING_AUTO);
    size_t big = 3 * always.chunk_max + 17;
    unsigned char *data = tu_xmalloc(2 * MiB);
    tu_fill_random(data, 2 * MiB, 21);

    /* No chunks, or one: the object itself (an index naming itself
     * would be a loop). */
    mlops_oid id = put_and_check(t.s, dir, data, 0, &always, 0);
    char hex[65];
    tu_hex(&id, hex);
    ck_assert_str_eq(hex, EMPTY_HEX);
    put_and_check(t.s, dir, data, 1, &always, 0);
    put_and_check(t.s, dir, data, always.chunk_min, &always, 0);
    put_and_check(t.s, dir, data + 1, (size_t)in_auto.chunk_threshold - 1, &in_auto, 0);
    put_and_check(t.s, dir, data, (size_t)in_auto.chunk_threshold, &in_auto, 1);
    mlops_put_stats st;
    tu_fill_random(data, big, 22); /* nothing in common with the above */
    char *path = scratch_file(dir, "big.bin", data, big);
    ck_assert_int_eq(mlops_object_put_file_ext(&id, &st, t.s, path, &always), 0);
    ck_assert_uint_ge(st.chunks, 4);
    ck_assert_uint_eq(st.chunks_new, st.chunks);
    put_and_check(t.s, dir, data, big, &always, 1);
    /* mlops_object_put_file never chunks; AUTO's default threshold is 8 MiB */
    mlops_oid plain;
    tu_write_file(path, data + 2, big - 2);
    ck_assert_int_eq(mlops_object_put_file(&plain, t.s, path), 0);
    ck_assert_int_eq(mlops_object_put_file_ext(&id, &st, t.s, path, NULL), 0);
    ck_assert_uint_eq(st.chunks, 0);
    ck_assert_uint_eq(st.stored, 0);
    ck_assert_mem_eq(id.id, plain.id, 32);
    tu_verify_clean(t.s);
    unlink(path);
    free(path);
    free(data);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

/* ---- dedup across versions ------------------------------------------ */

static mlops_put_stats put_version(mlops_store *s, const char *path, const unsigned char *data, size_t len)
{
    tu_write_file(path, data, len);
    mlops_oid id;
    mlops_put_stats st;
    int rc = mlops_object_put_file_ext(&id, &st, s, path, NULL);
    ck_assert_msg(rc == 0, "put: %s", mlops_error_last());
    char want[65], got[65];
    tu_sha256sum_file(path, want);
    tu_hex(&id, got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(st.size, len);
    return st;
}

START_TEST(new_version_stores_little)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp();
    char *path = tu_path("%s/model.bin", dir);
    size_t n = 64 * MiB;
    unsigned char *data = tu_xmalloc(n + MiB);
    tu_fill_random(data, n + MiB, 31);

    mlops_put_stats st = put_version(t.s, path, data, n);
    ck_assert_uint_ge(st.chunks, 32);
    ck_assert_uint_eq(st.chunks_new, st.chunks);
    ck_assert_uint_ge(st.stored, n);

    st = put_version(t.s, path, data, n); /* the same again */
    ck_assert_uint_eq(st.stored, 0);
    ck_assert_uint_eq(st.chunks_new, 0);

    st = put_version(t.s, path, data, n + MiB); /* 1 MiB appended */
    ck_assert_msg(st.stored <= 4 * MiB, "append stored %llu bytes", (unsigned long long)st.stored);
    ck_assert_msg(st.chunks_new >= 1 && st.chunks_new <= 3, "append: %llu new chunks",
                  (unsigned long long)st.chunks_new);

    tu_fill_random(data + n / 2, MiB, 32); /* 1 MiB overwritten in the middle */
    st = put_version(t.s, path, data, n);
    ck_assert_msg(st.stored <= 4 * MiB, "overwrite stored %llu bytes", (unsigned long long)st.stored);
    ck_assert_msg(st.chunks_new >= 1 && st.chunks_new <= 4, "overwrite: %llu new chunks",
                  (unsigned long long)st.chunks_new);
    tu_verify_clean(t.s);
    free(data);
    free(path);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

/* ---- damage -------------------------------------------------------- */

typedef struct chunk_list {
    mlops_oid ids[64];
    size_t n;
} chunk_list;

static int collect_chunk(void *arg, const mlops_oid *chunk)
{
    chunk_list *l = arg;
    if (l->n < 64)
        l->ids[l->n++] = *chunk;
    return 0;
}

/* A store holding one chunked object of about 800 KiB with small chunks. */
typedef struct fixture {
    tu_store t;
    char *dir;
    unsigned char *data;
    size_t len;
    mlops_oid id;
    chunk_list l; /* its chunks */
} fixture;

static void fixture_open(fixture *f, int kind)
{
    memset(f, 0, sizeof *f);
    tu_store_open(&f->t, kind, NULL);
    f->dir = tu_mkdtemp();
    mlops_put_options o = small_opts(MLOPS_CHUNKING_ALWAYS);
    f->len = 3 * o.chunk_max + 17;
    f->data = tu_xmalloc(f->len);
    tu_fill_random(f->data, f->len, 41);
    char *path = scratch_file(f->dir, "in.bin", f->data, f->len);
    ck_assert_int_eq(mlops_object_put_file_ext(&f->id, NULL, f->t.s, path, &o), 0);
    free(path);
    ck_assert_int_eq(mlops__chunked_foreach(f->t.s, &f->id, collect_chunk, &f->l), 1);
    ck_assert_uint_ge(f->l.n, 4);
}

static void fixture_close(fixture *f)
{
    free(f->data);
    tu_rmrf(f->dir);
    free(f->dir);
    tu_store_destroy(&f->t);
}

/* Replaces a blob through the backend (both kinds of store alike). */
static void replace_blob(mlops_store *s, const mlops_oid *id, const void *data, size_t len)
{
    ck_assert_int_eq(s->be.obj_delete(&s->be, id), 0);
    if (!data)
        return;
    void *w = NULL;
    unsigned char hdr[8] = { 'M', 'L', 'O', 'B', 1, 0, 0, 0 };
    ck_assert_int_eq(s->be.obj_write_open(&s->be, &w), 0);
    ck_assert_int_eq(s->be.obj_write(&s->be, w, hdr, sizeof hdr), 0);
    ck_assert_int_eq(s->be.obj_write(&s->be, w, data, len), 0);
    ck_assert_int_eq(s->be.obj_write_commit(&s->be, w, id), 0);
}

/* Every read of id fails with ECORRUPT naming `chunk`; verify reports
 * id (and, if listed, chunk) corrupt. */
static void check_damaged(mlops_store *s, const mlops_oid *id, const mlops_oid *chunk, int chunk_listed,
                          const char *dir)
{
    char chex[65];
    tu_hex(chunk, chex);
    void *out = NULL;
    size_t n = 0;
    tu_assert_err(mlops_object_get(&out, &n, s, id), MLOPS_ECORRUPT);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(mlops_error_last(), chex) != NULL, "message does not name the chunk: %s",
                  mlops_error_last());
    char *dst = tu_path("%s/out.bin", dir);
    tu_assert_err(mlops_object_get_file(s, id, dst), MLOPS_ECORRUPT);
    ck_assert(!tu_exists(dst));
    free(dst);
    mlops_object_reader *r = NULL;
    ck_assert_int_eq(mlops_object_reader_open(&r, s, id), 0);
    unsigned char buf[4096];
    int rc;
    while ((rc = mlops_object_reader_read(&n, r, buf, sizeof buf)) == 0 && n > 0)
        ;
    tu_assert_err(rc, MLOPS_ECORRUPT);
    mlops_object_reader_free(r);

    mlops_verify_report rep;
    ck_assert_int_eq(mlops_store_verify(&rep, s, NULL, NULL), 0);
    int saw_id = 0, saw_chunk = 0;
    for (size_t i = 0; i < rep.ncorrupt; i++) {
        saw_id |= mlops_oid_cmp(&rep.corrupt[i], id) == 0;
        saw_chunk |= mlops_oid_cmp(&rep.corrupt[i], chunk) == 0;
    }
    ck_assert_msg(saw_id, "verify does not report the chunked object");
    ck_assert_int_eq(saw_chunk, chunk_listed);
    ck_assert_uint_eq(rep.ncorrupt, 1 + (size_t)chunk_listed);
    mlops_verify_report_free(&rep);
}

START_TEST(missing_chunk)
{
    fixture f;
    fixture_open(&f, _i);
    replace_blob(f.t.s, &f.l.ids[2], NULL, 0);
    check_damaged(f.t.s, &f.id, &f.l.ids[2], 0, f.dir);
    uint64_t size = 0; /* the index alone still answers */
    ck_assert_int_eq(mlops_object_size(&size, f.t.s, &f.id), 0);
    ck_assert_uint_eq(size, f.len);
    /* Putting the file again repairs it. */
    char *path = scratch_file(f.dir, "again.bin", f.data, f.len);
    mlops_put_options o = small_opts(MLOPS_CHUNKING_ALWAYS);
    mlops_put_stats st;
    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_file_ext(&id, &st, f.t.s, path, &o), 0);
    ck_assert_uint_eq(st.chunks_new, 1);
    check_reads(f.t.s, &id, f.data, f.len, f.dir);
    free(path);
    fixture_close(&f);
}
END_TEST

START_TEST(corrupt_chunk)
{
    fixture f;
    fixture_open(&f, _i);
    /* The first chunk with one byte flipped (same length). */
    uint64_t clen = 0;
    ck_assert_int_eq(mlops_object_size(&clen, f.t.s, &f.l.ids[0]), 0);
    unsigned char *copy = tu_xmalloc(clen);
    memcpy(copy, f.data, clen);
    copy[clen / 2] ^= 0x5a;
    replace_blob(f.t.s, &f.l.ids[0], copy, clen);
    check_damaged(f.t.s, &f.id, &f.l.ids[0], 1, f.dir);
    /* A shorter one. */
    replace_blob(f.t.s, &f.l.ids[0], f.data, clen - 1);
    check_damaged(f.t.s, &f.id, &f.l.ids[0], 1, f.dir);
    free(copy);
    fixture_close(&f);
}
END_TEST

/* ---- gc ---------------------------------------------------------- */

START_TEST(gc_keeps_chunks)
{
    fixture f;
    fixture_open(&f, _i);
    mlops_store *s = f.t.s;
    mlops_oid top;
    ck_assert_int_eq(mlops_object_put_structured(&top, s, "test.version", &f.id, 1, "v1", 2), 0);
    ck_assert_int_eq(mlops_ref_set(s, "versions/latest", &top, NULL), 0);
    mlops_oid stray = tu_put_str(s, "unreachable");

    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 0;
    mlops_gc_report rep;
    ck_assert_int_eq(mlops_store_gc(&rep, s, &go, NULL, NULL), 0);
    ck_assert_uint_eq(rep.freed, 1);
    ck_assert_int_eq(mlops_object_exists(s, &stray), 0);
    ck_assert_uint_eq(rep.reachable, 2 + f.l.n);
    check_reads(s, &f.id, f.data, f.len, f.dir);
    tu_verify_clean(s);

    ck_assert_int_eq(mlops_ref_delete(s, "versions/latest", NULL), 0);
    ck_assert_int_eq(mlops_store_gc(&rep, s, &go, NULL, NULL), 0);
    ck_assert_uint_eq(rep.freed, 2 + f.l.n);
    ck_assert_uint_eq(rep.objects, 2 + f.l.n);
    for (size_t i = 0; i < f.l.n; i++)
        ck_assert_int_eq(mlops_object_exists(s, &f.l.ids[i]), 0);
    ck_assert_int_eq(mlops_object_exists(s, &f.id), 0);
    fixture_close(&f);
}
END_TEST

/* ---- changes, options, backends --------------------------------- */

START_TEST(changed_while_read)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp();
    size_t len = 700 * KiB;
    unsigned char *data = tu_xmalloc(len);
    tu_fill_random(data, len, 51);
    char *path = scratch_file(dir, "in.bin", data, len);
    mlops_oid real, id;
    mlops_oid_hash(&real, data, len);
    mlops_put_options modes[2] = { small_opts(MLOPS_CHUNKING_ALWAYS), small_opts(MLOPS_CHUNKING_NEVER) };
    for (int m = 0; m < 2; m++) {
        int fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        lseek(fd, 1234, SEEK_SET); /* the position does not matter */
        uint64_t wrong[2] = { len - 1, len + 1 };
        for (int w = 0; w < 2; w++) {
            tu_assert_err(mlops__object_put_fd(&id, NULL, t.s, fd, wrong[w], path, &modes[m]), MLOPS_ECONFLICT);
            ck_assert_msg(strstr(mlops_error_last(), "changed while being read") != NULL, "%s", mlops_error_last());
            ck_assert_int_eq(mlops_object_exists(t.s, &real), 0);
        }
        mlops_put_stats st;
        ck_assert_int_eq(mlops__object_put_fd(&id, &st, t.s, fd, len, path, &modes[m]), 0);
        ck_assert_mem_eq(id.id, real.id, 32);
        ck_assert_uint_eq(st.chunks > 0, m == 0);
        replace_blob(t.s, &id, NULL, 0); /* gone again for the next mode */
        close(fd);
    }
    free(path);
    free(data);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(bad_options)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    char *dir = tu_mkdtemp();
    char *path = scratch_file(dir, "in.bin", "abc", 3);
    mlops_put_options d;
    tu_assert_err(mlops_put_options_init(&d, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_put_options_init(NULL, MLOPS_PUT_OPTIONS_VERSION), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_put_options_init(&d, MLOPS_PUT_OPTIONS_VERSION), 0);
    ck_assert_int_eq(d.chunking, MLOPS_CHUNKING_AUTO);
    ck_assert_uint_eq(d.chunk_threshold, 8 * MiB);
    ck_assert_uint_eq(d.chunk_min, 256 * KiB);
    ck_assert_uint_eq(d.chunk_avg, MiB);
    ck_assert_uint_eq(d.chunk_max, 4 * MiB);
    mlops_put_options bad[8];
    for (int i = 0; i < 8; i++)
        bad[i] = d;
    bad[0].version = 2;
    bad[1].chunking = (mlops_chunking)3;
    bad[2].chunk_min = 64 * KiB - 1;
    bad[3].chunk_avg = 3 * MiB; /* not a power of two */
    bad[4].chunk_min = MiB;     /* min == avg */
    bad[5].chunk_max = MiB;     /* max == avg */
    bad[6].chunk_max = 64 * MiB + 1;
    bad[7].chunk_min = 2 * MiB; /* min > avg */
    mlops_oid id;
    for (int i = 0; i < 8; i++)
        tu_assert_err(mlops_object_put_file_ext(&id, NULL, t.s, path, &bad[i]), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file_ext(NULL, NULL, t.s, path, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file_ext(&id, NULL, NULL, path, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file_ext(&id, NULL, t.s, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file_ext(&id, NULL, t.s, dir, NULL), MLOPS_EINVALID);
    mlops_put_options edge = d; /* the extremes are allowed */
    edge.chunk_min = 64 * KiB;
    edge.chunk_avg = 32 * MiB;
    edge.chunk_max = 64 * MiB;
    ck_assert_int_eq(mlops_object_put_file_ext(&id, NULL, t.s, path, &edge), 0);
    free(path);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

/* A store over a copy of the memory backend's vtable: a custom backend,
 * without the built-in blob refresh, so every chunk is written again. */
START_TEST(custom_backend)
{
    mlops_backend be;
    ck_assert_int_eq(mlops__backend_memory_new(&be), 0);
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_backend(&s, &be, NULL), 0);
    ck_assert(s->obj_touch == NULL);
    char *dir = tu_mkdtemp();
    size_t len = 20 * MiB;
    unsigned char *data = tu_xmalloc(len);
    tu_fill_random(data, len, 61);
    mlops_put_options o = MLOPS_PUT_OPTIONS_INIT;
    put_and_check(s, dir, data, len, &o, 1);
    char *path = scratch_file(dir, "v2.bin", data, len - 5);
    mlops_oid id;
    mlops_put_stats st;
    ck_assert_int_eq(mlops_object_put_file_ext(&id, &st, s, path, &o), 0);
    ck_assert_uint_eq(st.chunks_new, 1);
    ck_assert_uint_le(st.stored, 5 * MiB);
    check_reads(s, &id, data, len - 5, dir);
    tu_verify_clean(s);
    mlops_store_free(s);
    free(path);
    free(data);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(durability_full)
{
    mlops_store_options so = MLOPS_STORE_OPTIONS_INIT;
    so.durability = MLOPS_DURABILITY_FULL;
    tu_store t;
    tu_store_open(&t, TU_FS, &so);
    char *dir = tu_mkdtemp();
    mlops_put_options o = small_opts(MLOPS_CHUNKING_ALWAYS);
    size_t len = 2 * MiB;
    unsigned char *data = tu_xmalloc(len);
    tu_fill_random(data, len, 71);
    put_and_check(t.s, dir, data, len, &o, 1);
    data[len / 2] ^= 1; /* most chunks are refreshed, one is new */
    put_and_check(t.s, dir, data, len, &o, 1);
    tu_store_reopen(&t, NULL);
    tu_verify_clean(t.s);
    free(data);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

/* ---- allocation failures ----------------------------------------- */

START_TEST(oom_put_and_get)
{
    char *dir = tu_mkdtemp();
    mlops_put_options o = small_opts(MLOPS_CHUNKING_ALWAYS);
    size_t len = 900 * KiB;
    unsigned char *data = tu_xmalloc(len);
    tu_fill_random(data, len, 81);
    char *path = scratch_file(dir, "in.bin", data, len);
    int failures = 0;
    for (int what = 0; what < 2; what++) {
        unsigned long n;
        for (n = 1; n < 2000; n++) {
            tu_alloc a;
            memset(&a, 0, sizeof a);
            tu_alloc_install(&a);
            tu_store t;
            tu_store_open(&t, _i, NULL);
            mlops_oid id;
            int rc = 0;
            if (what == 1) /* reading: put first, fail while getting */
                ck_assert_int_eq(mlops_object_put_file_ext(&id, NULL, t.s, path, &o), 0);
            a.fail_at = a.calls + n;
            void *out = NULL;
            size_t got = 0;
            if (what == 0)
                rc = mlops_object_put_file_ext(&id, NULL, t.s, path, &o);
            else if ((rc = mlops_object_get(&out, &got, t.s, &id)) == 0)
                mlops_free(out);
            unsigned long failed = a.failures;
            a.fail_at = 0;
            ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "allocation %lu: %d %s", n, rc, mlops_error_last());
            if (rc == MLOPS_ENOMEM) {
                failures++;
                ck_assert_uint_eq(failed, 1);
            }
            tu_store_destroy(&t);
            tu_alloc_remove();
            ck_assert_msg(a.outstanding == 0, "allocation %lu: %ld blocks leaked", n, a.outstanding);
            if (rc == 0 && failed == 0)
                break;
        }
        ck_assert_uint_lt(n, 2000);
    }
    ck_assert_int_gt(failures, 10);
    free(path);
    free(data);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *chunked_suite(void)
{
    Suite *s = suite_create("chunked");
    TCase *tc = tcase_create("chunker");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gear_table_fixed);
    tcase_add_test(tc, chunker_bounds_and_determinism);
    tcase_add_test(tc, chunker_insertion_is_local);
    tcase_add_test(tc, dual_sha_matches_openssl);
    suite_add_tcase(s, tc);
    tc = tcase_create("both");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, roundtrip_sizes, 0, TU_KINDS);
    tcase_add_loop_test(tc, new_version_stores_little, 0, TU_KINDS);
    tcase_add_loop_test(tc, missing_chunk, 0, TU_KINDS);
    tcase_add_loop_test(tc, corrupt_chunk, 0, TU_KINDS);
    tcase_add_loop_test(tc, gc_keeps_chunks, 0, TU_KINDS);
    tcase_add_loop_test(tc, changed_while_read, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_put_and_get, 0, TU_KINDS);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, custom_backend);
    tcase_add_test(tc, durability_full);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(chunked_suite());
}
