/*
 * bench_drift: drift statistics (issue 6) on a million values against a
 * million, each next to its scipy/numpy baseline timed in the same run
 * (DESIGN.md §8). One JSON object per line; "ratio" is baseline seconds
 * over ours (how many times faster), "target_ratio_min" the issue's
 * target and "met" whether the median ratio reaches it:
 *
 *  drift.ks_2samp_1m      mlops_drift_ks_2samp, two-sided, method auto
 *                         (asymptotic at these sizes): statistic and
 *                         p-value. Baseline scipy.stats.ks_2samp. >= 5x.
 *  drift.wasserstein_1m   mlops_drift_wasserstein, no weights. Baseline
 *                         scipy.stats.wasserstein_distance. >= 5x.
 *  drift.psi_1m           mlops_drift_psi, 10 reference-quantile bins.
 *                         Baseline numpy: np.quantile of the reference at
 *                         0, .1, ..., 1, np.histogram of both samples on
 *                         those edges, and the PSI sum. >= 5x.
 *  drift.report_100x100k  mlops_drift_report_run, 100 columns x 100,000
 *                         rows each side (bench_report). <= 1 s.
 * Profile ingest has its own program, bench_drift_profile.
 *
 * Both sides use the same data: u ~ N(0, 1), v ~ N(0.1, 1) drawn with the
 * test vectors' generator (tests/drift/drift_vec.h: splitmix64, sums of
 * 12 uniforms), in C here and vectorized with numpy in the Python script;
 * the script prints a few of its values and the C side stops if they
 * differ. The script also prints scipy's results, and each line carries
 * the relative difference of ours (for PSI against the documented
 * definition computed with numpy outside the timed part, since numpy's
 * histogram closes the outer bins at the reference's min and max).
 *
 * The baseline runs Debian's /usr/bin/python3 (python3-scipy); without it
 * the figures are printed without a ratio.
 *
 * Usage: bench_drift  (MLOPS_BENCH_RUNS, default 3; MLOPS_BENCH_DRIFT_N,
 * default 1000000)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mlops.h>

#include "bench_util.h"

#define PYTHON "/usr/bin/python3"
#define TARGET_RATIO 5.0


static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_drift: %s failed: %s (%s)\n", what, mlops_error_name(rc), mlops_error_last());
    exit(1);
}

/* ---- data: tests/drift/drift_vec.h's "normal" kind -------------------- */

/* ---- the baseline: one Python process for all sections ----------------- */

