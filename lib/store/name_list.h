/* Internal: a sorted list of names collected from a backend walk. */
#ifndef MLOPS_LIB_STORE_NAME_LIST_H
#define MLOPS_LIB_STORE_NAME_LIST_H

#include <stddef.h>

typedef struct mlops__name_list {
    char **names;
    size_t len;
    size_t cap;
} mlops__name_list;

/* A mlops_backend_name_cb: appends a copy of name (payload: the list).
 * Returns MLOPS_ENOMEM through the walk on failure. */
int mlops__name_list_add(const char *name, void *payload);
/* Sorts bytewise and drops duplicates. */
void mlops__name_list_sort(mlops__name_list *l);
void mlops__name_list_dispose(mlops__name_list *l);

#endif
