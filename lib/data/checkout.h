/*
 * Internal: the pieces of mlops_data_checkout. Never installed.
 *
 *  checkout.c           the public call: options, destination, stat cache
 *  checkout_validate.c  phase 1: every manifest loaded and checked, and the
 *                       destination inspected, before anything is written
 *  checkout_apply.c     phase 2: the walk that creates directories, removes
 *                       extras (CLEAN), places symlinks and hands files to a
 *                       small pool of worker threads
 *  link_cache.c         one file: temp file + atomic publish, copies from
 *                       the store, and the raw copies kept in the store's
 *                       directory for hard links and reflinks
 *  cache_prune.c        mlops_data_prune_cache: the copies no file links
 *
 * Every filesystem call of phase 2 is relative to a directory descriptor
 * opened with O_NOFOLLOW | O_DIRECTORY: a symlink that a racing process
 * swaps in is never followed, so nothing outside the destination can be
 * written, removed or chmod-ed. Nor is anything written through a hard
 * link: a file already at a name is kept as it is or replaced by a new
 * inode, never changed in place, not even its mode.
 */
#ifndef MLOPS_LIB_DATA_CHECKOUT_H
#define MLOPS_LIB_DATA_CHECKOUT_H

#include <dirent.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/sha256.h"
#include "data_internal.h"
#include "statcache.h"

/* Deeper trees are refused: phase 2 keeps one descriptor per level open. */
#define MLOPS__CO_DEPTH_MAX MLOPS__DATA_DEPTH_MAX
/* Entries a checkout may name, counting a subtree each time a crafted
 * snapshot shares it (a few linked manifests can name 2^60 paths); phase 1
 * loads each (manifest, depth) once, so refusing such a snapshot is quick. */
#define MLOPS__CO_ENTRIES_MAX ((uint64_t)1 << 24)
/* Names of the temp files checkout creates in the destination (and in
 * the link cache, where O_TMPFILE is missing). */
#define MLOPS__CO_TMP_PREFIX ".mlops-tmp-"
/* The link cache's directory in an fs store (link_cache.c, cache_prune.c). */
#define MLOPS__LINK_CACHE_DIR "data-cache"

/* ---- phase 1 (checkout_validate.c) -------------------------------------- */

/* One directory of the version, loaded and checked. A directory that
 * appears several times at one depth (equal content) is loaded once and
 * shared. */
typedef struct mlops__co_dir {
    mlops__tree tree;
    struct mlops__co_dir **child; /* tree.count slots: set for directories (borrowed) */
    uint64_t expanded;            /* entries here and below, shared ones each time */
} mlops__co_dir;

typedef struct mlops__co_plan {
    mlops__co_dir *root;  /* what becomes dest's content */
    mlops__co_dir **dirs; /* every distinct directory (owned) */
    size_t ndirs, cap;
    mlops__tree holder;   /* a file subpath: the manifest its entry lives in */
    int single;           /* the subpath named a file or a symlink */
    uint64_t files;       /* regular files (exact: totals checked level by level) */
    uint64_t bytes;
} mlops__co_plan;

/*
 * Loads every manifest below snapshot (or below subpath, NULL or "" for
 * all) with the symlink depth counted from the checked-out directory, and
 * checks that each directory entry's totals equal its manifest's.
 * MLOPS_EINVALID (hostile manifest, bad subpath, subpath through a
 * symlink, too deep or too large), MLOPS_ENOTFOUND, MLOPS_ECORRUPT.
 */
int mlops__co_plan_load(mlops__co_plan *out, mlops_store *store, const mlops_oid *snapshot, const char *subpath);
void mlops__co_plan_dispose(mlops__co_plan *p);

/*
 * Inspects the existing destination (destfd, opened O_NOFOLLOW) without
 * changing it: a symlink where the version has a directory is
 * MLOPS_EINVALID; a non-empty directory where the version has a file or a
 * symlink is MLOPS_EEXISTS unless clean (then it is removed in phase 2).
 */
int mlops__co_check_dest(const mlops__co_plan *plan, int destfd, int clean);

/* A listing of directory fd with its own read offset; path (relative to
 * dest, "" for dest) is for the message. */
