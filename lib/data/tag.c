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
#include "store/ref_list.h"
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

/* A tag ref's name, if it is one this module could have written. */
static int is_tag(const char *tag)
{
    return !strchr(tag, '/') && mlops__data_tag_check(tag) == 0;
}

/* By record, then by tag name: a version's tags are one sorted run. */
static int tag_ref_cmp(const void *pa, const void *pb)
{
    const mlops__ref_item *a = pa, *b = pb;
    int c = mlops_oid_cmp(&a->id, &b->id);
    return c ? c : strcmp(a->name, b->name);
}

/* First item naming record, or n. */
static size_t first_of(const mlops__ref_item *items, size_t n, const mlops_oid *record)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mlops_oid_cmp(&items[mid].id, record) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Moves the tags naming v's record from items into v (a record appears
 * once in a history, so nothing else wants them). */
static int give_tags(mlops_data_version *v, mlops__ref_item *items, size_t n)
{
    size_t i = first_of(items, n, &v->record), j = i;
    while (j < n && mlops_oid_cmp(&items[j].id, &v->record) == 0)
        j++;
    if (j == i || !items[i].name)
        return 0; /* none, or already given (a record listed twice) */
    char **tags = mlops__calloc(j - i, sizeof *tags);
    if (!tags)
        return mlops__error_oom();
    for (size_t k = i; k < j; k++) {
        tags[k - i] = items[k].name;
        items[k].name = NULL;
    }
    v->tags = tags;
    v->ntags = j - i;
    return 0;
}

int mlops__data_tags_fill(mlops_store *store, const char *dataset, mlops_data_version *const *v, size_t n)
{
    char prefix[MLOPS__DATA_REF_MAX];
    mlops__data_ref_name(prefix, dataset, "");
    mlops__ref_item *items = NULL;
    size_t count = 0;
    MLOPS__TRY(mlops__ref_list(&items, &count, store, prefix, is_tag));
    if (count > 1)
        qsort(items, count, sizeof *items, tag_ref_cmp);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (v[i]->ntags == 0)
            rc = give_tags(v[i], items, count);
    mlops__ref_list_free(items, count);
    return rc;
}
