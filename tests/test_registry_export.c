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

    /* Exporting again replaces the files; a deleted version is not
     * exported into a fresh dest. */
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest, NULL, 0), 0);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "churn model", 1), 0);
    char *dest2 = tu_mkdtemp();
    const char *names[] = { "churn model" };
    ck_assert_int_eq(mlops_registry_export_mlflow(t.s, dest2, names, 1), 0);
    ck_assert(!exists(dest2, "models/churn model/version-1"));
    ck_assert(exists(dest2, "models/churn model/version-2/meta.yaml"));

    free(real);
    tu_rmrf(dest);
    tu_rmrf(dest2);
    free(dest);
    free(dest2);
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
    tcase_add_loop_test(tc, bad_input, 0, TU_KINDS);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
