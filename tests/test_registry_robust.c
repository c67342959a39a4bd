/* Model registry under stress: 8 processes registering into one model,
 * the retry budget of the compare-and-swap loop, crafted and damaged
 * state objects, what gc keeps, and out-of-memory loops on every kind of
 * change. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mlops/registry.h"
#include "mlops/sys/backend.h"
#include "registry/registry_internal.h"
#include "store/store_internal.h"
#include "testutil.h"

#define PROCS 8
#define PER_PROC 100

#include "test_registry_util.inc"

static void point_ref(mlops_store *s, const char *name, const mlops_oid *id)
{
    char *ref = model_ref(name);
    mlops_oid cur;
    int rc = mlops_ref_get(&cur, s, ref);
    ck_assert_int_eq(mlops_ref_set(s, ref, id, rc == 0 ? &cur : NULL), 0);
    free(ref);
}

static mlops_oid artifact_of(mlops_store *s, int p, int i)
{
    char text[64];
    snprintf(text, sizeof text, "artifact of process %d, registration %d", p, i);
    return tu_put_str(s, text);
}

static int register_artifact(mlops_store *s, const char *name, const mlops_oid *a)
{
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = a;
    return mlops_registry_register(NULL, s, name, &o);
}

/* ---- concurrency: the acceptance test of issue 5 ------------------------------------ */

static int child_registers(const char *dir, int p)
{
    mlops_store *s = NULL;
    if (mlops_store_open(&s, dir, NULL) != 0)
        return 1;
    for (int i = 0; i < PER_PROC; i++) {
        mlops_oid a = artifact_of(s, p, i);
        if (register_artifact(s, "shared", &a) != 0) {
            fprintf(stderr, "child %d registration %d: %s\n", p, i, mlops_error_last());
            return 1;
        }
    }
    mlops_store_free(s);
    return 0;
}

static int oid_cmp(const void *a, const void *b)
{
    return mlops_oid_cmp(a, b);
}

START_TEST(concurrent_registrations)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "shared", NULL, NULL, 0), 0);
    tu_store_close(&t);
    tu_run_children(PROCS, child_registers, t.dir);
    tu_store_reopen(&t, NULL);
    mlops_registry_version **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_list_versions(&list, &n, t.s, "shared"), 0);
    ck_assert_uint_eq(n, PROCS * PER_PROC);
    static mlops_oid got[PROCS * PER_PROC], want[PROCS * PER_PROC];
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(list[i]->version, i + 1); /* exactly 1..800 */
        got[i] = list[i]->artifact;
    }
    mlops_registry_version_list_free(list, n);
    for (int p = 0; p < PROCS; p++)
        for (int i = 0; i < PER_PROC; i++)
            want[p * PER_PROC + i] = artifact_of(t.s, p, i);
    qsort(got, n, sizeof *got, oid_cmp);
    qsort(want, n, sizeof *want, oid_cmp);
    ck_assert_int_eq(memcmp(got, want, sizeof got), 0); /* every artifact exactly once */
    mlops_registry_event *ev = NULL;
    size_t nev = 0, registered = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &nev, t.s, "shared"), 0);
    ck_assert_uint_eq(nev, PROCS * PER_PROC + 1);
    ck_assert_int_eq(ev[0].kind, MLOPS_REGISTRY_MODEL_CREATED);
    for (size_t i = 1; i < nev; i++) {
        ck_assert_int_eq(ev[i].kind, MLOPS_REGISTRY_VERSION_REGISTERED);
        ck_assert_uint_eq(ev[i].version, i); /* in order */
        registered++;
    }
    ck_assert_uint_eq(registered, PROCS * PER_PROC);
    mlops_registry_history_free(ev, nev);
    mlops_registry_model *m = NULL;
    ck_assert_int_eq(mlops_registry_get_model(&m, t.s, "shared"), 0);
    ck_assert_uint_eq(m->next_version, PROCS * PER_PROC + 1);
    mlops_registry_model_free(m);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* Threads sharing one store handle. */
#define THREADS 4
#define PER_THREAD 50

typedef struct thread_arg {
    mlops_store *s;
    int id;
    int failures;
} thread_arg;

