/*
 * Experiments and runs in MLflow's file-store layout (docs/EXPORT-FORMATS.md
 * §1), so that `mlflow ui --backend-store-uri <dest>` shows them:
 *
 *   dest/0/meta.yaml                       the "Default" experiment, always
 *   dest/<exp>/meta.yaml, tags/<key>       exported experiments
 *   dest/.trash/<exp>/...                  deleted ones, where MLflow keeps them
 *   dest/<exp>/<run>/meta.yaml             run info (integer status, ms times)
 *                    metrics/<key>         "<timestamp> <value> <step>\n" per point
 *                    params/<key>, tags/<key>   the value, no newline
 *                    artifacts/<name>      the artifact objects restored
 *
 * MLflow's reader fails a whole request on one malformed file (an empty
 * meta.yaml, an empty metric file, a bad line), so every file is written
 * complete under a temp name and renamed, a run's meta.yaml (what makes the
 * directory a run) comes after everything else of the run, and an
 * experiment's meta.yaml after its runs. Re-exporting into the same dest
 * replaces the files written before; files of keys that vanished since
 * stay (the store never forgets keys, only tags can be removed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/export_text.h"
#include "common/export_util.h"
#include "track_internal.h"

/* mlflow/entities/source_type.py: LOCAL */
#define MLFLOW_SOURCE_LOCAL 4

typedef struct export_ctx {
    mlops_store *store;
    char *root;              /* absolute path of dest */
    mlops__buf root_uri;     /* file:// URI of root, as pathlib's as_uri() */
    mlops_experiment **exps; /* the experiments exported */
    size_t nexps;
    int listed;              /* exps came from mlops_experiment_list */
} export_ctx;

/* MLflow's id rules (VAL _EXPERIMENT_ID_REGEX / _RUN_ID_REGEX):
 * [A-Za-z0-9][A-Za-z0-9_-]{0,max-1}. They also make ids safe as a path
 * component. */
static int check_id(const char *id, size_t max, const char *what)
{
    size_t n = strlen(id);
    int ok = n > 0 && n <= max && id[0] != '_' && id[0] != '-';
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    return ok ? 0 : mlops__error_set(MLOPS_ECORRUPT, "export_mlflow: %s '%s' is not a valid MLflow id", what, id);
}

/* Percent-encodes path like Python's urllib quote(path, safe="/"), which
 * is what MLflow's path_to_local_file_uri produces. */
static int put_uri_path(mlops__buf *b, const char *path)
{
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        int safe = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                   strchr("_.-~/", *c) != NULL;
        MLOPS__TRY(safe ? mlops__buf_put(b, c, 1) : mlops__buf_printf(b, "%%%02X", *c));
    }
    return 0;
}

/* Writes data to base/rel, creating the directories rel names. The temp
 * file sits in base (a run or experiment directory), where MLflow's reader
 * never looks for keys: in metrics/ it would pass for a metric. */
static int write_at(const char *base, const char *rel, const void *data, size_t len)
{
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&path, "%s/%s", base, rel);
    if (rc == 0) {
        char *slash = strrchr(path.ptr, '/');
        *slash = '\0';
        rc = mlops__export_mkdir(path.ptr);
        *slash = '/';
    }
    if (rc == 0)
        rc = mlops__export_write(base, path.ptr, data, len);
    mlops__buf_dispose(&path);
    return rc;
}

/* One file per key under dir/sub, holding the value without a newline
 * (MLflow reads the whole file as the value). */
static int write_kv(const char *dir, const char *sub, const char *key, const char *value)
{
    MLOPS__TRY(mlops__export_check_relpath(key, 1, sub));
    mlops__buf rel = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&rel, "%s/%s", sub, key);
    if (rc == 0)
        rc = write_at(dir, rel.ptr, value ? value : "", value ? strlen(value) : 0);
    mlops__buf_dispose(&rel);
    return rc;
}

