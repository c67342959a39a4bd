/* Model registry: models, versions, aliases, stages, resolution, download,
 * history, and every bad input of issue 5 (refused with its code and a
 * message, the model's ref unchanged). Concurrency, corrupt states and
 * out-of-memory loops are in test_registry_robust.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>

#include "mlops/registry.h"
#include "store/object_io.h"
#include "testutil.h"

#include "test_registry_util.inc"

static void create(mlops_store *s, const char *name)
{
    int rc = mlops_registry_create_model(NULL, s, name, NULL, NULL, 0);
    ck_assert_msg(rc == 0, "create %s: %s", name, mlops_error_last());
}

static mlops_oid artifact(mlops_store *s, unsigned i)
{
    char text[64];
    snprintf(text, sizeof text, "model weights %u", i);
    return tu_put_str(s, text);
}

static uint64_t reg(mlops_store *s, const char *name, unsigned i)
{
    mlops_oid a = artifact(s, i);
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &a;
    mlops_registry_version *v = NULL;
    int rc = mlops_registry_register(&v, s, name, &o);
    ck_assert_msg(rc == 0, "register: %s", mlops_error_last());
    uint64_t n = v->version;
    mlops_registry_version_free(v);
    return n;
}

static mlops_registry_model *model(mlops_store *s, const char *name)
{
    mlops_registry_model *m = NULL;
    int rc = mlops_registry_get_model(&m, s, name);
    ck_assert_msg(rc == 0, "get_model %s: %s", name, mlops_error_last());
    return m;
}

static mlops_registry_version *version(mlops_store *s, const char *name, uint64_t n)
{
    mlops_registry_version *v = NULL;
    int rc = mlops_registry_get_version(&v, s, name, n);
    ck_assert_msg(rc == 0, "get_version %s/%llu: %s", name, (unsigned long long)n, mlops_error_last());
    return v;
}

static mlops_registry_version *resolve(mlops_store *s, const char *ref)
{
    mlops_registry_version *v = NULL;
    int rc = mlops_registry_resolve(&v, s, ref);
    ck_assert_msg(rc == 0, "resolve %s: %s", ref, mlops_error_last());
    return v;
}

/* ---- models ------------------------------------------------------------------ */

