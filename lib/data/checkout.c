/*
 * mlops_data_checkout: makes a directory hold a version.
 *
 * Two phases. Phase 1 (checkout_validate.c) loads and checks every
 * manifest and inspects the destination without touching it; anything it
 * refuses leaves the destination exactly as it was. Phase 2
 * (checkout_apply.c, link_cache.c) writes, with directory-relative calls
 * that never follow a symlink. Afterwards every file written or found
 * matching is recorded in the destination's stat cache, so that a status
 * right after needs no reads (once the racy margin has passed).
 *
 * The destination path itself is the caller's: its parents are followed
 * like any path (and created if missing), but the destination must not be
 * a symlink, and nothing below it is ever reached through one.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "checkout.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/options.h"
#include "common/fs.h"
#include "store/store_internal.h"

int mlops_data_checkout_options_init(mlops_data_checkout_options *opts, unsigned int version)
{
    static const mlops_data_checkout_options defaults = MLOPS_DATA_CHECKOUT_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version,
                               MLOPS_DATA_CHECKOUT_OPTIONS_VERSION, "checkout");
}

static int check_options(const mlops_data_checkout_options *o)
{
    MLOPS__TRY(mlops__options_version(o->version, MLOPS_DATA_CHECKOUT_OPTIONS_VERSION, "checkout"));
    if (o->flags & ~MLOPS_DATA_CHECKOUT_CLEAN)
        return mlops__error_set(MLOPS_EINVALID, "unknown checkout flags 0x%x", o->flags & ~MLOPS_DATA_CHECKOUT_CLEAN);
    if (o->mode != MLOPS_DATA_CHECKOUT_COPY && o->mode != MLOPS_DATA_CHECKOUT_HARDLINK &&
        o->mode != MLOPS_DATA_CHECKOUT_REFLINK)
        return mlops__error_set(MLOPS_EINVALID, "unknown checkout mode %d", (int)o->mode);
    return 0;
}

/* ---- the destination ---------------------------------------------------------- */

typedef struct dest_dir {
    char *path; /* without trailing slashes (lstat would follow a symlink through one) */
    int fd;     /* opened O_NOFOLLOW */
    int exists;
    int fresh;  /* created by this checkout */
} dest_dir;

static int dest_open(dest_dir *d)
{
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->fd >= 0)
        return 0;
    if (errno == ELOOP || errno == ENOTDIR)
        return mlops__error_set(MLOPS_EINVALID, "destination '%s' is a symlink or not a directory", d->path);
    return mlops__error_errno(errno, "cannot open destination '%s'", d->path);
}

/* Phase 1: reads only. */
static int dest_inspect(dest_dir *d, const char *path)
{
    /* The last component is what must not be a symlink, and lstat only
     * looks at a last component: "lnk/", "lnk/." or "lnk/./" would resolve
     * lnk and pass. So trailing slashes and "." components go first, and a
     * last component ".." (whose meaning depends on what lies before it) is
     * refused. */
    size_t len = strlen(path);
    for (;;) {
        while (len > 1 && path[len - 1] == '/')
            len--;
        if (len >= 2 && path[len - 1] == '.' && path[len - 2] == '/')
            len -= 2 - (len == 2); /* "x/." → "x/", "/." → "/" */
        else
            break;
    }
    int dotdot = (len == 2 && path[0] == '.' && path[1] == '.') ||
                 (len >= 3 && path[len - 1] == '.' && path[len - 2] == '.' && path[len - 3] == '/');
    d->fd = -1;
    if (dotdot)
        return mlops__error_set(MLOPS_EINVALID, "destination '%s' ends in '..': name the directory itself", path);
    d->path = mlops__strndup(path, len);
    if (!d->path)
        return mlops__error_oom();
    struct stat st;
    if (lstat(d->path, &st) < 0)
        return errno == ENOENT ? 0 : mlops__error_errno(errno, "cannot stat destination '%s'", d->path);
    if (S_ISLNK(st.st_mode))
        return mlops__error_set(MLOPS_EINVALID, "destination '%s' is a symlink", d->path);
    if (!S_ISDIR(st.st_mode))
        return mlops__error_set(MLOPS_EINVALID, "destination '%s' is not a directory", d->path);
    d->exists = 1;
    return dest_open(d);
}

