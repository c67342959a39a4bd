/*
 * Two-sample Kolmogorov-Smirnov test, as scipy.stats.ks_2samp 1.10.
 *
 * Statistic: both samples sorted (radix sort; the second on a helper
 * thread when both are large, mlops__drift_sample_init_pair), then one
 * merge pass over the distinct values v, where the empirical CDFs are
 * F1(v) = #{a <= v}/n1 and F2(v) = #{b <= v}/n2 (scipy's searchsorted
 * with side='right', so tied values count together). The differences are
 * compared as scipy compares them (c1/n1 - c2/n2 in doubles) so that
 * exact ties between differences, hence the reported location, agree.
 * statistic_location is scipy's: among the values attaining the extreme,
 * the smallest one of the first sample if any, else the smallest one of
 * the second (numpy's argmax over the concatenation of the sorted
 * samples). ±Inf are ordinary values.
 *
 * p-value: auto is exact when both sizes are at most 10,000. Explicit
 * exact switches to the asymptotic p-value when lcm(n1, n2) reaches
 * 2^31 - 1, and whenever scipy's exact computation gives up (ks.h); the
 * exact path reports d rounded to h/lcm as the statistic, as scipy does
 * (even when it then falls back). Asymptotic: two-sided kstwo.sf(d,
 * round(n1 n2 / (n1 + n2))) (NaN for n1 = n2 = 1, where that rounds to
 * 0, as scipy), one-sided Hodges' approximation
 * exp(-2 z^2 - 2 z (m + 2n) / sqrt(m n (m+n)) / 3), z = sqrt(mn/(m+n)) d,
 * m >= n. Clipped to [0, 1].
 *
 * Deviations from scipy, where scipy's numbers are not what it means to
 * compute (tests/drift/gen_ks.py measures them): one-sided exact p-values
 * with a sample above ~10^4 (scipy's path counts lose up to ~1e-9
 * relative; ks_exact.c computes the probability directly), and asymptotic
 * two-sided p-values with round(n1 n2 / (n1 + n2)) above 10^6 in kstwo's
 * 2 * smirnov branch (scipy's smirnov approximates there, off by up to a
 * few percent far in the tail; special_kolmogorov.c stays exact).
 */
#include <math.h>
#include <stdint.h>

#include "common/error.h"
#include "ks.h"
#include "mlops/drift.h"
#include "sample.h"

#define MAX_AUTO_N 10000

/* The running extreme of the CDF difference and where it is attained. */
typedef struct extreme {
    double value;
    double loc1, loc2; /* first value of each sample attaining it */
    int has1, has2;
} extreme;

static void extreme_update(extreme *e, double diff, int greater, double v, int in1, int in2)
{
    if (greater ? diff > e->value : diff < e->value) {
        e->value = diff;
        e->has1 = in1;
        e->has2 = in2;
        e->loc1 = e->loc2 = v;
        return;
    }
    if (diff == e->value) {
        if (in1 && !e->has1) {
            e->has1 = 1;
            e->loc1 = v;
        }
        if (in2 && !e->has2) {
            e->has2 = 1;
            e->loc2 = v;
        }
    }
}

static double extreme_location(const extreme *e)
{
    return e->has1 ? e->loc1 : e->loc2;
}

/*
 * The difference is tracked exactly as the integer k = i n2 - j n1
 * (= n1 n2 (F1 - F2) after i and j values); scipy's floating difference
 * is computed only where k comes within M of its running maximum or
 * minimum, rare events in a random merge, instead of at every value.
 * Same answer: each floating difference is within 3 * 2^-53 of the exact
 * one, so two whose exact values differ by more than 6 * 2^-53, M / (n1
 * n2), are ordered in floating point as exactly; the candidates near the
 * extreme are compared in floating point as scipy does. For n1 n2 < 2^50
 * distinct exact values differ by at least 1/(n1 n2), enough, and M = 0.
 * The merge itself advances without branching on which sample holds the
 * smaller value (half of those branches would be mispredicted; runs of
 * equal values are rare, and predicted).
 */
