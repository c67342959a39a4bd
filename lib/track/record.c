/* Canonical TLV encoding of run and experiment records (see record.h).
 * The decoder accepts exactly what the encoder writes: fields in their
 * fixed order, each single field once, repeated fields strictly sorted,
 * numbers in canonical decimal. Anything else is MLOPS_ECORRUPT, so one
 * record content has one encoding and one object id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/sorted.h"
#include "record.h"

/* Field order. Lowercase tags occur exactly once, uppercase ones (the
 * sorted repeated fields) any number of times. */
#define RUN_ORDER "vienupslbfPTMA"
#define EXPERIMENT_ORDER "vinlcmT"

#define METRIC_REST 24   /* value bits, step, timestamp: 8 bytes LE each */
#define ARTIFACT_REST 40 /* raw oid, size: 8 bytes LE */

static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int is_hex32(const char *s)
{
    size_t n = strnlen(s, MLOPS_RUN_ID_HEXSZ + 1);
    if (n != MLOPS_RUN_ID_HEXSZ)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int is_decimal_id(const char *s)
{
    size_t n = strnlen(s, MLOPS_EXPERIMENT_ID_MAX + 1);
    if (n == 0 || n > MLOPS_EXPERIMENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* ---- encoding ---------------------------------------------------------- */

static int put_header(mlops__buf *b, char tag, uint64_t len)
{
    unsigned char hdr[5];
    if (len > UINT32_MAX)
        return mlops__error_set(MLOPS_EINVALID, "record field '%c' is too large", tag);
    hdr[0] = (unsigned char)tag;
    for (int i = 0; i < 4; i++)
        hdr[1 + i] = (unsigned char)(len >> (8 * i));
    return mlops__buf_put(b, hdr, 5);
}

static int put_str(mlops__buf *b, char tag, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    MLOPS__TRY(put_header(b, tag, len));
    return mlops__buf_put(b, s, len);
}

/* Numbers are decimal text: readable in a hex dump, and canonical because
 * the decoder insists on the exact form printf produces. */
static int put_i64(mlops__buf *b, char tag, int64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)v);
    return put_str(b, tag, num);
}

/* A keyed field: key, NUL, then rest (a string or fixed binary). */
static int put_keyed(mlops__buf *b, char tag, const char *key, const void *rest, size_t rest_len)
{
    size_t klen = strlen(key);
    MLOPS__TRY(put_header(b, tag, (uint64_t)klen + 1 + rest_len));
    MLOPS__TRY(mlops__buf_put(b, key, klen + 1));
    return mlops__buf_put(b, rest, rest_len);
}

/* Repeated fields must arrive strictly sorted by non-empty key: the
 * decoder rejects anything else, so writing it would make the record
 * unreadable. */
static int check_order(const char *prev, const char *key, char tag)
{
    if (!key || !*key)
        return mlops__error_set(MLOPS_EINVALID, "record field '%c' has an empty key", tag);
    if (prev && strcmp(prev, key) >= 0)
        return mlops__error_set(MLOPS_EINVALID, "record field '%c': key '%.60s' is out of order or repeated", tag,
                                key);
    return 0;
}

static int put_kvs(mlops__buf *b, char tag, const mlops_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        MLOPS__TRY(check_order(i ? kv[i - 1].key : NULL, kv[i].key, tag));
        if (!kv[i].value)
            return mlops__error_set(MLOPS_EINVALID, "record field '%c': key '%.60s' has no value", tag, kv[i].key);
        MLOPS__TRY(put_keyed(b, tag, kv[i].key, kv[i].value, strlen(kv[i].value)));
    }
    return 0;
}

