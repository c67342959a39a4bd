/* Tracking records: experiments, runs, params, tags, artifacts, and the
 * bad input each of them refuses. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fault.h"
#include "mlops/track.h"
#include "testutil.h"
#include "track/record.h"
#include "track/track_internal.h"

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
    /* one tree: a file where another artifact needs a directory, either way
     * round, is refused (the export could not lay both out) */
    tu_assert_err(mlops_run_log_artifact(&id, run, file, "checkpoint"), MLOPS_EEXISTS);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, "checkpoint/sub"), MLOPS_EEXISTS);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, "model.bin/inner"), MLOPS_EEXISTS);
    tu_assert_err(mlops_run_log_artifact(&id, run, tree, "model.bin"), MLOPS_EEXISTS);
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, file, "checkpoint-x"), 0); /* a sibling, not under it */
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, file, "checkpoint/a.txt"), 0); /* replaces the file */
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(run)), 0);
    ck_assert_uint_eq(info->nartifacts, 4);
    ck_assert_str_eq(info->artifacts[0].name, "checkpoint-x"); /* '-' sorts before '/' */
    ck_assert_str_eq(info->artifacts[1].name, "checkpoint/a.txt");
    ck_assert_uint_eq(info->artifacts[1].size, 7); /* replaced */
    mlops_run_info_free(info);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(run)), 0);
    ck_assert_uint_eq(info->nartifacts, 4);
    ck_assert_str_eq(info->artifacts[2].name, "checkpoint/sub/b.txt");
    ck_assert_uint_eq(info->artifacts[2].size, 2);
    ck_assert_str_eq(info->artifacts[3].name, "model.bin");
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

typedef struct rename_arg {
    mlops_store *s;
    const char *id;
    char name[48];
    pthread_barrier_t *go;
    int rc;
} rename_arg;

static void *rename_thread(void *p)
{
    rename_arg *a = p;
    pthread_barrier_wait(a->go);
    a->rc = mlops_experiment_rename(a->s, a->id, a->name);
    return NULL;
}

/* Two renames of one experiment at once: the name it ends with is the only
 * one that finds it; the other new name and the old one are free again
 * (a rename once dropped the name it had read before its update, leaving
 * the other rename's claim behind). */
START_TEST(concurrent_renames_leave_one_name)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    pthread_barrier_t go;
    for (int round = 0; round < 40; round++) {
        char base[16];
        snprintf(base, sizeof base, "e%d", round);
        mlops_experiment *e = NULL;
        ck_assert_int_eq(mlops_experiment_create(&e, t.s, base), 0);
        rename_arg args[2];
        pthread_t th[2];
        ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
        for (int k = 0; k < 2; k++) {
            args[k] = (rename_arg){ t.s, e->id, "", &go, -1 };
            snprintf(args[k].name, sizeof args[k].name, "%s-%c", base, 'B' + k);
            ck_assert_int_eq(pthread_create(&th[k], NULL, rename_thread, &args[k]), 0);
        }
        for (int k = 0; k < 2; k++) {
            pthread_join(th[k], NULL);
            ck_assert_msg(args[k].rc == 0, "round %d: %s", round, mlops_error_last());
        }
        pthread_barrier_destroy(&go);
        mlops_experiment *now = NULL;
        ck_assert_int_eq(mlops_experiment_get(&now, t.s, e->id), 0);
        ck_assert(strcmp(now->name, args[0].name) == 0 || strcmp(now->name, args[1].name) == 0);
        for (int k = 0; k < 3; k++) {
            const char *name = k < 2 ? args[k].name : base;
            mlops_experiment *found = NULL;
            int rc = mlops_experiment_get(&found, t.s, name);
            if (strcmp(name, now->name) == 0) {
                ck_assert_int_eq(rc, 0);
                ck_assert_str_eq(found->id, e->id);
            } else {
                ck_assert_msg(rc == MLOPS_ENOTFOUND, "round %d: '%s' still finds experiment %s", round, name,
                              found ? found->id : "?");
            }
            mlops_experiment_free(found);
        }
        mlops_experiment_free(now);
        mlops_experiment_free(e);
    }
    tu_store_destroy(&t);
}
END_TEST

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

/* ---- validation ------------------------------------------------------ */

