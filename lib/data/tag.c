/*
 * Tags: refs data/tags/<dataset>/<tag> naming a version record. Creating a
 * tag is a compare-and-swap from "must not exist"; moving one (force) is a
 * compare-and-swap from the value just read, so two movers never both
 * think they won.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "data_internal.h"
#include "version_record.h"

/* Races are only lost to another writer that made progress; this many in
 * a row means something keeps rewriting the tag. */
#define TAG_RETRIES 100

int mlops__data_tag_free_for(mlops_store *store, const char *dataset, const char *tag, const mlops_oid *record)
{
    char name[MLOPS__DATA_REF_MAX];
    mlops_oid cur;
    mlops__data_ref_name(name, dataset, tag);
    int rc = mlops_ref_get(&cur, store, name);
    if (rc == MLOPS_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (record && mlops_oid_cmp(&cur, record) == 0)
        return 0;
    return mlops__error_set(MLOPS_EEXISTS, "tag '%s' already names another version of dataset '%s' (force moves it)",
                            tag, dataset);
}

int mlops__data_tag_set(mlops_store *store, const char *dataset, const char *tag, const mlops_oid *record,
                        int force)
{
    char name[MLOPS__DATA_REF_MAX];
    mlops__data_ref_name(name, dataset, tag);
    for (int attempt = 0; attempt < TAG_RETRIES; attempt++) {
        int rc = mlops_ref_set(store, name, record, NULL);
        if (rc != MLOPS_ECONFLICT)
            return rc;
        mlops_oid cur;
        rc = mlops_ref_get(&cur, store, name);
        if (rc == MLOPS_ENOTFOUND)
            continue; /* untagged in between: create it again */
        if (rc < 0)
            return rc;
        if (mlops_oid_cmp(&cur, record) == 0)
            return 0;
        if (!force)
            return mlops__data_tag_free_for(store, dataset, tag, record);
        rc = mlops_ref_set(store, name, record, &cur);
        if (rc != MLOPS_ECONFLICT)
            return rc;
    }
    return mlops__error_set(MLOPS_ECONFLICT, "tag '%s' of dataset '%s' still changing after %d attempts", tag,
                            dataset, TAG_RETRIES);
}

int mlops_data_tag(mlops_store *store, const char *ref, const char *tag, int force)
{
    if (!store || !ref)
        return mlops__error_set(MLOPS_EINVALID, "data_tag: NULL argument");
    MLOPS__TRY(mlops__data_tag_check(tag));
    if (mlops__data_ref_is_raw(ref))
        return mlops__error_set(MLOPS_EINVALID, "cannot tag a bare snapshot id: tags name dataset versions");
    mlops_data_version *v = NULL;
    MLOPS__TRY(mlops__data_resolve_version(&v, store, ref));
    int rc = mlops__data_tag_set(store, v->dataset, tag, &v->record, force);
    mlops_data_version_free(v);
    return rc;
}

int mlops_data_untag(mlops_store *store, const char *dataset, const char *tag)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "data_untag: NULL argument");
    MLOPS__TRY(mlops__data_dataset_name_check(dataset));
    MLOPS__TRY(mlops__data_tag_check(tag));
    char name[MLOPS__DATA_REF_MAX];
    mlops__data_ref_name(name, dataset, tag);
    int rc = mlops_ref_delete(store, name, NULL);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "dataset '%s' has no tag '%s'", dataset, tag);
    return rc;
}

/* ---- the tags of versions ------------------------------------------------ */

typedef struct tag_ref {
    mlops_oid record;
    char *tag;
} tag_ref;

typedef struct tag_list {
    size_t prefix_len;
    tag_ref *items;
    size_t n, cap;
    int oom;
} tag_list;

static int collect_tag(const char *ref, const mlops_oid *id, void *payload)
{
    tag_list *l = payload;
    const char *tag = ref + l->prefix_len;
    if (strchr(tag, '/') || mlops__data_tag_check(tag) < 0)
        return 0; /* not a tag this module could have written */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        tag_ref *p = mlops__realloc(l->items, cap * sizeof *p);
        if (!p)
            return l->oom = 1;
        l->items = p;
        l->cap = cap;
    }
    if (!(l->items[l->n].tag = mlops__strdup(tag)))
        return l->oom = 1;
    l->items[l->n++].record = *id;
    return 0;
}

/* By record, then by tag name: a version's tags are one sorted run. */
static int tag_ref_cmp(const void *pa, const void *pb)
{
    const tag_ref *a = pa, *b = pb;
    int c = mlops_oid_cmp(&a->record, &b->record);
    return c ? c : strcmp(a->tag, b->tag);
}

/* First item naming record, or l->n. */
static size_t first_of(const tag_list *l, const mlops_oid *record)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mlops_oid_cmp(&l->items[mid].record, record) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Moves the tags naming v's record from l into v (a record appears once in
 * a history, so nothing else wants them). */
static int give_tags(mlops_data_version *v, tag_list *l)
{
    size_t i = first_of(l, &v->record), j = i;
    while (j < l->n && mlops_oid_cmp(&l->items[j].record, &v->record) == 0)
        j++;
    if (j == i || !l->items[i].tag)
        return 0; /* none, or already given (a record listed twice) */
    char **tags = mlops__calloc(j - i, sizeof *tags);
    if (!tags)
        return mlops__error_oom();
    for (size_t k = i; k < j; k++) {
        tags[k - i] = l->items[k].tag;
        l->items[k].tag = NULL;
    }
    v->tags = tags;
    v->ntags = j - i;
    return 0;
}

int mlops__data_tags_fill(mlops_store *store, const char *dataset, mlops_data_version *const *v, size_t n)
{
    char prefix[MLOPS__DATA_REF_MAX];
    mlops__data_ref_name(prefix, dataset, "");
    tag_list l = { strlen(prefix), NULL, 0, 0, 0 };
    int rc = mlops_ref_foreach(store, prefix, collect_tag, &l);
    if (l.oom)
        rc = mlops__error_oom();
    if (rc == 0 && l.n > 1)
        qsort(l.items, l.n, sizeof *l.items, tag_ref_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (v[i]->ntags == 0)
            rc = give_tags(v[i], &l);
    for (size_t i = 0; i < l.n; i++)
        mlops__free(l.items[i].tag);
    mlops__free(l.items);
    return rc;
}
