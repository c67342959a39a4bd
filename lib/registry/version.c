/*
 * Model versions: register (the next number, by compare-and-swap on the
 * model's state), read, list, delete, and the changes that rewrite a
 * version's record (description, tags; stages in alias_stage.c).
 */
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/options.h"
#include "registry_internal.h"
#include "store/object_io.h"
#include "store/object_links.h"

int mlops_registry_register_options_init(mlops_registry_register_options *opts, unsigned int version)
{
    static const mlops_registry_register_options defaults = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION,
                               "registry register");
}

int mlops__reg_version_change(mlops_store *s, mlops__reg_state *st, uint64_t number, mlops__reg_version_fn fn,
                              void *ctx)
{
    mlops__reg_ver *e;
    mlops_registry_version *v = NULL;
    MLOPS__TRY(mlops__reg_state_need(&e, st, number));
    MLOPS__TRY(mlops__reg_version_load(&v, s, &e->record));
    int rc = fn(v, ctx);
    if (rc == 0) {
        v->updated_ms = st->change.time_ms;
        rc = mlops__reg_version_put(&e->record, s, v);
        e->stage = v->stage;
    }
    mlops_registry_version_free(v);
    return rc;
}

/* ---- register -------------------------------------------------------------- */

typedef struct register_ctx {
    mlops_store *s;
    const mlops_registry_register_options *o;
    mlops_oid artifact;
    uint64_t size;
    mlops__reg_tags tags;
    uint64_t number; /* out: the version made */
    mlops_registry_version *out;
    int want;
} register_ctx;

static int register_result(const mlops__reg_state *st, const mlops_oid *id, void *p)
{
    register_ctx *c = p;
    (void)id;
    return c->want ? mlops__reg_version_result(&c->out, c->s, st, c->number) : 0;
}

static int edit_register(mlops__reg_state *st, int exists, void *p)
{
    register_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    if (st->next_version == UINT64_MAX)
        return mlops__error_set(MLOPS_EINVALID, "model '%.256s' has no version numbers left", st->name);
    mlops_registry_version v;
    memset(&v, 0, sizeof v);
    v.version = st->next_version;
    v.artifact = c->artifact;
    v.size = c->size;
    v.run_id = (char *)c->o->run_id;
    v.dataset = (char *)c->o->dataset;
    v.description = (char *)c->o->description;
    v.user = st->change.user;
    v.tags = c->tags.v;
    v.ntags = c->tags.n;
    v.created_ms = v.updated_ms = st->change.time_ms;
    v.stage = MLOPS_REGISTRY_STAGE_NONE;
    v.status = MLOPS_REGISTRY_READY;
    mlops_oid record;
    MLOPS__TRY(mlops__reg_version_put(&record, c->s, &v));
    MLOPS__TRY(mlops__reg_state_add(st, v.version, &record));
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_VERSION_REGISTERED, v.version, NULL, NULL));
    st->next_version++;
    c->number = v.version;
    return 0;
}

static int check_register(const mlops_registry_register_options *o)
{
    if (!o)
        return mlops__error_set(MLOPS_EINVALID, "registry_register: NULL options (an artifact or a path is needed)");
    MLOPS__TRY(mlops__options_version(o->version, MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION, "registry register"));
    if (!o->artifact == !o->path)
        return mlops__error_set(MLOPS_EINVALID, "registry_register: give exactly one of artifact and path");
    MLOPS__TRY(mlops__reg_text_check(o->run_id, MLOPS_REGISTRY_FIELD_MAX, "run id"));
    MLOPS__TRY(mlops__reg_text_check(o->dataset, MLOPS_REGISTRY_FIELD_MAX, "dataset"));
    MLOPS__TRY(mlops__reg_text_check(o->user, MLOPS_REGISTRY_FIELD_MAX, "user"));
    return mlops__reg_text_check(o->description, MLOPS_REGISTRY_TEXT_MAX, "description");
}

