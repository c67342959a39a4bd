/*
 * bench_data: data versioning (issue 4), each figure next to its baseline
 * measured in the same run (DESIGN.md §8). One JSON object per line:
 *
 *  data.snapshot_100k   mlops_data_snapshot of a tree of N files (default
 *                       100 directories x 1000 files of 1-8 KiB of random
 *                       bytes) into a fresh fs store, then mlops_store_sync:
 *                       with the default COMMIT durability the objects are
 *                       durable only once a commit point returns.
 *                       Baseline: `git add -A` into a fresh repository.
 *                       Target: >= 2x faster.
 *  data.commit_100k     mlops_data_commit of the same tree into a fresh store
 *                       (snapshot, version record, ref: its own commit point).
 *                       Baseline: `git add -A` then `git commit`.
 *  data.status_100k     mlops_data_status of the unchanged tree against the
 *                       committed version. Baseline: `git status --porcelain`
 *                       of the committed (clean) repository, alternating with
 *                       ours, 11 pairs (or more runs). Target: no slower.
 *  data.checkout_100k   mlops_data_checkout into a fresh directory.
 *                       Baseline: `cp -r` of the tree. Target: >= 20,000 files/s.
 *  data.snapshot_big    first snapshot of one large file (default 1 GiB of
 *                       CSV-like text that zlib halves) into a fresh store,
 *                       with the sync. Baseline: mlops_object_put_file + sync
 *                       into a fresh store. Target: <= 1.3x.
 *  data.snapshot_big_append, data.snapshot_big_overwrite
 *                       1 MiB appended, then 1 MiB overwritten in the middle,
 *                       and the file snapshotted again into the same store:
 *                       bytes added under objects/. Target: <= 4 MiB each.
 *  data.snapshot_1m     (--million) snapshot of 1,000,000 tiny files in a
 *                       child process: its peak RSS. Target: < 256 MiB.
 *                       Baseline: the peak RSS of `git add -A` of that tree.
 * and a baseline.* line for every baseline. "ratio" is always our seconds
 * over the baseline's (below 1: we are faster); "speedup" its inverse.
 *
 * Rules kept (DESIGN.md §8): every run writes into a fresh directory, the
 * trees and stores are deleted only at the very end, and before every timed
 * step the filesystem is synced (untimed), so that dirty pages left by a
 * baseline that does not fsync (git, cp) are not written back on the next
 * measurement's time. All reads are warm: the trees were just written.
 *
 * Usage: bench_data [--million] [--skip-tree] [--skip-big] [--files N]
 *                   [--size-mb M]
 * Environment: MLOPS_BENCH_RUNS (default 3), MLOPS_BENCH_DATA_FILES (default
 * 100000), MLOPS_BENCH_SIZE_MB (default 1024), MLOPS_BENCH_DIR (scratch,
 * default /var/tmp), MLOPS_BENCH_CACHE (where the million-file tree is kept
 * between runs, default /tmp/mlops-bench-cache), MLOPS_BENCH_MILLION_FILES
 * and MLOPS_BENCH_MILLION_RUNS (default 1000000 and 1), MLOPS_BENCH_KEEP
 * (keep the scratch directory). docs/BENCH-data.md has the figures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

extern char **environ;

#define KIB 1024ULL
#define MIB (1024ULL * 1024ULL)
#define PATHCAP 4096

static const char *const g_dataset = "bench";

/* Status pairs (ours, then git status) measured: at least this many. */
#define STATUS_PAIRS 11

/* A human-readable summary, printed on stderr at the end. */
static char g_summary[8192];
static size_t g_summary_len;

