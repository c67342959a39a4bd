/* Internal: a snapshot of every stored object, for verify and gc. */
#ifndef MLOPS_LIB_STORE_OBJECT_LIST_H
#define MLOPS_LIB_STORE_OBJECT_LIST_H

#include "store_internal.h"

typedef struct mlops__object_entry {
    mlops_oid id;
    uint64_t stored_size;
    int64_t mtime_sec;
    int marked;
} mlops__object_entry;

typedef struct mlops__object_list {
    mlops__object_entry *items;
    size_t len;
    size_t cap;
} mlops__object_list;

/* Lists every object of the backend, sorted by id. */
int mlops__object_list_load(mlops__object_list *out, mlops_store *s);
/* The entry for id, or NULL. */
mlops__object_entry *mlops__object_list_find(mlops__object_list *l, const mlops_oid *id);
void mlops__object_list_dispose(mlops__object_list *l);

#endif
