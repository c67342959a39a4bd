/*
 * Ids for a scanned tree (wtree.h): the stat cache vouches for unchanged
 * files, a pool of threads reads the others (wtree_pool.c), then every
 * directory's manifest is computed bottom-up. Also the read side for
 * status (a directory's manifest as entries borrowing the tree's memory)
 * and writing the stat cache back.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "store/object_io.h"
#include "wtree_internal.h"

/* Looks every file up in the stat cache, in tree order (the merge join the
 * cache is laid out for); the rest, and hits whose object must still be
 * confirmed in the store, go to the work list. */
static int plan(mlops__wtree_job *job, mlops__statcache *cache)
{
    mlops__wtree *t = job->t;
    uint32_t *work = mlops__calloc(t->files_total ? t->files_total : 1, sizeof *work);
    if (!work)
        return mlops__error_oom();
    mlops__wtree_walk w;
    mlops__wtree_walk_init(&w, t);
    size_t n = 0;
    uint32_t i;
    int rc;
    while ((rc = mlops__wtree_walk_next(&w, &i)) == 1) {
        mlops__wnode *node = &t->nodes[i];
        if (node->type != MLOPS_DATA_FILE)
            continue;
        mlops__stat_key key;
        mlops__wtree_key(&key, t, i);
        if (cache && mlops__statcache_lookup(cache, w.path.ptr, &key, &node->id)) {
            if (!job->put) {
                node->flags |= MLOPS__WN_DONE;
                job->files_done++;
                job->bytes_done += node->size;
                continue;
            }
            node->flags |= MLOPS__WN_CACHED;
        }
        work[n++] = i;
    }
    mlops__wtree_walk_dispose(&w);
    if (rc < 0) {
        mlops__free(work);
        return rc;
    }
    job->work = work;
    job->nwork = n;
    return 0;
}

static int id_cmp(const void *a, const void *b, void *arg)
{
    const mlops__wtree *t = arg;
    return mlops_oid_cmp(&t->nodes[*(const uint32_t *)a].id, &t->nodes[*(const uint32_t *)b].id);
}

/* Directories sorted by manifest id, for mlops__wtree_dir_tree. */
static int index_dirs(mlops__wtree *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->count; i++)
        n += (uint32_t)mlops__wnode_is_dir(&t->nodes[i]);
    mlops__free(t->dir_index);
    t->dir_index = mlops__calloc(n ? n : 1, sizeof *t->dir_index);
    if (!t->dir_index)
        return mlops__error_oom();
    t->ndirs = 0;
    for (uint32_t i = 0; i < t->count; i++)
        if (mlops__wnode_is_dir(&t->nodes[i]))
            t->dir_index[t->ndirs++] = i;
    qsort_r(t->dir_index, t->ndirs, sizeof *t->dir_index, id_cmp, t);
    return 0;
}

static void fill_info(mlops_data_snapshot_info *info, const mlops__wtree *t)
{
    memset(info, 0, sizeof *info);
    const mlops__wnode *root = &t->nodes[0];
    info->id = root->id;
    info->size = root->size;
    info->files = root->u.d.files;
    for (uint32_t i = 1; i < t->count; i++) {
        const mlops__wnode *n = &t->nodes[i];
        if (n->flags & MLOPS__WN_SKIPPED)
            continue;
        info->dirs += n->type == MLOPS_DATA_DIR;
        info->symlinks += n->type == MLOPS_DATA_SYMLINK;
    }
    info->skipped = t->skipped;
    info->files_hashed = t->files_hashed;
    info->bytes_hashed = t->bytes_hashed;
}

static int job_init(mlops__wtree_job *job, mlops__wtree *t, mlops_store *store, int put,
                    const mlops_data_snapshot_options *opts)
{
    memset(job, 0, sizeof *job);
    job->t = t;
    job->store = store;
    job->put = put;
    if (!opts)
        return 0;
    MLOPS__TRY(mlops__options_version(opts->version, MLOPS_DATA_SNAPSHOT_OPTIONS_VERSION, "snapshot"));
    job->flags = opts->flags;
    job->threads = opts->threads;
    job->progress = opts->progress;
    job->progress_payload = opts->progress_payload;
    job->notice = opts->notice;
    job->notice_payload = opts->notice_payload;
    return 0;
}

