/* Datasets: version history, resolution of every ref form, tags, version
 * records (byte layout written out here independently, crafted records),
 * concurrent committers, pointer files, out-of-memory loops.
 * Snapshots are made with mlops__tree_put, without files on disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data/data_internal.h"
#include "data/version_record.h"
#include "store/structured.h"
#include "mlops/data.h"
#include "testutil.h"

static const mlops_oid zero;

/* A snapshot of two files: "data.bin" (content depends on seed) and
 * "readme" (5 bytes). Returns its id; *size gets its byte total. */
static mlops_oid snap_sized(mlops_store *s, unsigned seed, uint64_t *size)
{
    char content[64];
    snprintf(content, sizeof content, "content of snapshot %u", seed);
    mlops__tree_entry e[2];
    memset(e, 0, sizeof e);
    e[0].name = "data.bin";
    e[0].name_len = 8;
    e[0].type = MLOPS_DATA_FILE;
    e[0].size = strlen(content);
    e[0].files = 1;
    e[0].id = tu_put_str(s, content);
    e[1].name = "readme";
    e[1].name_len = 6;
    e[1].type = MLOPS_DATA_FILE;
    e[1].size = 5;
    e[1].files = 1;
    e[1].id = tu_put_str(s, "hello");
    mlops_oid id;
    ck_assert_int_eq(mlops__tree_put(&id, s, e, 2, 0), 0);
    if (size)
        *size = strlen(content) + 5;
    return id;
}

static mlops_oid snap(mlops_store *s, unsigned seed)
{
    return snap_sized(s, seed, NULL);
}

static mlops_data_version *commit(mlops_store *s, const char *ds, const mlops_oid *id,
                                  const mlops_data_commit_options *o)
{
    mlops_data_version *v = NULL;
    int rc = mlops_data_commit_snapshot(&v, s, ds, id, o);
    ck_assert_msg(rc == 0, "commit: %s", mlops_error_last());
    return v;
}

static int same(const mlops_oid *a, const mlops_oid *b)
{
    return mlops_oid_cmp(a, b) == 0;
}

static mlops_data_version *resolve_ok(mlops_store *s, const char *ref)
{
    mlops_data_version *v = NULL;
    int rc = mlops_data_resolve(&v, s, ref);
    ck_assert_msg(rc == 0, "resolve %s: %s", ref, mlops_error_last());
    return v;
}

static void resolve_err(mlops_store *s, const char *ref, int want)
{
    mlops_data_version *v = NULL;
    mlops_oid id;
    tu_assert_err(mlops_data_resolve(&v, s, ref), want);
    ck_assert_ptr_null(v);
    tu_assert_err(mlops__data_resolve_id(&id, s, ref), want);
}

/* ---- history and resolution ---------------------------------------------- */

START_TEST(history)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid ids[5];
    mlops_data_version *v[5];
    mlops_data_commit_options o;
    ck_assert_int_eq(mlops_data_commit_options_init(&o, MLOPS_DATA_COMMIT_OPTIONS_VERSION), 0);
    o.user = "alice";
    for (unsigned i = 0; i < 5; i++) {
        uint64_t size;
        ids[i] = snap_sized(t.s, i, &size);
        char msg[32];
        snprintf(msg, sizeof msg, "commit %u", i + 1);
        o.message = msg;
        v[i] = commit(t.s, "images", &ids[i], &o);
        ck_assert_str_eq(v[i]->dataset, "images");
        ck_assert_uint_eq(v[i]->version, i + 1);
        ck_assert_int_eq(v[i]->created, 1);
        ck_assert(same(&v[i]->id, &ids[i]));
        ck_assert(same(&v[i]->parent, i ? &v[i - 1]->record : &zero));
        ck_assert(!same(&v[i]->record, &zero));
        ck_assert_str_eq(v[i]->message, msg);
        ck_assert_str_eq(v[i]->user, "alice");
        ck_assert_uint_eq(v[i]->size, size);
        ck_assert_uint_eq(v[i]->files, 2);
        ck_assert_uint_eq(v[i]->ntags, 0);
        ck_assert(v[i]->time_ms > 1600000000000LL);
    }
    mlops_data_version **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_data_versions(&list, &n, t.s, "images"), 0);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(list[i]->version, i + 1);
        ck_assert(same(&list[i]->record, &v[i]->record));
        ck_assert(same(&list[i]->id, &ids[i]));
        ck_assert_str_eq(list[i]->message, v[i]->message);
        ck_assert_int_eq(list[i]->time_ms, v[i]->time_ms);
        ck_assert_int_eq(list[i]->created, 0);
    }
    mlops_data_version_list_free(list, n);

    const char *latest[] = { "images", "images@latest", "images@5" };
    for (size_t k = 0; k < 3; k++) {
        mlops_data_version *r = resolve_ok(t.s, latest[k]);
        ck_assert(same(&r->record, &v[4]->record));
        ck_assert_uint_eq(r->version, 5);
        mlops_data_version_free(r);
    }
    for (unsigned i = 1; i <= 5; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "images@%u", i);
        mlops_data_version *r = resolve_ok(t.s, ref);
        ck_assert(same(&r->record, &v[i - 1]->record));
        ck_assert(same(&r->parent, &v[i - 1]->parent));
        mlops_oid id;
        ck_assert_int_eq(mlops__data_resolve_id(&id, t.s, ref), 0);
        ck_assert(same(&id, &ids[i - 1]));
        mlops_data_version_free(r);
    }
    /* a raw id: the bare snapshot */
    char hex[65];
    tu_hex(&ids[2], hex);
    mlops_data_version *r = resolve_ok(t.s, hex);
    ck_assert_ptr_null(r->dataset);
    ck_assert_uint_eq(r->version, 0);
    ck_assert(same(&r->id, &ids[2]));
    ck_assert(same(&r->record, &zero));
    ck_assert_uint_eq(r->size, v[2]->size);
    ck_assert_uint_eq(r->files, 2);
    ck_assert_str_eq(r->message, "");
    mlops_data_version_free(r);
    for (int i = 0; i < 5; i++)
        mlops_data_version_free(v[i]);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(resolve_errors)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid id = snap(t.s, 1);
    mlops_data_version_free(commit(t.s, "ds", &id, NULL));
    mlops_data_version_free(commit(t.s, "ds", (mlops_oid[]){ snap(t.s, 2) }, NULL));
    const char *invalid[] = { "ds@0", "ds@01", "ds@-1", "ds@", "ds@+1", "ds@a@b", "ds@latest@1",
                              "ds@x/y", "ds@.t", "ds@-t", "@1", "", "a/b", "../x", ".hidden", "a b", "-x", "ds@1 ",
                              "ds@99999999999999999999999", "ds@t\n", "caf\xc3\xa9" };
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        resolve_err(t.s, invalid[i], MLOPS_EINVALID);
    char big[140];
    memset(big, 'n', sizeof big);
    big[129] = 0;
    resolve_err(t.s, big, MLOPS_EINVALID); /* 129 bytes */
    big[128] = 0;
    resolve_err(t.s, big, MLOPS_ENOTFOUND); /* 128: a valid, unknown name */
    const char *missing[] = { "nope",           "nope@1", "nope@t", "ds@3", "ds@18446744073709551615",
                              "ds@unknown-tag", "ds@1.0" };
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++)
        resolve_err(t.s, missing[i], MLOPS_ENOTFOUND);
    /* ids: lowercase only; an uppercase one reads as a (missing) dataset name */
    char hex[65];
    tu_hex(&id, hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'a')
            *p = (char)(*p - 'a' + 'A');
    resolve_err(t.s, hex, MLOPS_ENOTFOUND);
    resolve_err(t.s, "00000000000000000000000000000000000000000000000000000000000000ff", MLOPS_ENOTFOUND);
    /* an existing object that is no manifest */
    mlops_oid blob = tu_put_str(t.s, "just bytes");
    tu_hex(&blob, hex);
    mlops_data_version *v = NULL;
    tu_assert_err(mlops_data_resolve(&v, t.s, hex), MLOPS_EINVALID);
    tu_assert_err(mlops_data_resolve(NULL, t.s, "ds"), MLOPS_EINVALID);
    tu_assert_err(mlops_data_resolve(&v, NULL, "ds"), MLOPS_EINVALID);
    tu_assert_err(mlops_data_resolve(&v, t.s, NULL), MLOPS_EINVALID);
    mlops_data_version **list = NULL;
    size_t n = 0;
    tu_assert_err(mlops_data_versions(&list, &n, t.s, "nope"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_versions(&list, &n, t.s, "a/b"), MLOPS_EINVALID);
    tu_assert_err(mlops_data_versions(NULL, &n, t.s, "ds"), MLOPS_EINVALID);
    mlops_data_version_free(NULL);
    mlops_data_version_list_free(NULL, 3);
    tu_store_destroy(&t);
}
END_TEST

