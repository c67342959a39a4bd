/* Error table, last error, allocator hook, version. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Written down independently of the header's X-macro: these values are a
 * promise to every binding and must never change. */
static const struct {
    int value;
    int code;
    const char *name;
} codes[] = {
    {0, MLOPS_OK, "OK"},
    {-1, MLOPS_ERROR, "ERROR"},
    {-2, MLOPS_ENOMEM, "ENOMEM"},
    {-3, MLOPS_ENOTFOUND, "ENOTFOUND"},
    {-4, MLOPS_EEXISTS, "EEXISTS"},
    {-5, MLOPS_EINVALID, "EINVALID"},
    {-6, MLOPS_ECORRUPT, "ECORRUPT"},
    {-7, MLOPS_ECONFLICT, "ECONFLICT"},
    {-8, MLOPS_EIO, "EIO"},
    {-9, MLOPS_ELOCKED, "ELOCKED"},
    {-10, MLOPS_EUNSUPPORTED, "EUNSUPPORTED"},
    {-11, MLOPS_EUSER, "EUSER"},
    {-12, MLOPS_ENOSPACE, "ENOSPACE"},
    {-13, MLOPS_EPERM, "EPERM"},
    {-30, MLOPS_ITEROVER, "ITEROVER"},
};
#define NCODES (sizeof codes / sizeof codes[0])

START_TEST(error_values_fixed)
{
    for (size_t i = 0; i < NCODES; i++)
        ck_assert_msg(codes[i].code == codes[i].value, "%s is %d, must be %d", codes[i].name, codes[i].code,
                      codes[i].value);
}
END_TEST

START_TEST(error_names_and_messages)
{
    for (size_t i = 0; i < NCODES; i++) {
        const char *name = mlops_error_name(codes[i].value);
        const char *msg = mlops_strerror(codes[i].value);
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(msg);
        ck_assert_str_eq(name, codes[i].name);
        ck_assert_msg(strlen(msg) > 0, "empty message for %s", codes[i].name);
        ck_assert_msg(strchr(msg, '\n') == NULL, "message of %s is not one line", codes[i].name);
        /* messages are distinct */
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(msg, mlops_strerror(codes[j].value));
    }
    ck_assert_str_eq(mlops_strerror(MLOPS_ENOTFOUND), "not found");
}
END_TEST

START_TEST(error_unknown_codes)
{
    const int unknown[] = {1, 42, -14, -29, -31, -999, -1000, 2147483647, -2147483647 - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = mlops_error_name(unknown[i]);
        const char *msg = mlops_strerror(unknown[i]);
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(strlen(msg) > 0, "empty fallback message for %d", unknown[i]);
        ck_assert_msg(strlen(name) > 0, "empty fallback name for %d", unknown[i]);
        for (size_t j = 0; j < NCODES; j++)
            ck_assert_msg(strcmp(name, codes[j].name) != 0, "unknown code %d named like %s", unknown[i],
                          codes[j].name);
    }
}
END_TEST

START_TEST(error_last_never_null)
{
    const char *m = mlops_error_last();
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(mlops_error_last_code(), 0);
    mlops_oid id;
    tu_assert_err(mlops_oid_fromhex(&id, "xyz"), MLOPS_EINVALID);
    /* a success does not clear it */
    ck_assert_int_eq(mlops_oid_fromhex(&id, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 0);
    ck_assert_int_eq(mlops_error_last_code(), MLOPS_EINVALID);
    ck_assert_str_ne(mlops_error_last(), "");
}
END_TEST

typedef struct thread_result {
    int initial_code;
    char initial[256];
    int code;
    char msg[256];
} thread_result;

static void *other_thread(void *arg)
{
    thread_result *r = arg;
    const char *m = mlops_error_last();
    r->initial_code = mlops_error_last_code();
    snprintf(r->initial, sizeof r->initial, "%s", m ? m : "(null)");
    r->code = mlops_ref_name_is_valid("a//b") ? 1 : mlops_error_last_code();
    snprintf(r->msg, sizeof r->msg, "%s", mlops_error_last());
    return NULL;
}

START_TEST(error_last_thread_local)
{
    mlops_oid id;
    tu_assert_err(mlops_oid_fromhex(&id, "0123"), MLOPS_EINVALID);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", mlops_error_last());

    thread_result r;
    memset(&r, 0, sizeof r);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, &r), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);

    /* the new thread starts with no error of its own */
    ck_assert_int_eq(r.initial_code, 0);
    ck_assert_str_eq(r.initial, "");
    ck_assert_int_eq(r.code, MLOPS_EINVALID);
    ck_assert_msg(strlen(r.msg) > 0, "thread got an empty message");
    ck_assert_str_ne(r.msg, mine);
    /* ours is untouched by the other thread's failure */
    ck_assert_str_eq(mlops_error_last(), mine);
    ck_assert_int_eq(mlops_error_last_code(), MLOPS_EINVALID);
}
END_TEST

static void *m_malloc(size_t n, void *c)
{
    (void)c;
    return malloc(n);
}
static void *m_realloc(void *p, size_t n, void *c)
{
    (void)c;
    return realloc(p, n);
}
static void m_free(void *p, void *c)
{
    (void)c;
    free(p);
}