int mlops__run_info_encode(mlops__buf *out, const mlops_run_info *r)
{
    if (!is_hex32(r->run_id))
        return mlops__error_set(MLOPS_EINVALID, "run record: bad run id '%.40s'", r->run_id);
    if (!is_decimal_id(r->experiment_id))
        return mlops__error_set(MLOPS_EINVALID, "run record: bad experiment id '%.40s'", r->experiment_id);
    if (r->parent_run_id[0] && !is_hex32(r->parent_run_id))
        return mlops__error_set(MLOPS_EINVALID, "run record: bad parent run id '%.40s'", r->parent_run_id);
    if (!mlops_run_status_name(r->status))
        return mlops__error_set(MLOPS_EINVALID, "run record: bad status %d", r->status);
    MLOPS__TRY(put_i64(out, 'v', MLOPS__RECORD_VERSION));
    MLOPS__TRY(put_str(out, 'i', r->run_id));
    MLOPS__TRY(put_str(out, 'e', r->experiment_id));
    MLOPS__TRY(put_str(out, 'n', r->run_name));
    MLOPS__TRY(put_str(out, 'u', r->user));
    MLOPS__TRY(put_str(out, 'p', r->parent_run_id));
    MLOPS__TRY(put_i64(out, 's', r->status));
    MLOPS__TRY(put_i64(out, 'l', r->lifecycle == MLOPS_LIFECYCLE_DELETED));
    MLOPS__TRY(put_i64(out, 'b', r->start_time));
    MLOPS__TRY(put_i64(out, 'f', r->end_time));
    MLOPS__TRY(put_kvs(out, 'P', r->params, r->nparams));
    MLOPS__TRY(put_kvs(out, 'T', r->tags, r->ntags));
    for (size_t i = 0; i < r->nmetrics; i++) {
        const mlops_metric_latest *m = &r->metrics[i];
        unsigned char v[METRIC_REST];
        uint64_t bits;
        MLOPS__TRY(check_order(i ? r->metrics[i - 1].key : NULL, m->key, 'M'));
        memcpy(&bits, &m->value, 8); /* the bits, so NaN payloads and -0.0 survive */
        le64(v, bits);
        le64(v + 8, (uint64_t)m->step);
        le64(v + 16, (uint64_t)m->timestamp);
        MLOPS__TRY(put_keyed(out, 'M', m->key, v, sizeof v));
    }
    for (size_t i = 0; i < r->nartifacts; i++) {
        const mlops_artifact *a = &r->artifacts[i];
        unsigned char v[ARTIFACT_REST];
        MLOPS__TRY(check_order(i ? r->artifacts[i - 1].name : NULL, a->name, 'A'));
        memcpy(v, a->id.id, MLOPS_OID_RAWSZ);
        le64(v + MLOPS_OID_RAWSZ, a->size);
        MLOPS__TRY(put_keyed(out, 'A', a->name, v, sizeof v));
    }
    return 0;
}

int mlops__experiment_encode(mlops__buf *out, const mlops_experiment *e)
{
    if (!is_decimal_id(e->id))
        return mlops__error_set(MLOPS_EINVALID, "experiment record: bad id '%.40s'", e->id);
    if (!e->name || !*e->name)
        return mlops__error_set(MLOPS_EINVALID, "experiment record: no name");
    MLOPS__TRY(put_i64(out, 'v', MLOPS__RECORD_VERSION));
    MLOPS__TRY(put_str(out, 'i', e->id));
    MLOPS__TRY(put_str(out, 'n', e->name));
    MLOPS__TRY(put_i64(out, 'l', e->lifecycle == MLOPS_LIFECYCLE_DELETED));
    MLOPS__TRY(put_i64(out, 'c', e->creation_time));
    MLOPS__TRY(put_i64(out, 'm', e->last_update_time));
    return put_kvs(out, 'T', e->tags, e->ntags);
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct field {
    char tag;
    const unsigned char *data;
    size_t len;
} field;

/* Walks the fields of one record and enforces their order. */
typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
    const char *order;
    int rank;          /* rank of the last field, -1 before the first */
    unsigned int seen; /* bit per rank */
} reader;

static int corrupt(const char *what)
{
    return mlops__error_set(MLOPS_ECORRUPT, "tracking record is corrupt: %s", what);
}

/* 1 and the next field, 0 at the end, or ECORRUPT. */
static int next_field(field *f, reader *r)
{
    if (r->pos == r->len)
        return 0;
    if (r->len - r->pos < 5)
        return corrupt("truncated field header");
    const unsigned char *h = r->p + r->pos;
    uint32_t flen = (uint32_t)h[1] | (uint32_t)h[2] << 8 | (uint32_t)h[3] << 16 | (uint32_t)h[4] << 24;
    if (flen > r->len - r->pos - 5)
        return corrupt("field overruns the record");
    const char *at = h[0] ? strchr(r->order, (char)h[0]) : NULL;
    if (!at)
        return corrupt("unknown field");
    int rank = (int)(at - r->order);
    int single = h[0] >= 'a' && h[0] <= 'z';
    if (rank < r->rank || (rank == r->rank && single))
        return corrupt("fields out of order or repeated");
    if (r->rank < 0 && h[0] != 'v')
        return corrupt("the version is not the first field");
    r->rank = rank;
    r->seen |= 1u << rank;
    f->tag = (char)h[0];
    f->data = h + 5;
    f->len = flen;
    r->pos += 5 + (size_t)flen;
    return 1;
}

