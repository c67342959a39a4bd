/*
 * libmlops — content-addressed data versioning: snapshots of files and
 * directory trees, datasets with a linear version history, checkout,
 * status, diff and pointer files.
 *
 * Caveats (read first):
 *  - A snapshot is a tree of per-directory manifests (structured objects,
 *    docs/FORMAT.md); its id is the root manifest's id. A snapshot of a
 *    single file is a root manifest holding that one file.
 *  - Files are stored as ordinary objects (their id is their sha256sum);
 *    large files are chunked by content, so a new version of a big file
 *    stores only the chunks that changed.
 *  - An fs store whose directory lies inside the snapshotted tree is left
 *    out of it (as git leaves out .git). Trees deeper than 255 directory
 *    levels are refused (MLOPS_EINVALID).
 *  - Symlinks are recorded, never followed. A symlink that is absolute or
 *    leaves the snapshotted tree, a special file (device, fifo, socket)
 *    and a name with control characters are skipped and reported through
 *    the notice callback: every snapshot can be checked out.
 *  - Checkout never writes, deletes or follows a link outside its
 *    destination. A manifest it would have to refuse (bad name, duplicate,
 *    symlink leaving the tree, …) is refused with MLOPS_EINVALID before
 *    anything is written.
 *  - The stat cache that makes status and repeated snapshots fast lives in
 *    the store, one per working directory (keyed by its real path). A file
 *    whose mtime is not older than the cache is re-hashed (racy rule).
 *  - Ref strings accepted wherever a version is wanted: "name" (latest),
 *    "name@3" (version 3), "name@tag", or a raw 64-hex snapshot id.
 *  - Every call may be made from several threads on one store.
 *    mlops_data_version, mlops_data_diff and strings returned are released
 *    with their _free function (strings with mlops_free).
 */
#ifndef MLOPS_DATA_H
#define MLOPS_DATA_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dataset names and tags: 1..128 bytes of [A-Za-z0-9._-], not starting
 * with '.' or '-', not ending in ".lock". A tag is moreover not all digits
 * and not "latest". */
#define MLOPS_DATA_NAME_MAX 128

/* The kind of a tree entry. */
typedef enum mlops_data_type {
    MLOPS_DATA_FILE = 1,
    MLOPS_DATA_DIR = 2,
    MLOPS_DATA_SYMLINK = 3
} mlops_data_type;

/* Progress of a long operation: files and bytes done out of the totals
 * (the totals are known from a scan made before any file is read). */
typedef struct mlops_data_progress {
    uint64_t files_done;
    uint64_t files_total;
    uint64_t bytes_done;
    uint64_t bytes_total;
} mlops_data_progress;
/* Return non-zero to stop: the call then returns MLOPS_EUSER. */
typedef int (*mlops_data_progress_cb)(const mlops_data_progress *progress, void *payload);

/* Something a walk skipped or noticed; path is relative to the walked
 * root. Return non-zero to stop the walk (MLOPS_EUSER). */
typedef enum mlops_data_notice {
    MLOPS_DATA_NOTICE_SPECIAL = 1,      /* device, fifo or socket: skipped */
    MLOPS_DATA_NOTICE_LINK_OUTSIDE = 2, /* absolute symlink or one leaving the tree: skipped */
    MLOPS_DATA_NOTICE_BAD_NAME = 3,     /* name with control characters: skipped */
    MLOPS_DATA_NOTICE_UNREADABLE = 4,   /* could not be read (skipped only with SKIP_UNREADABLE) */
    MLOPS_DATA_NOTICE_CHANGED = 5       /* changed while being read: read again */
} mlops_data_notice;
typedef int (*mlops_data_notice_cb)(mlops_data_notice kind, const char *path, void *payload);

/* ---- snapshots --------------------------------------------------------- */

/* Snapshot flags. */
#define MLOPS_DATA_SKIP_UNREADABLE 0x1u /* skip (and report) unreadable files instead of failing */
#define MLOPS_DATA_NO_CACHE 0x2u        /* neither use nor update the stat cache: hash every file */

