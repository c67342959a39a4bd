/*
 * Registered models: create, get, list, rename, description, tags, delete.
 * Every change goes through mlops__reg_update (state_update.c); rename
 * moves the state to a new ref and is the one change made of two ref
 * updates (see the caveat in registry.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"
#include "store/ref_list.h"

static int replace_str(char **field, const char *value)
{
    char *v = mlops__strdup(value ? value : "");
    if (!v)
        return mlops__error_oom();
    mlops__free(*field);
    *field = v;
    return 0;
}

/* ---- create ------------------------------------------------------------- */

typedef struct create_ctx {
    const char *description;
    mlops__reg_tags *tags;
    mlops_registry_model *out; /* NULL when not wanted */
    int want;
} create_ctx;

static int create_result(const mlops__reg_state *st, const mlops_oid *id, void *p)
{
    create_ctx *c = p;
    if (!c->want)
        return 0;
    mlops_registry_model_free(c->out);
    c->out = NULL;
    return mlops__reg_model_from(&c->out, st, id);
}

static int edit_create(mlops__reg_state *st, int exists, void *p)
{
    create_ctx *c = p;
    if (exists)
        return mlops__error_set(MLOPS_EEXISTS, "registered model '%.256s' already exists", st->name);
    MLOPS__TRY(replace_str(&st->description, c->description));
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_MODEL_CREATED, 0, NULL, NULL));
    for (size_t i = 0; i < c->tags->n; i++)
        MLOPS__TRY(mlops__reg_tags_set(&st->tags, c->tags->v[i].key, c->tags->v[i].value));
    st->created_ms = st->change.time_ms;
    st->next_version = 1;
    return 0;
}

int mlops_registry_create_model(mlops_registry_model **out, mlops_store *store, const char *name,
                                const char *description, const mlops_registry_tag *tags, size_t ntags)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry_create_model: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    MLOPS__TRY(mlops__reg_text_check(description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    mlops__reg_tags t;
    MLOPS__TRY(mlops__reg_tags_from(&t, tags, ntags));
    create_ctx c = { description, &t, NULL, out != NULL };
    int rc = mlops__reg_update(NULL, store, name, NULL, edit_create, create_result, &c, MLOPS__REG_RETRIES);
    mlops__reg_tags_dispose(&t);
    if (rc == 0 && out)
        *out = c.out;
    else
        mlops_registry_model_free(c.out);
    return rc;
}

/* ---- read --------------------------------------------------------------- */

int mlops_registry_get_model(mlops_registry_model **out, mlops_store *store, const char *name)
{
    if (!out || !store)
        return mlops__error_set(MLOPS_EINVALID, "registry_get_model: NULL argument");
    MLOPS__TRY(mlops__reg_name_check(name));
    mlops__reg_state st;
    mlops_oid id;
    MLOPS__TRY(mlops__reg_read(&st, &id, store, name));
    int rc = mlops__reg_model_from(out, &st, &id);
    mlops__reg_state_dispose(&st);
    return rc;
}

static int is_model_ref(const char *rest)
{
    mlops_oid id;
    return strlen(rest) == MLOPS_OID_HEXSZ && mlops_oid_fromhex(&id, rest) == 0;
}

static int model_cmp(const void *a, const void *b)
{
    return strcmp((*(mlops_registry_model *const *)a)->name, (*(mlops_registry_model *const *)b)->name);
}

/* Loads the states of the listed refs, keeping names under prefix. */
static int load_matching(mlops_registry_model **models, size_t *n, mlops_store *s, const mlops__ref_item *items,
                         size_t count, const char *prefix)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < count; i++) {
        mlops__reg_state st;
        char ref[MLOPS__REG_REF_MAX];
        int rc = mlops__reg_state_load(&st, s, &items[i].id);
        if (rc < 0)
            return rc;
        if ((rc = mlops__reg_ref_name(ref, st.name)) == 0 && strcmp(ref + strlen(MLOPS__REG_PREFIX), items[i].name))
            rc = mlops__error_set(MLOPS_ECORRUPT, "the state under ref %s%s names model '%.256s'", MLOPS__REG_PREFIX,
                                  items[i].name, st.name);
        if (rc < 0) {
            mlops__reg_state_dispose(&st);
            return rc;
        }
        if (strncmp(st.name, prefix ? prefix : "", plen) == 0)
            rc = mlops__reg_model_from(&models[(*n)++], &st, &items[i].id);
        mlops__reg_state_dispose(&st);
        if (rc < 0) {
            (*n)--;
            return rc;
        }
    }
    return 0;
}