START_TEST(allocator_missing_function)
{
    mlops_allocator a = {m_malloc, m_realloc, m_free, NULL};
    a.malloc = NULL;
    tu_assert_err(mlops_allocator_set(&a), MLOPS_EINVALID);
    a.malloc = m_malloc;
    a.realloc = NULL;
    tu_assert_err(mlops_allocator_set(&a), MLOPS_EINVALID);
    a.realloc = m_realloc;
    a.free = NULL;
    tu_assert_err(mlops_allocator_set(&a), MLOPS_EINVALID);
    a.free = m_free;
    ck_assert_int_eq(mlops_allocator_set(&a), 0);
    ck_assert_int_eq(mlops_allocator_set(NULL), 0);
}
END_TEST

START_TEST(allocator_sees_library_allocations)
{
    tu_alloc a;
    memset(&a, 0, sizeof a);
    tu_alloc_install(&a);
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_memory(&s, NULL), 0);
    ck_assert_msg(a.calls > 0, "opening a store allocated nothing through the hook");
    mlops_oid id = tu_put_str(s, "hello allocator");
    void *out = NULL;
    size_t len = 0;
    ck_assert_int_eq(mlops_object_get(&out, &len, s, &id), 0);
    ck_assert_uint_eq(len, 15);
    ck_assert_mem_eq(out, "hello allocator", 15);
    mlops_free(out);
    mlops_store_free(s);
    ck_assert_msg(a.outstanding == 0, "%ld blocks still allocated after mlops_store_free", a.outstanding);
    tu_alloc_remove();

    /* NULL restored the default: nothing more reaches the counting hook */
    unsigned long before = a.calls;
    ck_assert_int_eq(mlops_store_open_memory(&s, NULL), 0);
    tu_put_str(s, "after restore");
    mlops_store_free(s);
    ck_assert_uint_eq(a.calls, before);
}
END_TEST

/* zlib's deflate state includes a window of 2 * 32 KiB = 65536 bytes (and
 * for default parameters prev/head/pending buffers of the same size). A
 * compressing put must show such allocations through the hook; the same put
 * without compression shows fewer. */
static unsigned long count_big_allocs(mlops_compression c, const void *data, size_t len)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.compression = c;
    tu_alloc a;
    memset(&a, 0, sizeof a);
    a.big = 65536;
    tu_alloc_install(&a);
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_memory(&s, &o), 0);
    mlops_oid id = tu_put(s, data, len);
    void *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_object_get(&out, &n, s, &id), 0);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(memcmp(out, data, len), 0);
    mlops_free(out);
    mlops_store_free(s);
    tu_alloc_remove();
    ck_assert_msg(a.outstanding == 0, "%ld blocks leaked", a.outstanding);
    return a.nbig;
}

START_TEST(allocator_sees_zlib)
{
    size_t len = 1 << 20;
    char *data = tu_xmalloc(len);
    tu_fill_text(data, len, 7);
    unsigned long with = count_big_allocs(MLOPS_COMPRESSION_ALWAYS, data, len);
    unsigned long without = count_big_allocs(MLOPS_COMPRESSION_NONE, data, len);
    ck_assert_msg(with >= without + 2,
                  "compressing put made %lu allocations of 64 KiB through the hook, uncompressed %lu: "
                  "zlib's allocations do not seem to go through the allocator hook",
                  with, without);
    free(data);
}
END_TEST

START_TEST(allocator_free_null)
{
    mlops_free(NULL);
    tu_alloc a;
    memset(&a, 0, sizeof a);
    tu_alloc_install(&a);
    mlops_free(NULL);
    tu_alloc_remove();
    ck_assert_int_eq(a.outstanding, 0);
}
END_TEST

START_TEST(version_matches)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", MLOPS_VERSION_MAJOR, MLOPS_VERSION_MINOR, MLOPS_VERSION_PATCH);
    ck_assert_str_eq(mlops_version(), expect);
    ck_assert_str_eq(MLOPS_VERSION_STRING, expect);
    ck_assert_str_eq(mlops_version(), TU_PROJECT_VERSION); /* meson.build's project version */
    ck_assert_uint_eq(mlops_version_number(), MLOPS_VERSION_NUMBER);
    ck_assert_uint_eq(mlops_version_number(),
                      (unsigned)(MLOPS_VERSION_MAJOR * 10000 + MLOPS_VERSION_MINOR * 100 + MLOPS_VERSION_PATCH));
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, error_values_fixed);
    tcase_add_test(tc, error_names_and_messages);
    tcase_add_test(tc, error_unknown_codes);
    tcase_add_test(tc, error_last_never_null);
    tcase_add_test(tc, error_last_thread_local);
    suite_add_tcase(s, tc);
    tc = tcase_create("allocator");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, allocator_missing_function);
    tcase_add_test(tc, allocator_sees_library_allocations);
    tcase_add_test(tc, allocator_sees_zlib);
    tcase_add_test(tc, allocator_free_null);
    suite_add_tcase(s, tc);
    tc = tcase_create("version");
    tcase_add_test(tc, version_matches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(common_suite());
}