START_TEST(models)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_registry_tag tags[] = { { "team", "vision" }, { "owner", "ann" }, { "team", "nlp" } };
    mlops_registry_model *m = NULL;
    ck_assert_int_eq(mlops_registry_create_model(&m, t.s, "fraud detector", "detects fraud", tags, 3), 0);
    ck_assert_str_eq(m->name, "fraud detector");
    ck_assert_str_eq(m->description, "detects fraud");
    ck_assert_uint_eq(m->ntags, 2); /* sorted, the last value of a repeated key wins */
    ck_assert_str_eq(m->tags[0].key, "owner");
    ck_assert_str_eq(m->tags[0].value, "ann");
    ck_assert_str_eq(m->tags[1].key, "team");
    ck_assert_str_eq(m->tags[1].value, "nlp");
    ck_assert_uint_eq(m->naliases, 0);
    ck_assert_uint_eq(m->nversions, 0);
    ck_assert_uint_eq(m->latest_version, 0);
    ck_assert_uint_eq(m->next_version, 1);
    ck_assert(m->created_ms > 1600000000000LL);
    ck_assert_int_eq(m->updated_ms, m->created_ms);
    mlops_oid st = ref_of(t.s, "fraud detector");
    ck_assert(same(&m->state, &st));
    mlops_registry_model_free(m);

    /* exists */
    tu_assert_err(mlops_registry_create_model(NULL, t.s, "fraud detector", NULL, NULL, 0), MLOPS_EEXISTS);
    ck_assert(same(&st, (mlops_oid[]){ ref_of(t.s, "fraud detector") }));

    /* description and tags */
    ck_assert_int_eq(mlops_registry_set_model_description(t.s, "fraud detector", "v2 text"), 0);
    ck_assert_int_eq(mlops_registry_set_model_tag(t.s, "fraud detector", "stage/env", "prod"), 0);
    ck_assert_int_eq(mlops_registry_set_model_tag(t.s, "fraud detector", "owner", "bob"), 0);
    ck_assert_int_eq(mlops_registry_delete_model_tag(t.s, "fraud detector", "team"), 0);
    tu_assert_err(mlops_registry_delete_model_tag(t.s, "fraud detector", "team"), MLOPS_ENOTFOUND);
    m = model(t.s, "fraud detector");
    ck_assert_str_eq(m->description, "v2 text");
    ck_assert_uint_eq(m->ntags, 2);
    ck_assert_str_eq(m->tags[0].key, "owner");
    ck_assert_str_eq(m->tags[0].value, "bob");
    ck_assert_str_eq(m->tags[1].key, "stage/env");
    ck_assert(m->updated_ms >= m->created_ms);
    mlops_registry_model_free(m);
    ck_assert_int_eq(mlops_registry_set_model_description(t.s, "fraud detector", NULL), 0);
    m = model(t.s, "fraud detector");
    ck_assert_str_eq(m->description, "");
    mlops_registry_model_free(m);

    /* list with a prefix, sorted by name whatever the ref order */
    const char *names[] = { "fraud", "b", "fraud-v2", "a", "Fraud" };
    for (size_t i = 0; i < 5; i++)
        create(t.s, names[i]);
    mlops_registry_model **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_list_models(&list, &n, t.s, NULL), 0);
    const char *all[] = { "Fraud", "a", "b", "fraud", "fraud detector", "fraud-v2" };
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(list[i]->name, all[i]);
    mlops_registry_model_list_free(list, n);
    ck_assert_int_eq(mlops_registry_list_models(&list, &n, t.s, "fraud"), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(list[0]->name, "fraud");
    ck_assert_str_eq(list[1]->name, "fraud detector");
    ck_assert_str_eq(list[2]->name, "fraud-v2");
    mlops_registry_model_list_free(list, n);
    ck_assert_int_eq(mlops_registry_list_models(&list, &n, t.s, "zzz"), 0);
    ck_assert_uint_eq(n, 0);
    mlops_registry_model_list_free(list, n);

    /* delete: refused while versions exist, unless forced */
    reg(t.s, "a", 1);
    mlops_oid before = ref_of(t.s, "a");
    tu_assert_err(mlops_registry_delete_model(t.s, "a", 0), MLOPS_EINVALID);
    ck_assert(same(&before, (mlops_oid[]){ ref_of(t.s, "a") }));
    ck_assert_int_eq(mlops_registry_delete_model(t.s, "a", 1), 0);
    ck_assert_int_eq(mlops_registry_delete_model(t.s, "b", 0), 0);
    tu_assert_err(mlops_registry_get_model(&m, t.s, "a"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_delete_model(t.s, "b", 0), MLOPS_ENOTFOUND);
    /* a new model under a deleted name starts afresh */
    create(t.s, "a");
    m = model(t.s, "a");
    ck_assert_uint_eq(m->next_version, 1);
    mlops_registry_model_free(m);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(model_names)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char longest[257], utf8[257];
    memset(longest, 'n', 256);
    longest[256] = 0;
    for (int i = 0; i < 256; i += 2)
        memcpy(utf8 + i, "\xc3\xa9", 2);
    utf8[256] = 0;
    /* allowed by MLflow's rules, though no ref component could hold them */
    const char *good[] = { "my model", ".hidden", "x.lock", "a@b", "-x", "latest", "v1", longest, utf8, "a b.c_d-e" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        create(t.s, good[i]);
        mlops_registry_model *m = model(t.s, good[i]);
        ck_assert_str_eq(m->name, good[i]);
        mlops_registry_model_free(m);
        reg(t.s, good[i], (unsigned)i);
    }
    char toolong[258];
    memset(toolong, 'n', 257);
    toolong[257] = 0;
    const char *bad[] = { "", "a/b", "a\\b", "a:b", "a%b", "a\x01", "tab\there", "del\x7f", ".", "..", toolong };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_assert_err(mlops_registry_create_model(NULL, t.s, bad[i], NULL, NULL, 0), MLOPS_EINVALID);
        mlops_registry_model *m = NULL;
        tu_assert_err(mlops_registry_get_model(&m, t.s, bad[i]), MLOPS_EINVALID);
        ck_assert_ptr_null(m);
    }
    tu_assert_err(mlops_registry_create_model(NULL, t.s, NULL, NULL, NULL, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_create_model(NULL, NULL, "x", NULL, NULL, 0), MLOPS_EINVALID);
    mlops_registry_model **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_list_models(&list, &n, t.s, ""), 0);
    ck_assert_uint_eq(n, sizeof good / sizeof *good); /* nothing else was created */
    mlops_registry_model_list_free(list, n);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* ---- versions ------------------------------------------------------------------ */

START_TEST(versions)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    create(t.s, "m");
    char *dir = tu_mkdtemp(), *file = tu_path("%s/model.bin", dir);
    char payload[3000];
    tu_fill_random(payload, sizeof payload, 7);
    tu_write_file(file, payload, sizeof payload);
    char want_hex[65], got_hex[65];
    tu_sha256sum_file(file, want_hex);

    mlops_registry_tag vt[] = { { "framework", "onnx" } };
    mlops_registry_register_options o;
    ck_assert_int_eq(mlops_registry_register_options_init(&o, MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION), 0);
    o.path = file;
    o.run_id = "0123456789abcdef0123456789abcdef";
    o.dataset = "images@3";
    o.description = "first";
    o.tags = vt;
    o.ntags = 1;
    o.user = "carol";
    mlops_registry_version *v = NULL;
    ck_assert_msg(mlops_registry_register(&v, t.s, "m", &o) == 0, "%s", mlops_error_last());
    ck_assert_str_eq(v->model, "m");
    ck_assert_uint_eq(v->version, 1);
    tu_hex(&v->artifact, got_hex);
    ck_assert_str_eq(got_hex, want_hex); /* the artifact id is sha256sum of the file */
    ck_assert_uint_eq(v->size, sizeof payload);
    ck_assert_str_eq(v->run_id, o.run_id);
    ck_assert_str_eq(v->dataset, "images@3");
    ck_assert_str_eq(v->description, "first");
    ck_assert_str_eq(v->user, "carol");
    ck_assert_uint_eq(v->ntags, 1);
    ck_assert_str_eq(v->tags[0].key, "framework");
    ck_assert_str_eq(v->tags[0].value, "onnx");
    ck_assert_uint_eq(v->naliases, 0);
    ck_assert_int_eq(v->stage, MLOPS_REGISTRY_STAGE_NONE);
    ck_assert_int_eq(v->status, MLOPS_REGISTRY_READY);
    ck_assert(v->created_ms > 1600000000000LL);
    ck_assert_int_eq(v->updated_ms, v->created_ms);
    mlops_oid a1 = v->artifact;
    mlops_registry_version_free(v);

    /* by object id; user from $USER; defaults empty */
    setenv("USER", "dave", 1);
    mlops_oid a2 = artifact(t.s, 2);
    mlops_registry_register_options o2 = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o2.artifact = &a2;
    ck_assert_int_eq(mlops_registry_register(&v, t.s, "m", &o2), 0);
    ck_assert_uint_eq(v->version, 2);
    ck_assert(same(&v->artifact, &a2));
    ck_assert_uint_eq(v->size, strlen("model weights 2"));
    ck_assert_str_eq(v->user, "dave");
    ck_assert_str_eq(v->run_id, "");
    ck_assert_str_eq(v->dataset, "");
    ck_assert_str_eq(v->description, "");
    mlops_registry_version_free(v);
    ck_assert_uint_eq(reg(t.s, "m", 3), 3);
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "m", &o2), 0); /* out may be NULL; same artifact again is fine */

    /* delete 2: gone, number never reused */
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 2), 0);
    tu_assert_err(mlops_registry_get_version(&v, t.s, "m", 2), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_delete_version(t.s, "m", 2), MLOPS_ENOTFOUND);
    ck_assert_uint_eq(reg(t.s, "m", 5), 5);
    mlops_registry_version **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_list_versions(&list, &n, t.s, "m"), 0);
    uint64_t want[] = { 1, 3, 4, 5 };
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(list[i]->version, want[i]);
        ck_assert_str_eq(list[i]->model, "m");
    }
    ck_assert(same(&list[0]->artifact, &a1));
    mlops_registry_version_list_free(list, n);
    mlops_registry_model *m = model(t.s, "m");
    ck_assert_uint_eq(m->nversions, 4);
    ck_assert_uint_eq(m->latest_version, 5);
    ck_assert_uint_eq(m->next_version, 6);
    mlops_registry_model_free(m);
    /* deleting the highest does not lower the next number either */
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 5), 0);
    ck_assert_uint_eq(reg(t.s, "m", 6), 6);

    /* description and tags of a version */
    ck_assert_int_eq(mlops_registry_set_version_description(t.s, "m", 1, "better text"), 0);
    ck_assert_int_eq(mlops_registry_set_version_tag(t.s, "m", 1, "acc", "0.93"), 0);
    ck_assert_int_eq(mlops_registry_set_version_tag(t.s, "m", 1, "framework", "torch"), 0);
    ck_assert_int_eq(mlops_registry_delete_version_tag(t.s, "m", 1, "acc"), 0);
    tu_assert_err(mlops_registry_delete_version_tag(t.s, "m", 1, "acc"), MLOPS_ENOTFOUND);
    v = version(t.s, "m", 1);
    ck_assert_str_eq(v->description, "better text");
    ck_assert_uint_eq(v->ntags, 1);
    ck_assert_str_eq(v->tags[0].value, "torch");
    ck_assert(v->updated_ms >= v->created_ms);
    ck_assert(same(&v->artifact, &a1));
    ck_assert_str_eq(v->user, "carol"); /* who registered it */
    mlops_registry_version_free(v);

    /* a directory cannot be registered as a path */
    mlops_registry_register_options od = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    od.path = dir;
    mlops_oid before = ref_of(t.s, "m");
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &od), MLOPS_EUNSUPPORTED);
    od.path = "/nonexistent/model.bin";
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &od), MLOPS_ENOTFOUND);
    ck_assert(same(&before, (mlops_oid[]){ ref_of(t.s, "m") }));
    /* an unknown model is found out before the file is stored */
    char *fresh = tu_path("%s/fresh.bin", dir), fresh_hex[65];
    tu_write_file(fresh, "never stored", 12);
    tu_sha256sum_file(fresh, fresh_hex);
    od.path = fresh;
    tu_assert_err(mlops_registry_register(&v, t.s, "nope", &od), MLOPS_ENOTFOUND);
    ck_assert_int_eq(mlops_object_exists(t.s, (mlops_oid[]){ tu_oid(fresh_hex) }), 0);
    free(fresh);
    unsetenv("USER");
    tu_verify_clean(t.s);
    tu_rmrf(dir);
    free(dir);
    free(file);
    tu_store_destroy(&t);
}
END_TEST

