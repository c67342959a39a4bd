/* Logs: append, batches, iteration, names, several writers, torn tails.
 * Loop tests run on the memory store (_i == 0) and the fs store (_i == 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAXREC 4096

typedef struct records {
    char *data[MAXREC];
    size_t len[MAXREC];
    size_t n;
    size_t stop_at;
} records;

static int collect(const void *rec, size_t len, void *payload)
{
    records *r = payload;
    ck_assert_uint_lt(r->n, MAXREC);
    r->data[r->n] = tu_xmalloc(len + 1);
    if (len)
        memcpy(r->data[r->n], rec, len);
    r->data[r->n][len] = 0;
    r->len[r->n] = len;
    r->n++;
    return r->stop_at && r->n >= r->stop_at;
}

static void records_free(records *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->data[i]);
    r->n = 0;
}

/* reads the log with foreach and with the iterator; both must agree */
static void read_log(mlops_store *s, const char *name, records *out)
{
    memset(out, 0, sizeof *out);
    int rc = mlops_log_foreach(s, name, collect, out);
    ck_assert_msg(rc == 0, "log_foreach %s: %d %s", name, rc, mlops_error_last());
    mlops_log_iterator *it = NULL;
    rc = mlops_log_iterator_new(&it, s, name);
    ck_assert_msg(rc == 0, "iterator_new %s: %d %s", name, rc, mlops_error_last());
    size_t i = 0;
    const void *rec;
    size_t len;
    while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
        ck_assert_uint_lt(i, out->n);
        ck_assert_uint_eq(len, out->len[i]);
        ck_assert(len == 0 || memcmp(rec, out->data[i], len) == 0);
        i++;
    }
    ck_assert_msg(rc == MLOPS_ITEROVER, "iterator_next ended with %d %s", rc, mlops_error_last());
    ck_assert_uint_eq(i, out->n);
    /* and stays over */
    ck_assert_int_eq(mlops_log_iterator_next(&rec, &len, it), MLOPS_ITEROVER);
    mlops_log_iterator_free(it);
}

static void append_str(mlops_store *s, const char *log, const char *rec)
{
    int rc = mlops_log_append(s, log, rec, strlen(rec));
    ck_assert_msg(rc == 0, "append to %s: %d %s", log, rc, mlops_error_last());
}

START_TEST(append_and_read)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char buf[64];
    for (int k = 0; k < 100; k++) {
        snprintf(buf, sizeof buf, "record %d", k);
        append_str(t.s, "metrics/loss", buf);
    }
    ck_assert_int_eq(mlops_log_append(t.s, "metrics/loss", "", 0), 0); /* empty record */
    /* a batch of 10, one of them empty and one with binary bytes */
    const void *recs[10];
    size_t lens[10];
    char store[10][32];
    for (int k = 0; k < 10; k++) {
        snprintf(store[k], sizeof store[k], "batch %d", k);
        recs[k] = store[k];
        lens[k] = strlen(store[k]);
    }
    lens[3] = 0;
    memcpy(store[7], "\0\1\2\n\xff", 5);
    lens[7] = 5;
    ck_assert_int_eq(mlops_log_append_batch(t.s, "metrics/loss", recs, lens, 10), 0);
    append_str(t.s, "metrics/loss", "last");
    ck_assert_int_eq(mlops_log_sync(t.s, "metrics/loss"), 0);

    records r;
    read_log(t.s, "metrics/loss", &r);
    ck_assert_uint_eq(r.n, 112);
    for (int k = 0; k < 100; k++) {
        snprintf(buf, sizeof buf, "record %d", k);
        ck_assert_str_eq(r.data[k], buf);
    }
    ck_assert_uint_eq(r.len[100], 0);
    for (int k = 0; k < 10; k++) {
        ck_assert_uint_eq(r.len[101 + k], lens[k]);
        ck_assert_int_eq(memcmp(r.data[101 + k], store[k], lens[k]), 0);
    }
    ck_assert_str_eq(r.data[111], "last");
    records_free(&r);

    if (t.kind == TU_FS) {
        tu_store_reopen(&t, NULL);
        read_log(t.s, "metrics/loss", &r);
        ck_assert_uint_eq(r.n, 112);
        records_free(&r);
        /* a new writer appends after what is there */
        append_str(t.s, "metrics/loss", "after reopen");
        read_log(t.s, "metrics/loss", &r);
        ck_assert_uint_eq(r.n, 113);
        ck_assert_str_eq(r.data[0], "record 0");
        ck_assert_str_eq(r.data[112], "after reopen");
        records_free(&r);
    }
    tu_store_destroy(&t);
}
END_TEST

