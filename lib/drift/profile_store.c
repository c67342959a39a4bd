/*
 * Profiles in the store: the encoded form (profile_codec.c) as an
 * ordinary object, so a profile's id is the hash of its bytes and saving
 * the same profile twice stores it once.
 */
#include "common/alloc.h"
#include "common/error.h"
#include "profile_internal.h"

int mlops_drift_profile_save(mlops_oid *out, mlops_store *s, const mlops_drift_profile *p)
{
    if (!out || !s || !p)
        return mlops__error_set(MLOPS_EINVALID, "profile_save: NULL argument");
    void *data = NULL;
    size_t len = 0;
    MLOPS__TRY(mlops_drift_profile_encode(&data, &len, p));
    int rc = mlops_object_put(out, s, data, len);
    mlops__free(data);
    return rc;
}

int mlops_drift_profile_load(mlops_drift_profile **out, mlops_store *s, const mlops_oid *id)
{
    if (!out || !s || !id)
        return mlops__error_set(MLOPS_EINVALID, "profile_load: NULL argument");
    *out = NULL;
    void *data = NULL;
    size_t len = 0;
    MLOPS__TRY(mlops_object_get(&data, &len, s, id));
    int rc = mlops_drift_profile_decode(out, data, len);
    mlops_free(data);
    return rc;
}
