/*
 * Internal to wtree_scan.c: listing a directory ahead of the scan.
 *
 * The scan handles directories one at a time in breadth-first order: open,
 * readdir, lstat every entry, then add the entries to the tree and sort
 * them. Only the lstat step was shared with a second thread, so readdir,
 * adding and sorting left one CPU idle. A worker thread now opens, lists
 * and lstat's the next directory while the scan adds the current one, and
 * the scan helps it finish the lstat's when it gets there. The worker only
 * fills a listing (the first MLOPS__WSTAT_BATCH entries; the scan reads
 * any further rounds itself) and never touches the tree: entries are still
 * added, and notices and errors reported, by the scanning thread in
 * readdir order, exactly as without the worker.
 */
#ifndef MLOPS_LIB_DATA_WTREE_PREFETCH_H
#define MLOPS_LIB_DATA_WTREE_PREFETCH_H

#include <dirent.h>
#include <stdint.h>

#include "wtree_stat.h"

/* open_err of a directory that is not the one its parent listed. */
#define MLOPS__WDIR_REPLACED (-1)

/* The first round of a directory's listing. */
typedef struct mlops__wlisting {
    DIR *dir;       /* open when open_err, fdopen_err and rc are 0 */
    int open_err;   /* errno of openat, or MLOPS__WDIR_REPLACED */
    int fdopen_err; /* errno of fdopendir */
    int end;        /* readdir reached the end... */
    int read_err;   /* ...with this errno (0 at the true end) */
    int rc;         /* 0 or MLOPS_ENOMEM (the batch could not grow) */
} mlops__wlisting;

/* 1 when the directory is open and its first round was read. */
static inline int mlops__wlisting_ok(const mlops__wlisting *l)
{
    return l->dir && l->rc == 0;
}

/* Opens directory rel ("." for the root) under root_fd without following a
 * symlink, checks it is dev/ino, and reads its first round into b (not yet
 * stat'ed). Nothing is reported: every outcome is in *l. */
void mlops__wlisting_open(mlops__wlisting *l, mlops__wstat_batch *b, int root_fd, const char *rel, uint64_t dev,
                          uint64_t ino);

typedef struct mlops__wprefetch mlops__wprefetch;

/* Starts the worker. *out NULL and 0 when no thread can be started (the
 * scan then lists every directory itself); MLOPS_ENOMEM. */
int mlops__wprefetch_new(mlops__wprefetch **out, int root_fd);
/* Hands directory node (rel, dev, ino as for mlops__wlisting_open) to the
 * idle worker. 0 or MLOPS_ENOMEM. */
int mlops__wprefetch_queue(mlops__wprefetch *p, uint32_t node, const char *rel, uint64_t dev, uint64_t ino);
/* 1 when a directory is queued, and its node in *node. */
int mlops__wprefetch_queued(mlops__wprefetch *p, uint32_t *node);
/* Waits for the queued directory, lstat'ing its entries alongside the
 * worker; its listing goes to *l and its batch is swapped with *b (which
 * the worker fills next time). The worker is idle afterwards. */
void mlops__wprefetch_take(mlops__wprefetch *p, mlops__wlisting *l, mlops__wstat_batch *b);
/* Stops the worker; a directory it listed but nobody took is closed. */
void mlops__wprefetch_free(mlops__wprefetch *p);

#endif
