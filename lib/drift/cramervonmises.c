/*
 * Cramér-von Mises two-sample test with scipy 1.10's semantics
 * (stats/_hypotests.py, cramervonmises_2samp): T of Anderson (1962), eq. 9,
 * from the midranks of the pooled sample; auto is exact when both samples
 * have at most 20 values; the exact p-value counts the lattice paths of
 * Xiao, Gordon and Yakovlev (2006); the asymptotic one evaluates the
 * limiting distribution of the one-sample statistic at Anderson's
 * normalized T (eq. 15), and is 1 when that is below 0.003.
 *
 * Two deliberate differences from scipy, both where scipy loses digits:
 *  - T = U / (mn N) - (4 mn - 1) / (6 N) cancels: for samples of 10^5
 *    the two terms are ~10^4 times T, and scipy's float T is off by ~1e-11
 *    relative. Here U is kept exact (4U is an integer) in double-double
 *    and T is computed as one correctly rounded quotient.
 *  - scipy's asymptotic p-value is 1 - cdf, with the cdf's series cut when
 *    a term drops below 1e-7: below p ~ 1e-5 its digits are the
 *    truncation's, and for large statistics it levels off between 1e-9
 *    and 1e-7 instead of going to 0 (2.6e-8 where the true value is
 *    1e-216). Here the survival function is computed directly (Smirnov's
 *    integral, see limit_sf), correct to ~1e-13 relative down to
 *    underflow. Where scipy is accurate (p above ~1e-5) the two agree to
 *    ~1e-12.
 */
#include <math.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/error.h"
#include "integer.h"
#include "mlops/drift.h"
#include "ranks.h"
#include "sample.h"

/*
 * The limiting distribution's survival function, by Smirnov's integral
 * for the tail of W = sum_j Z_j^2 / (j pi)^2 (checked numerically against
 * the series in K_{1/4} that scipy sums for the cdf):
 *
 *   P(W > x) = (2/pi) sum_{k>=1} (-1)^(k+1)
 *              int_{(2k-1)pi}^{2k pi} exp(-x L^2 / 2) sqrt(-L / sin L) dL / L.
 *
 * The integrand has inverse-square-root singularities at both ends; with
 * L = (2k - 1/2) pi + (pi/2) cos(th) they cancel against d L / d th, and
 * the integrand in th is analytic and even-periodic, so the midpoint rule
 * converges geometrically (64 points give full precision for moderate x;
 * large x narrows the peak at th = pi, hence more points). exp(-x pi^2/2)
 * is factored out so that nothing underflows before the final product,
 * and the cosine near the ends is formed as sin(pi sin^2(th/2)) (or with
 * cos) to keep its relative accuracy where it goes to 0. Checked against
 * mpmath's series in K_{1/4} from x = 0.003 (p ~ 1) to x = 140
 * (p ~ 1e-302).
 */
static double limit_sf(double x)
{
    const double pi = 3.14159265358979323846;
    if (!(x >= 0))
        return NAN;
    double base = x * pi * pi / 2;
    if (base > 760) /* exp(-base) and everything after it is below 1e-320 */
        return 0.0;
    int npts = 64 + (int)(12 * sqrt(x));
    double total = 0, sign = 1;
    for (int k = 1; k < 10000; k++) {
        double c = (2 * k - 0.5) * pi, s = 0;
        for (int j = 0; j < npts; j++) {
            double th = (j + 0.5) * pi / npts;
            double sh = sin(th / 2), ch = cos(th / 2);
            double w = th <= pi / 2 ? sh : ch;
            double cos_t = sin(pi * w * w);
            double lam = c + pi / 2 * cos(th);
            double e = exp(-x * (lam - pi) * (lam + pi) / 2);
            s += e * 2 * sh * ch / sqrt(lam * cos_t);
        }
        double term = s * pi / npts;
        total += sign * term;
        sign = -sign;
        if (term <= 1e-17 * fabs(total))
            break;
    }
    if (total <= 0)
        return 0.0;
    return exp(log(total) - base);
}

/* ---- the exact distribution ----------------------------------------- */