static void *thread_registers(void *p)
{
    thread_arg *a = p;
    for (int i = 0; i < PER_THREAD; i++) {
        mlops_oid art = artifact_of(a->s, 100 + a->id, i);
        char alias[32];
        snprintf(alias, sizeof alias, "t%d", a->id);
        mlops_registry_version *v = NULL;
        mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
        o.artifact = &art;
        if (mlops_registry_register(&v, a->s, "threads", &o) != 0 ||
            mlops_registry_set_alias(a->s, "threads", alias, v->version) != 0)
            a->failures++;
        mlops_registry_version_free(v);
    }
    return NULL;
}

START_TEST(threads_one_handle)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "threads", NULL, NULL, 0), 0);
    pthread_t th[THREADS];
    thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (thread_arg){ t.s, i, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_registers, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(args[i].failures, 0);
    }
    mlops_registry_model *m = NULL;
    ck_assert_int_eq(mlops_registry_get_model(&m, t.s, "threads"), 0);
    ck_assert_uint_eq(m->nversions, THREADS * PER_THREAD);
    ck_assert_uint_eq(m->latest_version, THREADS * PER_THREAD);
    ck_assert_uint_eq(m->naliases, THREADS);
    mlops_registry_model_free(m);
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "threads"), 0);
    ck_assert_uint_eq(n, 1 + 2 * THREADS * PER_THREAD);
    mlops_registry_history_free(ev, n);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* ---- the retry budget -------------------------------------------------------------- */

typedef struct intruder {
    mlops_store *s;
    mlops_oid a, b; /* two states of the model the intruder swaps between */
    unsigned calls;
} intruder;

/* Edits the model, but first moves its ref behind the caller's back, so
 * every compare-and-swap of the caller loses. */
static int intrude(mlops__reg_state *st, int exists, void *p)
{
    intruder *in = p;
    in->calls++;
    char *ref = model_ref("m");
    mlops_oid cur;
    ck_assert_int_eq(mlops_ref_get(&cur, in->s, ref), 0);
    ck_assert_int_eq(mlops_ref_set(in->s, ref, same(&cur, &in->a) ? &in->b : &in->a, &cur), 0);
    free(ref);
    ck_assert_int_eq(exists, 1);
    MLOPS__TRY(mlops__reg_change_set(st, MLOPS_REGISTRY_MODEL_TAG_SET, 0, NULL, "lost"));
    return mlops__reg_tags_set(&st->tags, "lost", "yes");
}

START_TEST(retry_budget)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    intruder in = { t.s, { { 0 } }, { { 0 } }, 0 };
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "m", "a", NULL, 0), 0);
    in.a = ref_of(t.s, "m");
    ck_assert_int_eq(mlops_registry_set_model_description(t.s, "m", "b"), 0);
    in.b = ref_of(t.s, "m");
    tu_assert_err(mlops__reg_update(NULL, t.s, "m", "mallory", intrude, NULL, &in, 5), MLOPS_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "5 retries"));
    ck_assert_uint_eq(in.calls, 6); /* the first attempt and 5 retries */
    mlops_oid cur = ref_of(t.s, "m");
    ck_assert(same(&cur, &in.a) || same(&cur, &in.b)); /* only the intruder's moves landed */
    mlops_registry_model *m = NULL;
    ck_assert_int_eq(mlops_registry_get_model(&m, t.s, "m"), 0);
    ck_assert_uint_eq(m->ntags, 0);
    mlops_registry_model_free(m);
    tu_store_destroy(&t);
}
END_TEST

/* Through the public API: a backend whose registry compare-and-swaps
 * always lose (the memory backend with ref_cas wrapped). */
static int (*real_cas)(mlops_backend *, const char *, const mlops_oid *, const mlops_oid *);
static int losing;

static int losing_cas(mlops_backend *b, const char *name, const mlops_oid *expected, const mlops_oid *new_id)
{
    if (losing && strncmp(name, "registry/", 9) == 0)
        return mlops_backend_error_set(MLOPS_ECONFLICT, "test backend: another writer won");
    return real_cas(b, name, expected, new_id);
}

