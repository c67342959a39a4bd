/* Internal: SHA-256 on a second thread, so that a large put hashes and
 * writes at the same time instead of one after the other. */
#ifndef MLOPS_LIB_STORE_HASH_PIPE_H
#define MLOPS_LIB_STORE_HASH_PIPE_H

#include <stddef.h>
#include <stdint.h>
#include "mlops/store.h"

/* Called on the caller's thread with each block of the file, in order. */
typedef int (*mlops__block_fn)(void *arg, const unsigned char *data, size_t len);

/* Reads fd from offset 0 to its end with pread (size bytes expected: a
 * hint for the block size), hands every block to fn while a helper
 * thread computes the SHA-256 of the whole content; *out_id gets that
 * hash and *out_read the number of bytes read. Publishes nothing. Falls
 * back to one thread if none can be started. path is for messages. */
int mlops__hash_pipe_run(mlops_oid *out_id, uint64_t *out_read, int fd, uint64_t size, const char *path,
                         mlops__block_fn fn, void *arg);

/* pread until len bytes or the end of the file; *out_n < len only at the
 * end. 0 or a recorded error naming path. */
int mlops__pread_full(int fd, void *buf, size_t len, uint64_t offset, size_t *out_n, const char *path);

/* After reading read bytes: MLOPS_ECONFLICT ("changed while being read")
 * unless they are size bytes and fstat still shows st0's size and mtime. */
struct stat;
int mlops__check_unchanged(int fd, const struct stat *st0, uint64_t size, uint64_t read, const char *path);

#endif
