/* Internal: SHA-256 on a second thread, so that a large put hashes and
 * writes at the same time instead of one after the other. */
#ifndef MLOPS_LIB_STORE_HASH_PIPE_H
#define MLOPS_LIB_STORE_HASH_PIPE_H

#include <stddef.h>
#include "mlops/store.h"

/* Copies fd (already open, size bytes expected) into writer w — opened
 * with mlops__writer_open_unhashed — hashing on a helper thread, and
 * publishes the object. Falls back to one thread if none can be started.
 * path is for messages. */
int mlops__put_fd_pipelined(mlops_oid *out, mlops_object_writer *w, int fd, const char *path);

#endif