/* Every single-occurrence field was present. */
static int complete(const reader *r)
{
    for (int i = 0; r->order[i]; i++)
        if (r->order[i] >= 'a' && r->order[i] <= 'z' && !(r->seen & (1u << i)))
            return corrupt("a field is missing");
    return 0;
}

static int dup_str(char **out, const field *f)
{
    if (memchr(f->data, 0, f->len))
        return corrupt("NUL inside a string");
    char *s = mlops__strndup((const char *)f->data, f->len);
    if (!s)
        return mlops__error_oom();
    mlops__free(*out);
    *out = s;
    return 0;
}

static int copy_fixed(char *out, size_t cap, const field *f)
{
    if (f->len >= cap || memchr(f->data, 0, f->len))
        return corrupt("id field too long");
    memcpy(out, f->data, f->len);
    out[f->len] = '\0';
    return 0;
}

static int parse_i64(int64_t *out, const field *f)
{
    char num[24], again[24];
    if (f->len == 0 || f->len >= sizeof num)
        return corrupt("bad number");
    memcpy(num, f->data, f->len);
    num[f->len] = '\0';
    char *end = NULL;
    long long v = strtoll(num, &end, 10);
    /* printing it back must give the same text: no '+', leading zeros,
     * spaces or overflow */
    snprintf(again, sizeof again, "%lld", v);
    if (*end || strcmp(num, again) != 0)
        return corrupt("bad number");
    *out = v;
    return 0;
}

static int parse_range(int *out, const field *f, int lo, int hi)
{
    int64_t v = 0;
    MLOPS__TRY(parse_i64(&v, f));
    if (v < lo || v > hi)
        return corrupt("number out of range");
    *out = (int)v;
    return 0;
}

/* Splits "key\0rest": *key_len excludes the NUL. rest is exactly
 * rest_len bytes, or (rest_len 0) a string without NUL. prev is the key
 * of the previous field of the same kind (NULL for the first). */
static int split_keyed(const field *f, size_t *key_len, size_t rest_len, const char *prev)
{
    const unsigned char *nul = memchr(f->data, 0, f->len);
    if (!nul || nul == f->data)
        return corrupt("keyed field without a key");
    *key_len = (size_t)(nul - f->data);
    size_t rest = f->len - *key_len - 1;
    if (rest_len ? rest != rest_len : memchr(nul + 1, 0, rest) != NULL)
        return corrupt("keyed field has the wrong size");
    if (prev && strcmp(prev, (const char *)f->data) >= 0)
        return corrupt("keys out of order or repeated");
    return 0;
}

/* Grows an array about to hold element n: capacity doubles at powers of
 * two, so no separate capacity field is needed. */
static int grow(void **arr, size_t n, size_t size)
{
    if (n & (n - 1))
        return 0;
    void *p = mlops__realloc(*arr, (n ? n * 2 : 1) * size);
    if (!p)
        return mlops__error_oom();
    *arr = p;
    return 0;
}

static int add_kv(mlops_kv **arr, size_t *n, const field *f)
{
    size_t klen = 0; /* set by split_keyed on success; gcc cannot see it */
    MLOPS__TRY(split_keyed(f, &klen, 0, *n ? (*arr)[*n - 1].key : NULL));
    MLOPS__TRY(grow((void **)arr, *n, sizeof **arr));
    char *k = mlops__strndup((const char *)f->data, klen);
    char *v = mlops__strndup((const char *)f->data + klen + 1, f->len - klen - 1);
    if (!k || !v) {
        mlops__free(k);
        mlops__free(v);
        return mlops__error_oom();
    }
    (*arr)[(*n)++] = (mlops_kv){ k, v };
    return 0;
}

