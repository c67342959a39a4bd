/*
 * Experiments: records behind refs track/experiments/<id>, ids allocated
 * from a compare-and-swap counter, names indexed by refs
 * track/experiment-names/<sha256 of the name> (any name fits a ref then).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "record.h"
#include "track_internal.h"

#define EXP_TYPE "track.experiment"
#define NAME_TYPE "track.expname"
#define NEXT_ID_REF "track/experiments/next-id"
#define EXPERIMENT_TAG_VALUE_MAX 5000 /* MLflow's limit for experiment tags */

static void record_ref(char out[80], const char *id)
{
    snprintf(out, 80, "track/experiments/%s", id);
}

static int name_ref(char out[128], const char *name)
{
    mlops_oid h;
    char hex[MLOPS_OID_HEXSZ + 1];
    MLOPS__TRY(mlops_oid_hash(&h, name, strlen(name)));
    mlops_oid_tohex(hex, &h);
    snprintf(out, 128, "track/experiment-names/%s", hex);
    return 0;
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MLOPS_EXPERIMENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] < '0' || id[i] > '9')
            return 0;
    return 1;
}

static int read_record(mlops_experiment **out, mlops_oid *cur, mlops_store *s, const char *id)
{
    char ref[80], what[64];
    if (!valid_id(id))
        return mlops__error_set(MLOPS_ENOTFOUND, "experiment '%.40s' not found", id);
    record_ref(ref, id);
    snprintf(what, sizeof what, "experiment %s", id);
    void *body = NULL;
    size_t len = 0;
    int rc = mlops__record_load(&body, &len, cur, s, ref, EXP_TYPE, what);
    if (rc == 0)
        rc = mlops__experiment_decode(out, body, len);
    mlops_free(body);
    return rc;
}

static int write_record(mlops_store *s, const mlops_experiment *e, const mlops_oid *expected)
{
    mlops__buf b = MLOPS__BUF_INIT;
    mlops_oid id;
    char ref[80];
    int rc = mlops__experiment_encode(&b, e);
    if (rc == 0)
        rc = mlops_object_put_structured(&id, s, EXP_TYPE, NULL, 0, b.ptr, b.len);
    record_ref(ref, e->id);
    if (rc == 0)
        rc = mlops_ref_set(s, ref, &id, expected);
    mlops__buf_dispose(&b);
    return rc;
}

typedef int (*exp_edit_fn)(mlops_experiment *e, void *payload);

static int update_record(mlops_store *s, const char *id, exp_edit_fn edit, void *payload)
{
    for (int attempt = 0; attempt < MLOPS__TRACK_RETRIES; attempt++) {
        mlops_experiment *e = NULL;
        mlops_oid cur;
        MLOPS__TRY(read_record(&e, &cur, s, id));
        int rc = edit(e, payload);
        if (rc != 0) { /* 1: nothing to change; an edit's error is final */
            mlops_experiment_free(e);
            return rc == 1 ? 0 : rc;
        }
        e->last_update_time = mlops__track_now_ms();
        rc = write_record(s, e, &cur);
        mlops_experiment_free(e);
        if (rc != MLOPS_ECONFLICT)
            return rc;
    }
    return mlops__error_set(MLOPS_ECONFLICT, "experiment %s: update still conflicting after %d attempts", id,
                            MLOPS__TRACK_RETRIES);
}

