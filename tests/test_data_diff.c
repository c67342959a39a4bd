/* Data diff: exact change lists between versions built entry by entry,
 * and their JSON (read back by Python). Status is in test_data_status.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/data_internal.h"
#include "data/tree_diff.h"
#include "mlops/data.h"
#include "data_testutil.h"
#include "testutil.h"

/* ---- versions from a list of specs --------------------------------------
 * "path=content" file, "path*=content" executable file, "path@target"
 * symlink, "path/" empty directory. Directories on the way are implied. */

#define MAX_CHILDREN 64

typedef struct built {
    mlops_oid id;
    uint64_t size, files;
} built;

/* Where the name of the child below prefix ends in rest, and what follows. */
static size_t child_name_len(const char *rest)
{
    size_t k = 0;
    while (rest[k] && rest[k] != '/' && rest[k] != '=' && rest[k] != '@' && !(rest[k] == '*' && rest[k + 1] == '='))
        k++;
    return k;
}

static built build_dir(mlops_store *s, const char *const *specs, size_t n, const char *prefix, unsigned depth)
{
    mlops__tree_entry e[MAX_CHILDREN];
    built sub[MAX_CHILDREN];
    size_t ne = 0, plen = strlen(prefix);
    memset(e, 0, sizeof e);
    for (size_t k = 0; k < n; k++) {
        if (strncmp(specs[k], prefix, plen) != 0 || specs[k][plen] == '\0')
            continue;
        const char *rest = specs[k] + plen;
        size_t len = child_name_len(rest);
        size_t c = 0;
        while (c < ne && !(e[c].name_len == len && memcmp(e[c].name, rest, len) == 0))
            c++;
        if (c < ne)
            continue; /* a directory already built */
        ck_assert_uint_lt(ne, MAX_CHILDREN);
        mlops__tree_entry *x = &e[ne++];
        x->name = rest;
        x->name_len = len;
        const char *tail = rest + len;
        if (*tail == '/') {
            char *p = tu_path("%s%.*s/", prefix, (int)len, rest);
            sub[c] = build_dir(s, specs, n, p, depth + 1);
            free(p);
            x->type = MLOPS_DATA_DIR;
            x->id = sub[c].id;
            x->size = sub[c].size;
            x->files = sub[c].files;
        } else if (*tail == '@') {
            x->type = MLOPS_DATA_SYMLINK;
            x->target = tail + 1;
            x->target_len = strlen(tail + 1);
            x->size = x->target_len;
            ck_assert_int_eq(mlops_oid_hash(&x->id, x->target, x->target_len), 0);
        } else {
            if (*tail == '*') {
                x->flags = MLOPS__TREE_EXEC;
                tail++;
            }
            ck_assert_int_eq(*tail, '=');
            x->type = MLOPS_DATA_FILE;
            x->size = strlen(tail + 1);
            x->files = 1;
            x->id = tu_put_str(s, tail + 1);
        }
    }
    built b = { { { 0 } }, 0, 0 };
    for (size_t k = 0; k < ne; k++) {
        if (e[k].type != MLOPS_DATA_SYMLINK)
            b.size += e[k].size;
        b.files += e[k].files;
    }
    mlops__tree_sort(e, ne);
    ck_assert_int_eq(mlops__tree_put(&b.id, s, e, ne, depth), 0);
    return b;
}

#define SPECS(...) ((const char *const[]){ __VA_ARGS__ }), (sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

static built build(mlops_store *s, const char *const *specs, size_t n)
{
    return build_dir(s, specs, n, "", 0);
}

static const char *const no_specs[1] = { "" };

/* ---- describing a diff as text -------------------------------------------- */

/* Diffs two versions (given by ids, through the public call) and checks
 * the description and the per-kind counts against the lines. */
static mlops_data_diff *diff_ids(mlops_store *s, const mlops_oid *a, const mlops_oid *b)
{
    char ha[65], hb[65];
    tu_hex(a, ha);
    tu_hex(b, hb);
    mlops_data_diff *d = NULL;
    int rc = mlops_data_diff_versions(&d, s, ha, hb);
    ck_assert_msg(rc == 0, "diff: %s", mlops_error_last());
    return d;
}