START_TEST(retry_budget_public)
{
    mlops_backend b;
    ck_assert_int_eq(mlops__backend_memory_new(&b), 0);
    real_cas = b.ref_cas;
    b.ref_cas = losing_cas;
    mlops_store *s = NULL;
    ck_assert_int_eq(mlops_store_open_backend(&s, &b, NULL), 0);
    ck_assert_int_eq(mlops_registry_create_model(NULL, s, "m", NULL, NULL, 0), 0);
    mlops_oid a = tu_put_str(s, "weights"), before = ref_of(s, "m");
    losing = 1;
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &a;
    o.max_retries = 3;
    mlops_registry_version *v = NULL;
    tu_assert_err(mlops_registry_register(&v, s, "m", &o), MLOPS_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "after 3 retries"));
    ck_assert_ptr_null(v);
    losing = 0;
    ck_assert(same(&before, (mlops_oid[]){ ref_of(s, "m") }));
    ck_assert_int_eq(mlops_registry_register(&v, s, "m", &o), 0);
    ck_assert_uint_eq(v->version, 1); /* the lost attempts used no number */
    mlops_registry_version_free(v);
    mlops_store_free(s);
}
END_TEST

/* ---- corrupt states ------------------------------------------------------------------- */

/* Every call that reads the model must fail with want and a message. */
static void assert_unreadable(mlops_store *s, const char *name, int want)
{
    mlops_registry_model *m = NULL;
    mlops_registry_version *v = NULL;
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    char ref[300];
    snprintf(ref, sizeof ref, "%s@latest", name);
    tu_assert_err(mlops_registry_get_model(&m, s, name), want);
    tu_assert_err(mlops_registry_resolve(&v, s, ref), want);
    tu_assert_err(mlops_registry_history(&ev, &n, s, name), want);
    tu_assert_err(mlops_registry_set_alias(s, name, "x", 1), want);
    tu_assert_err(mlops_registry_set_model_tag(s, name, "k", "v"), want);
    mlops_oid a = tu_put_str(s, "an artifact");
    tu_assert_err(register_artifact(s, name, &a), want);
    mlops_registry_model **list = NULL;
    tu_assert_err(mlops_registry_list_models(&list, &n, s, ""), want);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(v);
}

START_TEST(corrupt_states)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "m", "d", NULL, 0), 0);
    mlops_oid a = tu_put_str(t.s, "weights");
    ck_assert_int_eq(register_artifact(t.s, "m", &a), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "prod", 1), 0);
    mlops_oid good = ref_of(t.s, "m");

    /* not structured; structured but another type; unknown body version */
    point_ref(t.s, "m", (mlops_oid[]){ tu_put_str(t.s, "garbage, not a state") });
    assert_unreadable(t.s, "m", MLOPS_ECORRUPT);
    mlops_oid other;
    ck_assert_int_eq(mlops_object_put_structured(&other, t.s, "data.version", NULL, 0, "x", 1), 0);
    point_ref(t.s, "m", &other);
    assert_unreadable(t.s, "m", MLOPS_ECORRUPT);
    ck_assert_int_eq(mlops_object_put_structured(&other, t.s, MLOPS__REG_STATE_TYPE, NULL, 0, "\x02\0\0\0", 4), 0);
    point_ref(t.s, "m", &other);
    assert_unreadable(t.s, "m", MLOPS_EUNSUPPORTED);

    /* every truncation of a good state's body, and every byte flipped */
    char *type = NULL;
    mlops_oid *links = NULL;
    size_t nlinks = 0, blen = 0;
    void *body = NULL;
    ck_assert_int_eq(mlops_object_get_structured(&type, &links, &nlinks, &body, &blen, t.s, &good), 0);
    ck_assert_str_eq(type, "registry.state");
    ck_assert_uint_eq(nlinks, 2); /* the previous state and version 1's record */
    for (size_t len = 0; len < blen; len++) {
        ck_assert_int_eq(mlops_object_put_structured(&other, t.s, type, links, nlinks, body, len), 0);
        point_ref(t.s, "m", &other);
        mlops_registry_model *m = NULL;
        tu_assert_err(mlops_registry_get_model(&m, t.s, "m"), MLOPS_ECORRUPT);
    }
    unsigned char *flipped = malloc(blen);
    for (size_t i = 0; i < blen; i++) {
        memcpy(flipped, body, blen);
        flipped[i] ^= 0x41;
        ck_assert_int_eq(mlops_object_put_structured(&other, t.s, type, links, nlinks, flipped, blen), 0);
        point_ref(t.s, "m", &other);
        mlops_registry_model *m = NULL;
        mlops_registry_version *v = NULL;
        int rc = mlops_registry_get_model(&m, t.s, "m");
        ck_assert_msg(rc == 0 || rc == MLOPS_ECORRUPT || rc == MLOPS_EUNSUPPORTED, "byte %zu: %d", i, rc);
        mlops_registry_model_free(m);
        rc = mlops_registry_resolve(&v, t.s, "m@prod");
        ck_assert_msg(rc == 0 || rc < 0, "byte %zu", i);
        mlops_registry_version_free(v);
    }
    free(flipped);
    /* links that disagree with the body: one missing, one too many */
    ck_assert_int_eq(mlops_object_put_structured(&other, t.s, type, links, 1, body, blen), 0);
    point_ref(t.s, "m", &other);
    assert_unreadable(t.s, "m", MLOPS_ECORRUPT);

    /* a version record that is not one */
    mlops_oid bad_links[2] = { links[0], tu_put_str(t.s, "not a record") };
    ck_assert_int_eq(mlops_object_put_structured(&other, t.s, type, bad_links, 2, body, blen), 0);
    point_ref(t.s, "m", &other);
    mlops_registry_version *v = NULL;
    tu_assert_err(mlops_registry_get_version(&v, t.s, "m", 1), MLOPS_ECORRUPT);
    tu_assert_err(mlops_registry_resolve(&v, t.s, "m@prod"), MLOPS_ECORRUPT);
    /* the state of another model under this name */
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "n", NULL, NULL, 0), 0);
    point_ref(t.s, "m", (mlops_oid[]){ ref_of(t.s, "n") });
    assert_unreadable(t.s, "m", MLOPS_ECORRUPT);
    /* the good state again: everything works */
    point_ref(t.s, "m", &good);
    ck_assert_int_eq(mlops_registry_resolve(&v, t.s, "m@prod"), 0);
    mlops_registry_version_free(v);
    mlops_free(type);
    mlops_free(links);
    mlops_free(body);
    tu_store_destroy(&t);
}
END_TEST

