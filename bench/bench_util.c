/* Helpers shared by the benchmark programs (see bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define CHUNK ((size_t)1 << 20)

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_series_add(bench_series *x, double seconds)
{
    if (x->n < BENCH_MAX_RUNS)
        x->s[x->n++] = seconds;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void sorted(const bench_series *x, double *out)
{
    memcpy(out, x->s, sizeof(double) * (size_t)x->n);
    qsort(out, (size_t)x->n, sizeof(double), cmp_double);
}

double bench_series_min(const bench_series *x)
{
    double v[BENCH_MAX_RUNS];
    if (x->n == 0)
        return 0.0;
    sorted(x, v);
    return v[0];
}

double bench_series_max(const bench_series *x)
{
    double v[BENCH_MAX_RUNS];
    if (x->n == 0)
        return 0.0;
    sorted(x, v);
    return v[x->n - 1];
}

double bench_series_median(const bench_series *x)
{
    double v[BENCH_MAX_RUNS];
    if (x->n == 0)
        return 0.0;
    sorted(x, v);
    if (x->n % 2)
        return v[x->n / 2];
    return (v[x->n / 2 - 1] + v[x->n / 2]) / 2.0;
}

static double rate(double units, double seconds)
{
    return seconds > 0.0 ? units / seconds : 0.0;
}

void bench_print(const char *name, uint64_t n, const bench_series *x, double units, const char *unit,
                 const char *extra)
{
    double med = bench_series_median(x), lo = bench_series_min(x), hi = bench_series_max(x);
    if (strcmp(unit, "MB/s") == 0)
        units /= 1e6;
    /* The fastest run has the highest rate: rate_max pairs with seconds_min. */
    printf("{\"bench\":\"%s\",\"n\":%llu,\"runs\":%d,\"seconds\":%.6f,\"seconds_min\":%.6f,"
           "\"seconds_max\":%.6f,\"rate\":%.3f,\"rate_min\":%.3f,\"rate_max\":%.3f,\"unit\":\"%s\"%s}\n",
           name, (unsigned long long)n, x->n, med, lo, hi, rate(units, med), rate(units, hi), rate(units, lo),
           unit, extra ? extra : "");
    fflush(stdout);
}

void bench_note(const char *name, const char *note)
{
    printf("{\"bench\":\"%s\",\"note\":\"", name);
    for (const char *p = note; *p; p++) {
        if (*p == '"' || *p == '\\')
            putchar('\\');
        putchar(*p >= 0x20 ? *p : ' ');
    }
    printf("\"}\n");
    fflush(stdout);
}

long bench_env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    char *end;
    long x;
    if (!v || !*v)
        return dflt;
    errno = 0;
    x = strtol(v, &end, 10);
    if (errno || *end || x <= 0) {
        fprintf(stderr, "bench: ignoring %s=%s (want a positive integer)\n", name, v);
        return dflt;
    }
    return x;
}

int bench_runs(int dflt)
{
    long r = bench_env_long("MLOPS_BENCH_RUNS", dflt);
    if (r < 1)
        r = 1;
    if (r > BENCH_MAX_RUNS)
        r = BENCH_MAX_RUNS;
    return (int)r;
}

