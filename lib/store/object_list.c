/* A sorted snapshot of the objects a backend holds. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "object_list.h"

static int add_entry(const mlops_oid *id, uint64_t stored_size, int64_t mtime_sec, void *payload)
{
    mlops__object_list *l = payload;
    if (l->len == l->cap) {
        mlops__object_entry *p = mlops__grow_array(l->items, &l->cap, sizeof *p, 1024);
        if (!p)
            return mlops__error_oom();
        l->items = p;
    }
    l->items[l->len++] = (mlops__object_entry){ *id, stored_size, mtime_sec, 0 };
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return memcmp(((const mlops__object_entry *)a)->id.id, ((const mlops__object_entry *)b)->id.id,
                  MLOPS_OID_RAWSZ);
}

int mlops__object_list_load(mlops__object_list *out, mlops_store *s)
{
    memset(out, 0, sizeof *out);
    int rc = s->be.obj_foreach(&s->be, add_entry, out);
    if (rc != 0) {
        mlops__object_list_dispose(out);
        return rc < 0 ? rc : mlops__error_set(MLOPS_ERROR, "object walk failed");
    }
    if (out->len > 1)
        qsort(out->items, out->len, sizeof *out->items, cmp_entry);
    return 0;
}

mlops__object_entry *mlops__object_list_find(mlops__object_list *l, const mlops_oid *id)
{
    mlops__object_entry key;
    key.id = *id;
    if (!l->len)
        return NULL;
    return bsearch(&key, l->items, l->len, sizeof *l->items, cmp_entry);
}

void mlops__object_list_dispose(mlops__object_list *l)
{
    mlops__free(l->items);
    memset(l, 0, sizeof *l);
}
