/* mlops_data_diff_versions and the diff's release. */
#include "common/alloc.h"
#include "common/error.h"
#include "tree_diff.h"

void mlops_data_diff_free(mlops_data_diff *diff)
{
    if (!diff)
        return;
    for (size_t k = 0; k < diff->count; k++) {
        mlops__free(diff->changes[k].path);
        mlops__free(diff->changes[k].old_path);
    }
    mlops__free(diff->changes);
    mlops__free(diff);
}

int mlops_data_diff_versions(mlops_data_diff **out, mlops_store *store, const char *a, const char *b)
{
    if (out)
        *out = NULL;
    if (!out || !store || !a || !b)
        return mlops__error_set(MLOPS_EINVALID, "data_diff_versions: NULL argument");
    mlops_oid old_root, new_root;
    int rc = mlops__data_resolve_id(&old_root, store, a);
    if (rc < 0)
        return mlops__error_prefix(rc, "diff: '%.200s'", a);
    rc = mlops__data_resolve_id(&new_root, store, b);
    if (rc < 0)
        return mlops__error_prefix(rc, "diff: '%.200s'", b);
    return mlops__tree_diff(out, store, &old_root, &new_root, NULL, NULL);
}
