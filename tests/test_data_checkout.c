/* Data checkout: hostile manifests and destinations are refused before
 * anything is written (the destination and a sentinel beside it stay
 * identical, inode and mtime included); copies, hard links and reflinks
 * reproduce the version; re-checkouts touch only what changed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "data/data_internal.h"
#include "mlops/data.h"
#include "testutil.h"

/* ---- trees on disk ------------------------------------------------------
 * Specs: "path=content" file, "path*=content" executable, "path@target"
 * symlink, "path/" directory. Parents are created. */

static void mkdirs(const char *path)
{
    char *p = tu_path("%s", path);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, 0755);
    free(p);
}

static void make(const char *root, const char *const *specs)
{
    for (; *specs; specs++) {
        const char *s = *specs, *op = s + strcspn(s, "=@");
        int exec = op > s && op[-1] == '*' && *op == '=';
        char *path = tu_path("%s/%.*s", root, (int)(op - s - exec), s);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        mkdirs(path);
        *slash = '/';
        if (*op == '=') {
            tu_write_file(path, op + 1, strlen(op + 1));
            ck_assert_int_eq(chmod(path, exec ? 0755 : 0644), 0);
        } else if (*op == '@') {
            ck_assert_int_eq(symlink(op + 1, path), 0);
        } else {
            mkdirs(path);
        }
        free(path);
    }
}

/* One line per entry below dir, sorted, never following a symlink:
 * path, type, mode, size, content hash or target, and with strict also
 * inode and mtime, so that a rewrite with equal bytes shows too. */
static void dump_into(char ***lines, size_t *n, const char *dir, const char *rel, int strict)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "opendir %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = tu_path("%s/%s", dir, e->d_name), *r = tu_path("%s%s", rel, e->d_name), what[PATH_MAX + 80] = "";
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        if (S_ISREG(st.st_mode)) {
            size_t len = 0;
            char *data = tu_read_file(p, &len);
            mlops_oid id;
            mlops_oid_hash(&id, data, len);
            tu_hex(&id, what);
            free(data);
        } else if (S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(p, what, sizeof what - 1);
            what[k < 0 ? 0 : k] = '\0';
        }
        char stamp[80] = "";
        if (strict)
            snprintf(stamp, sizeof stamp, " %llu %lld.%09ld", (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
        *lines = realloc(*lines, (*n + 1) * sizeof **lines);
        (*lines)[(*n)++] = tu_path("%s %o %lld %s%s", r, (unsigned)st.st_mode, S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,
                                   what, stamp);
        if (S_ISDIR(st.st_mode)) {
            char *sub = tu_path("%s/", r);
            dump_into(lines, n, p, sub, strict);
            free(sub);
        }
        free(p);
        free(r);
    }
    closedir(d);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dump(const char *dir, int strict)
{
    char **lines = NULL;
    size_t n = 0;
    dump_into(&lines, &n, dir, "", strict);
    if (n)
        qsort(lines, n, sizeof *lines, cmp_line);
    mlops__buf b = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__buf_puts(&b, ""), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(mlops__buf_printf(&b, "%s\n", lines[i]), 0);
        free(lines[i]);
    }
    free(lines);
    char *out = strdup(b.ptr);
    mlops__buf_dispose(&b);
    return out;
}

/* ---- versions -------------------------------------------------------------- */

typedef struct snapped {
    mlops_oid id;
    uint64_t size, files;
} snapped;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A snapshot of dir built by hand (manifest by manifest), independent of
 * mlops_data_snapshot. */
static snapped snap_dir(mlops_store *s, const char *dir, unsigned depth)
{
    char *names[512];
    size_t n = 0;
    DIR *d = opendir(dir);
    ck_assert(d != NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            ck_assert_uint_lt(n, 512);
            names[n++] = strdup(de->d_name);
        }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_name);
    mlops__tree_entry e[512];
    memset(e, 0, sizeof e);
    snapped out = { { { 0 } }, 0, 0 };
    for (size_t i = 0; i < n; i++) {
        char *p = tu_path("%s/%s", dir, names[i]);
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        e[i].name = names[i];
        e[i].name_len = strlen(names[i]);
        if (S_ISREG(st.st_mode)) {
            size_t len = 0;
            char *data = tu_read_file(p, &len);
            e[i].type = MLOPS_DATA_FILE;
            e[i].id = tu_put(s, data, len);
            e[i].size = len;
            e[i].files = 1;
            e[i].flags = st.st_mode & S_IXUSR ? MLOPS__TREE_EXEC : 0;
            free(data);
        } else if (S_ISDIR(st.st_mode)) {
            snapped sub = snap_dir(s, p, depth + 1);
            e[i].type = MLOPS_DATA_DIR;
            e[i].id = sub.id;
            e[i].size = sub.size;
            e[i].files = sub.files;
        } else {
            char *t = calloc(1, PATH_MAX);
            ck_assert(readlink(p, t, PATH_MAX - 1) > 0);
            e[i].type = MLOPS_DATA_SYMLINK;
            e[i].target = t;
            e[i].target_len = e[i].size = strlen(t);
            mlops_oid_hash(&e[i].id, t, strlen(t));
        }
        out.size += e[i].type == MLOPS_DATA_SYMLINK ? 0 : e[i].size;
        out.files += e[i].files;
        free(p);
    }
    int rc = mlops__tree_put(&out.id, s, e, n, depth);
    ck_assert_msg(rc == 0, "tree_put %s: %s", dir, mlops_error_last());
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
        free((char *)e[i].target);
    }
    return out;
}

static mlops_oid snap_specs(mlops_store *s, const char *const *specs)
{
    char *src = tu_mkdtemp();
    make(src, specs);
    mlops_oid id = snap_dir(s, src, 0).id;
    tu_rmrf(src);
    free(src);
    return id;
}

/* Entries for crafted manifests (no checks at all). */
static mlops__tree_entry file_n(mlops_store *s, const char *name, size_t len, const char *content)
{
    mlops__tree_entry e = { 0 };
    e.name = name;
    e.name_len = len;
    e.type = MLOPS_DATA_FILE;
    e.size = strlen(content);
    e.files = 1;
    e.id = tu_put_str(s, content);
    return e;
}

static mlops__tree_entry file_e(mlops_store *s, const char *name, const char *content)
{
    return file_n(s, name, strlen(name), content);
}

static mlops__tree_entry link_e(const char *name, const char *target)
{
    mlops__tree_entry e = { 0 };
    e.name = name;
    e.name_len = strlen(name);
    e.type = MLOPS_DATA_SYMLINK;
    e.target = target;
    e.target_len = e.size = strlen(target);
    mlops_oid_hash(&e.id, target, strlen(target));
    return e;
}

static mlops__tree_entry dir_e(const char *name, mlops_oid id, uint64_t size, uint64_t files)
{
    mlops__tree_entry e = { 0 };
    e.name = name;
    e.name_len = strlen(name);
    e.type = MLOPS_DATA_DIR;
    e.id = id;
    e.size = size;
    e.files = files;
    return e;
}

/* Stores a manifest exactly as given; links NULL: the entries' own. */
static mlops_oid put_raw(mlops_store *s, const mlops__tree_entry *e, size_t n, const mlops_oid *links, size_t nlinks)
{
    mlops_oid *own = NULL, id;
    size_t nown = 0;
    mlops__buf body = MLOPS__BUF_INIT;
    ck_assert_int_eq(mlops__tree_encode_unchecked(&own, &nown, &body, e, n), 0);
    int rc = mlops_object_put_structured(&id, s, MLOPS__TREE_TYPE, links ? links : own, links ? nlinks : nown,
                                         body.ptr, body.len);
    ck_assert_int_eq(rc, 0);
    mlops__free(own);
    mlops__buf_dispose(&body);
    return id;
}

static int checkout(mlops_data_checkout_info *info, mlops_store *s, const mlops_oid *id, const char *dest,
                    unsigned flags, mlops_data_checkout_mode mode, const char *subpath)
{
    char hex[65];
    tu_hex(id, hex);
    mlops_data_checkout_options o = MLOPS_DATA_CHECKOUT_OPTIONS_INIT;
    o.flags = flags;
    o.mode = mode;
    o.subpath = subpath;
    return mlops_data_checkout(info, s, hex, dest, &o);
}