/* ---- commits ------------------------------------------------------------- */

START_TEST(commit_rules)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = snap(t.s, 1), b = snap(t.s, 2);
    mlops_data_version *v1 = commit(t.s, "ds", &a, NULL);
    mlops_data_version *again = commit(t.s, "ds", &a, NULL);
    ck_assert_int_eq(again->created, 0);
    ck_assert_uint_eq(again->version, 1);
    ck_assert(same(&again->record, &v1->record));
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.flags = MLOPS_DATA_COMMIT_ALLOW_EMPTY;
    mlops_data_version *v2 = commit(t.s, "ds", &a, &o);
    ck_assert_int_eq(v2->created, 1);
    ck_assert_uint_eq(v2->version, 2);
    ck_assert(same(&v2->id, &a));
    ck_assert(same(&v2->parent, &v1->record));
    /* an older snapshot again is a new version: only the latest counts */
    mlops_data_version *v3 = commit(t.s, "ds", &b, NULL), *v4 = commit(t.s, "ds", &a, NULL);
    ck_assert_uint_eq(v4->version, 4);
    ck_assert_int_eq(v4->created, 1);
    ck_assert_int_eq(mlops_data_commit_snapshot(NULL, t.s, "ds", &a, NULL), 0); /* out may be NULL */

    /* user: $USER, explicit, empty */
    setenv("USER", "bob", 1);
    mlops_data_version *u = commit(t.s, "users", &a, NULL);
    ck_assert_str_eq(u->user, "bob");
    ck_assert_str_eq(u->message, "");
    mlops_data_version_free(u);
    o.user = "";
    u = commit(t.s, "users", &a, &o);
    ck_assert_str_eq(u->user, "");
    mlops_data_version_free(u);
    unsetenv("USER");
    o.user = NULL;
    u = commit(t.s, "users", &a, &o); /* the login name, or "" without one */
    ck_assert_ptr_nonnull(u->user);
    mlops_data_version_free(u);

    /* refusals: nothing is made */
    mlops_data_version *x = NULL;
    mlops_oid blob = tu_put_str(t.s, "not a manifest"), missing = zero;
    missing.id[0] = 1;
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &blob, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &missing, NULL), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "a/b", &a, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "", &a, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, NULL, &a, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_snapshot(&x, NULL, "ds", &a, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit(&x, t.s, "ds", NULL, NULL), MLOPS_EINVALID);
    mlops_data_commit_options bad = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    bad.version = 99;
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &b, &bad), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_options_init(&bad, 99), MLOPS_EINVALID);
    tu_assert_err(mlops_data_commit_options_init(NULL, MLOPS_DATA_COMMIT_OPTIONS_VERSION), MLOPS_EINVALID);
    mlops_data_commit_options_init(&bad, MLOPS_DATA_COMMIT_OPTIONS_VERSION);
    bad.flags = 0x80;
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &b, &bad), MLOPS_EINVALID);
    bad.flags = 0;
    char *longmsg = calloc(1, MLOPS__DATA_MESSAGE_MAX + 2);
    memset(longmsg, 'm', MLOPS__DATA_MESSAGE_MAX + 1);
    bad.message = longmsg;
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &b, &bad), MLOPS_EINVALID);
    longmsg[MLOPS__DATA_MESSAGE_MAX] = 0; /* exactly the limit is fine */
    mlops_data_version *big = commit(t.s, "long", &b, &bad);
    mlops_data_version *bigr = resolve_ok(t.s, "long");
    ck_assert_str_eq(bigr->message, longmsg);
    mlops_data_version_free(big);
    mlops_data_version_free(bigr);
    free(longmsg);
    bad.message = NULL;
    const char *badtags[] = { "latest", "123", "", "a/b", ".x" };
    for (size_t i = 0; i < 5; i++) {
        bad.tags = &badtags[i];
        bad.ntags = 1;
        tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &b, &bad), MLOPS_EINVALID);
    }
    bad.tags = NULL;
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &b, &bad), MLOPS_EINVALID);
    ck_assert_ptr_null(x);
    mlops_data_version *head = resolve_ok(t.s, "ds");
    ck_assert_uint_eq(head->version, 4);
    mlops_data_version_free(head);
    mlops_data_version *dv = NULL;
    tu_assert_err(mlops_data_commit(&dv, t.s, "ds", "/nonexistent/path/for/data", NULL), MLOPS_ENOTFOUND);
    mlops_data_version_free(v1);
    mlops_data_version_free(again);
    mlops_data_version_free(v2);
    mlops_data_version_free(v3);
    mlops_data_version_free(v4);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* mlops_data_commit: the snapshot module, then the same commit. */
