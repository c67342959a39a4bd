/* Refs: compare-and-swap, delete, names, iteration. Loop tests run on the
 * memory store (_i == 0) and on the fs store (_i == 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void assert_ref(mlops_store *s, const char *name, const mlops_oid *want)
{
    mlops_oid got;
    int rc = mlops_ref_get(&got, s, name);
    ck_assert_msg(rc == 0, "ref_get %s: %d %s", name, rc, mlops_error_last());
    char a[65], b[65];
    tu_hex(&got, a);
    tu_hex(want, b);
    ck_assert_msg(strcmp(a, b) == 0, "ref %s is %s, expected %s", name, a, b);
}

static void assert_no_ref(mlops_store *s, const char *name)
{
    mlops_oid got;
    tu_assert_err(mlops_ref_get(&got, s, name), MLOPS_ENOTFOUND);
}

START_TEST(get_missing)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    assert_no_ref(t.s, "main");
    assert_no_ref(t.s, "a/b/c");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(create_only)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = tu_put_str(t.s, "A"), b = tu_put_str(t.s, "B");
    ck_assert_int_eq(mlops_ref_set(t.s, "main", &a, NULL), 0);
    assert_ref(t.s, "main", &a);
    tu_assert_err(mlops_ref_set(t.s, "main", &b, NULL), MLOPS_ECONFLICT);
    assert_ref(t.s, "main", &a);
    tu_assert_err(mlops_ref_set(t.s, "main", &a, NULL), MLOPS_ECONFLICT);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(compare_and_swap)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = tu_put_str(t.s, "A"), b = tu_put_str(t.s, "B"), c = tu_put_str(t.s, "C");
    ck_assert_int_eq(mlops_ref_set(t.s, "heads/main", &a, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "heads/main", &b, &a), 0);
    assert_ref(t.s, "heads/main", &b);
    /* stale expectation */
    tu_assert_err(mlops_ref_set(t.s, "heads/main", &c, &a), MLOPS_ECONFLICT);
    assert_ref(t.s, "heads/main", &b);
    /* same value is a valid update */
    ck_assert_int_eq(mlops_ref_set(t.s, "heads/main", &b, &b), 0);
    assert_ref(t.s, "heads/main", &b);
    /* an expectation on a ref that does not exist */
    tu_assert_err(mlops_ref_set(t.s, "heads/other", &c, &a), MLOPS_ECONFLICT);
    assert_no_ref(t.s, "heads/other");
    /* a long chain of updates */
    mlops_oid cur = b;
    for (int k = 0; k < 50; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "value %d", k);
        mlops_oid next = tu_put_str(t.s, buf);
        ck_assert_int_eq(mlops_ref_set(t.s, "heads/main", &next, &cur), 0);
        cur = next;
    }
    assert_ref(t.s, "heads/main", &cur);
    if (t.kind == TU_FS) {
        tu_store_reopen(&t, NULL);
        assert_ref(t.s, "heads/main", &cur);
    }
    tu_store_destroy(&t);
}
END_TEST

