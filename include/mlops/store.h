/*
 * libmlops — the artifact store: objects, refs and logs.
 *
 * Caveats (read first):
 *  - An object id is the SHA-256 of the object's logical bytes: the id of a
 *    stored file equals `sha256sum file`. How the bytes are kept (raw, zlib,
 *    content-defined chunks) is the store's business.
 *  - Every read verifies the hash. In-memory and to-file reads fail with
 *    MLOPS_ECORRUPT and deliver nothing. A streaming reader can only confirm
 *    the bytes at the end: its last read (the one that reaches the end)
 *    returns MLOPS_ECORRUPT if they were wrong, so consume it to the end.
 *  - Durability (see mlops_durability): with the default COMMIT mode a put
 *    is durable once the next commit point returns (a ref update, a log
 *    sync, mlops_store_sync()).
 *  - A store handle may be used from many threads at once. Writers and
 *    readers returned by it may be used by one thread at a time each.
 *  - Many processes (and hosts on one POSIX shared filesystem) may use one
 *    store directory at once.
 */
#ifndef MLOPS_STORE_H
#define MLOPS_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLOPS_OID_RAWSZ 32
#define MLOPS_OID_HEXSZ 64

/* An object id: the 32 bytes of a SHA-256 digest. */
typedef struct mlops_oid {
    unsigned char id[MLOPS_OID_RAWSZ];
} mlops_oid;

/* Parses exactly 64 hex digits (either case) followed by NUL.
 * MLOPS_EINVALID on wrong length or a non-hex character. */
MLOPS_API int mlops_oid_fromhex(mlops_oid *out, const char *hex);
/* Like mlops_oid_fromhex() for a string of len bytes (len must be 64). */
MLOPS_API int mlops_oid_fromhexn(mlops_oid *out, const char *hex, size_t len);
/* Writes 64 lowercase hex digits and a NUL into out (65 bytes). */
MLOPS_API int mlops_oid_tohex(char out[MLOPS_OID_HEXSZ + 1], const mlops_oid *id);
/* memcmp-style ordering of two ids. */
MLOPS_API int mlops_oid_cmp(const mlops_oid *a, const mlops_oid *b);
/* The id of data without storing it (SHA-256). */
MLOPS_API int mlops_oid_hash(mlops_oid *out, const void *data, size_t len);

typedef struct mlops_store mlops_store;

/* When the store forces data to stable storage. */
typedef enum mlops_durability {
    /* Never fsync: fastest; a power loss may lose recent writes. */
    MLOPS_DURABILITY_NONE = 0,
    /* Default: everything a commit point publishes (ref update, log sync,
     * mlops_store_sync) is fsynced before the commit point returns. */
    MLOPS_DURABILITY_COMMIT = 1,
    /* Every put, ref update and log append is durable when it returns. */
    MLOPS_DURABILITY_FULL = 2
} mlops_durability;

/* How object bytes are kept. */
typedef enum mlops_compression {
    /* Default: objects up to compress_limit bytes are zlib-compressed when
     * a probe shows they shrink; larger ones are stored raw, because zlib
     * is slower than the disk and would halve ingest speed. */
    MLOPS_COMPRESSION_AUTO = 0,
    /* Never compress. */
    MLOPS_COMPRESSION_NONE = 1,
    /* Compress every object that shrinks, whatever its size, when the size
     * is known up front (puts from memory and files); a streaming writer's
     * object larger than compress_limit is stored raw. */
    MLOPS_COMPRESSION_ALWAYS = 2
} mlops_compression;

/* Store flags. */
#define MLOPS_STORE_NO_CREATE 0x1u /* fail with ENOTFOUND if no store exists */
#define MLOPS_STORE_READONLY 0x2u  /* refuse every write with EPERM */