/* Takes the next id from the counter ref. */
static int allocate_id(char out[MLOPS_EXPERIMENT_ID_MAX + 1], mlops_store *s)
{
    for (int attempt = 0; attempt < MLOPS__TRACK_RETRIES; attempt++) {
        mlops_oid cur, next;
        unsigned long long n = 1;
        int rc = mlops_ref_get(&cur, s, NEXT_ID_REF);
        if (rc == 0) {
            void *data = NULL;
            size_t len = 0;
            MLOPS__TRY(mlops_object_get(&data, &len, s, &cur));
            char *end = NULL;
            n = strtoull(data, &end, 10);
            int bad = len == 0 || *end != '\0' || n == 0;
            mlops_free(data);
            if (bad)
                return mlops__error_set(MLOPS_ECORRUPT, "experiment id counter is corrupt");
        } else if (rc != MLOPS_ENOTFOUND) {
            return rc;
        }
        char text[32];
        int tl = snprintf(text, sizeof text, "%llu", n + 1);
        MLOPS__TRY(mlops_object_put(&next, s, text, (size_t)tl));
        rc = mlops_ref_set(s, NEXT_ID_REF, &next, rc == 0 ? &cur : NULL);
        if (rc == 0) {
            snprintf(out, MLOPS_EXPERIMENT_ID_MAX + 1, "%llu", n);
            return 0;
        }
        if (rc != MLOPS_ECONFLICT)
            return rc;
    }
    return mlops__error_set(MLOPS_ECONFLICT, "experiment id counter still conflicting");
}

/* Points the name at id (create-only). EEXISTS if the name is taken. */
static int claim_name(mlops_store *s, const char *name, const char *id)
{
    char ref[128];
    mlops_oid oid;
    MLOPS__TRY(name_ref(ref, name));
    MLOPS__TRY(mlops_object_put_structured(&oid, s, NAME_TYPE, NULL, 0, id, strlen(id)));
    int rc = mlops_ref_set(s, ref, &oid, NULL);
    if (rc == MLOPS_ECONFLICT)
        return mlops__error_set(MLOPS_EEXISTS, "an experiment named '%.100s' already exists", name);
    return rc;
}

static int lookup_name(char id[MLOPS_EXPERIMENT_ID_MAX + 1], mlops_oid *cur, mlops_store *s, const char *name)
{
    char ref[128];
    mlops_oid oid;
    MLOPS__TRY(name_ref(ref, name));
    int rc = mlops_ref_get(&oid, s, ref);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "experiment '%.100s' not found", name);
    if (rc < 0)
        return rc;
    char *type = NULL;
    void *body = NULL;
    size_t len = 0;
    rc = mlops_object_get_structured(&type, NULL, NULL, &body, &len, s, &oid);
    if (rc == MLOPS_EINVALID || (rc == 0 && strcmp(type, NAME_TYPE) != 0))
        rc = mlops__error_set(MLOPS_ECORRUPT, "experiment name index of '%.100s' is not a %s object", name,
                              NAME_TYPE);
    if (rc == 0 && (len == 0 || len > MLOPS_EXPERIMENT_ID_MAX || strspn(body, "0123456789") != len))
        rc = mlops__error_set(MLOPS_ECORRUPT, "experiment name index of '%.100s' holds no id", name);
    if (rc == 0) {
        memcpy(id, body, len);
        id[len] = '\0';
        if (cur)
            *cur = oid;
    }
    mlops_free(type);
    mlops_free(body);
    return rc;
}

