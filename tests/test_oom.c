/* Out-of-memory loop: for N = 1, 2, ... fail exactly the Nth allocation of
 * an operation until it succeeds without reaching N. Each failure must be
 * MLOPS_ENOMEM with a message, leak nothing and leave the store usable.
 * Loop tests run on the memory store (_i == 0) and the fs store (_i == 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define BIG ((size_t)1 << 20)
#define MAX_N 20000

typedef struct ctx {
    tu_store t;
    char *big;        /* BIG bytes of text */
    mlops_oid big_id; /* stored by setup */
    mlops_oid small_id;
    char *tmp;        /* scratch directory */
} ctx;

typedef int (*op_fn)(ctx *c);

static tu_alloc *cur_alloc;

/* Post-checks inside an operation run without injected failures. */
static void disarm(void)
{
    cur_alloc->fail_at = 0;
}

/* A failed put leaves no object: once published, nothing may fail. */
static int op_put_small(ctx *c)
{
    mlops_oid id;
    int rc = mlops_object_put(&id, c->t.s, "a new small object", 18);
    disarm();
    mlops_oid_hash(&id, "a new small object", 18);
    ck_assert_int_eq(mlops_object_exists(c->t.s, &id), rc == 0);
    return rc;
}

static int op_put_big(ctx *c)
{
    mlops_oid id;
    /* different bytes from setup's object: a real write, compressed by AUTO */
    char saved = c->big[0];
    c->big[0] = 'X';
    int rc = mlops_object_put(&id, c->t.s, c->big, BIG);
    c->big[0] = saved;
    return rc;
}

static int op_get(ctx *c)
{
    void *out = NULL;
    size_t n = 0;
    int rc = mlops_object_get(&out, &n, c->t.s, &c->big_id);
    if (rc == 0) {
        ck_assert_uint_eq(n, BIG);
        ck_assert_int_eq(memcmp(out, c->big, BIG), 0);
        mlops_free(out);
    } else {
        ck_assert_ptr_null(out);
    }
    return rc;
}

static int op_get_file(ctx *c)
{
    char *p = tu_path("%s/out", c->tmp);
    int rc = mlops_object_get_file(c->t.s, &c->big_id, p);
    if (rc == 0) {
        size_t n = 0;
        char *d = tu_read_file(p, &n);
        ck_assert_uint_eq(n, BIG);
        ck_assert_int_eq(memcmp(d, c->big, BIG), 0);
        free(d);
    } else {
        ck_assert(!tu_exists(p));
        ck_assert_uint_eq(tu_count_files(c->tmp), 0);
    }
    free(p);
    return rc;
}

static int op_put_file(ctx *c)
{
    char *p = tu_path("%s/in", c->tmp);
    tu_write_file(p, "file contents for the oom loop", 30);
    mlops_oid id;
    int rc = mlops_object_put_file(&id, c->t.s, p);
    free(p);
    return rc;
}

static int op_writer(ctx *c)
{
    mlops_object_writer *w = NULL;
    int rc = mlops_object_writer_new(&w, c->t.s);
    for (size_t off = 0; rc == 0 && off < 200000; off += 7001)
        rc = mlops_object_writer_write(w, c->big + 100 + off, off + 7001 <= 200000 ? 7001 : 200000 - off);
    mlops_oid id;
    if (rc == 0)
        rc = mlops_object_writer_finish(&id, w);
    mlops_object_writer_free(w);
    return rc;
}

static int op_reader(ctx *c)
{
    mlops_object_reader *r = NULL;
    int rc = mlops_object_reader_open(&r, c->t.s, &c->big_id);
    char buf[10000];
    size_t total = 0, n = 0;
    while (rc == 0) {
        rc = mlops_object_reader_read(&n, r, buf, sizeof buf);
        if (rc == 0 && n == 0)
            break;
        if (rc == 0) {
            ck_assert_int_eq(memcmp(buf, c->big + total, n), 0);
            total += n;
        }
    }
    if (rc == 0)
        ck_assert_uint_eq(total, BIG);
    mlops_object_reader_free(r);
    return rc;
}

static int op_structured(ctx *c)
{
    mlops_oid links[2] = {c->big_id, c->small_id};
    mlops_oid id;
    int rc = mlops_object_put_structured(&id, c->t.s, "oom.test", links, 2, "body", 4);
    if (rc)
        return rc;
    char *type = NULL;
    mlops_oid *l = NULL;
    size_t nl = 0, bl = 0;
    void *body = NULL;
    rc = mlops_object_get_structured(&type, &l, &nl, &body, &bl, c->t.s, &id);
    if (rc == 0) {
        ck_assert_str_eq(type, "oom.test");
        ck_assert_uint_eq(nl, 2);
        ck_assert_uint_eq(bl, 4);
        mlops_free(type);
        mlops_free(l);
        mlops_free(body);
    } else {
        ck_assert_ptr_null(type);
        ck_assert_ptr_null(l);
        ck_assert_ptr_null(body);
    }
    return rc;
}

