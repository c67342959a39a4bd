/*
 * The changes between two manifest trees (see tree_diff.h for the rules).
 *
 * The walk is iterative: a stack of directory frames, each merging the
 * sorted entries of its two manifests (or listing one side only, for a
 * directory that exists on one side). A hostile or merely very deep tree
 * therefore costs heap, never C stack. Leaves are collected unsorted:
 * the walk visits "a/b" (inside directory "a") before "a.txt", yet
 * "a.txt" < "a/b" bytewise ('.' < '/'), so one sort at the end puts them
 * in full-path order, then renames are paired.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "tree_diff.h"

enum walk_mode {
    WALK_MERGE,   /* the directory exists on both sides */
    WALK_ADDED,   /* only on the new side: every leaf below is added */
    WALK_REMOVED  /* only on the old side: every leaf below is removed */
};

typedef struct frame {
    enum walk_mode mode;
    mlops__tree old, new; /* WALK_ADDED leaves old empty, WALK_REMOVED new */
    size_t i, j;          /* next entry of old, of new */
    size_t path_len;      /* length of this directory's prefix ("a/b/") */
    unsigned depth;       /* depth of this directory's manifest */
} frame;

typedef struct walk {
    mlops__tree_loader load;
    void *ctx;
    frame *stack;
    size_t nstack, capstack;
    mlops__buf path; /* prefix of the directory being walked */
    mlops_data_diff *d; /* the result: changes collected here */
    size_t cap;         /* of d->changes */
} walk;

int mlops__tree_diff_store_loader(mlops__tree *out, const mlops_oid *id, unsigned depth, void *ctx)
{
    return mlops__tree_load(out, (mlops_store *)ctx, id, depth);
}

/* Records one leaf at the current prefix + the entry's name. */
static int emit(walk *w, mlops_data_change_kind kind, const mlops__tree_entry *o, const mlops__tree_entry *n)
{
    const mlops__tree_entry *e = n ? n : o;
    if (w->d->count == w->cap) {
        mlops_data_change *grown = mlops__grow_array(w->d->changes, &w->cap, sizeof *grown, 64);
        if (!grown)
            return mlops__error_oom();
        w->d->changes = grown;
    }
    mlops_data_change *c = &w->d->changes[w->d->count];
    memset(c, 0, sizeof *c);
    c->path = mlops__malloc(w->path.len + e->name_len + 1);
    if (!c->path)
        return mlops__error_oom();
    if (w->path.len)
        memcpy(c->path, w->path.ptr, w->path.len);
    memcpy(c->path + w->path.len, e->name, e->name_len);
    c->path[w->path.len + e->name_len] = '\0';
    c->kind = kind;
    if (o) {
        c->old_type = o->type;
        c->old_id = o->id;
        c->old_size = o->size;
    }
    if (n) {
        c->new_type = n->type;
        c->new_id = n->id;
        c->new_size = n->size;
    }
    w->d->count++;
    return 0;
}

/* Enters directory entry o and/or n (the one given for a one-sided mode).
 * An empty directory is a leaf: reported here when it faces a non-empty
 * one or nothing, since its frame has no entries to report. */
static int push(walk *w, enum walk_mode mode, const mlops__tree_entry *o, const mlops__tree_entry *n,
                unsigned depth)
{
    if (w->nstack == w->capstack) {
        frame *grown = mlops__grow_array(w->stack, &w->capstack, sizeof *grown, 16);
        if (!grown)
            return mlops__error_oom();
        w->stack = grown;
    }
    frame *f = &w->stack[w->nstack++];
    memset(f, 0, sizeof *f);
    f->mode = mode;
    f->depth = depth;
    if (o)
        MLOPS__TRY(w->load(&f->old, &o->id, depth, w->ctx));
    if (n)
        MLOPS__TRY(w->load(&f->new, &n->id, depth, w->ctx));
    if (o && f->old.count == 0 && (!n || f->new.count))
        MLOPS__TRY(emit(w, MLOPS_DATA_REMOVED, o, NULL));
    if (n && f->new.count == 0 && (!o || f->old.count))
        MLOPS__TRY(emit(w, MLOPS_DATA_ADDED, NULL, n));
    const mlops__tree_entry *e = n ? n : o;
    MLOPS__TRY(mlops__buf_put(&w->path, e->name, e->name_len));
    MLOPS__TRY(mlops__buf_put(&w->path, "/", 1));
    f->path_len = w->path.len;
    return 0;
}

static void pop(walk *w)
{
    frame *f = &w->stack[--w->nstack];
    mlops__tree_dispose(&f->old);
    mlops__tree_dispose(&f->new);
    w->path.len = w->nstack ? w->stack[w->nstack - 1].path_len : 0;
    if (w->path.ptr)
        w->path.ptr[w->path.len] = '\0';
}