/* A diff between versions reads no file. */
static void check_counts(const mlops_data_diff *d)
{
        ck_assert_uint_eq(d->files_hashed, 0);
}

#define expect_diff(s, a, b, want)                          \
    do {                                                    \
        mlops_data_diff *d_ = diff_ids((s), &(a).id, &(b).id); \
        char *got_ = tu_describe_diff(d_);                          \
        ck_assert_str_eq(got_, (want));                     \
        check_counts(d_);                                   \
        free(got_);                                         \
        mlops_data_diff_free(d_);                           \
    } while (0)

static void hex_of(const char *content, char hex[65])
{
    tu_sha256sum_buf(content, strlen(content), hex);
}

/* ---- diff between versions ---------------------------------------------- */

START_TEST(add_remove_modify_with_ids_and_sizes)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("keep.txt=same", "old.txt=gone soon", "data/x.csv=1,2,3", "data/y.csv=abc"));
    built b = build(t.s, SPECS("keep.txt=same", "new.txt=brand new", "data/x.csv=1,2,3,4", "data/y.csv=abc"));
    mlops_data_diff *d = diff_ids(t.s, &a.id, &b.id);
    char *got = tu_describe_diff(d);
    ck_assert_str_eq(got, "~ data/x.csv file>file 5>7\n"
                          "+ new.txt file 9\n"
                          "- old.txt file 9\n");
    free(got);
    check_counts(d);
    char want[65], hex[65];
    hex_of("1,2,3", want);
    tu_hex(&d->changes[0].old_id, hex);
    ck_assert_str_eq(hex, want);
    hex_of("1,2,3,4", want);
    tu_hex(&d->changes[0].new_id, hex);
    ck_assert_str_eq(hex, want);
    hex_of("brand new", want);
    tu_hex(&d->changes[1].new_id, hex);
    ck_assert_str_eq(hex, want);
    ck_assert(mlops_oid_cmp(&d->changes[1].old_id, &(mlops_oid){ { 0 } }) == 0);
    hex_of("gone soon", want);
    tu_hex(&d->changes[2].old_id, hex);
    ck_assert_str_eq(hex, want);
    ck_assert(mlops_oid_cmp(&d->changes[2].new_id, &(mlops_oid){ { 0 } }) == 0);
    /* totals: 4 + 9 + 5 + 3 bytes in 4 files, then 4 + 9 + 7 + 3 */
    ck_assert_uint_eq(d->old_size, 21);
    ck_assert_uint_eq(d->new_size, 23);
    ck_assert_uint_eq(d->old_files, 4);
    ck_assert_uint_eq(d->new_files, 4);
    mlops_data_diff_free(d);
    /* and backwards */
    expect_diff(t.s, b, a,
                "~ data/x.csv file>file 7>5\n"
                "- new.txt file 9\n"
                "+ old.txt file 9\n");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(identical_versions_have_no_changes)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("a=1", "d/e/f=22", "d/g/", "l@a"));
    mlops_data_diff *d = diff_ids(t.s, &a.id, &a.id);
    ck_assert_uint_eq(d->count, 0);
    ck_assert_uint_eq(d->added + d->removed + d->modified + d->renamed, 0);
    ck_assert_uint_eq(d->old_size, 3);
    ck_assert_uint_eq(d->new_size, 3);
    ck_assert_uint_eq(d->old_files, 2);
    ck_assert_uint_eq(d->new_files, 2);
    mlops_data_diff_free(d);
    /* two empty versions */
    built e = build(t.s, no_specs, 0);
    expect_diff(t.s, e, e, "");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(renames_pair_same_content)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("docs/readme.md=hello world", "x=payload", "l@x"));
    built b = build(t.s, SPECS("README.md=hello world", "sub/x=payload", "sub/l@x"));
    /* the symlink's target text is unchanged: same id, so a rename too */
    expect_diff(t.s, a, b,
                "> docs/readme.md README.md file 11\n"
                "> l sub/l link 1\n"
                "> x sub/x file 7\n");
    /* renamed with its content changed is no rename */
    built c = build(t.s, SPECS("docs/readme.md=hello world!"));
    built d = build(t.s, SPECS("README.md=hello world"));
    expect_diff(t.s, c, d,
                "+ README.md file 11\n"
                "- docs/readme.md file 12\n");
    /* three removed copies, two added: added in path order each take the
     * first removed copy in path order, the third stays removed */
    built e = build(t.s, SPECS("c1=dup", "c2=dup", "c3=dup", "other=o"));
    built f = build(t.s, SPECS("n2=dup", "n1=dup", "other=o"));
    expect_diff(t.s, e, f,
                "- c3 file 3\n"
                "> c1 n1 file 3\n"
                "> c2 n2 file 3\n");
    /* more added copies than removed: the extra ones are added */
    built z = build(t.s, SPECS("z=dup"));
    expect_diff(t.s, z, e,
                "> z c1 file 3\n"
                "+ c2 file 3\n"
                "+ c3 file 3\n"
                "+ other file 1\n");
    /* same content, different type is not a rename (a link whose target
     * equals a file's content has the same id) */
    built g = build(t.s, SPECS("f=x"));
    built h = build(t.s, SPECS("l@x"));
    expect_diff(t.s, g, h, "- f file 1\n+ l link 1\n");
    /* empty files and empty directories have no content to follow: all of
     * them share one id, so pairing them would be arbitrary */
    built i = build(t.s, SPECS("e1=", "d1/"));
    built j = build(t.s, SPECS("e2=", "d2/"));
    expect_diff(t.s, i, j, "- d1 dir 0\n+ d2 dir 0\n- e1 file 0\n+ e2 file 0\n");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(file_dir_symlink_swaps)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("p=was a file", "q/one=1", "q/deep/two=22", "q/empty/", "r=text", "s@r"));
    built b = build(t.s, SPECS("p/inner=now a dir", "p/e/", "q=now a file", "r@s", "s=plain"));
    expect_diff(t.s, a, b,
                "- p file 10\n"
                "+ p/e dir 0\n"
                "+ p/inner file 9\n"
                "+ q file 10\n"
                "- q/deep/two file 2\n"
                "- q/empty dir 0\n"
                "- q/one file 1\n"
                "~ r file>link 4>1\n"
                "~ s link>file 1>5\n");
    expect_diff(t.s, b, a,
                "+ p file 10\n"
                "- p/e dir 0\n"
                "- p/inner file 9\n"
                "- q file 10\n"
                "+ q/deep/two file 2\n"
                "+ q/empty dir 0\n"
                "+ q/one file 1\n"
                "~ r link>file 1>4\n"
                "~ s file>link 5>1\n");
    /* a file replaced by an empty directory: both at one path, removed first */
    built c = build(t.s, SPECS("x=1"));
    built d = build(t.s, SPECS("x/"));
    expect_diff(t.s, c, d, "- x file 1\n+ x dir 0\n");
    expect_diff(t.s, d, c, "- x dir 0\n+ x file 1\n");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(empty_directories_are_leaves)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("keep=k", "gone/", "fills/", "empties/f=1", "nest/a/b/"));
    built b = build(t.s, SPECS("keep=k", "new/", "fills/f=1", "empties/", "nest/a/b/c/"));
    /* fills/ and empties/ swap their content: the file is a rename, the
     * empty directories are not (see renames_pair_same_content) */
    expect_diff(t.s, a, b,
                "+ empties dir 0\n"
                "- fills dir 0\n"
                "> empties/f fills/f file 1\n"
                "- gone dir 0\n"
                "- nest/a/b dir 0\n"
                "+ nest/a/b/c dir 0\n"
                "+ new dir 0\n");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(order_is_bytewise_on_full_paths)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    /* manifest order visits a/ before a.txt; '.' (0x2e) < '/' (0x2f) */
    built a = build(t.s, SPECS("z=0"));
    built b = build(t.s, SPECS("a/b=1", "a.txt=22", "a-b=333", "A=4444", "\xc3\xa9=55555", "a0=666666"));
    expect_diff(t.s, a, b,
                "+ A file 4\n"
                "+ a-b file 3\n"
                "+ a.txt file 2\n"
                "+ a/b file 1\n"
                "+ a0 file 6\n"
                "- z file 1\n"
                "+ \xc3\xa9 file 5\n");
    tu_store_destroy(&t);
}
END_TEST

