/*
 * fs backend: object blobs under objects/xx/<62 hex>.
 *
 * A blob is written into a fresh temp file in tmp/ (same filesystem as
 * objects/, so link() works) and published with link(tmp, final): link
 * never replaces an existing name, so a concurrent writer of the same
 * content simply finds it there (EEXIST is success: same id, same bytes),
 * and a reader can never see a partially written file under a final name.
 * A crash leaves at most a temp file in tmp/, which is never reported as an
 * object.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fs.h"
#include "fs_internal.h"
#include "store/store_internal.h"

/* Large blobs: hand dirty pages to the disk every few MiB so that the
 * commit point's fsync finds little left to do (what makes a 1 GiB put cost
 * about the same as `cp` + fsync instead of write-everything-then-wait). */
#define WRITEBACK_STEP ((uint64_t)8 << 20)
/* At the commit, blobs from this size on (chunks of a chunked put, say) go
 * to writeback too, so that a thousand of them do not all wait for the
 * commit point; smaller ones are not worth a system call each. */
#define WRITEBACK_MIN ((uint64_t)256 << 10)

typedef struct fs_writer {
    int fd;
    uint64_t size;
    uint64_t kicked; /* bytes already handed to writeback */
    char *tmp;       /* temp name, or a label for an anonymous file */
    int anon;        /* O_TMPFILE: nothing to unlink, link by fd */
} fs_writer;

typedef struct fs_reader {
    int fd;
} fs_reader;

void mlops__fsb_object_rel(char out[80], const mlops_oid *id)
{
    char hex[MLOPS_OID_HEXSZ + 1];
    mlops_oid_tohex(hex, id);
    memcpy(out, "objects/", 8);
    out[8] = hex[0];
    out[9] = hex[1];
    out[10] = '/';
    memcpy(out + 11, hex + 2, MLOPS_OID_HEXSZ - 2 + 1);
}

static char *object_path(mlops__fsb *fs, const mlops_oid *id)
{
    char rel[80];
    mlops__fsb_object_rel(rel, id);
    return mlops__fsb_path(fs, "%s", rel);
}

/* 1 and *st filled if the blob exists, 0 if not, or an error. */
static int stat_object(mlops_backend *b, const mlops_oid *id, struct stat *st)
{
    char *path = object_path(mlops__fsb_of(b), id);
    if (!path)
        return mlops__error_oom();
    int rc = 1;
    if (stat(path, st) < 0)
        rc = errno == ENOENT || errno == ENOTDIR ? 0 : mlops__error_errno(errno, "cannot stat '%s'", path);
    mlops__free(path);
    return rc;
}

static int fs_obj_exists(mlops_backend *b, const mlops_oid *id)
{
    struct stat st;
    return stat_object(b, id, &st);
}

static int fs_obj_stat(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size, int64_t *mtime_sec)
{
    struct stat st;
    int rc = stat_object(b, id, &st);
    if (rc == 0) {
        char hex[MLOPS_OID_HEXSZ + 1];
        mlops_oid_tohex(hex, id);
        return mlops__error_set(MLOPS_ENOTFOUND, "object %s not found", hex);
    }
    if (rc < 0)
        return rc;
    if (stored_size)
        *stored_size = (uint64_t)st.st_size;
    if (mtime_sec)
        *mtime_sec = (int64_t)st.st_mtime;
    return 0;
}

/* 1 if an anonymous temp file was opened; 0 to fall back to a named one. */
static int open_anonymous(mlops__fsb *fs, fs_writer *w)
{
#ifdef O_TMPFILE
    if (!fs->use_tmpfile)
        return 0;
    char *dir = mlops__fsb_path(fs, "tmp");
    if (!dir)
        return mlops__error_oom();
    w->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
    if (w->fd < 0) {
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
            fs->use_tmpfile = 0; /* not on this filesystem: stop trying */
        mlops__free(dir);
        return 0;
    }
    w->anon = 1;
    w->tmp = dir; /* for messages: the file lives (nameless) in tmp/ */
    return 1;
#else
    (void)fs;
    (void)w;
    return 0;
#endif
}

