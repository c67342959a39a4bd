/*
 * libmlops — experiment tracking: experiments, runs, params, metrics, tags,
 * artifacts, search, export to MLflow's file layout and TensorBoard.
 *
 * Caveats (read first):
 *  - Everything lives in an mlops_store (see store.h): experiment and run
 *    records are structured objects behind refs, metric points go to one
 *    log per run. Several processes (and hosts) may log into one run.
 *  - Logging is buffered in the run handle. mlops_run_flush() is a
 *    durability point: every point logged before it returned survives a
 *    crash. Points logged after the last flush may be lost by a crash.
 *  - A run handle may be used from several threads at once; so may the
 *    store. Infos and lists returned by the library are released with
 *    their _free function.
 *  - Names and keys follow MLflow: keys at most 250 bytes of
 *    [A-Za-z0-9_.\- /:], no ".." component, no leading '/'; param values
 *    at most 6000 bytes, tag values at most 8000. Metric values may be
 *    NaN, +Inf, -Inf or -0.0 and read back bit-exactly.
 */
#ifndef MLOPS_TRACK_H
#define MLOPS_TRACK_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MLOPS_KEY_MAX 250
#define MLOPS_PARAM_VALUE_MAX 6000
#define MLOPS_TAG_VALUE_MAX 8000
#define MLOPS_NAME_MAX 250
#define MLOPS_RUN_ID_HEXSZ 32
#define MLOPS_EXPERIMENT_ID_MAX 32

/* MLflow's run statuses, with MLflow's integer codes. */
typedef enum mlops_run_status {
    MLOPS_RUN_RUNNING = 1,
    MLOPS_RUN_SCHEDULED = 2,
    MLOPS_RUN_FINISHED = 3,
    MLOPS_RUN_FAILED = 4,
    MLOPS_RUN_KILLED = 5
} mlops_run_status;

/* "RUNNING", "FINISHED", …; NULL for an unknown value. */
MLOPS_API const char *mlops_run_status_name(int status);
/* Parses a status name (case-insensitive). MLOPS_EINVALID if unknown. */
MLOPS_API int mlops_run_status_parse(int *out, const char *name);

/* MLflow's lifecycle_stage. */
typedef enum mlops_lifecycle {
    MLOPS_LIFECYCLE_ACTIVE = 0,
    MLOPS_LIFECYCLE_DELETED = 1
} mlops_lifecycle;

/* A key/value pair (params and tags). */
typedef struct mlops_kv {
    char *key;
    char *value;
} mlops_kv;

/* ---- experiments ------------------------------------------------------ */

typedef struct mlops_experiment {
    char id[MLOPS_EXPERIMENT_ID_MAX + 1]; /* decimal, "1", "2", … */
    char *name;
    mlops_lifecycle lifecycle;
    int64_t creation_time;    /* ms since the epoch */
    int64_t last_update_time; /* ms */
    mlops_kv *tags;           /* sorted by key */
    size_t ntags;
} mlops_experiment;

/* Returns the experiment named name, creating it if missing. Safe against
 * concurrent creators (one id per name). Errors: MLOPS_EINVALID (name). */
MLOPS_API int mlops_experiment_get_or_create(mlops_experiment **out, mlops_store *store, const char *name);
/* Creates an experiment; MLOPS_EEXISTS if the name is taken. */
MLOPS_API int mlops_experiment_create(mlops_experiment **out, mlops_store *store, const char *name);
/* By id, or (if no experiment has that id) by name. MLOPS_ENOTFOUND. */
MLOPS_API int mlops_experiment_get(mlops_experiment **out, mlops_store *store, const char *id_or_name);
/* All experiments (deleted ones only with include_deleted), by id. */
MLOPS_API int mlops_experiment_list(mlops_experiment ***out, size_t *count, mlops_store *store,
                                    int include_deleted);
/* Renames; MLOPS_EEXISTS if the new name is taken. */
MLOPS_API int mlops_experiment_rename(mlops_store *store, const char *id, const char *new_name);
/* Soft delete / restore (lifecycle_stage). */
MLOPS_API int mlops_experiment_delete(mlops_store *store, const char *id);
MLOPS_API int mlops_experiment_restore(mlops_store *store, const char *id);
/* Sets (or with value NULL removes) an experiment tag. */
MLOPS_API int mlops_experiment_set_tag(mlops_store *store, const char *id, const char *key, const char *value);
MLOPS_API void mlops_experiment_free(mlops_experiment *experiment);
MLOPS_API void mlops_experiment_list_free(mlops_experiment **list, size_t count);

