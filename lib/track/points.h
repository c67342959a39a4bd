/*
 * Internal: the encoding of metric points in a run's log (docs/FORMAT.md,
 * "Tracking"). One log record is one batch of points:
 *
 *   u8      version (1)
 *   groups until the end of the record, each:
 *     varint  key length K (1..MLOPS_KEY_MAX), then K bytes of key (no NUL)
 *     varint  n, the number of points (>= 1)
 *     n x 8   values, raw IEEE-754 doubles, little endian (bit-exact:
 *             NaN payloads and -0.0 survive)
 *     n x     zigzag varint step deltas
 *     n x     zigzag varint timestamp deltas (ms)
 *
 * Deltas are from the previous point of the group, the first from 0, and
 * are computed modulo 2^64 so any int64 sequence round-trips. Varints are
 * LEB128, at most 10 bytes and minimal (no trailing 0x80 0x00). A typical
 * stream (step + 1, timestamp + a few ms) costs 10 bytes per point.
 *
 * The decoder checks everything (truncation, overlong varints, lengths,
 * counts larger than the bytes left could hold) and answers
 * MLOPS_ECORRUPT, never reading outside the record.
 */
#ifndef MLOPS_LIB_TRACK_POINTS_H
#define MLOPS_LIB_TRACK_POINTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define MLOPS__POINTS_VERSION 1
/* Worst case bytes one point takes (value + two 10-byte varints). */
#define MLOPS__POINTS_MAX_BYTES 28

/* Starts a record in out (appends the version byte). */
int mlops__points_begin(mlops__buf *out);
/* Appends one group of n >= 1 points of key (keylen bytes, not checked
 * here: callers validate keys before buffering them). */
int mlops__points_add_group(mlops__buf *out, const char *key, size_t keylen, const double *values,
                            const int64_t *steps, const int64_t *timestamps, size_t n);

/* A cursor over one record; borrows the record's bytes. */
typedef struct mlops__points_reader {
    const unsigned char *p, *end;
    size_t pending; /* points of the current group not yet read or skipped */
} mlops__points_reader;

/* Checks the version byte. MLOPS_ECORRUPT, MLOPS_EUNSUPPORTED (newer). */
int mlops__points_reader_init(mlops__points_reader *r, const void *record, size_t len);
/* Moves to the next group's header (skipping the points of the current
 * one if they were not read). Returns 1 with *key (not NUL-terminated,
 * borrowed from the record), *keylen and *n set; 0 at the end of the
 * record; MLOPS_ECORRUPT. */
int mlops__points_next_group(mlops__points_reader *r, const char **key, size_t *keylen, size_t *n);
/* Decodes the current group's n points into the arrays (room for n each).
 * MLOPS_ECORRUPT. */
int mlops__points_read(mlops__points_reader *r, double *values, int64_t *steps, int64_t *timestamps);

#endif