static int add_metric(mlops_run_info *r, const field *f)
{
    size_t klen = 0; /* set by split_keyed on success; gcc cannot see it */
    MLOPS__TRY(split_keyed(f, &klen, METRIC_REST, r->nmetrics ? r->metrics[r->nmetrics - 1].key : NULL));
    MLOPS__TRY(grow((void **)&r->metrics, r->nmetrics, sizeof *r->metrics));
    mlops_metric_latest *m = &r->metrics[r->nmetrics];
    const unsigned char *v = f->data + klen + 1;
    uint64_t bits = get64(v);
    memcpy(&m->value, &bits, 8);
    m->step = (int64_t)get64(v + 8);
    m->timestamp = (int64_t)get64(v + 16);
    if (!(m->key = mlops__strndup((const char *)f->data, klen)))
        return mlops__error_oom();
    r->nmetrics++;
    return 0;
}

static int add_artifact(mlops_run_info *r, const field *f)
{
    size_t klen = 0; /* set by split_keyed on success; gcc cannot see it */
    MLOPS__TRY(split_keyed(f, &klen, ARTIFACT_REST, r->nartifacts ? r->artifacts[r->nartifacts - 1].name : NULL));
    MLOPS__TRY(grow((void **)&r->artifacts, r->nartifacts, sizeof *r->artifacts));
    mlops_artifact *a = &r->artifacts[r->nartifacts];
    memcpy(a->id.id, f->data + klen + 1, MLOPS_OID_RAWSZ);
    a->size = get64(f->data + klen + 1 + MLOPS_OID_RAWSZ);
    if (!(a->name = mlops__strndup((const char *)f->data, klen)))
        return mlops__error_oom();
    r->nartifacts++;
    return 0;
}

static int check_version(const field *f)
{
    int64_t v = 0;
    MLOPS__TRY(parse_i64(&v, f));
    if (v > MLOPS__RECORD_VERSION)
        return mlops__error_set(MLOPS_EUNSUPPORTED, "tracking record version %lld is newer than supported (%d)",
                                (long long)v, MLOPS__RECORD_VERSION);
    return v == MLOPS__RECORD_VERSION ? 0 : corrupt("bad version");
}

static int run_field(mlops_run_info *r, const field *f)
{
    int v = 0;
    switch (f->tag) {
    case 'v': return check_version(f);
    case 'i':
        MLOPS__TRY(copy_fixed(r->run_id, sizeof r->run_id, f));
        return is_hex32(r->run_id) ? 0 : corrupt("bad run id");
    case 'e':
        MLOPS__TRY(copy_fixed(r->experiment_id, sizeof r->experiment_id, f));
        return is_decimal_id(r->experiment_id) ? 0 : corrupt("bad experiment id");
    case 'n': return dup_str(&r->run_name, f);
    case 'u': return dup_str(&r->user, f);
    case 'p':
        MLOPS__TRY(copy_fixed(r->parent_run_id, sizeof r->parent_run_id, f));
        return !r->parent_run_id[0] || is_hex32(r->parent_run_id) ? 0 : corrupt("bad parent run id");
    case 's': return parse_range(&r->status, f, MLOPS_RUN_RUNNING, MLOPS_RUN_KILLED);
    case 'l':
        MLOPS__TRY(parse_range(&v, f, 0, 1));
        r->lifecycle = v ? MLOPS_LIFECYCLE_DELETED : MLOPS_LIFECYCLE_ACTIVE;
        return 0;
    case 'b': return parse_i64(&r->start_time, f);
    case 'f': return parse_i64(&r->end_time, f);
    case 'P': return add_kv(&r->params, &r->nparams, f);
    case 'T': return add_kv(&r->tags, &r->ntags, f);
    case 'M': return add_metric(r, f);
    default: return add_artifact(r, f); /* 'A': next_field admits only RUN_ORDER */
    }
}

