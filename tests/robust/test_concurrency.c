/*
 * Concurrency tests: several processes on one fs store (compare-and-swap
 * counter, log appends) and several threads sharing one store handle.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "robust_util.h"

#define NPROC 4
#define INCREMENTS 250
#define COUNTER_REF "conc/counter"
#define LOG_RECORDS 10000
#define LOG_NAME "conc/log"

static void wait_children(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed: status 0x%x", i, st);
    }
}

/* Starts all children at (almost) the same time: they block on a pipe. */
static int g_gate[2];

static void gate_wait(void)
{
    char c;
    close(g_gate[1]);
    if (read(g_gate[0], &c, 1) < 0)
        _exit(70);
    close(g_gate[0]);
}

static void gate_open(void)
{
    close(g_gate[0]);
    close(g_gate[1]); /* EOF releases every reader */
}

/* A child's start: wait at the gate, then open the store (or exit 1). */
static mlops_store *child_start(const char *dir, const char *what, unsigned who)
{
    mlops_store *s = NULL;
    int rc;
    gate_wait();
    rc = mlops_store_open(&s, dir, NULL);
    if (rc != 0) {
        fprintf(stderr, "%s %u: open: %d %s\n", what, who, rc, mlops_error_last());
        _exit(1);
    }
    return s;
}

/* ---- (a) compare-and-swap counter --------------------------------------- */

static int put_number(mlops_oid *out, mlops_store *s, unsigned long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lu", v);
    return mlops_object_put(out, s, buf, (size_t)n);
}

static void counter_child(const char *dir, int wfd, unsigned who)
{
    mlops_store *s = child_start(dir, "child", who);
    unsigned long conflicts = 0;
    int rc;
    for (int i = 0; i < INCREMENTS; i++) {
        for (;;) {
            mlops_oid cur, next;
            void *data = NULL;
            size_t len = 0;
            unsigned long v;
            char *end;
            rc = mlops_ref_get(&cur, s, COUNTER_REF);
            if (rc != 0) {
                fprintf(stderr, "child %u: ref_get: %d %s\n", who, rc, mlops_error_last());
                _exit(2);
            }
            rc = mlops_object_get(&data, &len, s, &cur);
            if (rc != 0) {
                fprintf(stderr, "child %u: object_get: %d %s\n", who, rc, mlops_error_last());
                _exit(3);
            }
            v = strtoul((const char *)data, &end, 10);
            if (len == 0 || *end != 0) {
                fprintf(stderr, "child %u: counter object is not a number\n", who);
                _exit(4);
            }
            mlops_free(data);
            rc = put_number(&next, s, v + 1);
            if (rc != 0) {
                fprintf(stderr, "child %u: put: %d %s\n", who, rc, mlops_error_last());
                _exit(5);
            }
            rc = mlops_ref_set(s, COUNTER_REF, &next, &cur);
            if (rc == 0) {
                ru_ack(wfd, "%lu\n", v + 1);
                break;
            }
            if (rc != MLOPS_ECONFLICT) {
                fprintf(stderr, "child %u: ref_set: %d (%s) %s\n", who, rc, mlops_error_name(rc),
                        mlops_error_last());
                _exit(6);
            }
            conflicts++;
        }
    }
    fprintf(stderr, "# counter child %u: %lu conflicts retried\n", who, conflicts);
    mlops_store_free(s);
    _exit(0);
}

