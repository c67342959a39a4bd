/*
 * Kolmogorov and Smirnov distributions: the limit law of sqrt(n) D_n
 * (scipy.special.kolmogorov), the one-sided finite-n law of D+_n
 * (scipy.special.smirnov) and the two-sided finite-n law of D_n
 * (scipy.stats.kstwo.sf).
 *
 * The two-sided finite-n survival here is scipy's kstwo.sf, method by
 * method: Simard & L'Ecuyer (2011), the rule scipy's _ksstats.py
 * implements, so that ks_2samp's asymptotic p-values agree with scipy's:
 * Ruben-Gambino's closed forms at both ends, Durbin's matrix (in
 * Marsaglia-Tsang-Wang's form) and Pomeranz's recursion for n <= 140, the
 * Pelz-Good expansion for larger n, and twice the one-sided survival in
 * the upper tail. That rule approximates the exact law (by up to 2.4e-5
 * relative, Pelz-Good at n = 141); mlops_drift_kolmogorov_n_sf is the exact one
 * (special_kstwo_exact.c), which falls back to this rule only where it
 * is exact or n is too large for the exact recursion.
 *
 * The one-sided survival is the Birnbaum-Tingey sum
 *     P(D+_n >= d) = sum_{j=0}^{J} x T_j,   J = ceil(n (1 - d)) - 1,
 *     x T_j = d C(n,j) (d + j/n)^(j-1) (1 - d - j/n)^(n-j),
 * a sum of positive terms. scipy adds all J+1 terms in double-double
 * arithmetic (0.45 s for n = 500000, and above n = 10^6 it switches to an
 * approximation off by up to a few percent in the tail). Here:
 *  - each term comes from a Stirling form of its logarithm in which the
 *    two large parts, j log(1 + u/j) and (n-j) log(1 - u/(n-j)) with
 *    u = n d, are rewritten as -j g(u/j) - (n-j) g(-u/(n-j)),
 *    g(z) = z - log(1+z), so that nothing of size n cancels; it is
 *    evaluated in long double (on x86-64: 64-bit mantissa), which keeps
 *    ~1e-16 relative accuracy even for terms near e^-740;
 *  - n d is split exactly (fma) so that n - j - n d, which is tiny for the
 *    last terms and raised to the power n - j, keeps its digits;
 *  - when t = n d^2 >= 1 the terms are log-concave in j (checked for n up
 *    to 10^12 down to t = 0.6): the sum is a smooth bump, so after cutting
 *    the tails where terms fall below e^-46/J of the largest one, the
 *    trapezoid rule with an integer step H a sixth of the bump's smallest
 *    curvature scale gives the sum of all the integer terms to ~1e-17
 *    (Poisson summation: the error is the bump's Fourier transform at
 *    2 pi / H; measured, the sum stays exact up to H = the scale and is
 *    off by percents at twice it). A few thousand terms instead of n;
 *  - when t < 1 the terms form a U shape with heavy tails; they are summed
 *    in blocks whose step follows the local scale, each block's trapezoid
 *    corrected to the integer sum by the Euler-Maclaurin terms in f' and
 *    f''' at its ends (exact integer sums where the scale is short).
 * On platforms where long double is double (MSVC) the far tail loses
 * digits (about 1e-13 relative near 1e-300).
 *
 * Domain: n >= 1 and n <= 2^53 (n d must be exact in two doubles), 0 <= d
 * <= 1; NaN outside.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "ks.h"
#include "mlops/drift.h"

typedef long double ld;

#define PI_L 3.141592653589793238462643383279502884L
#define MAX_EXACT_N 9007199254740992.0 /* 2^53 */

/* cephes' MINLOG, log(2^-1075): exp() of anything below is 0. scipy's
 * smirnov returns 0 when -2 n d^2 is below it. */
#define SMIRNOV_MINLOG (-7.451332191019412076235E2)

/* ---- Kolmogorov limit distribution -------------------------------------- */