#if defined(__SIZEOF_INT128__)
__extension__ typedef __int128 ks_key;
#define KEYS_FIT(n1, n2) 1
#else
typedef int64_t ks_key;
#define KEYS_FIT(n1, n2) ((double)(n1) * (double)(n2) < 0x1p62)
#endif

typedef struct keyed_state {
    double dn1, dn2;
    ks_key k1, k2, margin, kmax, kmin;
    extreme *mx, *mn;
} keyed_state;

/* A group of equal values v ends with i and j values counted; g1, g2:
 * whether it held values of each sample. */
static inline void keyed_close(keyed_state *st, size_t i, size_t j, double v, int g1, int g2)
{
    ks_key key = (ks_key)i * st->k2 - (ks_key)j * st->k1;
    int up = key >= st->kmax - st->margin, down = key <= st->kmin + st->margin;
    if (!(up || down))
        return;
    double diff = (double)i / st->dn1 - (double)j / st->dn2;
    if (up) {
        if (key > st->kmax)
            st->kmax = key;
        extreme_update(st->mx, diff, 1, v, g1, g2);
    }
    if (down) {
        if (key < st->kmin)
            st->kmin = key;
        extreme_update(st->mn, diff, 0, v, g1, g2);
    }
}

/* A merge cursor over a[i..iend) and b[j..jend), with the extremes seen
 * there. */
typedef struct chain {
    keyed_state st;
    extreme mx, mn;
    const double *a, *b;
    size_t i, j, iend, jend;
    double gv; /* the group of equal values being counted */
    int g1, g2;
} chain;

static void extreme_reset(extreme *e, double value)
{
    e->value = value;
    e->has1 = e->has2 = 0;
    e->loc1 = e->loc2 = NAN;
}

static void chain_init(chain *c, const keyed_state *proto, const double *a, const double *b, size_t i, size_t iend,
                       size_t j, size_t jend)
{
    c->st = *proto;
    c->st.mx = &c->mx;
    c->st.mn = &c->mn;
    extreme_reset(&c->mx, -INFINITY);
    extreme_reset(&c->mn, INFINITY);
    c->a = a;
    c->b = b;
    c->i = i;
    c->iend = iend;
    c->j = j;
    c->jend = jend;
    c->gv = i == iend ? b[j] : j == jend ? a[i] : a[i] <= b[j] ? a[i] : b[j];
    c->g1 = c->g2 = 0;
}

/* One value of each sample's head, without a branch on which is smaller;
 * a group is closed (its difference a candidate) when the value changes. */
static inline void chain_step(chain *c)
{
    double va = c->a[c->i], vb = c->b[c->j];
    double v = va <= vb ? va : vb;
    if (v != c->gv) {
        keyed_close(&c->st, c->i, c->j, c->gv, c->g1, c->g2);
        c->gv = v;
        c->g1 = c->g2 = 0;
    }
    int ta = va == v, tb = vb == v;
    c->i += (size_t)ta;
    c->j += (size_t)tb;
    c->g1 |= ta;
    c->g2 |= tb;
}

static inline int chain_both(const chain *c)
{
    return c->i < c->iend && c->j < c->jend;
}

static void chain_finish(chain *c)
{
    while (chain_both(c))
        chain_step(c);
    for (; c->i < c->iend; c->i++) {
        if (c->a[c->i] != c->gv) {
            keyed_close(&c->st, c->i, c->j, c->gv, c->g1, c->g2);
            c->gv = c->a[c->i];
            c->g1 = c->g2 = 0;
        }
        c->g1 = 1;
    }
    for (; c->j < c->jend; c->j++) {
        if (c->b[c->j] != c->gv) {
            keyed_close(&c->st, c->i, c->j, c->gv, c->g1, c->g2);
            c->gv = c->b[c->j];
            c->g1 = c->g2 = 0;
        }
        c->g2 = 1;
    }
    keyed_close(&c->st, c->i, c->j, c->gv, c->g1, c->g2);
}

/* The extreme over two consecutive ranges of values, lo's all below
 * hi's: on a tie each sample's location is its first. */
