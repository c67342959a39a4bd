/* Tracking records: experiments, runs, params, tags, artifacts, and the
 * bad input each of them refuses. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlops/track.h"
#include "testutil.h"

START_TEST(experiment_lifecycle)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(mlops_experiment_create(&a, t.s, "vision"), 0);
    ck_assert_str_eq(a->id, "1");
    ck_assert_str_eq(a->name, "vision");
    ck_assert_int_eq(a->lifecycle, MLOPS_LIFECYCLE_ACTIVE);
    tu_assert_err(mlops_experiment_create(&b, t.s, "vision"), MLOPS_EEXISTS);
    ck_assert_int_eq(mlops_experiment_get_or_create(&b, t.s, "vision"), 0);
    ck_assert_str_eq(b->id, "1");
    ck_assert_int_eq(mlops_experiment_get_or_create(&c, t.s, "nlp"), 0);
    ck_assert_str_eq(c->id, "2");
    mlops_experiment_free(b);
    b = NULL;
    /* by id and by name */
    ck_assert_int_eq(mlops_experiment_get(&b, t.s, "2"), 0);
    ck_assert_str_eq(b->name, "nlp");
    mlops_experiment_free(b);
    ck_assert_int_eq(mlops_experiment_get(&b, t.s, "vision"), 0);
    ck_assert_str_eq(b->id, "1");
    mlops_experiment_free(b);
    tu_assert_err(mlops_experiment_get(&b, t.s, "nothing"), MLOPS_ENOTFOUND);
    /* rename frees the old name and takes the new one */
    ck_assert_int_eq(mlops_experiment_rename(t.s, "1", "vision-v2"), 0);
    tu_assert_err(mlops_experiment_get(&b, t.s, "vision"), MLOPS_ENOTFOUND);
    ck_assert_int_eq(mlops_experiment_get(&b, t.s, "vision-v2"), 0);
    ck_assert_str_eq(b->id, "1");
    mlops_experiment_free(b);
    tu_assert_err(mlops_experiment_rename(t.s, "1", "nlp"), MLOPS_EEXISTS);
    /* tags */
    ck_assert_int_eq(mlops_experiment_set_tag(t.s, "2", "team", "search"), 0);
    ck_assert_int_eq(mlops_experiment_get(&b, t.s, "2"), 0);
    ck_assert_uint_eq(b->ntags, 1);
    ck_assert_str_eq(b->tags[0].key, "team");
    ck_assert_str_eq(b->tags[0].value, "search");
    mlops_experiment_free(b);
    /* soft delete hides it from the list, restore brings it back */
    ck_assert_int_eq(mlops_experiment_delete(t.s, "2"), 0);
    mlops_experiment **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_experiment_list(&list, &n, t.s, 0), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0]->id, "1");
    mlops_experiment_list_free(list, n);
    ck_assert_int_eq(mlops_experiment_list(&list, &n, t.s, 1), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(list[1]->lifecycle, MLOPS_LIFECYCLE_DELETED);
    mlops_experiment_list_free(list, n);
    ck_assert_int_eq(mlops_experiment_restore(t.s, "2"), 0);
    ck_assert_int_eq(mlops_experiment_get(&b, t.s, "2"), 0);
    ck_assert_int_eq(b->lifecycle, MLOPS_LIFECYCLE_ACTIVE);
    mlops_experiment_free(b);
    mlops_experiment_free(a);
    mlops_experiment_free(c);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(experiment_bad_input)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    char long_name[300];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    tu_assert_err(mlops_experiment_create(&e, t.s, ""), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_create(&e, t.s, long_name), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_create(&e, t.s, "a\nb"), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_create(&e, t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_create(NULL, t.s, "x"), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_delete(t.s, "99"), MLOPS_ENOTFOUND);
    ck_assert_int_eq(mlops_experiment_create(&e, t.s, "ok"), 0);
    tu_assert_err(mlops_experiment_set_tag(t.s, e->id, "../x", "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_set_tag(t.s, e->id, "bad*key", "v"), MLOPS_EINVALID);
    mlops_experiment_free(e);
    /* nothing was written by the refused calls: one experiment only */
    mlops_experiment **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_experiment_list(&list, &n, t.s, 1), 0);
    ck_assert_uint_eq(n, 1);
    mlops_experiment_list_free(list, n);
    tu_store_destroy(&t);
}
END_TEST

static int is_hex32(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

START_TEST(run_lifecycle)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_kv tags[1] = { { (char *)"owner", (char *)"ada" } };
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.run_name = "first";
    o.tags = tags;
    o.ntags = 1;
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, &o), 0);
    const char *id = mlops_run_id(run);
    ck_assert(is_hex32(id));
    char run_id[33];
    strcpy(run_id, id);
    ck_assert_int_eq(mlops_run_log_param(run, "lr", "0.01"), 0);
    ck_assert_int_eq(mlops_run_log_param(run, "lr", "0.01"), 0); /* same value: fine */
    tu_assert_err(mlops_run_log_param(run, "lr", "0.02"), MLOPS_ECONFLICT);
    ck_assert_int_eq(mlops_run_set_tag(run, "stage", "dev"), 0);
    ck_assert_int_eq(mlops_run_log_metric(run, "loss", 0.5, 1, 1000), 0);
    ck_assert_int_eq(mlops_run_log_metric(run, "loss", 0.25, 2, 2000), 0);
    ck_assert_int_eq(mlops_run_end(run, MLOPS_RUN_FINISHED), 0);
    tu_assert_err(mlops_run_log_param(run, "x", "1"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(run, "loss", 1, 3, 3000), MLOPS_EINVALID);
    tu_assert_err(mlops_run_end(run, MLOPS_RUN_FINISHED), MLOPS_EINVALID);
    mlops_run_free(run);

    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, run_id), 0);
    ck_assert_str_eq(info->run_name, "first");
    ck_assert_str_eq(info->experiment_id, e->id);
    ck_assert_int_eq(info->status, MLOPS_RUN_FINISHED);
    ck_assert(info->end_time >= info->start_time && info->start_time > 0);
    ck_assert_uint_eq(info->nparams, 1);
    ck_assert_str_eq(info->params[0].value, "0.01");
    ck_assert_uint_eq(info->ntags, 2);
    ck_assert_str_eq(info->tags[0].key, "owner");
    ck_assert_str_eq(info->tags[1].key, "stage");
    ck_assert_uint_eq(info->nmetrics, 1);
    ck_assert_str_eq(info->metrics[0].key, "loss");
    ck_assert(info->metrics[0].value == 0.25 && info->metrics[0].step == 2);
    mlops_run_info_free(info);

    /* soft delete and restore */
    ck_assert_int_eq(mlops_run_delete(t.s, run_id), 0);
    ck_assert_int_eq(mlops_run_get(&info, t.s, run_id), 0);
    ck_assert_int_eq(info->lifecycle, MLOPS_LIFECYCLE_DELETED);
    mlops_run_info_free(info);
    ck_assert_int_eq(mlops_run_restore(t.s, run_id), 0);
    mlops_experiment_free(e);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(run_bad_input)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_run *run = NULL;
    tu_assert_err(mlops_run_start(&run, t.s, "77", NULL), MLOPS_ENOTFOUND);
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.parent_run_id = "0123456789abcdef0123456789abcdef";
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_ENOTFOUND);
    o = (mlops_run_options)MLOPS_RUN_OPTIONS_INIT;
    o.version = 99;
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_run_get(NULL, t.s, "x"), MLOPS_EINVALID);
    mlops_run_info *info = NULL;
    tu_assert_err(mlops_run_get(&info, t.s, "not-a-run-id"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_get(&info, t.s, "0123456789abcdef0123456789abcdef"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_run_resume(&run, t.s, "0123456789abcdef0123456789abcdef"), MLOPS_ENOTFOUND);

    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, NULL), 0);
    char key251[252], value[8002];
    memset(key251, 'k', 251);
    key251[251] = '\0';
    memset(value, 'v', 8001);
    value[8001] = '\0';
    tu_assert_err(mlops_run_log_param(run, "", "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_param(run, key251, "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_param(run, "/abs", "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_param(run, "a/../b", "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_param(run, "tab\tkey", "v"), MLOPS_EINVALID);
    value[6001] = '\0';
    tu_assert_err(mlops_run_log_param(run, "p", value), MLOPS_EINVALID);
    value[6001] = 'v';
    tu_assert_err(mlops_run_set_tag(run, "t", value), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(run, "m", 1.0, 0, -5), MLOPS_EINVALID);
    tu_assert_err(mlops_run_end(run, MLOPS_RUN_RUNNING), MLOPS_EINVALID);
    /* nothing was written */
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(run)), 0);
    ck_assert_uint_eq(info->nparams, 0);
    ck_assert_uint_eq(info->ntags, 0);
    mlops_run_info_free(info);
    mlops_run_free(run);
    mlops_experiment_free(e);
    tu_store_destroy(&t);
}
END_TEST

