/*
 * Pipelined reading of a large file. Hashing (about 2 GB/s with SHA
 * instructions) and storing cost about the same CPU time, and on one thread
 * they add up; on two they overlap. The calling thread fills a ring of
 * blocks and hands each to its consumer (the writer, or the chunker), while
 * the hashing thread hashes the same blocks (both only read them); a block
 * is refilled only once hashed. Bounded memory: NBLOCKS blocks.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/sha256.h"
#include "hash_pipe.h"

#define NBLOCKS 4
#define BLOCK ((size_t)1 << 20)
/* Files from this size on hash on a second thread; below it, starting a
 * thread costs more than it saves. */
#define THREAD_MIN ((uint64_t)16 << 20)

typedef struct pipe_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *block[NBLOCKS];
    size_t len[NBLOCKS];
    size_t bsize;       /* bytes per block */
    uint64_t submitted; /* blocks handed to the hasher */
    uint64_t hashed;    /* blocks the hasher is done with */
    int closing;        /* no more blocks will come */
    int rc;             /* the hasher's failure */
    mlops__sha256 sha;
} pipe_state;

int mlops__pread_full(int fd, void *buf, size_t len, uint64_t offset, size_t *out_n, const char *path)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mlops__error_errno(errno, "cannot read '%s'", path);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *out_n = got;
    return 0;
}

int mlops__check_unchanged(int fd, const struct stat *st0, uint64_t size, uint64_t read, const char *path)
{
    struct stat st1;
    if (fstat(fd, &st1) < 0)
        return mlops__error_errno(errno, "cannot stat '%s'", path);
    if (read != size || (uint64_t)st1.st_size != size || st1.st_mtim.tv_sec != st0->st_mtim.tv_sec ||
        st1.st_mtim.tv_nsec != st0->st_mtim.tv_nsec)
        return mlops__error_set(MLOPS_ECONFLICT, "changed while being read: %s", path);
    return 0;
}

static void *hash_main(void *arg)
{
    pipe_state *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->hashed == p->submitted && !p->closing)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->hashed == p->submitted)
            break;
        size_t i = (size_t)(p->hashed % NBLOCKS);
        pthread_mutex_unlock(&p->mu);
        int rc = mlops__sha256_update(&p->sha, p->block[i], p->len[i]);
        pthread_mutex_lock(&p->mu);
        if (rc < 0 && p->rc == 0)
            p->rc = rc;
        p->hashed++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Waits until the next block of the ring may be refilled. */
static void wait_for_slot(pipe_state *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->submitted - p->hashed == NBLOCKS)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void submit(pipe_state *p, size_t len)
{
    pthread_mutex_lock(&p->mu);
    p->len[p->submitted % NBLOCKS] = len;
    p->submitted++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void close_and_join(pipe_state *p, pthread_t th)
{
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(th, NULL);
}

/* The reading side; with threaded == 0 it also hashes, block by block. */
static int feed(pipe_state *p, int threaded, uint64_t *done, int fd, const char *path, mlops__block_fn fn,
                void *arg)
{
    for (;;) {
        if (threaded)
            wait_for_slot(p);
        unsigned char *buf = p->block[threaded ? p->submitted % NBLOCKS : 0];
        size_t n = 0;
        MLOPS__TRY(mlops__pread_full(fd, buf, p->bsize, *done, &n, path));
        if (n == 0)
            return 0;
        *done += n;
        if (threaded)
            submit(p, n);
        else
            MLOPS__TRY(mlops__sha256_update(&p->sha, buf, n));
        MLOPS__TRY(fn(arg, buf, n));
    }
}

/* Returns 1 when the synchronisation objects exist (to be destroyed). */
static int state_init(pipe_state *p, int nblocks, size_t bsize)
{
    memset(p, 0, sizeof *p);
    p->bsize = bsize;
    for (int i = 0; i < nblocks; i++)
        if (!(p->block[i] = mlops__malloc(bsize)))
            return mlops__error_oom();
    MLOPS__TRY(mlops__sha256_init(&p->sha));
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return mlops__error_set(MLOPS_ERROR, "cannot create a condition variable");
    }
    return 1;
}

static void state_dispose(pipe_state *p, int sync_ready)
{
    if (sync_ready) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
    }
    for (int i = 0; i < NBLOCKS; i++)
        mlops__free(p->block[i]);
    mlops__sha256_dispose(&p->sha);
}

int mlops__hash_pipe_run(mlops_oid *out_id, uint64_t *out_read, int fd, uint64_t size, const char *path,
                         mlops__block_fn fn, void *arg)
{
    pipe_state p;
    int want_thread = size >= THREAD_MIN;
    /* A small file needs no full block (size + 1: one read finds the end). */
    size_t bsize = size < BLOCK ? (size_t)size + 1 : BLOCK;
    int ready = state_init(&p, want_thread ? NBLOCKS : 1, bsize);
    int rc = ready < 0 ? ready : 0;
    pthread_t th;
    int threaded = 0;
    if (rc == 0 && want_thread)
        threaded = pthread_create(&th, NULL, hash_main, &p) == 0;
    *out_read = 0;
    if (rc == 0)
        rc = feed(&p, threaded, out_read, fd, path, fn, arg);
    if (threaded) {
        close_and_join(&p, th);
        rc = rc < 0 ? rc : p.rc;
    }
    if (rc == 0)
        rc = mlops__sha256_final(&p.sha, out_id->id);
    state_dispose(&p, ready > 0);
    return rc;
}