START_TEST(test_cas_counter_processes)
{
    char *dir = ru_tmpdir("counter");
    char path[4096];
    mlops_store *s = NULL;
    mlops_oid zero, cur;
    pid_t pids[NPROC];
    unsigned char *seen;
    uint64_t t0 = ru_now_ms();
    void *data = NULL;
    size_t len = 0, total = 0;

    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    ck_assert_int_eq(put_number(&zero, s, 0), 0);
    ck_assert_int_eq(mlops_ref_set(s, COUNTER_REF, &zero, NULL), 0);
    mlops_store_free(s);

    ck_assert_int_eq(pipe(g_gate), 0);
    for (unsigned i = 0; i < NPROC; i++) {
        int fd;
        snprintf(path, sizeof path, "%s.acks%u", dir, i);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        ck_assert_int_ge(fd, 0);
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0)
            counter_child(dir, fd, i);
        close(fd);
    }
    gate_open();
    wait_children(pids, NPROC);
    fprintf(stderr, "# %d CAS increments by %d processes in %" PRIu64 " ms\n", NPROC * INCREMENTS, NPROC,
            ru_now_ms() - t0);

    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    ck_assert_int_eq(mlops_ref_get(&cur, s, COUNTER_REF), 0);
    ck_assert_int_eq(mlops_object_get(&data, &len, s, &cur), 0);
    ck_assert_str_eq((const char *)data, "1000");
    mlops_free(data);
    mlops_store_free(s);

    /* Every value 1..1000 was produced by exactly one successful CAS. */
    seen = calloc(NPROC * INCREMENTS + 1, 1);
    ck_assert_ptr_nonnull(seen);
    for (unsigned i = 0; i < NPROC; i++) {
        char *acks, *line, *save = NULL;
        size_t mine = 0;
        snprintf(path, sizeof path, "%s.acks%u", dir, i);
        acks = ru_slurp(path, NULL);
        ck_assert_ptr_nonnull(acks);
        for (line = strtok_r(acks, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            unsigned long v = strtoul(line, NULL, 10);
            ck_assert_msg(v >= 1 && v <= NPROC * INCREMENTS, "value %lu out of range", v);
            ck_assert_msg(!seen[v], "value %lu was produced twice (lost update)", v);
            seen[v] = 1;
            mine++;
        }
        ck_assert_uint_eq(mine, INCREMENTS);
        total += mine;
        free(acks);
        unlink(path);
    }
    ck_assert_uint_eq(total, NPROC * INCREMENTS);
    free(seen);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

/* ---- (b) many processes appending to one log ---------------------------- */

static void log_child(const char *dir, unsigned who)
{
    mlops_store *s = child_start(dir, "log child", who);
    unsigned seq = 0;
    uint64_t rng = 1234 + who;
    int rc;
    while (seq < LOG_RECORDS) {
        unsigned n = (unsigned)ru_range(&rng, 1, 40);
        if (n > LOG_RECORDS - seq)
            n = LOG_RECORDS - seq;
        if (n <= 3) {
            for (unsigned i = 0; i < n; i++) {
                unsigned char rec[RU_RECORD_MAX];
                size_t len = ru_record(rec, who, seq);
                rc = mlops_log_append(s, LOG_NAME, rec, len);
                if (rc != 0) {
                    fprintf(stderr, "log child %u: append: %d %s\n", who, rc, mlops_error_last());
                    _exit(2);
                }
                seq++;
            }
        } else {
            static unsigned char recs[40][RU_RECORD_MAX];
            const void *ptrs[40];
            size_t lens[40];
            for (unsigned i = 0; i < n; i++) {
                lens[i] = ru_record(recs[i], who, seq + i);
                ptrs[i] = recs[i];
            }
            rc = mlops_log_append_batch(s, LOG_NAME, ptrs, lens, n);
            if (rc != 0) {
                fprintf(stderr, "log child %u: append_batch: %d %s\n", who, rc, mlops_error_last());
                _exit(3);
            }
            seq += n;
        }
        if (ru_next(&rng) % 64 == 0 && (rc = mlops_log_sync(s, LOG_NAME)) != 0) {
            fprintf(stderr, "log child %u: sync: %d %s\n", who, rc, mlops_error_last());
            _exit(4);
        }
    }
    mlops_store_free(s);
    _exit(0);
}

START_TEST(test_log_append_processes)
{
    char *dir = ru_tmpdir("logconc");
    pid_t pids[NPROC];
    mlops_store *s = NULL;
    mlops_log_iterator *it = NULL;
    unsigned next[NPROC] = {0};
    size_t total = 0;
    uint64_t t0 = ru_now_ms();
    mlops_verify_report rep;
    const void *rec;
    size_t len;
    int rc;

    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    mlops_store_free(s);
    ck_assert_int_eq(pipe(g_gate), 0);
    for (unsigned i = 0; i < NPROC; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0)
            log_child(dir, i);
    }
    gate_open();
    wait_children(pids, NPROC);
    fprintf(stderr, "# %d x %d log records appended in %" PRIu64 " ms\n", NPROC, LOG_RECORDS, ru_now_ms() - t0);

    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    ck_assert_int_eq(mlops_log_iterator_new(&it, s, LOG_NAME), 0);
    while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
        unsigned w, q;
        ck_assert_msg(ru_record_check(rec, len, &w, &q) == 0, "record %zu is damaged (%zu bytes)", total, len);
        ck_assert_msg(w < NPROC, "record %zu names writer %u", total, w);
        ck_assert_msg(q == next[w], "writer %u: record %u where %u was expected (lost, duplicated or reordered)",
                      w, q, next[w]);
        next[w]++;
        total++;
    }
    ck_assert_msg(rc == MLOPS_ITEROVER, "iterator ended with %d (%s)", rc, mlops_error_last());
    mlops_log_iterator_free(it);
    ck_assert_uint_eq(total, NPROC * LOG_RECORDS);
    for (unsigned i = 0; i < NPROC; i++)
        ck_assert_uint_eq(next[i], LOG_RECORDS);

    memset(&rep, 0, sizeof rep);
    ck_assert_int_eq(mlops_store_verify(&rep, s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.log_torn, 0);
    ck_assert_uint_eq(rep.ncorrupt, 0);
    mlops_verify_report_free(&rep);
    mlops_store_free(s);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

/* ---- (c) one handle shared by threads ----------------------------------- */

#define NTHREADS 4
#define THREAD_OPS 300
#define SHARED_REF "conc/shared"
#define SHARED_LOG "conc/tlog"

typedef struct thread_arg {
    mlops_store *s;
    unsigned who;
    uint64_t seed;
    unsigned increments;   /* successful shared-counter CAS */
    unsigned logged;       /* records appended to SHARED_LOG */
    char failure[512];
} thread_arg;

#define TFAIL(a, ...)                                                   \
    do {                                                                \
        snprintf((a)->failure, sizeof (a)->failure, __VA_ARGS__);       \
        return NULL;                                                    \
    } while (0)

static void *thread_main(void *p)
{
    thread_arg *a = (thread_arg *)p;
    mlops_store *s = a->s;
    uint64_t rng = a->seed;
    mlops_oid mine[THREAD_OPS];
    size_t mine_len[THREAD_OPS];
    uint64_t mine_seed[THREAD_OPS];
    unsigned nmine = 0;
    unsigned char *buf = malloc(300000), *rb;
    char refname[64];
    int have_own_ref = 0;
    mlops_oid own_ref_val;
    int rc;

    if (!buf)
        TFAIL(a, "malloc");
    snprintf(refname, sizeof refname, "conc/thread/%u", a->who);
    for (unsigned op = 0; op < THREAD_OPS; op++) {
        unsigned kind = (unsigned)(ru_next(&rng) % 7);
        if (kind == 0 || (kind == 1 && nmine == 0)) {
            /* put: private content, or content shared by every thread
             * (identical puts of the same object racing) */
            size_t len = (size_t)ru_range(&rng, 0, ru_next(&rng) % 4 ? 2000 : 300000);
            uint64_t seed = ru_next(&rng) % 3 == 0 ? len : ru_next(&rng);
            mlops_oid id, h;
            ru_fill(buf, len, seed);
            if ((rc = mlops_object_put(&id, s, buf, len)) != 0)
                TFAIL(a, "put %zu bytes: %d %s", len, rc, mlops_error_last());
            mlops_oid_hash(&h, buf, len);
            if (mlops_oid_cmp(&h, &id) != 0)
                TFAIL(a, "put returned a wrong id");
            mine[nmine] = id;
            mine_len[nmine] = len;
            mine_seed[nmine] = seed;
            nmine++;
        } else if (kind == 1) {
            /* get one of ours and compare bytes */
            unsigned k = (unsigned)(ru_next(&rng) % nmine);
            void *data = NULL;
            size_t len = 0;
            uint64_t sz = 0;
            if ((rc = mlops_object_get(&data, &len, s, &mine[k])) != 0)
                TFAIL(a, "get: %d %s", rc, mlops_error_last());
            rb = malloc(mine_len[k] + 1);
            ru_fill(rb, mine_len[k], mine_seed[k]);
            if (len != mine_len[k] || memcmp(rb, data, len) != 0)
                TFAIL(a, "get returned wrong bytes (%zu vs %zu)", len, mine_len[k]);
            free(rb);
            mlops_free(data);
            if ((rc = mlops_object_size(&sz, s, &mine[k])) != 0 || sz != mine_len[k])
                TFAIL(a, "size: %d", rc);
        } else if (kind == 2) {
            /* shared counter by CAS */
            for (;;) {
                mlops_oid cur, next;
                void *data = NULL;
                size_t len;
                unsigned long v;
                if ((rc = mlops_ref_get(&cur, s, SHARED_REF)) != 0)
                    TFAIL(a, "ref_get shared: %d %s", rc, mlops_error_last());
                if ((rc = mlops_object_get(&data, &len, s, &cur)) != 0)
                    TFAIL(a, "get counter: %d %s", rc, mlops_error_last());
                v = strtoul((const char *)data, NULL, 10);
                mlops_free(data);
                if ((rc = put_number(&next, s, v + 1)) != 0)
                    TFAIL(a, "put counter: %d %s", rc, mlops_error_last());
                rc = mlops_ref_set(s, SHARED_REF, &next, &cur);
                if (rc == 0)
                    break;
                if (rc != MLOPS_ECONFLICT)
                    TFAIL(a, "ref_set shared: %d %s", rc, mlops_error_last());
            }
            a->increments++;
        } else if (kind == 3) {
            /* own ref: create, move, read back */
            mlops_oid id, cur;
            char body[64];
            int n = snprintf(body, sizeof body, "thread %u op %u", a->who, op);
            if ((rc = mlops_object_put(&id, s, body, (size_t)n)) != 0)
                TFAIL(a, "put: %d", rc);
            rc = mlops_ref_set(s, refname, &id, have_own_ref ? &own_ref_val : NULL);
            if (rc != 0)
                TFAIL(a, "ref_set own: %d %s", rc, mlops_error_last());
            if ((rc = mlops_ref_get(&cur, s, refname)) != 0 || mlops_oid_cmp(&cur, &id) != 0)
                TFAIL(a, "own ref reads back wrong: %d", rc);
            own_ref_val = id;
            have_own_ref = 1;
        } else if (kind == 4 || kind == 5) {
            /* log appends to one shared log through one handle */
            unsigned char recs[3][RU_RECORD_MAX];
            const void *ptrs[3];
            size_t lens[3];
            unsigned n = kind == 4 ? 1 : 3;
            for (unsigned i = 0; i < n; i++) {
                lens[i] = ru_record(recs[i], a->who, a->logged + i);
                ptrs[i] = recs[i];
            }
            rc = n == 1 ? mlops_log_append(s, SHARED_LOG, recs[0], lens[0])
                        : mlops_log_append_batch(s, SHARED_LOG, ptrs, lens, n);
            if (rc != 0)
                TFAIL(a, "log append: %d %s", rc, mlops_error_last());
            a->logged += n;
        } else {
            /* readers running alongside writers */
            mlops_oid id;
            int ex;
            if (ru_next(&rng) % 2) {
                mlops_log_iterator *it = NULL;
                const void *rec;
                size_t len;
                if ((rc = mlops_log_iterator_new(&it, s, SHARED_LOG)) == 0) {
                    while ((rc = mlops_log_iterator_next(&rec, &len, it)) == 0) {
                        unsigned w, q;
                        if (ru_record_check(rec, len, &w, &q) != 0) {
                            mlops_log_iterator_free(it);
                            TFAIL(a, "concurrent reader saw a damaged record");
                        }
                    }
                    mlops_log_iterator_free(it);
                    if (rc != MLOPS_ITEROVER)
                        TFAIL(a, "log iteration: %d %s", rc, mlops_error_last());
                } else if (rc != MLOPS_ENOTFOUND) {
                    TFAIL(a, "log iterator: %d %s", rc, mlops_error_last());
                }
            } else {
                memset(&id, 0xa5, sizeof id);
                ex = mlops_object_exists(s, &id);
                if (ex != 0)
                    TFAIL(a, "exists(missing) = %d", ex);
                if (nmine && (ex = mlops_object_exists(s, &mine[0])) != 1)
                    TFAIL(a, "exists(present) = %d", ex);
            }
        }
    }
    free(buf);
    return NULL;
}

typedef struct tlog_state {
    unsigned next[NTHREADS];
    size_t total;
    int bad;
} tlog_state;

static int tlog_cb(const void *rec, size_t len, void *payload)
{
    tlog_state *st = (tlog_state *)payload;
    unsigned w, q;
    if (ru_record_check(rec, len, &w, &q) != 0 || w >= NTHREADS || q != st->next[w]) {
        st->bad++;
        return 0;
    }
    st->next[w]++;
    st->total++;
    return 0;
}

static void run_threads(mlops_store *s, uint64_t seed)
{
    pthread_t th[NTHREADS];
    thread_arg args[NTHREADS];
    mlops_oid zero, cur;
    void *data = NULL;
    size_t len;
    unsigned inc = 0, logged = 0;
    tlog_state ts;
    mlops_verify_report rep;
    char want[32];

    ck_assert_int_eq(put_number(&zero, s, 0), 0);
    ck_assert_int_eq(mlops_ref_set(s, SHARED_REF, &zero, NULL), 0);
    memset(args, 0, sizeof args);
    for (unsigned i = 0; i < NTHREADS; i++) {
        args[i].s = s;
        args[i].who = i;
        args[i].seed = seed + i * 7919u;
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (unsigned i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(args[i].failure[0] == 0, "thread %u: %s", i, args[i].failure);
        inc += args[i].increments;
        logged += args[i].logged;
    }
    ck_assert_int_eq(mlops_ref_get(&cur, s, SHARED_REF), 0);
    ck_assert_int_eq(mlops_object_get(&data, &len, s, &cur), 0);
    snprintf(want, sizeof want, "%u", inc);
    ck_assert_str_eq((const char *)data, want);
    mlops_free(data);

    memset(&ts, 0, sizeof ts);
    if (logged) {
        ck_assert_int_eq(mlops_log_foreach(s, SHARED_LOG, tlog_cb, &ts), 0);
        ck_assert_msg(ts.bad == 0, "%d log records damaged or out of per-thread order", ts.bad);
        ck_assert_uint_eq(ts.total, logged);
        for (unsigned i = 0; i < NTHREADS; i++)
            ck_assert_uint_eq(ts.next[i], args[i].logged);
    }
    memset(&rep, 0, sizeof rep);
    ck_assert_int_eq(mlops_store_verify(&rep, s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.ncorrupt, 0);
    ck_assert_uint_eq(rep.ndangling, 0);
    ck_assert_uint_eq(rep.log_torn, 0);
    ck_assert_uint_ge(rep.refs, 1 + NTHREADS);
    mlops_verify_report_free(&rep);
}

START_TEST(test_threads_fs)
{
    char *dir = ru_tmpdir("threads");
    mlops_store *s = NULL;
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    run_threads(s, ru_seed("threads-fs"));
    mlops_store_free(s);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_threads_memory)
{
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_memory(&s, NULL), 0);
    run_threads(s, ru_seed("threads-memory"));
    mlops_store_free(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("concurrency");
    TCase *tp = tcase_create("processes");
    TCase *tt = tcase_create("threads");

    tcase_set_timeout(tp, 240);
    tcase_add_test(tp, test_cas_counter_processes);
    tcase_add_test(tp, test_log_append_processes);
    tcase_set_timeout(tt, 240);
    tcase_add_test(tt, test_threads_fs);
    tcase_add_test(tt, test_threads_memory);
    suite_add_tcase(su, tp);
    suite_add_tcase(su, tt);
    return ru_run(su);
}