#define MLOPS_STORE_OPTIONS_VERSION 1
typedef struct mlops_store_options {
    unsigned int version;          /* MLOPS_STORE_OPTIONS_VERSION */
    unsigned int flags;            /* MLOPS_STORE_* flags */
    mlops_durability durability;   /* default MLOPS_DURABILITY_COMMIT */
    mlops_compression compression; /* default MLOPS_COMPRESSION_AUTO */
    int compression_level;         /* zlib level 1..9; default 1 */
    uint64_t compress_limit;       /* AUTO's size limit; default 4 MiB */
    unsigned int lock_timeout_ms;  /* wait for a ref lock; default 10000 */
    unsigned int stale_lock_ms;    /* a ref lock older than this is broken; default 30000 */
} mlops_store_options;

#define MLOPS_STORE_OPTIONS_INIT \
    { MLOPS_STORE_OPTIONS_VERSION, 0u, MLOPS_DURABILITY_COMMIT, MLOPS_COMPRESSION_AUTO, 1, \
      (uint64_t)4 << 20, 10000u, 30000u }

/* Fills opts with the defaults of the given version (MLOPS_EINVALID for
 * an unknown version). */
MLOPS_API int mlops_store_options_init(mlops_store_options *opts, unsigned int version);

/*
 * Opens (and by default creates) the store in directory path.
 * opts may be NULL for defaults.
 * Errors: MLOPS_EINVALID (bad options), MLOPS_ENOTFOUND (NO_CREATE and no
 * store), MLOPS_EUNSUPPORTED (store of a newer format), MLOPS_ECORRUPT
 * (unreadable format file), MLOPS_EPERM / MLOPS_EIO.
 */
MLOPS_API int mlops_store_open(mlops_store **out, const char *path, const mlops_store_options *opts);
/* Opens an empty store held in memory; it vanishes with the handle. */
MLOPS_API int mlops_store_open_memory(mlops_store **out, const mlops_store_options *opts);
/* Closes the handle (without a final sync in NONE mode; with one otherwise).
 * mlops_store_free(NULL) is a no-op. */
MLOPS_API void mlops_store_free(mlops_store *store);
/* A commit point: makes every write made through this handle durable. */
MLOPS_API int mlops_store_sync(mlops_store *store);

/* ---- objects ---------------------------------------------------------- */

/* Stores len bytes and returns their id. Idempotent. */
MLOPS_API int mlops_object_put(mlops_oid *out, mlops_store *store, const void *data, size_t len);
/* Stores the content of a regular file in constant memory, as one object
 * (never chunked; see mlops_object_put_file_ext).
 * Errors: MLOPS_ECONFLICT (the file changed while it was being read), MLOPS_ENOTFOUND (no such file), MLOPS_EINVALID (not a regular
 * file), MLOPS_EIO. */
MLOPS_API int mlops_object_put_file(mlops_oid *out, mlops_store *store, const char *path);

/*
 * Chunking: a large file may be kept as content-defined chunks, each an
 * ordinary object, plus a small index stored under the whole file's id (the
 * id is still `sha256sum file`). A new version of a large file that changed
 * in one place then stores only the chunks that changed. Reads are
 * transparent. Chunk boundaries depend only on the bytes and on
 * chunk_min/avg/max (docs/FORMAT.md), so equal options deduplicate.
 */
typedef enum mlops_chunking {
    MLOPS_CHUNKING_NEVER = 0,  /* one object, as mlops_object_put_file */
    MLOPS_CHUNKING_AUTO = 1,   /* default: files of at least chunk_threshold bytes */
    MLOPS_CHUNKING_ALWAYS = 2  /* every file, even an empty one */
} mlops_chunking;

#define MLOPS_PUT_OPTIONS_VERSION 1
typedef struct mlops_put_options {
    unsigned int version;     /* MLOPS_PUT_OPTIONS_VERSION */
    mlops_chunking chunking;  /* default MLOPS_CHUNKING_AUTO */
    uint64_t chunk_threshold; /* AUTO chunks files of this size on; default 8 MiB */
    uint32_t chunk_min;       /* smallest chunk but the last; >= 64 KiB; default 256 KiB */
    uint32_t chunk_avg;       /* target average, a power of two; default 1 MiB */
    uint32_t chunk_max;       /* largest chunk; <= 64 MiB; default 4 MiB */
} mlops_put_options;
/* Chunk sizes must satisfy 64 KiB <= min < avg < max <= 64 MiB. */

