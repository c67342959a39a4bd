/* I/O fault injection on the fs store: for N = 1, 2, ... fail the Nth
 * write / fsync / rename-or-link of an operation. Each failure is a clean
 * error with a message; afterwards verify is clean, nothing half-written is
 * visible, no temp or lock file is left and the previous state is intact. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"
#include "store/fs/fs_internal.h"
#include "testutil.h"

#define MAX_N 500

static const char *const kind_name[] = {"write", "fsync", "rename"};

/* 1 if the armed fault was consumed by the operation (the countdown
 * reached zero), 0 if it was never reached. Probing consumes it. */
static int fault_consumed(mlops__fault_kind k, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        if (mlops__fault_hit(k))
            return 0;
    return 1;
}

typedef struct fctx {
    tu_store t;
    mlops_oid ref_value;   /* current value of "main" */
    char *records[1024];   /* log "l" as it must read */
    size_t nrecords;
    unsigned long n;
    mlops_oid next;        /* object prepared for ref_set */
    mlops_oid put_id;      /* id of the object op_put tries */
} fctx;

static int count_leftovers(const char *dir)
{
    /* temp files in tmp/ and lock files anywhere */
    char *files[4096];
    size_t n = tu_list_files(dir, files, 4096);
    int bad = 0;
    char *tmp = tu_path("%s/tmp/", dir);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(files[i]);
        if (strncmp(files[i], tmp, strlen(tmp)) == 0 || (len > 5 && strcmp(files[i] + len - 5, ".lock") == 0) ||
            strstr(files[i], "/" MLOPS__FSB_REF_TEMP)) {
            fprintf(stderr, "# leftover: %s\n", files[i]);
            bad++;
        }
    }
    free(tmp);
    tu_free_list(files, n);
    return bad;
}

static int collect(const void *rec, size_t len, void *payload)
{
    fctx *c = payload;
    ck_assert_uint_lt(c->nrecords, 1024);
    char *s = tu_xmalloc(len + 1);
    memcpy(s, rec, len);
    s[len] = 0;
    c->records[c->nrecords++] = s;
    return 0;
}

static void clear_records(fctx *c)
{
    for (size_t i = 0; i < c->nrecords; i++)
        free(c->records[i]);
    c->nrecords = 0;
}

static void read_records(fctx *c, mlops_store *s)
{
    clear_records(c);
    int rc = mlops_log_foreach(s, "l", collect, c);
    ck_assert_msg(rc == 0, "log_foreach: %d %s", rc, mlops_error_last());
}

static mlops_durability durability = MLOPS_DURABILITY_FULL;

static void open_store(fctx *c)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = durability;
    o.lock_timeout_ms = 1500;
    tu_store_open(&c->t, TU_FS, &o);
    c->ref_value = tu_put_str(c->t.s, "initial value");
    ck_assert_int_eq(mlops_ref_set(c->t.s, "main", &c->ref_value, NULL), 0);
    for (int k = 0; k < 3; k++) {
        char buf[16];
        snprintf(buf, sizeof buf, "base-%d", k);
        ck_assert_int_eq(mlops_log_append(c->t.s, "l", buf, strlen(buf)), 0);
    }
    ck_assert_int_eq(mlops_log_sync(c->t.s, "l"), 0);
    read_records(c, c->t.s);
    ck_assert_uint_eq(c->nrecords, 3);
}

/* ---- operations ------------------------------------------------------ */

static char *put_data(unsigned long n, size_t *len)
{
    *len = 150000;
    char *d = tu_xmalloc(*len);
    tu_fill_random(d, *len, 1000 + n);
    tu_fill_text(d, *len / 2, n); /* half compressible */
    return d;
}

static void prep_put(fctx *c)
{
    size_t len;
    char *d = put_data(c->n, &len);
    ck_assert_int_eq(mlops_oid_hash(&c->put_id, d, len), 0);
    free(d);
}

static int op_put(fctx *c)
{
    size_t len;
    char *d = put_data(c->n, &len);
    mlops_oid id;
    int rc = mlops_object_put(&id, c->t.s, d, len);
    free(d);
    return rc;
}

