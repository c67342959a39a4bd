/*
 * The streaming object reader: decodes the blob header, inflates zlib
 * payloads, walks the chunks of a chunked object (each read through a
 * reader of its own, which checks that chunk's hash), hashes what it hands
 * out and checks size and hash at the end.
 */
#include <string.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/sha256.h"
#include "object_codec.h"
#include "object_io.h"

#define ZIN_BYTES ((size_t)256 << 10)
/* Chunks are plain objects, but the same bytes may have been stored
 * chunked by someone else; a corrupt store could nest without end. */
#define MAX_DEPTH 4

struct mlops_object_reader {
    mlops_store *s;
    mlops_oid id;
    void *br;          /* backend reader */
    int encoding;
    uint64_t size;     /* logical size */
    uint64_t done;     /* logical bytes handed out */
    mlops__sha256 sha;
    z_stream z;
    int z_ready;
    int z_end;         /* zlib stream finished */
    unsigned char *zin;
    int verified;      /* end reached and checked */
    int rc;            /* sticky failure */
    int depth;         /* 0, or how deep in chunks of chunks */
    uint64_t nchunks;  /* chunked: entries in the index */
    uint64_t next;     /* chunked: entries read so far */
    mlops_object_reader *chunk; /* chunked: the current chunk's reader */
    uint64_t chunk_left;        /* its bytes not yet handed out */
};

static int reader_open(mlops_object_reader **out, mlops_store *s, const mlops_oid *id, int depth);

static int be_read_exact(mlops_object_reader *r, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        MLOPS__TRY(r->s->be.obj_read(&r->s->be, r->br, (char *)buf + got, len - got, &n));
        if (n == 0)
            return mlops__error_set(MLOPS_ECORRUPT, "object %s is truncated", mlops__hex(&r->id).s);
        got += n;
    }
    return 0;
}

/* The index of a chunked object: its size must be that of its entries. */
static int read_chunked_header(mlops_object_reader *r, const unsigned char *hdr)
{
    r->size = mlops__get_le64(hdr + MLOPS__OBJ_HDR_RAW);
    r->nchunks = mlops__get_le64(hdr + MLOPS__OBJ_HDR_ZLIB);
    if (r->depth >= MAX_DEPTH)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: chunks nested too deeply", mlops__hex(&r->id).s);
    uint64_t stored = 0;
    int64_t mtime = 0;
    MLOPS__TRY(r->s->be.obj_stat(&r->s->be, &r->id, &stored, &mtime));
    if (r->nchunks > (UINT64_MAX - MLOPS__OBJ_HDR_CHUNKED) / MLOPS__CHUNK_ENTRY ||
        stored != MLOPS__OBJ_HDR_CHUNKED + r->nchunks * MLOPS__CHUNK_ENTRY || (r->nchunks == 0) != (r->size == 0))
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: chunk index is malformed", mlops__hex(&r->id).s);
    return 0;
}

static int read_header(mlops_object_reader *r)
{
    unsigned char hdr[MLOPS__OBJ_HDR_MAX];
    size_t hlen = 0;
    MLOPS__TRY(be_read_exact(r, hdr, MLOPS__OBJ_HDR_RAW));
    int rc = mlops__obj_header_decode(hdr, &r->encoding, &hlen);
    if (rc < 0)
        return mlops__error_prefix(rc, "object %s", mlops__hex(&r->id).s);
    MLOPS__TRY(be_read_exact(r, hdr + MLOPS__OBJ_HDR_RAW, hlen - MLOPS__OBJ_HDR_RAW));
    if (r->encoding == MLOPS__OBJ_ENC_CHUNKED)
        return read_chunked_header(r, hdr);
    if (r->encoding == MLOPS__OBJ_ENC_ZLIB) {
        r->size = mlops__get_le64(hdr + MLOPS__OBJ_HDR_RAW);
        r->zin = mlops__malloc(ZIN_BYTES);
        if (!r->zin)
            return mlops__error_oom();
        r->z.zalloc = mlops__zalloc;
        r->z.zfree = mlops__zfree;
        if (inflateInit(&r->z) != Z_OK)
            return mlops__error_oom();
        r->z_ready = 1;
        return 0;
    }
    uint64_t stored = 0;
    int64_t mtime = 0;
    MLOPS__TRY(r->s->be.obj_stat(&r->s->be, &r->id, &stored, &mtime));
    if (stored < MLOPS__OBJ_HDR_RAW)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s is truncated", mlops__hex(&r->id).s);
    r->size = stored - MLOPS__OBJ_HDR_RAW;
    return 0;
}

