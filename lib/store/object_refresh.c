/*
 * mlops__object_refresh (object_links.h): touches an object's closure so
 * that a gc running meanwhile keeps it. gc deletes an unmarked object
 * only if a fresh stat still finds it old (gc.c, still_old), so refreshing
 * every object of the closure before the reference is published is what
 * a put of the same content would have done. Shared subtrees (a dataset's
 * manifests) are visited once.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "object_io.h"
#include "object_links.h"
#include "store_internal.h"

/* Ids seen: open addressing on the id's first 8 bytes (already uniform). */
typedef struct seen_set {
    mlops_oid *slots;
    unsigned char *used;
    size_t cap, len;
} seen_set;

static size_t slot_of(const seen_set *t, const mlops_oid *id)
{
    uint64_t h;
    memcpy(&h, id->id, sizeof h);
    size_t i = (size_t)h & (t->cap - 1);
    while (t->used[i] && memcmp(&t->slots[i], id, sizeof *id) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static int seen_grow(seen_set *t)
{
    seen_set n = { NULL, NULL, t->cap ? t->cap * 2 : 64, 0 };
    n.slots = mlops__calloc(n.cap, sizeof *n.slots);
    n.used = mlops__calloc(n.cap, 1);
    if (!n.slots || !n.used) {
        mlops__free(n.slots);
        mlops__free(n.used);
        return mlops__error_oom();
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->used[i]) {
            size_t j = slot_of(&n, &t->slots[i]);
            n.slots[j] = t->slots[i];
            n.used[j] = 1;
            n.len++;
        }
    mlops__free(t->slots);
    mlops__free(t->used);
    *t = n;
    return 0;
}

/* 1 if id was new (now added), 0 if seen, or MLOPS_ENOMEM. */
static int seen_add(seen_set *t, const mlops_oid *id)
{
    if ((t->len + 1) * 2 > t->cap)
        MLOPS__TRY(seen_grow(t));
    size_t i = slot_of(t, id);
    if (t->used[i])
        return 0;
    t->slots[i] = *id;
    t->used[i] = 1;
    t->len++;
    return 1;
}

typedef struct walk {
    seen_set seen;
    mlops_oid *stack;
    size_t len, cap;
} walk;

static int push(void *payload, const mlops_oid *id)
{
    walk *w = payload;
    int fresh = seen_add(&w->seen, id);
    if (fresh <= 0)
        return fresh;
    if (w->len == w->cap) {
        mlops_oid *p = mlops__grow_array(w->stack, &w->cap, sizeof *p, 64);
        if (!p)
            return mlops__error_oom();
        w->stack = p;
    }
    w->stack[w->len++] = *id;
    return 0;
}

int mlops__object_refresh(mlops_store *s, const mlops_oid *root, int64_t min_age_seconds)
{
    if (!s->obj_touch)
        return 0;
    uint64_t size = 0;
    int64_t mtime = 0;
    int rc = s->be.obj_stat(&s->be, root, &size, &mtime);
    if (rc == 0 && mlops__time_ms() / 1000 - mtime < min_age_seconds)
        return 0;
    walk w;
    memset(&w, 0, sizeof w);
    if (rc == 0 || rc == MLOPS_ENOTFOUND)
        rc = push(&w, root);
    while (rc == 0 && w.len > 0) {
        mlops_oid id = w.stack[--w.len];
        int there = s->obj_touch(&s->be, &id, &size);
        if (there == 0)
            rc = mlops__error_set(MLOPS_ENOTFOUND, "object %s is not in the store", mlops__hex(&id).s);
        else if (there < 0)
            rc = there;
        else
            rc = mlops__object_foreach_link(s, &id, push, &w);
    }
    mlops__free(w.stack);
    mlops__free(w.seen.slots);
    mlops__free(w.seen.used);
    return rc;
}