START_TEST(validation_rules)
{
    char k250[251], k251[252];
    memset(k250, 'k', 250);
    k250[250] = '\0';
    memset(k251, 'k', 251);
    k251[251] = '\0';
    const char *good_keys[] = { "a", "train/loss", "a.b-c_d e:f", "..a", "a..", "x/..y/z", k250 };
    for (size_t i = 0; i < sizeof good_keys / sizeof *good_keys; i++)
        ck_assert_msg(mlops__track_check_key(good_keys[i], "key") == 0, "'%s': %s", good_keys[i],
                      mlops_error_last());
    const char *bad_keys[] = { "", k251, "/a", "..", "a/..", "../a", "a/../b", ".", "a/./b", "./a",
                               "a//b", "a/", "tab\tkey", "new\nline", "star*", "caf\xc3\xa9", "q?" };
    for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++)
        tu_assert_err(mlops__track_check_key(bad_keys[i], "key"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_key(NULL, "key"), MLOPS_EINVALID);

    char n250[251];
    memset(n250, 'n', 250);
    n250[250] = '\0';
    ck_assert_int_eq(mlops__track_check_name("any * name, even \xc3\xa9", "name"), 0);
    ck_assert_int_eq(mlops__track_check_name(n250, "name"), 0);
    tu_assert_err(mlops__track_check_name(k251, "name"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_name("", "name"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_name("a\x7f", "name"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_name("a\rb", "name"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_name(NULL, "name"), MLOPS_EINVALID);

    char *v = tu_xmalloc(MLOPS_TAG_VALUE_MAX + 2);
    memset(v, 'v', MLOPS_TAG_VALUE_MAX + 1);
    v[MLOPS_PARAM_VALUE_MAX] = '\0';
    ck_assert_int_eq(mlops__track_check_value(v, MLOPS_PARAM_VALUE_MAX, "value"), 0);
    ck_assert_int_eq(mlops__track_check_value("", MLOPS_PARAM_VALUE_MAX, "value"), 0);
    v[MLOPS_PARAM_VALUE_MAX] = 'v';
    v[MLOPS_PARAM_VALUE_MAX + 1] = '\0';
    tu_assert_err(mlops__track_check_value(v, MLOPS_PARAM_VALUE_MAX, "value"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_value(NULL, MLOPS_PARAM_VALUE_MAX, "value"), MLOPS_EINVALID);
    free(v);

    ck_assert_int_eq(mlops__track_check_run_id("0123456789abcdef0123456789abcdef"), 0);
    tu_assert_err(mlops__track_check_run_id("0123456789ABCDEF0123456789abcdef"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_run_id("0123456789abcdef0123456789abcde"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_run_id("0123456789abcdef0123456789abcdef0"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_run_id("0123456789abcdef0123456789abcdeg"), MLOPS_EINVALID);
    tu_assert_err(mlops__track_check_run_id(NULL), MLOPS_EINVALID);

    int64_t now = mlops__track_now_ms();
    ck_assert(now > 1600000000000LL && now < 5000000000000LL);

    /* statuses */
    ck_assert_str_eq(mlops_run_status_name(MLOPS_RUN_RUNNING), "RUNNING");
    ck_assert_str_eq(mlops_run_status_name(MLOPS_RUN_KILLED), "KILLED");
    ck_assert_ptr_null(mlops_run_status_name(0));
    ck_assert_ptr_null(mlops_run_status_name(6));
    int st = 0;
    ck_assert_int_eq(mlops_run_status_parse(&st, "finished"), 0);
    ck_assert_int_eq(st, MLOPS_RUN_FINISHED);
    ck_assert_int_eq(mlops_run_status_parse(&st, "Scheduled"), 0);
    ck_assert_int_eq(st, MLOPS_RUN_SCHEDULED);
    tu_assert_err(mlops_run_status_parse(&st, "DONE"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_status_parse(&st, NULL), MLOPS_EINVALID);

    mlops_run_options o;
    ck_assert_int_eq(mlops_run_options_init(&o, MLOPS_RUN_OPTIONS_VERSION), 0);
    ck_assert_uint_eq(o.version, MLOPS_RUN_OPTIONS_VERSION);
    ck_assert_ptr_null(o.run_name);
    tu_assert_err(mlops_run_options_init(&o, 2), MLOPS_EINVALID);
    tu_assert_err(mlops_run_options_init(NULL, MLOPS_RUN_OPTIONS_VERSION), MLOPS_EINVALID);
}
END_TEST

/* ---- the record codec ------------------------------------------------ */

static mlops_run_info *sample_info(void)
{
    static char *keys[] = { "a", "b/c", "z" };
    mlops_run_info *r = calloc(1, sizeof *r);
    strcpy(r->run_id, "00112233445566778899aabbccddeeff");
    strcpy(r->experiment_id, "12");
    r->run_name = "run name";
    r->user = "ada";
    strcpy(r->parent_run_id, "ffeeddccbbaa99887766554433221100");
    r->status = MLOPS_RUN_FAILED;
    r->lifecycle = MLOPS_LIFECYCLE_DELETED;
    r->start_time = 1700000000000LL;
    r->end_time = 1700000000123LL;
    r->params = calloc(3, sizeof *r->params);
    r->tags = calloc(3, sizeof *r->tags);
    r->metrics = calloc(3, sizeof *r->metrics);
    r->artifacts = calloc(2, sizeof *r->artifacts);
    for (int i = 0; i < 3; i++) {
        r->params[i] = (mlops_kv){ keys[i], i == 1 ? "" : "v" };
        r->tags[i] = (mlops_kv){ keys[i], "tag value" };
        r->metrics[i].key = keys[i];
        r->metrics[i].step = -5 + i;
        r->metrics[i].timestamp = INT64_MAX - i;
    }
    r->nparams = r->ntags = r->nmetrics = 3;
    uint64_t nan_payload = 0x7ff8000000abcdefULL;
    memcpy(&r->metrics[0].value, &nan_payload, 8);
    r->metrics[1].value = -0.0;
    r->metrics[2].value = -1.0 / 0.0;
    r->artifacts[0] = (mlops_artifact){ "dir/f", { { 1, 2, 3 } }, 77 };
    r->artifacts[1] = (mlops_artifact){ "model.bin", { { 9 } }, UINT64_MAX };
    r->nartifacts = 2;
    return r;
}

static void sample_free(mlops_run_info *r)
{
    free(r->params);
    free(r->tags);
    free(r->metrics);
    free(r->artifacts);
    free(r);
}

START_TEST(record_run_roundtrip)
{
    mlops_run_info *r = sample_info();
    mlops__buf b = MLOPS__BUF_INIT, again = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__run_info_encode(&b, r), 0);
    mlops_run_info *d = NULL;
    ck_assert_int_eq(mlops__run_info_decode(&d, b.ptr, b.len), 0);
    ck_assert_str_eq(d->run_id, r->run_id);
    ck_assert_str_eq(d->experiment_id, "12");
    ck_assert_str_eq(d->run_name, "run name");
    ck_assert_str_eq(d->user, "ada");
    ck_assert_str_eq(d->parent_run_id, r->parent_run_id);
    ck_assert_int_eq(d->status, MLOPS_RUN_FAILED);
    ck_assert_int_eq(d->lifecycle, MLOPS_LIFECYCLE_DELETED);
    ck_assert(d->start_time == r->start_time && d->end_time == r->end_time);
    ck_assert_uint_eq(d->nparams, 3);
    ck_assert_str_eq(d->params[1].key, "b/c");
    ck_assert_str_eq(d->params[1].value, "");
    ck_assert_uint_eq(d->ntags, 3);
    ck_assert_uint_eq(d->nmetrics, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert(memcmp(&d->metrics[i].value, &r->metrics[i].value, 8) == 0); /* bit-exact */
        ck_assert(d->metrics[i].step == r->metrics[i].step);
        ck_assert(d->metrics[i].timestamp == r->metrics[i].timestamp);
    }
    ck_assert_uint_eq(d->nartifacts, 2);
    ck_assert_str_eq(d->artifacts[1].name, "model.bin");
    ck_assert(d->artifacts[1].size == UINT64_MAX);
    ck_assert(memcmp(&d->artifacts[0].id, &r->artifacts[0].id, sizeof(mlops_oid)) == 0);
    /* canonical: decoding and encoding again gives the same bytes */
    ck_assert_int_eq(mlops__run_info_encode(&again, d), 0);
    ck_assert(again.len == b.len && memcmp(again.ptr, b.ptr, b.len) == 0);
    mlops_run_info_free(d);
    mlops__buf_dispose(&again);

    /* a truncation is refused, unless it falls between two repeated
     * fields: then it is a shorter but canonical record */
    size_t accepted = 0;
    for (size_t n = 0; n < b.len; n++) {
        d = NULL;
        int rc = mlops__run_info_decode(&d, b.ptr, n);
        if (rc == 0) {
            mlops__buf e = MLOPS__BUF_INIT;
            ck_assert_int_eq(mlops__run_info_encode(&e, d), 0);
            ck_assert_msg(e.len == n && memcmp(e.ptr, b.ptr, n) == 0, "prefix %zu", n);
            mlops__buf_dispose(&e);
            mlops_run_info_free(d);
            accepted++;
            continue;
        }
        ck_assert_msg(rc == MLOPS_ECORRUPT, "prefix %zu: %d", n, rc);
        ck_assert_ptr_null(d);
    }
    ck_assert_uint_eq(accepted, 11); /* 3 params, 3 tags, 3 metrics, 2 artifacts */
    ck_assert_int_eq(mlops__buf_put(&b, "x", 1), 0);
    tu_assert_err(mlops__run_info_decode(&d, b.ptr, b.len), MLOPS_ECORRUPT);
    b.len--;

    /* every single-byte change either fails cleanly or decodes to a record
     * that encodes back to exactly the changed bytes (one encoding each) */
    unsigned char *copy = tu_xmalloc(b.len);
    static const unsigned char deltas[] = { 0x01, 0x80, 0xff, 0x20 };
    for (size_t i = 0; i < b.len; i++)
        for (size_t k = 0; k < sizeof deltas; k++) {
            memcpy(copy, b.ptr, b.len);
            copy[i] ^= deltas[k];
            d = NULL;
            int rc = mlops__run_info_decode(&d, copy, b.len);
            if (rc == 0) {
                mlops__buf e = MLOPS__BUF_INIT;
                ck_assert_int_eq(mlops__run_info_encode(&e, d), 0);
                ck_assert_msg(e.len == b.len && memcmp(e.ptr, copy, b.len) == 0, "byte %zu ^ %02x", i, deltas[k]);
                mlops__buf_dispose(&e);
                mlops_run_info_free(d);
            } else {
                ck_assert_msg(rc == MLOPS_ECORRUPT || rc == MLOPS_EUNSUPPORTED, "byte %zu: %d", i, rc);
            }
        }
    free(copy);
    mlops__buf_dispose(&b);

    /* the encoder refuses what the decoder would refuse */
    mlops_kv swap = r->params[0];
    r->params[0] = r->params[2];
    r->params[2] = swap;
    tu_assert_err(mlops__run_info_encode(&b, r), MLOPS_EINVALID);
    r->params[2] = r->params[0];
    r->params[0] = swap;
    r->metrics[1].key = "a"; /* repeated key */
    mlops__buf_clear(&b);
    tu_assert_err(mlops__run_info_encode(&b, r), MLOPS_EINVALID);
    r->metrics[1].key = "b/c";
    r->status = 9;
    mlops__buf_clear(&b);
    tu_assert_err(mlops__run_info_encode(&b, r), MLOPS_EINVALID);
    r->status = MLOPS_RUN_RUNNING;
    strcpy(r->run_id, "xyz");
    mlops__buf_clear(&b);
    tu_assert_err(mlops__run_info_encode(&b, r), MLOPS_EINVALID);
    mlops__buf_dispose(&b);
    sample_free(r);

    /* hand-made bad records */
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        { "", 0 },                                  /* no fields */
        { "i\0\0\0\0", 5 },                         /* no version first */
        { "v\1\0\0\0" "2", 6 },                     /* newer version */
        { "v\2\0\0\0" "01", 7 },                    /* non-canonical number */
        { "v\1\0\0\0" "1" "v\1\0\0\0" "1", 12 },    /* repeated field */
        { "v\1\0\0\0" "1" "?\0\0\0\0", 11 },        /* unknown field */
        { "v\377\377\377\377" "1", 6 },             /* length overruns */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        d = NULL;
        int rc = mlops__run_info_decode(&d, bad[i].bytes, bad[i].len);
        ck_assert_msg(rc == MLOPS_ECORRUPT || (i == 2 && rc == MLOPS_EUNSUPPORTED), "bad record %zu: %d", i, rc);
        ck_assert_ptr_null(d);
    }
}
END_TEST

START_TEST(record_experiment_roundtrip)
{
    mlops_kv tags[2] = { { "a", "1" }, { "b", "" } };
    mlops_experiment e = { "42", "my experiment", MLOPS_LIFECYCLE_DELETED, 5, 6, tags, 2 };
    mlops__buf b = MLOPS__BUF_INIT, again = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__experiment_encode(&b, &e), 0);
    mlops_experiment *d = NULL;
    ck_assert_int_eq(mlops__experiment_decode(&d, b.ptr, b.len), 0);
    ck_assert_str_eq(d->id, "42");
    ck_assert_str_eq(d->name, "my experiment");
    ck_assert_int_eq(d->lifecycle, MLOPS_LIFECYCLE_DELETED);
    ck_assert(d->creation_time == 5 && d->last_update_time == 6);
    ck_assert_uint_eq(d->ntags, 2);
    ck_assert_str_eq(d->tags[1].key, "b");
    ck_assert_int_eq(mlops__experiment_encode(&again, d), 0);
    ck_assert(again.len == b.len && memcmp(again.ptr, b.ptr, b.len) == 0);
    mlops_experiment_free(d);
    for (size_t n = 0; n < b.len; n++) {
        d = NULL;
        int rc = mlops__experiment_decode(&d, b.ptr, n);
        ck_assert_msg(rc == MLOPS_ECORRUPT || (rc == 0 && d->ntags < 2), "prefix %zu: %d", n, rc);
        mlops_experiment_free(d);
    }
    /* a run record is not an experiment record */
    mlops_run_info *r = sample_info();
    mlops__buf rb = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__run_info_encode(&rb, r), 0);
    tu_assert_err(mlops__experiment_decode(&d, rb.ptr, rb.len), MLOPS_ECORRUPT);
    mlops__buf_dispose(&rb);
    sample_free(r);
    tags[1].key = "a";
    mlops__buf_clear(&again);
    tu_assert_err(mlops__experiment_encode(&again, &e), MLOPS_EINVALID);
    mlops__buf_dispose(&b);
    mlops__buf_dispose(&again);
}
END_TEST

START_TEST(kv_arrays)
{
    mlops_kv *kv = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops__kv_set(&kv, &n, "m", "1"), 0);
    ck_assert_int_eq(mlops__kv_set(&kv, &n, "a", "2"), 0);
    ck_assert_int_eq(mlops__kv_set(&kv, &n, "z", "3"), 0);
    ck_assert_int_eq(mlops__kv_set(&kv, &n, "m", "4"), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[1].value, "4");
    ck_assert_str_eq(mlops__kv_find(kv, n, "z")->value, "3");
    ck_assert_ptr_null(mlops__kv_find(kv, n, "q"));
    ck_assert_int_eq(mlops__kv_set(&kv, &n, "m", NULL), 0);
    ck_assert_int_eq(mlops__kv_set(&kv, &n, "absent", NULL), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(kv[1].key, "z");
    mlops__kv_free(kv, n);
}
END_TEST

/* A damaged record behind a run ref reads as ECORRUPT, not a crash. */
START_TEST(corrupt_record_in_store)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    const char *rid = "00112233445566778899aabbccddeeff";
    mlops_oid bogus, plain = tu_put_str(t.s, "not structured");
    ck_assert_int_eq(mlops_object_put_structured(&bogus, t.s, "track.run", NULL, 0, "v\1\0\0\0", 5), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "track/runs/00112233445566778899aabbccddeeff", &bogus, NULL), 0);
    mlops_run_info *info = NULL;
    tu_assert_err(mlops_run_get(&info, t.s, rid), MLOPS_ECORRUPT);
    mlops_oid other;
    ck_assert_int_eq(mlops_object_put_structured(&other, t.s, "track.experiment", NULL, 0, "x", 1), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, "track/runs/00112233445566778899aabbccddeeff", &other, &bogus), 0);
    tu_assert_err(mlops_run_get(&info, t.s, rid), MLOPS_ECORRUPT);
    ck_assert_int_eq(mlops_ref_set(t.s, "track/runs/00112233445566778899aabbccddeeff", &plain, &other), 0);
    tu_assert_err(mlops_run_get(&info, t.s, rid), MLOPS_ECORRUPT);
    ck_assert_ptr_null(info);
    /* a foreign ref under track/runs/ is no run */
    ck_assert_int_eq(mlops_ref_set(t.s, "track/runs/notes", &plain, NULL), 0);
    char **ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops__run_ids(&ids, &n, t.s), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], rid);
    mlops_string_list_free(ids, n);
    /* damaged experiment records and name index entries */
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_create(&e, t.s, "victim"), 0);
    char ref[128];
    snprintf(ref, sizeof ref, "track/experiments/%s", e->id);
    mlops_oid good;
    ck_assert_int_eq(mlops_ref_get(&good, t.s, ref), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, ref, &plain, &good), 0);
    mlops_experiment_free(e);
    tu_assert_err(mlops_experiment_get(&e, t.s, "1"), MLOPS_ECORRUPT);
    ck_assert_ptr_null(e);
    tu_assert_err(mlops_experiment_get(&e, t.s, "victim"), MLOPS_ECORRUPT);
    mlops_experiment **list = NULL;
    tu_assert_err(mlops_experiment_list(&list, &n, t.s, 1), MLOPS_ECORRUPT);
    ck_assert_int_eq(mlops_ref_set(t.s, ref, &good, &plain), 0);
    ck_assert_int_eq(mlops_experiment_get(&e, t.s, "victim"), 0);
    mlops_experiment_free(e);
    mlops_oid hash, idx;
    char hex[65];
    ck_assert_int_eq(mlops_oid_hash(&hash, "victim", 6), 0);
    tu_hex(&hash, hex);
    snprintf(ref, sizeof ref, "track/experiment-names/%s", hex);
    ck_assert_int_eq(mlops_ref_get(&idx, t.s, ref), 0);
    mlops_oid notid;
    ck_assert_int_eq(mlops_object_put_structured(&notid, t.s, "track.expname", NULL, 0, "1x", 2), 0);
    ck_assert_int_eq(mlops_ref_set(t.s, ref, &notid, &idx), 0);
    tu_assert_err(mlops_experiment_get(&e, t.s, "victim"), MLOPS_ECORRUPT);
    tu_assert_err(mlops_experiment_get_or_create(&e, t.s, "victim"), MLOPS_ECORRUPT);
    ck_assert_int_eq(mlops_ref_set(t.s, ref, &plain, &notid), 0);
    tu_assert_err(mlops_experiment_get(&e, t.s, "victim"), MLOPS_ECORRUPT);
    tu_store_destroy(&t);
}
END_TEST

