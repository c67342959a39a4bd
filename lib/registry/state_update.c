/*
 * Every change of a model: read the ref, load the state, let the caller
 * edit a fresh copy (it validates first and may refuse), store the new
 * state linking the old one, and move the ref by compare-and-swap from the
 * value read (from "must not exist" for a new model). A writer that loses
 * the race reads the new state and edits again on top of it, so version
 * numbers are handed out one at a time and no change is lost. Losers back
 * off for a random time that grows with each loss, which breaks up a crowd
 * of writers retrying in lock step.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/backoff.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/user.h"
#include "registry_internal.h"

int mlops__reg_not_found(const char *name)
{
    return mlops__error_set(MLOPS_ENOTFOUND, "registered model '%.256s' not found", name);
}

char *mlops__reg_default_user(void)
{
    return mlops__default_user(MLOPS_REGISTRY_FIELD_MAX);
}

/* The ref's value (*exists 0 if none) and, if it exists, the state. */
static int read_current(mlops__reg_state *st, mlops_oid *id, int *exists, mlops_store *s, const char *ref)
{
    int rc = mlops_ref_get(id, s, ref);
    *exists = rc == 0;
    if (rc == MLOPS_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    return mlops__reg_state_load(st, s, id);
}

int mlops__reg_read(mlops__reg_state *st, mlops_oid *id, mlops_store *s, const char *name)
{
    char ref[MLOPS__REG_REF_MAX];
    int exists;
    mlops_oid tmp;
    MLOPS__TRY(mlops__reg_ref_name(ref, name));
    memset(st, 0, sizeof *st);
    MLOPS__TRY(read_current(st, id ? id : &tmp, &exists, s, ref));
    if (!exists)
        return mlops__reg_not_found(name);
    if (strcmp(st->name, name) != 0) {
        mlops__reg_state_dispose(st);
        return mlops__error_set(MLOPS_ECORRUPT, "the state under model '%.256s' names another model", name);
    }
    return 0;
}

typedef struct attempt_ctx {
    mlops_store *s;
    const char *name;
    const char *ref;
    const char *user;
    mlops__reg_edit_fn fn;
    mlops__reg_result_fn result;
    void *ctx;
    mlops_oid *out;
} attempt_ctx;

static int prepare(mlops__reg_state *st, const attempt_ctx *a, int exists, const mlops_oid *old)
{
    if (!exists && !(st->name = mlops__strdup(a->name)))
        return mlops__error_oom();
    if (exists && strcmp(st->name, a->name) != 0)
        return mlops__error_set(MLOPS_ECORRUPT, "the state under model '%.256s' names another model", a->name);
    char *u = mlops__strdup(a->user);
    if (!u)
        return mlops__error_oom();
    mlops__free(st->change.user);
    st->change.user = u;
    st->change.time_ms = mlops__time_ms();
    st->has_prev = exists;
    if (exists)
        st->prev = *old;
    return 0;
}

/* One attempt: ECONFLICT when another writer moved the ref first. */
static int attempt(mlops_oid *out, const attempt_ctx *a)
{
    mlops__reg_state st;
    mlops_oid old, fresh;
    int exists = 0;
    memset(&st, 0, sizeof st);
    int rc = read_current(&st, &old, &exists, a->s, a->ref);
    if (rc == 0)
        rc = prepare(&st, a, exists, &old);
    if (rc == 0)
        rc = a->fn(&st, exists, a->ctx);
    if (rc == MLOPS__REG_DROP)
        rc = mlops_ref_delete(a->s, a->ref, &old);
    else if (rc == 0) {
        st.updated_ms = st.change.time_ms;
        if ((rc = mlops__reg_state_put(&fresh, a->s, &st)) == 0 && a->result)
            rc = a->result(&st, &fresh, a->ctx);
        if (rc == 0)
            rc = mlops_ref_set(a->s, a->ref, &fresh, exists ? &old : NULL);
        if (rc == 0 && out)
            *out = fresh;
    }
    mlops__reg_state_dispose(&st);
    return rc;
}

int mlops__reg_retry(int (*once)(void *ctx), void *ctx, unsigned retries, const char *name)
{
    uint64_t seed = mlops__backoff_seed(ctx);
    for (unsigned n = 0;; n++) {
        int rc = once(ctx);
        if (rc != MLOPS_ECONFLICT)
            return rc;
        if (n >= retries)
            return mlops__error_set(MLOPS_ECONFLICT, "model '%.256s': still losing the update race after %u retries",
                                    name, retries);
        mlops__backoff_sleep(&seed, n);
    }
}

static int attempt_cb(void *p)
{
    attempt_ctx *a = p;
    return attempt(a->out, a);
}

int mlops__reg_update(mlops_oid *out, mlops_store *s, const char *name, const char *user, mlops__reg_edit_fn fn,
                      mlops__reg_result_fn result, void *ctx, unsigned retries)
{
    char ref[MLOPS__REG_REF_MAX];
    MLOPS__TRY(mlops__reg_ref_name(ref, name));
    char *own = user ? NULL : mlops__reg_default_user();
    if (!user && !own)
        return mlops__error_oom();
    attempt_ctx a = { s, name, ref, user ? user : own, fn, result, ctx, out };
    int rc = mlops__reg_retry(attempt_cb, &a, retries, name);
    mlops__free(own);
    return rc;
}
