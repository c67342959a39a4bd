/* Internal: objects stored as content-defined chunks (docs/FORMAT.md). */
#ifndef MLOPS_LIB_STORE_CHUNKED_H
#define MLOPS_LIB_STORE_CHUNKED_H

#include <stdint.h>
#include <sys/stat.h>
#include "store_internal.h"

/* Stores fd (size bytes expected, st0 its fstat before reading) as chunks
 * plus an index under the whole content's id (chunked_put.c). opts are
 * checked. The change check runs before the index is published, so a file
 * that changed leaves at most some chunks behind, never the index. */
int mlops__chunked_put(mlops_oid *out, mlops_put_stats *stats, mlops_store *s, int fd, const struct stat *st0,
                       uint64_t size, const char *path, const mlops_put_options *opts);

/* If id is stored chunked, calls cb with each chunk id in order and
 * returns 1; returns 0 for any other encoding (chunk_index.c). Errors:
 * MLOPS_ENOTFOUND, MLOPS_ECORRUPT (a malformed index), cb's failure. */
typedef int (*mlops__chunk_cb)(void *arg, const mlops_oid *chunk);
int mlops__chunked_foreach(mlops_store *s, const mlops_oid *id, mlops__chunk_cb cb, void *arg);

#endif
