/* Internal: storing an open file, chunked or not (object_put.c). */
#ifndef MLOPS_LIB_STORE_OBJECT_PUT_H
#define MLOPS_LIB_STORE_OBJECT_PUT_H

#include "mlops/store.h"

/* Stores the content of fd (a regular file open for reading, positioned anywhere: reads from offset 0 with pread)
 * whose size is expected to be `size`; path is for messages only. Chunked by content when opts says so (opts NULL:
 * defaults). If the bytes read differ from size, or fstat after reading shows size or mtime moved, MLOPS_ECONFLICT
 * ("changed while being read: <path>") and no object claims that id. stats may be NULL. */
int mlops__object_put_fd(mlops_oid *out, mlops_put_stats *stats, mlops_store *s, int fd, uint64_t size,
                         const char *path, const mlops_put_options *opts);

#endif
