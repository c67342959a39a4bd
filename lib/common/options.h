/* Internal: the versioned options structs every module's API takes
 * (DESIGN.md §2): one check of the version, one way to fill defaults. */
#ifndef MLOPS_LIB_COMMON_OPTIONS_H
#define MLOPS_LIB_COMMON_OPTIONS_H

#include <stddef.h>

/* MLOPS_EINVALID (message naming what) unless version == expected. */
int mlops__options_version(unsigned int version, unsigned int expected, const char *what);

/* The body of every mlops_*_options_init: checks opts and version, then
 * copies size bytes of defaults into opts. */
int mlops__options_init(void *opts, const void *defaults, size_t size, unsigned int version, unsigned int expected,
                        const char *what);

#endif