static void check_put(fctx *c, int rc)
{
    int e = mlops_object_exists(c->t.s, &c->put_id);
    ck_assert_int_ge(e, 0);
    if (rc == 0)
        ck_assert_int_eq(e, 1);
    if (e == 1) {
        /* visible means complete */
        size_t len;
        char *d = put_data(c->n, &len);
        void *out = NULL;
        size_t n = 0;
        ck_assert_int_eq(mlops_object_get(&out, &n, c->t.s, &c->put_id), 0);
        ck_assert_uint_eq(n, len);
        ck_assert_int_eq(memcmp(out, d, len), 0);
        mlops_free(out);
        free(d);
    }
}

static void prep_ref(fctx *c)
{
    char buf[64];
    snprintf(buf, sizeof buf, "ref value %lu", c->n);
    c->next = tu_put_str(c->t.s, buf);
}

static int op_ref(fctx *c)
{
    return mlops_ref_set(c->t.s, "main", &c->next, &c->ref_value);
}

static void check_ref(fctx *c, int rc, mlops__fault_kind kind)
{
    mlops_oid got;
    int g = mlops_ref_get(&got, c->t.s, "main");
    ck_assert_msg(g == 0, "ref unreadable after a failed update: %d %s", g, mlops_error_last());
    int is_old = mlops_oid_cmp(&got, &c->ref_value) == 0;
    int is_new = mlops_oid_cmp(&got, &c->next) == 0;
    if (rc == 0)
        ck_assert_msg(is_new, "ref_set succeeded but the ref has another value");
    else if (kind != MLOPS__FAULT_FSYNC)
        ck_assert_msg(is_old, "failed ref_set (%s fault %lu) changed the ref", kind_name[kind], c->n);
    else
        ck_assert_msg(is_old || is_new, "ref has neither the old nor the new value");
    c->ref_value = got;
    /* the lock was released: the next update goes through at once */
    mlops_oid again = tu_put_str(c->t.s, "one more value");
    int rc2 = mlops_ref_set(c->t.s, "main", &again, &c->ref_value);
    ck_assert_msg(rc2 == 0, "update after a failed one: %d %s", rc2, mlops_error_last());
    c->ref_value = again;
}

static int op_log(fctx *c)
{
    char buf[32];
    snprintf(buf, sizeof buf, "fault-%lu", c->n);
    int rc = mlops_log_append(c->t.s, "l", buf, strlen(buf));
    if (rc == 0)
        rc = mlops_log_sync(c->t.s, "l");
    return rc;
}

static void check_log(fctx *c, int rc)
{
    char tried[32], after[32];
    snprintf(tried, sizeof tried, "fault-%lu", c->n);
    snprintf(after, sizeof after, "after-%lu", c->n);
    size_t before = c->nrecords;
    char *old[1024];
    for (size_t i = 0; i < before; i++)
        old[i] = strdup(c->records[i]);
    /* appending still works, on this handle */
    int rc2 = mlops_log_append(c->t.s, "l", after, strlen(after));
    ck_assert_msg(rc2 == 0, "append after a failed one: %d %s", rc2, mlops_error_last());
    ck_assert_int_eq(mlops_log_sync(c->t.s, "l"), 0);
    /* read through a fresh handle: old records, maybe the tried one, then the new one */
    mlops_store *other = NULL;
    ck_assert_int_eq(mlops_store_open(&other, c->t.dir, NULL), 0);
    read_records(c, other);
    mlops_store_free(other);
    ck_assert_uint_ge(c->nrecords, before + 1);
    for (size_t i = 0; i < before; i++)
        ck_assert_str_eq(c->records[i], old[i]);
    size_t k = before;
    if (c->nrecords == before + 2) {
        ck_assert_str_eq(c->records[k], tried);
        k++;
    } else if (rc == 0) {
        ck_abort_msg("a successful append is missing");
    }
    ck_assert_uint_eq(c->nrecords, k + 1);
    ck_assert_str_eq(c->records[k], after);
    for (size_t i = 0; i < before; i++)
        free(old[i]);
}

enum { OP_PUT, OP_REF, OP_LOG };