int mlops_registry_list_models(mlops_registry_model ***out, size_t *out_count, mlops_store *store,
                               const char *prefix)
{
    if (!out || !out_count || !store)
        return mlops__error_set(MLOPS_EINVALID, "registry_list_models: NULL argument");
    mlops__ref_item *items = NULL;
    size_t count = 0, n = 0;
    MLOPS__TRY(mlops__ref_list(&items, &count, store, MLOPS__REG_PREFIX, is_model_ref));
    mlops_registry_model **models = mlops__calloc(count ? count : 1, sizeof *models);
    int rc = models ? load_matching(models, &n, store, items, count, prefix) : mlops__error_oom();
    mlops__ref_list_free(items, count);
    if (rc < 0) {
        mlops_registry_model_list_free(models, n);
        return rc;
    }
    qsort(models, n, sizeof *models, model_cmp);
    *out = models;
    *out_count = n;
    return 0;
}

/* ---- description and tags ------------------------------------------------- */

typedef struct field_ctx {
    const char *key;
    const char *value;
} field_ctx;

static int edit_description(mlops__reg_state *st, int exists, void *p)
{
    field_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_MODEL_DESCRIPTION, 0, NULL, NULL));
    return replace_str(&st->description, c->value);
}

static int edit_tag_set(mlops__reg_state *st, int exists, void *p)
{
    field_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_MODEL_TAG_SET, 0, NULL, c->key));
    return mlops__reg_tags_set(&st->tags, c->key, c->value);
}

static int edit_tag_delete(mlops__reg_state *st, int exists, void *p)
{
    field_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_MODEL_TAG_DELETED, 0, NULL, c->key));
    return mlops__reg_tags_delete(&st->tags, c->key, "registered model");
}

static int model_edit(mlops_store *store, const char *name, mlops__reg_edit_fn fn, void *c)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    return mlops__reg_update(NULL, store, name, NULL, fn, NULL, c, MLOPS__REG_RETRIES);
}

int mlops_registry_set_model_description(mlops_store *store, const char *name, const char *description)
{
    MLOPS__TRY(mlops__reg_text_check(description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    field_ctx c = { NULL, description };
    return model_edit(store, name, edit_description, &c);
}

int mlops_registry_set_model_tag(mlops_store *store, const char *name, const char *key, const char *value)
{
    MLOPS__TRY(mlops__reg_tag_check(key, value));
    field_ctx c = { key, value };
    return model_edit(store, name, edit_tag_set, &c);
}

int mlops_registry_delete_model_tag(mlops_store *store, const char *name, const char *key)
{
    MLOPS__TRY(mlops__reg_tag_check(key, ""));
    field_ctx c = { key, NULL };
    return model_edit(store, name, edit_tag_delete, &c);
}

/* ---- delete ---------------------------------------------------------------- */

static int edit_delete(mlops__reg_state *st, int exists, void *p)
{
    if (!exists)
        return mlops__reg_not_found(st->name);
    if (st->nversions && !*(int *)p)
        return mlops__error_set(MLOPS_EINVALID,
                                "registered model '%.256s' still has %zu versions (delete them, or force)", st->name,
                                st->nversions);
    return MLOPS__REG_DROP;
}

int mlops_registry_delete_model(mlops_store *store, const char *name, int force)
{
    return model_edit(store, name, edit_delete, &force);
}