START_TEST(executable_bit_alone_is_modified)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("run.sh=echo hi", "data=d"));
    built b = build(t.s, SPECS("run.sh*=echo hi", "data=d"));
    ck_assert_int_ne(mlops_oid_cmp(&a.id, &b.id), 0);
    mlops_data_diff *d = diff_ids(t.s, &a.id, &b.id);
    ck_assert_uint_eq(d->count, 1);
    ck_assert_int_eq(d->changes[0].kind, MLOPS_DATA_MODIFIED);
    ck_assert_str_eq(d->changes[0].path, "run.sh");
    ck_assert_int_eq(mlops_oid_cmp(&d->changes[0].old_id, &d->changes[0].new_id), 0);
    mlops_data_diff_free(d);
    tu_store_destroy(&t);
}
END_TEST

/* A loader that counts the manifests it is asked for. */
typedef struct counting {
    mlops_store *s;
    unsigned loads;
} counting;

static int counting_load(mlops__tree *out, const mlops_oid *id, unsigned depth, void *ctx)
{
    counting *c = ctx;
    c->loads++;
    return mlops__tree_load(out, c->s, id, depth);
}

START_TEST(unchanged_subtrees_are_not_loaded)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    const char *common[] = { "big/a/1=1", "big/a/2=2", "big/b/1=3", "big/c/d/e=4" };
    built a = build(t.s, SPECS(common[0], common[1], common[2], common[3], "deep/1/2/3/4/5/6/7/8/f=old",
                               "deep/1/2/3/side/s=s"));
    built b = build(t.s, SPECS(common[0], common[1], common[2], common[3], "deep/1/2/3/4/5/6/7/8/f=new",
                               "deep/1/2/3/side/s=s"));
    counting c = { t.s, 0 };
    mlops_data_diff *d = NULL;
    ck_assert_int_eq(mlops__tree_diff(&d, t.s, &a.id, &b.id, counting_load, &c), 0);
    ck_assert_uint_eq(d->count, 1);
    ck_assert_str_eq(d->changes[0].path, "deep/1/2/3/4/5/6/7/8/f");
    /* two roots + two manifests for each of deep, 1..8: big/ and side/ never */
    ck_assert_uint_eq(c.loads, 2 + 2 * 9);
    mlops_data_diff_free(d);
    /* equal roots: the root read once, for the totals */
    c.loads = 0;
    ck_assert_int_eq(mlops__tree_diff(&d, t.s, &a.id, &a.id, counting_load, &c), 0);
    ck_assert_uint_eq(c.loads, 1);
    ck_assert_uint_eq(d->count, 0);
    ck_assert_uint_eq(d->old_files, 6);
    mlops_data_diff_free(d);
    /* the default loader is the store's */
    ck_assert_int_eq(mlops__tree_diff(&d, t.s, &a.id, &b.id, NULL, NULL), 0);
    ck_assert_uint_eq(d->count, 1);
    mlops_data_diff_free(d);
    tu_store_destroy(&t);
}
END_TEST