/* ---- refusals ---------------------------------------------------------------
 * top/dest (with content unless told) and top/sentinel; every refusal must
 * leave the whole of top identical. */

typedef struct arena {
    tu_store st;
    char *top, *dest, *sentinel, *before;
} arena;

static void arena_open(arena *a, int dest_exists)
{
    static const char *const sentinel[] = { "sentinel/secret.txt=top secret", "sentinel/sub/x=1", NULL };
    static const char *const dest[] = { "dest/keep.txt=mine", "dest/d/inner=2", "dest/sub/y=3", NULL };
    tu_store_open(&a->st, TU_FS, NULL);
    a->top = tu_mkdtemp();
    a->dest = tu_path("%s/dest", a->top);
    a->sentinel = tu_path("%s/sentinel", a->top);
    make(a->top, sentinel);
    if (dest_exists)
        make(a->top, dest);
    a->before = NULL;
}

static void arena_seal(arena *a)
{
    free(a->before);
    a->before = dump(a->top, 1);
}

static void arena_close(arena *a)
{
    tu_store_destroy(&a->st);
    tu_rmrf(a->top);
    free(a->top);
    free(a->dest);
    free(a->sentinel);
    free(a->before);
}

/* Refused with want, with and without CLEAN, and nothing changed. */
static void refused(arena *a, const mlops_oid *id, const char *subpath, int want)
{
    if (!a->before)
        arena_seal(a);
    for (unsigned flags = 0; flags <= MLOPS_DATA_CHECKOUT_CLEAN; flags += MLOPS_DATA_CHECKOUT_CLEAN) {
        tu_assert_err(checkout(NULL, a->st.s, id, a->dest, flags, MLOPS_DATA_CHECKOUT_COPY, subpath), want);
        char *after = dump(a->top, 1);
        ck_assert_str_eq(a->before, after);
        free(after);
    }
}

/* The same for a manifest stored exactly as given. */
static void refused_raw(arena *a, const mlops__tree_entry *e, size_t n, const mlops_oid *links, size_t nlinks)
{
    mlops_oid id = put_raw(a->st.s, e, n, links, nlinks);
    refused(a, &id, NULL, MLOPS_EINVALID);
}

START_TEST(hostile_names)
{
    static const struct {
        const char *name;
        size_t len;
    } bad[] = { { "", 0 }, { ".", 1 }, { "..", 2 }, { "a/b", 3 }, { "a\0b", 3 }, { "\n", 1 }, { "\x7f", 1 },
                { "x\x1b[31m", 6 }, { "../../etc/passwd", 16 } };
    for (int exists = 0; exists < 2; exists++) {
        arena a;
        arena_open(&a, exists);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            mlops__tree_entry e = file_n(a.st.s, bad[i].name, bad[i].len, "evil");
            mlops_oid root = put_raw(a.st.s, &e, 1, NULL, 0);
            refused(&a, &root, NULL, MLOPS_EINVALID);
            /* The same one level down, after a good sibling. */
            mlops__tree_entry top[2] = { file_e(a.st.s, "a-good", "ok"), dir_e("z", root, 4, 1) };
            mlops_oid outer = put_raw(a.st.s, top, 2, NULL, 0);
            refused(&a, &outer, NULL, MLOPS_EINVALID);
        }
        arena_close(&a);
    }
}
END_TEST

START_TEST(hostile_entries)
{
    arena a;
    arena_open(&a, 1);
    mlops_store *s = a.st.s;
    mlops__tree_entry dup[2] = { file_e(s, "a", "1"), file_e(s, "a", "2") };
    mlops__tree_entry unsorted[2] = { file_e(s, "b", "1"), file_e(s, "a", "2") };
    mlops__tree_entry special = file_e(s, "fifo", "x");
    special.type = 4;
    mlops__tree_entry dir_exec = dir_e("d", put_raw(s, NULL, 0, NULL, 0), 0, 0);
    dir_exec.flags = MLOPS__TREE_EXEC;
    refused_raw(&a, dup, 2, NULL, 0);
    refused_raw(&a, unsorted, 2, NULL, 0);
    refused_raw(&a, &special, 1, NULL, 0);
    refused_raw(&a, &dir_exec, 1, NULL, 0);
    /* The links section must name exactly the entries' ids, in order. */
    mlops__tree_entry two[2] = { file_e(s, "a", "1"), file_e(s, "b", "2") };
    mlops_oid swapped[2] = { two[1].id, two[0].id }, extra[3] = { two[0].id, two[1].id, two[1].id };
    refused_raw(&a, two, 2, swapped, 2);
    refused_raw(&a, two, 2, extra, 3);
    refused_raw(&a, two, 2, extra, 1);
    /* A directory entry whose totals lie about its manifest. */
    mlops__tree_entry inner = file_e(s, "f", "12345");
    mlops__tree_entry liar = dir_e("d", put_raw(s, &inner, 1, NULL, 0), 5, 7);
    refused_raw(&a, &liar, 1, NULL, 0);
    /* Not a manifest at all. */
    mlops_oid id = tu_put_str(s, "just bytes");
    refused(&a, &id, NULL, MLOPS_EINVALID);
    ck_assert_int_eq(mlops_object_put_structured(&id, s, "other.type", NULL, 0, "x", 1), 0);
    refused(&a, &id, NULL, MLOPS_EINVALID);
    arena_close(&a);
}
END_TEST

START_TEST(hostile_links)
{
    arena a;
    arena_open(&a, 1);
    mlops_store *s = a.st.s;
    mlops__tree_entry abs = link_e("l", "/etc/passwd"), up = link_e("l", "../x");
    mlops__tree_entry dotdot[2] = { link_e("d", "."), link_e("e", "d/..") };
    mlops__tree_entry deep_up = link_e("l", "a/../../x");
    const mlops__tree_entry *cases[] = { &abs, &up, dotdot, &deep_up };
    const size_t counts[] = { 1, 1, 2, 1 };
    for (size_t i = 0; i < 4; i++) {
        mlops_oid id = put_raw(s, cases[i], counts[i], NULL, 0);
        refused(&a, &id, NULL, MLOPS_EINVALID);
        mlops__tree_entry in = dir_e("sub", id, 0, 0); /* one level down: still out or after a name */
        mlops_oid outer = put_raw(s, &in, 1, NULL, 0);
        if (i != 1) /* "../x" is fine one level down: reaches the root */
            refused(&a, &outer, NULL, MLOPS_EINVALID);
    }
    /* "../x" one level down is valid for the whole tree, not when sub is
     * checked out on its own (depth counts from the checked-out directory). */
    mlops__tree_entry ok = link_e("l", "../top");
    mlops__tree_entry in = dir_e("sub", put_raw(s, &ok, 1, NULL, 0), 0, 0);
    mlops_oid outer = put_raw(s, &in, 1, NULL, 0);
    refused(&a, &outer, "sub", MLOPS_EINVALID);
    refused(&a, &outer, "sub/l", MLOPS_EINVALID);
    arena_close(&a);
}
END_TEST

/* A deep valid tree whose last directory is bad: nothing at all is
 * written, not even the good directories before it, nor dest itself. */
START_TEST(bad_last_directory)
{
    for (int exists = 0; exists < 2; exists++) {
        arena a;
        arena_open(&a, exists);
        mlops_store *s = a.st.s;
        mlops__tree_entry leaf = file_e(s, "f", "data");
        mlops_oid lvl = put_raw(s, &leaf, 1, NULL, 0);
        for (int i = 0; i < 5; i++) {
            mlops__tree_entry up = dir_e("n", lvl, 4, 1);
            lvl = put_raw(s, &up, 1, NULL, 0);
        }
        mlops__tree_entry bad = link_e("l", "../../../../x");
        mlops__tree_entry top[3] = { dir_e("a", lvl, 4, 1), file_e(s, "b", "bb"),
                                     dir_e("z", put_raw(s, &bad, 1, NULL, 0), 0, 0) };
        mlops_oid root = put_raw(s, top, 3, NULL, 0);
        refused(&a, &root, NULL, MLOPS_EINVALID);
        ck_assert_int_eq(tu_exists(a.dest), exists);
        arena_close(&a);
    }
}
END_TEST

/* Forty manifests naming 2^40 directories, and a chain deeper than any
 * checkout goes: refused quickly, nothing written. */
