/*
 * Internal: what the files of the registry module share. Never installed.
 *
 *  names.c        model, alias and tag key rules, stages, the model's ref name
 *  codec.c        the little-endian field writer/reader both encodings use
 *  tags.c         sorted tag arrays
 *  state_codec.c  the state object ("registry.state")
 *  version_codec.c the version record ("registry.version")
 *  state_update.c read → edit → compare-and-swap, retried with backoff
 *  model.c, version.c, alias_stage.c, resolve.c, history.c   the API
 *
 * Storage: the ref registry/models/<sha256 hex of the name> names the
 * model's current state. The name is hashed because MLflow allows names
 * (a leading '.', a ".lock" suffix, 256 bytes of UTF-8 that an escaping
 * would make longer than a file name) that no ref component can hold;
 * the state carries the real name.
 */
#ifndef MLOPS_LIB_REGISTRY_INTERNAL_H
#define MLOPS_LIB_REGISTRY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "mlops/registry.h"
#include "store/structured.h"

#define MLOPS__REG_STATE_TYPE "registry.state"
#define MLOPS__REG_VERSION_TYPE "registry.version"
#define MLOPS__REG_PREFIX "registry/models/"
#define MLOPS__REG_REF_MAX (sizeof MLOPS__REG_PREFIX + MLOPS_OID_HEXSZ)
#define MLOPS__REG_RETRIES 1000
/* An artifact registered by id is refreshed for gc when older than this
 * (one just stored is fresh already, and registering stays one flush). */
#define MLOPS__REG_REFRESH_AGE 60

/* ---- names (names.c) ------------------------------------------------------ */

int mlops__reg_name_check(const char *name);
/* syntax only; reserved names are refused by mlops__reg_alias_check_settable */
int mlops__reg_alias_check(const char *alias);
int mlops__reg_alias_check_settable(const char *alias);
int mlops__reg_tag_check(const char *key, const char *value);
/* NULL is fine (""); longer than max is MLOPS_EINVALID naming what. */
int mlops__reg_text_check(const char *text, size_t max, const char *what);
/* The ref of a model (name already checked). */
int mlops__reg_ref_name(char out[MLOPS__REG_REF_MAX], const char *name);

/* ---- field codec (codec.c) ------------------------------------------------- */

int mlops__reg_put_u64(mlops__buf *b, uint64_t v);
int mlops__reg_put_u32(mlops__buf *b, uint32_t v);
/* u32 length, bytes; NULL as "". Longer than max (what mlops__reg_get_str
 * would accept for field): MLOPS_EINVALID naming field. */
int mlops__reg_put_str(mlops__buf *b, const char *s, size_t max, const char *field);

/* Reads fields off a body; any shortfall or bad string is MLOPS_ECORRUPT
 * with a message naming what (the object kind). */
typedef struct mlops__reg_reader {
    const unsigned char *p;
    size_t left;
    const char *what;
} mlops__reg_reader;
int mlops__reg_get_u8(mlops__reg_reader *r, unsigned *out);
int mlops__reg_get_u32(mlops__reg_reader *r, uint32_t *out);
int mlops__reg_get_u64(mlops__reg_reader *r, uint64_t *out);
int mlops__reg_get_i64(mlops__reg_reader *r, int64_t *out);
/* The 4-byte head of a body: version (newer: MLOPS_EUNSUPPORTED; other
 * than version: MLOPS_ECORRUPT), then 3 bytes into rest. */
int mlops__reg_get_header(mlops__reg_reader *r, unsigned version, unsigned char rest[3]);
/* A string of at most max bytes without NUL, copied into *out. */
int mlops__reg_get_str(mlops__reg_reader *r, char **out, size_t max, const char *field);
int mlops__reg_corrupt(const mlops__reg_reader *r, const char *problem);
/* A u32 element count, refused when even elements of min_bytes each could
 * not fit in what is left; *array gets count zeroed elements of elem bytes. */
int mlops__reg_get_count(mlops__reg_reader *r, uint32_t *n, void **array, size_t elem, size_t min_bytes,
                         const char *what);
