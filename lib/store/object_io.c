/* Whole-object operations built on the streaming writer and reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "object_codec.h"
#include "object_io.h"

#define IO_BLOCK ((size_t)1 << 20)

int mlops_object_put(mlops_oid *out, mlops_store *s, const void *data, size_t len)
{
    if (!out || !s || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "object_put: NULL argument");
    mlops_object_writer *w = NULL;
    MLOPS__TRY(mlops__writer_open(&w, s, len));
    int rc = mlops_object_writer_write(w, data, len);
    if (rc == 0)
        rc = mlops_object_writer_finish(out, w);
    mlops_object_writer_free(w);
    return rc;
}

/* Grows *buf to hold at least need bytes, doubling, never past cap. */
static int grow_to(char **buf, size_t *have, size_t need, size_t cap)
{
    if (need > cap)
        need = cap;
    if (need <= *have)
        return 0;
    size_t n = *have ? *have : 1;
    while (n < need)
        n = n > cap / 2 ? cap : n * 2;
    char *p = mlops__realloc(*buf, n);
    if (!p)
        return mlops__error_oom();
    *buf = p;
    *have = n;
    return 0;
}

int mlops__object_read_all(void **out, size_t *out_len, mlops_store *s, const mlops_oid *id)
{
    mlops_object_reader *r = NULL;
    MLOPS__TRY(mlops_object_reader_open(&r, s, id));
    uint64_t size = mlops_object_reader_size(r);
    int rc = 0;
    char *buf = NULL;
    size_t have = 0, done = 0;
    if (size > (uint64_t)SIZE_MAX - 1)
        rc = mlops__error_set(MLOPS_ECORRUPT, "object %s declares an impossible size", mlops__hex(id).s);
    /* The declared size is not trusted until the bytes arrive (a corrupt
     * header could ask for exabytes): start small and grow. */
    size_t cap = (size_t)size + 1;
    if (rc == 0)
        rc = grow_to(&buf, &have, cap < IO_BLOCK ? cap : IO_BLOCK, cap);
    while (rc == 0) {
        size_t n = 0;
        if (done == cap) { /* the reader lets no byte past the size */
            rc = mlops__error_set(MLOPS_ECORRUPT, "object %s is longer than declared", mlops__hex(id).s);
            break;
        }
        if (done == have && (rc = grow_to(&buf, &have, have + 1, cap)) < 0)
            break;
        /* Room for one byte more than declared, so the end is reached. */
        rc = mlops_object_reader_read(&n, r, buf + done, have - done);
        if (rc < 0 || n == 0)
            break;
        done += n;
    }
    mlops_object_reader_free(r);
    if (rc < 0) {
        mlops__free(buf);
        return rc;
    }
    if ((rc = grow_to(&buf, &have, done + 1, done + 1)) < 0) {
        mlops__free(buf);
        return rc;
    }
    buf[done] = '\0';
    *out = buf;
    *out_len = done;
    return 0;
}

int mlops_object_get(void **out, size_t *out_len, mlops_store *s, const mlops_oid *id)
{
    if (!out || !out_len || !s || !id)
        return mlops__error_set(MLOPS_EINVALID, "object_get: NULL argument");
    *out = NULL;
    *out_len = 0;
    return mlops__object_read_all(out, out_len, s, id);
}

int mlops__object_peek(void *buf, size_t cap, size_t *out_n, mlops_store *s, const mlops_oid *id)
{
    mlops_object_reader *r = NULL;
    MLOPS__TRY(mlops_object_reader_open(&r, s, id));
    size_t done = 0;
    int rc = 0;
    while (done < cap) {
        size_t n = 0;
        if ((rc = mlops_object_reader_read(&n, r, (char *)buf + done, cap - done)) < 0 || n == 0)
            break;
        done += n;
    }
    mlops_object_reader_free(r);
    *out_n = done;
    return rc;
}

/* Streams the object into an open file; the caller publishes it. */
static int reader_to_fd(mlops_object_reader *r, int fd, const char *tmp)
{
    char *buf = mlops__malloc(IO_BLOCK);
    if (!buf)
        return mlops__error_oom();
    int rc = 0;
    for (;;) {
        size_t n = 0;
        if ((rc = mlops_object_reader_read(&n, r, buf, IO_BLOCK)) < 0 || n == 0)
            break;
        int e = mlops__fs_write_all(fd, buf, n);
        if (e < 0) {
            rc = mlops__error_errno(-e, "cannot write '%s'", tmp);
            break;
        }
    }
    mlops__free(buf);
    return rc;
}

static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? mlops__strndup(path, slash == path ? 1 : (size_t)(slash - path)) : mlops__strdup(".");
    if (!dir)
        return mlops__error_oom();
    int e = mlops__fs_fsync_dir(dir);
    int rc = e < 0 ? mlops__error_errno(-e, "cannot fsync directory '%s'", dir) : 0;
    mlops__free(dir);
    return rc;
}

int mlops_object_get_file(mlops_store *s, const mlops_oid *id, const char *path)
{
    if (!s || !id || !path)
        return mlops__error_set(MLOPS_EINVALID, "object_get_file: NULL argument");
    mlops_object_reader *r = NULL;
    MLOPS__TRY(mlops_object_reader_open(&r, s, id));
    /* Write beside the destination, publish only verified bytes. */
    size_t plen = strlen(path);
    char *tmp = mlops__malloc(plen + 32);
    char rnd[17];
    int rc = tmp ? 0 : mlops__error_oom();
    if (rc == 0 && mlops__fs_random_hex(rnd, 8) < 0)
        rc = mlops__error_set(MLOPS_EIO, "no randomness for a temporary name");
    int fd = -1;
    if (rc == 0) {
        snprintf(tmp, plen + 32, "%s.mlops-tmp-%s", path, rnd);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0)
            rc = mlops__error_errno(errno, "cannot create '%s'", tmp);
    }
    if (rc == 0)
        rc = reader_to_fd(r, fd, tmp);
    /* The destination is the user's file, not the store's: like cp, it is
     * left to the page cache unless FULL durability asks for more. */
    int full = s->opts.durability == MLOPS_DURABILITY_FULL;
    if (rc == 0 && full) {
        int e = mlops__fs_fsync(fd);
        if (e < 0)
            rc = mlops__error_errno(-e, "cannot fsync '%s'", tmp);
    }
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = mlops__error_errno(errno, "cannot close '%s'", tmp);
    if (rc == 0) {
        int e = mlops__fs_rename(tmp, path);
        if (e < 0)
            rc = mlops__error_errno(-e, "cannot rename onto '%s'", path);
        else if (full)
            rc = fsync_parent(path);
    }
    if (rc < 0 && fd >= 0)
        unlink(tmp);
    mlops__free(tmp);
    mlops_object_reader_free(r);
    return rc;
}

int mlops_object_exists(mlops_store *s, const mlops_oid *id)
{
    if (!s || !id)
        return mlops__error_set(MLOPS_EINVALID, "object_exists: NULL argument");
    return s->be.obj_exists(&s->be, id);
}

int mlops_object_size(uint64_t *out, mlops_store *s, const mlops_oid *id)
{
    if (!out || !s || !id)
        return mlops__error_set(MLOPS_EINVALID, "object_size: NULL argument");
    mlops_object_reader *r = NULL;
    MLOPS__TRY(mlops_object_reader_open(&r, s, id));
    *out = mlops_object_reader_size(r);
    mlops_object_reader_free(r);
    return 0;
}
