/*
 * lstat'ing a batch of directory entries on two threads (wtree_stat.h).
 *
 * Both threads take chunks of CHUNK entries from one atomic counter rather
 * than a fixed half each: the helper starts tens of microseconds late and
 * either thread may be preempted on a busy machine, and a shared counter
 * lets the other one take up the slack. The helper touches only the batch
 * (no error state, no callback, no allocation), so nothing needs a lock:
 * pthread_join orders its writes before the calling thread reads them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "data_internal.h"
#include "wtree_stat.h"

/* Below this many entries a thread costs more than it saves (creating and
 * joining one is of the order of 100 fstatat calls of cached dentries). */
#define SPLIT_MIN 256

/* Entries taken at a time from the shared counter: large enough that the
 * counter is not contended, small enough to balance the two threads. */
#define CHUNK 64

/* First allocation: most directories are small. */
#define FIRST_CAP 64

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

void mlops__wstat_from(mlops__wstat *out, const struct stat *st)
{
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->size = (uint64_t)st->st_size;
    out->mtime_ns = ts_ns(&st->st_mtim);
    out->ctime_ns = ts_ns(&st->st_ctim);
    out->mode = (uint32_t)st->st_mode;
    out->err = 0;
}

void mlops__wstat_batch_init(mlops__wstat_batch *b)
{
    memset(b, 0, sizeof *b);
    b->split = sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

void mlops__wstat_batch_dispose(mlops__wstat_batch *b)
{
    mlops__free(b->names);
    mlops__free(b->off);
    mlops__free(b->st);
    memset(b, 0, sizeof *b);
}

void mlops__wstat_batch_clear(mlops__wstat_batch *b)
{
    b->count = 0;
    b->names_len = 0;
}

int mlops__wstat_batch_add(mlops__wstat_batch *b, const char *name, size_t len, int stat_it)
{
    if (b->count == b->cap) {
        /* Both arrays grow together, so a failure between the two leaves
         * only a larger first array (freed by dispose). */
        size_t cap = b->cap ? b->cap * 2 : FIRST_CAP;
        if (cap > MLOPS__WSTAT_BATCH)
            cap = MLOPS__WSTAT_BATCH;
        uint32_t *off = mlops__realloc(b->off, cap * sizeof *off);
        if (!off)
            return mlops__error_oom();
        b->off = off;
        mlops__wstat *st = mlops__realloc(b->st, cap * sizeof *st);
        if (!st)
            return mlops__error_oom();
        b->st = st;
        b->cap = cap;
    }
    if (b->names_len + len + 1 > b->names_cap) {
        size_t cap = b->names_cap ? b->names_cap : 4096;
        while (cap < b->names_len + len + 1)
            cap *= 2;
        char *p = mlops__realloc(b->names, cap);
        if (!p)
            return mlops__error_oom();
        b->names = p;
        b->names_cap = cap;
    }
    b->off[b->count] = (uint32_t)b->names_len;
    memcpy(b->names + b->names_len, name, len);
    b->names[b->names_len + len] = '\0';
    b->names_len += len + 1;
    memset(&b->st[b->count], 0, sizeof b->st[b->count]);
    b->st[b->count].err = stat_it ? 0 : MLOPS__WSTAT_UNSTATED;
    b->count++;
    return 0;
}

void mlops__wstat_job_init(mlops__wstat_job *j, mlops__wstat_batch *b, int dfd)
{
    j->b = b;
    j->dfd = dfd;
    atomic_init(&j->next, 0);
}

static void work_with(mlops__wstat_job *j, int dfd)
{
    mlops__wstat_batch *b = j->b;
    for (;;) {
        size_t k = atomic_fetch_add(&j->next, CHUNK);
        if (k >= b->count)
            return;
        size_t end = k + CHUNK < b->count ? k + CHUNK : b->count;
        for (; k < end; k++) {
            mlops__wstat *r = &b->st[k];
            if (r->err == MLOPS__WSTAT_UNSTATED)
                continue;
            struct stat st;
            if (fstatat(dfd, mlops__wstat_batch_name(b, k), &st, AT_SYMLINK_NOFOLLOW) < 0)
                r->err = errno;
            else
                mlops__wstat_from(r, &st);
        }
    }
}

void mlops__wstat_job_work(mlops__wstat_job *j)
{
    work_with(j, j->dfd);
}

/*
 * Every fstatat relative to a descriptor takes a reference on its open
 * file, and in a process with several threads that is an atomic on one
 * cache line: two threads stat'ing through the same descriptor bounce it
 * between their CPUs on every call. A second open file for the same
 * directory ("." opened relative to it: no path to race on) keeps the
 * threads apart; without one, the shared descriptor still works.
 */
void mlops__wstat_job_work_own(mlops__wstat_job *j)
{
    int own = openat(j->dfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    work_with(j, own >= 0 ? own : j->dfd);
    if (own >= 0)
        close(own);
}

static void *helper_main(void *arg)
{
    mlops__wstat_job_work_own(arg);
    return NULL;
}

void mlops__wstat_batch_run(mlops__wstat_batch *b, int dfd)
{
    mlops__wstat_job j;
    mlops__wstat_job_init(&j, b, dfd);
    pthread_t th;
    /* A thread that cannot be started is no error: the calling thread
     * takes every chunk. */
    int helper = b->split && b->count >= SPLIT_MIN && pthread_create(&th, NULL, helper_main, &j) == 0;
    mlops__wstat_job_work(&j);
    if (helper)
        pthread_join(th, NULL);
}

int mlops__wstat_batch_fill(mlops__wstat_batch *b, DIR *d, int *end, int *err)
{
    mlops__wstat_batch_clear(b);
    *end = *err = 0;
    while (b->count < MLOPS__WSTAT_BATCH) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            *end = 1;
            *err = errno;
            return 0;
        }
        const char *name = e->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        size_t len = strlen(name);
        /* A name that cannot be recorded is reported, not stat'ed. */
        int ok = len <= MLOPS__DATA_ENTRY_NAME_MAX && !mlops__data_name_has_control(name, len);
        MLOPS__TRY(mlops__wstat_batch_add(b, name, len, ok));
    }
    return 0;
}