/* The device a new directory at d->path would be on: its nearest
 * existing ancestor's. */
static int dest_dev(dev_t *out, const dest_dir *d)
{
    if (d->exists) {
        struct stat st;
        if (fstat(d->fd, &st) < 0)
            return mlops__error_errno(errno, "cannot stat destination '%s'", d->path);
        *out = st.st_dev;
        return 0;
    }
    char *p = mlops__strdup(d->path);
    if (!p)
        return mlops__error_oom();
    int rc = 0;
    for (;;) {
        struct stat st;
        if (stat(p, &st) == 0) {
            *out = st.st_dev;
            break;
        }
        char *slash = strrchr(p, '/');
        if (errno != ENOENT || strcmp(p, ".") == 0) {
            rc = mlops__error_errno(errno, "cannot stat '%s'", p);
            break;
        }
        if (!slash)
            strcpy(p, "."); /* p holds at least one byte */
        else
            slash[slash == p] = '\0'; /* "/x" → "/" */
    }
    mlops__free(p);
    return rc;
}

/* Phase 2 starts here: the first write is creating the destination. */
static int dest_create(dest_dir *d)
{
    if (d->exists)
        return 0;
    int made = mkdir(d->path, 0777) == 0;
    if (!made && errno == ENOENT) {
        const char *slash = strrchr(d->path, '/');
        if (slash && slash != d->path) {
            char *parent = mlops__strndup(d->path, (size_t)(slash - d->path));
            if (!parent)
                return mlops__error_oom();
            int e = mlops__fs_mkdir_p(parent);
            mlops__free(parent);
            if (e < 0)
                return mlops__error_errno(-e, "cannot create the parents of '%s'", d->path);
        }
        made = mkdir(d->path, 0777) == 0;
    }
    if (!made && errno != EEXIST)
        return mlops__error_errno(errno, "cannot create destination '%s'", d->path);
    d->fresh = made;
    return dest_open(d);
}

/* ---- the stat cache -------------------------------------------------------------- */

static int record_dir(mlops__statcache_writer *w, const mlops__co_ctx *c, const mlops__co_dir *d, mlops__buf *path,
                      size_t *ordinal)
{
    size_t len = path->len;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->tree.count; i++) {
        const mlops__tree_entry *e = &d->tree.entries[i];
        if (e->type == MLOPS_DATA_SYMLINK)
            continue;
        rc = mlops__buf_printf(path, "%s%.*s", len ? "/" : "", (int)e->name_len, e->name);
        if (rc == 0 && e->type == MLOPS_DATA_DIR)
            rc = record_dir(w, c, d->child[i], path, ordinal);
        else if (rc == 0 && c->have_key[(*ordinal)++])
            rc = mlops__statcache_writer_add(w, path->ptr, &c->keys[*ordinal - 1], &e->id);
        path->len = len;
        path->ptr[len] = '\0';
    }
    return rc;
}

/* Every file written or found matching, in tree order, taken at taken_ns
 * (read before phase 2: files written after it are racy until the margin
 * has passed, and are read once more by the next status). */
static int record_cache(const mlops__co_ctx *c, const char *dest, int64_t taken_ns)
{
    mlops__statcache_writer *w = NULL;
    MLOPS__TRY(mlops__statcache_writer_new(&w, c->store, dest, taken_ns));
    mlops__buf path = MLOPS__BUF_INIT;
    size_t ordinal = 0;
    int rc = mlops__buf_puts(&path, "");
    if (rc == 0)
        rc = record_dir(w, c, c->plan->root, &path, &ordinal);
    if (rc == 0)
        rc = mlops__statcache_writer_commit(w);
    mlops__statcache_writer_free(w);
    mlops__buf_dispose(&path);
    return rc;
}

/* ---- the call ------------------------------------------------------------------- */