START_TEST(hostile_shapes)
{
    arena a;
    arena_open(&a, 1);
    mlops_oid lvl = put_raw(a.st.s, NULL, 0, NULL, 0);
    for (int i = 0; i < 40; i++) {
        mlops__tree_entry two[2] = { dir_e("a", lvl, 0, 0), dir_e("b", lvl, 0, 0) };
        lvl = put_raw(a.st.s, two, 2, NULL, 0);
    }
    refused(&a, &lvl, NULL, MLOPS_EINVALID);
    lvl = put_raw(a.st.s, NULL, 0, NULL, 0);
    for (int i = 0; i < 300; i++) {
        mlops__tree_entry one = dir_e("d", lvl, 0, 0);
        lvl = put_raw(a.st.s, &one, 1, NULL, 0);
    }
    refused(&a, &lvl, NULL, MLOPS_EINVALID);
    arena_close(&a);
}
END_TEST

START_TEST(hostile_destinations)
{
    static const char *const version[] = { "keep.txt=new", "d/inner=22", "d/deeper/x=1", "sub/y=33", NULL };
    arena a;
    arena_open(&a, 0);
    mlops_oid id = snap_specs(a.st.s, version);
    /* dest itself a symlink to another directory, also spelt with a
     * trailing "/", "/." or "/./" (lstat would resolve the link through
     * them), or ending in ".." (refused outright). */
    ck_assert_int_eq(symlink("sentinel", a.dest), 0);
    refused(&a, &id, NULL, MLOPS_EINVALID);
    const char *spellings[] = { "%s/", "%s/.", "%s/./", "%s/./.", "%s/..", "%s/sub/.." };
    for (size_t k = 0; k < sizeof spellings / sizeof *spellings; k++) {
        char *p = tu_path(spellings[k], a.dest);
        for (unsigned flags = 0; flags <= MLOPS_DATA_CHECKOUT_CLEAN; flags += MLOPS_DATA_CHECKOUT_CLEAN) {
            tu_assert_err(checkout(NULL, a.st.s, &id, p, flags, MLOPS_DATA_CHECKOUT_COPY, NULL), MLOPS_EINVALID);
            char *after = dump(a.top, 1);
            ck_assert_str_eq(a.before, after);
            free(after);
        }
        free(p);
    }
    ck_assert_int_eq(unlink(a.dest), 0);
    /* A symlink inside dest where the version has a directory, at the top
     * and one level down. */
    static const char *const mine[] = { "dest/keep.txt=mine", "dest/d@../sentinel", NULL };
    make(a.top, mine);
    arena_seal(&a);
    refused(&a, &id, NULL, MLOPS_EINVALID);
    char *d = tu_path("%s/d", a.dest);
    ck_assert_int_eq(unlink(d), 0);
    static const char *const lower[] = { "dest/d/deeper@../../sentinel/sub", NULL };
    make(a.top, lower);
    arena_seal(&a);
    refused(&a, &id, NULL, MLOPS_EINVALID);
    /* A non-empty directory where the version has a file: EEXISTS
     * without CLEAN (checked separately: with CLEAN it is replaced). */
    tu_rmrf(d);
    char *keep = tu_path("%s/keep.txt", a.dest);
    ck_assert_int_eq(unlink(keep), 0);
    free(keep);
    static const char *const dirfile[] = { "dest/keep.txt/precious=1", NULL };
    make(a.top, dirfile);
    arena_seal(&a);
    tu_assert_err(checkout(NULL, a.st.s, &id, a.dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), MLOPS_EEXISTS);
    char *after = dump(a.top, 1);
    ck_assert_str_eq(a.before, after);
    free(after);
    /* dest is a regular file. */
    char *file = tu_path("%s/sentinel/secret.txt", a.top);
    tu_assert_err(checkout(NULL, a.st.s, &id, file, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), MLOPS_EINVALID);
    free(file);
    free(d);
    arena_close(&a);
}
END_TEST

START_TEST(subpath_through_symlink)
{
    arena a;
    arena_open(&a, 1);
    static const char *const version[] = { "d/f=1", "d/g/h=2", "l@d", NULL };
    mlops_oid id = snap_specs(a.st.s, version);
    refused(&a, &id, "l/f", MLOPS_EINVALID);
    refused(&a, &id, "l/g", MLOPS_EINVALID);
    refused(&a, &id, "d/missing", MLOPS_ENOTFOUND);
    refused(&a, &id, "d/f/x", MLOPS_ENOTFOUND);
    static const char *const bad[] = { "/d", "d/", "d//g", "d/./g", "d/../d", "..", "." };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused(&a, &id, bad[i], MLOPS_EINVALID);
    arena_close(&a);
}
END_TEST

/* A racing process turns a checked directory into a symlink between the
 * phases (here from the first progress call): phase 2 refuses to follow. */
static int swap_dir(const mlops_data_progress *p, void *payload)
{
    const char *top = payload;
    (void)p;
    char *d = tu_path("%s/dest/d", top), *moved = tu_path("%s/moved", top);
    if (tu_exists(d) && !tu_exists(moved)) {
        ck_assert_int_eq(rename(d, moved), 0);
        ck_assert_int_eq(symlink("../sentinel", d), 0);
    }
    free(d);
    free(moved);
    return 0;
}

START_TEST(race_symlink_swap)
{
    arena a;
    arena_open(&a, 1);
    static const char *const version[] = { "d/secret.txt=overwritten?", "d/new=1", NULL };
    mlops_oid id = snap_specs(a.st.s, version);
    char *before = dump(a.sentinel, 1);
    char hex[65];
    tu_hex(&id, hex);
    mlops_data_checkout_options o = MLOPS_DATA_CHECKOUT_OPTIONS_INIT;
    o.progress = swap_dir;
    o.progress_payload = a.top;
    tu_assert_err(mlops_data_checkout(NULL, a.st.s, hex, a.dest, &o), MLOPS_EINVALID);
    char *after = dump(a.sentinel, 1);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    arena_close(&a);
}
END_TEST

/* st of path (lstat), failing the test when it is missing. */
static struct stat stat_of(const char *path)
{
    struct stat st;
    ck_assert_msg(lstat(path, &st) == 0, "lstat %s", path);
    return st;
}

/* The link cache's copy of content (exec: the ".x" one), malloc'd path. */
static char *cache_copy(const tu_store *st, const char *content, int exec)
{
    mlops_oid id;
    char hex[65];
    mlops_oid_hash(&id, content, strlen(content));
    tu_hex(&id, hex);
    return tu_path("%s/data-cache/%.2s/%s%s", st->dir, hex, hex + 2, exec ? ".x" : "");
}

/* A dest file that is a hard link to a file elsewhere, with the version's
 * bytes but not its executable bit: the name gets a new file with the
 * version's bit, and the file elsewhere keeps its mode (and bytes). Also
 * when the file elsewhere is a copy of the link cache (a HARDLINK checkout
 * followed by a COPY one), whether a job hashes the file or the stat cache
 * vouches for it. */
