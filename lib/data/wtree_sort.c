/*
 * Sorting a directory's children by name (wtree_sort.h).
 *
 * qsort_r of the 80-byte nodes themselves, with a comparison that follows
 * two pointers into the name arena and calls memcmp, was a twentieth of
 * status of an unchanged tree. Here the sort moves 16-byte keys whose
 * first 8 name bytes are packed big-endian into an integer, so most
 * comparisons are one integer comparison; the nodes are then moved once.
 * Names never contain NUL, so zero padding orders a name before every
 * longer name it prefixes, which is bytewise order.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "wtree_sort.h"

struct mlops__wsort_key {
    uint64_t prefix;
    uint32_t node;
};

static uint64_t name_prefix(const char *name, size_t len)
{
    uint64_t v = 0;
    for (size_t k = 0; k < 8; k++)
        v = v << 8 | (k < len ? (unsigned char)name[k] : 0);
    return v;
}

static int key_cmp(const void *pa, const void *pb, void *arg)
{
    const mlops__wsort_key *a = pa, *b = pb;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    const mlops__wtree *t = arg;
    const mlops__wnode *na = &t->nodes[a->node], *nb = &t->nodes[b->node];
    if (na->name_len <= 8 && nb->name_len <= 8)
        return (na->name_len > nb->name_len) - (na->name_len < nb->name_len);
    return mlops__tree_name_cmp(mlops__wtree_name(t, na), na->name_len, mlops__wtree_name(t, nb), nb->name_len);
}

static int reserve(mlops__wsort *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < n)
        cap *= 2;
    /* Both arrays are replaced together or not at all. */
    mlops__wsort_key *keys = mlops__malloc(cap * sizeof *keys);
    mlops__wnode *tmp = keys ? mlops__malloc(cap * sizeof *tmp) : NULL;
    if (!tmp) {
        mlops__free(keys);
        return mlops__error_oom();
    }
    mlops__free(s->keys);
    mlops__free(s->tmp);
    s->keys = keys;
    s->tmp = tmp;
    s->cap = cap;
    return 0;
}

int mlops__wsort_children(mlops__wsort *s, mlops__wtree *t, uint32_t first, uint32_t count)
{
    if (count < 2)
        return 0;
    MLOPS__TRY(reserve(s, count));
    for (uint32_t k = 0; k < count; k++) {
        const mlops__wnode *n = &t->nodes[first + k];
        s->keys[k].prefix = name_prefix(mlops__wtree_name(t, n), n->name_len);
        s->keys[k].node = first + k;
    }
    qsort_r(s->keys, count, sizeof *s->keys, key_cmp, t);
    for (uint32_t k = 0; k < count; k++)
        s->tmp[k] = t->nodes[s->keys[k].node];
    memcpy(&t->nodes[first], s->tmp, (size_t)count * sizeof *s->tmp);
    return 0;
}

void mlops__wsort_dispose(mlops__wsort *s)
{
    mlops__free(s->keys);
    mlops__free(s->tmp);
    memset(s, 0, sizeof *s);
}
