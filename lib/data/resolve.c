/*
 * Resolution of the ref strings data.h accepts, and reading a dataset's
 * history: "name" (latest), "name@N", "name@tag", "name@latest" and a raw
 * 64-hex snapshot id.
 *
 * A raw id is lowercase only: that is the form every id is printed in
 * (mlops_oid_tohex, pointer files), and refusing the uppercase form keeps
 * one spelling per snapshot. A 64-hex string is always read as an id,
 * never as a dataset name ("name@latest" reaches a dataset so named).
 *
 * History is a chain of records, each naming its parent; version N is
 * found by walking back from the latest. Each step checks that the parent
 * is version v - 1 of the same dataset, so a crafted chain can neither
 * loop nor lie about its length, and a walk takes at most N steps.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "store/ref_list.h"
#include "data_internal.h"
#include "store/object_io.h"
#include "version_record.h"

typedef enum ref_kind { REF_RAW, REF_LATEST, REF_NUMBER, REF_TAG } ref_kind;

typedef struct parsed_ref {
    ref_kind kind;
    char name[MLOPS_DATA_NAME_MAX + 1];
    uint64_t number;
    const char *tag; /* points into the ref string */
} parsed_ref;

int mlops__data_ref_is_raw(const char *ref)
{
    size_t n = strlen(ref);
    return n == MLOPS_OID_HEXSZ && strspn(ref, "0123456789abcdef") == n;
}

