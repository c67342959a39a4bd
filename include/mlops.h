/*
 * libmlops — umbrella header: includes the whole public API.
 * Each header under include/mlops/ is the reference of one module.
 */
#ifndef MLOPS_H
#define MLOPS_H

#include "mlops/common.h"
#include "mlops/store.h"
#include "mlops/track.h"
#include "mlops/data.h"
#include "mlops/registry.h"
#include "mlops/drift.h"

#endif /* MLOPS_H */
