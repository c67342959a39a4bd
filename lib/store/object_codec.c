/* The physical object header (see object_codec.h). */
#include <string.h>

#include "common/error.h"
#include "object_codec.h"

void mlops__put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void mlops__put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t mlops__get_le32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t mlops__get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

size_t mlops__obj_header_encode(unsigned char *out, int encoding, uint64_t logical_size, uint64_t count)
{
    memcpy(out, MLOPS__OBJ_MAGIC, 4);
    out[4] = MLOPS__OBJ_VERSION;
    out[5] = (unsigned char)encoding;
    out[6] = out[7] = 0;
    if (encoding == MLOPS__OBJ_ENC_RAW)
        return MLOPS__OBJ_HDR_RAW;
    mlops__put_le64(out + 8, logical_size);
    if (encoding == MLOPS__OBJ_ENC_ZLIB)
        return MLOPS__OBJ_HDR_ZLIB;
    mlops__put_le64(out + 16, count);
    return MLOPS__OBJ_HDR_CHUNKED;
}

int mlops__obj_header_decode(const unsigned char *hdr8, int *encoding, size_t *header_len)
{
    if (memcmp(hdr8, MLOPS__OBJ_MAGIC, 4) != 0)
        return mlops__error_set(MLOPS_ECORRUPT, "object blob has a bad magic number");
    if (hdr8[4] > MLOPS__OBJ_VERSION)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "object blob format %u is newer than this library supports (%u)",
                                hdr8[4], MLOPS__OBJ_VERSION);
    if (hdr8[4] == 0 || hdr8[6] || hdr8[7])
        return mlops__error_set(MLOPS_ECORRUPT, "object blob header is malformed");
    switch (hdr8[5]) {
    case MLOPS__OBJ_ENC_RAW:
        *header_len = MLOPS__OBJ_HDR_RAW;
        break;
    case MLOPS__OBJ_ENC_ZLIB:
        *header_len = MLOPS__OBJ_HDR_ZLIB;
        break;
    case MLOPS__OBJ_ENC_CHUNKED:
        *header_len = MLOPS__OBJ_HDR_CHUNKED;
        break;
    default:
        return mlops__error_set(MLOPS_ECORRUPT, "object blob has unknown encoding %u", hdr8[5]);
    }
    *encoding = hdr8[5];
    return 0;
}
