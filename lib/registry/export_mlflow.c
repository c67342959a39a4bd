/*
 * Registered models in MLflow's file-store registry layout
 * (docs/EXPORT-FORMATS.md §2), beside the tracking export in the same
 * dest, so that `mlflow ui --backend-store-uri <dest>` shows both:
 *
 *   dest/models/<name>/meta.yaml               the registered model
 *   dest/models/<name>/tags/<key>              its tags (the value, no newline)
 *   dest/models/<name>/aliases/<alias>         the version number, digits only
 *   dest/models/<name>/version-<N>/meta.yaml   a live version
 *   dest/models/<name>/version-<N>/tags/<key>
 *   dest/models/<name>/version-<N>/artifacts/model   the artifact, restored
 *
 * meta.yaml holds every field MLflow's entity has, keys sorted as MLflow
 * writes them: null for an absent value, ms timestamps and the version as
 * integers (MLflow computes the next version as max + 1 and compares them
 * as numbers), strings quoted so that YAML cannot re-type them. An alias
 * file holds exactly the version's digits: MLflow compares its text with
 * the "version-N" directory name. A version's source and storage_location
 * are the file:// URI of its restored artifact.
 *
 * A deleted version is written as MLflow's file store keeps one: its
 * directory stays, with the record as it was when deleted, current_stage
 * 'Deleted_Internal' (which hides it) and the deletion time as
 * last_updated_timestamp. MLflow numbers a new version max + 1 over every
 * version directory, so this is also what keeps it from reusing a deleted
 * number. Its artifact is not restored (MLflow serves none for it):
 * source and storage_location are null. The records come from the
 * model's history, walked back from the current state until every
 * deleted number is found.
 *
 * Every file is written whole under a temp name and renamed; a version's
 * meta.yaml comes after its tags and artifact, alias files after the
 * versions they name, and the model's meta.yaml last.
 */
#include <errno.h>
#include <stdint.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/export_text.h"
#include "common/export_util.h"
#include "mlops/registry.h"
#include "registry_internal.h"

/* A YAML value: a quoted string, or null for NULL or "". */
static int yaml_opt(mlops__buf *b, const char *key, const char *s)
{
    MLOPS__TRY(mlops__buf_printf(b, "%s: ", key));
    if (s && *s)
        MLOPS__TRY(mlops__export_yaml_str(b, s));
    else
        MLOPS__TRY(mlops__buf_puts(b, "null"));
    return mlops__buf_puts(b, "\n");
}

/* Percent-encodes a path for a file:// URI (as pathlib's as_uri: '/' kept). */
static int put_uri_path(mlops__buf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            strchr("/-._~", *c))
            MLOPS__TRY(mlops__buf_put(b, c, 1));
        else
            MLOPS__TRY(mlops__buf_printf(b, "%%%c%c", hex[*c >> 4], hex[*c & 15]));
    }
    return 0;
}

/* Writes tags as owner/tags/<key> files (nothing when there are none). */
static int write_tags(const char *owner, const mlops_registry_tag *tags, size_t n)
{
    if (n == 0)
        return 0;
    mlops__buf dir = MLOPS__BUF_INIT, path = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&dir, "%s/tags", owner);
    if (rc == 0)
        rc = mlops__export_mkdir(dir.ptr);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = mlops__export_check_relpath(tags[i].key, 1, "tag key");
        path.len = 0;
        if (rc == 0)
            rc = mlops__buf_printf(&path, "%s/%s", dir.ptr, tags[i].key);
        if (rc == 0) {
            /* A key with '/' is a file in a subdirectory, as MLflow walks tags/. */
            char *slash = strrchr(path.ptr, '/');
            *slash = '\0';
            rc = mlops__export_mkdir(path.ptr);
            *slash = '/';
        }
        if (rc == 0)
            rc = mlops__export_write(dir.ptr, path.ptr, tags[i].value, strlen(tags[i].value));
    }
    mlops__buf_dispose(&dir);
    mlops__buf_dispose(&path);
    return rc;
}

/* Writes dir/meta.yaml: last, since it is what makes dir a model or a
 * version for MLflow. */
static int write_meta(const char *dir, const mlops__buf *meta)
{
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&path, "%s/meta.yaml", dir);
    if (rc == 0)
        rc = mlops__export_write(dir, path.ptr, meta->ptr, meta->len);
    mlops__buf_dispose(&path);
    return rc;
}