/* A run left RUNNING by a crashed process is resumed and ended. */
START_TEST(run_resume_after_crash)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mlops_store *s = NULL;
        mlops_run *run = NULL;
        if (mlops_store_open(&s, t.dir, NULL) != 0 || mlops_run_start(&run, s, e->id, NULL) != 0)
            _exit(1);
        mlops_run_log_param(run, "seed", "42");
        for (int i = 0; i < 100; i++)
            mlops_run_log_metric(run, "acc", i / 100.0, i, 1000 + i);
        if (mlops_run_flush(run) != 0)
            _exit(2);
        if (write(fds[1], mlops_run_id(run), 32) != 32)
            _exit(3);
        for (;;)
            pause(); /* killed while the run is RUNNING */
    }
    char run_id[33] = { 0 };
    ck_assert_int_eq(read(fds[0], run_id, 32), 32);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_resume(&run, t.s, run_id), 0);
    ck_assert_int_eq(mlops_run_log_metric(run, "acc", 1.0, 100, 2000), 0);
    ck_assert_int_eq(mlops_run_end(run, MLOPS_RUN_KILLED), 0);
    mlops_run_free(run);
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, run_id), 0);
    ck_assert_int_eq(info->status, MLOPS_RUN_KILLED);
    ck_assert_str_eq(info->params[0].value, "42");
    ck_assert_uint_eq(info->nmetrics, 1);
    ck_assert(info->metrics[0].step == 100 && info->metrics[0].value == 1.0);
    mlops_run_info_free(info);
    mlops_metric_history h;
    ck_assert_int_eq(mlops_metric_history_get(&h, t.s, run_id, "acc", NULL), 0);
    ck_assert_uint_eq(h.n, 101);
    mlops_metric_history_free(&h);
    mlops_experiment_free(e);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(artifacts_file_and_directory)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, NULL), 0);
    char *dir = tu_mkdtemp();
    char *file = tu_path("%s/model.bin", dir);
    tu_write_file(file, "weights", 7);
    char *tree = tu_path("%s/ckpt", dir);
    ck_assert_int_eq(mkdir(tree, 0777), 0);
    char *f1 = tu_path("%s/a.txt", tree), *sub = tu_path("%s/sub", tree);
    ck_assert_int_eq(mkdir(sub, 0777), 0);
    char *f2 = tu_path("%s/b.txt", sub), *link = tu_path("%s/escape", tree);
    tu_write_file(f1, "A", 1);
    tu_write_file(f2, "BB", 2);
    ck_assert_int_eq(symlink("/etc/passwd", link), 0); /* never followed */
    mlops_oid id;
    char hex[65], want[65];
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, file, NULL), 0);
    mlops_oid fid = id;
    tu_hex(&id, hex);
    tu_sha256sum_file(file, want);
    ck_assert_str_eq(hex, want);
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, tree, "checkpoint"), 0);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, "../up"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(&id, run, "/no/such/file", NULL), MLOPS_ENOTFOUND);
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(run)), 0);
    ck_assert_uint_eq(info->nartifacts, 3);
    ck_assert_str_eq(info->artifacts[0].name, "checkpoint/a.txt");
    ck_assert_str_eq(info->artifacts[1].name, "checkpoint/sub/b.txt");
    ck_assert_uint_eq(info->artifacts[1].size, 2);
    ck_assert_str_eq(info->artifacts[2].name, "model.bin");
    mlops_run_info_free(info);
    /* gc keeps artifacts: the run record links to them */
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 0;
    mlops_gc_report gr;
    ck_assert_int_eq(mlops_store_gc(&gr, t.s, &go, NULL, NULL), 0);
    ck_assert_int_eq(mlops_object_exists(t.s, &fid), 1);
    void *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_object_get(&out, &n, t.s, &fid), 0);
    ck_assert(n == 7 && memcmp(out, "weights", 7) == 0);
    mlops_free(out);
    mlops_run_free(run);
    mlops_experiment_free(e);
    tu_rmrf(dir);
    free(dir); free(file); free(tree); free(f1); free(sub); free(f2); free(link);
    tu_store_destroy(&t);
}
END_TEST