/*
 * Paths from (0, 0) to (n, m) (u counts values of the second sample, v of
 * the first) take unit steps; a path's value is the sum over the points it
 * visits of (a v - b u)^2, a = lcm/m, b = lcm/n, and the p-value is the
 * share of paths whose value reaches zeta, the observed U in the same
 * units. As in scipy, the distribution of partial values is kept per point
 * as a sorted list of (value, count), one row of points at a time (here
 * updated in place: the point above is read just before it is replaced).
 * Two prunings that scipy does not do keep the lists short: every term is
 * >= 0, so a partial value at or above zeta is merged into one entry
 * zeta; and one that cannot reach zeta even along the costliest rest of
 * the path (rest[], a max-plus pass backwards over the lattice) is
 * dropped, since it only adds to the denominator, binom(m+n, m), which is
 * computed on its own. Counts are doubles: exact while binom(m+n, m) <
 * 2^53 (always under auto), within a few ulps after, as every operation
 * on them is an addition of positive numbers.
 */
typedef struct cvm_list {
    int64_t *val;
    double *cnt;
    size_t n, cap;
} cvm_list;

/* Limits of the exact method (scipy has none, but would take hours or
 * run out of memory far below them): list entries alive at once (16 bytes
 * each), entries merged in all, and lattice points (8 bytes each for
 * rest[]). Values and zeta must also be exact in 53 bits. */
#define EXACT_MAX_ENTRIES ((size_t)1 << 23)
#define EXACT_MAX_WORK ((uint64_t)1 << 29)
#define EXACT_MAX_POINTS ((uint64_t)1 << 22)
#define EXACT_MAX_INT 9007199254740992.0 /* 2^53 */

#define CVM_INFEASIBLE 1

typedef struct cvm_state {
    int64_t zeta;
    size_t entries;  /* capacity of all lists */
    uint64_t work;   /* entries merged so far */
} cvm_state;

static int list_reserve(cvm_list *l, size_t need, cvm_state *st)
{
    if (need <= l->cap)
        return 0;
    size_t cap = l->cap ? l->cap : 16;
    while (cap < need)
        cap *= 2;
    if (st->entries - l->cap + cap > EXACT_MAX_ENTRIES)
        return CVM_INFEASIBLE;
    int64_t *v = mlops__realloc(l->val, cap * sizeof *v);
    if (!v)
        return mlops__error_oom();
    l->val = v;
    double *c = mlops__realloc(l->cnt, cap * sizeof *c);
    if (!c)
        return mlops__error_oom();
    l->cnt = c;
    st->entries += cap - l->cap;
    l->cap = cap;
    return 0;
}

/* Appends value v (already shifted) unless it cannot reach zeta (below
 * floor); from zeta on, into the single entry zeta. */
static void list_push(cvm_list *d, int64_t v, double c, int64_t floor_, int64_t zeta)
{
    if (v < floor_)
        return;
    if (v >= zeta)
        v = zeta;
    if (d->n && d->val[d->n - 1] == v)
        d->cnt[d->n - 1] += c;
    else {
        d->val[d->n] = v;
        d->cnt[d->n] = c;
        d->n++;
    }
}

/* dst = (x merged with y) + add, pruned as above; x may be NULL. */
static int list_step(cvm_list *dst, const cvm_list *x, const cvm_list *y, int64_t add, int64_t floor_,
                     cvm_state *st)
{
    size_t nx = x ? x->n : 0, ny = y->n;
    st->work += nx + ny;
    if (st->work > EXACT_MAX_WORK)
        return CVM_INFEASIBLE;
    int rc = list_reserve(dst, nx + ny, st);
    if (rc != 0)
        return rc;
    dst->n = 0;
    size_t i = 0, j = 0;
    while (i < nx || j < ny) {
        if (j >= ny || (i < nx && x->val[i] < y->val[j])) {
            list_push(dst, x->val[i] + add, x->cnt[i], floor_, st->zeta);
            i++;
        } else if (i >= nx || y->val[j] < x->val[i]) {
            list_push(dst, y->val[j] + add, y->cnt[j], floor_, st->zeta);
            j++;
        } else {
            list_push(dst, x->val[i] + add, x->cnt[i] + y->cnt[j], floor_, st->zeta);
            i++;
            j++;
        }
    }
    return 0;
}

/* binom(m + n, m) as a double: Pascal's rule over one row, so exact while
 * it is below 2^53 and correct to a few ulps beyond. */
