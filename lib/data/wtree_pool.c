/*
 * Reading the files of a scanned tree with a pool of threads
 * (mlops__wtree_read_files). Each worker takes the next file of the work
 * list, opens it relative to the root (O_NOFOLLOW), checks it is still the
 * file the scan saw and stores (or only hashes) it; a file that moved is
 * reported, re-examined and read again, a few times at most.
 *
 * Callbacks run on the calling thread only: workers queue notices and
 * bump counters, the calling thread waits on a condition variable (woken
 * every 1% of progress, a notice, or 100 ms) and reports. Workers touch
 * only their own nodes; the dev table is append-only under the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/sha256.h"
#include "store/hash_pipe.h"
#include "store/object_put.h"
#include "wtree_internal.h"

#define MAX_THREADS 8       /* default: one per CPU, at most this */
#define MAX_USER_THREADS 64 /* asked for explicitly */
#define CHANGE_RETRIES 3
#define TICK_NS 100000000L /* 100 ms */
#define WORKER_BUF ((size_t)256 << 10) /* files below this size are read whole */

typedef struct queued_notice {
    mlops_data_notice kind;
    char *path;
} queued_notice;

typedef struct pool {
    const mlops__wtree_job *job;
    mlops__wtree *t;
    atomic_size_t next;
    /* Progress counts a file with its size at the scan, so that the final
     * report matches the totals announced first even if files changed. */
    atomic_uint_fast64_t files_done, bytes_done, files_hashed, bytes_hashed, skipped;
    atomic_int stop;
    uint64_t file_step, byte_step; /* 1% of the totals */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wake;     /* something to report */
    mlops_data_progress last; /* last progress reported */
    int64_t last_ns;
    int running;  /* workers not yet finished */
    int rc;       /* first failure */
    char *msg;    /* its message (the failing thread's last error) */
    queued_notice *q;
    size_t nq, capq;
} pool;

/* Per worker. */
typedef struct worker {
    pool *p;
    pthread_t th;
    mlops__buf path;    /* "<root as given>/<relative path>": messages */
    size_t rel;         /* offset of the relative path in path */
    mlops__buf relbuf;  /* scratch for the relative path */
    unsigned char *buf; /* WORKER_BUF + 1 bytes */
} worker;

static void record_failure(pool *p, int rc)
{
    pthread_mutex_lock(&p->mu);
    if (p->rc == 0) {
        p->rc = rc;
        p->msg = mlops__strdup(mlops_error_last());
    }
    p->wake = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    atomic_store(&p->stop, 1);
}