static void fault_loop(int op, mlops__fault_kind kind, int err)
{
    fctx c;
    memset(&c, 0, sizeof c);
    open_store(&c);
    int failures = 0;
    unsigned long n;
    for (n = 1; n <= MAX_N; n++) {
        c.n = n;
        if (op == OP_PUT)
            prep_put(&c);
        else if (op == OP_REF)
            prep_ref(&c);
        mlops__fault_arm(kind, n, err);
        int rc = op == OP_PUT ? op_put(&c) : op == OP_REF ? op_ref(&c) : op_log(&c);
        int consumed = fault_consumed(kind, n);
        mlops__fault_reset();
        if (!consumed) {
            ck_assert_msg(rc == 0, "%s fault %lu not reached, yet the call failed: %d %s", kind_name[kind], n, rc,
                          mlops_error_last());
        } else {
            int want = err == ENOSPC ? MLOPS_ENOSPACE : MLOPS_EIO;
            ck_assert_msg(rc != 0 || kind != MLOPS__FAULT_FSYNC,
                          "op %d: failed fsync %lu was ignored (durability FULL)", op, n);
            if (rc != 0) {
                failures++;
                tu_assert_err(rc, want);
            }
        }
        if (op == OP_PUT)
            check_put(&c, rc);
        else if (op == OP_REF)
            check_ref(&c, rc, kind);
        else
            check_log(&c, rc);
        tu_verify_clean(c.t.s);
        ck_assert_msg(count_leftovers(c.t.dir) == 0, "%s fault %lu left temp or lock files", kind_name[kind], n);
        if (!consumed)
            break;
    }
    ck_assert_msg(n <= MAX_N, "never succeeded");
    fprintf(stderr, "# faults op %d %s errno %d: %d failures, success at N=%lu\n", op, kind_name[kind], err, failures, n);
    ck_assert_msg(failures > 0, "no %s fault made the operation fail", kind_name[kind]);
    /* and across a reopen everything is still there */
    tu_store_reopen(&c.t, NULL);
    tu_verify_clean(c.t.s);
    mlops_oid got;
    ck_assert_int_eq(mlops_ref_get(&got, c.t.s, "main"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&got, &c.ref_value), 0);
    size_t expect = c.nrecords;
    read_records(&c, c.t.s);
    ck_assert_uint_eq(c.nrecords, expect);
    clear_records(&c);
    tu_store_destroy(&c.t);
}

START_TEST(put_write)
{
    fault_loop(OP_PUT, MLOPS__FAULT_WRITE, EIO);
}
END_TEST
START_TEST(put_fsync)
{
    fault_loop(OP_PUT, MLOPS__FAULT_FSYNC, EIO);
}
END_TEST
START_TEST(put_rename)
{
    fault_loop(OP_PUT, MLOPS__FAULT_RENAME, EIO);
}
END_TEST
START_TEST(ref_write)
{
    fault_loop(OP_REF, MLOPS__FAULT_WRITE, EIO);
}
END_TEST
START_TEST(ref_fsync)
{
    fault_loop(OP_REF, MLOPS__FAULT_FSYNC, EIO);
}
END_TEST
START_TEST(ref_rename)
{
    fault_loop(OP_REF, MLOPS__FAULT_RENAME, EIO);
}
END_TEST
START_TEST(log_write)
{
    fault_loop(OP_LOG, MLOPS__FAULT_WRITE, EIO);
}
END_TEST
START_TEST(log_fsync)
{
    fault_loop(OP_LOG, MLOPS__FAULT_FSYNC, EIO);
}
END_TEST
START_TEST(put_enospc)
{
    fault_loop(OP_PUT, MLOPS__FAULT_WRITE, ENOSPC);
}
END_TEST
START_TEST(log_enospc)
{
    fault_loop(OP_LOG, MLOPS__FAULT_WRITE, ENOSPC);
}
END_TEST

/* Default durability (COMMIT): puts are not fsynced, the commit point
 * (ref update, log sync) fsyncs them. */
