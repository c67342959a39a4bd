/* Log frame encoding and checking (see log_frame.h). */
#include <string.h>
#include <zlib.h>

#include "common/error.h"
#include "log_frame.h"
#include "mlops/store.h"
#include "object_codec.h"

static uint32_t frame_crc(const unsigned char *hdr12, const unsigned char *payload, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, hdr12, 12);
    /* zlib takes uInt lengths: feed large payloads in pieces. */
    while (len > 0) {
        uInt step = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, payload, step);
        payload += step;
        len -= step;
    }
    return (uint32_t)crc;
}

int mlops__frame_encode(mlops__buf *out, const void *const *records, const size_t *lens, size_t n)
{
    uint64_t payload = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > MLOPS_LOG_RECORD_MAX)
            return mlops__error_set(MLOPS_EINVALID, "log record of %zu bytes exceeds the limit of %zu", lens[i],
                                    MLOPS_LOG_RECORD_MAX);
        payload += 4 + (uint64_t)lens[i];
    }
    if (payload > MLOPS__FRAME_PAYLOAD_MAX || n > UINT32_MAX)
        return mlops__error_set(MLOPS_EINVALID, "log batch is too large (%llu bytes in %zu records)",
                                (unsigned long long)payload, n);
    size_t start = out->len;
    MLOPS__TRY(mlops__buf_grow(out, MLOPS__FRAME_HDR + (size_t)payload));
    unsigned char *hdr = (unsigned char *)out->ptr + start;
    memcpy(hdr, MLOPS__FRAME_MAGIC, 4);
    mlops__put_le32(hdr + 4, (uint32_t)payload);
    mlops__put_le32(hdr + 8, (uint32_t)n);
    unsigned char *p = hdr + MLOPS__FRAME_HDR;
    for (size_t i = 0; i < n; i++) {
        mlops__put_le32(p, (uint32_t)lens[i]);
        if (lens[i])
            memcpy(p + 4, records[i], lens[i]);
        p += 4 + lens[i];
    }
    mlops__put_le32(hdr + 12, frame_crc(hdr, hdr + MLOPS__FRAME_HDR, (size_t)payload));
    out->len = start + MLOPS__FRAME_HDR + (size_t)payload;
    out->ptr[out->len] = '\0';
    return 0;
}

int mlops__frame_header(const unsigned char *hdr, uint32_t *payload_len, uint32_t *count)
{
    if (memcmp(hdr, MLOPS__FRAME_MAGIC, 4) != 0)
        return mlops__error_set(MLOPS_ECORRUPT, "log frame has a bad magic number");
    *payload_len = mlops__get_le32(hdr + 4);
    *count = mlops__get_le32(hdr + 8);
    if (*payload_len > MLOPS__FRAME_PAYLOAD_MAX || (uint64_t)*count * 4 > *payload_len)
        return mlops__error_set(MLOPS_ECORRUPT, "log frame has impossible lengths");
    return 0;
}

int mlops__frame_check(const unsigned char *hdr, const unsigned char *payload, uint32_t payload_len,
                       uint32_t count)
{
    if (frame_crc(hdr, payload, payload_len) != mlops__get_le32(hdr + 12))
        return mlops__error_set(MLOPS_ECORRUPT, "log frame fails its CRC");
    size_t pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (payload_len - pos < 4)
            return mlops__error_set(MLOPS_ECORRUPT, "log frame records overrun the payload");
        uint32_t len = mlops__get_le32(payload + pos);
        if (len > payload_len - pos - 4)
            return mlops__error_set(MLOPS_ECORRUPT, "log frame records overrun the payload");
        pos += 4 + (size_t)len;
    }
    if (pos != payload_len)
        return mlops__error_set(MLOPS_ECORRUPT, "log frame records do not fill the payload");
    return 0;
}

void mlops__frame_record(const unsigned char *payload, size_t *pos, const void **rec, size_t *len)
{
    *len = mlops__get_le32(payload + *pos);
    *rec = payload + *pos + 4;
    *pos += 4 + *len;
}
