/* Internal: every allocation goes through the allocator hook. */
#ifndef MLOPS_LIB_COMMON_ALLOC_H
#define MLOPS_LIB_COMMON_ALLOC_H

#include <stddef.h>

void *mlops__malloc(size_t n);
void *mlops__calloc(size_t count, size_t size); /* overflow-checked */
void *mlops__realloc(void *p, size_t n);
void mlops__free(void *p);
char *mlops__strdup(const char *s);
char *mlops__strndup(const char *s, size_t n);
void *mlops__memdup(const void *p, size_t n);
/* Growable arrays: the array arr of *cap elements of elem bytes
 * reallocated with its capacity doubled (first when *cap is 0), *cap
 * updated; NULL (arr and *cap intact) when out of memory or on overflow. */
void *mlops__grow_array(void *arr, size_t *cap, size_t elem, size_t first);

/* zlib's zalloc/zfree signatures, routed through the hook. */
void *mlops__zalloc(void *opaque, unsigned int items, unsigned int size);
void mlops__zfree(void *opaque, void *p);

#endif
