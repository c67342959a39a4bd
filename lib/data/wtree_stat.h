/*
 * Internal to wtree_scan.c: lstat'ing a batch of a directory's entries on
 * two threads. Status of an unchanged tree is mostly fstatat (the dentry
 * lookup in the kernel), one call per entry; git preloads lstat on several
 * threads, so the scan collects names from readdir into a batch, stats the
 * batch on the calling thread and one helper, then applies the results
 * serially in readdir order (so notices, errors and skipped counts come out
 * exactly as a one-entry-at-a-time scan would give them).
 *
 * Memory is bounded by MLOPS__WSTAT_BATCH entries (at most about 1.2 MiB
 * with 255-byte names), kept for the whole scan.
 */
#ifndef MLOPS_LIB_DATA_WTREE_STAT_H
#define MLOPS_LIB_DATA_WTREE_STAT_H

#include <dirent.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Entries per batch: a directory larger than this is listed and stat'ed in
 * several rounds. */
#define MLOPS__WSTAT_BATCH 4096

/* err of an entry that is not to be stat'ed (its name cannot be recorded);
 * errno values are positive. */
#define MLOPS__WSTAT_UNSTATED (-1)

/* The part of a struct stat the scan keeps (48 bytes instead of 144). */
typedef struct mlops__wstat {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    uint32_t mode;
    int err; /* 0, fstatat's errno, or MLOPS__WSTAT_UNSTATED */
} mlops__wstat;

typedef struct mlops__wstat_batch {
    char *names;     /* NUL-terminated names back to back */
    size_t names_len, names_cap;
    uint32_t *off;   /* entry k's name starts at names + off[k] */
    mlops__wstat *st;
    size_t count, cap;
    int split;       /* more than one CPU online: a helper thread may help */
} mlops__wstat_batch;

void mlops__wstat_from(mlops__wstat *out, const struct stat *st);

void mlops__wstat_batch_init(mlops__wstat_batch *b);
void mlops__wstat_batch_dispose(mlops__wstat_batch *b);
/* Empties the batch, keeping its memory. */
void mlops__wstat_batch_clear(mlops__wstat_batch *b);
/* Appends a name (len bytes, no NUL needed) to be stat'ed, or with stat_it
 * 0 one only to be reported (err MLOPS__WSTAT_UNSTATED). At most
 * MLOPS__WSTAT_BATCH entries. 0 or MLOPS_ENOMEM. */
int mlops__wstat_batch_add(mlops__wstat_batch *b, const char *name, size_t len, int stat_it);
/* fstatat(dfd, name, AT_SYMLINK_NOFOLLOW) of every entry to be stat'ed,
 * filling st[k] (a failure is recorded in st[k].err, never reported). Uses
 * one helper thread for a large batch when more than one CPU is online, the
 * calling thread alone otherwise or if the thread cannot be started. */
void mlops__wstat_batch_run(mlops__wstat_batch *b, int dfd);

/* Empties the batch and fills it from readdir (up to MLOPS__WSTAT_BATCH
 * entries, "." and ".." left out, names that cannot be recorded marked not
 * to be stat'ed). *end is set when readdir returned NULL, with its errno in
 * *err (0 at the true end). 0 or MLOPS_ENOMEM. */
int mlops__wstat_batch_fill(mlops__wstat_batch *b, DIR *d, int *end, int *err);

/* A batch being stat'ed by any number of threads at once, each calling
 * _work, which returns when no chunk is left to take (chunks another
 * thread took may still be in progress: join or wait for it). */
typedef struct mlops__wstat_job {
    mlops__wstat_batch *b;
    int dfd;
    atomic_size_t next; /* first entry of the next chunk to take */
} mlops__wstat_job;

void mlops__wstat_job_init(mlops__wstat_job *j, mlops__wstat_batch *b, int dfd);
void mlops__wstat_job_work(mlops__wstat_job *j);
/* The same through a descriptor of its own for the directory (see
 * wtree_stat.c): for every thread but one. */
void mlops__wstat_job_work_own(mlops__wstat_job *j);

static inline const char *mlops__wstat_batch_name(const mlops__wstat_batch *b, size_t k)
{
    return b->names + b->off[k];
}

static inline size_t mlops__wstat_batch_name_len(const mlops__wstat_batch *b, size_t k)
{
    size_t end = k + 1 < b->count ? b->off[k + 1] : b->names_len;
    return end - b->off[k] - 1;
}

#endif