/* MLflow's internal stage of a deleted version. */
#define STAGE_DELETED "Deleted_Internal"

static int version_meta(mlops__buf *b, const mlops_registry_version *v, const char *stage, const char *uri)
{
    MLOPS__TRY(mlops__buf_puts(b, "aliases:"));
    if (v->naliases == 0)
        MLOPS__TRY(mlops__buf_puts(b, " []"));
    for (size_t i = 0; i < v->naliases; i++) {
        MLOPS__TRY(mlops__buf_puts(b, "\n- "));
        MLOPS__TRY(mlops__export_yaml_str(b, v->aliases[i]));
    }
    MLOPS__TRY(mlops__buf_printf(b, "\ncreation_timestamp: %" PRId64 "\ncurrent_stage: ", v->created_ms));
    MLOPS__TRY(mlops__export_yaml_str(b, stage));
    MLOPS__TRY(mlops__buf_puts(b, "\n"));
    MLOPS__TRY(yaml_opt(b, "description", v->description));
    MLOPS__TRY(mlops__buf_printf(b, "last_updated_timestamp: %" PRId64 "\n", v->updated_ms));
    MLOPS__TRY(yaml_opt(b, "name", v->model));
    MLOPS__TRY(yaml_opt(b, "run_id", v->run_id));
    MLOPS__TRY(yaml_opt(b, "run_link", NULL));
    MLOPS__TRY(yaml_opt(b, "source", uri));
    MLOPS__TRY(mlops__buf_puts(b, "status: READY\n"));
    MLOPS__TRY(yaml_opt(b, "status_message", NULL));
    MLOPS__TRY(yaml_opt(b, "storage_location", uri));
    MLOPS__TRY(yaml_opt(b, "user_id", v->user));
    return mlops__buf_printf(b, "version: %" PRIu64 "\n", v->version);
}

static int export_version(mlops_store *store, const char *model_dir, const mlops_registry_version *v)
{
    mlops__buf dir = MLOPS__BUF_INIT, path = MLOPS__BUF_INIT, uri = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&dir, "%s/version-%" PRIu64, model_dir, v->version);
    if (rc == 0)
        rc = mlops__buf_printf(&path, "%s/artifacts", dir.ptr);
    if (rc == 0)
        rc = mlops__export_mkdir(path.ptr);
    if (rc == 0)
        rc = mlops__buf_puts(&path, "/model");
    if (rc == 0)
        rc = mlops_object_get_file(store, &v->artifact, path.ptr);
    if (rc == 0)
        rc = mlops__buf_puts(&uri, "file://");
    if (rc == 0)
        rc = put_uri_path(&uri, path.ptr); /* absolute: dest went through realpath */
    if (rc == 0)
        rc = write_tags(dir.ptr, v->tags, v->ntags);
    if (rc == 0)
        rc = version_meta(&meta, v, mlops_registry_stage_name(v->stage), uri.ptr);
    if (rc == 0)
        rc = write_meta(dir.ptr, &meta);
    mlops__buf_dispose(&dir);
    mlops__buf_dispose(&path);
    mlops__buf_dispose(&uri);
    mlops__buf_dispose(&meta);
    return rc;
}

/* A deleted version: meta.yaml and tags, no artifact. */
static int export_deleted_version(const char *model_dir, const mlops_registry_version *v)
{
    mlops__buf dir = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&dir, "%s/version-%" PRIu64, model_dir, v->version);
    if (rc == 0)
        rc = mlops__export_mkdir(dir.ptr);
    if (rc == 0)
        rc = write_tags(dir.ptr, v->tags, v->ntags);
    if (rc == 0)
        rc = version_meta(&meta, v, STAGE_DELETED, NULL);
    if (rc == 0)
        rc = write_meta(dir.ptr, &meta);
    mlops__buf_dispose(&dir);
    mlops__buf_dispose(&meta);
    return rc;
}

/* The last record of a deleted version (ver, from an older state of the
 * model now called name), deleted at deleted_ms (0: unknown, keep the
 * record's time). */
