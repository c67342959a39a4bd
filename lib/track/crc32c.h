/* Internal: CRC-32C (Castagnoli), the checksum of TensorFlow's TFRecord
 * framing, which TensorBoard event files use. */
#ifndef MLOPS_LIB_TRACK_CRC32C_H
#define MLOPS_LIB_TRACK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC-32C over data; start with crc = 0. The pre- and
 * post-inversion are inside, so crc32c(crc32c(0, a), b) == crc32c(0, ab). */
uint32_t mlops__crc32c(uint32_t crc, const void *data, size_t len);
/* TFRecord's masked form: rotate right by 15, add 0xa282ead8 (mod 2^32).
 * TensorFlow masks because a CRC over data that embeds CRCs is weak. */
uint32_t mlops__crc32c_mask(uint32_t crc);

#endif