START_TEST(exec_bit_never_through_links)
{
    static const char body[] = "#!/bin/sh\necho hi\n";
    for (int m = 0; m < 2; m++) {
        mlops_data_checkout_mode mode = m ? MLOPS_DATA_CHECKOUT_REFLINK : MLOPS_DATA_CHECKOUT_COPY;
        for (int exec = 0; exec < 2; exec++) {
            tu_store st;
            tu_store_open(&st, TU_FS, NULL);
            static const char *const plain[] = { "run.sh=#!/bin/sh\necho hi\n", NULL };
            static const char *const tool[] = { "run.sh*=#!/bin/sh\necho hi\n", NULL };
            mlops_oid id = snap_specs(st.s, exec ? tool : plain);
            char *top = tu_mkdtemp(), *outside = tu_path("%s/outside", top), *dest = tu_path("%s/dest", top);
            char *run = tu_path("%s/run.sh", dest);
            ck_assert_int_eq(mkdir(dest, 0755), 0);
            tu_write_file(outside, body, strlen(body));
            mode_t theirs = exec ? 0600 : 0700;
            ck_assert_int_eq(chmod(outside, theirs), 0);
            ck_assert_int_eq(link(outside, run), 0);
            mlops_data_checkout_info info;
            int rc = checkout(&info, st.s, &id, dest, 0, mode, NULL);
            ck_assert_msg(rc == 0, "checkout: %s", mlops_error_last());
            ck_assert_uint_eq(info.files_written, 1);
            ck_assert_uint_eq(info.files_unchanged, 0);
            struct stat o = stat_of(outside), r = stat_of(run);
            ck_assert_uint_eq(o.st_mode & 07777, theirs);
            ck_assert_uint_eq(o.st_nlink, 1);
            ck_assert(r.st_ino != o.st_ino);
            ck_assert_uint_eq(r.st_mode & 0777, exec ? 0755 : 0644);
            size_t len = 0;
            char *got = tu_read_file(outside, &len);
            ck_assert(len == strlen(body) && memcmp(got, body, len) == 0);
            free(got);
            got = tu_read_file(run, &len);
            ck_assert(len == strlen(body) && memcmp(got, body, len) == 0);
            free(got);
            free(run);
            free(outside);
            free(dest);
            tu_rmrf(top);
            free(top);
            tu_store_destroy(&st);
        }
    }
    /* HARDLINK, then COPY or REFLINK of the version with the other bit,
     * into the same destination: first with the stat cache recorded by
     * the HARDLINK checkout knowing f, then with it not knowing f. */
    for (int m = 0; m < 2; m++) {
        mlops_data_checkout_mode mode = m ? MLOPS_DATA_CHECKOUT_REFLINK : MLOPS_DATA_CHECKOUT_COPY;
        for (int exec = 0; exec < 2; exec++) {
            tu_store st;
            tu_store_open(&st, TU_FS, NULL);
            static const char *const plain[] = { "f=payload\n", NULL };
            static const char *const tool[] = { "f*=payload\n", NULL };
            mlops_oid linked = snap_specs(st.s, exec ? tool : plain), other = snap_specs(st.s, exec ? plain : tool);
            char *dest = tu_mkdtemp(), *f = tu_path("%s/f", dest), *copy = cache_copy(&st, "payload\n", exec);
            for (int pass = 0; pass < 2; pass++) {
                mlops_data_checkout_info info;
                int rc = checkout(&info, st.s, &linked, dest, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL);
                ck_assert_msg(rc == 0, "hardlink checkout: %s", mlops_error_last());
                struct stat k = stat_of(copy);
                ck_assert(stat_of(f).st_ino == k.st_ino);
                if (pass == 1) {
                    /* A link made and removed moves f's ctime: the stat
                     * cache no longer knows it. */
                    char *g = tu_path("%s/g", dest);
                    ck_assert_int_eq(link(f, g), 0);
                    ck_assert_int_eq(unlink(g), 0);
                    free(g);
                    k = stat_of(copy);
                }
                rc = checkout(&info, st.s, &other, dest, 0, mode, NULL);
                ck_assert_msg(rc == 0, "checkout: %s", mlops_error_last());
                ck_assert_uint_eq(info.files_written, 1);
                struct stat after = stat_of(copy), now = stat_of(f);
                ck_assert_uint_eq(after.st_mode & 07777, exec ? 0555 : 0444);
                ck_assert(after.st_ino == k.st_ino);
                ck_assert(now.st_ino != k.st_ino);
                ck_assert_uint_eq(now.st_mode & 0777, exec ? 0644 : 0755);
            }
            free(copy);
            free(f);
            tu_rmrf(dest);
            free(dest);
            tu_store_destroy(&st);
        }
    }
}
END_TEST

/* Writes "EVIL" over the first bytes of path in place, keeping its size
 * and mode, as root can through a 0444 hard link (others chmod first). */
static void write_through(const char *path)
{
    struct stat st = stat_of(path);
    ck_assert_int_eq(chmod(path, st.st_mode | S_IWUSR), 0);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "EVIL", 4, 0), 4);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(chmod(path, st.st_mode & 07777), 0);
    struct stat after = stat_of(path);
    ck_assert(after.st_size == st.st_size && after.st_mode == st.st_mode && after.st_ino == st.st_ino);
}

static void assert_sha256(const char *path, const char *want)
{
    char got[65];
    tu_sha256sum_file(path, got);
    ck_assert_str_eq(got, want);
}

/* A same-size write in place through a hard-linked checkout changes the
 * link cache's copy without touching its size or mode: the next HARDLINK
 * or REFLINK checkout must still give the version's bytes, and a dest
 * file linked to the modified copy is relinked, not "unchanged". */
