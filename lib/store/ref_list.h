/* Internal: the refs under a prefix, collected into an array (modules list
 * their runs, datasets and tags this way). */
#ifndef MLOPS_LIB_STORE_REF_LIST_H
#define MLOPS_LIB_STORE_REF_LIST_H

#include <stddef.h>
#include "mlops/store.h"

typedef struct mlops__ref_item {
    char *name; /* the part after the prefix */
    mlops_oid id;
} mlops__ref_item;

/*
 * Collects every ref starting with prefix whose remaining name passes
 * accept (NULL: all), sorted by name. Collecting first lets callers call
 * back into the library while they use the list. Free with
 * mlops__ref_list_free. MLOPS_ENOMEM and the walk's errors.
 */
int mlops__ref_list(mlops__ref_item **out, size_t *count, mlops_store *s, const char *prefix,
                    int (*accept)(const char *name));
void mlops__ref_list_free(mlops__ref_item *items, size_t count);

#endif
