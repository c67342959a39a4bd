/*
 * Internal, shared by the exporters of tracking (MLflow, TensorBoard, CSV)
 * and of the registry (MLflow) (header-only: the module builds
 * list their .c files, and these helpers are small).
 *
 * Every exported file is written to a temp file in its destination
 * directory and then published by rename (or by link, to never replace),
 * so a viewer reading the tree while we write it never sees half a file —
 * MLflow's reader fails the whole request on a truncated metric line or an
 * empty meta.yaml. Exports are copies, like cp: nothing is fsynced.
 */
#ifndef MLOPS_LIB_COMMON_EXPORT_UTIL_H
#define MLOPS_LIB_COMMON_EXPORT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"

/* A file being written: bytes gather in buf and go to fd in large chunks. */
typedef struct mlops__export_file {
    int fd;
    char *tmp_path;
    mlops__buf buf;
} mlops__export_file;

#define MLOPS__EXPORT_CHUNK (1u << 20)

/* Opens a temp file in directory dir (".mlops-tmp-<hex>": no "tfevents"
 * in it, so TensorBoard scanning dir ignores it). */
static inline int mlops__export_file_open(mlops__export_file *f, const char *dir)
{
    char hex[33];
    mlops__buf path = MLOPS__BUF_INIT;
    f->fd = -1;
    f->tmp_path = NULL;
    memset(&f->buf, 0, sizeof f->buf);
    int rc = mlops__fs_random_hex(hex, 16);
    if (rc < 0)
        return mlops__error_errno(-rc, "export: random name");
    if (mlops__buf_printf(&path, "%s/.mlops-tmp-%s", dir, hex) < 0)
        return MLOPS_ENOMEM;
    f->fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f->fd < 0) {
        rc = mlops__error_errno(errno, "export: cannot create a file in '%s'", dir);
        mlops__buf_dispose(&path);
        return rc;
    }
    f->tmp_path = mlops__buf_detach(&path, NULL);
    return 0;
}

/* Writes out what is buffered. */
static inline int mlops__export_file_drain(mlops__export_file *f)
{
    if (f->buf.len == 0)
        return 0;
    int rc = mlops__fs_write_all(f->fd, f->buf.ptr, f->buf.len);
    if (rc < 0)
        return mlops__error_errno(-rc, "export: write to '%s'", f->tmp_path);
    mlops__buf_clear(&f->buf);
    return 0;
}

/* To be called after appending to f->buf: drains it once it is large. */
static inline int mlops__export_file_maybe_drain(mlops__export_file *f)
{
    return f->buf.len >= MLOPS__EXPORT_CHUNK ? mlops__export_file_drain(f) : 0;
}

/* Removes the temp file; safe after a failed or completed publish. */
static inline void mlops__export_file_abort(mlops__export_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp_path)
        unlink(f->tmp_path);
    mlops__free(f->tmp_path);
    mlops__buf_dispose(&f->buf);
    f->fd = -1;
    f->tmp_path = NULL;
}

/* Drains and closes the temp file, which stays until abort or rename. */
static inline int mlops__export_file_close(mlops__export_file *f)
{
    int rc = mlops__export_file_drain(f);
    if (rc < 0)
        return rc;
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) < 0)
        return mlops__error_errno(errno, "export: close '%s'", f->tmp_path);
    return 0;
}

/* After close: gives the temp file the name path without replacing
 * anything. An existing path is MLOPS_EEXISTS, without a message (the
 * caller tries another name); the temp file stays for that next try and
 * abort removes it at the end. */
static inline int mlops__export_file_link(mlops__export_file *f, const char *path)
{
    int err = mlops__fs_link(f->tmp_path, path);
    if (err == -EEXIST)
        return MLOPS_EEXISTS;
    if (err < 0)
        return mlops__error_errno(-err, "export: cannot publish '%s'", path);
    return 0;
}

/* Closes and renames the file to path (replacing it); the temp file is
 * gone afterwards in every case. */
static inline int mlops__export_file_publish(mlops__export_file *f, const char *path)
{
    int rc = mlops__export_file_close(f);
    if (rc == 0) {
        int err = mlops__fs_rename(f->tmp_path, path);
        if (err < 0)
            rc = mlops__error_errno(-err, "export: cannot publish '%s'", path);
        else {
            mlops__free(f->tmp_path); /* renamed away: nothing to unlink */
            f->tmp_path = NULL;
        }
    }
    mlops__export_file_abort(f);
    return rc;
}

/* Writes a whole small file at path atomically (replacing it), through a
 * temp file in dir, which must be on the same filesystem. */
static inline int mlops__export_write(const char *dir, const char *path, const void *data, size_t len)
{
    mlops__export_file f;
    int rc = mlops__export_file_open(&f, dir);
    if (rc < 0)
        return rc;
    rc = mlops__buf_put(&f.buf, data, len);
    if (rc == 0)
        rc = mlops__export_file_publish(&f, path);
    else
        mlops__export_file_abort(&f);
    return rc;
}

/* Creates directory path and its parents. */
static inline int mlops__export_mkdir(const char *path)
{
    int rc = mlops__fs_mkdir_p(path);
    if (rc < 0)
        return mlops__error_errno(-rc, "export: cannot create directory '%s'", path);
    return 0;
}

/* Checks a relative path before it becomes part of a file name, whatever
 * the writer of the record validated: no leading or trailing '/', no empty,
 * "." or ".." component, no control characters; with keys_only also
 * MLflow's key characters [A-Za-z0-9_.\- /:]. what names it in the message. */
static inline int mlops__export_check_relpath(const char *rel, int keys_only, const char *what)
{
    const char *bad = NULL;
    if (!rel || !*rel || *rel == '/')
        bad = "empty or absolute";
    for (const char *c = rel ? rel : ""; !bad && *c; c++) {
        unsigned char u = (unsigned char)*c;
        int ok = keys_only ? ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                              strchr("_.- /:", u) != NULL)
                           : (u >= 0x20 && u != 0x7f);
        if (!ok)
            bad = "a character not allowed in a file name";
    }
    for (const char *c = rel; !bad && c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
        size_t n = strcspn(c, "/");
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            bad = "an empty, '.' or '..' component";
    }
    if (bad)
        return mlops__error_set(MLOPS_ECORRUPT, "export: %s '%s' has %s", what, rel ? rel : "", bad);
    return 0;
}

#endif
