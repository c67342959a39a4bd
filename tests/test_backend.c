/* Custom backends: mlops_backend_init, mlops_store_open_backend, error
 * propagation. The backend under test is a proxy that forwards to the
 * built-in memory backend, counts calls and can inject failures. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "testutil.h"

typedef struct proxy {
    mlops_backend inner;
    int *freed; /* set to the number of free calls, outlives the proxy */
    unsigned long commits, cas, appends, reads, syncs, ref_commits;
    int fail_commit; /* obj_write_commit fails with EIO + message */
    int fail_cas;    /* ref_cas reports a lost race */
} proxy;

#define P(b) ((proxy *)(b)->payload)

static int p_obj_exists(mlops_backend *b, const mlops_oid *id)
{
    return P(b)->inner.obj_exists(&P(b)->inner, id);
}
static int p_obj_stat(mlops_backend *b, const mlops_oid *id, uint64_t *sz, int64_t *mt)
{
    return P(b)->inner.obj_stat(&P(b)->inner, id, sz, mt);
}
static int p_obj_write_open(mlops_backend *b, void **w)
{
    return P(b)->inner.obj_write_open(&P(b)->inner, w);
}
static int p_obj_write(mlops_backend *b, void *w, const void *d, size_t n)
{
    return P(b)->inner.obj_write(&P(b)->inner, w, d, n);
}
static int p_obj_write_commit(mlops_backend *b, void *w, const mlops_oid *id)
{
    P(b)->commits++;
    if (P(b)->fail_commit) {
        P(b)->inner.obj_write_abort(&P(b)->inner, w);
        return mlops_backend_error_set(MLOPS_EIO, "proxy: the disk is on fire");
    }
    return P(b)->inner.obj_write_commit(&P(b)->inner, w, id);
}
static void p_obj_write_abort(mlops_backend *b, void *w)
{
    P(b)->inner.obj_write_abort(&P(b)->inner, w);
}
static int p_obj_read_open(mlops_backend *b, const mlops_oid *id, void **r)
{
    P(b)->reads++;
    return P(b)->inner.obj_read_open(&P(b)->inner, id, r);
}
static int p_obj_read(mlops_backend *b, void *r, void *buf, size_t cap, size_t *n)
{
    return P(b)->inner.obj_read(&P(b)->inner, r, buf, cap, n);
}
static void p_obj_read_close(mlops_backend *b, void *r)
{
    P(b)->inner.obj_read_close(&P(b)->inner, r);
}
static int p_obj_delete(mlops_backend *b, const mlops_oid *id)
{
    return P(b)->inner.obj_delete(&P(b)->inner, id);
}
static int p_obj_foreach(mlops_backend *b, mlops_backend_object_cb cb, void *payload)
{
    return P(b)->inner.obj_foreach(&P(b)->inner, cb, payload);
}
static int p_ref_read(mlops_backend *b, const char *name, mlops_oid *out)
{
    return P(b)->inner.ref_read(&P(b)->inner, name, out);
}
static int p_ref_cas(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    P(b)->cas++;
    if (P(b)->fail_cas)
        return mlops_backend_error_set(MLOPS_ECONFLICT, "proxy: someone else won");
    return P(b)->inner.ref_cas(&P(b)->inner, name, expected, new_id);
}
static int p_ref_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    return P(b)->inner.ref_foreach(&P(b)->inner, prefix, cb, payload);
}
static int p_log_append(mlops_backend *b, const char *log, const void *d, size_t n)
{
    P(b)->appends++;
    return P(b)->inner.log_append(&P(b)->inner, log, d, n);
}
static int p_log_sync(mlops_backend *b, const char *log)
{
    P(b)->syncs++;
    return P(b)->inner.log_sync(&P(b)->inner, log);
}
static int p_log_segments(mlops_backend *b, const char *log, mlops_backend_name_cb cb, void *payload)
{
    return P(b)->inner.log_segments(&P(b)->inner, log, cb, payload);
}
static int p_log_read(mlops_backend *b, const char *log, const char *seg, uint64_t off, void *buf, size_t cap,
                      size_t *n)
{
    return P(b)->inner.log_read(&P(b)->inner, log, seg, off, buf, cap, n);
}
static int p_log_foreach(mlops_backend *b, const char *prefix, mlops_backend_name_cb cb, void *payload)
{
    return P(b)->inner.log_foreach(&P(b)->inner, prefix, cb, payload);
}
static int p_sync(mlops_backend *b)
{
    P(b)->syncs++;
    return P(b)->inner.sync(&P(b)->inner);
}
static void p_free(mlops_backend *b)
{
    proxy *p = P(b);
    (*p->freed)++;
    if (p->inner.free)
        p->inner.free(&p->inner);
    free(p);
}

/* Version 2's one-call commit point, done the plain way: counted. */
static int p_ref_commit(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    P(b)->ref_commits++;
    int rc = P(b)->inner.sync(&P(b)->inner);
    return rc ? rc : P(b)->inner.ref_cas(&P(b)->inner, name, expected, new_id);
}

