/*
 * Model references. A '/' splits "name/<suffix>" (a version number,
 * "latest" or a stage, any case), as in MLflow's models:/ URIs; without a
 * '/', the last '@' splits "name@<alias>" ("latest" naming the highest
 * live version). Names cannot hold '/', so the split is never ambiguous.
 */
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"

#define URI_PREFIX "models:/"

typedef enum ref_kind { BY_NUMBER, BY_LATEST, BY_ALIAS, BY_STAGE } ref_kind;

typedef struct parsed_ref {
    char *name;
    ref_kind kind;
    uint64_t number;
    mlops_registry_stage stage;
    const char *alias; /* points into the caller's string */
} parsed_ref;

static int malformed(const char *ref, const char *why)
{
    return mlops__error_set(MLOPS_EINVALID, "invalid model reference '%.300s': %s", ref, why);
}

/* Decimal digits without sign, up to UINT64_MAX (0 parses, and names no
 * version); 0 if s is no such number. */
static int parse_number(uint64_t *out, const char *s)
{
    uint64_t v = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

static int parse_suffix(parsed_ref *p, const char *ref, const char *suffix)
{
    if (parse_number(&p->number, suffix)) {
        p->kind = BY_NUMBER;
        return 0;
    }
    if (strcasecmp(suffix, "latest") == 0) {
        p->kind = BY_LATEST;
        return 0;
    }
    if (mlops_registry_stage_parse(&p->stage, suffix) == 0) {
        p->kind = BY_STAGE;
        return 0;
    }
    return malformed(ref, "after '/' a version number, 'latest' or a stage is expected");
}

static int parse_ref(parsed_ref *p, const char *ref)
{
    const char *s = strncmp(ref, URI_PREFIX, strlen(URI_PREFIX)) == 0 ? ref + strlen(URI_PREFIX) : ref;
    const char *slash = strchr(s, '/'), *cut;
    if (slash) {
        if (strchr(slash + 1, '/'))
            return malformed(ref, "more than one '/'");
        MLOPS__TRY(parse_suffix(p, ref, slash + 1));
        cut = slash;
    } else {
        if (!(cut = strrchr(s, '@')))
            return malformed(ref, "expected name@alias or name/version");
        p->alias = cut + 1;
        p->kind = strcasecmp(p->alias, "latest") == 0 ? BY_LATEST : BY_ALIAS;
        if (p->kind == BY_ALIAS)
            MLOPS__TRY(mlops__reg_alias_check(p->alias));
    }
    if (!(p->name = mlops__strndup(s, (size_t)(cut - s))))
        return mlops__error_oom();
    return mlops__reg_name_check(p->name);
}

static int pick(uint64_t *number, const parsed_ref *p, const mlops__reg_state *st)
{
    switch (p->kind) {
    case BY_NUMBER:
        *number = p->number;
        return 0;
    case BY_ALIAS: {
        mlops_registry_alias *a = mlops__reg_alias_find(st, p->alias);
        if (!a)
            return mlops__error_set(MLOPS_ENOTFOUND, "registered model '%.256s' has no alias '%s'", st->name,
                                    p->alias);
        *number = a->version;
        return 0;
    }
    case BY_LATEST:
        if (!st->nversions)
            return mlops__error_set(MLOPS_ENOTFOUND, "registered model '%.256s' has no versions", st->name);
        *number = st->versions[st->nversions - 1].number;
        return 0;
    case BY_STAGE:
        for (size_t i = st->nversions; i-- > 0;)
            if (st->versions[i].stage == p->stage) {
                *number = st->versions[i].number;
                return 0;
            }
        return mlops__error_set(MLOPS_ENOTFOUND, "no versions of model '%.256s' in stage '%s'", st->name,
                                mlops_registry_stage_name(p->stage));
    }
    return mlops__error_set(MLOPS_EINVALID, "unknown reference kind");
}

static int resolve_parsed(mlops_registry_version **out, mlops_store *s, const parsed_ref *p)
{
    mlops__reg_state st;
    uint64_t number = 0;
    MLOPS__TRY(mlops__reg_read(&st, NULL, s, p->name));
    int rc = pick(&number, p, &st);
    if (rc == 0)
        rc = mlops__reg_version_get(out, s, &st, number);
    mlops__reg_state_dispose(&st);
    return rc;
}

int mlops_registry_resolve(mlops_registry_version **out, mlops_store *store, const char *ref)
{
    if (!out || !store || !ref)
        return mlops__error_set(MLOPS_EINVALID, "registry_resolve: NULL argument");
    parsed_ref p;
    memset(&p, 0, sizeof p);
    int rc = parse_ref(&p, ref);
    if (rc == 0)
        rc = resolve_parsed(out, store, &p);
    mlops__free(p.name);
    return rc;
}

int mlops_registry_download(mlops_registry_version **out, mlops_store *store, const char *ref, const char *dest)
{
    if (!dest || !*dest)
        return mlops__error_set(MLOPS_EINVALID, "registry_download: no destination");
    mlops_registry_version *v = NULL;
    MLOPS__TRY(mlops_registry_resolve(&v, store, ref));
    int rc = mlops_object_get_file(store, &v->artifact, dest);
    if (rc == 0 && out)
        *out = v;
    else
        mlops_registry_version_free(v);
    return rc;
}
