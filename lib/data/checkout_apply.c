/*
 * Checkout, phase 2: the walk over the checked plan.
 *
 * The calling thread walks the version in tree order: it creates
 * directories, removes extras (CLEAN), places symlinks, decides for each
 * file whether the destination already holds it (stat cache, else a hash
 * job when the size matches) and hands the files to write to a few worker
 * threads through a bounded queue. When the queue is full the walker runs
 * the job itself rather than wait: on a small machine the walker's core is
 * then never idle. Small files are dominated by per-file syscalls (open,
 * link, close on the destination, open and read of the object), so two
 * or three threads in parallel are what reaches the files-per-second target.
 *
 * Every call is relative to a directory descriptor opened O_NOFOLLOW |
 * O_DIRECTORY; a directory that turned into a symlink since phase 1 stops
 * the checkout (MLOPS_EINVALID) instead of being followed. Progress is
 * reported from the calling thread only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkout.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

#define RING 256
#define WORKERS_MAX 4
/* Jobs the walker runs itself before starting workers: a checkout that
 * writes a handful of files is not worth a thread. */
#define INLINE_FIRST 8
#define PROGRESS_NS 50000000LL /* at most 20 progress calls a second */

typedef struct pool {
    mlops__co_ctx *c;
    pthread_mutex_t mu;
    pthread_cond_t has_job;
    mlops__co_job ring[RING];
    size_t head, count;
    pthread_t threads[WORKERS_MAX];
    unsigned nthreads, wanted;
    size_t submitted;
    int closing;
    atomic_int failed;
    int rc;        /* the first failure, with its message (set on another thread) */
    char msg[512];
    mlops_data_progress prog;
    int64_t last_report;
    mlops__co_worker mine; /* the walker's scratch, for the jobs it runs */
} pool;

typedef struct walk {
    mlops__co_ctx *c;
    pool *p;
    mlops__buf path; /* the entry being placed, relative to dest */
    size_t ordinal;  /* files seen so far: the next file's index */
    char target[MLOPS__DATA_LINK_TARGET_MAX + 2];
    char seen[MLOPS__DATA_LINK_TARGET_MAX + 2];
} walk;

/* ---- directory handles ------------------------------------------------------ */

static int dirh_new(mlops__co_dirh **out, int fd, const char *path, int full)
{
    mlops__co_dirh *h = mlops__calloc(1, sizeof *h);
    char *p = mlops__strdup(path);
    if (!h || !p) {
        mlops__free(h);
        mlops__free(p);
        close(fd);
        return mlops__error_oom();
    }
    h->fd = fd;
    atomic_init(&h->refs, 1);
    h->full = full;
    h->path = p;
    *out = h;
    return 0;
}

/* Drops a reference; the last one syncs (FULL) and closes. */
static int dirh_release(mlops__co_dirh *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return 0;
    int rc = 0;
    if (h->full && fsync(h->fd) < 0)
        rc = mlops__error_errno(errno, "cannot fsync directory '%s'", *h->path ? h->path : ".");
    close(h->fd);
    mlops__free(h->path);
    mlops__free(h);
    return rc;
}

/* ---- the pool ------------------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Under p->mu. */
static void record_failure(pool *p, int rc)
{
    if (p->rc == 0) {
        p->rc = rc;
        snprintf(p->msg, sizeof p->msg, "%s", mlops_error_last());
    }
    atomic_store(&p->failed, 1);
}

/* Under p->mu. */
static void account(pool *p, const mlops__tree_entry *e, const mlops__co_done *d)
{
    mlops_data_checkout_info *info = &p->c->info;
    info->files_written += d->written;
    info->files_unchanged += d->unchanged;
    info->linked += d->linked;
    info->bytes_written += d->bytes;
    p->prog.files_done++;
    p->prog.bytes_done += e->size;
}

