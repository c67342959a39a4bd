/* fs backend: the recursive directory walk behind ref and log listings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fs_internal.h"

/* 1 directory, 2 regular file, 0 anything else (symlinks are never
 * followed: a link could point out of the store). */
static int entry_kind(DIR *d, const struct dirent *e)
{
#ifdef DT_UNKNOWN
    if (e->d_type == DT_DIR)
        return 1;
    if (e->d_type == DT_REG)
        return 2;
    if (e->d_type != DT_UNKNOWN)
        return 0;
#endif
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return S_ISDIR(st.st_mode) ? 1 : S_ISREG(st.st_mode) ? 2 : 0;
}

static int walk_dir(mlops__buf *path, size_t base_len, mlops__fsb_walk_cb cb, void *ctx)
{
    DIR *d = opendir(path->ptr);
    if (!d) {
        /* Gone or replaced since we listed it: nothing to report. */
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return mlops__error_errno(errno, "cannot open directory '%s'", path->ptr);
    }
    size_t len = path->len;
    int skip_files = 0, rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                rc = mlops__error_errno(errno, "cannot read directory '%s'", path->ptr);
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        int kind = entry_kind(d, e);
        if (kind == 1) {
            rc = mlops__buf_printf(path, "/%s", e->d_name);
            if (rc == 0)
                rc = walk_dir(path, base_len, cb, ctx);
            path->len = len;
            path->ptr[len] = '\0';
        } else if (kind == 2 && !skip_files) {
            const char *rel = len > base_len ? path->ptr + base_len + 1 : "";
            rc = cb(rel, e->d_name, ctx);
            if (rc == MLOPS__FSB_WALK_SKIP_FILES) {
                skip_files = 1;
                rc = 0;
            }
        }
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

int mlops__fsb_walk(const char *base, const char *start, mlops__fsb_walk_cb cb, void *ctx)
{
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = mlops__buf_puts(&path, base);
    if (rc == 0 && start && *start)
        rc = mlops__buf_printf(&path, "/%s", start);
    if (rc == 0)
        rc = walk_dir(&path, strlen(base), cb, ctx);
    mlops__buf_dispose(&path);
    return rc;
}

int mlops__fsb_prefix_dir(char **out, const char *prefix)
{
    const char *slash = prefix ? strrchr(prefix, '/') : NULL;
    char *dir = slash ? mlops__strndup(prefix, (size_t)(slash - prefix)) : mlops__strdup("");
    if (!dir)
        return mlops__error_oom();
    if (*dir && !mlops__fsb_name_ok(dir))
        dir[0] = '\0'; /* not a name: walk everything, the filter decides */
    *out = dir;
    return 0;
}
