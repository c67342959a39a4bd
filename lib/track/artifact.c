/* Artifacts: files (or directory trees) stored as objects and named in the
 * run record, whose links keep them alive through gc.
 *
 * A directory is scanned and every name checked before the first byte is
 * stored, so a tree holding one unacceptable name is refused as a whole
 * instead of being half logged. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "track_internal.h"

#define DIR_TYPE "track.artifact-dir"

/* One file to store: where it is, the name it gets, and (once stored) its
 * id. The size is the one the store reports, not a possibly stale stat. */
typedef struct art_entry {
    char *path;
    char *name;
    mlops_oid id;
    uint64_t size;
} art_entry;

typedef struct art_list {
    art_entry *items;
    size_t n, cap;
} art_list;

static int art_add(art_list *l, const char *path, const char *name)
{
    if (l->n == l->cap) {
        art_entry *p = mlops__grow_array(l->items, &l->cap, sizeof *p, 16);
        if (!p)
            return mlops__error_oom();
        l->items = p;
    }
    char *p = mlops__strdup(path), *n = mlops__strdup(name);
    if (!p || !n) {
        mlops__free(p);
        mlops__free(n);
        return mlops__error_oom();
    }
    l->items[l->n++] = (art_entry){ p, n, { { 0 } }, 0 };
    return 0;
}

static void art_dispose(art_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        mlops__free(l->items[i].path);
        mlops__free(l->items[i].name);
    }
    mlops__free(l->items);
}

/* Collects the regular files under dir. Symlinks are never followed (an
 * artifact cannot pull in files from outside the tree, nor loop) and
 * special files (fifos, devices, sockets) are skipped. */
static int scan_tree(art_list *l, const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return mlops__error_errno(errno, "cannot open directory '%s'", dir);
    int rc = 0;
    struct dirent *e;
    mlops__buf path = MLOPS__BUF_INIT, sub = MLOPS__BUF_INIT;
    errno = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        mlops__buf_clear(&path);
        mlops__buf_clear(&sub);
        struct stat st;
        if ((rc = mlops__buf_printf(&path, "%s/%s", dir, e->d_name)) < 0 ||
            (rc = mlops__buf_printf(&sub, "%s/%s", name, e->d_name)) < 0)
            break;
        if (lstat(path.ptr, &st) < 0)
            rc = mlops__error_errno(errno, "cannot stat '%s'", path.ptr);
        else if (S_ISDIR(st.st_mode))
            rc = scan_tree(l, path.ptr, sub.ptr);
        else if (S_ISREG(st.st_mode))
            rc = art_add(l, path.ptr, sub.ptr);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = mlops__error_errno(errno, "cannot read directory '%s'", dir);
    closedir(d);
    mlops__buf_dispose(&path);
    mlops__buf_dispose(&sub);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const art_entry *)a)->name, ((const art_entry *)b)->name);
}

static int store_all(art_list *l, mlops_store *s)
{
    for (size_t i = 0; i < l->n; i++) {
        MLOPS__TRY(mlops_object_put_file(&l->items[i].id, s, l->items[i].path));
        MLOPS__TRY(mlops_object_size(&l->items[i].size, s, &l->items[i].id));
    }
    return 0;
}

/* A directory's listing: links to every file (so gc keeps them with the
 * listing alone), body "name\n" per file in name order. */
static int put_listing(mlops_oid *out, mlops_store *s, const art_list *l)
{
    mlops__buf body = MLOPS__BUF_INIT;
    mlops_oid *links = mlops__calloc(l->n ? l->n : 1, sizeof *links);
    int rc = links ? 0 : mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        links[i] = l->items[i].id;
        rc = mlops__buf_printf(&body, "%s\n", l->items[i].name);
    }
    if (rc == 0)
        rc = mlops_object_put_structured(out, s, DIR_TYPE, links, l->n, body.ptr ? body.ptr : "", body.len);
    mlops__free(links);
    mlops__buf_dispose(&body);
    return rc;
}

/* 1 if file a would be a directory on b's path ("a" and "a/b"). */
static int is_dir_of(const char *a, const char *b)
{
    size_t n = strlen(a);
    return strncmp(a, b, n) == 0 && b[n] == '/';
}

/* A run's artifacts are files of one tree: no name may be a directory of
 * another (the export, and MLflow, could not lay both out). */