/* A chain of n nested directories "d/d/…/d/leaf" built bottom-up. */
static mlops_oid chain(mlops_store *s, unsigned n, const char *content)
{
    mlops__tree_entry e = { "leaf", 4, MLOPS_DATA_FILE, 0, strlen(content), 1, tu_put_str(s, content), NULL, 0 };
    mlops_oid id;
    ck_assert_int_eq(mlops__tree_put(&id, s, &e, 1, n), 0);
    for (unsigned k = n; k-- > 0;) {
        mlops__tree_entry d = { "d", 1, MLOPS_DATA_DIR, 0, strlen(content), 1, id, NULL, 0 };
        ck_assert_int_eq(mlops__tree_put(&id, s, &d, 1, k), 0);
    }
    return id;
}

START_TEST(very_deep_trees_use_no_recursion)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    enum { DEPTH = 20000 };
    mlops_oid a = chain(t.s, DEPTH, "one"), b = chain(t.s, DEPTH, "three");
    mlops_data_diff *d = NULL;
    ck_assert_int_eq(mlops__tree_diff(&d, t.s, &a, &b, NULL, NULL), 0);
    ck_assert_uint_eq(d->count, 1);
    ck_assert_int_eq(d->changes[0].kind, MLOPS_DATA_MODIFIED);
    ck_assert_uint_eq(strlen(d->changes[0].path), 2 * DEPTH + 4);
    ck_assert_uint_eq(d->changes[0].new_size, 5);
    mlops_data_diff_free(d);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(bad_input)
{
    tu_store t;
    tu_store_open(&t, _i, NULL);
    built a = build(t.s, SPECS("f=1"));
    char ha[65];
    tu_hex(&a.id, ha);
    mlops_data_diff *d = (mlops_data_diff *)&t; /* must be reset to NULL */
    tu_assert_err(mlops_data_diff_versions(NULL, t.s, ha, ha), MLOPS_EINVALID);
    tu_assert_err(mlops_data_diff_versions(&d, NULL, ha, ha), MLOPS_EINVALID);
    ck_assert_ptr_null(d);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, NULL, ha), MLOPS_EINVALID);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, ha, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, "", ha), MLOPS_EINVALID);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, ha, "bad name!"), MLOPS_EINVALID);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, "no-such-dataset", ha), MLOPS_ENOTFOUND);
    char missing[65];
    memset(missing, 'a', 64);
    missing[64] = '\0';
    tu_assert_err(mlops_data_diff_versions(&d, t.s, ha, missing), MLOPS_ENOTFOUND);
    ck_assert_ptr_null(d);
    /* a raw id of an object that is not a manifest */
    mlops_oid blob = tu_put_str(t.s, "not a manifest");
    char hb[65];
    tu_hex(&blob, hb);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, ha, hb), MLOPS_EINVALID);
    ck_assert_ptr_null(d);
    /* a directory entry naming a missing manifest is found when descended */
    mlops_oid nowhere = tu_oid(missing);
    mlops__tree_entry e = { "sub", 3, MLOPS_DATA_DIR, 0, 0, 0, nowhere, NULL, 0 };
    mlops_oid broken;
    ck_assert_int_eq(mlops__tree_put(&broken, t.s, &e, 1, 0), 0);
    char hbr[65];
    tu_hex(&broken, hbr);
    tu_assert_err(mlops_data_diff_versions(&d, t.s, ha, hbr), MLOPS_ENOTFOUND);
    ck_assert_ptr_null(d);
    tu_assert_err(mlops__tree_diff(NULL, t.s, &a.id, &a.id, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops__tree_diff(&d, NULL, &a.id, &a.id, NULL, NULL), MLOPS_EINVALID);
    mlops_data_diff_free(NULL);
    char *json = (char *)ha;
    tu_assert_err(mlops_data_diff_json(&json, NULL), MLOPS_EINVALID);
    ck_assert_ptr_null(json);
    tu_assert_err(mlops_data_diff_json(NULL, &(mlops_data_diff){ 0 }), MLOPS_EINVALID);
    tu_assert_err(mlops_data_diff_json(&json, &(mlops_data_diff){ .count = 3 }), MLOPS_EINVALID);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(out_of_memory_loop)
{
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    built a = build(t.s, SPECS("a=1", "b/c=2", "b/d/", "e=same", "f@a", "g/h/i=3"));
    built b = build(t.s, SPECS("a=11", "b/c/x=2", "moved=same", "f=a", "g/h/j=3"));
    char ha[65], hb[65];
    tu_hex(&a.id, ha);
    tu_hex(&b.id, hb);
    mlops_data_diff *ref = diff_ids(t.s, &a.id, &b.id);
    char *want = tu_describe_diff(ref);
    char *want_json = NULL;
    ck_assert_int_eq(mlops_data_diff_json(&want_json, ref), 0);
    int done = 0;
    for (unsigned long n = 1; !done && n < 5000; n++) {
        tu_alloc al;
        memset(&al, 0, sizeof al);
        al.fail_at = n;
        tu_alloc_install(&al);
        mlops_data_diff *d = NULL;
        char *json = NULL;
        int rc = mlops_data_diff_versions(&d, t.s, ha, hb);
        if (rc == 0)
            rc = mlops_data_diff_json(&json, d);
        int failed = al.failures > 0;
        char *got = rc == 0 ? tu_describe_diff(d) : NULL;
        mlops_free(json);
        mlops_data_diff_free(d);
        tu_alloc_remove();
        if (failed) {
            tu_assert_err(rc, MLOPS_ENOMEM);
        } else {
            ck_assert_int_eq(rc, 0);
            ck_assert_str_eq(got, want);
            done = 1;
        }
        free(got);
        ck_assert_int_eq(al.outstanding, 0);
    }
    ck_assert(done);
    free(want);
    mlops_free(want_json);
    mlops_data_diff_free(ref);
    tu_store_destroy(&t);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------ */

/* Writes json to a file and runs a Python assertion on it as `d`. */
static void python_check(const char *json, const char *assertion)
{
    char *dir = tu_mkdtemp();
    char *file = tu_path("%s/diff.json", dir);
    char *script = tu_path("%s/check.py", dir);
    tu_write_file(file, json, strlen(json));
    char *code = tu_path("import json, sys\nd = json.load(open(sys.argv[1], encoding='utf-8'))\n%s\n", assertion);
    tu_write_file(script, code, strlen(code));
    char *cmd = tu_path("python3 %s %s", script, file);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "python check failed on %s", json);
    free(cmd);
    free(code);
    free(script);
    free(file);
    tu_rmrf(dir);
    free(dir);
}

START_TEST(json_read_back_by_python)
{
    if (system("python3 -c 'import json' >/dev/null 2>&1") != 0)
        return;
    tu_store t;
    tu_store_open(&t, TU_MEMORY, NULL);
    built a = build(t.s, SPECS("mod=old", "rm\"q\\=bye", "from=same", "swap=content"));
    built b = build(t.s, SPECS("mod=newer", "add\xc3\xa9=hi", "to=same", "swap@mod", "lat\xe9\xff.bin=z",
                               "bad\xed\xa0\x80seq=s", "sp ace/"));
    mlops_data_diff *d = diff_ids(t.s, &a.id, &b.id);
    char *json = NULL;
    ck_assert_int_eq(mlops_data_diff_json(&json, d), 0);
    char hold[65], hnew[65], hhi[65], hbye[65];
    hex_of("old", hold);
    hex_of("newer", hnew);
    hex_of("hi", hhi);
    hex_of("bye", hbye);
    char *check = tu_path(
        "assert (d['added'], d['removed'], d['modified'], d['renamed']) == (4, 1, 2, 1), d\n"
        "assert d['old'] == {'size': 3 + 3 + 4 + 7, 'files': 4}, d['old']\n"
        "assert d['new'] == {'size': 5 + 2 + 4 + 1 + 1, 'files': 5}, d['new']\n"
        "assert d['files_hashed'] == 0\n"
        "c = {x['path']: x for x in d['changes']}\n"
        "assert c['add\\u00e9'] == {'kind': 'added', 'path': 'add\\u00e9', 'type': 'file', 'id': '%s', 'size': 2}\n"
        "assert c['lat\\u00e9\\u00ff.bin']['kind'] == 'added'\n"
        "assert c['bad\\u00ed\\u00a0\\u0080seq']['size'] == 1\n"
        "assert c['sp ace'] == {'kind': 'added', 'path': 'sp ace', 'type': 'dir', 'id': c['sp ace']['id'], 'size': 0}\n"
        "assert c['rm\"q\\\\'] == {'kind': 'removed', 'path': 'rm\"q\\\\', 'type': 'file', 'id': '%s', 'size': 3}\n"
        "assert c['mod'] == {'kind': 'modified', 'path': 'mod', 'old_type': 'file', 'new_type': 'file',"
        " 'old_id': '%s', 'new_id': '%s', 'old_size': 3, 'new_size': 5}\n"
        "assert c['swap']['old_type'] == 'file' and c['swap']['new_type'] == 'symlink'\n"
        "assert c['to'] == {'kind': 'renamed', 'old_path': 'from', 'path': 'to', 'type': 'file',"
        " 'id': c['to']['id'], 'size': 4}\n",
        hhi, hbye, hold, hnew);
    python_check(json, check);
    free(check);
    /* invalid bytes are escaped, never copied raw: the text is pure UTF-8 */
    ck_assert_ptr_null(strstr(json, "\xe9\xff"));
    ck_assert_ptr_nonnull(strstr(json, "lat\\u00e9\\u00ff.bin"));
    ck_assert_ptr_nonnull(strstr(json, "add\xc3\xa9"));
    mlops_free(json);
    mlops_data_diff_free(d);
    /* an empty diff */
    d = diff_ids(t.s, &a.id, &a.id);
    ck_assert_int_eq(mlops_data_diff_json(&json, d), 0);
    python_check(json, "assert d['changes'] == [] and d['added'] == 0 and d['old'] == d['new'], d");
    mlops_free(json);
    mlops_data_diff_free(d);
    tu_store_destroy(&t);
}
END_TEST

START_TEST(json_escapes_every_control_and_invalid_byte)
{
    /* paths straight in a diff struct: the escaper alone */
    char path[300];
    size_t n = 0;
    for (int c = 1; c < 256; c++)
        path[n++] = (char)c;
    path[n] = '\0';
    mlops_data_change ch = { MLOPS_DATA_ADDED, path, NULL, 0, MLOPS_DATA_FILE, { { 0 } }, { { 0 } }, 0, 0 };
    mlops_data_diff d = { &ch, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
    char *json = NULL;
    ck_assert_int_eq(mlops_data_diff_json(&json, &d), 0);
    for (const unsigned char *p = (const unsigned char *)json; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p < 0x7f, "raw byte 0x%02x in JSON", *p);
    ck_assert_ptr_nonnull(strstr(json, "\"\\u0001\\u0002"));
    ck_assert_ptr_nonnull(strstr(json, "!\\\"#"));
    ck_assert_ptr_nonnull(strstr(json, "[\\\\]"));
    ck_assert_ptr_nonnull(strstr(json, "~\\u007f\\u0080"));
    ck_assert_ptr_nonnull(strstr(json, "\\u00fe\\u00ff\""));
    if (system("python3 -c 'import json' >/dev/null 2>&1") == 0)
        python_check(json, "p = d['changes'][0]['path']\n"
                           "assert p == ''.join(chr(c) for c in range(1, 256)), p");
    mlops_free(json);
    /* valid multibyte sequences of each length pass through; truncated
     * and overlong ones do not */
    ch.path = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xc3|\xe2\x82|\xc0\xaf|\xf4\x90\x80\x80|\xe0\x80\x80";
    ck_assert_int_eq(mlops_data_diff_json(&json, &d), 0);
    ck_assert_ptr_nonnull(strstr(json, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\u00c3|\\u00e2\\u0082|"
                                       "\\u00c0\\u00af|\\u00f4\\u0090\\u0080\\u0080|\\u00e0\\u0080\\u0080\""));
    mlops_free(json);
}
END_TEST

Suite *data_diff_suite(void);
Suite *data_diff_suite(void)
{
    Suite *s = suite_create("data_diff");
    TCase *tc = tcase_create("diff");
    tcase_add_loop_test(tc, add_remove_modify_with_ids_and_sizes, 0, TU_KINDS);
    tcase_add_loop_test(tc, identical_versions_have_no_changes, 0, TU_KINDS);
    tcase_add_loop_test(tc, renames_pair_same_content, 0, TU_KINDS);
    tcase_add_loop_test(tc, file_dir_symlink_swaps, 0, TU_KINDS);
    tcase_add_loop_test(tc, empty_directories_are_leaves, 0, TU_KINDS);
    tcase_add_loop_test(tc, order_is_bytewise_on_full_paths, 0, TU_KINDS);
    tcase_add_loop_test(tc, executable_bit_alone_is_modified, 0, TU_KINDS);
    tcase_add_loop_test(tc, unchanged_subtrees_are_not_loaded, 0, TU_KINDS);
    tcase_add_test(tc, very_deep_trees_use_no_recursion);
    tcase_add_loop_test(tc, bad_input, 0, TU_KINDS);
    tcase_add_test(tc, out_of_memory_loop);
    tcase_add_test(tc, json_read_back_by_python);
    tcase_add_test(tc, json_escapes_every_control_and_invalid_byte);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(data_diff_suite());
}
