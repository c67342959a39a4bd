/*
 * Resolution of the ref strings data.h accepts: "name", "name@N",
 * "name@tag" and a raw 64-hex snapshot id.
 *
 * A raw id is lowercase only: that is the form every id is printed in
 * (mlops_oid_tohex, pointer files), and refusing the uppercase form keeps
 * one spelling per snapshot. A 64-hex string is always read as an id,
 * never as a dataset name.
 */
#include <string.h>

#include "common/error.h"
#include "data_internal.h"

static int is_raw_id(const char *ref)
{
    size_t n = strlen(ref);
    return n == MLOPS_OID_HEXSZ && strspn(ref, "0123456789abcdef") == n;
}

/* The id of a bare snapshot, if the store has that object. */
static int raw_id(mlops_oid *out, mlops_store *store, const char *ref)
{
    MLOPS__TRY(mlops_oid_fromhex(out, ref));
    int rc = mlops_object_exists(store, out);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return mlops__error_set(MLOPS_ENOTFOUND, "snapshot %s not found", ref);
    return 0;
}

int mlops__data_resolve_id(mlops_oid *out, mlops_store *store, const char *ref)
{
    if (!out || !store || !ref)
        return mlops__error_set(MLOPS_EINVALID, "data_resolve: NULL argument");
    if (is_raw_id(ref))
        return raw_id(out, store, ref);
    return mlops__error_set(MLOPS_ENOTFOUND, "dataset '%.200s' not found", ref);
}