double mlops_drift_kolmogorov_sf(double x)
{
    if (isnan(x))
        return NAN;
    /* Below pi / sqrt(8 * 746) the cdf underflows: the survival is 1. */
    if (x <= 0.040611972203751713)
        return 1.0;
    if (x >= 40)
        return 0.0; /* 2 exp(-3200) */
    double sf;
    if (x <= 0.82) {
        /* cdf = sqrt(2 pi)/x sum_k exp(-(2k-1)^2 pi^2 / (8 x^2)); four
         * terms suffice below 0.82, and the survival is above 0.5. */
        double w = sqrt(2 * M_PI) / x;
        double logu8 = -M_PI * M_PI / (x * x);
        double u = exp(logu8 / 8);
        double cdf;
        if (u == 0) {
            cdf = exp(logu8 / 8 + log(w));
        } else {
            double u8 = exp(logu8);
            double p = 1 + u8 * u8 * u8;
            p = 1 + u8 * u8 * p;
            p = 1 + u8 * p;
            cdf = w * u * p;
        }
        sf = 1 - cdf;
    } else {
        /* sf = 2 sum_k (-1)^(k-1) v^(k^2), v = exp(-2 x^2); four terms
         * suffice above 0.82. x^2 is split exactly so that v keeps full
         * relative accuracy down to its underflow (x ~ 19). */
        double hi = x * x, lo = fma(x, x, -hi);
        double v = exp(-2 * hi) * (1 - 2 * lo);
        double v3 = v * v * v;
        double p = 1 - v3 * v3 * v;
        p = 1 - v3 * v * v * p;
        p = 1 - v3 * p;
        sf = 2 * v * p;
    }
    return sf < 0 ? 0 : sf > 1 ? 1 : sf;
}

/* ---- one-sided Smirnov: the terms ---------------------------------------- */

/* S(k) = lgamma(k+1) - (k+1/2) log k + k - log(2 pi)/2, Stirling's
 * remainder, for k = 1..15 (computed with mpmath, 40 digits). */
static const ld stirling_small[16] = {
    0.0L,
    0.08106146679532725822L,
    0.041340695955409294094L,
    0.027677925684998339149L,
    0.020790672103765093112L,
    0.016644691189821192163L,
    0.013876128823070747999L,
    0.011896709945891770095L,
    0.010411265261972096497L,
    0.0092554621827127329177L,
    0.0083305634333628712565L,
    0.007573675487951840795L,
    0.0069428401072095298657L,
    0.0064089941880042070684L,
    0.0059513701127588477356L,
    0.005554733551962801371L,
};

/* S(k) for k >= 1; for k >= 16 its asymptotic series
 * sum B_2i / (2i (2i-1) k^(2i-1)), seven terms: the next is below 1e-19. */
ld mlops__drift_stirling_rest(ld k)
{
    if (k < 16)
        return stirling_small[(int)k];
    ld r = 1 / k, r2 = r * r;
    ld s = 1.0L / 156;
    s = s * r2 - 691.0L / 360360;
    s = s * r2 + 1.0L / 1188;
    s = s * r2 - 1.0L / 1680;
    s = s * r2 + 1.0L / 1260;
    s = s * r2 - 1.0L / 360;
    s = s * r2 + 1.0L / 12;
    return s * r;
}

/* g(z) = z - log(1 + z) >= 0 without cancellation: for z in [-1/2, 1]
 * through t = z/(2+z), log(1+z) = 2 atanh(t), so g = t z - 2 (t^3/3 +
 * t^5/5 + ...) with |t| <= 1/3. */
ld mlops__drift_log1pmx(ld z)
{
    if (z < -0.5L || z > 1)
        return z - log1pl(z);
    ld t = z / (2 + z), t2 = t * t;
    ld s = 0, p = 1;
    ld terms[40];
    int k = 0;
    while (k < 40) {
        terms[k] = p / (2 * k + 3);
        p *= t2;
        k++;
        if (p < 1e-22L)
            break;
    }
    while (k-- > 0)
        s += terms[k];
    return t * z - 2 * t * t2 * s;
}