/* ---- aliases and stages ----------------------------------------------------------- */

START_TEST(aliases)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    create(t.s, "m");
    for (unsigned i = 1; i <= 3; i++)
        reg(t.s, "m", i);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "champion", 1), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "challenger", 2), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "prod_2-b", 1), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "v", 1), 0);   /* not v<digits> */
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "v1a", 1), 0); /* idem */
    mlops_registry_version *v = version(t.s, "m", 1);
    ck_assert_uint_eq(v->naliases, 4);
    ck_assert_str_eq(v->aliases[0], "champion");
    ck_assert_str_eq(v->aliases[1], "prod_2-b");
    ck_assert_str_eq(v->aliases[2], "v");
    ck_assert_str_eq(v->aliases[3], "v1a");
    mlops_registry_version_free(v);
    /* move */
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "champion", 3), 0);
    v = resolve(t.s, "m@champion");
    ck_assert_uint_eq(v->version, 3);
    mlops_registry_version_free(v);
    mlops_registry_model *m = model(t.s, "m");
    ck_assert_uint_eq(m->naliases, 5);
    ck_assert_str_eq(m->aliases[0].alias, "challenger");
    ck_assert_uint_eq(m->aliases[0].version, 2);
    ck_assert_str_eq(m->aliases[1].alias, "champion");
    ck_assert_uint_eq(m->aliases[1].version, 3);
    mlops_registry_model_free(m);
    /* delete */
    ck_assert_int_eq(mlops_registry_delete_alias(t.s, "m", "v1a"), 0);
    tu_assert_err(mlops_registry_delete_alias(t.s, "m", "v1a"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_resolve(&v, t.s, "m@v1a"), MLOPS_ENOTFOUND);
    /* deleting a version takes its aliases with it */
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 2), 0);
    tu_assert_err(mlops_registry_resolve(&v, t.s, "m@challenger"), MLOPS_ENOTFOUND);
    m = model(t.s, "m");
    ck_assert_uint_eq(m->naliases, 3);
    mlops_registry_model_free(m);
    /* refused: reserved, invalid, unknown version; nothing changes */
    mlops_oid before = ref_of(t.s, "m");
    char longest[257];
    memset(longest, 'a', 256);
    longest[256] = 0;
    const char *bad[] = { "latest", "LATEST", "Latest", "v1", "V22", "v007", "", "a b", "a.b", "a/b",
                          "caf\xc3\xa9", "a@b", longest };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        tu_assert_err(mlops_registry_set_alias(t.s, "m", bad[i], 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_alias(t.s, "m", NULL, 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_alias(t.s, "m", "ok", 2), MLOPS_ENOTFOUND); /* deleted */
    tu_assert_err(mlops_registry_set_alias(t.s, "m", "ok", 99), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_set_alias(t.s, "m", "ok", 0), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_set_alias(t.s, "nope", "ok", 1), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_delete_alias(t.s, "m", "a b"), MLOPS_EINVALID);
    ck_assert(same(&before, (mlops_oid[]){ ref_of(t.s, "m") }));
    longest[255] = 0; /* 255 bytes: the limit */
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", longest, 1), 0);
    tu_store_destroy(&t);
}
END_TEST

static mlops_registry_stage stage_of(mlops_store *s, uint64_t n)
{
    mlops_registry_version *v = version(s, "m", n);
    mlops_registry_stage st = v->stage;
    mlops_registry_version_free(v);
    return st;
}

START_TEST(stages)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    const char *names[] = { "None", "Staging", "Production", "Archived" };
    const char *spell[] = { "none", "STAGING", "production", "aRcHiVeD" };
    for (int i = 0; i < 4; i++) {
        mlops_registry_stage st;
        ck_assert_int_eq(mlops_registry_stage_parse(&st, spell[i]), 0);
        ck_assert_int_eq(st, i);
        ck_assert_str_eq(mlops_registry_stage_name(st), names[i]);
    }
    mlops_registry_stage st;
    tu_assert_err(mlops_registry_stage_parse(&st, "Deleted_Internal"), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_stage_parse(&st, ""), MLOPS_EINVALID);
    ck_assert_str_eq(mlops_registry_stage_name((mlops_registry_stage)9), "?");

    create(t.s, "m");
    for (unsigned i = 1; i <= 4; i++)
        reg(t.s, "m", i);
    mlops_registry_version *v = NULL;
    ck_assert_int_eq(mlops_registry_transition_stage(&v, t.s, "m", 1, "production", 0), 0);
    ck_assert_int_eq(v->stage, MLOPS_REGISTRY_STAGE_PRODUCTION);
    ck_assert_uint_eq(v->version, 1);
    mlops_registry_version_free(v);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 2, "Production", 0), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 3, "Staging", 0), 0);
    /* without archive_existing, two versions may share a stage */
    ck_assert_int_eq(stage_of(t.s, 1), MLOPS_REGISTRY_STAGE_PRODUCTION);
    ck_assert_int_eq(stage_of(t.s, 2), MLOPS_REGISTRY_STAGE_PRODUCTION);
    /* archive_existing: the others in the target stage become Archived */
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 4, "Production", 1), 0);
    ck_assert_int_eq(stage_of(t.s, 1), MLOPS_REGISTRY_STAGE_ARCHIVED);
    ck_assert_int_eq(stage_of(t.s, 2), MLOPS_REGISTRY_STAGE_ARCHIVED);
    ck_assert_int_eq(stage_of(t.s, 3), MLOPS_REGISTRY_STAGE_STAGING); /* another stage: untouched */
    ck_assert_int_eq(stage_of(t.s, 4), MLOPS_REGISTRY_STAGE_PRODUCTION);
    /* refusals change nothing */
    mlops_oid before = ref_of(t.s, "m");
    tu_assert_err(mlops_registry_transition_stage(NULL, t.s, "m", 3, "Archived", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_transition_stage(NULL, t.s, "m", 3, "None", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_transition_stage(NULL, t.s, "m", 3, "Prod", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_transition_stage(NULL, t.s, "m", 3, NULL, 0), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_transition_stage(NULL, t.s, "m", 9, "Staging", 0), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_transition_stage(NULL, t.s, "x", 1, "Staging", 0), MLOPS_ENOTFOUND);
    ck_assert(same(&before, (mlops_oid[]){ ref_of(t.s, "m") }));
    /* stages do not touch aliases */
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "champion", 1), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 1, "None", 0), 0);
    v = resolve(t.s, "m@champion");
    ck_assert_uint_eq(v->version, 1);
    ck_assert_int_eq(v->stage, MLOPS_REGISTRY_STAGE_NONE);
    mlops_registry_version_free(v);
    tu_store_destroy(&t);
}
END_TEST