static int open_temp(mlops__fsb *fs, fs_writer *w)
{
    int anon = open_anonymous(fs, w);
    if (anon != 0)
        return anon < 0 ? anon : 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        char hex[33];
        int e = mlops__fs_random_hex(hex, 16);
        if (e < 0)
            return mlops__error_errno(-e, "cannot get random bytes");
        mlops__free(w->tmp);
        w->tmp = mlops__fsb_path(fs, "tmp/" MLOPS__FSB_TMP_OBJECT "%s", hex);
        if (!w->tmp)
            return mlops__error_oom();
        /* 0444: a published blob is immutable; nobody should open it for
         * writing by accident. */
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (w->fd >= 0)
            return 0;
        if (errno == ENOENT) {
            /* tmp/ was removed (by hand): recreate it and try again. */
            char *dir = mlops__fsb_path(fs, "tmp");
            if (!dir)
                return mlops__error_oom();
            e = mlops__fs_mkdir_p(dir);
            mlops__free(dir);
            if (e < 0)
                return mlops__error_errno(-e, "cannot create '%s/tmp'", fs->root);
            continue;
        }
        if (errno != EEXIST)
            return mlops__error_errno(errno, "cannot create '%s'", w->tmp);
    }
    return mlops__error_set(MLOPS_EIO, "cannot create a temp file in '%s/tmp'", fs->root);
}

static void writer_release(fs_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp && !w->anon)
        unlink(w->tmp);
    mlops__free(w->tmp);
    mlops__free(w);
}

static int fs_obj_write_open(mlops_backend *b, void **out_w)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_check_writable(fs));
    fs_writer *w = mlops__calloc(1, sizeof *w);
    if (!w)
        return mlops__error_oom();
    w->fd = -1;
    int rc = open_temp(fs, w);
    if (rc < 0) {
        mlops__free(w->tmp);
        w->tmp = NULL; /* nothing of ours at that path */
        writer_release(w);
        return rc;
    }
    *out_w = w;
    return 0;
}

static void start_writeback(fs_writer *w, int all)
{
#ifdef SYNC_FILE_RANGE_WRITE
    uint64_t len = w->size - w->kicked;
    if (len == 0 || (!all && len < WRITEBACK_STEP))
        return;
    /* Only a hint: if it fails, the final fsync does the work. */
    (void)sync_file_range(w->fd, (off_t)w->kicked, (off_t)len, SYNC_FILE_RANGE_WRITE);
    w->kicked = w->size;
#else
    (void)w;
    (void)all;
#endif
}

static int fs_obj_write(mlops_backend *b, void *wp, const void *data, size_t len)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    fs_writer *w = wp;
    if (w->fd < 0)
        return mlops__error_set(MLOPS_EINVALID, "object writer is closed");
    int e = mlops__fs_write_all(w->fd, data, len);
    if (e < 0)
        return mlops__error_errno(-e, "cannot write '%s'", w->tmp);
    w->size += len;
    if (fs->durability != MLOPS_DURABILITY_NONE)
        start_writeback(w, 0);
    return 0;
}

static int make_fanout_dir(const char *final)
{
    char *dir = mlops__strndup(final, strlen(final) - (MLOPS_OID_HEXSZ - 2) - 1);
    if (!dir)
        return mlops__error_oom();
    /* One level only: if objects/ itself is gone, the store was removed
     * under us and must not quietly come back as an unformatted copy. */
    int rc = mkdir(dir, 0777) < 0 && errno != EEXIST ? mlops__error_errno(errno, "cannot create directory '%s'", dir) : 0;
    mlops__free(dir);
    return rc;
}

/* One attempt at publishing: link() never clobbers; a filesystem without
 * hard links gets rename(), and replacing an existing blob there is
 * harmless since it holds the very same bytes. Returns 0 or -errno. */
/* The blob already under final has the wrong size: damaged (a torn write
 * after a power loss, a truncation). Ours holds the same id's true bytes,
 * so replacing it is safe and repairs the store. 0 or -errno. */
static int replace_damaged(fs_writer *w, const char *final)
{
    if (!w->anon)
        return mlops__fs_rename(w->tmp, final);
    char rnd[17];
    int e = mlops__fs_random_hex(rnd, 8);
    if (e < 0)
        return e;
    size_t n = strlen(final) + 32;
    char *named = mlops__malloc(n);
    if (!named)
        return -ENOMEM;
    snprintf(named, n, "%s" MLOPS__FSB_REPAIR "%s", final, rnd);
    e = mlops__fs_link_fd(w->fd, named);
    if (e == 0 && (e = mlops__fs_rename(named, final)) < 0)
        unlink(named);
    mlops__free(named);
    return e;
}

/* -EAGAIN: the blob that was in the way is gone (gc removed it between
 * our link and our look at it): link again. */