static int ctx_init(mlops__co_ctx *c, mlops_store *store, const mlops__co_plan *plan,
                    const mlops_data_checkout_options *o)
{
    memset(c, 0, sizeof *c);
    c->store = store;
    c->plan = plan;
    c->mode = o->mode;
    c->clean = (o->flags & MLOPS_DATA_CHECKOUT_CLEAN) != 0;
    c->full = store->opts.durability == MLOPS_DURABILITY_FULL;
    c->progress = o->progress;
    c->progress_payload = o->progress_payload;
    atomic_init(&c->no_tmpfile, access("/proc/self/fd", X_OK) != 0); /* linkat of an O_TMPFILE needs it */
    atomic_init(&c->no_reflink, 0);
    if (plan->single && c->clean)
        return mlops__error_set(MLOPS_EINVALID, "CLEAN needs a directory to check out; subpath '%s' is not one",
                                o->subpath);
    if (o->mode == MLOPS_DATA_CHECKOUT_HARDLINK ||
        (o->mode == MLOPS_DATA_CHECKOUT_REFLINK && mlops__store_fs_root(store) && !store->readonly))
        MLOPS__TRY(mlops__link_cache_open(&c->links, store));
    if (store->readonly || plan->files == 0)
        return 0; /* a read-only store keeps no stat cache */
    c->keys = mlops__calloc((size_t)plan->files, sizeof *c->keys);
    c->have_key = mlops__calloc((size_t)plan->files, 1);
    return c->keys && c->have_key ? 0 : mlops__error_oom();
}

static void ctx_dispose(mlops__co_ctx *c)
{
    mlops__statcache_free(c->cache);
    mlops__link_cache_free(c->links);
    mlops__free(c->keys);
    mlops__free(c->have_key);
}

/* Hard links cannot cross filesystems: refused before anything is written. */
static int check_same_fs(const mlops__co_ctx *c, const dest_dir *d)
{
    dev_t dev = 0;
    if (c->mode != MLOPS_DATA_CHECKOUT_HARDLINK)
        return 0;
    MLOPS__TRY(dest_dev(&dev, d));
    if (dev != mlops__link_cache_dev(c->links))
        return mlops__error_set(MLOPS_EUNSUPPORTED,
                                "hard links need the destination '%s' on the store's filesystem", d->path);
    return 0;
}

int mlops_data_checkout(mlops_data_checkout_info *out, mlops_store *store, const char *ref, const char *dest_path,
                        const mlops_data_checkout_options *opts)
{
    static const mlops_data_checkout_options defaults = MLOPS_DATA_CHECKOUT_OPTIONS_INIT;
    if (out)
        memset(out, 0, sizeof *out);
    if (!store || !ref || !dest_path)
        return mlops__error_set(MLOPS_EINVALID, "data_checkout: NULL argument");
    if (!*dest_path)
        return mlops__error_set(MLOPS_EINVALID, "data_checkout: empty destination");
    if (!opts)
        opts = &defaults;
    MLOPS__TRY(check_options(opts));
    mlops_oid id;
    MLOPS__TRY(mlops__data_resolve_id(&id, store, ref));

    mlops__co_plan plan;
    mlops__co_ctx c;
    dest_dir d = { NULL, -1, 0, 0 };
    int rc = mlops__co_plan_load(&plan, store, &id, opts->subpath);
    if (rc < 0)
        return rc;
    rc = ctx_init(&c, store, &plan, opts);
    if (rc == 0)
        rc = dest_inspect(&d, dest_path);
    if (rc == 0 && d.exists)
        rc = mlops__co_check_dest(&plan, d.fd, c.clean);
    if (rc == 0)
        rc = check_same_fs(&c, &d);
    /* Phase 2. */
    if (rc == 0)
        rc = dest_create(&d);
    if (rc == 0 && c.keys && !d.fresh)
        rc = mlops__statcache_load(&c.cache, store, d.path);
    int64_t taken_ns = mlops__statcache_now_ns();
    if (rc == 0)
        rc = mlops__co_apply(&c, d.fd, d.fresh);
    if (rc == 0 && c.keys)
        rc = record_cache(&c, d.path, taken_ns);
    if (out)
        *out = c.info;
    if (d.fd >= 0)
        close(d.fd);
    mlops__free(d.path);
    ctx_dispose(&c);
    mlops__co_plan_dispose(&plan);
    return rc;
}