START_TEST(target_must_exist)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid ghost;
    ck_assert_int_eq(mlops_oid_hash(&ghost, "not stored", 10), 0);
    tu_assert_err(mlops_ref_set(t.s, "main", &ghost, NULL), MLOPS_ENOTFOUND);
    assert_no_ref(t.s, "main");
    mlops_oid a = tu_put_str(t.s, "A");
    ck_assert_int_eq(mlops_ref_set(t.s, "main", &a, NULL), 0);
    tu_assert_err(mlops_ref_set(t.s, "main", &ghost, &a), MLOPS_ENOTFOUND);
    assert_ref(t.s, "main", &a);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(delete)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = tu_put_str(t.s, "A"), b = tu_put_str(t.s, "B");
    ck_assert_int_eq(mlops_ref_set(t.s, "x", &a, NULL), 0);
    tu_assert_err(mlops_ref_delete(t.s, "x", &b), MLOPS_ECONFLICT);
    assert_ref(t.s, "x", &a);
    ck_assert_int_eq(mlops_ref_delete(t.s, "x", &a), 0);
    assert_no_ref(t.s, "x");
    tu_assert_err(mlops_ref_delete(t.s, "x", NULL), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_ref_delete(t.s, "x", &a), MLOPS_ENOTFOUND);
    ck_assert_int_eq(mlops_ref_set(t.s, "x", &b, NULL), 0); /* re-create after delete */
    ck_assert_int_eq(mlops_ref_delete(t.s, "x", NULL), 0);
    assert_no_ref(t.s, "x");
    tu_assert_err(mlops_ref_delete(t.s, "never/was", NULL), MLOPS_ENOTFOUND);
    /* deleting a ref does not delete the object */
    ck_assert_int_eq(mlops_object_exists(t.s, &a), 1);
    tu_store_destroy(&t);
}
END_TEST

static const char *const invalid_names[] = {
    "../x", "/abs", "a//b", "", "a\nb", "x/", "a/./b", "a/.hidden", "x.lock", "a/b.lock", "a.lock/b",
    ".", "..", "a/..", "../../etc/passwd", "a/../b", ".x", "/", "//", "a\tb", "a\x01", "a\177b", "a\rb",
    "a\x1b[31m"};

static char *name_of_len(size_t len)
{
    /* components of up to 200 bytes separated by '/' */
    char *s = tu_xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        s[i] = (i % 201 == 200) ? '/' : (char)('a' + i % 26);
    s[len] = 0;
    ck_assert(s[len - 1] != '/');
    return s;
}

static int count_cb(const char *name, const mlops_oid *id, void *payload)
{
    (void)name;
    (void)id;
    (*(int *)payload)++;
    return 0;
}

START_TEST(invalid_names_rejected)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = tu_put_str(t.s, "A");
    char *before = t.dir ? tu_tree(t.dir) : NULL;
    int tmp_x_before = tu_exists("/tmp/x");
    char *too_long = name_of_len(MLOPS_REF_NAME_MAX + 1);
    size_t n = sizeof invalid_names / sizeof invalid_names[0];
    for (size_t k = 0; k <= n; k++) {
        const char *name = k < n ? invalid_names[k] : too_long;
        mlops_oid out;
        ck_assert_msg(mlops_ref_name_is_valid(name) == 0, "name #%zu '%s' accepted", k, name);
        ck_assert_msg(strlen(mlops_error_last()) > 0, "no message for invalid name #%zu", k);
        tu_assert_err(mlops_ref_set(t.s, name, &a, NULL), MLOPS_EINVALID);
        tu_assert_err(mlops_ref_get(&out, t.s, name), MLOPS_EINVALID);
        tu_assert_err(mlops_ref_delete(t.s, name, NULL), MLOPS_EINVALID);
    }
    tu_assert_err(mlops_ref_set(t.s, NULL, &a, NULL), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_ref_name_is_valid(NULL), 0);
    if (t.dir) {
        char *after = tu_tree(t.dir);
        ck_assert_str_eq(before, after);
        free(after);
    }
    ck_assert(!tu_exists("/abs"));
    ck_assert_int_eq(tu_exists("/tmp/x"), tmp_x_before);
    /* nothing became visible */
    int count = 0;
    ck_assert_int_eq(mlops_ref_foreach(t.s, NULL, count_cb, &count), 0);
    ck_assert_int_eq(count, 0);
    free(too_long);
    free(before);
    tu_store_destroy(&t);
}
END_TEST

static const char *const valid_names[] = {"main", "a/b", "refs/heads/main", "v1.0", "-x", "a..b",
                                          "x.lockx", "caf\xc3\xa9", "with space", "a-b_c.d/e:f", "l.o.c.k"};

