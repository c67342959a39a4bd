/*
 * Pipelined put of a large file. Hashing (about 1.6 GB/s with SHA
 * instructions) and writing into the page cache cost about the same CPU
 * time, and on one thread they add up; on two they overlap. The reading
 * thread fills a ring of blocks and writes each to the backend, while the
 * hashing thread hashes the same blocks (both only read them); a block is
 * refilled only once hashed. Bounded memory: NBLOCKS blocks.
 */
#include <pthread.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "hash_pipe.h"
#include "object_io.h"

#define NBLOCKS 4
#define BLOCK ((size_t)1 << 20)

typedef struct pipe_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *block[NBLOCKS];
    size_t len[NBLOCKS];
    uint64_t submitted; /* blocks handed to the hasher */
    uint64_t hashed;    /* blocks the hasher is done with */
    int closing;        /* no more blocks will come */
    int rc;             /* the hasher's failure */
    mlops__sha256 sha;
} pipe_state;

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

/* Waits until block i (of submission number k) may be refilled. */
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

/* The reading and writing side; returns the first failure. */
static int feed(pipe_state *p, mlops_object_writer *w, int fd, const char *path)
{
    for (;;) {
        wait_for_slot(p);
        char *buf = p->block[p->submitted % NBLOCKS];
        size_t n = 0;
        int e = mlops__fs_read_full(fd, buf, BLOCK, &n);
        if (e < 0)
            return mlops__error_errno(-e, "cannot read '%s'", path);
        if (n == 0)
            return 0;
        submit(p, n);
        MLOPS__TRY(mlops_object_writer_write(w, buf, n));
    }
}

static int state_init(pipe_state *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < NBLOCKS; i++)
        if (!(p->block[i] = mlops__malloc(BLOCK)))
            return mlops__error_oom();
    MLOPS__TRY(mlops__sha256_init(&p->sha));
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return mlops__error_set(MLOPS_ERROR, "cannot create a condition variable");
    }
    return 1; /* synchronisation objects exist */
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

int mlops__put_fd_pipelined(mlops_oid *out, mlops_object_writer *w, int fd, const char *path)
{
    pipe_state p;
    int ready = state_init(&p);
    int rc = ready < 0 ? ready : 0;
    pthread_t th;
    int threaded = 0;
    if (rc == 0)
        threaded = pthread_create(&th, NULL, hash_main, &p) == 0;
    if (rc == 0 && threaded) {
        rc = feed(&p, w, fd, path);
        close_and_join(&p, th);
        rc = rc < 0 ? rc : p.rc;
    } else if (rc == 0) {
        /* No thread to be had: hash inline, block by block. */
        for (;;) {
            size_t n = 0;
            int e = mlops__fs_read_full(fd, p.block[0], BLOCK, &n);
            if (e < 0) {
                rc = mlops__error_errno(-e, "cannot read '%s'", path);
                break;
            }
            if (n == 0 || (rc = mlops__sha256_update(&p.sha, p.block[0], n)) < 0 ||
                (rc = mlops_object_writer_write(w, p.block[0], n)) < 0)
                break;
        }
    }
    mlops_oid id;
    if (rc == 0)
        rc = mlops__sha256_final(&p.sha, id.id);
    if (rc == 0)
        rc = mlops__writer_finish_as(out, w, &id);
    state_dispose(&p, ready > 0);
    return rc;
}