int mlops__run_info_decode(mlops_run_info **out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "run_info_decode: NULL argument");
    mlops_run_info *r = mlops__calloc(1, sizeof *r);
    if (!r)
        return mlops__error_oom();
    reader rd = { data, len, 0, RUN_ORDER, -1, 0 };
    field f;
    int rc;
    while ((rc = next_field(&f, &rd)) == 1)
        if ((rc = run_field(r, &f)) < 0)
            break;
    if (rc == 0)
        rc = complete(&rd);
    if (rc < 0) {
        mlops_run_info_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int experiment_field(mlops_experiment *e, const field *f)
{
    int v = 0;
    switch (f->tag) {
    case 'v': return check_version(f);
    case 'i':
        MLOPS__TRY(copy_fixed(e->id, sizeof e->id, f));
        return is_decimal_id(e->id) ? 0 : corrupt("bad experiment id");
    case 'n':
        MLOPS__TRY(dup_str(&e->name, f));
        return e->name[0] ? 0 : corrupt("empty experiment name");
    case 'l':
        MLOPS__TRY(parse_range(&v, f, 0, 1));
        e->lifecycle = v ? MLOPS_LIFECYCLE_DELETED : MLOPS_LIFECYCLE_ACTIVE;
        return 0;
    case 'c': return parse_i64(&e->creation_time, f);
    case 'm': return parse_i64(&e->last_update_time, f);
    default: return add_kv(&e->tags, &e->ntags, f); /* 'T' */
    }
}

int mlops__experiment_decode(mlops_experiment **out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return mlops__error_set(MLOPS_EINVALID, "experiment_decode: NULL argument");
    mlops_experiment *e = mlops__calloc(1, sizeof *e);
    if (!e)
        return mlops__error_oom();
    reader rd = { data, len, 0, EXPERIMENT_ORDER, -1, 0 };
    field f;
    int rc;
    while ((rc = next_field(&f, &rd)) == 1)
        if ((rc = experiment_field(e, &f)) < 0)
            break;
    if (rc == 0)
        rc = complete(&rd);
    if (rc < 0) {
        mlops_experiment_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* ---- sorted key/value arrays ------------------------------------------- */

static int kv_cmp(const void *kv, const void *key)
{
    return strcmp(((const mlops_kv *)kv)->key, key);
}

static size_t kv_pos(const mlops_kv *arr, size_t n, const char *key, int *found)
{
    return mlops__sorted_pos(arr, n, sizeof arr[0], kv_cmp, key, found);
}

mlops_kv *mlops__kv_find(mlops_kv *arr, size_t n, const char *key)
{
    int found;
    size_t i = kv_pos(arr, n, key, &found);
    return found ? &arr[i] : NULL;
}

int mlops__kv_set(mlops_kv **arr, size_t *n, const char *key, const char *value)
{
    int found;
    size_t i = kv_pos(*arr, *n, key, &found);
    if (!value) {
        if (found) {
            mlops__free((*arr)[i].key);
            mlops__free((*arr)[i].value);
            memmove(*arr + i, *arr + i + 1, (*n - i - 1) * sizeof **arr);
            (*n)--;
        }
        return 0;
    }
    char *v = mlops__strdup(value);
    if (!v)
        return mlops__error_oom();
    if (found) {
        mlops__free((*arr)[i].value);
        (*arr)[i].value = v;
        return 0;
    }
    char *k = mlops__strdup(key);
    mlops_kv *p = k ? mlops__realloc(*arr, (*n + 1) * sizeof **arr) : NULL;
    if (!p) {
        mlops__free(k);
        mlops__free(v);
        return mlops__error_oom();
    }
    *arr = p;
    memmove(p + i + 1, p + i, (*n - i) * sizeof *p);
    p[i] = (mlops_kv){ k, v };
    (*n)++;
    return 0;
}

void mlops__kv_free(mlops_kv *arr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mlops__free(arr[i].key);
        mlops__free(arr[i].value);
    }
    mlops__free(arr);
}

int mlops__record_load(void **out_body, size_t *out_len, mlops_oid *out_ref, mlops_store *s, const char *ref,
                       const char *type, const char *what)
{
    mlops_oid oid;
    int rc = mlops_ref_get(&oid, s, ref);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "%s not found", what);
    if (rc < 0)
        return rc;
    char *got = NULL;
    rc = mlops_object_get_structured(&got, NULL, NULL, out_body, out_len, s, &oid);
    if (rc == MLOPS_EINVALID) /* the ref names an object that is no record at all */
        rc = mlops__error_set(MLOPS_ECORRUPT, "%s: record is not a structured object", what);
    if (rc == 0 && strcmp(got, type) != 0) {
        rc = mlops__error_set(MLOPS_ECORRUPT, "%s: record has type '%s'", what, got);
        mlops_free(*out_body);
        *out_body = NULL;
    }
    mlops_free(got);
    if (rc == 0 && out_ref)
        *out_ref = oid;
    return rc;
}
