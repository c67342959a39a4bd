/*
 * Scanning a working tree into memory (wtree_internal.h): directories are
 * opened relative to the root with O_NOFOLLOW and checked against the
 * dev/inode the parent's listing reported, entries are lstat'ed
 * (fstatat AT_SYMLINK_NOFOLLOW) in batches on two threads (wtree_stat.h),
 * the next directory listed ahead by a worker (wtree_prefetch.h), and
 * symlinks are read but never followed. No file content is read here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "store/store_internal.h"
#include "wtree_internal.h"
#include "wtree_prefetch.h"
#include "wtree_sort.h"
#include "wtree_stat.h"

int mlops__wtree_dev_index(mlops__wtree *t, uint64_t dev)
{
    for (unsigned i = 0; i < t->ndevs; i++)
        if (t->devs[i] == dev)
            return (int)i;
    if (t->ndevs == MLOPS__WTREE_DEVS)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "'%s' spans more than %d filesystems", t->path,
                                MLOPS__WTREE_DEVS);
    t->devs[t->ndevs] = dev;
    return (int)t->ndevs++;
}

void mlops__wtree_key(mlops__stat_key *out, const mlops__wtree *t, uint32_t i)
{
    const mlops__wnode *n = &t->nodes[i];
    out->dev = t->devs[n->dev];
    out->ino = n->ino;
    out->size = n->size;
    out->mtime_ns = n->u.f.mtime_ns;
    out->ctime_ns = n->u.f.ctime_ns;
}

int mlops__wtree_relpath(mlops__buf *b, const mlops__wtree *t, uint32_t i)
{
    size_t len = 0;
    int depth = 0;
    for (uint32_t k = i; k != 0; k = t->nodes[k].parent) {
        len += t->nodes[k].name_len + 1u;
        depth++;
    }
    mlops__buf_clear(b);
    MLOPS__TRY(mlops__buf_grow(b, len));
    size_t end = len ? len - 1 : 0; /* no '/' after the last name */
    b->len = end;
    b->ptr[end] = '\0';
    for (uint32_t k = i; k != 0; k = t->nodes[k].parent) {
        const mlops__wnode *n = &t->nodes[k];
        end -= n->name_len;
        memcpy(b->ptr + end, mlops__wtree_name(t, n), n->name_len);
        if (end)
            b->ptr[--end] = '/';
    }
    return depth;
}

unsigned mlops__wtree_dir_depth(const mlops__wtree *t, uint32_t i)
{
    unsigned depth = 0;
    for (uint32_t k = i; k != 0; k = t->nodes[k].parent)
        depth++;
    return depth;
}

/* ---- building ------------------------------------------------------------ */

static int grow_names(mlops__wtree *t, size_t need)
{
    if (t->names_len + need > UINT32_MAX)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "'%s' has too many names to hold", t->path);
    if (t->names_len + need <= t->names_cap)
        return 0;
    size_t cap = t->names_cap ? t->names_cap : 16384;
    while (cap < t->names_len + need)
        cap *= 2;
    char *p = mlops__realloc(t->names, cap);
    if (!p)
        return mlops__error_oom();
    t->names = p;
    t->names_cap = cap;
    return 0;
}

static void put_name(mlops__wtree *t, const char *s, size_t len)
{
    memcpy(t->names + t->names_len, s, len);
    t->names[t->names_len + len] = '\0';
    t->names_len += len + 1;
}

