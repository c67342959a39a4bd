/* Structured objects: bytes that declare the ids they link to, for gc. */
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "object_codec.h"
#include "object_io.h"
#include "structured.h"

static const unsigned char magic[8] = { 0x89, 'M', 'L', 'S', '\r', '\n', 0x1a, '\n' };

int mlops__structured_is(const void *head, size_t len)
{
    return len >= MLOPS__STRUCT_FIXED && memcmp(head, magic, sizeof magic) == 0;
}

static int type_is_valid(const char *type, size_t len)
{
    if (len == 0 || len > MLOPS_TYPE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = type[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int mlops__structured_parse(mlops__structured *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (!mlops__structured_is(data, len))
        return mlops__error_set(MLOPS_EINVALID, "object is not a structured object");
    if (p[8] != 1)
        return mlops__error_set(p[8] > 1 ? MLOPS_EUNSUPPORTED : MLOPS_ECORRUPT,
                                "structured object version %u is not supported", p[8]);
    size_t tlen = p[9];
    uint64_t nlinks = mlops__get_le32(p + 12);
    if (p[10] || p[11] || !type_is_valid((const char *)p + 16, tlen > len - 16 ? 0 : tlen))
        return mlops__error_set(MLOPS_ECORRUPT, "structured object has a malformed header");
    if (nlinks > (len - 16 - tlen) / MLOPS_OID_RAWSZ)
        return mlops__error_set(MLOPS_ECORRUPT, "structured object declares more links than it holds");
    out->type = (const char *)p + 16;
    out->type_len = tlen;
    out->links = p + 16 + tlen;
    out->nlinks = (size_t)nlinks;
    out->body = out->links + out->nlinks * MLOPS_OID_RAWSZ;
    out->body_len = len - 16 - tlen - out->nlinks * MLOPS_OID_RAWSZ;
    return 0;
}

int mlops__structured_encode(mlops__buf *out, const char *type, const mlops_oid *links, size_t nlinks,
                            const void *body, size_t body_len)
{
    if (!out || !type || (!links && nlinks) || (!body && body_len))
        return mlops__error_set(MLOPS_EINVALID, "put_structured: NULL argument");
    size_t tlen = strlen(type);
    if (!type_is_valid(type, tlen))
        return mlops__error_set(MLOPS_EINVALID, "object type '%.40s' must be 1-32 of [a-z0-9._-]", type);
    if (nlinks > UINT32_MAX)
        return mlops__error_set(MLOPS_EINVALID, "too many links (%zu)", nlinks);
    unsigned char fixed[MLOPS__STRUCT_FIXED];
    memcpy(fixed, magic, sizeof magic);
    fixed[8] = 1;
    fixed[9] = (unsigned char)tlen;
    fixed[10] = fixed[11] = 0;
    mlops__put_le32(fixed + 12, (uint32_t)nlinks);
    MLOPS__TRY(mlops__buf_grow(out, sizeof fixed + tlen + nlinks * MLOPS_OID_RAWSZ + body_len));
    mlops__buf_put(out, fixed, sizeof fixed);
    mlops__buf_put(out, type, tlen);
    for (size_t i = 0; i < nlinks; i++)
        mlops__buf_put(out, links[i].id, MLOPS_OID_RAWSZ);
    mlops__buf_put(out, body, body_len);
    return 0;
}

int mlops_object_put_structured(mlops_oid *out, mlops_store *s, const char *type, const mlops_oid *links,
                                size_t nlinks, const void *body, size_t body_len)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "put_structured: NULL argument");
    mlops__buf b = MLOPS__BUF_INIT;
    int rc = mlops__structured_encode(&b, type, links, nlinks, body, body_len);
    if (rc == 0)
        rc = mlops_object_put(out, s, b.ptr, b.len);
    mlops__buf_dispose(&b);
    return rc;
}

static int copy_out(char **out_type, mlops_oid **out_links, size_t *out_nlinks, void **out_body,
                    size_t *out_body_len, const mlops__structured *st)
{
    char *type = out_type ? mlops__strndup(st->type, st->type_len) : NULL;
    mlops_oid *links = out_links ? mlops__calloc(st->nlinks ? st->nlinks : 1, sizeof *links) : NULL;
    void *body = out_body ? mlops__malloc(st->body_len + 1) : NULL;
    if ((out_type && !type) || (out_links && !links) || (out_body && !body)) {
        mlops__free(type);
        mlops__free(links);
        mlops__free(body);
        return mlops__error_oom();
    }
    if (links)
        memcpy(links, st->links, st->nlinks * MLOPS_OID_RAWSZ);
    if (body) {
        memcpy(body, st->body, st->body_len);
        ((char *)body)[st->body_len] = '\0';
    }
    if (out_type)
        *out_type = type;
    if (out_links)
        *out_links = links;
    if (out_nlinks)
        *out_nlinks = st->nlinks;
    if (out_body)
        *out_body = body;
    if (out_body_len)
        *out_body_len = st->body_len;
    return 0;
}

int mlops_object_get_structured(char **out_type, mlops_oid **out_links, size_t *out_nlinks, void **out_body,
                                size_t *out_body_len, mlops_store *s, const mlops_oid *id)
{
    if (!s || !id)
        return mlops__error_set(MLOPS_EINVALID, "get_structured: NULL argument");
    void *data = NULL;
    size_t len = 0;
    MLOPS__TRY(mlops__object_read_all(&data, &len, s, id));
    mlops__structured st;
    int rc = mlops__structured_parse(&st, data, len);
    if (rc == 0)
        rc = copy_out(out_type, out_links, out_nlinks, out_body, out_body_len, &st);
    mlops__free(data);
    return rc;
}