static void make_proxy(mlops_backend *b, int *freed, proxy **out)
{
    ck_assert_int_eq(mlops_backend_init(b, MLOPS_BACKEND_VERSION), 0);
    proxy *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(mlops__backend_memory_new(&p->inner), 0);
    p->freed = freed;
    b->payload = p;
    b->obj_exists = p_obj_exists;
    b->obj_stat = p_obj_stat;
    b->obj_write_open = p_obj_write_open;
    b->obj_write = p_obj_write;
    b->obj_write_commit = p_obj_write_commit;
    b->obj_write_abort = p_obj_write_abort;
    b->obj_read_open = p_obj_read_open;
    b->obj_read = p_obj_read;
    b->obj_read_close = p_obj_read_close;
    b->obj_delete = p_obj_delete;
    b->obj_foreach = p_obj_foreach;
    b->ref_read = p_ref_read;
    b->ref_cas = p_ref_cas;
    b->ref_foreach = p_ref_foreach;
    b->log_append = p_log_append;
    b->log_sync = p_log_sync;
    b->log_segments = p_log_segments;
    b->log_read = p_log_read;
    b->log_foreach = p_log_foreach;
    b->sync = p_sync;
    b->free = p_free;
    *out = p;
}

START_TEST(backend_init)
{
    mlops_backend b;
    memset(&b, 0xab, sizeof b);
    ck_assert_int_eq(mlops_backend_init(&b, MLOPS_BACKEND_VERSION), 0);
    ck_assert_uint_eq(b.version, MLOPS_BACKEND_VERSION);
    ck_assert_ptr_null(b.payload);
    ck_assert(b.obj_exists == NULL && b.ref_cas == NULL && b.free == NULL && b.sync == NULL);
    tu_assert_err(mlops_backend_init(&b, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_backend_init(&b, 99), MLOPS_EINVALID);
    tu_assert_err(mlops_backend_init(NULL, MLOPS_BACKEND_VERSION), MLOPS_EINVALID);
}
END_TEST

START_TEST(open_backend_incomplete)
{
    int freed = 0;
    proxy *p;
    mlops_backend b;
    make_proxy(&b, &freed, &p);
    mlops_store *s = NULL;
    tu_assert_err(mlops_store_open_backend(NULL, &b, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_store_open_backend(&s, NULL, NULL), MLOPS_EINVALID);
    /* every function pointer except free is required */
    size_t first = offsetof(mlops_backend, obj_exists), last = offsetof(mlops_backend, free);
    for (size_t off = first; off < last; off += sizeof(void (*)(void))) {
        mlops_backend c = b;
        memset((char *)&c + off, 0, sizeof(void (*)(void)));
        tu_assert_err(mlops_store_open_backend(&s, &c, NULL), MLOPS_EINVALID);
        ck_assert_ptr_null(s);
    }
    mlops_backend c = b;
    c.version = 42;
    tu_assert_err(mlops_store_open_backend(&s, &c, NULL), MLOPS_EINVALID);
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.version = 42;
    tu_assert_err(mlops_store_open_backend(&s, &b, &o), MLOPS_EINVALID);
    /* free may be NULL */
    c = b;
    c.free = NULL;
    ck_assert_int_eq(mlops_store_open_backend(&s, &c, NULL), 0);
    mlops_store_free(s);
    ck_assert_int_eq(freed, 0);
    p_free(&b);
}
END_TEST

START_TEST(proxy_works)
{
    int freed = 0;
    proxy *p;
    mlops_backend b;
    make_proxy(&b, &freed, &p);
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_backend(&s, &b, NULL), 0);
    size_t len = 200000;
    char *data = tu_xmalloc(len);
    tu_fill_text(data, len, 3);
    mlops_oid id = tu_put(s, data, len);
    char want[65], got[65];
    tu_sha256sum_buf(data, len, want);
    tu_hex(&id, got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_ge(p->commits, 1);
    void *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_object_get(&out, &n, s, &id), 0);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(memcmp(out, data, len), 0);
    mlops_free(out);
    ck_assert_uint_ge(p->reads, 1);
    ck_assert_int_eq(mlops_ref_set(s, "main", &id, NULL), 0);
    ck_assert_uint_ge(p->cas, 1);
    mlops_oid r;
    ck_assert_int_eq(mlops_ref_get(&r, s, "main"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&r, &id), 0);
    ck_assert_int_eq(mlops_log_append(s, "l", "rec", 3), 0);
    ck_assert_int_eq(mlops_log_sync(s, "l"), 0);
    ck_assert_uint_ge(p->appends, 1);
    ck_assert_int_eq(mlops_store_sync(s), 0);
    ck_assert_uint_ge(p->syncs, 1);
    tu_verify_clean(s);
    mlops_gc_options g = MLOPS_GC_OPTIONS_INIT;
    g.grace_seconds = 0;
    mlops_gc_report gr;
    tu_put_str(s, "garbage");
    ck_assert_int_eq(mlops_store_gc(&gr, s, &g, NULL, NULL), 0);
    ck_assert_uint_eq(gr.freed, 1);
    ck_assert_uint_eq(gr.reachable, 1);

    /* failures and messages from the backend reach the caller */
    p->fail_commit = 1;
    mlops_oid x;
    tu_assert_err(mlops_object_put(&x, s, "not stored", 10), MLOPS_EIO);
    ck_assert_msg(strstr(mlops_error_last(), "disk is on fire") != NULL, "message: %s", mlops_error_last());
    p->fail_commit = 0;
    ck_assert_int_eq(mlops_oid_hash(&x, "not stored", 10), 0);
    ck_assert_int_eq(mlops_object_exists(s, &x), 0);
    p->fail_cas = 1;
    tu_assert_err(mlops_ref_set(s, "main", &id, &id), MLOPS_ECONFLICT); /* the front end may word it */
    p->fail_cas = 0;

    mlops_store_free(s);
    ck_assert_int_eq(freed, 1);
    free(data);
}
END_TEST

/* A caller built against version 1 has a struct without ref_commit: the
 * store must neither write (init) nor read (open) past its end. The
 * buffer is exactly that long, so ASan would see either. */
START_TEST(version1_struct_is_shorter)
{
    int freed = 0;
    proxy *p;
    mlops_backend full;
    make_proxy(&full, &freed, &p);
    size_t v1 = offsetof(mlops_backend, ref_commit);
    mlops_backend *b1 = malloc(v1);
    ck_assert_ptr_nonnull(b1);
    unsigned int version = 0, one = 1; /* the first member, read as bytes */
    ck_assert_int_eq(mlops_backend_init(b1, 1), 0);
    memcpy(&version, b1, sizeof version);
    ck_assert_uint_eq(version, 1);
    memcpy(b1, &full, v1);
    memcpy(b1, &one, sizeof one);
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_backend(&s, b1, NULL), 0);
    free(b1);
    mlops_oid id = tu_put_str(s, "v1 backend");
    unsigned long syncs = p->syncs;
    ck_assert_int_eq(mlops_ref_set(s, "main", &id, NULL), 0);
    ck_assert_uint_gt(p->syncs, syncs); /* the store's own commit point */
    ck_assert_uint_eq(p->cas, 1);
    mlops_store_free(s);
    ck_assert_int_eq(freed, 1);
}
END_TEST