/* ---- resolution and download ------------------------------------------------------ */

START_TEST(resolution)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    create(t.s, "m");
    create(t.s, "a@b");
    create(t.s, "empty");
    for (unsigned i = 1; i <= 4; i++)
        reg(t.s, "m", i);
    reg(t.s, "a@b", 9);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 4), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "champion", 2), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 1, "Staging", 0), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 2, "Staging", 0), 0);
    struct {
        const char *ref;
        uint64_t version;
    } ok[] = {
        { "m@champion", 2 },         { "models:/m@champion", 2 }, { "m/3", 3 },          { "models:/m/1", 1 },
        { "m@latest", 3 },           { "m@LATEST", 3 },           { "m/latest", 3 },     { "models:/m/Latest", 3 },
        { "m/staging", 2 },          { "models:/m/Staging", 2 },  { "a@b/1", 1 },        { "a@b@latest", 1 },
        { "models:/a@b/latest", 1 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        mlops_registry_version *v = resolve(t.s, ok[i].ref);
        ck_assert_msg(v->version == ok[i].version, "%s: version %llu", ok[i].ref, (unsigned long long)v->version);
        mlops_registry_version_free(v);
    }
    const char *invalid[] = { "m",       "m/",         "m@",       "/3",        "@champion", "m/3/4",     "m/x",
                              "m/-1",    "m/0x3",      "m@a b",    "models:/m", "models:/",  "m/99999999999999999999",
                              "a:b/1",   "models:/a%b/1", "m/v3" };
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        mlops_registry_version *v = NULL;
        int rc = mlops_registry_resolve(&v, t.s, invalid[i]);
        ck_assert_msg(rc == MLOPS_EINVALID, "%s: %d (%s)", invalid[i], rc, mlops_error_last());
        ck_assert_ptr_null(v);
    }
    const char *missing[] = { "m/4", "m/5", "m/0", "m@nope", "nope/1", "nope@latest", "empty@latest", "m/production",
                              "models:/nope@x" };
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
        mlops_registry_version *v = NULL;
        int rc = mlops_registry_resolve(&v, t.s, missing[i]);
        ck_assert_msg(rc == MLOPS_ENOTFOUND, "%s: %d (%s)", missing[i], rc, mlops_error_last());
        ck_assert(*mlops_error_last());
    }
    mlops_registry_version *v = NULL;
    tu_assert_err(mlops_registry_resolve(NULL, t.s, "m/1"), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_resolve(&v, NULL, "m/1"), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_resolve(&v, t.s, NULL), MLOPS_EINVALID);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(download)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp(), *src = tu_path("%s/src.bin", dir), *dst = tu_path("%s/out.bin", dir);
    char data[5000];
    tu_fill_random(data, sizeof data, 3);
    tu_write_file(src, data, sizeof data);
    create(t.s, "m");
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.path = src;
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "m", &o), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "prod", 1), 0);
    mlops_registry_version *v = NULL;
    ck_assert_int_eq(mlops_registry_download(&v, t.s, "models:/m@prod", dst), 0);
    ck_assert_uint_eq(v->version, 1);
    mlops_registry_version_free(v);
    size_t len = 0;
    char *back = tu_read_file(dst, &len);
    ck_assert_uint_eq(len, sizeof data);
    ck_assert_int_eq(memcmp(back, data, len), 0);
    free(back);
    tu_write_file(dst, "old", 3); /* replaced */
    ck_assert_int_eq(mlops_registry_download(NULL, t.s, "m/1", dst), 0);
    ck_assert_int_eq(tu_file_size(dst), (long long)sizeof data);
    tu_assert_err(mlops_registry_download(NULL, t.s, "m/2", dst), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_download(NULL, t.s, "m/1", NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_download(NULL, t.s, "m/1", ""), MLOPS_EINVALID);
    tu_rmrf(dir);
    free(dir);
    free(src);
    free(dst);
    tu_store_destroy(&t);
}
END_TEST

