/*
 * The streaming object writer. Bytes are hashed as they arrive; how they are
 * kept is decided as late as possible:
 *  - small objects are buffered whole, then compressed if a probe of their
 *    start shrinks (so metadata and text are stored small);
 *  - a stream that outgrows the buffer limit is stored raw (zlib runs at a
 *    fraction of disk speed, and raw keeps ingest at copy speed), unless
 *    ALWAYS compression was asked for and the size is known up front.
 * Memory stays bounded by the buffer limit plus zlib's state.
 */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/sha256.h"
#include "object_codec.h"
#include "object_io.h"

#define PROBE_BYTES ((size_t)64 << 10)
#define ZOUT_BYTES ((size_t)256 << 10)

enum writer_mode { BUFFERING, STREAM_RAW, STREAM_ZLIB, FINISHED, FAILED };

struct mlops_object_writer {
    mlops_store *s;
    mlops__sha256 sha;
    uint64_t total;
    uint64_t size_hint;
    size_t limit;       /* bytes buffered before deciding */
    enum writer_mode mode;
    mlops__buf pending; /* bytes buffered while deciding */
    void *bw;           /* backend writer, once opened */
    z_stream z;
    int z_ready;
    unsigned char *zout;
    int rc;             /* first failure, repeated on later calls */
    int external_hash;  /* the caller hashes (mlops__writer_finish_as) */
};

mlops__hexid mlops__hex(const mlops_oid *id)
{
    mlops__hexid h;
    mlops_oid_tohex(h.s, id);
    return h;
}

static int compression_on(const mlops_store *s)
{
    return s->opts.compression != MLOPS_COMPRESSION_NONE;
}

static int fail(mlops_object_writer *w, int rc)
{
    w->mode = FAILED;
    w->rc = rc;
    return rc;
}

/* The smallest zlib window that covers len bytes: deflate's state (and
 * the time to set it up) shrinks with it, which dominates for small
 * objects. Any inflater accepts a smaller window. */
static int window_bits_for(size_t len)
{
    int bits = 9; /* zlib's smallest usable window */
    while (bits < 15 && ((size_t)1 << bits) < len)
        bits++;
    return bits;
}