START_TEST(commit_directory)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp(), *tree = tu_path("%s/tree", dir), *ptr = tu_path("%s/tree.mlptr", dir);
    char *f1 = tu_path("%s/a.txt", tree), *f2 = tu_path("%s/b.txt", tree);
    ck_assert_int_eq(mkdir(tree, 0777), 0);
    tu_write_file(f1, "alpha", 5);
    tu_write_file(f2, "beta!!", 6);
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.pointer_path = ptr;
    o.message = "first";
    mlops_data_version *v1 = NULL, *same_tree = NULL, *v2 = NULL, *r = NULL;
    ck_assert_msg(mlops_data_commit(&v1, t.s, "files", tree, &o) == 0, "%s", mlops_error_last());
    ck_assert_uint_eq(v1->version, 1);
    ck_assert_uint_eq(v1->files, 2);
    ck_assert_uint_eq(v1->size, 11);
    ck_assert_int_eq(mlops_data_commit(&same_tree, t.s, "files", tree, NULL), 0);
    ck_assert_int_eq(same_tree->created, 0);
    ck_assert(same(&same_tree->record, &v1->record));
    tu_write_file(f2, "beta changed", 12);
    ck_assert_int_eq(mlops_data_commit(&v2, t.s, "files", tree, NULL), 0);
    ck_assert_uint_eq(v2->version, 2);
    ck_assert_uint_eq(v2->size, 17);
    ck_assert_int_eq(mlops_data_pointer_read(&r, t.s, ptr), 0); /* still version 1 */
    ck_assert(same(&r->record, &v1->record));
    mlops_data_version_free(r);
    mlops_data_version_free(v1);
    mlops_data_version_free(same_tree);
    mlops_data_version_free(v2);
    tu_verify_clean(t.s);
    tu_rmrf(dir);
    free(dir);
    free(tree);
    free(ptr);
    free(f1);
    free(f2);
    tu_store_destroy(&t);
}
END_TEST

static int collect_names(const char *name, void *payload)
{
    char *out = payload;
    strcat(out, name);
    strcat(out, ",");
    return 0;
}

static int stop_at_second(const char *name, void *payload)
{
    (void)name;
    return ++*(int *)payload == 2;
}

START_TEST(list_datasets)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char names[256] = "";
    ck_assert_int_eq(mlops_data_list(t.s, collect_names, names), 0);
    ck_assert_str_eq(names, "");
    mlops_oid a = snap(t.s, 1);
    const char *ds[] = { "b", "a", "c", "B", "a.b", "a-b" };
    for (size_t i = 0; i < 6; i++)
        mlops_data_version_free(commit(t.s, ds[i], &a, NULL));
    /* refs under the prefix that no dataset could have: skipped */
    ck_assert_int_eq(mlops_ref_set(t.s, "data/datasets/x/y", &a, NULL), 0);
    ck_assert_int_eq(mlops_data_list(t.s, collect_names, names), 0);
    ck_assert_str_eq(names, "B,a,a-b,a.b,b,c,");
    int calls = 0;
    tu_assert_err(mlops_data_list(t.s, stop_at_second, &calls), MLOPS_EUSER);
    ck_assert_int_eq(calls, 2);
    tu_assert_err(mlops_data_list(NULL, collect_names, names), MLOPS_EINVALID);
    tu_assert_err(mlops_data_list(t.s, NULL, names), MLOPS_EINVALID);
    tu_store_destroy(&t);
}
END_TEST

/* ---- tags ---------------------------------------------------------------- */

static void assert_tags(const mlops_data_version *v, const char *want)
{
    char got[256] = "";
    for (size_t i = 0; i < v->ntags; i++) {
        strcat(got, v->tags[i]);
        strcat(got, ",");
    }
    ck_assert_str_eq(got, want);
}

