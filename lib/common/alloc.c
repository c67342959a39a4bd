/* The allocator hook: every allocation of the library, zlib's included. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

static void *default_malloc(size_t n, void *ctx)
{
    (void)ctx;
    return malloc(n);
}

static void *default_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    return realloc(p, n);
}

static void default_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

/* The one piece of global mutable state (DESIGN.md §9): set before use. */
static mlops_allocator current = { default_malloc, default_realloc, default_free, NULL };

int mlops_allocator_set(const mlops_allocator *a)
{
    if (!a) {
        current = (mlops_allocator){ default_malloc, default_realloc, default_free, NULL };
        return 0;
    }
    if (!a->malloc || !a->realloc || !a->free)
        return mlops__error_set(MLOPS_EINVALID, "allocator is missing a function");
    current = *a;
    return 0;
}

void *mlops__malloc(size_t n)
{
    /* malloc(0) may return NULL legitimately; never ask for 0 bytes. */
    return current.malloc(n ? n : 1, current.ctx);
}

void *mlops__calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    void *p = mlops__malloc(count * size);
    if (p)
        memset(p, 0, count * size > 0 ? count * size : 1);
    return p;
}

void *mlops__realloc(void *p, size_t n)
{
    return current.realloc(p, n ? n : 1, current.ctx);
}

void mlops__free(void *p)
{
    if (p)
        current.free(p, current.ctx);
}

void mlops_free(void *p)
{
    mlops__free(p);
}

void *mlops__memdup(const void *p, size_t n)
{
    void *q = mlops__malloc(n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *mlops__strndup(const char *s, size_t n)
{
    char *q = mlops__malloc(n + 1);
    if (q) {
        memcpy(q, s, n);
        q[n] = '\0';
    }
    return q;
}

char *mlops__strdup(const char *s)
{
    return mlops__strndup(s, strlen(s));
}

void *mlops__zalloc(void *opaque, unsigned int items, unsigned int size)
{
    (void)opaque;
    return mlops__calloc(items, size);
}

void mlops__zfree(void *opaque, void *p)
{
    (void)opaque;
    mlops__free(p);
}

void *mlops__grow_array(void *arr, size_t *cap, size_t elem, size_t first)
{
    size_t n = *cap ? *cap * 2 : first;
    if (n < *cap || n > SIZE_MAX / elem)
        return NULL;
    void *p = mlops__realloc(arr, n * elem);
    if (p)
        *cap = n;
    return p;
}