START_TEST(large_record)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    size_t len = (1 << 20) + 3;
    char *big = tu_xmalloc(len);
    tu_fill_random(big, len, 5);
    append_str(t.s, "big", "small before");
    ck_assert_int_eq(mlops_log_append(t.s, "big", big, len), 0);
    append_str(t.s, "big", "small after");
    records r;
    read_log(t.s, "big", &r);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_uint_eq(r.len[1], len);
    ck_assert_int_eq(memcmp(r.data[1], big, len), 0);
    ck_assert_str_eq(r.data[2], "small after");
    records_free(&r);
    free(big);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(missing_log)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    append_str(t.s, "exists", "x");
    records r;
    memset(&r, 0, sizeof r);
    tu_assert_err(mlops_log_foreach(t.s, "nope", collect, &r), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_log_foreach(t.s, "exists/child", collect, &r), MLOPS_ENOTFOUND);
    ck_assert_uint_eq(r.n, 0);
    mlops_log_iterator *it = NULL;
    int rc = mlops_log_iterator_new(&it, t.s, "nope");
    if (rc == 0) {
        const void *rec;
        size_t len;
        rc = mlops_log_iterator_next(&rec, &len, it);
        mlops_log_iterator_free(it);
    }
    tu_assert_err(rc, MLOPS_ENOTFOUND);
    tu_store_destroy(&t);
}
END_TEST

static const char *const bad_names[] = {"../x", "/abs", "a//b", "", "a\nb", "x/", "a/./b", ".hidden", "x.lock", "..",
                                        "a\x01"};

