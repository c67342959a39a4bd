/*
 * A tiny in-memory backend for the fuzz targets: every object id reads
 * back as the same blob (the fuzz input) and the one log has one segment
 * whose bytes are the fuzz input. Single-threaded, no allocation beyond
 * reader handles; writes are accepted and dropped.
 */
#ifndef MLOPS_TESTS_FUZZ_BACKEND_H
#define MLOPS_TESTS_FUZZ_BACKEND_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlops.h>
#include <mlops/sys/backend.h>

#define FUZZ_LOG_NAME "fuzz/log"

typedef struct fuzz_src {
    const unsigned char *data; /* the blob / the segment */
    size_t len;
    size_t chunk;      /* 0: as much as asked; n: at most n bytes per read */
    mlops_oid id;      /* the id obj_foreach reports */
    int has_object;    /* obj_foreach reports id */
    int has_log;       /* the log FUZZ_LOG_NAME exists */
    int nsegments;     /* segments of that log (each the same bytes) */
} fuzz_src;

typedef struct fuzz_reader {
    size_t off;
} fuzz_reader;

static inline size_t fz_chunk(const fuzz_src *src, size_t cap)
{
    return src->chunk && src->chunk < cap ? src->chunk : cap;
}

static inline int fz_obj_exists(mlops_backend *b, const mlops_oid *id)
{
    (void)id;
    return ((fuzz_src *)b->payload)->data != NULL;
}

static inline int fz_obj_stat(mlops_backend *b, const mlops_oid *id, uint64_t *size, int64_t *mtime)
{
    fuzz_src *src = (fuzz_src *)b->payload;
    (void)id;
    if (size)
        *size = src->len;
    if (mtime)
        *mtime = 0;
    return 0;
}

static inline int fz_obj_write_open(mlops_backend *b, void **out_w)
{
    static int token;
    (void)b;
    *out_w = &token;
    return 0;
}

static inline int fz_obj_write(mlops_backend *b, void *w, const void *data, size_t len)
{
    (void)b, (void)w, (void)data, (void)len;
    return 0;
}

static inline int fz_obj_write_commit(mlops_backend *b, void *w, const mlops_oid *id)
{
    (void)b, (void)w, (void)id;
    return 0;
}

static inline void fz_obj_write_abort(mlops_backend *b, void *w)
{
    (void)b, (void)w;
}

static inline int fz_obj_read_open(mlops_backend *b, const mlops_oid *id, void **out_r)
{
    fuzz_reader *r;
    (void)b, (void)id;
    r = (fuzz_reader *)calloc(1, sizeof *r);
    if (!r)
        return MLOPS_ENOMEM;
    *out_r = r;
    return 0;
}

static inline int fz_obj_read(mlops_backend *b, void *rp, void *buf, size_t cap, size_t *out_n)
{
    fuzz_src *src = (fuzz_src *)b->payload;
    fuzz_reader *r = (fuzz_reader *)rp;
    size_t n = src->len - r->off;
    if (n > fz_chunk(src, cap))
        n = fz_chunk(src, cap);
    if (n)
        memcpy(buf, src->data + r->off, n);
    r->off += n;
    *out_n = n;
    return 0;
}

static inline void fz_obj_read_close(mlops_backend *b, void *r)
{
    (void)b;
    free(r);
}

static inline int fz_obj_delete(mlops_backend *b, const mlops_oid *id)
{
    (void)b, (void)id;
    return 0;
}

static inline int fz_obj_foreach(mlops_backend *b, mlops_backend_object_cb cb, void *payload)
{
    fuzz_src *src = (fuzz_src *)b->payload;
    if (!src->has_object)
        return 0;
    return cb(&src->id, src->len, 0, payload);
}

static inline int fz_ref_read(mlops_backend *b, const char *name, mlops_oid *out)
{
    (void)b, (void)name, (void)out;
    return MLOPS_ENOTFOUND;
}

static inline int fz_ref_cas(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    (void)b, (void)name, (void)new_id;
    return expected ? MLOPS_ECONFLICT : 0;
}

static inline int fz_ref_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    (void)b, (void)prefix, (void)cb, (void)payload;
    return 0;
}

static inline int fz_log_append(mlops_backend *b, const char *log, const void *data, size_t len)
{
    (void)b, (void)log, (void)data, (void)len;
    return 0;
}

static inline int fz_log_sync(mlops_backend *b, const char *log)
{
    (void)b, (void)log;
    return 0;
}

static const char *const fz_segment_names[] = {"seg-0", "seg-1", "seg-2", "seg-3"};

