/*
 * Internal to wtree_scan.c: a scanned directory's children, contiguous in
 * the node array, put in bytewise name order (the manifest's order).
 */
#ifndef MLOPS_LIB_DATA_WTREE_SORT_H
#define MLOPS_LIB_DATA_WTREE_SORT_H

#include "wtree_internal.h"

typedef struct mlops__wsort_key mlops__wsort_key;

/* Scratch memory kept across directories; zero-initialise. */
typedef struct mlops__wsort {
    mlops__wsort_key *keys, *spare; /* spare: the radix sort's other half */
    mlops__wnode *tmp;
    size_t cap;
} mlops__wsort;

/* Sorts nodes first .. first + count - 1 by name. 0 or MLOPS_ENOMEM (the
 * nodes are then unchanged). */
int mlops__wsort_children(mlops__wsort *s, mlops__wtree *t, uint32_t first, uint32_t count);
void mlops__wsort_dispose(mlops__wsort *s);

#endif
