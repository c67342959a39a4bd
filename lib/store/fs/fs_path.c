/* fs backend: paths under the store root and the names that become them. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/fs.h"
#include "fs_internal.h"

char *mlops__fsb_path(const mlops__fsb *fs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    size_t root_len = strlen(fs->root);
    char *out = mlops__malloc(root_len + 1 + (size_t)n + 1);
    if (!out)
        return NULL;
    memcpy(out, fs->root, root_len);
    out[root_len] = '/';
    va_start(ap, fmt);
    vsnprintf(out + root_len + 1, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* Why name is not acceptable, or NULL. */
static const char *name_problem(const char *name)
{
    if (!name || !*name)
        return "empty";
    size_t len = strlen(name);
    if (len > MLOPS_REF_NAME_MAX)
        return "too long";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return "control character";
    const char *c = name;
    for (;;) {
        const char *slash = strchr(c, '/');
        size_t clen = slash ? (size_t)(slash - c) : strlen(c);
        if (clen == 0)
            return "empty component";
        if (c[0] == '.')
            /* Covers "." and ".."; dot files are the backend's own. */
            return "a component starts with '.'";
        if (clen >= 5 && memcmp(c + clen - 5, ".lock", 5) == 0)
            return "a component ends with '.lock'";
        if (!slash)
            return NULL;
        c = slash + 1;
    }
}

int mlops__fsb_name_ok(const char *name)
{
    return name_problem(name) == NULL;
}

int mlops__fsb_name_check(const char *kind, const char *name)
{
    const char *why = name_problem(name);
    if (!why)
        return 0;
    if (!name || strlen(name) > MLOPS_REF_NAME_MAX || strcmp(why, "control character") == 0)
        return mlops__error_set(MLOPS_EINVALID, "invalid %s name: %s", kind, why);
    return mlops__error_set(MLOPS_EINVALID, "invalid %s name '%s': %s", kind, name, why);
}

int mlops__fsb_check_writable(const mlops__fsb *fs)
{
    if (fs->readonly)
        return mlops__error_set(MLOPS_EPERM, "store '%s' is read-only", fs->root);
    return 0;
}

int mlops__fsb_fsync_dirs_up(const char *path, size_t stop_len)
{
    char *tmp = mlops__strdup(path);
    if (!tmp)
        return mlops__error_oom();
    int rc = mlops__fsb_fsync_dirs_up_in(tmp, stop_len);
    mlops__free(tmp);
    return rc;
}

int mlops__fsb_fsync_dirs_up_in(char *tmp, size_t stop_len)
{
    int rc = 0;
    size_t len = strlen(tmp);
    for (;;) {
        int e = mlops__fs_fsync_dir(tmp);
        if (e < 0) {
            rc = mlops__error_errno(-e, "cannot fsync directory '%s'", tmp);
            break;
        }
        while (len > 0 && tmp[len - 1] != '/')
            len--;
        while (len > 0 && tmp[len - 1] == '/')
            len--;
        if (len < stop_len || len == 0)
            break;
        tmp[len] = '\0';
    }
    return rc;
}

int mlops__fsb_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mlops__fsb_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int mlops__fsb_name_beside(char **out, const char *path, const char *kind)
{
    char rnd[17];
    int e = mlops__fs_random_hex(rnd, 8);
    if (e < 0)
        return mlops__error_errno(-e, "cannot get random bytes");
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) : 0;
    size_t n = (size_t)dir_len + strlen(kind) + sizeof rnd + 1;
    char *name = mlops__malloc(n);
    if (!name)
        return mlops__error_oom();
    snprintf(name, n, "%.*s/%s%s", dir_len, path, kind, rnd);
    *out = name;
    return 0;
}

int mlops__fsb_fsync_file(const char *path, int missing_ok)
{
    int e = mlops__fs_fsync_path(path);
    if (e == -ENOENT && missing_ok)
        return 0;
    return e < 0 ? mlops__error_errno(-e, "cannot fsync '%s'", path) : 0;
}

int mlops__fsb_open_read(int *out_fd, const char *path, const char *kind, const char *name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return mlops__error_set(MLOPS_ENOTFOUND, "%s '%s' not found", kind, name);
        return mlops__error_errno(errno, "cannot open '%s'", path);
    }
    *out_fd = fd;
    return 0;
}
