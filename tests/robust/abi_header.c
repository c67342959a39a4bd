/* Compiled alone as strict C99 by test_abi.sh: the umbrella header must be
 * self-contained and pedantic-clean. Referencing symbols checks that the
 * declarations are usable, not just parseable. */
#include <mlops.h>

int abi_probe(void);
int abi_probe(void)
{
    mlops_store_options opts = MLOPS_STORE_OPTIONS_INIT;
    mlops_gc_options gc = MLOPS_GC_OPTIONS_INIT;
    mlops_oid id;
    const char *(*ver)(void) = mlops_version;
    int (*put)(mlops_oid *, mlops_store *, const void *, size_t) = mlops_object_put;
    (void)gc;
    (void)put;
    if (mlops_oid_fromhex(&id, "00") != MLOPS_OK)
        return (int)opts.version + (ver() != 0);
    return MLOPS_VERSION_NUMBER + MLOPS_ENOTFOUND + MLOPS_ITEROVER;
}
