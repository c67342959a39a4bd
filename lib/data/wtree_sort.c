/*
 * Sorting a directory's children by name (wtree_sort.h).
 *
 * qsort_r of the 80-byte nodes themselves, with a comparison that follows
 * two pointers into the name arena and calls memcmp, was a twentieth of
 * status of an unchanged tree. Here the sort moves 16-byte keys whose
 * first 8 name bytes are packed big-endian into an integer (radix-sorted;
 * only names that tie on those 8 bytes are compared in full); the nodes
 * are then moved once.
 * Names never contain NUL, so zero padding orders a name before every
 * longer name it prefixes, which is bytewise order.
 */
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

/* Orders two keys: by prefix, then (names that tie on 8 bytes) in full. */
static int key_cmp(const mlops__wsort_key *a, const mlops__wsort_key *b, const mlops__wtree *t)
{
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    const mlops__wnode *na = &t->nodes[a->node], *nb = &t->nodes[b->node];
    if (na->name_len <= 8 && nb->name_len <= 8)
        return (na->name_len > nb->name_len) - (na->name_len < nb->name_len);
    return mlops__tree_name_cmp(mlops__wtree_name(t, na), na->name_len, mlops__wtree_name(t, nb), nb->name_len);
}

static void insertion_sort(mlops__wsort_key *k, size_t n, const mlops__wtree *t)
{
    for (size_t i = 1; i < n; i++) {
        mlops__wsort_key x = k[i];
        size_t j = i;
        for (; j > 0 && key_cmp(&x, &k[j - 1], t) < 0; j--)
            k[j] = k[j - 1];
        k[j] = x;
    }
}

/*
 * Least-significant-byte radix sort on the prefixes (stable, 8 passes at
 * most; a pass is skipped when every key has the same byte there, as the
 * leading bytes of similar names do), then runs of equal prefixes put in
 * full name order. A directory's names come from readdir in hash order,
 * so there is no order to exploit, and a comparison sort through a
 * callback was the slow part.
 */
static void radix_sort(mlops__wsort *s, size_t n, const mlops__wtree *t)
{
    mlops__wsort_key *from = s->keys, *to = s->spare;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[256] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[(from[i].prefix >> shift) & 0xff]++;
        if (count[(from[0].prefix >> shift) & 0xff] == n)
            continue;
        size_t pos = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].prefix >> shift) & 0xff]++] = from[i];
        mlops__wsort_key *x = from;
        from = to;
        to = x;
    }
    if (from != s->keys)
        memcpy(s->keys, from, n * sizeof *from);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && s->keys[j].prefix == s->keys[i].prefix)
            j++;
        if (j - i > 1)
            insertion_sort(s->keys + i, j - i, t);
        i = j;
    }
}

static int reserve(mlops__wsort *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < n)
        cap *= 2;
    /* All arrays are replaced together or not at all. */
    mlops__wsort_key *keys = mlops__malloc(cap * sizeof *keys);
    mlops__wsort_key *spare = keys ? mlops__malloc(cap * sizeof *spare) : NULL;
    mlops__wnode *tmp = spare ? mlops__malloc(cap * sizeof *tmp) : NULL;
    if (!tmp) {
        mlops__free(keys);
        mlops__free(spare);
        return mlops__error_oom();
    }
    mlops__free(s->keys);
    mlops__free(s->spare);
    mlops__free(s->tmp);
    s->keys = keys;
    s->spare = spare;
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
    if (count < 32)
        insertion_sort(s->keys, count, t);
    else
        radix_sort(s, count, t);
    for (uint32_t k = 0; k < count; k++)
        s->tmp[k] = t->nodes[s->keys[k].node];
    memcpy(&t->nodes[first], s->tmp, (size_t)count * sizeof *s->tmp);
    return 0;
}

void mlops__wsort_dispose(mlops__wsort *s)
{
    mlops__free(s->keys);
    mlops__free(s->spare);
    mlops__free(s->tmp);
    memset(s, 0, sizeof *s);
}
