/* Model registry: export to MLflow's file-store registry layout
 * (lib/registry/export_mlflow.c). Expected file contents are written out
 * by hand from MLflow's format (docs/EXPORT-FORMATS.md §2); times, which
 * the registry chooses, are taken from the model and filled in. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlops/registry.h"
#include "testutil.h"

static char *slurp(const char *dir, const char *rel)
{
    char *p = tu_path("%s/%s", dir, rel);
    size_t len = 0;
    char *s = tu_read_file(p, &len);
    ck_assert_msg(s != NULL, "missing %s", p);
    free(p);
    return s;
}

static int exists(const char *dir, const char *rel)
{
    char *p = tu_path("%s/%s", dir, rel);
    struct stat st;
    int ok = lstat(p, &st) == 0;
    free(p);
    return ok;
}

/* When the history says version was deleted. */
static int64_t deletion_time(mlops_store *s, const char *model, uint64_t version)
{
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, s, model), 0);
    int64_t when = -1;
    for (size_t i = 0; i < n; i++)
        if (ev[i].kind == MLOPS_REGISTRY_VERSION_DELETED && ev[i].version == version)
            when = ev[i].time_ms;
    mlops_registry_history_free(ev, n);
    ck_assert(when > 0);
    return when;
}

START_TEST(layout_and_meta)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_registry_tag mtags[] = { { "team", "growth" }, { "area/sub", "x" } };
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "churn model", "it's \"fine\"", mtags, 2), 0);
    mlops_oid a1 = tu_put_str(t.s, "weights one"), a2 = tu_put_str(t.s, "weights two");
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    mlops_registry_tag vtags[] = { { "algo", "gbm" } };
    o.artifact = &a1;
    o.run_id = "0123456789abcdef0123456789abcdef";
    o.dataset = "customers@3";
    o.user = "alice";
    o.tags = vtags;
    o.ntags = 1;
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "churn model", &o), 0);
    mlops_registry_register_options o2 = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o2.artifact = &a2;
    o2.user = "bob";
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "churn model", &o2), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "churn model", "champion", 2), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "churn model", 1, "production", 0), 0);

    char *dest = tu_mkdtemp();
    ck_assert_msg(mlops_registry_export_mlflow(t.s, dest, NULL, 0) == 0, "%s", mlops_error_last());
    char *real = realpath(dest, NULL);
    ck_assert_ptr_nonnull(real);

    mlops_registry_model *m = NULL;
    ck_assert_int_eq(mlops_registry_get_model(&m, t.s, "churn model"), 0);
    char *want = tu_path("aliases:\n  'champion': '2'\ncreation_timestamp: %" PRId64 "\n"
                         "description: 'it''s \"fine\"'\nlast_updated_timestamp: %" PRId64 "\n"
                         "name: 'churn model'\n",
                         m->created_ms, m->updated_ms);
    char *got = slurp(dest, "models/churn model/meta.yaml");
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    mlops_registry_model_free(m);

    got = slurp(dest, "models/churn model/aliases/champion");
    ck_assert_str_eq(got, "2"); /* digits only: MLflow compares the text */
    free(got);
    got = slurp(dest, "models/churn model/tags/team");
    ck_assert_str_eq(got, "growth");
    free(got);
    got = slurp(dest, "models/churn model/tags/area/sub");
    ck_assert_str_eq(got, "x");
    free(got);

    mlops_registry_version *v = NULL;
    ck_assert_int_eq(mlops_registry_get_version(&v, t.s, "churn model", 1), 0);
    want = tu_path("aliases: []\ncreation_timestamp: %" PRId64 "\ncurrent_stage: 'Production'\n"
                   "description: null\nlast_updated_timestamp: %" PRId64 "\nname: 'churn model'\n"
                   "run_id: '0123456789abcdef0123456789abcdef'\nrun_link: null\n"
                   "source: 'file://%s/models/churn%%20model/version-1/artifacts/model'\n"
                   "status: READY\nstatus_message: null\n"
                   "storage_location: 'file://%s/models/churn%%20model/version-1/artifacts/model'\n"
                   "user_id: 'alice'\nversion: 1\n",
                   v->created_ms, v->updated_ms, real, real);
    got = slurp(dest, "models/churn model/version-1/meta.yaml");
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    mlops_registry_version_free(v);
    got = slurp(dest, "models/churn model/version-1/tags/algo");
    ck_assert_str_eq(got, "gbm");
    free(got);
    got = slurp(dest, "models/churn model/version-1/artifacts/model");
    ck_assert_str_eq(got, "weights one");
    free(got);

    ck_assert_int_eq(mlops_registry_get_version(&v, t.s, "churn model", 2), 0);
    got = slurp(dest, "models/churn model/version-2/meta.yaml");
    want = tu_path("aliases:\n- 'champion'\ncreation_timestamp: %" PRId64 "\ncurrent_stage: 'None'\n", v->created_ms);
    ck_assert_msg(strncmp(got, want, strlen(want)) == 0, "got:\n%s", got);
    ck_assert_ptr_nonnull(strstr(got, "\nrun_id: null\n"));
    ck_assert_ptr_nonnull(strstr(got, "\nuser_id: 'bob'\nversion: 2\n"));
    free(got);
    free(want);
    mlops_registry_version_free(v);
    ck_assert(!exists(dest, "models/churn model/version-2/tags"));

    /* A deleted version stays, as MLflow's file store keeps it: its last
     * record, stage Deleted_Internal, deleted at the deletion's time, no
     * artifact; exporting again over an older export replaces the meta. */
    ck_assert_int_eq(mlops_registry_get_version(&v, t.s, "churn model", 1), 0);
    int64_t created1 = v->created_ms;
    mlops_registry_version_free(v);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "churn model", 1), 0);
    int64_t deleted1 = deletion_time(t.s, "churn model", 1);
    char *dest2 = tu_mkdtemp();
    const char *names[] = { "churn model" };
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest2, names, 1), 0);
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest, names, 1), 0);
    want = tu_path("aliases: []\ncreation_timestamp: %" PRId64 "\ncurrent_stage: 'Deleted_Internal'\n"
                   "description: null\nlast_updated_timestamp: %" PRId64 "\nname: 'churn model'\n"
                   "run_id: '0123456789abcdef0123456789abcdef'\nrun_link: null\nsource: null\n"
                   "status: READY\nstatus_message: null\nstorage_location: null\n"
                   "user_id: 'alice'\nversion: 1\n",
                   created1, deleted1);
    for (int k = 0; k < 2; k++) {
        const char *d = k ? dest : dest2;
        got = slurp(d, "models/churn model/version-1/meta.yaml");
        ck_assert_str_eq(got, want);
        free(got);
        got = slurp(d, "models/churn model/version-1/tags/algo");
        ck_assert_str_eq(got, "gbm");
        free(got);
        ck_assert(exists(d, "models/churn model/version-2/meta.yaml"));
    }
    free(want);
    ck_assert(!exists(dest2, "models/churn model/version-1/artifacts"));

    free(real);
    tu_rmrf(dest);
    tu_rmrf(dest2);
    free(dest);
    free(dest2);
    tu_store_destroy(&t);
}
END_TEST

