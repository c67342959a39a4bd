/*
 * Internal: what dataset.c, resolve.c, tag.c and pointer.c share. Never
 * installed.
 *
 * Storage layout (docs/FORMAT-data-datasets.md):
 *   data/datasets/<name>        → the latest version record
 *   data/tags/<name>/<tag>      → a version record
 * A version record is a structured object of type "data.version" whose
 * links are [snapshot id] (version 1) or [snapshot id, parent record id].
 */
#ifndef MLOPS_LIB_DATA_VERSION_RECORD_H
#define MLOPS_LIB_DATA_VERSION_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "mlops/data.h"

#define MLOPS__VERSION_TYPE "data.version"
#define MLOPS__DATA_USER_MAX 256        /* bytes */
#define MLOPS__DATA_MESSAGE_MAX 65536   /* bytes */
/* "data/tags/" + name + "/" + tag + NUL, with room to spare. */
#define MLOPS__DATA_REF_MAX 320

/* ---- records (version_record.c) ------------------------------------------ */

/* The ref of a dataset (tag NULL) or of one of its tags. Names must have
 * passed their checks (they fit then). */
void mlops__data_ref_name(char out[MLOPS__DATA_REF_MAX], const char *dataset, const char *tag);

/*
 * Checks v (dataset name, version >= 1, parent zero exactly for version 1,
 * user and message lengths, no NUL) and encodes its record: links (one or
 * two ids) and the canonical body, appended to body. MLOPS_EINVALID.
 */
int mlops__version_record_encode(mlops_oid links[2], size_t *nlinks, mlops__buf *body,
                                 const mlops_data_version *v);

/* Encodes and stores the record of v; *out is its id. */
int mlops__version_record_put(mlops_oid *out, mlops_store *store, const mlops_data_version *v);

/*
 * Parses the whole logical bytes of a record object (not taking them).
 * Accepts exactly what the encoder writes: anything else is MLOPS_EINVALID
 * (the object is intact, its content is not), a newer body version is
 * MLOPS_EUNSUPPORTED. out->record is left zero, tags empty.
 */
int mlops__version_record_parse(mlops_data_version **out, const void *data, size_t len);

/* Reads and parses record id (out->record = *id).
 * MLOPS_ENOTFOUND, MLOPS_ECORRUPT (unreadable object), MLOPS_EINVALID. */
int mlops__version_record_load(mlops_data_version **out, mlops_store *store, const mlops_oid *id);

/* ---- datasets (resolve.c) ------------------------------------------------- */

/* 1 if ref has the raw snapshot id form (64 lowercase hex digits). */
int mlops__data_ref_is_raw(const char *ref);

/* The version ref names (any form data.h accepts), without its tags.
 * MLOPS_ENOTFOUND, MLOPS_EINVALID, MLOPS_ECORRUPT. */
int mlops__data_resolve_version(mlops_data_version **out, mlops_store *store, const char *ref);

/* The latest version of dataset (a checked name), without tags.
 * MLOPS_ENOTFOUND (no such dataset), MLOPS_EINVALID, MLOPS_ECORRUPT. */
int mlops__data_head(mlops_data_version **out, mlops_store *store, const char *dataset);

/* The parent of v (v->version > 1), checked to be version v->version - 1
 * of the same dataset. */
int mlops__data_parent(mlops_data_version **out, mlops_store *store, const mlops_data_version *v);

/* A bare snapshot as a version (dataset NULL, version 0, totals from its
 * root manifest). MLOPS_ENOTFOUND, MLOPS_EINVALID, MLOPS_ECORRUPT. */
int mlops__data_bare(mlops_data_version **out, mlops_store *store, const mlops_oid *id);

/* Version n of dataset (walking back from the latest). MLOPS_ENOTFOUND. */
int mlops__data_find(mlops_data_version **out, mlops_store *store, const char *dataset, uint64_t n);

/* ---- tags (tag.c) ----------------------------------------------------------- */

/* Fills the tags of n versions of one dataset (one ref listing). */
int mlops__data_tags_fill(mlops_store *store, const char *dataset, mlops_data_version *const *v, size_t n);

/* Names record with tag in dataset; an existing tag naming another record
 * is MLOPS_EEXISTS unless force (then it moves). */
int mlops__data_tag_set(mlops_store *store, const char *dataset, const char *tag, const mlops_oid *record,
                        int force);

/* MLOPS_EEXISTS if tag exists and names a record other than *record
 * (record NULL: any record). Used before a commit, so that a taken tag
 * fails it before a version is made. */
int mlops__data_tag_free_for(mlops_store *store, const char *dataset, const char *tag, const mlops_oid *record);

/* ---- pointer files (pointer.c) ----------------------------------------------- */

/* The pointer file text of v. MLOPS_EINVALID if v cannot be pinned. */
int mlops__data_pointer_format(mlops__buf *out, const mlops_data_version *v);

/* Parses pointer file text (what names the file in messages). Sets
 * dataset (or NULL), version, id, size and files. MLOPS_EINVALID. */
int mlops__data_pointer_parse(mlops_data_version **out, const char *data, size_t len, const char *what);

#endif
