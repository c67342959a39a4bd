/* Runs: start, resume, params, tags, end, soft delete; the run handle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/user.h"
#include "common/options.h"
#include "common/fs.h"
#include "record.h"
#include "track_internal.h"

#define DEFAULT_BUFFER_POINTS 65536

static const char *const status_names[] = { NULL, "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED" };

const char *mlops_run_status_name(int status)
{
    return status >= MLOPS_RUN_RUNNING && status <= MLOPS_RUN_KILLED ? status_names[status] : NULL;
}

int mlops_run_status_parse(int *out, const char *name)
{
    if (!out || !name)
        return mlops__error_set(MLOPS_EINVALID, "run_status_parse: NULL argument");
    for (int s = MLOPS_RUN_RUNNING; s <= MLOPS_RUN_KILLED; s++)
        if (strcasecmp(name, status_names[s]) == 0) {
            *out = s;
            return 0;
        }
    return mlops__error_set(MLOPS_EINVALID, "unknown run status '%.40s'", name);
}

int mlops_run_options_init(mlops_run_options *opts, unsigned int version)
{
    static const mlops_run_options defaults = MLOPS_RUN_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version, MLOPS_RUN_OPTIONS_VERSION, "run");
}

static int new_handle(mlops_run **out, mlops_store *s, const mlops_run_info *info, size_t buffer_points)
{
    mlops_run *r = mlops__calloc(1, sizeof *r);
    if (!r)
        return mlops__error_oom();
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        mlops__free(r);
        return mlops__error_set(MLOPS_ERROR, "cannot create a mutex");
    }
    r->store = s;
    memcpy(r->run_id, info->run_id, sizeof r->run_id);
    memcpy(r->experiment_id, info->experiment_id, sizeof r->experiment_id);
    snprintf(r->log_name, sizeof r->log_name, "track/metrics/%s", info->run_id);
    r->buffer_points = buffer_points ? buffer_points : DEFAULT_BUFFER_POINTS;
    r->ended = info->status != MLOPS_RUN_RUNNING;
    *out = r;
    return 0;
}

static int check_tags(const mlops_kv *tags, size_t n)
{
    if (n && !tags)
        return mlops__error_set(MLOPS_EINVALID, "run options: NULL tags");
    for (size_t i = 0; i < n; i++) {
        MLOPS__TRY(mlops__track_check_key(tags[i].key, "tag key"));
        MLOPS__TRY(mlops__track_check_value(tags[i].value, MLOPS_TAG_VALUE_MAX, "tag value"));
    }
    return 0;
}

/* Fills a new RUNNING record from the options. */
static int new_info(mlops_run_info **out, const char *experiment_id, const mlops_run_options *o)
{
    mlops_run_info *info = mlops__calloc(1, sizeof *info);
    if (!info)
        return mlops__error_oom();
    int rc = mlops__fs_random_hex(info->run_id, 16) < 0 ? mlops__error_set(MLOPS_EIO, "no randomness for a run id") : 0;
    snprintf(info->experiment_id, sizeof info->experiment_id, "%s", experiment_id);
    char generated[16];
    snprintf(generated, sizeof generated, "run-%.8s", info->run_id);
    /* MLflow records "unknown" when it finds no user name. */
    if (rc == 0 && (!(info->run_name = mlops__strdup(o->run_name ? o->run_name : generated)) ||
                    !(info->user = mlops__default_user(4096))))
        rc = mlops__error_oom();
    if (rc == 0 && !*info->user) {
        mlops__free(info->user);
        if (!(info->user = mlops__strdup("unknown")))
            rc = mlops__error_oom();
    }
    if (o->parent_run_id && *o->parent_run_id)
        snprintf(info->parent_run_id, sizeof info->parent_run_id, "%s", o->parent_run_id);
    info->status = MLOPS_RUN_RUNNING;
    info->start_time = o->start_time > 0 ? o->start_time : mlops__track_now_ms();
    for (size_t i = 0; rc == 0 && i < o->ntags; i++)
        rc = mlops__kv_set(&info->tags, &info->ntags, o->tags[i].key, o->tags[i].value);
    if (rc < 0) {
        mlops_run_info_free(info);
        return rc;
    }
    *out = info;
    return 0;
}