/* ---- more experiments and runs ---------------------------------------- */

START_TEST(experiment_more)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    /* ids are numeric and listed in numeric order past 9 */
    for (int i = 1; i <= 12; i++) {
        char name[32];
        snprintf(name, sizeof name, "e%d", i);
        ck_assert_int_eq(mlops_experiment_create(&e, t.s, name), 0);
        char want[8];
        snprintf(want, sizeof want, "%d", i);
        ck_assert_str_eq(e->id, want);
        ck_assert(e->creation_time > 0 && e->last_update_time == e->creation_time);
        mlops_experiment_free(e);
    }
    mlops_experiment **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_experiment_list(&list, &n, t.s, 0), 0);
    ck_assert_uint_eq(n, 12);
    ck_assert_str_eq(list[8]->id, "9");
    ck_assert_str_eq(list[9]->id, "10");
    ck_assert_str_eq(list[11]->name, "e12");
    mlops_experiment_list_free(list, n);
    /* a name made of digits is found by name when no such id exists */
    ck_assert_int_eq(mlops_experiment_create(&e, t.s, "2024"), 0);
    ck_assert_str_eq(e->id, "13");
    mlops_experiment_free(e);
    ck_assert_int_eq(mlops_experiment_get(&e, t.s, "2024"), 0);
    ck_assert_str_eq(e->id, "13");
    mlops_experiment_free(e);
    /* any printable name works, it only becomes a hash in a ref name */
    ck_assert_int_eq(mlops_experiment_create(&e, t.s, "../weird name/ *?"), 0);
    mlops_experiment_free(e);
    ck_assert_int_eq(mlops_experiment_get(&e, t.s, "../weird name/ *?"), 0);
    mlops_experiment_free(e);
    /* tag removal, experiment tag limit is MLflow's 5000 */
    ck_assert_int_eq(mlops_experiment_set_tag(t.s, "1", "k", "v"), 0);
    ck_assert_int_eq(mlops_experiment_set_tag(t.s, "1", "k", NULL), 0);
    ck_assert_int_eq(mlops_experiment_get(&e, t.s, "1"), 0);
    ck_assert_uint_eq(e->ntags, 0);
    mlops_experiment_free(e);
    char *big = tu_xmalloc(5002);
    memset(big, 'x', 5001);
    big[5001] = '\0';
    tu_assert_err(mlops_experiment_set_tag(t.s, "1", "k", big), MLOPS_EINVALID);
    big[5000] = '\0';
    ck_assert_int_eq(mlops_experiment_set_tag(t.s, "1", "k", big), 0);
    free(big);
    /* unknown experiments */
    tu_assert_err(mlops_experiment_get(&e, t.s, "99"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_experiment_rename(t.s, "99", "x"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_experiment_restore(t.s, "99"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_experiment_set_tag(t.s, "99", "k", "v"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_experiment_delete(t.s, "abc"), MLOPS_ENOTFOUND);
    /* bad new names; renaming to itself is a no-op */
    tu_assert_err(mlops_experiment_rename(t.s, "1", ""), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_rename(t.s, "1", "a\tb"), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_experiment_rename(t.s, "1", "e1"), 0);
    ck_assert_int_eq(mlops_experiment_get(&e, t.s, "e1"), 0);
    mlops_experiment_free(e);
    /* a renamed-away name is free again */
    ck_assert_int_eq(mlops_experiment_rename(t.s, "1", "first"), 0);
    ck_assert_int_eq(mlops_experiment_create(&e, t.s, "e1"), 0);
    ck_assert_str_eq(e->id, "15");
    mlops_experiment_free(e);
    /* NULL arguments */
    tu_assert_err(mlops_experiment_get(NULL, t.s, "1"), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_get(&e, NULL, "1"), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_get_or_create(&e, t.s, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_list(NULL, &n, t.s, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_experiment_delete(t.s, NULL), MLOPS_EINVALID);
    mlops_experiment_free(NULL);
    mlops_experiment_list_free(NULL, 0);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* Without $USER a run records the effective user's login name, as
 * MLflow's getpass.getuser() does. */
START_TEST(run_user_default)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    char *saved = getenv("USER") ? strdup(getenv("USER")) : NULL;
    unsetenv("USER");
    mlops_run *r = NULL;
    ck_assert_int_eq(mlops_run_start(&r, t.s, e->id, NULL), 0);
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(r)), 0);
    struct passwd *pw = getpwuid(geteuid());
    ck_assert_str_eq(info->user, pw && pw->pw_name[0] ? pw->pw_name : "unknown");
    mlops_run_info_free(info);
    mlops_run_free(r);
    if (saved)
        setenv("USER", saved, 1);
    free(saved);
    mlops_experiment_free(e);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(run_details)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    setenv("USER", "grace", 1);
    mlops_run *parent = NULL, *child = NULL;
    ck_assert_int_eq(mlops_run_start(&parent, t.s, e->id, NULL), 0);
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.parent_run_id = mlops_run_id(parent);
    o.start_time = 1234;
    ck_assert_int_eq(mlops_run_start(&child, t.s, e->id, &o), 0);
    ck_assert_str_ne(mlops_run_id(parent), mlops_run_id(child));
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(child)), 0);
    ck_assert_str_eq(info->parent_run_id, mlops_run_id(parent));
    ck_assert_str_eq(info->user, "grace");
    ck_assert(info->start_time == 1234 && info->end_time == 0);
    ck_assert_int_eq(info->status, MLOPS_RUN_RUNNING);
    /* generated name: run-<first 8 hex of the id> */
    char want[16];
    snprintf(want, sizeof want, "run-%.8s", mlops_run_id(child));
    ck_assert_str_eq(info->run_name, want);
    mlops_run_info_free(info);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(parent)), 0);
    ck_assert_str_eq(info->parent_run_id, "");
    mlops_run_info_free(info);

    /* the conflict message names the key and both values */
    ck_assert_int_eq(mlops_run_log_param(child, "optimizer", "adam"), 0);
    tu_assert_err(mlops_run_log_param(child, "optimizer", "sgd"), MLOPS_ECONFLICT);
    ck_assert(strstr(mlops_error_last(), "optimizer") && strstr(mlops_error_last(), "adam") &&
              strstr(mlops_error_last(), "sgd"));
    /* tags can change and be removed */
    ck_assert_int_eq(mlops_run_set_tag(child, "t", "1"), 0);
    ck_assert_int_eq(mlops_run_set_tag(child, "t", "2"), 0);
    ck_assert_int_eq(mlops_run_set_tag(child, "gone", "x"), 0);
    ck_assert_int_eq(mlops_run_set_tag(child, "gone", NULL), 0);
    ck_assert_int_eq(mlops_run_set_tag(child, "never", NULL), 0);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(child)), 0);
    ck_assert_uint_eq(info->ntags, 1);
    ck_assert_str_eq(info->tags[0].value, "2");
    mlops_run_info_free(info);

    /* a handle resumed before another one ended the run learns it from
     * the record */
    mlops_run *other = NULL;
    ck_assert_int_eq(mlops_run_resume(&other, t.s, mlops_run_id(child)), 0);
    ck_assert_str_eq(mlops_run_id(other), mlops_run_id(child));
    ck_assert_int_eq(mlops_run_end(child, MLOPS_RUN_FAILED), 0);
    tu_assert_err(mlops_run_log_param(other, "late", "1"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_set_tag(other, "late", "1"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_end(other, MLOPS_RUN_FINISHED), MLOPS_EINVALID);
    mlops_run_free(other);
    /* resuming an ended run gives a handle that refuses logging */
    ck_assert_int_eq(mlops_run_resume(&other, t.s, mlops_run_id(child)), 0);
    tu_assert_err(mlops_run_log_param(other, "late", "1"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_metric(other, "m", 1, 1, -1), MLOPS_EINVALID);
    tu_assert_err(mlops_run_end(other, MLOPS_RUN_KILLED), MLOPS_EINVALID);
    mlops_run_free(other);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(child)), 0);
    ck_assert_int_eq(info->status, MLOPS_RUN_FAILED);
    ck_assert(info->end_time >= 1234);
    ck_assert_uint_eq(info->nparams, 1);
    mlops_run_info_free(info);

    /* a deleted experiment takes no new runs; a deleted run is restored */
    ck_assert_int_eq(mlops_run_delete(t.s, mlops_run_id(parent)), 0);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(parent)), 0);
    ck_assert_int_eq(info->lifecycle, MLOPS_LIFECYCLE_DELETED);
    mlops_run_info_free(info);
    ck_assert_int_eq(mlops_run_restore(t.s, mlops_run_id(parent)), 0);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(parent)), 0);
    ck_assert_int_eq(info->lifecycle, MLOPS_LIFECYCLE_ACTIVE);
    mlops_run_info_free(info);
    tu_assert_err(mlops_run_delete(t.s, "0123456789abcdef0123456789abcdef"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_run_restore(t.s, "nope"), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_experiment_delete(t.s, e->id), 0);
    mlops_run *r3 = NULL;
    tu_assert_err(mlops_run_start(&r3, t.s, e->id, NULL), MLOPS_EINVALID);
    ck_assert_ptr_null(r3);

    /* the run list */
    char **ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops__run_ids(&ids, &n, t.s), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_lt(strcmp(ids[0], ids[1]), 0);
    mlops_string_list_free(ids, n);

    /* NULL handles */
    tu_assert_err(mlops_run_log_param(NULL, "k", "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_set_tag(NULL, "k", "v"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_end(NULL, MLOPS_RUN_FINISHED), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(NULL, NULL, "x", NULL), MLOPS_EINVALID);
    ck_assert_ptr_null(mlops_run_id(NULL));
    mlops_run_free(NULL);
    mlops_run_info_free(NULL);

    mlops_run_free(child);
    mlops_run_free(parent);
    mlops_experiment_free(e);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(run_start_bad_options)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_run *run = NULL;
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.run_name = "";
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    o.run_name = "line\nbreak";
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    o.run_name = NULL;
    o.start_time = -2;
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    o.start_time = 0;
    mlops_kv bad_tag[1] = { { (char *)"bad key!", (char *)"v" } };
    o.tags = bad_tag;
    o.ntags = 1;
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    o.tags = NULL;
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    o.ntags = 0;
    o.parent_run_id = "not-hex";
    tu_assert_err(mlops_run_start(&run, t.s, e->id, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_run_start(&run, t.s, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_run_start(NULL, t.s, e->id, NULL), MLOPS_EINVALID);
    ck_assert_ptr_null(run);
    /* nothing was written */
    char **ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops__run_ids(&ids, &n, t.s), 0);
    ck_assert_uint_eq(n, 0);
    mlops_string_list_free(ids, n);
    /* "" as parent means none */
    o.parent_run_id = "";
    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, &o), 0);
    mlops_run_free(run);
    mlops_experiment_free(e);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(artifacts_refused)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, NULL), 0);
    char *dir = tu_mkdtemp();
    char *tree = tu_path("%s/tree", dir), *good = tu_path("%s/tree/good.txt", dir),
         *badf = tu_path("%s/tree/bad*name", dir), *fifo = tu_path("%s/fifo", dir),
         *file = tu_path("%s/weights.bin", dir), *empty = tu_path("%s/empty", dir);
    ck_assert_int_eq(mkdir(tree, 0777), 0);
    ck_assert_int_eq(mkdir(empty, 0777), 0);
    tu_write_file(good, "good", 4);
    tu_write_file(badf, "bad", 3);
    tu_write_file(file, "v1", 2);
    ck_assert_int_eq(mkfifo(fifo, 0666), 0);
    mlops_oid id;
    /* one bad name refuses the whole tree: nothing lands in the record */
    tu_assert_err(mlops_run_log_artifact(&id, run, tree, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(&id, run, fifo, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, "/abs"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, "a//b"), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, ""), MLOPS_EINVALID);
    tu_assert_err(mlops_run_log_artifact(&id, run, NULL, NULL), MLOPS_EINVALID);
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(run)), 0);
    ck_assert_uint_eq(info->nartifacts, 0);
    mlops_run_info_free(info);
    /* the fifo inside a tree is skipped; logging a name again replaces it */
    unlink(badf);
    char *fifo2 = tu_path("%s/tree/pipe", dir);
    ck_assert_int_eq(mkfifo(fifo2, 0666), 0);
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, tree, "t"), 0);
    char *type = NULL;
    mlops_oid *links = NULL;
    size_t nlinks = 0, blen = 0;
    void *body = NULL;
    ck_assert_int_eq(mlops_object_get_structured(&type, &links, &nlinks, &body, &blen, t.s, &id), 0);
    ck_assert_str_eq(type, "track.artifact-dir");
    ck_assert_uint_eq(nlinks, 1);
    ck_assert_str_eq(body, "t/good.txt\n");
    mlops_free(type);
    mlops_free(links);
    mlops_free(body);
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, empty, NULL), 0); /* empty tree: an empty listing */
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, file, "w"), 0);
    tu_write_file(file, "version2", 8);
    ck_assert_int_eq(mlops_run_log_artifact(&id, run, file, "w"), 0);
    ck_assert_int_eq(mlops_run_get(&info, t.s, mlops_run_id(run)), 0);
    ck_assert_uint_eq(info->nartifacts, 2);
    ck_assert_str_eq(info->artifacts[0].name, "t/good.txt");
    ck_assert_str_eq(info->artifacts[1].name, "w");
    ck_assert_uint_eq(info->artifacts[1].size, 8);
    ck_assert(memcmp(&info->artifacts[1].id, &id, sizeof id) == 0);
    mlops_run_info_free(info);
    /* an ended run takes no artifacts */
    ck_assert_int_eq(mlops_run_end(run, MLOPS_RUN_FINISHED), 0);
    tu_assert_err(mlops_run_log_artifact(&id, run, file, NULL), MLOPS_EINVALID);
    mlops_run_free(run);
    mlops_experiment_free(e);
    tu_rmrf(dir);
    free(dir); free(tree); free(good); free(badf); free(fifo); free(file); free(empty); free(fifo2);
    tu_store_destroy(&t);
}
END_TEST

