/*
 * Crash tests: child processes write to one fs store (puts of random sizes,
 * a few MiB large so that kills land mid-write, ref compare-and-swap
 * updates, log appends) and are killed with SIGKILL at random points.
 * After each kill the store must verify clean, every acknowledged write
 * must be there, and the ref must hold an acknowledged (or in-flight) value.
 *
 * An acknowledgement is a line a child appends to a side file with one
 * write(2) after the library call RETURNED, so what the file lists is a
 * lower bound of what the store promised.
 */
#include <check.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "robust_util.h"

#define CRASH_ROUNDS 20
#define REF_NAME "crash/head"
#define LOG_NAME "crash/log"

static void store_opts(mlops_store_options *o)
{
    mlops_store_options_init(o, MLOPS_STORE_OPTIONS_VERSION);
    o->stale_lock_ms = 200;   /* a lock left by a killed child is broken quickly */
    o->lock_timeout_ms = 10000;
}

/* ---- the child ---------------------------------------------------------- */

static unsigned char *g_buf; /* scratch for object contents, allocated before the loop */
#define BUF_MAX ((size_t)6 << 20)

static size_t child_object(uint64_t *rng)
{
    uint64_t kind = ru_next(rng) % 10, size;
    if (kind < 3)
        size = ru_range(rng, 0, 4096);
    else if (kind < 7)
        size = ru_range(rng, 4097, 256 << 10);
    else
        size = ru_range(rng, 1 << 20, BUF_MAX);
    switch (ru_next(rng) % 3) {
    case 0: /* incompressible */
        ru_fill(g_buf, (size_t)size, ru_next(rng));
        break;
    case 1: { /* compressible: a short random pattern repeated */
        unsigned char pat[61];
        ru_fill(pat, sizeof pat, ru_next(rng));
        for (size_t i = 0; i < size; i++)
            g_buf[i] = pat[i % sizeof pat];
        break;
    }
    default: /* mostly zeros with a random head so ids differ */
        memset(g_buf, 0, (size_t)size);
        ru_fill(g_buf, size < 16 ? (size_t)size : 16, ru_next(rng));
        break;
    }
    return (size_t)size;
}

static int child_put(mlops_oid *id, mlops_store *s, uint64_t *rng, size_t *len)
{
    *len = child_object(rng);
    if (*len > (64 << 10) && ru_next(rng) % 2) {
        mlops_object_writer *w = NULL;
        int rc = mlops_object_writer_new(&w, s);
        size_t off = 0;
        while (rc == 0 && off < *len) {
            size_t n = (size_t)ru_range(rng, 1, 200000);
            if (n > *len - off)
                n = *len - off;
            rc = mlops_object_writer_write(w, g_buf + off, n);
            off += n;
        }
        if (rc == 0)
            rc = mlops_object_writer_finish(id, w);
        mlops_object_writer_free(w);
        return rc;
    }
    return mlops_object_put(id, s, g_buf, *len);
}

static void child_main(const char *dir, const char *ackpath, uint64_t seed, unsigned round)
{
    mlops_store_options o;
    mlops_store *s = NULL;
    uint64_t rng = seed;
    unsigned seq = 0;
    char hex[MLOPS_OID_HEXSZ + 1];
    int ack = open(ackpath, O_WRONLY | O_APPEND | O_CREAT, 0644);
    int rc;

    if (ack < 0)
        _exit(80);
    g_buf = (unsigned char *)malloc(BUF_MAX);
    if (!g_buf)
        _exit(81);
    store_opts(&o);
    rc = mlops_store_open(&s, dir, &o);
    if (rc != 0) {
        ru_ack(ack, "E open %d %s\n", rc, mlops_error_last());
        _exit(82);
    }
    for (;;) {
        uint64_t op = ru_next(&rng) % 10;
        if (op < 5) {
            mlops_oid id;
            size_t len;
            rc = child_put(&id, s, &rng, &len);
            if (rc != 0) {
                ru_ack(ack, "E put %d %s\n", rc, mlops_error_last());
                _exit(83);
            }
            ru_ack(ack, "P %s %zu\n", ru_hex(&id, hex), len);
        } else if (op < 8) {
            mlops_oid cur, next;
            char body[64];
            int n, have;
            rc = mlops_ref_get(&cur, s, REF_NAME);
            if (rc != 0 && rc != MLOPS_ENOTFOUND) {
                ru_ack(ack, "E refget %d %s\n", rc, mlops_error_last());
                _exit(84);
            }
            have = rc == 0;
            n = snprintf(body, sizeof body, "ref value r%u s%u %" PRIu64, round, seq++, ru_next(&rng));
            rc = mlops_object_put(&next, s, body, (size_t)n);
            if (rc != 0) {
                ru_ack(ack, "E put %d %s\n", rc, mlops_error_last());
                _exit(83);
            }
            ru_ack(ack, "A %s\n", ru_hex(&next, hex));
            rc = mlops_ref_set(s, REF_NAME, &next, have ? &cur : NULL);
            if (rc != 0) {
                ru_ack(ack, "E refset %d %s\n", rc, mlops_error_last());
                _exit(85);
            }
            ru_ack(ack, "R %s\n", hex);
        } else {
            unsigned char recs[4][RU_RECORD_MAX];
            const void *ptrs[4];
            size_t lens[4];
            unsigned n = (unsigned)ru_range(&rng, 1, 4), first = seq;
            for (unsigned i = 0; i < n; i++) {
                lens[i] = ru_record(recs[i], round, seq++);
                ptrs[i] = recs[i];
            }
            rc = n == 1 ? mlops_log_append(s, LOG_NAME, recs[0], lens[0])
                        : mlops_log_append_batch(s, LOG_NAME, ptrs, lens, n);
            if (rc == 0 && ru_next(&rng) % 4 == 0)
                rc = mlops_log_sync(s, LOG_NAME);
            if (rc != 0) {
                ru_ack(ack, "E log %d %s\n", rc, mlops_error_last());
                _exit(86);
            }
            for (unsigned i = 0; i < n; i++)
                ru_ack(ack, "L %u %u\n", round, first + i);
        }
    }
}