START_TEST(cache_copy_written_through)
{
    static const char good[] = "GOOD-DATA\n";
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    static const char *const version[] = { "weights.bin=GOOD-DATA\n", NULL };
    mlops_oid id = snap_specs(st.s, version);
    char want[65];
    tu_sha256sum_buf(good, strlen(good), want);
    char *top = tu_mkdtemp(), *d[4], *w[4];
    for (int i = 0; i < 4; i++) {
        d[i] = tu_path("%s/d%d", top, i);
        w[i] = tu_path("%s/weights.bin", d[i]);
    }
    char *copy = cache_copy(&st, good, 0);
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &id, d[0], 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ino_t poisoned = stat_of(copy).st_ino;
    write_through(w[0]);
    ck_assert_int_eq(checkout(&info, st.s, &id, d[1], 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    assert_sha256(w[1], want);
    assert_sha256(copy, want);
    ck_assert(stat_of(copy).st_ino != poisoned);
    /* d0 still holds the modified inode, which was the copy: relinked. */
    ck_assert_int_eq(checkout(&info, st.s, &id, d[0], 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert_uint_eq(info.files_unchanged, 0);
    ck_assert_uint_eq(info.files_written, 1);
    assert_sha256(w[0], want);
    ck_assert(stat_of(w[0]).st_ino == stat_of(copy).st_ino);
    /* REFLINK clones from the same copies (where the filesystem can). */
    write_through(w[1]);
    ck_assert_int_eq(checkout(&info, st.s, &id, d[2], 0, MLOPS_DATA_CHECKOUT_REFLINK, NULL), 0);
    assert_sha256(w[2], want);
    assert_sha256(copy, want);
    /* A copy whose mtime is not the sentinel, even with its bytes intact,
     * is replaced; the fresh one is then used as it is. */
    struct timespec t[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, copy, t, AT_SYMLINK_NOFOLLOW), 0);
    ino_t stale = stat_of(copy).st_ino;
    ck_assert_int_eq(checkout(&info, st.s, &id, d[3], 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert(stat_of(copy).st_ino != stale);
    ck_assert(stat_of(w[3]).st_ino == stat_of(copy).st_ino);
    ck_assert_int_eq(checkout(&info, st.s, &id, d[3], 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert_uint_eq(info.files_unchanged, 1);
    assert_sha256(w[3], want);
    for (int i = 0; i < 4; i++) {
        free(d[i]);
        free(w[i]);
    }
    free(copy);
    tu_rmrf(top);
    free(top);
    tu_store_destroy(&st);
}
END_TEST

/* Pruning the link cache frees the copies no checked-out file links any
 * more, after the grace period, and temp files of interrupted copies;
 * linked ones stay, and a later checkout makes again what it needs. */
START_TEST(prune_link_cache)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    static const char *const version[] = { "a=alpha", "b=beta", "c*=gamma", NULL };
    mlops_oid id = snap_specs(st.s, version);
    char *top = tu_mkdtemp(), *dest = tu_path("%s/d", top), *fa = tu_path("%s/a", dest);
    char *alpha = cache_copy(&st, "alpha", 0), *gamma = cache_copy(&st, "gamma", 1);
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert(tu_exists(alpha) && tu_exists(gamma));

    mlops_data_cache_report r;
    ck_assert_int_eq(mlops_data_prune_cache(&r, st.s, 0, 0), 0);
    ck_assert_uint_eq(r.copies, 3);
    ck_assert_uint_eq(r.linked, 3);
    ck_assert_uint_eq(r.removed + r.young + r.leftovers, 0);

    /* a no longer checked out: its copy is free, but young for an hour */
    ck_assert_int_eq(unlink(fa), 0);
    ck_assert_int_eq(mlops_data_prune_cache(&r, st.s, 3600, 0), 0);
    ck_assert_uint_eq(r.young, 1);
    ck_assert_uint_eq(r.linked, 2);
    ck_assert_uint_eq(r.removed, 0);
    /* a temp file of an interrupted copy, beside it */
    char *fan = tu_path("%.*s", (int)(strrchr(alpha, '/') - alpha), alpha);
    char *tmp = tu_path("%s/.mlops-tmp-0123456789abcdef", fan);
    tu_write_file(tmp, "half", 4);
    /* what is not the cache's is left alone: a symlink with a fan-out
     * name (not followed, or its copies would count twice), a directory
     * and a symlink among the copies */
    char *junk_dir = tu_path("%s/not-a-copy", fan), *junk_link = tu_path("%s/%.62s", fan, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    ck_assert_int_eq(mkdir(junk_dir, 0755), 0);
    ck_assert_int_eq(symlink(alpha, junk_link), 0);
    char *fan_link = NULL;
    for (int k = 0; k < 256 && !fan_link; k++) {
        char *p = tu_path("%s/data-cache/%02x", st.dir, k);
        if (tu_exists(p))
            free(p);
        else
            fan_link = p;
    }
    ck_assert_int_eq(symlink(fan, fan_link), 0);
    /* a temp file still being written (its writer holds the lock) stays */
    int writer = open(tmp, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(writer, 0);
    ck_assert_int_eq(flock(writer, LOCK_EX), 0);
    ck_assert_int_eq(mlops_data_prune_cache(&r, st.s, 0, 0), 0);
    ck_assert_uint_eq(r.leftovers, 0);
    ck_assert(tu_exists(tmp));
    ck_assert_uint_eq(r.copies, 3);
    ck_assert_uint_eq(r.removed, 1);
    ck_assert(!tu_exists(alpha));
    close(writer); /* the writer died: its temp file is a leftover now */
    /* a checkout makes the copy again; release it again */
    ck_assert_int_eq(checkout(&info, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert_uint_eq(info.files_written, 1);
    ck_assert(tu_exists(alpha));
    ck_assert_int_eq(unlink(fa), 0);
    ck_assert_int_eq(mlops_data_prune_cache(&r, st.s, 0, MLOPS_DATA_PRUNE_DRY_RUN), 0);
    ck_assert_uint_eq(r.removed, 1);
    ck_assert_uint_eq(r.removed_bytes, 5);
    ck_assert_uint_eq(r.leftovers, 1);
    ck_assert(tu_exists(alpha) && tu_exists(tmp)); /* a dry run removes nothing */
    ck_assert_int_eq(mlops_data_prune_cache(&r, st.s, 0, 0), 0);
    ck_assert_uint_eq(r.copies, 3);
    ck_assert_uint_eq(r.removed, 1);
    ck_assert_uint_eq(r.removed_bytes, 5);
    ck_assert_uint_eq(r.leftovers, 1);
    ck_assert_uint_eq(r.linked, 2);
    ck_assert(!tu_exists(alpha) && !tu_exists(tmp));
    ck_assert(tu_exists(gamma)); /* still linked from dest/c */
    ck_assert(tu_exists(fan));   /* fan-out directories stay */
    ck_assert(tu_exists(junk_dir) && tu_exists(junk_link) && tu_exists(fan_link));

    /* the next checkout makes the copy again */
    ck_assert_int_eq(checkout(&info, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert_uint_eq(info.files_written, 1);
    ck_assert(tu_exists(alpha));
    ck_assert(stat_of(fa).st_ino == stat_of(alpha).st_ino);
    char want[65];
    tu_sha256sum_buf("alpha", 5, want);
    assert_sha256(fa, want);

    /* bad input, a read-only store, a store without a directory */
    tu_assert_err(mlops_data_prune_cache(&r, st.s, 0, 0x100), MLOPS_EINVALID);
    tu_assert_err(mlops_data_prune_cache(&r, NULL, 0, 0), MLOPS_EINVALID);
    tu_store_close(&st);
    mlops_store_options ro = MLOPS_STORE_OPTIONS_INIT;
    ro.flags |= MLOPS_STORE_READONLY;
    tu_store_reopen(&st, &ro);
    tu_assert_err(mlops_data_prune_cache(&r, st.s, 0, 0), MLOPS_EPERM);
    ck_assert_int_eq(mlops_data_prune_cache(&r, st.s, 0, MLOPS_DATA_PRUNE_DRY_RUN), 0);
    ck_assert_uint_eq(r.copies, 3);
    ck_assert_uint_eq(r.linked, 3);
    tu_store mem;
    tu_store_open(&mem, TU_MEMORY, NULL);
    memset(&r, 0xff, sizeof r);
    ck_assert_int_eq(mlops_data_prune_cache(&r, mem.s, 0, 0), 0);
    ck_assert_uint_eq(r.copies + r.removed + r.linked + r.young + r.leftovers + r.removed_bytes, 0);
    tu_store_destroy(&mem);

    free(fan);
    free(tmp);
    free(junk_dir);
    free(junk_link);
    free(fan_link);
    free(alpha);
    free(gamma);
    free(fa);
    free(dest);
    tu_rmrf(top);
    free(top);
    tu_store_destroy(&st);
}
END_TEST

/* ---- functional ------------------------------------------------------------ */

static const char *const fixture[] = {
    "a.txt=alpha", "empty=", "run.sh*=#!/bin/sh\necho hi\n", "sub/b.txt=beta", "sub/deeper/c.txt=gamma",
    "sub/deeper/x*=exec2", "sub/up@../a.txt", "sub/dirlink@deeper", "link@sub/b.txt", "emptydir/", NULL
};

/* The fixture plus a file larger than a copy buffer and a compressible one. */
static char *make_fixture(void)
{
    char *src = tu_mkdtemp();
    make(src, fixture);
    size_t big = (600 << 10) + 17;
    char *buf = tu_xmalloc(big);
    tu_fill_random(buf, big, 7);
    char *p = tu_path("%s/sub/big.bin", src);
    tu_write_file(p, buf, big);
    free(p);
    tu_fill_text(buf, 100 << 10, 3);
    p = tu_path("%s/text.csv", src);
    tu_write_file(p, buf, 100 << 10);
    free(p);
    free(buf);
    return src;
}

static void assert_same_tree(const char *a, const char *b)
{
    char *x = dump(a, 0), *y = dump(b, 0);
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
}

static ino_t inode_of(const char *dir, const char *rel)
{
    char *p = tu_path("%s/%s", dir, rel);
    struct stat st;
    ck_assert_int_eq(lstat(p, &st), 0);
    free(p);
    return st.st_ino;
}

static int count_ref(const char *name, const mlops_oid *id, void *payload)
{
    (void)name;
    (void)id;
    ++*(int *)payload;
    return 0;
}

START_TEST(copy_reproduces)
{
    for (int kind = 0; kind < TU_KINDS; kind++) {
        tu_store st;
        tu_store_open(&st, kind, NULL);
        char *src = make_fixture(), *top = tu_mkdtemp(), *dest = tu_path("%s/not/yet/dest", top);
        snapped sn = snap_dir(st.s, src, 0);
        mlops_data_checkout_info info;
        int rc = checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL);
        ck_assert_msg(rc == 0, "checkout: %s", mlops_error_last());
        assert_same_tree(src, dest);
        ck_assert_uint_eq(info.files_written, sn.files);
        ck_assert_uint_eq(info.bytes_written, sn.size);
        ck_assert_uint_eq(info.files_unchanged + info.removed + info.linked, 0);
        /* Every file's sha256sum names an object of the store. */
        char *files[32];
        size_t n = tu_list_files(dest, files, 32);
        ck_assert_uint_eq(n, sn.files);
        for (size_t i = 0; i < n; i++) {
            char hex[65];
            tu_sha256sum_file(files[i], hex);
            mlops_oid id = tu_oid(hex);
            ck_assert_int_eq(mlops_object_exists(st.s, &id), 1);
        }
        tu_free_list(files, n);
        /* A stat cache was recorded for the destination. */
        int refs = 0;
        ck_assert_int_eq(mlops_ref_foreach(st.s, "data/statcache/", count_ref, &refs), 0);
        ck_assert_int_eq(refs, 1);
        /* The same directory spelt "dest/." is the same destination. */
        char *dot = tu_path("%s/.", dest);
        rc = checkout(&info, st.s, &sn.id, dot, 0, MLOPS_DATA_CHECKOUT_COPY, NULL);
        ck_assert_msg(rc == 0, "checkout into dest/.: %s", mlops_error_last());
        ck_assert_uint_eq(info.files_written, 0);
        ck_assert_uint_eq(info.files_unchanged, sn.files);
        free(dot);
        tu_rmrf(src);
        tu_rmrf(top);
        free(src);
        free(top);
        free(dest);
        tu_store_destroy(&st);
    }
}
END_TEST

START_TEST(recheckout_touches_only_changes)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = make_fixture(), *dest = tu_mkdtemp();
    snapped sn = snap_dir(st.s, src, 0);
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    char *before = dump(dest, 1);
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    char *after = dump(dest, 1);
    ck_assert_str_eq(before, after); /* not a byte, inode or mtime moved */
    ck_assert_uint_eq(info.files_unchanged, sn.files);
    ck_assert_uint_eq(info.files_written + info.bytes_written, 0);
    free(before);
    free(after);
    /* Same size new bytes, new size, missing, mode, a symlink for a file,
     * a retargeted symlink. */
    ino_t run = inode_of(dest, "run.sh");
    char *p = tu_path("%s/a.txt", dest);
    tu_write_file(p, "ALPHA", 5);
    free(p);
    p = tu_path("%s/sub/b.txt", dest);
    tu_write_file(p, "much longer beta", 16);
    free(p);
    p = tu_path("%s/sub/deeper/c.txt", dest);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    p = tu_path("%s/run.sh", dest);
    ck_assert_int_eq(chmod(p, 0644), 0);
    free(p);
    p = tu_path("%s/empty", dest);
    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(symlink("a.txt", p), 0);
    free(p);
    p = tu_path("%s/link", dest);
    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(symlink("a.txt", p), 0);
    free(p);
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    assert_same_tree(src, dest);
    ck_assert_uint_eq(info.files_written, 5);
    ck_assert_uint_eq(info.files_unchanged, sn.files - 5);
    /* a.txt, b.txt, c.txt, and run.sh for its mode; empty: 0 bytes */
    ck_assert_uint_eq(info.bytes_written, 5 + 4 + 5 + 18);
    ck_assert(inode_of(dest, "run.sh") != run); /* a new file, never a chmod in place */
    tu_rmrf(src);
    tu_rmrf(dest);
    free(src);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

static void age_files(const char *dir)
{
    char *files[32];
    size_t n = tu_list_files(dir, files, 32);
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= 3600;
    t[1] = t[0];
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(utimensat(AT_FDCWD, files[i], t, AT_SYMLINK_NOFOLLOW), 0);
    tu_free_list(files, n);
}

/* The stat cache recorded by one checkout settles the next one, and a
 * version with the same bytes but another executable bit gets a new file
 * (the old inode may be linked from elsewhere: it is never chmod-ed). */
START_TEST(stat_cache_and_modes)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    static const char *const v1[] = { "tool=#!/bin/sh\n", "data/x=1", NULL };
    static const char *const v2[] = { "tool*=#!/bin/sh\n", "data/x=1", NULL };
    mlops_oid a = snap_specs(st.s, v1), b = snap_specs(st.s, v2);
    char *dest = tu_mkdtemp();
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &a, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    age_files(dest);
    ck_assert_int_eq(checkout(&info, st.s, &a, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0); /* hashes, records */
    ck_assert_uint_eq(info.files_unchanged, 2);
    ino_t tool = inode_of(dest, "tool");
    ck_assert_int_eq(checkout(&info, st.s, &b, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.files_written, 1);
    ck_assert_uint_eq(info.files_unchanged, 1);
    ck_assert_uint_eq(info.bytes_written, strlen("#!/bin/sh\n"));
    char *p = tu_path("%s/tool", dest);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0755);
    ck_assert(sb.st_ino != tool);
    free(p);
    tu_rmrf(dest);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

START_TEST(clean_removes_extras)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = make_fixture(), *top = tu_mkdtemp(), *dest = tu_path("%s/dest", top);
    snapped sn = snap_dir(st.s, src, 0);
    ck_assert_int_eq(checkout(NULL, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    static const char *const extras[] = { "sentinel/keep=1", "sentinel/sub/k=2", "dest/extra.txt=x",
                                          "dest/sub/extra/deep/f=y", "dest/sub/.hidden=z", "dest/out@../sentinel",
                                          "dest/emptydir/inside/", "dest/a.txt.orig=w", NULL };
    make(top, extras);
    char *sentinel = tu_path("%s/sentinel", top), *before = dump(sentinel, 1);
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.removed, 0);
    char *p = tu_path("%s/sub/extra/deep/f", dest);
    ck_assert(tu_exists(p));
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, MLOPS_DATA_CHECKOUT_CLEAN, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.removed, 8); /* extra.txt, extra/, deep/, f, .hidden, out, inside/, a.txt.orig */
    ck_assert_uint_eq(info.files_unchanged, sn.files);
    assert_same_tree(src, dest);
    char *after = dump(sentinel, 1);
    ck_assert_str_eq(before, after);
    /* A non-empty directory where the version has a file goes too. */
    static const char *const in_way[] = { "dest/a.txt/x/y=1", NULL };
    char *a = tu_path("%s/a.txt", dest);
    ck_assert_int_eq(unlink(a), 0);
    make(top, in_way);
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, MLOPS_DATA_CHECKOUT_CLEAN, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.removed, 3);
    assert_same_tree(src, dest);
    free(a);
    free(p);
    free(before);
    free(after);
    free(sentinel);
    tu_rmrf(src);
    tu_rmrf(top);
    free(src);
    free(top);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

/* Whatever sits where the version has a file is replaced as a name: a
 * symlink or a hard link to something outside is never written through. */
START_TEST(replaces_without_following)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    static const char *const version[] = { "f=file", "d/x=1", "l@f", "g=gg", "h=hh", "p=pp", NULL };
    char *src = tu_mkdtemp(), *top = tu_mkdtemp(), *dest = tu_path("%s/dest", top);
    make(src, version);
    mlops_oid id = snap_dir(st.s, src, 0).id;
    static const char *const mine[] = { "sentinel/secret=s3cret", "sentinel/h2=old h", "dest/f/", "dest/d=a file",
                                        "dest/l/inner=1", "dest/g@../sentinel/secret", NULL };
    make(top, mine);
    char *h2 = tu_path("%s/sentinel/h2", top), *h = tu_path("%s/h", dest), *fifo = tu_path("%s/p", dest);
    ck_assert_int_eq(link(h2, h), 0);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    char *before = dump(top, 1);
    tu_assert_err(checkout(NULL, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), MLOPS_EEXISTS);
    char *after = dump(top, 1);
    ck_assert_str_eq(before, after);
    char *inner = tu_path("%s/l/inner", dest);
    ck_assert_int_eq(unlink(inner), 0); /* an empty directory is replaced without CLEAN */
    char *sentinel = tu_path("%s/sentinel", top), *sbefore = dump(sentinel, 1);
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    assert_same_tree(src, dest);
    char *safter = dump(sentinel, 1);
    ck_assert_str_eq(sbefore, safter);
    ck_assert_uint_eq(info.removed, 3); /* f/, the file d, l/ */
    free(before);
    free(after);
    free(sbefore);
    free(safter);
    free(sentinel);
    free(inner);
    free(h2);
    free(h);
    free(fifo);
    tu_rmrf(src);
    tu_rmrf(top);
    free(src);
    free(top);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

/* Content equal to src's, file by file (modes differ in hardlink mode). */
static void assert_same_content(const char *src, const char *dest)
{
    char *a[32], *b[32];
    size_t na = tu_list_files(src, a, 32), nb = tu_list_files(dest, b, 32);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        size_t la = 0, lb = 0;
        char *x = tu_read_file(a[i], &la), *y = tu_read_file(b[i], &lb);
        ck_assert_str_eq(a[i] + strlen(src), b[i] + strlen(dest));
        ck_assert(la == lb && memcmp(x, y, la) == 0);
        free(x);
        free(y);
    }
    tu_free_list(a, na);
    tu_free_list(b, nb);
}

START_TEST(hardlink_mode)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = make_fixture(), *dest = tu_mkdtemp(), *dest2 = tu_mkdtemp();
    snapped sn = snap_dir(st.s, src, 0);
    mlops_data_checkout_info info;
    int rc = checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL);
    ck_assert_msg(rc == 0, "hardlink checkout: %s", mlops_error_last());
    ck_assert_uint_eq(info.files_written, sn.files);
    ck_assert_uint_eq(info.linked, sn.files);
    assert_same_content(src, dest);
    char *files[32];
    size_t n = tu_list_files(dest, files, 32);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        ck_assert_int_eq(stat(files[i], &sb), 0);
        ck_assert_uint_ge(sb.st_nlink, 2);
        int exec = strstr(files[i], "run.sh") || strstr(files[i], "/x");
        ck_assert_uint_eq(sb.st_mode & 07777, exec ? 0555 : 0444);
    }
    tu_free_list(files, n);
    /* Again: nothing to do. Elsewhere: links to the same copies. */
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert_uint_eq(info.files_unchanged, sn.files);
    ck_assert_uint_eq(info.files_written, 0);
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest2, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    ck_assert(inode_of(dest, "sub/big.bin") == inode_of(dest2, "sub/big.bin"));
    /* gc and verify ignore the link cache; checked-out files survive gc. */
    mlops_gc_options go = MLOPS_GC_OPTIONS_INIT;
    go.grace_seconds = 0;
    mlops_gc_report gr;
    ck_assert_int_eq(mlops_store_gc(&gr, st.s, &go, NULL, NULL), 0);
    tu_verify_clean(st.s);
    assert_same_content(src, dest2);
    /* A copy someone made writable and edited (through any of its links)
     * is not trusted: the next checkout makes a fresh one. */
    char hex[65], *copy;
    mlops_oid beta;
    mlops_oid_hash(&beta, "beta", 4);
    tu_hex(&beta, hex);
    copy = tu_path("%s/data-cache/%.2s/%s", st.dir, hex, hex + 2);
    ck_assert(tu_exists(copy));
    ck_assert_int_eq(chmod(copy, 0644), 0);
    tu_write_file(copy, "BETA", 4);
    free(copy);
    char *p;
    snap_dir(st.s, src, 0); /* gc took the objects: put them back */
    char *dest3 = tu_mkdtemp();
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest3, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    assert_same_content(src, dest3);
    /* A fanout directory of the cache replaced by a symlink to elsewhere,
     * holding a plausible copy: never followed. */
    char *fan = tu_path("%s/data-cache/%.2s", st.dir, hex), *elsewhere = tu_mkdtemp();
    char *planted = tu_path("%s/%s", elsewhere, hex + 2), *dest4 = tu_mkdtemp();
    tu_write_file(planted, "EVIL", 4);
    ck_assert_int_eq(chmod(planted, 0444), 0);
    tu_rmrf(fan);
    ck_assert_int_eq(symlink(elsewhere, fan), 0);
    ck_assert_int_ne(checkout(NULL, st.s, &sn.id, dest4, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), 0);
    p = tu_path("%s/sub/b.txt", dest4);
    ck_assert(!tu_exists(p) || inode_of(dest4, "sub/b.txt") != inode_of(elsewhere, hex + 2));
    ck_assert_int_eq(unlink(fan), 0);
    tu_rmrf(elsewhere);
    tu_rmrf(dest4);
    free(p);
    free(fan);
    free(elsewhere);
    free(planted);
    free(dest4);
    /* Not on an fs store, or across filesystems: refused up front. */
    tu_store mem;
    tu_store_open(&mem, TU_MEMORY, NULL);
    mlops_oid mid = snap_specs(mem.s, fixture);
    char *fresh = tu_path("%s/never", dest3);
    tu_assert_err(checkout(NULL, mem.s, &mid, fresh, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL), MLOPS_EUNSUPPORTED);
    ck_assert(!tu_exists(fresh));
    struct stat shm, sdir;
    if (stat("/dev/shm", &shm) == 0 && stat(st.dir, &sdir) == 0 && shm.st_dev != sdir.st_dev &&
        access("/dev/shm", W_OK) == 0) {
        char *other = tu_path("/dev/shm/mlops-co-%d", (int)getpid());
        tu_assert_err(checkout(NULL, st.s, &sn.id, other, 0, MLOPS_DATA_CHECKOUT_HARDLINK, NULL),
                      MLOPS_EUNSUPPORTED);
        ck_assert(!tu_exists(other));
        free(other);
    }
    free(fresh);
    tu_store_destroy(&mem);
    const char *dirs[] = { src, dest, dest2, dest3 };
    for (int i = 0; i < 4; i++) {
        tu_rmrf(dirs[i]);
        free((char *)dirs[i]);
    }
    tu_store_destroy(&st);
}
END_TEST

START_TEST(reflink_mode)
{
    for (int kind = 0; kind < TU_KINDS; kind++) {
        tu_store st;
        tu_store_open(&st, kind, NULL);
        char *src = make_fixture(), *dest = tu_mkdtemp();
        snapped sn = snap_dir(st.s, src, 0);
        mlops_data_checkout_info info;
        int rc = checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_REFLINK, NULL);
        ck_assert_msg(rc == 0, "reflink checkout: %s", mlops_error_last());
        assert_same_tree(src, dest);
        ck_assert_uint_eq(info.files_written, sn.files);
        /* ext4 and the memory store cannot clone: copies, none counted. A
         * filesystem that can (btrfs, xfs) clones every file after the first. */
        ck_assert_msg(info.linked == 0 || info.linked >= sn.files - 1, "linked %llu", (unsigned long long)info.linked);
        if (kind == TU_MEMORY)
            ck_assert_uint_eq(info.linked, 0);
        tu_rmrf(src);
        tu_rmrf(dest);
        free(src);
        free(dest);
        tu_store_destroy(&st);
    }
}
END_TEST

START_TEST(subpaths)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = make_fixture();
    snapped sn = snap_dir(st.s, src, 0);
    char *dest = tu_mkdtemp(), *deeper = tu_path("%s/sub/deeper", src);
    ck_assert_int_eq(checkout(NULL, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, "sub/deeper"), 0);
    assert_same_tree(deeper, dest);
    /* A file lands as dest/<name>, a symlink too, beside what is there. */
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, "run.sh"), 0);
    ck_assert_uint_eq(info.files_written, 1);
    ck_assert_int_eq(checkout(NULL, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, "link"), 0);
    char *p = tu_path("%s/run.sh", dest), target[64] = "";
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0755);
    free(p);
    p = tu_path("%s/link", dest);
    ck_assert_int_eq(readlink(p, target, sizeof target - 1), 9);
    ck_assert_str_eq(target, "sub/b.txt");
    free(p);
    p = tu_path("%s/c.txt", dest);
    ck_assert(tu_exists(p)); /* still there: no CLEAN */
    free(p);
    /* sub holds "up -> ../a.txt": fine in the whole tree, out of sub alone. */
    tu_assert_err(checkout(NULL, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, "sub"), MLOPS_EINVALID);
    tu_assert_err(checkout(NULL, st.s, &sn.id, dest, MLOPS_DATA_CHECKOUT_CLEAN, MLOPS_DATA_CHECKOUT_COPY, "a.txt"),
                  MLOPS_EINVALID);
    tu_assert_err(checkout(NULL, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, "nope"), MLOPS_ENOTFOUND);
    tu_rmrf(src);
    tu_rmrf(dest);
    free(src);
    free(dest);
    free(deeper);
    tu_store_destroy(&st);
}
END_TEST

START_TEST(bad_arguments)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    mlops_oid id = snap_specs(st.s, fixture);
    char *dest = tu_mkdtemp(), hex[65];
    tu_hex(&id, hex);
    mlops_data_checkout_options o;
    tu_assert_err(mlops_data_checkout_options_init(&o, 99), MLOPS_EINVALID);
    tu_assert_err(mlops_data_checkout_options_init(NULL, MLOPS_DATA_CHECKOUT_OPTIONS_VERSION), MLOPS_EINVALID);
    ck_assert_int_eq(mlops_data_checkout_options_init(&o, MLOPS_DATA_CHECKOUT_OPTIONS_VERSION), 0);
    ck_assert(o.mode == MLOPS_DATA_CHECKOUT_COPY && o.flags == 0 && !o.subpath && !o.progress);
    mlops_data_checkout_info info;
    memset(&info, 0xff, sizeof info);
    o.version = 99;
    tu_assert_err(mlops_data_checkout(&info, st.s, hex, dest, &o), MLOPS_EINVALID);
    ck_assert_uint_eq(info.files_written, 0); /* out is cleared on failure too */
    o.version = MLOPS_DATA_CHECKOUT_OPTIONS_VERSION;
    o.mode = (mlops_data_checkout_mode)7;
    tu_assert_err(mlops_data_checkout(NULL, st.s, hex, dest, &o), MLOPS_EINVALID);
    o.mode = MLOPS_DATA_CHECKOUT_COPY;
    o.flags = 0x80;
    tu_assert_err(mlops_data_checkout(NULL, st.s, hex, dest, &o), MLOPS_EINVALID);
    tu_assert_err(mlops_data_checkout(NULL, NULL, hex, dest, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_checkout(NULL, st.s, NULL, dest, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_checkout(NULL, st.s, hex, NULL, NULL), MLOPS_EINVALID);
    tu_assert_err(mlops_data_checkout(NULL, st.s, hex, "", NULL), MLOPS_EINVALID);
    mlops_oid missing;
    mlops_oid_hash(&missing, "no such snapshot", 16);
    tu_hex(&missing, hex);
    tu_assert_err(mlops_data_checkout(NULL, st.s, hex, dest, NULL), MLOPS_ENOTFOUND);
    char *empty = dump(dest, 0);
    ck_assert_str_eq(empty, "");
    free(empty);
    tu_rmrf(dest);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

typedef struct seen {
    unsigned calls;
    mlops_data_progress last;
    int stop_at;
} seen;

static int on_progress(const mlops_data_progress *p, void *payload)
{
    seen *s = payload;
    ck_assert_uint_le(p->files_done, p->files_total);
    ck_assert_uint_le(p->bytes_done, p->bytes_total);
    s->last = *p;
    return ++s->calls == (unsigned)s->stop_at;
}

START_TEST(progress_and_stop)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = make_fixture(), *dest = tu_mkdtemp(), hex[65];
    snapped sn = snap_dir(st.s, src, 0);
    tu_hex(&sn.id, hex);
    mlops_data_checkout_options o = MLOPS_DATA_CHECKOUT_OPTIONS_INIT;
    seen s = { 0, { 0, 0, 0, 0 }, 0 };
    o.progress = on_progress;
    o.progress_payload = &s;
    ck_assert_int_eq(mlops_data_checkout(NULL, st.s, hex, dest, &o), 0);
    ck_assert_uint_ge(s.calls, 2);
    ck_assert_uint_eq(s.last.files_done, sn.files);
    ck_assert_uint_eq(s.last.files_total, sn.files);
    ck_assert_uint_eq(s.last.bytes_done, sn.size);
    s.calls = 0;
    s.stop_at = 1;
    char *dest2 = tu_mkdtemp();
    tu_assert_err(mlops_data_checkout(NULL, st.s, hex, dest2, &o), MLOPS_EUSER);
    ck_assert_uint_eq(tu_count_files(dest2), 0); /* stopped before the first file */
    tu_rmrf(src);
    tu_rmrf(dest);
    tu_rmrf(dest2);
    free(src);
    free(dest);
    free(dest2);
    tu_store_destroy(&st);
}
END_TEST

/* Enough files to fill the workers' queue many times over. */
START_TEST(many_files)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = tu_mkdtemp(), *dest = tu_mkdtemp(), buf[8192];
    for (int d = 0; d < 30; d++)
        for (int f = 0; f < 100; f++) {
            char *p = tu_path("%s/d%02d/f%03d", src, d, f);
            size_t len = 1 + (size_t)(d * 100 + f) * 37 % sizeof buf;
            *strrchr(p, '/') = '\0';
            mkdir(p, 0755);
            p[strlen(p)] = '/';
            tu_fill_random(buf, len, (uint64_t)(d * 100 + f));
            tu_write_file(p, buf, len);
            free(p);
        }
    snapped sn = snap_dir(st.s, src, 0);
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.files_written, 3000);
    assert_same_tree(src, dest);
    ck_assert_int_eq(checkout(&info, st.s, &sn.id, dest, MLOPS_DATA_CHECKOUT_CLEAN, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.files_unchanged, 3000);
    tu_rmrf(src);
    tu_rmrf(dest);
    free(src);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

/* The library's own snapshot, checked out, is the source again, and a
 * status of the checkout against it finds nothing. */
START_TEST(snapshot_round_trip)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    char *src = make_fixture(), *dest = tu_mkdtemp(), hex[65];
    mlops_data_snapshot_info si;
    int rc = mlops_data_snapshot(&si, st.s, src, NULL);
    ck_assert_msg(rc == 0, "snapshot: %s", mlops_error_last());
    snapped by_hand = snap_dir(st.s, src, 0);
    ck_assert(mlops_oid_cmp(&si.id, &by_hand.id) == 0); /* the same manifests */
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(&info, st.s, &si.id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    ck_assert_uint_eq(info.files_written, si.files);
    assert_same_tree(src, dest);
    tu_hex(&si.id, hex);
    mlops_data_diff *diff = NULL;
    rc = mlops_data_status(&diff, st.s, hex, dest, NULL);
    ck_assert_msg(rc == 0, "status: %s", mlops_error_last());
    ck_assert_uint_eq(diff->count, 0);
    mlops_data_diff_free(diff);
    tu_rmrf(src);
    tu_rmrf(dest);
    free(src);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

/* Out of memory at every allocation of a checkout the stat cache settles
 * (no file to write: no worker thread, whose allocations the counting
 * allocator could not follow): ENOMEM, nothing leaked, then success. */
START_TEST(out_of_memory)
{
    tu_store st;
    tu_store_open(&st, TU_FS, NULL);
    static const char *const version[] = { "d/e/f=1", "d/g=2", "l@d/g", "empty/", "x=3", NULL };
    mlops_oid id = snap_specs(st.s, version);
    char *dest = tu_mkdtemp();
    mlops_data_checkout_info info;
    ck_assert_int_eq(checkout(NULL, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    age_files(dest);
    ck_assert_int_eq(checkout(NULL, st.s, &id, dest, 0, MLOPS_DATA_CHECKOUT_COPY, NULL), 0);
    char *before = dump(dest, 1);
    int rc = MLOPS_ENOMEM;
    for (unsigned long n = 1; rc == MLOPS_ENOMEM && n < 10000; n++) {
        tu_alloc a;
        memset(&a, 0, sizeof a);
        a.fail_at = n;
        tu_alloc_install(&a);
        rc = checkout(&info, st.s, &id, dest, MLOPS_DATA_CHECKOUT_CLEAN, MLOPS_DATA_CHECKOUT_COPY, NULL);
        tu_alloc_remove();
        ck_assert_msg(rc == 0 || rc == MLOPS_ENOMEM, "allocation %lu: %d %s", n, rc, mlops_error_last());
        ck_assert_msg(a.outstanding == 0, "allocation %lu: %ld blocks leaked", n, a.outstanding);
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(info.files_unchanged, 3);
    char *after = dump(dest, 1);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    tu_rmrf(dest);
    free(dest);
    tu_store_destroy(&st);
}
END_TEST

static TCase *functional_tests(void)
{
    TCase *tc = tcase_create("functional");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, copy_reproduces);
    tcase_add_test(tc, recheckout_touches_only_changes);
    tcase_add_test(tc, stat_cache_and_modes);
    tcase_add_test(tc, clean_removes_extras);
    tcase_add_test(tc, replaces_without_following);
    tcase_add_test(tc, hardlink_mode);
    tcase_add_test(tc, reflink_mode);
    tcase_add_test(tc, subpaths);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, progress_and_stop);
    tcase_add_test(tc, many_files);
    tcase_add_test(tc, out_of_memory);
    tcase_add_test(tc, snapshot_round_trip);
    return tc;
}

int main(void)
{
    umask(022);
    Suite *s = suite_create("data_checkout");
    TCase *sec = tcase_create("security");
    tcase_set_timeout(sec, 120);
    tcase_add_test(sec, hostile_names);
    tcase_add_test(sec, hostile_entries);
    tcase_add_test(sec, hostile_links);
    tcase_add_test(sec, bad_last_directory);
    tcase_add_test(sec, hostile_shapes);
    tcase_add_test(sec, hostile_destinations);
    tcase_add_test(sec, subpath_through_symlink);
    tcase_add_test(sec, race_symlink_swap);
    tcase_add_test(sec, exec_bit_never_through_links);
    tcase_add_test(sec, cache_copy_written_through);
    tcase_add_test(sec, prune_link_cache);
    suite_add_tcase(s, sec);
    suite_add_tcase(s, functional_tests());
    return tu_run(s);
}