#define MLOPS_PUT_OPTIONS_INIT \
    { MLOPS_PUT_OPTIONS_VERSION, MLOPS_CHUNKING_AUTO, (uint64_t)8 << 20, (uint32_t)256 << 10, \
      (uint32_t)1 << 20, (uint32_t)4 << 20 }

/* Fills opts with the defaults of the given version (MLOPS_EINVALID for
 * an unknown version). */
MLOPS_API int mlops_put_options_init(mlops_put_options *opts, unsigned int version);

/* What a put did. */
typedef struct mlops_put_stats {
    uint64_t size;       /* logical bytes of the file */
    uint64_t stored;     /* bytes this put added to the store, before any
                            compression: the chunks that were new plus the
                            index, or the whole object if it was new; 0
                            when everything existed already */
    uint64_t chunks;     /* chunks of the file; 0 when not chunked (a file
                            of one chunk is stored as one object) */
    uint64_t chunks_new; /* chunks that were not in the store yet */
} mlops_put_stats;

/* Like mlops_object_put_file, with options (chunking; opts NULL for the
 * defaults) and statistics (stats may be NULL).
 * Errors: those of mlops_object_put_file, MLOPS_EINVALID (bad options),
 * MLOPS_ECONFLICT (the file changed while it was being read; nothing is
 * stored under an id). */
MLOPS_API int mlops_object_put_file_ext(mlops_oid *out, mlops_put_stats *stats, mlops_store *store,
                                        const char *path, const mlops_put_options *opts);
/* Reads an object into a new buffer (release with mlops_free); a NUL byte
 * follows the data (not counted in *out_len) for convenience.
 * Errors: MLOPS_ENOTFOUND, MLOPS_ECORRUPT. */
MLOPS_API int mlops_object_get(void **out, size_t *out_len, mlops_store *store, const mlops_oid *id);
/* Writes an object into a file (replaced atomically, only after the hash
 * was verified; fsynced with its directory only in FULL durability, like
 * cp otherwise). Errors: MLOPS_ENOTFOUND, MLOPS_ECORRUPT, MLOPS_EIO. */
MLOPS_API int mlops_object_get_file(mlops_store *store, const mlops_oid *id, const char *path);
/* 1 if the object exists, 0 if not, a negative code on failure. */
MLOPS_API int mlops_object_exists(mlops_store *store, const mlops_oid *id);
/* Logical size of an object. Errors: MLOPS_ENOTFOUND, MLOPS_ECORRUPT. */
MLOPS_API int mlops_object_size(uint64_t *out, mlops_store *store, const mlops_oid *id);

/* Streaming writer: constant memory for any size. */
typedef struct mlops_object_writer mlops_object_writer;
MLOPS_API int mlops_object_writer_new(mlops_object_writer **out, mlops_store *store);
MLOPS_API int mlops_object_writer_write(mlops_object_writer *w, const void *data, size_t len);
/* Publishes the object and returns its id; the writer then accepts no
 * more data but must still be freed. */
MLOPS_API int mlops_object_writer_finish(mlops_oid *out, mlops_object_writer *w);
/* Frees the writer; an unfinished object is discarded. NULL is a no-op. */
MLOPS_API void mlops_object_writer_free(mlops_object_writer *w);

/* Streaming reader. */
typedef struct mlops_object_reader mlops_object_reader;
MLOPS_API int mlops_object_reader_open(mlops_object_reader **out, mlops_store *store, const mlops_oid *id);
/* Reads up to cap bytes; *out_n == 0 means the end. The call that reaches
 * the end verifies the hash and returns MLOPS_ECORRUPT on a mismatch. */
MLOPS_API int mlops_object_reader_read(size_t *out_n, mlops_object_reader *r, void *buf, size_t cap);
/* Logical size of the object being read. */
MLOPS_API uint64_t mlops_object_reader_size(const mlops_object_reader *r);
MLOPS_API void mlops_object_reader_free(mlops_object_reader *r);

