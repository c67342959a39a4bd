/*
 * Chunked put: the file is cut into content-defined chunks (chunker.c),
 * each stored as an ordinary raw object under its own SHA-256, and an index
 * listing them is stored under the SHA-256 of the whole file.
 *
 * Per byte that is a read, a gear scan, two SHA-256 streams (whole file
 * and chunk, computed together: sha256_dual.c) and a write: about 1.5
 * times the CPU work of a plain put. Two threads share it through a ring
 * of blocks and a small job board:
 *  - READ: pread the next block into a free slot of the ring;
 *  - GEAR (in block order): find the cut points of a block;
 *  - HASH (in block order, after GEAR): both hashes; a chunk's id is
 *    known when HASH passes its end;
 *  - WRITE (any order, both threads at once): store a hashed chunk from
 *    where it lies in the ring, unless the store has it.
 * Each thread takes whatever job is ready, the sequential ones first, so
 * neither waits while the other works. A block returns to the ring once
 * every chunk overlapping it is stored; the ring holds max + a few blocks,
 * so memory is constant whatever the file size (plus 40 bytes of index per
 * chunk).
 *
 * Durability: chunks are published before the index, through the same
 * commit machinery as any object, and an existing chunk is refreshed
 * (time and pending commit) rather than rewritten, so at the next commit
 * point every chunk the index names is durable.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "chunked.h"
#include "chunker.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "hash_pipe.h"
#include "object_codec.h"
#include "object_io.h"
#include "sha256_dual.h"

#define BLOCK ((size_t)1 << 20)
#define SPARE_BLOCKS 6 /* beyond what one chunk can span: read-ahead */
/* Files from this size on use a second thread. */
#define THREAD_MIN ((uint64_t)16 << 20)
#define MAX_CUTS (BLOCK / (64 << 10) + 2) /* per block: chunks are >= 64 KiB */

typedef struct job {
    uint64_t start, len;
    int fresh; /* was not in the store at all */
    int done;
    mlops_oid id;
} job;

typedef struct cput {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mlops_store *s;
    int fd;
    const char *path;
    int allow_fast;      /* the SHA extensions may be used */

    unsigned char **blk; /* the ring: block k in slot k % nblk */
    size_t *blen;
    size_t nblk;
    uint64_t nread;      /* blocks read */
    uint64_t bytes;      /* bytes read */
    int reading, eof;

    uint64_t ngeared;    /* blocks whose cut points are known */
    int gearing;
    mlops__chunker ck;
    uint64_t cut;        /* where the chunk being geared starts */

    uint64_t nhashed;    /* blocks hashed */
    int hashing;
    mlops__sha_dual sha;
    uint64_t hchunk;     /* the chunk being hashed */

    job *jobs;           /* chunk j in jobs[j % njobs] */
    size_t njobs;
    uint64_t nfound;     /* chunks whose end is known */
    uint64_t nids;       /* chunks hashed */
    uint64_t ntaken;     /* chunks handed to WRITE */
    uint64_t nretired;   /* chunks stored and in the index */
    uint64_t released;   /* every chunk before this offset is stored */

    mlops__buf index;    /* entries of the retired chunks */
    uint64_t stored, fresh;

    int rc;              /* first failure, and its message */
    char msg[512];
} cput;

enum { WAIT, READ, GEAR, HASH, WRITE, DONE };

/* Blocks read but not geared, below which reading goes before writing. */
#define READ_AHEAD 2

static void fail(cput *c, int rc)
{
    if (!c->rc) {
        c->rc = rc;
        snprintf(c->msg, sizeof c->msg, "%s", mlops_error_last());
    }
}

/* Under the lock: the next job for this thread. */
static int pick(cput *c, uint64_t *arg)
{
    int can_read = !c->reading && !c->eof && c->nread < c->released / BLOCK + c->nblk;
    if (c->rc)
        return DONE;
    if (!c->hashing && c->nhashed < c->ngeared) {
        c->hashing = 1;
        return HASH;
    }
    if (!c->gearing && c->ngeared < c->nread) {
        c->gearing = 1;
        return GEAR;
    }
    if (can_read && c->nread - c->ngeared < READ_AHEAD)
        return c->reading = 1, READ;
    if (c->ntaken < c->nids) {
        *arg = c->ntaken++;
        return WRITE;
    }
    if (can_read)
        return c->reading = 1, READ;
    if (c->eof && c->nhashed == c->nread && c->nretired == c->nfound)
        return DONE;
    return WAIT;
}

