/* Objects: put/get in memory, files and streams, structured objects,
 * compression, options, bad input, corruption. Loop tests run on the
 * memory store (_i == 0) and on the fs store (_i == 1). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define MiB ((size_t)1 << 20)
#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* put, check the id against sha256sum, get back, exists, size */
static mlops_oid roundtrip(mlops_store *s, const void *data, size_t len)
{
    mlops_oid id;
    int rc = mlops_object_put(&id, s, data, len);
    ck_assert_msg(rc == 0, "put of %zu bytes: %d %s", len, rc, mlops_error_last());
    char want[65], got[65];
    tu_sha256sum_buf(data, len, want);
    tu_hex(&id, got);
    ck_assert_str_eq(got, want);

    void *out = NULL;
    size_t n = 12345;
    rc = mlops_object_get(&out, &n, s, &id);
    ck_assert_msg(rc == 0, "get of %zu bytes: %d %s", len, rc, mlops_error_last());
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(n, len);
    ck_assert_msg(len == 0 || memcmp(out, data, len) == 0, "get returned different bytes (%zu)", len);
    ck_assert_msg(((char *)out)[len] == 0, "no NUL after the data");
    mlops_free(out);

    ck_assert_int_eq(mlops_object_exists(s, &id), 1);
    uint64_t size = 0;
    ck_assert_int_eq(mlops_object_size(&size, s, &id), 0);
    ck_assert_uint_eq(size, len);
    return id;
}

