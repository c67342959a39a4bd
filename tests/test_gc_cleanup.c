/* gc removes what crashed writers leave in an fs store (temp blobs, format
 * temps, ref value temps, broken locks, repair temps) once they are older
 * than the grace period, and nothing else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "testutil.h"

#define GRACE 600
#define HEX16 "0123456789abcdef"
#define HEX32 HEX16 HEX16

/* Creates path holding len bytes, last modified age_sec ago. */
static void make_file(const char *path, size_t len, long age_sec)
{
    char *data = tu_xmalloc(len + 1);
    memset(data, 'x', len);
    tu_write_file(path, data, len);
    free(data);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_sec;
    tv[1] = tv[0];
    ck_assert_msg(utimes(path, tv) == 0, "utimes %s: %s", path, strerror(errno));
}

typedef struct fixture {
    tu_store t;
    mlops_oid obj, nested;
    char *old[5];   /* leftovers older than the grace period */
    size_t old_bytes;
    char *keep[5];  /* files gc must not touch */
    char *outside;  /* the target of a symlink that looks like a leftover */
} fixture;

static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    tu_store_open(&f->t, TU_FS, NULL);
    const char *dir = f->t.dir;
    f->obj = tu_put_str(f->t.s, "a real object");
    f->nested = tu_put_str(f->t.s, "a nested ref's object");
    ck_assert_int_eq(mlops_ref_set(f->t.s, "main", &f->obj, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(f->t.s, "a/b/c", &f->nested, NULL), 0);

    char hex[65];
    tu_hex(&f->obj, hex);
    f->old[0] = tu_path("%s/tmp/obj-%s", dir, HEX32);
    f->old[1] = tu_path("%s/tmp/format-%s", dir, HEX16);
    f->old[2] = tu_path("%s/refs/.tmp-%s", dir, HEX16);
    f->old[3] = tu_path("%s/refs/a/b/.broken-%s", dir, HEX16);
    f->old[4] = tu_path("%s/objects/%.2s/%s.repair-%s", dir, hex, hex + 2, HEX16);
    for (size_t i = 0; i < 5; i++) {
        make_file(f->old[i], 10 + i, 2 * GRACE);
        f->old_bytes += 10 + i;
    }
    /* young: a writer may still be using it */
    f->keep[0] = tu_path("%s/refs/a/.tmp-%s", dir, "fedcba9876543210");
    make_file(f->keep[0], 7, 10);
    /* old, but not of a leftover's exact form */
    f->keep[1] = tu_path("%s/tmp/obj-%s0", dir, HEX32);
    make_file(f->keep[1], 3, 2 * GRACE);
    f->keep[2] = tu_path("%s/tmp/notes.txt", dir);
    make_file(f->keep[2], 3, 2 * GRACE);
    /* an old lock: the stale-lock logic's business, not cleanup's */
    f->keep[3] = tu_path("%s/refs/a/b/c.lock", dir);
    make_file(f->keep[3], 3, 2 * GRACE);
    /* a symlink named like a leftover, to an old file outside the store */
    f->outside = tu_path("%s.outside", dir);
    make_file(f->outside, 5, 2 * GRACE);
    f->keep[4] = tu_path("%s/refs/.broken-%s", dir, "00112233445566aa");
    ck_assert_int_eq(symlink(f->outside, f->keep[4]), 0);
}

static void teardown(fixture *f)
{
    for (size_t i = 0; i < 5; i++) {
        free(f->old[i]);
        free(f->keep[i]);
    }
    unlink(f->outside);
    free(f->outside);
    tu_store_destroy(&f->t);
}

static int lexists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void assert_kept(const fixture *f)
{
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(lexists(f->keep[i]), "%s was removed", f->keep[i]);
    ck_assert(tu_exists(f->outside));
    ck_assert_int_eq(mlops_object_exists(f->t.s, &f->obj), 1);
    ck_assert_int_eq(mlops_object_exists(f->t.s, &f->nested), 1);
    mlops_oid cur;
    ck_assert_int_eq(mlops_ref_get(&cur, f->t.s, "main"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&cur, &f->obj), 0);
    ck_assert_int_eq(mlops_ref_get(&cur, f->t.s, "a/b/c"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&cur, &f->nested), 0);
}