/* ---- hand-made objects, from the layouts documented in the codecs ----- */

typedef struct bytes {
    unsigned char b[1024];
    size_t n;
} bytes;

static void b_raw(bytes *x, const void *p, size_t n)
{
    ck_assert_uint_le(x->n + n, sizeof x->b);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void b_le(bytes *x, uint64_t v, int size)
{
    for (int i = 0; i < size; i++)
        x->b[x->n++] = (unsigned char)(v >> (8 * i));
}

static void b_str(bytes *x, const char *s)
{
    b_le(x, strlen(s), 4);
    b_raw(x, s, strlen(s));
}

static mlops_oid hand_record(mlops_store *s, const mlops_oid *art, uint64_t version, unsigned stage)
{
    bytes x = { { 0 }, 0 };
    unsigned char head[4] = { 1, (unsigned char)stage, 1, 0 };
    b_raw(&x, head, 4);
    b_le(&x, version, 8);
    b_le(&x, 11, 8);   /* size */
    b_le(&x, 1000, 8); /* created */
    b_le(&x, 1500, 8); /* updated */
    b_str(&x, "run-1");
    b_str(&x, "images@2");
    b_str(&x, "hand made");
    b_str(&x, "hand");
    b_le(&x, 0, 4); /* no tags */
    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_structured(&id, s, "registry.version", art, 1, x.b, x.n), 0);
    return id;
}

/* runs: {first, count, stage} triples */
static mlops_oid hand_state(mlops_store *s, const uint64_t (*runs)[3], size_t nruns, const mlops_oid *records,
                            size_t nrecords, uint64_t next)
{
    bytes x = { { 0 }, 0 };
    unsigned char head[4] = { 1, 0, 0, 0 };
    b_raw(&x, head, 4);
    b_str(&x, "m");
    b_str(&x, "hi");
    b_le(&x, 1000, 8);
    b_le(&x, 2000, 8);
    b_le(&x, next, 8);
    b_le(&x, 1, 4);
    b_str(&x, "k");
    b_str(&x, "v");
    b_le(&x, 1, 4);
    b_str(&x, "prod");
    b_le(&x, 3, 8);
    b_le(&x, nruns, 4);
    for (size_t i = 0; i < nruns; i++) {
        b_le(&x, runs[i][0], 8);
        b_le(&x, runs[i][1], 4);
        b_le(&x, runs[i][2], 1);
    }
    unsigned char change[4] = { MLOPS_REGISTRY_VERSION_REGISTERED, 0, 0, 0 };
    b_raw(&x, change, 4);
    b_le(&x, 2000, 8);
    b_le(&x, 3, 8);
    b_le(&x, 0, 8);
    b_str(&x, "u");
    b_str(&x, "");
    b_str(&x, "");
    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_structured(&id, s, "registry.state", records, nrecords, x.b, x.n), 0);
    return id;
}

