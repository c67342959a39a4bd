/*
 * libmlops — model registry: registered models, numbered versions pointing
 * at artifact objects (with run and dataset lineage), aliases, MLflow's
 * legacy stages, resolution of model references and an audit history.
 *
 * Caveats (read first):
 *  - Each model is one ref naming an immutable state object; every change
 *    is a compare-and-swap from the state it read to a new state that links
 *    the old one, so the history is the chain of states, concurrent writers
 *    never lose or duplicate a version, and a crash leaves the old state or
 *    the new one. A change that still loses the race after its retry budget
 *    is MLOPS_ECONFLICT, with nothing changed.
 *  - Every argument is checked before anything is written: a call that
 *    fails leaves the model as it was.
 *  - Versions are numbered 1, 2, 3…; a deleted version's number is never
 *    used again. Deleting a version removes its aliases.
 *  - The user recorded for a change is the register option's user when
 *    given, else $USER, else the login name of the effective user, else "".
 *  - Rename moves the model (versions, aliases, tags, history) to the new
 *    name in two ref updates: for a moment both names may resolve, and a
 *    crash between them can leave both (delete the old one).
 *  - Every call may be made from several threads on one store. Results are
 *    released with their _free function.
 */
#ifndef MLOPS_REGISTRY_H
#define MLOPS_REGISTRY_H

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Model names (MLflow's rules): 1..256 bytes, no '/', '\\', ':', '%', NUL
 * or control character, not "." or "..". */
#define MLOPS_REGISTRY_NAME_MAX 256
/* Alias names: 1..255 bytes of [A-Za-z0-9_-]; "latest" (any case) and
 * v<digits> / V<digits> are reserved. */
#define MLOPS_REGISTRY_ALIAS_MAX 255
/* Tag keys: 1..250 bytes of [A-Za-z0-9_.\- /:], no empty, "." or ".."
 * path component, no leading or trailing '/'. Values: up to 5000 bytes. */
#define MLOPS_REGISTRY_TAG_KEY_MAX 250
#define MLOPS_REGISTRY_TAG_VALUE_MAX 5000
/* Descriptions: at most MLOPS_REGISTRY_TEXT_MAX bytes; run ids, dataset
 * refs and user names: at most MLOPS_REGISTRY_FIELD_MAX bytes. */
#define MLOPS_REGISTRY_TEXT_MAX 65536
#define MLOPS_REGISTRY_FIELD_MAX 1024

/* MLflow's legacy stages. */
typedef enum mlops_registry_stage {
    MLOPS_REGISTRY_STAGE_NONE = 0,
    MLOPS_REGISTRY_STAGE_STAGING = 1,
    MLOPS_REGISTRY_STAGE_PRODUCTION = 2,
    MLOPS_REGISTRY_STAGE_ARCHIVED = 3
} mlops_registry_stage;

/* Parses "None", "Staging", "Production" or "Archived" in any case.
 * Errors: MLOPS_EINVALID. */
MLOPS_API int mlops_registry_stage_parse(mlops_registry_stage *out, const char *name);
/* The canonical spelling of a stage ("None", "Staging", …); "?" if unknown. */
MLOPS_API const char *mlops_registry_stage_name(mlops_registry_stage stage);

/* A tag. In results both strings are owned by the result. */
typedef struct mlops_registry_tag {
    const char *key;
    const char *value;
} mlops_registry_tag;

/* An alias and the version it names. */
typedef struct mlops_registry_alias {
    char *alias;
    uint64_t version;
} mlops_registry_alias;

/* A registered model. Release with mlops_registry_model_free. */
typedef struct mlops_registry_model {
    char *name;
    char *description;           /* "" when none */
    mlops_registry_tag *tags;    /* sorted by key */
    size_t ntags;
    mlops_registry_alias *aliases; /* sorted by alias */
    size_t naliases;
    int64_t created_ms;
    int64_t updated_ms;          /* time of the last change */
    uint64_t latest_version;     /* highest live version; 0 if none */
    uint64_t nversions;          /* live versions */
    uint64_t next_version;       /* the number the next registration gets */
    mlops_oid state;             /* the state object (changes on every change) */
} mlops_registry_model;
MLOPS_API void mlops_registry_model_free(mlops_registry_model *m);
MLOPS_API void mlops_registry_model_list_free(mlops_registry_model **list, size_t count);

typedef enum mlops_registry_status {
    MLOPS_REGISTRY_READY = 1
} mlops_registry_status;

/* A model version. Release with mlops_registry_version_free. */
typedef struct mlops_registry_version {
    char *model;                 /* the model's (current) name */
    uint64_t version;
    mlops_oid artifact;          /* the artifact object */
    uint64_t size;               /* its logical size */
    char *run_id;                /* "" when none */
    char *dataset;               /* dataset version ref (lineage); "" when none */
    char *description;           /* "" when none */
    char *user;                  /* who registered it */
    mlops_registry_tag *tags;    /* sorted by key */
    size_t ntags;
    char **aliases;              /* aliases naming this version, sorted */
    size_t naliases;
    int64_t created_ms;
    int64_t updated_ms;
    mlops_registry_stage stage;
    mlops_registry_status status;
    mlops_oid record;            /* the version record object */
} mlops_registry_version;
MLOPS_API void mlops_registry_version_free(mlops_registry_version *v);
MLOPS_API void mlops_registry_version_list_free(mlops_registry_version **list, size_t count);

/* ---- models --------------------------------------------------------------- */

/* Creates a model (description NULL: ""; tags may be NULL with ntags 0).
 * *out may be NULL. Errors: MLOPS_EINVALID (bad name, tag or text),
 * MLOPS_EEXISTS. */
MLOPS_API int mlops_registry_create_model(mlops_registry_model **out, mlops_store *store, const char *name,
                                          const char *description, const mlops_registry_tag *tags,
                                          size_t ntags);
/* Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID, MLOPS_ECORRUPT (unreadable state). */
MLOPS_API int mlops_registry_get_model(mlops_registry_model **out, mlops_store *store, const char *name);
/* Every model whose name starts with prefix (NULL or "": all), sorted by
 * name. Reads every model's state (names are hashed in ref names, so the
 * prefix cannot narrow the ref listing). Errors: MLOPS_ECORRUPT. */
MLOPS_API int mlops_registry_list_models(mlops_registry_model ***out, size_t *out_count, mlops_store *store,
                                         const char *prefix);
/* Renames a model; its versions, aliases, tags and history follow. Two
 * ref updates, not one: a crash between them leaves the model under both
 * names, and so does a writer of new_name changing the copy before a rename
 * that lost its race to a writer of name could take it back (then
 * MLOPS_EEXISTS with a message naming both).
 * Errors: MLOPS_ENOTFOUND, MLOPS_EEXISTS (new_name taken), MLOPS_EINVALID. */
MLOPS_API int mlops_registry_rename_model(mlops_store *store, const char *name, const char *new_name);
MLOPS_API int mlops_registry_set_model_description(mlops_store *store, const char *name, const char *description);
/* Sets (adds or replaces) a tag. Errors: MLOPS_ENOTFOUND, MLOPS_EINVALID. */
MLOPS_API int mlops_registry_set_model_tag(mlops_store *store, const char *name, const char *key, const char *value);
/* Errors: MLOPS_ENOTFOUND (no model, or no such tag). */
MLOPS_API int mlops_registry_delete_model_tag(mlops_store *store, const char *name, const char *key);
/* Deletes a model and its history. A model that still has live versions
 * is refused with MLOPS_EINVALID unless force. Errors: MLOPS_ENOTFOUND. */
MLOPS_API int mlops_registry_delete_model(mlops_store *store, const char *name, int force);

/* ---- versions -------------------------------------------------------------- */

#define MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION 1
typedef struct mlops_registry_register_options {
    unsigned int version;             /* MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION */
    const mlops_oid *artifact;        /* an object already in the store, or… */
    const char *path;                 /* …a regular file stored first (exactly one of the two) */
    const char *run_id;               /* NULL: "" */
    const char *dataset;              /* dataset version ref (lineage); NULL: "" */
    const char *description;          /* NULL: "" */
    const mlops_registry_tag *tags;
    size_t ntags;
    const char *user;                 /* NULL: $USER, else the login name, else "" */
    unsigned int max_retries;         /* lost compare-and-swaps retried (after a random
                                         wait of up to ~6 ms each); 0: 1000 */
} mlops_registry_register_options;
#define MLOPS_REGISTRY_REGISTER_OPTIONS_INIT \
    { MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0u }
MLOPS_API int mlops_registry_register_options_init(mlops_registry_register_options *opts, unsigned int version);

/*
 * Registers the artifact as the model's next version (stage None, status
 * READY). *out may be NULL. A path is stored with the store's chunking
 * defaults; a directory is MLOPS_EUNSUPPORTED (snapshot it with the data
 * module and register a file, or an object id).
 * Errors: MLOPS_ENOTFOUND (no model, no such file, or an artifact id not in
 * the store), MLOPS_EINVALID (bad options, tags or texts),
 * MLOPS_EUNSUPPORTED, MLOPS_ECONFLICT (still losing after max_retries).
 */
MLOPS_API int mlops_registry_register(mlops_registry_version **out, mlops_store *store, const char *name,
                                      const mlops_registry_register_options *opts);
/* Errors: MLOPS_ENOTFOUND (model or version; deleted versions too). */
MLOPS_API int mlops_registry_get_version(mlops_registry_version **out, mlops_store *store, const char *name,
                                         uint64_t version);
/* The live versions, by increasing number. Errors: MLOPS_ENOTFOUND. */
MLOPS_API int mlops_registry_list_versions(mlops_registry_version ***out, size_t *out_count, mlops_store *store,
                                           const char *name);
/* Deletes a version and the aliases naming it; its number is not reused. */
MLOPS_API int mlops_registry_delete_version(mlops_store *store, const char *name, uint64_t version);
MLOPS_API int mlops_registry_set_version_description(mlops_store *store, const char *name, uint64_t version,
                                                     const char *description);
MLOPS_API int mlops_registry_set_version_tag(mlops_store *store, const char *name, uint64_t version,
                                             const char *key, const char *value);
/* Errors: MLOPS_ENOTFOUND (no model, version or tag). */
MLOPS_API int mlops_registry_delete_version_tag(mlops_store *store, const char *name, uint64_t version,
                                                const char *key);

/* ---- aliases and stages ----------------------------------------------------- */

/* Points alias at version (creating or moving it).
 * Errors: MLOPS_EINVALID (bad or reserved alias), MLOPS_ENOTFOUND. */
MLOPS_API int mlops_registry_set_alias(mlops_store *store, const char *name, const char *alias, uint64_t version);
/* Errors: MLOPS_ENOTFOUND (no model or no such alias: unlike MLflow,
 * which ignores a missing alias), MLOPS_EINVALID. */
MLOPS_API int mlops_registry_delete_alias(mlops_store *store, const char *name, const char *alias);
/*
 * Moves version to stage (parsed by mlops_registry_stage_parse). With
 * archive_existing, every other version in that stage becomes Archived in
 * the same change; only a Staging or Production target allows it
 * (MLOPS_EINVALID otherwise). *out (the version after) may be NULL.
 * Errors: MLOPS_EINVALID (unknown stage), MLOPS_ENOTFOUND.
 */
MLOPS_API int mlops_registry_transition_stage(mlops_registry_version **out, mlops_store *store, const char *name,
                                              uint64_t version, const char *stage, int archive_existing);

/* ---- resolution -------------------------------------------------------------- */

/*
 * Resolves a model reference: "name@alias", "name/3", "name@latest",
 * "name/latest" (the highest live version), "name/Production" (the highest
 * version in that stage, any case), each also with a "models:/" prefix.
 * With a '/', the name is what precedes it (names cannot hold '/');
 * otherwise what precedes the last '@'.
 * Errors: MLOPS_EINVALID (malformed), MLOPS_ENOTFOUND (model, version or
 * alias unknown (MLflow says INVALID_PARAMETER_VALUE for an unknown
 * alias), or no version in that stage).
 */
MLOPS_API int mlops_registry_resolve(mlops_registry_version **out, mlops_store *store, const char *ref);
/* Writes the artifact of the version ref resolves to into the file dest
 * (replaced atomically). *out (that version) may be NULL.
 * Errors: those of resolve, MLOPS_ECORRUPT, MLOPS_EIO. */
MLOPS_API int mlops_registry_download(mlops_registry_version **out, mlops_store *store, const char *ref,
                                      const char *dest);

/* ---- history ------------------------------------------------------------------ */

typedef enum mlops_registry_event_kind {
    MLOPS_REGISTRY_MODEL_CREATED = 1,
    MLOPS_REGISTRY_MODEL_RENAMED = 2,        /* detail: the old name */
    MLOPS_REGISTRY_MODEL_DESCRIPTION = 3,
    MLOPS_REGISTRY_MODEL_TAG_SET = 4,        /* detail: the key */
    MLOPS_REGISTRY_MODEL_TAG_DELETED = 5,    /* detail: the key */
    MLOPS_REGISTRY_VERSION_REGISTERED = 6,
    MLOPS_REGISTRY_VERSION_DELETED = 7,
    MLOPS_REGISTRY_VERSION_DESCRIPTION = 8,
    MLOPS_REGISTRY_VERSION_TAG_SET = 9,      /* detail: the key */
    MLOPS_REGISTRY_VERSION_TAG_DELETED = 10, /* detail: the key */
    MLOPS_REGISTRY_ALIAS_SET = 11,           /* old_version: 0 if new, else the version it moved from */
    MLOPS_REGISTRY_ALIAS_DELETED = 12,
    MLOPS_REGISTRY_STAGE_CHANGED = 13        /* detail: versions archived by archive_existing, "1,4"
                                                (past ~64 KiB: "1,4,...,+N more") */
} mlops_registry_event_kind;

/* One change. Release an array with mlops_registry_history_free. */
typedef struct mlops_registry_event {
    mlops_registry_event_kind kind;
    int64_t time_ms;
    char *user;
    uint64_t version;      /* the version concerned; 0 for model-level changes */
    uint64_t old_version;  /* ALIAS_SET: the version the alias named before (0: none) */
    char *alias;           /* alias events; "" otherwise */
    mlops_registry_stage from_stage; /* STAGE_CHANGED */
    mlops_registry_stage to_stage;
    char *detail;          /* see the kinds; "" otherwise */
    mlops_oid state;       /* the state this change produced */
} mlops_registry_event;

/* Every change of a model, oldest first (a renamed model keeps its
 * history). Errors: MLOPS_ENOTFOUND, MLOPS_ECORRUPT. */
MLOPS_API int mlops_registry_history(mlops_registry_event **out, size_t *out_count, mlops_store *store,
                                     const char *name);
MLOPS_API void mlops_registry_history_free(mlops_registry_event *events, size_t count);

/* ---- export -------------------------------------------------------------------- */

/*
 * Writes the models named (names NULL, nnames 0: every model) into dest in
 * MLflow's file-store registry layout: dest/models/<name>/meta.yaml,
 * tags/<key>, aliases/<alias> (the version's digits), and for every live
 * version version-<N>/meta.yaml, tags/ and artifacts/model (the artifact,
 * which its source URI names). Give it the directory of mlops_export_mlflow
 * and `mlflow ui --backend-store-uri dest` shows runs and models. A deleted
 * version is written as MLflow keeps one: version-<N>/meta.yaml (its last
 * record, from the history) with current_stage Deleted_Internal, which
 * hides it and keeps MLflow from reusing its number; no artifact. Files
 * are replaced atomically.
 * Errors: MLOPS_ENOTFOUND (a model named), MLOPS_EINVALID, MLOPS_EIO,
 * MLOPS_ECORRUPT (an unreadable state or record).
 */
MLOPS_API int mlops_registry_export_mlflow(mlops_store *store, const char *dest, const char *const *names,
                                           size_t nnames);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_REGISTRY_H */