static int publish_once(fs_writer *w, const char *final, int *exists)
{
    int e = w->anon ? mlops__fs_link_fd(w->fd, final) : mlops__fs_link(w->tmp, final);
    struct stat st;
    if (e == -EEXIST && stat(final, &st) < 0)
        return errno == ENOENT ? -EAGAIN : -errno;
    if (e == -EEXIST && (uint64_t)st.st_size != w->size) {
        e = replace_damaged(w, final);
        if (e == 0 && !w->anon) {
            mlops__free(w->tmp);
            w->tmp = NULL; /* renamed: nothing left to unlink */
        }
        return e;
    }
    if (e == -EEXIST) {
        /* Same id, same bytes: someone was faster. Refresh its time so
         * gc's grace period covers the writer that is about to reference
         * it again; best effort (another user's file), unless it is gone. */
        if (utimensat(AT_FDCWD, final, NULL, 0) < 0 && errno == ENOENT)
            return -EAGAIN;
        *exists = 1;
        return 0;
    }
    if (!w->anon && (e == -EPERM || e == -EOPNOTSUPP || e == -ENOSYS)) {
        e = mlops__fs_rename(w->tmp, final);
        if (e == 0) {
            mlops__free(w->tmp);
            w->tmp = NULL; /* nothing left to unlink */
        }
    }
    return e;
}

/* *created is set when the fanout directory had to be made. */
static int publish(fs_writer *w, const char *final, int *exists, int *created)
{
    int e = -EAGAIN;
    for (int attempt = 0; attempt < 4 && e == -EAGAIN; attempt++) {
        e = publish_once(w, final, exists);
        if (e == -ENOENT && !*created) {
            MLOPS__TRY(make_fanout_dir(final));
            *created = 1;
            e = -EAGAIN;
        }
    }
    if (e < 0)
        return mlops__error_errno(-e, "cannot publish '%s' as '%s'", w->tmp, final);
    return 0;
}

/* FULL mode: the object and its directory entries are durable now. The
 * object is already published, so nothing here may fail for lack of
 * memory: final is cut in place (the caller frees it next). */
static int make_durable(mlops__fsb *fs, char *final, int exists, int created)
{
    if (exists)
        MLOPS__TRY(mlops__fsb_fsync_file(final, 0)); /* another writer's, maybe unsynced */
    size_t root_len = strlen(fs->root);
    final[strlen(final) - (MLOPS_OID_HEXSZ - 2) - 1] = '\0';
    /* With a new fanout dir, objects/ needs its entry synced too. */
    return mlops__fsb_fsync_dirs_up_in(final, created ? root_len + 1 + 7 : strlen(final));
}

static int fs_obj_write_commit(mlops_backend *b, void *wp, const mlops_oid *id)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    fs_writer *w = wp;
    char *final = NULL;
    int rc = 0, exists = 0, created = 0;
    if (w->fd < 0) {
        rc = mlops__error_set(MLOPS_EINVALID, "object writer is closed");
        goto done;
    }
    if (fs->durability == MLOPS_DURABILITY_FULL) {
        int e = mlops__fs_fsync(w->fd);
        if (e < 0) {
            rc = mlops__error_errno(-e, "cannot fsync '%s'", w->tmp);
            goto done;
        }
    } else if (fs->durability == MLOPS_DURABILITY_COMMIT) {
        start_writeback(w, w->size >= WRITEBACK_MIN);
    }
    /* A named temp is closed before it is published: NFS reports delayed
     * write errors at close. An anonymous one (never on NFS) is published
     * through its descriptor and closed on release. */
    if (!w->anon) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) < 0 && errno != EINTR) {
            rc = mlops__error_errno(errno, "cannot close '%s'", w->tmp);
            goto done;
        }
    }
    final = object_path(fs, id);
    if (!final) {
        rc = mlops__error_oom();
        goto done;
    }
    rc = publish(w, final, &exists, &created);
    if (rc < 0)
        goto done;
    if (fs->durability == MLOPS_DURABILITY_FULL)
        rc = make_durable(fs, final, exists, created);
    else if (fs->durability == MLOPS_DURABILITY_COMMIT)
        mlops__fsb_pending_add(fs, id, created);
done:
    mlops__free(final);
    writer_release(w); /* unlinks the temp name; the object keeps its link */
    return rc;
}

int mlops__fsb_obj_touch(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_check_writable(fs));
    char *path = object_path(fs, id);
    if (!path)
        return mlops__error_oom();
    int rc = 1;
    struct stat st;
    /* The time first: once it is fresh gc leaves the blob alone, so if
     * it is still there afterwards it stays. Like publish_once, a blob we
     * may not touch (another user's) is still used. */
    if (utimensat(AT_FDCWD, path, NULL, 0) < 0 && (errno == ENOENT || errno == ENOTDIR))
        rc = 0;
    else if (stat(path, &st) < 0)
        rc = errno == ENOENT || errno == ENOTDIR ? 0 : mlops__error_errno(errno, "cannot stat '%s'", path);
    if (rc == 1) {
        *stored_size = (uint64_t)st.st_size;
        int e = fs->durability == MLOPS_DURABILITY_FULL ? make_durable(fs, path, 1, 0) : 0;
        if (e < 0)
            rc = e;
        else if (fs->durability == MLOPS_DURABILITY_COMMIT)
            mlops__fsb_pending_add(fs, id, 0);
    }
    mlops__free(path);
    return rc;
}

