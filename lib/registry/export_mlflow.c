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
 * Only the public registry and store calls are used (modules never call
 * each other's internals). Every file is written whole under a temp name
 * and renamed; a version's meta.yaml comes after its tags and artifact,
 * alias files after the versions they name, and the model's meta.yaml
 * last. Deleted versions are not exported (the registry keeps their
 * numbers, not their records), so an MLflow that registers a new version
 * in the export may reuse a deleted number.
 */
#include <errno.h>
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

static int version_meta(mlops__buf *b, const mlops_registry_version *v, const char *uri)
{
    MLOPS__TRY(mlops__buf_puts(b, "aliases:"));
    if (v->naliases == 0)
        MLOPS__TRY(mlops__buf_puts(b, " []"));
    for (size_t i = 0; i < v->naliases; i++) {
        MLOPS__TRY(mlops__buf_puts(b, "\n- "));
        MLOPS__TRY(mlops__export_yaml_str(b, v->aliases[i]));
    }
    MLOPS__TRY(mlops__buf_printf(b, "\ncreation_timestamp: %" PRId64 "\ncurrent_stage: ", v->created_ms));
    MLOPS__TRY(mlops__export_yaml_str(b, mlops_registry_stage_name(v->stage)));
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
        rc = version_meta(&meta, v, uri.ptr);
    if (rc == 0)
        rc = write_meta(dir.ptr, &meta);
    mlops__buf_dispose(&dir);
    mlops__buf_dispose(&path);
    mlops__buf_dispose(&uri);
    mlops__buf_dispose(&meta);
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

static int export_model(mlops_store *store, const char *root, const char *name)
{
    mlops_registry_model *m = NULL;
    mlops_registry_version **vs = NULL;
    size_t nv = 0;
    mlops__buf dir = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    int rc = mlops_registry_get_model(&m, store, name);
    if (rc == 0)
        rc = mlops_registry_list_versions(&vs, &nv, store, name);
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
    for (size_t i = 0; rc == 0 && i < nv; i++)
        rc = export_version(store, dir.ptr, vs[i]);
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
    mlops_registry_version_list_free(vs, nv);
    mlops_registry_model_free(m);
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
            rc = export_model(store, root, all[i]->name);
    }
    for (size_t i = 0; rc == 0 && names && i < nnames; i++)
        rc = names[i] ? export_model(store, root, names[i])
                      : mlops__error_set(MLOPS_EINVALID, "registry_export_mlflow: NULL name");
    mlops_registry_model_list_free(all, nall);
    mlops__buf_dispose(&models);
    free(root); /* realpath's, from malloc */
    return rc;
}