static void finish_job(pool *p, const mlops__co_job *j, const mlops__co_done *d, int rc)
{
    int rc2 = dirh_release(j->dir);
    pthread_mutex_lock(&p->mu);
    if (rc < 0 || rc2 < 0)
        record_failure(p, rc < 0 ? rc : rc2);
    else
        account(p, j->e, d);
    pthread_mutex_unlock(&p->mu);
}

static void run_job(pool *p, mlops__co_worker *w, const mlops__co_job *j)
{
    mlops__co_done d = { 0, 0, 0, 0 };
    int rc = 0;
    if (!atomic_load(&p->failed))
        rc = w->buf ? mlops__co_place(p->c, w, j, &d) : mlops__error_oom();
    finish_job(p, j, &d, rc);
}

static void *worker_main(void *arg)
{
    pool *p = arg;
    /* Without a buffer the worker still drains jobs (run_job fails them),
     * so that every directory reference is released. */
    mlops__co_worker w = { mlops__malloc(MLOPS__CO_BUF), MLOPS__CO_BUF };
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->count == 0 && !p->closing)
            pthread_cond_wait(&p->has_job, &p->mu);
        if (p->count == 0)
            break;
        mlops__co_job j = p->ring[p->head];
        p->head = (p->head + 1) % RING;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        run_job(p, &w, &j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    mlops__free(w.buf);
    return NULL;
}

/* Workers start after the first few jobs: a checkout with little to write
 * starts none. If none can start, the walker runs every job itself. */
static void start_workers(pool *p)
{
    while (p->nthreads < p->wanted) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
            p->wanted = p->nthreads;
            break;
        }
        p->nthreads++;
    }
}

/* The error a worker recorded, raised on this thread. */
static int pool_error(pool *p)
{
    pthread_mutex_lock(&p->mu);
    int rc = p->rc;
    pthread_mutex_unlock(&p->mu);
    return rc < 0 ? mlops__error_set(rc, "%s", p->msg) : 0;
}

static int report(pool *p, int force)
{
    mlops__co_ctx *c = p->c;
    if (atomic_load(&p->failed))
        return pool_error(p);
    if (!c->progress)
        return 0;
    int64_t t = now_ns();
    if (!force && t - p->last_report < PROGRESS_NS)
        return 0;
    p->last_report = t;
    pthread_mutex_lock(&p->mu);
    mlops_data_progress now = p->prog;
    pthread_mutex_unlock(&p->mu);
    if (c->progress(&now, c->progress_payload) != 0) {
        int rc = mlops__error_set(MLOPS_EUSER, "checkout stopped by the progress callback");
        pthread_mutex_lock(&p->mu);
        record_failure(p, rc);
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    return 0;
}

/* Queues a copy of *j (which takes a reference on its directory). */
static int submit(pool *p, const mlops__co_job *j)
{
    atomic_fetch_add(&j->dir->refs, 1);
    pthread_mutex_lock(&p->mu);
    if (++p->submitted > INLINE_FIRST)
        start_workers(p);
    if (p->nthreads > 0 && p->count < RING) {
        p->ring[(p->head + p->count) % RING] = *j;
        p->count++;
        pthread_cond_signal(&p->has_job);
        pthread_mutex_unlock(&p->mu);
    } else {
        pthread_mutex_unlock(&p->mu);
        run_job(p, &p->mine, j);
    }
    return report(p, 0);
}

/* A file the walker settled itself (the stat cache vouched for it). */
static void settled(pool *p, const mlops__tree_entry *e)
{
    mlops__co_done d = { 0, 1, 0, 0 };
    pthread_mutex_lock(&p->mu);
    account(p, e, &d);
    pthread_mutex_unlock(&p->mu);
}

static unsigned workers_wanted(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > WORKERS_MAX ? WORKERS_MAX : (unsigned)n;
}

static int pool_init(pool *p, mlops__co_ctx *c)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    p->wanted = workers_wanted();
    p->prog.files_total = c->plan->files;
    p->prog.bytes_total = c->plan->bytes;
    atomic_init(&p->failed, 0);
    p->mine.buf = mlops__malloc(MLOPS__CO_BUF);
    p->mine.cap = MLOPS__CO_BUF;
    if (!p->mine.buf)
        return mlops__error_oom();
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        mlops__free(p->mine.buf);
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    }
    if (pthread_cond_init(&p->has_job, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        mlops__free(p->mine.buf);
        return mlops__error_set(MLOPS_ERROR, "cannot create a condition variable");
    }
    return 0;
}