/* The artifact: an existing object, or the file at path stored now. */
static int artifact_of(register_ctx *c)
{
    const mlops_registry_register_options *o = c->o;
    if (o->artifact) {
        int rc = mlops_object_size(&c->size, c->s, o->artifact);
        if (rc == MLOPS_ENOTFOUND)
            return mlops__error_set(MLOPS_ENOTFOUND, "artifact %s is not in the store", mlops__hex(o->artifact).s);
        /* An artifact stored a while ago may be unreferenced and old: a gc
         * running now could delete it after the version names it, unless
         * it (and what it links to) is refreshed first, as a put would. */
        if (rc == 0 && (rc = mlops__object_refresh(c->s, o->artifact, MLOPS__REG_REFRESH_AGE)) < 0)
            return mlops__error_prefix(rc, "artifact %s", mlops__hex(o->artifact).s);
        c->artifact = *o->artifact;
        return rc;
    }
    struct stat sb;
    if (stat(o->path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return mlops__error_set(MLOPS_EUNSUPPORTED,
                                "cannot register directory '%.200s': snapshot it with the data module, or register a "
                                "file or an object id",
                                o->path);
    mlops_put_stats stats;
    MLOPS__TRY(mlops_object_put_file_ext(&c->artifact, &stats, c->s, o->path, NULL));
    c->size = stats.size;
    return 0;
}

static int register_checked(mlops_registry_version **out, register_ctx *c, const char *name)
{
    if (c->o->path) { /* a missing model fails before the file is stored */
        mlops__reg_state st;
        MLOPS__TRY(mlops__reg_read(&st, NULL, c->s, name));
        mlops__reg_state_dispose(&st);
    }
    MLOPS__TRY(artifact_of(c));
    unsigned retries = c->o->max_retries ? c->o->max_retries : MLOPS__REG_RETRIES;
    c->want = out != NULL;
    MLOPS__TRY(mlops__reg_update(NULL, c->s, name, c->o->user, edit_register, register_result, c, retries));
    if (out) {
        *out = c->out;
        c->out = NULL;
    }
    return 0;
}

int mlops_registry_register(mlops_registry_version **out, mlops_store *store, const char *name,
                            const mlops_registry_register_options *opts)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry_register: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    MLOPS__TRY(check_register(opts));
    register_ctx c;
    memset(&c, 0, sizeof c);
    c.s = store;
    c.o = opts;
    MLOPS__TRY(mlops__reg_tags_from(&c.tags, opts->tags, opts->ntags));
    int rc = register_checked(out, &c, name);
    mlops__reg_tags_dispose(&c.tags);
    mlops_registry_version_free(c.out);
    return rc;
}

/* ---- read ------------------------------------------------------------------- */

int mlops_registry_get_version(mlops_registry_version **out, mlops_store *store, const char *name,
                               uint64_t version)
{
    if (!out || !store)
        return mlops__error_set(MLOPS_EINVALID, "registry_get_version: NULL argument");
    MLOPS__TRY(mlops__reg_name_check(name));
    mlops__reg_state st;
    MLOPS__TRY(mlops__reg_read(&st, NULL, store, name));
    int rc = mlops__reg_version_get(out, store, &st, version);
    mlops__reg_state_dispose(&st);
    return rc;
}

static int load_all(mlops_registry_version **list, size_t *n, mlops_store *s, const mlops__reg_state *st)
{
    for (; *n < st->nversions; (*n)++)
        MLOPS__TRY(mlops__reg_version_get(&list[*n], s, st, st->versions[*n].number));
    return 0;
}

int mlops_registry_list_versions(mlops_registry_version ***out, size_t *out_count, mlops_store *store,
                                 const char *name)
{
    if (!out || !out_count || !store)
        return mlops__error_set(MLOPS_EINVALID, "registry_list_versions: NULL argument");
    MLOPS__TRY(mlops__reg_name_check(name));
    mlops__reg_state st;
    MLOPS__TRY(mlops__reg_read(&st, NULL, store, name));
    size_t n = 0;
    mlops_registry_version **list = mlops__calloc(st.nversions ? st.nversions : 1, sizeof *list);
    int rc = list ? load_all(list, &n, store, &st) : mlops__error_oom();
    mlops__reg_state_dispose(&st);
    if (rc < 0) {
        mlops_registry_version_list_free(list, n);
        return rc;
    }
    *out = list;
    *out_count = n;
    return 0;
}

/* ---- changes ------------------------------------------------------------------ */

typedef struct vedit_ctx {
    mlops_store *s;
    uint64_t number;
    const char *key, *value;
} vedit_ctx;

static int set_description(mlops_registry_version *v, void *p)
{
    char *d = mlops__strdup(((vedit_ctx *)p)->value);
    if (!d)
        return mlops__error_oom();
    mlops__free(v->description);
    v->description = d;
    return 0;
}

/* A record's tags as a sorted array the tag helpers can edit. */
static int with_tags(mlops_registry_version *v, const vedit_ctx *c, int set)
{
    mlops__reg_tags t = { v->tags, v->ntags };
    int rc = set ? mlops__reg_tags_set(&t, c->key, c->value) : mlops__reg_tags_delete(&t, c->key, "model version");
    v->tags = t.v;
    v->ntags = t.n;
    return rc;
}

static int set_tag(mlops_registry_version *v, void *p)
{
    return with_tags(v, p, 1);
}

static int delete_tag(mlops_registry_version *v, void *p)
{
    return with_tags(v, p, 0);
}

static int edit_version(mlops__reg_state *st, int exists, vedit_ctx *c, mlops_registry_event_kind kind,
                        mlops__reg_version_fn fn)
{
    if (!exists)
        return mlops__reg_not_found(st->name);
    MLOPS__TRY(mlops__reg_change_set(st, kind, c->number, NULL, c->key));
    return mlops__reg_version_change(c->s, st, c->number, fn, c);
}

static int edit_description(mlops__reg_state *st, int exists, void *p)
{
    return edit_version(st, exists, p, MLOPS_REGISTRY_VERSION_DESCRIPTION, set_description);
}

static int edit_tag_set(mlops__reg_state *st, int exists, void *p)
{
    return edit_version(st, exists, p, MLOPS_REGISTRY_VERSION_TAG_SET, set_tag);
}

static int edit_tag_delete(mlops__reg_state *st, int exists, void *p)
{
    return edit_version(st, exists, p, MLOPS_REGISTRY_VERSION_TAG_DELETED, delete_tag);
}

static int edit_delete(mlops__reg_state *st, int exists, void *p)
{
    vedit_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    MLOPS__TRY(mlops__reg_state_need(NULL, st, c->number));
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_VERSION_DELETED, c->number, NULL, NULL));
    mlops__reg_state_remove(st, c->number);
    return 0;
}