static mlops_gc_report run_gc(mlops_store *s, int dry_run)
{
    mlops_gc_options o = MLOPS_GC_OPTIONS_INIT;
    o.grace_seconds = GRACE;
    o.dry_run = dry_run;
    mlops_gc_report r;
    int rc = mlops_store_gc(&r, s, &o, NULL, NULL);
    ck_assert_msg(rc == 0, "gc: %d %s", rc, mlops_error_last());
    return r;
}

START_TEST(gc_removes_old_leftovers)
{
    fixture f;
    setup(&f);
    mlops_gc_report r = run_gc(f.t.s, 0);
    ck_assert_uint_eq(r.leftovers, 5);
    ck_assert_uint_eq(r.leftover_bytes, f.old_bytes);
    ck_assert_uint_eq(r.freed, 0);
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(!lexists(f.old[i]), "leftover %s is still there", f.old[i]);
    assert_kept(&f);
    tu_verify_clean(f.t.s);
    /* nothing left the second time */
    r = run_gc(f.t.s, 0);
    ck_assert_uint_eq(r.leftovers, 0);
    ck_assert_uint_eq(r.leftover_bytes, 0);
    /* the store still works where the leftovers were */
    ck_assert_int_eq(mlops_ref_set(f.t.s, "a/b/d", &f.obj, NULL), 0);
    ck_assert_int_eq(mlops_ref_set(f.t.s, "main", &f.nested, &f.obj), 0);
    tu_verify_clean(f.t.s);
    teardown(&f);
}
END_TEST

START_TEST(gc_dry_run_removes_nothing)
{
    fixture f;
    setup(&f);
    char *before = tu_tree(f.t.dir);
    mlops_gc_report r = run_gc(f.t.s, 1);
    ck_assert_uint_eq(r.leftovers, 5);
    ck_assert_uint_eq(r.leftover_bytes, f.old_bytes);
    char *after = tu_tree(f.t.dir);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    for (size_t i = 0; i < 5; i++)
        ck_assert(lexists(f.old[i]));
    assert_kept(&f);
    /* a read-only handle can count but not remove */
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.flags = MLOPS_STORE_READONLY;
    tu_store_reopen(&f.t, &o);
    r = run_gc(f.t.s, 1);
    ck_assert_uint_eq(r.leftovers, 5);
    mlops_gc_report r2;
    tu_assert_err(mlops_store_gc(&r2, f.t.s, NULL, NULL, NULL), MLOPS_EPERM);
    for (size_t i = 0; i < 5; i++)
        ck_assert(lexists(f.old[i]));
    teardown(&f);
}
END_TEST

START_TEST(gc_grace_keeps_everything_young)
{
    fixture f;
    setup(&f);
    mlops_gc_options o = MLOPS_GC_OPTIONS_INIT;
    o.grace_seconds = 4 * GRACE; /* every leftover is younger than this */
    mlops_gc_report r;
    ck_assert_int_eq(mlops_store_gc(&r, f.t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(r.leftovers, 0);
    for (size_t i = 0; i < 5; i++)
        ck_assert(lexists(f.old[i]));
    o.grace_seconds = UINT64_MAX; /* before the epoch: nothing is that old */
    ck_assert_int_eq(mlops_store_gc(&r, f.t.s, &o, NULL, NULL), 0);
    ck_assert_uint_eq(r.leftovers, 0);
    teardown(&f);
}
END_TEST

START_TEST(gc_memory_has_no_leftovers)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    tu_put_str(t.s, "x");
    mlops_gc_report r = run_gc(t.s, 0);
    ck_assert_uint_eq(r.leftovers, 0);
    ck_assert_uint_eq(r.leftover_bytes, 0);
    tu_store_destroy(&t);
}
END_TEST

static Suite *gc_cleanup_suite(void)
{
    Suite *s = suite_create("gc_cleanup");
    TCase *tc = tcase_create("leftovers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gc_removes_old_leftovers);
    tcase_add_test(tc, gc_dry_run_removes_nothing);
    tcase_add_test(tc, gc_grace_keeps_everything_young);
    tcase_add_test(tc, gc_memory_has_no_leftovers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(gc_cleanup_suite());
}
