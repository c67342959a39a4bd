/*
 * mlops_data_snapshot: scan the tree (wtree_scan.c), store every file and
 * manifest (wtree_hash.c, wtree_pool.c), then remember what was read in the
 * directory's stat cache so that the next snapshot reads only what changed.
 */
#include <string.h>

#include "common/error.h"
#include "common/options.h"
#include "wtree.h"

static const mlops_data_snapshot_options snapshot_defaults = MLOPS_DATA_SNAPSHOT_OPTIONS_INIT;

int mlops_data_snapshot_options_init(mlops_data_snapshot_options *opts, unsigned int version)
{
    return mlops__options_init(opts, &snapshot_defaults, sizeof snapshot_defaults, version,
                               MLOPS_DATA_SNAPSHOT_OPTIONS_VERSION, "snapshot");
}

int mlops_data_snapshot(mlops_data_snapshot_info *out, mlops_store *store, const char *path,
                        const mlops_data_snapshot_options *opts)
{
    if (!store || !path)
        return mlops__error_set(MLOPS_EINVALID, "data_snapshot: NULL argument");
    if (opts)
        MLOPS__TRY(mlops__options_version(opts->version, MLOPS_DATA_SNAPSHOT_OPTIONS_VERSION, "snapshot"));
    if (opts && (opts->flags & ~(MLOPS_DATA_SKIP_UNREADABLE | MLOPS_DATA_NO_CACHE)))
        return mlops__error_set(MLOPS_EINVALID, "snapshot: unknown flags 0x%x", opts->flags);
    const mlops_data_snapshot_options *o = opts ? opts : &snapshot_defaults;
    mlops_data_snapshot_info info;
    mlops__wtree *t = NULL;
    int rc = mlops__wtree_scan(&t, store, path, o->flags, o->notice, o->notice_payload);
    if (rc == 0)
        rc = mlops__wtree_hash(t, store, 1, o, &info);
    /* The cache is a hint for next time: written only after the snapshot
     * itself is complete, and its failure is the snapshot's failure
     * (quietly stale caches would hide a sick store). */
    if (rc == 0 && !(o->flags & MLOPS_DATA_NO_CACHE))
        rc = mlops__wtree_cache_save(t, store);
    mlops__wtree_free(t);
    if (rc == 0 && out)
        *out = info;
    return rc;
}
