/*
 * Checkout, phase 1: everything that can be refused is refused here,
 * before a single byte is written.
 *
 * The version: every manifest of the checked-out (sub)tree is loaded with
 * mlops__tree_load, which refuses bad names, duplicates, unsorted entries,
 * special types, links sections that disagree with the entries and symlink
 * targets that could leave the tree at their depth. The depth is counted
 * from the checked-out directory, so a subpath checkout cannot escape
 * either. Each directory entry's totals must equal its manifest's: the
 * root's totals are then exact (progress, the per-file arrays), and a
 * crafted snapshot that shares subtrees to name billions of paths is
 * stopped by MLOPS__CO_ENTRIES_MAX long before memory runs out.
 *
 * The destination: only read here (readdir, fstatat, openat with
 * O_NOFOLLOW). Decisions, documented in data.h and docs:
 *  - a symlink where the version has a directory is MLOPS_EINVALID
 *    (descending through it would write wherever it points; replacing it
 *    silently could hide an attack);
 *  - a regular file or special file where the version has a directory is
 *    replaced by the directory, as a changed file is replaced by its new
 *    content: the version names that path;
 *  - a directory where the version has a file or a symlink is replaced if
 *    it is empty or with CLEAN; a non-empty one without CLEAN is
 *    MLOPS_EEXISTS (a whole tree of the user's is not dropped unasked).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "checkout.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

/* (manifest id, depth) → its loaded directory: a subtree shared by a
 * crafted snapshot is loaded once per depth, however often it is named. */
typedef struct memo_slot {
    mlops_oid id;
    unsigned depth;
    mlops__co_dir *dir; /* NULL: free slot */
} memo_slot;

typedef struct loader {
    mlops_store *store;
    mlops__co_plan *plan;
    memo_slot *memo;
    size_t memo_cap, memo_used;
    uint64_t loaded;  /* entries held in memory */
    mlops__buf path;  /* the directory being loaded, for messages */
} loader;

void mlops__co_plan_dispose(mlops__co_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ndirs; i++) {
        mlops__free(p->dirs[i]->child);
        mlops__tree_dispose(&p->dirs[i]->tree);
        mlops__free(p->dirs[i]);
    }
    mlops__free(p->dirs);
    mlops__tree_dispose(&p->holder);
    memset(p, 0, sizeof *p);
}

static int plan_add(mlops__co_plan *p, mlops__co_dir **out)
{
    if (p->ndirs == p->cap) {
        mlops__co_dir **dirs = mlops__grow_array(p->dirs, &p->cap, sizeof *dirs, 16);
        if (!dirs)
            return mlops__error_oom();
        p->dirs = dirs;
    }
    mlops__co_dir *d = mlops__calloc(1, sizeof *d);
    if (!d)
        return mlops__error_oom();
    p->dirs[p->ndirs++] = d;
    *out = d;
    return 0;
}

static size_t memo_index(const loader *L, const mlops_oid *id, unsigned depth)
{
    uint64_t h;
    memcpy(&h, id->id, sizeof h); /* a SHA-256: already uniform */
    size_t i = (size_t)(h ^ (uint64_t)depth * 0x9e3779b97f4a7c15ull) & (L->memo_cap - 1);
    while (L->memo[i].dir && (L->memo[i].depth != depth || mlops_oid_cmp(&L->memo[i].id, id) != 0))
        i = (i + 1) & (L->memo_cap - 1);
    return i;
}

static int memo_put(loader *L, const mlops_oid *id, unsigned depth, mlops__co_dir *d)
{
    if (2 * (L->memo_used + 1) > L->memo_cap) {
        loader bigger = *L;
        bigger.memo_cap = L->memo_cap ? L->memo_cap * 2 : 64;
        bigger.memo = mlops__calloc(bigger.memo_cap, sizeof *bigger.memo);
        if (!bigger.memo)
            return mlops__error_oom();
        for (size_t i = 0; i < L->memo_cap; i++)
            if (L->memo[i].dir)
                bigger.memo[memo_index(&bigger, &L->memo[i].id, L->memo[i].depth)] = L->memo[i];
        mlops__free(L->memo);
        L->memo = bigger.memo;
        L->memo_cap = bigger.memo_cap;
    }
    memo_slot *slot = &L->memo[memo_index(L, id, depth)];
    slot->id = *id;
    slot->depth = depth;
    slot->dir = d;
    L->memo_used++;
    return 0;
}

static const char *shown(const loader *L)
{
    return L->path.len ? L->path.ptr : ".";
}

/* A directory entry's totals are a claim about its manifest: checked, they
 * make the root's totals exact. */
static int check_totals(const loader *L, const mlops__co_dir *d, const mlops__tree_entry *e)
{
    if (d->tree.files != e->files || d->tree.size != e->size)
        return mlops__error_set(MLOPS_EINVALID, "invalid manifest: totals of directory '%s' disagree with its content",
                                shown(L));
    return 0;
}

static int too_many(const loader *L)
{
    return mlops__error_set(MLOPS_EINVALID, "snapshot names more than %llu entries (at '%s')",
                            (unsigned long long)MLOPS__CO_ENTRIES_MAX, shown(L));
}

