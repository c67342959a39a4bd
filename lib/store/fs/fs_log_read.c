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

static int hex16(const char *s)
{
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int mlops__fsb_is_segment_name(const char *name)
{
    return name && strlen(name) == MLOPS__FSB_SEG_LEN && hex16(name) && name[16] == '-' && hex16(name + 17) &&
           strcmp(name + 33, ".seg") == 0;
}

typedef char seg_name[MLOPS__FSB_SEG_LEN + 1];

static int seg_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int is_regular(DIR *d, const struct dirent *e)
{
#ifdef DT_UNKNOWN
    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_REG;
#endif
    struct stat st;
    return fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
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
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                rc = mlops__error_errno(errno, "cannot read directory '%s'", dir);
            break;
        }
        if (!mlops__fsb_is_segment_name(e->d_name) || !is_regular(d, e))
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
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            rc = mlops__error_set(MLOPS_ENOTFOUND, "log segment '%s' not found", path);
        else
            rc = mlops__error_errno(errno, "cannot open '%s'", path);
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
    char *start = NULL;
    char *base = mlops__fsb_path(mlops__fsb_of(b), "logs");
    int rc = base ? mlops__fsb_prefix_dir(&start, prefix) : mlops__error_oom();
    if (rc == 0)
        rc = mlops__fsb_walk(base, start, log_walk_file, &w);
    if (rc == MLOPS__FSB_WALK_STOP)
        rc = w.user_rc;
    mlops__free(start);
    mlops__free(base);
    return rc;
}

void mlops__fsb_log_read_setup(mlops_backend *b)
{
    b->log_segments = fs_log_segments;
    b->log_read = fs_log_read;
    b->log_foreach = fs_log_foreach;
}