int mlops__wtree_hash(mlops__wtree *t, mlops_store *store, int put, const mlops_data_snapshot_options *opts,
                      mlops_data_snapshot_info *info)
{
    if (!t || !store)
        return mlops__error_set(MLOPS_EINVALID, "wtree_hash: NULL argument");
    if (t->hashed)
        return mlops__error_set(MLOPS_EINVALID, "wtree_hash: the tree is already hashed");
    mlops__wtree_job job;
    MLOPS__TRY(job_init(&job, t, store, put, opts));
    mlops__statcache *cache = NULL;
    mlops__statcache_loader *loader = t->cache_loader;
    t->cache_loader = NULL;
    if (loader)
        MLOPS__TRY(mlops__statcache_load_finish(&cache, loader));
    else if (!(job.flags & MLOPS_DATA_NO_CACHE))
        MLOPS__TRY(mlops__statcache_load(&cache, store, t->real_root));
    int rc = plan(&job, cache);
    /* The cache is done with: its memory goes back before the manifests
     * (a million-file cache is tens of MiB). */
    mlops__statcache_free(cache);
    if (rc == 0)
        rc = mlops__wtree_read_files(&job);
    mlops__free((void *)job.work);
    if (rc == 0)
        rc = mlops__wtree_build_manifests(t, put ? store : NULL);
    if (rc == 0)
        rc = index_dirs(t);
    if (rc < 0)
        return rc;
    t->hashed = 1;
    if (info)
        fill_info(info, t);
    return 0;
}

const mlops_oid *mlops__wtree_root_id(const mlops__wtree *t)
{
    return t && t->hashed ? &t->nodes[0].id : NULL;
}

int mlops__wtree_dir_tree(mlops__tree *out, const mlops__wtree *t, const mlops_oid *dir_id)
{
    if (!out || !t || !dir_id)
        return mlops__error_set(MLOPS_EINVALID, "wtree_dir_tree: NULL argument");
    memset(out, 0, sizeof *out);
    if (!t->hashed)
        return mlops__error_set(MLOPS_EINVALID, "wtree_dir_tree: the tree is not hashed yet");
    size_t lo = 0, hi = t->ndirs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t i = t->dir_index[mid];
        int c = mlops_oid_cmp(&t->nodes[i].id, dir_id);
        if (c < 0) {
            lo = mid + 1;
        } else if (c > 0) {
            hi = mid;
        } else {
            uint32_t n = t->nodes[i].u.d.count;
            out->entries = mlops__calloc(n ? n : 1, sizeof *out->entries);
            if (!out->entries)
                return mlops__error_oom();
            out->count = mlops__wtree_dir_entries(out->entries, t, i, &out->size, &out->files);
            return 0;
        }
    }
    return mlops__error_set(MLOPS_ENOTFOUND, "no directory of '%s' has manifest %s", t->path,
                            mlops__hex(dir_id).s);
}

int mlops__wtree_cache_save(const mlops__wtree *t, mlops_store *store)
{
    if (!t || !store)
        return mlops__error_set(MLOPS_EINVALID, "wtree_cache_save: NULL argument");
    if (!t->hashed)
        return mlops__error_set(MLOPS_EINVALID, "wtree_cache_save: the tree is not hashed yet");
    mlops__statcache_writer *w = NULL;
    MLOPS__TRY(mlops__statcache_writer_new(&w, store, t->real_root, t->taken_ns));
    mlops__wtree_walk walk;
    mlops__wtree_walk_init(&walk, t);
    uint32_t i;
    int rc;
    while ((rc = mlops__wtree_walk_next(&walk, &i)) == 1) {
        const mlops__wnode *n = &t->nodes[i];
        if (n->type != MLOPS_DATA_FILE || !(n->flags & MLOPS__WN_DONE))
            continue;
        mlops__stat_key key;
        mlops__wtree_key(&key, t, i);
        if ((rc = mlops__statcache_writer_add(w, walk.path.ptr, &key, &n->id)) < 0)
            break;
    }
    mlops__wtree_walk_dispose(&walk);
    if (rc == 0)
        rc = mlops__statcache_writer_commit(w);
    mlops__statcache_writer_free(w);
    return rc;
}
