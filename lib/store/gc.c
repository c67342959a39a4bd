/*
 * gc: mark every object reachable from a ref through the links that
 * structured objects declare, then delete the rest unless younger than the
 * grace period. The grace period protects writers in flight: an object put
 * just before a ref names it is young, and a put of existing content
 * refreshes the blob's time (a backend promise), so it is young too.
 * Last, the backend removes what crashed writers left behind (its optional
 * cleanup callback), with the same grace period.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/options.h"
#include "object_io.h"
#include "object_links.h"
#include "object_list.h"

typedef struct mark_stack {
    mlops_oid *ids;
    size_t len;
    size_t cap;
} mark_stack;

static int push(mark_stack *st, const mlops_oid *id)
{
    if (st->len == st->cap) {
        mlops_oid *p = mlops__grow_array(st->ids, &st->cap, sizeof *p, 256);
        if (!p)
            return mlops__error_oom();
        st->ids = p;
    }
    st->ids[st->len++] = *id;
    return 0;
}

static int push_ref(const char *name, const mlops_oid *id, void *payload)
{
    (void)name;
    return push(payload, id) < 0;
}

static int push_link(void *st, const mlops_oid *id)
{
    return push(st, id);
}

/* Pushes what id links to. A link list that cannot be read stops gc:
 * deleting without knowing the real links is unsafe. */
static int push_links(mark_stack *st, mlops_store *s, const mlops_oid *id)
{
    int rc = mlops__object_foreach_link(s, id, push_link, st);
    return rc < 0 ? mlops__error_prefix(rc, "gc stopped") : 0;
}

static int mark(mlops__object_list *l, mlops_store *s, mlops_gc_report *rep)
{
    mark_stack st = { NULL, 0, 0 };
    int rc = mlops_ref_foreach(s, NULL, push_ref, &st);
    if (rc == MLOPS_EUSER)
        rc = mlops__error_oom();
    while (rc == 0 && st.len > 0) {
        mlops_oid id = st.ids[--st.len];
        mlops__object_entry *e = mlops__object_list_find(l, &id);
        if (!e || e->marked) /* missing (dangling), or seen */
            continue;
        e->marked = 1;
        rep->reachable++;
        rc = push_links(&st, s, &id);
    }
    mlops__free(st.ids);
    return rc;
}

/* The clock of the backends' mtimes (time() reads glibc's coarse clock,
 * which can be a tick behind a time just written from CLOCK_REALTIME:
 * a fresh object would look written in the future, hence young). */
static int64_t now_seconds(void)
{
    return mlops__time_ms() / 1000;
}

static int is_young(int64_t mtime_sec, uint64_t grace_seconds)
{
    int64_t age = now_seconds() - mtime_sec;
    return age < 0 || (uint64_t)age < grace_seconds;
}

/* Files last modified before this time are older than the grace period. */
static int64_t cutoff(uint64_t grace_seconds)
{
    int64_t now = now_seconds();
    return grace_seconds > (uint64_t)now ? INT64_MIN : now - (int64_t)grace_seconds;
}

/* The time listed before marking may be stale: a writer that re-put this
 * content meanwhile refreshed it and may already have referenced it. */
static int still_old(mlops_store *s, const mlops__object_entry *e, uint64_t grace_seconds)
{
    uint64_t size = 0;
    int64_t mtime = 0;
    int rc = s->be.obj_stat(&s->be, &e->id, &size, &mtime);
    if (rc == MLOPS_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    return !is_young(mtime, grace_seconds);
}

static int sweep(mlops__object_list *l, mlops_store *s, const mlops_gc_options *o, mlops_gc_report *rep,
                 mlops_progress_cb progress, void *payload)
{
    for (size_t i = 0; i < l->len; i++) {
        mlops__object_entry *e = &l->items[i];
        int old = e->marked ? 0 : !is_young(e->mtime_sec, o->grace_seconds);
        if (old && !o->dry_run && (old = still_old(s, e, o->grace_seconds)) < 0)
            return old;
        if (!e->marked && !old) {
            rep->young++;
        } else if (!e->marked) {
            int rc = o->dry_run ? 0 : s->be.obj_delete(&s->be, &e->id);
            if (rc < 0 && rc != MLOPS_ENOTFOUND)
                return rc;
            rep->freed++;
            rep->freed_bytes += e->stored_size;
        }
        if (progress && progress(i + 1, l->len, payload) != 0)
            return mlops__error_set(MLOPS_EUSER, "gc stopped by the progress callback");
    }
    return 0;
}

int mlops_store_gc(mlops_gc_report *out, mlops_store *s, const mlops_gc_options *opts, mlops_progress_cb progress,
                   void *payload)
{
    mlops_gc_options o;
    if (!out || !s)
        return mlops__error_set(MLOPS_EINVALID, "store_gc: NULL argument");
    memset(out, 0, sizeof *out);
    if (opts)
        MLOPS__TRY(mlops__options_version(opts->version, MLOPS_GC_OPTIONS_VERSION, "gc"));
    MLOPS__TRY(mlops_gc_options_init(&o, MLOPS_GC_OPTIONS_VERSION));
    if (opts)
        o = *opts;
    if (!o.dry_run)
        MLOPS__TRY(mlops__store_check_writable(s));
    mlops__object_list l;
    MLOPS__TRY(mlops__object_list_load(&l, s));
    out->objects = l.len;
    int rc = mark(&l, s, out);
    if (rc == 0)
        rc = sweep(&l, s, &o, out, progress, payload);
    mlops__object_list_dispose(&l);
    if (rc == 0 && s->be.cleanup)
        rc = s->be.cleanup(&s->be, cutoff(o.grace_seconds), o.dry_run, &out->leftovers, &out->leftover_bytes);
    return rc;
}