int mlops_run_start(mlops_run **out, mlops_store *s, const char *experiment_id, const mlops_run_options *opts)
{
    mlops_run_options o;
    if (!out || !s || !experiment_id)
        return mlops__error_set(MLOPS_EINVALID, "run_start: NULL argument");
    *out = NULL;
    MLOPS__TRY(mlops_run_options_init(&o, MLOPS_RUN_OPTIONS_VERSION));
    if (opts)
        MLOPS__TRY(mlops__options_version(opts->version, MLOPS_RUN_OPTIONS_VERSION, "run"));
    if (opts)
        o = *opts;
    if (o.run_name)
        MLOPS__TRY(mlops__track_check_name(o.run_name, "run name"));
    if (o.start_time < 0)
        return mlops__error_set(MLOPS_EINVALID, "run start time is negative");
    MLOPS__TRY(check_tags(o.tags, o.ntags));
    mlops_experiment *e = NULL;
    MLOPS__TRY(mlops_experiment_get(&e, s, experiment_id));
    int rc = e->lifecycle == MLOPS_LIFECYCLE_DELETED
                 ? mlops__error_set(MLOPS_EINVALID, "experiment %s is deleted", e->id)
                 : 0;
    if (rc == 0 && o.parent_run_id && *o.parent_run_id) {
        mlops_run_info *parent = NULL;
        rc = mlops__run_record_read(&parent, NULL, s, o.parent_run_id);
        mlops_run_info_free(parent);
    }
    mlops_run_info *info = NULL;
    if (rc == 0)
        rc = new_info(&info, e->id, &o);
    mlops_experiment_free(e);
    if (rc == 0)
        rc = mlops__run_record_write(s, info, NULL);
    if (rc == 0)
        rc = new_handle(out, s, info, o.buffer_points);
    mlops_run_info_free(info);
    return rc;
}

int mlops_run_resume(mlops_run **out, mlops_store *s, const char *run_id)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "run_resume: NULL argument");
    *out = NULL;
    mlops_run_info *info = NULL;
    MLOPS__TRY(mlops__run_record_read(&info, NULL, s, run_id));
    int rc = new_handle(out, s, info, 0);
    mlops_run_info_free(info);
    return rc;
}

const char *mlops_run_id(const mlops_run *run)
{
    return run ? run->run_id : NULL;
}

static int check_open(mlops_run *run)
{
    if (!run)
        return mlops__error_set(MLOPS_EINVALID, "run handle is NULL");
    pthread_mutex_lock(&run->lock);
    int ended = run->ended;
    pthread_mutex_unlock(&run->lock);
    return ended ? mlops__error_set(MLOPS_EINVALID, "run %s has ended: no more logging", run->run_id) : 0;
}

typedef struct kv_edit {
    const char *key, *value;
} kv_edit;

/* The handle's ended flag only knows about ends made through it; the
 * record knows about every process's. */
static int check_running(const mlops_run_info *info)
{
    if (info->status != MLOPS_RUN_RUNNING)
        return mlops__error_set(MLOPS_EINVALID, "run %s has ended (%s): no more logging", info->run_id,
                                mlops_run_status_name(info->status));
    return 0;
}

static int set_param(mlops_run_info *info, void *payload)
{
    kv_edit *e = payload;
    MLOPS__TRY(check_running(info));
    mlops_kv *cur = mlops__kv_find(info->params, info->nparams, e->key);
    if (cur && strcmp(cur->value, e->value) == 0)
        return 1; /* logged before with the same value */
    if (cur)
        return mlops__error_set(MLOPS_ECONFLICT, "param '%.100s' is already '%.60s'; cannot change it to '%.60s'",
                                e->key, cur->value, e->value);
    return mlops__kv_set(&info->params, &info->nparams, e->key, e->value);
}

int mlops_run_log_param(mlops_run *run, const char *key, const char *value)
{
    MLOPS__TRY(check_open(run));
    MLOPS__TRY(mlops__track_check_key(key, "param key"));
    MLOPS__TRY(mlops__track_check_value(value, MLOPS_PARAM_VALUE_MAX, "param value"));
    kv_edit e = { key, value };
    return mlops__run_record_update(run->store, run->run_id, set_param, &e);
}

static int set_tag(mlops_run_info *info, void *payload)
{
    kv_edit *e = payload;
    MLOPS__TRY(check_running(info));
    mlops_kv *cur = mlops__kv_find(info->tags, info->ntags, e->key);
    if ((!cur && !e->value) || (cur && e->value && strcmp(cur->value, e->value) == 0))
        return 1;
    return mlops__kv_set(&info->tags, &info->ntags, e->key, e->value);
}

