/* Collecting the refs under a prefix (see ref_list.h). */
#include <stdlib.h>
#include <string.h>
#include "common/alloc.h"
#include "common/error.h"
#include "ref_list.h"

typedef struct collector {
    size_t prefix_len;
    int (*accept)(const char *name);
    mlops__ref_item *items;
    size_t n, cap;
    int oom;
} collector;

static int collect(const char *ref, const mlops_oid *id, void *payload)
{
    collector *c = payload;
    const char *name = ref + c->prefix_len;
    if (c->accept && !c->accept(name))
        return 0; /* a name under the prefix the caller does not own */
    if (c->n == c->cap) {
        mlops__ref_item *p = mlops__grow_array(c->items, &c->cap, sizeof *p, 64);
        if (!p)
            return c->oom = 1;
        c->items = p;
    }
    if (!(c->items[c->n].name = mlops__strdup(name)))
        return c->oom = 1;
    c->items[c->n++].id = *id;
    return 0;
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const mlops__ref_item *)a)->name, ((const mlops__ref_item *)b)->name);
}

int mlops__ref_list(mlops__ref_item **out, size_t *count, mlops_store *s, const char *prefix,
                    int (*accept)(const char *name))
{
    if (!out || !count || !s || !prefix)
        return mlops__error_set(MLOPS_EINVALID, "ref_list: NULL argument");
    collector c = { strlen(prefix), accept, NULL, 0, 0, 0 };
    int rc = mlops_ref_foreach(s, prefix, collect, &c);
    if (c.oom)
        rc = mlops__error_oom(); /* the walk's EUSER message would hide it */
    if (rc < 0) {
        mlops__ref_list_free(c.items, c.n);
        return rc;
    }
    if (c.n > 1)
        qsort(c.items, c.n, sizeof *c.items, item_cmp);
    *out = c.items;
    *count = c.n;
    return 0;
}

void mlops__ref_list_free(mlops__ref_item *items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        mlops__free(items[i].name);
    mlops__free(items);
}