static const char *find_kv(const mlops_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

/* The run's tags plus MLflow's system tags derived from the run info:
 * mlflow.runName must agree with run_name (MLflow insists), mlflow.user
 * and mlflow.parentRunId (what nests a run in the UI) unless set. */
static int write_run_tags(const char *run_dir, const mlops_run_info *info)
{
    const char *name = info->run_name && *info->run_name ? info->run_name : NULL;
    for (size_t i = 0; i < info->ntags; i++) {
        if (name && strcmp(info->tags[i].key, "mlflow.runName") == 0)
            continue;
        MLOPS__TRY(write_kv(run_dir, "tags", info->tags[i].key, info->tags[i].value));
    }
    if (name)
        MLOPS__TRY(write_kv(run_dir, "tags", "mlflow.runName", name));
    if (info->user && *info->user && !find_kv(info->tags, info->ntags, "mlflow.user"))
        MLOPS__TRY(write_kv(run_dir, "tags", "mlflow.user", info->user));
    if (info->parent_run_id[0] && !find_kv(info->tags, info->ntags, "mlflow.parentRunId"))
        MLOPS__TRY(write_kv(run_dir, "tags", "mlflow.parentRunId", info->parent_run_id));
    return 0;
}

/* metrics/<key>: every durable point, streamed (a key may hold millions). */
static int write_metric(export_ctx *ctx, const char *run_dir, const char *run_id, const char *key)
{
    MLOPS__TRY(mlops__export_check_relpath(key, 1, "metric key"));
    mlops_metric_history h;
    memset(&h, 0, sizeof h);
    mlops__buf path = MLOPS__BUF_INIT;
    mlops__export_file f;
    int opened = 0;
    int rc = mlops_metric_history_get(&h, ctx->store, run_id, key, NULL);
    if (rc < 0 || h.n == 0) /* an empty metric file breaks MLflow's reader */
        goto done;
    rc = mlops__buf_printf(&path, "%s/metrics/%s", run_dir, key);
    if (rc < 0)
        goto done;
    char *slash = strrchr(path.ptr, '/');
    *slash = '\0';
    rc = mlops__export_mkdir(path.ptr);
    *slash = '/';
    if (rc == 0)
        rc = mlops__export_file_open(&f, run_dir); /* see write_at */
    opened = rc == 0;
    for (size_t i = 0; rc == 0 && i < h.n; i++) {
        char value[MLOPS__PYFLOAT_MAX];
        mlops__export_pyfloat(value, h.values[i]);
        rc = mlops__buf_printf(&f.buf, "%" PRId64 " %s %" PRId64 "\n", h.timestamps[i], value, h.steps[i]);
        if (rc == 0)
            rc = mlops__export_file_maybe_drain(&f);
    }
    if (opened)
        rc = rc == 0 ? mlops__export_file_publish(&f, path.ptr) : (mlops__export_file_abort(&f), rc);
done:
    mlops__buf_dispose(&path);
    mlops_metric_history_free(&h);
    return rc;
}

static int write_artifacts(export_ctx *ctx, const char *run_dir, const mlops_run_info *info)
{
    mlops__buf path = MLOPS__BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < info->nartifacts; i++) {
        const mlops_artifact *a = &info->artifacts[i];
        rc = mlops__export_check_relpath(a->name, 0, "artifact name");
        mlops__buf_clear(&path);
        if (rc == 0)
            rc = mlops__buf_printf(&path, "%s/artifacts/%s", run_dir, a->name);
        if (rc < 0)
            break;
        char *slash = strrchr(path.ptr, '/');
        *slash = '\0';
        rc = mlops__export_mkdir(path.ptr);
        *slash = '/';
        if (rc == 0)
            rc = mlops_object_get_file(ctx->store, &a->id, path.ptr);
    }
    mlops__buf_dispose(&path);
    return rc;
}

static int put_time_or_null(mlops__buf *b, const char *field, int64_t ms)
{
    if (ms <= 0)
        return mlops__buf_printf(b, "%s: null\n", field);
    return mlops__buf_printf(b, "%s: %" PRId64 "\n", field, ms);
}

/* meta.yaml as FileStore._make_persisted_run_info_dict writes it: keys in
 * sorted order, legacy fields with their constant values. deleted_time is
 * null even for deleted runs: the store does not record when, and the
 * reader accepts null. */