/* Deflates data in one go into *out (allocated); *out_len its length. */
static int deflate_all(unsigned char **out, size_t *out_len, const void *data, size_t len, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = mlops__zalloc;
    z.zfree = mlops__zfree;
    int bits = window_bits_for(len);
    if (deflateInit2(&z, level, Z_DEFLATED, bits, bits < 15 ? bits - 6 : 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return mlops__error_oom();
    uLong bound = deflateBound(&z, (uLong)len);
    unsigned char *buf = mlops__malloc(bound);
    if (!buf) {
        deflateEnd(&z);
        return mlops__error_oom();
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    int zr = deflate(&z, Z_FINISH);
    *out_len = bound - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        mlops__free(buf);
        return zr == Z_MEM_ERROR ? mlops__error_oom() : mlops__error_set(MLOPS_ERROR, "zlib deflate failed");
    }
    *out = buf;
    return 0;
}

/*
 * Bytes that look uniformly random (every byte value about equally common)
 * will not deflate, and telling so costs a histogram instead of a zlib
 * run — what keeps a put of already-compressed or encrypted data cheap.
 * The test is deliberately narrow: each of the 256 values must occur
 * within a few standard deviations of n/256, which repeated text, numbers
 * and most binary formats fail at once. (Random blocks repeated verbatim
 * pass it and are then stored raw: a small loss, only for such data.)
 */
static int looks_random(const unsigned char *p, size_t n)
{
    uint32_t count[256] = { 0 };
    if (n < 4096)
        return 0;
    for (size_t i = 0; i < n; i++)
        count[p[i]]++;
    /* Chi-square statistic of the byte histogram against uniform: about
     * 255 for random bytes, thousands for anything compressible. */
    double expected = (double)n / 256.0, chi2 = 0;
    for (int v = 0; v < 256; v++) {
        double d = (double)count[v] - expected;
        chi2 += d * d / expected;
    }
    return chi2 < 400.0;
}

/* Does compressing len bytes save at least 1/16 of them? Probes the start. */
static int worth_compressing(int *yes, const void *data, size_t len, int level)
{
    unsigned char *z = NULL;
    size_t zlen = 0;
    size_t n = len < PROBE_BYTES ? len : PROBE_BYTES;
    *yes = 0;
    if (n < 64 || looks_random(data, n))
        return 0;
    MLOPS__TRY(deflate_all(&z, &zlen, data, n, level));
    mlops__free(z);
    *yes = zlen < n - n / 16;
    return 0;
}

static int writer_open(mlops_object_writer **out, mlops_store *s, uint64_t size_hint, int external_hash)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "object writer: NULL argument");
    *out = NULL;
    MLOPS__TRY(mlops__store_check_writable(s));
    mlops_object_writer *w = mlops__calloc(1, sizeof *w);
    if (!w)
        return mlops__error_oom();
    w->s = s;
    w->size_hint = size_hint;
    w->mode = BUFFERING;
    if (!compression_on(s))
        w->limit = 0;
    else if (s->opts.compression == MLOPS_COMPRESSION_ALWAYS && size_hint != MLOPS__SIZE_UNKNOWN &&
             size_hint > s->opts.compress_limit)
        w->limit = PROBE_BYTES; /* decide from a probe, then stream zlib */
    else if (s->opts.compression == MLOPS_COMPRESSION_AUTO && size_hint != MLOPS__SIZE_UNKNOWN &&
             size_hint > s->opts.compress_limit)
        w->limit = 0; /* known to be large: raw, no need to buffer */
    else
        w->limit = (size_t)s->opts.compress_limit;
    w->external_hash = external_hash;
    int rc = external_hash ? 0 : mlops__sha256_init(&w->sha);
    if (rc < 0) {
        mlops_object_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int mlops__writer_open(mlops_object_writer **out, mlops_store *s, uint64_t size_hint)
{
    return writer_open(out, s, size_hint, 0);
}

int mlops__writer_open_unhashed(mlops_object_writer **out, mlops_store *s, uint64_t size_hint)
{
    return writer_open(out, s, size_hint, 1);
}

int mlops_object_writer_new(mlops_object_writer **out, mlops_store *s)
{
    return mlops__writer_open(out, s, MLOPS__SIZE_UNKNOWN);
}

static int be_write(mlops_object_writer *w, const void *data, size_t len)
{
    if (!len)
        return 0;
    return w->s->be.obj_write(&w->s->be, w->bw, data, len);
}

static int open_backend(mlops_object_writer *w, int encoding, uint64_t logical_size)
{
    unsigned char hdr[MLOPS__OBJ_HDR_MAX];
    size_t n = mlops__obj_header_encode(hdr, encoding, logical_size, 0);
    MLOPS__TRY(w->s->be.obj_write_open(&w->s->be, &w->bw));
    return be_write(w, hdr, n);
}

/* One deflate pass over at most UINT_MAX bytes (zlib counts in uInt). */
static int zlib_feed_piece(mlops_object_writer *w, const void *data, uInt len, int flush)
{
    w->z.next_in = (Bytef *)(uintptr_t)data;
    w->z.avail_in = len;
    for (;;) {
        w->z.next_out = w->zout;
        w->z.avail_out = (uInt)ZOUT_BYTES;
        int zr = deflate(&w->z, flush);
        if (zr == Z_STREAM_ERROR)
            return mlops__error_set(MLOPS_ERROR, "zlib deflate failed");
        MLOPS__TRY(be_write(w, w->zout, ZOUT_BYTES - w->z.avail_out));
        if (flush == Z_FINISH ? zr == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out != 0))
            return 0;
    }
}

static int zlib_feed(mlops_object_writer *w, const void *data, size_t len, int flush)
{
    const char *p = data;
    while (len > UINT_MAX) {
        MLOPS__TRY(zlib_feed_piece(w, p, UINT_MAX, Z_NO_FLUSH));
        p += UINT_MAX;
        len -= UINT_MAX;
    }
    return zlib_feed_piece(w, p, (uInt)len, flush);
}

static int start_zlib_stream(mlops_object_writer *w)
{
    w->zout = mlops__malloc(ZOUT_BYTES);
    if (!w->zout)
        return mlops__error_oom();
    w->z.zalloc = mlops__zalloc;
    w->z.zfree = mlops__zfree;
    if (deflateInit(&w->z, w->s->opts.compression_level) != Z_OK)
        return mlops__error_oom();
    w->z_ready = 1;
    MLOPS__TRY(open_backend(w, MLOPS__OBJ_ENC_ZLIB, w->size_hint));
    w->mode = STREAM_ZLIB;
    return 0;
}

/* The buffer overflowed: choose a streaming mode and flush the buffer into it. */
static int start_streaming(mlops_object_writer *w)
{
    int zip = 0;
    if (w->limit == PROBE_BYTES && w->size_hint != MLOPS__SIZE_UNKNOWN)
        MLOPS__TRY(worth_compressing(&zip, w->pending.ptr, w->pending.len, w->s->opts.compression_level));
    if (zip) {
        MLOPS__TRY(start_zlib_stream(w));
        MLOPS__TRY(zlib_feed(w, w->pending.ptr, w->pending.len, Z_NO_FLUSH));
    } else {
        MLOPS__TRY(open_backend(w, MLOPS__OBJ_ENC_RAW, 0));
        w->mode = STREAM_RAW;
        MLOPS__TRY(be_write(w, w->pending.ptr, w->pending.len));
    }
    mlops__buf_dispose(&w->pending);
    return 0;
}

int mlops_object_writer_write(mlops_object_writer *w, const void *data, size_t len)
{
    if (!w || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "object writer: NULL argument");
    if (w->mode == FAILED)
        return w->rc;
    if (w->mode == FINISHED)
        return mlops__error_set(MLOPS_EINVALID, "object writer is already finished");
    int rc = w->external_hash ? 0 : mlops__sha256_update(&w->sha, data, len);
    if (rc < 0)
        return fail(w, rc);
    w->total += len;
    if (w->mode == BUFFERING) {
        if (w->pending.len + len <= w->limit)
            return (rc = mlops__buf_put(&w->pending, data, len)) < 0 ? fail(w, rc) : 0;
        /* Fill the probe window first so the decision sees full data. */
        size_t head = w->limit > w->pending.len ? w->limit - w->pending.len : 0;
        if ((rc = mlops__buf_put(&w->pending, data, head)) < 0 || (rc = start_streaming(w)) < 0)
            return fail(w, rc);
        data = (const char *)data + head;
        len -= head;
    }
    rc = w->mode == STREAM_ZLIB ? zlib_feed(w, data, len, Z_NO_FLUSH) : be_write(w, data, len);
    return rc < 0 ? fail(w, rc) : 0;
}

/* Everything was buffered: store it whole, compressed if that pays. */
static int finish_buffered(mlops_object_writer *w)
{
    unsigned char *z = NULL;
    size_t zlen = 0;
    int zip = 0;
    if (compression_on(w->s))
        MLOPS__TRY(worth_compressing(&zip, w->pending.ptr, w->pending.len, w->s->opts.compression_level));
    if (zip) {
        MLOPS__TRY(deflate_all(&z, &zlen, w->pending.ptr, w->pending.len, w->s->opts.compression_level));
        if (zlen + MLOPS__OBJ_HDR_ZLIB >= w->pending.len + MLOPS__OBJ_HDR_RAW) {
            zip = 0;
            mlops__free(z);
            z = NULL;
        }
    }
    int rc = zip ? open_backend(w, MLOPS__OBJ_ENC_ZLIB, w->pending.len)
                 : open_backend(w, MLOPS__OBJ_ENC_RAW, 0);
    if (rc == 0)
        rc = zip ? be_write(w, z, zlen) : be_write(w, w->pending.ptr, w->pending.len);
    mlops__free(z);
    return rc;
}

/* Publishes under id (the hash of everything written). */
static int finish_with(mlops_oid *out, mlops_object_writer *w, const mlops_oid *id)
{
    int rc = 0;
    if (w->size_hint != MLOPS__SIZE_UNKNOWN && w->total != w->size_hint)
        rc = mlops__error_set(MLOPS_ECONFLICT,
                              "source changed while being stored (expected %llu bytes, read %llu)",
                              (unsigned long long)w->size_hint, (unsigned long long)w->total);
    if (rc == 0 && w->mode == BUFFERING)
        rc = finish_buffered(w);
    else if (rc == 0 && w->mode == STREAM_ZLIB)
        rc = zlib_feed(w, NULL, 0, Z_FINISH);
    if (rc == 0) {
        void *bw = w->bw;
        w->bw = NULL; /* commit releases it, success or not */
        rc = w->s->be.obj_write_commit(&w->s->be, bw, id);
    }
    if (rc < 0)
        return fail(w, rc);
    w->mode = FINISHED;
    *out = *id;
    return 0;
}

static int check_finishable(mlops_object_writer *w)
{
    if (w->mode == FAILED)
        return w->rc;
    if (w->mode == FINISHED)
        return mlops__error_set(MLOPS_EINVALID, "object writer is already finished");
    return 0;
}

int mlops_object_writer_finish(mlops_oid *out, mlops_object_writer *w)
{
    if (!out || !w)
        return mlops__error_set(MLOPS_EINVALID, "object writer: NULL argument");
    MLOPS__TRY(check_finishable(w));
    if (w->external_hash)
        return mlops__error_set(MLOPS_EINVALID, "this object writer is finished with its caller's hash");
    mlops_oid id;
    int rc = mlops__sha256_final(&w->sha, id.id);
    return rc < 0 ? fail(w, rc) : finish_with(out, w, &id);
}

int mlops__writer_finish_as(mlops_oid *out, mlops_object_writer *w, const mlops_oid *id)
{
    MLOPS__TRY(check_finishable(w));
    return finish_with(out, w, id);
}

void mlops_object_writer_free(mlops_object_writer *w)
{
    if (!w)
        return;
    if (w->bw)
        w->s->be.obj_write_abort(&w->s->be, w->bw);
    if (w->z_ready)
        deflateEnd(&w->z);
    mlops__free(w->zout);
    mlops__buf_dispose(&w->pending);
    mlops__sha256_dispose(&w->sha);
    mlops__free(w);
}
