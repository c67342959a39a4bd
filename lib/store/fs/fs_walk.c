/* fs backend: the recursive directory walk behind ref and log listings and
 * the cleanup of leftovers, and the directory-reading helpers they share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "fs_internal.h"

/* Symlinks are never followed: a link could point out of the store. */
int mlops__fsb_entry_kind(DIR *d, const struct dirent *e)
{
#ifdef DT_UNKNOWN
    if (e->d_type == DT_DIR)
        return MLOPS__FSB_DIR;
    if (e->d_type == DT_REG)
        return MLOPS__FSB_FILE;
    if (e->d_type != DT_UNKNOWN)
        return MLOPS__FSB_OTHER;
#endif
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return MLOPS__FSB_OTHER;
    return S_ISDIR(st.st_mode) ? MLOPS__FSB_DIR : S_ISREG(st.st_mode) ? MLOPS__FSB_FILE : MLOPS__FSB_OTHER;
}

int mlops__fsb_readdir(DIR *d, const char *path, struct dirent **out)
{
    errno = 0;
    *out = readdir(d);
    if (*out)
        return 1;
    return errno ? mlops__error_errno(errno, "cannot read directory '%s'", path) : 0;
}

static int walk_dir(mlops__buf *path, size_t base_len, unsigned flags, mlops__fsb_walk_cb cb, void *ctx)
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
    struct dirent *e;
    while ((rc = mlops__fsb_readdir(d, path->ptr, &e)) == 1) {
        rc = 0;
        int dot = e->d_name[0] == '.';
        if (dot && !(flags & MLOPS__FSB_WALK_DOTFILES))
            continue;
        int kind = mlops__fsb_entry_kind(d, e);
        if (kind == MLOPS__FSB_DIR && !dot) {
            rc = mlops__buf_printf(path, "/%s", e->d_name);
            if (rc == 0)
                rc = walk_dir(path, base_len, flags, cb, ctx);
            path->len = len;
            path->ptr[len] = '\0';
        } else if (kind == MLOPS__FSB_FILE && !skip_files) {
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

int mlops__fsb_walk(const char *base, const char *start, unsigned flags, mlops__fsb_walk_cb cb, void *ctx)
{
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = mlops__buf_puts(&path, base);
    if (rc == 0 && start && *start)
        rc = mlops__buf_printf(&path, "/%s", start);
    if (rc == 0)
        rc = walk_dir(&path, strlen(base), flags, cb, ctx);
    mlops__buf_dispose(&path);
    return rc;
}

int mlops__fsb_walk_names(const mlops__fsb *fs, const char *top, const char *prefix, mlops__fsb_walk_cb cb,
                          void *ctx)
{
    const char *slash = prefix ? strrchr(prefix, '/') : NULL;
    char *start = slash ? mlops__strndup(prefix, (size_t)(slash - prefix)) : mlops__strdup("");
    char *base = mlops__fsb_path(fs, "%s", top);
    int rc = 0;
    if (!start || !base)
        rc = mlops__error_oom();
    else if (*start && !mlops__fsb_name_ok(start))
        start[0] = '\0'; /* not a name: walk everything, the filter decides */
    if (rc == 0)
        rc = mlops__fsb_walk(base, start, 0, cb, ctx);
    mlops__free(start);
    mlops__free(base);
    return rc;
}