static int one_side(walk *w, mlops_data_change_kind kind, const mlops__tree_entry *e, unsigned depth)
{
    int added = kind == MLOPS_DATA_ADDED;
    if (e->type == MLOPS_DATA_DIR)
        return push(w, added ? WALK_ADDED : WALK_REMOVED, added ? NULL : e, added ? e : NULL, depth);
    return emit(w, kind, added ? NULL : e, added ? e : NULL);
}

/* One name present on both sides. */
static int both_sides(walk *w, const mlops__tree_entry *o, const mlops__tree_entry *n, unsigned depth)
{
    int odir = o->type == MLOPS_DATA_DIR, ndir = n->type == MLOPS_DATA_DIR;
    if (odir && ndir)
        return mlops_oid_cmp(&o->id, &n->id) == 0 ? 0 : push(w, WALK_MERGE, o, n, depth);
    /* The non-directory first: entering the directory moves the prefix. */
    if (odir) {
        MLOPS__TRY(emit(w, MLOPS_DATA_ADDED, NULL, n));
        return push(w, WALK_REMOVED, o, NULL, depth);
    }
    if (ndir) {
        MLOPS__TRY(emit(w, MLOPS_DATA_REMOVED, o, NULL));
        return push(w, WALK_ADDED, NULL, n, depth);
    }
    /* The executable bit is part of a version: a chmod alone is a change,
     * reported with equal ids. */
    if (o->type != n->type || mlops_oid_cmp(&o->id, &n->id) != 0 || o->flags != n->flags)
        return emit(w, MLOPS_DATA_MODIFIED, o, n);
    return 0;
}

/* Advances the top frame by one entry (or pops it when done). */
static int step(walk *w)
{
    frame *f = &w->stack[w->nstack - 1];
    const mlops__tree_entry *o = f->i < f->old.count ? &f->old.entries[f->i] : NULL;
    const mlops__tree_entry *n = f->j < f->new.count ? &f->new.entries[f->j] : NULL;
    unsigned depth = f->depth + 1;
    if (!o && !n) {
        pop(w);
        return 0;
    }
    int c = !o ? 1 : !n ? -1 : mlops__tree_name_cmp(o->name, o->name_len, n->name, n->name_len);
    /* Advance before acting: acting may push and move the stack. */
    f->i += c <= 0;
    f->j += c >= 0;
    if (c < 0)
        return one_side(w, MLOPS_DATA_REMOVED, o, depth);
    if (c > 0)
        return one_side(w, MLOPS_DATA_ADDED, n, depth);
    return both_sides(w, o, n, depth);
}

static int kind_rank(mlops_data_change_kind k)
{
    return k == MLOPS_DATA_REMOVED ? 0 : k == MLOPS_DATA_ADDED ? 1 : 2;
}

static int change_cmp(const void *pa, const void *pb)
{
    const mlops_data_change *a = pa, *b = pb;
    int c = strcmp(a->path, b->path); /* compares as unsigned char: bytewise */
    if (c)
        return c;
    return kind_rank(a->kind) - kind_rank(b->kind);
}

/* A removed leaf, keyed for rename pairing: (type, id, path order). */
typedef struct rename_key {
    mlops_data_type type;
    const mlops_oid *id;
    size_t index; /* into the sorted changes: path order */
} rename_key;

static int key_cmp_content(const rename_key *a, mlops_data_type type, const mlops_oid *id)
{
    if (a->type != type)
        return a->type < type ? -1 : 1;
    return mlops_oid_cmp(a->id, id);
}