static int load_dir(loader *L, mlops__co_dir **out, const mlops_oid *id, unsigned depth);

static int load_child(loader *L, mlops__co_dir *d, size_t i, unsigned depth)
{
    const mlops__tree_entry *e = &d->tree.entries[i];
    size_t len = L->path.len;
    int rc = mlops__buf_printf(&L->path, "%s%.*s", len ? "/" : "", (int)e->name_len, e->name);
    if (rc == 0)
        rc = load_dir(L, &d->child[i], &e->id, depth + 1);
    if (rc == 0)
        rc = check_totals(L, d->child[i], e);
    if (rc == 0 && (d->expanded += d->child[i]->expanded) > MLOPS__CO_ENTRIES_MAX)
        rc = too_many(L);
    L->path.len = len;
    if (L->path.ptr)
        L->path.ptr[len] = '\0';
    return rc;
}

static int load_dir(loader *L, mlops__co_dir **out, const mlops_oid *id, unsigned depth)
{
    if (depth > MLOPS__CO_DEPTH_MAX)
        return mlops__error_set(MLOPS_EINVALID, "snapshot is deeper than %d directories at '%s'",
                                MLOPS__CO_DEPTH_MAX, shown(L));
    if (L->memo_cap) {
        memo_slot *slot = &L->memo[memo_index(L, id, depth)];
        if (slot->dir) {
            *out = slot->dir;
            return 0;
        }
    }
    mlops__co_dir *d = NULL;
    MLOPS__TRY(plan_add(L->plan, &d));
    int rc = mlops__tree_load(&d->tree, L->store, id, depth);
    if (rc < 0)
        return mlops__error_prefix(rc, "directory '%s'", shown(L));
    L->loaded += d->tree.count;
    d->expanded = d->tree.count;
    if (L->loaded > MLOPS__CO_ENTRIES_MAX)
        return too_many(L);
    d->child = mlops__calloc(d->tree.count ? d->tree.count : 1, sizeof *d->child);
    if (!d->child)
        return mlops__error_oom();
    for (size_t i = 0; i < d->tree.count; i++)
        if (d->tree.entries[i].type == MLOPS_DATA_DIR)
            MLOPS__TRY(load_child(L, d, i, depth));
    MLOPS__TRY(memo_put(L, id, depth, d));
    *out = d;
    return 0;
}

/* The plan of a subpath naming a file or a symlink: a root holding that
 * one entry, which points into the parent manifest kept in holder. */
static int plan_single(mlops__co_plan *p, mlops__tree *parent, const mlops__tree_entry *e, const char *subpath)
{
    if (e->type == MLOPS_DATA_SYMLINK) {
        int rc = mlops__data_link_target_check(e->target, e->target_len, 0);
        if (rc < 0)
            return mlops__error_prefix(rc, "subpath '%s'", subpath);
    }
    MLOPS__TRY(plan_add(p, &p->root));
    p->root->tree.entries = mlops__memdup(e, sizeof *e);
    p->root->child = mlops__calloc(1, sizeof *p->root->child);
    if (!p->root->tree.entries || !p->root->child)
        return mlops__error_oom();
    p->root->tree.count = 1;
    p->root->tree.files = e->files;
    p->root->tree.size = e->type == MLOPS_DATA_FILE ? e->size : 0;
    p->root->expanded = 1;
    p->holder = *parent;
    memset(parent, 0, sizeof *parent);
    p->single = 1;
    return 0;
}

/* Walks subpath's components down from the root manifest (each loaded at
 * its own depth) and plans the entry at its end. */
static int plan_subpath(mlops__co_plan *p, loader *L, const mlops_oid *snapshot, const char *subpath)
{
    mlops__tree cur, next;
    memset(&next, 0, sizeof next);
    MLOPS__TRY(mlops__tree_load(&cur, L->store, snapshot, 0));
    int rc = 0;
    unsigned depth = 0;
    for (const char *c = subpath;; depth++) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        rc = mlops__data_name_check(c, n);
        if (rc < 0) {
            rc = mlops__error_prefix(rc, "invalid subpath '%s'", subpath);
            break;
        }
        const mlops__tree_entry *e = mlops__tree_find(&cur, c, n);
        if (!e || (slash && e->type == MLOPS_DATA_FILE)) {
            rc = mlops__error_set(MLOPS_ENOTFOUND, "subpath '%s': no directory or file '%.*s' in the snapshot",
                                  subpath, (int)(c + n - subpath), subpath);
            break;
        }
        if (slash && e->type == MLOPS_DATA_SYMLINK) {
            rc = mlops__error_set(MLOPS_EINVALID, "subpath '%s' passes through the symlink '%.*s'", subpath,
                                  (int)(c + n - subpath), subpath);
            break;
        }
        if (!slash && e->type != MLOPS_DATA_DIR) {
            rc = plan_single(p, &cur, e, subpath);
            break;
        }
        if (!slash) { /* the checked-out directory: its links count depth from here */
            rc = mlops__buf_put(&L->path, subpath, strlen(subpath));
            if (rc == 0)
                rc = load_dir(L, &p->root, &e->id, 0);
            if (rc == 0)
                rc = check_totals(L, p->root, e);
            break;
        }
        rc = mlops__tree_load(&next, L->store, &e->id, depth + 1);
        if (rc < 0)
            break;
        mlops__tree_dispose(&cur);
        cur = next;
        memset(&next, 0, sizeof next);
        c = slash + 1;
    }
    mlops__tree_dispose(&cur);
    return rc;
}

