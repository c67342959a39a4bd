/* Versioned options structs (options.h). */
#include <string.h>
#include "error.h"
#include "options.h"

int mlops__options_version(unsigned int version, unsigned int expected, const char *what)
{
    if (version != expected)
        return mlops__error_set(MLOPS_EINVALID, "%s options version %u is unknown (expected %u)", what, version,
                                expected);
    return 0;
}

int mlops__options_init(void *opts, const void *defaults, size_t size, unsigned int version, unsigned int expected,
                        const char *what)
{
    if (!opts)
        return mlops__error_set(MLOPS_EINVALID, "%s options: NULL argument", what);
    MLOPS__TRY(mlops__options_version(version, expected, what));
    memcpy(opts, defaults, size);
    return 0;
}