static const char py_script[] =
    "import sys, time\n"
    "import numpy as np\n"
    "from scipy import stats\n"
    "n, runs = int(sys.argv[1]), int(sys.argv[2])\n"
    "G = np.uint64(0x9E3779B97F4A7C15)\n"
    "def normal(seed, n, mu, sd):\n"
    "    with np.errstate(over='ignore'):\n"
    "        z = np.uint64(seed) + np.arange(1, 12 * n + 1, dtype=np.uint64) * G\n"
    "        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)\n"
    "        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)\n"
    "        z = z ^ (z >> np.uint64(31))\n"
    "    u = ((z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53).reshape(n, 12)\n"
    "    s = np.zeros(n)\n"
    "    for t in range(12):\n"
    "        s = s + u[:, t]\n"
    "    return mu + sd * (s - 6.0)\n"
    "a = normal(1, n, 0.0, 1.0)\n"
    "b = normal(2, n, 0.1, 1.0)\n"
    "print('data', *[float(x).hex() for x in (a[0], a[n // 2], a[-1], b[0], b[n // 2], b[-1])], flush=True)\n"
    "def timed(name, f):\n"
    "    ts = []\n"
    "    for _ in range(runs):\n"
    "        t0 = time.perf_counter()\n"
    "        r = f()\n"
    "        ts.append(time.perf_counter() - t0)\n"
    "    print(name, *[repr(t) for t in ts], '|', *[float(x).hex() for x in r], flush=True)\n"
    "def ks():\n"
    "    r = stats.ks_2samp(a, b)\n"
    "    return r.statistic, r.pvalue\n"
    "q = np.arange(11) / 10\n"
    "def psi_numpy():\n"
    "    e = np.quantile(a, q)\n"
    "    r = np.histogram(a, e)[0] / n\n"
    "    c = np.histogram(b, e)[0] / n\n"
    "    r[r == 0] = 1e-4\n"
    "    c[c == 0] = 1e-4\n"
    "    return (np.sum((c - r) * np.log(c / r)),)\n"
    "def psi_definition():\n"
    "    cuts = np.unique(np.quantile(a, q))[1:-1]\n"
    "    r = np.bincount(np.searchsorted(cuts, a, side='right'), minlength=len(cuts) + 1) / n\n"
    "    c = np.bincount(np.searchsorted(cuts, b, side='right'), minlength=len(cuts) + 1) / n\n"
    "    r[r == 0] = 1e-4\n"
    "    c[c == 0] = 1e-4\n"
    "    return np.sum((c - r) * np.log(c / r))\n"
    "R, C, NUM = 100000, 100, 80\n"
    "from scipy.spatial import distance\n"
    "def columns(c):\n"
    "    st = (c * 7919) % (n - R)\n"
    "    r, k = a[st:st + R], b[st:st + R] + (0.2 if c % 4 == 0 else 0.0)\n"
    "    if c >= NUM:\n"
    "        code = lambda x: np.floor(np.clip((x + 3.0) * 1.5, 0.0, 8.999)).astype(np.int64)\n"
    "        r, k = code(r), code(k)\n"
    "    return r, k\n"
    "cols = [columns(c) for c in range(C)] if n >= 2 * R else []\n"
    "def report():\n"
    "    drifted, total = 0, 0.0\n"
    "    for c, (r, k) in enumerate(cols):\n"
    "        if c < NUM:\n"
    "            d = stats.wasserstein_distance(r, k) / max(np.std(r), 0.001)\n"
    "        else:\n"
    "            keys = np.union1d(r, k)\n"
    "            rp = np.array([np.sum(r == x) for x in keys]) / len(r)\n"
    "            kp = np.array([np.sum(k == x) for x in keys]) / len(k)\n"
    "            for p in (rp, kp):\n"
    "                p[p == 0] = np.min(p[p != 0]) / 1e6\n"
    "            d = distance.jensenshannon(rp, kp)\n"
    "        drifted += d >= 0.1\n"
    "        total += d\n"
    "    return drifted, total\n"
    "timed('ks', ks)\n"
    "timed('wasserstein', lambda: (stats.wasserstein_distance(a, b),))\n"
    "timed('psi', psi_numpy)\n"
    "print('psi_definition', float(psi_definition()).hex(), flush=True)\n"
    "if cols:\n"
    "    timed('report', report)\n";

typedef struct baseline {
    int ok;
    bench_series ks, wass, psi, report;
    double ks_stat, ks_p, wass_value, psi_value;
    int report_ok;
    double report_drifted, report_total;
} baseline;

/* Parses "name t1 t2 ... | v1 v2 ..." into a series and up to 2 values. */
static int parse_timed(char *line, const char *name, bench_series *s, double *v, int nv)
{
    size_t len = strlen(name);
    if (strncmp(line, name, len) != 0 || line[len] != ' ')
        return 0;
    char *p = line + len, *end;
    int got = 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '|') {
            p++;
            break;
        }
        double t = strtod(p, &end);
        if (end == p)
            return 0;
        if (s->n < BENCH_MAX_RUNS)
            bench_series_add(s, t);
        p = end;
    }
    for (int i = 0; i < nv; i++) {
        v[i] = strtod(p, &end);
        if (end == p)
            return 0;
        got++;
        p = end;
    }
    return got == nv && s->n > 0;
}

