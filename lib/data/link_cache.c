/*
 * Checkout of one file, on any thread: a temp file in the destination
 * directory published atomically, filled from the store (COPY), cloned
 * (REFLINK) or replaced by a hard link (HARDLINK) to a raw copy kept in
 * the link cache.
 *
 * Publishing: a new file is an anonymous O_TMPFILE given its name with
 * linkat, which never replaces anything; when the name is taken (a file
 * being replaced, or someone faster), the file gets a random temp name and
 * renameat moves it over the old one. Readers see the old file or the new
 * one, never a partial one, and only bytes whose hash was verified are
 * ever published (the reader's last read checks the hash before the link).
 *
 * The link cache: raw, read-only copies of file objects in the store's
 * directory, <store>/data-cache/<xx>/<62 hex> (mode 0444) and a separate
 * "<62 hex>.x" (0555) for executables, since hard links share one mode.
 * Each is made once, atomically (temp file + link, no clobber), from
 * verified bytes. It is derived data and may be removed at any time (rm -r
 * data-cache): the next checkout rebuilds what it needs, and a checkout
 * running at that moment fails cleanly. mlops_data_prune_cache
 * (cache_prune.c) removes copies in a way a running checkout survives: a
 * copy gone before it is linked or cloned is made again, and a temp file
 * is locked while written. gc and verify only look under objects/, so
 * they neither count nor remove it. A copy is used when it is
 * a regular file of the expected size, exact read-only mode and the
 * sentinel mtime CACHE_MTIME; one that fails (someone chmod-ed a
 * checked-out link to edit it, or root wrote through one, which 0444 does
 * not stop) is taken as modified and replaced by a fresh copy from the
 * store (files still linked to the old one keep it).
 *
 * Checkout never writes through an inode that is already at a name, its
 * metadata included: a file there may be a hard link to something outside
 * the destination or to a copy of this cache. A file whose bytes match but
 * whose executable bit does not is therefore republished like any changed
 * file, never chmod-ed in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#endif

#include "checkout.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "store/store_internal.h"

#define CACHE_DIR MLOPS__LINK_CACHE_DIR

struct mlops__link_cache {
    int rootfd; /* data-cache/ */
    dev_t dev;
    char *path; /* for messages */
};

/* How a temp file takes its name. */
#define PUB_REPLACE 0 /* rename over whatever is there */
#define PUB_NEW 1     /* the name looked free: link; replace if someone was faster */
#define PUB_KEEP 2    /* link; if the name is taken keep what is there (-EEXIST) */

typedef struct tmpf {
    int fd;
    int anon;      /* O_TMPFILE: nameless until published */
    char name[48]; /* the temp name in the directory, "" when none */
} tmpf;

void mlops__co_name(char out[256], const mlops__tree_entry *e)
{
    memcpy(out, e->name, e->name_len);
    out[e->name_len] = '\0';
}

int mlops__co_tmp_name(char out[48])
{
    char hex[17];
    int e = mlops__fs_random_hex(hex, 8);
    if (e == 0)
        snprintf(out, 48, MLOPS__CO_TMP_PREFIX "%s", hex);
    return e;
}

int mlops__co_open_existing(int dirfd, const char *name, dev_t dev, ino_t ino, struct stat *st)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st->st_mode) || (ino && (st->st_dev != dev || st->st_ino != ino))) {
        close(fd);
        return -ESTALE;
    }
    return fd;
}

int mlops__co_exec_matches(const struct stat *st, const mlops__tree_entry *e)
{
    return ((st->st_mode & S_IXUSR) != 0) == ((e->flags & MLOPS__TREE_EXEC) != 0);
}

static const char *sep(const char *dir)
{
    return *dir ? "/" : "";
}

/* ---- temp files ------------------------------------------------------------ */

