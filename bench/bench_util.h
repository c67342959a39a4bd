/*
 * Helpers shared by the benchmark programs: timing, statistics, JSON lines,
 * resident memory, scratch directories and test data.
 *
 * Every benchmark prints one JSON object per line on stdout and notes on
 * stderr. Figures are reported as min/median/max over several runs, and each
 * benchmark runs its baseline in the same process so that ratios, not
 * absolute numbers, carry the meaning (this machine is noisy; DESIGN.md §8).
 */
#ifndef MLOPS_BENCH_UTIL_H
#define MLOPS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_RUNS 32

/* Monotonic clock in seconds. */
double bench_now(void);

/* Runs of one measurement: seconds per run. */
typedef struct bench_series {
    double s[BENCH_MAX_RUNS];
    int n;
} bench_series;

void bench_series_add(bench_series *x, double seconds);
double bench_series_min(const bench_series *x);
double bench_series_median(const bench_series *x);
double bench_series_max(const bench_series *x);

/*
 * Prints {"bench":name,"n":n,"runs":..,"seconds":median,"seconds_min":..,
 * "seconds_max":..,"rate":units/median,"rate_min":..,"rate_max":..,
 * "unit":unit<extra>} where units is the amount of work of one run (bytes
 * are converted to MB for unit "MB/s"). extra, if not NULL, is appended
 * verbatim and must start with ',' (e.g. ",\"ratio_vs_cp\":1.1").
 */
void bench_print(const char *name, uint64_t n, const bench_series *x, double units, const char *unit,
                 const char *extra);
/* Prints {"bench":name,"note":note} (skipped baselines, environment). */
void bench_note(const char *name, const char *note);

/* Integer from the environment or a default (positive values only). */
long bench_env_long(const char *name, long dflt);

/* Number of runs: MLOPS_BENCH_RUNS, default dflt, clamped to 1..BENCH_MAX_RUNS. */
int bench_runs(int dflt);

/* VmRSS / VmHWM of this process in KiB (-1 if unavailable). */
long bench_vm_kib(const char *field);
/* Resets VmHWM to the current RSS (writes "5" to /proc/self/clear_refs).
 * Returns 0 on success. */
int bench_reset_hwm(void);

/*
 * Creates a fresh scratch directory under MLOPS_BENCH_DIR, or $TMPDIR, or
 * /var/tmp (so that it is on a disk, not a tmpfs), and returns its path in
 * out (size cap). Exits on failure.
 */
void bench_mkdtemp(char *out, size_t cap, const char *tag);
/* rm -rf path (through nftw). */
void bench_rmtree(const char *path);

/*
 * sync(2), then sleep MLOPS_BENCH_SETTLE_S seconds (default 6): before a
 * timed section that creates many small files. ext4 without a journal
 * (this VM's root filesystem) will not reuse an inode freed in the last
 * 5 s (5 min while its inode-table block is still dirty), and inode
 * allocation scans past every such inode: after thousands of deletes,
 * by earlier runs or the section's own baseline, each new file costs
 * tens of microseconds more. Both sides of a comparison get the same.
 */
void bench_settle(void);

/* n values of tests/drift/drift_vec.h's "normal" arrays (splitmix64 from
 * seed, each value mu + sd (u1 + ... + u12 - 6)), bit for bit what the
 * tests' Python side generates. Exits when out of memory. */
double *bench_normal(uint64_t seed, size_t n, double mu, double sd);

/* xorshift64* pseudo-random bytes. */
uint64_t bench_rand64(uint64_t *state);
void bench_fill_random(void *buf, size_t len, uint64_t *state);

/*
 * Writes a file of size bytes and fsyncs it.
 * kind "random": incompressible bytes.
 * kind "semi": semi-compressible: CSV-like text rows of random numbers,
 * (zlib -1 shrinks it to roughly half), like an exported training table.
 * Exits on failure.
 */
void bench_make_file(const char *path, uint64_t size, const char *kind);

/* Durable copy (read + write + fsync file + fsync directory), like
 * `cp src dst && sync`. Returns 0 or -1. */
int bench_durable_copy(const char *src, const char *dst);

/* SHA-256 of a file with OpenSSL EVP, reading in 1 MiB chunks. Returns 0 or -1. */
int bench_sha256_file(const char *path, unsigned char out[32]);

/* Reads a whole file through the page cache (warms it). */
void bench_warm(const char *path);

#endif