/* ---- history and rename ------------------------------------------------------------- */

START_TEST(history)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    setenv("USER", "erin", 1);
    create(t.s, "m");
    reg(t.s, "m", 1);
    mlops_oid a = artifact(t.s, 2);
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &a;
    o.user = "frank";
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "m", &o), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "champion", 1), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "champion", 2), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 1, "Production", 0), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 2, "Production", 1), 0);
    ck_assert_int_eq(mlops_registry_set_model_tag(t.s, "m", "k", "v"), 0);
    ck_assert_int_eq(mlops_registry_delete_model_tag(t.s, "m", "k"), 0);
    ck_assert_int_eq(mlops_registry_set_model_description(t.s, "m", "d"), 0);
    ck_assert_int_eq(mlops_registry_set_version_tag(t.s, "m", 2, "vk", "vv"), 0);
    ck_assert_int_eq(mlops_registry_delete_version_tag(t.s, "m", 2, "vk"), 0);
    ck_assert_int_eq(mlops_registry_set_version_description(t.s, "m", 2, "vd"), 0);
    ck_assert_int_eq(mlops_registry_delete_alias(t.s, "m", "champion"), 0);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 1), 0);
    ck_assert_int_eq(mlops_registry_rename_model(t.s, "m", "m2"), 0);
    /* refusals add nothing */
    tu_assert_err(mlops_registry_set_alias(t.s, "m2", "latest", 2), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_delete_version(t.s, "m2", 1), MLOPS_ENOTFOUND);

    struct {
        mlops_registry_event_kind kind;
        uint64_t version, old_version;
        const char *alias, *detail, *user;
        mlops_registry_stage from, to;
    } want[] = {
        { MLOPS_REGISTRY_MODEL_CREATED, 0, 0, "", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_VERSION_REGISTERED, 1, 0, "", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_VERSION_REGISTERED, 2, 0, "", "", "frank", 0, 0 },
        { MLOPS_REGISTRY_ALIAS_SET, 1, 0, "champion", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_ALIAS_SET, 2, 1, "champion", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_STAGE_CHANGED, 1, 0, "", "", "erin", MLOPS_REGISTRY_STAGE_NONE,
          MLOPS_REGISTRY_STAGE_PRODUCTION },
        { MLOPS_REGISTRY_STAGE_CHANGED, 2, 0, "", "1", "erin", MLOPS_REGISTRY_STAGE_NONE,
          MLOPS_REGISTRY_STAGE_PRODUCTION },
        { MLOPS_REGISTRY_MODEL_TAG_SET, 0, 0, "", "k", "erin", 0, 0 },
        { MLOPS_REGISTRY_MODEL_TAG_DELETED, 0, 0, "", "k", "erin", 0, 0 },
        { MLOPS_REGISTRY_MODEL_DESCRIPTION, 0, 0, "", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_VERSION_TAG_SET, 2, 0, "", "vk", "erin", 0, 0 },
        { MLOPS_REGISTRY_VERSION_TAG_DELETED, 2, 0, "", "vk", "erin", 0, 0 },
        { MLOPS_REGISTRY_VERSION_DESCRIPTION, 2, 0, "", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_ALIAS_DELETED, 2, 0, "champion", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_VERSION_DELETED, 1, 0, "", "", "erin", 0, 0 },
        { MLOPS_REGISTRY_MODEL_RENAMED, 0, 0, "", "m", "erin", 0, 0 },
    };
    size_t nwant = sizeof want / sizeof *want;
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "m2"), 0);
    ck_assert_uint_eq(n, nwant);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(ev[i].kind == want[i].kind, "event %zu: kind %d", i, ev[i].kind);
        ck_assert_uint_eq(ev[i].version, want[i].version);
        ck_assert_uint_eq(ev[i].old_version, want[i].old_version);
        ck_assert_str_eq(ev[i].alias, want[i].alias);
        ck_assert_str_eq(ev[i].detail, want[i].detail);
        ck_assert_str_eq(ev[i].user, want[i].user);
        ck_assert_int_eq(ev[i].from_stage, want[i].from);
        ck_assert_int_eq(ev[i].to_stage, want[i].to);
        ck_assert(ev[i].time_ms > 1600000000000LL);
        if (i)
            ck_assert(ev[i].time_ms >= ev[i - 1].time_ms);
    }
    mlops_oid cur = ref_of(t.s, "m2");
    ck_assert(same(&ev[n - 1].state, &cur)); /* the newest event is the current state */
    mlops_registry_history_free(ev, n);
    mlops_registry_history_free(NULL, 0);
    tu_assert_err(mlops_registry_history(&ev, &n, t.s, "m"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_history(&ev, &n, t.s, ""), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_history(NULL, &n, t.s, "m2"), MLOPS_EINVALID);
    unsetenv("USER");
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(renames)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_registry_tag tg[] = { { "team", "x" } };
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "old", "desc", tg, 1), 0);
    reg(t.s, "old", 1);
    reg(t.s, "old", 2);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "old", "champion", 2), 0);
    create(t.s, "other");
    mlops_oid before = ref_of(t.s, "old");
    tu_assert_err(mlops_registry_rename_model(t.s, "old", "other"), MLOPS_EEXISTS);
    tu_assert_err(mlops_registry_rename_model(t.s, "old", "old"), MLOPS_EEXISTS);
    tu_assert_err(mlops_registry_rename_model(t.s, "old", "a/b"), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_rename_model(t.s, "nope", "new"), MLOPS_ENOTFOUND);
    ck_assert(same(&before, (mlops_oid[]){ ref_of(t.s, "old") }));
    ck_assert_int_eq(mlops_registry_rename_model(t.s, "old", "new"), 0);
    mlops_registry_model *m = NULL;
    tu_assert_err(mlops_registry_get_model(&m, t.s, "old"), MLOPS_ENOTFOUND);
    m = model(t.s, "new");
    ck_assert_str_eq(m->description, "desc");
    ck_assert_uint_eq(m->ntags, 1);
    ck_assert_uint_eq(m->naliases, 1);
    ck_assert_uint_eq(m->nversions, 2);
    ck_assert_uint_eq(m->next_version, 3);
    mlops_registry_model_free(m);
    mlops_registry_version *v = resolve(t.s, "new@champion");
    ck_assert_uint_eq(v->version, 2);
    ck_assert_str_eq(v->model, "new");
    mlops_registry_version_free(v);
    ck_assert_uint_eq(reg(t.s, "new", 3), 3);
    /* the old name is free again */
    create(t.s, "old");
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* ---- bad input: the whole list of the issue, state unchanged ------------------------ */