static void fs_obj_write_abort(mlops_backend *b, void *wp)
{
    (void)b;
    if (wp)
        writer_release(wp);
}

static int fs_obj_read_open(mlops_backend *b, const mlops_oid *id, void **out_r)
{
    char *path = object_path(mlops__fsb_of(b), id);
    if (!path)
        return mlops__error_oom();
    int fd = -1;
    int rc = mlops__fsb_open_read(&fd, path, "object", path);
    if (rc < 0)
        goto out;
    fs_reader *r = mlops__malloc(sizeof *r);
    if (!r) {
        close(fd);
        rc = mlops__error_oom();
        goto out;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* bigger readahead */
#endif
    r->fd = fd;
    *out_r = r;
out:
    mlops__free(path);
    return rc;
}

static int fs_obj_read(mlops_backend *b, void *rp, void *buf, size_t cap, size_t *out_n)
{
    (void)b;
    fs_reader *r = rp;
    int e = mlops__fs_read_full(r->fd, buf, cap, out_n);
    if (e < 0)
        return mlops__error_errno(-e, "cannot read an object");
    return 0;
}

static void fs_obj_read_close(mlops_backend *b, void *rp)
{
    (void)b;
    fs_reader *r = rp;
    if (!r)
        return;
    close(r->fd);
    mlops__free(r);
}

static int fs_obj_delete(mlops_backend *b, const mlops_oid *id)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_check_writable(fs));
    char *path = object_path(fs, id);
    if (!path)
        return mlops__error_oom();
    int rc = 0;
    if (unlink(path) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            rc = mlops__error_set(MLOPS_ENOTFOUND, "object '%s' not found", path);
        else
            rc = mlops__error_errno(errno, "cannot delete '%s'", path);
    }
    mlops__free(path);
    return rc;
}

/* n lowercase hex digits and nothing else. */
static int is_lower_hex(const char *s, size_t n)
{
    return mlops__fsb_is_hex(s, n) && s[n] == '\0';
}

static int foreach_fanout(const char *dirpath, const char *fan, mlops_backend_object_cb cb, void *payload)
{
    DIR *d = opendir(dirpath);
    if (!d)
        return errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot open directory '%s'", dirpath);
    int rc;
    struct dirent *e;
    while ((rc = mlops__fsb_readdir(d, dirpath, &e)) == 1) {
        /* Anything but 62 hex digits is not ours to report. */
        if (!is_lower_hex(e->d_name, MLOPS_OID_HEXSZ - 2))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* deleted meanwhile */
            rc = mlops__error_errno(errno, "cannot stat '%s/%s'", dirpath, e->d_name);
            break;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        char hex[MLOPS_OID_HEXSZ + 1];
        memcpy(hex, fan, 2);
        memcpy(hex + 2, e->d_name, MLOPS_OID_HEXSZ - 2 + 1);
        mlops_oid id;
        if (mlops_oid_fromhexn(&id, hex, MLOPS_OID_HEXSZ) < 0)
            continue;
        rc = cb(&id, (uint64_t)st.st_size, (int64_t)st.st_mtime, payload);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

static int fs_obj_foreach(mlops_backend *b, mlops_backend_object_cb cb, void *payload)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    char *objects = mlops__fsb_path(fs, "objects");
    if (!objects)
        return mlops__error_oom();
    int rc = 0;
    DIR *d = opendir(objects);
    if (!d) {
        if (errno != ENOENT)
            rc = mlops__error_errno(errno, "cannot open directory '%s'", objects);
        mlops__free(objects);
        return rc;
    }
    struct dirent *e;
    while ((rc = mlops__fsb_readdir(d, objects, &e)) == 1) {
        if (!is_lower_hex(e->d_name, 2))
            continue;
        char *sub = mlops__fsb_path(fs, "objects/%s", e->d_name);
        if (!sub) {
            rc = mlops__error_oom();
            break;
        }
        rc = foreach_fanout(sub, e->d_name, cb, payload);
        mlops__free(sub);
        if (rc != 0)
            break;
    }
    closedir(d);
    mlops__free(objects);
    return rc;
}

void mlops__fsb_objects_setup(mlops_backend *b)
{
    b->obj_exists = fs_obj_exists;
    b->obj_stat = fs_obj_stat;
    b->obj_write_open = fs_obj_write_open;
    b->obj_write = fs_obj_write;
    b->obj_write_commit = fs_obj_write_commit;
    b->obj_write_abort = fs_obj_write_abort;
    b->obj_read_open = fs_obj_read_open;
    b->obj_read = fs_obj_read;
    b->obj_read_close = fs_obj_read_close;
    b->obj_delete = fs_obj_delete;
    b->obj_foreach = fs_obj_foreach;
}