/*
 * Structured objects: bytes that declare which other objects they link to,
 * so that gc keeps those alive without knowing what the bytes mean.
 * Layout (docs/FORMAT.md): magic, type tag, link ids, then the body. The id
 * is the SHA-256 of that whole encoding.
 */
#define MLOPS_TYPE_MAX 32
MLOPS_API int mlops_object_put_structured(mlops_oid *out, mlops_store *store, const char *type,
                                          const mlops_oid *links, size_t nlinks,
                                          const void *body, size_t body_len);
/*
 * Reads a structured object. Each out pointer may be NULL if not wanted;
 * *out_type (NUL-terminated), *out_links and *out_body are one allocation
 * each, released with mlops_free. Errors: MLOPS_ENOTFOUND, MLOPS_ECORRUPT,
 * MLOPS_EINVALID (the object is not structured).
 */
MLOPS_API int mlops_object_get_structured(char **out_type, mlops_oid **out_links, size_t *out_nlinks,
                                          void **out_body, size_t *out_body_len,
                                          mlops_store *store, const mlops_oid *id);

/* ---- refs ------------------------------------------------------------- */

/*
 * Ref names: 1..1024 bytes of '/'-separated components; no empty component,
 * no leading or trailing '/', no "." or ".." component, no control
 * character, no component ending in ".lock" or starting with ".".
 */
#define MLOPS_REF_NAME_MAX 1024
/* 1 if name is a valid ref name, 0 otherwise (sets the last error). */
MLOPS_API int mlops_ref_name_is_valid(const char *name);
/* Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID (bad name), MLOPS_ECORRUPT. */
MLOPS_API int mlops_ref_get(mlops_oid *out, mlops_store *store, const char *name);
/*
 * Compare-and-swap: sets name to new_id if its current value equals
 * *expected, or, with expected NULL, if it does not exist yet. new_id must
 * name an existing object. A lost race is MLOPS_ECONFLICT (re-read and
 * retry). A commit point. Errors: MLOPS_ECONFLICT, MLOPS_EINVALID,
 * MLOPS_ENOTFOUND (new_id not in the store), MLOPS_ELOCKED (lock timeout),
 * MLOPS_EEXISTS (refs nest like files: "a" and "a/b" cannot both exist).
 */
MLOPS_API int mlops_ref_set(mlops_store *store, const char *name, const mlops_oid *new_id,
                            const mlops_oid *expected);
/* Deletes name if its value equals *expected (expected NULL: whatever it
 * holds, even a corrupt value: the way to repair one).
 * Errors: MLOPS_ENOTFOUND, MLOPS_ECONFLICT, MLOPS_EINVALID. */
MLOPS_API int mlops_ref_delete(mlops_store *store, const char *name, const mlops_oid *expected);
/* Calls cb for every ref whose name starts with prefix (NULL or "" for
 * all), in bytewise name order. A non-zero return stops the walk:
 * MLOPS_EUSER. */
typedef int (*mlops_ref_cb)(const char *name, const mlops_oid *id, void *payload);
MLOPS_API int mlops_ref_foreach(mlops_store *store, const char *prefix, mlops_ref_cb cb, void *payload);

/* ---- logs ------------------------------------------------------------- */

/*
 * Logs: named append-only streams of records (names follow the ref rules).
 * Each writer (store handle) appends to its own segment, so processes never
 * interleave; a reader sees records of one segment in append order and the
 * segments in creation order. Records are checksummed; a torn tail after
 * a crash is skipped.
 */
#define MLOPS_LOG_RECORD_MAX ((size_t)1 << 30)
MLOPS_API int mlops_log_append(mlops_store *store, const char *name, const void *record, size_t len);
/* Appends n records at once: a reader sees all of them or none. n == 0
 * appends nothing and succeeds. */
MLOPS_API int mlops_log_append_batch(mlops_store *store, const char *name, const void *const *records,
                                     const size_t *lens, size_t n);
