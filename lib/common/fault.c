/* I/O fault injection for tests (see fault.h). */
#include <stdatomic.h>

#include "fault.h"

static atomic_ulong countdown[MLOPS__FAULT_KINDS];
static atomic_int fault_errno[MLOPS__FAULT_KINDS];

void mlops__fault_arm(mlops__fault_kind kind, unsigned long nth, int err)
{
    atomic_store(&fault_errno[kind], err);
    atomic_store(&countdown[kind], nth);
}

void mlops__fault_reset(void)
{
    for (int k = 0; k < MLOPS__FAULT_KINDS; k++)
        atomic_store(&countdown[k], 0);
}

int mlops__fault_hit(mlops__fault_kind kind)
{
    unsigned long n = atomic_load_explicit(&countdown[kind], memory_order_relaxed);
    if (n == 0)
        return 0;
    /* Only the call that takes the counter from 1 to 0 fails. */
    while (n && !atomic_compare_exchange_weak(&countdown[kind], &n, n - 1))
        ;
    return n == 1 ? atomic_load(&fault_errno[kind]) : 0;
}
