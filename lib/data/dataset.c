/*
 * Commits: the next version of a dataset, by compare-and-swap on its ref.
 *
 * A commit reads the head, writes the record of head + 1 (parent = head)
 * and moves the ref from the head it read (or from "must not exist" for
 * version 1). A committer that loses the race reads the new head and
 * builds its record again on top of it, so concurrent committers never
 * lose or duplicate a version: the ref only ever moves from N to a record
 * of N + 1 whose parent is N. Losers back off for a short random time,
 * which keeps a crowd of committers from colliding in lock step.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/backoff.h"
#include "common/error.h"
#include "common/options.h"
#include "common/fs.h"
#include "common/user.h"
#include "data_internal.h"
#include "version_record.h"

#define DEFAULT_RETRIES 100
#define KNOWN_FLAGS MLOPS_DATA_COMMIT_ALLOW_EMPTY

int mlops_data_commit_options_init(mlops_data_commit_options *opts, unsigned int version)
{
    static const mlops_data_commit_options defaults = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    return mlops__options_init(opts, &defaults, sizeof defaults, version,
                               MLOPS_DATA_COMMIT_OPTIONS_VERSION, "data commit");
}

/* Everything that can be refused is refused before any work is done. */
static int check_args(mlops_store *store, const char *dataset, const mlops_data_commit_options *o)
{
    if (!store)
        return mlops__error_set(MLOPS_EINVALID, "data_commit: NULL store");
    MLOPS__TRY(mlops__data_dataset_name_check(dataset));
    if (!o)
        return 0;
    MLOPS__TRY(mlops__options_version(o->version, MLOPS_DATA_COMMIT_OPTIONS_VERSION, "data commit"));
    if (o->flags & ~KNOWN_FLAGS)
        return mlops__error_set(MLOPS_EINVALID, "unknown data commit flags 0x%x", o->flags & ~KNOWN_FLAGS);
    if (o->message && strlen(o->message) > MLOPS__DATA_MESSAGE_MAX)
        return mlops__error_set(MLOPS_EINVALID, "commit message longer than %d bytes", MLOPS__DATA_MESSAGE_MAX);
    if (o->user && strlen(o->user) > MLOPS__DATA_USER_MAX)
        return mlops__error_set(MLOPS_EINVALID, "user name longer than %d bytes", MLOPS__DATA_USER_MAX);
    if (o->ntags && !o->tags)
        return mlops__error_set(MLOPS_EINVALID, "data_commit: %zu tags but no array", o->ntags);
    for (size_t i = 0; i < o->ntags; i++)
        MLOPS__TRY(mlops__data_tag_check(o->tags[i]));
    return 0;
}

/* opts->user, else the default user (common/user.h). */
static char *commit_user(const char *given)
{
    return given ? mlops__strdup(given) : mlops__default_user(MLOPS__DATA_USER_MAX);
}

typedef struct commit_ctx {
    mlops_store *store;
    const char *dataset;
    mlops_oid snapshot;
    uint64_t size, files;
    const char *message;
    char *user;
    unsigned int flags;
    const char *const *tags;
    size_t ntags;
    uint64_t seed; /* backoff randomness, private to this call */
} commit_ctx;

/* Tags the new version will get must be free (or already on it): checked
 * before the version is made, so a taken tag fails the whole commit. */
static int tags_free_for(const commit_ctx *c, const mlops_oid *record)
{
    for (size_t i = 0; i < c->ntags; i++)
        MLOPS__TRY(mlops__data_tag_free_for(c->store, c->dataset, c->tags[i], record));
    return 0;
}

/* One attempt: 0 with *out (made, or the unchanged head), ECONFLICT if
 * another committer moved the head first. */