static int run_meta(mlops__buf *b, export_ctx *ctx, const mlops_run_info *info, const mlops_experiment *exp)
{
    const char *user = info->user ? info->user : "";
    const char *name = info->run_name ? info->run_name : "";
    MLOPS__TRY(mlops__buf_printf(b, "artifact_uri: "));
    mlops__buf uri = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&uri, "%s/%s/%s/artifacts", ctx->root_uri.ptr, exp->id, info->run_id);
    if (rc == 0)
        rc = mlops__export_yaml_str(b, uri.ptr);
    mlops__buf_dispose(&uri);
    MLOPS__TRY(rc);
    MLOPS__TRY(mlops__buf_puts(b, "\ndeleted_time: null\n"));
    MLOPS__TRY(put_time_or_null(b, "end_time", info->end_time));
    MLOPS__TRY(mlops__buf_printf(b, "entry_point_name: ''\nexperiment_id: '%s'\nlifecycle_stage: %s\n", exp->id,
                                 info->lifecycle == MLOPS_LIFECYCLE_DELETED ? "deleted" : "active"));
    MLOPS__TRY(mlops__buf_printf(b, "run_id: '%s'\nrun_name: ", info->run_id));
    MLOPS__TRY(mlops__export_yaml_str(b, name));
    MLOPS__TRY(mlops__buf_printf(b, "\nrun_uuid: '%s'\nsource_name: ''\nsource_type: %d\nsource_version: ''\n",
                                 info->run_id, MLFLOW_SOURCE_LOCAL));
    MLOPS__TRY(mlops__buf_printf(b, "start_time: %" PRId64 "\nstatus: %d\ntags: []\nuser_id: ", info->start_time,
                                 info->status));
    MLOPS__TRY(mlops__export_yaml_str(b, user));
    return mlops__buf_puts(b, "\n");
}

/* Where an experiment lives: deleted ones sit in .trash, as MLflow keeps them. */
static int exp_dir(mlops__buf *b, const export_ctx *ctx, const mlops_experiment *exp)
{
    mlops__buf_clear(b);
    return mlops__buf_printf(b, "%s/%s%s", ctx->root, exp->lifecycle == MLOPS_LIFECYCLE_DELETED ? ".trash/" : "",
                             exp->id);
}

static int export_run(export_ctx *ctx, const mlops_run_info *info, const mlops_experiment *exp)
{
    MLOPS__TRY(check_id(info->run_id, 256, "run id"));
    if (info->status < MLOPS_RUN_RUNNING || info->status > MLOPS_RUN_KILLED)
        return mlops__error_set(MLOPS_ECORRUPT, "export_mlflow: run %s has unknown status %d", info->run_id,
                                info->status);
    mlops__buf dir = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    char **keys = NULL;
    size_t nkeys = 0;
    int rc = exp_dir(&dir, ctx, exp);
    if (rc == 0)
        rc = mlops__buf_printf(&dir, "/%s", info->run_id);
    /* the directories MLflow's create_run makes */
    static const char *const subdirs[] = {"metrics", "params", "tags", "artifacts"};
    for (size_t i = 0; rc == 0 && i < sizeof subdirs / sizeof *subdirs; i++) {
        mlops__buf sub = MLOPS__BUF_INIT;
        rc = mlops__buf_printf(&sub, "%s/%s", dir.ptr, subdirs[i]);
        if (rc == 0)
            rc = mlops__export_mkdir(sub.ptr);
        mlops__buf_dispose(&sub);
    }
    for (size_t i = 0; rc == 0 && i < info->nparams; i++)
        rc = write_kv(dir.ptr, "params", info->params[i].key, info->params[i].value);
    if (rc == 0)
        rc = write_run_tags(dir.ptr, info);
    if (rc == 0)
        rc = mlops_metric_keys(&keys, &nkeys, ctx->store, info->run_id);
    for (size_t i = 0; rc == 0 && i < nkeys; i++)
        rc = write_metric(ctx, dir.ptr, info->run_id, keys[i]);
    if (rc == 0)
        rc = write_artifacts(ctx, dir.ptr, info);
    if (rc == 0)
        rc = run_meta(&meta, ctx, info, exp);
    if (rc == 0)
        rc = write_at(dir.ptr, "meta.yaml", meta.ptr, meta.len);
    mlops_string_list_free(keys, nkeys);
    mlops__buf_dispose(&meta);
    mlops__buf_dispose(&dir);
    return rc;
}