/* "N": decimal, no sign, no leading zero, 1..UINT64_MAX. */
static int parse_number(uint64_t *out, const char *s)
{
    if (s[0] == '0')
        return mlops__error_set(MLOPS_EINVALID, "invalid version '%.40s': versions start at 1, without leading zeros",
                                s);
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return mlops__error_set(MLOPS_EINVALID, "invalid version '%.40s': too large", s);
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int ref_parse(parsed_ref *p, const char *ref)
{
    memset(p, 0, sizeof *p);
    if (mlops__data_ref_is_raw(ref)) {
        p->kind = REF_RAW;
        return 0;
    }
    const char *at = strchr(ref, '@');
    size_t nlen = at ? (size_t)(at - ref) : strlen(ref);
    if (nlen > MLOPS_DATA_NAME_MAX)
        return mlops__error_set(MLOPS_EINVALID, "invalid dataset name: longer than %d bytes", MLOPS_DATA_NAME_MAX);
    memcpy(p->name, ref, nlen);
    MLOPS__TRY(mlops__data_dataset_name_check(p->name));
    p->kind = REF_LATEST;
    if (!at)
        return 0;
    const char *suffix = at + 1;
    if (!*suffix)
        return mlops__error_set(MLOPS_EINVALID, "invalid ref '%.200s': nothing after '@'", ref);
    if (strcmp(suffix, "latest") == 0)
        return 0;
    if (strspn(suffix, "0123456789") == strlen(suffix)) {
        p->kind = REF_NUMBER;
        return parse_number(&p->number, suffix);
    }
    MLOPS__TRY(mlops__data_tag_check(suffix));
    p->kind = REF_TAG;
    p->tag = suffix;
    return 0;
}

/* A record reached through a ref of dataset must belong to it. */
static int load_owned(mlops_data_version **out, mlops_store *store, const mlops_oid *id, const char *dataset)
{
    mlops_data_version *v = NULL;
    int rc = mlops__version_record_load(&v, store, id);
    if (rc == MLOPS_ENOTFOUND) /* named by a ref or a record, so it should be there */
        return mlops__error_set(MLOPS_ECORRUPT, "dataset '%s': record %s is missing from the store", dataset,
                                mlops__hex(id).s);
    if (rc < 0)
        return rc;
    if (strcmp(v->dataset, dataset) != 0) {
        rc = mlops__error_set(MLOPS_EINVALID, "dataset '%s': record %s belongs to dataset '%s'", dataset,
                              mlops__hex(id).s, v->dataset);
        mlops_data_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int mlops__data_head(mlops_data_version **out, mlops_store *store, const char *dataset)
{
    char name[MLOPS__DATA_REF_MAX];
    mlops_oid id;
    mlops__data_ref_name(name, dataset, NULL);
    int rc = mlops_ref_get(&id, store, name);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "dataset '%s' not found", dataset);
    if (rc < 0)
        return rc;
    return load_owned(out, store, &id, dataset);
}

int mlops__data_parent(mlops_data_version **out, mlops_store *store, const mlops_data_version *v)
{
    mlops_data_version *p = NULL;
    MLOPS__TRY(load_owned(&p, store, &v->parent, v->dataset));
    if (p->version != v->version - 1) {
        int rc = mlops__error_set(MLOPS_EINVALID, "dataset '%s': broken history: version %llu has parent version %llu",
                                  v->dataset, (unsigned long long)v->version, (unsigned long long)p->version);
        mlops_data_version_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int mlops__data_find(mlops_data_version **out, mlops_store *store, const char *dataset, uint64_t n)
{
    mlops_data_version *v = NULL;
    MLOPS__TRY(mlops__data_head(&v, store, dataset));
    if (n > v->version) {
        int rc = mlops__error_set(MLOPS_ENOTFOUND, "dataset '%s' has no version %llu (the latest is %llu)", dataset,
                                  (unsigned long long)n, (unsigned long long)v->version);
        mlops_data_version_free(v);
        return rc;
    }
    while (v->version > n) {
        mlops_data_version *p = NULL;
        int rc = mlops__data_parent(&p, store, v);
        mlops_data_version_free(v);
        if (rc < 0)
            return rc;
        v = p;
    }
    *out = v;
    return 0;
}

int mlops__data_bare(mlops_data_version **out, mlops_store *store, const mlops_oid *id)
{
    mlops__tree root;
    MLOPS__TRY(mlops__tree_load(&root, store, id, 0));
    mlops_data_version *v = mlops__calloc(1, sizeof *v);
    if (v) {
        v->message = mlops__strdup("");
        v->user = mlops__strdup("");
    }
    if (!v || !v->message || !v->user) {
        mlops_data_version_free(v);
        mlops__tree_dispose(&root);
        return mlops__error_oom();
    }
    v->id = *id;
    v->size = root.size;
    v->files = root.files;
    mlops__tree_dispose(&root);
    *out = v;
    return 0;
}

static int by_tag(mlops_data_version **out, mlops_store *store, const parsed_ref *p)
{
    char name[MLOPS__DATA_REF_MAX];
    mlops_oid id;
    mlops__data_ref_name(name, p->name, p->tag);
    int rc = mlops_ref_get(&id, store, name);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "dataset '%s' has no tag '%s'", p->name, p->tag);
    if (rc < 0)
        return rc;
    return load_owned(out, store, &id, p->name);
}

int mlops__data_resolve_version(mlops_data_version **out, mlops_store *store, const char *ref)
{
    parsed_ref p;
    MLOPS__TRY(ref_parse(&p, ref));
    switch (p.kind) {
    case REF_RAW: {
        mlops_oid id;
        MLOPS__TRY(mlops_oid_fromhex(&id, ref));
        int rc = mlops__data_bare(out, store, &id);
        if (rc == MLOPS_ENOTFOUND)
            return mlops__error_set(rc, "snapshot %s not found", ref);
        return rc;
    }
    case REF_LATEST: return mlops__data_head(out, store, p.name);
    case REF_NUMBER: return mlops__data_find(out, store, p.name, p.number);
    default: return by_tag(out, store, &p);
    }
}

int mlops__data_resolve_id(mlops_oid *out, mlops_store *store, const char *ref)
{
    if (!out || !store || !ref)
        return mlops__error_set(MLOPS_EINVALID, "data_resolve: NULL argument");
    if (mlops__data_ref_is_raw(ref)) {
        /* the caller loads the manifest anyway: only say whether it is there */
        MLOPS__TRY(mlops_oid_fromhex(out, ref));
        int rc = mlops_object_exists(store, out);
        if (rc < 0)
            return rc;
        return rc ? 0 : mlops__error_set(MLOPS_ENOTFOUND, "snapshot %s not found", ref);
    }
    mlops_data_version *v = NULL;
    MLOPS__TRY(mlops__data_resolve_version(&v, store, ref));
    *out = v->id;
    mlops_data_version_free(v);
    return 0;
}

int mlops_data_resolve(mlops_data_version **out, mlops_store *store, const char *ref)
{
    if (!out || !store || !ref)
        return mlops__error_set(MLOPS_EINVALID, "data_resolve: NULL argument");
    mlops_data_version *v = NULL;
    MLOPS__TRY(mlops__data_resolve_version(&v, store, ref));
    int rc = v->dataset ? mlops__data_tags_fill(store, v->dataset, &v, 1) : 0;
    if (rc < 0) {
        mlops_data_version_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int mlops_data_versions(mlops_data_version ***out, size_t *out_count, mlops_store *store, const char *dataset)
{
    if (!out || !out_count || !store)
        return mlops__error_set(MLOPS_EINVALID, "data_versions: NULL argument");
    MLOPS__TRY(mlops__data_dataset_name_check(dataset));
    mlops_data_version *v = NULL;
    MLOPS__TRY(mlops__data_head(&v, store, dataset));
    /* The head's number is not trusted for the allocation: the array
     * grows with the records actually read. */
    mlops_data_version **list = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    while (v) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            mlops_data_version **p = mlops__realloc(list, ncap * sizeof *p);
            if (!p) {
                mlops_data_version_free(v);
                rc = mlops__error_oom();
                break;
            }
            list = p;
            cap = ncap;
        }
        list[n++] = v;
        if (v->version == 1)
            break;
        mlops_data_version *parent = NULL;
        rc = mlops__data_parent(&parent, store, v);
        v = parent;
    }
    for (size_t i = 0; rc == 0 && i < n / 2; i++) {
        mlops_data_version *t = list[i];
        list[i] = list[n - 1 - i];
        list[n - 1 - i] = t;
    }
    if (rc == 0)
        rc = mlops__data_tags_fill(store, dataset, list, n);
    if (rc < 0) {
        mlops_data_version_list_free(list, n);
        return rc;
    }
    *out = list;
    *out_count = n;
    return 0;
}

/* ---- listing datasets ------------------------------------------------------ */

#define DATASET_PREFIX "data/datasets/"

/* A dataset head's name, if it is one this module could have written. */
static int is_dataset(const char *name)
{
    return !strchr(name, '/') && mlops__data_dataset_name_check(name) == 0;
}

int mlops_data_list(mlops_store *store, mlops_data_name_cb cb, void *payload)
{
    if (!store || !cb)
        return mlops__error_set(MLOPS_EINVALID, "data_list: NULL argument");
    /* Names are collected first, so the callback may call the library. */
    mlops__ref_item *items = NULL;
    size_t n = 0;
    int rc = mlops__ref_list(&items, &n, store, DATASET_PREFIX, is_dataset);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (cb(items[i].name, payload) != 0)
            rc = mlops__error_set(MLOPS_EUSER, "dataset listing stopped by the callback");
    mlops__ref_list_free(items, n);
    return rc;
}