typedef struct smirnov_ctx {
    uint64_t n;
    uint64_t J;      /* last index with a positive term */
    double x;
    double uh, ul;   /* n x = uh + ul exactly */
    ld u, nl, Sn;
} smirnov_ctx;

/* log(x T_j) and its first three derivatives in j (without the tiny
 * Stirling-remainder derivatives beyond the first), and the distance to
 * the nearest singularity of the continued term (j = -u or j = n - u). */
typedef struct smirnov_term {
    ld F, F1, F2, F3, R;
} smirnov_term;

static void smirnov_term_at(const smirnov_ctx *c, uint64_t j, smirnov_term *o)
{
    ld y = (ld)j, k = (ld)(c->n - j), u = c->u;
    ld kmu = ((k - (ld)c->uh) - (ld)c->ul); /* n - j - u, accurate when small */
    ld z = u / y, w = u / k;
    ld hw, l1mw;
    if (w <= 0.5L) {
        l1mw = log1pl(-w);
        hw = mlops__drift_log1pmx(-w);
    } else {
        l1mw = logl(kmu / k);
        hw = -w - l1mw;
    }
    ld upy = u + y;
    o->F = -log1pl(y / u) + 0.5L * logl(c->nl / (2 * PI_L * y * k)) - y * mlops__drift_log1pmx(z) - k * hw + c->Sn -
           mlops__drift_stirling_rest(y) - mlops__drift_stirling_rest(k);
    o->F1 = log1pl(z) - u / upy - l1mw - u / kmu - 1 / upy - 0.5L / y + 0.5L / k + 1 / (12 * y * y) -
            1 / (12 * k * k);
    ld u2 = u * u;
    o->F2 = -u2 / (y * upy * upy) - u2 / (k * kmu * kmu) + 1 / (upy * upy) + 0.5L / (y * y) + 0.5L / (k * k);
    o->F3 = u2 * (u + 3 * y) / (y * y * upy * upy * upy) - u2 * (kmu + 2 * k) / (k * k * kmu * kmu * kmu) -
            2 / (upy * upy * upy) - 1 / (y * y * y) + 1 / (k * k * k);
    o->R = upy < kmu ? upy : kmu;
}

static ld smirnov_f(const smirnov_ctx *c, uint64_t j)
{
    smirnov_term t;
    smirnov_term_at(c, j, &t);
    return expl(t.F);
}

/* The local length over which the term changes by O(1). */
static ld smirnov_scale(const smirnov_term *t)
{
    ld s = t->R / 2;
    if (t->F2 != 0 && 1 / sqrtl(fabsl(t->F2)) < s)
        s = 1 / sqrtl(fabsl(t->F2));
    if (t->F1 != 0 && 1 / fabsl(t->F1) < s)
        s = 1 / fabsl(t->F1);
    return s;
}