/* Parses data as a structured object of type; r then reads its body and
 * so has its links. MLOPS_ECORRUPT naming what otherwise. */
int mlops__reg_open(mlops__structured *so, mlops__reg_reader *r, const void *data, size_t len, const char *type,
                    const char *what);
/* Reads object id whole and parses it into out. A missing object is
 * MLOPS_ECORRUPT (a ref or a state links it); errors name what and id. */
int mlops__reg_load(mlops_store *s, const mlops_oid *id, const char *what,
                    int (*parse)(void *out, const void *data, size_t len), void *out);

/* ---- tags (tags.c) ------------------------------------------------------------ */

typedef struct mlops__reg_tags {
    mlops_registry_tag *v; /* sorted by key, strings owned */
    size_t n;
} mlops__reg_tags;
/* Copies and checks caller tags (sorted, a repeated key: the last wins). */
int mlops__reg_tags_from(mlops__reg_tags *out, const mlops_registry_tag *tags, size_t n);
int mlops__reg_tags_set(mlops__reg_tags *t, const char *key, const char *value);
/* MLOPS_ENOTFOUND if absent (message names owner). */
int mlops__reg_tags_delete(mlops__reg_tags *t, const char *key, const char *owner);
int mlops__reg_tags_encode(mlops__buf *b, const mlops__reg_tags *t);
int mlops__reg_tags_decode(mlops__reg_tags *t, mlops__reg_reader *r);
void mlops__reg_tags_dispose(mlops__reg_tags *t);
/* Frees an array of tags with owned strings. */
void mlops__reg_tag_array_free(mlops_registry_tag *v, size_t n);

/* ---- states (state_codec.c) ----------------------------------------------------- */

typedef struct mlops__reg_ver {
    uint64_t number;
    mlops_registry_stage stage;
    mlops_oid record;
} mlops__reg_ver;

typedef struct mlops__reg_change {
    mlops_registry_event_kind kind;
    int64_t time_ms;
    char *user;
    uint64_t version;
    uint64_t old_version;
    char *alias;
    mlops_registry_stage from_stage, to_stage;
    char *detail;
} mlops__reg_change;

typedef struct mlops__reg_state {
    char *name;
    char *description;
    mlops__reg_tags tags;
    int64_t created_ms, updated_ms;
    uint64_t next_version;
    mlops_registry_alias *aliases; /* sorted by alias */
    size_t naliases;
    mlops__reg_ver *versions;      /* by increasing number */
    size_t nversions, cap_versions;
    int has_prev;
    mlops_oid prev;
    mlops__reg_change change;
} mlops__reg_state;

int mlops__reg_state_encode(mlops_oid **links, size_t *nlinks, mlops__buf *body, const mlops__reg_state *st);
int mlops__reg_state_parse(mlops__reg_state *st, const void *data, size_t len);
/* Reads and parses state id. MLOPS_ENOTFOUND, MLOPS_ECORRUPT. */
int mlops__reg_state_load(mlops__reg_state *st, mlops_store *s, const mlops_oid *id);
int mlops__reg_state_put(mlops_oid *out, mlops_store *s, const mlops__reg_state *st);
void mlops__reg_state_dispose(mlops__reg_state *st);
/* Resets st->change to kind with empty strings (MLOPS_ENOMEM). */
int mlops__reg_change_set(mlops__reg_state *st, mlops_registry_event_kind kind, uint64_t version,
                          const char *alias, const char *detail);

/* Lookups in a state. */
mlops__reg_ver *mlops__reg_state_find(const mlops__reg_state *st, uint64_t number);
/* MLOPS_ENOTFOUND with a message if the version is not live. */
int mlops__reg_state_need(mlops__reg_ver **out, const mlops__reg_state *st, uint64_t number);
mlops_registry_alias *mlops__reg_alias_find(const mlops__reg_state *st, const char *alias);
/* Appends a version (number above every other). */
int mlops__reg_state_add(mlops__reg_state *st, uint64_t number, const mlops_oid *record);
/* Removes version number and every alias naming it. */
void mlops__reg_state_remove(mlops__reg_state *st, uint64_t number);
/* The state as a public model (the ref value is id). */
int mlops__reg_model_from(mlops_registry_model **out, const mlops__reg_state *st, const mlops_oid *id);