long bench_vm_kib(const char *field)
{
    char line[256];
    size_t flen = strlen(field);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

int bench_reset_hwm(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    int ok;
    if (fd < 0)
        return -1;
    ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok ? 0 : -1;
}

void bench_mkdtemp(char *out, size_t cap, const char *tag)
{
    const char *base = getenv("MLOPS_BENCH_DIR");
    if (!base || !*base)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/var/tmp";
    if ((size_t)snprintf(out, cap, "%s/mlops-bench-%s-XXXXXX", base, tag) >= cap || !mkdtemp(out)) {
        fprintf(stderr, "bench: cannot create a scratch directory under %s: %s\n", base, strerror(errno));
        exit(2);
    }
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void bench_rmtree(const char *path)
{
    nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

uint64_t bench_rand64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void bench_fill_random(void *buf, size_t len, uint64_t *state)
{
    unsigned char *p = buf;
    while (len >= 8) {
        uint64_t r = bench_rand64(state);
        memcpy(p, &r, 8);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t r = bench_rand64(state);
        memcpy(p, &r, len);
    }
}

/* Appends one CSV row of 12 decimal numbers like "13.0412" to p; returns
 * the new end. At most 12 * 10 + 1 bytes. */
static char *csv_row(char *p, uint64_t *state)
{
    for (int i = 0; i < 12; i++) {
        uint64_t r = bench_rand64(state);
        unsigned ip = (unsigned)(r % 200), fp = (unsigned)((r >> 20) % 10000);
        if (ip >= 100)
            *p++ = (char)('0' + ip / 100);
        if (ip >= 10)
            *p++ = (char)('0' + ip / 10 % 10);
        *p++ = (char)('0' + ip % 10);
        *p++ = '.';
        *p++ = (char)('0' + fp / 1000);
        *p++ = (char)('0' + fp / 100 % 10);
        *p++ = (char)('0' + fp / 10 % 10);
        *p++ = (char)('0' + fp % 10);
        *p++ = i == 11 ? '\n' : ',';
    }
    return p;
}

static void fill_semi(char *buf, size_t len, uint64_t *state)
{
    char row[160];
    size_t off = 0;
    while (off < len) {
        size_t n = (size_t)(csv_row(row, state) - row);
        if (n > len - off)
            n = len - off;
        memcpy(buf + off, row, n);
        off += n;
    }
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

void bench_make_file(const char *path, uint64_t size, const char *kind)
{
    uint64_t state = 0x9E3779B97F4A7C15ULL ^ size;
    int semi = strcmp(kind, "semi") == 0;
    char *buf = malloc(CHUNK);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!buf || fd < 0) {
        fprintf(stderr, "bench: cannot create %s: %s\n", path, strerror(errno));
        exit(2);
    }
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        if (semi)
            fill_semi(buf, n, &state);
        else
            bench_fill_random(buf, n, &state);
        if (write_all(fd, buf, n) < 0) {
            fprintf(stderr, "bench: writing %s: %s\n", path, strerror(errno));
            exit(2);
        }
        off += n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fprintf(stderr, "bench: fsync %s: %s\n", path, strerror(errno));
        exit(2);
    }
    free(buf);
}

static int fsync_parent(const char *path)
{
    char tmp[4096];
    int fd, rc;
    if (strlen(path) >= sizeof(tmp))
        return -1;
    strcpy(tmp, path);
    fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int bench_durable_copy(const char *src, const char *dst)
{
    char *buf = malloc(CHUNK);
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = -1;
    ssize_t n;
    if (!buf || in < 0 || out < 0)
        goto done;
    while ((n = read(in, buf, CHUNK)) > 0)
        if (write_all(out, buf, (size_t)n) < 0)
            goto done;
    if (n < 0 || fsync(out) < 0)
        goto done;
    rc = close(out);
    out = -1;
    if (rc == 0)
        rc = fsync_parent(dst);
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(buf);
    return rc;
}

int bench_sha256_file(const char *path, unsigned char out[32])
{
    char *buf = malloc(CHUNK);
    int fd = open(path, O_RDONLY), rc = -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    ssize_t n;
    if (!buf || fd < 0 || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto done;
    while ((n = read(fd, buf, CHUNK)) > 0)
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto done;
    if (n == 0 && EVP_DigestFinal_ex(ctx, out, &len) == 1)
        rc = 0;
done:
    EVP_MD_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

void bench_warm(const char *path)
{
    char *buf = malloc(CHUNK);
    int fd = open(path, O_RDONLY);
    if (buf && fd >= 0)
        while (read(fd, buf, CHUNK) > 0)
            ;
    if (fd >= 0)
        close(fd);
    free(buf);
}

void bench_settle(void)
{
    const char *env = getenv("MLOPS_BENCH_SETTLE_S");
    unsigned int secs = env && *env ? (unsigned int)strtoul(env, NULL, 10) : 6;
    sync();
    if (secs)
        sleep(secs);
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double *bench_normal(uint64_t seed, size_t n, double mu, double sd)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) {
        fprintf(stderr, "bench: out of memory for %zu values\n", n);
        exit(1);
    }
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int k = 0; k < 12; k++)
            s += (double)(splitmix64(&st) >> 11) * 0x1p-53;
        x[i] = mu + sd * (s - 6.0);
    }
    return x;
}