/* t >= 1: the terms are log-concave; trapezoid over the significant bump. */
static ld smirnov_sum_concave(const smirnov_ctx *c, ld F0)
{
    uint64_t J = c->J, lo, hi, m;
    smirnov_term t;
    smirnov_term_at(c, 1, &t);
    if (t.F1 <= 0) {
        m = 1;
    } else {
        smirnov_term_at(c, J, &t);
        if (t.F1 >= 0) {
            m = J;
        } else {
            lo = 1, hi = J; /* F1(lo) > 0 >= F1(hi) */
            while (hi - lo > 1) {
                uint64_t mid = lo + (hi - lo) / 2;
                smirnov_term_at(c, mid, &t);
                if (t.F1 > 0)
                    lo = mid;
                else
                    hi = mid;
            }
            m = lo;
        }
    }
    smirnov_term_at(c, m, &t);
    ld Fmax = t.F;
    if (m < J) {
        smirnov_term_at(c, m + 1, &t);
        if (t.F > Fmax) {
            Fmax = t.F;
            m++;
        }
    }
    if (F0 > Fmax)
        Fmax = F0;
    /* Terms below this are left out: at most J of them, each under
     * e^-46/J of the largest. */
    ld Fth = Fmax - 46 - logl((ld)J + 1);
    uint64_t y0 = 1, y1 = J;
    smirnov_term_at(c, 1, &t);
    if (t.F < Fth) {
        lo = 1, hi = m; /* F(lo) < Fth <= F(hi) */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            smirnov_term_at(c, mid, &t);
            if (t.F < Fth)
                lo = mid;
            else
                hi = mid;
        }
        y0 = lo;
    }
    smirnov_term_at(c, J, &t);
    if (t.F < Fth) {
        lo = m, hi = J; /* F(lo) >= Fth > F(hi) */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            smirnov_term_at(c, mid, &t);
            if (t.F < Fth)
                hi = mid;
            else
                lo = mid;
        }
        y1 = hi;
    }
    /* The smallest curvature scale over the bump, sampled. */
    ld smin = INFINITY;
    for (int i = 0; i <= 64; i++) {
        uint64_t yy = y0 + (uint64_t)((ld)(y1 - y0) * i / 64);
        smirnov_term_at(c, yy, &t);
        ld s = t.R / 2;
        if (t.F2 != 0 && 1 / sqrtl(fabsl(t.F2)) < s)
            s = 1 / sqrtl(fabsl(t.F2));
        if (s < smin)
            smin = s;
    }
    uint64_t H = smin / 6 >= 2 ? (uint64_t)(smin / 6) : 1;
    ld sum = F0 >= Fth ? expl(F0) : 0;
    uint64_t start = m - ((m - y0) / H) * H;
    ld part = 0;
    for (uint64_t yy = start; yy <= y1; yy += H)
        part += smirnov_f(c, yy);
    return sum + part * (ld)H;
}

/* t < 1: blocks of L steps of H, H a power of two at most the local scale
 * over C; each block's trapezoid corrected to the integer sum with
 * Euler-Maclaurin (f' and f''' at the block's ends). */
#define EM_C 64
#define EM_L 32

static ld smirnov_sum_blocks(const smirnov_ctx *c, ld F0)
{
    uint64_t J = c->J, y = 1;
    /* With t < 1 the survival is above 0.1: terms below e^Fth (at most J
     * of them) are negligible. Such stretches, the steep flanks at both
     * ends, are jumped over, each landing checked to be below the
     * threshold: while rising, along the tangent (a concave log stays
     * under it; a convex one under the larger end); while falling, only
     * where the log is concave at both ends (it then stays under the
     * start), halving the jump until it is. */
    ld Fth = -50 - logl((ld)J + 1);
    ld sum = F0 >= Fth ? expl(F0) : 0;
    smirnov_term a, b;
    smirnov_term_at(c, 1, &a);
    while (y <= J) {
        if (a.F < Fth) {
            uint64_t room = J - y, jump;
            if (room == 0)
                break;
            int rising = a.F1 > 0;
            if (rising) {
                ld dj = (Fth - a.F) / a.F1;
                jump = dj >= (ld)room ? room : dj >= 1 ? (uint64_t)dj : 1;
            } else {
                jump = a.F2 < 0 ? room : 1;
            }
            for (;;) {
                smirnov_term_at(c, y + jump, &b);
                if (jump == 1 || (b.F < Fth && (rising || b.F2 < 0)))
                    break;
                jump /= 2;
            }
            /* y's own term is negligible either way */
            y += jump;
            a = b;
            continue;
        }
        ld s = smirnov_scale(&a);
        uint64_t H = 1;
        while ((ld)(2 * H) <= s / EM_C)
            H *= 2;
        uint64_t steps = (J - y) / H;
        if (steps > EM_L)
            steps = EM_L;
        if (H == 1 || steps < 2) {
            sum += expl(a.F);
            y++;
            if (y <= J)
                smirnov_term_at(c, y, &a);
            continue;
        }
        uint64_t e = y + steps * H;
        smirnov_term_at(c, e, &b);
        ld fa = expl(a.F), fb = expl(b.F);
        ld tr = (fa + fb) / 2;
        for (uint64_t i = 1; i < steps; i++)
            tr += smirnov_f(c, y + i * H);
        tr *= (ld)H;
        ld h2 = (ld)H * (ld)H;
        ld d1a = fa * a.F1, d1b = fb * b.F1;
        ld d3a = fa * (a.F3 + 3 * a.F1 * a.F2 + a.F1 * a.F1 * a.F1);
        ld d3b = fb * (b.F3 + 3 * b.F1 * b.F2 + b.F1 * b.F1 * b.F1);
        /* Sum over [y, e): trapezoid, plus the half end values, minus the
         * end value, plus the Euler-Maclaurin difference between steps H
         * and 1. */
        sum += tr + (fa + fb) / 2 - fb - (h2 - 1) / 12 * (d1b - d1a) + (h2 * h2 - 1) / 720 * (d3b - d3a);
        y = e;
        a = b;
    }
    return sum;
}

