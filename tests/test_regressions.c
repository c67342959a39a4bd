/*
 * Regression tests: each reproduces a defect found in review, so that it
 * stays fixed. The comment above each test names the defect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "testutil.h"

/* Sets an object file's modification time an hour into the past. */
static void age_object(const char *dir, const mlops_oid *id)
{
    char *path = tu_object_path(dir, id);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 3600 * 2;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
    free(path);
}

/* A damaged (truncated) blob used to stay damaged forever: putting the
 * same content again found the name taken and kept the broken file. */
START_TEST(reput_repairs_truncated_blob)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    char data[5000];
    tu_fill_random(data, sizeof data, 11);
    mlops_oid id = tu_put(t.s, data, sizeof data);
    char *path = tu_object_path(t.dir, &id);
    tu_truncate(path, 100);
    void *out = NULL;
    size_t n = 0;
    tu_assert_err(mlops_object_get(&out, &n, t.s, &id), MLOPS_ECORRUPT);
    mlops_oid again = tu_put(t.s, data, sizeof data);
    ck_assert_int_eq(mlops_oid_cmp(&again, &id), 0);
    ck_assert_int_eq(mlops_object_get(&out, &n, t.s, &id), 0);
    ck_assert_uint_eq(n, sizeof data);
    ck_assert_int_eq(memcmp(out, data, n), 0);
    mlops_free(out);
    tu_verify_clean(t.s);
    free(path);
    tu_store_destroy(&t);
}
END_TEST

/* One unreadable ref file made verify and gc fail outright and could not
 * be deleted through the API. */
START_TEST(corrupt_ref_is_reported_and_removable)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid id = tu_put_str(t.s, "target");
    ck_assert_int_eq(mlops_ref_set(t.s, "good", &id, NULL), 0);
    char *bad = tu_path("%s/refs/bad", t.dir);
    tu_write_file(bad, "garbage\n", 8);
    mlops_verify_report rep;
    ck_assert_int_eq(mlops_store_verify(&rep, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.nbad_refs, 1);
    ck_assert_str_eq(rep.bad_refs[0], "bad");
    ck_assert_uint_eq(rep.ndangling, 0);
    mlops_verify_report_free(&rep);
    /* gc must not delete anything while a ref's target is unknown */
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 0;
    mlops_gc_report gr;
    tu_assert_err(mlops_store_gc(&gr, t.s, &go, NULL, NULL), MLOPS_ECORRUPT);
    ck_assert_int_eq(mlops_object_exists(t.s, &id), 1);
    /* the repair: an unconditional delete */
    ck_assert_int_eq(mlops_ref_delete(t.s, "bad", NULL), 0);
    ck_assert(!tu_exists(bad));
    ck_assert_int_eq(mlops_store_gc(&gr, t.s, &go, NULL, NULL), 0);
    ck_assert_uint_eq(gr.freed, 0);
    tu_verify_clean(t.s);
    free(bad);
    tu_store_destroy(&t);
}
END_TEST

typedef struct reput_ctx {
    mlops_store *s;
    const char *texts[4];
    int done;
} reput_ctx;

/* Stands in for another process: during gc, re-puts old content and
 * points refs at it. */
static int reput_during_gc(uint64_t done, uint64_t total, void *payload)
{
    reput_ctx *c = payload;
    (void)done;
    (void)total;
    if (c->done++)
        return 0;
    for (int i = 0; i < 4; i++) {
        mlops_oid id = tu_put_str(c->s, c->texts[i]);
        char name[16];
        snprintf(name, sizeof name, "late/%d", i);
        ck_assert_int_eq(mlops_ref_set(c->s, name, &id, NULL), 0);
    }
    return 0;
}

/* gc judged age by the time listed before marking: content re-put and
 * referenced while gc ran was deleted, leaving dangling refs. */
START_TEST(gc_keeps_content_reput_during_the_run)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    reput_ctx c = { t.s, { "one", "two", "three", "four" }, 0 };
    for (int i = 0; i < 4; i++) {
        mlops_oid id = tu_put_str(t.s, c.texts[i]);
        age_object(t.dir, &id);
    }
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 600;
    mlops_gc_report gr;
    ck_assert_int_eq(mlops_store_gc(&gr, t.s, &go, reput_during_gc, &c), 0);
    mlops_verify_report rep;
    ck_assert_int_eq(mlops_store_verify(&rep, t.s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.ndangling, 0);
    mlops_verify_report_free(&rep);
    tu_store_destroy(&t);
}
END_TEST

/* grace_seconds = UINT64_MAX ("never") wrapped to -1 and freed all. */
START_TEST(gc_huge_grace_frees_nothing)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid id = tu_put_str(t.s, "unreferenced");
    age_object(t.dir, &id);
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = UINT64_MAX;
    mlops_gc_report gr;
    ck_assert_int_eq(mlops_store_gc(&gr, t.s, &go, NULL, NULL), 0);
    ck_assert_uint_eq(gr.freed, 0);
    ck_assert_uint_eq(gr.young, 1);
    ck_assert_int_eq(mlops_object_exists(t.s, &id), 1);
    tu_store_destroy(&t);
}
END_TEST

