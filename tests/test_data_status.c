/* Data status: real working trees against their snapshots, through the
 * stat cache (what is read and what is not), notices, bad input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/data_internal.h"
#include "data_testutil.h"
#include "testutil.h"

static void put_file(const char *dir, const char *rel, const char *content)
{
    char *p = tu_path("%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    char *mk = tu_path("mkdir -p '%s'", p);
    ck_assert_int_eq(system(mk), 0);
    free(mk);
    *slash = '/';
    tu_write_file(p, content, strlen(content));
    free(p);
}

/* A working tree of 4 files, a symlink and an empty directory, aged. */
static char *make_tree(void)
{
    char *dir = tu_mkdtemp();
    put_file(dir, "a.txt", "alpha");
    put_file(dir, "sub/b.txt", "bravo");
    put_file(dir, "sub/deep/c.bin", "charlie");
    put_file(dir, "d.txt", "delta delta");
    char *l = tu_path("%s/sub/link", dir);
    ck_assert_int_eq(symlink("b.txt", l), 0);
    free(l);
    char *e = tu_path("%s/empty", dir);
    ck_assert_int_eq(mkdir(e, 0755), 0);
    free(e);
    tu_age_tree(dir, 10);
    return dir;
}

static void snapshot_hex(mlops_store *s, const char *path, char hex[65])
{
    mlops_data_snapshot_info info;
    int rc = mlops_data_snapshot(&info, s, path, NULL);
    ck_assert_msg(rc == 0, "snapshot: %s", mlops_error_last());
    tu_hex(&info.id, hex);
}

static mlops_data_diff *status(mlops_store *s, const char *ref, const char *path, unsigned flags)
{
    mlops_data_status_options o = MLOPS_DATA_STATUS_OPTIONS_INIT;
    o.flags = flags;
    mlops_data_diff *d = NULL;
    int rc = mlops_data_status(&d, s, ref, path, &o);
    ck_assert_msg(rc == 0, "status: %s", mlops_error_last());
    ck_assert_ptr_nonnull(d);
    return d;
}

/* Status as text (see describe) and the number of files read. */
static char *status_text(mlops_store *s, const char *ref, const char *path, unsigned flags, uint64_t *hashed)
{
    mlops_data_diff *d = status(s, ref, path, flags);
    char *text = tu_describe_diff(d);
    *hashed = d->files_hashed;
    mlops_data_diff_free(d);
    return text;
}

/* A store, an aged working tree (make_tree) and its snapshot's id. */
typedef struct fixture {
    tu_store t;
    char *dir;
    char hex[65];
} fixture;

static void fixture_open(fixture *x, int kind)
{
    tu_store_open(&x->t, kind, NULL);
    x->dir = make_tree();
    snapshot_hex(x->t.s, x->dir, x->hex);
}

static void fixture_close(fixture *x)
{
    tu_rmrf(x->dir);
    free(x->dir);
    tu_store_destroy(&x->t);
}

START_TEST(status_of_unchanged_tree_reads_nothing)
{
    fixture x;
    fixture_open(&x, _i);
    mlops_data_diff *d = status(x.t.s, x.hex, x.dir, 0);
    ck_assert_uint_eq(d->count, 0);
    ck_assert_uint_eq(d->files_hashed, 0);
    ck_assert_uint_eq(d->old_files, 4);
    ck_assert_uint_eq(d->new_files, 4);
    ck_assert_uint_eq(d->old_size, 5 + 5 + 7 + 11);
    ck_assert_uint_eq(d->new_size, d->old_size);
    mlops_data_diff_free(d);
    /* NO_CACHE reads every file, and finds the same */
    d = status(x.t.s, x.hex, x.dir, MLOPS_DATA_NO_CACHE);
    ck_assert_uint_eq(d->count, 0);
    ck_assert_uint_eq(d->files_hashed, 4);
    mlops_data_diff_free(d);
    /* NULL options are the defaults */
    d = NULL;
    ck_assert_int_eq(mlops_data_status(&d, x.t.s, x.hex, x.dir, NULL), 0);
    ck_assert_uint_eq(d->count + d->files_hashed, 0);
    mlops_data_diff_free(d);
    fixture_close(&x);
}
END_TEST

