/*
 * Internal: structured objects (docs/FORMAT.md). Logical bytes:
 *   8  magic 0x89 'M' 'L' 'S' '\r' '\n' 0x1a '\n'
 *   1  version (1)
 *   1  type length T (1..32)
 *   2  reserved (0)
 *   4  number of links N (little endian)
 *   T  type: [a-z0-9._-]
 *   32*N link ids
 *   the body
 */
#ifndef MLOPS_LIB_STORE_STRUCTURED_H
#define MLOPS_LIB_STORE_STRUCTURED_H

#include "mlops/store.h"
#include "common/buf.h"

#define MLOPS__STRUCT_FIXED 16

/* 1 if the first bytes (at least MLOPS__STRUCT_FIXED) carry the magic. */
int mlops__structured_is(const void *head, size_t len);

/* Parses data; pointers point into data. MLOPS_EINVALID if not structured,
 * MLOPS_ECORRUPT if it claims to be but is malformed. */
typedef struct mlops__structured {
    const char *type;
    size_t type_len;
    const unsigned char *links; /* nlinks * 32 bytes */
    size_t nlinks;
    const void *body;
    size_t body_len;
} mlops__structured;
int mlops__structured_parse(mlops__structured *out, const void *data, size_t len);

/* Appends the logical bytes of a structured object to out (what
 * mlops_object_put_structured stores; hashing them gives its id without
 * storing anything). MLOPS_EINVALID, MLOPS_ENOMEM. */
int mlops__structured_encode(mlops__buf *out, const char *type, const mlops_oid *links, size_t nlinks,
                            const void *body, size_t body_len);

#endif