static int rename_key_cmp(const void *pa, const void *pb)
{
    const rename_key *a = pa, *b = pb;
    int c = key_cmp_content(a, b->type, b->id);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* First key of the group (type, id), or n. */
static size_t group_start(const rename_key *keys, size_t n, mlops_data_type type, const mlops_oid *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp_content(&keys[mid], type, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && key_cmp_content(&keys[lo], type, id) == 0 ? lo : n;
}

/*
 * Only leaves with content can be followed: every empty file (and every
 * empty directory) has the same id, so pairing them would match unrelated
 * paths at random, as git's rename detection also refuses to.
 */
static int renamable(mlops_data_type type, uint64_t size)
{
    return type == MLOPS_DATA_SYMLINK || (type == MLOPS_DATA_FILE && size > 0);
}

/*
 * Turns added + removed leaves of equal type and id into RENAMED, on the
 * sorted list. Within a group the removed leaves are taken in path order,
 * so a per-group counter (kept at the group's first key) finds the next
 * free one in O(1): many identical files stay O(n log n).
 */
static int pair_renames(walk *w)
{
    size_t nrem = 0;
    for (size_t k = 0; k < w->d->count; k++) {
        const mlops_data_change *c = &w->d->changes[k];
        nrem += c->kind == MLOPS_DATA_REMOVED && renamable(c->old_type, c->old_size);
    }
    if (nrem == 0)
        return 0;
    rename_key *keys = mlops__calloc(nrem, sizeof *keys);
    size_t *taken = mlops__calloc(nrem, sizeof *taken);
    if (!keys || !taken) {
        mlops__free(keys);
        mlops__free(taken);
        return mlops__error_oom();
    }
    size_t r = 0;
    for (size_t k = 0; k < w->d->count; k++) {
        mlops_data_change *c = &w->d->changes[k];
        if (c->kind == MLOPS_DATA_REMOVED && renamable(c->old_type, c->old_size))
            keys[r++] = (rename_key){ c->old_type, &c->old_id, k };
    }
    qsort(keys, nrem, sizeof *keys, rename_key_cmp);
    for (size_t k = 0; k < w->d->count; k++) {
        mlops_data_change *a = &w->d->changes[k];
        if (a->kind != MLOPS_DATA_ADDED || !renamable(a->new_type, a->new_size))
            continue;
        size_t g = group_start(keys, nrem, a->new_type, &a->new_id);
        if (g == nrem)
            continue;
        size_t slot = g + taken[g];
        if (slot >= nrem || key_cmp_content(&keys[slot], a->new_type, &a->new_id) != 0)
            continue;
        taken[g]++;
        mlops_data_change *rm = &w->d->changes[keys[slot].index];
        a->kind = MLOPS_DATA_RENAMED;
        a->old_path = rm->path;
        a->old_type = rm->old_type;
        a->old_id = rm->old_id;
        a->old_size = rm->old_size;
        rm->path = NULL;
        rm->kind = 0; /* dropped below */
    }
    mlops__free(keys);
    mlops__free(taken);
    size_t kept = 0;
    for (size_t k = 0; k < w->d->count; k++)
        if (w->d->changes[k].kind)
            w->d->changes[kept++] = w->d->changes[k];
    w->d->count = kept;
    return 0;
}

static void count_kinds(mlops_data_diff *d)
{
    for (size_t k = 0; k < d->count; k++) {
        switch (d->changes[k].kind) {
        case MLOPS_DATA_ADDED: d->added++; break;
        case MLOPS_DATA_REMOVED: d->removed++; break;
        case MLOPS_DATA_MODIFIED: d->modified++; break;
        case MLOPS_DATA_RENAMED: d->renamed++; break;
        }
    }
}

/* Loads both roots into the walk's first frame (once when they are equal:
 * then there is nothing to walk and only the totals are wanted). */
static int push_roots(walk *w, const mlops_oid *old_root, const mlops_oid *new_root)
{
    w->stack = mlops__calloc(16, sizeof *w->stack);
    if (!w->stack)
        return mlops__error_oom();
    w->capstack = 16;
    w->nstack = 1;
    frame *f = &w->stack[0];
    f->mode = WALK_MERGE;
    MLOPS__TRY(w->load(&f->old, old_root, 0, w->ctx));
    if (mlops_oid_cmp(old_root, new_root) != 0)
        MLOPS__TRY(w->load(&f->new, new_root, 0, w->ctx));
    return 0;
}

int mlops__tree_diff(mlops_data_diff **out, mlops_store *store, const mlops_oid *old_root,
                     const mlops_oid *new_root, mlops__tree_loader load, void *ctx)
{
    if (!out || !old_root || !new_root || (!load && !store))
        return mlops__error_set(MLOPS_EINVALID, "tree_diff: NULL argument");
    *out = NULL;
    walk w = { load ? load : mlops__tree_diff_store_loader, load ? ctx : (void *)store, NULL, 0, 0,
               MLOPS__BUF_INIT, NULL, 0 };
    mlops_data_diff *d = w.d = mlops__calloc(1, sizeof *w.d);
    int rc = d ? push_roots(&w, old_root, new_root) : mlops__error_oom();
    if (rc < 0)
        goto done;
    d->old_size = w.stack[0].old.size;
    d->old_files = w.stack[0].old.files;
    d->new_size = d->old_size;
    d->new_files = d->old_files;
    if (mlops_oid_cmp(old_root, new_root) != 0) {
        d->new_size = w.stack[0].new.size;
        d->new_files = w.stack[0].new.files;
        while (rc == 0 && w.nstack)
            rc = step(&w);
    }
    if (rc == 0 && d->count > 1)
        qsort(d->changes, d->count, sizeof *d->changes, change_cmp);
    if (rc == 0)
        rc = pair_renames(&w);
    if (rc == 0) {
        count_kinds(d);
        *out = d;
        w.d = NULL;
    }
done:
    while (w.nstack)
        pop(&w);
    mlops__free(w.stack);
    mlops__buf_dispose(&w.path);
    mlops_data_diff_free(w.d);
    return rc;
}