/* Waits for the queued jobs (skipped after a failure) and the workers. */
static int pool_finish(pool *p, int rc)
{
    if (rc < 0) {
        pthread_mutex_lock(&p->mu);
        record_failure(p, rc);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->has_job);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    if (rc == 0)
        rc = report(p, 1);
    pthread_cond_destroy(&p->has_job);
    pthread_mutex_destroy(&p->mu);
    mlops__free(p->mine.buf);
    return rc;
}

/* ---- removal ------------------------------------------------------------------- */

/* The names in directory fd (but "." and ".."), NUL-separated, that
 * keep() refuses (keep NULL: all). */
static int list_names(mlops__buf *out, int fd, const mlops__co_dir *keep, const char *path)
{
    DIR *d = NULL;
    MLOPS__TRY(mlops__co_opendir(&d, fd, path));
    int rc = 0;
    struct dirent *de;
    for (errno = 0; rc == 0 && (de = readdir(d)) != NULL; errno = 0) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        if ((len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.'))
            continue;
        if (keep && mlops__tree_find(&keep->tree, n, len))
            continue;
        rc = mlops__buf_put(out, n, len + 1);
    }
    if (rc == 0 && errno)
        rc = mlops__error_errno(errno, "cannot read directory '%s'", *path ? path : ".");
    closedir(d);
    return rc;
}

static int remove_names(int fd, const mlops__buf *names, const char *path, uint64_t *count);

/* Never follows a symlink: a directory is entered through openat with
 * O_NOFOLLOW, and whatever is not a directory is unlinked as a name. */
static int remove_entry(int dirfd, const char *name, const char *path, uint64_t *count)
{
    if (unlinkat(dirfd, name, 0) == 0) {
        ++*count;
        return 0;
    }
    if (errno == ENOENT)
        return 0; /* gone meanwhile */
    if (errno != EISDIR && errno != EPERM)
        return mlops__error_errno(errno, "cannot remove '%s%s%s'", path, *path ? "/" : "", name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mlops__error_errno(errno, "cannot remove '%s%s%s'", path, *path ? "/" : "", name);
    mlops__buf sub = MLOPS__BUF_INIT, names = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&sub, "%s%s%s", path, *path ? "/" : "", name);
    if (rc == 0)
        rc = list_names(&names, fd, NULL, sub.ptr);
    if (rc == 0)
        rc = remove_names(fd, &names, sub.ptr, count);
    close(fd);
    if (rc == 0) {
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
            ++*count;
        else if (errno != ENOENT)
            rc = mlops__error_errno(errno, "cannot remove directory '%s'", sub.ptr);
    }
    mlops__buf_dispose(&sub);
    mlops__buf_dispose(&names);
    return rc;
}

static int remove_names(int fd, const mlops__buf *names, const char *path, uint64_t *count)
{
    for (size_t off = 0; off < names->len; off += strlen(names->ptr + off) + 1)
        MLOPS__TRY(remove_entry(fd, names->ptr + off, path, count));
    return 0;
}

/* CLEAN: what the version does not name goes. Done before any job of the
 * directory is queued, so a worker's temp file is never taken for an
 * extra. */
static int clean_extras(walk *W, const mlops__co_dir *d, mlops__co_dirh *h)
{
    mlops__buf names = MLOPS__BUF_INIT;
    int rc = list_names(&names, h->fd, d, h->path);
    if (rc == 0)
        rc = remove_names(h->fd, &names, h->path, &W->c->info.removed);
    mlops__buf_dispose(&names);
    return rc;
}

/* ---- entries ------------------------------------------------------------------- */

static const char *here(const walk *W)
{
    return W->path.ptr;
}

/* What is at name: 1 and *st, 0 if nothing, or an error. */
static int look(walk *W, mlops__co_dirh *h, const char *name, struct stat *st)
{
    if (fstatat(h->fd, name, st, AT_SYMLINK_NOFOLLOW) == 0)
        return 1;
    return errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot stat '%s'", here(W));
}

/* 1 if the stat cache vouches for the file at name (then settled here),
 * 0 if a job must look, or an error. */
static int vouched(walk *W, const mlops__tree_entry *e, const struct stat *st, size_t ordinal)
{
    mlops__co_ctx *c = W->c;
    mlops__stat_key key;
    mlops_oid id;
    /* Right bytes but the wrong executable bit: rewritten by a job, never
     * chmod-ed here (the inode may be linked from outside dest). */
    if (!mlops__co_exec_matches(st, e))
        return 0;
    mlops__stat_key_from(&key, st);
    int hit = mlops__statcache_lookup(c->cache, here(W), &key, &id);
    if (hit <= 0 || mlops_oid_cmp(&id, &e->id) != 0)
        return hit < 0 ? hit : 0;
    if (c->keys) {
        c->keys[ordinal] = key;
        c->have_key[ordinal] = 1;
    }
    settled(W->p, e);
    return 1;
}

static int file_entry(walk *W, const mlops__tree_entry *e, mlops__co_dirh *h, const char *name, int fresh)
{
    mlops__co_ctx *c = W->c;
    mlops__co_job j = { MLOPS__CO_WRITE, 1, h, e, W->ordinal++, 0, 0 };
    struct stat st;
    int there = fresh ? 0 : look(W, h, name, &st);
    if (there < 0)
        return there;
    if (there && S_ISDIR(st.st_mode)) { /* phase 1: empty, or CLEAN */
        MLOPS__TRY(remove_entry(h->fd, name, h->path, &c->info.removed));
    } else if (there) {
        j.name_free = 0;
        if (S_ISREG(st.st_mode)) {
            j.dev = st.st_dev;
            j.ino = st.st_ino;
            if (c->mode != MLOPS_DATA_CHECKOUT_HARDLINK) {
                int r = c->cache ? vouched(W, e, &st, j.ordinal) : 0;
                if (r != 0)
                    return r < 0 ? r : report(W->p, 0);
                /* The wrong executable bit is rewritten without hashing. */
                if ((uint64_t)st.st_size == e->size && mlops__co_exec_matches(&st, e))
                    j.kind = MLOPS__CO_VERIFY;
            }
        }
    }
    return submit(W->p, &j);
}

/* Symlinks are few: the walker makes them itself, atomically (symlinkat
 * under a temp name, renameat over whatever is there). */
static int link_entry(walk *W, const mlops__tree_entry *e, mlops__co_dirh *h, const char *name, int fresh)
{
    memcpy(W->target, e->target, e->target_len);
    W->target[e->target_len] = '\0';
    struct stat st;
    int there = fresh ? 0 : look(W, h, name, &st);
    if (there < 0)
        return there;
    if (there && S_ISLNK(st.st_mode)) {
        ssize_t n = readlinkat(h->fd, name, W->seen, sizeof W->seen);
        if (n == (ssize_t)e->target_len && memcmp(W->seen, W->target, e->target_len) == 0)
            return 0;
    } else if (there && S_ISDIR(st.st_mode)) {
        MLOPS__TRY(remove_entry(h->fd, name, h->path, &W->c->info.removed));
        there = 0;
    }
    if (!there && symlinkat(W->target, h->fd, name) == 0)
        return 0;
    if (!there && errno != EEXIST)
        return mlops__error_errno(errno, "cannot create symlink '%s'", here(W));
    char tmp[48];
    int err = mlops__co_tmp_name(tmp);
    if (err < 0)
        return mlops__error_errno(-err, "cannot get random bytes");
    if (symlinkat(W->target, h->fd, tmp) < 0)
        return mlops__error_errno(errno, "cannot create symlink '%s'", here(W));
    if (renameat(h->fd, tmp, h->fd, name) < 0) {
        err = errno;
        unlinkat(h->fd, tmp, 0);
        return mlops__error_errno(err, "cannot replace '%s' with a symlink", here(W));
    }
    return 0;
}

static int walk_dir(walk *W, const mlops__co_dir *d, mlops__co_dirh *h, int fresh);

static int dir_entry(walk *W, const mlops__co_dir *d, mlops__co_dirh *h, const char *name, int fresh)
{
    struct stat st;
    int there = fresh ? 0 : look(W, h, name, &st);
    if (there < 0)
        return there;
    if (there && S_ISLNK(st.st_mode))
        return mlops__error_set(MLOPS_EINVALID, "destination has a symlink at '%s' where the version has a directory",
                                here(W));
    if (there && !S_ISDIR(st.st_mode)) {
        if (unlinkat(h->fd, name, 0) < 0 && errno != ENOENT)
            return mlops__error_errno(errno, "cannot remove '%s'", here(W));
        W->c->info.removed++;
        there = 0;
    }
    int child_fresh = 0;
    if (!there) {
        if (mkdirat(h->fd, name, 0777) == 0)
            child_fresh = 1;
        else if (errno != EEXIST)
            return mlops__error_errno(errno, "cannot create directory '%s'", here(W));
    }
    int fd = openat(h->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR)
            return mlops__error_set(MLOPS_EINVALID, "destination '%s' stopped being a directory during checkout",
                                    here(W));
        return mlops__error_errno(errno, "cannot open directory '%s'", here(W));
    }
    mlops__co_dirh *child = NULL;
    MLOPS__TRY(dirh_new(&child, fd, here(W), W->c->full));
    int rc = walk_dir(W, d, child, child_fresh);
    int rc2 = dirh_release(child);
    return rc < 0 ? rc : rc2;
}