START_TEST(handmade_objects)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops_oid art = tu_put_str(t.s, "hello world"); /* 11 bytes */
    mlops_oid recs[3] = { hand_record(t.s, &art, 1, 0), hand_record(t.s, &art, 3, 2), hand_record(t.s, &art, 2, 0) };
    const uint64_t runs[][3] = { { 1, 1, 0 }, { 3, 1, 2 } };
    point_ref(t.s, "m", (mlops_oid[]){ hand_state(t.s, runs, 2, recs, 2, 4) });
    mlops_registry_model *m = NULL;
    ck_assert_msg(mlops_registry_get_model(&m, t.s, "m") == 0, "%s", mlops_error_last());
    ck_assert_str_eq(m->description, "hi");
    ck_assert_int_eq(m->created_ms, 1000);
    ck_assert_int_eq(m->updated_ms, 2000);
    ck_assert_uint_eq(m->next_version, 4);
    ck_assert_uint_eq(m->nversions, 2);
    ck_assert_uint_eq(m->latest_version, 3);
    ck_assert_str_eq(m->tags[0].value, "v");
    ck_assert_str_eq(m->aliases[0].alias, "prod");
    mlops_registry_model_free(m);
    mlops_registry_version *v = NULL;
    ck_assert_int_eq(mlops_registry_resolve(&v, t.s, "m@prod"), 0);
    ck_assert_uint_eq(v->version, 3);
    ck_assert_int_eq(v->stage, MLOPS_REGISTRY_STAGE_PRODUCTION);
    ck_assert(same(&v->artifact, &art));
    ck_assert_uint_eq(v->size, 11);
    ck_assert_str_eq(v->run_id, "run-1");
    ck_assert_str_eq(v->dataset, "images@2");
    ck_assert_str_eq(v->user, "hand");
    ck_assert_int_eq(v->updated_ms, 1500);
    mlops_registry_version_free(v);
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "m"), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ev[0].kind, MLOPS_REGISTRY_VERSION_REGISTERED);
    ck_assert_str_eq(ev[0].user, "u");
    mlops_registry_history_free(ev, n);
    /* the library writes the same bytes for the same content: a no-op
     * rewrite through the codec gives the hand-made id */
    mlops__reg_state st;
    mlops_oid cur = ref_of(t.s, "m"), again;
    ck_assert_int_eq(mlops__reg_state_load(&st, t.s, &cur), 0);
    ck_assert_int_eq(mlops__reg_state_put(&again, t.s, &st), 0);
    ck_assert(same(&cur, &again));
    mlops__reg_state_dispose(&st);

    /* not canonical or not consistent: refused */
    const uint64_t split[][3] = { { 1, 1, 0 }, { 2, 1, 0 } };          /* one run written as two */
    const uint64_t backwards[][3] = { { 3, 1, 2 }, { 1, 1, 0 } };
    const uint64_t empty[][3] = { { 1, 0, 0 }, { 3, 1, 2 } };
    const uint64_t too_high[][3] = { { 1, 1, 0 }, { 3, 1, 2 } };      /* with next 3 */
    const uint64_t bad_stage[][3] = { { 1, 1, 0 }, { 3, 1, 4 } };
    const uint64_t huge[][3] = { { 1, 1, 0 }, { 3, 4000000000u, 2 } };
    mlops_oid r12[2] = { recs[0], recs[2] };
    struct {
        const uint64_t (*runs)[3];
        const mlops_oid *recs;
        size_t nrecs;
        uint64_t next;
    } bad[] = { { split, r12, 2, 4 },   { backwards, recs, 2, 4 }, { empty, recs, 2, 4 }, { too_high, recs, 2, 3 },
                { bad_stage, recs, 2, 4 }, { huge, recs, 2, 4 },    { runs, recs, 1, 4 }, { runs, recs, 3, 4 } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        point_ref(t.s, "m", (mlops_oid[]){ hand_state(t.s, bad[i].runs, 2, bad[i].recs, bad[i].nrecs, bad[i].next) });
        int rc = mlops_registry_get_model(&m, t.s, "m");
        ck_assert_msg(rc == MLOPS_ECORRUPT, "case %zu: %d %s", i, rc, mlops_error_last());
    }
    /* a record whose stage disagrees with the state */
    mlops_oid mismatch[2] = { recs[0], hand_record(t.s, &art, 3, 1) };
    point_ref(t.s, "m", (mlops_oid[]){ hand_state(t.s, runs, 2, mismatch, 2, 4) });
    tu_assert_err(mlops_registry_resolve(&v, t.s, "m@prod"), MLOPS_ECORRUPT);
    tu_store_destroy(&t);
}
END_TEST