static inline int fz_log_segments(mlops_backend *b, const char *log, mlops_backend_name_cb cb, void *payload)
{
    fuzz_src *src = (fuzz_src *)b->payload;
    if (!src->has_log || strcmp(log, FUZZ_LOG_NAME) != 0)
        return MLOPS_ENOTFOUND;
    for (int i = 0; i < src->nsegments && i < 4; i++) {
        int rc = cb(fz_segment_names[i], payload);
        if (rc)
            return rc;
    }
    return 0;
}

static inline int fz_log_read(mlops_backend *b, const char *log, const char *segment, uint64_t offset, void *buf,
                       size_t cap, size_t *out_n)
{
    fuzz_src *src = (fuzz_src *)b->payload;
    size_t n;
    (void)segment;
    if (!src->has_log || strcmp(log, FUZZ_LOG_NAME) != 0)
        return MLOPS_ENOTFOUND;
    if (offset >= src->len) {
        *out_n = 0;
        return 0;
    }
    n = src->len - (size_t)offset;
    if (n > fz_chunk(src, cap))
        n = fz_chunk(src, cap);
    memcpy(buf, src->data + offset, n);
    *out_n = n;
    return 0;
}

static inline int fz_log_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    fuzz_src *src = (fuzz_src *)b->payload;
    if (!src->has_log)
        return 0;
    if (prefix && strncmp(FUZZ_LOG_NAME, prefix, strlen(prefix)) != 0)
        return 0;
    return cb(FUZZ_LOG_NAME, payload);
}

static inline int fz_sync(mlops_backend *b)
{
    (void)b;
    return 0;
}

/* Opens a store over src (which must outlive the store). Aborts on failure:
 * opening must always work. */
static inline mlops_store *fuzz_store_open(fuzz_src *src)
{
    mlops_backend be;
    mlops_store *s = NULL;
    mlops_store_options opts = MLOPS_STORE_OPTIONS_INIT;
    opts.durability = MLOPS_DURABILITY_NONE;
    if (mlops_backend_init(&be, MLOPS_BACKEND_VERSION) != 0)
        abort();
    be.payload = src;
    be.obj_exists = fz_obj_exists;
    be.obj_stat = fz_obj_stat;
    be.obj_write_open = fz_obj_write_open;
    be.obj_write = fz_obj_write;
    be.obj_write_commit = fz_obj_write_commit;
    be.obj_write_abort = fz_obj_write_abort;
    be.obj_read_open = fz_obj_read_open;
    be.obj_read = fz_obj_read;
    be.obj_read_close = fz_obj_read_close;
    be.obj_delete = fz_obj_delete;
    be.obj_foreach = fz_obj_foreach;
    be.ref_read = fz_ref_read;
    be.ref_cas = fz_ref_cas;
    be.ref_foreach = fz_ref_foreach;
    be.log_append = fz_log_append;
    be.log_sync = fz_log_sync;
    be.log_segments = fz_log_segments;
    be.log_read = fz_log_read;
    be.log_foreach = fz_log_foreach;
    be.sync = fz_sync;
    be.free = NULL;
    if (mlops_store_open_backend(&s, &be, &opts) != 0)
        abort();
    return s;
}

/*
 * Allocation oracle: decoding a few KiB of untrusted bytes must never ask
 * for a huge buffer (a length field trusted before the bytes are there is
 * a memory-exhaustion bug even when malloc happens to succeed).
 */
#define FUZZ_ALLOC_LIMIT ((size_t)64 << 20)

static inline void fz_too_big(size_t n)
{
    fprintf(stderr, "fuzz: the library asked for %zu bytes (limit %zu) while decoding a small input\n", n,
            FUZZ_ALLOC_LIMIT);
    abort();
}

static inline void *fz_malloc(size_t n, void *ctx)
{
    (void)ctx;
    if (n > FUZZ_ALLOC_LIMIT)
        fz_too_big(n);
    return malloc(n ? n : 1);
}

static inline void *fz_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    if (n > FUZZ_ALLOC_LIMIT)
        fz_too_big(n);
    return realloc(p, n ? n : 1);
}

static inline void fz_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

/* Installs the allocation oracle once per process. */
static inline void fuzz_init(void)
{
    static int done;
    if (!done) {
        mlops_allocator a;
        a.malloc = fz_malloc;
        a.realloc = fz_realloc;
        a.free = fz_free;
        a.ctx = NULL;
        if (mlops_allocator_set(&a) != 0)
            abort();
        done = 1;
    }
}

/* Reads every byte so that ASan notices a buffer shorter than promised. */
static volatile unsigned fuzz_sink;
static inline void fuzz_touch(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += b[i];
    fuzz_sink += acc;
}

/* A library call on untrusted bytes may fail, but only with a real code. */
static inline void fuzz_check_rc(int rc)
{
    if (rc > 1 || (rc < MLOPS_EPERM && rc != MLOPS_ITEROVER))
        abort();
}

#endif