/* ---- runs ------------------------------------------------------------- */

typedef struct mlops_run mlops_run;

/* A named artifact of a run: the object holding it. */
typedef struct mlops_artifact {
    char *name;    /* path inside the run's artifacts, e.g. "model/weights.bin" */
    mlops_oid id;  /* the object (for a directory: one entry per file) */
    uint64_t size;
} mlops_artifact;

/* The latest value of one metric key. */
typedef struct mlops_metric_latest {
    char *key;
    double value;
    int64_t step;
    int64_t timestamp; /* ms */
} mlops_metric_latest;

/* What a run is, as stored. */
typedef struct mlops_run_info {
    char run_id[MLOPS_RUN_ID_HEXSZ + 1];
    char experiment_id[MLOPS_EXPERIMENT_ID_MAX + 1];
    char *run_name;
    char *user;
    char parent_run_id[MLOPS_RUN_ID_HEXSZ + 1]; /* "" if none */
    int status;               /* mlops_run_status */
    mlops_lifecycle lifecycle;
    int64_t start_time;       /* ms */
    int64_t end_time;         /* ms; 0 while running */
    mlops_kv *params;         /* sorted by key */
    size_t nparams;
    mlops_kv *tags;           /* sorted by key */
    size_t ntags;
    mlops_metric_latest *metrics; /* latest value per key, sorted by key */
    size_t nmetrics;
    mlops_artifact *artifacts; /* sorted by name */
    size_t nartifacts;
} mlops_run_info;

#define MLOPS_RUN_OPTIONS_VERSION 1
typedef struct mlops_run_options {
    unsigned int version;
    const char *run_name;       /* NULL: generated */
    const char *parent_run_id;  /* nested run; NULL for none */
    const mlops_kv *tags;       /* start tags */
    size_t ntags;
    int64_t start_time;         /* ms; 0: now */
    size_t buffer_points;       /* points buffered before an automatic append; 0: 65536 */
} mlops_run_options;
#define MLOPS_RUN_OPTIONS_INIT { MLOPS_RUN_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, 0 }
MLOPS_API int mlops_run_options_init(mlops_run_options *opts, unsigned int version);

/* Starts a run (status RUNNING) in an experiment given by id.
 * Errors: MLOPS_ENOTFOUND (experiment, parent), MLOPS_EINVALID. */
MLOPS_API int mlops_run_start(mlops_run **out, mlops_store *store, const char *experiment_id,
                              const mlops_run_options *opts);
/* Reopens a run for logging, e.g. after its process crashed. A run that
 * has ended is reopened read-only for logging (MLOPS_EINVALID on log). */
MLOPS_API int mlops_run_resume(mlops_run **out, mlops_store *store, const char *run_id);
/* The run's 32-hex id (valid while the handle lives). */
MLOPS_API const char *mlops_run_id(const mlops_run *run);

/* Logs a parameter. The same value again is fine; a different one is
 * MLOPS_ECONFLICT. Written to the run record at once. */
MLOPS_API int mlops_run_log_param(mlops_run *run, const char *key, const char *value);
/* Sets a tag (value NULL removes it). Written at once. */
MLOPS_API int mlops_run_set_tag(mlops_run *run, const char *key, const char *value);
/* Buffers one metric point. timestamp_ms -1 means "now"; other negative
 * values are MLOPS_EINVALID. When the buffer is full its points are
 * appended to the log; if that fails they stay buffered (never lost, never
 * duplicated) and mlops_run_flush reports a failure that persists. */
MLOPS_API int mlops_run_log_metric(mlops_run *run, const char *key, double value, int64_t step,
                                   int64_t timestamp_ms);
/* Buffers n points of one key. timestamps may be NULL (now, for all). */
MLOPS_API int mlops_run_log_metric_batch(mlops_run *run, const char *key, const double *values,
                                         const int64_t *steps, const int64_t *timestamps, size_t n);
/* Stores a file or a directory (recursively) as artifacts under name
 * (NULL: the file's base name). *out_id (may be NULL) gets the object id
 * of a file, or of the directory's listing. Logging a file again under its
 * name replaces it; a name that is a file where another artifact needs a
 * directory ("model" and "model/w.bin") is MLOPS_EEXISTS. */
MLOPS_API int mlops_run_log_artifact(mlops_oid *out_id, mlops_run *run, const char *path, const char *name);
/* A durability point: appends buffered points and makes them durable,
 * then records the latest values in the run record. */
MLOPS_API int mlops_run_flush(mlops_run *run);
/* Flushes, sets the final status (FINISHED, FAILED or KILLED) and the end
 * time. Further logging is MLOPS_EINVALID. */
