/* A growable byte buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

int mlops__buf_grow(mlops__buf *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return mlops__error_oom();
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    char *p = mlops__realloc(b->ptr, cap);
    if (!p)
        return mlops__error_oom();
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int mlops__buf_put(mlops__buf *b, const void *data, size_t len)
{
    MLOPS__TRY(mlops__buf_grow(b, len));
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int mlops__buf_puts(mlops__buf *b, const char *s)
{
    return mlops__buf_put(b, s, strlen(s));
}

int mlops__buf_printf(mlops__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return mlops__error_set(MLOPS_EINVALID, "bad format string");
    MLOPS__TRY(mlops__buf_grow(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void mlops__buf_clear(mlops__buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

void mlops__buf_dispose(mlops__buf *b)
{
    mlops__free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

char *mlops__buf_detach(mlops__buf *b, size_t *len)
{
    char *p = b->ptr;
    if (len)
        *len = b->len;
    if (!p)
        p = mlops__calloc(1, 1);
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