START_TEST(tags)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = snap(t.s, 1), b = snap(t.s, 2), c = snap(t.s, 3);
    const char *tg[] = { "prod", "Alpha", "v1.0" };
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.tags = tg;
    o.ntags = 3;
    mlops_data_version *v1 = commit(t.s, "ds", &a, &o);
    assert_tags(v1, "Alpha,prod,v1.0,");
    mlops_data_version *v2 = commit(t.s, "ds", &b, NULL);
    assert_tags(v2, "");
    mlops_data_version *r = resolve_ok(t.s, "ds@prod");
    ck_assert_uint_eq(r->version, 1);
    assert_tags(r, "Alpha,prod,v1.0,");
    mlops_data_version_free(r);

    /* moving needs force; the same place is fine */
    tu_assert_err(mlops_data_tag(t.s, "ds", "prod", 0), MLOPS_EEXISTS);
    ck_assert_int_eq(mlops_data_tag(t.s, "ds@1", "prod", 0), 0);
    ck_assert_int_eq(mlops_data_tag(t.s, "ds@latest", "prod", 1), 0);
    r = resolve_ok(t.s, "ds@prod");
    ck_assert_uint_eq(r->version, 2);
    assert_tags(r, "prod,");
    mlops_data_version_free(r);
    ck_assert_int_eq(mlops_data_tag(t.s, "ds@Alpha", "beta", 0), 0); /* a tag as the ref */
    r = resolve_ok(t.s, "ds@1");
    assert_tags(r, "Alpha,beta,v1.0,");
    mlops_data_version_free(r);

    /* a commit whose tag names another version fails before committing */
    const char *taken[] = { "fresh", "beta" };
    o.tags = taken;
    o.ntags = 2;
    mlops_data_version *x = NULL;
    tu_assert_err(mlops_data_commit_snapshot(&x, t.s, "ds", &c, &o), MLOPS_EEXISTS);
    resolve_err(t.s, "ds@3", MLOPS_ENOTFOUND);
    resolve_err(t.s, "ds@fresh", MLOPS_ENOTFOUND);
    /* an unchanged commit still tags the latest */
    const char *more[] = { "prod", "again" };
    o.tags = more;
    x = commit(t.s, "ds", &b, &o);
    ck_assert_int_eq(x->created, 0);
    assert_tags(x, "again,prod,");
    mlops_data_version_free(x);

    /* untag */
    ck_assert_int_eq(mlops_data_untag(t.s, "ds", "again"), 0);
    resolve_err(t.s, "ds@again", MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_untag(t.s, "ds", "again"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_untag(t.s, "nope", "prod"), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_untag(t.s, "ds", "latest"), MLOPS_EINVALID);
    tu_assert_err(mlops_data_untag(t.s, "a/b", "prod"), MLOPS_EINVALID);
    tu_assert_err(mlops_data_untag(NULL, "ds", "prod"), MLOPS_EINVALID);

    /* refusals */
    char hex[65];
    tu_hex(&a, hex);
    tu_assert_err(mlops_data_tag(t.s, hex, "raw", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_data_tag(t.s, "0000000000000000000000000000000000000000000000000000000000000000", "raw", 1),
                  MLOPS_EINVALID);
    const char *badtags[] = { "latest", "42", "", "a/b", ".x", "-x", "a b", NULL };
    for (size_t i = 0; i < sizeof badtags / sizeof *badtags; i++)
        tu_assert_err(mlops_data_tag(t.s, "ds", badtags[i], 0), MLOPS_EINVALID);
    tu_assert_err(mlops_data_tag(t.s, "nope", "t", 0), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_tag(t.s, "ds@7", "t", 0), MLOPS_ENOTFOUND);
    tu_assert_err(mlops_data_tag(t.s, "ds@0", "t", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_data_tag(NULL, "ds", "t", 0), MLOPS_EINVALID);
    tu_assert_err(mlops_data_tag(t.s, NULL, "t", 0), MLOPS_EINVALID);

    /* tags of one dataset never show on another */
    mlops_data_version *o1 = commit(t.s, "other", &a, NULL);
    assert_tags(o1, "");
    mlops_data_version **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_data_versions(&list, &n, t.s, "ds"), 0);
    ck_assert_uint_eq(n, 2);
    assert_tags(list[0], "Alpha,beta,v1.0,");
    assert_tags(list[1], "prod,");
    mlops_data_version_list_free(list, n);
    mlops_data_version_free(o1);
    mlops_data_version_free(v1);
    mlops_data_version_free(v2);
    tu_verify_clean(t.s);
    tu_store_destroy(&t);
}
END_TEST

/* ---- version records ------------------------------------------------------ */

static void le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The record body as docs/FORMAT-data-datasets.md describes it, written
 * here without the library's encoder. Returns its length. */
static size_t body_of(unsigned char *out, uint64_t version, int64_t time_ms, uint64_t size, uint64_t files,
                      const mlops_oid *id, const mlops_oid *parent, const char *ds, size_t dlen, const char *user,
                      size_t ulen, const char *msg, size_t mlen)
{
    memset(out, 0, 112);
    out[0] = 1;
    le(out + 4, version, 8);
    le(out + 12, (uint64_t)time_ms, 8);
    le(out + 20, size, 8);
    le(out + 28, files, 8);
    le(out + 36, dlen, 4);
    le(out + 40, ulen, 4);
    le(out + 44, mlen, 4);
    memcpy(out + 48, id->id, 32);
    memcpy(out + 80, parent->id, 32);
    memcpy(out + 112, ds, dlen);
    memcpy(out + 112 + dlen, user, ulen);
    memcpy(out + 112 + dlen + ulen, msg, mlen);
    return 112 + dlen + ulen + mlen;
}

/* Versions 1 (snapshot a) and 2 (snapshot b, with user and message) of "ds". */
static void two_versions(mlops_store *s, mlops_oid *a, mlops_oid *b, mlops_data_version **v1,
                         mlops_data_version **v2, const char *user, const char *msg)
{
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.user = user;
    o.message = msg;
    *a = snap(s, 1);
    *b = snap(s, 2);
    *v1 = commit(s, "ds", a, NULL);
    *v2 = commit(s, "ds", b, &o);
}

START_TEST(record_layout)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops_oid a, b;
    mlops_data_version *v1, *v2;
    two_versions(t.s, &a, &b, &v1, &v2, "carol", "second");
    unsigned char want[512];
    static const unsigned char head[] = { 0x89, 'M', 'L', 'S', '\r', '\n', 0x1a, '\n', 1, 12, 0, 0, 2, 0, 0, 0 };
    size_t n = sizeof head;
    memcpy(want, head, n);
    memcpy(want + n, "data.version", 12);
    n += 12;
    memcpy(want + n, b.id, 32);
    memcpy(want + n + 32, v1->record.id, 32);
    n += 64;
    n += body_of(want + n, 2, v2->time_ms, v2->size, 2, &b, &v1->record, "ds", 2, "carol", 5, "second", 6);
    void *got = NULL;
    size_t len = 0;
    ck_assert_int_eq(mlops_object_get(&got, &len, t.s, &v2->record), 0);
    ck_assert_uint_eq(len, n);
    ck_assert_int_eq(memcmp(got, want, n), 0);
    mlops_oid id;
    ck_assert_int_eq(mlops_oid_hash(&id, want, n), 0);
    ck_assert(same(&id, &v2->record));
    mlops_free(got);
    /* version 1: one link, zero parent */
    ck_assert_int_eq(mlops_object_get(&got, &len, t.s, &v1->record), 0);
    ck_assert_int_eq(((unsigned char *)got)[12], 1);
    ck_assert_uint_eq(len, 16 + 12 + 32 + 112 + 2 + strlen(v1->user));
    mlops_free(got);
    mlops_data_version_free(v1);
    mlops_data_version_free(v2);
    tu_store_destroy(&t);
}
END_TEST

/* Parses bytes; on success the library must encode them back exactly. */
static int parse_canonical(const unsigned char *p, size_t len)
{
    mlops_data_version *v = NULL;
    int rc = mlops__version_record_parse(&v, p, len);
    if (rc < 0) {
        ck_assert_msg(rc == MLOPS_EINVALID || rc == MLOPS_EUNSUPPORTED, "rc %d", rc);
        ck_assert_ptr_null(v);
        return rc;
    }
    mlops_oid links[2];
    size_t nlinks = 0;
    mlops__buf body = MLOPS__BUF_INIT, whole = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__version_record_encode(links, &nlinks, &body, v), 0);
    ck_assert_int_eq(mlops__structured_encode(&whole, MLOPS__VERSION_TYPE, links, nlinks, body.ptr, body.len), 0);
    ck_assert_uint_eq(whole.len, len);
    ck_assert_int_eq(memcmp(whole.ptr, p, len), 0);
    mlops__buf_dispose(&body);
    mlops__buf_dispose(&whole);
    mlops_data_version_free(v);
    return 0;
}

/* Puts a data.version object with the given links and body. */
static mlops_oid put_record(mlops_store *s, const mlops_oid *links, size_t nlinks, const void *body, size_t len)
{
    mlops_oid id;
    ck_assert_int_eq(mlops_object_put_structured(&id, s, "data.version", links, nlinks, body, len), 0);
    return id;
}

