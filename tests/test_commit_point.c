/* The fs store's commit point: when one syncfs replaces the fsyncs of a
 * ref update (fs_pending.c), and that both ways publish the same thing.
 * The rule is checked on fixed inputs; the effect through the public API,
 * with each way forced. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/fs/fs_internal.h"
#include "testutil.h"

static const uint64_t default_slack = (uint64_t)256 << 10;

START_TEST(syncfs_rule)
{
    mlops__fsb_syncfs_slack = default_slack;
    /* one fsync is never replaced: syncfs could only cost more */
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(0, 0), 0);
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(1, 0), 0);
    /* two or more, and at most 256 KiB still to write per fsync saved */
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(2, 0), 1);
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(5, 5 * default_slack), 1);
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(5, 5 * default_slack + 5), 0);
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(2, (uint64_t)1 << 30), 0);
    /* unknown dirty amount: stay with fsync */
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(64, UINT64_MAX), 0);
    mlops__fsb_syncfs_slack = 0;
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(64, 0), 0);
    mlops__fsb_syncfs_slack = UINT64_MAX;
    ck_assert_int_eq(mlops__fsb_prefer_syncfs(2, UINT64_MAX - 1), 1);
    mlops__fsb_syncfs_slack = default_slack;
}
END_TEST

START_TEST(meminfo_parse)
{
    const char *text = "MemTotal:       24576000 kB\n"
                       "MemFree:        20000000 kB\n"
                       "Dirty:               100 kB\n"
                       "Writeback:            28 kB\n"
                       "AnonPages:        123456 kB\n"
                       "WritebackTmp:         99 kB\n";
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten(text), (uint64_t)128 * 1024);
    /* WritebackTmp must not be taken for Writeback, wherever it is */
    const char *tmp_first = "WritebackTmp:   5 kB\nDirty:  1 kB\nWriteback:    2 kB\n";
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten(tmp_first), (uint64_t)3 * 1024);
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten("Dirty: 1 kB\n"), UINT64_MAX);
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten("Writeback: 1 kB\n"), UINT64_MAX);
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten(""), UINT64_MAX);
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten("Dirty: x kB\nWriteback: 1 kB\n"), UINT64_MAX);
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten("Dirty: 4 MB\nWriteback: 1 kB\n"), UINT64_MAX);
    ck_assert_uint_eq(mlops__fsb_meminfo_unwritten("Dirty: 18446744073709551615 kB\nWriteback: 1 kB\n"),
                      UINT64_MAX);
}
END_TEST

static size_t count_ref_temps(const char *dir)
{
    char *files[256];
    size_t n = tu_list_files(dir, files, 256), temps = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(files[i], "/" MLOPS__FSB_REF_TEMP) || strstr(files[i], ".lock"))
            temps++;
    tu_free_list(files, n);
    return temps;
}

/* Updates of a new nested ref (its directory does not exist yet) and of an
 * existing one; another handle then reads every value and object. */
static void updates_publish(uint64_t slack)
{
    mlops__fsb_syncfs_slack = slack;
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = MLOPS_DURABILITY_COMMIT;
    tu_store t;
    tu_store_open(&t, TU_FS, &o);
    mlops_oid prev = { { 0 } };
    for (int i = 0; i < 20; i++) {
        char text[64];
        snprintf(text, sizeof text, "state %d", i);
        mlops_oid a = tu_put_str(t.s, text), b = tu_put_str(t.s, "shared part");
        (void)b;
        ck_assert_int_eq(mlops_ref_set(t.s, "models/m1", &a, i ? &prev : NULL), 0);
        prev = a;
    }
    /* a lost compare-and-swap changes nothing and leaves no temp file */
    mlops_oid other = tu_put_str(t.s, "loser");
    tu_assert_err(mlops_ref_set(t.s, "models/m1", &other, &other), MLOPS_ECONFLICT);
    tu_assert_err(mlops_ref_set(t.s, "models/m1", &other, NULL), MLOPS_ECONFLICT);
    ck_assert_uint_eq(count_ref_temps(t.dir), 0);

    mlops_store *s2 = NULL;
    ck_assert_int_eq(mlops_store_open(&s2, t.dir, NULL), 0);
    mlops_oid got;
    ck_assert_int_eq(mlops_ref_get(&got, s2, "models/m1"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&got, &prev), 0);
    void *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(mlops_object_get(&data, &len, s2, &got), 0);
    ck_assert_uint_eq(len, strlen("state 19"));
    ck_assert_int_eq(memcmp(data, "state 19", len), 0);
    mlops_free(data);
    tu_verify_clean(s2);
    mlops_store_free(s2);
    tu_store_destroy(&t);
    mlops__fsb_syncfs_slack = default_slack;
}

START_TEST(updates_publish_with_syncfs)
{
    updates_publish(UINT64_MAX);
}
END_TEST

START_TEST(updates_publish_with_fsyncs)
{
    updates_publish(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("commit_point");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, syncfs_rule);
    tcase_add_test(tc, meminfo_parse);
    tcase_add_test(tc, updates_publish_with_syncfs);
    tcase_add_test(tc, updates_publish_with_fsyncs);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
