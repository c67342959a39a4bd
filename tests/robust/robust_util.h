/*
 * Helpers shared by the robustness tests (crash, concurrency): a seeded
 * PRNG, temporary store directories, acknowledgement files, timing, the
 * TAP runner.
 * Header-only so each test stays one translation unit.
 */
#ifndef MLOPS_TESTS_ROBUST_UTIL_H
#define MLOPS_TESTS_ROBUST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <mlops.h>

/* Runs a suite with TAP output on stdout; returns main's exit status. */
static inline int ru_run(Suite *su)
{
    SRunner *sr = srunner_create(su);
    int failed;
    srunner_set_tap(sr, "/dev/stdout");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

static inline uint64_t ru_next(uint64_t *state)
{
    /* splitmix64: tiny, good enough, and the same on every platform. */
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t ru_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
    return lo + ru_next(state) % (hi - lo + 1);
}

/* Fills buf with bytes fully determined by seed. */
static inline void ru_fill(void *buf, size_t n, uint64_t seed)
{
    unsigned char *p = (unsigned char *)buf;
    uint64_t st = seed, v = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 7) == 0)
            v = ru_next(&st);
        p[i] = (unsigned char)(v >> ((i & 7) * 8));
    }
}

/* Seed of this run: $MLOPS_TEST_SEED or time ^ pid; printed for replay. */
static inline uint64_t ru_seed(const char *what)
{
    const char *env = getenv("MLOPS_TEST_SEED");
    uint64_t seed;
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    else
        seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)clock();
    fprintf(stderr, "# %s: seed %" PRIu64 " (set MLOPS_TEST_SEED to replay)\n", what, seed);
    return seed;
}

static inline uint64_t ru_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void ru_sleep_us(uint64_t us)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the string. */
static inline char *ru_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path;
    size_t n;
    if (!base || !*base)
        base = "/tmp";
    n = strlen(base) + strlen(tag) + 32;
    path = (char *)malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/mlops-%s-XXXXXX", base, tag);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static inline int ru_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf path, unless $MLOPS_TEST_KEEP is set (for post-mortems). */
static inline void ru_rm_rf(const char *path)
{
    if (!path)
        return;
    if (getenv("MLOPS_TEST_KEEP")) {
        fprintf(stderr, "# kept %s\n", path);
        return;
    }
    nftw(path, ru_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Appends one line to an acknowledgement file with a single write(2), so a
 * SIGKILL leaves either the whole line or nothing. */
static inline void ru_ack(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void ru_ack(int fd, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        _exit(90);
    if (write(fd, line, (size_t)n) != n)
        _exit(91);
}

/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL if absent). */
static inline char *ru_slurp(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    if (!f)
        return NULL;
    for (;;) {
        if (cap - len < 65536) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = (char *)realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = 0;
    if (out_len)
        *out_len = len;
    return buf;
}

static inline const char *ru_hex(const mlops_oid *id, char out[MLOPS_OID_HEXSZ + 1])
{
    mlops_oid_tohex(out, id);
    return out;
}

/*
 * Self-checking log records: "W<writer>:S<seq>:" followed by a payload
 * whose length and bytes are determined by (writer, seq), so a reader can
 * tell an intact record from a damaged or misplaced one.
 */
#define RU_RECORD_MAX 512
static inline size_t ru_record(unsigned char *buf, unsigned writer, unsigned seq)
{
    uint64_t st = ((uint64_t)writer << 32) ^ seq ^ UINT64_C(0x5bd1e995);
    size_t plen = (size_t)(ru_next(&st) % 300);
    int n = snprintf((char *)buf, RU_RECORD_MAX, "W%u:S%u:", writer, seq);
    ru_fill(buf + n, plen, st);
    return (size_t)n + plen;
}

/* 0 if rec is an intact record (and sets writer/seq), -1 otherwise. */
static inline int ru_record_check(const void *rec, size_t len, unsigned *writer, unsigned *seq)
{
    unsigned char expect[RU_RECORD_MAX];
    char head[64];
    unsigned w, s;
    size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
    memcpy(head, rec, n);
    head[n] = 0;
    if (sscanf(head, "W%u:S%u:", &w, &s) != 2)
        return -1;
    if (ru_record(expect, w, s) != len || memcmp(expect, rec, len) != 0)
        return -1;
    *writer = w;
    *seq = s;
    return 0;
}

#endif
