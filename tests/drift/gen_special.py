"""Test vectors for tests/test_drift_special.c: the regularized incomplete
gamma functions P(a, x) and Q(a, x), the chi-square survival function and
the normal survival function. Run with Debian's /usr/bin/python3
(python3-scipy, python3-mpmath); writes tests/drift/special.vec.

    /usr/bin/python3 tests/drift/gen_special.py           # special.vec
    /usr/bin/python3 tests/drift/gen_special.py --temme   # the C table of
                                                          # Temme's coefficients

Expected values are the true values, computed with mpmath at 50 digits
(ref_pq below: the positive-term series of P below x = a + 8 sqrt(a) + 10,
Legendre's continued fraction of Q above, both exact in that precision;
checked against mpmath.gammainc wherever that converges). scipy 1.10.1 is
compared with them and is NOT used as the expectation, because it is
inaccurate in places (measured by this script, printed when it runs):
  - far tails (Q or P down to 1e-300): relative errors up to ~1e-12, from
    forming x^a e^-x / Gamma(a) as exp(a ln x - x - lgam(a)) in doubles;
  - a > 200 with x just outside 4.5 sqrt(a) of a (cephes leaves its
    asymptotic expansion there for a power series cut at 2000 terms):
    errors of several percent at a ~ 1e7, e.g. gammainc(1.6e7, a - 4.5
    sqrt(a));
  - a = 5e-324 (subnormal): scipy's P is 0, the truth is 1.
The library must match the true values within 1e-14 relative.
scipy.stats.norm.sf and chi2.sf are checked the same way.
"""
import math
import random
import sys
from fractions import Fraction

import mpmath
import numpy as np
import scipy.special as sc
import scipy.stats as st

from vecgen import Writer

# ---- Temme's coefficients (printed with --temme for lib/drift/special_gamma.c)
#
# DLMF 8.12.3-8.12.8: Q(a, x) = erfc(eta sqrt(a/2)) / 2 + R, with
# eta^2 / 2 = lambda - 1 - ln(lambda), lambda = x / a, sign(eta) =
# sign(lambda - 1), and R ~ exp(-a eta^2 / 2) / sqrt(2 pi a) sum_k c_k(eta)
# a^-k, where c_0 = 1/(lambda - 1) - 1/eta and c_k = (1/eta) c_{k-1}'(eta)
# + (-1)^k g_k / (lambda - 1), g_k being Stirling's coefficients of
# Gamma(a) ~ sqrt(2 pi / a) (a/e)^a sum g_k a^-k. Every c_k is analytic at
# eta = 0; the table holds the Taylor coefficients of c_k in eta, derived
# here in exact rational arithmetic (each step differentiates, divides by
# eta and so drops two orders, hence the extra initial length).

def _ps_mul(p, q, n):
    r = [Fraction(0)] * n
    for i, pi in enumerate(p[:n]):
        if pi:
            for j, qj in enumerate(q[:n - i]):
                r[i + j] += pi * qj
    return r


def _ps_inv(p, n):
    r = [Fraction(0)] * n
    r[0] = 1 / p[0]
    for k in range(1, n):
        r[k] = -sum(p[j] * r[k - j] for j in range(1, min(k, len(p) - 1) + 1)) / p[0]
    return r


def _ps_sqrt1(p, n):
    """sqrt of a series with constant term 1."""
    r = [Fraction(1)] + [Fraction(0)] * (n - 1)
    for k in range(1, n):
        r[k] = (p[k] - sum(r[j] * r[k - j] for j in range(1, k))) / 2
    return r


def _ps_compose(p, q, n):
    """p(q(t)) for q(0) = 0."""
    r = [Fraction(0)] * n
    pw = [Fraction(1)] + [Fraction(0)] * (n - 1)
    for i, pi in enumerate(p):
        if i:
            pw = _ps_mul(pw, q, n)
        if pi:
            r = [r[k] + pi * pw[k] for k in range(n)]
    return r


def _ps_revert(f, n):
    """g with f(g(s)) = s, for f(t) = t + O(t^2)."""
    g = [Fraction(0), Fraction(1)] + [Fraction(0)] * (n - 2)
    for k in range(2, n):
        g[k] -= _ps_compose(f, g, k + 1)[k]
    return g


def _ps_exp0(p, n):
    """exp of a series with p(0) = 0, from r' = p' r."""
    r = [Fraction(1)] + [Fraction(0)] * (n - 1)
    dp = [k * p[k] for k in range(1, n)] + [Fraction(0)]
    for k in range(1, n):
        r[k] = sum(dp[j] * r[k - 1 - j] for j in range(k)) / k
    return r