START_TEST(record_parse_strict)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    mlops_oid a, b;
    mlops_data_version *v1, *v2;
    two_versions(t.s, &a, &b, &v1, &v2, "u", "m");
    unsigned char *p = NULL;
    size_t len = 0;
    ck_assert_int_eq(mlops_object_get((void **)&p, &len, t.s, &v2->record), 0);
    ck_assert_int_eq(parse_canonical(p, len), 0);
    for (size_t l = 0; l < len; l++)
        tu_assert_err(parse_canonical(p, l), MLOPS_EINVALID);
    unsigned char *q = malloc(len + 1);
    memcpy(q, p, len);
    q[len] = 'x';
    tu_assert_err(parse_canonical(q, len + 1), MLOPS_EINVALID);
    /* every single-bit change is refused or reads back canonically */
    size_t refused = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(q, p, len);
            q[i] ^= (unsigned char)(1u << bit);
            refused += parse_canonical(q, len) < 0;
        }
    ck_assert_uint_gt(refused, 8 * 60);
    size_t body = len - (16 + 12 + 64);
    memcpy(q, p, len);
    q[len - body] = 2;
    tu_assert_err(parse_canonical(q, len), MLOPS_EUNSUPPORTED);
    q[len - body] = 0;
    tu_assert_err(parse_canonical(q, len), MLOPS_EINVALID);

    /* rules a well-formed body can still break */
    unsigned char bd[512];
    mlops_oid links[2] = { a, v1->record }, junk;
    memset(junk.id, 0xab, 32);
    struct {
        uint64_t version;
        const mlops_oid *parent;
        size_t nlinks;
        const char *ds, *user;
        size_t ulen;
    } bad[] = {
        { 0, &zero, 1, "ds", "u", 1 },           /* version 0 */
        { 1, &v1->record, 2, "ds", "u", 1 },     /* version 1 with a parent */
        { 2, &zero, 1, "ds", "u", 1 },           /* version 2 without one */
        { 2, &v1->record, 1, "ds", "u", 1 },     /* link missing */
        { 1, &zero, 2, "ds", "u", 1 },           /* link extra */
        { 2, &junk, 2, "ds", "u", 1 },           /* links disagree with the body */
        { 1, &zero, 1, "a/b", "u", 1 },          /* bad dataset name */
        { 1, &zero, 1, "", "u", 1 },             /* empty dataset name */
        { 1, &zero, 1, "ds", "u\0v", 3 },        /* NUL in a string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = body_of(bd, bad[i].version, 0, 0, 0, &a, bad[i].parent, bad[i].ds, strlen(bad[i].ds),
                           bad[i].user, bad[i].ulen, "", 0);
        mlops_oid rid = put_record(t.s, links, bad[i].nlinks, bd, n);
        mlops_data_version *v = NULL;
        ck_assert_msg(mlops__version_record_load(&v, t.s, &rid) == MLOPS_EINVALID, "case %zu", i);
    }
    char user[300];
    memset(user, 'u', sizeof user);
    size_t n = body_of(bd, 1, 0, 0, 0, &a, &zero, "ds", 2, user, 257, "", 0);
    mlops_oid rid = put_record(t.s, links, 1, bd, n);
    mlops_data_version *v = NULL;
    tu_assert_err(mlops__version_record_load(&v, t.s, &rid), MLOPS_EINVALID);
    n = body_of(bd, 1, -5, 7, 9, &a, &zero, "ds", 2, user, 256, "", 0);
    rid = put_record(t.s, links, 1, bd, n);
    ck_assert_int_eq(mlops__version_record_load(&v, t.s, &rid), 0); /* the limit itself is fine */
    ck_assert_int_eq(v->time_ms, -5);
    ck_assert_uint_eq(v->size, 7);
    ck_assert(same(&v->record, &rid));
    mlops_data_version_free(v);
    free(q);
    mlops_free(p);
    mlops_data_version_free(v1);
    mlops_data_version_free(v2);
    tu_store_destroy(&t);
}
END_TEST

static void point(mlops_store *s, const char *ref, const mlops_oid *id)
{
    mlops_oid cur;
    ck_assert_int_eq(mlops_ref_set(s, ref, id, mlops_ref_get(&cur, s, ref) == 0 ? &cur : NULL), 0);
}

/* A dataset ref (or tag) pointing at anything but a proper record of it. */
START_TEST(crafted_records)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    mlops_oid a = snap(t.s, 1), b = snap(t.s, 2), c = snap(t.s, 3);
    mlops_data_version *v1 = commit(t.s, "ds", &a, NULL), *v2 = commit(t.s, "ds", &b, NULL);
    mlops_oid garbage = put_record(t.s, NULL, 0, "garbage", 7);
    mlops_oid blob = tu_put_str(t.s, "plain bytes");
    mlops_data_version *ov = commit(t.s, "other", &c, NULL);
    mlops_oid targets[] = { garbage, blob, a, ov->record /* a record of another dataset */ };
    mlops_data_version *v = NULL, **list = NULL;
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        point(t.s, "data/datasets/evil", &targets[i]);
        resolve_err(t.s, "evil", MLOPS_EINVALID);
        resolve_err(t.s, "evil@1", MLOPS_EINVALID);
        tu_assert_err(mlops_data_versions(&list, &n, t.s, "evil"), MLOPS_EINVALID);
        tu_assert_err(mlops_data_commit_snapshot(&v, t.s, "evil", &c, NULL), MLOPS_EINVALID);
        tu_assert_err(mlops_data_tag(t.s, "evil", "t", 0), MLOPS_EINVALID);
        point(t.s, "data/tags/ds/evil", &targets[i]);
        resolve_err(t.s, "ds@evil", MLOPS_EINVALID);
    }
    /* a chain that skips a version */
    unsigned char bd[256];
    mlops_oid links[2] = { c, v1->record }, junk;
    size_t len = body_of(bd, 3, 0, 0, 0, &c, &v1->record, "ds", 2, "", 0, "", 0);
    mlops_oid skip = put_record(t.s, links, 2, bd, len);
    point(t.s, "data/datasets/ds", &skip);
    mlops_data_version *r = resolve_ok(t.s, "ds");
    ck_assert_uint_eq(r->version, 3);
    mlops_data_version_free(r);
    resolve_err(t.s, "ds@2", MLOPS_EINVALID);
    resolve_err(t.s, "ds@1", MLOPS_EINVALID);
    tu_assert_err(mlops_data_versions(&list, &n, t.s, "ds"), MLOPS_EINVALID);
    /* a parent that is not in the store */
    memset(junk.id, 0x5c, 32);
    links[1] = junk;
    len = body_of(bd, 3, 0, 0, 0, &c, &junk, "ds", 2, "", 0, "", 0);
    mlops_oid dangling = put_record(t.s, links, 2, bd, len);
    point(t.s, "data/datasets/ds", &dangling);
    resolve_err(t.s, "ds@2", MLOPS_ECORRUPT);
    /* the last version number: no successor */
    len = body_of(bd, UINT64_MAX, 0, 0, 0, &c, &junk, "ds", 2, "", 0, "", 0);
    mlops_oid last = put_record(t.s, links, 2, bd, len);
    point(t.s, "data/datasets/ds", &last);
    tu_assert_err(mlops_data_commit_snapshot(&v, t.s, "ds", &a, NULL), MLOPS_EINVALID);
    r = resolve_ok(t.s, "ds@18446744073709551615");
    mlops_data_version_free(r);
    /* an unreadable record object */
    point(t.s, "data/datasets/ds", &v2->record);
    if (_i == TU_FS) {
        char *path = tu_object_path(t.dir, &v2->record);
        tu_flip_byte(path, 3);
        resolve_err(t.s, "ds", MLOPS_ECORRUPT);
        tu_assert_err(mlops_data_commit_snapshot(&v, t.s, "ds", &c, NULL), MLOPS_ECORRUPT);
        free(path);
    }
    mlops_data_version_free(ov);
    mlops_data_version_free(v1);
    mlops_data_version_free(v2);
    tu_store_destroy(&t);
}
END_TEST