/* A new file in dirfd that nobody can see yet. 0 or -errno. */
static int tmp_open(mlops__co_ctx *c, tmpf *t, int dirfd, mode_t mode)
{
    t->fd = -1;
    t->anon = 0;
    t->name[0] = '\0';
#ifdef O_TMPFILE
    if (!atomic_load(&c->no_tmpfile)) {
        t->fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
        if (t->fd >= 0) {
            t->anon = 1;
            return 0;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return -errno;
        atomic_store(&c->no_tmpfile, 1); /* not on this filesystem */
    }
#endif
    for (int attempt = 0; attempt < 8; attempt++) {
        int e = mlops__co_tmp_name(t->name);
        if (e < 0)
            return e;
        t->fd = openat(dirfd, t->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (t->fd >= 0)
            return 0;
        if (errno != EEXIST) {
            t->name[0] = '\0';
            return -errno;
        }
    }
    t->name[0] = '\0';
    return -EEXIST;
}

/* tmp_open for the link cache: locked (flock) for as long as it is open,
 * since mlops_data_prune_cache removes a temp name there only if it can
 * take the lock (its writer died). */
static int tmp_open_locked(mlops__co_ctx *c, tmpf *t, int dirfd, mode_t mode)
{
    int e = tmp_open(c, t, dirfd, mode);
    if (e == 0)
        (void)flock(t->fd, LOCK_EX | LOCK_NB); /* advisory: without flock, a prune may take the name (retried) */
    return e;
}

/* Gives the temp file the name `name` in dirfd (see PUB_*). 0 or -errno. */
static int tmp_publish(tmpf *t, int dirfd, const char *name, int how)
{
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
    /* A named temp is renamed even onto a free name: a link would leave
     * the temp name to unlink, which moves the file's ctime once more. */
    if (how == PUB_KEEP || (how == PUB_NEW && t->anon)) {
        int r = t->anon ? linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) : linkat(dirfd, t->name, dirfd, name, 0);
        if (r == 0 || errno != EEXIST || how == PUB_KEEP)
            return r == 0 ? 0 : -errno;
    }
    if (t->anon) {
        int e = mlops__co_tmp_name(t->name);
        if (e < 0)
            return e;
        if (linkat(AT_FDCWD, proc, dirfd, t->name, AT_SYMLINK_FOLLOW) < 0) {
            t->name[0] = '\0';
            return -errno;
        }
    }
    if (renameat(dirfd, t->name, dirfd, name) < 0)
        return -errno;
    t->name[0] = '\0';
    return 0;
}

/* Closes the file and removes its temp name if it still has one. */
static void tmp_close(tmpf *t, int dirfd)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->name[0])
        unlinkat(dirfd, t->name, 0);
    t->fd = -1;
    t->name[0] = '\0';
}

/* Streams e's object into fd; the last read verifies the hash. */
static int stream(mlops__co_ctx *c, mlops__co_worker *w, const mlops__tree_entry *e, int fd, const char *dir,
                  const char *name)
{
    mlops_object_reader *r = NULL;
    MLOPS__TRY(mlops_object_reader_open(&r, c->store, &e->id));
    int rc = 0;
    uint64_t size = mlops_object_reader_size(r);
    if (size != e->size)
        rc = mlops__error_set(MLOPS_EINVALID, "invalid manifest: '%s%s%s' is said to hold %llu bytes, its object %llu",
                              dir, sep(dir), name, (unsigned long long)e->size, (unsigned long long)size);
    while (rc == 0) {
        size_t n = 0;
        rc = mlops_object_reader_read(&n, r, w->buf, w->cap);
        if (rc < 0 || n == 0)
            break;
        int err = mlops__fs_write_all(fd, w->buf, n);
        if (err < 0)
            rc = mlops__error_errno(-err, "cannot write '%s%s%s'", dir, sep(dir), name);
    }
    mlops_object_reader_free(r);
    return rc;
}

static int sync_file(mlops__co_ctx *c, int fd, const char *dir, const char *name)
{
    int err = c->full ? mlops__fs_fsync(fd) : 0;
    return err < 0 ? mlops__error_errno(-err, "cannot fsync '%s%s%s'", dir, sep(dir), name) : 0;
}