/* ---- the checks after each kill -------------------------------------- */

typedef struct log_seen {
    unsigned round, seq;
} log_seen;

typedef struct log_state {
    log_seen *v;
    size_t n, cap;
    int bad;
} log_state;

static int log_cb(const void *rec, size_t len, void *payload)
{
    log_state *st = (log_state *)payload;
    unsigned w, q;
    if (ru_record_check(rec, len, &w, &q) != 0) {
        st->bad++;
        return 0;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 256;
        st->v = (log_seen *)realloc(st->v, st->cap * sizeof *st->v);
        ck_assert_ptr_nonnull(st->v);
    }
    st->v[st->n].round = w;
    st->v[st->n].seq = q;
    st->n++;
    return 0;
}

static void check_store(const char *dir, const char *ackpath, unsigned round)
{
    mlops_store_options o;
    mlops_store *s = NULL;
    mlops_verify_report rep;
    size_t acklen = 0;
    char *acks = ru_slurp(ackpath, &acklen);
    char *line, *save = NULL;
    char last_r[MLOPS_OID_HEXSZ + 1] = "";
    char (*attempts)[MLOPS_OID_HEXSZ + 1] = NULL; /* A lines after the last R */
    size_t nattempts = 0, capattempts = 0, nput = 0, nlog = 0;
    log_state ls = {NULL, 0, 0, 0};
    int rc;

    store_opts(&o);
    rc = mlops_store_open(&s, dir, &o);
    ck_assert_msg(rc == 0, "round %u: reopening the store after SIGKILL: %d (%s)", round, rc,
                  mlops_error_last());

    memset(&rep, 0, sizeof rep);
    rc = mlops_store_verify(&rep, s, NULL, NULL);
    ck_assert_msg(rc == 0, "round %u: verify failed: %d (%s)", round, rc, mlops_error_last());
    if (rep.ncorrupt) {
        char hex[MLOPS_OID_HEXSZ + 1];
        ck_abort_msg("round %u: verify found %zu corrupt objects after SIGKILL, first %s", round,
                     rep.ncorrupt, ru_hex(&rep.corrupt[0], hex));
    }
    ck_assert_msg(rep.ndangling == 0, "round %u: verify found %zu dangling refs after SIGKILL, first %s",
                  round, rep.ndangling, rep.ndangling ? rep.dangling[0] : "");
    mlops_verify_report_free(&rep);

    /* Only complete lines count: a line is written by one write(2). */
    if (acks) {
        char *end = strrchr(acks, '\n');
        if (end)
            end[1] = 0;
        else
            acks[0] = 0;
    }
    for (line = acks ? strtok_r(acks, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        char hex[MLOPS_OID_HEXSZ + 1];
        switch (line[0]) {
        case 'E':
            ck_abort_msg("round <= %u: a child saw an unexpected error: %s", round, line);
            break;
        case 'P': {
            mlops_oid id, h;
            size_t len, glen = 0;
            uint64_t sz = 0;
            void *data = NULL;
            ck_assert_int_eq(sscanf(line, "P %64s %zu", hex, &len), 2);
            ck_assert_int_eq(mlops_oid_fromhex(&id, hex), 0);
            rc = mlops_object_get(&data, &glen, s, &id);
            ck_assert_msg(rc == 0, "round %u: acknowledged object %s (%zu bytes) unreadable: %d (%s)", round,
                          hex, len, rc, mlops_error_last());
            ck_assert_msg(glen == len, "round %u: object %s has %zu bytes, %zu were put", round, hex, glen, len);
            mlops_oid_hash(&h, data, glen);
            ck_assert_msg(mlops_oid_cmp(&h, &id) == 0, "round %u: object %s returned wrong bytes", round, hex);
            mlops_free(data);
            ck_assert_int_eq(mlops_object_exists(s, &id), 1);
            ck_assert_int_eq(mlops_object_size(&sz, s, &id), 0);
            ck_assert_uint_eq(sz, len);
            nput++;
            break;
        }
        case 'A':
            if (nattempts == capattempts) {
                capattempts = capattempts ? capattempts * 2 : 16;
                attempts = realloc(attempts, capattempts * sizeof *attempts);
                ck_assert_ptr_nonnull(attempts);
            }
            ck_assert_int_eq(sscanf(line, "A %64s", attempts[nattempts]), 1);
            nattempts++;
            break;
        case 'R':
            ck_assert_int_eq(sscanf(line, "R %64s", last_r), 1);
            nattempts = 0;
            break;
        case 'L':
            nlog++;
            break;
        default:
            ck_abort_msg("bad ack line '%s'", line);
        }
    }

    /* The ref: the last acknowledged value, or an attempt after it. */
    {
        mlops_oid cur;
        char hex[MLOPS_OID_HEXSZ + 1];
        int ok = 0;
        rc = mlops_ref_get(&cur, s, REF_NAME);
        if (rc == MLOPS_ENOTFOUND) {
            ck_assert_msg(last_r[0] == 0, "round %u: ref %s vanished; last acknowledged value %s", round,
                          REF_NAME, last_r);
        } else {
            ck_assert_msg(rc == 0, "round %u: ref_get: %d (%s)", round, rc, mlops_error_last());
            ru_hex(&cur, hex);
            ok = strcmp(hex, last_r) == 0;
            for (size_t i = 0; i < nattempts && !ok; i++)
                ok = strcmp(hex, attempts[i]) == 0;
            ck_assert_msg(ok, "round %u: ref %s = %s, neither the last acknowledged value (%s) nor one of %zu "
                          "in-flight attempts", round, REF_NAME, hex, last_r[0] ? last_r : "none", nattempts);
            ck_assert_int_eq(mlops_object_exists(s, &cur), 1);
        }
    }

    /* The log: every record intact; acknowledged ones all present, in order. */
    rc = mlops_log_foreach(s, LOG_NAME, log_cb, &ls);
    if (rc == MLOPS_ENOTFOUND) {
        ck_assert_msg(nlog == 0, "round %u: log missing but %zu records were acknowledged", round, nlog);
    } else {
        ck_assert_msg(rc == 0, "round %u: log_foreach: %d (%s)", round, rc, mlops_error_last());
        ck_assert_msg(ls.bad == 0, "round %u: %d damaged log records delivered", round, ls.bad);
        for (size_t i = 1; i < ls.n; i++) {
            int ordered = ls.v[i].round > ls.v[i - 1].round ||
                          (ls.v[i].round == ls.v[i - 1].round && ls.v[i].seq > ls.v[i - 1].seq);
            ck_assert_msg(ordered, "round %u: log records out of order or duplicated: (%u,%u) after (%u,%u)",
                          round, ls.v[i].round, ls.v[i].seq, ls.v[i - 1].round, ls.v[i - 1].seq);
        }
        /* Acknowledged records: check each is present (both lists are sorted). */
        save = NULL;
        free(acks);
        acks = ru_slurp(ackpath, NULL);
        {
            size_t j = 0, found = 0;
            char *end = acks ? strrchr(acks, '\n') : NULL;
            if (end)
                end[1] = 0;
            for (line = end ? strtok_r(acks, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                unsigned r, q;
                if (line[0] != 'L')
                    continue;
                ck_assert_int_eq(sscanf(line, "L %u %u", &r, &q), 2);
                while (j < ls.n && (ls.v[j].round < r || (ls.v[j].round == r && ls.v[j].seq < q)))
                    j++;
                ck_assert_msg(j < ls.n && ls.v[j].round == r && ls.v[j].seq == q,
                              "round %u: acknowledged log record (%u,%u) missing", round, r, q);
                found++;
            }
            ck_assert_uint_eq(found, nlog);
            /* At most one unacknowledged batch (<= 4 records) per round. */
            ck_assert_msg(ls.n <= nlog + 4u * (round + 1),
                          "round %u: %zu log records but only %zu acknowledged", round, ls.n, nlog);
        }
    }
    fprintf(stderr, "# round %2u: %zu acked puts, %zu acked log records ok\n", round, nput, nlog);
    free(ls.v);
    free(attempts);
    free(acks);
    mlops_store_free(s);
}

START_TEST(test_sigkill_rounds)
{
    char *dir = ru_tmpdir("crash");
    char ackpath[4096];
    uint64_t rng = ru_seed("crash");

    ck_assert_ptr_nonnull(dir);
    snprintf(ackpath, sizeof ackpath, "%s.acks", dir);
    unlink(ackpath);
    for (unsigned round = 0; round < CRASH_ROUNDS; round++) {
        uint64_t child_seed = ru_next(&rng);
        /* Mostly short lives (the kill lands in open, a put, a ref update);
         * every fourth child lives longer so that the store fills up. */
        uint64_t delay_ms = round % 4 == 3 ? ru_range(&rng, 50, 250) : ru_range(&rng, 1, 50);
        int status = 0;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            child_main(dir, ackpath, child_seed, round);
        ru_sleep_us(delay_ms * 1000u);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "round %u: child ended on its own (status 0x%x) before the kill", round, status);
        check_store(dir, ackpath, round);
    }
    unlink(ackpath);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

/* A store being created when its creator is killed: the next open works. */
START_TEST(test_sigkill_during_create)
{
    uint64_t rng = ru_seed("crash-create");
    for (unsigned round = 0; round < 20; round++) {
        char *dir = ru_tmpdir("crash-create");
        char sub[4096];
        mlops_store *s = NULL;
        mlops_store_options o;
        mlops_oid id;
        int status, rc;
        pid_t pid;
        ck_assert_ptr_nonnull(dir);
        snprintf(sub, sizeof sub, "%s/store", dir);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            store_opts(&o);
            if (mlops_store_open(&s, sub, &o) != 0)
                _exit(1);
            _exit(0);
        }
        ru_sleep_us(ru_range(&rng, 0, 3000));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        store_opts(&o);
        rc = mlops_store_open(&s, sub, &o);
        ck_assert_msg(rc == 0, "round %u: opening a store whose creator was killed: %d (%s)", round, rc,
                      mlops_error_last());
        ck_assert_int_eq(mlops_object_put(&id, s, "x", 1), 0);
        ck_assert_int_eq(mlops_ref_set(s, "a", &id, NULL), 0);
        mlops_store_free(s);
        ru_rm_rf(dir);
        free(dir);
    }
}
END_TEST

/* ---- stale ref locks ----------------------------------------------------- */

/* Finds the lock file a ref update of `name` would create: refs/<name>.lock
 * in the store directory (docs/FORMAT.md). */
static void lock_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/refs/%s.lock", dir, name);
}