/* Experiment meta.yaml: dict(Experiment) minus tags, keys sorted. */
static int exp_meta(mlops__buf *b, const export_ctx *ctx, const char *id, const char *name, int deleted,
                    int64_t created, int64_t updated)
{
    mlops__buf uri = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&uri, "%s/%s", ctx->root_uri.ptr, id);
    if (rc == 0)
        rc = mlops__buf_puts(b, "artifact_location: ");
    if (rc == 0)
        rc = mlops__export_yaml_str(b, uri.ptr);
    mlops__buf_dispose(&uri);
    MLOPS__TRY(rc);
    MLOPS__TRY(mlops__buf_printf(b, "\ncreation_time: %" PRId64 "\nexperiment_id: '%s'\nlast_update_time: %" PRId64
                                    "\nlifecycle_stage: %s\nname: ",
                                 created, id, updated, deleted ? "deleted" : "active"));
    MLOPS__TRY(mlops__export_yaml_str(b, name));
    return mlops__buf_puts(b, "\n");
}

static int write_experiment_tags(export_ctx *ctx, const mlops_experiment *exp)
{
    mlops__buf dir = MLOPS__BUF_INIT;
    int rc = exp_dir(&dir, ctx, exp);
    if (rc == 0)
        rc = mlops__export_mkdir(dir.ptr);
    for (size_t i = 0; rc == 0 && i < exp->ntags; i++)
        rc = write_kv(dir.ptr, "tags", exp->tags[i].key, exp->tags[i].value);
    mlops__buf_dispose(&dir);
    return rc;
}

static int write_experiment_meta(export_ctx *ctx, const mlops_experiment *exp)
{
    mlops__buf dir = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    int rc = exp_dir(&dir, ctx, exp);
    if (rc == 0)
        rc = exp_meta(&meta, ctx, exp->id, exp->name ? exp->name : "", exp->lifecycle == MLOPS_LIFECYCLE_DELETED,
                      exp->creation_time, exp->last_update_time);
    if (rc == 0)
        rc = write_at(dir.ptr, "meta.yaml", meta.ptr, meta.len);
    mlops__buf_dispose(&meta);
    mlops__buf_dispose(&dir);
    return rc;
}

/* MLflow's clients fall back to experiment "0" ("Default"); without it
 * `mlflow ui` starts on an error. One already there (a real MLflow tree,
 * or an earlier export) is kept with its creation time. */
static int write_default(export_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nexps; i++)
        if (strcmp(ctx->exps[i]->id, "0") == 0)
            return 0;
    mlops__buf dir = MLOPS__BUF_INIT, meta = MLOPS__BUF_INIT;
    struct stat st;
    int64_t now = mlops__time_ms();
    int rc = mlops__buf_printf(&dir, "%s/0/meta.yaml", ctx->root);
    if (rc == 0 && stat(dir.ptr, &st) == 0)
        goto done;
    if (rc == 0) {
        dir.len -= strlen("/meta.yaml");
        dir.ptr[dir.len] = '\0';
        rc = exp_meta(&meta, ctx, "0", "Default", 0, now, now);
    }
    if (rc == 0)
        rc = write_at(dir.ptr, "meta.yaml", meta.ptr, meta.len);
done:
    mlops__buf_dispose(&meta);
    mlops__buf_dispose(&dir);
    return rc;
}

static const mlops_experiment *find_exp(const export_ctx *ctx, const char *id)
{
    for (size_t i = 0; i < ctx->nexps; i++)
        if (strcmp(ctx->exps[i]->id, id) == 0)
            return ctx->exps[i];
    return NULL;
}

