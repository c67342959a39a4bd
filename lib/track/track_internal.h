/*
 * Internal: what the tracking files share. Storage layout (docs/FORMAT.md,
 * section "Tracking"):
 *
 *   ref track/experiments/next-id          -> plain object: next id, decimal
 *   ref track/experiments/<id>             -> structured "track.experiment"
 *   ref track/experiment-names/<sha256 hex of the name>
 *                                          -> structured "track.expname", body: the id
 *   ref track/runs/<run_id>                -> structured "track.run" (links: artifact ids)
 *   log track/metrics/<run_id>             -> metric point batches (points.h)
 *
 * Records are canonical TLV (record.h), so the same content is the same id.
 * Every update is read-modify-CAS with retries (MLOPS__TRACK_RETRIES).
 */
#ifndef MLOPS_LIB_TRACK_INTERNAL_H
#define MLOPS_LIB_TRACK_INTERNAL_H

#include <pthread.h>

#include "mlops/track.h"

#define MLOPS__TRACK_RETRIES 1000

/* Buffered points of one key (run_buffer.c). */
typedef struct mlops__key_buffer {
    char *key;
    double *values;
    int64_t *steps;
    int64_t *timestamps;
    size_t n, cap;
    /* the latest point logged through this handle (for the run record) */
    int has_latest;
    double latest_value;
    int64_t latest_step, latest_ts;
} mlops__key_buffer;

struct mlops_run {
    mlops_store *store;
    char run_id[MLOPS_RUN_ID_HEXSZ + 1];
    char experiment_id[MLOPS_EXPERIMENT_ID_MAX + 1];
    char log_name[64];        /* "track/metrics/<run_id>" */
    pthread_mutex_t lock;     /* guards everything below */
    int ended;                /* no more logging */
    mlops__key_buffer *keys;  /* sorted by key */
    size_t nkeys, capkeys;
    size_t buffered;          /* points in all buffers */
    size_t retry_at;          /* after a failed automatic append: wait for this many (0: none failed) */
    size_t buffer_points;     /* automatic append threshold */
    int latest_dirty;         /* latest values not yet in the record */
};

/* ---- validation (validate.c) ---- */
/* MLflow's rules; kind names the thing in the message ("metric key"). */
int mlops__track_check_key(const char *key, const char *kind);
int mlops__track_check_name(const char *name, const char *kind);
int mlops__track_check_value(const char *value, size_t max, const char *kind);
int mlops__track_check_run_id(const char *run_id);
int64_t mlops__track_now_ms(void);

/* ---- run records (run_record.c) ---- */
/* Reads and decodes the run record of run_id (ENOTFOUND). *out_ref gets
 * the ref's current value, for a later CAS. */
int mlops__run_record_read(mlops_run_info **out, mlops_oid *out_ref, mlops_store *s, const char *run_id);
/* Encodes info and publishes it with CAS against expected (NULL: create). */
int mlops__run_record_write(mlops_store *s, const mlops_run_info *info, const mlops_oid *expected);
/* Read-modify-write with retries: edit() changes info in place; returning
 * a negative code aborts (the code is returned), 1 means "no change". */
typedef int (*mlops__run_edit_fn)(mlops_run_info *info, void *payload);
int mlops__run_record_update(mlops_store *s, const char *run_id, mlops__run_edit_fn edit, void *payload);
/* The suffixes of the ref names under prefix that accept() takes, sorted;
 * free with mlops_string_list_free. */
int mlops__track_ref_ids(char ***out, size_t *count, mlops_store *s, const char *prefix,
                         int (*accept)(const char *id));
/* Lists every run id (sorted); free with mlops_string_list_free. */
int mlops__run_ids(char ***out, size_t *count, mlops_store *s);

/* ---- metric points (run_buffer.c, history.c) ---- */
/* Appends everything buffered in run to its log (caller holds run->lock). */
int mlops__run_append_buffered(mlops_run *run);
/* Frees the buffers (caller holds or no longer needs the lock). */
void mlops__run_buffers_dispose(mlops_run *run);
/* Merges this handle's latest values into the run record (run_buffer.c). */
int mlops__run_record_latest(mlops_run *run);

#endif