static int check_tree(const mlops_run_info *info, const art_list *l)
{
    for (size_t j = 0; j < l->n; j++)
        for (size_t i = 0; i < info->nartifacts; i++) {
            const char *old = info->artifacts[i].name, *neu = l->items[j].name;
            if (is_dir_of(old, neu) || is_dir_of(neu, old))
                return mlops__error_set(MLOPS_EEXISTS, "run %s: artifact '%s' and '%s' cannot both exist (one is a "
                                        "file where the other needs a directory)",
                                        info->run_id, old, neu);
        }
    return 0;
}

/* Edit callback: merges the new entries (sorted by name) into the record's
 * (sorted by name); a new entry replaces one of the same name, as logging
 * a file again under its name does in MLflow. */
static int merge_artifacts(mlops_run_info *info, void *payload)
{
    const art_list *l = payload;
    if (info->status != MLOPS_RUN_RUNNING)
        return mlops__error_set(MLOPS_EINVALID, "run %s has ended: no more logging", info->run_id);
    MLOPS__TRY(check_tree(info, l));
    size_t cap = info->nartifacts + l->n, n = 0, i = 0, j = 0;
    mlops_artifact *out = mlops__calloc(cap ? cap : 1, sizeof *out);
    if (!out)
        return mlops__error_oom();
    char **fresh = mlops__calloc(l->n ? l->n : 1, sizeof *fresh);
    if (!fresh) {
        mlops__free(out);
        return mlops__error_oom();
    }
    for (size_t k = 0; k < l->n; k++)
        if (!(fresh[k] = mlops__strdup(l->items[k].name))) {
            for (size_t m = 0; m < k; m++)
                mlops__free(fresh[m]);
            mlops__free(fresh);
            mlops__free(out);
            return mlops__error_oom();
        }
    while (i < info->nartifacts || j < l->n) {
        int c = j == l->n ? -1 : i == info->nartifacts ? 1 : strcmp(info->artifacts[i].name, l->items[j].name);
        if (c < 0) {
            out[n++] = info->artifacts[i++];
            continue;
        }
        if (c == 0)
            mlops__free(info->artifacts[i++].name);
        out[n++] = (mlops_artifact){ fresh[j], l->items[j].id, l->items[j].size };
        j++;
    }
    mlops__free(fresh);
    mlops__free(info->artifacts);
    info->artifacts = out;
    info->nartifacts = n;
    return 0;
}

/* The default name: the last component of path, trailing slashes aside. */
static int base_name(char **out, const char *path)
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (!(*out = mlops__strndup(path + start, end - start)))
        return mlops__error_oom();
    return 0;
}

int mlops_run_log_artifact(mlops_oid *out_id, mlops_run *run, const char *path, const char *name)
{
    if (!run || !path)
        return mlops__error_set(MLOPS_EINVALID, "run_log_artifact: NULL argument");
    pthread_mutex_lock(&run->lock);
    int ended = run->ended;
    pthread_mutex_unlock(&run->lock);
    if (ended)
        return mlops__error_set(MLOPS_EINVALID, "run %s has ended: no more logging", run->run_id);
    struct stat st;
    if (stat(path, &st) < 0) /* the path itself may be a symlink: the caller named it */
        return mlops__error_errno(errno, "cannot stat artifact '%s'", path);
    char *base = NULL;
    if (!name) {
        MLOPS__TRY(base_name(&base, path));
        name = base;
    }
    art_list l = { NULL, 0, 0 };
    int rc = mlops__track_check_key(name, "artifact name"), dir = 0;
    if (rc < 0) {
    } else if (S_ISREG(st.st_mode)) {
        rc = art_add(&l, path, name);
    } else if (S_ISDIR(st.st_mode)) {
        dir = 1;
        rc = scan_tree(&l, path, name);
    } else {
        rc = mlops__error_set(MLOPS_EINVALID, "artifact '%s' is neither a regular file nor a directory", path);
    }
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = mlops__track_check_key(l.items[i].name, "artifact name");
    if (rc == 0 && l.n > 1)
        qsort(l.items, l.n, sizeof *l.items, by_name);
    if (rc == 0)
        rc = store_all(&l, run->store);
    mlops_oid id;
    if (rc == 0 && dir)
        rc = put_listing(&id, run->store, &l);
    else if (rc == 0)
        id = l.items[0].id;
    if (rc == 0)
        rc = mlops__run_record_update(run->store, run->run_id, merge_artifacts, &l);
    if (rc == 0 && out_id)
        *out_id = id;
    art_dispose(&l);
    mlops__free(base);
    return rc;
}
