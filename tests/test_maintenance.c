/* verify and gc. Loop tests run on the memory store (_i == 0) and the fs
 * store (_i == 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

typedef struct progress {
    uint64_t calls;
    uint64_t last_done;
    uint64_t last_total;
    int monotonic;
    uint64_t stop_at;
} progress;

static int on_progress(uint64_t done, uint64_t total, void *payload)
{
    progress *p = payload;
    if (p->calls && done < p->last_done)
        p->monotonic = 0;
    if (total && done > total)
        p->monotonic = 0;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return p->stop_at && p->calls >= p->stop_at;
}

START_TEST(verify_clean)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *big = tu_xmalloc(300000);
    tu_fill_text(big, 300000, 1);
    mlops_oid a = tu_put_str(t.s, "alpha");       /* 5 */
    mlops_oid b = tu_put(t.s, big, 300000);       /* 300000 */
    tu_put(t.s, "", 0);                           /* 0 */
    tu_put_str(t.s, "alpha");                     /* duplicate */
    mlops_oid st;
    ck_assert_int_eq(mlops_object_put_structured(&st, t.s, "m", &a, 1, "body", 4), 0);
    uint64_t st_size = 0;
    ck_assert_int_eq(mlops_object_size(&st_size, t.s, &st), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "r1", &a, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "dir/r2", &st, NULL), 0);
    ck_assert_int_eq(mlops_log_append(t.s, "log1", "x", 1), 0);
    ck_assert_int_eq(mlops_log_append(t.s, "log/2", "y", 1), 0);
    ck_assert_int_eq(mlops_store_sync(t.s), 0);

    mlops_verify_report r;
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_verify(&r, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(r.objects, 4);
    ck_assert_uint_eq(r.bytes, 5 + 300000 + 0 + st_size);
    ck_assert_uint_eq(r.refs, 2);
    ck_assert_uint_eq(r.logs, 2);
    ck_assert_uint_eq(r.ncorrupt, 0);
    ck_assert_uint_eq(r.ndangling, 0);
    ck_assert_uint_eq(r.log_torn, 0);
    mlops_verify_report_free(&r);
    mlops_verify_report_free(NULL);
    (void)b;

    /* an empty store */
    tu_store e;
    tu_store_open(&e, _i, NULL);
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_verify(&r, e.s, NULL, NULL), 0);
    ck_assert_uint_eq(r.objects, 0);
    ck_assert_uint_eq(r.refs, 0);
    ck_assert_uint_eq(r.ncorrupt, 0);
    mlops_verify_report_free(&r);
    tu_store_destroy(&e);

    tu_assert_err(mlops_store_verify(NULL, t.s, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_verify(&r, NULL, NULL, NULL), MLOPS_EINVALID);
    free(big);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(verify_dangling)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid a = tu_put_str(t.s, "to be lost"), b = tu_put_str(t.s, "kept");
    ck_assert_int_eq(mlops_ref_set(t.s, "lost/ref", &a, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "good", &b, NULL), 0);
    char *p = tu_object_path(t.dir, &a);
    ck_assert_int_eq(unlink(p), 0);
    mlops_verify_report r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(mlops_store_verify(&r, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(r.refs, 2);
    ck_assert_uint_eq(r.ndangling, 1);
    ck_assert_str_eq(r.dangling[0], "lost/ref");
    ck_assert_uint_eq(r.ncorrupt, 0);
    ck_assert_uint_eq(r.objects, 1);
    mlops_verify_report_free(&r);
    free(p);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(verify_progress)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char buf[32];
    for (int k = 0; k < 40; k++) {
        snprintf(buf, sizeof buf, "object %d", k);
        tu_put_str(t.s, buf);
    }
    progress p;
    memset(&p, 0, sizeof p);
    p.monotonic = 1;
    mlops_verify_report r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(mlops_store_verify(&r, t.s, on_progress, &p), 0);
    ck_assert_uint_eq(r.objects, 40);
    mlops_verify_report_free(&r);
    ck_assert_uint_ge(p.calls, 1);
    ck_assert_msg(p.monotonic, "progress went backwards or past total");
    if (p.last_total)
        ck_assert_uint_eq(p.last_done, p.last_total);

    /* stopping */
    memset(&p, 0, sizeof p);
    p.monotonic = 1;
    p.stop_at = 1;
    memset(&r, 0, sizeof r);
    tu_assert_err(mlops_store_verify(&r, t.s, on_progress, &p), MLOPS_EUSER);
    ck_assert_uint_eq(p.calls, 1);
    mlops_verify_report_free(&r);

    /* gc progress stops too, and deletes nothing when stopped first */
    mlops_gc_options g = MLOPS_GC_OPTIONS_INIT;
    g.grace_seconds = 0;
    mlops_gc_report gr;
    memset(&p, 0, sizeof p);
    p.monotonic = 1;
    p.stop_at = 1;
    tu_assert_err(mlops_store_gc(&gr, t.s, &g, on_progress, &p), MLOPS_EUSER);
    ck_assert_uint_eq(p.calls, 1);
    tu_store_destroy(&t);
}
END_TEST

typedef struct graph {
    mlops_oid leaf1, leaf2, leaf3, inner, root, lone_struct_target;
    mlops_oid u1, u2, ustruct;
} graph;

/* ref "head" -> root(structured) -> {leaf1, inner(structured)};
 * inner -> {leaf2, leaf3}; plus unreachable u1, u2 and an unreachable
 * structured object pointing at leaf1 */
static void build_graph(mlops_store *s, graph *g)
{
    char *big = tu_xmalloc(50000);
    tu_fill_random(big, 50000, 3);
    g->leaf1 = tu_put_str(s, "leaf one");
    g->leaf2 = tu_put_str(s, "leaf two");
    g->leaf3 = tu_put(s, big, 50000);
    mlops_oid l[2] = {g->leaf2, g->leaf3};
    ck_assert_int_eq(mlops_object_put_structured(&g->inner, s, "inner", l, 2, "i", 1), 0);
    mlops_oid r[2] = {g->leaf1, g->inner};
    ck_assert_int_eq(mlops_object_put_structured(&g->root, s, "root", r, 2, "r", 1), 0);
    ck_assert_int_eq(mlops_ref_set(s, "head", &g->root, NULL), 0);
    tu_fill_random(big, 50000, 4);
    g->u1 = tu_put(s, big, 50000);
    g->u2 = tu_put_str(s, "unreachable two");
    ck_assert_int_eq(mlops_object_put_structured(&g->ustruct, s, "u", &g->leaf1, 1, "", 0), 0);
    free(big);
}

START_TEST(gc_grace_and_reachability)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    graph g;
    build_graph(t.s, &g);
    const mlops_oid *reach[] = {&g.leaf1, &g.leaf2, &g.leaf3, &g.inner, &g.root};
    const mlops_oid *unreach[] = {&g.u1, &g.u2, &g.ustruct};

    /* default options: everything is young */
    mlops_gc_report r;
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_gc(&r, t.s, NULL, NULL, NULL), 0);
    ck_assert_uint_eq(r.objects, 8);
    ck_assert_uint_eq(r.reachable, 5);
    ck_assert_uint_eq(r.young, 3);
    ck_assert_uint_eq(r.freed, 0);
    ck_assert_uint_eq(r.freed_bytes, 0);

    mlops_gc_options o;
    ck_assert_int_eq(mlops_gc_options_init(&o, MLOPS_GC_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.grace_seconds, 3600);
    ck_assert_int_eq(o.dry_run, 0);
    o.grace_seconds = 1000000;
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_gc(&r, t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(r.young, 3);
    ck_assert_uint_eq(r.freed, 0);

    /* dry run with no grace: reports, deletes nothing */
    o.grace_seconds = 0;
    o.dry_run = 1;
    mlops_gc_report dry;
    memset(&dry, 0xee, sizeof dry);
    ck_assert_int_eq(mlops_store_gc(&dry, t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(dry.objects, 8);
    ck_assert_uint_eq(dry.reachable, 5);
    ck_assert_uint_eq(dry.young, 0);
    ck_assert_uint_eq(dry.freed, 3);
    ck_assert_uint_gt(dry.freed_bytes, 50000 / 2);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(mlops_object_exists(t.s, unreach[k]), 1);

    /* the real thing */
    o.dry_run = 0;
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_gc(&r, t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(r.objects, dry.objects);
    ck_assert_uint_eq(r.reachable, dry.reachable);
    ck_assert_uint_eq(r.freed, dry.freed);
    ck_assert_uint_eq(r.freed_bytes, dry.freed_bytes);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(mlops_object_exists(t.s, unreach[k]), 0);
    for (int k = 0; k < 5; k++) {
        void *out = NULL;
        size_t n;
        ck_assert_int_eq(mlops_object_exists(t.s, reach[k]), 1);
        ck_assert_int_eq(mlops_object_get(&out, &n, t.s, reach[k]), 0);
        mlops_free(out);
    }
    if (t.dir) {
        char *objs = tu_path("%s/objects", t.dir);
        ck_assert_uint_eq(tu_count_files(objs), 5);
        free(objs);
    }
    tu_verify_clean(t.s);

    /* nothing left to free */
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_gc(&r, t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(r.objects, 5);
    ck_assert_uint_eq(r.freed, 0);

    /* dropping the ref makes the whole graph garbage */
    ck_assert_int_eq(mlops_ref_delete(t.s, "head", NULL), 0);
    memset(&r, 0xee, sizeof r);
    ck_assert_int_eq(mlops_store_gc(&r, t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(r.reachable, 0);
    ck_assert_uint_eq(r.freed, 5);
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(mlops_object_exists(t.s, reach[k]), 0);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(gc_options_bad)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_gc_options o = MLOPS_GC_OPTIONS_INIT;
    mlops_gc_report r;
    tu_assert_err(mlops_gc_options_init(&o, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_gc_options_init(&o, 77), MLOPS_EINVALID);
    tu_assert_err(mlops_gc_options_init(NULL, 1), MLOPS_EINVALID);
    o.version = 77;
    tu_assert_err(mlops_store_gc(&r, t.s, &o, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_gc(NULL, t.s, NULL, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_gc(&r, NULL, NULL, NULL, NULL), MLOPS_EINVALID);
    tu_store_destroy(&t);
}
END_TEST

static Suite *maintenance_suite(void)
{
    Suite *s = suite_create("maintenance");
    TCase *tc = tcase_create("both");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, verify_clean, 0, TU_KINDS);
    tcase_add_loop_test(tc, verify_progress, 0, TU_KINDS);
    tcase_add_loop_test(tc, gc_grace_and_reachability, 0, TU_KINDS);
    tcase_add_loop_test(tc, gc_options_bad, 0, TU_KINDS);
    tcase_add_test(tc, verify_dangling);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(maintenance_suite());
}
