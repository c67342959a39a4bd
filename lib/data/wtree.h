/*
 * Internal: a scanned working tree, in memory. Snapshot, status and
 * checkout start here: scan a file or directory once (lstat only, no
 * content read), then compute ids with the stat cache and a pool of
 * reader threads.
 *
 * Memory: one 80-byte node per entry plus its name in a string arena, no
 * allocation per entry: a snapshot of a million files peaks near 100 MiB
 * resident (160 MiB when a million-entry stat cache is loaded too). A wtree is used by one thread
 * at a time (mlops__wtree_hash starts its own workers inside).
 */
#ifndef MLOPS_LIB_DATA_WTREE_H
#define MLOPS_LIB_DATA_WTREE_H

#include "data_internal.h"

typedef struct mlops__wtree mlops__wtree;
/* Scans path (file or directory) into memory. flags: MLOPS_DATA_SKIP_UNREADABLE,
 * and MLOPS_DATA_NO_CACHE (else, with a store, the stat cache loads on a
 * thread of its own during the scan, for mlops__wtree_hash). notice may be NULL. store (may be NULL): an fs store whose directory lies
 * inside the tree is left out of it, as git leaves out .git. A directory
 * deeper than MLOPS__DATA_DEPTH_MAX is MLOPS_EINVALID. */
int mlops__wtree_scan(mlops__wtree **out, mlops_store *store, const char *path, unsigned flags,
                      mlops_data_notice_cb notice, void *notice_payload);
/* Computes every file's id (stat cache first unless opts->flags has NO_CACHE), then every directory's manifest id. With put != 0 files and manifests are stored; with put == 0 nothing is written to the store (status). opts may be NULL; info may be NULL. */
int mlops__wtree_hash(mlops__wtree *t, mlops_store *store, int put, const mlops_data_snapshot_options *opts, mlops_data_snapshot_info *info);
const mlops_oid *mlops__wtree_root_id(const mlops__wtree *t);
/* The manifest of the scanned directory whose manifest id is dir_id, as a parsed tree whose entries borrow the wtree's memory (out->data NULL; dispose with mlops__tree_dispose, which frees only entries). MLOPS_ENOTFOUND if no directory of the tree has that id. Needs a prior mlops__wtree_hash. */
int mlops__wtree_dir_tree(mlops__tree *out, const mlops__wtree *t, const mlops_oid *dir_id);
/* Writes the stat cache for the scanned root from the hashed tree (taken_ns = the scan's start). */
int mlops__wtree_cache_save(const mlops__wtree *t, mlops_store *store);
void mlops__wtree_free(mlops__wtree *t);

#endif