START_TEST(put_get_sizes)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid id = roundtrip(t.s, "", 0);
    char hex[65];
    tu_hex(&id, hex);
    ck_assert_str_eq(hex, EMPTY_HEX);
    roundtrip(t.s, "x", 1);
    roundtrip(t.s, "\0", 1);

    char *buf = tu_xmalloc(10 * MiB);
    tu_fill_text(buf, MiB, 1);
    mlops_oid text1 = roundtrip(t.s, buf, MiB);
    tu_fill_random(buf, MiB, 2);
    mlops_oid rand1 = roundtrip(t.s, buf, MiB);
    tu_fill_text(buf, 10 * MiB, 3);
    mlops_oid text10 = roundtrip(t.s, buf, 10 * MiB);

    if (t.kind == TU_FS) {
        /* default AUTO: small compressible objects shrink, random ones
         * stay raw, objects above compress_limit (4 MiB) stay raw */
        char *p = tu_object_path(t.dir, &text1);
        long long sz = tu_file_size(p);
        ck_assert_msg(sz > 0 && sz < (long long)MiB / 2, "1 MiB of text stored in %lld bytes (%s)", sz, p);
        free(p);
        p = tu_object_path(t.dir, &rand1);
        sz = tu_file_size(p);
        ck_assert_msg(sz >= (long long)MiB && sz < (long long)MiB + 4096, "1 MiB random stored in %lld bytes", sz);
        free(p);
        p = tu_object_path(t.dir, &text10);
        sz = tu_file_size(p);
        ck_assert_msg(sz >= (long long)(10 * MiB), "10 MiB text (> compress_limit) stored in %lld bytes", sz);
        free(p);
        /* the store survives a reopen */
        tu_store_reopen(&t, NULL);
        void *out = NULL;
        size_t n = 0;
        ck_assert_int_eq(mlops_object_get(&out, &n, t.s, &text10), 0);
        ck_assert_uint_eq(n, 10 * MiB);
        ck_assert_int_eq(memcmp(out, buf, n), 0);
        mlops_free(out);
    }
    free(buf);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(put_idempotent)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char buf[5000];
    tu_fill_random(buf, sizeof buf, 9);
    mlops_oid a = tu_put(t.s, buf, sizeof buf);
    size_t files = t.dir ? tu_count_files(t.dir) : 0;
    mlops_oid b = tu_put(t.s, buf, sizeof buf);
    ck_assert_int_eq(mlops_oid_cmp(&a, &b), 0);
    if (t.dir) {
        ck_assert_uint_eq(tu_count_files(t.dir), files);
        char *objs = tu_path("%s/objects", t.dir);
        ck_assert_uint_eq(tu_count_files(objs), 1);
        free(objs);
    }
    mlops_verify_report r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(mlops_store_verify(&r, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(r.objects, 1);
    mlops_verify_report_free(&r);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(put_file_get_file)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp();
    char *src = tu_path("%s/src.bin", dir);
    size_t len = MiB + 17;
    char *buf = tu_xmalloc(len);
    tu_fill_random(buf, len, 11);
    tu_fill_text(buf, len / 2, 12); /* half text, half random */
    tu_write_file(src, buf, len);

    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_file(&id, t.s, src), 0);
    char want[65], got[65];
    tu_sha256sum_file(src, want);
    tu_hex(&id, got);
    ck_assert_str_eq(got, want);

    /* the same content through put gives the same id */
    mlops_oid id2 = tu_put(t.s, buf, len);
    ck_assert_int_eq(mlops_oid_cmp(&id, &id2), 0);

    /* get_file into a new path */
    char *dst = tu_path("%s/out.bin", dir);
    ck_assert_int_eq(mlops_object_get_file(t.s, &id, dst), 0);
    size_t n = 0;
    char *back = tu_read_file(dst, &n);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(memcmp(back, buf, len), 0);
    free(back);

    /* get_file over an existing file replaces it atomically: a reader
     * holding the old file open still sees the old bytes */
    tu_write_file(dst, "old content", 11);
    int fd = open(dst, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(mlops_object_get_file(t.s, &id, dst), 0);
    char old[32] = {0};
    ck_assert_int_eq(pread(fd, old, sizeof old, 0), 11);
    ck_assert_str_eq(old, "old content");
    close(fd);
    tu_sha256sum_file(dst, got);
    ck_assert_str_eq(got, want);
    /* no temp files left next to the destination */
    ck_assert_uint_eq(tu_count_files(dir), 2);

    /* empty file */
    char *empty = tu_path("%s/empty", dir);
    tu_write_file(empty, "", 0);
    ck_assert_int_eq(mlops_object_put_file(&id, t.s, empty), 0);
    tu_hex(&id, got);
    ck_assert_str_eq(got, EMPTY_HEX);
    char *dst2 = tu_path("%s/empty-out", dir);
    ck_assert_int_eq(mlops_object_get_file(t.s, &id, dst2), 0);
    ck_assert_int_eq(tu_file_size(dst2), 0);

    /* bad sources */
    char *missing = tu_path("%s/missing", dir);
    tu_assert_err(mlops_object_put_file(&id, t.s, missing), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_object_put_file(&id, t.s, dir), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file(&id, t.s, "/dev/null"), MLOPS_EINVALID); /* not a regular file */
    /* a destination in a missing directory */
    mlops_oid some = tu_put_str(t.s, "some");
    char *nodir = tu_path("%s/no/such/dir/file", dir);
    ck_assert_int_lt(mlops_object_get_file(t.s, &some, nodir), 0);
    ck_assert_msg(strlen(mlops_error_last()) > 0, "no message");
    free(nodir);
    /* get_file of an unknown id creates nothing */
    mlops_oid unknown = tu_oid("00000000000000000000000000000000000000000000000000000000000000aa");
    tu_assert_err(mlops_object_get_file(t.s, &unknown, missing), MLOPS_ENOTFOUND);
    ck_assert(!tu_exists(missing));

    free(missing);
    free(dst2);
    free(empty);
    free(dst);
    free(buf);
    free(src);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

static const size_t pieces[] = {1, 7, 4093, 65537, 3, 100000, 8191, 65536, 13};

START_TEST(writer_matches_put)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    size_t len = 3 * MiB + 5;
    char *buf = tu_xmalloc(len);
    tu_fill_text(buf, len, 21);
    tu_fill_random(buf + len / 3, len / 3, 22);

    mlops_object_writer *w = NULL;
    ck_assert_int_eq(mlops_object_writer_new(&w, t.s), 0);
    size_t off = 0;
    for (size_t k = 0; off < len; k++) {
        size_t n = pieces[k % (sizeof pieces / sizeof pieces[0])];
        if (n > len - off)
            n = len - off;
        ck_assert_int_eq(mlops_object_writer_write(w, buf + off, n), 0);
        off += n;
    }
    ck_assert_int_eq(mlops_object_writer_write(w, buf, 0), 0);
    mlops_oid wid;
    ck_assert_int_eq(mlops_object_writer_finish(&wid, w), 0);
    /* no more data after finish */
    ck_assert_int_lt(mlops_object_writer_write(w, "x", 1), 0);
    mlops_object_writer_free(w);

    char want[65], got[65];
    tu_sha256sum_buf(buf, len, want);
    tu_hex(&wid, got);
    ck_assert_str_eq(got, want);
    mlops_oid pid = tu_put(t.s, buf, len);
    ck_assert_int_eq(mlops_oid_cmp(&wid, &pid), 0);
    void *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_object_get(&out, &n, t.s, &wid), 0);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(memcmp(out, buf, len), 0);
    mlops_free(out);

    /* an empty writer gives the empty object */
    ck_assert_int_eq(mlops_object_writer_new(&w, t.s), 0);
    ck_assert_int_eq(mlops_object_writer_finish(&wid, w), 0);
    mlops_object_writer_free(w);
    tu_hex(&wid, got);
    ck_assert_str_eq(got, EMPTY_HEX);
    ck_assert_int_eq(mlops_object_exists(t.s, &wid), 1);

    /* a writer freed without finish publishes nothing */
    const char *unique = "never published 0b6c1e";
    mlops_oid uid;
    ck_assert_int_eq(mlops_oid_hash(&uid, unique, strlen(unique)), 0);
    ck_assert_int_eq(mlops_object_writer_new(&w, t.s), 0);
    ck_assert_int_eq(mlops_object_writer_write(w, unique, strlen(unique)), 0);
    mlops_object_writer_free(w);
    ck_assert_int_eq(mlops_object_exists(t.s, &uid), 0);
    if (t.dir) {
        /* objects: the big one and the empty one; no temp file left */
        char *objs = tu_path("%s/objects", t.dir);
        ck_assert_uint_eq(tu_count_files(objs), 2);
        free(objs);
    }
    mlops_object_writer_free(NULL);
    free(buf);
    tu_store_destroy(&t);
}
END_TEST

