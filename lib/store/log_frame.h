/*
 * Internal: log frames (docs/FORMAT.md). A segment is a sequence of frames:
 *   0  4  magic "MLF1"
 *   4  4  payload length L (little endian)
 *   8  4  record count N
 *   12 4  CRC-32 (zlib's) of bytes 0..11 followed by the payload
 *   16 L  N records, each: u32 length, then the bytes
 * One append (a single record or a batch) is one frame, so a reader sees a
 * batch whole or not at all. A frame that is short or fails its CRC ends
 * the segment for readers: it is a torn tail.
 */
#ifndef MLOPS_LIB_STORE_LOG_FRAME_H
#define MLOPS_LIB_STORE_LOG_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"

#define MLOPS__FRAME_HDR 16
#define MLOPS__FRAME_MAGIC "MLF1"
/* Largest payload a reader accepts (a bound against corrupt lengths). */
#define MLOPS__FRAME_PAYLOAD_MAX (((uint64_t)1 << 30) + ((uint64_t)1 << 26))

/* Appends one frame holding n records to out. */
int mlops__frame_encode(mlops__buf *out, const void *const *records, const size_t *lens, size_t n);

/* Checks a frame header; *payload_len and *count get its fields.
 * Returns 0 or MLOPS_ECORRUPT. */
int mlops__frame_header(const unsigned char *hdr, uint32_t *payload_len, uint32_t *count);
/* Checks the CRC and that the records exactly fill the payload. */
int mlops__frame_check(const unsigned char *hdr, const unsigned char *payload, uint32_t payload_len,
                       uint32_t count);
/* Walks records of a checked payload: *pos starts at 0. */
void mlops__frame_record(const unsigned char *payload, size_t *pos, const void **rec, size_t *len);

#endif