static void extreme_join(extreme *out, const extreme *lo, const extreme *hi, int greater)
{
    if (greater ? hi->value > lo->value : hi->value < lo->value) {
        *out = *hi;
        return;
    }
    *out = *lo;
    if (hi->value != lo->value)
        return;
    if (!out->has1 && hi->has1) {
        out->has1 = 1;
        out->loc1 = hi->loc1;
    }
    if (!out->has2 && hi->has2) {
        out->has2 = 1;
        out->loc2 = hi->loc2;
    }
}

/*
 * A merge is bound by the latency of its own chain (load, compare,
 * advance, load). Large inputs are split at three values into four
 * ranges merged in the same loop, four independent chains the processor
 * overlaps (10 ms instead of 14 for a million values each; 20 for the
 * branchy merge); equal values all fall in one range, and the ranges'
 * extremes are joined in value order.
 */
static void cdf_extremes_keyed(extreme *mx, extreme *mn, const double *a, size_t n1, const double *b, size_t n2)
{
    keyed_state st;
    st.dn1 = (double)n1;
    st.dn2 = (double)n2;
    double nn = st.dn1 * st.dn2;
    ks_key k1 = (ks_key)n1, k2 = (ks_key)n2;
    st.k1 = k1;
    st.k2 = k2;
    st.margin = nn < 0x1p50 ? 0 : (ks_key)(nn * 0x1p-50) + 1;
    st.kmax = (-k1 - 1) * k2; /* below any key */
    st.kmin = (k2 + 1) * k1;  /* above any key */
    if (n1 + n2 < 8192) {
        chain c;
        chain_init(&c, &st, a, b, 0, n1, 0, n2);
        chain_finish(&c);
        *mx = c.mx;
        *mn = c.mn;
        return;
    }
    /* four ranges of values, split at the first sample's quartiles */
    size_t is[5] = {0, 0, 0, 0, n1}, js[5] = {0, 0, 0, 0, n2};
    for (int q = 1; q < 4; q++) {
        double split = a[n1 * (size_t)q / 4];
        is[q] = mlops__drift_rank(a, n1, split, 0);
        js[q] = mlops__drift_rank(b, n2, split, 0);
    }
    chain c[4];
    int nc = 0;
    for (int q = 0; q < 4; q++)
        if (is[q + 1] + js[q + 1] > is[q] + js[q])
            chain_init(&c[nc++], &st, a, b, is[q], is[q + 1], js[q], js[q + 1]);
    if (nc == 4) {
        while (chain_both(&c[0]) && chain_both(&c[1]) && chain_both(&c[2]) && chain_both(&c[3])) {
            chain_step(&c[0]);
            chain_step(&c[1]);
            chain_step(&c[2]);
            chain_step(&c[3]);
        }
    }
    chain_finish(&c[0]);
    *mx = c[0].mx;
    *mn = c[0].mn;
    for (int q = 1; q < nc; q++) {
        chain_finish(&c[q]);
        extreme lo = *mx;
        extreme_join(mx, &lo, &c[q].mx, 1);
        lo = *mn;
        extreme_join(mn, &lo, &c[q].mn, 0);
    }
}

/* One pass over the two sorted samples. */
static void cdf_extremes(extreme *mx, extreme *mn, const double *a, size_t n1, const double *b, size_t n2)
{
    mx->value = -INFINITY;
    mn->value = INFINITY;
    mx->has1 = mx->has2 = mn->has1 = mn->has2 = 0;
    mx->loc1 = mx->loc2 = mn->loc1 = mn->loc2 = NAN;
    if (KEYS_FIT(n1, n2)) {
        cdf_extremes_keyed(mx, mn, a, n1, b, n2);
        return;
    }
    /* Without 128-bit integers, beyond 2^62: scipy's differences at every
     * value. */
    double dn1 = (double)n1, dn2 = (double)n2;
    size_t i = 0, j = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && a[i] <= b[j])) ? a[i] : b[j];
        size_t i0 = i, j0 = j;
        while (i < n1 && a[i] == v)
            i++;
        while (j < n2 && b[j] == v)
            j++;
        int in1 = i > i0, in2 = j > j0;
        double diff = (double)i / dn1 - (double)j / dn2;
        extreme_update(mx, diff, 1, v, in1, in2);
        extreme_update(mn, diff, 0, v, in1, in2);
    }
}