START_TEST(bad_input_unchanged)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    create(t.s, "m");
    reg(t.s, "m", 1);
    mlops_oid before = ref_of(t.s, "m");
    mlops_registry_version *v = NULL;
    mlops_oid missing;
    memset(&missing, 0xab, sizeof missing);
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &missing;
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_ENOTFOUND); /* artifact not in the store */
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "not in the store"));
    mlops_oid a = artifact(t.s, 5);
    o.artifact = &a;
    tu_assert_err(mlops_registry_register(&v, t.s, "nope", &o), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_register(&v, t.s, "a/b", &o), MLOPS_EINVALID);
    o.path = "/etc/hostname"; /* both */
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    o.path = NULL;
    o.artifact = NULL; /* neither */
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_register(&v, t.s, "m", NULL), MLOPS_EINVALID);
    o.artifact = &a;
    o.version = 7;
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_register_options_init(&o, 7), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_register_options_init(NULL, MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION), MLOPS_EINVALID);
    mlops_registry_register_options_init(&o, MLOPS_REGISTRY_REGISTER_OPTIONS_VERSION);
    o.artifact = &a;
    mlops_registry_tag badtags[][1] = { { { "", "v" } },   { { "a//b", "v" } }, { { "/a", "v" } },
                                        { { "a/", "v" } }, { { "..", "v" } },   { { "a\x01", "v" } },
                                        { { "k", NULL } }, { { NULL, "v" } },   { { "a*b", "v" } } };
    for (size_t i = 0; i < sizeof badtags / sizeof *badtags; i++) {
        o.tags = badtags[i];
        o.ntags = 1;
        tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
        tu_assert_err(mlops_registry_set_model_tag(t.s, "m", badtags[i][0].key, badtags[i][0].value), MLOPS_EINVALID);
    }
    char *bigval = calloc(1, MLOPS_REGISTRY_TAG_VALUE_MAX + 2);
    memset(bigval, 'v', MLOPS_REGISTRY_TAG_VALUE_MAX + 1);
    tu_assert_err(mlops_registry_set_model_tag(t.s, "m", "k", bigval), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_version_tag(t.s, "m", 1, "k", bigval), MLOPS_EINVALID);
    char bigkey[252];
    memset(bigkey, 'k', 251);
    bigkey[251] = 0;
    tu_assert_err(mlops_registry_set_model_tag(t.s, "m", bigkey, "v"), MLOPS_EINVALID);
    o.tags = NULL;
    o.ntags = 2;
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    o.ntags = 0;
    char *bigtext = calloc(1, MLOPS_REGISTRY_TEXT_MAX + 2);
    memset(bigtext, 'd', MLOPS_REGISTRY_TEXT_MAX + 1);
    o.description = bigtext;
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_model_description(t.s, "m", bigtext), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_version_description(t.s, "m", 1, bigtext), MLOPS_EINVALID);
    o.description = NULL;
    char *bigfield = calloc(1, MLOPS_REGISTRY_FIELD_MAX + 2);
    memset(bigfield, 'r', MLOPS_REGISTRY_FIELD_MAX + 1);
    o.run_id = bigfield;
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    o.run_id = NULL;
    o.user = bigfield;
    tu_assert_err(mlops_registry_register(&v, t.s, "m", &o), MLOPS_EINVALID);
    o.user = NULL;
    ck_assert_ptr_null(v);
    /* unknown model or version */
    tu_assert_err(mlops_registry_get_version(&v, t.s, "m", 2), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_get_version(&v, t.s, "m", 0), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_get_version(&v, t.s, "nope", 1), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_set_version_description(t.s, "m", 2, "x"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_set_version_tag(t.s, "m", 2, "k", "v"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_delete_version_tag(t.s, "m", 1, "k"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_delete_version(t.s, "m", 2), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_set_model_description(t.s, "nope", "x"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_registry_set_model_tag(t.s, "nope", "k", "v"), MLOPS_ENOTFOUND);
    mlops_registry_version **list = NULL;
    size_t n = 0;
    tu_assert_err(mlops_registry_list_versions(&list, &n, t.s, "nope"), MLOPS_ENOTFOUND);
    /* reserved or invalid aliases, unknown stage, archive_existing to a passive stage */
    tu_assert_err(mlops_registry_set_alias(t.s, "m", "latest", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_alias(t.s, "m", "v3", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_set_alias(t.s, "m", "no way", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_transition_stage(&v, t.s, "m", 1, "Deployed", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_transition_stage(&v, t.s, "m", 1, "Archived", 1), MLOPS_EINVALID);
    /* NULL handles */
    tu_assert_err(mlops_registry_set_alias(NULL, "m", "a", 1), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_register(&v, NULL, "m", &o), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_delete_model(NULL, "m", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_list_models(NULL, &n, t.s, ""), MLOPS_EINVALID);
    tu_assert_err(mlops_registry_get_version(NULL, t.s, "m", 1), MLOPS_EINVALID);
    ck_assert(same(&before, (mlops_oid[]){ ref_of(t.s, "m") }));
    mlops_registry_model_free(NULL);
    mlops_registry_model_list_free(NULL, 2);
    mlops_registry_version_free(NULL);
    mlops_registry_version_list_free(NULL, 2);
    free(bigval);
    free(bigtext);
    free(bigfield);
    tu_store_destroy(&t);
}
END_TEST

/* An artifact registered by id long after it was stored is refreshed, with
 * what it links to, so that a gc running meanwhile (which deletes only
 * what a fresh stat still finds old) keeps it; one just stored is left as
 * it is (registering stays one flush). */
static time_t mtime_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mtime;
}

START_TEST(register_refreshes_old_artifact)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "m", NULL, NULL, 0), 0);
    mlops_oid leaf = tu_put_str(t.s, "weights of a bundled model"), bundle;
    ck_assert_int_eq(mlops_object_put_structured(&bundle, t.s, "model.bundle", &leaf, 1, "b", 1), 0);
    char *pl = tu_object_path(t.dir, &leaf), *pb = tu_object_path(t.dir, &bundle);
    tu_set_mtime_from_now(pl, -7200);
    tu_set_mtime_from_now(pb, -7200);
    time_t before = time(NULL) - 5;
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &bundle;
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "m", &o), 0);
    ck_assert(mtime_of(pb) >= before);
    ck_assert(mtime_of(pl) >= before);

    mlops_oid fresh = tu_put_str(t.s, "stored half a minute ago");
    char *pf = tu_object_path(t.dir, &fresh);
    tu_set_mtime_from_now(pf, -30);
    time_t was = mtime_of(pf);
    o.artifact = &fresh;
    ck_assert_int_eq(mlops_registry_register(NULL, t.s, "m", &o), 0);
    ck_assert(mtime_of(pf) == was);

    /* a link that is gone (gc got there first): the artifact is refused */
    mlops_oid lost = tu_put_str(t.s, "a leaf gc removed"), holder;
    ck_assert_int_eq(mlops_object_put_structured(&holder, t.s, "model.bundle", &lost, 1, "h", 1), 0);
    char *plost = tu_object_path(t.dir, &lost), *ph = tu_object_path(t.dir, &holder);
    tu_set_mtime_from_now(ph, -7200);
    ck_assert_int_eq(unlink(plost), 0);
    o.artifact = &holder;
    tu_assert_err(mlops_registry_register(NULL, t.s, "m", &o), MLOPS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), mlops__hex(&lost).s));
    mlops_registry_model *m = NULL;
    ck_assert_int_eq(mlops_registry_get_model(&m, t.s, "m"), 0);
    ck_assert_uint_eq(m->nversions, 2);
    mlops_registry_model_free(m);

    /* every allocation of the refresh failing: ENOMEM, no version, no leak */
    o.artifact = &bundle;
    unsigned long n;
    for (n = 1; n < 1000; n++) {
        tu_set_mtime_from_now(pl, -7200);
        tu_set_mtime_from_now(pb, -7200);
        tu_alloc al;
        memset(&al, 0, sizeof al);
        al.fail_at = n;
        tu_alloc_install(&al);
        int rc = mlops_registry_register(NULL, t.s, "m", &o);
        tu_alloc_remove();
        ck_assert_msg(al.outstanding == 0, "allocation %lu: %ld blocks leaked", n, al.outstanding);
        if (al.failures == 0) {
            ck_assert_int_eq(rc, 0);
            break;
        }
        tu_assert_err(rc, MLOPS_ENOMEM);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", mlops_error_last());
        ck_assert_int_eq(mlops_registry_get_model(&m, t.s, "m"), 0);
        ck_assert_msg(m->nversions == 2, "allocation %lu (%s): a version was added", n, msg);
        mlops_registry_model_free(m);
    }
    ck_assert_uint_gt(n, 3);
    ck_assert_uint_lt(n, 1000);
    free(pl);
    free(pb);
    free(pf);
    free(plost);
    free(ph);
    tu_store_destroy(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, models, 0, TU_KINDS);
    tcase_add_loop_test(tc, model_names, 0, TU_KINDS);
    tcase_add_loop_test(tc, versions, 0, TU_KINDS);
    tcase_add_loop_test(tc, aliases, 0, TU_KINDS);
    tcase_add_loop_test(tc, stages, 0, TU_KINDS);
    tcase_add_loop_test(tc, resolution, 0, TU_KINDS);
    tcase_add_loop_test(tc, download, 0, TU_KINDS);
    tcase_add_loop_test(tc, history, 0, TU_KINDS);
    tcase_add_loop_test(tc, renames, 0, TU_KINDS);
    tcase_add_loop_test(tc, bad_input_unchanged, 0, TU_KINDS);
    tcase_add_test(tc, register_refreshes_old_artifact);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
