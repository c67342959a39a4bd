/*
 * fs backend: the store directory, for modules that keep derived files
 * beside the objects (the data module's link cache, data-cache/).
 */
#include <string.h>

#include "fs_internal.h"
#include "store/store_internal.h"

const char *mlops__store_fs_root(mlops_store *s)
{
    if (!s || !s->be.payload)
        return NULL;
    /* The vtable tells the backend: a custom or memory backend never holds
     * the fs backend's own functions, whatever its payload is. */
    mlops_backend fs;
    memset(&fs, 0, sizeof fs);
    mlops__fsb_objects_setup(&fs);
    if (s->be.obj_read_open != fs.obj_read_open)
        return NULL;
    return mlops__fsb_of(&s->be)->root;
}