int mlops_run_set_tag(mlops_run *run, const char *key, const char *value)
{
    MLOPS__TRY(check_open(run));
    MLOPS__TRY(mlops__track_check_key(key, "tag key"));
    if (value)
        MLOPS__TRY(mlops__track_check_value(value, MLOPS_TAG_VALUE_MAX, "tag value"));
    kv_edit e = { key, value };
    return mlops__run_record_update(run->store, run->run_id, set_tag, &e);
}

typedef struct end_edit {
    int status;
    int64_t end_time;
} end_edit;

static int set_end(mlops_run_info *info, void *payload)
{
    end_edit *e = payload;
    MLOPS__TRY(check_running(info)); /* ended meanwhile by another handle */
    info->status = e->status;
    info->end_time = e->end_time;
    return 0;
}

int mlops_run_end(mlops_run *run, int status)
{
    if (!run)
        return mlops__error_set(MLOPS_EINVALID, "run handle is NULL");
    if (status != MLOPS_RUN_FINISHED && status != MLOPS_RUN_FAILED && status != MLOPS_RUN_KILLED)
        return mlops__error_set(MLOPS_EINVALID, "a run ends FINISHED, FAILED or KILLED, not %d", status);
    /* Close the handle to logging first, so no point can slip in between
     * the final flush and the status change (flush still appends what an
     * ended handle holds). A failure other than "already ended elsewhere"
     * reopens it: the caller may retry, and mlops_run_free flushes what is
     * left. */
    pthread_mutex_lock(&run->lock);
    int was_ended = run->ended;
    run->ended = 1;
    pthread_mutex_unlock(&run->lock);
    if (was_ended)
        return mlops__error_set(MLOPS_EINVALID, "run %s has ended: it cannot end again", run->run_id);
    int rc = mlops_run_flush(run);
    int ended_elsewhere = 0;
    if (rc == 0) {
        end_edit e = { status, mlops__track_now_ms() };
        rc = mlops__run_record_update(run->store, run->run_id, set_end, &e);
        ended_elsewhere = rc == MLOPS_EINVALID; /* another handle ended it */
    }
    if (rc < 0 && !ended_elsewhere) { /* a failed flush always reopens */
        pthread_mutex_lock(&run->lock);
        run->ended = 0;
        pthread_mutex_unlock(&run->lock);
    }
    return rc;
}

void mlops_run_free(mlops_run *run)
{
    if (!run)
        return;
    /* Points still buffered (even on an ended handle whose final flush
     * failed) get one more try; errors are lost, as documented. */
    if (!run->ended || run->buffered || run->latest_dirty)
        (void)mlops_run_flush(run);
    mlops__run_buffers_dispose(run);
    pthread_mutex_destroy(&run->lock);
    mlops__free(run);
}

int mlops_run_get(mlops_run_info **out, mlops_store *s, const char *run_id)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "run_get: NULL argument");
    *out = NULL;
    return mlops__run_record_read(out, NULL, s, run_id);
}

void mlops_run_info_free(mlops_run_info *info)
{
    if (!info)
        return;
    mlops__free(info->run_name);
    mlops__free(info->user);
    mlops__kv_free(info->params, info->nparams);
    mlops__kv_free(info->tags, info->ntags);
    for (size_t i = 0; i < info->nmetrics; i++)
        mlops__free(info->metrics[i].key);
    mlops__free(info->metrics);
    for (size_t i = 0; i < info->nartifacts; i++)
        mlops__free(info->artifacts[i].name);
    mlops__free(info->artifacts);
    mlops__free(info);
}

static int set_run_lifecycle(mlops_run_info *info, void *payload)
{
    mlops_lifecycle want = *(const mlops_lifecycle *)payload;
    if (info->lifecycle == want)
        return 1;
    info->lifecycle = want;
    return 0;
}

int mlops_run_delete(mlops_store *s, const char *run_id)
{
    mlops_lifecycle l = MLOPS_LIFECYCLE_DELETED;
    if (!s)
        return mlops__error_set(MLOPS_EINVALID, "run_delete: NULL argument");
    return mlops__run_record_update(s, run_id, set_run_lifecycle, &l);
}

int mlops_run_restore(mlops_store *s, const char *run_id)
{
    mlops_lifecycle l = MLOPS_LIFECYCLE_ACTIVE;
    if (!s)
        return mlops__error_set(MLOPS_EINVALID, "run_restore: NULL argument");
    return mlops__run_record_update(s, run_id, set_run_lifecycle, &l);
}