/* The parser accepts exactly what the encoder writes: a state read back
 * encodes to the same bytes. */
START_TEST(canonical)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops_registry_tag tg[] = { { "b", "2" }, { "a", "1" } };
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "m", "text", tg, 2), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(register_artifact(t.s, "m", (mlops_oid[]){ artifact_of(t.s, 0, i) }), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "z", 3), 0);
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "m", "a", 1), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "m", 2, "Staging", 1), 0);
    mlops_oid id = ref_of(t.s, "m"), again;
    mlops__reg_state st;
    ck_assert_int_eq(mlops__reg_state_load(&st, t.s, &id), 0);
    ck_assert_int_eq(mlops__reg_state_put(&again, t.s, &st), 0);
    ck_assert(same(&id, &again));
    ck_assert_uint_eq(st.naliases, 2);
    ck_assert_str_eq(st.aliases[0].alias, "a");
    ck_assert_int_eq(st.versions[1].stage, MLOPS_REGISTRY_STAGE_STAGING);
    mlops__reg_state_dispose(&st);
    tu_store_destroy(&t);
}
END_TEST

/* gc keeps every state, record and artifact reachable from the model ref
 * (deleted versions included: the history links them). */
START_TEST(gc_keeps_history)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "m", NULL, NULL, 0), 0);
    mlops_oid a1 = artifact_of(t.s, 1, 1), a2 = artifact_of(t.s, 1, 2);
    ck_assert_int_eq(register_artifact(t.s, "m", &a1), 0);
    ck_assert_int_eq(register_artifact(t.s, "m", &a2), 0);
    ck_assert_int_eq(mlops_registry_delete_version(t.s, "m", 1), 0);
    tu_put_str(t.s, "unreachable");
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 0;
    mlops_gc_report r;
    ck_assert_int_eq(mlops_store_gc(&r, t.s, &go, NULL, NULL), 0);
    ck_assert_uint_le(r.freed, 1); /* the unreachable blob only (fs: may still count as young) */
    ck_assert_int_eq(mlops_object_exists(t.s, &a1), 1);
    ck_assert_int_eq(mlops_object_exists(t.s, &a2), 1);
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "m"), 0);
    ck_assert_uint_eq(n, 4);
    mlops_registry_history_free(ev, n);
    mlops_registry_version *v = NULL;
    ck_assert_int_eq(mlops_registry_resolve(&v, t.s, "m/2"), 0);
    mlops_registry_version_free(v);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not a timed test: prints what 1,000 versions cost (issue 5's targets
 * are measured by the benchmark). */
/* archive_existing over more versions than a change detail lists (64
 * KiB, lowered here to 24 bytes): the list ends with "+N more" and the
 * model stays readable (the detail was once written whole, and a state
 * with a detail over 64 KiB could not be read back). */