/* ---- concurrency ----------------------------------------------------------- */

#define PROCS 8
#define PER_PROC 25

static int id_cmp(const void *a, const void *b)
{
    return mlops_oid_cmp(a, b);
}

static int child_commits(const char *dir, int p)
{
    mlops_store *s = NULL;
    if (mlops_store_open(&s, dir, NULL) != 0)
        return 1;
    for (int i = 0; i < PER_PROC; i++) {
        mlops_oid id = snap(s, (unsigned)(p * 1000 + i));
        mlops_data_version *v = NULL;
        char msg[32];
        snprintf(msg, sizeof msg, "p%d i%d", p, i);
        mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
        o.message = msg;
        int rc = mlops_data_commit_snapshot(&v, s, "shared", &id, &o);
        if (rc != 0 || !v->created) {
            fprintf(stderr, "child %d commit %d: %s\n", p, i, mlops_error_last());
            return 1;
        }
        mlops_data_version_free(v);
    }
    mlops_store_free(s);
    return 0;
}

START_TEST(concurrent_commits)
{
    tu_store t;
    tu_store_open(&t, TU_FS, NULL);
    tu_store_close(&t);
    tu_run_children(PROCS, child_commits, t.dir);
    tu_store_reopen(&t, NULL);
    mlops_data_version **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_data_versions(&list, &n, t.s, "shared"), 0);
    ck_assert_uint_eq(n, PROCS * PER_PROC);
    mlops_oid got[PROCS * PER_PROC], want[PROCS * PER_PROC];
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(list[i]->version, i + 1);
        ck_assert(same(&list[i]->parent, i ? &list[i - 1]->record : &zero));
        got[i] = list[i]->id;
    }
    for (int p = 0; p < PROCS; p++)
        for (int i = 0; i < PER_PROC; i++)
            want[p * PER_PROC + i] = snap(t.s, (unsigned)(p * 1000 + i));
    qsort(got, n, sizeof *got, id_cmp);
    qsort(want, n, sizeof *want, id_cmp);
    ck_assert_int_eq(memcmp(got, want, sizeof got), 0); /* each snapshot exactly once */
    mlops_data_version_list_free(list, n);
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

/* Not a timed test: prints how long the walks take over 1,000 versions. */
START_TEST(long_history)
{
    tu_store t;
    mlops_store_options so = MLOPS_STORE_OPTIONS_INIT;
    so.durability = MLOPS_DURABILITY_NONE;
    tu_store_open(&t, TU_FS, &so);
    mlops_oid a = snap(t.s, 1);
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.flags = MLOPS_DATA_COMMIT_ALLOW_EMPTY;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(mlops_data_commit_snapshot(NULL, t.s, "big", &a, &o), 0);
    double t0 = now_s();
    mlops_data_version *v = resolve_ok(t.s, "big@1");
    double t1 = now_s();
    ck_assert_uint_eq(v->version, 1);
    mlops_data_version_free(v);
    mlops_data_version **list = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlops_data_versions(&list, &n, t.s, "big"), 0);
    double t2 = now_s();
    ck_assert_uint_eq(n, 1000);
    mlops_data_version_list_free(list, n);
    fprintf(stderr, "# 1000 versions: resolve big@1 %.1f ms, versions %.1f ms\n", (t1 - t0) * 1e3,
            (t2 - t1) * 1e3);
    tu_store_destroy(&t);
}
END_TEST

