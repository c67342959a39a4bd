/*
 * Internal: the stat cache, one per working directory, kept in the store
 * (docs/FORMAT.md, "Stat caches"). It remembers, for every file of the
 * last snapshot or status of a directory, the stat fields and the content
 * id, so that an unchanged file is not read again.
 *
 * It is only a hint: a missing, damaged or foreign cache reads as empty,
 * and a cached id is used only when all five stat fields match and the
 * file's mtime is safely older than the moment the cache was taken (the
 * racy rule below).
 */
#ifndef MLOPS_LIB_DATA_STATCACHE_H
#define MLOPS_LIB_DATA_STATCACHE_H

#include <sys/stat.h>
#include "data_internal.h"

/*
 * Racy rule: an entry is trusted only if its mtime is older than the
 * cache's taken time minus a margin: 2 s by default, less on known local
 * filesystems (below). A file written in the same clock
 * tick as (or just before) the scan could be written again without its
 * mtime moving; 2 s covers coarse kernel timestamps (a jiffy behind
 * CLOCK_REALTIME), FAT's 2 s mtime granularity and small NFS clock skew
 * between the client and the server that stamps the file. (As in git,
 * only the mtime is judged: a rewrite that deliberately restores size and
 * mtime still changes the ctime, which must match too; only two such
 * rewrites within one clock tick of the scan could go unseen.)
 */
#define MLOPS__STATCACHE_RACY_NS 2000000000LL
/* The margin on local filesystems known to stamp files in nanoseconds from
 * the kernel's coarse clock (ext4, xfs, btrfs, tmpfs, f2fs, zfs, overlayfs):
 * that clock lags CLOCK_REALTIME by at most a jiffy (10 ms at HZ=100), so
 * twice that is safe, and files written a moment before a snapshot need not
 * be read again by the next status. */
#define MLOPS__STATCACHE_RACY_LOCAL_NS 20000000LL

/* The racy margin for a directory on path's filesystem (statfs). */
int64_t mlops__statcache_racy_ns(const char *path);

typedef struct mlops__statcache mlops__statcache;
/* The cache of working directory root (any path; resolved with realpath). Never fails for a missing or damaged cache (empty cache); ENOMEM. */
int mlops__statcache_load(mlops__statcache **out, mlops_store *store, const char *root);
/* The same load on a thread of its own, so that it overlaps the scan:
 * _start never waits (without a thread the load happens in _finish);
 * _finish waits for it, gives the cache (out may be NULL to drop it) and
 * frees the loader. ENOMEM from either. */
typedef struct mlops__statcache_loader mlops__statcache_loader;
int mlops__statcache_load_start(mlops__statcache_loader **out, mlops_store *store, const char *root);
int mlops__statcache_load_finish(mlops__statcache **out, mlops__statcache_loader *l);
/* Lookups in tree order: 1 and *out set when the cache vouches for the file, 0 otherwise. */
int mlops__statcache_lookup(mlops__statcache *c, const char *relpath, const mlops__stat_key *key, mlops_oid *out);
void mlops__statcache_free(mlops__statcache *c);
typedef struct mlops__statcache_writer mlops__statcache_writer;
int mlops__statcache_writer_new(mlops__statcache_writer **out, mlops_store *store, const char *root, int64_t taken_ns);
/* Adds in tree order. */
int mlops__statcache_writer_add(mlops__statcache_writer *w, const char *relpath, const mlops__stat_key *key, const mlops_oid *id);
/* Stores the cache and points the directory's ref at it (last writer wins). */
int mlops__statcache_writer_commit(mlops__statcache_writer *w);
void mlops__statcache_writer_free(mlops__statcache_writer *w);
void mlops__stat_key_from(mlops__stat_key *out, const struct stat *st);
int64_t mlops__statcache_now_ns(void);

#endif