int mlops_experiment_create(mlops_experiment **out, mlops_store *s, const char *name)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "experiment_create: NULL argument");
    *out = NULL;
    MLOPS__TRY(mlops__track_check_name(name, "experiment name"));
    mlops_experiment *e = mlops__calloc(1, sizeof *e);
    if (!e || !(e->name = mlops__strdup(name))) {
        mlops__free(e);
        return mlops__error_oom();
    }
    e->creation_time = e->last_update_time = mlops__track_now_ms();
    /* Refuse a taken name before spending an id on it (a race can still
     * burn one: the name is claimed after the record is written). */
    char existing[MLOPS_EXPERIMENT_ID_MAX + 1];
    int rc = lookup_name(existing, NULL, s, name);
    if (rc == 0)
        rc = mlops__error_set(MLOPS_EEXISTS, "an experiment named '%.100s' already exists", name);
    else if (rc == MLOPS_ENOTFOUND)
        rc = 0;
    if (rc == 0)
        rc = allocate_id(e->id, s);
    if (rc == 0)
        rc = write_record(s, e, NULL);
    if (rc == 0 && (rc = claim_name(s, name, e->id)) < 0) {
        /* The name was taken meanwhile: withdraw the record (the id stays
         * used, like an autoincrement). */
        char ref[80];
        record_ref(ref, e->id);
        (void)mlops_ref_delete(s, ref, NULL);
        if (rc == MLOPS_EEXISTS) /* the delete may have replaced the message */
            mlops__error_set(rc, "an experiment named '%.100s' already exists", name);
    }
    if (rc < 0) {
        mlops_experiment_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

int mlops_experiment_get(mlops_experiment **out, mlops_store *s, const char *id_or_name)
{
    if (!out || !s || !id_or_name)
        return mlops__error_set(MLOPS_EINVALID, "experiment_get: NULL argument");
    *out = NULL;
    if (valid_id(id_or_name)) { /* ids first: a name may be all digits too */
        int rc = read_record(out, NULL, s, id_or_name);
        if (rc != MLOPS_ENOTFOUND)
            return rc;
    }
    char id[MLOPS_EXPERIMENT_ID_MAX + 1];
    MLOPS__TRY(lookup_name(id, NULL, s, id_or_name));
    return read_record(out, NULL, s, id);
}

int mlops_experiment_get_or_create(mlops_experiment **out, mlops_store *s, const char *name)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "experiment_get_or_create: NULL argument");
    MLOPS__TRY(mlops__track_check_name(name, "experiment name"));
    char id[MLOPS_EXPERIMENT_ID_MAX + 1];
    for (int attempt = 0; attempt < 8; attempt++) {
        int rc = lookup_name(id, NULL, s, name);
        if (rc == 0)
            return read_record(out, NULL, s, id);
        if (rc != MLOPS_ENOTFOUND)
            return rc;
        rc = mlops_experiment_create(out, s, name);
        if (rc != MLOPS_EEXISTS)
            return rc; /* created, or failed */
        /* another creator won the name: read theirs */
    }
    return mlops__error_set(MLOPS_ECONFLICT, "experiment '%.100s': creation keeps conflicting", name);
}

static int by_numeric_id(const void *a, const void *b)
{
    const mlops_experiment *x = *(mlops_experiment *const *)a, *y = *(mlops_experiment *const *)b;
    size_t lx = strlen(x->id), ly = strlen(y->id);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->id, y->id);
}

int mlops_experiment_list(mlops_experiment ***out, size_t *count, mlops_store *s, int include_deleted)
{
    if (!out || !count || !s)
        return mlops__error_set(MLOPS_EINVALID, "experiment_list: NULL argument");
    /* The walk only gathers ids (the counter ref is not one); records are
     * read after it, so a damaged one reports its own error rather than
     * the walk's "stopped by the callback". */
    char **ids = NULL;
    size_t nids = 0;
    int rc = mlops__track_ref_ids(&ids, &nids, s, "track/experiments/", valid_id);
    mlops_experiment **items = NULL;
    size_t n = 0;
    if (rc == 0 && nids && !(items = mlops__calloc(nids, sizeof *items)))
        rc = mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < nids; i++) {
        mlops_experiment *e = NULL;
        rc = read_record(&e, NULL, s, ids[i]);
        if (rc == MLOPS_ENOTFOUND) { /* withdrawn since the walk */
            rc = 0;
            continue;
        }
        if (rc == 0 && e->lifecycle == MLOPS_LIFECYCLE_DELETED && !include_deleted)
            mlops_experiment_free(e);
        else if (rc == 0)
            items[n++] = e;
    }
    mlops_string_list_free(ids, nids);
    if (rc < 0) {
        mlops_experiment_list_free(items, n);
        return rc;
    }
    if (n > 1)
        qsort(items, n, sizeof *items, by_numeric_id);
    *out = items;
    *count = n;
    return 0;
}

typedef struct rename_edit {
    const char *new_name;
    char *replaced; /* the name the successful write replaced */
} rename_edit;

static int set_name(mlops_experiment *e, void *payload)
{
    rename_edit *r = payload;
    char *name = mlops__strdup(r->new_name);
    if (!name)
        return mlops__error_oom();
    mlops__free(r->replaced);
    r->replaced = e->name;
    e->name = name;
    return 0;
}