static int export_deleted_from(mlops_store *store, const char *model_dir, const char *name, const mlops__reg_ver *ver,
                               int64_t deleted_ms)
{
    mlops_registry_version *v = NULL;
    int rc = mlops__reg_version_load(&v, store, &ver->record);
    if (rc == 0 && v->version != ver->number)
        rc = mlops__error_set(MLOPS_ECORRUPT, "model '%s': the record of deleted version %" PRIu64
                              " disagrees with the state", name, ver->number);
    if (rc == 0 && !(v->model = mlops__strdup(name)))
        rc = mlops__error_oom();
    if (rc == 0) {
        if (deleted_ms)
            v->updated_ms = deleted_ms;
        rc = export_deleted_version(model_dir, v);
    }
    mlops_registry_version_free(v);
    return rc;
}

/* Every number below cur's next one that is not live in cur was deleted
 * (numbers are never reused); walk the states back from cur, newest
 * first: a deletion gives the time, the first older state holding the
 * number its last record. Stops once every deleted number is written. */
static int export_deleted(mlops_store *store, const char *model_dir, const mlops__reg_state *cur)
{
    uint64_t top = cur->next_version;
    if (top < 1 || top - 1 <= cur->nversions)
        return 0;
    if (top > SIZE_MAX / sizeof(int64_t))
        return mlops__error_set(MLOPS_ECORRUPT, "registry state of '%s': next version %" PRIu64 " out of range",
                                cur->name, top);
    uint64_t missing = top - 1 - cur->nversions;
    /* done[k]: number k is live now or already written; when[k]: when it
     * was deleted. */
    unsigned char *done = mlops__calloc((size_t)top, 1);
    int64_t *when = mlops__calloc((size_t)top, sizeof *when);
    int rc = done && when ? 0 : mlops__error_oom();
    for (size_t i = 0; rc == 0 && i < cur->nversions; i++)
        if (cur->versions[i].number < top)
            done[cur->versions[i].number] = 1;
    mlops__reg_state older;
    memset(&older, 0, sizeof older);
    const mlops__reg_state *st = cur;
    while (rc == 0) {
        if (st->change.kind == MLOPS_REGISTRY_VERSION_DELETED && st->change.version < top &&
            !when[st->change.version])
            when[st->change.version] = st->change.time_ms;
        for (size_t i = 0; rc == 0 && i < st->nversions; i++) {
            const mlops__reg_ver *ver = &st->versions[i];
            if (ver->number >= top || done[ver->number])
                continue;
            rc = export_deleted_from(store, model_dir, cur->name, ver, when[ver->number]);
            done[ver->number] = 1;
            missing--;
        }
        if (rc < 0 || missing == 0 || !st->has_prev)
            break;
        mlops_oid prev = st->prev;
        mlops__reg_state_dispose(&older);
        rc = mlops__reg_state_load(&older, store, &prev);
        if (rc < 0)
            memset(&older, 0, sizeof older);
        st = &older;
    }
    mlops__reg_state_dispose(&older);
    mlops__free(done);
    mlops__free(when);
    return rc;
}

static int model_meta(mlops__buf *b, const mlops_registry_model *m)
{
    MLOPS__TRY(mlops__buf_puts(b, "aliases:"));
    if (m->naliases == 0)
        MLOPS__TRY(mlops__buf_puts(b, " {}"));
    for (size_t i = 0; i < m->naliases; i++) {
        MLOPS__TRY(mlops__buf_puts(b, "\n  "));
        MLOPS__TRY(mlops__export_yaml_str(b, m->aliases[i].alias));
        MLOPS__TRY(mlops__buf_printf(b, ": '%" PRIu64 "'", m->aliases[i].version));
    }
    MLOPS__TRY(mlops__buf_printf(b, "\ncreation_timestamp: %" PRId64 "\n", m->created_ms));
    MLOPS__TRY(yaml_opt(b, "description", m->description));
    MLOPS__TRY(mlops__buf_printf(b, "last_updated_timestamp: %" PRId64 "\n", m->updated_ms));
    return yaml_opt(b, "name", m->name);
}