/* ---- pointer files ------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    tu_write_file(path, text, strlen(text));
}

static void pointer_err(mlops_store *s, const char *path, int want)
{
    mlops_data_version *v = NULL;
    tu_assert_err(mlops_data_pointer_read(&v, s, path), want);
    ck_assert_ptr_null(v);
}

START_TEST(pointer_roundtrip)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    char *dir = tu_mkdtemp(), *ptr = tu_path("%s/data.mlptr", dir), *tmp = tu_path("%s/x.mlptr", dir);
    uint64_t size;
    mlops_oid a = snap_sized(t.s, 1, &size), b = snap(t.s, 2), c = snap(t.s, 3);
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.pointer_path = ptr;
    const char *tg[] = { "gold" };
    o.tags = tg;
    o.ntags = 1;
    mlops_data_version *v1 = commit(t.s, "images", &a, &o);
    char hex[65], want[512];
    tu_hex(&a, hex);
    snprintf(want, sizeof want, "mlops-pointer 1\ndataset images\nversion 1\nid %s\nsize %llu\nfiles 2\n", hex,
             (unsigned long long)size);
    char *text = tu_read_file(ptr, NULL);
    ck_assert_str_eq(text, want);
    free(text);
    mlops_data_version_free(commit(t.s, "images", &b, NULL)); /* the pointer still pins version 1 */
    mlops_data_version *r = NULL;
    ck_assert_int_eq(mlops_data_pointer_read(&r, t.s, ptr), 0);
    ck_assert_str_eq(r->dataset, "images");
    ck_assert_uint_eq(r->version, 1);
    ck_assert(same(&r->record, &v1->record));
    ck_assert(same(&r->id, &a));
    assert_tags(r, "gold,");
    mlops_data_version_free(r);

    /* the store's version has another snapshot */
    char bhex[65];
    tu_hex(&b, bhex);
    char *edited = strdup(want);
    memcpy(strstr(edited, hex), bhex, 64);
    write_text(tmp, edited);
    pointer_err(t.s, tmp, MLOPS_ECONFLICT);
    free(edited);
    edited = tu_path("mlops-pointer 1\ndataset images\nversion 1\nid %s\nsize %llu\nfiles 2\n", hex,
                     (unsigned long long)size + 1);
    write_text(tmp, edited);
    pointer_err(t.s, tmp, MLOPS_ECONFLICT);
    free(edited);

    /* dataset or version unknown to the store: the bare snapshot */
    const char *fmt[] = { "mlops-pointer 1\ndataset elsewhere\nversion 4\nid %s\nsize %llu\nfiles 2\n",
                          "mlops-pointer 1\ndataset images\nversion 9\nid %s\nsize %llu\nfiles 2\n",
                          "mlops-pointer 1\nid %s\nsize %llu\nfiles 2\n",
                          "mlops-pointer 1\nfiles 2\nsize %2$llu\nid %1$s\n" };
    for (size_t i = 0; i < 4; i++) {
        char line[512];
        snprintf(line, sizeof line, fmt[i], hex, (unsigned long long)size);
        write_text(tmp, line);
        ck_assert_int_eq(mlops_data_pointer_read(&r, t.s, tmp), 0);
        ck_assert_ptr_null(r->dataset);
        ck_assert_uint_eq(r->version, 0);
        ck_assert(same(&r->id, &a));
        ck_assert_uint_eq(r->size, size);
        mlops_data_version_free(r);
    }
    /* neither */
    snprintf(want, sizeof want, "mlops-pointer 1\ndataset elsewhere\nversion 4\nid %s\nsize 1\nfiles 1\n",
             "00000000000000000000000000000000000000000000000000000000000000ee");
    write_text(tmp, want);
    pointer_err(t.s, tmp, MLOPS_ENOTFOUND);

    /* write: a bare snapshot, and replacing a file */
    ck_assert_int_eq(mlops_data_resolve(&r, t.s, bhex), 0);
    ck_assert_int_eq(mlops_data_pointer_write(r, ptr), 0);
    mlops_data_version *back = NULL;
    ck_assert_int_eq(mlops_data_pointer_read(&back, t.s, ptr), 0);
    ck_assert_ptr_null(back->dataset);
    ck_assert(same(&back->id, &b));
    mlops_data_version_free(back);
    r->version = 2;
    tu_assert_err(mlops_data_pointer_write(r, ptr), MLOPS_EINVALID); /* version without a dataset */
    mlops_data_version_free(r);
    v1->version = 0;
    tu_assert_err(mlops_data_pointer_write(v1, ptr), MLOPS_EINVALID);
    v1->version = 1;
    tu_assert_err(mlops_data_pointer_write(NULL, ptr), MLOPS_EINVALID);
    tu_assert_err(mlops_data_pointer_write(v1, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_pointer_write(v1, ""), MLOPS_EINVALID);
    char *nodir = tu_path("%s/no/such/dir/p", dir);
    tu_assert_err(mlops_data_pointer_write(v1, nodir), MLOPS_ENOTFOUND);
    free(nodir);
    ck_assert_int_eq(mlops_data_pointer_write(v1, tmp), 0);
    /* nothing but the two pointer files: no temp file left behind */
    ck_assert_uint_eq(tu_count_files(dir), 2);
    char *cwd = getcwd(NULL, 0);
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(mlops_data_pointer_write(v1, "relative.mlptr"), 0); /* no directory part */
    ck_assert_int_eq(mlops_data_pointer_read(&r, t.s, "relative.mlptr"), 0);
    mlops_data_version_free(r);
    ck_assert_int_eq(chdir(cwd), 0);
    free(cwd);
    pointer_err(t.s, dir, MLOPS_EINVALID); /* a directory */
    char *fifo = tu_path("%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    pointer_err(t.s, fifo, MLOPS_EINVALID); /* refused at once, not waited on */
    unlink(fifo);
    free(fifo);
    char *missing = tu_path("%s/missing", dir);
    pointer_err(t.s, missing, MLOPS_ENOTFOUND);
    free(missing);
    tu_assert_err(mlops_data_pointer_read(NULL, t.s, ptr), MLOPS_EINVALID);
    tu_assert_err(mlops_data_pointer_read(&r, NULL, ptr), MLOPS_EINVALID);
    tu_assert_err(mlops_data_pointer_read(&r, t.s, NULL), MLOPS_EINVALID);
    (void)c;
    mlops_data_version_free(v1);
    tu_rmrf(dir);
    free(dir);
    free(ptr);
    free(tmp);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(pointer_malformed)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    uint64_t size;
    mlops_oid a = snap_sized(t.s, 1, &size);
    mlops_data_version_free(commit(t.s, "ds", &a, NULL));
    char *dir = tu_mkdtemp(), *p = tu_path("%s/p", dir);
    char hex[65];
    tu_hex(&a, hex);
    char up[65];
    for (int i = 0; i < 65; i++)
        up[i] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);
    /* {name, text with %s for the id} */
    const char *cases[][2] = {
        { "empty", "" },
        { "newer format", "mlops-pointer 2\nid %s\nsize 29\nfiles 2\n" },
        { "other magic", "version https://git-lfs.github.com/spec/v1\nid %s\nsize 29\nfiles 2\n" },
        { "magic with CR", "mlops-pointer 1\r\nid %s\nsize 29\nfiles 2\n" },
        { "missing id", "mlops-pointer 1\nsize 29\nfiles 2\n" },
        { "missing size", "mlops-pointer 1\nid %s\nfiles 2\n" },
        { "missing files", "mlops-pointer 1\nid %s\nsize 29\n" },
        { "dataset alone", "mlops-pointer 1\ndataset ds\nid %s\nsize 29\nfiles 2\n" },
        { "version alone", "mlops-pointer 1\nversion 1\nid %s\nsize 29\nfiles 2\n" },
        { "duplicate", "mlops-pointer 1\nid %s\nsize 29\nsize 29\nfiles 2\n" },
        { "unknown key", "mlops-pointer 1\nid %s\nsize 29\nfiles 2\nmessage hi\n" },
        { "key case", "mlops-pointer 1\nID %s\nsize 29\nfiles 2\n" },
        { "short id", "mlops-pointer 1\nid %.63s\nsize 29\nfiles 2\n" },
        { "long id", "mlops-pointer 1\nid %s0\nsize 29\nfiles 2\n" },
        { "non-hex id", "mlops-pointer 1\nid g%.63s\nsize 29\nfiles 2\n" },
        { "negative", "mlops-pointer 1\nid %s\nsize -1\nfiles 2\n" },
        { "plus", "mlops-pointer 1\nid %s\nsize +29\nfiles 2\n" },
        { "leading zero", "mlops-pointer 1\nid %s\nsize 029\nfiles 2\n" },
        { "fraction", "mlops-pointer 1\nid %s\nsize 29.0\nfiles 2\n" },
        { "hex number", "mlops-pointer 1\nid %s\nsize 0x1d\nfiles 2\n" },
        { "overflow", "mlops-pointer 1\nid %s\nsize 18446744073709551616\nfiles 2\n" },
        { "empty value", "mlops-pointer 1\nid %s\nsize \nfiles 2\n" },
        { "no value", "mlops-pointer 1\nid %s\nsize\nfiles 2\n" },
        { "two spaces", "mlops-pointer 1\nid  %s\nsize 29\nfiles 2\n" },
        { "trailing space", "mlops-pointer 1\nid %s\nsize 29 \nfiles 2\n" },
        { "tab", "mlops-pointer 1\nid\t%s\nsize 29\nfiles 2\n" },
        { "version 0", "mlops-pointer 1\ndataset ds\nversion 0\nid %s\nsize 29\nfiles 2\n" },
        { "bad dataset", "mlops-pointer 1\ndataset ../x\nversion 1\nid %s\nsize 29\nfiles 2\n" },
        { "CRLF", "mlops-pointer 1\nid %s\r\nsize 29\r\nfiles 2\r\n" },
        { "no final newline", "mlops-pointer 1\nid %s\nsize 29\nfiles 2" },
        { "empty line", "mlops-pointer 1\nid %s\n\nsize 29\nfiles 2\n" },
        { "blank last line", "mlops-pointer 1\nid %s\nsize 29\nfiles 2\n\n" },
        { "leading blank line", "\nmlops-pointer 1\nid %s\nsize 29\nfiles 2\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512];
        snprintf(text, sizeof text, cases[i][1], hex);
        write_text(p, text);
        mlops_data_version *v = NULL;
        int rc = mlops_data_pointer_read(&v, t.s, p);
        ck_assert_msg(rc == MLOPS_EINVALID, "%s: got %d (%s)", cases[i][0], rc, mlops_error_last());
        ck_assert_msg(strstr(mlops_error_last(), "pointer file"), "%s: %s", cases[i][0], mlops_error_last());
    }
    char text[512];
    snprintf(text, sizeof text, "mlops-pointer 1\nid %s\nsize 29\nfiles 2\n", up);
    write_text(p, text);
    pointer_err(t.s, p, MLOPS_EINVALID); /* ids are lowercase */
    snprintf(text, sizeof text, "mlops-pointer 1\nid %s\nsize 2%c9\nfiles 2\n", hex, 0);
    tu_write_file(p, text, strlen(text) + strlen(text + strlen(text) + 1) + 1);
    pointer_err(t.s, p, MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "line 3"));
    snprintf(text, sizeof text, "mlops-pointer 1\nid %s\nsize 29\nfiles x\n", hex);
    write_text(p, text);
    pointer_err(t.s, p, MLOPS_EINVALID);
    ck_assert_ptr_nonnull(strstr(mlops_error_last(), "line 4"));
    /* oversize: a valid pointer followed by 64 KiB of padding lines */
    size_t big = 70000;
    char *huge = malloc(big);
    memset(huge, '\n', big);
    memcpy(huge, text, strlen(text));
    tu_write_file(p, huge, big);
    pointer_err(t.s, p, MLOPS_EINVALID);
    free(huge);
    /* the reference: the same text, well formed, is accepted */
    snprintf(text, sizeof text, "mlops-pointer 1\nid %s\nsize %llu\nfiles 2\n", hex, (unsigned long long)size);
    write_text(p, text);
    mlops_data_version *v = NULL;
    ck_assert_int_eq(mlops_data_pointer_read(&v, t.s, p), 0);
    mlops_data_version_free(v);
    tu_rmrf(dir);
    free(dir);
    free(p);
    tu_store_destroy(&t);
}
END_TEST