double mlops_drift_smirnov_sf(uint64_t n, double d)
{
    if (isnan(d) || n == 0 || d < 0 || d > 1 || (double)n > MAX_EXACT_N)
        return NAN;
    if (n == 1)
        return 1 - d;
    if (d == 0)
        return 1.0;
    if (d == 1)
        return 0.0;
    double nd = (double)n;
    smirnov_ctx c;
    c.n = n;
    c.x = d;
    c.uh = nd * d;
    c.ul = fma(nd, d, -c.uh);
    /* floor(n d) and the fraction alpha, exactly. */
    double fl = floor(c.uh);
    double alpha = (c.uh - fl) + c.ul;
    if (alpha < 0) {
        fl -= 1;
        alpha += 1;
    }
    if (alpha >= 1) {
        fl += 1;
        alpha = 0;
    }
    uint64_t nxfl = (uint64_t)fl;
    if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {
        /* d <= 1/n: cdf = d (1 + d)^(n-1). */
        double cdf = d * exp((nd - 1) * log1p(d));
        return cdf > 1 ? 0 : 1 - cdf;
    }
    if (-2 * nd * d * d < SMIRNOV_MINLOG)
        return 0.0;
    if (nxfl >= n - 1)
        return pow(1 - d, nd); /* d >= 1 - 1/n: only the j = 0 term */
    c.J = n - nxfl - 1;
    c.u = (ld)c.uh + (ld)c.ul;
    c.nl = (ld)n;
    c.Sn = mlops__drift_stirling_rest(c.nl);
    /* The j = 0 term, x T_0 = (1 - d)^n. */
    ld F0 = c.nl * log1pl(-(ld)d);
    ld sum = c.u * d >= 1 ? smirnov_sum_concave(&c, F0) : smirnov_sum_blocks(&c, F0);
    double p = (double)sum;
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* ---- two-sided finite n (kstwo) ------------------------------------------ */

#define TWO128 3.402823669209384634633746e38     /* 2^128 */
#define TWOM128 2.938735877055718769921842e-39   /* 2^-128 */

/* log(n! / n^n) by Stirling's series, n > 140. */
static double log_nfact_over_npown(double n)
{
    double r = 1 / n, r2 = r * r;
    double s = -2.955065359477124183e-2;
    s = s * r2 + 6.4102564102564102564e-3;
    s = s * r2 - 1.9175269175269175269e-3;
    s = s * r2 + 8.4175084175084175084e-4;
    s = s * r2 - 5.952380952380952381e-4;
    s = s * r2 + 7.9365079365079365079e-4;
    s = s * r2 - 2.7777777777777777778e-3;
    s = s * r2 + 8.3333333333333333333e-2;
    return log(n) / 2 - n + log(2 * M_PI) / 2 + r * s;
}

/* c = a b for m x m row-major matrices (c distinct from a and b). */
static void matmul(double *c, const double *a, const double *b, int m)
{
    memset(c, 0, (size_t)m * (size_t)m * sizeof *c);
    for (int i = 0; i < m; i++)
        for (int k = 0; k < m; k++) {
            double aik = a[i * m + k];
            if (aik == 0)
                continue;
            const double *brow = b + k * m;
            double *crow = c + i * m;
            for (int j = 0; j < m; j++)
                crow[j] += aik * brow[j];
        }
}

/* P(D_n <= d) by Durbin's matrix: d = (k - h)/n, H the (2k-1)^2 matrix
 * of Marsaglia-Tsang-Wang, the answer n!/n^n (H^n)_{kk}, with powers of
 * 2^128 carried apart. *oom set if memory runs out. */
static double kolmogn_durbin_cdf(uint64_t n, double d, int *oom)
{
    if (d >= 1)
        return 1;
    double nd = (double)n * d;
    if (nd <= 0.5)
        return 0;
    int k = (int)ceil(nd);
    double h = k - nd;
    int m = 2 * k - 1;
    size_t mm = (size_t)m * (size_t)m;
    double *buf = mlops__malloc((3 * mm + 2 * (size_t)m) * sizeof *buf);
    if (!buf) {
        *oom = 1;
        return NAN;
    }
    double *H = buf, *P = buf + mm, *T = buf + 2 * mm, *v = buf + 3 * mm, *w = v + m;
    double fac = 1;
    for (int j = 1; j <= m; j++) {
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] = (1 - pow(h, j)) * fac;
    }
    double tt = pow(fmax(2 * h - 1, 0), m) - 2 * pow(h, m);
    v[m - 1] = (1 + tt) * fac;
    memset(H, 0, mm * sizeof *H);
    for (int i = 1; i < m; i++)
        for (int r = i - 1; r < m; r++)
            H[r * m + i] = w[r - (i - 1)];
    for (int r = 0; r < m; r++)
        H[r * m] = v[r];
    for (int col = 0; col < m; col++)
        H[(m - 1) * m + col] = v[m - 1 - col];
    memset(P, 0, mm * sizeof *P);
    for (int i = 0; i < m; i++)
        P[i * m + i] = 1;
    long expnt = 0, hexpnt = 0;
    for (uint64_t nn = n; nn > 0; nn /= 2) {
        if (nn % 2) {
            matmul(T, P, H, m);
            memcpy(P, T, mm * sizeof *P);
            expnt += hexpnt;
        }
        if (nn / 2 == 0)
            break; /* the last squaring is never used */
        matmul(T, H, H, m);
        memcpy(H, T, mm * sizeof *H);
        hexpnt *= 2;
        if (fabs(H[(k - 1) * m + (k - 1)]) > TWO128) {
            for (size_t i = 0; i < mm; i++)
                H[i] *= TWOM128;
            hexpnt += 128;
        }
    }
    double p = P[(k - 1) * m + (k - 1)];
    mlops__free(buf);
    for (uint64_t i = 1; i <= n; i++) {
        p = (double)i * p / (double)n;
        if (fabs(p) < TWOM128) {
            p *= TWO128;
            expnt -= 128;
        }
    }
    return expnt ? ldexp(p, (int)expnt) : p;
}

