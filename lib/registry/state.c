/*
 * Working on a decoded state: version and alias lookups, adding and
 * removing versions, recording the change, and the public model view.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"

mlops__reg_ver *mlops__reg_state_find(const mlops__reg_state *st, uint64_t number)
{
    size_t lo = 0, hi = st->nversions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->versions[mid].number == number)
            return &st->versions[mid];
        if (st->versions[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int mlops__reg_state_need(mlops__reg_ver **out, const mlops__reg_state *st, uint64_t number)
{
    mlops__reg_ver *v = mlops__reg_state_find(st, number);
    if (!v)
        return mlops__error_set(MLOPS_ENOTFOUND, "model version (name=%s, version=%llu) not found", st->name,
                                (unsigned long long)number);
    if (out)
        *out = v;
    return 0;
}

mlops_registry_alias *mlops__reg_alias_find(const mlops__reg_state *st, const char *alias)
{
    for (size_t i = 0; i < st->naliases; i++)
        if (strcmp(st->aliases[i].alias, alias) == 0)
            return &st->aliases[i];
    return NULL;
}

int mlops__reg_state_add(mlops__reg_state *st, uint64_t number, const mlops_oid *record)
{
    if (st->nversions == st->cap_versions) {
        mlops__reg_ver *v = mlops__grow_array(st->versions, &st->cap_versions, sizeof *v, 16);
        if (!v)
            return mlops__error_oom();
        st->versions = v;
    }
    mlops__reg_ver *v = &st->versions[st->nversions++];
    v->number = number;
    v->stage = MLOPS_REGISTRY_STAGE_NONE;
    v->record = *record;
    return 0;
}

void mlops__reg_state_remove(mlops__reg_state *st, uint64_t number)
{
    mlops__reg_ver *v = mlops__reg_state_find(st, number);
    if (v) {
        size_t i = (size_t)(v - st->versions);
        memmove(v, v + 1, (st->nversions - i - 1) * sizeof *v);
        st->nversions--;
    }
    size_t k = 0;
    for (size_t i = 0; i < st->naliases; i++) {
        if (st->aliases[i].version == number)
            mlops__free(st->aliases[i].alias);
        else
            st->aliases[k++] = st->aliases[i];
    }
    st->naliases = k;
}

int mlops__reg_change_set(mlops__reg_state *st, mlops_registry_event_kind kind, uint64_t version,
                          const char *alias, const char *detail)
{
    mlops__reg_change *c = &st->change;
    char *a = mlops__strdup(alias ? alias : ""), *d = mlops__strdup(detail ? detail : "");
    if (!a || !d) {
        mlops__free(a);
        mlops__free(d);
        return mlops__error_oom();
    }
    mlops__free(c->alias);
    mlops__free(c->detail);
    c->alias = a;
    c->detail = d;
    c->kind = kind;
    c->version = version;
    c->old_version = 0;
    c->from_stage = c->to_stage = MLOPS_REGISTRY_STAGE_NONE;
    return 0;
}

static int copy_model(mlops_registry_model *m, const mlops__reg_state *st)
{
    if (!(m->name = mlops__strdup(st->name)) || !(m->description = mlops__strdup(st->description)))
        return mlops__error_oom();
    if (st->tags.n && !(m->tags = mlops__calloc(st->tags.n, sizeof *m->tags)))
        return mlops__error_oom();
    for (; m->ntags < st->tags.n; m->ntags++) {
        mlops_registry_tag *t = &m->tags[m->ntags];
        if (!(t->key = mlops__strdup(st->tags.v[m->ntags].key)) ||
            !(t->value = mlops__strdup(st->tags.v[m->ntags].value))) {
            m->ntags++;
            return mlops__error_oom();
        }
    }
    if (st->naliases && !(m->aliases = mlops__calloc(st->naliases, sizeof *m->aliases)))
        return mlops__error_oom();
    for (; m->naliases < st->naliases; m->naliases++) {
        m->aliases[m->naliases].version = st->aliases[m->naliases].version;
        if (!(m->aliases[m->naliases].alias = mlops__strdup(st->aliases[m->naliases].alias)))
            return mlops__error_oom();
    }
    return 0;
}

int mlops__reg_model_from(mlops_registry_model **out, const mlops__reg_state *st, const mlops_oid *id)
{
    mlops_registry_model *m = mlops__calloc(1, sizeof *m);
    if (!m)
        return mlops__error_oom();
    int rc = copy_model(m, st);
    if (rc < 0) {
        mlops_registry_model_free(m);
        return rc;
    }
    m->created_ms = st->created_ms;
    m->updated_ms = st->updated_ms;
    m->nversions = st->nversions;
    m->latest_version = st->nversions ? st->versions[st->nversions - 1].number : 0;
    m->next_version = st->next_version;
    m->state = *id;
    *out = m;
    return 0;
}

void mlops_registry_model_free(mlops_registry_model *m)
{
    if (!m)
        return;
    mlops__free(m->name);
    mlops__free(m->description);
    mlops__reg_tag_array_free(m->tags, m->ntags);
    for (size_t i = 0; i < m->naliases; i++)
        mlops__free(m->aliases[i].alias);
    mlops__free(m->aliases);
    mlops__free(m);
}

void mlops_registry_model_list_free(mlops_registry_model **list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++)
        mlops_registry_model_free(list[i]);
    mlops__free(list);
}
