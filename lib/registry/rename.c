/*
 * Rename: the renamed state (linking the old one, so the history goes on)
 * is published under the new name with "must not exist", then the old ref
 * is deleted by compare-and-swap from the state that was copied. If the
 * old model changed in between, the new ref is taken back and the rename
 * starts again from the newer state, so no change made meanwhile is lost.
 * Not atomic: a crash between the two updates leaves both names, and so
 * does a writer of the new name changing the copy before it is taken back
 * (then the call says so: MLOPS_EEXISTS naming both).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "registry_internal.h"

typedef struct rename_ctx {
    mlops_store *s;
    const char *name, *new_name;
    char old_ref[MLOPS__REG_REF_MAX], new_ref[MLOPS__REG_REF_MAX];
    const char *user;
} rename_ctx;

static int taken(const char *new_name)
{
    return mlops__error_set(MLOPS_EEXISTS, "registered model '%.256s' already exists", new_name);
}

/* The renamed state, stored; *old is the state it replaces. */
static int build(mlops_oid *fresh, mlops_oid *old, const rename_ctx *c)
{
    mlops__reg_state st;
    MLOPS__TRY(mlops__reg_read(&st, old, c->s, c->name));
    char *n = mlops__strdup(c->new_name), *u = mlops__strdup(c->user);
    int rc = n && u ? mlops__reg_change_set(&st, MLOPS_REGISTRY_MODEL_RENAMED, 0, NULL, c->name) : mlops__error_oom();
    if (rc == 0) {
        mlops__free(st.name);
        st.name = n;
        n = NULL;
        mlops__free(st.change.user);
        st.change.user = u;
        u = NULL;
        st.change.time_ms = st.updated_ms = mlops__time_ms();
        st.has_prev = 1;
        st.prev = *old;
        rc = mlops__reg_state_put(fresh, c->s, &st);
    }
    mlops__free(n);
    mlops__free(u);
    mlops__reg_state_dispose(&st);
    return rc;
}

/* 0 when renamed, ECONFLICT when the old model changed meanwhile. */
static int attempt_cb(void *p)
{
    const rename_ctx *c = p;
    mlops_oid fresh, old, cur;
    int rc = mlops_ref_get(&cur, c->s, c->new_ref);
    if (rc == 0)
        return taken(c->new_name);
    if (rc != MLOPS_ENOTFOUND)
        return rc;
    MLOPS__TRY(build(&fresh, &old, c));
    rc = mlops_ref_set(c->s, c->new_ref, &fresh, NULL);
    if (rc == MLOPS_ECONFLICT || rc == MLOPS_EEXISTS)
        return taken(c->new_name);
    if (rc < 0)
        return rc;
    rc = mlops_ref_delete(c->s, c->old_ref, &old);
    if (rc == 0)
        return 0;
    /* the old model changed (or went) meanwhile: take the copy back */
    int undo = mlops_ref_delete(c->s, c->new_ref, &fresh);
    if (undo == MLOPS_ECONFLICT)
        /* Someone changed the copy already: it is theirs now. Say what
         * happened rather than retry into "already exists". */
        return mlops__error_set(MLOPS_EEXISTS,
                                "rename of model '%.256s' to '%.256s' raced with writers of both names: '%.256s' "
                                "(its copy, changed since) and '%.256s' both exist now",
                                c->name, c->new_name, c->new_name, c->name);
    if (undo < 0 && undo != MLOPS_ENOTFOUND)
        return undo;
    return rc == MLOPS_ENOTFOUND ? mlops__reg_not_found(c->name) : rc;
}

int mlops_registry_rename_model(mlops_store *store, const char *name, const char *new_name)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "registry_rename_model: NULL store");
    MLOPS__TRY(mlops__reg_name_check(name));
    MLOPS__TRY(mlops__reg_name_check(new_name));
    rename_ctx c = { store, name, new_name, "", "", NULL };
    MLOPS__TRY(mlops__reg_ref_name(c.old_ref, name));
    MLOPS__TRY(mlops__reg_ref_name(c.new_ref, new_name));
    char *user = mlops__reg_default_user();
    if (!user)
        return mlops__error_oom();
    c.user = user;
    int rc = mlops__reg_retry(attempt_cb, &c, MLOPS__REG_RETRIES, name);
    mlops__free(user);
    return rc;
}
