/*
 * Version records: a structured object of type "registry.version", one per
 * state of a version (a change to a version writes a new record). Links:
 * [artifact], so gc keeps the artifact while the record is reachable.
 * Body (integers little endian; str = u32 length, bytes, no NUL):
 *
 *   u8  body version (1), u8 stage (0..3), u8 status (1 = READY), u8 0
 *   u64 version number (>= 1)
 *   u64 artifact size
 *   i64 created_ms, i64 updated_ms
 *   str run_id (<= 1024), str dataset (<= 1024),
 *   str description (<= 65536), str user (<= 1024)
 *   u32 tag count, then (str key, str value), keys strictly increasing
 *
 * The model's name and the aliases are not in the record (they live in the
 * state), so a rename or an alias change rewrites no record. Nothing may
 * follow; anything the encoder would not write is MLOPS_ECORRUPT.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"
#include "store/object_io.h"
#include "store/structured.h"

#define BODY_VERSION 1

static int encode(mlops__buf *b, const mlops_registry_version *v)
{
    unsigned char head[4] = { BODY_VERSION, (unsigned char)v->stage, (unsigned char)v->status, 0 };
    mlops__reg_tags tags = { (mlops_registry_tag *)v->tags, v->ntags };
    MLOPS__TRY(mlops__buf_put(b, head, sizeof head));
    MLOPS__TRY(mlops__reg_put_u64(b, v->version));
    MLOPS__TRY(mlops__reg_put_u64(b, v->size));
    MLOPS__TRY(mlops__reg_put_u64(b, (uint64_t)v->created_ms));
    MLOPS__TRY(mlops__reg_put_u64(b, (uint64_t)v->updated_ms));
    MLOPS__TRY(mlops__reg_put_str(b, v->run_id, MLOPS_REGISTRY_FIELD_MAX, "run id"));
    MLOPS__TRY(mlops__reg_put_str(b, v->dataset, MLOPS_REGISTRY_FIELD_MAX, "dataset"));
    MLOPS__TRY(mlops__reg_put_str(b, v->description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    MLOPS__TRY(mlops__reg_put_str(b, v->user, MLOPS_REGISTRY_FIELD_MAX, "user"));
    return mlops__reg_tags_encode(b, &tags);
}

int mlops__reg_version_put(mlops_oid *out, mlops_store *s, const mlops_registry_version *v)
{
    mlops__buf body = MLOPS__BUF_INIT;
    int rc = encode(&body, v);
    if (rc == 0)
        rc = mlops_object_put_structured(out, s, MLOPS__REG_VERSION_TYPE, &v->artifact, 1, body.ptr, body.len);
    mlops__buf_dispose(&body);
    return rc;
}

static int decode(mlops_registry_version *v, mlops__reg_reader *r)
{
    unsigned char h[3];
    MLOPS__TRY(mlops__reg_get_header(r, BODY_VERSION, h));
    if (h[0] > MLOPS_REGISTRY_STAGE_ARCHIVED || h[1] != MLOPS_REGISTRY_READY || h[2])
        return mlops__reg_corrupt(r, "bad header");
    v->stage = (mlops_registry_stage)h[0];
    v->status = MLOPS_REGISTRY_READY;
    MLOPS__TRY(mlops__reg_get_u64(r, &v->version));
    if (v->version == 0)
        return mlops__reg_corrupt(r, "version 0");
    MLOPS__TRY(mlops__reg_get_u64(r, &v->size));
    MLOPS__TRY(mlops__reg_get_i64(r, &v->created_ms));
    MLOPS__TRY(mlops__reg_get_i64(r, &v->updated_ms));
    MLOPS__TRY(mlops__reg_get_str(r, &v->run_id, MLOPS_REGISTRY_FIELD_MAX, "run id"));
    MLOPS__TRY(mlops__reg_get_str(r, &v->dataset, MLOPS_REGISTRY_FIELD_MAX, "dataset"));
    MLOPS__TRY(mlops__reg_get_str(r, &v->description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    MLOPS__TRY(mlops__reg_get_str(r, &v->user, MLOPS_REGISTRY_FIELD_MAX, "user"));
    mlops__reg_tags tags = { NULL, 0 };
    int rc = mlops__reg_tags_decode(&tags, r);
    v->tags = tags.v;
    v->ntags = tags.n;
    if (rc == 0 && r->left)
        rc = mlops__reg_corrupt(r, "bytes after the end");
    return rc;
}

static int parse_into(mlops_registry_version *v, const void *data, size_t len)
{
    mlops__structured so;
    mlops__reg_reader r;
    MLOPS__TRY(mlops__reg_open(&so, &r, data, len, MLOPS__REG_VERSION_TYPE, "registry version record"));
    if (so.nlinks != 1)
        return mlops__reg_corrupt(&r, "one link (the artifact) expected");
    memcpy(v->artifact.id, so.links, MLOPS_OID_RAWSZ);
    return decode(v, &r);
}

int mlops__reg_version_parse(mlops_registry_version **out, const void *data, size_t len)
{
    mlops_registry_version *v = mlops__calloc(1, sizeof *v);
    if (!v)
        return mlops__error_oom();
    int rc = parse_into(v, data, len);
    if (rc < 0) {
        mlops_registry_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

static int parse_cb(void *out, const void *data, size_t len)
{
    return mlops__reg_version_parse(out, data, len);
}

int mlops__reg_version_load(mlops_registry_version **out, mlops_store *s, const mlops_oid *id)
{
    MLOPS__TRY(mlops__reg_load(s, id, "registry version record", parse_cb, out));
    (*out)->record = *id;
    return 0;
}

/* The aliases of st naming number, in st's (sorted) order. */
static int fill_aliases(mlops_registry_version *v, const mlops__reg_state *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->naliases; i++)
        n += st->aliases[i].version == v->version;
    if (n && !(v->aliases = mlops__calloc(n, sizeof *v->aliases)))
        return mlops__error_oom();
    for (size_t i = 0; i < st->naliases; i++) {
        if (st->aliases[i].version != v->version)
            continue;
        if (!(v->aliases[v->naliases] = mlops__strdup(st->aliases[i].alias)))
            return mlops__error_oom();
        v->naliases++;
    }
    return 0;
}