/* ---- out of memory ---------------------------------------------------------- */

typedef struct oom_ctx {
    mlops_store *s;
    mlops_oid a, b;
    const char *ptr;
} oom_ctx;

static int op_commit(oom_ctx *c)
{
    mlops_data_version *v = NULL;
    const char *tg[] = { "t1", "t2" };
    mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    o.tags = tg;
    o.ntags = 2;
    o.pointer_path = c->ptr;
    o.message = "msg";
    int rc = mlops_data_commit_snapshot(&v, c->s, "ds", &c->b, &o);
    mlops_data_version_free(v);
    return rc;
}

static int op_resolve(oom_ctx *c)
{
    mlops_data_version *v = NULL;
    int rc = mlops_data_resolve(&v, c->s, "ds@1");
    mlops_data_version_free(v);
    return rc;
}

static int op_versions(oom_ctx *c)
{
    mlops_data_version **l = NULL;
    size_t n = 0;
    int rc = mlops_data_versions(&l, &n, c->s, "ds");
    mlops_data_version_list_free(l, n);
    return rc;
}

static int op_tag(oom_ctx *c)
{
    return mlops_data_tag(c->s, "ds@1", "moved", 1);
}

static int op_pointer(oom_ctx *c)
{
    mlops_data_version *v = NULL;
    int rc = mlops_data_pointer_read(&v, c->s, c->ptr);
    mlops_data_version_free(v);
    return rc;
}

static int op_list(oom_ctx *c)
{
    char names[64] = "";
    return mlops_data_list(c->s, collect_names, names);
}

static void oom_loop(const char *name, int (*op)(oom_ctx *), const char *ptr)
{
    unsigned long n;
    for (n = 1; n < 5000; n++) {
        tu_alloc al;
        memset(&al, 0, sizeof al);
        tu_alloc_install(&al);
        oom_ctx c = { NULL, { { 0 } }, { { 0 } }, ptr };
        ck_assert_int_eq(mlops_store_open_memory(&c.s, NULL), 0);
        c.a = snap(c.s, 1);
        c.b = snap(c.s, 2);
        const char *tg[] = { "moved" };
        mlops_data_commit_options o = MLOPS_DATA_COMMIT_OPTIONS_INIT;
        o.tags = tg;
        o.ntags = 1;
        o.pointer_path = ptr;
        ck_assert_int_eq(mlops_data_commit_snapshot(NULL, c.s, "ds", &c.a, &o), 0);
        al.fail_at = al.calls + n;
        int rc = op(&c);
        al.fail_at = 0;
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "%s: allocation %lu: %d %s", name, n, rc, mlops_error_last());
        if (rc == MLOPS_ENOMEM)
            ck_assert_int_eq(op(&c), 0); /* still usable */
        mlops_store_free(c.s);
        tu_alloc_remove();
        ck_assert_msg(al.outstanding == 0, "%s: allocation %lu: %ld blocks leaked", name, n, al.outstanding);
        if (rc == 0 && al.failures == 0)
            break;
    }
    fprintf(stderr, "# oom %s: success at N=%lu\n", name, n);
    ck_assert_uint_gt(n, 1);
    ck_assert_uint_lt(n, 5000);
}

START_TEST(oom)
{
    char *dir = tu_mkdtemp(), *ptr = tu_path("%s/p.mlptr", dir);
    oom_loop("commit", op_commit, ptr);
    oom_loop("resolve", op_resolve, ptr);
    oom_loop("versions", op_versions, ptr);
    oom_loop("tag", op_tag, ptr);
    oom_loop("pointer", op_pointer, ptr);
    oom_loop("list", op_list, ptr);
    tu_rmrf(dir);
    free(dir);
    free(ptr);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_dataset");
    TCase *tc = tcase_create("datasets");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, history, 0, TU_KINDS);
    tcase_add_loop_test(tc, resolve_errors, 0, TU_KINDS);
    tcase_add_loop_test(tc, commit_rules, 0, TU_KINDS);
    tcase_add_loop_test(tc, commit_directory, 0, TU_KINDS);
    tcase_add_loop_test(tc, list_datasets, 0, TU_KINDS);
    tcase_add_loop_test(tc, tags, 0, TU_KINDS);
    tcase_add_test(tc, record_layout);
    tcase_add_test(tc, record_parse_strict);
    tcase_add_loop_test(tc, crafted_records, 0, TU_KINDS);
    tcase_add_test(tc, concurrent_commits);
    tcase_add_test(tc, long_history);
    tcase_add_loop_test(tc, pointer_roundtrip, 0, TU_KINDS);
    tcase_add_test(tc, pointer_malformed);
    tcase_add_test(tc, oom);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
