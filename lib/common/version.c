/* Version of the linked library (may differ from the headers compiled against). */
#include "mlops/common.h"

const char *mlops_version(void)
{
    return MLOPS_VERSION_STRING;
}

unsigned int mlops_version_number(void)
{
    return MLOPS_VERSION_NUMBER;
}