/* Model name with versions 1..n, version k described "v<k>". */
static void model_with_versions(mlops_store *s, const char *name, int n)
{
    ck_assert_int_eq(mlops_registry_create_model(NULL, s, name, NULL, NULL, 0), 0);
    for (int k = 1; k <= n; k++) {
        char body[32], desc[32];
        snprintf(body, sizeof body, "weights %d", k);
        snprintf(desc, sizeof desc, "v%d", k);
        mlops_oid a = tu_put_str(s, body);
        mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
        o.artifact = &a;
        o.description = desc;
        ck_assert_int_eq(mlops_registry_register(NULL, s, name, &o), 0);
    }
}

/* Deleted numbers across many changes and a rename, the highest number
 * among them: each is found in the history with its own last record, so
 * that MLflow's next number (max + 1 over the directories) is ours. */
START_TEST(deleted_versions)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    model_with_versions(t.s, "m", 5);
    /* version 2 changes after registration: its last record is exported */
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 2, "Staging", 0), 0);
    ck_assert_int_eq(mlops_registry_set_version_description(t.s, "m", 2, "tried"), 0);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 2), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "best", 3), 0);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 5), 0);
    ck_assert_int_eq(mlops_registry_rename_model(t.s, "m", "m2"), 0);
    int64_t del2 = deletion_time(t.s, "m2", 2), del5 = deletion_time(t.s, "m2", 5);

    char *dest = tu_mkdtemp();
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest, NULL, 0), 0);
    ck_assert(!exists(dest, "models/m"));
    static const char *const live[] = { "1", "3", "4" };
    for (size_t k = 0; k < 3; k++) {
        char *rel = tu_path("models/m2/version-%s/meta.yaml", live[k]);
        char *got = slurp(dest, rel);
        ck_assert_ptr_nonnull(strstr(got, "current_stage: 'None'\n"));
        free(got);
        free(rel);
    }
    char *got = slurp(dest, "models/m2/version-2/meta.yaml");
    ck_assert_ptr_nonnull(strstr(got, "current_stage: 'Deleted_Internal'\ndescription: 'tried'\n"));
    char *line = tu_path("last_updated_timestamp: %" PRId64 "\nname: 'm2'\n", del2);
    ck_assert_ptr_nonnull(strstr(got, line));
    ck_assert_ptr_nonnull(strstr(got, "\nversion: 2\n"));
    free(line);
    free(got);
    got = slurp(dest, "models/m2/version-5/meta.yaml");
    ck_assert_ptr_nonnull(strstr(got, "current_stage: 'Deleted_Internal'\ndescription: 'v5'\n"));
    line = tu_path("last_updated_timestamp: %" PRId64 "\n", del5);
    ck_assert_ptr_nonnull(strstr(got, line));
    ck_assert_ptr_nonnull(strstr(got, "\nversion: 5\n"));
    free(line);
    free(got);
    ck_assert(!exists(dest, "models/m2/version-6"));
    got = slurp(dest, "models/m2/aliases/best");
    ck_assert_str_eq(got, "3");
    free(got);

    /* A history state that cannot be read (its file removed): the export
     * fails naming it instead of skipping the version. */
    if (t.kind == TU_FS) {
        mlops_registry_event *ev = NULL;
        size_t n = 0;
        ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "m2"), 0);
        size_t k = 0, k2 = 0;
        while (!(ev[k].kind == MLOPS_REGISTRY_VERSION_DELETED && ev[k].version == 5))
            k++;
        while (!(ev[k2].kind == MLOPS_REGISTRY_VERSION_DELETED && ev[k2].version == 2))
            k2++;
        /* the state before the last one holding version 2: never needed */
        char *first = tu_object_path(t.dir, &ev[k2 - 2].state);
        char *obj = tu_object_path(t.dir, &ev[k - 1].state); /* the last state holding version 5 */
        mlops_registry_history_free(ev, n);
        /* the walk stops once every deleted number is found */
        ck_assert_int_eq(unlink(first), 0);
        ck_assert(k2 >= 2);
        free(first);
        char *dest3 = tu_mkdtemp();
        ck_assert_msg(mlops_registry_export_mlflow(t.s, dest3, NULL, 0) == 0, "%s", mlops_error_last());
        ck_assert(exists(dest3, "models/m2/version-2/meta.yaml"));
        tu_rmrf(dest3);
        ck_assert_int_eq(unlink(obj), 0);
        free(obj);
        tu_assert_err(mlops_registry_export_mlflow(t.s, dest3, NULL, 0), MLOPS_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(mlops_error_last(), "registry state"));
        tu_rmrf(dest3);
        free(dest3);
    }
    tu_rmrf(dest);
    free(dest);
    tu_store_destroy(&t);
}
END_TEST