static int do_read(cput *c)
{
    uint64_t k = c->nread; /* only the reading thread changes it */
    size_t slot = (size_t)(k % c->nblk), n = 0;
    if (!c->blk[slot] && !(c->blk[slot] = mlops__malloc(BLOCK)))
        return mlops__error_oom();
    MLOPS__TRY(mlops__pread_full(c->fd, c->blk[slot], BLOCK, k * BLOCK, &n, c->path));
    pthread_mutex_lock(&c->mu);
    c->blen[slot] = n;
    c->bytes += n;
    c->eof = n < BLOCK;
    c->nread++;
    c->reading = 0;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Under the lock: chunk [c->cut, end) is complete. */
static int add_job(cput *c, uint64_t end)
{
    if (c->nfound - c->nretired == c->njobs)
        return mlops__error_set(MLOPS_ERROR, "chunked put: job board overflow");
    job *j = &c->jobs[c->nfound % c->njobs];
    memset(j, 0, sizeof *j);
    j->start = c->cut;
    j->len = end - c->cut;
    c->cut = end;
    c->nfound++;
    return 0;
}

/* The oldest block not geared (no other thread gears meanwhile). */
static int do_gear(cput *c)
{
    uint64_t k = c->ngeared;
    size_t slot = (size_t)(k % c->nblk), len = c->blen[slot], i = 0, ncuts = 0;
    const unsigned char *p = c->blk[slot];
    uint64_t cuts[MAX_CUTS];
    while (i < len) {
        int cut = 0;
        i += mlops__chunker_scan(&c->ck, p + i, len - i, &cut);
        if (cut)
            cuts[ncuts++] = k * BLOCK + i;
    }
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t n = 0; rc == 0 && n < ncuts; n++)
        rc = add_job(c, cuts[n]);
    /* The end of the file ends the last chunk. */
    if (rc == 0 && c->eof && k + 1 == c->nread && c->cut < c->bytes)
        rc = add_job(c, c->bytes);
    c->ngeared++;
    c->gearing = 0;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* The oldest block not hashed, geared already: every chunk end inside it
 * is known (a chunk not found yet ends beyond it). */
static int do_hash(cput *c)
{
    uint64_t k = c->nhashed, ends[MAX_CUTS + 1];
    size_t slot = (size_t)(k % c->nblk), nends = 0;
    uint64_t pos = k * BLOCK, end = pos + c->blen[slot];
    pthread_mutex_lock(&c->mu);
    for (uint64_t j = c->hchunk; j < c->nfound && nends < MAX_CUTS + 1; j++) {
        const job *jb = &c->jobs[j % c->njobs];
        if (jb->start + jb->len > end)
            break;
        ends[nends++] = jb->start + jb->len;
    }
    pthread_mutex_unlock(&c->mu);
    mlops_oid ids[MAX_CUTS + 1];
    for (size_t n = 0; n <= nends; n++) {
        uint64_t to = n < nends ? ends[n] : end;
        MLOPS__TRY(mlops__sha_dual_update(&c->sha, c->blk[slot] + (pos - k * BLOCK), (size_t)(to - pos)));
        pos = to;
        if (n < nends)
            MLOPS__TRY(mlops__sha_dual_next(&c->sha, ids[n].id));
    }
    pthread_mutex_lock(&c->mu);
    for (size_t n = 0; n < nends; n++)
        c->jobs[(c->hchunk + n) % c->njobs].id = ids[n];
    c->hchunk += nends;
    c->nids = c->hchunk;
    c->nhashed++;
    c->hashing = 0;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Calls fn on the ring's pieces of [off, off + len). */
static int each_piece(cput *c, uint64_t off, uint64_t len, int (*fn)(void *, const void *, size_t), void *arg)
{
    while (len > 0) {
        size_t o = (size_t)(off % BLOCK), n = BLOCK - o;
        if (n > len)
            n = (size_t)len;
        MLOPS__TRY(fn(arg, c->blk[(off / BLOCK) % c->nblk] + o, n));
        off += n;
        len -= n;
    }
    return 0;
}

typedef struct blob_out {
    mlops_store *s;
    void *bw;
} blob_out;

static int write_piece(void *arg, const void *p, size_t n)
{
    blob_out *o = arg;
    return o->s->be.obj_write(&o->s->be, o->bw, p, n);
}

/*
 * Does the store hold id as a blob of exactly `stored` bytes? Then it was
 * refreshed like a commit would (gc's grace period, the next commit point)
 * and need not be written. Another size is another encoding or a damaged
 * blob: ours is written over it. *fresh: id was not there at all. Without
 * a touch (custom backends) everything is written; the commit refreshes.
 */
static int have_blob(int *fresh, mlops_store *s, const mlops_oid *id, uint64_t stored)
{
    uint64_t size = 0;
    int rc = s->obj_touch ? s->obj_touch(&s->be, id, &size) : s->be.obj_exists(&s->be, id);
    if (rc < 0)
        return rc;
    *fresh = rc == 0;
    return rc == 1 && s->obj_touch && size == stored;
}

/* Publishes hdr and a body under id: the body is len bytes at mem, or
 * the ring's bytes [start, start + len) when mem is NULL. */
static int write_blob(cput *c, const mlops_oid *id, const unsigned char *hdr, size_t hlen, const void *mem,
                      uint64_t start, uint64_t len)
{
    blob_out o = { c->s, NULL };
    MLOPS__TRY(c->s->be.obj_write_open(&c->s->be, &o.bw));
    int rc = write_piece(&o, hdr, hlen);
    if (rc == 0)
        rc = mem ? write_piece(&o, mem, (size_t)len) : each_piece(c, start, len, write_piece, &o);
    if (rc < 0) {
        c->s->be.obj_write_abort(&c->s->be, o.bw);
        return rc;
    }
    return c->s->be.obj_write_commit(&c->s->be, o.bw, id); /* releases o.bw */
}

/* Writes the raw chunk (a copy of its job) unless the store has it. */
static int store_chunk(cput *c, job *j)
{
    int have = have_blob(&j->fresh, c->s, &j->id, MLOPS__OBJ_HDR_RAW + j->len);
    if (have != 0)
        return have < 0 ? have : 0;
    unsigned char hdr[MLOPS__OBJ_HDR_MAX];
    size_t hlen = mlops__obj_header_encode(hdr, MLOPS__OBJ_ENC_RAW, 0, 0);
    return write_blob(c, &j->id, hdr, hlen, NULL, j->start, j->len);
}

/* Under the lock: chunk n is stored; retire the done prefix in order. */
static int chunk_done(cput *c, uint64_t n, const job *result)
{
    c->jobs[n % c->njobs] = *result;
    c->jobs[n % c->njobs].done = 1;
    while (c->nretired < c->nfound && c->jobs[c->nretired % c->njobs].done) {
        const job *j = &c->jobs[c->nretired % c->njobs];
        unsigned char e[MLOPS__CHUNK_ENTRY];
        memcpy(e, j->id.id, MLOPS_OID_RAWSZ);
        mlops__put_le64(e + MLOPS_OID_RAWSZ, j->len);
        MLOPS__TRY(mlops__buf_put(&c->index, e, sizeof e));
        if (j->fresh) {
            c->fresh++;
            c->stored += j->len;
        }
        c->released = j->start + j->len;
        c->nretired++;
    }
    return 0;
}

static int do_write(cput *c, uint64_t n)
{
    pthread_mutex_lock(&c->mu);
    job j = c->jobs[n % c->njobs];
    pthread_mutex_unlock(&c->mu);
    int rc = store_chunk(c, &j);
    pthread_mutex_lock(&c->mu);
    if (rc == 0)
        rc = chunk_done(c, n, &j);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int run_job(cput *c, int what, uint64_t arg)
{
    switch (what) {
    case READ:
        return do_read(c);
    case GEAR:
        return do_gear(c);
    case HASH:
        return do_hash(c);
    default:
        return do_write(c, arg);
    }
}

/* Both threads run this until everything is stored or something failed. */
static void *worker(void *arg)
{
    cput *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        uint64_t a = 0;
        int what = pick(c, &a);
        if (what == DONE)
            break;
        if (what == WAIT) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        pthread_mutex_unlock(&c->mu);
        int rc = run_job(c, what, a);
        pthread_mutex_lock(&c->mu);
        if (rc < 0)
            fail(c, rc);
        pthread_cond_broadcast(&c->cv);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Returns 1 when the lock and condition exist (to be destroyed). */
static int cput_init(cput *c, mlops_store *s, int fd, const char *path, const mlops_put_options *o)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->fd = fd;
    c->path = path;
    c->allow_fast = 1;
    c->nblk = (o->chunk_max + BLOCK - 1) / BLOCK + 2 + SPARE_BLOCKS;
    c->njobs = c->nblk * BLOCK / o->chunk_min + 4;
    mlops__chunker_init(&c->ck, o->chunk_min, o->chunk_avg, o->chunk_max);
    c->blk = mlops__calloc(c->nblk, sizeof *c->blk);
    c->blen = mlops__calloc(c->nblk, sizeof *c->blen);
    c->jobs = mlops__calloc(c->njobs, sizeof *c->jobs);
    if (!c->blk || !c->blen || !c->jobs)
        return mlops__error_oom();
    MLOPS__TRY(mlops__sha_dual_init(&c->sha, c->allow_fast));
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    if (pthread_cond_init(&c->cv, NULL) != 0) {
        pthread_mutex_destroy(&c->mu);
        return mlops__error_set(MLOPS_ERROR, "cannot create a condition variable");
    }
    return 1;
}

static void cput_dispose(cput *c, int sync_ready)
{
    if (sync_ready) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
    }
    for (size_t i = 0; c->blk && i < c->nblk; i++)
        mlops__free(c->blk[i]);
    mlops__free(c->blk);
    mlops__free(c->blen);
    mlops__free(c->jobs);
    mlops__buf_dispose(&c->index);
    mlops__sha_dual_dispose(&c->sha);
}

/* Runs the pipeline on this thread and, for a large file, a second one. */
static int run(cput *c, uint64_t size)
{
    pthread_t th;
    int threaded = size >= THREAD_MIN && pthread_create(&th, NULL, worker, c) == 0;
    worker(c);
    if (threaded)
        pthread_join(th, NULL);
    if (c->rc)
        return mlops__error_set(c->rc, "%s", c->msg);
    return 0;
}

/* The index, under the whole file's id, once every chunk is published. */
static int store_index(cput *c, const mlops_oid *id, mlops_put_stats *st)
{
    unsigned char hdr[MLOPS__OBJ_HDR_MAX];
    size_t hlen = mlops__obj_header_encode(hdr, MLOPS__OBJ_ENC_CHUNKED, c->bytes, c->nretired);
    int fresh = 0;
    int have = have_blob(&fresh, c->s, id, hlen + c->index.len);
    if (have < 0)
        return have;
    st->stored = c->stored + (fresh ? hlen + c->index.len : 0);
    return have ? 0 : write_blob(c, id, hdr, hlen, c->index.ptr, 0, c->index.len);
}

/* A file of one chunk is that chunk, already stored under the whole id
 * (an index listing itself would be a loop); an empty one is stored as
 * an empty raw object. */
static int store_single(cput *c, const mlops_oid *id, mlops_put_stats *st)
{
    st->stored = c->stored;
    if (c->nretired == 1)
        return 0;
    job empty = { 0, 0, 0, 0, *id };
    return store_chunk(c, &empty);
}

int mlops__chunked_put(mlops_oid *out, mlops_put_stats *stats, mlops_store *s, int fd, const struct stat *st0,
                       uint64_t size, const char *path, const mlops_put_options *opts)
{
    cput c;
    int ready = cput_init(&c, s, fd, path, opts);
    int rc = ready < 0 ? ready : run(&c, size);
    mlops_oid id;
    if (rc == 0)
        rc = mlops__sha_dual_final(&c.sha, id.id);
    if (rc == 0)
        rc = mlops__check_unchanged(fd, st0, size, c.bytes, path);
    if (rc == 0) {
        stats->size = c.bytes;
        stats->chunks = c.nretired > 1 ? c.nretired : 0;
        stats->chunks_new = c.nretired > 1 ? c.fresh : 0;
        rc = c.nretired > 1 ? store_index(&c, &id, stats) : store_single(&c, &id, stats);
    }
    if (rc == 0)
        *out = id;
    cput_dispose(&c, ready > 0);
    return rc;
}
