/*
 * The field encoding shared by states and version records: little-endian
 * integers and strings as a u32 length followed by the bytes (no NUL).
 * The reader checks every length against what is left, so a truncated or
 * crafted body is MLOPS_ECORRUPT, never a read out of bounds.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"
#include "store/object_codec.h"
#include "store/object_io.h"

int mlops__reg_put_u64(mlops__buf *b, uint64_t v)
{
    unsigned char p[8];
    mlops__put_le64(p, v);
    return mlops__buf_put(b, p, sizeof p);
}

int mlops__reg_put_u32(mlops__buf *b, uint32_t v)
{
    unsigned char p[4];
    mlops__put_le32(p, v);
    return mlops__buf_put(b, p, sizeof p);
}

int mlops__reg_put_str(mlops__buf *b, const char *s, size_t max, const char *field)
{
    size_t len = s ? strlen(s) : 0;
    /* The reader refuses it (as corrupt): never write it. */
    if (len > max)
        return mlops__error_set(MLOPS_EINVALID, "registry: %s of %zu bytes, longer than %zu", field, len, max);
    MLOPS__TRY(mlops__reg_put_u32(b, (uint32_t)len));
    return mlops__buf_put(b, s, len);
}

int mlops__reg_corrupt(const mlops__reg_reader *r, const char *problem)
{
    return mlops__error_set(MLOPS_ECORRUPT, "corrupt %s: %s", r->what, problem);
}

static int take(mlops__reg_reader *r, const unsigned char **out, size_t n)
{
    if (r->left < n)
        return mlops__reg_corrupt(r, "truncated");
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

int mlops__reg_get_u8(mlops__reg_reader *r, unsigned *out)
{
    const unsigned char *p = NULL;
    MLOPS__TRY(take(r, &p, 1));
    *out = p[0];
    return 0;
}

int mlops__reg_get_u32(mlops__reg_reader *r, uint32_t *out)
{
    const unsigned char *p = NULL;
    MLOPS__TRY(take(r, &p, 4));
    *out = mlops__get_le32(p);
    return 0;
}

int mlops__reg_get_u64(mlops__reg_reader *r, uint64_t *out)
{
    const unsigned char *p = NULL;
    MLOPS__TRY(take(r, &p, 8));
    *out = mlops__get_le64(p);
    return 0;
}

int mlops__reg_get_i64(mlops__reg_reader *r, int64_t *out)
{
    uint64_t v;
    MLOPS__TRY(mlops__reg_get_u64(r, &v));
    *out = (int64_t)v;
    return 0;
}

int mlops__reg_get_header(mlops__reg_reader *r, unsigned version, unsigned char rest[3])
{
    const unsigned char *p = NULL;
    MLOPS__TRY(take(r, &p, 4));
    if (p[0] > version)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "%s body version %u is newer than supported (%u)", r->what, p[0],
                                version);
    if (p[0] != version)
        return mlops__reg_corrupt(r, "body version 0");
    memcpy(rest, p + 1, 3);
    return 0;
}

int mlops__reg_get_str(mlops__reg_reader *r, char **out, size_t max, const char *field)
{
    uint32_t len;
    const unsigned char *p = NULL;
    MLOPS__TRY(mlops__reg_get_u32(r, &len));
    if (len > max)
        return mlops__error_set(MLOPS_ECORRUPT, "corrupt %s: %s longer than %zu bytes", r->what, field, max);
    MLOPS__TRY(take(r, &p, len));
    if (memchr(p, 0, len))
        return mlops__error_set(MLOPS_ECORRUPT, "corrupt %s: NUL byte in the %s", r->what, field);
    if (!(*out = mlops__strndup((const char *)p, len)))
        return mlops__error_oom();
    return 0;
}

int mlops__reg_get_count(mlops__reg_reader *r, uint32_t *n, void **array, size_t elem, size_t min_bytes,
                         const char *what)
{
    MLOPS__TRY(mlops__reg_get_u32(r, n));
    if (*n > r->left / min_bytes)
        return mlops__error_set(MLOPS_ECORRUPT, "corrupt %s: %s count larger than the body", r->what, what);
    if (*n && !(*array = mlops__calloc(*n, elem)))
        return mlops__error_oom();
    return 0;
}

int mlops__reg_open(mlops__structured *so, mlops__reg_reader *r, const void *data, size_t len, const char *type,
                    const char *what)
{
    if (mlops__structured_parse(so, data, len) < 0)
        return mlops__error_prefix(MLOPS_ECORRUPT, "not a %s", what);
    if (so->type_len != strlen(type) || memcmp(so->type, type, so->type_len) != 0)
        return mlops__error_set(MLOPS_ECORRUPT, "not a %s: object type '%.*s'", what, (int)so->type_len, so->type);
    r->p = so->body;
    r->left = so->body_len;
    r->what = what;
    return 0;
}

int mlops__reg_load(mlops_store *s, const mlops_oid *id, const char *what,
                    int (*parse)(void *out, const void *data, size_t len), void *out)
{
    void *data = NULL;
    size_t len = 0;
    int rc = mlops__object_read_all(&data, &len, s, id);
    if (rc == MLOPS_ENOTFOUND) /* something links it, so it should be there */
        return mlops__error_set(MLOPS_ECORRUPT, "%s %s is missing", what, mlops__hex(id).s);
    if (rc < 0)
        return rc;
    rc = parse(out, data, len);
    mlops__free(data);
    if (rc < 0 && rc != MLOPS_ENOMEM)
        return mlops__error_prefix(rc, "%s %s", what, mlops__hex(id).s);
    return rc;
}