static int op_ref_set(ctx *c)
{
    int rc = mlops_ref_set(c->t.s, "oom/ref", &c->big_id, &c->small_id);
    disarm();
    mlops_oid got;
    int g = mlops_ref_get(&got, c->t.s, "oom/ref");
    ck_assert_int_eq(g, 0);
    if (rc == 0)
        ck_assert_int_eq(mlops_oid_cmp(&got, &c->big_id), 0);
    return rc;
}

static int op_ref_foreach_cb(const char *name, const mlops_oid *id, void *payload)
{
    (void)name;
    (void)id;
    (*(int *)payload)++;
    return 0;
}

static int op_ref_foreach(ctx *c)
{
    int n = 0;
    int rc = mlops_ref_foreach(c->t.s, "", op_ref_foreach_cb, &n);
    if (rc == 0)
        ck_assert_int_eq(n, 1);
    return rc;
}

static int op_log_append(ctx *c)
{
    int rc = mlops_log_append(c->t.s, "oom/log", "new record", 10);
    if (rc == 0)
        rc = mlops_log_sync(c->t.s, "oom/log");
    return rc;
}

static int count_rec(const void *r, size_t len, void *payload);

/* One append: the record is there exactly when the call succeeded. */
static int op_log_append_once(ctx *c)
{
    int rc = mlops_log_append(c->t.s, "oom/log", "new record", 10);
    disarm();
    int n = 0;
    ck_assert_int_eq(mlops_log_foreach(c->t.s, "oom/log", count_rec, &n), 0);
    ck_assert_int_eq(n, rc == 0 ? 2 : 1);
    return rc;
}

static int count_rec(const void *r, size_t len, void *payload)
{
    (void)r;
    (void)len;
    (*(int *)payload)++;
    return 0;
}

static int op_log_batch(ctx *c)
{
    const void *recs[3] = {"one", "two", "three"};
    size_t lens[3] = {3, 3, 5};
    return mlops_log_append_batch(c->t.s, "oom/log", recs, lens, 3);
}

static int op_log_read(ctx *c)
{
    int n = 0;
    int rc = mlops_log_foreach(c->t.s, "oom/log", count_rec, &n);
    if (rc == 0)
        ck_assert_int_eq(n, 1);
    mlops_log_iterator *it = NULL;
    if (rc == 0)
        rc = mlops_log_iterator_new(&it, c->t.s, "oom/log");
    const void *rec;
    size_t len;
    if (rc == 0) {
        rc = mlops_log_iterator_next(&rec, &len, it);
        if (rc == 0)
            rc = mlops_log_iterator_next(&rec, &len, it);
        if (rc == MLOPS_ITEROVER)
            rc = 0;
        else if (rc == 0)
            ck_abort_msg("a second record appeared");
    }
    mlops_log_iterator_free(it);
    return rc;
}

static int op_verify(ctx *c)
{
    mlops_verify_report r;
    memset(&r, 0, sizeof r);
    int rc = mlops_store_verify(&r, c->t.s, NULL, NULL);
    if (rc == 0) {
        ck_assert_uint_eq(r.ncorrupt, 0);
        ck_assert_uint_eq(r.ndangling, 0);
        ck_assert_uint_eq(r.objects, 2);
    }
    mlops_verify_report_free(&r);
    return rc;
}

static int op_gc(ctx *c)
{
    mlops_gc_options o = MLOPS_GC_OPTIONS_INIT;
    o.grace_seconds = 0;
    mlops_gc_report r;
    return mlops_store_gc(&r, c->t.s, &o, NULL, NULL);
}

/* The durability setup opens stores with (the default, COMMIT, unless a
 * test asks for another). */
static mlops_durability setup_durability = MLOPS_DURABILITY_COMMIT;

static void setup(ctx *c, int kind)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = setup_durability;
    tu_store_open(&c->t, kind, &o);
    c->tmp = tu_mkdtemp();
    c->big_id = tu_put(c->t.s, c->big, BIG);
    c->small_id = tu_put_str(c->t.s, "small");
    ck_assert_int_eq(mlops_ref_set(c->t.s, "oom/ref", &c->small_id, NULL), 0);
    ck_assert_int_eq(mlops_log_append(c->t.s, "oom/log", "first", 5), 0);
}

static void teardown(ctx *c)
{
    tu_store_destroy(&c->t);
    tu_rmrf(c->tmp);
    free(c->tmp);
    c->tmp = NULL;
}

/* After a failure: the store still works normally. */
static void still_usable(ctx *c)
{
    op_get(c);
    mlops_oid id = tu_put_str(c->t.s, "after the failure");
    void *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_object_get(&out, &n, c->t.s, &id), 0);
    ck_assert_uint_eq(n, 17);
    mlops_free(out);
    mlops_oid cur;
    ck_assert_int_eq(mlops_ref_get(&cur, c->t.s, "oom/ref"), 0);
    ck_assert_int_eq(mlops_ref_set(c->t.s, "oom/ref", &id, &cur), 0);
    ck_assert_int_eq(mlops_log_append(c->t.s, "oom/log", "after", 5), 0);
    int nrec = 0;
    ck_assert_int_eq(mlops_log_foreach(c->t.s, "oom/log", count_rec, &nrec), 0);
    ck_assert_int_ge(nrec, 2);
    tu_verify_clean(c->t.s);
}