static int version_edit(mlops_store *store, const char *name, vedit_ctx *c, mlops__reg_edit_fn fn)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    c->s = store;
    return mlops__reg_update(NULL, store, name, NULL, fn, NULL, c, MLOPS__REG_RETRIES);
}

int mlops_registry_delete_version(mlops_store *store, const char *name, uint64_t version)
{
    vedit_ctx c = { NULL, version, NULL, NULL };
    return version_edit(store, name, &c, edit_delete);
}

int mlops_registry_set_version_description(mlops_store *store, const char *name, uint64_t version,
                                           const char *description)
{
    MLOPS__TRY(mlops__reg_text_check(description, MLOPS_REGISTRY_TEXT_MAX, "description"));
    vedit_ctx c = { NULL, version, NULL, description ? description : "" };
    return version_edit(store, name, &c, edit_description);
}

int mlops_registry_set_version_tag(mlops_store *store, const char *name, uint64_t version, const char *key,
                                   const char *value)
{
    MLOPS__TRY(mlops__reg_tag_check(key, value));
    vedit_ctx c = { NULL, version, key, value };
    return version_edit(store, name, &c, edit_tag_set);
}

int mlops_registry_delete_version_tag(mlops_store *store, const char *name, uint64_t version, const char *key)
{
    MLOPS__TRY(mlops__reg_tag_check(key, ""));
    vedit_ctx c = { NULL, version, key, NULL };
    return version_edit(store, name, &c, edit_tag_delete);
}
