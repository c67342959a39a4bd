/*
 * Listing a directory ahead of the scan on a worker thread
 * (wtree_prefetch.h).
 *
 * One directory at a time is in the worker's hands: QUEUED by the scan,
 * LISTED once its first round is read (from then on both threads may take
 * lstat chunks), DONE when the worker has no chunk left, and IDLE again
 * when the scan takes it. The worker owns the listing and its batch from
 * QUEUED to DONE; the mutex orders the hand-overs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "wtree_prefetch.h"

void mlops__wlisting_open(mlops__wlisting *l, mlops__wstat_batch *b, int root_fd, const char *rel, uint64_t dev,
                          uint64_t ino)
{
    memset(l, 0, sizeof *l);
    mlops__wstat_batch_clear(b);
    int fd = openat(root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        l->open_err = errno;
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != ino || (uint64_t)st.st_dev != dev) {
        close(fd);
        l->open_err = MLOPS__WDIR_REPLACED;
        return;
    }
    if (!(l->dir = fdopendir(fd))) {
        l->fdopen_err = errno;
        close(fd);
        return;
    }
    l->rc = mlops__wstat_batch_fill(b, l->dir, &l->end, &l->read_err);
}

enum { PF_IDLE, PF_QUEUED, PF_LISTED, PF_DONE };

struct mlops__wprefetch {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int root_fd;
    int state;
    int quit;
    uint32_t node;
    mlops__buf rel;
    uint64_t dev, ino;
    mlops__wlisting l;
    mlops__wstat_batch batch;
    mlops__wstat_job job;
};

static void set_state(mlops__wprefetch *p, int state)
{
    pthread_mutex_lock(&p->mu);
    p->state = state;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void wait_state(mlops__wprefetch *p, int state)
{
    pthread_mutex_lock(&p->mu);
    while (p->state < state)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
    mlops__wprefetch *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->state != PF_QUEUED)
            pthread_cond_wait(&p->cv, &p->mu);
        int go = p->state == PF_QUEUED;
        pthread_mutex_unlock(&p->mu);
        if (!go)
            return NULL;
        mlops__wlisting_open(&p->l, &p->batch, p->root_fd, p->rel.ptr, p->dev, p->ino);
        if (mlops__wlisting_ok(&p->l))
            mlops__wstat_job_init(&p->job, &p->batch, dirfd(p->l.dir));
        set_state(p, PF_LISTED);
        if (mlops__wlisting_ok(&p->l))
            mlops__wstat_job_work(&p->job);
        set_state(p, PF_DONE);
    }
}

int mlops__wprefetch_new(mlops__wprefetch **out, int root_fd)
{
    *out = NULL;
    mlops__wprefetch *p = mlops__calloc(1, sizeof *p);
    if (!p)
        return mlops__error_oom();
    p->root_fd = root_fd;
    p->rel = (mlops__buf)MLOPS__BUF_INIT;
    mlops__wstat_batch_init(&p->batch);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        mlops__free(p);
        return 0;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        mlops__free(p);
        return 0;
    }
    if (pthread_create(&p->th, NULL, worker_main, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        mlops__free(p);
        return 0;
    }
    *out = p;
    return 0;
}

int mlops__wprefetch_queue(mlops__wprefetch *p, uint32_t node, const char *rel, uint64_t dev, uint64_t ino)
{
    /* The worker is idle: these fields are the caller's until set_state. */
    mlops__buf_clear(&p->rel);
    MLOPS__TRY(mlops__buf_puts(&p->rel, rel));
    p->node = node;
    p->dev = dev;
    p->ino = ino;
    set_state(p, PF_QUEUED);
    return 0;
}

int mlops__wprefetch_queued(mlops__wprefetch *p, uint32_t *node)
{
    /* node is written before the state leaves IDLE, and only the scanning
     * thread (the caller) writes it. */
    pthread_mutex_lock(&p->mu);
    int queued = p->state != PF_IDLE;
    pthread_mutex_unlock(&p->mu);
    if (queued)
        *node = p->node;
    return queued;
}

void mlops__wprefetch_take(mlops__wprefetch *p, mlops__wlisting *l, mlops__wstat_batch *b)
{
    wait_state(p, PF_LISTED);
    if (mlops__wlisting_ok(&p->l))
        mlops__wstat_job_work_own(&p->job);
    wait_state(p, PF_DONE);
    *l = p->l;
    memset(&p->l, 0, sizeof p->l);
    mlops__wstat_batch swap = *b;
    *b = p->batch;
    p->batch = swap;
    set_state(p, PF_IDLE);
}

void mlops__wprefetch_free(mlops__wprefetch *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    if (p->l.dir)
        closedir(p->l.dir);
    mlops__wstat_batch_dispose(&p->batch);
    mlops__buf_dispose(&p->rel);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    mlops__free(p);
}