static int commit_once(mlops_data_version **out, commit_ctx *c)
{
    mlops_data_version *head = NULL, *v = NULL;
    int rc = mlops__data_head(&head, c->store, c->dataset);
    if (rc < 0 && rc != MLOPS_ENOTFOUND)
        return rc;
    if (head && !(c->flags & MLOPS_DATA_COMMIT_ALLOW_EMPTY) && mlops_oid_cmp(&head->id, &c->snapshot) == 0) {
        rc = tags_free_for(c, &head->record);
        if (rc == 0) {
            *out = head; /* created stays 0 */
            return 0;
        }
        goto done;
    }
    if (head && head->version == UINT64_MAX) {
        rc = mlops__error_set(MLOPS_EINVALID, "dataset '%s' has no version numbers left", c->dataset);
        goto done;
    }
    if ((rc = tags_free_for(c, NULL)) < 0)
        goto done;
    if (!(v = mlops__calloc(1, sizeof *v)) || !(v->dataset = mlops__strdup(c->dataset)) ||
        !(v->message = mlops__strdup(c->message)) || !(v->user = mlops__strdup(c->user))) {
        rc = mlops__error_oom();
        goto done;
    }
    v->version = head ? head->version + 1 : 1;
    if (head)
        v->parent = head->record;
    v->id = c->snapshot;
    v->time_ms = mlops__time_ms();
    v->size = c->size;
    v->files = c->files;
    if ((rc = mlops__version_record_put(&v->record, c->store, v)) < 0)
        goto done;
    char name[MLOPS__DATA_REF_MAX];
    mlops__data_ref_name(name, c->dataset, NULL);
    if ((rc = mlops_ref_set(c->store, name, &v->record, head ? &head->record : NULL)) < 0)
        goto done;
    v->created = 1;
    *out = v;
    v = NULL;
done:
    mlops_data_version_free(head);
    mlops_data_version_free(v);
    return rc;
}

static int commit_loop(mlops_data_version **out, commit_ctx *c, unsigned int retries)
{
    for (unsigned attempt = 0;; attempt++) {
        int rc = commit_once(out, c);
        if (rc != MLOPS_ECONFLICT)
            return rc;
        if (attempt >= retries)
            return mlops__error_set(MLOPS_ECONFLICT, "dataset '%s': still losing the commit race after %u retries",
                                    c->dataset, retries);
        mlops__backoff_sleep(&c->seed, attempt);
    }
}

/* Tags, pointer file and (if wanted) the tags of v, once the version
 * exists. A tag taken by someone else since the check fails the call
 * although the version was made. */
static int finish(mlops_data_version *v, const commit_ctx *c, const mlops_data_commit_options *o, int want_tags)
{
    for (size_t i = 0; i < c->ntags; i++)
        MLOPS__TRY(mlops__data_tag_set(c->store, c->dataset, c->tags[i], &v->record, 0));
    if (o && o->pointer_path)
        MLOPS__TRY(mlops_data_pointer_write(v, o->pointer_path));
    return want_tags ? mlops__data_tags_fill(c->store, c->dataset, &v, 1) : 0;
}

static int commit_checked(mlops_data_version **out, mlops_store *store, const char *dataset,
                          const mlops_oid *snapshot, const mlops_data_commit_options *o)
{
    commit_ctx c = { store, dataset, *snapshot, 0, 0, "", NULL, 0, NULL, 0, 0 };
    mlops__tree root;
    MLOPS__TRY(mlops__tree_load(&root, store, snapshot, 0));
    c.size = root.size;
    c.files = root.files;
    mlops__tree_dispose(&root);
    if (o) {
        c.message = o->message ? o->message : "";
        c.flags = o->flags;
        c.tags = o->tags;
        c.ntags = o->ntags;
    }
    if (!(c.user = commit_user(o ? o->user : NULL)))
        return mlops__error_oom();
    c.seed = mlops__backoff_seed(&c);
    mlops_data_version *v = NULL;
    int rc = commit_loop(&v, &c, o && o->max_retries ? o->max_retries : DEFAULT_RETRIES);
    if (rc == 0)
        rc = finish(v, &c, o, out != NULL);
    if (rc == 0 && out)
        *out = v;
    else
        mlops_data_version_free(v);
    mlops__free(c.user);
    return rc;
}

int mlops_data_commit_snapshot(mlops_data_version **out, mlops_store *store, const char *dataset,
                               const mlops_oid *snapshot, const mlops_data_commit_options *opts)
{
    if (!snapshot)
        return mlops__error_set(MLOPS_EINVALID, "data_commit_snapshot: NULL snapshot");
    MLOPS__TRY(check_args(store, dataset, opts));
    return commit_checked(out, store, dataset, snapshot, opts);
}

int mlops_data_commit(mlops_data_version **out, mlops_store *store, const char *dataset, const char *path,
                      const mlops_data_commit_options *opts)
{
    if (!path)
        return mlops__error_set(MLOPS_EINVALID, "data_commit: NULL path");
    MLOPS__TRY(check_args(store, dataset, opts));
    mlops_data_snapshot_info info;
    MLOPS__TRY(mlops_data_snapshot(&info, store, path, opts ? opts->snapshot : NULL));
    return commit_checked(out, store, dataset, &info.id, opts);
}