MLOPS_API int mlops_run_end(mlops_run *run, int status);
/* Frees the handle. A run not ended stays RUNNING (it can be resumed);
 * buffered points are flushed first (errors are lost: flush yourself). */
MLOPS_API void mlops_run_free(mlops_run *run);

/* Reads a run's info. MLOPS_ENOTFOUND. */
MLOPS_API int mlops_run_get(mlops_run_info **out, mlops_store *store, const char *run_id);
MLOPS_API void mlops_run_info_free(mlops_run_info *info);
/* Soft delete / restore of a run. */
MLOPS_API int mlops_run_delete(mlops_store *store, const char *run_id);
MLOPS_API int mlops_run_restore(mlops_store *store, const char *run_id);

/* ---- metric history --------------------------------------------------- */

/* Points of one key, in step order (ties: timestamp, then log order). */
typedef struct mlops_metric_history {
    size_t n;
    double *values;
    int64_t *steps;
    int64_t *timestamps;
} mlops_metric_history;

#define MLOPS_HISTORY_OPTIONS_VERSION 1
typedef struct mlops_history_options {
    unsigned int version;
    int64_t min_step;     /* inclusive; INT64_MIN for no bound */
    int64_t max_step;     /* inclusive; INT64_MAX for no bound */
    size_t max_points;    /* 0: all; else downsampled to at most this many,
                             keeping the first and last point of the range */
} mlops_history_options;
#define MLOPS_HISTORY_OPTIONS_INIT { MLOPS_HISTORY_OPTIONS_VERSION, INT64_MIN, INT64_MAX, 0 }
MLOPS_API int mlops_history_options_init(mlops_history_options *opts, unsigned int version);

/* Reads the durable points of one key (opts NULL: all). A key never
 * logged gives n == 0. Errors: MLOPS_ENOTFOUND (run). */
MLOPS_API int mlops_metric_history_get(mlops_metric_history *out, mlops_store *store, const char *run_id,
                                       const char *key, const mlops_history_options *opts);
MLOPS_API void mlops_metric_history_free(mlops_metric_history *history);
/* The keys with durable points, sorted; free with mlops_string_list_free. */
MLOPS_API int mlops_metric_keys(char ***out, size_t *count, mlops_store *store, const char *run_id);
MLOPS_API void mlops_string_list_free(char **list, size_t count);

/* ---- search ----------------------------------------------------------- */

#define MLOPS_SEARCH_OPTIONS_VERSION 1
typedef struct mlops_search_options {
    unsigned int version;
    const char *filter;            /* MLflow filter grammar; NULL or "" for all */
    const char *const *order_by;   /* e.g. "metrics.acc DESC"; may be NULL */
    size_t norder_by;
    size_t max_results;            /* 0: 1000 */
    const char *page_token;        /* from a previous call; NULL for the first page */
    int include_deleted;           /* also runs with lifecycle deleted */
} mlops_search_options;
#define MLOPS_SEARCH_OPTIONS_INIT { MLOPS_SEARCH_OPTIONS_VERSION, NULL, NULL, 0, 0, NULL, 0 }
MLOPS_API int mlops_search_options_init(mlops_search_options *opts, unsigned int version);

typedef struct mlops_run_list {
    mlops_run_info **runs;
    size_t count;
    char *next_page_token; /* NULL when this is the last page */
} mlops_run_list;

/* Runs of the given experiments that match the filter, ordered. A
 * malformed filter or an unknown order_by key is MLOPS_EINVALID with a
 * message naming the offending token. */
MLOPS_API int mlops_run_search(mlops_run_list *out, mlops_store *store, const char *const *experiment_ids,
                               size_t nexperiments, const mlops_search_options *opts);
MLOPS_API void mlops_run_list_free(mlops_run_list *list);

/* ---- export ----------------------------------------------------------- */

/* Writes the experiments (NULL, 0: all) and their runs into dest in
 * MLflow's file-store layout (mlruns/), artifacts included. */
MLOPS_API int mlops_export_mlflow(mlops_store *store, const char *dest, const char *const *experiment_ids,
                                  size_t nexperiments);
/* Writes a run's metrics as a TensorBoard event file into directory dest. */
MLOPS_API int mlops_export_tensorboard(mlops_store *store, const char *run_id, const char *dest);
/* Writes a run's metrics as CSV (key,step,timestamp,value) into file dest. */
MLOPS_API int mlops_export_csv(mlops_store *store, const char *run_id, const char *dest);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_TRACK_H */
