/*
 * The state of a registered model: a structured object of type
 * "registry.state", the value of the model's ref. Canonical encoding
 * (integers little endian; str = u32 length, then that many bytes, no NUL):
 *
 *   links: [previous state] if flags bit 0, then one version record id
 *          per live version, in version order
 *   body:
 *   u8  body version (1), u8 flags (bit 0: has a previous state), u16 0
 *   str name                    a valid model name
 *   str description             <= 65536 bytes
 *   i64 created_ms, i64 updated_ms
 *   u64 next_version            >= 1; every number below it was used once
 *   u32 tag count, then (str key, str value), keys strictly increasing
 *   u32 alias count, then (str alias, u64 version), aliases strictly
 *       increasing (bytewise), each naming a live version
 *   u32 run count, then runs of live versions (u64 first number, u32
 *       count >= 1, u8 stage 0..3): versions first..first+count-1 are live
 *       and in that stage. Runs are increasing, maximal (a run never
 *       continues the previous one with the same stage) and end below
 *       next_version. A model whose versions were registered one after
 *       another and never staged is one run, so the body stays small
 *       whatever the number of versions.
 *   the change that produced this state:
 *   u8 kind (1..13, mlops_registry_event_kind), u8 from stage, u8 to stage, u8 0
 *   i64 time_ms, u64 version, u64 old_version
 *   str user (<= 1024), str alias (<= 255), str detail (<= 65536)
 *
 * Nothing may follow. The parser accepts exactly what the encoder writes
 * and reports anything else as MLOPS_ECORRUPT (a newer body version as
 * MLOPS_EUNSUPPORTED).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"
#include "store/object_io.h"
#include "store/structured.h"

#define BODY_VERSION 1
#define KIND_MAX MLOPS_REGISTRY_STAGE_CHANGED

void mlops__reg_state_dispose(mlops__reg_state *st)
{
    mlops__free(st->name);
    mlops__free(st->description);
    mlops__reg_tags_dispose(&st->tags);
    for (size_t i = 0; i < st->naliases; i++)
        mlops__free(st->aliases[i].alias);
    mlops__free(st->aliases);
    mlops__free(st->versions);
    mlops__free(st->change.user);
    mlops__free(st->change.alias);
    mlops__free(st->change.detail);
    memset(st, 0, sizeof *st);
}

/* The end of the run of versions starting at i: consecutive numbers, one stage. */
static size_t run_end(const mlops__reg_state *st, size_t i)
{
    size_t j = i + 1;
    while (j < st->nversions && st->versions[j].number == st->versions[j - 1].number + 1 &&
           st->versions[j].stage == st->versions[i].stage)
        j++;
    return j;
}

static int encode_runs(mlops__buf *b, const mlops__reg_state *st)
{
    uint32_t runs = 0;
    for (size_t i = 0; i < st->nversions; i = run_end(st, i))
        runs++;
    MLOPS__TRY(mlops__reg_put_u32(b, runs));
    for (size_t i = 0, j; i < st->nversions; i = j) {
        j = run_end(st, i);
        unsigned char stage = (unsigned char)st->versions[i].stage;
        MLOPS__TRY(mlops__reg_put_u64(b, st->versions[i].number));
        MLOPS__TRY(mlops__reg_put_u32(b, (uint32_t)(j - i)));
        MLOPS__TRY(mlops__buf_put(b, &stage, 1));
    }
    return 0;
}