static void keep_key(mlops__co_ctx *c, size_t ordinal, const struct stat *st)
{
    if (!c->keys)
        return;
    mlops__stat_key_from(&c->keys[ordinal], st);
    c->have_key[ordinal] = 1;
}

/* ---- the link cache ------------------------------------------------------------ */

int mlops__link_cache_open(mlops__link_cache **out, mlops_store *store)
{
    const char *root = mlops__store_fs_root(store);
    if (!root)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "hard links need a store in a directory (fs backend)");
    MLOPS__TRY(mlops__store_check_writable(store));
    mlops__link_cache *lc = mlops__calloc(1, sizeof *lc);
    size_t n = strlen(root) + sizeof CACHE_DIR + 1;
    char *path = mlops__malloc(n);
    if (!lc || !path) {
        mlops__free(lc);
        mlops__free(path);
        return mlops__error_oom();
    }
    snprintf(path, n, "%s/" CACHE_DIR, root);
    lc->path = path;
    lc->rootfd = -1;
    struct stat st;
    int rc = 0;
    if (mkdir(path, 0777) < 0 && errno != EEXIST)
        rc = mlops__error_errno(errno, "cannot create '%s'", path);
    if (rc == 0 && (lc->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        rc = mlops__error_errno(errno, "cannot open '%s'", path);
    if (rc == 0 && fstat(lc->rootfd, &st) < 0)
        rc = mlops__error_errno(errno, "cannot stat '%s'", path);
    if (rc < 0) {
        mlops__link_cache_free(lc);
        return rc;
    }
    lc->dev = st.st_dev;
    *out = lc;
    return 0;
}

void mlops__link_cache_free(mlops__link_cache *lc)
{
    if (!lc)
        return;
    if (lc->rootfd >= 0)
        close(lc->rootfd);
    mlops__free(lc->path);
    mlops__free(lc);
}

dev_t mlops__link_cache_dev(const mlops__link_cache *lc)
{
    return lc->dev;
}

/* One copy: its fanout directory data-cache/<xx>, opened O_NOFOLLOW (a
 * symlink planted there is never followed), and its name in it. */
typedef struct cached {
    int fan;
    char name[68]; /* "<62 hex>" or "<62 hex>.x" */
    char rel[72];  /* "xx/<name>", for messages */
    struct stat st;
} cached;

static mode_t cache_mode(int exec)
{
    return exec ? 0555 : 0444;
}

/*
 * The mtime every copy is given before it is published. A same-size write
 * through any link to a copy (root ignores 0444) keeps its size and mode,
 * but every write moves mtime to the present, and putting it back takes a
 * deliberate utimensat; a copy whose mtime is not this one is taken as
 * modified. ctime cannot serve: link(), which every hard-link checkout
 * does, moves it. 1 s + 1 ns after the epoch: no file written or extracted
 * in practice carries it. A filesystem that keeps whole seconds stores it
 * as 1 s, which is as telling.
 */
static const struct timespec CACHE_MTIME = { 1, 1 };

static int cache_usable(const struct stat *st, const mlops__tree_entry *e, int exec)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_size == e->size && (st->st_mode & 07777) == cache_mode(exec) &&
           st->st_mtim.tv_sec == CACHE_MTIME.tv_sec &&
           (st->st_mtim.tv_nsec == CACHE_MTIME.tv_nsec || st->st_mtim.tv_nsec == 0);
}

static void cached_close(cached *k)
{
    if (k->fan >= 0)
        close(k->fan);
    k->fan = -1;
}

