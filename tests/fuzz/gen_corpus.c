/*
 * Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
 * from what the library itself produces: it opens a store over a backend
 * that forwards to the memory backend and records every published object
 * blob and every appended log byte, then saves those plus truncated and
 * damaged variants. Run by hand after a format change:
 *
 *     build/tests/robust/fuzz_gen_corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mlops.h>
#include <mlops/sys/backend.h>

#include "store/store_internal.h"

typedef struct rec_state {
    mlops_backend inner;
    void *w;                /* the write in flight (one at a time here) */
    unsigned char *wbuf;
    size_t wlen;
    unsigned char *last;    /* the last published blob */
    size_t last_len;
    unsigned char log[1 << 16];
    size_t log_len;
} rec_state;

static rec_state R;

#define INNER (&R.inner)

static int r_obj_exists(mlops_backend *b, const mlops_oid *id) { (void)b; return INNER->obj_exists(INNER, id); }
static int r_obj_stat(mlops_backend *b, const mlops_oid *id, uint64_t *s, int64_t *m)
{
    (void)b;
    return INNER->obj_stat(INNER, id, s, m);
}
static int r_obj_write_open(mlops_backend *b, void **w)
{
    int rc;
    (void)b;
    rc = INNER->obj_write_open(INNER, w);
    R.w = *w;
    R.wlen = 0;
    return rc;
}
static int r_obj_write(mlops_backend *b, void *w, const void *d, size_t n)
{
    (void)b;
    if (w == R.w) {
        R.wbuf = realloc(R.wbuf, R.wlen + n + 1);
        memcpy(R.wbuf + R.wlen, d, n);
        R.wlen += n;
    }
    return INNER->obj_write(INNER, w, d, n);
}
static int r_obj_write_commit(mlops_backend *b, void *w, const mlops_oid *id)
{
    (void)b;
    if (w == R.w) {
        free(R.last);
        R.last = R.wbuf;
        R.last_len = R.wlen;
        R.wbuf = NULL;
        R.wlen = 0;
        R.w = NULL;
    }
    return INNER->obj_write_commit(INNER, w, id);
}
static void r_obj_write_abort(mlops_backend *b, void *w) { (void)b; INNER->obj_write_abort(INNER, w); }
static int r_obj_read_open(mlops_backend *b, const mlops_oid *id, void **r)
{
    (void)b;
    return INNER->obj_read_open(INNER, id, r);
}
static int r_obj_read(mlops_backend *b, void *r, void *buf, size_t cap, size_t *n)
{
    (void)b;
    return INNER->obj_read(INNER, r, buf, cap, n);
}
static void r_obj_read_close(mlops_backend *b, void *r) { (void)b; INNER->obj_read_close(INNER, r); }
static int r_obj_delete(mlops_backend *b, const mlops_oid *id) { (void)b; return INNER->obj_delete(INNER, id); }
static int r_obj_foreach(mlops_backend *b, mlops_backend_object_cb cb, void *p)
{
    (void)b;
    return INNER->obj_foreach(INNER, cb, p);
}
static int r_ref_read(mlops_backend *b, const char *n, mlops_oid *o) { (void)b; return INNER->ref_read(INNER, n, o); }
static int r_ref_cas(mlops_backend *b, const char *n, const mlops_oid *e, const mlops_oid *v)
{
    (void)b;
    return INNER->ref_cas(INNER, n, e, v);
}
static int r_ref_foreach(mlops_backend *b, const char *p, mlops_backend_name_cb cb, void *pl)
{
    (void)b;
    return INNER->ref_foreach(INNER, p, cb, pl);
}
static int r_log_append(mlops_backend *b, const char *log, const void *d, size_t n)
{
    (void)b;
    if (R.log_len + n <= sizeof R.log) {
        memcpy(R.log + R.log_len, d, n);
        R.log_len += n;
    }
    return INNER->log_append(INNER, log, d, n);
}
static int r_log_sync(mlops_backend *b, const char *log) { (void)b; return INNER->log_sync(INNER, log); }
static int r_log_segments(mlops_backend *b, const char *log, mlops_backend_name_cb cb, void *p)
{
    (void)b;
    return INNER->log_segments(INNER, log, cb, p);
}
static int r_log_read(mlops_backend *b, const char *log, const char *seg, uint64_t off, void *buf, size_t cap,
                      size_t *n)
{
    (void)b;
    return INNER->log_read(INNER, log, seg, off, buf, cap, n);
}
static int r_log_foreach(mlops_backend *b, const char *p, mlops_backend_name_cb cb, void *pl)
{
    (void)b;
    return INNER->log_foreach(INNER, p, cb, pl);
}
static int r_sync(mlops_backend *b) { (void)b; return INNER->sync(INNER); }

static const char *g_root;