/* The experiments asked for (all, deleted included, for none), each once. */
static int select_experiments(export_ctx *ctx, const char *const *ids, size_t n)
{
    if (n == 0) {
        ctx->listed = 1;
        return mlops_experiment_list(&ctx->exps, &ctx->nexps, ctx->store, 1);
    }
    ctx->exps = mlops__calloc(n, sizeof *ctx->exps);
    if (!ctx->exps)
        return mlops__error_oom();
    for (size_t i = 0; i < n; i++) {
        if (!ids[i])
            return mlops__error_set(MLOPS_EINVALID, "export_mlflow: experiment id %zu is NULL", i);
        mlops_experiment *e = NULL;
        MLOPS__TRY(mlops_experiment_get(&e, ctx->store, ids[i]));
        if (find_exp(ctx, e->id))
            mlops_experiment_free(e);
        else
            ctx->exps[ctx->nexps++] = e;
    }
    return 0;
}

/* Makes dest and records its absolute path and file:// URI. */
static int open_root(export_ctx *ctx, const char *dest)
{
    MLOPS__TRY(mlops__export_mkdir(dest));
    char *abs = realpath(dest, NULL); /* libc's malloc: copied below */
    if (!abs)
        return mlops__error_errno(errno, "export_mlflow: cannot resolve '%s'", dest);
    ctx->root = mlops__strdup(abs);
    free(abs);
    if (!ctx->root)
        return mlops__error_oom();
    MLOPS__TRY(mlops__buf_puts(&ctx->root_uri, "file://"));
    MLOPS__TRY(put_uri_path(&ctx->root_uri, ctx->root));
    /* FileStore creates .trash when it opens a root; so do we */
    mlops__buf trash = MLOPS__BUF_INIT;
    int rc = mlops__buf_printf(&trash, "%s/.trash", ctx->root);
    if (rc == 0)
        rc = mlops__export_mkdir(trash.ptr);
    mlops__buf_dispose(&trash);
    return rc;
}

static int export_runs(export_ctx *ctx)
{
    char **ids = NULL;
    size_t nids = 0;
    int rc = mlops__run_ids(&ids, &nids, ctx->store);
    for (size_t i = 0; rc == 0 && i < nids; i++) {
        mlops_run_info *info = NULL;
        rc = mlops_run_get(&info, ctx->store, ids[i]);
        if (rc < 0)
            break;
        const mlops_experiment *exp = find_exp(ctx, info->experiment_id);
        if (exp)
            rc = export_run(ctx, info, exp);
        mlops_run_info_free(info);
    }
    mlops_string_list_free(ids, nids);
    return rc;
}

int mlops_export_mlflow(mlops_store *store, const char *dest, const char *const *experiment_ids,
                        size_t nexperiments)
{
    if (!store || !dest || !*dest || (nexperiments && !experiment_ids))
        return mlops__error_set(MLOPS_EINVALID, "export_mlflow: store and destination are required");
    export_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.store = store;
    int rc = select_experiments(&ctx, experiment_ids, nexperiments);
    for (size_t i = 0; rc == 0 && i < ctx.nexps; i++)
        rc = check_id(ctx.exps[i]->id, 64, "experiment id");
    if (rc == 0)
        rc = open_root(&ctx, dest);
    for (size_t i = 0; rc == 0 && i < ctx.nexps; i++)
        rc = write_experiment_tags(&ctx, ctx.exps[i]);
    if (rc == 0)
        rc = export_runs(&ctx);
    for (size_t i = 0; rc == 0 && i < ctx.nexps; i++)
        rc = write_experiment_meta(&ctx, ctx.exps[i]);
    if (rc == 0)
        rc = write_default(&ctx);
    if (ctx.listed) {
        mlops_experiment_list_free(ctx.exps, ctx.nexps);
    } else {
        for (size_t i = 0; i < ctx.nexps; i++)
            mlops_experiment_free(ctx.exps[i]);
        mlops__free(ctx.exps);
    }
    mlops__free(ctx.root);
    mlops__buf_dispose(&ctx.root_uri);
    return rc;
}
