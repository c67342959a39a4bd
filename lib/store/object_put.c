/*
 * Storing a file: options, and the choice between one object and
 * content-defined chunks (chunked_put.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunked.h"
#include "common/error.h"
#include "common/options.h"
#include "hash_pipe.h"
#include "object_io.h"
#include "object_put.h"

#define CHUNK_FLOOR ((uint32_t)64 << 10)
#define CHUNK_CEILING ((uint32_t)64 << 20)

static const mlops_put_options put_defaults = MLOPS_PUT_OPTIONS_INIT;

int mlops_put_options_init(mlops_put_options *opts, unsigned int version)
{
    return mlops__options_init(opts, &put_defaults, sizeof put_defaults, version, MLOPS_PUT_OPTIONS_VERSION, "put");
}

static int check_put_options(mlops_put_options *out, const mlops_put_options *in)
{
    if (!in) {
        *out = put_defaults;
        return 0;
    }
    MLOPS__TRY(mlops__options_version(in->version, MLOPS_PUT_OPTIONS_VERSION, "put"));
    if ((unsigned)in->chunking > MLOPS_CHUNKING_ALWAYS)
        return mlops__error_set(MLOPS_EINVALID, "unknown chunking mode %d", (int)in->chunking);
    if (in->chunk_min < CHUNK_FLOOR || in->chunk_max > CHUNK_CEILING)
        return mlops__error_set(MLOPS_EINVALID, "chunk sizes must lie within 64 KiB..64 MiB");
    if (in->chunk_avg & (in->chunk_avg - 1))
        return mlops__error_set(MLOPS_EINVALID, "chunk_avg %u is not a power of two", in->chunk_avg);
    if (!(in->chunk_min < in->chunk_avg && in->chunk_avg < in->chunk_max))
        return mlops__error_set(MLOPS_EINVALID, "chunk sizes must satisfy min < avg < max");
    *out = *in;
    return 0;
}

static int wants_chunks(const mlops_put_options *o, uint64_t size)
{
    return o->chunking == MLOPS_CHUNKING_ALWAYS || (o->chunking == MLOPS_CHUNKING_AUTO && size >= o->chunk_threshold);
}

static int write_block(void *arg, const unsigned char *data, size_t len)
{
    return mlops_object_writer_write(arg, data, len);
}

/* One object: the bytes stream into a writer, hashed on a second thread. */
static int put_whole(mlops_oid *out, mlops_put_stats *st, mlops_store *s, int fd, const struct stat *st0,
                     uint64_t size, const char *path)
{
    mlops_object_writer *w = NULL;
    MLOPS__TRY(mlops__writer_open_unhashed(&w, s, size));
    mlops_oid id;
    uint64_t read = 0;
    int rc = mlops__hash_pipe_run(&id, &read, fd, size, path, write_block, w);
    if (rc == 0)
        rc = mlops__check_unchanged(fd, st0, size, read, path);
    int existed = rc == 0 ? mlops_object_exists(s, &id) : 0;
    if (existed < 0)
        rc = existed;
    if (rc == 0)
        rc = mlops__writer_finish_as(out, w, &id);
    mlops_object_writer_free(w);
    if (rc == 0 && st)
        st->stored = existed ? 0 : size;
    return rc;
}

int mlops__object_put_fd(mlops_oid *out, mlops_put_stats *stats, mlops_store *s, int fd, uint64_t size,
                         const char *path, const mlops_put_options *opts)
{
    mlops_put_options o;
    struct stat st0;
    mlops_put_stats local = { 0, 0, 0, 0 };
    if (!out || fd < 0)
        return mlops__error_set(MLOPS_EINVALID, "object_put_fd: bad argument");
    if (!path)
        path = "(file)";
    MLOPS__TRY(check_put_options(&o, opts));
    MLOPS__TRY(mlops__store_check_writable(s));
    if (fstat(fd, &st0) < 0)
        return mlops__error_errno(errno, "cannot stat '%s'", path);
    if (!S_ISREG(st0.st_mode))
        return mlops__error_set(MLOPS_EINVALID, "'%s' is not a regular file", path);
    local.size = size;
    int rc = wants_chunks(&o, size) ? mlops__chunked_put(out, &local, s, fd, &st0, size, path, &o)
                                    : put_whole(out, &local, s, fd, &st0, size, path);
    if (rc == 0 && stats)
        *stats = local;
    return rc;
}

static int open_source(int *out_fd, struct stat *st, const char *path)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; the type
     * check below refuses it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return mlops__error_errno(errno, "cannot open '%s'", path);
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        return mlops__error_errno(e, "cannot stat '%s'", path);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return mlops__error_set(MLOPS_EINVALID, "'%s' is not a regular file", path);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    *out_fd = fd;
    return 0;
}

int mlops_object_put_file_ext(mlops_oid *out, mlops_put_stats *stats, mlops_store *s, const char *path,
                              const mlops_put_options *opts)
{
    mlops_put_options o;
    if (!out || !s || !path)
        return mlops__error_set(MLOPS_EINVALID, "object_put_file: NULL argument");
    MLOPS__TRY(check_put_options(&o, opts));
    MLOPS__TRY(mlops__store_check_writable(s));
    int fd = -1;
    struct stat st;
    MLOPS__TRY(open_source(&fd, &st, path));
    int rc = mlops__object_put_fd(out, stats, s, fd, (uint64_t)st.st_size, path, &o);
    close(fd);
    return rc;
}

int mlops_object_put_file(mlops_oid *out, mlops_store *s, const char *path)
{
    mlops_put_options o = MLOPS_PUT_OPTIONS_INIT;
    o.chunking = MLOPS_CHUNKING_NEVER;
    return mlops_object_put_file_ext(out, NULL, s, path, &o);
}
