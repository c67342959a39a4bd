/* Object ids: SHA-256 digests and their hex form. */
#include <string.h>

#include "common/error.h"
#include "common/sha256.h"
#include "mlops/store.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mlops_oid_fromhexn(mlops_oid *out, const char *hex, size_t len)
{
    if (!out || !hex)
        return mlops__error_set(MLOPS_EINVALID, "object id: NULL argument");
    if (len != MLOPS_OID_HEXSZ)
        return mlops__error_set(MLOPS_EINVALID, "object id must be 64 hex digits, got %zu characters", len);
    mlops_oid tmp;
    for (size_t i = 0; i < MLOPS_OID_RAWSZ; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return mlops__error_set(MLOPS_EINVALID, "object id has a non-hex character at position %zu",
                                    hi < 0 ? 2 * i : 2 * i + 1);
        tmp.id[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = tmp;
    return 0;
}

int mlops_oid_fromhex(mlops_oid *out, const char *hex)
{
    if (!hex)
        return mlops__error_set(MLOPS_EINVALID, "object id: NULL argument");
    return mlops_oid_fromhexn(out, hex, strnlen(hex, MLOPS_OID_HEXSZ + 1));
}

int mlops_oid_tohex(char out[MLOPS_OID_HEXSZ + 1], const mlops_oid *id)
{
    static const char digits[] = "0123456789abcdef";
    if (!out || !id)
        return mlops__error_set(MLOPS_EINVALID, "object id: NULL argument");
    for (size_t i = 0; i < MLOPS_OID_RAWSZ; i++) {
        out[2 * i] = digits[id->id[i] >> 4];
        out[2 * i + 1] = digits[id->id[i] & 15];
    }
    out[MLOPS_OID_HEXSZ] = '\0';
    return 0;
}

int mlops_oid_cmp(const mlops_oid *a, const mlops_oid *b)
{
    if (!a || !b)
        return a ? 1 : (b ? -1 : 0);
    return memcmp(a->id, b->id, MLOPS_OID_RAWSZ);
}

int mlops_oid_hash(mlops_oid *out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "oid_hash: NULL argument");
    return mlops__sha256_digest(out->id, data ? data : "", len);
}