static int add_node(uint32_t *out, mlops__wtree *t, uint32_t parent, const char *name, size_t name_len,
                    const char *target, size_t target_len)
{
    if (t->count == t->cap) {
        if (t->cap >= UINT32_MAX / 2)
            return mlops__error_set(MLOPS_EUNSUPPORTED, "'%s' has too many entries", t->path);
        uint32_t cap = t->cap ? t->cap * 2 : 1024;
        mlops__wnode *n = mlops__realloc(t->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return mlops__error_oom();
        t->nodes = n;
        t->cap = cap;
    }
    MLOPS__TRY(grow_names(t, name_len + 1 + (target ? target_len + 1 : 0)));
    mlops__wnode *n = &t->nodes[t->count];
    memset(n, 0, sizeof *n);
    n->parent = parent;
    n->name_off = (uint32_t)t->names_len;
    n->name_len = (uint8_t)name_len;
    put_name(t, name, name_len);
    if (target)
        put_name(t, target, target_len);
    *out = t->count++;
    return 0;
}

/* Fills node i's type and stat fields from st. */
static int set_stat(mlops__wtree *t, uint32_t i, const mlops__wstat *st)
{
    int dev = mlops__wtree_dev_index(t, st->dev);
    if (dev < 0)
        return dev;
    mlops__wnode *n = &t->nodes[i];
    n->dev = (uint8_t)dev;
    n->ino = st->ino;
    if (S_ISDIR(st->mode)) {
        n->type = MLOPS_DATA_DIR;
        return 0;
    }
    n->type = MLOPS_DATA_FILE;
    n->size = st->size;
    n->u.f.mtime_ns = st->mtime_ns;
    n->u.f.ctime_ns = st->ctime_ns;
    n->flags = (st->mode & (S_IXUSR | S_IXGRP | S_IXOTH)) ? MLOPS__WN_EXEC : 0;
    t->files_total++;
    t->bytes_total += n->size;
    return 0;
}

/* Scan-time context. */
typedef struct scan_ctx {
    mlops__wtree *t;
    unsigned flags;
    mlops_data_notice_cb notice;
    void *payload;
    mlops__buf dir;   /* relative path of the directory being listed */
    mlops__buf entry; /* relative path of an entry, for notices */
    char *link;       /* readlink buffer */
    mlops__wstat_batch batch; /* entries of the directory being listed */
    mlops__wsort sort;        /* scratch for sorting a directory's children */
    mlops__wprefetch *pf;     /* lists the next directory ahead (NULL: none yet, or no thread) */
    uint32_t next_dir;        /* where the search for the next directory resumes */
    mlops__buf ahead;         /* relative path of the directory handed to pf */
    int skip_store;   /* the fs store's own directory is inside the tree */
    uint64_t store_dev, store_ino;
} scan_ctx;

static int notify(scan_ctx *c, mlops_data_notice kind, const char *path)
{
    if (c->notice && c->notice(kind, path, c->payload) != 0)
        return mlops__error_set(MLOPS_EUSER, "snapshot stopped by the notice callback at '%s'", path);
    return 0;
}

/* Reports a skipped entry of the directory being listed. */
static int skip(scan_ctx *c, mlops_data_notice kind, const char *name)
{
    c->t->skipped++;
    if (!c->notice)
        return 0;
    mlops__buf_clear(&c->entry);
    MLOPS__TRY(mlops__buf_put(&c->entry, c->dir.ptr, c->dir.len));
    if (c->dir.len)
        MLOPS__TRY(mlops__buf_put(&c->entry, "/", 1));
    MLOPS__TRY(mlops__buf_puts(&c->entry, name));
    return notify(c, kind, c->entry.ptr);
}

static int add_link(scan_ctx *c, uint32_t parent, int dfd, const char *name, size_t name_len, unsigned depth,
                    const mlops__wstat *st)
{
    ssize_t n = readlinkat(dfd, name, c->link, MLOPS__DATA_LINK_TARGET_MAX + 1);
    if (n < 0) {
        if (errno == ENOENT)
            return 0; /* removed meanwhile */
        return mlops__error_errno(errno, "cannot read symlink '%s/%s'", c->t->path, name);
    }
    if ((size_t)n > MLOPS__DATA_LINK_TARGET_MAX || mlops__data_link_target_check(c->link, (size_t)n, depth) < 0)
        return skip(c, MLOPS_DATA_NOTICE_LINK_OUTSIDE, name);
    uint32_t i;
    MLOPS__TRY(add_node(&i, c->t, parent, name, name_len, c->link, (size_t)n));
    int dev = mlops__wtree_dev_index(c->t, st->dev);
    if (dev < 0)
        return dev;
    mlops__wnode *node = &c->t->nodes[i];
    node->type = MLOPS_DATA_SYMLINK;
    node->dev = (uint8_t)dev;
    node->ino = st->ino;
    node->size = (uint64_t)n;
    node->flags = MLOPS__WN_DONE;
    return mlops_oid_hash(&node->id, c->link, (size_t)n);
}

/* Entry k of the batch, stat'ed (or not, for a bad name) by list_dir. */
static int add_entry(scan_ctx *c, uint32_t parent, int dfd, size_t k, unsigned depth)
{
    const char *name = mlops__wstat_batch_name(&c->batch, k);
    size_t len = mlops__wstat_batch_name_len(&c->batch, k);
    const mlops__wstat *st = &c->batch.st[k];
    if (st->err == MLOPS__WSTAT_UNSTATED)
        return skip(c, MLOPS_DATA_NOTICE_BAD_NAME, name);
    if (st->err == ENOENT)
        return 0; /* removed between readdir and stat: as if never there */
    if (st->err)
        return mlops__error_errno(st->err, "cannot stat '%s/%s%s%s'", c->t->path, c->dir.ptr,
                                  c->dir.len ? "/" : "", name);
    if (S_ISLNK(st->mode))
        return add_link(c, parent, dfd, name, len, depth, st);
    if (S_ISDIR(st->mode)) {
        if (c->skip_store && st->dev == c->store_dev && st->ino == c->store_ino)
            return 0; /* the store itself, like .git in a git work tree */
        if (depth + 1 > MLOPS__DATA_DEPTH_MAX)
            return mlops__error_set(MLOPS_EINVALID, "directories nested deeper than %d levels: '%s/%s/%s'",
                                    MLOPS__DATA_DEPTH_MAX, c->t->path, c->dir.ptr, name);
    }
    if (!S_ISREG(st->mode) && !S_ISDIR(st->mode))
        return skip(c, MLOPS_DATA_NOTICE_SPECIAL, name);
    uint32_t i;
    MLOPS__TRY(add_node(&i, c->t, parent, name, len, NULL, 0));
    return set_stat(c->t, i, st);
}

/* A directory that cannot be listed: EPERM naming it, or skipped (never
 * the root: a snapshot of nothing would be a lie). */
static int dir_unreadable(scan_ctx *c, uint32_t i, int err)
{
    if ((err != EACCES && err != EPERM) || !(c->flags & MLOPS_DATA_SKIP_UNREADABLE) || i == 0)
        return mlops__error_errno(err, "cannot read directory '%s%s%s'", c->t->path, c->dir.len ? "/" : "",
                                  c->dir.ptr);
    c->t->nodes[i].flags |= MLOPS__WN_SKIPPED;
    c->t->skipped++;
    return notify(c, MLOPS_DATA_NOTICE_UNREADABLE, c->dir.ptr);
}

/* What a failed listing means (open, fdopendir or the batch): 0 when the
 * directory is skipped (unreadable, with SKIP_UNREADABLE), or the error.
 * The directory is opened with O_NOFOLLOW and checked against the
 * dev/inode its parent's listing reported, so a directory swapped for a
 * symlink to elsewhere is never listed. */
static int listing_failed(scan_ctx *c, uint32_t i, const mlops__wlisting *l)
{
    int e = l->open_err;
    if (e == ENOENT || e == ENOTDIR || e == ELOOP)
        return mlops__error_set(MLOPS_ECONFLICT, "'%s/%s' was removed or replaced during the snapshot", c->t->path,
                                c->dir.ptr);
    if (e == MLOPS__WDIR_REPLACED)
        return mlops__error_set(MLOPS_ECONFLICT, "'%s/%s' was replaced during the snapshot", c->t->path,
                                c->dir.ptr);
    if (e)
        return dir_unreadable(c, i, e);
    if (l->fdopen_err == ENOMEM || l->rc == MLOPS_ENOMEM)
        return mlops__error_oom(); /* the message, if any, was the worker's */
    return mlops__error_errno(l->fdopen_err, "cannot list '%s'", c->t->path);
}

/* Directory i's first round, listed and lstat'ed by the worker ahead of
 * time when it was handed this directory, else here and now. */
static void first_round(scan_ctx *c, uint32_t i, mlops__wlisting *l)
{
    uint32_t queued;
    if (c->pf && mlops__wprefetch_queued(c->pf, &queued)) {
        mlops__wprefetch_take(c->pf, l, &c->batch);
        if (queued == i)
            return;
        if (l->dir) /* never happens in breadth-first order; harmless if it did */
            closedir(l->dir);
    }
    const mlops__wnode *n = &c->t->nodes[i];
    mlops__wlisting_open(l, &c->batch, c->t->root_fd, i == 0 ? "." : c->dir.ptr, c->t->devs[n->dev], n->ino);
    if (mlops__wlisting_ok(l))
        mlops__wstat_batch_run(&c->batch, dirfd(l->dir));
}

/* Hands the directory after i (in scan order) to the worker, if the tree
 * already holds it, starting the worker on first use. */
static int prefetch_next(scan_ctx *c, uint32_t i)
{
    const mlops__wtree *t = c->t;
    if (!c->batch.split)
        return 0; /* one CPU: a worker would only take turns with the scan */
    if (c->next_dir <= i)
        c->next_dir = i + 1;
    while (c->next_dir < t->count && t->nodes[c->next_dir].type != MLOPS_DATA_DIR)
        c->next_dir++;
    if (c->next_dir >= t->count)
        return 0;
    if (!c->pf) {
        MLOPS__TRY(mlops__wprefetch_new(&c->pf, t->root_fd));
        if (!c->pf) {
            c->batch.split = 0; /* no thread to be had: do not try again */
            return 0;
        }
    }
    uint32_t j = c->next_dir;
    MLOPS__TRY(mlops__wtree_relpath(&c->ahead, t, j));
    const mlops__wnode *n = &t->nodes[j];
    return mlops__wprefetch_queue(c->pf, j, c->ahead.ptr, t->devs[n->dev], n->ino);
}

/* Adds directory i's entries in rounds of up to MLOPS__WSTAT_BATCH names
 * (the first already listed and lstat'ed), each added one by one in
 * readdir order, so that notices and the first error are those of a scan
 * that stats each entry as it reads it. */
static int add_listing(scan_ctx *c, uint32_t i, mlops__wlisting *l, unsigned depth)
{
    mlops__wstat_batch *b = &c->batch;
    int dfd = dirfd(l->dir);
    for (;;) {
        for (size_t k = 0; k < b->count; k++)
            MLOPS__TRY(add_entry(c, i, dfd, k, depth));
        /* After the entries read before it, as when each was added on the spot. */
        if (l->read_err)
            return mlops__error_errno(l->read_err, "cannot list directory '%s/%s'", c->t->path, c->dir.ptr);
        if (l->end)
            return 0;
        MLOPS__TRY(mlops__wstat_batch_fill(b, l->dir, &l->end, &l->read_err));
        mlops__wstat_batch_run(b, dfd);
    }
}

static int scan_dir(scan_ctx *c, uint32_t i)
{
    int depth = mlops__wtree_relpath(&c->dir, c->t, i);
    if (depth < 0)
        return depth;
    c->t->nodes[i].u.d.first = c->t->count;
    mlops__wlisting l;
    first_round(c, i, &l);
    int rc = prefetch_next(c, i);
    if (rc == 0 && !mlops__wlisting_ok(&l))
        rc = listing_failed(c, i, &l);
    else if (rc == 0)
        /* Symlinks in this directory are checked at its depth: a link in
         * the root may not climb at all, one in a/b may climb twice. */
        rc = add_listing(c, i, &l, (unsigned)depth);
    if (l.dir)
        closedir(l.dir);
    if (rc < 0 || !l.dir || l.rc)
        return rc;
    mlops__wnode *n = &c->t->nodes[i];
    n->u.d.count = c->t->count - n->u.d.first;
    return mlops__wsort_children(&c->sort, c->t, n->u.d.first, n->u.d.count);
}

/* Breadth first, so that every directory's children are contiguous. */
static int scan_tree(mlops__wtree *t, mlops_store *store, unsigned flags, mlops_data_notice_cb notice,
                     void *payload)
{
    scan_ctx c = { .t = t, .flags = flags, .notice = notice, .payload = payload, .dir = MLOPS__BUF_INIT,
                   .entry = MLOPS__BUF_INIT, .ahead = MLOPS__BUF_INIT };
    mlops__wstat_batch_init(&c.batch);
    const char *store_root = store ? mlops__store_fs_root(store) : NULL;
    struct stat sst;
    if (store_root && stat(store_root, &sst) == 0) {
        c.skip_store = 1;
        c.store_dev = (uint64_t)sst.st_dev;
        c.store_ino = (uint64_t)sst.st_ino;
    }
    c.link = mlops__malloc(MLOPS__DATA_LINK_TARGET_MAX + 2);
    int rc = c.link ? 0 : mlops__error_oom();
    for (uint32_t i = 0; rc == 0 && i < t->count; i++)
        if (t->nodes[i].type == MLOPS_DATA_DIR)
            rc = scan_dir(&c, i);
    mlops__free(c.link);
    /* First: the worker may still be listing with its own batch. */
    mlops__wprefetch_free(c.pf);
    mlops__wstat_batch_dispose(&c.batch);
    mlops__buf_dispose(&c.ahead);
    mlops__wsort_dispose(&c.sort);
    mlops__buf_dispose(&c.dir);
    mlops__buf_dispose(&c.entry);
    return rc;
}

/* ---- the root ------------------------------------------------------------ */

/* A copy of path's directory part ("" if none) and a pointer to its last
 * component (a regular file's path has no trailing slash). */
static char *split_dir(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        return mlops__strdup("");
    return mlops__strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int open_root_file(mlops__wtree *t, const struct stat *st)
{
    const char *base = NULL;
    if (!(t->prefix = split_dir(t->path, &base)))
        return mlops__error_oom();
    size_t len = strlen(base);
    if (len == 0 || len > MLOPS__DATA_ENTRY_NAME_MAX || mlops__data_name_has_control(base, len))
        return mlops__error_set(MLOPS_EINVALID, "'%s': this file name cannot be recorded", t->path);
    /* O_PATH: the file's directory must be searchable, not listable. */
    const char *dir = *t->prefix ? t->prefix : ".";
    if ((t->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return mlops__error_errno(errno, "cannot open directory '%s'", dir);
    uint32_t root, file;
    MLOPS__TRY(add_node(&root, t, MLOPS__WN_NONE, "", 0, NULL, 0));
    MLOPS__TRY(add_node(&file, t, root, base, len, NULL, 0));
    t->nodes[root].type = MLOPS_DATA_DIR;
    t->nodes[root].u.d.first = file;
    t->nodes[root].u.d.count = 1;
    mlops__wstat ws;
    mlops__wstat_from(&ws, st);
    return set_stat(t, file, &ws);
}

static int open_root_dir(mlops__wtree *t, const struct stat *st)
{
    if (!(t->prefix = mlops__strdup(t->path)))
        return mlops__error_oom();
    t->root_fd = open(t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t->root_fd < 0)
        return mlops__error_errno(errno, "cannot open directory '%s'", t->path);
    uint32_t root;
    MLOPS__TRY(add_node(&root, t, MLOPS__WN_NONE, "", 0, NULL, 0));
    mlops__wstat ws;
    mlops__wstat_from(&ws, st);
    return set_stat(t, root, &ws);
}

static int resolve_root(mlops__wtree *t)
{
    char *buf = mlops__malloc(PATH_MAX);
    if (!buf)
        return mlops__error_oom();
    int rc = 0;
    if (!realpath(t->path, buf))
        rc = mlops__error_errno(errno, "cannot resolve '%s'", t->path);
    else if (!(t->real_root = mlops__strdup(buf)))
        rc = mlops__error_oom();
    mlops__free(buf);
    return rc;
}

static int scan_root(mlops__wtree *t, mlops_store *store, unsigned flags, mlops_data_notice_cb notice,
                     void *payload)
{
    struct stat st;
    if (lstat(t->path, &st) < 0)
        return mlops__error_errno(errno, "cannot snapshot '%s'", t->path);
    if (S_ISLNK(st.st_mode))
        return mlops__error_set(MLOPS_EINVALID, "'%s' is a symlink (snapshot its target instead)", t->path);
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return mlops__error_set(MLOPS_EINVALID, "'%s' is neither a regular file nor a directory", t->path);
    MLOPS__TRY(resolve_root(t));
    if (S_ISREG(st.st_mode))
        return open_root_file(t, &st);
    MLOPS__TRY(open_root_dir(t, &st));
    /* Hashing will want the stat cache: it loads meanwhile. */
    if (store && !(flags & MLOPS_DATA_NO_CACHE))
        MLOPS__TRY(mlops__statcache_load_start(&t->cache_loader, store, t->real_root));
    return scan_tree(t, store, flags, notice, payload);
}

int mlops__wtree_scan(mlops__wtree **out, mlops_store *store, const char *path, unsigned flags,
                      mlops_data_notice_cb notice,
                      void *notice_payload)
{
    if (!out || !path)
        return mlops__error_set(MLOPS_EINVALID, "wtree_scan: NULL argument");
    *out = NULL;
    if (!*path)
        return mlops__error_set(MLOPS_EINVALID, "snapshot: empty path");
    /* Before anything is looked at: a file modified after this instant is
     * never trusted from the cache this scan will produce. */
    int64_t taken = mlops__statcache_now_ns();
    mlops__wtree *t = mlops__calloc(1, sizeof *t);
    if (!t)
        return mlops__error_oom();
    t->root_fd = -1;
    t->taken_ns = taken;
    int rc = (t->path = mlops__strdup(path)) ? 0 : mlops__error_oom();
    if (rc == 0)
        rc = scan_root(t, store, flags, notice, notice_payload);
    if (rc < 0) {
        mlops__wtree_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void mlops__wtree_free(mlops__wtree *t)
{
    if (!t)
        return;
    if (t->root_fd >= 0)
        close(t->root_fd);
    if (t->cache_loader)
        (void)mlops__statcache_load_finish(NULL, t->cache_loader);
    mlops__free(t->nodes);
    mlops__free(t->names);
    mlops__free(t->path);
    mlops__free(t->prefix);
    mlops__free(t->real_root);
    mlops__free(t->dir_index);
    mlops__free(t);
}

/* ---- walking in tree order ----------------------------------------------- */

void mlops__wtree_walk_init(mlops__wtree_walk *w, const mlops__wtree *t)
{
    memset(w, 0, sizeof *w);
    w->t = t;
}

static int walk_push(mlops__wtree_walk *w, uint32_t dir)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        uint32_t *d = mlops__realloc(w->dir, cap * sizeof *d);
        if (d)
            w->dir = d;
        uint32_t *n = d ? mlops__realloc(w->next, cap * sizeof *n) : NULL;
        if (n)
            w->next = n;
        size_t *p = n ? mlops__realloc(w->plen, cap * sizeof *p) : NULL;
        if (!p)
            return mlops__error_oom();
        w->plen = p;
        w->cap = cap;
    }
    w->dir[w->depth] = dir;
    w->next[w->depth] = w->t->nodes[dir].u.d.first;
    w->plen[w->depth] = w->path.len;
    w->depth++;
    return 0;
}

int mlops__wtree_walk_next(mlops__wtree_walk *w, uint32_t *node)
{
    const mlops__wtree *t = w->t;
    if (!w->started) {
        w->started = 1;
        MLOPS__TRY(mlops__buf_put(&w->path, "", 0));
        MLOPS__TRY(walk_push(w, 0));
    }
    while (w->depth) {
        size_t top = w->depth - 1;
        const mlops__wnode *d = &t->nodes[w->dir[top]];
        if (w->next[top] == d->u.d.first + d->u.d.count) {
            w->depth--;
            continue;
        }
        uint32_t i = w->next[top]++;
        const mlops__wnode *n = &t->nodes[i];
        w->path.len = w->plen[top];
        if (w->path.len)
            MLOPS__TRY(mlops__buf_put(&w->path, "/", 1));
        MLOPS__TRY(mlops__buf_put(&w->path, mlops__wtree_name(t, n), n->name_len));
        if (n->type == MLOPS_DATA_DIR && n->u.d.count)
            MLOPS__TRY(walk_push(w, i));
        *node = i;
        return 1;
    }
    return 0;
}

void mlops__wtree_walk_dispose(mlops__wtree_walk *w)
{
    mlops__free(w->dir);
    mlops__free(w->next);
    mlops__free(w->plen);
    mlops__buf_dispose(&w->path);
    memset(w, 0, sizeof *w);
}