typedef struct goc_arg {
    mlops_store *s;
    char id[MLOPS_EXPERIMENT_ID_MAX + 1];
    int rc;
} goc_arg;

static void *goc_thread(void *p)
{
    goc_arg *a = p;
    mlops_experiment *e = NULL;
    a->rc = mlops_experiment_get_or_create(&e, a->s, "shared-name");
    if (a->rc == 0)
        strcpy(a->id, e->id);
    mlops_experiment_free(e);
    return NULL;
}

START_TEST(get_or_create_races_to_one_id)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    pthread_t th[4];
    goc_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (goc_arg){ t.s, "", -1 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, goc_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].rc, 0);
        ck_assert_str_eq(args[i].id, args[0].id);
    }
    mlops_experiment **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_experiment_list(&list, &n, t.s, 1), 0);
    ck_assert_uint_eq(n, 1);
    mlops_experiment_list_free(list, n);
    tu_store_destroy(&t);
}
END_TEST

static Suite *track_records_suite(void)
{
    Suite *s = suite_create("track_records");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, experiment_lifecycle, 0, TU_KINDS);
    tcase_add_loop_test(tc, experiment_bad_input, 0, TU_KINDS);
    tcase_add_loop_test(tc, run_lifecycle, 0, TU_KINDS);
    tcase_add_loop_test(tc, run_bad_input, 0, TU_KINDS);
    tcase_add_test(tc, run_resume_after_crash);
    tcase_add_loop_test(tc, artifacts_file_and_directory, 0, TU_KINDS);
    tcase_add_loop_test(tc, get_or_create_races_to_one_id, 0, TU_KINDS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(track_records_suite());
}
