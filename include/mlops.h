/*
 * libmlops — umbrella header: includes the whole public API.
 * See include/mlops/*.h for each module's reference.
 */
#ifndef MLOPS_H
#define MLOPS_H

#include "mlops/common.h"
#include "mlops/store.h"

#endif /* MLOPS_H */
