/*
 * mlops_data_prune_cache: frees the raw copies that hard-link and reflink
 * checkouts keep in <store>/data-cache/<xx>/ (link_cache.c) once no
 * checked-out file links them.
 *
 * A copy's link count says whether a hard-link checkout still uses it: 1
 * is the cache's own name. Its ctime says how recently that changed (link
 * and unlink both move it; mtime is the cache's sentinel), so a copy just
 * made by a checkout that has not linked it yet, or just released, is
 * spared for the grace period. Copies made for reflink checkouts are never
 * linked: they go once past the grace period (the clones keep their data;
 * extents they share with the copy are freed only when they go too, so
 * removed_bytes overstates what such a removal frees).
 *
 * Races with a running checkout are survivable, not prevented: between
 * the stat and the unlink a checkout may link the copy or replace it, and
 * prune then removes a name in use; the checkout that finds a copy gone
 * makes it again, and the file already linked keeps its inode. A temp
 * file is removed only if its flock can be taken (its writer is gone; see
 * tmp_open_locked in link_cache.c). Fan-out directories are kept, since a
 * checkout may have just created one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkout.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "mlops/data.h"
#include "store/store_internal.h"

typedef struct prune_ctx {
    int64_t cutoff; /* ctime at or before this (seconds): old enough */
    int dry_run;
    const char *path; /* the cache, for messages */
    mlops_data_cache_report *rep;
} prune_ctx;

static int is_fan(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* 1 if removed (a dry run: would be), 0 if already gone, else an error
 * naming it. */
static int remove_entry(const prune_ctx *c, int fan, const char *fan_name, const char *name)
{
    if (c->dry_run || unlinkat(fan, name, 0) == 0)
        return 1;
    if (errno == ENOENT)
        return 0;
    return mlops__error_errno(errno, "cannot remove '%s/%s/%s'", c->path, fan_name, name);
}

/* A temp file of the cache: removed (1) only if no writer holds its lock,
 * 0 if in use or gone, or an error. */
static int remove_temp(const prune_ctx *c, int fan, const char *fan_name, const char *name)
{
    int fd = openat(fan, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot open '%s/%s/%s'", c->path, fan_name, name);
    int rc = 0;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        rc = remove_entry(c, fan, fan_name, name); /* under the lock: a writer cannot take it meanwhile */
    else if (errno != EWOULDBLOCK)
        rc = mlops__error_errno(errno, "cannot lock '%s/%s/%s'", c->path, fan_name, name);
    close(fd);
    return rc;
}

static int prune_fan(const prune_ctx *c, int cache_fd, const char *fan_name)
{
    int fan = openat(cache_fd, fan_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* ELOOP, ENOTDIR: a symlink or a file of that name is not the cache's */
    if (fan < 0)
        return errno == ENOENT || errno == ELOOP || errno == ENOTDIR
                   ? 0
                   : mlops__error_errno(errno, "cannot open '%s/%s'", c->path, fan_name);
    DIR *d = fdopendir(fan);
    if (!d) {
        int e = errno;
        close(fan);
        return mlops__error_errno(e, "cannot read '%s/%s'", c->path, fan_name);
    }
    int rc = 0;
    struct dirent *ent;
    mlops_data_cache_report *r = c->rep;
    while (rc == 0 && (errno = 0, ent = readdir(d)) != NULL) {
        const char *name = ent->d_name;
        struct stat st;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        if (fstatat(fan, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                rc = mlops__error_errno(errno, "cannot stat '%s/%s/%s'", c->path, fan_name, name);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue; /* not the cache's */
        int old = (int64_t)st.st_ctim.tv_sec <= c->cutoff, gone = 0;
        if (strncmp(name, MLOPS__CO_TMP_PREFIX, strlen(MLOPS__CO_TMP_PREFIX)) == 0) {
            if (old && (gone = remove_temp(c, fan, fan_name, name)) > 0)
                r->leftovers++;
            rc = old && gone < 0 ? gone : 0;
            continue;
        }
        r->copies++;
        if (st.st_nlink > 1) {
            r->linked++;
        } else if (!old) {
            r->young++;
        } else if ((gone = remove_entry(c, fan, fan_name, name)) > 0) {
            r->removed++;
            r->removed_bytes += (uint64_t)st.st_size;
        } else {
            rc = gone;
        }
    }
    if (rc == 0 && errno != 0)
        rc = mlops__error_errno(errno, "cannot read '%s/%s'", c->path, fan_name);
    closedir(d);
    return rc;
}

int mlops_data_prune_cache(mlops_data_cache_report *out, mlops_store *store, uint64_t grace_seconds,
                           unsigned int flags)
{
    mlops_data_cache_report rep;
    memset(&rep, 0, sizeof rep);
    if (out)
        *out = rep;
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "data_prune_cache: NULL store");
    if (flags & ~MLOPS_DATA_PRUNE_DRY_RUN)
        return mlops__error_set(MLOPS_EINVALID, "data_prune_cache: unknown flags 0x%x", flags);
    const char *root = mlops__store_fs_root(store);
    if (!root)
        return 0; /* no directory, no cache */
    int dry_run = (flags & MLOPS_DATA_PRUNE_DRY_RUN) != 0;
    if (!dry_run)
        MLOPS__TRY(mlops__store_check_writable(store));
    size_t n = strlen(root) + sizeof MLOPS__LINK_CACHE_DIR + 1;
    char *path = mlops__malloc(n);
    if (!path)
        return mlops__error_oom();
    snprintf(path, n, "%s/" MLOPS__LINK_CACHE_DIR, root);
    int64_t now = mlops__time_ms() / 1000;
    prune_ctx c = { grace_seconds > (uint64_t)now ? INT64_MIN : now - (int64_t)grace_seconds, dry_run, path, &rep };
    int rc = 0;
    int cache_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = cache_fd >= 0 ? fdopendir(cache_fd) : NULL;
    if (cache_fd < 0 && errno != ENOENT)
        rc = mlops__error_errno(errno, "cannot open '%s'", path);
    if (cache_fd >= 0 && !d) {
        rc = mlops__error_errno(errno, "cannot read '%s'", path);
        close(cache_fd);
    }
    struct dirent *ent;
    while (d && rc == 0 && (errno = 0, ent = readdir(d)) != NULL)
        if (is_fan(ent->d_name))
            rc = prune_fan(&c, cache_fd, ent->d_name);
    if (d && rc == 0 && errno != 0)
        rc = mlops__error_errno(errno, "cannot read '%s'", path);
    if (d)
        closedir(d);
    mlops__free(path);
    if (out)
        *out = rep;
    return rc;
}