/* ---- version records (version_codec.c) --------------------------------------------- */

/* The record's fields are those of mlops_registry_version but model,
 * aliases and record (which live elsewhere). */
int mlops__reg_version_put(mlops_oid *out, mlops_store *s, const mlops_registry_version *v);
int mlops__reg_version_parse(mlops_registry_version **out, const void *data, size_t len);
int mlops__reg_version_load(mlops_registry_version **out, mlops_store *s, const mlops_oid *id);
/* Loads a live version of st, with model name and aliases filled. */
int mlops__reg_version_get(mlops_registry_version **out, mlops_store *s, const mlops__reg_state *st,
                           uint64_t number);
/* The same into *slot, freeing what it held (a result callback may run
 * once per attempt). */
int mlops__reg_version_result(mlops_registry_version **slot, mlops_store *s, const mlops__reg_state *st,
                              uint64_t number);

/* Rewrites the record of live version number of st (version.c): fn edits
 * the loaded record; its updated time becomes the change's, the new record
 * is stored and st points at it (stage included). */
typedef int (*mlops__reg_version_fn)(mlops_registry_version *v, void *ctx);
int mlops__reg_version_change(mlops_store *s, mlops__reg_state *st, uint64_t number, mlops__reg_version_fn fn,
                              void *ctx);

/* archive_existing's change detail lists archived versions up to this
 * length, then says how many more (a state's detail is at most
 * MLOPS_REGISTRY_TEXT_MAX bytes; ~11,000 versions fit). A variable so that
 * tests can reach the limit without 11,000 versions. */
extern size_t mlops__reg_archived_list_max;

/* ---- updates (state_update.c) --------------------------------------------------------- */

/* An edit of a fresh copy of the state (exists 0: the model does not
 * exist; st holds only the name). Returns 0 to write st, MLOPS__REG_DROP
 * to delete the model, a negative code to stop with nothing written.
 * st->change.time_ms and .user are set before the call. */
#define MLOPS__REG_DROP 1
typedef int (*mlops__reg_edit_fn)(mlops__reg_state *st, int exists, void *ctx);
typedef int (*mlops__reg_result_fn)(const mlops__reg_state *st, const mlops_oid *id, void *ctx);

/*
 * Reads the model's state, edits it, stores the new state (linking the old
 * one) and moves the ref by compare-and-swap from the value read; a lost
 * race re-reads and edits again after a random backoff, up to retries
 * times (then MLOPS_ECONFLICT). user NULL: the default user. *out (may be
 * NULL) is the new state id. result (may be NULL) is called with the new
 * state once it is stored and before the ref moves, to build what the
 * call returns: an allocation failing there fails the call with nothing
 * changed. It may run once per attempt (it frees what it built before).
 */
int mlops__reg_update(mlops_oid *out, mlops_store *s, const char *name, const char *user, mlops__reg_edit_fn fn,
                      mlops__reg_result_fn result, void *ctx, unsigned retries);
/* The state of a model: MLOPS_ENOTFOUND with a message if none. */
int mlops__reg_read(mlops__reg_state *st, mlops_oid *id, mlops_store *s, const char *name);
/* MLOPS_ENOTFOUND "registered model '<name>' not found". */
int mlops__reg_not_found(const char *name);
/* $USER, else the login name, else "" (allocated). */
char *mlops__reg_default_user(void);
/* Calls once(ctx) until it returns anything but MLOPS_ECONFLICT, sleeping
 * a random, growing time between attempts; after retries more attempts,
 * MLOPS_ECONFLICT with a message naming the model. */
int mlops__reg_retry(int (*once)(void *ctx), void *ctx, unsigned retries, const char *name);

#endif