START_TEST(invalid_names)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *before = t.dir ? tu_tree(t.dir) : NULL;
    const void *recs[1] = {"r"};
    size_t lens[1] = {1};
    for (size_t k = 0; k < sizeof bad_names / sizeof bad_names[0]; k++) {
        const char *n = bad_names[k];
        records r;
        memset(&r, 0, sizeof r);
        mlops_log_iterator *it = NULL;
        tu_assert_err(mlops_log_append(t.s, n, "r", 1), MLOPS_EINVALID);
        tu_assert_err(mlops_log_append_batch(t.s, n, recs, lens, 1), MLOPS_EINVALID);
        tu_assert_err(mlops_log_sync(t.s, n), MLOPS_EINVALID);
        tu_assert_err(mlops_log_foreach(t.s, n, collect, &r), MLOPS_EINVALID);
        tu_assert_err(mlops_log_iterator_new(&it, t.s, n), MLOPS_EINVALID);
    }
    char *too_long = tu_xmalloc(MLOPS_REF_NAME_MAX + 2);
    for (int i = 0; i < MLOPS_REF_NAME_MAX + 1; i++)
        too_long[i] = (i % 100 == 99) ? '/' : 'a';
    too_long[MLOPS_REF_NAME_MAX + 1] = 0;
    tu_assert_err(mlops_log_append(t.s, too_long, "r", 1), MLOPS_EINVALID);
    free(too_long);
    /* NULLs */
    tu_assert_err(mlops_log_append(NULL, "l", "r", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_log_append(t.s, NULL, "r", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_log_append(t.s, "l", NULL, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_log_append_batch(t.s, "l", NULL, lens, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_log_append_batch(t.s, "l", recs, NULL, 1), MLOPS_EINVALID);
    const void *nullrec[2] = {"a", NULL};
    size_t nulllens[2] = {1, 3};
    tu_assert_err(mlops_log_append_batch(t.s, "l", nullrec, nulllens, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_log_foreach(t.s, "l", NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_log_iterator_new(NULL, t.s, "l"), MLOPS_EINVALID);
    tu_assert_err(mlops_log_list(t.s, NULL, NULL, NULL), MLOPS_EINVALID);
    mlops_log_iterator_free(NULL);
    {
        mlops_log_iterator *it = NULL;
        const void *rec;
        size_t len;
        append_str(t.s, "exists", "x");
        ck_assert_int_eq(mlops_log_iterator_new(&it, t.s, "exists"), 0);
        tu_assert_err(mlops_log_iterator_next(NULL, &len, it), MLOPS_EINVALID);
        tu_assert_err(mlops_log_iterator_next(&rec, NULL, it), MLOPS_EINVALID);
        tu_assert_err(mlops_log_iterator_next(&rec, &len, NULL), MLOPS_EINVALID);
        mlops_log_iterator_free(it);
        if (before) {
            free(before);
            before = tu_tree(t.dir);
        }
    }
    if (t.dir) {
        char *after = tu_tree(t.dir);
        ck_assert_str_eq(before, after);
        free(after);
    }
    /* and no log named "l" came into being */
    records r;
    memset(&r, 0, sizeof r);
    tu_assert_err(mlops_log_foreach(t.s, "l", collect, &r), MLOPS_ENOTFOUND);
    free(before);
    tu_store_destroy(&t);
}
END_TEST

typedef struct names {
    char name[16][32];
    int n;
    int stop_at;
} names;

static int collect_name(const char *name, void *payload)
{
    names *s = payload;
    if (s->n < 16)
        snprintf(s->name[s->n], 32, "%s", name);
    s->n++;
    return s->stop_at && s->n >= s->stop_at;
}

START_TEST(list_by_prefix)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    const char *logs[] = {"n", "m/b", "m-x", "m/a", "m0/z"};
    for (int k = 0; k < 5; k++)
        append_str(t.s, logs[k], "r");
    names s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mlops_log_list(t.s, NULL, collect_name, &s), 0);
    ck_assert_int_eq(s.n, 5);
    const char *all[] = {"m-x", "m/a", "m/b", "m0/z", "n"};
    for (int k = 0; k < 5; k++)
        ck_assert_str_eq(s.name[k], all[k]);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mlops_log_list(t.s, "m/", collect_name, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.name[0], "m/a");
    ck_assert_str_eq(s.name[1], "m/b");
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mlops_log_list(t.s, "m", collect_name, &s), 0);
    ck_assert_int_eq(s.n, 4);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mlops_log_list(t.s, "q", collect_name, &s), 0);
    ck_assert_int_eq(s.n, 0);
    memset(&s, 0, sizeof s);
    s.stop_at = 1;
    tu_assert_err(mlops_log_list(t.s, "", collect_name, &s), MLOPS_EUSER);
    ck_assert_int_eq(s.n, 1);
    /* foreach stopping early */
    records r;
    memset(&r, 0, sizeof r);
    append_str(t.s, "n", "r2");
    r.stop_at = 1;
    tu_assert_err(mlops_log_foreach(t.s, "n", collect, &r), MLOPS_EUSER);
    ck_assert_uint_eq(r.n, 1);
    records_free(&r);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(two_writers)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_store *other = NULL;
    ck_assert_int_eq(mlops_store_open(&other, t.dir, NULL), 0);
    char buf[32];
    for (int k = 0; k < 200; k++) {
        snprintf(buf, sizeof buf, "A%d", k);
        append_str(t.s, "shared", buf);
        snprintf(buf, sizeof buf, "B%d", k);
        append_str(other, "shared", buf);
    }
    ck_assert_int_eq(mlops_log_sync(t.s, "shared"), 0);
    ck_assert_int_eq(mlops_log_sync(other, "shared"), 0);
    mlops_store *readers[2] = {t.s, other};
    for (int h = 0; h < 2; h++) {
        records r;
        read_log(readers[h], "shared", &r);
        ck_assert_uint_eq(r.n, 400);
        int next_a = 0, next_b = 0;
        for (size_t i = 0; i < r.n; i++) {
            int v;
            if (sscanf(r.data[i], "A%d", &v) == 1) {
                ck_assert_int_eq(v, next_a);
                next_a++;
            } else {
                ck_assert_int_eq(sscanf(r.data[i], "B%d", &v), 1);
                ck_assert_int_eq(v, next_b);
                next_b++;
            }
        }
        ck_assert_int_eq(next_a, 200);
        ck_assert_int_eq(next_b, 200);
        records_free(&r);
    }
    mlops_store_free(other);
    tu_store_destroy(&t);
}
END_TEST

/* The segment files of a log (fs store), sorted; returns their number. */
static size_t segments(const tu_store *t, const char *log, char **out, size_t cap)
{
    char *dir = tu_path("%s/logs/%s", t->dir, log);
    size_t n = tu_list_files(dir, out, cap);
    free(dir);
    return n;
}

static uint64_t verify_torn(mlops_store *s)
{
    mlops_verify_report rep;
    memset(&rep, 0, sizeof rep);
    ck_assert_int_eq(mlops_store_verify(&rep, s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.ncorrupt, 0);
    uint64_t torn = rep.log_torn;
    ck_assert_uint_ge(rep.logs, 1);
    mlops_verify_report_free(&rep);
    return torn;
}

static void write_records(tu_store *t, const char *log, int n)
{
    char buf[32];
    for (int k = 0; k < n; k++) {
        snprintf(buf, sizeof buf, "record-%d", k);
        append_str(t->s, log, buf);
    }
    ck_assert_int_eq(mlops_log_sync(t->s, log), 0);
}

static void expect_prefix(const records *r, size_t n)
{
    char buf[32];
    ck_assert_uint_eq(r->n, n);
    for (size_t k = 0; k < n; k++) {
        snprintf(buf, sizeof buf, "record-%zu", k);
        ck_assert_str_eq(r->data[k], buf);
    }
}

START_TEST(torn_tail)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    write_records(&t, "torn", 10);
    ck_assert_uint_eq(verify_torn(t.s), 0);
    tu_store_close(&t);
    char *seg[4];
    ck_assert_uint_eq(segments(&t, "torn", seg, 4), 1);
    long long size = tu_file_size(seg[0]);
    tu_truncate(seg[0], size - 3);

    tu_store_reopen(&t, NULL);
    records r;
    read_log(t.s, "torn", &r);
    expect_prefix(&r, 9);
    records_free(&r);
    ck_assert_uint_eq(verify_torn(t.s), 1);

    /* appending goes on; the torn bytes never surface */
    append_str(t.s, "torn", "after");
    ck_assert_int_eq(mlops_log_sync(t.s, "torn"), 0);
    read_log(t.s, "torn", &r);
    ck_assert_uint_eq(r.n, 10);
    ck_assert_str_eq(r.data[8], "record-8");
    ck_assert_str_eq(r.data[9], "after");
    records_free(&r);
    tu_free_list(seg, 1);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(corrupt_last_record)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    write_records(&t, "bad", 10);
    tu_store_close(&t);
    char *seg[4];
    ck_assert_uint_eq(segments(&t, "bad", seg, 4), 1);
    tu_flip_byte(seg[0], 2);
    tu_store_reopen(&t, NULL);
    records r;
    memset(&r, 0, sizeof r);
    int rc = mlops_log_foreach(t.s, "bad", collect, &r);
    ck_assert_msg(rc == 0 || rc == MLOPS_ECORRUPT, "foreach: %d", rc);
    /* never a wrong record: an intact prefix */
    ck_assert_uint_le(r.n, 9);
    if (rc == 0)
        ck_assert_uint_eq(r.n, 9);
    expect_prefix(&r, r.n);
    records_free(&r);
    ck_assert_uint_ge(verify_torn(t.s), 1);
    tu_free_list(seg, 1);
    tu_store_destroy(&t);
}
END_TEST

static void batch_case(int cut_in_middle)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    write_records(&t, "b", 5);
    char *seg[4];
    ck_assert_uint_eq(segments(&t, "b", seg, 4), 1);
    long long size1 = tu_file_size(seg[0]);
    const void *recs[5];
    size_t lens[5];
    char data[5][64];
    for (int k = 0; k < 5; k++) {
        snprintf(data[k], sizeof data[k], "batched record number %d", k);
        recs[k] = data[k];
        lens[k] = strlen(data[k]);
    }
    ck_assert_int_eq(mlops_log_append_batch(t.s, "b", recs, lens, 5), 0);
    ck_assert_int_eq(mlops_log_sync(t.s, "b"), 0);
    tu_store_close(&t);
    long long size2 = tu_file_size(seg[0]);
    ck_assert_int_gt(size2, size1 + 5 * 24);
    tu_truncate(seg[0], cut_in_middle ? size1 + (size2 - size1) / 2 : size2 - 2);
    tu_store_reopen(&t, NULL);
    records r;
    read_log(t.s, "b", &r);
    expect_prefix(&r, 5); /* none of the batch */
    records_free(&r);
    ck_assert_uint_eq(verify_torn(t.s), 1);
    tu_free_list(seg, 1);
    tu_store_destroy(&t);
}

