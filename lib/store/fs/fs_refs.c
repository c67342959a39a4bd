/*
 * fs backend: refs, one file refs/<name> holding 64 lowercase hex digits and
 * a newline, replaced only under the lock refs/<name>.lock (fs_lock.c):
 * the new value is written into a private temp file beside the ref, which
 * is then renamed over it, so a reader sees the old value or the new one,
 * never a mix (why not the lock file itself: see write_value).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "fs_internal.h"

/* ENOTFOUND for a missing ref (a directory "a" of refs "a/..." included). */
static int read_ref_file(const char *path, const char *name, mlops_oid *out)
{
    int fd = -1;
    MLOPS__TRY(mlops__fsb_open_read(&fd, path, "ref", name));
    struct stat st;
    char text[MLOPS_OID_HEXSZ + 2];
    size_t n = 0;
    int rc = 0;
    if (fstat(fd, &st) < 0) {
        rc = mlops__error_errno(errno, "cannot stat ref '%s'", path);
    } else if (S_ISDIR(st.st_mode)) {
        rc = mlops__error_set(MLOPS_ENOTFOUND, "ref '%s' not found", name);
    } else {
        int e = mlops__fs_read_full(fd, text, sizeof text, &n);
        if (e < 0)
            rc = mlops__error_errno(-e, "cannot read ref '%s'", path);
        else if (n != MLOPS_OID_HEXSZ + 1 || text[MLOPS_OID_HEXSZ] != '\n' ||
                 mlops_oid_fromhexn(out, text, MLOPS_OID_HEXSZ) < 0)
            rc = mlops__error_set(MLOPS_ECORRUPT, "ref file '%s' is corrupt (expected 64 hex digits and a newline)",
                                  path);
    }
    close(fd);
    return rc;
}

static int fs_ref_read(mlops_backend *b, const char *name, mlops_oid *out)
{
    MLOPS__TRY(mlops__fsb_name_check("ref", name));
    char *path = mlops__fsb_path(mlops__fsb_of(b), "refs/%s", name);
    if (!path)
        return mlops__error_oom();
    int rc = read_ref_file(path, name, out);
    mlops__free(path);
    return rc;
}

/* Removes the now empty directories of a deleted nested ref, so that a ref
 * named like one of them can be created later. Best effort: a directory
 * that is not empty, or that another writer just re-created, stays. */
static void prune_dirs(const mlops__fsb *fs, char *ref_path)
{
    size_t stop = strlen(fs->root) + 5; /* "<root>/refs" */
    char *slash;
    while ((slash = strrchr(ref_path, '/')) != NULL && (size_t)(slash - ref_path) > stop) {
        *slash = '\0';
        if (rmdir(ref_path) < 0)
            break;
    }
}

/* Durability of the ref's directory entry (and of new parents). */
/* dir: a copy of the ref's path made before the update, cut here (the
 * ref is already moved: nothing may fail for lack of memory now); NULL
 * with durability NONE. */
static int sync_ref_dirs(const mlops__fsb *fs, char *dir, int created_dirs)
{
    if (!dir)
        return 0;
    *strrchr(dir, '/') = '\0';
    size_t stop = created_dirs ? strlen(fs->root) + 5 : strlen(dir);
    return mlops__fsb_fsync_dirs_up_in(dir, stop);
}

static int conflict_with_children(const char *name)
{
    return mlops__error_set(MLOPS_EEXISTS, "ref '%s' conflicts with existing refs under '%s/'", name, name);
}

/* Writes "<hex>\n" into a new private file beside the ref; *out_tmp gets
 * its path. The name starts with '.', so it is never taken for a ref.
 * With do_fsync 0 the caller makes it durable (a commit point's flush).
 * *no_dir (may be NULL) tells that the ref's directory does not exist. */
static int write_temp_value(char **out_tmp, const char *ref_path, const mlops_oid *new_id, int do_fsync,
                            int *no_dir)
{
    char text[MLOPS_OID_HEXSZ + 2];
    mlops_oid_tohex(text, new_id);
    text[MLOPS_OID_HEXSZ] = '\n';
    char *tmp = NULL;
    MLOPS__TRY(mlops__fsb_name_beside(&tmp, ref_path, MLOPS__FSB_REF_TEMP));
    int e, fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && no_dir)
        *no_dir = errno == ENOENT || errno == ENOTDIR; /* or "a" is a ref: ref_cas says so */
    int rc = fd < 0 ? mlops__error_errno(errno, "cannot create '%s'", tmp) : 0;
    if (rc == 0 && (e = mlops__fs_write_all(fd, text, MLOPS_OID_HEXSZ + 1)) < 0)
        rc = mlops__error_errno(-e, "cannot write '%s'", tmp);
    if (rc == 0 && do_fsync && (e = mlops__fs_fsync(fd)) < 0)
        rc = mlops__error_errno(-e, "cannot fsync '%s'", tmp);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = mlops__error_errno(errno, "cannot close '%s'", tmp);
    if (rc < 0) {
        if (fd >= 0)
            unlink(tmp);
        mlops__free(tmp);
        return rc;
    }
    *out_tmp = tmp;
    return 0;
}