#define MLOPS_DATA_SNAPSHOT_OPTIONS_VERSION 1
typedef struct mlops_data_snapshot_options {
    unsigned int version;          /* MLOPS_DATA_SNAPSHOT_OPTIONS_VERSION */
    unsigned int flags;            /* MLOPS_DATA_* snapshot flags */
    unsigned int threads;          /* files read at once; 0: one per CPU, at most 8 */
    mlops_data_progress_cb progress;
    void *progress_payload;
    mlops_data_notice_cb notice;
    void *notice_payload;
} mlops_data_snapshot_options;
#define MLOPS_DATA_SNAPSHOT_OPTIONS_INIT { MLOPS_DATA_SNAPSHOT_OPTIONS_VERSION, 0u, 0u, NULL, NULL, NULL, NULL }
MLOPS_API int mlops_data_snapshot_options_init(mlops_data_snapshot_options *opts, unsigned int version);

typedef struct mlops_data_snapshot_info {
    mlops_oid id;          /* the root manifest: the snapshot id */
    uint64_t size;         /* bytes in all files */
    uint64_t files;        /* regular files */
    uint64_t dirs;         /* directories below the root */
    uint64_t symlinks;
    uint64_t skipped;      /* entries skipped (each reported as a notice) */
    uint64_t files_hashed; /* files actually read (the rest came from the stat cache) */
    uint64_t bytes_hashed;
} mlops_data_snapshot_info;

/*
 * Snapshots the file or directory at path into the store.
 * Errors: MLOPS_ENOTFOUND (no such path), MLOPS_EINVALID (path is a
 * special file or a symlink), MLOPS_EPERM (an unreadable file or
 * directory; the message names it), MLOPS_ECONFLICT (a file kept changing
 * while it was read), MLOPS_EUSER, MLOPS_EIO.
 */
MLOPS_API int mlops_data_snapshot(mlops_data_snapshot_info *out, mlops_store *store, const char *path,
                                  const mlops_data_snapshot_options *opts);

/* ---- datasets and versions -------------------------------------------- */

/* One version of a dataset (or, resolved from a raw id, a bare snapshot:
 * dataset NULL, version 0). Release with mlops_data_version_free. */
typedef struct mlops_data_version {
    char *dataset;      /* dataset name; NULL for a bare snapshot */
    uint64_t version;   /* 1, 2, 3…; 0 for a bare snapshot */
    mlops_oid id;       /* snapshot id (root manifest) */
    mlops_oid record;   /* the version record object (zero for a bare snapshot) */
    mlops_oid parent;   /* record of the previous version (zero for version 1) */
    char *message;      /* "" when none */
    char *user;         /* "" when unknown */
    int64_t time_ms;    /* commit time, ms since the epoch */
    uint64_t size;      /* bytes in all files */
    uint64_t files;     /* regular files */
    char **tags;        /* tags naming this version, sorted */
    size_t ntags;
    int created;        /* commit only: 1 if a new version was made, 0 if the latest already matched */
} mlops_data_version;
MLOPS_API void mlops_data_version_free(mlops_data_version *v);
/* Frees an array returned by mlops_data_versions and its elements. */
MLOPS_API void mlops_data_version_list_free(mlops_data_version **list, size_t count);

/* Commit flags. */
#define MLOPS_DATA_COMMIT_ALLOW_EMPTY 0x1u /* new version even if the snapshot equals the latest */

#define MLOPS_DATA_COMMIT_OPTIONS_VERSION 1
typedef struct mlops_data_commit_options {
    unsigned int version;          /* MLOPS_DATA_COMMIT_OPTIONS_VERSION */
    unsigned int flags;            /* MLOPS_DATA_COMMIT_* */
    const char *message;           /* NULL: "" */
    const char *user;              /* NULL: $USER, else the login name, else "" */
    const char *const *tags;       /* tags to put on the new version */
    size_t ntags;
    const char *pointer_path;      /* if set, a pointer file is written there */
    const mlops_data_snapshot_options *snapshot; /* NULL: defaults */
    unsigned int max_retries;      /* lost compare-and-swaps retried; 0: 100 */
} mlops_data_commit_options;
#define MLOPS_DATA_COMMIT_OPTIONS_INIT \
    { MLOPS_DATA_COMMIT_OPTIONS_VERSION, 0u, NULL, NULL, NULL, 0, NULL, NULL, 0u }
