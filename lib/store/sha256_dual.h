/*
 * Internal: two SHA-256 streams over the same bytes — the whole file's and
 * the current chunk's — for the chunked put. With the x86 SHA extensions
 * both streams are computed in one pass, their rounds interleaved: the
 * round instruction's latency leaves room for a second independent stream,
 * so two hashes cost about 1.4x one instead of 2x. Elsewhere two OpenSSL
 * contexts do the same work one after the other.
 */
#ifndef MLOPS_LIB_STORE_SHA256_DUAL_H
#define MLOPS_LIB_STORE_SHA256_DUAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

typedef struct mlops__sha_stream {
    uint32_t h[8];
    unsigned char buf[64];
    size_t fill;     /* bytes in buf */
    uint64_t total;  /* bytes hashed */
} mlops__sha_stream;

typedef struct mlops__sha_dual {
    int fast;                   /* SHA extensions in use */
    mlops__sha_stream a, b;     /* fast: whole, chunk */
    mlops__sha256 ea, eb;       /* otherwise */
} mlops__sha_dual;

/* Starts both streams; fast == 0 forces the OpenSSL path (tests). */
int mlops__sha_dual_init(mlops__sha_dual *d, int allow_fast);
/* Feeds n bytes to both streams. */
int mlops__sha_dual_update(mlops__sha_dual *d, const void *p, size_t n);
/* Finishes the second stream (the chunk) and restarts it. */
int mlops__sha_dual_next(mlops__sha_dual *d, unsigned char out[32]);
/* Finishes the first stream (the whole). */
int mlops__sha_dual_final(mlops__sha_dual *d, unsigned char out[32]);
void mlops__sha_dual_dispose(mlops__sha_dual *d);

#endif
