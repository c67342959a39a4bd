/*
 * Internal: what the files of the data module share. Never installed.
 *
 *  names.c     entry names, symlink targets, dataset names and tags
 *  manifest.c  the per-directory manifest: canonical encoding, strict parse
 *  wtree*.c    a scanned working tree (snapshot and status both start there)
 *  statcache.c the stat cache kept in the store per working directory
 *  snapshot.c  mlops_data_snapshot
 *  dataset.c, version_record.c, resolve.c, tag.c, pointer.c   datasets
 *  checkout*.c mlops_data_checkout
 *  tree_diff.c, diff.c, status.c, diff_json.c                 diff and status
 */
#ifndef MLOPS_LIB_DATA_INTERNAL_H
#define MLOPS_LIB_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "mlops/data.h"
#include "common/buf.h"

/* ---- names (names.c) ---------------------------------------------------- */

#define MLOPS__DATA_ENTRY_NAME_MAX 255   /* bytes, like NAME_MAX */
#define MLOPS__DATA_LINK_TARGET_MAX 4095 /* bytes, like PATH_MAX - 1 */
/* Directory levels below a snapshot's root: snapshot refuses deeper trees
 * and checkout refuses deeper manifests, so every snapshot can be checked
 * out and a crafted one cannot exhaust the destination's path length. */
#define MLOPS__DATA_DEPTH_MAX 255

/* A manifest entry name: 1..255 bytes, not "." or "..", no '/', no NUL,
 * no control character (0x01..0x1f, 0x7f). MLOPS_EINVALID with a message
 * naming the problem otherwise (the error is set). */
int mlops__data_name_check(const char *name, size_t len);

/* 1 if name has a control character (snapshot skips such entries). */
int mlops__data_name_has_control(const char *name, size_t len);

/*
 * A symlink target that checkout may create at depth (number of
 * directories between the checkout root and the link's directory; 0 for a
 * link in the root): 1..4095 bytes, relative, no NUL or control character,
 * every ".." component before any other component (so resolution climbs
 * real directories only, then descends), and no more ".." than depth.
 * By induction every link of a tree passing this check resolves inside
 * the tree. MLOPS_EINVALID (error set) otherwise.
 */
int mlops__data_link_target_check(const char *target, size_t len, unsigned depth);

/* Dataset names and tags (see data.h). MLOPS_EINVALID (error set). */
int mlops__data_dataset_name_check(const char *name);
int mlops__data_tag_check(const char *tag);

/* ---- manifests (manifest.c) --------------------------------------------- */

#define MLOPS__TREE_TYPE "data.tree"

#define MLOPS__TREE_EXEC 0x1u /* entry flag: executable (files only) */

/* One entry of a manifest. Pointers are borrowed (from a parsed object or
 * from the caller's memory). */
typedef struct mlops__tree_entry {
    const char *name;
    size_t name_len;
    mlops_data_type type;
    unsigned int flags;      /* MLOPS__TREE_EXEC */
    uint64_t size;           /* file: bytes; dir: bytes below; symlink: target length */
    uint64_t files;          /* file: 1; dir: regular files below; symlink: 0 */
    mlops_oid id;            /* file: content; dir: child manifest; symlink: sha256 of target */
    const char *target;      /* symlink only */
    size_t target_len;
} mlops__tree_entry;

/* A parsed manifest; entries point into body. */
typedef struct mlops__tree {
    mlops__tree_entry *entries;
    size_t count;
    uint64_t size;  /* sum of entries' size (symlinks excluded) */
    uint64_t files; /* sum of entries' files */
    void *data;     /* the object's bytes, owned */
} mlops__tree;

/* The order of manifest entries: bytewise (memcmp), shorter first on a
 * common prefix. */
int mlops__tree_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Sorts entries bytewise by name (memcmp, shorter first on a tie). */
void mlops__tree_sort(mlops__tree_entry *entries, size_t count);

/*
 * Checks entries (sorted, names valid and unique, types known, flags only
 * on files, files == 1 for files and 0 for links, symlink targets passing
 * mlops__data_link_target_check at depth) and encodes the manifest: its
 * structured object's links (file and directory ids in entry order) and
 * body. *links is allocated (mlops__free); body is appended to.
 * MLOPS_EINVALID (error set) or MLOPS_ENOMEM.
 */
int mlops__tree_encode(mlops_oid **links, size_t *nlinks, mlops__buf *body, const mlops__tree_entry *entries,
                       size_t count, unsigned depth);

/* The same encoding without any check: tests craft hostile manifests with it. */
int mlops__tree_encode_unchecked(mlops_oid **links, size_t *nlinks, mlops__buf *body,
                                 const mlops__tree_entry *entries, size_t count);

/* Encodes, stores and returns the manifest id (store != NULL), or only
 * computes the id the manifest would have (store == NULL). */
int mlops__tree_put(mlops_oid *out, mlops_store *store, const mlops__tree_entry *entries, size_t count,
                    unsigned depth);

/*
 * Parses the whole logical bytes of a structured object of type
 * MLOPS__TREE_TYPE, taking ownership of data (freed on failure too), and
 * checks everything mlops__tree_encode checks plus that the links section
 * equals the entries' ids. Anything wrong is MLOPS_EINVALID (the object is
 * intact, its content is not): a manifest crafted by an attacker can
 * never reach a caller.
 */
int mlops__tree_parse(mlops__tree *out, void *data, size_t len, unsigned depth);

/* Reads and parses manifest id. MLOPS_ENOTFOUND, MLOPS_ECORRUPT, MLOPS_EINVALID. */
int mlops__tree_load(mlops__tree *out, mlops_store *store, const mlops_oid *id, unsigned depth);

/* Binary search by name; NULL if absent. */
const mlops__tree_entry *mlops__tree_find(const mlops__tree *t, const char *name, size_t len);

void mlops__tree_dispose(mlops__tree *t);

/* ---- stat cache (statcache.c) ------------------------------------------- */

/*
 * What the cache knows about one file: the stat fields that must all match
 * for the cached id to be trusted without reading the file.
 */
typedef struct mlops__stat_key {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
} mlops__stat_key;

/* ---- resolution (resolve.c) ---------------------------------------------- */

/* The snapshot id a ref string names ("name", "name@N", "name@tag", 64-hex).
 * MLOPS_ENOTFOUND, MLOPS_EINVALID. */
int mlops__data_resolve_id(mlops_oid *out, mlops_store *store, const char *ref);

#endif