/* Two processes resume one run and log params and tags at once (the ranks
 * of a distributed job): every one of them lands. */
START_TEST(two_processes_log_to_one_run)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, NULL), 0);
    char run_id[33];
    strcpy(run_id, mlops_run_id(run));
    enum { PER = 40 };
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            mlops_store *s = NULL;
            mlops_run *r = NULL;
            if (mlops_store_open(&s, t.dir, NULL) != 0 || mlops_run_resume(&r, s, run_id) != 0)
                _exit(10);
            for (int i = 0; i < PER; i++) {
                char k[32], v[32];
                snprintf(k, sizeof k, "p%d/%d", p, i);
                snprintf(v, sizeof v, "%d", i * 7);
                if (mlops_run_log_param(r, k, v) != 0)
                    _exit(11);
                snprintf(k, sizeof k, "t%d/%d", p, i);
                if (mlops_run_set_tag(r, k, v) != 0)
                    _exit(12);
                if (mlops_run_log_param(r, "shared", "same") != 0) /* same value from both: fine */
                    _exit(13);
            }
            mlops_run_free(r);
            mlops_store_free(s);
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", p, status);
    }
    ck_assert_int_eq(mlops_run_end(run, MLOPS_RUN_FINISHED), 0);
    mlops_run_free(run);
    mlops_run_info *info = NULL;
    ck_assert_int_eq(mlops_run_get(&info, t.s, run_id), 0);
    ck_assert_uint_eq(info->nparams, 2 * PER + 1);
    ck_assert_uint_eq(info->ntags, 2 * PER);
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < PER; i++) {
            char k[32], v[32];
            snprintf(k, sizeof k, "p%d/%d", p, i);
            snprintf(v, sizeof v, "%d", i * 7);
            mlops_kv *kv = mlops__kv_find(info->params, info->nparams, k);
            ck_assert_msg(kv && strcmp(kv->value, v) == 0, "param %s", k);
            snprintf(k, sizeof k, "t%d/%d", p, i);
            ck_assert_ptr_nonnull(mlops__kv_find(info->tags, info->ntags, k));
        }
    ck_assert_int_eq(info->status, MLOPS_RUN_FINISHED);
    mlops_run_info_free(info);
    mlops_experiment_free(e);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* get_or_create from several processes: one experiment per name. */
