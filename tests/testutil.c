#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "/dev/stdout");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

void *tu_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ck_assert_msg(p != NULL, "test harness out of memory");
    return p;
}

char *tu_mkdtemp(void)
{
    char *p = strdup("/tmp/mlops-test-XXXXXX");
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp: %s", strerror(errno));
    return p;
}

static int chmod_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    if (flag == FTW_D || flag == FTW_DNR || S_ISDIR(st->st_mode))
        chmod(path, 0700);
    return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void tu_rmrf(const char *path)
{
    if (!path)
        return;
    nftw(path, chmod_cb, 32, FTW_PHYS);
    nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0, "vasprintf");
    return out;
}

void tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    if (len)
        ck_assert_msg(fwrite(data, 1, len, f) == len, "fwrite %s", path);
    ck_assert_msg(fclose(f) == 0, "fclose %s", path);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = tu_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

long long tu_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

int tu_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void tu_flip_byte(const char *path, size_t from_end)
{
    long long size = tu_file_size(path);
    ck_assert_msg(size >= (long long)from_end && from_end > 0, "flip: %s too small", path);
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        chmod(path, 0600);
        fd = open(path, O_RDWR);
    }
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    unsigned char c;
    off_t off = (off_t)(size - (long long)from_end);
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c ^= 0x5a;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

void tu_truncate(const char *path, long long size)
{
    if (truncate(path, (off_t)size) != 0) {
        chmod(path, 0600);
        ck_assert_msg(truncate(path, (off_t)size) == 0, "truncate %s: %s", path, strerror(errno));
    }
}

/* ---- directory walks ------------------------------------------------ */

typedef struct walk {
    char **items;
    size_t n, cap;
    int files_only;
    int with_size;
} walk;

static void walk_add(walk *w, char *s)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->items = realloc(w->items, w->cap * sizeof(char *));
        ck_assert_ptr_nonnull(w->items);
    }
    w->items[w->n++] = s;
}