int mlops_object_reader_open(mlops_object_reader **out, mlops_store *s, const mlops_oid *id)
{
    if (!out || !s || !id)
        return mlops__error_set(MLOPS_EINVALID, "object reader: NULL argument");
    return reader_open(out, s, id, 0);
}

static int reader_open(mlops_object_reader **out, mlops_store *s, const mlops_oid *id, int depth)
{
    *out = NULL;
    mlops_object_reader *r = mlops__calloc(1, sizeof *r);
    if (!r)
        return mlops__error_oom();
    r->s = s;
    r->id = *id;
    r->depth = depth;
    int rc = s->be.obj_read_open(&s->be, id, &r->br);
    if (rc == MLOPS_ENOTFOUND)
        rc = mlops__error_set(MLOPS_ENOTFOUND, "object %s not found", mlops__hex(id).s);
    if (rc == 0)
        rc = mlops__sha256_init(&r->sha);
    if (rc == 0)
        rc = read_header(r);
    if (rc < 0) {
        mlops_object_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int read_raw(size_t *out_n, mlops_object_reader *r, void *buf, size_t cap)
{
    return r->s->be.obj_read(&r->s->be, r->br, buf, cap, out_n);
}

/* Opens the next chunk listed in the index. A chunk that is missing or
 * does not match its entry makes the whole object corrupt. */
static int open_chunk(mlops_object_reader *r)
{
    unsigned char e[MLOPS__CHUNK_ENTRY];
    if (r->next == r->nchunks)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: its chunks hold fewer bytes than its size",
                                mlops__hex(&r->id).s);
    MLOPS__TRY(be_read_exact(r, e, sizeof e));
    r->next++;
    mlops_oid cid;
    memcpy(cid.id, e, MLOPS_OID_RAWSZ);
    uint64_t len = mlops__get_le64(e + MLOPS_OID_RAWSZ);
    if (len == 0 || len > r->size - r->done)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: chunk %s has a bad length", mlops__hex(&r->id).s,
                                mlops__hex(&cid).s);
    int rc = reader_open(&r->chunk, r->s, &cid, r->depth + 1);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: chunk %s is missing", mlops__hex(&r->id).s,
                                mlops__hex(&cid).s);
    if (rc < 0)
        return mlops__error_prefix(rc, "object %s", mlops__hex(&r->id).s);
    if (r->chunk->size != len)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: chunk %s has %llu bytes, the index says %llu",
                                mlops__hex(&r->id).s, mlops__hex(&cid).s, (unsigned long long)r->chunk->size,
                                (unsigned long long)len);
    r->chunk_left = len;
    return 0;
}

/* Reads from the current chunk (opened on demand); its own reader checks
 * its hash in the call that reaches its end. */
static int read_chunked(size_t *out_n, mlops_object_reader *r, void *buf, size_t cap)
{
    *out_n = 0;
    if (r->done == r->size)
        return 0;
    if (!r->chunk)
        MLOPS__TRY(open_chunk(r));
    size_t n = 0;
    int rc = mlops_object_reader_read(&n, r->chunk, buf, cap < r->chunk_left ? cap : (size_t)r->chunk_left);
    if (rc < 0)
        return mlops__error_prefix(rc == MLOPS_ENOTFOUND ? MLOPS_ECORRUPT : rc, "object %s", mlops__hex(&r->id).s);
    if (n == 0)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: a chunk ended early", mlops__hex(&r->id).s);
    r->chunk_left -= n;
    if (r->chunk_left == 0) {
        mlops_object_reader_free(r->chunk);
        r->chunk = NULL;
    }
    *out_n = n;
    return 0;
}