static void save(const char *target, const char *name, const void *a, size_t alen, const void *b, size_t blen)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", g_root, target);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", g_root, target, name);
    f = fopen(path, "wb");
    if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0) {
        fprintf(stderr, "writing %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

#define CHECK(x)                                                                          \
    do {                                                                                  \
        int rc_ = (x);                                                                    \
        if (rc_ != 0) {                                                                   \
            fprintf(stderr, "%s:%d: %s = %d (%s)\n", __FILE__, __LINE__, #x, rc_,         \
                    mlops_error_last());                                                  \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* Saves the blob of the last put as "<name>" and variants. */
static void save_object(const char *name, const mlops_oid *id, unsigned char ctl)
{
    unsigned char head[1 + MLOPS_OID_RAWSZ];
    unsigned char *blob = R.last;
    size_t len = R.last_len;
    char vname[256];
    head[0] = ctl;
    memcpy(head + 1, id->id, MLOPS_OID_RAWSZ);
    save("object", name, head, sizeof head, blob, len);
    if (len > 1) {
        snprintf(vname, sizeof vname, "%s.trunc-half", name);
        save("object", vname, head, sizeof head, blob, len / 2);
        snprintf(vname, sizeof vname, "%s.trunc-1", name);
        save("object", vname, head, sizeof head, blob, len - 1);
        /* flip a byte in the header area and one in the payload */
        blob[len > 8 ? 5 : 0] ^= 0x40;
        snprintf(vname, sizeof vname, "%s.flip-head", name);
        save("object", vname, head, sizeof head, blob, len);
        blob[len > 8 ? 5 : 0] ^= 0x40;
        blob[len - 1] ^= 0x01;
        snprintf(vname, sizeof vname, "%s.flip-tail", name);
        save("object", vname, head, sizeof head, blob, len);
        blob[len - 1] ^= 0x01;
    }
    head[0] = (unsigned char)(ctl | 0x03); /* 3-byte reads */
    snprintf(vname, sizeof vname, "%s.chunk3", name);
    save("object", vname, head, sizeof head, blob, len);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

static void objects(mlops_store *s, mlops_store *s_none)
{
    static unsigned char buf[6000];
    mlops_oid id, links[3];
    void *logical = NULL;
    size_t llen = 0;

    CHECK(mlops_object_put(&id, s, "", 0));
    save_object("empty", &id, 0);
    CHECK(mlops_object_put(&id, s, "abc", 3));
    save_object("abc", &id, 0);
    memset(buf, 'z', 2000);
    CHECK(mlops_object_put(&id, s, buf, 2000));
    save_object("zeros-2000", &id, 0);
    fill(buf, 3000, 7);
    CHECK(mlops_object_put(&id, s, buf, 3000));
    save_object("random-3000", &id, 0);
    for (size_t i = 0; i < 5000; i++)
        buf[i] = (unsigned char)("metric,loss,0.125\n"[i % 18]);
    CHECK(mlops_object_put(&id, s, buf, 5000));
    save_object("text-5000", &id, 0);
    CHECK(mlops_object_put(&id, s_none, buf, 5000));
    save_object("text-5000-raw", &id, 0);

    CHECK(mlops_object_put(&links[0], s, "one", 3));
    CHECK(mlops_object_put(&links[1], s, "two", 3));
    CHECK(mlops_object_put(&links[2], s, "three", 5));
    CHECK(mlops_object_put_structured(&id, s, "manifest", links, 3, "body bytes", 10));
    save_object("structured-3links", &id, 0);
    CHECK(mlops_object_get(&logical, &llen, s, &id));
    /* The logical encoding as input for the structured decoder (ctl 0x10). */
    {
        unsigned char head[1 + MLOPS_OID_RAWSZ];
        head[0] = 0x10;
        memcpy(head + 1, id.id, MLOPS_OID_RAWSZ);
        save("object", "structured-3links.logical", head, sizeof head, logical, llen);
        if (llen > 8) {
            save("object", "structured-3links.logical-trunc", head, sizeof head, logical, llen - 7);
            ((unsigned char *)logical)[llen / 3] ^= 0xff;
            save("object", "structured-3links.logical-flip", head, sizeof head, logical, llen);
        }
    }
    mlops_free(logical);
    CHECK(mlops_object_put_structured(&id, s, "t", NULL, 0, "", 0));
    save_object("structured-empty", &id, 0);
    CHECK(mlops_object_get(&logical, &llen, s, &id));
    {
        unsigned char head[1 + MLOPS_OID_RAWSZ];
        head[0] = 0x10;
        memcpy(head + 1, id.id, MLOPS_OID_RAWSZ);
        save("object", "structured-empty.logical", head, sizeof head, logical, llen);
    }
    mlops_free(logical);
    fill(buf, 1500, 9);
    CHECK(mlops_object_put_structured(&id, s, "registry.state", links, 1, buf, 1500));
    save_object("structured-random-body", &id, 0);
    {
        unsigned char g[200];
        unsigned char head[1 + MLOPS_OID_RAWSZ];
        memset(head, 0, sizeof head);
        fill(g, sizeof g, 3);
        save("object", "garbage", head, sizeof head, g, sizeof g);
        head[0] = 0x10;
        save("object", "garbage.logical", head, sizeof head, g, sizeof g);
    }
}

static void logs(mlops_store *s)
{
    const void *recs[3] = {"alpha", "", "gamma-gamma"};
    size_t lens[3] = {5, 0, 11};
    static unsigned char big[1200];
    unsigned char ctl = 0;
    size_t start;

    R.log_len = 0;
    CHECK(mlops_log_append(s, "fuzz/log", "hello", 5));
    CHECK(mlops_log_sync(s, "fuzz/log"));
    save("log", "one-record", &ctl, 1, R.log, R.log_len);
    start = R.log_len;
    CHECK(mlops_log_append_batch(s, "fuzz/log", recs, lens, 3));
    save("log", "batch", &ctl, 1, R.log + start, R.log_len - start);
    fill(big, sizeof big, 5);
    CHECK(mlops_log_append(s, "fuzz/log", big, sizeof big));
    CHECK(mlops_log_append(s, "fuzz/log", "", 0));
    CHECK(mlops_log_sync(s, "fuzz/log"));
    save("log", "mixed", &ctl, 1, R.log, R.log_len);
    ctl = 0x03;
    save("log", "mixed.chunk3", &ctl, 1, R.log, R.log_len);
    ctl = 0x20; /* three segments */
    save("log", "mixed.3seg", &ctl, 1, R.log, R.log_len);
    ctl = 0;
    save("log", "mixed.torn-tail", &ctl, 1, R.log, R.log_len - 3);
    save("log", "mixed.torn-mid", &ctl, 1, R.log, R.log_len / 2);
    R.log[R.log_len / 3] ^= 0x10;
    save("log", "mixed.flip", &ctl, 1, R.log, R.log_len);
    R.log[R.log_len / 3] ^= 0x10;
    R.log[1] ^= 0x80;
    save("log", "mixed.flip-first-frame", &ctl, 1, R.log, R.log_len);
    R.log[1] ^= 0x80;
    save("log", "empty", &ctl, 1, NULL, 0);
    fill(big, 300, 11);
    save("log", "garbage", &ctl, 1, big, 300);
    memset(big, 0xff, 64);
    save("log", "ones", &ctl, 1, big, 64);
}

static void names(void)
{
    static const char *const v[] = {
        "main", "refs/heads/main", "datasets/imagenet/head", "a-b_c.d/e", "../x", "/abs", "a//b", "a/", "",
        "a\nb", "a\tb", "x/./y", "x/../y", ".hidden", "a/.b", "heads/main.lock", "a.lock/b", "a\x7f", "x y",
        "models/resnet@prod", "caf\xc3\xa9", "a\\b", "lock.lockx",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
        "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    };
    char name[32];
    char longname[1100];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        snprintf(name, sizeof name, "n%02zu", i);
        save("names", name, v[i], strlen(v[i]), NULL, 0);
    }
    /* a hex id with an embedded NUL, and names at and over the limit */
    save("names", "hex-nul", "ba7816bf8f01cfea414140de5dae2223b00361a3\0" "6177a9cb410ff61f20015ad", 64, NULL, 0);
    memset(longname, 'a', sizeof longname);
    for (size_t i = 100; i < sizeof longname; i += 100)
        longname[i] = '/';
    save("names", "len-1024", longname, 1024, NULL, 0);
    save("names", "len-1025", longname, 1025, NULL, 0);
}

int main(int argc, char **argv)
{
    mlops_backend be;
    mlops_store *s = NULL, *s_none = NULL;
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    mkdir(g_root, 0777);
    CHECK(mlops__backend_memory_new(&R.inner));
    CHECK(mlops_backend_init(&be, MLOPS_BACKEND_VERSION));
    be.obj_exists = r_obj_exists;
    be.obj_stat = r_obj_stat;
    be.obj_write_open = r_obj_write_open;
    be.obj_write = r_obj_write;
    be.obj_write_commit = r_obj_write_commit;
    be.obj_write_abort = r_obj_write_abort;
    be.obj_read_open = r_obj_read_open;
    be.obj_read = r_obj_read;
    be.obj_read_close = r_obj_read_close;
    be.obj_delete = r_obj_delete;
    be.obj_foreach = r_obj_foreach;
    be.ref_read = r_ref_read;
    be.ref_cas = r_ref_cas;
    be.ref_foreach = r_ref_foreach;
    be.log_append = r_log_append;
    be.log_sync = r_log_sync;
    be.log_segments = r_log_segments;
    be.log_read = r_log_read;
    be.log_foreach = r_log_foreach;
    be.sync = r_sync;
    be.free = NULL; /* the inner backend is released below */
    o.durability = MLOPS_DURABILITY_NONE;
    CHECK(mlops_store_open_backend(&s, &be, &o));
    o.compression = MLOPS_COMPRESSION_NONE;
    CHECK(mlops_store_open_backend(&s_none, &be, &o));
    objects(s, s_none);
    logs(s);
    names();
    mlops_store_free(s);
    mlops_store_free(s_none);
    if (R.inner.free)
        R.inner.free(&R.inner);
    free(R.last);
    free(R.wbuf);
    printf("corpus written to %s\n", g_root);
    return 0;
}
