/* Internal: the store handle and the built-in backends' constructors. */
#ifndef MLOPS_LIB_STORE_INTERNAL_H
#define MLOPS_LIB_STORE_INTERNAL_H

#include <pthread.h>
#include "mlops/store.h"
#include "mlops/sys/backend.h"

/* Refreshes the time of an existing blob (for gc's grace period) and makes
 * it part of the next commit point, as a commit of the same id would,
 * without writing it again. 1 and *stored_size if it exists, 0 if not. */
typedef int (*mlops__obj_touch_fn)(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size);

struct mlops_store {
    mlops_backend be;          /* the backend's vtable (copied) */
    mlops_store_options opts;  /* effective options */
    int readonly;
    /* Built-in backends only; NULL for a custom one, whose blobs are then
     * written again to refresh them (chunked puts, chunked_put.c). */
    mlops__obj_touch_fn obj_touch;
};

/*
 * The fs backend over directory path (layout in docs/FORMAT.md). Creates the
 * store unless opts->flags has MLOPS_STORE_NO_CREATE; checks the format file.
 * Honors opts->durability, lock_timeout_ms, stale_lock_ms, and READONLY.
 * Errors: MLOPS_ENOTFOUND, MLOPS_EUNSUPPORTED (newer format), MLOPS_ECORRUPT
 * (bad format file), MLOPS_EPERM, MLOPS_EIO.
 */
int mlops__backend_fs_open(mlops_backend *out, const char *path, const mlops_store_options *opts);

/* The memory backend: everything in this process's memory. */
int mlops__backend_memory_new(mlops_backend *out);

/* The built-in backends' obj_touch. */
int mlops__fsb_obj_touch(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size);
int mlops__memory_obj_touch(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size);

/* Refuses writes on a read-only store (MLOPS_EPERM) and NULL handles. */
int mlops__store_check_writable(mlops_store *s);

/* The absolute directory of an fs store (borrowed, valid while the handle
 * lives), or NULL for any other backend. Modules may keep derived files
 * there in a directory of their own (data-cache/); gc and verify look
 * only at objects/, refs/, logs/ and tmp/. */
const char *mlops__store_fs_root(mlops_store *s);

#endif