/* Out of memory at every allocation of an export with deleted versions:
 * MLOPS_ENOMEM, nothing leaked, and then it works. */
START_TEST(out_of_memory)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    model_with_versions(t.s, "m", 3);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 1), 0);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 3), 0);
    unsigned long n;
    for (n = 1; n < 5000; n++) {
        char *dest = tu_mkdtemp();
        tu_alloc al;
        memset(&al, 0, sizeof al);
        al.fail_at = n;
        tu_alloc_install(&al);
        int rc = mlops_registry_export_mlflow(t.s, dest, NULL, 0);
        tu_alloc_remove();
        ck_assert_msg(al.outstanding == 0, "allocation %lu: %ld blocks leaked", n, al.outstanding);
        int done = al.failures == 0;
        if (done) {
            ck_assert_int_eq(rc, 0);
            ck_assert(exists(dest, "models/m/version-1/meta.yaml"));
            ck_assert(exists(dest, "models/m/version-3/meta.yaml"));
        } else {
            tu_assert_err(rc, MLOPS_ENOMEM);
        }
        tu_rmrf(dest);
        free(dest);
        if (done)
            break;
    }
    ck_assert_uint_gt(n, 1);
    ck_assert_uint_lt(n, 5000);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(bad_input)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dest = tu_mkdtemp();
    const char *names[] = { "nope" };
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest, names, 1), MLOPS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "nope"));
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, NULL, NULL, 0), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest, NULL, 1), MLOPS_EINVALID);
    /* no models: an empty models/ directory */
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest, NULL, 0), 0);
    ck_assert(exists(dest, "models"));
    tu_rmrf(dest);
    free(dest);
    tu_store_destroy(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry_export");
    TCase *tc = tcase_create("mlflow");
    tcase_add_loop_test(tc, layout_and_meta, 0, TU_KINDS);
    tcase_add_loop_test(tc, deleted_versions, 0, TU_KINDS);
    tcase_add_loop_test(tc, out_of_memory, 0, TU_KINDS);
    tcase_add_loop_test(tc, bad_input, 0, TU_KINDS);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