static int write_aliases(const char *model_dir, const mlops_registry_model *m)
{
    mlops__buf dir = MLOPS__BUF_INIT, path = MLOPS__BUF_INIT;
    char digits[24];
    int rc = mlops__buf_printf(&dir, "%s/aliases", model_dir);
    if (rc == 0 && m->naliases)
        rc = mlops__export_mkdir(dir.ptr);
    for (size_t i = 0; rc == 0 && i < m->naliases; i++) {
        rc = mlops__export_check_relpath(m->aliases[i].alias, 1, "alias");
        path.len = 0;
        if (rc == 0)
            rc = mlops__buf_printf(&path, "%s/%s", dir.ptr, m->aliases[i].alias);
        int n = snprintf(digits, sizeof digits, "%" PRIu64, m->aliases[i].version);
        if (rc == 0)
            rc = mlops__export_write(dir.ptr, path.ptr, digits, (size_t)n);
    }
    mlops__buf_dispose(&dir);
    mlops__buf_dispose(&path);
    return rc;
}

/* One model from one read of its state, so that versions, deleted
 * versions, aliases and the model agree even while others write.
 * listed: the name comes from a listing, and a model deleted or renamed
 * since is skipped. */
static int export_model(mlops_store *store, const char *root, const char *name, int listed)
{
    mlops__reg_state st;
    mlops_oid id;
    mlops_registry_model *m = NULL;
    mlops__buf dir = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    int rc = mlops__reg_read(&st, &id, store, name);
    if (rc == MLOPS_ENOTFOUND && listed)
        return 0;
    if (rc < 0)
        return mlops__error_prefix(rc, "export of model '%s'", name);
    rc = mlops__reg_model_from(&m, &st, &id);
    /* The name becomes a directory: the registry's name rules already
     * exclude '/', but the export checks what it writes whatever wrote it. */
    if (rc == 0)
        rc = mlops__export_check_relpath(m->name, 0, "model name");
    if (rc == 0 && strchr(m->name, '/'))
        rc = mlops__error_set(MLOPS_EINVALID, "export: model name '%s' contains '/'", m->name);
    if (rc == 0)
        rc = mlops__buf_printf(&dir, "%s/models/%s", root, m->name);
    if (rc == 0)
        rc = mlops__export_mkdir(dir.ptr);
    for (size_t i = 0; rc == 0 && i < st.nversions; i++) {
        mlops_registry_version *v = NULL;
        rc = mlops__reg_version_get(&v, store, &st, st.versions[i].number);
        if (rc == 0)
            rc = export_version(store, dir.ptr, v);
        mlops_registry_version_free(v);
    }
    if (rc == 0)
        rc = export_deleted(store, dir.ptr, &st);
    if (rc == 0)
        rc = write_tags(dir.ptr, m->tags, m->ntags);
    if (rc == 0)
        rc = write_aliases(dir.ptr, m);
    if (rc == 0)
        rc = model_meta(&meta, m);
    if (rc == 0)
        rc = write_meta(dir.ptr, &meta);
    mlops__buf_dispose(&dir);
    mlops__buf_dispose(&meta);
    mlops_registry_model_free(m);
    mlops__reg_state_dispose(&st);
    return rc < 0 ? mlops__error_prefix(rc, "export of model '%s'", name) : 0;
}

int mlops_registry_export_mlflow(mlops_store *store, const char *dest, const char *const *names, size_t nnames)
{
    if (!store || !dest || (nnames && !names))
        return mlops__error_set(MLOPS_EINVALID, "registry_export_mlflow: NULL argument");
    MLOPS__TRY(mlops__export_mkdir(dest));
    char *root = realpath(dest, NULL);
    if (!root)
        return mlops__error_errno(errno, "export: cannot resolve '%s'", dest);
    mlops__buf models = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&models, "%s/models", root);
    if (rc == 0)
        rc = mlops__export_mkdir(models.ptr);
    mlops_registry_model **all = NULL;
    size_t nall = 0;
    if (rc == 0 && !names) {
        rc = mlops_registry_list_models(&all, &nall, store, NULL);
        for (size_t i = 0; rc == 0 && i < nall; i++)
            rc = export_model(store, root, all[i]->name, 1);
    }
    for (size_t i = 0; rc == 0 && names && i < nnames; i++)
        rc = names[i] ? export_model(store, root, names[i], 0)
                      : mlops__error_set(MLOPS_EINVALID, "registry_export_mlflow: NULL name");
    mlops_registry_model_list_free(all, nall);
    mlops__buf_dispose(&models);
    free(root); /* realpath's, from malloc */
    return rc;
}
