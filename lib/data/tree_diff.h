/*
 * Internal: the changes between two manifest trees (diff.c and status.c
 * share it). Never installed.
 *
 * The walk compares directories entry by entry and descends only where the
 * ids differ: an unchanged subtree costs one id comparison and is never
 * loaded, which is what keeps status and diff of big trees fast. Manifests
 * come from a loader, so status can feed the working tree's in-memory
 * manifests without storing them.
 */
#ifndef MLOPS_LIB_DATA_TREE_DIFF_H
#define MLOPS_LIB_DATA_TREE_DIFF_H

#include "data_internal.h"

/*
 * Fills *out with the parsed manifest id at depth (0 for a root). *out is
 * released with mlops__tree_dispose, so a loader handing out borrowed
 * entries must copy the entries array (data may stay NULL). Returns 0 or
 * a negative code with the error set.
 */
typedef int (*mlops__tree_loader)(mlops__tree *out, const mlops_oid *id, unsigned depth, void *ctx);

/* The default loader: mlops__tree_load from ctx, an mlops_store *. */
int mlops__tree_diff_store_loader(mlops__tree *out, const mlops_oid *id, unsigned depth, void *ctx);

/*
 * The changes from tree old_root to tree new_root in a new diff (release
 * with mlops_data_diff_free). load NULL means mlops__tree_diff_store_loader
 * on store (ctx ignored).
 *
 * Leaves reported are files, symlinks and empty directories. A directory
 * facing a non-directory at one path is the non-directory removed (added)
 * and every leaf below the directory added (removed). A file facing a
 * symlink, a changed id, or a changed executable bit (same id) is
 * MODIFIED. An added and a removed leaf with the same type and id become
 * RENAMED: added leaves in path order each take the first removed leaf in
 * path order not taken yet. Empty files and empty directories are never
 * paired (they all share one id: nothing identifies them). Changes are sorted bytewise by full path
 * (REMOVED before ADDED at one path). Totals come from the root manifests.
 * Errors: those of the loader, MLOPS_ENOMEM.
 */
int mlops__tree_diff(mlops_data_diff **out, mlops_store *store, const mlops_oid *old_root,
                     const mlops_oid *new_root, mlops__tree_loader load, void *ctx);

#endif