static void oom_loop(int kind, const char *name, op_fn op)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.big = tu_xmalloc(BIG);
    tu_fill_text(c.big, BIG, 77);
    unsigned long n;
    int failures_seen = 0;
    for (n = 1; n <= MAX_N; n++) {
        tu_alloc a;
        memset(&a, 0, sizeof a);
        tu_alloc_install(&a);
        cur_alloc = &a;
        setup(&c, kind);
        a.fail_at = a.calls + n;
        int rc = op(&c);
        a.fail_at = 0;
        unsigned long failed = a.failures;
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "%s/%s: allocation %lu failed: got %d (%s) %s", name,
                      tu_kind_name[kind], n, rc, mlops_error_name(rc), mlops_error_last());
        if (rc == MLOPS_ENOMEM) {
            failures_seen++;
            ck_assert_msg(failed == 1, "%s: ENOMEM without a failed allocation", name);
            tu_assert_err(rc, MLOPS_ENOMEM);
            still_usable(&c);
        }
        teardown(&c);
        tu_alloc_remove();
        ck_assert_msg(a.outstanding == 0, "%s/%s: failing allocation %lu: %ld blocks leaked (rc %d)", name,
                      tu_kind_name[kind], n, a.outstanding, rc);
        if (rc == 0 && failed == 0)
            break;
    }
    ck_assert_msg(n <= MAX_N, "%s: never succeeded", name);
    fprintf(stderr, "# oom %s/%s: %d failures before success at N=%lu\n", name, tu_kind_name[kind], failures_seen, n);
    ck_assert_msg(failures_seen > 0 || n == 1, "%s: no failure observed", name);
    free(c.big);
}

#define OOM_TEST(op)                      \
    START_TEST(oom_##op)                  \
    {                                     \
        oom_loop(_i, #op, op_##op);       \
    }                                     \
    END_TEST

OOM_TEST(put_small)
OOM_TEST(put_big)
OOM_TEST(get)
OOM_TEST(get_file)
OOM_TEST(put_file)
OOM_TEST(writer)
OOM_TEST(reader)
OOM_TEST(structured)
OOM_TEST(ref_set)
OOM_TEST(ref_foreach)
OOM_TEST(log_append)
OOM_TEST(log_batch)
OOM_TEST(log_read)
OOM_TEST(verify)
OOM_TEST(gc)

/* With durability FULL, which fsyncs the directories after an object is
 * published and after a log record is written. */
START_TEST(oom_full)
{
    setup_durability = MLOPS_DURABILITY_FULL;
    oom_loop(_i, "put_small (FULL)", op_put_small);
    oom_loop(_i, "log_append (FULL)", op_log_append_once);
    setup_durability = MLOPS_DURABILITY_COMMIT;
}
END_TEST

/* opening a store: each failure leaks nothing, and the directory still
 * opens normally afterwards */
START_TEST(oom_open)
{
    unsigned long n;
    for (n = 1; n <= MAX_N; n++) {
        char *dir = tu_mkdtemp();
        char *path = tu_path("%s/store", dir);
        tu_alloc a;
        memset(&a, 0, sizeof a);
        tu_alloc_install(&a);
        a.fail_at = n;
        mlops_store *s = NULL;
        int rc = _i == TU_FS ? mlops_store_open(&s, path, NULL) : mlops_store_open_memory(&s, NULL);
        a.fail_at = 0;
        unsigned long failed = a.failures;
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "open: allocation %lu failed: got %d %s", n, rc,
                      mlops_error_last());
        if (rc == MLOPS_ENOMEM) {
            tu_assert_err(rc, MLOPS_ENOMEM);
            ck_assert_ptr_null(s);
        }
        mlops_store_free(s);
        s = NULL;
        if (_i == TU_FS) {
            int rc2 = mlops_store_open(&s, path, NULL);
            ck_assert_msg(rc2 == 0, "open after a failed open (%lu): %d %s", n, rc2, mlops_error_last());
            tu_put_str(s, "works");
            tu_verify_clean(s);
            mlops_store_free(s);
        }
        tu_alloc_remove();
        ck_assert_msg(a.outstanding == 0, "open: failing allocation %lu: %ld blocks leaked", n, a.outstanding);
        tu_rmrf(dir);
        free(dir);
        free(path);
        if (rc == 0 && failed == 0)
            break;
    }
    ck_assert(n > 1);
}
END_TEST

static Suite *oom_suite(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, oom_open, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_put_small, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_full, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_put_big, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_get, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_get_file, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_put_file, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_writer, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_reader, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_structured, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_ref_set, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_ref_foreach, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_log_append, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_log_batch, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_log_read, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_verify, 0, TU_KINDS);
    tcase_add_loop_test(tc, oom_gc, 0, TU_KINDS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(oom_suite());
}