MLOPS_API int mlops_data_commit_options_init(mlops_data_commit_options *opts, unsigned int version);

/*
 * Snapshots path and commits it as the next version of dataset (created
 * on first commit). If the snapshot equals the latest version's (and
 * ALLOW_EMPTY is not set), no version is made: *out is the latest with
 * created = 0 (the tags are still applied). *out may be NULL.
 * Errors: those of mlops_data_snapshot, MLOPS_EINVALID (bad name or tag),
 * MLOPS_EEXISTS (a tag already names another version),
 * MLOPS_ECONFLICT (still losing the race after max_retries). Tags are
 * checked before the version is made; if another process takes one of
 * them in between, or the pointer file cannot be written, the version
 * exists and the call still returns that error.
 */
MLOPS_API int mlops_data_commit(mlops_data_version **out, mlops_store *store, const char *dataset,
                                const char *path, const mlops_data_commit_options *opts);
/* Same, for a snapshot already in the store (its root manifest must be
 * valid: MLOPS_EINVALID otherwise; MLOPS_ENOTFOUND if missing). */
MLOPS_API int mlops_data_commit_snapshot(mlops_data_version **out, mlops_store *store, const char *dataset,
                                         const mlops_oid *snapshot, const mlops_data_commit_options *opts);

/* Resolves "name", "name@N", "name@tag" or a 64-hex snapshot id.
 * Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID (malformed ref). */
MLOPS_API int mlops_data_resolve(mlops_data_version **out, mlops_store *store, const char *ref);

/* All versions of a dataset, oldest first. Errors: MLOPS_ENOTFOUND. */
MLOPS_API int mlops_data_versions(mlops_data_version ***out, size_t *out_count, mlops_store *store,
                                  const char *dataset);

/* Calls cb for every dataset name, sorted. */
typedef int (*mlops_data_name_cb)(const char *name, void *payload);
MLOPS_API int mlops_data_list(mlops_store *store, mlops_data_name_cb cb, void *payload);

/* Names the dataset version ref resolves to with tag. An existing tag on
 * another version is MLOPS_EEXISTS unless force (then it moves).
 * Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID (bad tag, or ref is a raw id). */
MLOPS_API int mlops_data_tag(mlops_store *store, const char *ref, const char *tag, int force);
/* Removes a tag. Errors: MLOPS_ENOTFOUND. */
MLOPS_API int mlops_data_untag(mlops_store *store, const char *dataset, const char *tag);

/* ---- pointer files ------------------------------------------------------ */

/*
 * A pointer file pins a dataset version in a git repository (like a .dvc
 * file or a git-lfs pointer): a few "key value" lines (docs/FORMAT.md).
 * write replaces path atomically; read parses it and resolves it against
 * the store, checking that the version there has the recorded snapshot
 * id. A pointer to a dataset the store does not have resolves to the bare
 * snapshot if the store has it.
 * Errors: MLOPS_EINVALID (malformed pointer file), MLOPS_ENOTFOUND,
 * MLOPS_ECONFLICT (the store's version has another snapshot id).
 */
MLOPS_API int mlops_data_pointer_write(const mlops_data_version *v, const char *path);
MLOPS_API int mlops_data_pointer_read(mlops_data_version **out, mlops_store *store, const char *path);

/* ---- checkout ----------------------------------------------------------- */

