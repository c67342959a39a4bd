/*
 * libmlops — common definitions: version, error codes, last error, allocator.
 *
 * Caveats (read first):
 *  - Every function that can fail returns 0 on success or a negative MLOPS_E*
 *    code. The codes below never change value.
 *  - mlops_error_last() is per thread and describes the last failure on the
 *    calling thread only; a successful call does not clear it.
 *  - Memory returned by the library is released with mlops_free().
 *  - mlops_allocator_set() must be called before any other call of the
 *    library, or while no other thread uses it: memory is released by the
 *    allocator that was current when it was taken.
 */
#ifndef MLOPS_COMMON_H
#define MLOPS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(MLOPS_BUILDING)
#define MLOPS_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define MLOPS_API __attribute__((visibility("default")))
#else
#define MLOPS_API
#endif

#define MLOPS_VERSION_MAJOR 0
#define MLOPS_VERSION_MINOR 1
#define MLOPS_VERSION_PATCH 0
#define MLOPS_VERSION_NUMBER \
    (MLOPS_VERSION_MAJOR * 10000 + MLOPS_VERSION_MINOR * 100 + MLOPS_VERSION_PATCH)
#define MLOPS_VERSION_STRING "0.1.0"

/* Version of the library actually linked, as "MAJOR.MINOR.PATCH". */
MLOPS_API const char *mlops_version(void);
/* MLOPS_VERSION_NUMBER of the library actually linked. */
MLOPS_API unsigned int mlops_version_number(void);

/*
 * The error table: X(NAME, value, message). Values are fixed forever; new
 * codes are only ever appended with fresh values.
 */
#define MLOPS_ERROR_MAP(X)                                                   \
    X(OK, 0, "success")                                                      \
    X(ERROR, -1, "unspecified error")                                        \
    X(ENOMEM, -2, "out of memory")                                           \
    X(ENOTFOUND, -3, "not found")                                            \
    X(EEXISTS, -4, "already exists")                                         \
    X(EINVALID, -5, "invalid argument")                                      \
    X(ECORRUPT, -6, "corrupt data")                                          \
    X(ECONFLICT, -7, "conflicting concurrent update")                        \
    X(EIO, -8, "input/output error")                                         \
    X(ELOCKED, -9, "resource is locked")                                     \
    X(EUNSUPPORTED, -10, "unsupported format or operation")                  \
    X(EUSER, -11, "stopped by a callback")                                   \
    X(ENOSPACE, -12, "no space left on device")                              \
    X(EPERM, -13, "permission denied")                                       \
    X(ITEROVER, -30, "iteration is over")

typedef enum mlops_error_code {
#define MLOPS__ERROR_ENUM(name, value, msg) MLOPS_##name = (value),
    MLOPS_ERROR_MAP(MLOPS__ERROR_ENUM)
#undef MLOPS__ERROR_ENUM
    MLOPS__ERROR_CODE_END_ = -1000
} mlops_error_code;

/* Static description of an error code ("not found"); never NULL. */
MLOPS_API const char *mlops_strerror(int code);
/* Symbolic name of an error code without prefix ("ENOTFOUND"); never NULL. */
MLOPS_API const char *mlops_error_name(int code);
/*
 * One-line message about the last failure on this thread, e.g.
 * "ref name 'a//b' has an empty component". Never NULL ("" if none yet).
 * Valid until the next failing call on this thread.
 */
MLOPS_API const char *mlops_error_last(void);
/* Code of the last failure on this thread (0 if none yet). */
MLOPS_API int mlops_error_last_code(void);

/*
 * Allocator hook. Every allocation of the library goes through it, zlib's
 * included. ctx is passed back unchanged. realloc(NULL, n) must behave as
 * malloc(n); free(NULL) must be a no-op.
 */
typedef struct mlops_allocator {
    void *(*malloc)(size_t size, void *ctx);
    void *(*realloc)(void *ptr, size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} mlops_allocator;

/* Installs a (copied) allocator; NULL restores malloc/realloc/free.
 * Returns MLOPS_EINVALID if a function pointer is missing. */
MLOPS_API int mlops_allocator_set(const mlops_allocator *allocator);

/* Releases memory returned by the library. mlops_free(NULL) is a no-op. */
MLOPS_API void mlops_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_COMMON_H */