/* Drops the claim of a name the record no longer has, if it is still ours
 * (a claim names the id: its object is the same for the same id). */
static int drop_claim(mlops_store *s, const char *name, const char *id)
{
    char ref[128];
    mlops_oid claim;
    MLOPS__TRY(name_ref(ref, name));
    MLOPS__TRY(mlops_object_put_structured(&claim, s, NAME_TYPE, NULL, 0, id, strlen(id)));
    int rc = mlops_ref_delete(s, ref, &claim);
    return rc == MLOPS_ENOTFOUND || rc == MLOPS_ECONFLICT ? 0 : rc;
}

/* Three steps, each atomic on its own: take the new name (create-only, so
 * a taken name fails before anything changes), point the record at it,
 * drop the claim of the name that write replaced (read in the write's own
 * compare-and-swap: a concurrent rename may have changed it since we
 * looked). A failure in the middle gives the new name back. */
int mlops_experiment_rename(mlops_store *s, const char *id, const char *new_name)
{
    if (!s || !id)
        return mlops__error_set(MLOPS_EINVALID, "experiment_rename: NULL argument");
    MLOPS__TRY(mlops__track_check_name(new_name, "experiment name"));
    mlops_experiment *e = NULL;
    MLOPS__TRY(read_record(&e, NULL, s, id));
    char fresh[128];
    int same = strcmp(e->name, new_name) == 0, rc = 0;
    mlops_experiment_free(e);
    if (same)
        return 0;
    MLOPS__TRY(name_ref(fresh, new_name));
    MLOPS__TRY(claim_name(s, new_name, id));
    rename_edit r = { new_name, NULL };
    if ((rc = update_record(s, id, set_name, &r)) < 0) {
        mlops__free(r.replaced);
        (void)mlops_ref_delete(s, fresh, NULL);
        return rc;
    }
    if (r.replaced && strcmp(r.replaced, new_name) != 0)
        rc = drop_claim(s, r.replaced, id);
    mlops__free(r.replaced);
    return rc;
}

static int set_lifecycle(mlops_experiment *e, void *payload)
{
    mlops_lifecycle want = *(const mlops_lifecycle *)payload;
    if (e->lifecycle == want)
        return 1;
    e->lifecycle = want;
    return 0;
}

int mlops_experiment_delete(mlops_store *s, const char *id)
{
    mlops_lifecycle l = MLOPS_LIFECYCLE_DELETED;
    if (!s || !id)
        return mlops__error_set(MLOPS_EINVALID, "experiment_delete: NULL argument");
    return update_record(s, id, set_lifecycle, &l);
}

int mlops_experiment_restore(mlops_store *s, const char *id)
{
    mlops_lifecycle l = MLOPS_LIFECYCLE_ACTIVE;
    if (!s || !id)
        return mlops__error_set(MLOPS_EINVALID, "experiment_restore: NULL argument");
    return update_record(s, id, set_lifecycle, &l);
}

typedef struct tag_edit {
    const char *key, *value;
} tag_edit;

static int set_exp_tag(mlops_experiment *e, void *payload)
{
    tag_edit *t = payload;
    return mlops__kv_set(&e->tags, &e->ntags, t->key, t->value);
}

int mlops_experiment_set_tag(mlops_store *s, const char *id, const char *key, const char *value)
{
    if (!s || !id)
        return mlops__error_set(MLOPS_EINVALID, "experiment_set_tag: NULL argument");
    MLOPS__TRY(mlops__track_check_key(key, "tag key"));
    if (value)
        MLOPS__TRY(mlops__track_check_value(value, EXPERIMENT_TAG_VALUE_MAX, "experiment tag value"));
    tag_edit t = { key, value };
    return update_record(s, id, set_exp_tag, &t);
}

void mlops_experiment_free(mlops_experiment *e)
{
    if (!e)
        return;
    mlops__free(e->name);
    mlops__kv_free(e->tags, e->ntags);
    mlops__free(e);
}

void mlops_experiment_list_free(mlops_experiment **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        mlops_experiment_free(list[i]);
    mlops__free(list);
}
