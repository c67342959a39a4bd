/*
 * History: the chain of a model's states, each holding the change that
 * produced it, read from the current state back to the first (a renamed
 * model's chain goes on through its old name) and returned oldest first.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "registry_internal.h"

/* Moves the change of st (state id) into e, leaving st's strings NULL. */
static void take_change(mlops_registry_event *e, mlops__reg_state *st, const mlops_oid *id)
{
    mlops__reg_change *c = &st->change;
    e->kind = c->kind;
    e->time_ms = c->time_ms;
    e->version = c->version;
    e->old_version = c->old_version;
    e->from_stage = c->from_stage;
    e->to_stage = c->to_stage;
    e->user = c->user;
    e->alias = c->alias;
    e->detail = c->detail;
    c->user = c->alias = c->detail = NULL;
    e->state = *id;
}

static int walk(mlops_registry_event **events, size_t *n, size_t *cap, mlops_store *s, mlops__reg_state *st,
                mlops_oid id)
{
    for (;;) {
        if (*n == *cap) {
            mlops_registry_event *g = mlops__grow_array(*events, cap, sizeof *g, 16);
            if (!g)
                return mlops__error_oom();
            *events = g;
        }
        take_change(&(*events)[(*n)++], st, &id);
        if (!st->has_prev)
            return 0;
        id = st->prev;
        mlops__reg_state_dispose(st);
        MLOPS__TRY(mlops__reg_state_load(st, s, &id));
    }
}

int mlops_registry_history(mlops_registry_event **out, size_t *out_count, mlops_store *store, const char *name)
{
    if (!out || !out_count || !store)
        return mlops__error_set(MLOPS_EINVALID, "registry_history: NULL argument");
    MLOPS__TRY(mlops__reg_name_check(name));
    mlops__reg_state st;
    mlops_oid id;
    MLOPS__TRY(mlops__reg_read(&st, &id, store, name));
    mlops_registry_event *ev = NULL;
    size_t n = 0, cap = 0;
    int rc = walk(&ev, &n, &cap, store, &st, id);
    mlops__reg_state_dispose(&st);
    if (rc < 0) {
        mlops_registry_history_free(ev, n);
        return rc;
    }
    for (size_t i = 0; i < n / 2; i++) {
        mlops_registry_event t = ev[i];
        ev[i] = ev[n - 1 - i];
        ev[n - 1 - i] = t;
    }
    *out = ev;
    *out_count = n;
    return 0;
}

void mlops_registry_history_free(mlops_registry_event *events, size_t count)
{
    if (!events)
        return;
    for (size_t i = 0; i < count; i++) {
        mlops__free(events[i].user);
        mlops__free(events[i].alias);
        mlops__free(events[i].detail);
    }
    mlops__free(events);
}