START_TEST(valid_names_accepted)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = tu_put_str(t.s, "A");
    for (size_t k = 0; k < sizeof valid_names / sizeof valid_names[0]; k++) {
        const char *name = valid_names[k];
        ck_assert_msg(mlops_ref_name_is_valid(name) == 1, "name '%s' refused: %s", name, mlops_error_last());
        int rc = mlops_ref_set(t.s, name, &a, NULL);
        ck_assert_msg(rc == 0, "set '%s': %d %s", name, rc, mlops_error_last());
        assert_ref(t.s, name, &a);
        ck_assert_int_eq(mlops_ref_delete(t.s, name, &a), 0);
    }
    /* exactly MLOPS_REF_NAME_MAX bytes */
    char *longest = name_of_len(MLOPS_REF_NAME_MAX);
    ck_assert_int_eq(mlops_ref_name_is_valid(longest), 1);
    int rc = mlops_ref_set(t.s, longest, &a, NULL);
    ck_assert_msg(rc == 0, "set of a %d-byte name: %d %s", MLOPS_REF_NAME_MAX, rc, mlops_error_last());
    assert_ref(t.s, longest, &a);
    free(longest);
    tu_store_destroy(&t);
}
END_TEST

typedef struct seen {
    char names[32][64];
    mlops_oid ids[32];
    int n;
    int stop_at;
} seen;

static int collect(const char *name, const mlops_oid *id, void *payload)
{
    seen *s = payload;
    if (s->n < 32) {
        snprintf(s->names[s->n], 64, "%s", name);
        s->ids[s->n] = *id;
    }
    s->n++;
    return s->stop_at && s->n >= s->stop_at ? 1 : 0;
}

static void expect_walk(mlops_store *st, const char *prefix, const char *const *want, int nwant)
{
    seen s;
    memset(&s, 0, sizeof s);
    int rc = mlops_ref_foreach(st, prefix, collect, &s);
    ck_assert_msg(rc == 0, "foreach '%s': %d %s", prefix ? prefix : "(null)", rc, mlops_error_last());
    ck_assert_msg(s.n == nwant, "prefix '%s': %d refs, expected %d", prefix ? prefix : "(null)", s.n, nwant);
    for (int i = 0; i < nwant; i++)
        ck_assert_str_eq(s.names[i], want[i]);
}

