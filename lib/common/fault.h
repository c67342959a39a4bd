/*
 * Internal, for tests: I/O fault injection. The counters are process-wide
 * test scaffolding (the only mutable globals besides the allocator hook);
 * production code never arms them, and an unarmed check is one relaxed load.
 */
#ifndef MLOPS_LIB_COMMON_FAULT_H
#define MLOPS_LIB_COMMON_FAULT_H

typedef enum mlops__fault_kind {
    MLOPS__FAULT_WRITE = 0,
    MLOPS__FAULT_FSYNC = 1,
    MLOPS__FAULT_RENAME = 2, /* rename and link */
    MLOPS__FAULT_KINDS = 3
} mlops__fault_kind;

/* Makes the nth (1-based) next operation of kind fail with errno err;
 * nth 0 disarms. */
void mlops__fault_arm(mlops__fault_kind kind, unsigned long nth, int err);
/* Disarms everything. */
void mlops__fault_reset(void);
/* Called by the fs helpers: 0, or the errno to fail with. */
int mlops__fault_hit(mlops__fault_kind kind);

#endif