static int walk_dir(walk *W, const mlops__co_dir *d, mlops__co_dirh *h, int fresh)
{
    if (!fresh && W->c->clean)
        MLOPS__TRY(clean_extras(W, d, h));
    size_t len = W->path.len;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->tree.count; i++) {
        const mlops__tree_entry *e = &d->tree.entries[i];
        char name[256];
        mlops__co_name(name, e);
        rc = mlops__buf_printf(&W->path, "%s%s", len ? "/" : "", name);
        if (rc < 0)
            break;
        if (e->type == MLOPS_DATA_DIR)
            rc = dir_entry(W, d->child[i], h, name, fresh);
        else if (e->type == MLOPS_DATA_FILE)
            rc = file_entry(W, e, h, name, fresh);
        else
            rc = link_entry(W, e, h, name, fresh);
        W->path.len = len;
        W->path.ptr[len] = '\0';
    }
    return rc;
}

int mlops__co_apply(mlops__co_ctx *c, int destfd, int fresh)
{
    pool p;
    MLOPS__TRY(pool_init(&p, c));
    walk W;
    memset(&W, 0, sizeof W);
    W.c = c;
    W.p = &p;
    mlops__co_dirh *root = NULL;
    int fd = dup(destfd);
    int rc = fd < 0 ? mlops__error_errno(errno, "cannot duplicate a descriptor") : 0;
    if (rc == 0)
        rc = mlops__buf_puts(&W.path, "");
    if (rc == 0)
        rc = dirh_new(&root, fd, "", c->full);
    if (rc == 0)
        rc = report(&p, 1);
    if (rc == 0)
        rc = walk_dir(&W, c->plan->root, root, fresh);
    if (root) {
        int rc2 = dirh_release(root);
        if (rc == 0)
            rc = rc2;
    }
    rc = pool_finish(&p, rc);
    mlops__buf_dispose(&W.path);
    return rc;
}