/* Hodges' one-sided approximation; m >= n. */
static double hodges(double m, double n, double d)
{
    double en = m * n / (m + n);
    double z = sqrt(en) * d;
    double expt = -2 * (z * z) - 2 * z * (m + 2 * n) / sqrt(m * n * (m + n)) / 3.0;
    return exp(expt);
}

static int asymptotic_pvalue(double *p, size_t n1, size_t n2, double d, mlops_drift_alternative alternative)
{
    double m = (double)n1, n = (double)n2;
    if (m < n) {
        double t = m;
        m = n;
        n = t;
    }
    if (alternative != MLOPS_DRIFT_TWO_SIDED) {
        *p = hodges(m, n, d);
        return 0;
    }
    double en = rint(m * n / (m + n)); /* np.round: ties to even */
    return mlops__drift_kstwo_sf_scipy(p, (uint64_t)en, d);
}

int mlops_drift_ks_2samp(mlops_drift_test *out, const double *a, size_t na, const double *b, size_t nb,
                         mlops_drift_alternative alternative, mlops_drift_method method)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "ks_2samp: NULL result");
    if ((unsigned)alternative > MLOPS_DRIFT_GREATER)
        return mlops__error_set(MLOPS_EINVALID, "ks_2samp: unknown alternative %d", (int)alternative);
    if ((unsigned)method > MLOPS_DRIFT_ASYMPTOTIC)
        return mlops__error_set(MLOPS_EINVALID, "ks_2samp: unknown method %d", (int)method);
    mlops__drift_sample s1, s2;
    int rc = mlops__drift_sample_init_pair(&s1, a, na, "ks_2samp: first sample", &s2, b, nb,
                                           "ks_2samp: second sample");
    if (rc < 0)
        return rc;
    size_t n1 = s1.n, n2 = s2.n;

    extreme mx, mn;
    cdf_extremes(&mx, &mn, s1.v, n1, s2.v, n2);
    double maxS = mx.value;
    double minS = -mn.value;
    minS = minS < 0 ? 0 : minS > 1 ? 1 : minS;
    double d, loc;
    int sign;
    if (alternative == MLOPS_DRIFT_LESS || (alternative == MLOPS_DRIFT_TWO_SIDED && minS > maxS)) {
        d = minS;
        loc = extreme_location(&mn);
        sign = -1;
    } else {
        d = maxS;
        loc = extreme_location(&mx);
        sign = 1;
    }

    mlops_drift_method used = method;
    if (used == MLOPS_DRIFT_AUTO) {
        used = (n1 > n2 ? n1 : n2) <= MAX_AUTO_N ? MLOPS_DRIFT_EXACT : MLOPS_DRIFT_ASYMPTOTIC;
    } else if (used == MLOPS_DRIFT_EXACT) {
        /* scipy: exact only while lcm(n1, n2) < 2^31 - 1. */
        uint64_t x = n1, y = n2;
        while (y) {
            uint64_t t = x % y;
            x = y;
            y = t;
        }
        uint64_t n1g = n1 / x, n2g = n2 / x;
        if ((double)n1g * (double)n2g >= 2147483647.0)
            used = MLOPS_DRIFT_ASYMPTOTIC;
    }
    double p = NAN;
    if (used == MLOPS_DRIFT_EXACT) {
        double dr;
        rc = mlops__drift_ks_exact(&p, &dr, n1, n2, d, alternative);
        if (rc < 0)
            goto done;
        d = dr;
        if (rc == 0)
            used = MLOPS_DRIFT_ASYMPTOTIC;
    }
    if (used == MLOPS_DRIFT_ASYMPTOTIC) {
        rc = asymptotic_pvalue(&p, n1, n2, d, alternative);
        if (rc < 0)
            goto done;
    }
    if (p < 0)
        p = 0;
    if (p > 1)
        p = 1;

    mlops__drift_test_result(out, d, p, used, &s1, &s2);
    out->statistic_location = loc;
    out->statistic_sign = sign;
    rc = 0;
done:
    mlops__drift_sample_dispose(&s1);
    mlops__drift_sample_dispose(&s2);
    return rc;
}
