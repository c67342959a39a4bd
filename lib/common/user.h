/*
 * Internal: who is recorded as the author of a change when the caller
 * names nobody (dataset commits, registry changes).
 */
#ifndef MLOPS_LIB_COMMON_USER_H
#define MLOPS_LIB_COMMON_USER_H

#include <stddef.h>

/* A copy of $USER, else of the effective user's login name, else "", each
 * taken only if non-empty and at most max bytes. NULL: out of memory. */
char *mlops__default_user(size_t max);

#endif