/* With ref_commit set, a ref update in COMMIT mode is that one call; with
 * durability NONE, and for deletes, it is plain ref_cas. */
START_TEST(ref_commit_used_for_updates)
{
    int freed = 0;
    proxy *p;
    mlops_backend b;
    make_proxy(&b, &freed, &p);
    b.ref_commit = p_ref_commit;
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_backend(&s, &b, NULL), 0);
    mlops_oid a = tu_put_str(s, "a"), c = tu_put_str(s, "c");
    unsigned long syncs = p->syncs;
    ck_assert_int_eq(mlops_ref_set(s, "main", &a, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(s, "main", &c, &a), 0);
    tu_assert_err(mlops_ref_set(s, "main", &a, &a), MLOPS_ECONFLICT);
    ck_assert_uint_eq(p->ref_commits, 3);
    ck_assert_uint_eq(p->cas, 0);
    ck_assert_uint_eq(p->syncs, syncs); /* no second commit point */
    mlops_oid got;
    ck_assert_int_eq(mlops_ref_get(&got, s, "main"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&got, &c), 0);
    ck_assert_int_eq(mlops_ref_delete(s, "main", &c), 0);
    ck_assert_uint_eq(p->cas, 1);
    mlops_store_free(s);

    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = MLOPS_DURABILITY_NONE;
    make_proxy(&b, &freed, &p);
    b.ref_commit = p_ref_commit;
    ck_assert_int_eq(mlops_store_open_backend(&s, &b, &o), 0);
    a = tu_put_str(s, "a");
    ck_assert_int_eq(mlops_ref_set(s, "main", &a, NULL), 0);
    ck_assert_uint_eq(p->ref_commits, 0);
    ck_assert_uint_eq(p->cas, 1);
    mlops_store_free(s);
    ck_assert_int_eq(freed, 2);
}
END_TEST

START_TEST(backend_error_set)
{
    ck_assert_int_eq(mlops_backend_error_set(MLOPS_ENOTFOUND, "custom message"), MLOPS_ENOTFOUND);
    ck_assert_str_eq(mlops_error_last(), "custom message");
    ck_assert_int_eq(mlops_error_last_code(), MLOPS_ENOTFOUND);
    ck_assert_int_eq(mlops_backend_error_set(MLOPS_EIO, NULL), MLOPS_EIO);
    ck_assert_ptr_nonnull(mlops_error_last());
    ck_assert_int_eq(mlops_error_last_code(), MLOPS_EIO);
}
END_TEST

static Suite *backend_suite(void)
{
    Suite *s = suite_create("backend");
    TCase *tc = tcase_create("backend");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, backend_init);
    tcase_add_test(tc, open_backend_incomplete);
    tcase_add_test(tc, proxy_works);
    tcase_add_test(tc, version1_struct_is_shorter);
    tcase_add_test(tc, ref_commit_used_for_updates);
    tcase_add_test(tc, backend_error_set);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(backend_suite());
}