START_TEST(commit_ref_fsync)
{
    durability = MLOPS_DURABILITY_COMMIT;
    fault_loop(OP_REF, MLOPS__FAULT_FSYNC, EIO);
}
END_TEST
/* The same with the commit point's two ways forced: one syncfs for the
 * objects and the ref's temp file, or one fsync each. */
START_TEST(commit_ref_fsync_syncfs)
{
    durability = MLOPS_DURABILITY_COMMIT;
    mlops__fsb_syncfs_slack = UINT64_MAX;
    fault_loop(OP_REF, MLOPS__FAULT_FSYNC, EIO);
    mlops__fsb_syncfs_slack = (uint64_t)256 << 10; /* CK_FORK=no runs on */
}
END_TEST
START_TEST(commit_ref_fsync_each)
{
    durability = MLOPS_DURABILITY_COMMIT;
    mlops__fsb_syncfs_slack = 0;
    fault_loop(OP_REF, MLOPS__FAULT_FSYNC, EIO);
    mlops__fsb_syncfs_slack = (uint64_t)256 << 10; /* CK_FORK=no runs on */
}
END_TEST
START_TEST(commit_ref_rename)
{
    durability = MLOPS_DURABILITY_COMMIT;
    fault_loop(OP_REF, MLOPS__FAULT_RENAME, EIO);
}
END_TEST
START_TEST(commit_log_fsync)
{
    durability = MLOPS_DURABILITY_COMMIT;
    fault_loop(OP_LOG, MLOPS__FAULT_FSYNC, EIO);
}
END_TEST
START_TEST(commit_put_write)
{
    durability = MLOPS_DURABILITY_COMMIT;
    fault_loop(OP_PUT, MLOPS__FAULT_WRITE, EIO);
}
END_TEST

/* Number of fsyncs op makes (counted through the fault countdown). */
static unsigned long count_fsyncs(mlops_store *s, int (*op)(mlops_store *))
{
    const unsigned long big = 100000;
    mlops__fault_arm(MLOPS__FAULT_FSYNC, big, EIO);
    ck_assert_int_eq(op(s), 0);
    unsigned long k;
    for (k = 1; k <= big; k++)
        if (mlops__fault_hit(MLOPS__FAULT_FSYNC))
            break;
    mlops__fault_reset();
    return big - k;
}

/* A commit point that failed must not forget what it had to make durable:
 * the next one retries it. */
START_TEST(failed_sync_is_retried)
{
    durability = MLOPS_DURABILITY_COMMIT;
    fctx c;
    memset(&c, 0, sizeof c);
    open_store(&c);
    ck_assert_int_eq(mlops_store_sync(c.t.s), 0);
    unsigned long idle = count_fsyncs(c.t.s, mlops_store_sync);
    tu_put_str(c.t.s, "pending object one");
    unsigned long one = count_fsyncs(c.t.s, mlops_store_sync);
    ck_assert_msg(one > idle, "a sync with a pending object made %lu fsyncs, an idle one %lu", one, idle);

    tu_put_str(c.t.s, "pending object two");
    mlops__fault_arm(MLOPS__FAULT_FSYNC, 1, EIO);
    int rc = mlops_store_sync(c.t.s);
    mlops__fault_reset();
    tu_assert_err(rc, MLOPS_EIO);
    unsigned long retry = count_fsyncs(c.t.s, mlops_store_sync);
    /* (it may retry object by object or sync the whole filesystem at once) */
    ck_assert_msg(retry > idle, "after a failed sync the next sync made %lu fsyncs, like an idle one (%lu)", retry,
                  idle);
    unsigned long after = count_fsyncs(c.t.s, mlops_store_sync);
    ck_assert_uint_eq(after, idle);
    tu_verify_clean(c.t.s);
    clear_records(&c);
    tu_store_destroy(&c.t);
}
END_TEST