static int binom_double(double *out, uint64_t m, uint64_t n)
{
    uint64_t s = m < n ? m : n;
    double *row = mlops__calloc((size_t)s + 1, sizeof *row);
    if (!row)
        return mlops__error_oom();
    row[0] = 1;
    for (uint64_t t = 1; t <= m + n; t++)
        for (uint64_t j = t < s ? t : s; j >= 1; j--)
            row[j] += row[j - 1];
    *out = row[s];
    mlops__free(row);
    return 0;
}

/*
 * The exact p-value for samples of m (first) and n (second) values, given
 * W = 6 (4U) - 4 mn (4 mn - 1) (an integer). scipy's zeta is
 * lcm^2 (m+n) (6U - mn(4mn - 1)) // (6 m^2 n^2), which is
 * floor((m + n) W / (24 g^2)) with g = gcd(m, n): computed exactly here.
 * Returns CVM_INFEASIBLE (p not set) beyond the limits above.
 */
static int exact_pvalue(double *p, uint64_t m, uint64_t n, mlops__drift_dd w)
{
    uint64_t g = mlops__drift_gcd(m, n), lcm = m / g * n;
    if ((double)lcm * (double)lcm * (double)(m + n + 1) >= EXACT_MAX_INT ||
        (double)(m + 1) * (double)(n + 1) > (double)EXACT_MAX_POINTS)
        return CVM_INFEASIBLE;
    double num = (double)(m + n) * w.hi;
    if (w.lo != 0 || fabs(num) >= EXACT_MAX_INT || fabs(w.hi) >= EXACT_MAX_INT)
        return CVM_INFEASIBLE;
    double den = 24.0 * (double)g * (double)g;
    double q = floor(num / den);
    if (fma(q, den, -num) > 0) /* num / den rounded up to an integer */
        q -= 1;
    if (q <= 0) {
        *p = 1.0;
        return 0;
    }
    cvm_state st = { (int64_t)q, 0, 0 };
    int64_t a = (int64_t)(lcm / m), b = (int64_t)(lcm / n);
    size_t cols = (size_t)m + 1;
#define TERM(u, v) (((int64_t)(v) * a - (int64_t)(u) * b) * ((int64_t)(v) * a - (int64_t)(u) * b))

    int rc = 0;
    cvm_list *row = mlops__calloc(cols + 1, sizeof *row), *tmp = row ? row + cols : NULL;
    int64_t *rest = mlops__malloc(((size_t)n + 1) * cols * sizeof *rest);
    if (!row || !rest) {
        rc = mlops__error_oom();
        goto done;
    }
    /* rest[u][v]: the largest sum of terms a path can still collect after
     * (u, v). */
    for (uint64_t u = n + 1; u-- > 0;)
        for (uint64_t v = m + 1; v-- > 0;) {
            int64_t best = 0;
            if (u < n)
                best = rest[(u + 1) * cols + v] + TERM(u + 1, v);
            if (v < m && rest[u * cols + v + 1] + TERM(u, v + 1) > best)
                best = rest[u * cols + v + 1] + TERM(u, v + 1);
            rest[u * cols + v] = best;
        }

    int64_t zero = 0;
    double one = 1.0;
    cvm_list start = { &zero, &one, 1, 1 };
    for (uint64_t u = 0; u <= n; u++) {
        for (uint64_t v = 0; v <= m; v++) {
            const cvm_list *up = u == 0 && v == 0 ? &start : &row[v];
            const cvm_list *left = v ? &row[v - 1] : NULL;
            rc = list_step(tmp, left, up, TERM(u, v), st.zeta - rest[u * cols + v], &st);
            if (rc != 0)
                goto done;
            cvm_list t = row[v];
            row[v] = *tmp;
            *tmp = t;
        }
    }
#undef TERM
    const cvm_list *end = &row[m];
    double hit = end->n && end->val[end->n - 1] >= st.zeta ? end->cnt[end->n - 1] : 0, total = 1;
    rc = binom_double(&total, m, n);
    if (rc == 0)
        *p = hit / total;
done:
    if (row)
        for (size_t i = 0; i <= cols; i++) {
            mlops__free(row[i].val);
            mlops__free(row[i].cnt);
        }
    mlops__free(row);
    mlops__free(rest);
    return rc;
}

/* ---- the test --------------------------------------------------------- */