START_TEST(status_sees_same_size_change_behind_restored_mtime)
{
    fixture x;
    fixture_open(&x, _i);
    char *b = tu_path("%s/sub/b.txt", x.dir);
    struct stat before;
    ck_assert_int_eq(stat(b, &before), 0);
    tu_write_file(b, "BRAVO", 5);
    struct timespec ts[2] = { before.st_mtim, before.st_mtim };
    ck_assert_int_eq(utimensat(AT_FDCWD, b, ts, 0), 0);
    uint64_t hashed = 0;
    /* NO_UPDATE: the cache is left as it was, so the file is read again */
    for (int k = 0; k < 2; k++) {
        char *got = status_text(x.t.s, x.hex, x.dir, MLOPS_DATA_STATUS_NO_UPDATE, &hashed);
        ck_assert_str_eq(got, "~ sub/b.txt file>file 5>5\n");
        ck_assert_uint_eq(hashed, 1);
        free(got);
    }
    /* a refreshing status reads it once more; after that the cache vouches
     * for the new stat (mtime still old enough), the change stays */
    char *got = status_text(x.t.s, x.hex, x.dir, 0, &hashed);
    ck_assert_str_eq(got, "~ sub/b.txt file>file 5>5\n");
    ck_assert_uint_eq(hashed, 1);
    free(got);
    got = status_text(x.t.s, x.hex, x.dir, 0, &hashed);
    ck_assert_str_eq(got, "~ sub/b.txt file>file 5>5\n");
    ck_assert_uint_eq(hashed, 0);
    free(got);
    mlops_data_diff *d = status(x.t.s, x.hex, x.dir, 0);
    char want[65], id[65];
    tu_sha256sum_file(b, want);
    tu_hex(&d->changes[0].new_id, id);
    ck_assert_str_eq(id, want);
    tu_sha256sum_buf("bravo", 5, want);
    tu_hex(&d->changes[0].old_id, id);
    ck_assert_str_eq(id, want);
    mlops_data_diff_free(d);
    free(b);
    fixture_close(&x);
}
END_TEST