/* Row i's window [j1, j2] of Pomeranz's recursion. */
static void pomeranz_window(int i, int n, int ll, int ceilf, int roundf, int *j1, int *j2)
{
    int a, b;
    if (i == 0) {
        a = -ll - ceilf - 1;
        b = ll + ceilf - 1;
    } else {
        int half = (i + 1) / 2;
        if ((i + 1) % 2 == 0) {
            if (half == n + 1) {
                a = n - ll - ceilf - 1;
                b = n + ll + ceilf - 1;
            } else {
                a = half - 1 - ll - roundf - 1;
                b = half + ll - 1 + ceilf - 1;
            }
        } else {
            a = half - 1 - ll - 1;
            b = half + ll + roundf - 1;
        }
    }
    *j1 = a + 2 > 0 ? a + 2 : 0;
    *j2 = b < n ? b : n;
}

/* P(D_n <= d) by Pomeranz's recursion (n <= 140, 1 < n d < n - 1): rows
 * are convolutions of the previous row with Poisson-like weights; only a
 * window of 2 (floor(n d) + 1) entries is ever non-zero. */
#define POM_MAX 64
static double kolmogn_pomeranz_cdf(int n, double d)
{
    double t = n * d;
    int ll = (int)floor(t);
    double f = t - ll;
    double g = f < 1 - f ? f : 1 - f;
    int ceilf = f > 0, roundf = f > 0.5;
    int np = 2 * (ll + 1);
    if (np > POM_MAX)
        return NAN; /* not reached: n d^2 <= 4 and n <= 140 give ll <= 23 */
    double gp[POM_MAX], tgp[POM_MAX], ogp[POM_MAX];
    gp[0] = tgp[0] = ogp[0] = 1;
    double a = g / n, b = 2 * g / n, cc = (1 - 2 * g) / n;
    for (int m = 1; m < np; m++) {
        gp[m] = gp[m - 1] * a / m;
        tgp[m] = tgp[m - 1] * b / m;
        ogp[m] = ogp[m - 1] * cc / m;
    }
    double rows[2][POM_MAX];
    memset(rows, 0, sizeof rows);
    double *V0 = rows[0], *V1 = rows[1];
    V1[0] = 1;
    int V0s = 0, V1s = 0, j1, j2;
    long expnt = 0;
    pomeranz_window(0, n, ll, ceilf, roundf, &j1, &j2);
    for (int i = 1; i < 2 * n + 2; i++) {
        int k1 = j1;
        double *tmp = V0;
        V0 = V1;
        V1 = tmp;
        int ts = V0s;
        V0s = V1s;
        V1s = ts;
        memset(V1, 0, POM_MAX * sizeof *V1);
        pomeranz_window(i, n, ll, ceilf, roundf, &j1, &j2);
        const double *pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? tgp : ogp);
        int len = j2 - k1 + 1;
        if (len <= 0)
            continue;
        int off = k1 - V0s;
        if (off < 0 || off + len > np)
            return NAN; /* not reached (checked for every n <= 140) */
        /* V1[r] = conv[j1 - k1 + r], conv the full convolution of
         * V0[off .. off+len) with pw[0 .. len). */
        int cs = j1 - k1, cl = j2 - j1 + 1;
        double vmax = 0;
        for (int r = 0; r < cl; r++) {
            int q = cs + r; /* index into the convolution */
            double s = 0;
            int lo = q - (len - 1) > 0 ? q - (len - 1) : 0;
            int hi = q < len - 1 ? q : len - 1;
            for (int e = lo; e <= hi; e++)
                s += V0[off + e] * pw[q - e];
            V1[r] = s;
            if (s > vmax)
                vmax = s;
        }
        if (vmax > 0 && vmax < TWOM128) {
            for (int r = 0; r < cl; r++)
                V1[r] *= TWO128;
            expnt -= 128;
        }
        V1s = V0s + j1 - k1;
    }
    int idx = n - V1s;
    if (idx < 0 || idx >= np)
        return NAN;
    double ans = V1[idx];
    for (int m = 1; m <= n; m++) {
        if (fabs(ans) > TWO128) {
            ans *= TWOM128;
            expnt += 128;
        }
        ans *= m;
    }
    return expnt ? ldexp(ans, (int)expnt) : ans;
}

