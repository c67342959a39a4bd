/* Shared helpers for the Check suites: temp dirs, files, independent
 * SHA-256 (sha256sum), stores of both kinds, a counting/failing allocator. */
#ifndef MLOPS_TESTS_TESTUTIL_H
#define MLOPS_TESTS_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "mlops/store.h"

/* Runs one suite with TAP output on stdout; returns the exit status. */
int tu_run(Suite *s);

/* ---- files --------------------------------------------------------- */
/* A fresh directory under /tmp (malloc'd path); aborts the test on failure. */
char *tu_mkdtemp(void);
/* rm -rf path (chmods directories back to writable first). */
void tu_rmrf(const char *path);
/* snprintf into a malloc'd string. */
char *tu_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tu_write_file(const char *path, const void *data, size_t len);
/* Whole file in a malloc'd buffer (NUL-terminated); NULL if it cannot be read. */
char *tu_read_file(const char *path, size_t *len);
/* Size of a file, or -1 if missing. */
long long tu_file_size(const char *path);
int tu_exists(const char *path);
/* XORs the byte at offset (size - from_end) with 0x5a. */
void tu_flip_byte(const char *path, size_t from_end);
void tu_truncate(const char *path, long long size);
/* Number of regular files below dir (recursive); 0 if missing. */
size_t tu_count_files(const char *dir);
/* Sorted, newline-separated list of every path below dir with its size
 * (malloc'd), to compare a tree before and after an operation. */
char *tu_tree(const char *dir);
/* Appends to out (cap entries) the regular files below dir (malloc'd
 * paths), sorted; returns their number. */
size_t tu_list_files(const char *dir, char **out, size_t cap);
void tu_free_list(char **list, size_t n);
/* Sets the mtime (and atime) of path and of everything below it to now
 * minus secs, without following symlinks: files then look old enough for
 * the stat cache's racy rule without any test sleeping. */
void tu_age_tree(const char *path, int secs);
/* Sets the mtime (and atime) of one path to now plus secs (no follow): a
 * file stamped in the future is racy for any stat cache taken before it. */
void tu_set_mtime_from_now(const char *path, int secs);

/* ---- hashing, independent of the library ---------------------------- */
/* Runs `sha256sum path`; writes 64 hex digits + NUL. */
void tu_sha256sum_file(const char *path, char hex[65]);
/* Writes data to a temp file and runs sha256sum on it. */
void tu_sha256sum_buf(const void *data, size_t len, char hex[65]);
/* Hex of an oid (via the library's tohex, checked by test_oid). */
void tu_hex(const mlops_oid *id, char hex[65]);
/* Parses hex into an oid, failing the test on error. */
mlops_oid tu_oid(const char *hex);

/* ---- data ----------------------------------------------------------- */
/* Deterministic pseudo-random bytes (incompressible). */
void tu_fill_random(void *buf, size_t len, uint64_t seed);
/* Deterministic text that compresses well; seed varies the content. */
void tu_fill_text(void *buf, size_t len, uint64_t seed);
void *tu_xmalloc(size_t n);

/* ---- stores --------------------------------------------------------- */
#define TU_MEMORY 0
#define TU_FS 1
#define TU_KINDS 2
typedef struct tu_store {
    mlops_store *s;
    char *dir; /* fs only; NULL for memory */
    int kind;
} tu_store;
extern const char *const tu_kind_name[TU_KINDS];
/* Opens a fresh store of the given kind (fs: in a new temp dir). */
void tu_store_open(tu_store *t, int kind, const mlops_store_options *opts);
/* Closes the handle (keeps the directory). */
void tu_store_close(tu_store *t);
/* Reopens the fs store in the same directory. */
void tu_store_reopen(tu_store *t, const mlops_store_options *opts);
/* Closes and removes the directory. */
void tu_store_destroy(tu_store *t);
/* Forks n processes that each exit with child(dir, p) (p = 0..n-1), waits
 * for them all, and fails the test unless every one exited 0. Close the
 * store first: children open their own handles. */
void tu_run_children(int n, int (*child)(const char *dir, int p), const char *dir);
/* Path of the file holding an object in an fs store (malloc'd). */
char *tu_object_path(const char *dir, const mlops_oid *id);
/* Puts data, fails the test on error. */
mlops_oid tu_put(mlops_store *s, const void *data, size_t len);
mlops_oid tu_put_str(mlops_store *s, const char *str);
/* Asserts rc == want and, for a failure, that the last error has that code
 * and a non-empty message. */
#define tu_assert_err(rc, want) tu_assert_err_at((rc), (want), #rc, __FILE__, __LINE__)
void tu_assert_err_at(int rc, int want, const char *expr, const char *file, int line);
/* verify must be clean: 0 corrupt, 0 dangling (log_torn is returned). */
uint64_t tu_verify_clean(mlops_store *s);

/* ---- allocator ------------------------------------------------------ */
typedef struct tu_alloc {
    unsigned long calls;        /* malloc + realloc calls seen */
    unsigned long fail_at;      /* fail exactly this call number (0: never) */
    unsigned long failures;     /* calls that were made to fail */
    long outstanding;           /* live blocks taken through the hook */
    size_t big;                 /* size threshold for the counter below */
    unsigned long nbig;         /* allocations of exactly `big` bytes */
} tu_alloc;
/* Installs a counting allocator writing to a (zeroed by the caller). */
void tu_alloc_install(tu_alloc *a);
/* Restores the default allocator. */
void tu_alloc_remove(void);

#endif
