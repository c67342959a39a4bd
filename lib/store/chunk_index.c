/* Walking the chunk list of a chunked object without reading its chunks:
 * what gc needs to keep them alive. */
#include <string.h>

#include "chunked.h"
#include "common/error.h"
#include "object_codec.h"
#include "object_io.h"

#define BATCH 64 /* entries read at a time */

static int read_exact(mlops_store *s, void *br, const mlops_oid *id, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        MLOPS__TRY(s->be.obj_read(&s->be, br, (char *)buf + got, len - got, &n));
        if (n == 0)
            return mlops__error_set(MLOPS_ECORRUPT, "object %s: chunk index is truncated", mlops__hex(id).s);
        got += n;
    }
    return 0;
}

static int walk(mlops_store *s, void *br, const mlops_oid *id, mlops__chunk_cb cb, void *arg)
{
    unsigned char hdr[MLOPS__OBJ_HDR_MAX];
    int encoding = 0;
    size_t hlen = 0;
    MLOPS__TRY(read_exact(s, br, id, hdr, MLOPS__OBJ_HDR_RAW));
    int rc = mlops__obj_header_decode(hdr, &encoding, &hlen);
    if (rc < 0)
        return mlops__error_prefix(rc, "object %s", mlops__hex(id).s);
    if (encoding != MLOPS__OBJ_ENC_CHUNKED)
        return 0;
    MLOPS__TRY(read_exact(s, br, id, hdr + MLOPS__OBJ_HDR_RAW, hlen - MLOPS__OBJ_HDR_RAW));
    uint64_t left = mlops__get_le64(hdr + MLOPS__OBJ_HDR_ZLIB);
    unsigned char batch[BATCH * MLOPS__CHUNK_ENTRY];
    while (left > 0) {
        size_t n = left < BATCH ? (size_t)left : BATCH;
        MLOPS__TRY(read_exact(s, br, id, batch, n * MLOPS__CHUNK_ENTRY));
        for (size_t i = 0; i < n; i++) {
            mlops_oid chunk;
            memcpy(chunk.id, batch + i * MLOPS__CHUNK_ENTRY, MLOPS_OID_RAWSZ);
            MLOPS__TRY(cb(arg, &chunk));
        }
        left -= n;
    }
    return 1;
}

int mlops__chunked_foreach(mlops_store *s, const mlops_oid *id, mlops__chunk_cb cb, void *arg)
{
    void *br = NULL;
    int rc = s->be.obj_read_open(&s->be, id, &br);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(MLOPS_ENOTFOUND, "object %s not found", mlops__hex(id).s);
    if (rc < 0)
        return rc;
    rc = walk(s, br, id, cb, arg);
    s->be.obj_read_close(&s->be, br);
    return rc;
}
