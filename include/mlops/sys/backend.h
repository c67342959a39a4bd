/*
 * libmlops — custom storage backends (extension point; weaker stability
 * promise than the rest of the API: a new vtable version may be added in a
 * minor release, old versions stay accepted).
 *
 * A backend stores three things for the store front end:
 *  - physical object blobs keyed by id (already encoded by the front end:
 *    header, maybe compressed payload); publishing is no-clobber;
 *  - refs with compare-and-swap;
 *  - log segments that are only ever appended to.
 * The front end hashes, encodes, verifies, frames logs and decides what a
 * commit point is; a backend only moves bytes and keeps its promises:
 *  - obj_write_commit publishes the whole blob or nothing, never a part;
 *  - ref_cas is atomic against every other writer of the same storage;
 *  - log_append adds the bytes at the end of this writer's segment (one
 *    segment per backend instance and log), so writers never interleave.
 *
 * Every callback returns 0 or a negative MLOPS_E* code; it may describe a
 * failure with mlops_backend_error_set(). Callbacks may be called from
 * several threads at once: a backend must be thread-safe.
 */
#ifndef MLOPS_SYS_BACKEND_H
#define MLOPS_SYS_BACKEND_H

#include "../store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlops_backend mlops_backend;

typedef int (*mlops_backend_object_cb)(const mlops_oid *id, uint64_t stored_size, int64_t mtime_sec,
                                       void *payload);
typedef int (*mlops_backend_name_cb)(const char *name, void *payload);

/* Version 1: the members up to cleanup. Version 2 appends ref_commit. A
 * caller built against an older header passes its version and its
 * shorter struct; the store reads no member past that version's end. */
#define MLOPS_BACKEND_VERSION 2
struct mlops_backend {
    unsigned int version; /* MLOPS_BACKEND_VERSION */
    void *payload;        /* the implementation's own data */

    /* -- objects: physical blobs -- */
    /* 1 if the blob exists, 0 if not, negative on failure. */
    int (*obj_exists)(mlops_backend *b, const mlops_oid *id);
    /* Stored size and modification time (seconds since the epoch). */
    int (*obj_stat)(mlops_backend *b, const mlops_oid *id, uint64_t *stored_size, int64_t *mtime_sec);
    /* Starts a new blob; *out_w is an opaque handle for the calls below. */
    int (*obj_write_open)(mlops_backend *b, void **out_w);
    int (*obj_write)(mlops_backend *b, void *w, const void *data, size_t len);
    /* Publishes the blob under id, or, if id already exists, keeps the
     * existing one and refreshes its modification time (so that gc's grace
     * period protects content that a writer is about to reference again);
     * either way it releases w. */
    int (*obj_write_commit)(mlops_backend *b, void *w, const mlops_oid *id);
    /* (obj_write_commit releases w whether it succeeds or fails.) */
    /* Discards and releases w. */
    void (*obj_write_abort)(mlops_backend *b, void *w);
    /* Opens a blob for reading (MLOPS_ENOTFOUND if missing). */
    int (*obj_read_open)(mlops_backend *b, const mlops_oid *id, void **out_r);
    /* Reads up to cap bytes; *out_n == 0 at the end. */
    int (*obj_read)(mlops_backend *b, void *r, void *buf, size_t cap, size_t *out_n);
    void (*obj_read_close)(mlops_backend *b, void *r);
    /* Deletes a blob (MLOPS_ENOTFOUND if missing). */
    int (*obj_delete)(mlops_backend *b, const mlops_oid *id);
    /* Calls cb for every blob, in any order; a non-zero return stops the
     * walk and is returned. */
    int (*obj_foreach)(mlops_backend *b, mlops_backend_object_cb cb, void *payload);

    /* -- refs -- */
    /* MLOPS_ENOTFOUND if the ref does not exist. */
    int (*ref_read)(mlops_backend *b, const char *name, mlops_oid *out);
    /* Atomically: if the current value equals *expected (expected NULL:
     * the ref must not exist), set it to *new_id. With new_id NULL, delete
     * it: if it equals *expected, or whatever it holds (even unreadable
     * bytes) when expected is NULL. Otherwise MLOPS_ECONFLICT, or
     * MLOPS_ENOTFOUND when deleting a missing ref. A name that is a
     * directory of other refs ("a" when "a/b" exists), or that has a ref
     * as a directory ("a/b" when "a" exists), is MLOPS_EEXISTS. Durable
     * on return unless durability is NONE. */
    int (*ref_cas)(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id);
    /* Calls cb(name, payload) for every ref starting with prefix, any order. */
    int (*ref_foreach)(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload);

    /* -- logs -- */
    /* Appends bytes to this instance's segment of the log. */
    int (*log_append)(mlops_backend *b, const char *log, const void *data, size_t len);
    /* Makes this instance's appends to the log durable. */
    int (*log_sync)(mlops_backend *b, const char *log);
    /* Calls cb for each segment of a log in creation order (MLOPS_ENOTFOUND
     * if the log does not exist). */
    int (*log_segments)(mlops_backend *b, const char *log, mlops_backend_name_cb cb, void *payload);
    /* Reads up to cap bytes of a segment at offset; *out_n == 0 at the end. */
    int (*log_read)(mlops_backend *b, const char *log, const char *segment, uint64_t offset, void *buf,
                    size_t cap, size_t *out_n);
    /* Calls cb for every log name starting with prefix, any order. */
    int (*log_foreach)(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload);

    /* -- whole store -- */
    /* A commit point: makes every blob and log byte written so far durable. */
    int (*sync)(mlops_backend *b);
    /* Releases the backend (called by mlops_store_free). May be NULL. */
    void (*free)(mlops_backend *b);

    /* -- maintenance (optional) -- */
    /* Removes the backend's own leftovers (temp files of crashed writers)
     * last modified before older_than_sec (seconds since the epoch); with
     * dry_run it removes nothing and only counts. Adds the number of such
     * files and their bytes to *out_files and *out_bytes. Never touches
     * objects, refs, logs or the files of live writers (mlops_store_gc
     * passes now minus its grace period). May be NULL: nothing to clean. */
    int (*cleanup)(mlops_backend *b, int64_t older_than_sec, int dry_run, uint64_t *out_files,
                   uint64_t *out_bytes);

    /* -- commit points (optional) -- */
    /* sync() followed by ref_cas() with a non-NULL new_id, as one call:
     * the store calls it for every ref update unless durability is NONE.
     * For a backend that can make the blobs, the log bytes and the new
     * ref value durable with one flush of its storage instead of two
     * rounds (the fs backend: one syncfs covers the objects and the ref's
     * temp file). The new value must not be visible before everything
     * written earlier is durable. May be NULL: the store calls sync(),
     * then ref_cas(). */
    int (*ref_commit)(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id);
};

/* Fills that version's members of b with zeros and sets the version
 * (MLOPS_EINVALID for an unknown one). */
MLOPS_API int mlops_backend_init(mlops_backend *b, unsigned int version);

/*
 * Opens a store over a custom backend. The store copies *backend (the
 * vtable) and calls backend->free with its copy when closed. Every
 * function pointer but free and cleanup must be set (MLOPS_EINVALID
 * otherwise). If the
 * call fails, the backend is not freed: the caller still owns it.
 */
MLOPS_API int mlops_store_open_backend(mlops_store **out, const mlops_backend *backend,
                                       const mlops_store_options *opts);

/* For backend implementations: records the message of a failure for
 * mlops_error_last() and returns code. */
MLOPS_API int mlops_backend_error_set(int code, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_SYS_BACKEND_H */
