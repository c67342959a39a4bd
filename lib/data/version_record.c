/*
 * Version records (docs/FORMAT-data-datasets.md, "Version records").
 *
 * A structured object of type "data.version"; links [snapshot] for version
 * 1, [snapshot, parent record] after, so gc keeps every version's tree and
 * the whole history alive from the dataset's ref. Body, little endian:
 *
 *   u8  body version (1), u8[3] reserved (0)
 *   u64 version number (>= 1)
 *   i64 time_ms
 *   u64 size, u64 files          (the snapshot's root manifest totals)
 *   u32 dataset length (1..128), u32 user length (0..256),
 *   u32 message length (0..65536)
 *   32  snapshot id
 *   32  parent record id (all zero for version 1)
 *   dataset, user, message bytes
 *
 * Fixed field order and explicit lengths: one content has one encoding and
 * so one id. The parser accepts exactly what the encoder writes.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "data_internal.h"
#include "store/object_codec.h"
#include "store/object_io.h"
#include "store/structured.h"
#include "version_record.h"

#define BODY_VERSION 1
#define BODY_FIXED (4 + 8 * 4 + 4 * 3 + 2 * MLOPS_OID_RAWSZ)

static const mlops_oid zero_oid;

void mlops__data_ref_name(char out[MLOPS__DATA_REF_MAX], const char *dataset, const char *tag)
{
    if (tag)
        snprintf(out, MLOPS__DATA_REF_MAX, "data/tags/%s/%s", dataset, tag);
    else
        snprintf(out, MLOPS__DATA_REF_MAX, "data/datasets/%s", dataset);
}

static int invalid(const char *what)
{
    return mlops__error_set(MLOPS_EINVALID, "invalid version record: %s", what);
}

/* The rules both directions enforce. */
static int fields_check(const mlops_data_version *v, size_t user_len, size_t msg_len)
{
    int rc = mlops__data_dataset_name_check(v->dataset);
    if (rc < 0)
        return mlops__error_prefix(rc, "invalid version record");
    if (v->version == 0)
        return invalid("version 0");
    if ((v->version == 1) != (mlops_oid_cmp(&v->parent, &zero_oid) == 0))
        return invalid("a parent exactly when the version is not the first is required");
    if (user_len > MLOPS__DATA_USER_MAX)
        return invalid("user name longer than 256 bytes");
    if (msg_len > MLOPS__DATA_MESSAGE_MAX)
        return invalid("message longer than 65536 bytes");
    return 0;
}

int mlops__version_record_encode(mlops_oid links[2], size_t *nlinks, mlops__buf *body,
                                 const mlops_data_version *v)
{
    if (!links || !nlinks || !body || !v)
        return mlops__error_set(MLOPS_EINVALID, "version_record_encode: NULL argument");
    const char *user = v->user ? v->user : "", *msg = v->message ? v->message : "";
    size_t dlen = v->dataset ? strlen(v->dataset) : 0, ulen = strlen(user), mlen = strlen(msg);
    MLOPS__TRY(fields_check(v, ulen, mlen));
    unsigned char f[BODY_FIXED] = { BODY_VERSION, 0, 0, 0 };
    mlops__put_le64(f + 4, v->version);
    mlops__put_le64(f + 12, (uint64_t)v->time_ms);
    mlops__put_le64(f + 20, v->size);
    mlops__put_le64(f + 28, v->files);
    mlops__put_le32(f + 36, (uint32_t)dlen);
    mlops__put_le32(f + 40, (uint32_t)ulen);
    mlops__put_le32(f + 44, (uint32_t)mlen);
    memcpy(f + 48, v->id.id, MLOPS_OID_RAWSZ);
    memcpy(f + 48 + MLOPS_OID_RAWSZ, v->parent.id, MLOPS_OID_RAWSZ);
    MLOPS__TRY(mlops__buf_put(body, f, sizeof f));
    MLOPS__TRY(mlops__buf_put(body, v->dataset, dlen));
    MLOPS__TRY(mlops__buf_put(body, user, ulen));
    MLOPS__TRY(mlops__buf_put(body, msg, mlen));
    links[0] = v->id;
    links[1] = v->parent;
    *nlinks = v->version == 1 ? 1 : 2;
    return 0;
}

int mlops__version_record_put(mlops_oid *out, mlops_store *store, const mlops_data_version *v)
{
    mlops_oid links[2];
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT;
    int rc = mlops__version_record_encode(links, &nlinks, &body, v);
    if (rc == 0)
        rc = mlops_object_put_structured(out, store, MLOPS__VERSION_TYPE, links, nlinks, body.ptr, body.len);
    mlops__buf_dispose(&body);
    return rc;
}