typedef enum mlops_data_checkout_mode {
    MLOPS_DATA_CHECKOUT_COPY = 0,     /* default: independent copies */
    MLOPS_DATA_CHECKOUT_HARDLINK = 1, /* read-only hard links to a raw copy kept in the store
                                         (fs store on the same filesystem, else MLOPS_EUNSUPPORTED) */
    MLOPS_DATA_CHECKOUT_REFLINK = 2   /* copy-on-write clones where the filesystem can, copies elsewhere */
} mlops_data_checkout_mode;

/* Checkout flags. */
#define MLOPS_DATA_CHECKOUT_CLEAN 0x1u /* remove files of the destination absent from the version */

#define MLOPS_DATA_CHECKOUT_OPTIONS_VERSION 1
typedef struct mlops_data_checkout_options {
    unsigned int version;          /* MLOPS_DATA_CHECKOUT_OPTIONS_VERSION */
    unsigned int flags;            /* MLOPS_DATA_CHECKOUT_* */
    mlops_data_checkout_mode mode;
    const char *subpath;           /* NULL or "": the whole snapshot; else a file or directory in it */
    mlops_data_progress_cb progress;
    void *progress_payload;
} mlops_data_checkout_options;
#define MLOPS_DATA_CHECKOUT_OPTIONS_INIT \
    { MLOPS_DATA_CHECKOUT_OPTIONS_VERSION, 0u, MLOPS_DATA_CHECKOUT_COPY, NULL, NULL, NULL }
MLOPS_API int mlops_data_checkout_options_init(mlops_data_checkout_options *opts, unsigned int version);

typedef struct mlops_data_checkout_info {
    uint64_t files_written;   /* files created or replaced */
    uint64_t files_unchanged; /* already matching: not touched */
    uint64_t removed;         /* entries removed (CLEAN) */
    uint64_t bytes_written;
    uint64_t linked;          /* hard links or reflinks made */
} mlops_data_checkout_info;

/*
 * Makes directory dest (created if missing) hold the version ref names:
 * missing files are created, changed ones replaced atomically, executable
 * bits and in-tree symlinks restored; with CLEAN, entries absent from the
 * version are removed. A subpath that is a directory is checked out as
 * dest's content; a file as dest/<its name>. out may be NULL.
 * Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID (an invalid manifest, a subpath
 * through a symlink, dest or a directory on the way being a symlink),
 * MLOPS_EEXISTS (a non-empty directory where the version has a file, without
 * CLEAN), MLOPS_EUNSUPPORTED (hardlink across filesystems or on a non-fs
 * store), MLOPS_EPERM (hardlink on a read-only store), MLOPS_EUSER,
 * MLOPS_ECORRUPT, MLOPS_EIO. Nothing is written when a manifest, the
 * subpath or the destination is refused (every EINVALID and EEXISTS
 * above): those are all checked first. A file whose object is missing or
 * whose content does not match its entry (size or hash) is only found when
 * it is read: the checkout stops there with MLOPS_ENOTFOUND, MLOPS_EINVALID
 * or MLOPS_ECORRUPT, every file already written complete and correct, and
 * what CLEAN removed stays removed. A destination whose last component is
 * ".." is refused (MLOPS_EINVALID); trailing "/" and "/." are ignored.
 */
MLOPS_API int mlops_data_checkout(mlops_data_checkout_info *out, mlops_store *store, const char *ref,
                                  const char *dest, const mlops_data_checkout_options *opts);

/* What mlops_data_prune_cache found and removed (or would remove). */
typedef struct mlops_data_cache_report {
    uint64_t copies;        /* raw copies in the cache */
    uint64_t removed;       /* copies no checkout links any more, past the grace period */
    uint64_t removed_bytes; /* their sizes (a reflinked copy shares extents: frees less) */
    uint64_t linked;        /* kept: a checked-out file still links them */
    uint64_t young;         /* kept: linked or unlinked within the grace period */
    uint64_t leftovers;     /* temp files of interrupted copies removed */
} mlops_data_cache_report;

#define MLOPS_DATA_PRUNE_DRY_RUN 0x1u /* count, remove nothing */