static void run_baseline(baseline *b, const double *u, const double *v, size_t n, int runs)
{
    memset(b, 0, sizeof *b);
    if (access(PYTHON, X_OK) != 0) {
        bench_note("drift.baseline", PYTHON " not found: figures without a ratio");
        return;
    }
    int fd[2];
    if (pipe(fd) != 0) {
        perror("bench_drift: pipe");
        return;
    }
    char sn[32], sr[32];
    snprintf(sn, sizeof sn, "%zu", n);
    snprintf(sr, sizeof sr, "%d", runs);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_drift: fork");
        close(fd[0]);
        close(fd[1]);
        return;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl(PYTHON, "python3", "-c", py_script, sn, sr, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *in = fdopen(fd[0], "r");
    char line[4096];
    int data_ok = 0, have = 0;
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        double pv[2];
        if (strncmp(line, "data ", 5) == 0) {
            double want[6] = { u[0], u[n / 2], u[n - 1], v[0], v[n / 2], v[n - 1] };
            char *p = line + 5, *end;
            data_ok = 1;
            for (int i = 0; i < 6; i++) {
                double x = strtod(p, &end);
                if (end == p || x != want[i])
                    data_ok = 0;
                p = end;
            }
            if (!data_ok) {
                fprintf(stderr, "bench_drift: the Python side generated different data; baseline ignored\n");
                break;
            }
        } else if (parse_timed(line, "ks", &b->ks, pv, 2)) {
            b->ks_stat = pv[0];
            b->ks_p = pv[1];
            have |= 1;
        } else if (parse_timed(line, "wasserstein", &b->wass, pv, 1)) {
            b->wass_value = pv[0];
            have |= 2;
        } else if (parse_timed(line, "psi", &b->psi, pv, 1)) {
            have |= 4;
        } else if (parse_timed(line, "report", &b->report, pv, 2)) {
            b->report_drifted = pv[0];
            b->report_total = pv[1];
            b->report_ok = 1;
        } else if (strncmp(line, "psi_definition ", 15) == 0) {
            b->psi_value = strtod(line + 15, NULL);
            have |= 8;
        }
    }
    if (in)
        fclose(in);
    else
        close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (data_ok && have == 15 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        b->ok = 1;
        return;
    }
    bench_note("drift.baseline",
               PYTHON " could not run the scipy/numpy baseline (python3-scipy missing?): figures without a ratio");
}

/* ---- reporting ---------------------------------------------------------- */

static double rel_diff(double got, double want)
{
    if (got == want)
        return 0;
    return fabs(got - want) / fabs(want);
}

/* One JSON line for our side (with the baseline's figures when there is
 * one), one for the baseline, and a summary line on stderr. */
static void report(const char *name, const char *what, size_t n, const bench_series *ours, const baseline *b,
                   const bench_series *base, const char *base_name, const char *agreement)
{
    char extra[1024];
    double m = bench_series_median(ours);
    if (b->ok) {
        double bm = bench_series_median(base), ratio = bm / m;
        snprintf(extra, sizeof extra,
                 ",\"what\":\"%s\",\"baseline\":\"%s\",\"baseline_seconds\":%.6f,\"ratio\":%.2f,"
                 "\"target_ratio_min\":%.0f,\"met\":%s%s",
                 what, base_name, bm, ratio, TARGET_RATIO, ratio >= TARGET_RATIO ? "true" : "false", agreement);
        bench_print(name, n, ours, 2.0 * (double)n, "values/s", extra);
        char bname[128], bextra[256];
        snprintf(bname, sizeof bname, "baseline.%s", base_name);
        snprintf(bextra, sizeof bextra, ",\"what\":\"%s, same data, timed in the same run\"", base_name);
        bench_print(bname, n, base, 2.0 * (double)n, "values/s", bextra);
        fprintf(stderr, "  %-16s %8.4f s  (%s %.4f s, ratio %.1f; target >= %.0fx: %s)\n", name + 6, m, base_name,
                bm, ratio, TARGET_RATIO, ratio >= TARGET_RATIO ? "met" : "MISSED");
    } else {
        snprintf(extra, sizeof extra, ",\"what\":\"%s\",\"baseline\":null,\"target_ratio_min\":%.0f%s", what,
                 TARGET_RATIO, agreement);
        bench_print(name, n, ours, 2.0 * (double)n, "values/s", extra);
        fprintf(stderr, "  %-16s %8.4f s  (no baseline)\n", name + 6, m);
    }
}

/* ---- the sections ------------------------------------------------------- */

