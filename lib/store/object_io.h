/* Internal: object writer/reader entry points shared by the object files. */
#ifndef MLOPS_LIB_STORE_OBJECT_IO_H
#define MLOPS_LIB_STORE_OBJECT_IO_H

#include <stdint.h>
#include "store_internal.h"

#define MLOPS__SIZE_UNKNOWN UINT64_MAX

/* A writer that knows the final size up front (size_hint) may compress a
 * stream larger than the in-memory limit; MLOPS__SIZE_UNKNOWN otherwise.
 * If the bytes written then differ from the hint, finish fails with
 * MLOPS_ECONFLICT (the source changed while it was being stored). */
int mlops__writer_open(mlops_object_writer **out, mlops_store *s, uint64_t size_hint);

/* A writer that does not hash: its caller computes the id (e.g. on another
 * thread) and publishes with mlops__writer_finish_as. */
int mlops__writer_open_unhashed(mlops_object_writer **out, mlops_store *s, uint64_t size_hint);
int mlops__writer_finish_as(mlops_oid *out, mlops_object_writer *w, const mlops_oid *id);

/* Reads a whole object into memory, verified. */
int mlops__object_read_all(void **out, size_t *out_len, mlops_store *s, const mlops_oid *id);

/* Reads at most cap bytes of an object's logical start, unverified (gc uses
 * it to look for a structured header). */
int mlops__object_peek(void *buf, size_t cap, size_t *out_n, mlops_store *s, const mlops_oid *id);

/* "<hex>" of id into a static-sized buffer for messages. */
typedef struct mlops__hexid {
    char s[MLOPS_OID_HEXSZ + 1];
} mlops__hexid;
mlops__hexid mlops__hex(const mlops_oid *id);

#endif