START_TEST(get_or_create_across_processes)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pids[3];
    for (int p = 0; p < 3; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            mlops_store *s = NULL;
            mlops_experiment *e = NULL;
            if (mlops_store_open(&s, t.dir, NULL) != 0 || mlops_experiment_get_or_create(&e, s, "ranks") != 0)
                _exit(1);
            char id[MLOPS_EXPERIMENT_ID_MAX + 1] = { 0 };
            strcpy(id, e->id);
            if (write(fds[1], id, sizeof id) != (ssize_t)sizeof id)
                _exit(2);
            mlops_experiment_free(e);
            mlops_store_free(s);
            _exit(0);
        }
    }
    char ids[3][MLOPS_EXPERIMENT_ID_MAX + 1];
    for (int p = 0; p < 3; p++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_int_eq(read(fds[0], ids[p], sizeof ids[p]), (ssize_t)sizeof ids[p]);
    }
    close(fds[0]);
    close(fds[1]);
    ck_assert_str_eq(ids[0], ids[1]);
    ck_assert_str_eq(ids[1], ids[2]);
    mlops_experiment **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_experiment_list(&list, &n, t.s, 1), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0]->id, ids[0]);
    mlops_experiment_list_free(list, n);
    tu_store_destroy(&t);
}
END_TEST