/* A commit point for one log: appended records are durable on return. */
MLOPS_API int mlops_log_sync(mlops_store *store, const char *name);
/* Calls cb for every record; record is valid during the call only.
 * Errors: MLOPS_ENOTFOUND (no such log), MLOPS_EUSER. */
typedef int (*mlops_log_cb)(const void *record, size_t len, void *payload);
MLOPS_API int mlops_log_foreach(mlops_store *store, const char *name, mlops_log_cb cb, void *payload);

typedef struct mlops_log_iterator mlops_log_iterator;
MLOPS_API int mlops_log_iterator_new(mlops_log_iterator **out, mlops_store *store, const char *name);
/* Next record; *record is valid until the next call on the iterator.
 * Returns MLOPS_ITEROVER at the end. */
MLOPS_API int mlops_log_iterator_next(const void **record, size_t *len, mlops_log_iterator *it);
MLOPS_API void mlops_log_iterator_free(mlops_log_iterator *it);

/* Calls cb for each log name starting with prefix, in bytewise order. */
typedef int (*mlops_log_name_cb)(const char *name, void *payload);
MLOPS_API int mlops_log_list(mlops_store *store, const char *prefix, mlops_log_name_cb cb, void *payload);

/* ---- maintenance ------------------------------------------------------ */

/* Progress: done of total items (total 0 if unknown). Non-zero stops. */
typedef int (*mlops_progress_cb)(uint64_t done, uint64_t total, void *payload);

typedef struct mlops_verify_report {
    uint64_t objects;       /* objects checked */
    uint64_t bytes;         /* logical bytes re-hashed */
    uint64_t refs;          /* refs checked */
    uint64_t logs;          /* logs checked */
    size_t ncorrupt;        /* objects whose bytes do not hash to their id */
    mlops_oid *corrupt;     /* ncorrupt ids */
    size_t ndangling;       /* refs naming a missing object */
    char **dangling;        /* ndangling ref names */
    uint64_t log_torn;      /* torn or corrupt log tails found (an append in
                               flight by another process can count too) */
    size_t nbad_refs;       /* refs whose stored value is unreadable */
    char **bad_refs;        /* nbad_refs names (repair: mlops_ref_delete
                               with expected NULL) */
} mlops_verify_report;

/* Re-hashes every object and checks every ref and log. The report is valid
 * even when problems are found (the call still returns 0); release it with
 * mlops_verify_report_free. progress may be NULL. */
MLOPS_API int mlops_store_verify(mlops_verify_report *out, mlops_store *store, mlops_progress_cb progress,
                                 void *payload);
MLOPS_API void mlops_verify_report_free(mlops_verify_report *report);

#define MLOPS_GC_OPTIONS_VERSION 1
typedef struct mlops_gc_options {
    unsigned int version;
    uint64_t grace_seconds; /* objects younger than this are kept; default 3600 */
    int dry_run;            /* report what would be freed, delete nothing */
} mlops_gc_options;
#define MLOPS_GC_OPTIONS_INIT { MLOPS_GC_OPTIONS_VERSION, 3600u, 0 }
MLOPS_API int mlops_gc_options_init(mlops_gc_options *opts, unsigned int version);

typedef struct mlops_gc_report {
    uint64_t objects;     /* objects seen */
    uint64_t reachable;   /* marked from refs */
    uint64_t young;       /* unreachable but kept by the grace period */
    uint64_t freed;       /* deleted (or, in a dry run, deletable) */
    uint64_t freed_bytes; /* stored bytes of the freed objects */
    uint64_t leftovers;      /* temp files of crashed writers removed (or,
                                in a dry run, removable) */
    uint64_t leftover_bytes; /* their bytes */
} mlops_gc_report;

/* Deletes objects not reachable from any ref through structured links,
 * except those younger than the grace period, and the temp files that
 * crashed writers left behind (older than the grace period too). */
MLOPS_API int mlops_store_gc(mlops_gc_report *out, mlops_store *store, const mlops_gc_options *opts,
                             mlops_progress_cb progress, void *payload);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_STORE_H */