START_TEST(enospc_code)
{
    fctx c;
    memset(&c, 0, sizeof c);
    open_store(&c);
    mlops__fault_arm(MLOPS__FAULT_WRITE, 1, ENOSPC);
    mlops_oid id;
    int rc = mlops_object_put(&id, c.t.s, "does not fit", 12);
    mlops__fault_reset();
    tu_assert_err(rc, MLOPS_ENOSPACE);
    mlops__fault_arm(MLOPS__FAULT_WRITE, 1, ENOSPC);
    rc = mlops_log_append(c.t.s, "l", "x", 1);
    mlops__fault_reset();
    tu_assert_err(rc, MLOPS_ENOSPACE);
    mlops_oid v = tu_put_str(c.t.s, "v");
    mlops__fault_arm(MLOPS__FAULT_WRITE, 1, ENOSPC);
    rc = mlops_ref_set(c.t.s, "main", &v, &c.ref_value);
    mlops__fault_reset();
    tu_assert_err(rc, MLOPS_ENOSPACE);
    tu_verify_clean(c.t.s);
    clear_records(&c);
    tu_store_destroy(&c.t);
}
END_TEST

/* get_file writes the destination: a failure leaves it untouched */
START_TEST(get_file_faults)
{
    fctx c;
    memset(&c, 0, sizeof c);
    open_store(&c);
    char *big = tu_xmalloc(300000);
    tu_fill_random(big, 300000, 5);
    mlops_oid id = tu_put(c.t.s, big, 300000);
    char *dir = tu_mkdtemp();
    char *dst = tu_path("%s/dst", dir);
    for (int kind = 0; kind < MLOPS__FAULT_KINDS; kind++) {
        unsigned long n;
        int failures = 0;
        for (n = 1; n <= MAX_N; n++) {
            tu_write_file(dst, "previous", 8);
            mlops__fault_arm((mlops__fault_kind)kind, n, EIO);
            int rc = mlops_object_get_file(c.t.s, &id, dst);
            int consumed = fault_consumed((mlops__fault_kind)kind, n);
            mlops__fault_reset();
            if (!consumed) {
                ck_assert_int_eq(rc, 0);
                break;
            }
            if (rc == 0)
                continue;
            failures++;
            tu_assert_err(rc, MLOPS_EIO);
            size_t got = 0;
            char *content = tu_read_file(dst, &got);
            /* Untouched, except when the failure is the fsync of the
             * directory after the rename (FULL): then the new file is in
             * place, whole, but its durability could not be confirmed. */
            int untouched = got == 8 && memcmp(content, "previous", 8) == 0;
            int whole_new = kind == MLOPS__FAULT_FSYNC && got == 300000 && memcmp(content, big, got) == 0;
            ck_assert_msg(untouched || whole_new, "get_file failed but left %zu bytes at the destination", got);
            free(content);
            ck_assert_msg(tu_count_files(dir) == 1, "get_file left a temp file (%s fault %lu)", kind_name[kind], n);
        }
        size_t len = 0;
        char *content = tu_read_file(dst, &len);
        ck_assert_uint_eq(len, 300000);
        ck_assert_int_eq(memcmp(content, big, len), 0);
        free(content);
        if (kind != MLOPS__FAULT_FSYNC)
            ck_assert_msg(failures > 0, "no %s fault made get_file fail", kind_name[kind]);
    }
    tu_rmrf(dir);
    free(dir);
    free(dst);
    free(big);
    clear_records(&c);
    tu_store_destroy(&c.t);
}
END_TEST

/* creating a store: a failure leaves a directory that still opens */
START_TEST(create_faults)
{
    for (int kind = 0; kind < MLOPS__FAULT_KINDS; kind++) {
        unsigned long n;
        for (n = 1; n <= MAX_N; n++) {
            char *dir = tu_mkdtemp();
            char *path = tu_path("%s/store", dir);
            mlops_store *s = NULL;
            mlops__fault_arm((mlops__fault_kind)kind, n, EIO);
            int rc = mlops_store_open(&s, path, NULL);
            int consumed = fault_consumed((mlops__fault_kind)kind, n);
            mlops__fault_reset();
            if (rc != 0) {
                tu_assert_err(rc, MLOPS_EIO);
                ck_assert_ptr_null(s);
            }
            mlops_store_free(s);
            s = NULL;
            rc = mlops_store_open(&s, path, NULL);
            ck_assert_msg(rc == 0, "open after a %s fault %lu in creation: %d %s", kind_name[kind], n, rc,
                          mlops_error_last());
            tu_put_str(s, "x");
            tu_verify_clean(s);
            mlops_store_free(s);
            tu_rmrf(dir);
            free(dir);
            free(path);
            if (!consumed)
                break;
        }
        ck_assert(n <= MAX_N);
    }
}
END_TEST