START_TEST(archive_many)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "wide", NULL, NULL, 0), 0);
    mlops_oid a = tu_put_str(t.s, "one artifact for every version");
    enum { N = 30 };
    for (int i = 1; i <= N + 1; i++)
        ck_assert_int_eq(register_artifact(t.s, "wide", &a), 0);
    for (uint64_t v = 1; v <= N; v++)
        ck_assert_int_eq(mlops_registry_transition_stage(NULL, t.s, "wide", v, "Production", 0), 0);
    size_t saved = mlops__reg_archived_list_max;
    mlops__reg_archived_list_max = 24;
    int rc = mlops_registry_transition_stage(NULL, t.s, "wide", N + 1, "Production", 1);
    mlops__reg_archived_list_max = saved;
    ck_assert_int_eq(rc, 0);
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "wide"), 0);
    ck_assert_int_eq(ev[n - 1].kind, MLOPS_REGISTRY_STAGE_CHANGED);
    /* a number is listed while the list has room for any u64 and a comma
     * (21 bytes) below the limit: 0, 1 and 3 bytes long, then 5 */
    ck_assert_str_eq(ev[n - 1].detail, "1,2,3,+27 more");
    mlops_registry_history_free(ev, n);
    mlops_registry_version *v = NULL;
    ck_assert_int_eq(mlops_registry_get_version(&v, t.s, "wide", N), 0);
    ck_assert_int_eq(v->stage, MLOPS_REGISTRY_STAGE_ARCHIVED);
    mlops_registry_version_free(v);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(many_versions)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL); /* durability commit */
    ck_assert_int_eq(mlops_registry_create_model(NULL, t.s, "big", NULL, NULL, 0), 0);
    static mlops_oid arts[1000];
    for (int i = 0; i < 1000; i++)
        arts[i] = artifact_of(t.s, 9, i);
    double t0 = now_s();
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(register_artifact(t.s, "big", &arts[i]), 0);
    double t1 = now_s();
    ck_assert_int_eq(mlops_registry_set_alias(t.s, "big", "champion", 500), 0);
    double t2 = now_s();
    for (int i = 0; i < 100; i++) {
        mlops_registry_version *v = NULL;
        ck_assert_int_eq(mlops_registry_resolve(&v, t.s, "big@champion"), 0);
        ck_assert_uint_eq(v->version, 500);
        mlops_registry_version_free(v);
    }
    double t3 = now_s();
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_registry_history(&ev, &n, t.s, "big"), 0);
    ck_assert_uint_eq(n, 1002);
    mlops_registry_history_free(ev, n);
    double t4 = now_s();
    fprintf(stderr, "# 1000 registrations %.3f s, resolve alias %.1f us, history of 1002 %.1f ms\n", t1 - t0,
            (t3 - t2) * 1e6 / 100, (t4 - t3) * 1e3);
    tu_store_destroy(&t);
}
END_TEST

/* ---- out of memory ------------------------------------------------------------------------ */

typedef struct oom_ctx {
    mlops_store *s;
    mlops_oid fresh;
    const char *file;
} oom_ctx;

static int op_create(oom_ctx *c)
{
    mlops_registry_tag tg[] = { { "k", "v" } };
    mlops_registry_model *m = NULL;
    int rc = mlops_registry_create_model(&m, c->s, "new", "d", tg, 1);
    mlops_registry_model_free(m);
    return rc;
}

static int op_register(oom_ctx *c)
{
    mlops_registry_tag tg[] = { { "k", "v" } };
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &c->fresh;
    o.run_id = "r";
    o.tags = tg;
    o.ntags = 1;
    mlops_registry_version *v = NULL;
    int rc = mlops_registry_register(&v, c->s, "m", &o);
    mlops_registry_version_free(v);
    return rc;
}

static int op_register_path(oom_ctx *c)
{
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.path = c->file;
    o.description = "from a file";
    mlops_registry_version *v = NULL;
    int rc = mlops_registry_register(&v, c->s, "m", &o);
    mlops_registry_version_free(v);
    return rc;
}

static int op_description(oom_ctx *c)
{
    return mlops_registry_set_model_description(c->s, "m", "new text");
}

static int op_delete_alias(oom_ctx *c)
{
    return mlops_registry_delete_alias(c->s, "m", "old");
}

static int op_delete_model(oom_ctx *c)
{
    return mlops_registry_delete_model(c->s, "m", 1);
}

static int op_alias(oom_ctx *c)
{
    return mlops_registry_set_alias(c->s, "m", "champion", 2);
}

static int op_transition(oom_ctx *c)
{
    mlops_registry_version *v = NULL;
    int rc = mlops_registry_transition_stage(&v, c->s, "m", 2, "Production", 1);
    mlops_registry_version_free(v);
    return rc;
}

static int op_version_tag(oom_ctx *c)
{
    return mlops_registry_set_version_tag(c->s, "m", 1, "acc", "0.9");
}

static int op_delete_version(oom_ctx *c)
{
    return mlops_registry_delete_version(c->s, "m", 1);
}

static int op_rename(oom_ctx *c)
{
    return mlops_registry_rename_model(c->s, "m", "renamed");
}

