/* Internal: binary search in sorted arrays (no domain knowledge). */
#ifndef MLOPS_LIB_COMMON_SORTED_H
#define MLOPS_LIB_COMMON_SORTED_H

#include <stddef.h>

/* In a sorted array of n elements of size sz: the index of the element
 * equal to key (cmp(element, key) == 0), or of where it would go to keep
 * the order; *found says which. */
size_t mlops__sorted_pos(const void *v, size_t n, size_t sz, int (*cmp)(const void *element, const void *key),
                         const void *key, int *found);

#endif
