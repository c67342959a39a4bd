/* Internal: a growable byte buffer, always NUL-terminated when non-empty. */
#ifndef MLOPS_LIB_COMMON_BUF_H
#define MLOPS_LIB_COMMON_BUF_H

#include <stddef.h>
#include "error.h"

typedef struct mlops__buf {
    char *ptr;
    size_t len;
    size_t cap;
} mlops__buf;

#define MLOPS__BUF_INIT { NULL, 0, 0 }

/* Makes room for extra more bytes (plus a NUL). MLOPS_ENOMEM on failure. */
int mlops__buf_grow(mlops__buf *b, size_t extra);
int mlops__buf_put(mlops__buf *b, const void *data, size_t len);
int mlops__buf_puts(mlops__buf *b, const char *s);
int mlops__buf_printf(mlops__buf *b, const char *fmt, ...) MLOPS__PRINTF(2, 3);
void mlops__buf_clear(mlops__buf *b);
void mlops__buf_dispose(mlops__buf *b);
/* Hands the bytes to the caller (release with mlops__free); b becomes empty. */
char *mlops__buf_detach(mlops__buf *b, size_t *len);

#endif
