/* Internal: what verify needs from log reading. */
#ifndef MLOPS_LIB_STORE_LOG_INTERNAL_H
#define MLOPS_LIB_STORE_LOG_INTERNAL_H

#include "mlops/store.h"

/* Torn or corrupt frames met so far (each ends its segment). */
uint64_t mlops__log_iterator_torn(const mlops_log_iterator *it);

#endif