def _bernoulli(m):
    b = [Fraction(1)] + [Fraction(0)] * m
    for n in range(1, m + 1):
        b[n] = -sum(math.comb(n + 1, k) * b[k] for k in range(n)) / (n + 1)
    return b


def temme_coefficients(K, N):
    """d[k][n], the coefficient of eta^n in c_k(eta), as exact fractions."""
    M = N + 2 * K + 4
    # eta = mu sqrt(2 (mu - ln(1 + mu)) / mu^2), mu = lambda - 1
    h2 = [Fraction(2 * (-1) ** j, j + 2) for j in range(M + 2)]
    eta_of_mu = [Fraction(0)] + _ps_sqrt1(h2, M + 2)[:M + 1]
    mu = _ps_revert(eta_of_mu, M + 2)
    # 1/mu = sum q_i eta^(i-1)
    q = _ps_inv(mu[1:], M + 1)
    bern = _bernoulli(2 * K + 4)
    lng = [Fraction(0)] * (K + 2)
    for j in range(1, K // 2 + 2):
        if 2 * j - 1 < K + 2:
            lng[2 * j - 1] = bern[2 * j] / (2 * j * (2 * j - 1))
    g = _ps_exp0(lng, K + 2)
    c = [q[1:]]
    for k in range(1, K):
        prev = c[-1]
        der = [n * prev[n] for n in range(len(prev))]
        add = [(-1) ** k * g[k] * qi for qi in q]
        # the 1/eta terms cancel: the check that the recurrence is right
        assert der[1] + add[0] == 0
        c.append([der[n + 2] + add[n + 1] for n in range(len(prev) - 2)])
    return [[c[k][n] for n in range(N)] for k in range(K)]


def print_temme(K=14, N=20):
    d = temme_coefficients(K, N)
    print("static const double temme_d[TEMME_K][TEMME_N] = {")
    for k in range(K):
        vals = ["%.17g" % float(x) for x in d[k]]
        lines = []
        for i in range(0, N, 4):
            lines.append("     " + ", ".join(vals[i:i + 4]) + ",")
        print("    {" + "\n".join(lines)[5:].rstrip(",") + "},")
    print("};")


# ---- high-precision references -------------------------------------------------

DPS = 50


def ref_pq(a, x, dps=DPS):
    """(P, Q) to about 45 digits, for finite a > 0, x > 0."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(a)
        x = mpmath.mpf(x)
        logpre = a * mpmath.log(x) - x - mpmath.loggamma(a + 1)
        eps = mpmath.mpf(10) ** (-dps - 5)
        if x < a + 8 * mpmath.sqrt(a) + 10:
            # P = x^a e^-x / Gamma(a+1) sum x^n / ((a+1)...(a+n)); Q >= 1e-15 here
            s = t = mpmath.mpf(1)
            n = 0
            while True:
                n += 1
                t = t * x / (a + n)
                s += t
                if t < eps * s and x < a + n:
                    break
            p = mpmath.exp(logpre) * s
            q = 1 - p
            if q < mpmath.mpf(10) ** (DPS - dps - 10):
                # Q tiny (a -> 0): again with the digits 1 - P loses
                return ref_pq(a, x, DPS + 20 + int(-mpmath.log10(q)) if q > 0 else dps + 400)
            return p, q
        # Q = x^a e^-x / Gamma(a) / (b0 + a1/(b1 + ...)), b_n = x+1-a+2n,
        # a_n = -n(n-a) (Lentz); P >= 1 - 1e-15 here
        b = x + 1 - a
        h = c = b
        d = mpmath.mpf(0)
        n = 0
        while True:
            n += 1
            an = -n * (n - a)
            b += 2
            d = 1 / (b + an * d)
            c = b + an / c
            delta = c * d
            h *= delta
            if abs(delta - 1) < eps:
                break
        q = mpmath.exp(logpre) * a / h
        return 1 - q, q


def check_ref(a, x, p, q):
    """mpmath.gammainc (upper, regularized) as an independent check of Q
    where it converges; P = 1 - Q is then checked where P is not tiny."""
    if a > 2000:
        return
    with mpmath.workdps(DPS):
        try:
            mq = mpmath.gammainc(mpmath.mpf(a), mpmath.mpf(x), regularized=True)
        except (mpmath.libmp.NoConvergence, RecursionError):
            return
        tol = mpmath.mpf(10) ** -30
        assert abs(mq - q) <= tol * abs(q), (a, x, q, mq)
        assert abs((1 - mq) - p) <= tol * max(abs(p), mpmath.mpf(10) ** -15), (a, x, p, 1 - mq)


def true_norm_sf(x):
    with mpmath.workdps(DPS):
        return mpmath.erfc(mpmath.mpf(x) / mpmath.sqrt(2)) / 2


SCIPY_WORST = {}


def scipy_err(what, got, want):
    if want == 0 or not math.isfinite(float(want)) or float(want) < 2.3e-308:
        return
    e = float(abs(mpmath.mpf(got) - want) / want)
    SCIPY_WORST[what] = max(SCIPY_WORST.get(what, 0.0), e)


# ---- point sets --------------------------------------------------------------

def gamma_points(rng):
    sets = {}
    # a grid over the regions and their boundaries (x = 0.5, 1.1, a = 20, 200,
    # |x - a| = 0.3 a)
    avals = [1e-3, 0.01, 0.1, 0.5, 1.0, 1.21, 2.5, 5.0, 9.999, 10.0, 19.5, 20.0, 20.5, 50.0, 150.0, 199.0,
             250.0, 1000.0, 1e4]
    pts = []
    for a in avals:
        for r in (1e-3, 0.1, 0.5, 0.69, 0.71, 0.8, 0.95, 1.0, 1.05, 1.2, 1.29, 1.31, 2.0, 10.0):
            pts.append((a, a * r))
        for x in (1e-5, 0.3, 0.5, 0.51, 1.1, 1.1000000000000001, 1.2, 5.0, 30.0):
            pts.append((a, x))
    sets["grid"] = pts
    # Q far in the tail, x >> a: log Q from -20 to -700
    pts = []
    for a in (0.01, 0.5, 1.0, 2.5, 7.0, 10.0, 40.0, 150.0):
        for lq in (20, 100, 300, 500, 650, 690):
            pts.append((a, lq + a * math.log(lq + a) + 2.0))
    for _ in range(30):
        a = 10 ** rng.uniform(-4, 2.5)
        lq = rng.uniform(1, 700)
        pts.append((a, lq + a * math.log(lq + a) + 1.0))
    sets["q_tail"] = pts
    # P far in the tail, x << a
    pts = []
    for a in (0.5, 3.0, 9.5, 12.0, 30.0, 100.0, 400.0, 3000.0):
        for r in (1e-6, 1e-3, 0.05, 0.2, 0.4):
            pts.append((a, a * r))
    for _ in range(30):
        a = 10 ** rng.uniform(-1, 4)
        pts.append((a, a * 10 ** rng.uniform(-6, -0.2)))
    sets["p_tail"] = pts
    # large a: x within tens of standard deviations of a, including the band
    # just outside 4.5 sqrt(a) where scipy is off
    pts = []
    for a in (1e3, 1e5, 1e6, 1e7, 2e7):
        for k in (-40, -10, -5, -4.6, -4.4, -3, -1, -0.1, 0, 0.1, 1, 3, 4.4, 4.6, 5, 10, 40):
            pts.append((a, a + k * math.sqrt(a)))
    pts += [(1e9, 1e9), (1e9, 1e9 + 3e4), (1e9, 1e9 - 1.5e5), (12345.5, 12000.25)]
    for _ in range(30):
        a = 10 ** rng.uniform(1.3, 7.3)
        pts.append((a, a * (1 + rng.gauss(0, 1) * rng.choice([0.5, 3.0, 10.0, 30.0]) / math.sqrt(a))))
    sets["large_a"] = pts
    # small a and small x: Q ~ a E1(x), the series of Q, lnGamma(1 + a)
    pts = []
    for a in (1e-300, 1e-100, 1e-10, 1e-5, 1e-3, 0.1, 0.19, 0.21, 0.49, 0.51, 0.9, 1.0, 1.19):
        for x in (1e-300, 1e-10, 1e-3, 0.1, 0.3, 0.5, 0.5615, 0.8, 1.0, 1.1, 1.12, 1.5, 2.0, 5.0, 50.0):
            pts.append((a, x))
    sets["small_a"] = pts
    # random, everywhere
    pts = []
    for _ in range(150):
        a = 10 ** rng.uniform(-5, 6)
        u = rng.random()
        if u < 0.4:
            x = a * (1 + rng.gauss(0, 1) * 3 / math.sqrt(a)) if a > 1 else a * 10 ** rng.uniform(-1, 1)
        elif u < 0.7:
            x = a * 10 ** rng.uniform(-3, 3)
        else:
            x = 10 ** rng.uniform(-6, 3)
        if x > 0:
            pts.append((a, x))
    sets["random"] = pts
    return sets


def gamma_case(w, name, pts):
    a_s, x_s, ps, qs = [], [], [], []
    for a, x in pts:
        a = float(a)
        x = float(x)
        if not x > 0:
            continue
        p, q = ref_pq(a, x)
        check_ref(a, x, p, q)
        scipy_err("gammainc " + name, sc.gammainc(a, x), p)
        scipy_err("gammaincc " + name, sc.gammaincc(a, x), q)
        a_s.append(a)
        x_s.append(x)
        ps.append(float(p))
        qs.append(float(q))
    w.case("gamma_" + name, a=a_s, x=x_s, p=ps, q=qs)


def edge_case(w):
    """scipy's values at the edges of the domain (its semantics, not a
    precision question); 5e-324 is left out (scipy's P is wrong there)."""
    inf, nan = math.inf, math.nan
    pts = [(0.0, 1.0), (0.0, 0.0), (0.0, inf), (1.0, 0.0), (1e-300, 0.0), (inf, 1.0), (inf, 0.0), (inf, inf),
           (1.0, inf), (1e300, inf), (-1.0, 1.0), (1.0, -1.0), (-0.0, 1.0), (nan, 1.0), (1.0, nan), (nan, nan),
           (-inf, 1.0), (1.0, -inf)]
    w.case("gamma_edges", a=[p[0] for p in pts], x=[p[1] for p in pts],
           p=[float(sc.gammainc(a, x)) for a, x in pts], q=[float(sc.gammaincc(a, x)) for a, x in pts])


def chi2_case(w, rng):
    xs, ks, sfs = [], [], []
    pts = []
    for k in (1, 2, 3, 4, 5, 10, 30, 100, 1000, 1e5):
        for x in (1e-300, 1e-3, 0.5, k / 2, k, k + 3 * math.sqrt(2 * k), 2 * k + 50, 200, 1400):
            pts.append((x, k))
    for _ in range(60):
        k = float(rng.randint(1, 200))
        pts.append((k * 10 ** rng.uniform(-2, 1) + rng.uniform(0, 1500) * (rng.random() < 0.3), k))
    pts += [(1e3, 0.5), (3000.0, 1000.0), (1450.0, 3.0), (2.5, 1.5)]
    for x, k in pts:
        with mpmath.workdps(DPS):
            _, q = ref_pq(k / 2, x / 2)
        scipy_err("chi2.sf", st.chi2.sf(x, k), q)
        if float(q) == 0.0:
            continue
        xs.append(float(x))
        ks.append(float(k))
        sfs.append(float(q))
    w.case("chi2_sf", x=xs, dof=ks, sf=sfs)
    # scipy's rules outside the support
    inf, nan = math.inf, math.nan
    pts = [(0.0, 3.0), (-1.0, 3.0), (-inf, 2.0), (inf, 2.0), (inf, inf), (1.0, inf), (1.0, 0.0), (1.0, -1.0),
           (0.0, 0.0), (nan, 2.0), (2.0, nan), (1.0, -inf)]
    w.case("chi2_sf_edges", x=[p[0] for p in pts], dof=[p[1] for p in pts],
           sf=[float(st.chi2.sf(x, k)) for x, k in pts])


def norm_case(w):
    xs = [float(v) for v in np.linspace(-40.0, 38.5, 315)]
    xs += [0.0, -0.0, 1e-300, -1e-300, 0.5, 1.0, 1.4142135623730951, 5.0, 8.3, 10.0, 20.0, 27.0, 37.0, 37.5, 38.0,
           38.4, -8.3, -38.0, math.inf, -math.inf, math.nan]
    sfs, scipys = [], []
    for x in xs:
        if math.isnan(x):
            t = math.nan
        else:
            t = float(true_norm_sf(x))
            scipy_err("norm.sf", st.norm.sf(x), true_norm_sf(x))
        sfs.append(t)
        scipys.append(float(st.norm.sf(x)))
    w.case("norm_sf", x=xs, sf=sfs, scipy=scipys)


def main():
    if "--temme" in sys.argv:
        print_temme()
        return
    import os
    rng = random.Random(20240611)
    here = os.path.dirname(os.path.abspath(__file__))
    w = Writer(os.path.join(here, "special.vec"), """
Generated by tests/drift/gen_special.py (mpmath 50-digit true values; see
the script for where scipy 1.10.1 deviates and why it is not the reference).
Do not edit.
""")
    for name, pts in gamma_points(rng).items():
        gamma_case(w, name, pts)
    edge_case(w)
    chi2_case(w, rng)
    norm_case(w)
    w.close()
    for k, v in sorted(SCIPY_WORST.items()):
        print("scipy worst relative error, %-24s %.2e" % (k, v))


if __name__ == "__main__":
    main()
