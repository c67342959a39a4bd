/*
 * Tracking under concurrency and crashes (issue 3):
 *  - 4 processes x 2 threads log 250,000 points each into one run: exactly
 *    2,000,000 points read back, each (writer, step) once;
 *  - a process killed with SIGKILL while logging: every point logged
 *    before its last returned flush is there; the run resumes and ends;
 *    the store verifies clean.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlops/track.h"
#include "robust_util.h"

#define PROCS 4
#define THREADS 2
#define POINTS 250000

typedef struct writer_arg {
    mlops_run *run;
    int writer;
    int rc;
} writer_arg;

/* Writer w logs steps w*POINTS .. (w+1)*POINTS-1; the value encodes w. */
static void *log_points(void *p)
{
    writer_arg *a = p;
    int64_t base = (int64_t)a->writer * POINTS;
    for (int64_t i = 0; i < POINTS && a->rc == 0; i++)
        a->rc = mlops_run_log_metric(a->run, "loss", (double)a->writer, base + i, 1000 + i);
    return NULL;
}

static int child_logs(const char *dir, const char *run_id, int proc)
{
    mlops_store *s = NULL;
    mlops_run *run = NULL;
    if (mlops_store_open(&s, dir, NULL) != 0 || mlops_run_resume(&run, s, run_id) != 0)
        return 1;
    pthread_t th[THREADS];
    writer_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (writer_arg){ run, proc * THREADS + t, 0 };
        if (pthread_create(&th[t], NULL, log_points, &args[t]) != 0)
            return 2;
    }
    int rc = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        rc |= args[t].rc != 0;
    }
    rc |= mlops_run_flush(run) != 0;
    mlops_run_free(run);
    mlops_store_free(s);
    return rc ? 3 : 0;
}

static char *start_run(mlops_store *s, char run_id[33])
{
    mlops_experiment *e = NULL;
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, s, "stress"), 0);
    ck_assert_int_eq(mlops_run_start(&run, s, e->id, NULL), 0);
    strcpy(run_id, mlops_run_id(run));
    mlops_run_free(run);
    mlops_experiment_free(e);
    return run_id;
}

START_TEST(processes_and_threads_into_one_run)
{
    char *dir = ru_tmpdir("track-stress");
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    char run_id[33];
    start_run(s, run_id);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0)
            _exit(child_logs(dir, run_id, p));
    }
    for (int p = 0; p < PROCS; p++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "logger %d failed", p);
    }
    mlops_metric_history h;
    ck_assert_int_eq(mlops_metric_history_get(&h, s, run_id, "loss", NULL), 0);
    ck_assert_uint_eq(h.n, (size_t)PROCS * THREADS * POINTS);
    /* sorted by step, and step s was logged by writer s / POINTS */
    for (size_t i = 0; i < h.n; i++) {
        ck_assert_int_eq(h.steps[i], (int64_t)i);
        ck_assert(h.values[i] == (double)(h.steps[i] / POINTS));
    }
    mlops_metric_history_free(&h);
    mlops_verify_report rep;
    ck_assert_int_eq(mlops_store_verify(&rep, s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.ncorrupt + rep.ndangling + rep.nbad_refs, 0);
    mlops_verify_report_free(&rep);
    mlops_store_free(s);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(killed_while_logging_keeps_flushed_points)
{
    char *dir = ru_tmpdir("track-kill");
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open(&s, dir, NULL), 0);
    char run_id[33];
    start_run(s, run_id);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mlops_store *cs = NULL;
        mlops_run *run = NULL;
        if (mlops_store_open(&cs, dir, NULL) != 0 || mlops_run_resume(&run, cs, run_id) != 0)
            _exit(1);
        for (int64_t step = 0;; step++) {
            if (mlops_run_log_metric(run, "acc", (double)step, step, 1000) != 0)
                _exit(2);
            if (step % 5000 == 4999) {
                if (mlops_run_flush(run) != 0)
                    _exit(3);
                /* acknowledge: every step up to here is durable */
                if (write(fds[1], &step, sizeof step) != sizeof step)
                    _exit(4);
            }
        }
    }
    close(fds[1]);
    int64_t acked = -1, step;
    /* let it flush a few times, then kill it mid-logging */
    for (int i = 0; i < 7 && read(fds[0], &step, sizeof step) == sizeof step; i++)
        acked = step;
    kill(pid, SIGKILL);
    while (read(fds[0], &step, sizeof step) == sizeof step)
        acked = step; /* acknowledgements sent before the kill landed */
    waitpid(pid, NULL, 0);
    close(fds[0]);
    ck_assert_int_ge(acked, 4999);
    mlops_metric_history h;
    ck_assert_int_eq(mlops_metric_history_get(&h, s, run_id, "acc", NULL), 0);
    ck_assert_uint_ge(h.n, (size_t)acked + 1);
    for (size_t i = 0; i <= (size_t)acked; i++)
        ck_assert(h.steps[i] == (int64_t)i && h.values[i] == (double)i);
    mlops_metric_history_free(&h);
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_resume(&run, s, run_id), 0);
    ck_assert_int_eq(mlops_run_end(run, MLOPS_RUN_KILLED), 0);
    mlops_run_free(run);
    mlops_verify_report rep;
    ck_assert_int_eq(mlops_store_verify(&rep, s, NULL, NULL), 0);
    ck_assert_uint_eq(rep.ncorrupt + rep.ndangling + rep.nbad_refs, 0);
    mlops_verify_report_free(&rep);
    mlops_store_free(s);
    ru_rm_rf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("track_stress");
    TCase *tc = tcase_create("track");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, processes_and_threads_into_one_run);
    tcase_add_test(tc, killed_while_logging_keeps_flushed_points);
    suite_add_tcase(su, tc);
    return ru_run(su);
}