static int queue_notice(worker *w, mlops_data_notice kind)
{
    pool *p = w->p;
    if (!p->job->notice)
        return 0;
    char *path = mlops__strdup(w->path.ptr + w->rel);
    if (!path)
        return mlops__error_oom();
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    if (p->nq == p->capq) {
        size_t cap = p->capq ? p->capq * 2 : 16;
        queued_notice *q = mlops__realloc(p->q, cap * sizeof *q);
        if (q) {
            p->q = q;
            p->capq = cap;
        } else {
            rc = mlops__error_oom();
        }
    }
    if (rc == 0) {
        p->q[p->nq].kind = kind;
        p->q[p->nq++].path = path;
        path = NULL;
        p->wake = 1;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    mlops__free(path);
    return rc;
}

/* One more file settled: wake the reporter at every 1% of either total. */
static void settle(pool *p, uint64_t size)
{
    uint64_t f = atomic_fetch_add(&p->files_done, 1) + 1;
    uint64_t b0 = atomic_fetch_add(&p->bytes_done, size);
    if (f % p->file_step == 0 || b0 / p->byte_step != (b0 + size) / p->byte_step) {
        pthread_mutex_lock(&p->mu);
        p->wake = 1;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Did the file change while it was read? st0 is from before the reading;
 * exactly its size must have been read, and size and mtime must stand. */
static int check_unchanged(worker *w, int fd, const struct stat *st0, uint64_t nread)
{
    struct stat st1;
    if (fstat(fd, &st1) < 0)
        return mlops__error_errno(errno, "cannot stat '%s'", w->path.ptr);
    if (nread != (uint64_t)st0->st_size || st1.st_size != st0->st_size ||
        st1.st_mtim.tv_sec != st0->st_mtim.tv_sec || st1.st_mtim.tv_nsec != st0->st_mtim.tv_nsec)
        return mlops__error_set(MLOPS_ECONFLICT, "changed while being read: %s", w->path.ptr);
    return 0;
}

/* Content id of a large file without storing it (status). */
static int hash_fd(mlops_oid *out, worker *w, int fd, const struct stat *st0)
{
    mlops__sha256 sha = { NULL };
    int rc = mlops__sha256_init(&sha);
    uint64_t off = 0;
    while (rc == 0) {
        size_t n = 0;
        if ((rc = mlops__pread_full(fd, w->buf, WORKER_BUF, off, &n, w->path.ptr)) < 0 || n == 0)
            break;
        off += n;
        rc = mlops__sha256_update(&sha, w->buf, n);
    }
    if (rc == 0)
        rc = check_unchanged(w, fd, st0, off);
    if (rc == 0)
        rc = mlops__sha256_final(&sha, out->id);
    mlops__sha256_dispose(&sha);
    return rc;
}

/*
 * Most files of a dataset are small, and for them the per-file overhead is
 * the cost: one read into the worker's buffer (asking for a byte more than
 * the size, so the end is seen at once), one fstat for the change check,
 * then a put (or a hash) from memory. Larger files stream through
 * mlops__object_put_fd, which also chunks the big ones.
 */
static int read_content(mlops_oid *id, worker *w, int fd, const struct stat *st)
{
    const mlops__wtree_job *job = w->p->job;
    if ((uint64_t)st->st_size >= WORKER_BUF) {
        if (job->put)
            return mlops__object_put_fd(id, NULL, job->store, fd, (uint64_t)st->st_size, w->path.ptr, NULL);
        return hash_fd(id, w, fd, st);
    }
    size_t n = 0;
    MLOPS__TRY(mlops__pread_full(fd, w->buf, (size_t)st->st_size + 1, 0, &n, w->path.ptr));
    MLOPS__TRY(check_unchanged(w, fd, st, n));
    return job->put ? mlops_object_put(id, job->store, w->buf, n) : mlops_oid_hash(id, w->buf, n);
}

/* Records what the read confirmed as the file's stat key. */
static int adopt_stat(pool *p, uint32_t i, const struct stat *st)
{
    mlops__wtree *t = p->t;
    mlops__wnode *n = &t->nodes[i];
    if (t->devs[n->dev] != (uint64_t)st->st_dev) {
        pthread_mutex_lock(&p->mu);
        int dev = mlops__wtree_dev_index(t, (uint64_t)st->st_dev);
        pthread_mutex_unlock(&p->mu);
        if (dev < 0)
            return dev;
        n->dev = (uint8_t)dev;
    }
    mlops__stat_key k;
    mlops__stat_key_from(&k, st);
    n->ino = k.ino;
    n->size = k.size;
    n->u.f.mtime_ns = k.mtime_ns;
    n->u.f.ctime_ns = k.ctime_ns;
    n->flags = (uint8_t)((n->flags & ~MLOPS__WN_EXEC) |
                         ((st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) ? MLOPS__WN_EXEC : 0));
    return 0;
}

/* Opens file node i; 1 if it is unreadable and was skipped. */
static int open_file(int *fd, worker *w, uint32_t i)
{
    pool *p = w->p;
    *fd = openat(p->t->root_fd, w->path.ptr + w->rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (*fd >= 0)
        return 0;
    int e = errno;
    if (e == ENOENT || e == ELOOP || e == ENOTDIR)
        return mlops__error_set(MLOPS_ECONFLICT, "'%s' was removed or replaced during the snapshot", w->path.ptr);
    if ((e != EACCES && e != EPERM) || !(p->job->flags & MLOPS_DATA_SKIP_UNREADABLE))
        return mlops__error_errno(e, "cannot read '%s'", w->path.ptr);
    p->t->nodes[i].flags |= MLOPS__WN_SKIPPED;
    atomic_fetch_add(&p->skipped, 1);
    MLOPS__TRY(queue_notice(w, MLOPS_DATA_NOTICE_UNREADABLE));
    return 1;
}

/* Reads (or stores) the open file; ECONFLICT if it moved since st. */
static int read_once(worker *w, uint32_t i, int fd, struct stat *st)
{
    pool *p = w->p;
    mlops__wnode *n = &p->t->nodes[i];
    if (fstat(fd, st) < 0)
        return mlops__error_errno(errno, "cannot stat '%s'", w->path.ptr);
    if (!S_ISREG(st->st_mode))
        return mlops__error_set(MLOPS_ECONFLICT, "'%s' was replaced during the snapshot", w->path.ptr);
    if ((uint64_t)st->st_ino != n->ino || (uint64_t)st->st_dev != p->t->devs[n->dev] ||
        (uint64_t)st->st_size != n->size ||
        (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec != n->u.f.mtime_ns)
        return mlops__error_set(MLOPS_ECONFLICT, "changed since the scan: %s", w->path.ptr);
    mlops_oid id;
    MLOPS__TRY(read_content(&id, w, fd, st));
    n->id = id;
    return 0;
}

/* Stores or hashes file node i, following it through changes. */
static int read_file(worker *w, uint32_t i)
{
    pool *p = w->p;
    for (int attempt = 0;; attempt++) {
        int fd = -1;
        int rc = open_file(&fd, w, i);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        struct stat st;
        rc = read_once(w, i, fd, &st);
        if (rc == MLOPS_ECONFLICT && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && attempt < CHANGE_RETRIES) {
            /* Read it again as it is now (a changed dev/inode: replaced
             * by another file, which is what the path names now). */
            rc = adopt_stat(p, i, &st);
            if (rc == 0)
                rc = queue_notice(w, MLOPS_DATA_NOTICE_CHANGED);
            close(fd);
            if (rc < 0)
                return rc;
            continue;
        }
        close(fd);
        if (rc == MLOPS_ECONFLICT)
            return mlops__error_set(MLOPS_ECONFLICT, "'%s' kept changing while it was read", w->path.ptr);
        if (rc < 0)
            return rc;
        MLOPS__TRY(adopt_stat(p, i, &st));
        p->t->nodes[i].flags |= MLOPS__WN_DONE;
        atomic_fetch_add(&p->files_hashed, 1);
        atomic_fetch_add(&p->bytes_hashed, (uint64_t)st.st_size);
        return 0;
    }
}

static int do_file(worker *w, uint32_t i)
{
    pool *p = w->p;
    mlops__wnode *n = &p->t->nodes[i];
    uint64_t scanned = n->size;
    if (n->flags & MLOPS__WN_CACHED) {
        /* The cache vouches for the content; the store must still have it
         * (gc may have removed it since). */
        int have = mlops_object_exists(p->job->store, &n->id);
        if (have < 0)
            return have;
        n->flags &= (uint8_t)~MLOPS__WN_CACHED;
        if (have) {
            n->flags |= MLOPS__WN_DONE;
            settle(p, scanned);
            return 0;
        }
    }
    w->path.len = w->rel;
    MLOPS__TRY(mlops__wtree_relpath(&w->relbuf, p->t, i));
    MLOPS__TRY(mlops__buf_put(&w->path, w->relbuf.ptr, w->relbuf.len));
    MLOPS__TRY(read_file(w, i));
    settle(p, scanned);
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Calling thread only: delivers queued notices, then progress if it moved
 * (or force). A callback asking to stop is MLOPS_EUSER. */
static int report(pool *p, int force)
{
    const mlops__wtree_job *job = p->job;
    pthread_mutex_lock(&p->mu);
    queued_notice *q = p->q;
    size_t nq = p->nq;
    p->q = NULL;
    p->nq = p->capq = 0;
    p->wake = 0;
    pthread_mutex_unlock(&p->mu);
    int rc = 0;
    for (size_t k = 0; k < nq; k++) {
        if (rc == 0 && job->notice(q[k].kind, q[k].path, job->notice_payload) != 0)
            rc = mlops__error_set(MLOPS_EUSER, "snapshot stopped by the notice callback at '%s'", q[k].path);
        mlops__free(q[k].path);
    }
    mlops__free(q);
    if (rc < 0 || !job->progress)
        return rc;
    mlops_data_progress pr = { atomic_load(&p->files_done), p->t->files_total, atomic_load(&p->bytes_done),
                               p->t->bytes_total };
    if (!force && pr.files_done == p->last.files_done && pr.bytes_done == p->last.bytes_done)
        return 0;
    p->last = pr;
    p->last_ns = mono_ns();
    if (job->progress(&pr, job->progress_payload) != 0)
        return mlops__error_set(MLOPS_EUSER, "snapshot stopped by the progress callback");
    return 0;
}

static void stop_with(pool *p, int rc)
{
    if (rc < 0)
        record_failure(p, rc);
}

/* inline_report: no worker thread could be started, the calling thread
 * reads the files itself and reports between them. */
static void work(worker *w, int inline_report)
{
    pool *p = w->p;
    while (!atomic_load(&p->stop)) {
        size_t k = atomic_fetch_add(&p->next, 1);
        if (k >= p->job->nwork)
            break;
        int rc = do_file(w, p->job->work[k]);
        if (rc == 0 && inline_report && (p->wake || mono_ns() - p->last_ns >= TICK_NS))
            rc = report(p, 0);
        stop_with(p, rc);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool *p = w->p;
    work(w, 0);
    pthread_mutex_lock(&p->mu);
    p->running--;
    p->wake = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static unsigned thread_count(const mlops__wtree_job *job)
{
    unsigned n = job->threads;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
    }
    if (n > MAX_USER_THREADS)
        n = MAX_USER_THREADS;
    if (n > job->nwork)
        n = (unsigned)job->nwork;
    return n;
}

static int worker_init(worker *w, pool *p)
{
    const mlops__wtree *t = p->t;
    w->p = p;
    MLOPS__TRY(mlops__buf_puts(&w->path, t->prefix));
    if (w->path.len)
        MLOPS__TRY(mlops__buf_put(&w->path, "/", 1));
    w->rel = w->path.len;
    if (!(w->buf = mlops__malloc(WORKER_BUF + 1)))
        return mlops__error_oom();
    return 0;
}

static void worker_dispose(worker *w)
{
    mlops__buf_dispose(&w->path);
    mlops__buf_dispose(&w->relbuf);
    mlops__free(w->buf);
}

/* The calling thread, while workers run: report on every wake-up (1% of
 * progress, a notice, a worker leaving) and at least every 100 ms. */
static void supervise(pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->running > 0) {
        if (!p->wake) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += TICK_NS;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cv, &p->mu, &until);
        }
        pthread_mutex_unlock(&p->mu);
        stop_with(p, atomic_load(&p->stop) ? 0 : report(p, 0));
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

static int run_workers(pool *p, worker *ws, unsigned n)
{
    unsigned started = 0;
    int rc = 0;
    for (unsigned k = 0; k < n && rc == 0; k++)
        rc = worker_init(&ws[k], p);
    p->running = (int)n;
    for (; rc == 0 && started < n; started++)
        if (pthread_create(&ws[started].th, NULL, worker_main, &ws[started]) != 0)
            break;
    if (rc == 0 && started < n) {
        pthread_mutex_lock(&p->mu);
        p->running -= (int)(n - started);
        pthread_mutex_unlock(&p->mu);
    }
    if (rc == 0 && started == 0 && n > 0)
        work(&ws[0], 1);
    else if (rc == 0)
        supervise(p);
    for (unsigned k = 0; k < started; k++)
        pthread_join(ws[k].th, NULL);
    return rc;
}

static void pool_dispose(pool *p)
{
    for (size_t k = 0; k < p->nq; k++)
        mlops__free(p->q[k].path);
    mlops__free(p->q);
    mlops__free(p->msg);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

int mlops__wtree_read_files(const mlops__wtree_job *job)
{
    pool p;
    memset(&p, 0, sizeof p);
    p.job = job;
    p.t = job->t;
    atomic_init(&p.files_done, job->files_done);
    atomic_init(&p.bytes_done, job->bytes_done);
    p.file_step = p.t->files_total / 100 ? p.t->files_total / 100 : 1;
    p.byte_step = p.t->bytes_total / 100 ? p.t->bytes_total / 100 : 1;
    p.last.files_done = UINT64_MAX;
    if (pthread_mutex_init(&p.mu, NULL) != 0)
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    if (pthread_cond_init(&p.cv, NULL) != 0) {
        pthread_mutex_destroy(&p.mu);
        return mlops__error_set(MLOPS_ERROR, "cannot create a condition variable");
    }
    unsigned n = thread_count(job);
    worker *ws = mlops__calloc(n ? n : 1, sizeof *ws);
    /* The totals first, before any file is read. */
    int rc = ws ? report(&p, 1) : mlops__error_oom();
    if (rc == 0)
        rc = run_workers(&p, ws, n);
    if (rc == 0 && p.rc == 0)
        rc = report(&p, 1);
    if (rc == 0 && p.rc < 0)
        rc = mlops__error_set(p.rc, "%s", p.msg ? p.msg : "snapshot failed");
    for (unsigned k = 0; ws && k < n; k++)
        worker_dispose(&ws[k]);
    mlops__free(ws);
    p.t->files_hashed += atomic_load(&p.files_hashed);
    p.t->bytes_hashed += atomic_load(&p.bytes_hashed);
    p.t->skipped += atomic_load(&p.skipped);
    pool_dispose(&p);
    return rc;
}