static void write_lock(const char *path, pid_t pid, time_t age_sec)
{
    char body[512];
    struct timeval tv[2];
    char host[256] = "localhost";
    int fd, n;
    gethostname(host, sizeof host - 1);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    ck_assert_msg(fd >= 0, "creating %s: %s", path, strerror(errno));
    /* The owner line format of lib/store/fs/fs_lock.c. */
    n = snprintf(body, sizeof body, "pid %ld\nhost %s\ntime %lld\n", (long)pid, host,
                 (long long)(time(NULL) - age_sec) * 1000);
    ck_assert_int_eq(write(fd, body, (size_t)n), n);
    close(fd);
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_sec;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
}

static pid_t dead_pid(void)
{
    pid_t pid = fork();
    int st;
    if (pid == 0)
        _exit(0);
    waitpid(pid, &st, 0);
    return pid;
}

/* Opens a store in dir with objects "a" and "b" and the ref name -> a. */
static mlops_store *lock_store(const char *dir, const mlops_store_options *o, const char *name, mlops_oid *a,
                               mlops_oid *b)
{
    mlops_store *s = NULL;
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(mlops_store_open(&s, dir, o), 0);
    ck_assert_int_eq(mlops_object_put(a, s, "a", 1), 0);
    ck_assert_int_eq(mlops_object_put(b, s, "b", 1), 0);
    ck_assert_int_eq(mlops_ref_set(s, name, a, NULL), 0);
    return s;
}