int mlops__reg_version_get(mlops_registry_version **out, mlops_store *s, const mlops__reg_state *st,
                           uint64_t number)
{
    mlops__reg_ver *e;
    mlops_registry_version *v = NULL;
    MLOPS__TRY(mlops__reg_state_need(&e, st, number));
    MLOPS__TRY(mlops__reg_version_load(&v, s, &e->record));
    int rc = 0;
    if (v->version != number || v->stage != e->stage)
        rc = mlops__error_set(MLOPS_ECORRUPT, "model '%s': the record of version %llu disagrees with the state",
                              st->name, (unsigned long long)number);
    else if (!(v->model = mlops__strdup(st->name)))
        rc = mlops__error_oom();
    else
        rc = fill_aliases(v, st);
    if (rc < 0) {
        mlops_registry_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int mlops__reg_version_result(mlops_registry_version **slot, mlops_store *s, const mlops__reg_state *st,
                              uint64_t number)
{
    mlops_registry_version_free(*slot);
    *slot = NULL;
    return mlops__reg_version_get(slot, s, st, number);
}

void mlops_registry_version_free(mlops_registry_version *v)
{
    if (!v)
        return;
    mlops__free(v->model);
    mlops__free(v->run_id);
    mlops__free(v->dataset);
    mlops__free(v->description);
    mlops__free(v->user);
    mlops__reg_tag_array_free(v->tags, v->ntags);
    for (size_t i = 0; i < v->naliases; i++)
        mlops__free(v->aliases[i]);
    mlops__free(v->aliases);
    mlops__free(v);
}

void mlops_registry_version_list_free(mlops_registry_version **list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++)
        mlops_registry_version_free(list[i]);
    mlops__free(list);
}