/*
 * Frees the disk that hard-link and reflink checkouts leave in the store:
 * removes the raw copies of the link cache (<store>/data-cache) that no
 * checked-out file hard-links any more (link count 1; copies made for
 * reflink clones never are linked, so they all go), and temp files of
 * copies interrupted by a crash, once they are older than grace_seconds
 * (by ctime, which every link and unlink moves; 3600 is what gc uses).
 * The cache is derived data: a later checkout makes again what it needs,
 * and one running meanwhile makes again a copy it loses. Copies still
 * linked are kept (removing the cache's name would free nothing). Store
 * gc never looks at the cache. A store without a directory has no cache:
 * all zeros. out may be NULL.
 * Errors: MLOPS_EPERM (a read-only store, unless DRY_RUN), MLOPS_EINVALID
 * (unknown flags), MLOPS_EIO.
 */
MLOPS_API int mlops_data_prune_cache(mlops_data_cache_report *out, mlops_store *store, uint64_t grace_seconds,
                                     unsigned int flags);

/* ---- status and diff ---------------------------------------------------- */

typedef enum mlops_data_change_kind {
    MLOPS_DATA_ADDED = 1,
    MLOPS_DATA_REMOVED = 2,
    MLOPS_DATA_MODIFIED = 3,
    MLOPS_DATA_RENAMED = 4 /* same content at a new path: old_path → path */
} mlops_data_change_kind;

/* One changed entry: a file, a symlink or an empty directory. */
typedef struct mlops_data_change {
    mlops_data_change_kind kind;
    char *path;              /* '/'-separated, relative to the root */
    char *old_path;          /* RENAMED only; NULL otherwise */
    mlops_data_type old_type; /* 0 when added */
    mlops_data_type new_type; /* 0 when removed */
    mlops_oid old_id;        /* zero when added */
    mlops_oid new_id;        /* zero when removed */
    uint64_t old_size;
    uint64_t new_size;
} mlops_data_change;

typedef struct mlops_data_diff {
    mlops_data_change *changes; /* sorted by path */
    size_t count;
    uint64_t added, removed, modified, renamed; /* counts per kind */
    uint64_t old_size, new_size;   /* totals of both sides */
    uint64_t old_files, new_files;
    uint64_t files_hashed;         /* status only: files read because the cache could not vouch */
} mlops_data_diff;
MLOPS_API void mlops_data_diff_free(mlops_data_diff *diff);

/* Changes from version a to version b (both any resolvable ref).
 * Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID. */
MLOPS_API int mlops_data_diff_versions(mlops_data_diff **out, mlops_store *store, const char *a, const char *b);

/* Status flags. */
#define MLOPS_DATA_STATUS_NO_UPDATE 0x1u /* do not refresh the stat cache */

#define MLOPS_DATA_STATUS_OPTIONS_VERSION 1
typedef struct mlops_data_status_options {
    unsigned int version;        /* MLOPS_DATA_STATUS_OPTIONS_VERSION */
    unsigned int flags;          /* MLOPS_DATA_STATUS_* and MLOPS_DATA_NO_CACHE */
    mlops_data_notice_cb notice;
    void *notice_payload;
} mlops_data_status_options;
#define MLOPS_DATA_STATUS_OPTIONS_INIT { MLOPS_DATA_STATUS_OPTIONS_VERSION, 0u, NULL, NULL }
MLOPS_API int mlops_data_status_options_init(mlops_data_status_options *opts, unsigned int version);

/* Changes from version ref to the working tree at path (added: in the
 * tree, not in the version). Unchanged files are not read when the stat
 * cache vouches for them. Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID,
 * MLOPS_EPERM, MLOPS_EIO. */
MLOPS_API int mlops_data_status(mlops_data_diff **out, mlops_store *store, const char *ref, const char *path,
                                const mlops_data_status_options *opts);

/* The diff as one JSON object (release with mlops_free). */
MLOPS_API int mlops_data_diff_json(char **out, const mlops_data_diff *diff);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_DATA_H */
