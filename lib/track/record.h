/*
 * Internal: the canonical encoding of experiment and run records (the body
 * of their structured objects; docs/FORMAT.md "Tracking"). A record is a
 * sequence of fields: u8 tag, u32 little-endian length, bytes. Fields come
 * in a fixed order and repeated fields (params, tags, metrics, artifacts)
 * sorted by key, so equal records are equal bytes, hence equal ids.
 */
#ifndef MLOPS_LIB_TRACK_RECORD_H
#define MLOPS_LIB_TRACK_RECORD_H

#include "common/buf.h"
#include "track_internal.h"

#define MLOPS__RECORD_VERSION 1

/* Appends the encoding to out. MLOPS_EINVALID for what could not be read
 * back: a bad run or experiment id, an unknown status, repeated fields not
 * strictly sorted by non-empty key. */
int mlops__run_info_encode(mlops__buf *out, const mlops_run_info *info);
/* Decodes into a new info (free with mlops_run_info_free). Accepts only
 * canonical encodings; anything else (truncated, reordered, overlong
 * lengths, bad ids or numbers) is MLOPS_ECORRUPT, a newer version
 * MLOPS_EUNSUPPORTED. */
int mlops__run_info_decode(mlops_run_info **out, const void *data, size_t len);

int mlops__experiment_encode(mlops__buf *out, const mlops_experiment *e);
/* Free with mlops_experiment_free; errors as for runs. */
int mlops__experiment_decode(mlops_experiment **out, const void *data, size_t len);

/* Reads the record a ref names: the body of a structured object of the
 * given type. what names it in messages ("run 3f…", "experiment 2").
 * ENOTFOUND if the ref is missing, ECORRUPT if it names anything else.
 * *out_body is released with mlops_free; *out_ref (may be NULL) gets the
 * ref's value for a later compare-and-swap. */
int mlops__record_load(void **out_body, size_t *out_len, mlops_oid *out_ref, mlops_store *s, const char *ref,
                       const char *type, const char *what);

/* Sorted key/value arrays: sets (or, value NULL, removes) key. */
int mlops__kv_set(mlops_kv **arr, size_t *n, const char *key, const char *value);
/* The entry for key, or NULL. */
mlops_kv *mlops__kv_find(mlops_kv *arr, size_t n, const char *key);
void mlops__kv_free(mlops_kv *arr, size_t n);

#endif