static void walk_dir(walk *w, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = tu_path("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            free(p);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (!w->files_only)
                walk_add(w, tu_path("%s/", p));
            walk_dir(w, p);
            free(p);
        } else if (S_ISREG(st.st_mode) || !w->files_only) {
            if (w->with_size) {
                walk_add(w, tu_path("%s %lld", p, (long long)st.st_size));
                free(p);
            } else {
                walk_add(w, p);
            }
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t tu_count_files(const char *dir)
{
    walk w = {0};
    w.files_only = 1;
    walk_dir(&w, dir);
    size_t n = w.n;
    tu_free_list(w.items, w.n);
    free(w.items);
    return n;
}

size_t tu_list_files(const char *dir, char **out, size_t cap)
{
    walk w = {0};
    w.files_only = 1;
    walk_dir(&w, dir);
    qsort(w.items, w.n, sizeof(char *), cmp_str);
    size_t n = w.n < cap ? w.n : cap;
    for (size_t i = 0; i < w.n; i++) {
        if (i < n)
            out[i] = w.items[i];
        else
            free(w.items[i]);
    }
    free(w.items);
    return n;
}

void tu_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
}

char *tu_tree(const char *dir)
{
    walk w = {0};
    w.with_size = 1;
    walk_dir(&w, dir);
    qsort(w.items, w.n, sizeof(char *), cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < w.n; i++)
        total += strlen(w.items[i]) + 1;
    char *out = tu_xmalloc(total);
    out[0] = 0;
    for (size_t i = 0; i < w.n; i++) {
        strcat(out, w.items[i]);
        strcat(out, "\n");
        free(w.items[i]);
    }
    free(w.items);
    return out;
}

/* ---- hashing ----------------------------------------------------------- */

void tu_sha256sum_file(const char *path, char hex[65])
{
    char *cmd = tu_path("sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "popen sha256sum");
    char line[256] = {0};
    ck_assert_msg(fgets(line, sizeof line, p) != NULL, "sha256sum produced nothing");
    ck_assert_int_eq(pclose(p), 0);
    free(cmd);
    ck_assert_msg(strlen(line) >= 64, "sha256sum output: %s", line);
    memcpy(hex, line, 64);
    hex[64] = 0;
}

void tu_sha256sum_buf(const void *data, size_t len, char hex[65])
{
    char *dir = tu_mkdtemp();
    char *p = tu_path("%s/data", dir);
    tu_write_file(p, data, len);
    tu_sha256sum_file(p, hex);
    tu_rmrf(dir);
    free(p);
    free(dir);
}

void tu_hex(const mlops_oid *id, char hex[65])
{
    ck_assert_int_eq(mlops_oid_tohex(hex, id), 0);
}

mlops_oid tu_oid(const char *hex)
{
    mlops_oid id;
    ck_assert_int_eq(mlops_oid_fromhex(&id, hex), 0);
    return id;
}

/* ---- data ----------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

void tu_fill_random(void *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        if ((i & 7) == 0)
            xorshift(&s);
        p[i] = (unsigned char)(s >> ((i & 7) * 8));
    }
}

void tu_fill_text(void *buf, size_t len, uint64_t seed)
{
    static const char *const words[] = {"epoch", "loss", "accuracy", "model", "layer", "weight",
                                        "gradient", "batch", "train", "eval", "0.125", "step"};
    uint64_t s = seed + 88172645463325252ull;
    char *p = buf;
    size_t i = 0;
    while (i < len) {
        const char *w = words[xorshift(&s) % 12];
        for (size_t k = 0; w[k] && i < len; k++)
            p[i++] = w[k];
        if (i < len)
            p[i++] = (xorshift(&s) % 8) ? ' ' : '\n';
    }
}

/* ---- stores --------------------------------------------------------- */

const char *const tu_kind_name[TU_KINDS] = {"memory", "fs"};

void tu_store_open(tu_store *t, int kind, const mlops_store_options *opts)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    int rc;
    if (kind == TU_FS) {
        t->dir = tu_mkdtemp();
        rc = mlops_store_open(&t->s, t->dir, opts);
    } else {
        rc = mlops_store_open_memory(&t->s, opts);
    }
    ck_assert_msg(rc == 0 && t->s != NULL, "open %s store: %d %s", tu_kind_name[kind], rc, mlops_error_last());
}

void tu_store_close(tu_store *t)
{
    mlops_store_free(t->s);
    t->s = NULL;
}

void tu_store_reopen(tu_store *t, const mlops_store_options *opts)
{
    ck_assert_int_eq(t->kind, TU_FS);
    tu_store_close(t);
    int rc = mlops_store_open(&t->s, t->dir, opts);
    ck_assert_msg(rc == 0, "reopen: %d %s", rc, mlops_error_last());
}

void tu_store_destroy(tu_store *t)
{
    tu_store_close(t);
    if (t->dir) {
        tu_rmrf(t->dir);
        free(t->dir);
        t->dir = NULL;
    }
}

char *tu_object_path(const char *dir, const mlops_oid *id)
{
    char hex[65];
    tu_hex(id, hex);
    return tu_path("%s/objects/%.2s/%s", dir, hex, hex + 2);
}

mlops_oid tu_put(mlops_store *s, const void *data, size_t len)
{
    mlops_oid id;
    int rc = mlops_object_put(&id, s, data, len);
    ck_assert_msg(rc == 0, "put: %d %s", rc, mlops_error_last());
    return id;
}

mlops_oid tu_put_str(mlops_store *s, const char *str)
{
    return tu_put(s, str, strlen(str));
}

void tu_assert_err_at(int rc, int want, const char *expr, const char *file, int line)
{
    ck_assert_msg(rc == want, "%s:%d: %s returned %d (%s), expected %d (%s); last error: %s", file, line, expr, rc,
                  mlops_error_name(rc), want, mlops_error_name(want), mlops_error_last());
    if (want < 0) {
        const char *m = mlops_error_last();
        ck_assert_msg(m != NULL && m[0] != 0, "%s:%d: %s: empty error message", file, line, expr);
        ck_assert_msg(strchr(m, '\n') == NULL, "%s:%d: %s: message is not one line: %s", file, line, expr, m);
        ck_assert_msg(mlops_error_last_code() == want, "%s:%d: %s: mlops_error_last_code() %d, expected %d (message: %s)",
                      file, line, expr, mlops_error_last_code(), want, m);
    }
}

uint64_t tu_verify_clean(mlops_store *s)
{
    mlops_verify_report r;
    memset(&r, 0, sizeof r);
    int rc = mlops_store_verify(&r, s, NULL, NULL);
    ck_assert_msg(rc == 0, "verify: %d %s", rc, mlops_error_last());
    char first[65] = "";
    if (r.ncorrupt)
        tu_hex(&r.corrupt[0], first);
    ck_assert_msg(r.ncorrupt == 0, "verify: %zu corrupt objects (first %s)", r.ncorrupt, first);
    ck_assert_msg(r.ndangling == 0, "verify: %zu dangling refs (first %s)", r.ndangling,
                  r.ndangling ? r.dangling[0] : "");
    uint64_t torn = r.log_torn;
    mlops_verify_report_free(&r);
    return torn;
}

/* ---- allocator ------------------------------------------------------ */

/* Each block carries a header so that frees of foreign pointers and
 * double frees are caught. */
#define TU_HDR 16
#define TU_MAGIC 0x6d6c6f70734d454dull
#define TU_DEAD 0x6465616462656566ull

/* The library allocates on helper threads too (a stat cache loads while
 * the tree is scanned), so the counters move under one lock: the n-th
 * call is then well defined, though which thread makes it may vary. */
static pthread_mutex_t tu_alloc_lock = PTHREAD_MUTEX_INITIALIZER;

/* 1 when this call (malloc or realloc) is the one to fail. */
static int tu_a_count(tu_alloc *a, size_t size)
{
    pthread_mutex_lock(&tu_alloc_lock);
    a->calls++;
    int fail = a->fail_at && a->calls == a->fail_at;
    if (fail)
        a->failures++;
    else if (a->big && size == a->big)
        a->nbig++;
    pthread_mutex_unlock(&tu_alloc_lock);
    return fail;
}

static void tu_a_outstanding(tu_alloc *a, long delta)
{
    pthread_mutex_lock(&tu_alloc_lock);
    a->outstanding += delta;
    pthread_mutex_unlock(&tu_alloc_lock);
}

static void *tu_a_malloc(size_t size, void *ctx)
{
    tu_alloc *a = ctx;
    if (tu_a_count(a, size))
        return NULL;
    unsigned char *p = malloc(size + TU_HDR);
    if (!p)
        return NULL;
    uint64_t m = TU_MAGIC;
    memcpy(p, &m, 8);
    tu_a_outstanding(a, 1);
    return p + TU_HDR;
}

static void tu_a_free(void *ptr, void *ctx)
{
    tu_alloc *a = ctx;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - TU_HDR;
    uint64_t m;
    memcpy(&m, p, 8);
    ck_assert_msg(m != TU_DEAD, "allocator: double free of %p", ptr);
    ck_assert_msg(m == TU_MAGIC, "allocator: free of a block not taken from this allocator: %p", ptr);
    m = TU_DEAD;
    memcpy(p, &m, 8);
    tu_a_outstanding(a, -1);
    free(p);
}

static void *tu_a_realloc(void *ptr, size_t size, void *ctx)
{
    tu_alloc *a = ctx;
    if (!ptr)
        return tu_a_malloc(size, ctx);
    unsigned char *p = (unsigned char *)ptr - TU_HDR;
    uint64_t m;
    memcpy(&m, p, 8);
    ck_assert_msg(m == TU_MAGIC, "allocator: realloc of a block not taken from this allocator: %p", ptr);
    if (tu_a_count(a, 0))
        return NULL;
    unsigned char *q = realloc(p, size + TU_HDR);
    if (!q)
        return NULL;
    return q + TU_HDR;
}

void tu_alloc_install(tu_alloc *a)
{
    mlops_allocator al = {tu_a_malloc, tu_a_realloc, tu_a_free, a};
    ck_assert_int_eq(mlops_allocator_set(&al), 0);
}

void tu_alloc_remove(void)
{
    ck_assert_int_eq(mlops_allocator_set(NULL), 0);
}

void tu_set_mtime_from_now(const char *path, int secs)
{
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec += secs;
    ts[1] = ts[0];
    ck_assert_msg(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0, "utimensat %s: %s", path,
                  strerror(errno));
}

static int age_secs;

static int age_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    tu_set_mtime_from_now(path, -age_secs);
    return 0;
}

void tu_age_tree(const char *path, int secs)
{
    age_secs = secs;
    /* FTW_DEPTH: a directory is stamped after its entries changed it */
    ck_assert_int_eq(nftw(path, age_one, 16, FTW_PHYS | FTW_DEPTH), 0);
}

void tu_run_children(int n, int (*child)(const char *dir, int p), const char *dir)
{
    pid_t *pids = tu_xmalloc((size_t)n * sizeof *pids);
    for (int p = 0; p < n; p++) {
        fflush(NULL);
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0)
            _exit(child(dir, p));
    }
    for (int p = 0; p < n; p++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pids[p], &st, 0), pids[p]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed", p);
    }
    free(pids);
}
