/* Refs: named mutable pointers to objects, updated by compare-and-swap. */
#include <string.h>

#include "common/error.h"
#include "name_list.h"
#include "object_io.h"
#include "ref_name.h"

int mlops_ref_get(mlops_oid *out, mlops_store *s, const char *name)
{
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "ref_get: NULL argument");
    MLOPS__TRY(mlops__name_check(name, "ref"));
    int rc = s->be.ref_read(&s->be, name, out);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(MLOPS_ENOTFOUND, "ref '%s' not found", name);
    return rc;
}

/* A ref update is a commit point: what the ref will point at (and every
 * earlier write) must be durable before the new value can be seen. */
static int commit_and_set(mlops_store *s, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    if (s->opts.durability == MLOPS_DURABILITY_NONE)
        return s->be.ref_cas(&s->be, name, expected, new_id);
    if (s->be.ref_commit)
        return s->be.ref_commit(&s->be, name, expected, new_id);
    MLOPS__TRY(s->be.sync(&s->be));
    return s->be.ref_cas(&s->be, name, expected, new_id);
}

int mlops_ref_set(mlops_store *s, const char *name, const mlops_oid *new_id, const mlops_oid *expected)
{
    if (!new_id)
        return mlops__error_set(MLOPS_EINVALID, "ref_set: NULL argument");
    MLOPS__TRY(mlops__store_check_writable(s));
    MLOPS__TRY(mlops__name_check(name, "ref"));
    int exists = s->be.obj_exists(&s->be, new_id);
    if (exists < 0)
        return exists;
    if (!exists)
        return mlops__error_set(MLOPS_ENOTFOUND, "ref '%s' cannot point at %s: no such object", name,
                                mlops__hex(new_id).s);
    int rc = commit_and_set(s, name, expected, new_id);
    if (rc == MLOPS_ECONFLICT)
        return mlops__error_set(MLOPS_ECONFLICT, expected ? "ref '%s' does not have the expected value"
                                                          : "ref '%s' already exists", name);
    return rc;
}

int mlops_ref_delete(mlops_store *s, const char *name, const mlops_oid *expected)
{
    MLOPS__TRY(mlops__store_check_writable(s));
    MLOPS__TRY(mlops__name_check(name, "ref"));
    int rc = s->be.ref_cas(&s->be, name, expected, NULL);
    if (rc == MLOPS_ENOTFOUND)
        return mlops__error_set(rc, "ref '%s' not found", name);
    if (rc == MLOPS_ECONFLICT)
        return mlops__error_set(rc, "ref '%s' does not have the expected value", name);
    return rc;
}

int mlops_ref_foreach(mlops_store *s, const char *prefix, mlops_ref_cb cb, void *payload)
{
    if (!s || !cb)
        return mlops__error_set(MLOPS_EINVALID, "ref_foreach: NULL argument");
    MLOPS__TRY(mlops__prefix_check(prefix, "ref"));
    mlops__name_list names = { NULL, 0, 0 };
    int rc = s->be.ref_foreach(&s->be, prefix ? prefix : "", mlops__name_list_add, &names);
    if (rc == 0)
        mlops__name_list_sort(&names);
    size_t plen = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; rc == 0 && i < names.len; i++) {
        mlops_oid id;
        if (plen && strncmp(names.names[i], prefix, plen) != 0)
            continue;
        rc = s->be.ref_read(&s->be, names.names[i], &id);
        if (rc == MLOPS_ENOTFOUND) { /* deleted since the listing */
            rc = 0;
            continue;
        }
        if (rc == 0 && cb(names.names[i], &id, payload) != 0)
            rc = mlops__error_set(MLOPS_EUSER, "ref walk stopped by the callback");
    }
    mlops__name_list_dispose(&names);
    return rc;
}