/* Sum over one sample's values of (2 (midrank - index))^2, an integer. */
static void rank_sums(mlops__drift_dd e2[2], const mlops__drift_sample s[2])
{
    size_t first[2], count[2];
    mlops__drift_pool pool;
    mlops__drift_pool_init(&pool, s, 2, first, count);
    e2[0] = e2[1] = mlops__drift_dd_from(0.0);
    while (mlops__drift_pool_next(&pool)) {
        for (int i = 0; i < 2; i++) {
            /* value d of the run is at 1-based index first + d + 1 and
             * has midrank below + (run + 1) / 2 */
            double e = 2.0 * ((double)pool.below - (double)first[i]) + (double)pool.run - 1.0;
            for (size_t d = 0; d < count[i]; d++, e -= 2.0)
                e2[i] = mlops__drift_dd_add_d(e2[i], e * e);
        }
    }
}

int mlops_drift_cramervonmises_2samp(mlops_drift_test *out, const double *a, size_t na, const double *b,
                                     size_t nb, mlops_drift_method method)
{
    if (!out)
        return mlops__error_set(MLOPS_EINVALID, "cramervonmises_2samp: NULL result");
    if ((unsigned)method > MLOPS_DRIFT_ASYMPTOTIC)
        return mlops__error_set(MLOPS_EINVALID, "cramervonmises_2samp: unknown method %d", (int)method);

    mlops__drift_sample s[2];
    int rc = mlops__drift_sample_init_pair(&s[0], a, na, "cramervonmises_2samp: first sample", &s[1], b, nb,
                                           "cramervonmises_2samp: second sample");
    if (rc < 0)
        return rc;
    if (s[0].n < 2 || s[1].n < 2) {
        rc = mlops__error_set(MLOPS_EINVALID, "cramervonmises_2samp needs at least two values in each sample "
                                              "(got %zu and %zu)", s[0].n, s[1].n);
        goto done;
    }
    double nx = (double)s[0].n, ny = (double)s[1].n;
    if (method == MLOPS_DRIFT_AUTO)
        method = s[0].n > 20 || s[1].n > 20 ? MLOPS_DRIFT_ASYMPTOTIC : MLOPS_DRIFT_EXACT;

    /* 4U = nx E2x + ny E2y; T = (6 (4U) - 4k (4k - 1)) / (24 k N), k = nx ny. */
    mlops__drift_dd e2[2];
    rank_sums(e2, s);
    mlops__drift_dd u4 = mlops__drift_dd_add(mlops__drift_dd_mul_d(e2[0], nx), mlops__drift_dd_mul_d(e2[1], ny));
    double k = nx * ny, nn = nx + ny;
    mlops__drift_dd w = mlops__drift_dd_add(mlops__drift_dd_mul_d(u4, 6.0),
                                            mlops__drift_dd_neg(mlops__drift_dd_prod(4 * k, 4 * k - 1)));
    double t = mlops__drift_dd_div(w, mlops__drift_dd_prod(24 * k, nn)).hi;

    double p = NAN;
    if (method == MLOPS_DRIFT_EXACT) {
        rc = exact_pvalue(&p, s[0].n, s[1].n, w);
        if (rc < 0)
            goto done;
        if (rc == CVM_INFEASIBLE)
            method = MLOPS_DRIFT_ASYMPTOTIC;
        rc = 0;
    }
    if (method == MLOPS_DRIFT_ASYMPTOTIC) {
        /* Anderson's mean and variance of T (eqs. 11 and 14), the variance
         * as scipy's one correctly rounded quotient of integers. */
        double et = (1 + 1 / nn) / 6;
        mlops__drift_dd inner = mlops__drift_dd_prod(4 * k, nn);
        inner = mlops__drift_dd_add_d(inner, -3 * (nx * nx + ny * ny));
        inner = mlops__drift_dd_add_d(inner, -2 * k);
        mlops__drift_dd vnum = mlops__drift_dd_mul_d(inner, nn + 1);
        double vt = mlops__drift_dd_div(vnum, mlops__drift_dd_prod(45 * nn * nn, 4 * k)).hi;
        double tn = 1.0 / 6 + (t - et) / sqrt(45 * vt);
        p = tn < 0.003 ? 1.0 : limit_sf(tn);
    }

    mlops__drift_test_result(out, t, p, method, &s[0], &s[1]);
done:
    mlops__drift_sample_dispose(&s[0]);
    mlops__drift_sample_dispose(&s[1]);
    return rc;
}