/* The first append to a log failing for lack of space leaves no log
 * behind (an empty one used to be listed and read as existing), and the
 * handle appends and commits normally afterwards. */
static int count_one(const void *rec, size_t len, void *payload)
{
    (void)rec, (void)len;
    ++*(int *)payload;
    return 0;
}

static int list_one(const char *name, void *payload)
{
    ck_assert_str_ne(name, "fresh/metrics");
    ++*(int *)payload;
    return 0;
}

START_TEST(first_append_no_space)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops__fault_arm(MLOPS__FAULT_WRITE, 1, ENOSPC);
    tu_assert_err(mlops_log_append(t.s, "fresh/metrics", "point", 5), MLOPS_ENOSPACE);
    mlops__fault_reset();
    int n = 0;
    tu_assert_err(mlops_log_foreach(t.s, "fresh/metrics", count_one, &n), MLOPS_ENOTFOUND);
    ck_assert_int_eq(mlops_log_list(t.s, NULL, list_one, &n), 0);
    ck_assert_int_eq(n, 0);
    char *dir = tu_path("%s/logs/fresh", t.dir);
    ck_assert(!tu_exists(dir));
    free(dir);
    mlops_oid id = tu_put_str(t.s, "after");
    ck_assert_int_eq(mlops_ref_set(t.s, "after", &id, NULL), 0);
    ck_assert_int_eq(mlops_log_append(t.s, "fresh/metrics", "point", 5), 0);
    ck_assert_int_eq(mlops_log_foreach(t.s, "fresh/metrics", count_one, &n), 0);
    ck_assert_int_eq(n, 1);
    tu_store_destroy(&t);
}
END_TEST

/* Durability FULL: an append whose fsync fails takes its record back, so
 * the failed call changed nothing and a retry (the run buffer retries)
 * stores it once. */
START_TEST(full_append_fsync_takes_back)
{
    mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
    o.durability = MLOPS_DURABILITY_FULL;
    tu_store t;
    tu_store_open(&t, TU_FS, &o);
    ck_assert_int_eq(mlops_log_append(t.s, "l", "one", 3), 0);
    mlops__fault_arm(MLOPS__FAULT_FSYNC, 1, EIO);
    tu_assert_err(mlops_log_append(t.s, "l", "two", 3), MLOPS_EIO);
    mlops__fault_reset();
    int n = 0;
    ck_assert_int_eq(mlops_log_foreach(t.s, "l", count_one, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(mlops_log_append(t.s, "l", "two", 3), 0);
    n = 0;
    ck_assert_int_eq(mlops_log_foreach(t.s, "l", count_one, &n), 0);
    ck_assert_int_eq(n, 2);
    tu_store_destroy(&t);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, put_write);
    tcase_add_test(tc, put_fsync);
    tcase_add_test(tc, put_rename);
    tcase_add_test(tc, ref_write);
    tcase_add_test(tc, ref_fsync);
    tcase_add_test(tc, ref_rename);
    tcase_add_test(tc, log_write);
    tcase_add_test(tc, log_fsync);
    tcase_add_test(tc, put_enospc);
    tcase_add_test(tc, log_enospc);
    tcase_add_test(tc, commit_ref_fsync);
    tcase_add_test(tc, commit_ref_fsync_syncfs);
    tcase_add_test(tc, commit_ref_fsync_each);
    tcase_add_test(tc, commit_ref_rename);
    tcase_add_test(tc, commit_log_fsync);
    tcase_add_test(tc, commit_put_write);
    tcase_add_test(tc, failed_sync_is_retried);
    tcase_add_test(tc, enospc_code);
    tcase_add_test(tc, get_file_faults);
    tcase_add_test(tc, create_faults);
    tcase_add_test(tc, first_append_no_space);
    tcase_add_test(tc, full_append_fsync_takes_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(faults_suite());
}
