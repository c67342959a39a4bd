/*
 * Internal: the profile handle, shared by profile.c (building, merging,
 * queries), profile_codec.c (the serialized form), profile_compare.c and
 * profile_store.c.
 */
#ifndef MLOPS_LIB_DRIFT_PROFILE_INTERNAL_H
#define MLOPS_LIB_DRIFT_PROFILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mlops/drift.h"
#include "sketch.h"

/* Histogram edges beyond this are refused (by new and by decode). */
#define MLOPS__DRIFT_PROFILE_MAX_EDGES (1u << 20)

struct mlops_drift_profile {
    mlops_drift_column_type type;
    uint64_t count;   /* values counted (missing excluded) */
    uint64_t missing; /* NaN and ±Inf, or codes < 0 */

    /* Numeric. While count is 0: min, max, mean, mean_lo and m2 are 0. */
    double min, max;
    double mean, mean_lo; /* the mean as a double-double: mean + mean_lo */
    double m2;            /* sum of squared deviations from the mean */
    double *edges;    /* nedges (0 or >= 2), strictly increasing, finite */
    size_t nedges;
    uint64_t *hist;   /* nedges - 1 counts */
    uint32_t sketch_k;
    mlops__drift_sketch sk; /* sk.weight == count */

    /* Categorical: codes ascending, each count >= 1, sum == count. */
    int64_t *codes;
    uint64_t *ccounts;
    size_t ncat;
};

/* A profile with no values of the given type, edges (copied) and
 * sketch_k (already validated). Errors: MLOPS_ENOMEM. */
int mlops__drift_profile_create(mlops_drift_profile **out, mlops_drift_column_type type, const double *edges,
                                size_t nedges, uint32_t sketch_k);

/* Checks histogram edges as new and decode accept them; what names the
 * caller in the message. Returns 0 or code (MLOPS_EINVALID from new,
 * MLOPS_ECORRUPT from decode). */
int mlops__drift_profile_check_edges(const double *edges, size_t nedges, int code, const char *what);

#endif
