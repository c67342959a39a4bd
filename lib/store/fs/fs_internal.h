/*
 * Internal: the fs backend's shared state and cross-file helpers.
 * The on-disk layout is described in LAYOUT.txt (merged into docs/FORMAT.md).
 *
 * Locking: `state` guards the pending-sync set and the log table and is
 * never held across an fsync; `sync_lock` serialises commit points so that
 * a sync never returns while another one still flushes work it depends on.
 */
#ifndef MLOPS_LIB_STORE_FS_INTERNAL_H
#define MLOPS_LIB_STORE_FS_INTERNAL_H

#include <dirent.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "mlops/sys/backend.h"

#define MLOPS__FSB_FORMAT_VERSION 1
#define MLOPS__FSB_FORMAT_FILE "mlops-store"
#define MLOPS__FSB_FORMAT_MAGIC "mlops-store"

/* COMMIT mode remembers at most this many unsynced objects; past that the
 * next commit point syncs the whole filesystem (syncfs), which costs the
 * same as 64 fsyncs on a busy disk and keeps memory bounded. */
#define MLOPS__FSB_PENDING_MAX 64

/* "<16 hex>-<16 hex>.seg" */
#define MLOPS__FSB_SEG_LEN 37

/* Names of the backend's own temporary files (docs/FORMAT.md). Writers
 * create them, fs_cleanup.c removes those a crash left behind. */
#define MLOPS__FSB_TMP_OBJECT "obj-"     /* tmp/obj-<32 hex> (no O_TMPFILE) */
#define MLOPS__FSB_TMP_FORMAT "format-"  /* tmp/format-<16 hex> */
#define MLOPS__FSB_REF_TEMP ".tmp-"      /* refs/<dir>/.tmp-<16 hex> */
#define MLOPS__FSB_BROKEN_LOCK ".broken-" /* refs/<dir>/.broken-<16 hex> */
#define MLOPS__FSB_REPAIR ".repair-"     /* objects/xx/<62 hex>.repair-<16 hex> */

typedef struct mlops__fsb_log mlops__fsb_log;

typedef struct mlops__fsb {
    char *root;      /* store directory, without trailing '/' */
    int root_fd;     /* O_DIRECTORY handle, for syncfs */
    mlops_durability durability;
    int readonly;
    unsigned int lock_timeout_ms;
    unsigned int stale_lock_ms;
    char hostname[256];
    /* New blobs are anonymous O_TMPFILE files given their name by linkat:
     * no temp name to create, randomise and unlink per put. Cleared when
     * the filesystem (or a missing /proc) does not allow it. */
    int use_tmpfile;

    pthread_mutex_t state;
    pthread_mutex_t sync_lock;

    /* Objects published since the last commit point (COMMIT mode). */
    mlops_oid pending[MLOPS__FSB_PENDING_MAX];
    size_t npending;
    int pending_overflow;           /* too many: use syncfs */
    unsigned char dirty_fanout[32]; /* bitmap of objects/xx dirs to fsync */
    int objects_dir_dirty;          /* a fanout dir was created */

    /* Logs this instance appends to (see fs_logs.c). */
    mlops__fsb_log *logs;
    size_t nlogs, logs_cap;
    size_t logs_open; /* entries with an open fd */
    uint64_t append_seq;
} mlops__fsb;

static inline mlops__fsb *mlops__fsb_of(mlops_backend *b)
{
    return (mlops__fsb *)b->payload;
}

/* ---- fs_path.c ---- */

/* root + "/" + formatted suffix; NULL when out of memory (no error set). */
char *mlops__fsb_path(const mlops__fsb *fs, const char *fmt, ...) MLOPS__PRINTF(2, 3);
/* Checks a ref or log name the same way the front end does, so that no
 * path can ever leave the store: MLOPS_EINVALID with a message otherwise.
 * kind is "ref" or "log" (for the message). */
int mlops__fsb_name_check(const char *kind, const char *name);
/* The same test without recording an error: 1 if acceptable. */
int mlops__fsb_name_ok(const char *name);
/* MLOPS_EPERM "store is read-only" when the store was opened read-only. */
int mlops__fsb_check_writable(const mlops__fsb *fs);
/* fsyncs path and every parent directory up to and including stop (a
 * prefix of path). Used after creating nested directories. */
int mlops__fsb_fsync_dirs_up(const char *path, size_t stop_len);
/* The same on a buffer it cuts as it climbs (no allocation: for use after
 * a commit, when running out of memory must not fail the call). */
int mlops__fsb_fsync_dirs_up_in(char *path, size_t stop_len);
/* 1 if path is a directory, 0 if not or missing. */
int mlops__fsb_is_dir(const char *path);
/* 1 if the n bytes at s are lowercase hex digits (s may go on after). */
int mlops__fsb_is_hex(const char *s, size_t n);
/* *out = "<directory of path>/<kind><16 random hex>", a fresh name for a
 * private file beside path (kind e.g. MLOPS__FSB_REF_TEMP). */
int mlops__fsb_name_beside(char **out, const char *path, const char *kind);
/* Opens path read-only into *out_fd; a missing file (or parent) is
 * MLOPS_ENOTFOUND "<kind> '<name>' not found". */
int mlops__fsb_open_read(int *out_fd, const char *path, const char *kind, const char *name);
/* fsyncs the file at path; a missing file is an error unless missing_ok. */
int mlops__fsb_fsync_file(const char *path, int missing_ok);

