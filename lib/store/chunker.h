/*
 * Internal: content-defined chunking (a FastCDC-style gear hash). The cut
 * points define which chunks two versions of a file share, so this
 * algorithm, its table and its masks are part of the format and must never
 * change (docs/FORMAT.md, "Chunk boundaries").
 */
#ifndef MLOPS_LIB_STORE_CHUNKER_H
#define MLOPS_LIB_STORE_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

typedef struct mlops__chunker {
    uint64_t mask_small; /* before the normal size: harder to match */
    uint64_t mask_large; /* after it: easier */
    uint64_t min, normal, max; /* normal: where the looser mask starts */
    uint64_t pos;        /* bytes of the current chunk seen so far */
    uint64_t h;          /* the rolling fingerprint */
} mlops__chunker;

/* The 256-entry gear table (computed once, thread-safely). */
const uint64_t *mlops__gear_table(void);

/* Starts at the beginning of a stream. avg must be a power of two and
 * min < avg < max (checked by the caller). */
void mlops__chunker_init(mlops__chunker *c, uint32_t min, uint32_t avg, uint32_t max);

/* Scans up to n bytes of the stream. Returns how many of them belong to
 * the current chunk; *cut is 1 if the chunk ends after them (the next call
 * starts a new chunk), 0 if all n were taken and the chunk goes on. The
 * last chunk of a stream ends at its end, wherever that is. */
size_t mlops__chunker_scan(mlops__chunker *c, const unsigned char *p, size_t n, int *cut);

#endif