static void bench_ks(const double *u, const double *v, size_t n, int runs, const baseline *b)
{
    bench_series s = { 0 };
    mlops_drift_test t;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        int rc = mlops_drift_ks_2samp(&t, u, n, v, n, MLOPS_DRIFT_TWO_SIDED, MLOPS_DRIFT_AUTO);
        bench_series_add(&s, bench_now() - t0);
        if (rc != 0)
            die("mlops_drift_ks_2samp", rc);
    }
    char agree[256] = "";
    if (b->ok)
        snprintf(agree, sizeof agree, ",\"statistic_rel_diff\":%.3g,\"pvalue_rel_diff\":%.3g",
                 rel_diff(t.statistic, b->ks_stat), rel_diff(t.pvalue, b->ks_p));
    report("drift.ks_2samp_1m", "two-sided, auto, statistic and p-value", n, &s, b, &b->ks, "scipy_ks_2samp", agree);
}

static void bench_wasserstein(const double *u, const double *v, size_t n, int runs, const baseline *b)
{
    bench_series s = { 0 };
    double w = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        int rc = mlops_drift_wasserstein(&w, u, n, v, n, NULL, NULL);
        bench_series_add(&s, bench_now() - t0);
        if (rc != 0)
            die("mlops_drift_wasserstein", rc);
    }
    char agree[128] = "";
    if (b->ok)
        snprintf(agree, sizeof agree, ",\"value_rel_diff\":%.3g", rel_diff(w, b->wass_value));
    report("drift.wasserstein_1m", "Wasserstein-1, no weights", n, &s, b, &b->wass, "scipy_wasserstein_distance",
           agree);
}

static void bench_psi(const double *u, const double *v, size_t n, int runs, const baseline *b)
{
    bench_series s = { 0 };
    mlops_drift_psi_options o = MLOPS_DRIFT_PSI_OPTIONS_INIT;
    o.bins = 10;
    double p = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        int rc = mlops_drift_psi(&p, u, n, v, n, &o);
        bench_series_add(&s, bench_now() - t0);
        if (rc != 0)
            die("mlops_drift_psi", rc);
    }
    char agree[128] = "";
    if (b->ok)
        snprintf(agree, sizeof agree, ",\"value_rel_diff\":%.3g", rel_diff(p, b->psi_value));
    report("drift.psi_1m", "PSI, 10 reference-quantile bins", n, &s, b, &b->psi, "numpy_quantile_histogram", agree);
}

/*
 * Dataset report (issue 6 target: <= 1 s on 100 columns x 100,000 rows,
 * reference and current). Columns are slices of u (reference) and v
 * (current), every fourth shifted by 0.2; the last 20 coded into 9
 * categories. With more than 1000 reference rows every column gets the
 * default distance test (normed Wasserstein, Jensen-Shannon). Baseline:
 * the same 100 tests in scipy/numpy (Evidently's computation), same data.
 */
#define REPORT_ROWS 100000
#define REPORT_COLS 100
#define REPORT_NUMERIC 80

static int64_t code_of(double x)
{
    return (int64_t)floor(fmin(fmax((x + 3.0) * 1.5, 0.0), 8.999));
}