/* ---- fs_walk.c ---- */

/* Return values of a walk callback besides 0 (continue) and negative
 * codes (abort the walk with that code). */
#define MLOPS__FSB_WALK_SKIP_FILES 1 /* no more files from this directory */
#define MLOPS__FSB_WALK_STOP 2       /* stop the whole walk, return 2 */
/* Walk flag: also report regular files whose name starts with '.' (the
 * backend's own files; directories starting with '.' are never entered). */
#define MLOPS__FSB_WALK_DOTFILES 1u
/* Called for each regular file; dir is its directory relative to the walk
 * base ("" at the top), name the file name. */
typedef int (*mlops__fsb_walk_cb)(const char *dir, const char *name, void *ctx);
/* Walks base/start recursively (start "" or a relative directory), skipping
 * entries whose name starts with '.' (files too, unless flags has
 * MLOPS__FSB_WALK_DOTFILES) and never following a symlink. A missing start
 * directory is an empty walk. */
int mlops__fsb_walk(const char *base, const char *start, unsigned flags, mlops__fsb_walk_cb cb, void *ctx);
/* The ref and log listings: walks root/top ("refs", "logs") from the
 * directory part of prefix (up to its last '/') if that is a valid name,
 * else from the top (the callback filters). */
int mlops__fsb_walk_names(const mlops__fsb *fs, const char *top, const char *prefix, mlops__fsb_walk_cb cb,
                          void *ctx);
/* Kinds of directory entries (symlinks are never followed: "other"). */
#define MLOPS__FSB_OTHER 0
#define MLOPS__FSB_DIR 1
#define MLOPS__FSB_FILE 2
int mlops__fsb_entry_kind(DIR *d, const struct dirent *e);
/* The next entry of d (opened from path, for messages): 1 and *out set,
 * 0 at the end, or a negative code. */
int mlops__fsb_readdir(DIR *d, const char *path, struct dirent **out);

/* ---- fs_cleanup.c ---- */

void mlops__fsb_cleanup_setup(mlops_backend *b);

/* ---- fs_pending.c ---- */

/* Records an object published without fsync (COMMIT mode). */
void mlops__fsb_pending_add(mlops__fsb *fs, const mlops_oid *id, int created_fanout);
/* Makes every pending object durable, and the file at also_path when it
 * is not NULL (a ref's temp file riding on the same flush); *did_syncfs
 * is set when the whole filesystem was synced. */
int mlops__fsb_pending_flush(mlops__fsb *fs, const char *also_path, int *did_syncfs);
/* Unwritten bytes per saved fsync below which syncfs is preferred
 * (256 KiB); 0 never prefers it. A variable so tests can force each way. */
extern uint64_t mlops__fsb_syncfs_slack;
/* Whether one syncfs should replace `fsyncs` fsync calls when the kernel
 * still has `unwritten` bytes to write back (UINT64_MAX: unknown). */
int mlops__fsb_prefer_syncfs(size_t fsyncs, uint64_t unwritten);
/* Dirty + Writeback bytes from /proc/meminfo text; UINT64_MAX if absent. */
uint64_t mlops__fsb_meminfo_unwritten(const char *meminfo);

/* ---- fs_backend.c ---- */
/* The commit point: pending objects, log bytes and also_path (may be
 * NULL) durable, with one syncfs when that is cheaper. */
int mlops__fsb_commit(mlops__fsb *fs, const char *also_path);

/* ---- fs_objects.c ---- */

void mlops__fsb_objects_setup(mlops_backend *b);
/* Writes "objects/xx/<62 hex>" for id into out (73 bytes). */
void mlops__fsb_object_rel(char out[80], const mlops_oid *id);

/* ---- fs_refs.c / fs_lock.c ---- */

void mlops__fsb_refs_setup(mlops_backend *b);

/* A held ref lock. */
typedef struct mlops__fsb_lock {
    char *path; /* refs/<name>.lock */
    int fd;
    int created_dirs; /* parents were created: fsync them at commit */
} mlops__fsb_lock;

/* Takes refs/<name>.lock, waiting up to lock_timeout_ms and breaking a
 * stale lock. ref_path is refs/<name>. MLOPS_ELOCKED on timeout,
 * MLOPS_EEXISTS when a ref is in the way of the name's directories. */
int mlops__fsb_lock_acquire(mlops__fsb_lock *out, mlops__fsb *fs, const char *name, const char *ref_path);
/* MLOPS_ELOCKED if the lock file is no longer ours (it was broken). */
int mlops__fsb_lock_check(const mlops__fsb_lock *lock);
/* Closes and removes the lock file (if remove) and frees lock->path. */
void mlops__fsb_lock_release(mlops__fsb_lock *lock, int remove);

/* ---- fs_logs.c / fs_log_read.c ---- */

void mlops__fsb_logs_setup(mlops_backend *b);      /* append, sync */
void mlops__fsb_log_read_setup(mlops_backend *b); /* segments, read, foreach */
/* Makes every log this instance appended to durable. After a syncfs,
 * covered is the append_seq observed before it: entries not appended to
 * since are marked durable without another fsync. */
int mlops__fsb_logs_sync_all(mlops__fsb *fs, int syncfs_done, uint64_t covered);
/* Closes every segment and frees the table. */
void mlops__fsb_logs_free(mlops__fsb *fs);
/* 1 if name has the form of a segment file name. */
int mlops__fsb_is_segment_name(const char *name);

#endif