START_TEST(foreach_prefix_order)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    /* inserted out of order; bytewise order is '-' < '/' < '0' */
    const char *names[] = {"y", "x0", "x/c", "w/a/b", "x-1", "x/b"};
    mlops_oid ids[6];
    for (int k = 0; k < 6; k++) {
        ids[k] = tu_put_str(t.s, names[k]);
        ck_assert_int_eq(mlops_ref_set(t.s, names[k], &ids[k], NULL), 0);
    }
    const char *all[] = {"w/a/b", "x-1", "x/b", "x/c", "x0", "y"};
    expect_walk(t.s, NULL, all, 6);
    expect_walk(t.s, "", all, 6);
    const char *x[] = {"x-1", "x/b", "x/c", "x0"};
    expect_walk(t.s, "x", x, 4);
    const char *xs[] = {"x/b", "x/c"};
    expect_walk(t.s, "x/", xs, 2);
    const char *xb[] = {"x/b"};
    expect_walk(t.s, "x/b", xb, 1);
    expect_walk(t.s, "zzz", NULL, 0);
    expect_walk(t.s, "w/a/b/c", NULL, 0);

    /* ids are passed along */
    seen s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mlops_ref_foreach(t.s, "y", collect, &s), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(mlops_oid_cmp(&s.ids[0], &ids[0]), 0);

    /* a callback stopping the walk */
    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    tu_assert_err(mlops_ref_foreach(t.s, NULL, collect, &s), MLOPS_EUSER);
    ck_assert_int_eq(s.n, 2);

    tu_assert_err(mlops_ref_foreach(t.s, NULL, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_foreach(NULL, NULL, collect, &s), MLOPS_EINVALID);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(nested_names)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid b = tu_put_str(t.s, "B"), c = tu_put_str(t.s, "C");
    ck_assert_int_eq(mlops_ref_set(t.s, "a/b", &b, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "a/c", &c, NULL), 0);
    assert_ref(t.s, "a/b", &b);
    assert_ref(t.s, "a/c", &c);
    assert_no_ref(t.s, "a");
    ck_assert_int_eq(mlops_ref_delete(t.s, "a/b", NULL), 0);
    assert_ref(t.s, "a/c", &c);
    const char *rest[] = {"a/c"};
    expect_walk(t.s, NULL, rest, 1);
    ck_assert_int_eq(mlops_ref_delete(t.s, "a/c", &c), 0);
    expect_walk(t.s, NULL, NULL, 0);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(name_reusable_after_children_deleted)
{
    /* after a/b is deleted, "a" names a ref again (no leftover directory
     * may block it) */
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid b = tu_put_str(t.s, "B");
    ck_assert_int_eq(mlops_ref_set(t.s, "a/b", &b, NULL), 0);
    ck_assert_int_eq(mlops_ref_delete(t.s, "a/b", NULL), 0);
    int rc = mlops_ref_set(t.s, "a", &b, NULL);
    ck_assert_msg(rc == 0, "set 'a' after deleting 'a/b': %d %s", rc, mlops_error_last());
    assert_ref(t.s, "a", &b);
    const char *only[] = {"a"};
    expect_walk(t.s, NULL, only, 1);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(null_arguments)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = tu_put_str(t.s, "A"), out;
    tu_assert_err(mlops_ref_get(NULL, t.s, "main"), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_get(&out, NULL, "main"), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_get(&out, t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_set(NULL, "main", &a, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_set(t.s, "main", NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_delete(NULL, "main", NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_ref_delete(t.s, NULL, NULL), MLOPS_EINVALID);
    assert_no_ref(t.s, "main");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(two_handles)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_store *other = NULL;
    ck_assert_int_eq(mlops_store_open(&other, t.dir, NULL), 0);
    mlops_oid a = tu_put_str(t.s, "A"), b = tu_put_str(other, "B");
    ck_assert_int_eq(mlops_ref_set(t.s, "shared", &a, NULL), 0);
    assert_ref(other, "shared", &a);
    tu_assert_err(mlops_ref_set(other, "shared", &b, NULL), MLOPS_ECONFLICT);
    ck_assert_int_eq(mlops_ref_set(other, "shared", &b, &a), 0);
    tu_assert_err(mlops_ref_set(t.s, "shared", &a, &a), MLOPS_ECONFLICT);
    assert_ref(t.s, "shared", &b);
    ck_assert_int_eq(mlops_ref_delete(t.s, "shared", &b), 0);
    assert_no_ref(other, "shared");
    mlops_store_free(other);
    tu_store_destroy(&t);
}
END_TEST

static Suite *refs_suite(void)
{
    Suite *s = suite_create("refs");
    TCase *tc = tcase_create("both");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, get_missing, 0, TU_KINDS);
    tcase_add_loop_test(tc, create_only, 0, TU_KINDS);
    tcase_add_loop_test(tc, compare_and_swap, 0, TU_KINDS);
    tcase_add_loop_test(tc, target_must_exist, 0, TU_KINDS);
    tcase_add_loop_test(tc, delete, 0, TU_KINDS);
    tcase_add_loop_test(tc, invalid_names_rejected, 0, TU_KINDS);
    tcase_add_loop_test(tc, valid_names_accepted, 0, TU_KINDS);
    tcase_add_loop_test(tc, foreach_prefix_order, 0, TU_KINDS);
    tcase_add_loop_test(tc, nested_names, 0, TU_KINDS);
    tcase_add_loop_test(tc, name_reusable_after_children_deleted, 0, TU_KINDS);
    tcase_add_loop_test(tc, null_arguments, 0, TU_KINDS);
    tcase_add_test(tc, two_handles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(refs_suite());
}