static void read_back(mlops_store *s, const mlops_oid *id, const char *want, size_t len)
{
    mlops_object_reader *r = NULL;
    ck_assert_int_eq(mlops_object_reader_open(&r, s, id), 0);
    ck_assert_uint_eq(mlops_object_reader_size(r), len);
    char *got = tu_xmalloc(len + 200000);
    size_t off = 0, n = 0;
    int rc;
    for (size_t k = 0;; k++) {
        size_t cap = pieces[k % (sizeof pieces / sizeof pieces[0])];
        rc = mlops_object_reader_read(&n, r, got + off, cap);
        ck_assert_msg(rc == 0, "reader_read: %d %s", rc, mlops_error_last());
        ck_assert_uint_le(n, cap);
        if (n == 0)
            break;
        off += n;
        ck_assert_uint_le(off, len);
    }
    ck_assert_uint_eq(off, len);
    ck_assert_int_eq(memcmp(got, want, len), 0);
    /* still the end */
    ck_assert_int_eq(mlops_object_reader_read(&n, r, got, 10), 0);
    ck_assert_uint_eq(n, 0);
    mlops_object_reader_free(r);
    free(got);
}

START_TEST(reader_odd_sizes)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    size_t len = 2 * MiB + 3;
    char *buf = tu_xmalloc(len);
    tu_fill_text(buf, len, 31); /* compressed in AUTO */
    mlops_oid id = tu_put(t.s, buf, len);
    read_back(t.s, &id, buf, len);
    tu_fill_random(buf, len, 32); /* raw */
    id = tu_put(t.s, buf, len);
    read_back(t.s, &id, buf, len);
    id = tu_put(t.s, "", 0);
    read_back(t.s, &id, "", 0);
    mlops_object_reader_free(NULL);
    free(buf);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(unknown_id)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    tu_put_str(t.s, "something");
    mlops_oid id = tu_oid("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(mlops_object_exists(t.s, &id), 0);
    void *out = NULL;
    size_t n = 0;
    tu_assert_err(mlops_object_get(&out, &n, t.s, &id), MLOPS_ENOTFOUND);
    ck_assert_ptr_null(out);
    uint64_t size;
    tu_assert_err(mlops_object_size(&size, t.s, &id), MLOPS_ENOTFOUND);
    mlops_object_reader *r = NULL;
    tu_assert_err(mlops_object_reader_open(&r, t.s, &id), MLOPS_ENOTFOUND);
    ck_assert_ptr_null(r);
    tu_assert_err(mlops_object_get_structured(NULL, NULL, NULL, NULL, NULL, t.s, &id), MLOPS_ENOTFOUND);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(structured_roundtrip)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid links[3];
    links[0] = tu_put_str(t.s, "first");
    links[1] = tu_put_str(t.s, "second");
    links[2] = links[0]; /* duplicates are kept as given */
    const char body[] = "body\0with a NUL";
    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_structured(&id, t.s, "dataset.manifest", links, 3, body, sizeof body), 0);

    char *type = NULL;
    mlops_oid *got_links = NULL;
    size_t nlinks = 99, blen = 99;
    void *gbody = NULL;
    ck_assert_int_eq(mlops_object_get_structured(&type, &got_links, &nlinks, &gbody, &blen, t.s, &id), 0);
    ck_assert_str_eq(type, "dataset.manifest");
    ck_assert_uint_eq(nlinks, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(mlops_oid_cmp(&got_links[i], &links[i]), 0);
    ck_assert_uint_eq(blen, sizeof body);
    ck_assert_mem_eq(gbody, body, sizeof body);
    mlops_free(type);
    mlops_free(got_links);
    mlops_free(gbody);

    /* the id is the SHA-256 of the stored encoding */
    void *raw = NULL;
    size_t rlen = 0;
    ck_assert_int_eq(mlops_object_get(&raw, &rlen, t.s, &id), 0);
    char want[65], got[65];
    tu_sha256sum_buf(raw, rlen, want);
    tu_hex(&id, got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_gt(rlen, sizeof body + 3 * 32);
    mlops_free(raw);

    /* idempotent and deterministic */
    mlops_oid again;
    ck_assert_int_eq(mlops_object_put_structured(&again, t.s, "dataset.manifest", links, 3, body, sizeof body), 0);
    ck_assert_int_eq(mlops_oid_cmp(&id, &again), 0);
    /* the type is part of the identity */
    ck_assert_int_eq(mlops_object_put_structured(&again, t.s, "dataset.other", links, 3, body, sizeof body), 0);
    ck_assert_int_ne(mlops_oid_cmp(&id, &again), 0);

    /* no links, empty body; out pointers may be NULL */
    ck_assert_int_eq(mlops_object_put_structured(&id, t.s, "t", NULL, 0, "", 0), 0);
    nlinks = 99;
    blen = 99;
    ck_assert_int_eq(mlops_object_get_structured(NULL, NULL, &nlinks, NULL, &blen, t.s, &id), 0);
    ck_assert_uint_eq(nlinks, 0);
    ck_assert_uint_eq(blen, 0);
    type = NULL;
    ck_assert_int_eq(mlops_object_get_structured(&type, NULL, NULL, NULL, NULL, t.s, &id), 0);
    ck_assert_str_eq(type, "t");
    mlops_free(type);

    /* a type of MLOPS_TYPE_MAX bytes is fine, one more is not */
    char longtype[MLOPS_TYPE_MAX + 2];
    memset(longtype, 'a', sizeof longtype);
    longtype[MLOPS_TYPE_MAX] = 0;
    ck_assert_int_eq(mlops_object_put_structured(&id, t.s, longtype, NULL, 0, "b", 1), 0);
    longtype[MLOPS_TYPE_MAX] = 'a';
    longtype[MLOPS_TYPE_MAX + 1] = 0;
    tu_assert_err(mlops_object_put_structured(&id, t.s, longtype, NULL, 0, "b", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_structured(&id, t.s, NULL, NULL, 0, "b", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_structured(&id, t.s, "t", NULL, 2, "b", 1), MLOPS_EINVALID);

    /* a plain object is not structured */
    mlops_oid plain = tu_put_str(t.s, "just bytes, not structured");
    type = NULL;
    tu_assert_err(mlops_object_get_structured(&type, NULL, NULL, NULL, NULL, t.s, &plain), MLOPS_EINVALID);
    ck_assert_ptr_null(type);
    mlops_oid empty = tu_put(t.s, "", 0);
    tu_assert_err(mlops_object_get_structured(NULL, NULL, NULL, NULL, NULL, t.s, &empty), MLOPS_EINVALID);
    tu_store_destroy(&t);
}
END_TEST

static long long stored_size(tu_store *t, const mlops_oid *id)
{
    char *p = tu_object_path(t->dir, id);
    long long sz = tu_file_size(p);
    ck_assert_msg(sz >= 0, "object file %s missing", p);
    free(p);
    return sz;
}

START_TEST(compression_modes)
{
    const mlops_compression modes[] = {MLOPS_COMPRESSION_NONE, MLOPS_COMPRESSION_ALWAYS, MLOPS_COMPRESSION_AUTO};
    long long big_text[3], small_text[3], rnd[3];
    size_t big = 6 * MiB;
    char *text = tu_xmalloc(big), *random = tu_xmalloc(MiB);
    tu_fill_text(text, big, 41);
    tu_fill_random(random, MiB, 42);
    for (int m = 0; m < 3; m++) {
        mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
        o.compression = modes[m];
        tu_store t;
        tu_store_open(&t, _i, &o);
        mlops_oid a = roundtrip(t.s, text, big);
        mlops_oid b = roundtrip(t.s, text, 100000);
        mlops_oid c = roundtrip(t.s, random, MiB);
        read_back(t.s, &a, text, big);
        if (t.dir) {
            big_text[m] = stored_size(&t, &a);
            small_text[m] = stored_size(&t, &b);
            rnd[m] = stored_size(&t, &c);
        }
        tu_store_destroy(&t);
    }
    if (_i == TU_FS) {
        /* NONE keeps everything raw */
        ck_assert_int_ge(big_text[0], (long long)big);
        ck_assert_int_ge(small_text[0], 100000);
        /* ALWAYS compresses whatever shrinks, even above compress_limit */
        ck_assert_msg(big_text[1] < big_text[0] / 2, "ALWAYS: %lld vs NONE %lld", big_text[1], big_text[0]);
        ck_assert_int_lt(small_text[1], small_text[0] / 2);
        /* AUTO: above the limit raw, below compressed */
        ck_assert_int_ge(big_text[2], (long long)big);
        ck_assert_int_lt(small_text[2], small_text[0] / 2);
        /* random data never grows by compression */
        for (int m = 0; m < 3; m++)
            ck_assert_msg(rnd[m] < (long long)MiB + 4096, "mode %d: random 1 MiB stored in %lld", m, rnd[m]);
    }
    free(text);
    free(random);
}
END_TEST

START_TEST(compress_limit_option)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.compress_limit = 1000;
    o.compression_level = 9;
    tu_store t;
    tu_store_open(&t, TU_FS, &o);
    char *text = tu_xmalloc(200000);
    tu_fill_text(text, 200000, 51);
    mlops_oid a = roundtrip(t.s, text, 200000); /* above the limit: raw */
    mlops_oid b = roundtrip(t.s, text, 900);    /* below: compressed */
    ck_assert_int_ge(stored_size(&t, &a), 200000);
    ck_assert_int_lt(stored_size(&t, &b), 900);
    free(text);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(options)
{
    mlops_store_options o;
    memset(&o, 0xab, sizeof o);
    ck_assert_int_eq(mlops_store_options_init(&o, MLOPS_STORE_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.version, MLOPS_STORE_OPTIONS_VERSION);
    ck_assert_uint_eq(o.flags, 0);
    ck_assert_int_eq(o.durability, MLOPS_DURABILITY_COMMIT);
    ck_assert_int_eq(o.compression, MLOPS_COMPRESSION_AUTO);
    ck_assert_int_eq(o.compression_level, 1);
    ck_assert_uint_eq(o.compress_limit, 4u << 20);
    ck_assert_uint_eq(o.lock_timeout_ms, 10000);
    ck_assert_uint_eq(o.stale_lock_ms, 30000);
    mlops_store_options init = MLOPS_STORE_OPTIONS_INIT;
    tu_assert_err(mlops_store_options_init(&o, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_store_options_init(&o, 999), MLOPS_EINVALID);
    tu_assert_err(mlops_store_options_init(NULL, MLOPS_STORE_OPTIONS_VERSION), MLOPS_EINVALID);

    char *dir = tu_mkdtemp();
    char *sub = tu_path("%s/store", dir);
    mlops_store *s = NULL;
    unsigned int bad_versions[] = {0, 2, 999};
    for (size_t k = 0; k < 3; k++) {
        mlops_store_options b = MLOPS_STORE_OPTIONS_INIT;
        b.version = bad_versions[k];
        tu_assert_err(mlops_store_open(&s, sub, &b), MLOPS_EINVALID);
        tu_assert_err(mlops_store_open_memory(&s, &b), MLOPS_EINVALID);
        ck_assert_ptr_null(s);
    }
    /* out-of-range enum values and zlib levels */
    mlops_store_options b = MLOPS_STORE_OPTIONS_INIT;
    b.durability = (mlops_durability)7;
    tu_assert_err(mlops_store_open(&s, sub, &b), MLOPS_EINVALID);
    b = init;
    b.compression = (mlops_compression)9;
    tu_assert_err(mlops_store_open(&s, sub, &b), MLOPS_EINVALID);
    b = init;
    b.compression_level = 10;
    tu_assert_err(mlops_store_open_memory(&s, &b), MLOPS_EINVALID);
    b.compression_level = -3;
    tu_assert_err(mlops_store_open_memory(&s, &b), MLOPS_EINVALID);
    b = init;
    b.flags = 0x80000000u;
    tu_assert_err(mlops_store_open_memory(&s, &b), MLOPS_EINVALID);
    /* nothing was created by the refused opens */
    ck_assert(!tu_exists(sub));
    free(sub);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(null_arguments)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid id = tu_put_str(t.s, "x");
    void *out = NULL;
    size_t n;
    uint64_t sz;
    char buf[8];
    mlops_store *s = NULL;
    tu_assert_err(mlops_store_open(NULL, "/tmp", NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_open(&s, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_open(&s, "", NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_open_memory(NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_sync(NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put(NULL, t.s, "x", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put(&id, NULL, "x", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put(&id, t.s, NULL, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file(NULL, t.s, "/etc/hostname"), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file(&id, NULL, "/etc/hostname"), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_file(&id, t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get(NULL, &n, t.s, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get(&out, NULL, t.s, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get(&out, &n, NULL, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get(&out, &n, t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get_file(NULL, &id, "/tmp/x"), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get_file(t.s, NULL, "/tmp/x"), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get_file(t.s, &id, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_exists(NULL, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_exists(t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_size(NULL, t.s, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_size(&sz, NULL, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_size(&sz, t.s, NULL), MLOPS_EINVALID);

    mlops_object_writer *w = NULL;
    tu_assert_err(mlops_object_writer_new(NULL, t.s), MLOPS_EINVALID);
    tu_assert_err(mlops_object_writer_new(&w, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_writer_write(NULL, "x", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_object_writer_finish(&id, NULL), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_object_writer_new(&w, t.s), 0);
    tu_assert_err(mlops_object_writer_write(w, NULL, 5), MLOPS_EINVALID);
    tu_assert_err(mlops_object_writer_finish(NULL, w), MLOPS_EINVALID);
    mlops_object_writer_free(w);

    mlops_object_reader *r = NULL;
    tu_assert_err(mlops_object_reader_open(NULL, t.s, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_reader_open(&r, NULL, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_reader_open(&r, t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_object_reader_read(&n, NULL, buf, sizeof buf), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_object_reader_open(&r, t.s, &id), 0);
    tu_assert_err(mlops_object_reader_read(NULL, r, buf, sizeof buf), MLOPS_EINVALID);
    tu_assert_err(mlops_object_reader_read(&n, r, NULL, sizeof buf), MLOPS_EINVALID);
    mlops_object_reader_free(r);

    tu_assert_err(mlops_object_put_structured(NULL, t.s, "t", NULL, 0, "", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_structured(&id, NULL, "t", NULL, 0, "", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_object_put_structured(&id, t.s, "t", NULL, 0, NULL, 4), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get_structured(NULL, NULL, NULL, NULL, NULL, NULL, &id), MLOPS_EINVALID);
    tu_assert_err(mlops_object_get_structured(NULL, NULL, NULL, NULL, NULL, t.s, NULL), MLOPS_EINVALID);

    mlops_store_free(NULL);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(readonly_flag)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid id = tu_put_str(t.s, "kept");
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.flags = MLOPS_STORE_READONLY;
    mlops_store *ro = NULL;
    if (t.kind == TU_FS) {
        ck_assert_int_eq(mlops_store_open(&ro, t.dir, &o), 0);
    } else {
        ck_assert_int_eq(mlops_store_open_memory(&ro, &o), 0);
    }
    char *tmp = tu_mkdtemp();
    char *src = tu_path("%s/src", tmp);
    tu_write_file(src, "file content", 12);
    char *before = t.dir ? tu_tree(t.dir) : NULL;
    mlops_oid nid;
    tu_assert_err(mlops_object_put(&nid, ro, "new", 3), MLOPS_EPERM);
    tu_assert_err(mlops_object_put_file(&nid, ro, src), MLOPS_EPERM);
    tu_assert_err(mlops_object_put_structured(&nid, ro, "t", NULL, 0, "b", 1), MLOPS_EPERM);
    mlops_object_writer *w = NULL;
    int rc = mlops_object_writer_new(&w, ro);
    if (rc == 0) {
        rc = mlops_object_writer_write(w, "x", 1);
        if (rc == 0)
            rc = mlops_object_writer_finish(&nid, w);
        mlops_object_writer_free(w);
    }
    tu_assert_err(rc, MLOPS_EPERM);
    tu_assert_err(mlops_ref_set(ro, "main", &id, NULL), MLOPS_EPERM);
    tu_assert_err(mlops_ref_delete(ro, "main", NULL), MLOPS_EPERM);
    tu_assert_err(mlops_log_append(ro, "log", "r", 1), MLOPS_EPERM);
    mlops_gc_options g = MLOPS_GC_OPTIONS_INIT;
    g.grace_seconds = 0;
    mlops_gc_report gr;
    tu_assert_err(mlops_store_gc(&gr, ro, &g, NULL, NULL), MLOPS_EPERM);
    if (t.kind == TU_FS) {
        /* reads work, nothing changed on disk */
        void *out = NULL;
        size_t n = 0;
        ck_assert_int_eq(mlops_object_get(&out, &n, ro, &id), 0);
        ck_assert_uint_eq(n, 4);
        mlops_free(out);
        char *after = tu_tree(t.dir);
        ck_assert_str_eq(before, after);
        free(after);
        ck_assert_int_eq(mlops_object_exists(t.s, &id), 1);
    }
    free(before);
    tu_rmrf(tmp);
    free(tmp);
    free(src);
    mlops_store_free(ro);
    tu_store_destroy(&t);
}
END_TEST

/* The checks of a store directory we may not write; run as the user who
 * cannot write it. Returns 0 when every expectation holds. */
static int check_unwritable_store(const char *dir, const mlops_oid *id)
{
    mlops_store *s = NULL;
    int rc = mlops_store_open(&s, dir, NULL);
    if (rc != MLOPS_EPERM || strstr(mlops_error_last(), "not writable") == NULL)
        return 1;
    /* Read-only access still works and reads verify. */
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.flags = MLOPS_STORE_READONLY;
    if (mlops_store_open(&s, dir, &o) != 0)
        return 2;
    void *out = NULL;
    size_t n = 0;
    mlops_oid nid;
    int ok = mlops_object_get(&out, &n, s, id) == 0 && n == 4 && memcmp(out, "kept", 4) == 0 &&
             mlops_object_put(&nid, s, "new", 3) == MLOPS_EPERM;
    mlops_free(out);
    mlops_store_free(s);
    return ok ? 0 : 3;
}

START_TEST(readonly_directory)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid id = tu_put_str(t.s, "kept");
    tu_store_close(&t);
    /* Root writes through permission bits, so when root runs the suite
     * the checks run in a child that becomes the unprivileged 'nobody'. */
    char *cmd = tu_path("chmod 0755 '%s' && chmod -R a+rX,a-w '%s'", t.dir, t.dir);
    ck_assert_int_eq(system(cmd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        _exit(check_unwritable_store(t.dir, &id));
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unwritable store check failed: %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    free(cmd);
    cmd = tu_path("chmod -R u+w '%s'", t.dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(no_create)
{
    char *dir = tu_mkdtemp();
    char *missing = tu_path("%s/nothing/here", dir);
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.flags = MLOPS_STORE_NO_CREATE;
    mlops_store *s = NULL;
    tu_assert_err(mlops_store_open(&s, missing, &o), MLOPS_ENOTFOUND);
    ck_assert(!tu_exists(missing));
    /* an existing directory without a store is not a store */
    tu_assert_err(mlops_store_open(&s, dir, &o), MLOPS_ENOTFOUND);
    ck_assert_uint_eq(tu_count_files(dir), 0);
    /* create, then NO_CREATE opens it */
    ck_assert_int_eq(mlops_store_open(&s, missing, NULL), 0);
    mlops_oid id = tu_put_str(s, "persisted");
    mlops_store_free(s);
    s = NULL;
    ck_assert_int_eq(mlops_store_open(&s, missing, &o), 0);
    ck_assert_int_eq(mlops_object_exists(s, &id), 1);
    mlops_store_free(s);
    /* a regular file is not a store directory */
    char *file = tu_path("%s/file", dir);
    tu_write_file(file, "x", 1);
    s = NULL;
    ck_assert_int_lt(mlops_store_open(&s, file, NULL), 0);
    ck_assert_ptr_null(s);
    free(file);
    free(missing);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(format_file)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid id = tu_put_str(t.s, "data");
    tu_store_close(&t);
    char *fmt = tu_path("%s/mlops-store", t.dir);
    size_t n = 0;
    char *content = tu_read_file(fmt, &n);
    ck_assert_msg(content != NULL, "no format file %s", fmt);
    ck_assert_msg(strncmp(content, "mlops-store 1\n", 14) == 0, "format file starts with: %.40s", content);

    mlops_store *s = NULL;
    /* a newer format: the first line says 999, the rest unchanged */
    char *newer = tu_path("mlops-store 999\n%s", content + 14);
    tu_write_file(fmt, newer, strlen(newer));
    tu_assert_err(mlops_store_open(&s, t.dir, NULL), MLOPS_EUNSUPPORTED);
    ck_assert_ptr_null(s);
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.flags = MLOPS_STORE_READONLY;
    tu_assert_err(mlops_store_open(&s, t.dir, &o), MLOPS_EUNSUPPORTED);
    /* the refused open left the file alone */
    size_t n2 = 0;
    char *still = tu_read_file(fmt, &n2);
    ck_assert_str_eq(still, newer);
    free(still);

    const char *garbage[] = {"\x01\x02garbage\xff", "", "mlops-store\n", "mlops-store one\n", "mlops-store -1\n",
                             "git-store 1\n"};
    for (size_t k = 0; k < sizeof garbage / sizeof garbage[0]; k++) {
        tu_write_file(fmt, garbage[k], strlen(garbage[k]));
        tu_assert_err(mlops_store_open(&s, t.dir, NULL), MLOPS_ECORRUPT);
        ck_assert_ptr_null(s);
    }
    /* restored, the store opens and the data is there */
    tu_write_file(fmt, content, n);
    ck_assert_int_eq(mlops_store_open(&s, t.dir, NULL), 0);
    ck_assert_int_eq(mlops_object_exists(s, &id), 1);
    mlops_store_free(s);
    free(newer);
    free(content);
    free(fmt);
    tu_store_destroy(&t);
}
END_TEST

/* flip a byte near the end of the object file of (data, len) */
static void corruption_case(const char *data, size_t len)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid good = tu_put_str(t.s, "an intact neighbour");
    mlops_oid id = tu_put(t.s, data, len);
    char *p = tu_object_path(t.dir, &id);
    tu_flip_byte(p, 2);

    void *out = NULL;
    size_t n = 0;
    tu_assert_err(mlops_object_get(&out, &n, t.s, &id), MLOPS_ECORRUPT);
    ck_assert_ptr_null(out);

    char *dir = tu_mkdtemp();
    char *dst = tu_path("%s/out", dir);
    tu_assert_err(mlops_object_get_file(t.s, &id, dst), MLOPS_ECORRUPT);
    ck_assert(!tu_exists(dst));
    ck_assert_uint_eq(tu_count_files(dir), 0);
    tu_write_file(dst, "previous", 8);
    tu_assert_err(mlops_object_get_file(t.s, &id, dst), MLOPS_ECORRUPT);
    char *prev = tu_read_file(dst, NULL);
    ck_assert_str_eq(prev, "previous");
    ck_assert_uint_eq(tu_count_files(dir), 1);
    free(prev);

    /* streaming: everything until the last read, which fails */
    mlops_object_reader *r = NULL;
    int rc = mlops_object_reader_open(&r, t.s, &id);
    if (rc == 0) {
        char buf[7000];
        size_t got;
        for (int guard = 0; guard < 100000; guard++) {
            rc = mlops_object_reader_read(&got, r, buf, sizeof buf);
            if (rc != 0 || got == 0)
                break;
        }
        mlops_object_reader_free(r);
    }
    tu_assert_err(rc, MLOPS_ECORRUPT);

    mlops_verify_report rep;
    memset(&rep, 0, sizeof rep);
    ck_assert_int_eq(mlops_store_verify(&rep, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.objects, 2);
    ck_assert_uint_eq(rep.ncorrupt, 1);
    ck_assert_int_eq(mlops_oid_cmp(&rep.corrupt[0], &id), 0);
    mlops_verify_report_free(&rep);

    /* the neighbour is fine */
    ck_assert_int_eq(mlops_object_get(&out, &n, t.s, &good), 0);
    mlops_free(out);

    /* truncation is corruption too */
    tu_truncate(p, tu_file_size(p) / 2);
    out = NULL;
    tu_assert_err(mlops_object_get(&out, &n, t.s, &id), MLOPS_ECORRUPT);
    ck_assert_ptr_null(out);

    free(dst);
    tu_rmrf(dir);
    free(dir);
    free(p);
    tu_store_destroy(&t);
}

START_TEST(corruption_raw)
{
    char *buf = tu_xmalloc(300000);
    tu_fill_random(buf, 300000, 61);
    corruption_case(buf, 300000);
    free(buf);
}
END_TEST

START_TEST(corruption_compressed)
{
    char *buf = tu_xmalloc(300000);
    tu_fill_text(buf, 300000, 62);
    corruption_case(buf, 300000);
    free(buf);
}
END_TEST

START_TEST(corruption_small)
{
    corruption_case("tiny object", 11);
}
END_TEST

START_TEST(object_file_swapped)
{
    /* an intact object file under the wrong name: bytes that decode fine but
     * hash to another id must still be refused */
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid a = tu_put_str(t.s, "content A");
    mlops_oid b = tu_put_str(t.s, "content B");
    char *pa = tu_object_path(t.dir, &a), *pb = tu_object_path(t.dir, &b);
    size_t n = 0;
    char *bytes = tu_read_file(pb, &n);
    chmod(pa, 0600);
    tu_write_file(pa, bytes, n);
    void *out = NULL;
    size_t len;
    tu_assert_err(mlops_object_get(&out, &len, t.s, &a), MLOPS_ECORRUPT);
    mlops_verify_report rep;
    memset(&rep, 0, sizeof rep);
    ck_assert_int_eq(mlops_store_verify(&rep, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.ncorrupt, 1);
    ck_assert_int_eq(mlops_oid_cmp(&rep.corrupt[0], &a), 0);
    mlops_verify_report_free(&rep);
    free(bytes);
    free(pa);
    free(pb);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(durability_modes)
{
    const mlops_durability modes[] = {MLOPS_DURABILITY_NONE, MLOPS_DURABILITY_COMMIT, MLOPS_DURABILITY_FULL};
    for (int m = 0; m < 3; m++) {
        mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
        o.durability = modes[m];
        tu_store t;
        tu_store_open(&t, _i, &o);
        mlops_oid id = tu_put_str(t.s, "durable?");
        ck_assert_int_eq(mlops_ref_set(t.s, "main", &id, NULL), 0);
        ck_assert_int_eq(mlops_log_append(t.s, "log", "rec", 3), 0);
        ck_assert_int_eq(mlops_log_sync(t.s, "log"), 0);
        ck_assert_int_eq(mlops_store_sync(t.s), 0);
        if (t.kind == TU_FS) {
            tu_store_reopen(&t, NULL);
            mlops_oid got;
            ck_assert_int_eq(mlops_ref_get(&got, t.s, "main"), 0);
            ck_assert_int_eq(mlops_oid_cmp(&got, &id), 0);
        }
        ck_assert_int_eq(mlops_object_exists(t.s, &id), 1);
        tu_verify_clean(t.s);
        tu_store_destroy(&t);
    }
}
END_TEST

/* objects written with one compression setting read back under another */
START_TEST(mixed_compression_reopen)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.compression = MLOPS_COMPRESSION_ALWAYS;
    tu_store t;
    tu_store_open(&t, TU_FS, &o);
    size_t len = 500000;
    char *text = tu_xmalloc(len);
    tu_fill_text(text, len, 71);
    mlops_oid a = tu_put(t.s, text, len);
    o.compression = MLOPS_COMPRESSION_NONE;
    tu_store_reopen(&t, &o);
    read_back(t.s, &a, text, len);
    text[0] ^= 1;
    mlops_oid b = roundtrip(t.s, text, len);
    ck_assert_int_ge(stored_size(&t, &b), (long long)len);
    tu_verify_clean(t.s);
    free(text);
    tu_store_destroy(&t);
}
END_TEST

/* A FIFO is not a regular file: refused at once, without blocking in open()
 * waiting for a writer. */
/* Files of 16 MiB and more are hashed on a second thread while they are
 * written (hash_pipe.c); the id must still be sha256sum's, in every
 * compression mode, and the bytes must come back. */
START_TEST(put_file_large_pipelined)
{
    static const mlops_compression modes[] = { MLOPS_COMPRESSION_AUTO, MLOPS_COMPRESSION_ALWAYS,
                                               MLOPS_COMPRESSION_NONE };
    size_t n = (size_t)20 << 20;
    char *data = tu_xmalloc(n);
    tu_fill_text(data, n / 2, 3);
    tu_fill_random(data + n / 2, n - n / 2, 4);
    char *dir = tu_mkdtemp();
    char *src = tu_path("%s/src", dir), *dst = tu_path("%s/dst", dir);
    tu_write_file(src, data, n);
    char want[65], got[65];
    tu_sha256sum_file(src, want);
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
        o.compression = modes[m];
        tu_store t;
        tu_store_open(&t, _i, &o);
        mlops_oid id;
        ck_assert_int_eq(mlops_object_put_file(&id, t.s, src), 0);
        tu_hex(&id, got);
        ck_assert_str_eq(got, want);
        ck_assert_int_eq(mlops_object_get_file(t.s, &id, dst), 0);
        size_t len = 0;
        char *back = tu_read_file(dst, &len);
        ck_assert_uint_eq(len, n);
        ck_assert_int_eq(memcmp(back, data, n), 0);
        free(back);
        tu_verify_clean(t.s);
        tu_store_destroy(&t);
    }
    tu_rmrf(dir);
    free(src);
    free(dst);
    free(dir);
    free(data);
}
END_TEST

START_TEST(put_file_fifo)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    char *dir = tu_mkdtemp();
    char *fifo = tu_path("%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    mlops_oid id;
    tu_assert_err(mlops_object_put_file(&id, t.s, fifo), MLOPS_EINVALID);
    free(fifo);
    tu_rmrf(dir);
    free(dir);
    tu_store_destroy(&t);
}
END_TEST

static Suite *objects_suite(void)
{
    Suite *s = suite_create("objects");
    TCase *tc = tcase_create("both");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, put_get_sizes, 0, TU_KINDS);
    tcase_add_loop_test(tc, put_idempotent, 0, TU_KINDS);
    tcase_add_loop_test(tc, put_file_get_file, 0, TU_KINDS);
    tcase_add_loop_test(tc, put_file_large_pipelined, 0, TU_KINDS);
    tcase_add_loop_test(tc, writer_matches_put, 0, TU_KINDS);
    tcase_add_loop_test(tc, reader_odd_sizes, 0, TU_KINDS);
    tcase_add_loop_test(tc, unknown_id, 0, TU_KINDS);
    tcase_add_loop_test(tc, structured_roundtrip, 0, TU_KINDS);
    tcase_add_loop_test(tc, compression_modes, 0, TU_KINDS);
    tcase_add_loop_test(tc, null_arguments, 0, TU_KINDS);
    tcase_add_loop_test(tc, readonly_flag, 0, TU_KINDS);
    tcase_add_loop_test(tc, durability_modes, 0, TU_KINDS);
    tcase_add_test(tc, options);
    suite_add_tcase(s, tc);
    tc = tcase_create("fs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, compress_limit_option);
    tcase_add_test(tc, mixed_compression_reopen);
    tcase_add_test(tc, readonly_directory);
    tcase_add_test(tc, no_create);
    tcase_add_test(tc, format_file);
    tcase_add_test(tc, corruption_raw);
    tcase_add_test(tc, corruption_compressed);
    tcase_add_test(tc, corruption_small);
    tcase_add_test(tc, object_file_swapped);
    suite_add_tcase(s, tc);
    tc = tcase_create("fifo");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, put_file_fifo);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(objects_suite());
}