int mlops__co_plan_load(mlops__co_plan *out, mlops_store *store, const mlops_oid *snapshot, const char *subpath)
{
    memset(out, 0, sizeof *out);
    loader L = { store, out, NULL, 0, 0, 0, MLOPS__BUF_INIT };
    int rc;
    if (!subpath || !*subpath)
        rc = load_dir(&L, &out->root, snapshot, 0);
    else
        rc = plan_subpath(out, &L, snapshot, subpath);
    mlops__buf_dispose(&L.path);
    mlops__free(L.memo);
    if (rc < 0) {
        mlops__co_plan_dispose(out);
        return rc;
    }
    out->files = out->root->tree.files;
    out->bytes = out->root->tree.size;
    return 0;
}

/* ---- the destination ------------------------------------------------------ */

/* 1 if dirfd/name is an empty directory, 0 if not (or not a directory). */
static int dir_is_empty(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    int empty = 1;
    struct dirent *de;
    while (empty && (de = readdir(d)) != NULL)
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* The type of a directory entry without following it (DT_*), or -errno. */
static int entry_type(int dirfd, const struct dirent *de)
{
    if (de->d_type != DT_UNKNOWN)
        return de->d_type;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
}

static int check_dir(const mlops__co_dir *d, int fd, int clean, mlops__buf *path);

static int check_entry(const mlops__co_dir *d, size_t i, int fd, const struct dirent *de, int clean,
                       mlops__buf *path)
{
    const mlops__tree_entry *e = &d->tree.entries[i];
    int type = entry_type(fd, de);
    if (type == -ENOENT)
        return 0; /* gone meanwhile: phase 2 creates it */
    if (type < 0)
        return mlops__error_errno(-type, "cannot stat '%s%s%s'", path->ptr ? path->ptr : "",
                                  path->len ? "/" : "", de->d_name);
    size_t len = path->len;
    MLOPS__TRY(mlops__buf_printf(path, "%s%s", len ? "/" : "", de->d_name));
    int rc = 0;
    if (e->type == MLOPS_DATA_DIR && type == DT_LNK) {
        rc = mlops__error_set(MLOPS_EINVALID, "destination has a symlink at '%s' where the version has a directory",
                              path->ptr);
    } else if (e->type == MLOPS_DATA_DIR && type == DT_DIR) {
        int cfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0) {
            rc = errno == ELOOP || errno == ENOTDIR
                     ? mlops__error_set(MLOPS_EINVALID, "destination '%s' changed into a symlink", path->ptr)
                     : errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot open directory '%s'", path->ptr);
        } else {
            rc = check_dir(d->child[i], cfd, clean, path);
            close(cfd);
        }
    } else if (e->type != MLOPS_DATA_DIR && type == DT_DIR && !clean && !dir_is_empty(fd, de->d_name)) {
        rc = mlops__error_set(MLOPS_EEXISTS,
                              "destination has a non-empty directory at '%s' where the version has a %s "
                              "(CLEAN replaces it)",
                              path->ptr, e->type == MLOPS_DATA_FILE ? "file" : "symlink");
    }
    path->len = len;
    path->ptr[len] = '\0';
    return rc;
}

int mlops__co_opendir(DIR **out, int fd, const char *path)
{
    /* Not dup(): a duplicate shares the read offset of the directory, and
     * phase 1 reads each to its end before phase 2 reads it again. */
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *out = dfd < 0 ? NULL : fdopendir(dfd);
    if (*out)
        return 0;
    int e = errno;
    if (dfd >= 0)
        close(dfd);
    return mlops__error_errno(e, "cannot read directory '%s'", *path ? path : ".");
}

static int check_dir(const mlops__co_dir *d, int fd, int clean, mlops__buf *path)
{
    DIR *dir = NULL;
    MLOPS__TRY(mlops__co_opendir(&dir, fd, path->len ? path->ptr : ""));
    int rc = 0;
    struct dirent *de;
    for (errno = 0; rc == 0 && (de = readdir(dir)) != NULL; errno = 0) {
        const mlops__tree_entry *e = mlops__tree_find(&d->tree, de->d_name, strlen(de->d_name));
        if (e)
            rc = check_entry(d, (size_t)(e - d->tree.entries), fd, de, clean, path);
    }
    if (rc == 0 && errno)
        rc = mlops__error_errno(errno, "cannot read directory '%s'", path->len ? path->ptr : ".");
    closedir(dir);
    return rc;
}

int mlops__co_check_dest(const mlops__co_plan *plan, int destfd, int clean)
{
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = check_dir(plan->root, destfd, clean, &path);
    mlops__buf_dispose(&path);
    return rc;
}
