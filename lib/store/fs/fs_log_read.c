/*
 * fs backend: reading and listing logs.
 *
 * A log is a directory logs/<name>/ holding at least one segment file. Log
 * names nest ("a" and "a/b" may both be logs), so logs/a/ can hold both
 * segments of "a" and the directory of "a/b". They never collide: a name
 * component is always a directory, a segment always a regular file with
 * the exact form <16 hex>-<16 hex>.seg; a directory with no segment (only
 * deeper logs) is not a log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fs_internal.h"

int mlops__fsb_is_segment_name(const char *name)
{
    return name && strlen(name) == MLOPS__FSB_SEG_LEN && mlops__fsb_is_hex(name, 16) && name[16] == '-' &&
           mlops__fsb_is_hex(name + 17, 16) &&
           strcmp(name + 33, ".seg") == 0;
}

typedef char seg_name[MLOPS__FSB_SEG_LEN + 1];

static int seg_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The segment names of a log, sorted (= creation order). */
static int list_segments(const char *dir, const char *log, seg_name **out, size_t *out_n)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return mlops__error_set(MLOPS_ENOTFOUND, "log '%s' not found", log);
        return mlops__error_errno(errno, "cannot open directory '%s'", dir);
    }
    seg_name *names = NULL;
    size_t n = 0, cap = 0;
    int rc;
    struct dirent *e;
    while ((rc = mlops__fsb_readdir(d, dir, &e)) == 1) {
        if (!mlops__fsb_is_segment_name(e->d_name) || mlops__fsb_entry_kind(d, e) != MLOPS__FSB_FILE)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            seg_name *p = mlops__realloc(names, ncap * sizeof *p);
            if (!p) {
                rc = mlops__error_oom();
                break;
            }
            names = p;
            cap = ncap;
        }
        memcpy(names[n++], e->d_name, sizeof(seg_name));
    }
    closedir(d);
    if (rc == 0 && n == 0)
        rc = mlops__error_set(MLOPS_ENOTFOUND, "log '%s' not found", log);
    if (rc < 0) {
        mlops__free(names);
        return rc;
    }
    qsort(names, n, sizeof *names, seg_cmp);
    *out = names;
    *out_n = n;
    return 0;
}

static int fs_log_segments(mlops_backend *b, const char *log, mlops_backend_name_cb cb, void *payload)
{
    MLOPS__TRY(mlops__fsb_name_check("log", log));
    char *dir = mlops__fsb_path(mlops__fsb_of(b), "logs/%s", log);
    if (!dir)
        return mlops__error_oom();
    seg_name *names = NULL;
    size_t n = 0;
    int rc = list_segments(dir, log, &names, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cb(names[i], payload);
    mlops__free(names);
    mlops__free(dir);
    return rc;
}

static int fs_log_read(mlops_backend *b, const char *log, const char *segment, uint64_t offset, void *buf,
                       size_t cap, size_t *out_n)
{
    MLOPS__TRY(mlops__fsb_name_check("log", log));
    if (!mlops__fsb_is_segment_name(segment))
        return mlops__error_set(MLOPS_EINVALID, "invalid log segment name");
    char *path = mlops__fsb_path(mlops__fsb_of(b), "logs/%s/%s", log, segment);
    if (!path)
        return mlops__error_oom();
    int fd = -1;
    int rc = mlops__fsb_open_read(&fd, path, "log segment", path);
    if (rc < 0) {
        mlops__free(path);
        return rc;
    }
    size_t done = 0;
    while (done < cap) {
        ssize_t got = pread(fd, (char *)buf + done, cap - done, (off_t)(offset + done));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = mlops__error_errno(errno, "cannot read '%s'", path);
            break;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    close(fd);
    mlops__free(path);
    *out_n = rc == 0 ? done : 0;
    return rc;
}

typedef struct log_walk {
    const char *prefix;
    size_t prefix_len;
    mlops_backend_name_cb cb;
    void *payload;
    int user_rc;
} log_walk;

static int log_walk_file(const char *dir, const char *file, void *ctx)
{
    log_walk *w = ctx;
    if (!*dir || !mlops__fsb_is_segment_name(file))
        return 0;
    if (strncmp(dir, w->prefix, w->prefix_len) != 0 || !mlops__fsb_name_ok(dir))
        return MLOPS__FSB_WALK_SKIP_FILES;
    w->user_rc = w->cb(dir, w->payload);
    return w->user_rc ? MLOPS__FSB_WALK_STOP : MLOPS__FSB_WALK_SKIP_FILES;
}

static int fs_log_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    log_walk w = { prefix ? prefix : "", prefix ? strlen(prefix) : 0, cb, payload, 0 };
    int rc = mlops__fsb_walk_names(mlops__fsb_of(b), "logs", prefix, log_walk_file, &w);
    if (rc == MLOPS__FSB_WALK_STOP)
        rc = w.user_rc;
    return rc;
}

void mlops__fsb_log_read_setup(mlops_backend *b)
{
    b->log_segments = fs_log_segments;
    b->log_read = fs_log_read;
    b->log_foreach = fs_log_foreach;
}