static int op_reads(oom_ctx *c)
{
    mlops_registry_version *v = NULL;
    mlops_registry_version **vl = NULL;
    mlops_registry_model **ml = NULL;
    mlops_registry_event *ev = NULL;
    size_t n = 0;
    int rc = mlops_registry_resolve(&v, c->s, "models:/m@old");
    mlops_registry_version_free(v);
    if (rc == 0 && (rc = mlops_registry_list_versions(&vl, &n, c->s, "m")) == 0)
        mlops_registry_version_list_free(vl, n);
    if (rc == 0 && (rc = mlops_registry_list_models(&ml, &n, c->s, "")) == 0)
        mlops_registry_model_list_free(ml, n);
    if (rc == 0 && (rc = mlops_registry_history(&ev, &n, c->s, "m")) == 0)
        mlops_registry_history_free(ev, n);
    return rc;
}

static void setup(oom_ctx *c)
{
    ck_assert_int_eq(mlops_store_open_memory(&c->s, NULL), 0);
    ck_assert_int_eq(mlops_registry_create_model(NULL, c->s, "m", NULL, NULL, 0), 0);
    ck_assert_int_eq(register_artifact(c->s, "m", (mlops_oid[]){ artifact_of(c->s, 0, 1) }), 0);
    ck_assert_int_eq(register_artifact(c->s, "m", (mlops_oid[]){ artifact_of(c->s, 0, 2) }), 0);
    ck_assert_int_eq(mlops_registry_set_alias(c->s, "m", "old", 1), 0);
    ck_assert_int_eq(mlops_registry_transition_stage(NULL, c->s, "m", 1, "Production", 0), 0);
    c->fresh = artifact_of(c->s, 0, 3);
}

static void oom_loop(const char *name, int (*op)(oom_ctx *), const char *file)
{
    unsigned long n;
    for (n = 1; n < 20000; n++) {
        tu_alloc al;
        memset(&al, 0, sizeof al);
        tu_alloc_install(&al);
        oom_ctx c;
        setup(&c);
        c.file = file;
        mlops_oid before = ref_of(c.s, "m");
        al.fail_at = al.calls + n;
        int rc = op(&c);
        al.fail_at = 0;
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "%s: allocation %lu: %d %s", name, n, rc, mlops_error_last());
        if (rc == MLOPS_ENOMEM) {
            mlops_oid after = ref_of(c.s, "m");
            ck_assert_msg(same(&before, &after), "%s: allocation %lu: the model changed", name, n);
            ck_assert_msg(op(&c) == 0, "%s: not usable after allocation %lu failed: %s", name, n, mlops_error_last());
        }
        mlops_store_free(c.s);
        tu_alloc_remove();
        ck_assert_msg(al.outstanding == 0, "%s: allocation %lu: %ld blocks leaked", name, n, al.outstanding);
        if (rc == 0 && al.failures == 0)
            break;
    }
    fprintf(stderr, "# oom %s: success at N=%lu\n", name, n);
    ck_assert_uint_gt(n, 1);
    ck_assert_uint_lt(n, 20000);
}

START_TEST(oom)
{
    char *dir = tu_mkdtemp(), *file = tu_path("%s/model.bin", dir);
    tu_write_file(file, "weights from a file", 19);
    oom_loop("create", op_create, file);
    oom_loop("register", op_register, file);
    oom_loop("register path", op_register_path, file);
    oom_loop("description", op_description, file);
    oom_loop("alias", op_alias, file);
    oom_loop("delete alias", op_delete_alias, file);
    oom_loop("transition", op_transition, file);
    oom_loop("version tag", op_version_tag, file);
    oom_loop("delete version", op_delete_version, file);
    oom_loop("delete model", op_delete_model, file);
    oom_loop("rename", op_rename, file);
    oom_loop("reads", op_reads, file);
    tu_rmrf(dir);
    free(dir);
    free(file);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry_robust");
    TCase *tc = tcase_create("registry_robust");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, concurrent_registrations);
    tcase_add_loop_test(tc, threads_one_handle, 0, TU_KINDS);
    tcase_add_loop_test(tc, retry_budget, 0, TU_KINDS);
    tcase_add_test(tc, retry_budget_public);
    tcase_add_loop_test(tc, corrupt_states, 0, TU_KINDS);
    tcase_add_test(tc, canonical);
    tcase_add_test(tc, handmade_objects);
    tcase_add_loop_test(tc, gc_keeps_history, 0, TU_KINDS);
    tcase_add_test(tc, many_versions);
    tcase_add_test(tc, archive_many);
    tcase_add_test(tc, oom);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