START_TEST(torn_batch_end)
{
    batch_case(0);
}
END_TEST

START_TEST(torn_batch_middle)
{
    batch_case(1);
}
END_TEST

/* Every allocation of an append failing, on a fresh log of an fs store,
 * with durability COMMIT and FULL: the append fails with ENOMEM and leaves
 * nothing (no record, and no half-made segment that the next commit point
 * would try to fsync), or it succeeds and the record is there once. Then
 * commit points work: a segment name left by a failed creation once made
 * every later ref update fail. */
static int count_records(const void *rec, size_t len, void *payload)
{
    (void)rec, (void)len;
    ++*(size_t *)payload;
    return 0;
}

START_TEST(append_out_of_memory)
{
    for (int full = 0; full < 2; full++) {
        unsigned long n;
        for (n = 1; n < 200; n++) {
            mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
            o.durability = full ? MLOPS_DURABILITY_FULL : MLOPS_DURABILITY_COMMIT;
            tu_alloc al;
            memset(&al, 0, sizeof al);
            tu_alloc_install(&al);
            tu_store t;
            tu_store_open(&t, TU_FS, &o);
            al.fail_at = al.calls + n;
            int rc = mlops_log_append(t.s, "runs/a/metrics", "point", 5);
            al.fail_at = 0; /* counted on until the store is gone: the log table keeps an entry */
            if (al.failures)
                tu_assert_err(rc, MLOPS_ENOMEM);
            size_t count = 0;
            int rd = mlops_log_foreach(t.s, "runs/a/metrics", count_records, &count);
            if (al.failures == 0) {
                ck_assert_int_eq(rc, 0);
                ck_assert_int_eq(rd, 0);
                ck_assert_uint_eq(count, 1);
            } else {
                ck_assert_msg(rd == MLOPS_ENOTFOUND || (rd == 0 && count == 0),
                              "durability %d, allocation %lu: a failed append left %zu records (%d)", full, n, count,
                              rd);
            }
            mlops_oid id = tu_put_str(t.s, "after the append");
            ck_assert_msg(mlops_ref_set(t.s, "heads/after", &id, NULL) == 0, "durability %d, allocation %lu: %s",
                          full, n, mlops_error_last());
            ck_assert_int_eq(mlops_store_sync(t.s), 0);
            ck_assert_int_eq(mlops_log_append(t.s, "runs/a/metrics", "again", 5), 0);
            tu_store_destroy(&t);
            tu_alloc_remove();
            ck_assert_msg(al.outstanding == 0, "allocation %lu: %ld blocks leaked", n, al.outstanding);
            if (al.failures == 0)
                break;
        }
        ck_assert_uint_gt(n, 2);
        ck_assert_uint_lt(n, 200);
    }
}
END_TEST

static Suite *logs_suite(void)
{
    Suite *s = suite_create("logs");
    TCase *tc = tcase_create("both");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, append_and_read, 0, TU_KINDS);
    tcase_add_loop_test(tc, large_record, 0, TU_KINDS);
    tcase_add_loop_test(tc, missing_log, 0, TU_KINDS);
    tcase_add_loop_test(tc, invalid_names, 0, TU_KINDS);
    tcase_add_loop_test(tc, list_by_prefix, 0, TU_KINDS);
    suite_add_tcase(s, tc);
    tc = tcase_create("fs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_writers);
    tcase_add_test(tc, torn_tail);
    tcase_add_test(tc, corrupt_last_record);
    tcase_add_test(tc, torn_batch_end);
    tcase_add_test(tc, torn_batch_middle);
    tcase_add_test(tc, append_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(logs_suite());
}
