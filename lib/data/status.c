/*
 * mlops_data_status: the changes from a version to a working tree.
 *
 * The working tree is scanned (lstat only) and its ids computed without
 * storing anything; the stat cache vouches for unchanged files, so only
 * new or touched files are read. The diff then runs against the scanned
 * tree's in-memory manifests: when nothing changed the two root ids are
 * equal and the diff itself is O(1), so the cost of status is the scan
 * plus the cache lookups.
 */
#include "common/error.h"
#include "common/options.h"
#include "tree_diff.h"
#include "wtree.h"

#define STATUS_FLAGS (MLOPS_DATA_STATUS_NO_UPDATE | MLOPS_DATA_NO_CACHE)

int mlops_data_status_options_init(mlops_data_status_options *opts, unsigned int version)
{
    static const mlops_data_status_options defaults = MLOPS_DATA_STATUS_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_DATA_STATUS_OPTIONS_VERSION, "status");
}

typedef struct status_src {
    const mlops__wtree *wt;
    mlops_store *store;
} status_src;

/* The working tree's manifests exist only in memory; the version's are in
 * the store, unless the working tree has the same directory (then either
 * will do and memory is cheaper). */
static int status_load(mlops__tree *out, const mlops_oid *id, unsigned depth, void *ctx)
{
    const status_src *src = ctx;
    int rc = mlops__wtree_dir_tree(out, src->wt, id);
    if (rc != MLOPS_ENOTFOUND)
        return rc;
    return mlops__tree_load(out, src->store, id, depth);
}

static int check_options(mlops_data_status_options *o, const mlops_data_status_options *opts)
{
    if (!opts)
        return mlops_data_status_options_init(o, MLOPS_DATA_STATUS_OPTIONS_VERSION);
    MLOPS__TRY(mlops__options_version(opts->version, MLOPS_DATA_STATUS_OPTIONS_VERSION, "status"));
    if (opts->flags & ~STATUS_FLAGS)
        return mlops__error_set(MLOPS_EINVALID, "status: unknown flags 0x%x", opts->flags & ~STATUS_FLAGS);
    *o = *opts;
    return 0;
}

/*
 * The stat cache is refreshed only when status had to read a file: if the
 * cache vouched for every file, rewriting it (an object as large as the
 * tree's file list, and a ref update that is a commit point) would only
 * make the common case slow. A failure to save it is not a failure of
 * status, whose answer is right either way; the next status just reads
 * the same files again. The last error then says why the cache was not
 * saved (it is, after all, the last failure on this thread).
 */
static void refresh_cache(const mlops__wtree *wt, mlops_store *store, const mlops_data_status_options *o,
                          uint64_t files_hashed)
{
    if ((o->flags & STATUS_FLAGS) || files_hashed == 0)
        return;
    int rc = mlops__wtree_cache_save(wt, store);
    if (rc < 0)
        mlops__error_prefix(rc, "status: stat cache not saved (status itself succeeded)");
}

int mlops_data_status(mlops_data_diff **out, mlops_store *store, const char *ref, const char *path,
                      const mlops_data_status_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !store || !ref || !path)
        return mlops__error_set(MLOPS_EINVALID, "data_status: NULL argument");
    mlops_data_status_options o;
    MLOPS__TRY(check_options(&o, opts));
    /* The ref first: a typo fails at once, before a long scan. */
    mlops_oid old_root;
    int rc = mlops__data_resolve_id(&old_root, store, ref);
    if (rc < 0)
        return mlops__error_prefix(rc, "status: '%.200s'", ref);
    mlops__wtree *wt = NULL;
    mlops_data_diff *d = NULL;
    /* Status flags share bits with snapshot flags: pass on only NO_CACHE,
     * and never SKIP_UNREADABLE (an unreadable file is an error here). */
    mlops_data_snapshot_options so = MLOPS_DATA_SNAPSHOT_OPTIONS_INIT;
    so.flags = o.flags & MLOPS_DATA_NO_CACHE;
    so.notice = o.notice;
    so.notice_payload = o.notice_payload;
    mlops_data_snapshot_info info = { { { 0 } }, 0, 0, 0, 0, 0, 0, 0 };
    rc = mlops__wtree_scan(&wt, store, path, so.flags, o.notice, o.notice_payload);
    if (rc == 0)
        rc = mlops__wtree_hash(wt, store, 0, &so, &info);
    if (rc == 0) {
        status_src src = { wt, store };
        rc = mlops__tree_diff(&d, store, &old_root, mlops__wtree_root_id(wt), status_load, &src);
    }
    if (rc == 0) {
        d->files_hashed = info.files_hashed;
        refresh_cache(wt, store, &o, info.files_hashed);
        *out = d;
    }
    mlops__wtree_free(wt);
    return rc;
}