/*
 * The new value, already in the private temp file tmp, is renamed over
 * the ref while we hold the lock. Renaming the lock file itself would be
 * one step shorter, but if the lock were broken as stale and re-taken by
 * another writer between our ownership check and the rename, we would
 * move *their* lock file onto the ref; a private file can only ever put
 * our own value there.
 */
static int write_value(mlops__fsb_lock *lock, const char *ref_path, const char *name, const char *tmp)
{
    int rc = 0;
    /* A leftover empty directory where the ref goes (a crashed delete of
     * "name/..."): remove it; a non-empty one is a real name conflict. */
    if (mlops__fsb_is_dir(ref_path) && rmdir(ref_path) < 0)
        rc = conflict_with_children(name);
    if (rc == 0)
        rc = mlops__fsb_lock_check(lock);
    if (rc == 0) {
        int e = mlops__fs_rename(tmp, ref_path);
        if (e == -EISDIR || e == -ENOTEMPTY || e == -EEXIST)
            rc = conflict_with_children(name);
        else if (e < 0)
            rc = mlops__error_errno(-e, "cannot rename '%s' to '%s'", tmp, ref_path);
    }
    return rc;
}

static int remove_ref(mlops__fsb_lock *lock, const char *ref_path)
{
    MLOPS__TRY(mlops__fsb_lock_check(lock));
    if (unlink(ref_path) < 0)
        return mlops__error_errno(errno, "cannot delete ref '%s'", ref_path);
    return 0;
}

static int ids_equal(const mlops_oid *a, const mlops_oid *b)
{
    return memcmp(a->id, b->id, MLOPS_OID_RAWSZ) == 0;
}

/* Decides under the lock; 0 means go ahead. */
static int compare(int rc_read, const mlops_oid *cur, const char *name, const mlops_oid *expected,
                   const mlops_oid *new_id)
{
    int exists = rc_read == 0;
    if (rc_read < 0 && rc_read != MLOPS_ENOTFOUND) {
        /* A corrupt ref can still be deleted unconditionally (repair). */
        if (!(rc_read == MLOPS_ECORRUPT && !new_id && !expected))
            return rc_read;
        exists = 1;
    }
    if (!new_id) {
        if (!exists)
            return mlops__error_set(MLOPS_ENOTFOUND, "ref '%s' not found", name);
        if (expected && !ids_equal(cur, expected))
            return mlops__error_set(MLOPS_ECONFLICT, "ref '%s' does not have the expected value", name);
        return 0;
    }
    if (!expected)
        return exists ? mlops__error_set(MLOPS_ECONFLICT, "ref '%s' already exists", name) : 0;
    if (!exists)
        return mlops__error_set(MLOPS_ECONFLICT, "ref '%s' does not exist", name);
    if (!ids_equal(cur, expected))
        return mlops__error_set(MLOPS_ECONFLICT, "ref '%s' does not have the expected value", name);
    return 0;
}

/* Under the ref's lock: compare, then rename tmp over the ref (tmp NULL:
 * write one now) or delete it (new_id NULL). Consumes tmp. */
