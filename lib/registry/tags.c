/*
 * Tags of models and versions: arrays sorted by key with owned strings,
 * encoded as a u32 count then (key, value) string pairs in key order.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/sorted.h"
#include "registry_internal.h"

void mlops__reg_tag_array_free(mlops_registry_tag *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mlops__free((char *)v[i].key);
        mlops__free((char *)v[i].value);
    }
    mlops__free(v);
}

static int tag_cmp(const void *tag, const void *key)
{
    return strcmp(((const mlops_registry_tag *)tag)->key, key);
}

/* Index of key, or where it would go (*found 0). */
static size_t locate(const mlops__reg_tags *t, const char *key, int *found)
{
    return mlops__sorted_pos(t->v, t->n, sizeof t->v[0], tag_cmp, key, found);
}

void mlops__reg_tags_dispose(mlops__reg_tags *t)
{
    mlops__reg_tag_array_free(t->v, t->n);
    t->v = NULL;
    t->n = 0;
}

int mlops__reg_tags_set(mlops__reg_tags *t, const char *key, const char *value)
{
    int found;
    size_t i = locate(t, key, &found);
    char *v = mlops__strdup(value);
    if (!v)
        return mlops__error_oom();
    if (found) {
        mlops__free((char *)t->v[i].value);
        t->v[i].value = v;
        return 0;
    }
    char *k = mlops__strdup(key);
    mlops_registry_tag *grown = k ? mlops__realloc(t->v, (t->n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        mlops__free(k);
        mlops__free(v);
        return mlops__error_oom();
    }
    t->v = grown;
    memmove(t->v + i + 1, t->v + i, (t->n - i) * sizeof *t->v);
    t->v[i].key = k;
    t->v[i].value = v;
    t->n++;
    return 0;
}

int mlops__reg_tags_delete(mlops__reg_tags *t, const char *key, const char *owner)
{
    int found;
    size_t i = locate(t, key, &found);
    if (!found)
        return mlops__error_set(MLOPS_ENOTFOUND, "%s has no tag '%s'", owner, key);
    mlops__free((char *)t->v[i].key);
    mlops__free((char *)t->v[i].value);
    memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof *t->v);
    t->n--;
    return 0;
}

int mlops__reg_tags_from(mlops__reg_tags *out, const mlops_registry_tag *tags, size_t n)
{
    out->v = NULL;
    out->n = 0;
    if (n && !tags)
        return mlops__error_set(MLOPS_EINVALID, "%zu tags but no array", n);
    for (size_t i = 0; i < n; i++)
        MLOPS__TRY(mlops__reg_tag_check(tags[i].key, tags[i].value));
    for (size_t i = 0; i < n; i++) {
        int rc = mlops__reg_tags_set(out, tags[i].key, tags[i].value);
        if (rc < 0) {
            mlops__reg_tags_dispose(out);
            return rc;
        }
    }
    return 0;
}

int mlops__reg_tags_encode(mlops__buf *b, const mlops__reg_tags *t)
{
    MLOPS__TRY(mlops__reg_put_u32(b, (uint32_t)t->n));
    for (size_t i = 0; i < t->n; i++) {
        MLOPS__TRY(mlops__reg_put_str(b, t->v[i].key, MLOPS_REGISTRY_TAG_KEY_MAX, "tag key"));
        MLOPS__TRY(mlops__reg_put_str(b, t->v[i].value, MLOPS_REGISTRY_TAG_VALUE_MAX, "tag value"));
    }
    return 0;
}

/* Keys strictly increasing and valid: one content, one encoding. */
int mlops__reg_tags_decode(mlops__reg_tags *t, mlops__reg_reader *r)
{
    uint32_t n;
    MLOPS__TRY(mlops__reg_get_count(r, &n, (void **)&t->v, sizeof *t->v, 8, "tag"));
    for (uint32_t i = 0; i < n; i++) {
        char *k = NULL, *v = NULL;
        MLOPS__TRY(mlops__reg_get_str(r, &k, MLOPS_REGISTRY_TAG_KEY_MAX, "tag key"));
        t->v[i].key = k;
        t->n++;
        MLOPS__TRY(mlops__reg_get_str(r, &v, MLOPS_REGISTRY_TAG_VALUE_MAX, "tag value"));
        t->v[i].value = v;
        if (mlops__reg_tag_check(k, v) < 0)
            return mlops__error_prefix(MLOPS_ECORRUPT, "corrupt %s", r->what);
        if (i && strcmp(t->v[i - 1].key, k) >= 0)
            return mlops__reg_corrupt(r, "tags out of order");
    }
    return 0;
}