START_TEST(status_added_removed_renamed_and_types)
{
    fixture x;
    fixture_open(&x, _i);
    char *p = tu_path("%s/a.txt", x.dir), *q = tu_path("%s/moved/a.txt", x.dir);
    put_file(x.dir, "moved/new.txt", "brand new");
    ck_assert_int_eq(rename(p, q), 0);
    free(p);
    free(q);
    p = tu_path("%s/d.txt", x.dir);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    /* the link becomes a file, the empty directory gets a file, the deep
     * directory becomes a file */
    p = tu_path("%s/sub/link", x.dir);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    put_file(x.dir, "sub/link", "now a file");
    put_file(x.dir, "empty/f", "filled");
    char *rm = tu_path("rm -r '%s/sub/deep'", x.dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    put_file(x.dir, "sub/deep", "was a dir");
    uint64_t hashed = 0;
    char *got = status_text(x.t.s, x.hex, x.dir, 0, &hashed);
    ck_assert_str_eq(got, "- d.txt file 11\n"
                          "- empty dir 0\n"
                          "+ empty/f file 6\n"
                          "> a.txt moved/a.txt file 5\n"
                          "+ moved/new.txt file 9\n"
                          "+ sub/deep file 9\n"
                          "- sub/deep/c.bin file 7\n"
                          "~ sub/link link>file 5>10\n");
    ck_assert_uint_ge(hashed, 4);
    free(got);
    /* totals of the working tree come from its in-memory root */
    mlops_data_diff *d = status(x.t.s, x.hex, x.dir, 0);
    ck_assert_uint_eq(d->old_files, 4);
    ck_assert_uint_eq(d->old_size, 28);
    ck_assert_uint_eq(d->new_files, 6);
    ck_assert_uint_eq(d->new_size, 5 + 9 + 5 + 6 + 10 + 9);
    mlops_data_diff_free(d);
    fixture_close(&x);
}
END_TEST

START_TEST(status_rereads_racy_files)
{
    fixture x;
    fixture_open(&x, _i);
    put_file(x.dir, "fresh.txt", "just written");
    char *fresh = tu_path("%s/fresh.txt", x.dir);
    tu_set_mtime_from_now(fresh, 60); /* racy for sure, however slow this machine */
    free(fresh);
    snapshot_hex(x.t.s, x.dir, x.hex);
    /* written within the racy window of the cache: never trusted */
    mlops_data_diff *d = status(x.t.s, x.hex, x.dir, 0);
    ck_assert_uint_eq(d->count, 0);
    ck_assert_uint_eq(d->files_hashed, 1);
    mlops_data_diff_free(d);
    fixture_close(&x);
}
END_TEST

START_TEST(status_of_single_file)
{
    fixture x;
    fixture_open(&x, _i);
    char *f = tu_path("%s/d.txt", x.dir), hex[65];
    snapshot_hex(x.t.s, f, hex);
    uint64_t hashed = 0;
    char *got = status_text(x.t.s, hex, f, 0, &hashed);
    ck_assert_str_eq(got, "");
    ck_assert_uint_eq(hashed, 0);
    free(got);
    tu_write_file(f, "changed", 7);
    got = status_text(x.t.s, hex, f, 0, &hashed);
    ck_assert_str_eq(got, "~ d.txt file>file 11>7\n");
    ck_assert_uint_eq(hashed, 1);
    free(got);
    /* the whole directory against the one-file snapshot */
    got = status_text(x.t.s, hex, x.dir, 0, &hashed);
    ck_assert_str_eq(got, "+ a.txt file 5\n"
                          "~ d.txt file>file 11>7\n"
                          "+ empty dir 0\n"
                          "+ sub/b.txt file 5\n"
                          "+ sub/deep/c.bin file 7\n"
                          "+ sub/link link 5\n");
    free(got);
    free(f);
    fixture_close(&x);
}
END_TEST

typedef struct notices {
    int special;
    char path[64];
} notices;

static int on_notice(mlops_data_notice kind, const char *path, void *payload)
{
    notices *n = payload;
    if (kind == MLOPS_DATA_NOTICE_SPECIAL) {
        n->special++;
        snprintf(n->path, sizeof n->path, "%s", path);
    }
    return 0;
}

START_TEST(status_reports_notices_and_skips_special_files)
{
    fixture x;
    fixture_open(&x, _i);
    char *fifo = tu_path("%s/sub/pipe", x.dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    free(fifo);
    notices n = { 0, "" };
    mlops_data_status_options o;
    ck_assert_int_eq(mlops_data_status_options_init(&o, MLOPS_DATA_STATUS_OPTIONS_VERSION), 0);
    o.notice = on_notice;
    o.notice_payload = &n;
    mlops_data_diff *d = NULL;
    ck_assert_int_eq(mlops_data_status(&d, x.t.s, x.hex, x.dir, &o), 0);
    ck_assert_uint_eq(d->count, 0);
    ck_assert_int_eq(n.special, 1);
    ck_assert_str_eq(n.path, "sub/pipe");
    mlops_data_diff_free(d);
    fixture_close(&x);
}
END_TEST

START_TEST(status_on_read_only_store_still_answers)
{
    fixture x;
    fixture_open(&x, TU_FS);
    put_file(x.dir, "new.txt", "new");
    char *added = tu_path("%s/new.txt", x.dir);
    tu_age_tree(added, 10); /* only it: the others keep the stat the cache knows */
    free(added);
    mlops_store_options so = MLOPS_STORE_OPTIONS_INIT;
    so.flags = MLOPS_STORE_READONLY;
    mlops_store *ro = NULL;
    ck_assert_int_eq(mlops_store_open(&ro, x.t.dir, &so), 0);
    for (int k = 0; k < 2; k++) {
        uint64_t hashed = 0;
        char *got = status_text(ro, x.hex, x.dir, 0, &hashed);
        ck_assert_str_eq(got, "+ new.txt file 3\n");
        ck_assert_uint_eq(hashed, 1); /* the cache could not learn it */
        ck_assert_ptr_nonnull(strstr(mlops_error_last(), "stat cache not saved"));
        free(got);
    }
    mlops_store_free(ro);
    fixture_close(&x);
}
END_TEST

START_TEST(dataset_refs_for_diff_and_status)
{
    fixture x;
    fixture_open(&x, _i);
    mlops_data_version *v = NULL;
    int rc = mlops_data_commit(&v, x.t.s, "images", x.dir, NULL);
    ck_assert_msg(rc == 0, "commit: %s", mlops_error_last());
    mlops_data_version_free(v);
    put_file(x.dir, "sub/b.txt", "bravo v2");
    rc = mlops_data_commit(&v, x.t.s, "images", x.dir, NULL);
    ck_assert_msg(rc == 0, "commit: %s", mlops_error_last());
    ck_assert_uint_eq(v->version, 2);
    mlops_data_version_free(v);
    ck_assert_int_eq(mlops_data_tag(x.t.s, "images@1", "first", 0), 0);
    mlops_data_diff *d = NULL;
    ck_assert_int_eq(mlops_data_diff_versions(&d, x.t.s, "images@first", "images"), 0);
    char *got = tu_describe_diff(d);
    ck_assert_str_eq(got, "~ sub/b.txt file>file 5>8\n");
    free(got);
    mlops_data_diff_free(d);
    uint64_t hashed = 0;
    got = status_text(x.t.s, "images@1", x.dir, 0, &hashed);
    ck_assert_str_eq(got, "~ sub/b.txt file>file 5>8\n");
    free(got);
    got = status_text(x.t.s, "images", x.dir, 0, &hashed);
    ck_assert_str_eq(got, "");
    free(got);
    tu_assert_err(mlops_data_diff_versions(&d, x.t.s, "images@3", "images"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_status(&d, x.t.s, "images@nosuchtag", x.dir, NULL), MLOPS_ENOTFOUND);
    fixture_close(&x);
}
END_TEST

/* Changes that need no file read (a removal, a new symlink, a new empty
 * directory) keep the reader threads out, so the single-threaded counting
 * allocator sees every allocation. */
START_TEST(status_out_of_memory_loop)
{
    fixture x;
    fixture_open(&x, TU_MEMORY);
    char *p = tu_path("%s/d.txt", x.dir);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    p = tu_path("%s/sub/deep/up", x.dir);
    ck_assert_int_eq(symlink("../b.txt", p), 0);
    free(p);
    p = tu_path("%s/sub/new-dir", x.dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    free(p);
    const char *want = "- d.txt file 11\n"
                       "+ sub/deep/up link 8\n"
                       "+ sub/new-dir dir 0\n";
    int failures = 0, done = 0;
    for (unsigned long n = 1; !done && n < 20000; n++) {
        tu_alloc al;
        memset(&al, 0, sizeof al);
        al.fail_at = n;
        tu_alloc_install(&al);
        mlops_data_status_options o = MLOPS_DATA_STATUS_OPTIONS_INIT;
        o.flags = MLOPS_DATA_STATUS_NO_UPDATE;
        mlops_data_diff *d = NULL;
        int rc = mlops_data_status(&d, x.t.s, x.hex, x.dir, &o);
        char *got = rc == 0 ? tu_describe_diff(d) : NULL;
        uint64_t hashed = d ? d->files_hashed : 0;
        mlops_data_diff_free(d);
        tu_alloc_remove();
        if (al.failures) {
            ck_assert_msg(rc != 0, "allocation %lu failed, status succeeded (files hashed: %llu)", n,
                          (unsigned long long)hashed);
            tu_assert_err(rc, MLOPS_ENOMEM);
            failures++;
        } else {
            ck_assert_msg(rc == 0, "status: %s", mlops_error_last());
            ck_assert_str_eq(got, want);
            ck_assert_uint_eq(hashed, 0);
            done = 1;
        }
        free(got);
        ck_assert_msg(al.outstanding == 0, "allocation %lu: %ld blocks leaked", n, al.outstanding);
    }
    ck_assert(done);
    ck_assert_int_gt(failures, 10);
    fixture_close(&x);
}
END_TEST

START_TEST(status_bad_input)
{
    fixture x;
    fixture_open(&x, _i);
    mlops_data_diff *d = (mlops_data_diff *)&x; /* must be reset to NULL */
    mlops_data_status_options o = MLOPS_DATA_STATUS_OPTIONS_INIT;
    char *missing = tu_path("%s/no/such/dir", x.dir);
    tu_assert_err(mlops_data_status(&d, x.t.s, x.hex, missing, NULL), MLOPS_ENOTFOUND);
    ck_assert_ptr_null(d);
    tu_assert_err(mlops_data_status(&d, x.t.s, "bad name!", x.dir, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_status(&d, x.t.s, "no-such-dataset", x.dir, NULL), MLOPS_ENOTFOUND);
    char zeros[65];
    memset(zeros, '0', 64);
    zeros[64] = '\0';
    tu_assert_err(mlops_data_status(&d, x.t.s, zeros, x.dir, NULL), MLOPS_ENOTFOUND);
    o.version = 99;
    tu_assert_err(mlops_data_status(&d, x.t.s, x.hex, x.dir, &o), MLOPS_EINVALID);
    o.version = MLOPS_DATA_STATUS_OPTIONS_VERSION;
    o.flags = 0x100;
    tu_assert_err(mlops_data_status(&d, x.t.s, x.hex, x.dir, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_data_status(NULL, x.t.s, x.hex, x.dir, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_status(&d, NULL, x.hex, x.dir, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_status(&d, x.t.s, NULL, x.dir, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_status(&d, x.t.s, x.hex, NULL, NULL), MLOPS_EINVALID);
    ck_assert_ptr_null(d);
    tu_assert_err(mlops_data_status_options_init(NULL, MLOPS_DATA_STATUS_OPTIONS_VERSION), MLOPS_EINVALID);
    tu_assert_err(mlops_data_status_options_init(&o, 99), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_data_status_options_init(&o, MLOPS_DATA_STATUS_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.version, MLOPS_DATA_STATUS_OPTIONS_VERSION);
    ck_assert_uint_eq(o.flags, 0);
    ck_assert(o.notice == NULL && o.notice_payload == NULL);
    free(missing);
    fixture_close(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_status");
    TCase *tc = tcase_create("status");
    tcase_add_loop_test(tc, status_of_unchanged_tree_reads_nothing, 0, TU_KINDS);
    tcase_add_loop_test(tc, status_sees_same_size_change_behind_restored_mtime, 0, TU_KINDS);
    tcase_add_loop_test(tc, status_added_removed_renamed_and_types, 0, TU_KINDS);
    tcase_add_loop_test(tc, status_rereads_racy_files, 0, TU_KINDS);
    tcase_add_loop_test(tc, status_of_single_file, 0, TU_KINDS);
    tcase_add_loop_test(tc, status_reports_notices_and_skips_special_files, 0, TU_KINDS);
    tcase_add_test(tc, status_on_read_only_store_still_answers);
    tcase_add_loop_test(tc, dataset_refs_for_diff_and_status, 0, TU_KINDS);
    tcase_add_loop_test(tc, status_bad_input, 0, TU_KINDS);
    tcase_add_test(tc, status_out_of_memory_loop);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