/* A user's file that merely starts with the structured magic stopped gc
 * for good (it verifies, but does not parse). */
START_TEST(gc_survives_user_data_with_the_magic)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    const unsigned char fake[24] = { 0x89, 'M', 'L', 'S', '\r', '\n', 0x1a, '\n', 1, 200, 0, 0, 9, 9, 9, 9 };
    mlops_oid id = tu_put(t.s, fake, sizeof fake);
    ck_assert_int_eq(mlops_ref_set(t.s, "user", &id, NULL), 0);
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 0;
    mlops_gc_report gr;
    ck_assert_int_eq(mlops_store_gc(&gr, t.s, &go, NULL, NULL), 0);
    ck_assert_uint_eq(gr.reachable, 1);
    ck_assert_int_eq(mlops_object_exists(t.s, &id), 1);
    tu_store_destroy(&t);
}
END_TEST

/* The store kept a relative path: after chdir() writes went into a new,
 * unformatted directory under the new working directory. */
START_TEST(relative_store_path_survives_chdir)
{
    char *base = tu_mkdtemp();
    char *elsewhere = tu_path("%s/elsewhere", base);
    ck_assert_int_eq(mkdir(elsewhere, 0777), 0);
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(base), 0);
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open(&s, "store", NULL), 0);
    ck_assert_int_eq(chdir(elsewhere), 0);
    mlops_oid id = tu_put_str(s, "after chdir");
    ck_assert_int_eq(mlops_ref_set(s, "r", &id, NULL), 0);
    mlops_store_free(s);
    ck_assert_int_eq(chdir(cwd), 0);
    char *stray = tu_path("%s/store", elsewhere);
    ck_assert(!tu_exists(stray));
    char *ref = tu_path("%s/store/refs/r", base);
    ck_assert(tu_exists(ref));
    tu_rmrf(base);
    free(ref);
    free(stray);
    free(elsewhere);
    free(base);
}
END_TEST

/* The message of a decoding error was formatted from itself (overlapping
 * vsnprintf) and lost its cause. */
START_TEST(corrupt_header_message_keeps_its_cause)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_oid id = tu_put_str(t.s, "some bytes");
    char *path = tu_object_path(t.dir, &id);
    ck_assert_int_eq(chmod(path, 0644), 0);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, 0), 4);
    close(fd);
    void *out = NULL;
    size_t n = 0;
    tu_assert_err(mlops_object_get(&out, &n, t.s, &id), MLOPS_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "bad magic"));
    free(path);
    tu_store_destroy(&t);
}
END_TEST

/* The memory backend let "a" and "a/b" both exist; the fs backend cannot,
 * so code tested in memory failed on disk. Both refuse now. */
START_TEST(nested_ref_names_conflict_everywhere)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid id = tu_put_str(t.s, "x");
    ck_assert_int_eq(mlops_ref_set(t.s, "a", &id, NULL), 0);
    tu_assert_err(mlops_ref_set(t.s, "a/b", &id, NULL), MLOPS_EEXISTS);
    ck_assert_int_eq(mlops_ref_set(t.s, "a-b", &id, NULL), 0); /* sorts between "a" and "a/" */
    ck_assert_int_eq(mlops_ref_set(t.s, "c/d", &id, NULL), 0);
    tu_assert_err(mlops_ref_set(t.s, "c", &id, NULL), MLOPS_EEXISTS);
    ck_assert_int_eq(mlops_ref_delete(t.s, "c/d", NULL), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "c", &id, NULL), 0);
    tu_store_destroy(&t);
}
END_TEST

/* log_sync on a read-only store failed while store_sync succeeded. */
START_TEST(log_sync_on_readonly_store_is_a_noop)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    ck_assert_int_eq(mlops_log_append(t.s, "l", "r", 1), 0);
    tu_store_close(&t);
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.flags = MLOPS_STORE_READONLY;
    tu_store_reopen(&t, &o);
    ck_assert_int_eq(mlops_log_sync(t.s, "l"), 0);
    ck_assert_int_eq(mlops_store_sync(t.s), 0);
    tu_assert_err(mlops_log_append(t.s, "l", "r", 1), MLOPS_EPERM);
    tu_store_destroy(&t);
}
END_TEST

static Suite *regressions_suite(void)
{
    Suite *s = suite_create("regressions");
    TCase *tc = tcase_create("fs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reput_repairs_truncated_blob);
    tcase_add_test(tc, corrupt_ref_is_reported_and_removable);
    tcase_add_test(tc, gc_keeps_content_reput_during_the_run);
    tcase_add_test(tc, gc_huge_grace_frees_nothing);
    tcase_add_test(tc, gc_survives_user_data_with_the_magic);
    tcase_add_test(tc, relative_store_path_survives_chdir);
    tcase_add_test(tc, corrupt_header_message_keeps_its_cause);
    tcase_add_test(tc, log_sync_on_readonly_store_is_a_noop);
    suite_add_tcase(s, tc);
    tc = tcase_create("both");
    tcase_add_loop_test(tc, nested_ref_names_conflict_everywhere, 0, TU_KINDS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(regressions_suite());
}