/* Pelz-Good's expansion of P(D_n <= d) to order n^-3/2 (Li-Chien and
 * Korolyuk's series transformed with Jacobi's theta identity), as scipy
 * evaluates it. */
static double kolmogn_pelzgood_cdf(double n, double d)
{
    if (d <= 0)
        return 0;
    if (d >= 1)
        return 1;
    double z = sqrt(n) * d;
    double z2 = z * z, z3 = pow(z, 3), z4 = pow(z, 4), z6 = pow(z, 6);
    double qlog = -M_PI * M_PI / 8 / z2;
    if (qlog < -708)
        return 0;
    double q = exp(qlog);
    double pi2 = M_PI * M_PI, pi4 = pow(M_PI, 4), pi6 = pow(M_PI, 6);
    double k1a = -z2, k1b = pi2 / 4;
    double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
    double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * pow(z, 8);
    double K[4] = {0, 0, 0, 0};
    int maxk = (int)ceil(16 * z / M_PI);
    for (int k = maxk; k > 0; k--) {
        double m = 2.0 * k - 1, m2 = m * m, m4 = pow(m, 4), m6 = pow(m, 6);
        double qp = pow(q, 8.0 * k);
        double co[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++)
            K[i] = K[i] * qp + co[i];
    }
    double sq2pi = sqrt(2 * M_PI);
    double den[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int i = 0; i < 4; i++)
        K[i] = K[i] * q * sq2pi / den[i];
    q = exp(-pi2 / 2 / z2);
    double s2 = 0, s3 = 0, sqrt3z = sqrt(3.0) * z;
    for (int k = maxk; k > 0; k--) {
        double k2 = (double)k * k, qk = pow(q, k2), kpi = M_PI * k;
        s2 += k2 * qk;
        s3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
    }
    K[2] += s2 * (pi2 * sq2pi / (-36 * z3));
    K[3] += s3 * (pi2 * sq2pi / (216 * z6));
    K[1] /= pow(n, 0.5);
    K[2] /= n;
    K[3] /= pow(n, 1.5);
    return K[0] + K[1] + K[2] + K[3];
}

