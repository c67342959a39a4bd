/*
 * Aliases (one alias names one version; a version may have many) and
 * MLflow's legacy stages with archive_existing. Aliases live in the state
 * only; a stage is kept both in the version's record and, so that
 * archive_existing need not load every record, in the state's version list.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "registry_internal.h"

typedef struct alias_ctx {
    const char *alias;
    uint64_t version;
} alias_ctx;

/* Inserts alias → version keeping the array sorted. */
static int alias_insert(mlops__reg_state *st, const char *alias, uint64_t version)
{
    char *a = mlops__strdup(alias);
    mlops_registry_alias *grown = a ? mlops__realloc(st->aliases, (st->naliases + 1) * sizeof *grown) : NULL;
    if (!grown) {
        mlops__free(a);
        return mlops__error_oom();
    }
    st->aliases = grown;
    size_t i = 0;
    while (i < st->naliases && strcmp(st->aliases[i].alias, alias) < 0)
        i++;
    memmove(st->aliases + i + 1, st->aliases + i, (st->naliases - i) * sizeof *grown);
    st->aliases[i].alias = a;
    st->aliases[i].version = version;
    st->naliases++;
    return 0;
}

static int edit_set_alias(mlops__reg_state *st, int exists, void *p)
{
    alias_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    MLOPS__TRY(mlops__reg_state_need(NULL, st, c->version));
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_ALIAS_SET, c->version, c->alias, NULL));
    mlops_registry_alias *a = mlops__reg_alias_find(st, c->alias);
    if (a) {
        st->change.old_version = a->version;
        a->version = c->version;
        return 0;
    }
    return alias_insert(st, c->alias, c->version);
}

static int edit_delete_alias(mlops__reg_state *st, int exists, void *p)
{
    alias_ctx *c = p;
    if (!exists)
        return mlops__reg_not_found(st->name);
    mlops_registry_alias *a = mlops__reg_alias_find(st, c->alias);
    if (!a)
        return mlops__error_set(MLOPS_ENOTFOUND, "registered model '%.256s' has no alias '%s'", st->name, c->alias);
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_ALIAS_DELETED, a->version, c->alias, NULL));
    size_t i = (size_t)(a - st->aliases);
    mlops__free(a->alias);
    memmove(a, a + 1, (st->naliases - i - 1) * sizeof *a);
    st->naliases--;
    return 0;
}

int mlops_registry_set_alias(mlops_store *store, const char *name, const char *alias, uint64_t version)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry_set_alias: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    MLOPS__TRY(mlops__reg_alias_check_settable(alias));
    alias_ctx c = { alias, version };
    return mlops__reg_update(NULL, store, name, NULL, edit_set_alias, NULL, &c, MLOPS__REG_RETRIES);
}

int mlops_registry_delete_alias(mlops_store *store, const char *name, const char *alias)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry_delete_alias: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    MLOPS__TRY(mlops__reg_alias_check(alias));
    alias_ctx c = { alias, 0 };
    return mlops__reg_update(NULL, store, name, NULL, edit_delete_alias, NULL, &c, MLOPS__REG_RETRIES);
}

/* ---- stages -------------------------------------------------------------------- */

typedef struct stage_ctx {
    mlops_store *s;
    uint64_t version;
    mlops_registry_stage stage;
    int archive_existing;
    mlops_registry_version *out;
    int want;
} stage_ctx;

static int stage_result(const mlops__reg_state *st, const mlops_oid *id, void *p)
{
    stage_ctx *c = p;
    (void)id;
    return c->want ? mlops__reg_version_result(&c->out, c->s, st, c->version) : 0;
}

static int to_stage(mlops_registry_version *v, void *p)
{
    v->stage = *(mlops_registry_stage *)p;
    return 0;
}

size_t mlops__reg_archived_list_max = MLOPS_REGISTRY_TEXT_MAX - 64;

/* Archives every other version in c->stage; detail lists them ("1,4",
 * or "1,4,...,+N more" past mlops__reg_archived_list_max). */
static int archive_others(mlops__reg_state *st, const stage_ctx *c, mlops__buf *detail)
{
    mlops_registry_stage archived = MLOPS_REGISTRY_STAGE_ARCHIVED;
    uint64_t unlisted = 0;
    for (size_t i = 0; i < st->nversions; i++) {
        mlops__reg_ver *e = &st->versions[i];
        if (e->number == c->version || e->stage != c->stage)
            continue;
        MLOPS__TRY(mlops__reg_version_change(c->s, st, e->number, to_stage, &archived));
        if (detail->len + 21 > mlops__reg_archived_list_max)
            unlisted++;
        else
            MLOPS__TRY(mlops__buf_printf(detail, "%s%llu", detail->len ? "," : "", (unsigned long long)e->number));
    }
    if (unlisted)
        MLOPS__TRY(mlops__buf_printf(detail, ",+%llu more", (unsigned long long)unlisted));
    return 0;
}

static int transition(mlops__reg_state *st, const stage_ctx *c, mlops__buf *detail)
{
    mlops__reg_ver *e;
    MLOPS__TRY(mlops__reg_state_need(&e, st, c->version));
    mlops_registry_stage from = e->stage, target = c->stage;
    if (c->archive_existing)
        MLOPS__TRY(archive_others(st, c, detail));
    MLOPS__TRY(mlops__reg_version_change(c->s, st, c->version, to_stage, &target));
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_STAGE_CHANGED, c->version, NULL, detail->ptr));
    st->change.from_stage = from;
    st->change.to_stage = target;
    return 0;
}

static int edit_transition(mlops__reg_state *st, int exists, void *p)
{
    if (!exists)
        return mlops__reg_not_found(st->name);
    mlops__buf detail = MLOPS__BUF_INIT;
    int rc = transition(st, p, &detail);
    mlops__buf_dispose(&detail);
    return rc;
}

int mlops_registry_transition_stage(mlops_registry_version **out, mlops_store *store, const char *name,
                                    uint64_t version, const char *stage, int archive_existing)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry_transition_stage: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    stage_ctx c = { store, version, MLOPS_REGISTRY_STAGE_NONE, archive_existing, NULL, out != NULL };
    MLOPS__TRY(mlops_registry_stage_parse(&c.stage, stage));
    if (archive_existing && c.stage != MLOPS_REGISTRY_STAGE_STAGING && c.stage != MLOPS_REGISTRY_STAGE_PRODUCTION)
        return mlops__error_set(MLOPS_EINVALID,
                                "cannot archive existing model versions: '%s' is not an active stage (Staging, "
                                "Production)",
                                mlops_registry_stage_name(c.stage));
    int rc = mlops__reg_update(NULL, store, name, NULL, edit_transition, stage_result, &c, MLOPS__REG_RETRIES);
    if (rc == 0 && out)
        *out = c.out;
    else
        mlops_registry_version_free(c.out);
    return rc;
}