static void bench_report(const double *u, const double *v, size_t n, int runs, const baseline *b)
{
    if (n < 2 * REPORT_ROWS) {
        bench_note("drift.report_100x100k", "skipped: MLOPS_BENCH_DRIFT_N below 200000");
        return;
    }
    mlops_drift_column ref[REPORT_COLS], cur[REPORT_COLS];
    char names[REPORT_COLS][16];
    double *shifted = malloc(sizeof(double) * REPORT_ROWS * REPORT_COLS);
    int64_t *codes = malloc(sizeof(int64_t) * 2 * REPORT_ROWS * (REPORT_COLS - REPORT_NUMERIC));
    if (!shifted || !codes)
        die("malloc", MLOPS_ENOMEM);
    for (int c = 0; c < REPORT_COLS; c++) {
        size_t st = ((size_t)c * 7919) % (n - REPORT_ROWS);
        double add = c % 4 == 0 ? 0.2 : 0.0;
        double *k = shifted + (size_t)c * REPORT_ROWS;
        for (size_t i = 0; i < REPORT_ROWS; i++)
            k[i] = v[st + i] + add;
        snprintf(names[c], sizeof names[c], "col%03d", c);
        if (c < REPORT_NUMERIC) {
            ref[c] = (mlops_drift_column){ names[c], MLOPS_DRIFT_NUMERIC, u + st, NULL, REPORT_ROWS };
            cur[c] = (mlops_drift_column){ names[c], MLOPS_DRIFT_NUMERIC, k, NULL, REPORT_ROWS };
            continue;
        }
        int64_t *rc = codes + (size_t)(c - REPORT_NUMERIC) * 2 * REPORT_ROWS, *kc = rc + REPORT_ROWS;
        for (size_t i = 0; i < REPORT_ROWS; i++) {
            rc[i] = code_of(u[st + i]);
            kc[i] = code_of(k[i]);
        }
        ref[c] = (mlops_drift_column){ names[c], MLOPS_DRIFT_CATEGORICAL, NULL, rc, REPORT_ROWS };
        cur[c] = (mlops_drift_column){ names[c], MLOPS_DRIFT_CATEGORICAL, NULL, kc, REPORT_ROWS };
    }
    bench_series s = { 0 };
    size_t drifted = 0;
    double total = 0;
    for (int r = 0; r < runs; r++) {
        mlops_drift_report *rep = NULL;
        double t0 = bench_now();
        int rc = mlops_drift_report_run(&rep, ref, REPORT_COLS, cur, REPORT_COLS, NULL);
        bench_series_add(&s, bench_now() - t0);
        if (rc != 0)
            die("mlops_drift_report_run", rc);
        drifted = rep->ndrifted;
        total = 0;
        for (size_t i = 0; i < rep->ncolumns; i++)
            total += rep->columns[i].statistic;
        mlops_drift_report_free(rep);
    }
    double m = bench_series_median(&s);
    char extra[640];
    int met = m <= 1.0;
    if (b->report_ok) {
        double bm = bench_series_median(&b->report);
        snprintf(extra, sizeof extra,
                 ",\"columns\":%d,\"rows\":%d,\"drifted\":%zu,\"baseline\":\"scipy/numpy, Evidently's default "
                 "tests\",\"baseline_seconds\":%.4f,\"ratio\":%.1f,\"baseline_drifted\":%.0f,"
                 "\"statistics_sum_rel_diff\":%.3g,\"target_seconds_max\":1,\"met\":%s",
                 REPORT_COLS, REPORT_ROWS, drifted, bm, bm / m, b->report_drifted,
                 rel_diff(total, b->report_total), met ? "true" : "false");
        fprintf(stderr, "  report 100x100k  %8.4f s  (scipy/numpy %.2f s, ratio %.1f; target <= 1 s: %s)\n", m, bm,
                bm / m, met ? "met" : "MISSED");
    } else {
        snprintf(extra, sizeof extra,
                 ",\"columns\":%d,\"rows\":%d,\"drifted\":%zu,\"baseline\":null,\"target_seconds_max\":1,"
                 "\"met\":%s",
                 REPORT_COLS, REPORT_ROWS, drifted, met ? "true" : "false");
        fprintf(stderr, "  report 100x100k  %8.4f s  (target <= 1 s: %s)\n", m, met ? "met" : "MISSED");
    }
    bench_print("drift.report_100x100k", 2 * REPORT_ROWS * REPORT_COLS, &s, 2.0 * REPORT_ROWS * REPORT_COLS,
                "values/s", extra);
    free(shifted);
    free(codes);
}

int main(void)
{
    int runs = bench_runs(3);
    size_t n = (size_t)bench_env_long("MLOPS_BENCH_DRIFT_N", 1000000);
    double *u = bench_normal(1, n, 0.0, 1.0), *v = bench_normal(2, n, 0.1, 1.0);

    baseline b;
    run_baseline(&b, u, v, n, runs);
    fprintf(stderr, "bench_drift summary (medians, %d runs, %zu vs %zu values):\n", runs, n, n);
    bench_ks(u, v, n, runs, &b);
    bench_wasserstein(u, v, n, runs, &b);
    bench_psi(u, v, n, runs, &b);
    bench_report(u, v, n, runs, &b); /* profile ingest: bench_drift_profile */
    free(u);
    free(v);
    return 0;
}
