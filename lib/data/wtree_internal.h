/*
 * Internal to wtree_*.c: the in-memory layout of a scanned working tree.
 *
 * Nodes live in one array, 32-bit indexes, no per-entry allocation. Node 0
 * is the root directory. The scan is breadth first: a directory's children
 * are appended as one contiguous block sorted by name, so every child has a
 * larger index than its parent and a reverse sweep of the array meets every
 * directory after all of its subdirectories (what the bottom-up manifest
 * pass needs). Names (NUL-terminated, followed by the NUL-terminated target
 * for symlinks) live in one string arena.
 *
 * For a single-file snapshot node 0 is a synthetic directory (the file's
 * parent directory, opened as root_fd) holding just that file.
 */
#ifndef MLOPS_LIB_DATA_WTREE_INTERNAL_H
#define MLOPS_LIB_DATA_WTREE_INTERNAL_H

#include <stdint.h>
#include <sys/stat.h>
#include "statcache.h"
#include "wtree.h"

#define MLOPS__WN_NONE UINT32_MAX

/* Node flags. */
#define MLOPS__WN_EXEC 0x1u    /* = MLOPS__TREE_EXEC: a regular file with an x bit */
#define MLOPS__WN_SKIPPED 0x2u /* unreadable and skipped: in no manifest */
#define MLOPS__WN_CACHED 0x4u  /* id taken from the stat cache (still to be confirmed in the store) */
#define MLOPS__WN_DONE 0x8u    /* id known */

/* Distinct filesystems a tree may span (st_dev values kept by index, so a
 * node carries one byte instead of eight). The table never moves, so the
 * hashing threads read it without a lock. */
#define MLOPS__WTREE_DEVS 256

/* 80 bytes. */
typedef struct mlops__wnode {
    mlops_oid id;  /* file: content; dir: manifest; symlink: SHA-256 of the target */
    uint64_t size; /* file: bytes; dir: bytes below (after hashing); symlink: target length */
    uint64_t ino;
    union {
        struct {
            int64_t mtime_ns;
            int64_t ctime_ns;
        } f; /* regular files */
        struct {
            uint64_t files;  /* regular files below (after hashing) */
            uint32_t first;  /* index of the first child */
            uint32_t count;  /* number of children */
        } d; /* directories */
    } u;
    uint32_t parent;
    uint32_t name_off; /* into names */
    uint8_t name_len;  /* 1..255 (0 for the root) */
    uint8_t type;      /* mlops_data_type */
    uint8_t flags;     /* MLOPS__WN_* */
    uint8_t dev;       /* index into devs */
} mlops__wnode;

struct mlops__wtree {
    mlops__wnode *nodes;
    uint32_t count, cap;
    char *names;
    size_t names_len, names_cap;
    uint64_t devs[MLOPS__WTREE_DEVS];
    unsigned ndevs;
    char *path;      /* as given: messages */
    char *prefix;    /* what relative paths are relative to, for messages ("" for ".") */
    char *real_root; /* realpath of path: the stat cache's key */
    int root_fd;     /* relative paths start here */
    int64_t taken_ns;
    uint64_t files_total, bytes_total; /* regular files found by the scan */
    uint64_t skipped;                  /* entries skipped (scan and hashing) */
    uint32_t *dir_index;               /* directories sorted by manifest id (after hashing) */
    uint32_t ndirs;
    uint64_t files_hashed, bytes_hashed;
    int hashed;
    /* The stat cache, loading while the tree is scanned (NULL: not
     * started; mlops__wtree_hash then loads it itself unless NO_CACHE). */
    mlops__statcache_loader *cache_loader;
};

static inline const char *mlops__wtree_name(const mlops__wtree *t, const mlops__wnode *n)
{
    return t->names + n->name_off;
}

static inline const char *mlops__wtree_target(const mlops__wtree *t, const mlops__wnode *n)
{
    return t->names + n->name_off + n->name_len + 1;
}

/* Index of dev in t->devs, added if new. MLOPS_EUNSUPPORTED past
 * MLOPS__WTREE_DEVS filesystems. Not thread-safe. */
int mlops__wtree_dev_index(mlops__wtree *t, uint64_t dev);

/* The stat key the scan (or the last read) recorded for file node i. */
void mlops__wtree_key(mlops__stat_key *out, const mlops__wtree *t, uint32_t i);

/* Replaces b's content with node i's path relative to the root ("" for the
 * root). Returns its number of components (0 for the root; for a
 * directory, the depth at which its symlinks are checked), or ENOMEM. */
int mlops__wtree_relpath(mlops__buf *b, const mlops__wtree *t, uint32_t i);

/* Number of directories between the root and directory i (0 for the root):
 * the depth at which i's symlinks are checked. */
unsigned mlops__wtree_dir_depth(const mlops__wtree *t, uint32_t i);

/* A directory whose manifest is to be built (not skipped as unreadable). */
static inline int mlops__wnode_is_dir(const mlops__wnode *n)
{
    return n->type == MLOPS_DATA_DIR && !(n->flags & MLOPS__WN_SKIPPED);
}

/* Every directory's manifest, bottom-up (and stored when store is not
 * NULL), with its size and file count (wtree_manifests.c). */
int mlops__wtree_build_manifests(mlops__wtree *t, mlops_store *store);
/* Directory i's entries as manifest entries borrowing the tree's memory
 * (skipped children left out; room for u.d.count): their count, with the
 * totals in *size and *files. */
size_t mlops__wtree_dir_entries(mlops__tree_entry *entries, const mlops__wtree *t, uint32_t i, uint64_t *size,
                                uint64_t *files);

/*
 * A depth-first walk in tree order (sorted names, a directory before its
 * content: the order of the stat cache). next returns 1 with *node set and
 * w->path holding its relative path, 0 at the end, or ENOMEM. Skipped
 * nodes are visited too (callers filter).
 */
typedef struct mlops__wtree_walk {
    const mlops__wtree *t;
    uint32_t *dir;  /* stack: directory */
    uint32_t *next; /* stack: its next child (absolute index) */
    size_t *plen;   /* stack: path length before the directory's children */
    size_t depth, cap;
    mlops__buf path;
    int started;
} mlops__wtree_walk;
void mlops__wtree_walk_init(mlops__wtree_walk *w, const mlops__wtree *t);
int mlops__wtree_walk_next(mlops__wtree_walk *w, uint32_t *node);
void mlops__wtree_walk_dispose(mlops__wtree_walk *w);

/* Reads (put == 0: hashes; put != 0: stores) the files listed in work with
 * a pool of threads, reporting progress and notices from the calling thread
 * (wtree_pool.c). */
typedef struct mlops__wtree_job {
    mlops__wtree *t;
    mlops_store *store;
    int put;
    unsigned flags;
    unsigned threads;
    const uint32_t *work;
    size_t nwork;
    uint64_t files_done, bytes_done; /* already settled before the pool (cache hits) */
    mlops_data_progress_cb progress;
    void *progress_payload;
    mlops_data_notice_cb notice;
    void *notice_payload;
} mlops__wtree_job;
int mlops__wtree_read_files(const mlops__wtree_job *job);

#endif