/* A failed automatic append used to return an error for a point that was
 * in fact kept: a caller retrying it stored the point twice. */
START_TEST(failed_automatic_append_neither_loses_nor_duplicates)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    mlops_experiment *e = NULL;
    ck_assert_int_eq(mlops_experiment_get_or_create(&e, t.s, "exp"), 0);
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.buffer_points = 1; /* every point triggers an append */
    mlops_run *run = NULL;
    ck_assert_int_eq(mlops_run_start(&run, t.s, e->id, &o), 0);
    mlops__fault_arm(MLOPS__FAULT_WRITE, 1, EIO);
    ck_assert_int_eq(mlops_run_log_metric(run, "m", 1.5, 7, 1000), 0);
    mlops__fault_reset();
    ck_assert_int_eq(mlops_run_flush(run), 0);
    mlops_metric_history h;
    ck_assert_int_eq(mlops_metric_history_get(&h, t.s, mlops_run_id(run), "m", NULL), 0);
    ck_assert_uint_eq(h.n, 1);
    ck_assert(h.values[0] == 1.5 && h.steps[0] == 7);
    mlops_metric_history_free(&h);
    mlops_run_free(run);
    mlops_experiment_free(e);
    tu_verify_clean(t.s);
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
    tcase_add_test(tc, failed_automatic_append_neither_loses_nor_duplicates);
    tcase_add_loop_test(tc, artifacts_file_and_directory, 0, TU_KINDS);
    tcase_add_loop_test(tc, get_or_create_races_to_one_id, 0, TU_KINDS);
    tcase_add_loop_test(tc, concurrent_renames_leave_one_name, 0, TU_KINDS);
    tcase_add_test(tc, validation_rules);
    tcase_add_test(tc, record_run_roundtrip);
    tcase_add_test(tc, record_experiment_roundtrip);
    tcase_add_test(tc, kv_arrays);
    tcase_add_loop_test(tc, corrupt_record_in_store, 0, TU_KINDS);
    tcase_add_loop_test(tc, experiment_more, 0, TU_KINDS);
    tcase_add_loop_test(tc, run_details, 0, TU_KINDS);
    tcase_add_loop_test(tc, run_user_default, 0, TU_KINDS);
    tcase_add_loop_test(tc, run_start_bad_options, 0, TU_KINDS);
    tcase_add_loop_test(tc, artifacts_refused, 0, TU_KINDS);
    tcase_add_test(tc, two_processes_log_to_one_run);
    tcase_add_test(tc, get_or_create_across_processes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(track_records_suite());
}