/* mlops_ref_set, and how long it took in *ms. */
static int timed_ref_set(mlops_store *s, const char *name, const mlops_oid *id, const mlops_oid *expected,
                         uint64_t *ms)
{
    uint64_t t0 = ru_now_ms();
    int rc = mlops_ref_set(s, name, id, expected);
    *ms = ru_now_ms() - t0;
    return rc;
}

START_TEST(test_stale_lock_recovered)
{
    char *dir = ru_tmpdir("stale");
    char lp[4096];
    mlops_store_options o;
    mlops_store *s;
    mlops_oid a, b, cur;
    uint64_t el;
    int rc;

    store_opts(&o);
    o.stale_lock_ms = 200;
    o.lock_timeout_ms = 10000;
    s = lock_store(dir, &o, "stale/one", &a, &b);

    /* A lock left by a dead process an hour ago. */
    lock_path(lp, sizeof lp, dir, "stale/one");
    write_lock(lp, dead_pid(), 3600);
    rc = timed_ref_set(s, "stale/one", &b, &a, &el);
    ck_assert_msg(rc == 0, "ref update behind a stale lock: %d (%s)", rc, mlops_error_last());
    ck_assert_msg(el < 5000, "stale lock recovery took %" PRIu64 " ms", el);
    ck_assert_int_eq(mlops_ref_get(&cur, s, "stale/one"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&cur, &b), 0);
    ck_assert_msg(access(lp, F_OK) != 0, "the stale lock file is still there after the update");

    /* A lock that becomes stale while we wait (fresh, then aged 200 ms). */
    write_lock(lp, dead_pid(), 0);
    rc = timed_ref_set(s, "stale/one", &a, &b, &el);
    ck_assert_msg(rc == 0, "ref update behind a lock that went stale: %d (%s)", rc, mlops_error_last());
    ck_assert_msg(el < 5000, "stale lock recovery took %" PRIu64 " ms", el);

    /* A fresh lock whose owner is a dead process of this host: broken at
     * once although it is young (fs_lock.c's owner check). */
    mlops_store_free(s);
    o.stale_lock_ms = 60000;
    ck_assert_int_eq(mlops_store_open(&s, dir, &o), 0);
    lock_path(lp, sizeof lp, dir, "stale/one");
    write_lock(lp, dead_pid(), 0);
    rc = timed_ref_set(s, "stale/one", &b, &a, &el);
    ck_assert_msg(rc == 0, "ref update behind a dead owner's fresh lock: %d (%s)", rc, mlops_error_last());
    ck_assert_msg(el < 5000, "dead-owner lock recovery took %" PRIu64 " ms", el);

    /* A lock of a stale ref that was being created (ref absent). */
    lock_path(lp, sizeof lp, dir, "stale/new");
    write_lock(lp, dead_pid(), 3600);
    rc = mlops_ref_set(s, "stale/new", &a, NULL);
    ck_assert_msg(rc == 0, "creating a ref behind a stale lock: %d (%s)", rc, mlops_error_last());
    mlops_store_free(s);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_live_lock_respected)
{
    char *dir = ru_tmpdir("livelock");
    char lp[4096];
    mlops_store_options o;
    mlops_store *s;
    mlops_oid a, b, cur;
    uint64_t el;
    int rc;

    store_opts(&o);
    o.stale_lock_ms = 60000;
    o.lock_timeout_ms = 300;
    s = lock_store(dir, &o, "live/one", &a, &b);
    lock_path(lp, sizeof lp, dir, "live/one");
    write_lock(lp, getpid(), 0);
    rc = timed_ref_set(s, "live/one", &b, &a, &el);
    ck_assert_msg(rc == MLOPS_ELOCKED, "ref update behind a live lock returned %d (%s), expected ELOCKED", rc,
                  mlops_error_last());
    ck_assert_msg(el >= 250 && el < 5000, "lock timeout 300 ms took %" PRIu64 " ms", el);
    ck_assert_int_eq(mlops_ref_get(&cur, s, "live/one"), 0);
    ck_assert_int_eq(mlops_oid_cmp(&cur, &a), 0);
    ck_assert_int_eq(unlink(lp), 0);
    ck_assert_int_eq(mlops_ref_set(s, "live/one", &b, &a), 0);
    mlops_store_free(s);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("crash");
    TCase *tc = tcase_create("sigkill");
    TCase *tl = tcase_create("locks");

    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_sigkill_rounds);
    tcase_add_test(tc, test_sigkill_during_create);
    tcase_set_timeout(tl, 60);
    tcase_add_test(tl, test_stale_lock_recovered);
    tcase_add_test(tl, test_live_lock_respected);
    suite_add_tcase(su, tc);
    suite_add_tcase(su, tl);
    return ru_run(su);
}
