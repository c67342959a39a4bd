/*
 * Loading a stat cache on a thread of its own (statcache.h).
 *
 * Status of an unchanged tree is a scan plus cache lookups; the cache's
 * load (read, inflate, validate: about a tenth of status for 100,000
 * files) needs only the tree's real path, so it runs while the tree is
 * scanned. The thread only calls mlops__statcache_load, which fails only
 * with ENOMEM (a missing or damaged cache reads as empty), so its error
 * message, kept per thread, need not be carried back: the code is enough.
 */
#include <pthread.h>

#include "common/alloc.h"
#include "common/error.h"
#include "statcache.h"

struct mlops__statcache_loader {
    mlops_store *store;
    char *root;
    mlops__statcache *cache;
    int rc;
    int threaded; /* a thread runs the load; otherwise _finish does */
    pthread_t th;
};

static void *loader_main(void *arg)
{
    mlops__statcache_loader *l = arg;
    l->rc = mlops__statcache_load(&l->cache, l->store, l->root);
    return NULL;
}

int mlops__statcache_load_start(mlops__statcache_loader **out, mlops_store *store, const char *root)
{
    if (!out || !store || !root)
        return mlops__error_set(MLOPS_EINVALID, "statcache_load_start: NULL argument");
    *out = NULL;
    mlops__statcache_loader *l = mlops__calloc(1, sizeof *l);
    if (!l)
        return mlops__error_oom();
    l->store = store;
    if (!(l->root = mlops__strdup(root))) {
        mlops__free(l);
        return mlops__error_oom();
    }
    /* No thread is no error: the load then happens, later, in _finish. */
    l->threaded = pthread_create(&l->th, NULL, loader_main, l) == 0;
    *out = l;
    return 0;
}

int mlops__statcache_load_finish(mlops__statcache **out, mlops__statcache_loader *l)
{
    if (out)
        *out = NULL;
    if (!l)
        return mlops__error_set(MLOPS_EINVALID, "statcache_load_finish: NULL argument");
    if (l->threaded)
        pthread_join(l->th, NULL);
    else
        loader_main(l);
    int rc = l->rc;
    if (rc == 0 && out)
        *out = l->cache;
    else
        mlops__statcache_free(l->cache);
    mlops__free(l->root);
    mlops__free(l);
    if (rc == MLOPS_ENOMEM)
        return mlops__error_oom(); /* the message was the loader thread's */
    return rc < 0 ? mlops__error_set(rc, "stat cache: load failed") : 0;
}