static int update_locked(mlops__fsb *fs, const char *name, char *ref_path, const mlops_oid *expected,
                         const mlops_oid *new_id, char *tmp)
{
    mlops__fsb_lock lock = { NULL, -1, 0 };
    /* The directory to fsync afterwards, copied now (durability NONE
     * syncs nothing). */
    char *dir = fs->durability == MLOPS_DURABILITY_NONE ? NULL : mlops__strdup(ref_path);
    int rc = dir || fs->durability == MLOPS_DURABILITY_NONE ? mlops__fsb_lock_acquire(&lock, fs, name, ref_path)
                                                            : mlops__error_oom();
    if (rc < 0) {
        prune_dirs(fs, ref_path); /* parents it may have made for the lock */
        goto out;
    }
    mlops_oid cur;
    rc = compare(read_ref_file(ref_path, name, &cur), &cur, name, expected, new_id);
    if (rc == 0 && new_id && !tmp)
        rc = write_temp_value(&tmp, ref_path, new_id, fs->durability != MLOPS_DURABILITY_NONE, NULL);
    if (rc == 0)
        rc = new_id ? write_value(&lock, ref_path, name, tmp) : remove_ref(&lock, ref_path);
    mlops__fsb_lock_release(&lock, 1);
    if (rc == 0)
        rc = sync_ref_dirs(fs, dir, lock.created_dirs);
    if (rc < 0 || !new_id)
        prune_dirs(fs, ref_path);
out:
    if (tmp && rc < 0)
        unlink(tmp);
    mlops__free(tmp);
    mlops__free(dir);
    return rc;
}

static int fs_ref_cas(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_check_writable(fs));
    MLOPS__TRY(mlops__fsb_name_check("ref", name));
    char *ref_path = mlops__fsb_path(fs, "refs/%s", name);
    if (!ref_path)
        return mlops__error_oom();
    int rc = update_locked(fs, name, ref_path, expected, new_id, NULL);
    mlops__free(ref_path);
    return rc;
}

/*
 * A commit point and a ref update with one flush: the new value goes into
 * its temp file first, so the commit point's flush (one syncfs when that
 * is cheaper, fs_pending.c) makes it durable together with the objects
 * and logs. The flush happens before the lock is taken, so a long one
 * never holds up other writers of the ref or gets the lock broken as
 * stale. A ref whose directory does not exist yet (its first update)
 * takes the plain way: commit point, then ref_cas.
 */
static int fs_ref_commit(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    MLOPS__TRY(mlops__fsb_check_writable(fs));
    MLOPS__TRY(mlops__fsb_name_check("ref", name));
    if (fs->durability == MLOPS_DURABILITY_NONE || !new_id)
        return fs_ref_cas(b, name, expected, new_id);
    char *ref_path = mlops__fsb_path(fs, "refs/%s", name);
    if (!ref_path)
        return mlops__error_oom();
    char *tmp = NULL;
    int no_dir = 0;
    int rc = write_temp_value(&tmp, ref_path, new_id, 0, &no_dir);
    if (rc < 0 && no_dir) {
        rc = mlops__fsb_commit(fs, NULL);
        if (rc == 0)
            rc = update_locked(fs, name, ref_path, expected, new_id, NULL);
    } else if (rc == 0) {
        rc = mlops__fsb_commit(fs, tmp);
        if (rc < 0) {
            unlink(tmp);
            mlops__free(tmp);
        } else {
            rc = update_locked(fs, name, ref_path, expected, new_id, tmp);
        }
    }
    mlops__free(ref_path);
    return rc;
}

typedef struct ref_walk {
    const char *prefix;
    size_t prefix_len;
    mlops_backend_name_cb cb;
    void *payload;
    int user_rc;
    mlops__buf name;
} ref_walk;

static int ref_walk_file(const char *dir, const char *file, void *ctx)
{
    ref_walk *w = ctx;
    size_t flen = strlen(file);
    if (flen >= 5 && strcmp(file + flen - 5, ".lock") == 0)
        return 0;
    mlops__buf_clear(&w->name);
    int rc = *dir ? mlops__buf_printf(&w->name, "%s/%s", dir, file) : mlops__buf_puts(&w->name, file);
    if (rc < 0)
        return rc;
    if (strncmp(w->name.ptr, w->prefix, w->prefix_len) != 0 || !mlops__fsb_name_ok(w->name.ptr))
        return 0;
    w->user_rc = w->cb(w->name.ptr, w->payload);
    return w->user_rc ? MLOPS__FSB_WALK_STOP : 0;
}

static int fs_ref_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    mlops__fsb *fs = mlops__fsb_of(b);
    ref_walk w = { prefix ? prefix : "", prefix ? strlen(prefix) : 0, cb, payload, 0, MLOPS__BUF_INIT };
    int rc = mlops__fsb_walk_names(fs, "refs", prefix, ref_walk_file, &w);
    if (rc == MLOPS__FSB_WALK_STOP)
        rc = w.user_rc;
    mlops__buf_dispose(&w.name);
    return rc;
}

void mlops__fsb_refs_setup(mlops_backend *b)
{
    b->ref_read = fs_ref_read;
    b->ref_cas = fs_ref_cas;
    b->ref_commit = fs_ref_commit;
    b->ref_foreach = fs_ref_foreach;
}