static int encode_body(mlops__buf *b, const mlops__reg_state *st)
{
    unsigned char head[4] = { BODY_VERSION, st->has_prev ? 1 : 0, 0, 0 };
    MLOPS__TRY(mlops__buf_put(b, head, sizeof head));
    MLOPS__TRY(mlops__reg_put_str(b, st->name, MLOPS_REGISTRY_NAME_MAX, "name"));
    MLOPS__TRY(mlops__reg_put_str(b, st->description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    MLOPS__TRY(mlops__reg_put_u64(b, (uint64_t)st->created_ms));
    MLOPS__TRY(mlops__reg_put_u64(b, (uint64_t)st->updated_ms));
    MLOPS__TRY(mlops__reg_put_u64(b, st->next_version));
    MLOPS__TRY(mlops__reg_tags_encode(b, &st->tags));
    MLOPS__TRY(mlops__reg_put_u32(b, (uint32_t)st->naliases));
    for (size_t i = 0; i < st->naliases; i++) {
        MLOPS__TRY(mlops__reg_put_str(b, st->aliases[i].alias, MLOPS_REGISTRY_ALIAS_MAX, "alias"));
        MLOPS__TRY(mlops__reg_put_u64(b, st->aliases[i].version));
    }
    MLOPS__TRY(encode_runs(b, st));
    const mlops__reg_change *c = &st->change;
    unsigned char ch[4] = { (unsigned char)c->kind, (unsigned char)c->from_stage, (unsigned char)c->to_stage, 0 };
    MLOPS__TRY(mlops__buf_put(b, ch, sizeof ch));
    MLOPS__TRY(mlops__reg_put_u64(b, (uint64_t)c->time_ms));
    MLOPS__TRY(mlops__reg_put_u64(b, c->version));
    MLOPS__TRY(mlops__reg_put_u64(b, c->old_version));
    MLOPS__TRY(mlops__reg_put_str(b, c->user, MLOPS_REGISTRY_FIELD_MAX, "user"));
    MLOPS__TRY(mlops__reg_put_str(b, c->alias, MLOPS_REGISTRY_ALIAS_MAX, "change alias"));
    return mlops__reg_put_str(b, c->detail, MLOPS_REGISTRY_TEXT_MAX, "change detail");
}

int mlops__reg_state_encode(mlops_oid **links, size_t *nlinks, mlops__buf *body, const mlops__reg_state *st)
{
    size_t n = st->nversions + (st->has_prev ? 1 : 0), k = 0;
    mlops_oid *l = mlops__calloc(n ? n : 1, sizeof *l);
    if (!l)
        return mlops__error_oom();
    if (st->has_prev)
        l[k++] = st->prev;
    for (size_t i = 0; i < st->nversions; i++)
        l[k++] = st->versions[i].record;
    int rc = encode_body(body, st);
    if (rc < 0) {
        mlops__free(l);
        return rc;
    }
    *links = l;
    *nlinks = n;
    return 0;
}

int mlops__reg_state_put(mlops_oid *out, mlops_store *s, const mlops__reg_state *st)
{
    mlops_oid *links = NULL;
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT;
    int rc = mlops__reg_state_encode(&links, &nlinks, &body, st);
    if (rc == 0)
        rc = mlops_object_put_structured(out, s, MLOPS__REG_STATE_TYPE, links, nlinks, body.ptr, body.len);
    mlops__free(links);
    mlops__buf_dispose(&body);
    return rc;
}

/* ---- parsing ---------------------------------------------------------------- */

static int decode_aliases(mlops__reg_state *st, mlops__reg_reader *r)
{
    uint32_t n;
    MLOPS__TRY(mlops__reg_get_count(r, &n, (void **)&st->aliases, sizeof *st->aliases, 12, "alias"));
    for (uint32_t i = 0; i < n; i++) {
        char *a = NULL;
        MLOPS__TRY(mlops__reg_get_str(r, &a, MLOPS_REGISTRY_ALIAS_MAX, "alias"));
        st->aliases[i].alias = a;
        st->naliases++;
        MLOPS__TRY(mlops__reg_get_u64(r, &st->aliases[i].version));
        if (mlops__reg_alias_check_settable(a) < 0)
            return mlops__error_prefix(MLOPS_ECORRUPT, "corrupt %s", r->what);
        if (i && strcmp(st->aliases[i - 1].alias, a) >= 0)
            return mlops__reg_corrupt(r, "aliases out of order");
    }
    return 0;
}

/* One run: checked against the previous one (last number, stage) and
 * against max, the most versions the links allow. */
static int decode_run(mlops__reg_state *st, mlops__reg_reader *r, size_t max)
{
    uint64_t first;
    uint32_t count;
    unsigned stage;
    MLOPS__TRY(mlops__reg_get_u64(r, &first));
    MLOPS__TRY(mlops__reg_get_u32(r, &count));
    MLOPS__TRY(mlops__reg_get_u8(r, &stage));
    if (stage > MLOPS_REGISTRY_STAGE_ARCHIVED)
        return mlops__reg_corrupt(r, "unknown stage");
    if (count == 0 || count > max - st->nversions)
        return mlops__reg_corrupt(r, "a version run is empty or longer than the links");
    const mlops__reg_ver *prev = st->nversions ? &st->versions[st->nversions - 1] : NULL;
    if (first == 0 || (prev && first <= prev->number) || first >= st->next_version ||
        count > st->next_version - first)
        return mlops__reg_corrupt(r, "version numbers out of order or range");
    if (prev && first == prev->number + 1 && (unsigned)prev->stage == stage)
        return mlops__reg_corrupt(r, "a version run continues the previous one");
    while (st->cap_versions < st->nversions + count) {
        mlops__reg_ver *g = mlops__grow_array(st->versions, &st->cap_versions, sizeof *g, 16);
        if (!g)
            return mlops__error_oom();
        st->versions = g;
    }
    for (uint32_t k = 0; k < count; k++) {
        mlops__reg_ver *v = &st->versions[st->nversions++];
        v->number = first + k;
        v->stage = (mlops_registry_stage)stage;
    }
    return 0;
}

static int decode_versions(mlops__reg_state *st, mlops__reg_reader *r, size_t max)
{
    uint32_t runs;
    MLOPS__TRY(mlops__reg_get_u32(r, &runs));
    if (runs > r->left / 13)
        return mlops__reg_corrupt(r, "run count larger than the body");
    for (uint32_t i = 0; i < runs; i++)
        MLOPS__TRY(decode_run(st, r, max));
    for (size_t i = 0; i < st->naliases; i++)
        if (!mlops__reg_state_find(st, st->aliases[i].version))
            return mlops__reg_corrupt(r, "an alias names a version that is not live");
    return 0;
}

static int decode_change(mlops__reg_change *c, mlops__reg_reader *r)
{
    unsigned kind, from, to, zero;
    MLOPS__TRY(mlops__reg_get_u8(r, &kind));
    MLOPS__TRY(mlops__reg_get_u8(r, &from));
    MLOPS__TRY(mlops__reg_get_u8(r, &to));
    MLOPS__TRY(mlops__reg_get_u8(r, &zero));
    if (kind < 1 || kind > KIND_MAX || from > MLOPS_REGISTRY_STAGE_ARCHIVED || to > MLOPS_REGISTRY_STAGE_ARCHIVED ||
        zero)
        return mlops__reg_corrupt(r, "bad change header");
    c->kind = (mlops_registry_event_kind)kind;
    c->from_stage = (mlops_registry_stage)from;
    c->to_stage = (mlops_registry_stage)to;
    MLOPS__TRY(mlops__reg_get_i64(r, &c->time_ms));
    MLOPS__TRY(mlops__reg_get_u64(r, &c->version));
    MLOPS__TRY(mlops__reg_get_u64(r, &c->old_version));
    MLOPS__TRY(mlops__reg_get_str(r, &c->user, MLOPS_REGISTRY_FIELD_MAX, "user"));
    MLOPS__TRY(mlops__reg_get_str(r, &c->alias, MLOPS_REGISTRY_ALIAS_MAX, "change alias"));
    return mlops__reg_get_str(r, &c->detail, MLOPS_REGISTRY_TEXT_MAX, "change detail");
}

static int decode_body(mlops__reg_state *st, mlops__reg_reader *r, size_t max_versions)
{
    unsigned char h[3];
    MLOPS__TRY(mlops__reg_get_header(r, BODY_VERSION, h));
    if (h[0] > 1 || h[1] || h[2])
        return mlops__reg_corrupt(r, "bad header");
    st->has_prev = h[0];
    MLOPS__TRY(mlops__reg_get_str(r, &st->name, MLOPS_REGISTRY_NAME_MAX, "name"));
    if (mlops__reg_name_check(st->name) < 0)
        return mlops__error_prefix(MLOPS_ECORRUPT, "corrupt %s", r->what);
    MLOPS__TRY(mlops__reg_get_str(r, &st->description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    MLOPS__TRY(mlops__reg_get_i64(r, &st->created_ms));
    MLOPS__TRY(mlops__reg_get_i64(r, &st->updated_ms));
    MLOPS__TRY(mlops__reg_get_u64(r, &st->next_version));
    if (st->next_version == 0)
        return mlops__reg_corrupt(r, "next version 0");
    MLOPS__TRY(mlops__reg_tags_decode(&st->tags, r));
    MLOPS__TRY(decode_aliases(st, r));
    MLOPS__TRY(decode_versions(st, r, max_versions));
    MLOPS__TRY(decode_change(&st->change, r));
    if (r->left)
        return mlops__reg_corrupt(r, "bytes after the end");
    return 0;
}

static int parse_into(mlops__reg_state *st, const void *data, size_t len)
{
    mlops__structured so;
    mlops__reg_reader r;
    MLOPS__TRY(mlops__reg_open(&so, &r, data, len, MLOPS__REG_STATE_TYPE, "registry state"));
    MLOPS__TRY(decode_body(st, &r, so.nlinks));
    size_t want = st->nversions + (st->has_prev ? 1 : 0), k = 0;
    if (so.nlinks != want)
        return mlops__reg_corrupt(&r, "link count disagrees with the body");
    if (st->has_prev)
        memcpy(st->prev.id, so.links + MLOPS_OID_RAWSZ * k++, MLOPS_OID_RAWSZ);
    for (size_t i = 0; i < st->nversions; i++)
        memcpy(st->versions[i].record.id, so.links + MLOPS_OID_RAWSZ * k++, MLOPS_OID_RAWSZ);
    return 0;
}

int mlops__reg_state_parse(mlops__reg_state *st, const void *data, size_t len)
{
    memset(st, 0, sizeof *st);
    int rc = parse_into(st, data, len);
    if (rc < 0)
        mlops__reg_state_dispose(st);
    return rc;
}

static int parse_cb(void *out, const void *data, size_t len)
{
    return mlops__reg_state_parse(out, data, len);
}

int mlops__reg_state_load(mlops__reg_state *st, mlops_store *s, const mlops_oid *id)
{
    return mlops__reg_load(s, id, "registry state", parse_cb, st);
}