static int fan_open(mlops__link_cache *lc, cached *k, const mlops_oid *id, int exec)
{
    char hex[MLOPS_OID_HEXSZ + 1], fan[3];
    mlops_oid_tohex(hex, id);
    snprintf(fan, sizeof fan, "%.2s", hex);
    snprintf(k->name, sizeof k->name, "%s%s", hex + 2, exec ? ".x" : "");
    snprintf(k->rel, sizeof k->rel, "%s/%s", fan, k->name);
    k->fan = openat(lc->rootfd, fan, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (k->fan < 0 && errno == ENOENT && (mkdirat(lc->rootfd, fan, 0777) == 0 || errno == EEXIST))
        k->fan = openat(lc->rootfd, fan, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (k->fan < 0)
        return mlops__error_errno(errno, "cannot open '%s/%s'", lc->path, fan);
    return 0;
}

/* Writes the copy from the store (replace: over an unusable one). 1 when
 * its temp name was removed meanwhile (a prune taking it for a crash's
 * leftover before the lock was held): the caller tries again. */
static int cache_make(mlops__link_cache *lc, mlops__co_ctx *c, mlops__co_worker *w, const mlops__tree_entry *e,
                      int exec, const cached *k, int replace)
{
    tmpf t;
    int rc = 0, err = tmp_open_locked(c, &t, k->fan, cache_mode(exec));
    if (err < 0)
        rc = mlops__error_errno(-err, "cannot create a file beside '%s/%s'", lc->path, k->rel);
    if (rc == 0)
        rc = stream(c, w, e, t.fd, lc->path, k->rel);
    /* Exactly 0444/0555 whatever the umask: the mode is how a copy that
     * someone made writable is recognised. */
    if (rc == 0 && fchmod(t.fd, cache_mode(exec)) < 0)
        rc = mlops__error_errno(errno, "cannot set the mode of '%s/%s'", lc->path, k->rel);
    /* After the last write, which would move it: see CACHE_MTIME. */
    const struct timespec times[2] = { { 0, UTIME_OMIT }, CACHE_MTIME };
    if (rc == 0 && futimens(t.fd, times) < 0)
        rc = mlops__error_errno(errno, "cannot set the mtime of '%s/%s'", lc->path, k->rel);
    if (rc == 0)
        rc = sync_file(c, t.fd, lc->path, k->rel);
    if (rc == 0) {
        err = tmp_publish(&t, k->fan, k->name, replace ? PUB_REPLACE : PUB_KEEP);
        if (err == -ENOENT && t.name[0])
            rc = 1;
        else if (err < 0 && err != -EEXIST) /* EEXIST: made by someone else meanwhile */
            rc = mlops__error_errno(-err, "cannot publish '%s/%s'", lc->path, k->rel);
    }
    tmp_close(&t, k->fan);
    return rc;
}

/* Makes sure the raw copy of e exists and is usable; k->st is its stat.
 * On success the caller closes k. */
static int cache_get(mlops__link_cache *lc, mlops__co_ctx *c, mlops__co_worker *w, const mlops__tree_entry *e,
                     int exec, cached *k)
{
    MLOPS__TRY(fan_open(lc, k, &e->id, exec));
    int rc = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        int replace = 0;
        if (fstatat(k->fan, k->name, &k->st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (cache_usable(&k->st, e, exec))
                return 0;
            replace = 1;
        } else if (errno != ENOENT) {
            rc = mlops__error_errno(errno, "cannot stat '%s/%s'", lc->path, k->rel);
            break;
        }
        if ((rc = cache_make(lc, c, w, e, exec, k, replace)) < 0)
            break;
        rc = 0;
    }
    if (rc == 0)
        rc = mlops__error_set(MLOPS_EIO, "'%s/%s' keeps changing", lc->path, k->rel);
    cached_close(k);
    return rc;
}

/* 1 if fd now holds a clone of e's copy, 0 if this filesystem cannot
 * clone it (the caller copies), or an error. */
static int cache_clone(mlops__link_cache *lc, mlops__co_ctx *c, mlops__co_worker *w, const mlops__tree_entry *e,
                       int fd)
{
#ifdef FICLONE
    cached k;
    memset(&k, 0, sizeof k);
    int src = -1, err = ENOENT;
    /* ENOENT: the copy was removed meanwhile (mlops_data_prune_cache): again. */
    for (int attempt = 0; attempt < 3 && src < 0 && err == ENOENT; attempt++) {
        MLOPS__TRY(cache_get(lc, c, w, e, 0, &k));
        src = openat(k.fan, k.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        err = errno;
        cached_close(&k);
    }
    if (src < 0)
        return mlops__error_errno(err, "cannot open '%s/%s'", lc->path, k.rel);
    int r = ioctl(fd, FICLONE, src);
    err = errno;
    close(src);
    if (r == 0)
        return 1;
    if (err == EOPNOTSUPP || err == ENOTTY || err == EXDEV || err == EINVAL || err == ENOSYS || err == EPERM)
        return 0;
    return mlops__error_errno(err, "cannot clone '%s/%s'", lc->path, k.rel);
#else
    (void)lc, (void)c, (void)w, (void)e, (void)fd;
    return 0;
#endif
}

/* Links the copy to dirfd/name. 0 or -errno. */
static int link_copy(const cached *k, int dirfd, const char *name, int name_free)
{
    if (name_free && linkat(k->fan, k->name, dirfd, name, 0) == 0)
        return 0;
    if (name_free && errno != EEXIST)
        return -errno;
    char tmp[48];
    int e = mlops__co_tmp_name(tmp);
    if (e < 0)
        return e;
    if (linkat(k->fan, k->name, dirfd, tmp, 0) < 0)
        return -errno;
    e = renameat(dirfd, tmp, dirfd, name) < 0 ? -errno : 0;
    /* Also after success: renaming a link over another link to the same
     * file does nothing and leaves the temp name. */
    unlinkat(dirfd, tmp, 0);
    return e;
}

/* ---- one file ------------------------------------------------------------------- */

static int place_hardlink(mlops__co_ctx *c, mlops__co_worker *w, const mlops__co_job *j, const char *name,
                          mlops__co_done *d)
{
    const mlops__tree_entry *e = j->e;
    const char *dir = j->dir->path;
    int exec = (e->flags & MLOPS__TREE_EXEC) != 0;
    cached k;
    struct stat st;
    int err = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        MLOPS__TRY(cache_get(c->links, c, w, e, exec, &k));
        /* k is a usable copy: a dest file linked to a copy that failed the
         * check (modified through some link) has another inode now, since
         * cache_get replaced that copy, and is relinked below. */
        if (j->ino && j->dev == k.st.st_dev && j->ino == k.st.st_ino) {
            cached_close(&k);
            d->unchanged = 1;
            keep_key(c, j->ordinal, &k.st);
            return 0;
        }
        err = link_copy(&k, j->dir->fd, name, j->name_free);
        /* EMLINK: the copy has all the links it can take: a fresh one, and
         * again. ENOENT: the copy was removed meanwhile: again. */
        int rc = err == -EMLINK ? cache_make(c->links, c, w, e, exec, &k, 1) : 0;
        cached_close(&k);
        if (rc < 0)
            return rc;
        if (err != -EMLINK && err != -ENOENT)
            break;
    }
    if (err == -EXDEV)
        return mlops__error_set(MLOPS_EUNSUPPORTED,
                                "hard links need the destination on the store's filesystem ('%s%s%s' is not)", dir,
                                sep(dir), name);
    if (err < 0)
        return mlops__error_errno(-err, "cannot link '%s%s%s'", dir, sep(dir), name);
    if (fstatat(j->dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return mlops__error_errno(errno, "cannot stat '%s%s%s'", dir, sep(dir), name);
    keep_key(c, j->ordinal, &st);
    d->written = d->linked = 1;
    d->bytes = e->size;
    return 0;
}

static int place_copy(mlops__co_ctx *c, mlops__co_worker *w, const mlops__co_job *j, const char *name,
                      int name_free, mlops__co_done *d)
{
    const mlops__tree_entry *e = j->e;
    const char *dir = j->dir->path;
    tmpf t;
    int err = tmp_open(c, &t, j->dir->fd, e->flags & MLOPS__TREE_EXEC ? 0755 : 0644);
    if (err < 0)
        return mlops__error_errno(-err, "cannot create a file in '%s'", *dir ? dir : ".");
    int rc = 0, cloned = 0;
    if (c->mode == MLOPS_DATA_CHECKOUT_REFLINK && c->links && !atomic_load(&c->no_reflink)) {
        rc = cache_clone(c->links, c, w, e, t.fd);
        cloned = rc > 0;
        if (rc == 0)
            atomic_store(&c->no_reflink, 1); /* one failure says it for the whole checkout */
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0 && !cloned)
        rc = stream(c, w, e, t.fd, dir, name);
    if (rc == 0)
        rc = sync_file(c, t.fd, dir, name);
    if (rc == 0 && (err = tmp_publish(&t, j->dir->fd, name, name_free ? PUB_NEW : PUB_REPLACE)) < 0)
        rc = mlops__error_errno(-err, "cannot create '%s%s%s'", dir, sep(dir), name);
    struct stat st;
    if (rc == 0 && fstat(t.fd, &st) < 0) /* after the link: it moves ctime */
        rc = mlops__error_errno(errno, "cannot stat '%s%s%s'", dir, sep(dir), name);
    tmp_close(&t, j->dir->fd);
    if (rc < 0)
        return rc;
    keep_key(c, j->ordinal, &st);
    d->written = 1;
    d->linked = (unsigned)cloned;
    d->bytes = e->size;
    return 0;
}

/* 1 if the regular file at name holds e's content with e's executable
 * bit (then settled), 0 if it must be rewritten, or an error. */
static int verify(mlops__co_ctx *c, mlops__co_worker *w, const mlops__co_job *j, const char *name,
                  mlops__co_done *d)
{
    const mlops__tree_entry *e = j->e;
    struct stat before, after;
    int fd = mlops__co_open_existing(j->dir->fd, name, j->dev, j->ino, &before);
    if (fd < 0)
        return 0; /* unreadable or replaced meanwhile: rewrite */
    if (!mlops__co_exec_matches(&before, e)) {
        close(fd); /* rewritten whatever its bytes: see the top of the file */
        return 0;
    }
    mlops__sha256 h = { NULL };
    int rc = mlops__sha256_init(&h);
    uint64_t total = 0;
    while (rc == 0) {
        ssize_t n = read(fd, w->buf, w->cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? 1 : 0; /* a read error: rewrite */
            break;
        }
        total += (uint64_t)n;
        rc = mlops__sha256_update(&h, w->buf, (size_t)n);
    }
    mlops_oid got;
    /* The mode is looked at again after the reads: a chmod meanwhile is
     * not one to keep. */
    int same = rc == 0 && total == e->size && mlops__sha256_final(&h, got.id) == 0 &&
               mlops_oid_cmp(&got, &e->id) == 0 && fstat(fd, &after) == 0 && after.st_size == before.st_size &&
               after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
               mlops__co_exec_matches(&after, e);
    mlops__sha256_dispose(&h);
    close(fd);
    if (rc < 0)
        return rc;
    if (same) {
        keep_key(c, j->ordinal, &after);
        d->unchanged = 1;
    }
    return same;
}

int mlops__co_place(mlops__co_ctx *c, mlops__co_worker *w, const mlops__co_job *j, mlops__co_done *d)
{
    char name[256];
    mlops__co_name(name, j->e);
    if (c->mode == MLOPS_DATA_CHECKOUT_HARDLINK)
        return place_hardlink(c, w, j, name, d);
    if (j->kind == MLOPS__CO_VERIFY) {
        int r = verify(c, w, j, name, d);
        if (r != 0)
            return r < 0 ? r : 0;
    }
    return place_copy(c, w, j, name, j->kind == MLOPS__CO_VERIFY ? 0 : j->name_free, d);
}