static int read_zlib(size_t *out_n, mlops_object_reader *r, void *buf, size_t cap)
{
    r->z.next_out = buf;
    r->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
    uInt want = r->z.avail_out;
    while (r->z.avail_out == want && !r->z_end) {
        if (r->z.avail_in == 0) {
            size_t n = 0;
            MLOPS__TRY(r->s->be.obj_read(&r->s->be, r->br, r->zin, ZIN_BYTES, &n));
            if (n == 0)
                return mlops__error_set(MLOPS_ECORRUPT, "object %s: compressed data is truncated",
                                        mlops__hex(&r->id).s);
            r->z.next_in = r->zin;
            r->z.avail_in = (uInt)n;
        }
        int zr = inflate(&r->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            r->z_end = 1;
        else if (zr == Z_MEM_ERROR)
            return mlops__error_oom();
        else if (zr != Z_OK)
            return mlops__error_set(MLOPS_ECORRUPT, "object %s: compressed data is corrupt", mlops__hex(&r->id).s);
    }
    *out_n = want - r->z.avail_out;
    return 0;
}

/* At the end: nothing may follow, the size and the hash must match. */
static int verify_end(mlops_object_reader *r)
{
    unsigned char extra[1];
    size_t n = 0;
    if (r->encoding == MLOPS__OBJ_ENC_CHUNKED && r->next != r->nchunks)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s: its chunks hold more bytes than its size",
                                mlops__hex(&r->id).s);
    if (r->encoding == MLOPS__OBJ_ENC_ZLIB) {
        if (r->z.avail_in != 0)
            return mlops__error_set(MLOPS_ECORRUPT, "object %s has trailing bytes", mlops__hex(&r->id).s);
        MLOPS__TRY(r->s->be.obj_read(&r->s->be, r->br, extra, 1, &n));
        if (n != 0)
            return mlops__error_set(MLOPS_ECORRUPT, "object %s has trailing bytes", mlops__hex(&r->id).s);
    }
    if (r->done != r->size)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s has %llu bytes, its header says %llu",
                                mlops__hex(&r->id).s, (unsigned long long)r->done, (unsigned long long)r->size);
    mlops_oid got;
    MLOPS__TRY(mlops__sha256_final(&r->sha, got.id));
    if (memcmp(got.id, r->id.id, MLOPS_OID_RAWSZ) != 0)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s is corrupt: its content hashes to %s",
                                mlops__hex(&r->id).s, mlops__hex(&got).s);
    r->verified = 1;
    return 0;
}

/* The logical bytes are all out; let zlib reach its end marker, which may
 * need more input but must produce no more output. */
static int zlib_drain(mlops_object_reader *r)
{
    unsigned char scratch[1];
    size_t n = 0;
    if (r->z_end)
        return 0;
    MLOPS__TRY(read_zlib(&n, r, scratch, sizeof scratch));
    if (n != 0 || !r->z_end)
        return mlops__error_set(MLOPS_ECORRUPT, "object %s is longer than its header says", mlops__hex(&r->id).s);
    return 0;
}

static int read_step(size_t *out_n, mlops_object_reader *r, void *buf, size_t cap)
{
    size_t n = 0;
    if (cap > 0) {
        if (r->encoding == MLOPS__OBJ_ENC_CHUNKED)
            MLOPS__TRY(read_chunked(&n, r, buf, cap));
        else
            MLOPS__TRY(r->encoding == MLOPS__OBJ_ENC_ZLIB ? read_zlib(&n, r, buf, cap) : read_raw(&n, r, buf, cap));
        if (n > r->size - r->done)
            return mlops__error_set(MLOPS_ECORRUPT, "object %s is longer than its header says",
                                    mlops__hex(&r->id).s);
        MLOPS__TRY(mlops__sha256_update(&r->sha, buf, n));
        r->done += n;
    }
    /* The call that reaches the end checks everything before returning. */
    if ((n == 0 && cap > 0) || r->done == r->size) {
        if (r->encoding == MLOPS__OBJ_ENC_ZLIB && r->done == r->size)
            MLOPS__TRY(zlib_drain(r));
        MLOPS__TRY(verify_end(r));
    }
    *out_n = n;
    return 0;
}

int mlops_object_reader_read(size_t *out_n, mlops_object_reader *r, void *buf, size_t cap)
{
    if (!out_n || !r || (!buf && cap))
        return mlops__error_set(MLOPS_EINVALID, "object reader: NULL argument");
    *out_n = 0;
    if (r->rc)
        return r->rc;
    if (r->verified)
        return 0;
    int rc = read_step(out_n, r, buf, cap);
    if (rc < 0) {
        *out_n = 0;
        r->rc = rc;
    }
    return rc;
}

uint64_t mlops_object_reader_size(const mlops_object_reader *r)
{
    return r ? r->size : 0;
}

void mlops_object_reader_free(mlops_object_reader *r)
{
    if (!r)
        return;
    if (r->br)
        r->s->be.obj_read_close(&r->s->be, r->br);
    mlops_object_reader_free(r->chunk);
    if (r->z_ready)
        inflateEnd(&r->z);
    mlops__free(r->zin);
    mlops__sha256_dispose(&r->sha);
    mlops__free(r);
}