int mlops__co_opendir(DIR **out, int fd, const char *path);

/* ---- phase 2 (checkout_apply.c, link_cache.c) ---------------------------- */

typedef struct mlops__link_cache mlops__link_cache;

/* Shared by the walk and the workers; counters live in the pool. */
typedef struct mlops__co_ctx {
    mlops_store *store;
    const mlops__co_plan *plan;
    mlops_data_checkout_mode mode;
    int clean;
    int full;                      /* FULL durability: fsync files and directories */
    mlops__statcache *cache;       /* NULL: nothing to look up */
    mlops__link_cache *links;      /* HARDLINK (always) and REFLINK (fs store) */
    mlops_data_progress_cb progress;
    void *progress_payload;
    mlops__stat_key *keys;         /* plan->files slots, by file ordinal (NULL: not recorded) */
    unsigned char *have_key;
    atomic_int no_tmpfile;         /* O_TMPFILE + linkat unavailable: named temps */
    atomic_int no_reflink;         /* a clone failed: copy from now on */
    mlops_data_checkout_info info;
} mlops__co_ctx;

/* Phase 2 into destfd; fresh: the directory was just created (empty). */
int mlops__co_apply(mlops__co_ctx *c, int destfd, int fresh);

/* A directory of the destination, shared by the jobs of its files. */
typedef struct mlops__co_dirh {
    int fd;
    atomic_uint refs;
    int full;   /* fsync on the last release */
    char *path; /* relative to dest, "" for dest itself: for messages */
} mlops__co_dirh;

#define MLOPS__CO_WRITE 0  /* write the file (the name may hold something else) */
#define MLOPS__CO_VERIFY 1 /* a regular file of the right size is there: hash it first */

typedef struct mlops__co_job {
    int kind;
    int name_free;    /* nothing was at the name */
    mlops__co_dirh *dir;
    const mlops__tree_entry *e;
    size_t ordinal;   /* the file's index in tree order */
    dev_t dev;        /* the regular file seen at the name (VERIFY, HARDLINK) */
    ino_t ino;
} mlops__co_job;

/* What one job did. */
typedef struct mlops__co_done {
    unsigned written, unchanged, linked;
    uint64_t bytes;
} mlops__co_done;

/* Per-thread scratch. */
typedef struct mlops__co_worker {
    unsigned char *buf;
    size_t cap;
} mlops__co_worker;
#define MLOPS__CO_BUF ((size_t)256 << 10)

/* Places one file as the job says (any thread). */
int mlops__co_place(mlops__co_ctx *c, mlops__co_worker *w, const mlops__co_job *j, mlops__co_done *d);

/* The entry's name as a C string (names are 1..255 bytes, never NUL). */
void mlops__co_name(char out[256], const mlops__tree_entry *e);

/* 1 if the file's executable bit is the entry's. One that is not is
 * rewritten (a fresh inode published over the name), never chmod-ed: the
 * inode at the name may be a hard link to a file outside the destination
 * or to a copy of the link cache, and checkout never changes an existing
 * inode, its metadata included. */
int mlops__co_exec_matches(const struct stat *st, const mlops__tree_entry *e);

/* Opens an existing regular file of dirfd for reading without following
 * a symlink or blocking on a fifo; -errno, or -ESTALE when what is there
 * is not the regular file (dev, ino) seen before (ino 0: any). */
int mlops__co_open_existing(int dirfd, const char *name, dev_t dev, ino_t ino, struct stat *st);

/* A random temp name (MLOPS__CO_TMP_PREFIX + 16 hex). 0 or -errno. */
int mlops__co_tmp_name(char out[48]);

/* ---- link cache (link_cache.c) ----------------------------------------- */

/* The link cache of an fs store: MLOPS_EUNSUPPORTED for other backends,
 * MLOPS_EPERM for a read-only store. */
int mlops__link_cache_open(mlops__link_cache **out, mlops_store *store);
void mlops__link_cache_free(mlops__link_cache *lc);
/* The device the cache lives on (hard links need the destination there). */
dev_t mlops__link_cache_dev(const mlops__link_cache *lc);

#endif