static void summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void summary(const char *fmt, ...)
{
    va_list ap;
    int n;
    if (g_summary_len >= sizeof(g_summary))
        return;
    va_start(ap, fmt);
    n = vsnprintf(g_summary + g_summary_len, sizeof(g_summary) - g_summary_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        g_summary_len += (size_t)n;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_data: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

static void die_errno(const char *what, const char *path)
{
    fprintf(stderr, "bench_data: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* snprintf into a PATHCAP buffer; a path that does not fit is fatal rather
 * than silently cut (a cut path could name another benchmark's directory). */
static void path_fmt(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_fmt(char *out, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(out, PATHCAP, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATHCAP) {
        fprintf(stderr, "bench_data: path too long (%s)\n", fmt);
        exit(2);
    }
}

/* Flushes every dirty page of the filesystem holding dir, untimed, so that a
 * baseline which does not fsync does not leave its writeback to the next
 * measurement. */
static void settle(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || syncfs(fd) != 0)
        die_errno("syncfs", dir);
    close(fd);
}

/* ---- child processes ---------------------------------------------------- */

/* Runs argv (searched in PATH) with stdout to out_path (NULL: /dev/null).
 * Returns its exit status, -1 if it could not run or was killed; *maxrss_kib
 * (if not NULL) receives its peak resident memory. */
static int run_cmd(char *const argv[], const char *out_path, long *maxrss_kib)
{
    posix_spawn_file_actions_t fa;
    struct rusage ru;
    pid_t pid;
    int st, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    if (maxrss_kib)
        *maxrss_kib = ru.ru_maxrss;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Times one command; exits if it fails (a baseline that did not run must
 * not be reported). */
static double time_cmd(char *const argv[], const char *out_path, long *maxrss_kib)
{
    double t0 = bench_now();
    int rc = run_cmd(argv, out_path, maxrss_kib);
    t0 = bench_now() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench_data: `%s %s %s ...` exited with %d\n", argv[0], argv[1], argv[2], rc);
        exit(1);
    }
    return t0;
}

static int have_git(void)
{
    char *argv[] = { "git", "--version", NULL };
    return run_cmd(argv, NULL, NULL) == 0;
}

/* The git commands of the baselines, on a repository gitdir (bare, so the
 * tree is used in place through --work-tree, never copied). */
typedef struct git_repo {
    char gitdir_opt[PATHCAP + 16];
    char worktree_opt[PATHCAP + 16];
} git_repo;

static void git_repo_init(git_repo *g, const char *gitdir, const char *tree)
{
    char *argv[] = { "git", "init", "-q", "--bare", (char *)gitdir, NULL };
    snprintf(g->gitdir_opt, sizeof(g->gitdir_opt), "--git-dir=%s", gitdir);
    snprintf(g->worktree_opt, sizeof(g->worktree_opt), "--work-tree=%s", tree);
    if (run_cmd(argv, NULL, NULL) != 0) {
        fprintf(stderr, "bench_data: git init %s failed\n", gitdir);
        exit(1);
    }
}

/* git add -A; durable: with loose objects and the index fsynced (batch
 * mode), which is what our default COMMIT durability gives. */
static double git_add(const git_repo *g, int durable, long *maxrss_kib)
{
    char *plain[] = { "git", (char *)g->gitdir_opt, (char *)g->worktree_opt, "add", "-A", NULL };
    char *synced[] = { "git", "-c", "core.fsync=loose-object,index", "-c", "core.fsyncMethod=batch",
                       (char *)g->gitdir_opt, (char *)g->worktree_opt, "add", "-A", NULL };
    return time_cmd(durable ? synced : plain, NULL, maxrss_kib);
}

static double git_commit(const git_repo *g)
{
    char *argv[] = { "git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                     (char *)g->gitdir_opt, (char *)g->worktree_opt, "commit", "-q", "-m", "bench", NULL };
    return time_cmd(argv, NULL, NULL);
}

/* ---- test data ---------------------------------------------------------- */

/* One write() per buffer: a regular file on Linux takes it whole unless the
 * disk is full, which is an error here anyway. */
static int write_whole(int fd, const void *buf, size_t len)
{
    return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/*
 * Writes nfiles files spread over ndirs directories d0000.. of root, each of
 * a size drawn uniformly from [min_size, max_size] and random content, all
 * determined by seed. Ends with a syncfs so the tree is on disk before
 * anything is timed.
 */
static void make_tree(const char *root, long nfiles, int ndirs, size_t min_size, size_t max_size, uint64_t seed)
{
    long per_dir = (nfiles + ndirs - 1) / ndirs;
    unsigned char *buf = malloc(max_size ? max_size : 1);
    char path[PATHCAP], name[32];
    uint64_t state = seed;
    long done = 0;

    if (!buf || mkdir(root, 0755) != 0)
        die_errno("mkdir", root);
    for (int d = 0; d < ndirs && done < nfiles; d++) {
        int dfd;
        snprintf(name, sizeof(name), "d%04d", d);
        path_fmt(path, "%s/%s", root, name);
        if (mkdir(path, 0755) != 0 || (dfd = open(path, O_RDONLY | O_DIRECTORY)) < 0)
            die_errno("mkdir", path);
        for (long f = 0; f < per_dir && done < nfiles; f++, done++) {
            size_t size = min_size + (size_t)(bench_rand64(&state) % (max_size - min_size + 1));
            int fd;
            snprintf(name, sizeof(name), "f%05ld.bin", f);
            bench_fill_random(buf, size, &state);
            fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd < 0 || write_whole(fd, buf, size) != 0 || close(fd) != 0)
                die_errno("writing a file in", path);
        }
        close(dfd);
    }
    free(buf);
    settle(root);
}

/* Sum of the sizes of the blobs under store/objects/xx/: what the store
 * keeps on disk for its objects (compressed blobs count compressed). */
static uint64_t objects_bytes(const char *store)
{
    char objects[PATHCAP];
    uint64_t sum = 0;
    struct dirent *fan;
    DIR *top;

    path_fmt(objects, "%s/objects", store);
    if (!(top = opendir(objects)))
        die_errno("opendir", objects);
    while ((fan = readdir(top))) {
        int fd;
        DIR *sub;
        struct dirent *e;
        if (fan->d_name[0] == '.')
            continue;
        fd = openat(dirfd(top), fan->d_name, O_RDONLY | O_DIRECTORY);
        if (fd < 0 || !(sub = fdopendir(fd))) {
            if (fd >= 0)
                close(fd);
            continue; /* a file at the top level, not a fan-out directory */
        }
        while ((e = readdir(sub))) {
            struct stat st;
            if (e->d_name[0] != '.' && fstatat(dirfd(sub), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISREG(st.st_mode))
                sum += (uint64_t)st.st_size;
        }
        closedir(sub);
    }
    closedir(top);
    return sum;
}

/* ---- output --------------------------------------------------------------- */

/* Median over the runs of ours[i] / base[i]. Each pair ran back to back,
 * so this ratio shrugs off load that drifts over minutes better than the
 * ratio of the medians does. */
static double paired_ratio(const bench_series *ours, const bench_series *base)
{
    bench_series r = {0};
    for (int i = 0; i < ours->n && i < base->n; i++)
        if (base->s[i] > 0)
            bench_series_add(&r, ours->s[i] / base->s[i]);
    return bench_series_median(&r);
}

/* The common tail of a line measured against a baseline: baseline name,
 * its median/min/max, ratio (ours over baseline, of the medians and paired
 * run by run) and speedup (inverse of the ratio of the medians). */
static int baseline_fields(char *out, size_t cap, const char *baseline, const bench_series *ours,
                           const bench_series *base)
{
    double m = bench_series_median(ours), b = bench_series_median(base);
    return snprintf(out, cap,
                    ",\"baseline\":\"%s\",\"baseline_seconds\":%.6f,\"baseline_min\":%.6f,"
                    "\"baseline_max\":%.6f,\"ratio\":%.3f,\"ratio_paired\":%.3f,\"speedup\":%.3f",
                    baseline, b, bench_series_min(base), bench_series_max(base), b > 0 ? m / b : 0.0,
                    paired_ratio(ours, base), m > 0 ? b / m : 0.0);
}

static const char *yes(int met)
{
    return met ? "true" : "false";
}

static mlops_store *open_store(const char *path)
{
    mlops_store *s = NULL;
    int rc = mlops_store_open(&s, path, NULL); /* defaults: COMMIT durability */
    if (rc != 0)
        die("mlops_store_open", rc);
    return s;
}

/* ---- targets 1, 2, 4: a tree of many small files ---------------------------- */

static void bench_tree(const char *dir, long nfiles, int runs, int git)
{
    char tree[PATHCAP], path[PATHCAP], path2[PATHCAP], extra[2048], last_commit_store[PATHCAP] = "";
    char status_out[PATHCAP];
    bench_series snap = {0}, snap_sync = {0}, commit = {0}, gadd = {0}, gaddc = {0}, gadd_sync = {0}, status = {0},
                 gstatus = {0}, co = {0}, cp = {0};
    git_repo last_git = { "", "" };
    uint64_t stored = 0, status_hashed_first = 0, status_hashed_last = 0, tree_bytes = 0;
    mlops_data_snapshot_info info;
    double t0, t1;
    int rc;

    path_fmt(tree, "%s/tree", dir);
    fprintf(stderr, "bench_data: writing %ld files of 1-8 KiB into %s\n", nfiles, tree);
    t0 = bench_now();
    make_tree(tree, nfiles, 100, 1 * KIB, 8 * KIB, 0x5EED0001ULL);
    fprintf(stderr, "bench_data: tree written in %.1f s\n", bench_now() - t0);
    /* The stat cache re-hashes files not older than itself (racy rule):
     * leave a clear gap between the last write and the first snapshot. */
    sleep(3);

    /* Target 1: snapshot and commit into fresh stores, git add into fresh
     * repositories, interleaved run by run so that drift hits all alike. */
    for (int r = 0; r < runs; r++) {
        mlops_store *s;
        mlops_data_version *v = NULL;
        git_repo g;

        path_fmt(path, "%s/snap-%d", dir, r);
        s = open_store(path);
        settle(dir);
        t0 = bench_now();
        if ((rc = mlops_data_snapshot(&info, s, tree, NULL)) != 0)
            die("mlops_data_snapshot", rc);
        t1 = bench_now();
        if ((rc = mlops_store_sync(s)) != 0)
            die("mlops_store_sync", rc);
        bench_series_add(&snap, bench_now() - t0);
        bench_series_add(&snap_sync, bench_now() - t1);
        mlops_store_free(s);
        if (info.files != (uint64_t)nfiles) {
            fprintf(stderr, "bench_data: snapshot saw %llu files, want %ld\n", (unsigned long long)info.files,
                    nfiles);
            exit(1);
        }
        tree_bytes = info.size;
        stored = objects_bytes(path);

        path_fmt(path, "%s/commit-%d", dir, r);
        s = open_store(path);
        settle(dir);
        t0 = bench_now();
        if ((rc = mlops_data_commit(&v, s, g_dataset, tree, NULL)) != 0)
            die("mlops_data_commit", rc);
        bench_series_add(&commit, bench_now() - t0);
        mlops_data_version_free(v);
        mlops_store_free(s);
        path_fmt(last_commit_store, "%s", path);

        if (git) {
            double add;
            path_fmt(path, "%s/git-%d.git", dir, r);
            git_repo_init(&g, path, tree);
            settle(dir);
            add = git_add(&g, 0, NULL);
            bench_series_add(&gadd, add);
            settle(dir);
            bench_series_add(&gaddc, add + git_commit(&g));
            last_git = g;

            path_fmt(path, "%s/git-fsync-%d.git", dir, r);
            git_repo_init(&g, path, tree);
            settle(dir);
            bench_series_add(&gadd_sync, git_add(&g, 1, NULL));
        }
        fprintf(stderr, "bench_data: run %d: snapshot %.2f s (sync %.2f s), commit %.2f s%s", r, snap.s[r],
                snap_sync.s[r], commit.s[r], git ? "" : "\n");
        if (git)
            fprintf(stderr, ", git add %.2f s (+commit %.2f s), git add fsync %.2f s\n", gadd.s[r], gaddc.s[r],
                    gadd_sync.s[r]);
    }

    /* Target 2: status of the unchanged tree, on the last commit store and
     * the last (committed, hence clean) git repository. Both take about a
     * tenth of a second, so a stray writeback or a busy neighbour moves one
     * run by tens of percent: the pairs are many more than the other
     * steps' runs (the median of STATUS_PAIRS, each ours then git's). */
    path_fmt(status_out, "%s/git-status.out", dir);
    int status_runs = runs > STATUS_PAIRS ? runs : STATUS_PAIRS;
    for (int r = 0; r < status_runs; r++) {
        mlops_store *s = open_store(last_commit_store);
        mlops_data_diff *diff = NULL;
        settle(dir);
        t0 = bench_now();
        if ((rc = mlops_data_status(&diff, s, g_dataset, tree, NULL)) != 0)
            die("mlops_data_status", rc);
        bench_series_add(&status, bench_now() - t0);
        if (diff->count != 0) {
            fprintf(stderr, "bench_data: status of the unchanged tree lists %zu changes\n", diff->count);
            exit(1);
        }
        if (r == 0)
            status_hashed_first = diff->files_hashed;
        status_hashed_last = diff->files_hashed;
        mlops_data_diff_free(diff);
        mlops_store_free(s);

        if (git) {
            char *argv[] = { "git", last_git.gitdir_opt, last_git.worktree_opt, "status", "--porcelain", NULL };
            struct stat st;
            settle(dir);
            bench_series_add(&gstatus, time_cmd(argv, status_out, NULL));
            if (stat(status_out, &st) != 0 || st.st_size != 0) {
                fprintf(stderr, "bench_data: git status of the committed tree is not clean (%s)\n", status_out);
                exit(1);
            }
        }
    }

    /* Target 4: checkout of the committed version into fresh directories,
     * and cp -r of the tree. */
    for (int r = 0; r < runs; r++) {
        mlops_store *s = open_store(last_commit_store);
        mlops_data_checkout_info ci;
        char *argv[] = { "cp", "-r", tree, path2, NULL };
        path_fmt(path, "%s/co-%d", dir, r);
        path_fmt(path2, "%s/cp-%d", dir, r);
        settle(dir);
        t0 = bench_now();
        if ((rc = mlops_data_checkout(&ci, s, g_dataset, path, NULL)) != 0)
            die("mlops_data_checkout", rc);
        bench_series_add(&co, bench_now() - t0);
        mlops_store_free(s);
        if (ci.files_written != (uint64_t)nfiles) {
            fprintf(stderr, "bench_data: checkout wrote %llu files, want %ld\n",
                    (unsigned long long)ci.files_written, nfiles);
            exit(1);
        }
        settle(dir);
        bench_series_add(&cp, time_cmd(argv, NULL, NULL));
    }

    /* Lines. */
    {
        int n = snprintf(extra, sizeof(extra),
                         ",\"tree_bytes\":%llu,\"store_object_bytes\":%llu,\"durability\":\"commit\","
                         "\"timed\":\"mlops_data_snapshot + mlops_store_sync\",\"sync_seconds\":%.6f",
                         (unsigned long long)tree_bytes, (unsigned long long)stored,
                         bench_series_median(&snap_sync));
        if (git) {
            double sp = bench_series_median(&gadd) / bench_series_median(&snap);
            n += baseline_fields(extra + n, sizeof(extra) - (size_t)n, "git add -A", &snap, &gadd);
            snprintf(extra + n, sizeof(extra) - (size_t)n,
                     ",\"ratio_vs_git_add_fsync\":%.3f,\"target_speedup_min\":2,\"met\":%s",
                     bench_series_median(&snap) / bench_series_median(&gadd_sync), yes(sp >= 2.0));
            summary("  snapshot %ldk files   %7.2f s  git add -A %7.2f s  speedup %.2fx (target >= 2x: %s)\n",
                    nfiles / 1000, bench_series_median(&snap), bench_series_median(&gadd), sp,
                    sp >= 2.0 ? "met" : "MISSED");
        }
        bench_print("data.snapshot_100k", (uint64_t)nfiles, &snap, (double)nfiles, "files/s", extra);

        n = snprintf(extra, sizeof(extra), ",\"durability\":\"commit\",\"timed\":\"mlops_data_commit\"");
        if (git) {
            double sp = bench_series_median(&gadd) / bench_series_median(&commit);
            n += baseline_fields(extra + n, sizeof(extra) - (size_t)n, "git add -A + git commit", &commit,
                                 &gaddc);
            snprintf(extra + n, sizeof(extra) - (size_t)n,
                     ",\"speedup_vs_git_add\":%.3f,\"ratio_vs_git_add_fsync\":%.3f,\"target_speedup_min\":2,"
                     "\"met\":%s",
                     sp, bench_series_median(&commit) / bench_series_median(&gadd_sync), yes(sp >= 2.0));
            summary("  commit %ldk files     %7.2f s  git add -A %7.2f s  speedup %.2fx (+git commit: %.2fx)\n",
                    nfiles / 1000, bench_series_median(&commit), bench_series_median(&gadd), sp,
                    bench_series_median(&gaddc) / bench_series_median(&commit));
        }
        bench_print("data.commit_100k", (uint64_t)nfiles, &commit, (double)nfiles, "files/s", extra);

        n = snprintf(extra, sizeof(extra), ",\"files_hashed_first\":%llu,\"files_hashed_last\":%llu",
                     (unsigned long long)status_hashed_first, (unsigned long long)status_hashed_last);
        if (git) {
            double ratio = bench_series_median(&status) / bench_series_median(&gstatus);
            n += baseline_fields(extra + n, sizeof(extra) - (size_t)n, "git status --porcelain", &status,
                                 &gstatus);
            snprintf(extra + n, sizeof(extra) - (size_t)n, ",\"target_ratio_max\":1,\"met\":%s",
                     yes(ratio <= 1.0));
            summary("  status %ldk files     %7.3f s  git status %7.3f s  ratio %.2f (target <= 1: %s), "
                    "files hashed %llu\n",
                    nfiles / 1000, bench_series_median(&status), bench_series_median(&gstatus), ratio,
                    ratio <= 1.0 ? "met" : "MISSED", (unsigned long long)status_hashed_last);
        }
        bench_print("data.status_100k", (uint64_t)nfiles, &status, (double)nfiles, "files/s", extra);

        {
            double rate = (double)nfiles / bench_series_median(&co);
            n = baseline_fields(extra, sizeof(extra), "cp -r", &co, &cp);
            snprintf(extra + n, sizeof(extra) - (size_t)n, ",\"mode\":\"copy\",\"target_rate_min\":20000,\"met\":%s",
                     yes(rate >= 20000.0));
            bench_print("data.checkout_100k", (uint64_t)nfiles, &co, (double)nfiles, "files/s", extra);
            summary("  checkout %ldk files   %7.2f s  %.0f files/s (target >= 20000: %s)  cp -r %.2f s  "
                    "ratio %.2f\n",
                    nfiles / 1000, bench_series_median(&co), rate, rate >= 20000.0 ? "met" : "MISSED",
                    bench_series_median(&cp), bench_series_median(&co) / bench_series_median(&cp));
        }
    }
    if (git) {
        bench_print("baseline.git_add", (uint64_t)nfiles, &gadd, (double)nfiles, "files/s",
                    ",\"what\":\"git add -A into a fresh bare repository, --work-tree=tree (no fsync: git's "
                    "default)\"");
        bench_print("baseline.git_add_commit", (uint64_t)nfiles, &gaddc, (double)nfiles, "files/s",
                    ",\"what\":\"git add -A + git commit\"");
        bench_print("baseline.git_add_fsync", (uint64_t)nfiles, &gadd_sync, (double)nfiles, "files/s",
                    ",\"what\":\"git -c core.fsync=loose-object,index -c core.fsyncMethod=batch add -A\"");
        bench_print("baseline.git_status", (uint64_t)nfiles, &gstatus, (double)nfiles, "files/s",
                    ",\"what\":\"git status --porcelain, committed clean tree\"");
    } else {
        bench_note("baseline.git_add", "skipped: git not available");
    }
    bench_print("baseline.cp_r", (uint64_t)nfiles, &cp, (double)nfiles, "files/s",
                ",\"what\":\"cp -r tree into a fresh directory\"");
}

/* ---- target 3: one large file ---------------------------------------------- */

/* Snapshots path into store dir (opened afresh) with the sync; returns
 * seconds and fills *info. */
static double timed_snapshot(mlops_data_snapshot_info *info, double *sync_seconds, const char *store,
                             const char *path)
{
    mlops_store *s = open_store(store);
    double t0 = bench_now(), t1;
    int rc = mlops_data_snapshot(info, s, path, NULL);
    if (rc != 0)
        die("mlops_data_snapshot", rc);
    t1 = bench_now();
    if ((rc = mlops_store_sync(s)) != 0)
        die("mlops_store_sync", rc);
    *sync_seconds = bench_now() - t1;
    t0 = bench_now() - t0;
    mlops_store_free(s);
    return t0;
}

/* put_file_ext (chunking per opts, NULL: defaults) + sync into store. */
static double timed_put(mlops_put_stats *stats, const char *store, const char *path, int chunked)
{
    mlops_store *s = open_store(store);
    mlops_oid id;
    double t0 = bench_now();
    int rc = chunked ? mlops_object_put_file_ext(&id, stats, s, path, NULL) : mlops_object_put_file(&id, s, path);
    if (rc != 0)
        die(chunked ? "mlops_object_put_file_ext" : "mlops_object_put_file", rc);
    if ((rc = mlops_store_sync(s)) != 0)
        die("mlops_store_sync", rc);
    t0 = bench_now() - t0;
    mlops_store_free(s);
    return t0;
}

/* Writes 1 MiB of random bytes at offset (or appended when offset < 0) and
 * fsyncs, like an editor saving its work. */
static void edit_file(const char *path, long long offset, uint64_t seed)
{
    unsigned char *buf = malloc(MIB);
    int fd = open(path, offset < 0 ? O_WRONLY | O_APPEND : O_WRONLY);
    if (!buf || fd < 0)
        die_errno("open", path);
    bench_fill_random(buf, MIB, &seed);
    if ((offset < 0 ? write_whole(fd, buf, MIB) : (pwrite(fd, buf, MIB, offset) == (ssize_t)MIB ? 0 : -1)) != 0 ||
        fsync(fd) != 0 || close(fd) != 0)
        die_errno("writing", path);
    free(buf);
}

static void bench_big(const char *dir, uint64_t size, int runs)
{
    char file[PATHCAP], snap_store[PATHCAP], put_store[PATHCAP], chunk_store[PATHCAP], extra[2048];
    bench_series snap = {0}, snap_sync = {0}, put = {0}, chunk = {0};
    mlops_data_snapshot_info info;
    double sync_s;
    mlops_put_stats ps;
    uint64_t first_stored = 0;

    path_fmt(file, "%s/big.csv", dir);
    fprintf(stderr, "bench_data: generating %llu MiB of CSV-like data in %s\n", (unsigned long long)(size / MIB),
            file);
    bench_make_file(file, size, "semi");
    bench_warm(file);
    sleep(3); /* racy rule: the file must be older than the stat cache */

    for (int r = 0; r < runs; r++) {
        path_fmt(snap_store, "%s/big-snap-%d", dir, r);
        path_fmt(put_store, "%s/big-put-%d", dir, r);
        path_fmt(chunk_store, "%s/big-chunk-%d", dir, r);
        settle(dir);
        bench_series_add(&snap, timed_snapshot(&info, &sync_s, snap_store, file));
        bench_series_add(&snap_sync, sync_s);
        first_stored = objects_bytes(snap_store);
        settle(dir);
        bench_series_add(&put, timed_put(NULL, put_store, file, 0));
        settle(dir);
        bench_series_add(&chunk, timed_put(&ps, chunk_store, file, 1));
        fprintf(stderr,
                "bench_data: run %d: snapshot %.2f s (sync %.2f s), put_file %.2f s, put_file_ext (chunked) %.2f s\n",
                r, snap.s[r], sync_s, put.s[r], chunk.s[r]);
    }
    {
        double ratio = bench_series_median(&snap) / bench_series_median(&put);
        int n = snprintf(extra, sizeof(extra),
                         ",\"file\":\"semi\",\"store_object_bytes\":%llu,\"chunks\":%llu,\"sync_seconds\":%.6f",
                         (unsigned long long)first_stored, (unsigned long long)ps.chunks,
                         bench_series_median(&snap_sync));
        n += baseline_fields(extra + n, sizeof(extra) - (size_t)n, "mlops_object_put_file + sync", &snap, &put);
        snprintf(extra + n, sizeof(extra) - (size_t)n,
                 ",\"ratio_vs_put_file_chunked\":%.3f,\"target_ratio_max\":1.3,\"met\":%s",
                 bench_series_median(&snap) / bench_series_median(&chunk), yes(ratio <= 1.3));
        bench_print("data.snapshot_big", size, &snap, (double)size, "MB/s", extra);
        bench_print("baseline.put_file", size, &put, (double)size, "MB/s",
                    ",\"what\":\"mlops_object_put_file (one object) + mlops_store_sync, fresh store\"");
        bench_print("baseline.put_file_chunked", size, &chunk, (double)size, "MB/s",
                    ",\"what\":\"mlops_object_put_file_ext (default chunking) + mlops_store_sync, fresh store\"");
        summary("  snapshot %llu MiB      %7.2f s  put_file %7.2f s  ratio %.2f (target <= 1.3: %s); "
                "chunked put %.2f s\n",
                (unsigned long long)(size / MIB), bench_series_median(&snap), bench_series_median(&put), ratio,
                ratio <= 1.3 ? "met" : "MISSED", bench_series_median(&chunk));
    }

    /* Edits, each snapshotted again into the last run's snapshot store; the
     * same file also goes through put_file_ext into the last chunked store,
     * whose statistics give the logical bytes added (the du figure counts
     * compressed blobs compressed). */
    for (int step = 0; step < 2; step++) {
        const char *name = step == 0 ? "data.snapshot_big_append" : "data.snapshot_big_overwrite";
        uint64_t before = objects_bytes(snap_store), added;
        bench_series t = {0};
        mlops_put_stats es;
        edit_file(file, step == 0 ? -1 : (long long)(size / 2), 0xED17ULL + (uint64_t)step);
        settle(dir);
        bench_series_add(&t, timed_snapshot(&info, &sync_s, snap_store, file));
        added = objects_bytes(snap_store) - before;
        timed_put(&es, chunk_store, file, 1);
        snprintf(extra, sizeof(extra),
                 ",\"edit\":\"%s\",\"store_bytes_added\":%llu,\"logical_bytes_added\":%llu,\"chunks\":%llu,"
                 "\"chunks_new\":%llu,\"files_hashed\":%llu,\"target_bytes_added_max\":%llu,\"met\":%s",
                 step == 0 ? "append 1 MiB" : "overwrite 1 MiB in the middle", (unsigned long long)added,
                 (unsigned long long)es.stored, (unsigned long long)es.chunks, (unsigned long long)es.chunks_new,
                 (unsigned long long)info.files_hashed, 4 * MIB, yes(added <= 4 * MIB && es.stored <= 4 * MIB));
        bench_print(name, info.size, &t, (double)info.size, "MB/s", extra);
        summary("  %-9s 1 MiB      %7.2f s  added %.2f MiB on disk, %.2f MiB logical, %llu new chunks "
                "(target <= 4 MiB: %s)\n",
                step == 0 ? "append" : "overwrite", t.s[0], (double)added / MIB, (double)es.stored / MIB,
                (unsigned long long)es.chunks_new, added <= 4 * MIB && es.stored <= 4 * MIB ? "met" : "MISSED");
    }
    unlink(file);
}

/* ---- target 5: a million files, peak memory ---------------------------------- */

#define MILLION_DIRS 1000

/* The million-file tree is slow to write: it is kept under the cache
 * directory and reused. It is written under a temporary name and renamed
 * when complete, so an interrupted generation is never mistaken for one. */
static void million_tree(char *out, long nfiles)
{
    const char *cache = getenv("MLOPS_BENCH_CACHE");
    char tmp[PATHCAP];
    struct stat st;
    if (!cache || !*cache)
        cache = "/tmp/mlops-bench-cache";
    if (mkdir(cache, 0755) != 0 && errno != EEXIST)
        die_errno("mkdir", cache);
    path_fmt(out, "%s/tiny-%ld-v1", cache, nfiles);
    if (stat(out, &st) == 0) {
        fprintf(stderr, "bench_data: reusing %s\n", out);
        return;
    }
    path_fmt(tmp, "%s.tmp-%ld", out, (long)getpid());
    fprintf(stderr, "bench_data: writing %ld files of 0-64 bytes into %s (kept for later runs)\n", nfiles, out);
    make_tree(tmp, nfiles, MILLION_DIRS, 0, 64, 0x5EED0002ULL);
    if (rename(tmp, out) != 0)
        die_errno("rename", tmp);
    sleep(3); /* racy rule, as for the small tree */
}

/* In the child: snapshot tree into a fresh store and print
 * "seconds files files_hashed rss_before_kib hwm_kib". */
static int million_child(const char *tree, const char *store)
{
    mlops_store *s = open_store(store);
    mlops_data_snapshot_info info;
    long before = bench_vm_kib("VmRSS");
    double t0 = bench_now();
    int rc = mlops_data_snapshot(&info, s, tree, NULL);
    if (rc != 0)
        die("mlops_data_snapshot", rc);
    if ((rc = mlops_store_sync(s)) != 0)
        die("mlops_store_sync", rc);
    t0 = bench_now() - t0;
    printf("%.6f %llu %llu %ld %ld\n", t0, (unsigned long long)info.files, (unsigned long long)info.files_hashed,
           before, bench_vm_kib("VmHWM"));
    mlops_store_free(s);
    return 0;
}

static void bench_million(const char *dir, long nfiles, int runs, int git)
{
    char tree[PATHCAP], store[PATHCAP], out[PATHCAP], extra[2048], line[256];
    bench_series t = {0};
    long peak = 0, maxrss = 0, before = 0, hwm = 0, git_rss = -1;
    double git_s = 0;
    unsigned long long files = 0, hashed = 0;

    million_tree(tree, nfiles);
    for (int r = 0; r < runs; r++) {
        char *argv[] = { "/proc/self/exe", "--million-child", tree, store, NULL };
        long rss = 0;
        double secs = 0;
        FILE *f;
        path_fmt(store, "%s/million-%d", dir, r);
        path_fmt(out, "%s/million-%d.out", dir, r);
        settle(dir);
        /* A fresh process, not a fork of this one: its peak RSS (wait4) is
         * then the snapshot's alone, not this process's history. */
        if (run_cmd(argv, out, &rss) != 0) {
            fprintf(stderr, "bench_data: the million-file snapshot child failed\n");
            exit(1);
        }
        if (!(f = fopen(out, "r")) || !fgets(line, sizeof(line), f) ||
            sscanf(line, "%lf %llu %llu %ld %ld", &secs, &files, &hashed, &before, &hwm) != 5) {
            fprintf(stderr, "bench_data: cannot read the child's report %s\n", out);
            exit(1);
        }
        fclose(f);
        bench_series_add(&t, secs);
        /* The child's own VmHWM is exact; ru_maxrss also counts this
         * process's RSS at the spawn. Keep the larger: it is the safe side. */
        if (hwm > peak)
            peak = hwm;
        if (rss > peak)
            peak = rss;
        if (rss > maxrss)
            maxrss = rss;
        fprintf(stderr, "bench_data: run %d: million-file snapshot %.1f s, peak RSS %.1f MiB\n", r, secs,
                rss / 1024.0);
    }
    if (git) {
        git_repo g;
        path_fmt(store, "%s/million.git", dir);
        git_repo_init(&g, store, tree);
        settle(dir);
        git_s = git_add(&g, 0, &git_rss);
        fprintf(stderr, "bench_data: git add -A of the million files %.1f s, peak RSS %.1f MiB\n", git_s,
                git_rss / 1024.0);
    }
    snprintf(extra, sizeof(extra),
             ",\"files_hashed\":%llu,\"peak_rss_mib\":%.1f,\"rss_before_snapshot_mib\":%.1f,"
             "\"child_vmhwm_mib\":%.1f,\"child_ru_maxrss_mib\":%.1f,\"spawner_rss_mib\":%.1f,"
             "\"baseline\":\"git add -A\",\"baseline_seconds\":%.3f,"
             "\"baseline_peak_rss_mib\":%.1f,\"target_peak_rss_mib_max\":256,\"met\":%s",
             hashed, peak / 1024.0, before / 1024.0, hwm / 1024.0, maxrss / 1024.0, bench_vm_kib("VmRSS") / 1024.0,
             git_s, git_rss / 1024.0,
             yes(peak < 256 * 1024));
    bench_print("data.snapshot_1m", files, &t, (double)files, "files/s", extra);
    summary("  snapshot %lluk tiny  %7.1f s  peak RSS %.1f MiB (target < 256: %s); git add -A %.1f s, %.1f MiB\n",
            files / 1000, bench_series_median(&t), peak / 1024.0, peak < 256 * 1024 ? "met" : "MISSED", git_s,
            git_rss / 1024.0);
}

/* ---- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    long nfiles = bench_env_long("MLOPS_BENCH_DATA_FILES", 100000);
    long size_mb = bench_env_long("MLOPS_BENCH_SIZE_MB", 1024);
    int runs = bench_runs(3), do_tree = 1, do_big = 1, do_million = 0, git;
    char dir[1024];

    if (argc == 4 && strcmp(argv[1], "--million-child") == 0)
        return million_child(argv[2], argv[3]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--million") == 0)
            do_million = 1;
        else if (strcmp(argv[i], "--skip-tree") == 0)
            do_tree = 0;
        else if (strcmp(argv[i], "--skip-big") == 0)
            do_big = 0;
        else if (strcmp(argv[i], "--files") == 0 && i + 1 < argc)
            nfiles = atol(argv[++i]);
        else if (strcmp(argv[i], "--size-mb") == 0 && i + 1 < argc)
            size_mb = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_data [--million] [--skip-tree] [--skip-big] [--files N] [--size-mb M]\n");
            return 2;
        }
    }
    if (nfiles <= 0 || size_mb <= 0) {
        fprintf(stderr, "bench_data: --files and --size-mb want positive numbers\n");
        return 2;
    }
    git = have_git();
    bench_mkdtemp(dir, sizeof(dir), "data");
    /* The million-file step goes first, while this process is still small:
     * a spawned child's ru_maxrss starts from the RSS of the process that
     * spawned it (exec keeps the old high-water mark). */
    if (do_million)
        bench_million(dir, (long)bench_env_long("MLOPS_BENCH_MILLION_FILES", 1000000),
                      (int)bench_env_long("MLOPS_BENCH_MILLION_RUNS", 1), git);
    if (do_tree)
        bench_tree(dir, nfiles, runs, git);
    if (do_big)
        bench_big(dir, (uint64_t)size_mb * MIB, runs);
    fprintf(stderr, "bench_data summary (medians, %d runs):\n%s", runs, g_summary);
    if (getenv("MLOPS_BENCH_KEEP"))
        fprintf(stderr, "bench_data: kept %s\n", dir);
    else
        bench_rmtree(dir);
    return 0;
}
