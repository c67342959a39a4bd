/*
 * Every directory's manifest of a scanned tree, bottom-up
 * (mlops__wtree_build_manifests).
 *
 * A manifest needs its subdirectories' ids, so directories are done level
 * by level from the deepest. The breadth-first layout keeps each level a
 * contiguous range of nodes, and the directories of one level are
 * independent: a level with enough directories is shared with a helper
 * thread (encoding and hashing 100 manifests of 1,000 entries was a tenth
 * of status of an unchanged tree). Each thread writes only the nodes of
 * the directories it takes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "wtree_internal.h"

/* A level with fewer directories than this is done by the calling thread
 * alone: starting a thread costs about as much as a small manifest. */
#define SPLIT_MIN_DIRS 8

static void fill_entry(mlops__tree_entry *e, const mlops__wtree *t, const mlops__wnode *c)
{
    memset(e, 0, sizeof *e);
    e->name = mlops__wtree_name(t, c);
    e->name_len = c->name_len;
    e->type = (mlops_data_type)c->type;
    e->size = c->size;
    e->id = c->id;
    switch (c->type) {
    case MLOPS_DATA_FILE:
        e->flags = c->flags & MLOPS__WN_EXEC ? MLOPS__TREE_EXEC : 0;
        e->files = 1;
        break;
    case MLOPS_DATA_DIR:
        e->files = c->u.d.files;
        break;
    default:
        e->target = mlops__wtree_target(t, c);
        e->target_len = (size_t)c->size;
        break;
    }
}

/* Directory i's entries (skipped children left out) into entries (room
 * for u.d.count of them): their count, and in *size and *files the totals. */
size_t mlops__wtree_dir_entries(mlops__tree_entry *entries, const mlops__wtree *t, uint32_t i, uint64_t *size,
                                uint64_t *files)
{
    const mlops__wnode *d = &t->nodes[i];
    size_t k = 0;
    *size = *files = 0;
    for (uint32_t c = d->u.d.first; c < d->u.d.first + d->u.d.count; c++) {
        const mlops__wnode *child = &t->nodes[c];
        if (child->flags & MLOPS__WN_SKIPPED)
            continue;
        fill_entry(&entries[k], t, child);
        if (child->type != MLOPS_DATA_SYMLINK)
            *size += entries[k].size;
        *files += entries[k].files;
        k++;
    }
    return k;
}

/* One level: directories among nodes lo .. hi - 1, all at one depth. */
typedef struct level_job {
    mlops__wtree *t;
    mlops_store *store;
    uint32_t lo, hi;
    unsigned depth;
    uint32_t most; /* entries of the largest directory */
    atomic_uint_fast32_t next;
    atomic_int stop;
    pthread_mutex_t mu;
    int rc;    /* first failure */
    char *msg; /* its message, from the thread that failed */
} level_job;

static void fail(level_job *j, int rc)
{
    pthread_mutex_lock(&j->mu);
    if (j->rc == 0) {
        j->rc = rc;
        j->msg = mlops__strdup(mlops_error_last());
    }
    pthread_mutex_unlock(&j->mu);
    atomic_store(&j->stop, 1);
}

static void level_work(level_job *j)
{
    mlops__wtree *t = j->t;
    mlops__tree_entry *entries = mlops__calloc(j->most, sizeof *entries);
    if (!entries) {
        fail(j, mlops__error_oom());
        return;
    }
    while (!atomic_load(&j->stop)) {
        uint32_t i = (uint32_t)atomic_fetch_add(&j->next, 1);
        if (i >= j->hi)
            break;
        mlops__wnode *n = &t->nodes[i];
        if (!mlops__wnode_is_dir(n))
            continue;
        uint64_t size, files;
        size_t k = mlops__wtree_dir_entries(entries, t, i, &size, &files);
        int rc = mlops__tree_put(&n->id, j->store, entries, k, j->depth);
        if (rc < 0) {
            fail(j, rc);
            break;
        }
        n->size = size;
        n->u.d.files = files;
    }
    mlops__free(entries);
}

static void *helper_main(void *arg)
{
    level_work(arg);
    return NULL;
}

static int run_level(mlops__wtree *t, mlops_store *store, uint32_t lo, uint32_t hi, unsigned depth, uint32_t most,
                     uint32_t ndirs, int split)
{
    level_job j = { .t = t, .store = store, .lo = lo, .hi = hi, .depth = depth, .most = most };
    atomic_init(&j.next, lo);
    atomic_init(&j.stop, 0);
    if (pthread_mutex_init(&j.mu, NULL) != 0)
        split = 0; /* nothing shared, nothing to lock */
    pthread_t th;
    /* No thread is no error: the calling thread takes every directory. */
    int helper = split && ndirs >= SPLIT_MIN_DIRS && pthread_create(&th, NULL, helper_main, &j) == 0;
    level_work(&j);
    if (helper)
        pthread_join(th, NULL);
    if (split)
        pthread_mutex_destroy(&j.mu);
    int rc = j.rc;
    if (rc < 0)
        rc = j.msg ? mlops__error_set(rc, "%s", j.msg) : mlops__error_set(rc, "manifest: failed");
    mlops__free(j.msg);
    return rc;
}

int mlops__wtree_build_manifests(mlops__wtree *t, mlops_store *store)
{
    int split = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    /* From the deepest level up; depths never decrease along the nodes. */
    uint32_t hi = t->count;
    while (hi > 0) {
        unsigned depth = mlops__wtree_dir_depth(t, hi - 1);
        uint32_t lo = hi - 1, most = 1, ndirs = 0;
        /* Siblings share a depth: only a change of parent can change it. */
        while (lo > 0 && (t->nodes[lo - 1].parent == t->nodes[lo].parent ||
                          mlops__wtree_dir_depth(t, lo - 1) == depth))
            lo--;
        for (uint32_t i = lo; i < hi; i++) {
            const mlops__wnode *n = &t->nodes[i];
            if (!mlops__wnode_is_dir(n))
                continue;
            ndirs++;
            if (n->u.d.count > most)
                most = n->u.d.count;
        }
        if (ndirs)
            MLOPS__TRY(run_level(t, store, lo, hi, depth, most, ndirs, split));
        hi = lo;
    }
    return 0;
}