/* A string field of the body: no NUL inside, as it becomes a C string. */
static int take_str(char **out, const unsigned char *p, size_t len, const char *what)
{
    if (memchr(p, 0, len))
        return mlops__error_set(MLOPS_EINVALID, "invalid version record: NUL byte in the %s", what);
    if (!(*out = mlops__strndup((const char *)p, len)))
        return mlops__error_oom();
    return 0;
}

static int body_decode(mlops_data_version *v, const unsigned char *p, size_t len)
{
    if (len < BODY_FIXED)
        return invalid("body too short");
    if (p[0] > BODY_VERSION)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "version record body version %u is newer than supported (%d)",
                                p[0], BODY_VERSION);
    if (p[0] != BODY_VERSION)
        return invalid("body version 0");
    if (p[1] || p[2] || p[3])
        return invalid("reserved bytes set");
    v->version = mlops__get_le64(p + 4);
    v->time_ms = (int64_t)mlops__get_le64(p + 12);
    v->size = mlops__get_le64(p + 20);
    v->files = mlops__get_le64(p + 28);
    uint32_t dlen = mlops__get_le32(p + 36), ulen = mlops__get_le32(p + 40), mlen = mlops__get_le32(p + 44);
    memcpy(v->id.id, p + 48, MLOPS_OID_RAWSZ);
    memcpy(v->parent.id, p + 48 + MLOPS_OID_RAWSZ, MLOPS_OID_RAWSZ);
    /* 64-bit sum: three u32 cannot overflow it, whatever the record claims */
    if ((uint64_t)dlen + ulen + mlen != len - BODY_FIXED)
        return invalid("string lengths disagree with the body size");
    if (dlen > MLOPS_DATA_NAME_MAX)
        return invalid("dataset name too long");
    const unsigned char *s = p + BODY_FIXED;
    MLOPS__TRY(take_str(&v->dataset, s, dlen, "dataset name"));
    MLOPS__TRY(take_str(&v->user, s + dlen, ulen, "user"));
    MLOPS__TRY(take_str(&v->message, s + dlen + ulen, mlen, "message"));
    return fields_check(v, ulen, mlen);
}

static int links_check(const mlops_data_version *v, const unsigned char *links, size_t nlinks)
{
    size_t want = v->version == 1 ? 1 : 2;
    if (nlinks != want)
        return mlops__error_set(MLOPS_EINVALID, "invalid version record: %zu links, %zu expected", nlinks, want);
    if (memcmp(links, v->id.id, MLOPS_OID_RAWSZ) != 0 ||
        (want == 2 && memcmp(links + MLOPS_OID_RAWSZ, v->parent.id, MLOPS_OID_RAWSZ) != 0))
        return invalid("links disagree with the body");
    return 0;
}

static int parse_into(mlops_data_version *v, const void *data, size_t len)
{
    mlops__structured st;
    if (mlops__structured_parse(&st, data, len) < 0)
        return mlops__error_prefix(MLOPS_EINVALID, "not a version record");
    if (st.type_len != strlen(MLOPS__VERSION_TYPE) || memcmp(st.type, MLOPS__VERSION_TYPE, st.type_len) != 0)
        return mlops__error_set(MLOPS_EINVALID, "not a version record: object type '%.*s'", (int)st.type_len,
                                st.type);
    MLOPS__TRY(body_decode(v, st.body, st.body_len));
    return links_check(v, st.links, st.nlinks);
}

int mlops__version_record_parse(mlops_data_version **out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "version_record_parse: NULL argument");
    mlops_data_version *v = mlops__calloc(1, sizeof *v);
    if (!v)
        return mlops__error_oom();
    int rc = parse_into(v, data, len);
    if (rc < 0) {
        mlops_data_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int mlops__version_record_load(mlops_data_version **out, mlops_store *store, const mlops_oid *id)
{
    void *data = NULL;
    size_t len = 0;
    int rc = mlops__object_read_all(&data, &len, store, id);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "version record %s not found", mlops__hex(id).s);
    if (rc < 0)
        return rc;
    rc = mlops__version_record_parse(out, data, len);
    mlops__free(data);
    if (rc < 0)
        return mlops__error_prefix(rc, "record %s", mlops__hex(id).s);
    (*out)->record = *id;
    return 0;
}

void mlops_data_version_free(mlops_data_version *v)
{
    if (!v)
        return;
    mlops__free(v->dataset);
    mlops__free(v->message);
    mlops__free(v->user);
    for (size_t i = 0; i < v->ntags; i++)
        mlops__free(v->tags[i]);
    mlops__free(v->tags);
    mlops__free(v);
}

void mlops_data_version_list_free(mlops_data_version **list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++)
        mlops_data_version_free(list[i]);
    mlops__free(list);
}
