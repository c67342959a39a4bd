/*
 * Internal: the physical encoding of an object blob (docs/FORMAT.md).
 *
 *   raw:  "MLOB" u8 version=1, u8 encoding=0, u16 reserved=0, then the bytes
 *   zlib: "MLOB" u8 version=1, u8 encoding=1, u16 reserved=0,
 *         u64 logical size (little endian), then one zlib stream
 *   chunked: "MLOB" u8 version=1, u8 encoding=2, u16 reserved=0,
 *         u64 logical size, u64 chunk count, then per chunk its 32-byte
 *         id and u64 length; the chunks are objects of their own
 *
 * A raw blob's logical size is its stored size minus the 8-byte header, so
 * a raw object can be streamed out before its size is known.
 */
#ifndef MLOPS_LIB_STORE_OBJECT_CODEC_H
#define MLOPS_LIB_STORE_OBJECT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define MLOPS__OBJ_MAGIC "MLOB"
#define MLOPS__OBJ_VERSION 1
#define MLOPS__OBJ_ENC_RAW 0
#define MLOPS__OBJ_ENC_ZLIB 1
#define MLOPS__OBJ_ENC_CHUNKED 2
#define MLOPS__OBJ_HDR_RAW 8
#define MLOPS__OBJ_HDR_ZLIB 16
#define MLOPS__OBJ_HDR_CHUNKED 24
#define MLOPS__OBJ_HDR_MAX MLOPS__OBJ_HDR_CHUNKED
#define MLOPS__CHUNK_ENTRY 40 /* 32-byte id, u64 length */

/* Writes the header for encoding into out (MLOPS__OBJ_HDR_MAX bytes room);
 * returns its length. count is the chunk count (chunked only). */
size_t mlops__obj_header_encode(unsigned char *out, int encoding, uint64_t logical_size, uint64_t count);

/* Parses the first 8 bytes; *encoding and *header_len get the encoding
 * and the full header length. MLOPS_ECORRUPT or MLOPS_EUNSUPPORTED. */
int mlops__obj_header_decode(const unsigned char *hdr8, int *encoding, size_t *header_len);

void mlops__put_le32(unsigned char *p, uint32_t v);
void mlops__put_le64(unsigned char *p, uint64_t v);
uint32_t mlops__get_le32(const unsigned char *p);
uint64_t mlops__get_le64(const unsigned char *p);

#endif