static double clip01(double p)
{
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* kstwo.sf(d, n); *out NaN and MLOPS_ENOMEM when the Durbin matrix cannot
 * be allocated. */
int mlops__drift_kstwo_sf_scipy(double *out, uint64_t n, double d)
{
    *out = NAN;
    if (isnan(d) || n == 0 || (double)n > MAX_EXACT_N)
        return 0;
    double nd = (double)n;
    /* kstwo's support is [1/(2n), 1]. */
    if (d <= 0.5 / nd) {
        *out = 1.0;
        return 0;
    }
    if (d >= 1) {
        *out = 0.0;
        return 0;
    }
    double t = nd * d, sf;
    if (t <= 1) {
        /* Ruben-Gambino: cdf = n!/n^n (2t - 1)^n for 1/(2n) <= d <= 1/n. */
        double p;
        if (n <= 140) {
            p = 1;
            for (uint64_t i = 1; i <= n; i++)
                p *= (double)i * (1.0 / nd) * (2 * t - 1);
        } else {
            p = exp(log_nfact_over_npown(nd) + nd * log(2 * t - 1));
        }
        sf = 1 - p;
    } else if (t >= nd - 1) {
        sf = 2 * pow(1 - d, nd); /* Ruben-Gambino */
    } else if (d >= 0.5) {
        sf = 2 * mlops_drift_smirnov_sf(n, d); /* exact: D+ and D- cannot both reach d */
    } else {
        double nxsq = t * d;
        if (n > 140 && nxsq >= 370) {
            sf = 0;
        } else if (n <= 140 ? nxsq > 4 : nxsq >= 2.2) {
            sf = 2 * mlops_drift_smirnov_sf(n, d);
        } else {
            double cdf;
            int oom = 0;
            if (n <= 140)
                cdf = nxsq <= 0.754693 ? kolmogn_durbin_cdf(n, d, &oom) : kolmogn_pomeranz_cdf((int)n, d);
            else if (n <= 100000 && nd * pow(d, 1.5) <= 1.4)
                cdf = kolmogn_durbin_cdf(n, d, &oom);
            else
                cdf = kolmogn_pelzgood_cdf(nd, d);
            if (oom)
                return mlops__error_oom();
            sf = 1 - cdf;
        }
    }
    *out = clip01(sf);
    return 0;
}
