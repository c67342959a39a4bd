#!/usr/bin/python3
"""Reference values for tests/test_drift_ranks.c: Mann-Whitney U, Anderson-
Darling k-sample and Cramer-von Mises two-sample, from scipy 1.10.1
(Debian's python3-scipy), exact rational arithmetic and mpmath.

Run from anywhere with Debian's /usr/bin/python3 (takes a few minutes);
writes tests/drift/ranks.vec next to this script.

Where the expected value does not come straight from scipy, the script
says why and checks scipy against it wherever scipy can be trusted:
 - Mann-Whitney exact p-values are exact rationals (the Gaussian binomial
   coefficients in Python integers), checked against scipy's _MWU where
   scipy can run (it needs (m+1)(n+1)(mn/2) floats); scipy agrees to
   ~1e-15.
 - Anderson-Darling statistics are recomputed with mpmath from integer
   counts (scipy's cumsum-based harmonic sums and float sums agree to
   ~1e-14 except where A2akN - (k - 1) cancels, as in ad_tie_cancel), the
   p-value from an mpmath least-squares fit through scipy's critical values.
 - Cramer-von Mises statistics are exact rationals: scipy's float T loses
   ~log10(N) digits to the cancellation in U/(mnN) - (4mn-1)/(6N) (1e-11
   relative at 10^5 values per sample). Asymptotic p-values are mpmath's
   1 - V(tn) at enough digits for the tail: scipy stops its series for
   V at terms below 1e-7 and subtracts from 1, so below p ~ 1e-5 scipy is
   off by more than 1e-10 relative, and for large tn its p-value levels
   off around 1e-8 instead of vanishing (cases that differ record scipy's
   value in scipy_pvalue; the script checks scipy wherever p > 1e-5).

Samples holding +-Inf: scipy 1.10 returns NaN for them (its NaN check
sums the data, and -Inf + Inf is NaN); these rank tests only see ranks, so
the references replace +-Inf by +-1e300 (same ranks) and give the value
scipy returns for that data. NaN values: the reference is scipy on the data
without NaN (nan_policy='omit'), with the counts dropped.
"""
import math
import os
import sys
import warnings
from fractions import Fraction

import mpmath as mp
import numpy as np
from scipy import stats
from scipy.stats._hypotests import _pval_cvm_2samp_exact

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vecgen import Gen, Writer  # noqa: E402

warnings.simplefilter("ignore")
rng = np.random.default_rng(20240606)


def values(v):
    return np.array(v.values() if isinstance(v, Gen) else v, dtype=float)


def clean(x):
    x = np.asarray(x, dtype=float)
    return x[~np.isnan(x)]


def proxy(x):
    """Same ranks, no infinities (see the module comment)."""
    x = np.array(x, dtype=float)
    fin = x[np.isfinite(x)]
    assert fin.size == 0 or np.max(np.abs(fin)) < 1e300
    x[x == np.inf] = 1e300
    x[x == -np.inf] = -1e300
    return x


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-300)


def as_field(v):
    """Small arrays inline, Gen arrays as they are."""
    return v if isinstance(v, Gen) else [float(t) for t in v]


# ---- Mann-Whitney -------------------------------------------------------

def gauss_binom(m, n, K):
    """Coefficients 0..K of the Gaussian binomial [m+n choose m]_q: the
    number of (x, y) orderings with U = k, in exact integers, from the
    q-binomial product formula."""
    c = [0] * (K + 1)
    c[0] = 1
    s, b = min(m, n), max(m, n)
    for i in range(1, s + 1):
        sh = b + i
        for k in range(K, sh - 1, -1):
            c[k] -= c[k - sh]
        for k in range(i, K + 1):
            c[k] += c[k - i]
    return c


def mwu_exact_cdf(K, m, n):
    """P(U <= K) as a Fraction."""
    mn = m * n
    if K >= mn:
        return Fraction(1)
    Kc = mn - K - 1
    if Kc < K:
        return 1 - mwu_exact_cdf(Kc, m, n)
    c = gauss_binom(m, n, K)
    return Fraction(sum(c), math.comb(m + n, m))


def twice_u1(x, y):
    ys = np.sort(y)
    lo = np.searchsorted(ys, x, "left")
    hi = np.searchsorted(ys, x, "right")
    return int(np.sum(2 * lo.astype(np.int64) + (hi - lo)))


def mwu_feasible(m, n):
    length = (m * n) // 2 + 1
    return min(m, n) <= 200 and length <= 2**24 and min(m, n) * length <= 2**30


def mwu_case(w, name, a, b, alternative="two-sided", continuity=1, method="auto", check_scipy=True):
    va, vb = values(a), values(b)
    x, y = proxy(clean(va)), proxy(clean(vb))
    n1, n2 = len(x), len(y)
    t2 = twice_u1(x, y)
    ties = len(np.unique(np.concatenate([x, y]))) < n1 + n2
    used = method
    if used == "auto":
        used = "asymptotic" if (n1 > 8 and n2 > 8) or ties else "exact"
    if used == "exact" and not mwu_feasible(n1, n2):
        used = "asymptotic"  # our documented fallback (scipy has none)
    stat = t2 / 2
    if used == "exact":
        t2u = {"greater": t2, "less": 2 * n1 * n2 - t2}.get(alternative, max(t2, 2 * n1 * n2 - t2))
        f = 1 if alternative in ("greater", "less") else 2
        p = float(min(Fraction(1), f * mwu_exact_cdf(n1 * n2 - t2u // 2, n1, n2)))
        if check_scipy:
            r = stats.mannwhitneyu(x, y, use_continuity=bool(continuity), alternative=alternative, method="exact")
            assert r.statistic == stat, (name, r.statistic, stat)
            assert rel(r.pvalue, p) < 1e-12, (name, r.pvalue, p)
    else:
        r = stats.mannwhitneyu(x, y, use_continuity=bool(continuity), alternative=alternative, method="asymptotic")
        assert r.statistic == stat, (name, r.statistic, stat)
        p = r.pvalue
    w.case("mwu_" + name, test="mwu", a=as_field(a), b=as_field(b), alternative=alternative,
           continuity=continuity, method=method, statistic=stat, pvalue=p, method_used=used,
           nan1=len(va) - n1, nan2=len(vb) - n2)


def mwu_cases(w):
    alts = ("two-sided", "less", "greater")
    # the docstring's example
    mwu_case(w, "doc_exact", [19, 22, 16, 29, 24], [20, 11, 17, 12], method="exact")
    mwu_case(w, "doc_asym", [19, 22, 16, 29, 24], [20, 11, 17, 12], method="asymptotic")
    mwu_case(w, "doc_asym_nocont", [19, 22, 16, 29, 24], [20, 11, 17, 12], continuity=0, method="asymptotic")
    # random, auto -> exact (a sample of at most 8, no ties), every alternative
    for i in range(12):
        m = int(rng.integers(1, 9))
        n = int(rng.integers(1, 40))
        x, y = rng.normal(size=m), rng.normal(0.5, 1.5, size=n)
        if i % 2:
            x, y = y, x
        mwu_case(w, "rand_exact_%d" % i, x, y, alternative=alts[i % 3])
    # random, auto -> asymptotic (both above 8), with and without continuity
    for i in range(9):
        m, n = int(rng.integers(9, 60)), int(rng.integers(9, 80))
        mwu_case(w, "rand_asym_%d" % i, rng.normal(size=m), rng.normal(0.3, 1, size=n), alternative=alts[i % 3],
                 continuity=i % 2)
    # auto's boundary: exact with a sample of 8, asymptotic with both of 9
    mwu_case(w, "auto_8_60", rng.normal(size=8), rng.normal(size=60))
    mwu_case(w, "auto_60_8", rng.normal(size=60), rng.normal(size=8), alternative="less")
    mwu_case(w, "auto_9_9", rng.normal(size=9), rng.normal(size=9))
    mwu_case(w, "auto_9_40", rng.normal(size=9), rng.normal(size=40), alternative="greater")
    # ties: auto goes asymptotic even for tiny samples; exact ignores ties
    # and truncates a half-integer U as scipy's U.astype(int)
    for i in range(6):
        m, n = int(rng.integers(1, 9)), int(rng.integers(2, 15))
        x, y = rng.integers(0, 4, size=m).astype(float), rng.integers(0, 4, size=n).astype(float)
        mwu_case(w, "ties_auto_%d" % i, x, y, alternative=alts[i % 3])
        mwu_case(w, "ties_exact_%d" % i, x, y, alternative=alts[i % 3], method="exact")
    mwu_case(w, "ties_within_one_sample", [1, 1, 2], [3, 4, 5, 6])
    # sizes 1 and 2
    for (a, b) in (([1.0], [2.0]), ([2.0], [1.0]), ([1.0], [2.0, 3.0]), ([2.5], [2.0, 3.0]), ([1.0, 2.0], [3.0, 4.0]),
                   ([1.0, 4.0], [2.0, 3.0])):
        for alt in alts:
            for meth in ("auto", "asymptotic"):
                mwu_case(w, "small_%s_%s_%s_%s" % (len(a), len(b), alt, meth), a, b, alternative=alt, method=meth)
    # identical samples, all values equal (zero variance: p 1 with the
    # continuity correction, NaN (0/0) without, as scipy)
    same = rng.normal(size=20)
    mwu_case(w, "identical", same, same)
    mwu_case(w, "identical_exact", same[:6], same[:6], method="exact")
    mwu_case(w, "all_equal", [3.0] * 5, [3.0] * 7)
    mwu_case(w, "all_equal_nocont", [3.0] * 5, [3.0] * 7, continuity=0)
    mwu_case(w, "all_equal_1_1", [3.0], [3.0])
    # unequal sizes, far apart: the smallest exact p-values
    mwu_case(w, "exact_8_300_apart", np.arange(8) + 1000.0, rng.normal(size=300))
    mwu_case(w, "exact_8_300_less", np.arange(8) - 1000.0, rng.normal(size=300), alternative="less")
    mwu_case(w, "exact_8_300_greater", np.arange(8) - 1000.0, rng.normal(size=300), alternative="greater")
    mwu_case(w, "exact_8_300", rng.normal(size=8), rng.normal(size=300))
    mwu_case(w, "exact_50_50", rng.normal(size=50), rng.normal(0.4, 1, size=50), method="exact")
    mwu_case(w, "exact_50_50_apart", rng.normal(size=50), rng.normal(size=50) + 8, method="exact")
    mwu_case(w, "exact_30_100_less", rng.normal(size=30), rng.normal(0.2, 1, size=100), method="exact",
             alternative="less")
    # large exact (scipy would need hours: exact rationals only)
    mwu_case(w, "exact_8_1e5", Gen("uniform", 11, 8, 0.0, 1.0), Gen("uniform", 12, 100000, 0.02, 1.02),
             check_scipy=False)
    mwu_case(w, "exact_3_1e5_apart", Gen("uniform", 13, 3, -2.0, -1.0), Gen("uniform", 14, 100000, 0.0, 1.0),
             alternative="less", check_scipy=False)
    mwu_case(w, "exact_200_200", Gen("normal", 15, 200, 0.0, 1.0), Gen("normal", 16, 200, 0.25, 1.0),
             method="exact", check_scipy=False)
    # the worst case of the exact counting's cancellation (mannwhitney.c)
    mwu_case(w, "exact_200_400", Gen("normal", 31, 200, 0.0, 1.0), Gen("normal", 32, 400, 0.05, 1.0),
             method="exact", alternative="less", check_scipy=False)
    mwu_case(w, "exact_200_400_mid", Gen("normal", 33, 200, 0.0, 1.0), Gen("normal", 34, 400, 0.0, 1.0),
             method="exact", check_scipy=False)
    mwu_case(w, "exact_120_150_apart", Gen("normal", 17, 120, 0.0, 1.0), Gen("normal", 18, 150, 3.0, 1.0),
             method="exact", alternative="greater", check_scipy=False)
    # too large for the exact counting: the normal approximation instead
    mwu_case(w, "exact_fallback", Gen("normal", 19, 10000, 0.0, 1.0), Gen("normal", 20, 9000, 0.02, 1.0),
             method="exact")
    mwu_case(w, "exact_fallback_201", Gen("normal", 35, 201, 0.0, 1.0), Gen("normal", 36, 201, 0.1, 1.0),
             method="exact")
    mwu_case(w, "exact_fallback_work", Gen("uniform", 37, 9, 0.0, 1.0), Gen("uniform", 38, 4000000, 0.01, 1.01),
             method="exact", check_scipy=False)
    # far tails of the normal approximation, down to underflow
    for n in (900, 930, 950, 1000):
        mwu_case(w, "asym_tail_%d" % n, Gen("uniform", 21, n, 0.0, 1.0), Gen("uniform", 22, n, 2.0, 3.0))
    mwu_case(w, "asym_tail_greater", Gen("uniform", 23, 930, 2.0, 3.0), Gen("uniform", 24, 940, 0.0, 1.0),
             alternative="greater")
    # a million values: continuous, and integers (massive ties)
    mwu_case(w, "million", Gen("normal", 25, 1000000, 0.0, 1.0), Gen("normal", 26, 1000000, 0.002, 1.0))
    mwu_case(w, "million_ties", Gen("int", 27, 1000000, 0, 50), Gen("int", 28, 1000000, 0, 50),
             alternative="less")
    mwu_case(w, "million_vs_5", Gen("normal", 29, 1000000, 0.0, 1.0), Gen("normal", 30, 5, 0.5, 1.0),
             check_scipy=False)
    # infinities are ordinary values; NaN dropped and counted
    mwu_case(w, "inf", [-np.inf, 1.0, np.inf, 2.0], [np.inf, 0.0, -np.inf])
    mwu_case(w, "inf_exact", [-np.inf, 1.0, 3.0], [0.5, np.inf, 2.0, 5.0, 6.0])
    mwu_case(w, "nan", [np.nan, 1.0, 5.0, np.nan, 3.0], [2.0, np.nan, 4.0, 6.0, 7.0])
    mwu_case(w, "nan_asym", list(rng.normal(size=15)) + [np.nan] * 3, list(rng.normal(size=12)) + [np.nan],
             alternative="greater")
    # bad input
    w.case("mwu_err_all_nan", test="mwu", a=[np.nan, np.nan], b=[1.0, 2.0], alternative="two-sided", continuity=1,
           method="auto", error="einvalid")
    w.case("mwu_err_empty", test="mwu", a=[1.0], b=[], alternative="two-sided", continuity=1, method="auto",
           error="einvalid")


# ---- Anderson-Darling ----------------------------------------------------

def ad_reference(samples):
    """(A2, p) with mpmath from integer counts: eq. 7 of Scholz and
    Stephens, their variance, and an mpmath least-squares p-value through
    scipy's critical values (which the test compares separately)."""
    with mp.workdps(40):
        k = len(samples)
        z = np.sort(np.concatenate(samples))
        N = len(z)
        zstar, lj = np.unique(z, return_counts=True)
        below = np.searchsorted(z, zstar, "left")
        tot = mp.mpf(0)
        for s in samples:
            ss = np.sort(s)
            le = np.searchsorted(ss, zstar, "right")
            lt = np.searchsorted(ss, zstar, "left")
            n_i = len(s)
            part = mp.mpf(0)
            for j in range(len(zstar)):
                l = int(lj[j])
                B = mp.mpf(2 * int(below[j]) + l) / 2
                M = mp.mpf(int(le[j]) + int(lt[j])) / 2
                part += mp.mpf(l) / N * (N * M - B * n_i) ** 2 / (B * (N - B) - mp.mpf(N * l) / 4)
            tot += part / n_i
        A2kN = tot * (N - 1) / N
        H = sum(mp.mpf(1) / len(s) for s in samples)
        hs = mp.mpf(0)
        g = mp.mpf(0)
        for t in range(N - 2):
            hs += mp.mpf(1) / (N - 1 - t)
            g += hs / (t + 2)
        h = hs + 1
        a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
        b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
        c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
        d = (2 * h + 6) * k**2 - 4 * h * k
        sigmasq = (a * N**3 + b * N**2 + c * N + d) / ((N - 1) * (N - 2) * (N - 3))
        A2 = (A2kN - (k - 1)) / mp.sqrt(sigmasq)
        return A2


def ad_pvalue(A2, crit):
    sig = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001]
    if A2 < min(crit):
        return 0.25
    if A2 > max(crit):
        return 0.001
    with mp.workdps(50):
        X = mp.matrix([[mp.mpf(c) ** 2, mp.mpf(c), 1] for c in crit])
        Y = mp.matrix([mp.log(mp.mpf(s)) for s in sig])
        coef = mp.lu_solve(X.T * X, X.T * Y)
        return float(mp.exp((coef[0] * A2 + coef[1]) * A2 + coef[2]))


def ad_case(w, name, samples, note_tol=None):
    vals = [values(s) for s in samples]
    cl = [proxy(clean(v)) for v in vals]
    r = stats.anderson_ksamp(cl)
    A2 = ad_reference(cl)
    crit = [float(c) for c in r.critical_values]
    p = ad_pvalue(A2, crit)
    A2f = float(A2)
    tol = 1e-12 if note_tol is None else note_tol
    assert rel(r.statistic, A2f) < tol, (name, r.statistic, A2f)
    assert rel(r.pvalue, p) < 1e-10, (name, r.pvalue, p)
    fields = dict(test="anderson", k=len(samples))
    for i, s in enumerate(samples):
        fields["s%d" % i] = as_field(s)
    fields.update(statistic=A2f, pvalue=p, critical=crit, nan_total=sum(len(v) - len(c) for v, c in zip(vals, cl)))
    if note_tol is not None:
        fields["scipy_statistic"] = float(r.statistic)
    w.case("ad_" + name, **fields)


def ad_nan_case(w, name, samples):
    """N = 3: scipy's variance divides by (N-1)(N-2)(N-3) = 0 -> NaN."""
    r = stats.anderson_ksamp([clean(values(s)) for s in samples])
    assert math.isnan(r.statistic) and math.isnan(r.pvalue)
    fields = dict(test="anderson", k=len(samples))
    for i, s in enumerate(samples):
        fields["s%d" % i] = as_field(s)
    fields.update(statistic=r.statistic, pvalue=r.pvalue, critical=[float(c) for c in r.critical_values],
                  nan_total=0)
    w.case("ad_" + name, **fields)


def ad_err_case(w, name, samples):
    fields = dict(test="anderson", k=len(samples), error="einvalid")
    for i, s in enumerate(samples):
        fields["s%d" % i] = as_field(s)
    try:
        stats.anderson_ksamp([clean(values(s)) for s in samples])
        raise AssertionError("scipy accepted " + name)
    except (ValueError, IndexError):
        pass
    w.case("ad_" + name, **fields)


def ad_cases(w):
    ad_case(w, "doc_like", [[1, 2, 3, 4.0], [5, 6, 7, 8.0]])
    for k in (2, 3, 4, 5):
        for i in range(4):
            sizes = rng.integers(5, 60, size=k)
            shift = [0.0] * k
            shift[0] = (0.0, 0.3, 0.8, 2.0)[i]
            ad_case(w, "rand_k%d_%d" % (k, i), [rng.normal(shift[j], 1, size=int(sizes[j])) for j in range(k)])
        sizes = rng.integers(3, 40, size=k)
        ad_case(w, "ties_k%d" % k, [rng.integers(0, 6, size=int(sz)).astype(float) for sz in sizes])
    # p-values across the interpolated range and at both caps
    for i, sh in enumerate((0.45, 0.55, 0.65, 0.75, 1.0)):
        ad_case(w, "range_%d" % i, [rng.normal(0, 1, 40), rng.normal(sh, 1, 40)])
    ad_case(w, "capped_low", [rng.normal(0, 1, 50), rng.normal(5, 1, 50)])
    ad_case(w, "identical", [np.arange(10.0), np.arange(10.0)])
    # small samples: sizes 1 and 2 (N >= 4), N = 3 (NaN, as scipy), N = 2
    # (scipy raises), all equal (scipy raises)
    ad_case(w, "size_1_3", [[1.0], [2.0, 3.0, 4.0]])
    ad_case(w, "size_2_2", [[1.0, 3.0], [2.0, 4.0]])
    ad_case(w, "size_1_1_2", [[5.0], [1.0], [2.0, 3.0]])
    ad_case(w, "size_2_2_apart", [[1.0, 2.0], [3.0, 4.0]])
    ad_case(w, "ties_3_1", [[1.0, 1.0, 1.0], [2.0]])
    # A2akN - (k-1) cancels to -1.5 here: scipy gets -1.499999999999943,
    # 4e-14 off; the exact value is the reference
    ad_case(w, "tie_cancel", [[1.0, 1.0, 2.0], [1.0]], note_tol=1e-13)
    ad_nan_case(w, "n3_k2", [[1.0], [2.0, 3.0]])
    ad_nan_case(w, "n3_k3", [[1.0], [2.0], [3.0]])
    ad_err_case(w, "err_n2", [[1.0], [2.0]])
    ad_err_case(w, "err_all_equal", [[1.0, 1.0], [1.0]])
    ad_err_case(w, "err_empty", [[1.0, 2.0], []])
    ad_err_case(w, "err_all_nan", [[1.0, 2.0], [np.nan]])
    # infinities, NaN
    ad_case(w, "inf", [[-np.inf, 1.0, 5.0], [2.0, np.inf, 3.0, -np.inf]])
    ad_case(w, "nan", [[np.nan, 1.0, 5.0, 2.5], [2.0, np.nan, 3.0, 4.0], [0.5, 7.0, np.nan]])
    # larger samples, Gen arrays
    ad_case(w, "large_k3", [Gen("normal", 40, 30000, 0.0, 1.0), Gen("normal", 41, 20000, 0.01, 1.0),
                            Gen("normal", 42, 25000, 0.0, 1.02)])
    ad_case(w, "large_ties_k4", [Gen("int", 43, 50000, 0, 20), Gen("int", 44, 40000, 0, 20),
                                 Gen("int", 45, 30000, 0, 20), Gen("int", 46, 20000, 0, 19)])
    ad_case(w, "large_k2_apart", [Gen("normal", 47, 20000, 0.0, 1.0), Gen("normal", 48, 20000, 0.2, 1.0)])


# ---- Cramer-von Mises ----------------------------------------------------

def cvm_u4(x, y):
    """4U as an exact integer: 4 U = nx sum (2 (rx - i))^2 + ny sum ..."""
    nx, ny = len(x), len(y)
    r = stats.rankdata(np.concatenate([np.sort(x), np.sort(y)]))
    ex = np.rint(2 * (r[:nx] - np.arange(1, nx + 1))).astype(np.int64)
    ey = np.rint(2 * (r[nx:] - np.arange(1, ny + 1))).astype(np.int64)
    assert np.all(np.abs(ex) < 2**31) and np.all(np.abs(ey) < 2**31)
    sx = sum(int(v) * int(v) for v in ex)
    sy = sum(int(v) * int(v) for v in ey)
    return nx * sx + ny * sy


def cvm_sf_mp(x):
    """1 - V(x), V the limiting cdf (Csorgo and Faraway 1996, eq. 1.2, the
    series scipy uses), summed to convergence at enough digits that the
    subtraction keeps 25 of them."""
    x = mp.mpf(x)
    dps = 30 + int(float(x) * math.pi**2 / 2 / math.log(10))
    with mp.workdps(dps):
        tot = mp.mpf(0)
        k = 0
        c = 1 / (mp.pi**1.5 * mp.sqrt(x))
        while True:
            y = 4 * k + 1
            q = mp.mpf(y) ** 2 / (16 * x)
            t = mp.exp(mp.loggamma(k + mp.mpf(1) / 2) - mp.loggamma(k + 1)) * c * mp.sqrt(y) * mp.exp(-q) \
                * mp.besselk(mp.mpf(1) / 4, q)
            tot += t
            k += 1
            if t < mp.mpf(10) ** (-dps - 3):
                break
        return 1 - tot


def cvm_feasible_hint(m, n):
    g = math.gcd(m, n)
    lcm = m * n // g
    return lcm * lcm * (m + n + 1) < 2**53


def cvm_case(w, name, a, b, method="auto", expect_method=None):
    va, vb = values(a), values(b)
    x, y = proxy(clean(va)), proxy(clean(vb))
    nx, ny = len(x), len(y)
    u4 = cvm_u4(x, y)
    k, N = nx * ny, nx + ny
    t = Fraction(6 * u4 - 4 * k * (4 * k - 1), 24 * k * N)
    used = method if method != "auto" else ("asymptotic" if max(nx, ny) > 20 else "exact")
    if expect_method is not None:
        used = expect_method
    scipy_p = None
    if used == "exact":
        r = stats.cramervonmises_2samp(x, y, method="exact")
        p = r.pvalue
        # scipy's own statistic is the float formula: exact at these sizes
        assert rel(r.statistic, float(t)) < 1e-12, (name, r.statistic, float(t))
    else:
        et = (1 + Fraction(1, N)) / 6
        vt = Fraction((N + 1) * (4 * k * N - 3 * (nx**2 + ny**2) - 2 * k), 45 * N**2 * 4 * k)
        with mp.workdps(60):
            d, v = t - et, 45 * vt
            tn = mp.mpf(1) / 6 + mp.mpf(d.numerator) / d.denominator / mp.sqrt(mp.mpf(v.numerator) / v.denominator)
        p = 1.0 if tn < 0.003 else float(cvm_sf_mp(tn))
        r = stats.cramervonmises_2samp(x, y, method="asymptotic")
        scipy_p = r.pvalue
        assert rel(r.statistic, float(t)) < 1e-9, (name, r.statistic, float(t))
        if p > 1e-5:
            assert rel(scipy_p, p) < 1e-10, (name, scipy_p, p)
    fields = dict(test="cvm", a=as_field(a), b=as_field(b), method=method, statistic=float(t), pvalue=p,
                  method_used=used, nan1=len(va) - nx, nan2=len(vb) - ny)
    if scipy_p is not None and rel(scipy_p, p) >= 1e-10:
        fields["scipy_pvalue"] = scipy_p  # documented deviation (module comment)
    if used == "asymptotic" and rel(r.statistic, float(t)) >= 1e-12:
        fields["scipy_statistic"] = float(r.statistic)
    w.case("cvm_" + name, **fields)


def cvm_cases(w):
    # the docstring's shapes: exact and asymptotic on the same small data
    x, y = rng.normal(size=7), rng.standard_t(2, size=6)
    cvm_case(w, "doc_exact", x, y, method="exact")
    cvm_case(w, "doc_asym", x, y, method="asymptotic")
    for i in range(12):
        m, n = int(rng.integers(2, 21)), int(rng.integers(2, 21))
        cvm_case(w, "rand_exact_%d" % i, rng.normal(size=m), rng.normal((0, 0.5, 1.5)[i % 3], 1, size=n))
    for i in range(6):
        m, n = int(rng.integers(2, 21)), int(rng.integers(2, 21))
        cvm_case(w, "ties_exact_%d" % i, rng.integers(0, 5, size=m).astype(float),
                 rng.integers(0, 5, size=n).astype(float))
    for i in range(8):
        m, n = int(rng.integers(21, 300)), int(rng.integers(5, 300))
        cvm_case(w, "rand_asym_%d" % i, rng.normal(size=m), rng.normal((0, 0.2, 0.5, 1.0)[i % 4], 1, size=n))
    cvm_case(w, "ties_asym", rng.integers(0, 7, size=80).astype(float), rng.integers(0, 7, size=60).astype(float))
    # auto's boundary: exact up to 20 values in both samples
    cvm_case(w, "auto_20_20", rng.normal(size=20), rng.normal(0.3, 1, size=20))
    cvm_case(w, "auto_21_20", rng.normal(size=21), rng.normal(0.3, 1, size=20))
    cvm_case(w, "auto_3_21", rng.normal(size=3), rng.normal(0.3, 1, size=21))
    # sizes 2; identical; separated (the smallest exact p-value 2/binom(40,20))
    cvm_case(w, "size_2_2", [1.0, 2.0], [3.0, 4.0])
    cvm_case(w, "size_2_2_asym", [1.0, 2.0], [3.0, 4.0], method="asymptotic")
    cvm_case(w, "size_2_3", [1.0, 5.0], [3.0, 4.0, 2.0])
    cvm_case(w, "size_2_20", [1.5, 9.5], list(np.arange(20.0)))
    same = rng.normal(size=15)
    cvm_case(w, "identical", same, same)
    cvm_case(w, "identical_asym", same, same, method="asymptotic")
    cvm_case(w, "all_equal", [2.0] * 4, [2.0] * 6)
    cvm_case(w, "apart_20_20", np.arange(20.0), np.arange(20.0) + 100)
    cvm_case(w, "apart_20_19", np.arange(20.0), np.arange(19.0) + 100)
    # exact beyond auto's 20, as scipy computes it when asked
    cvm_case(w, "exact_25_30", rng.normal(size=25), rng.normal(0.4, 1, size=30), method="exact")
    cvm_case(w, "exact_30_31_tail", rng.normal(size=30), rng.normal(1.2, 1, size=31), method="exact")
    cvm_case(w, "exact_30_30_ties", rng.integers(0, 9, size=30).astype(float),
             rng.integers(0, 9, size=30).astype(float), method="exact")
    # exact refused up front (lcm^2 (m+n+1) >= 2^53): asymptotic instead
    assert not cvm_feasible_hint(10007, 10009)
    cvm_case(w, "exact_fallback", Gen("normal", 50, 10007, 0.0, 1.0), Gen("normal", 51, 10009, 0.01, 1.0),
             method="exact", expect_method="asymptotic")
    # asymptotic tails: scipy is inaccurate from ~1e-5 down, 0 below ~1e-16
    for i, sh in enumerate((0.5, 0.8, 1.1, 1.5, 2.5)):
        cvm_case(w, "asym_tail_%d" % i, Gen("normal", 52 + i, 200, 0.0, 1.0), Gen("normal", 60 + i, 180, sh, 1.0))
    # separated samples of n values each: tn ~ n/6, p ~ exp(-tn pi^2/2),
    # down to and beyond the underflow of the p-value
    for n in (600, 780, 840, 880, 900):
        cvm_case(w, "asym_apart_%d" % n, Gen("uniform", 70, n, 0.0, 1.0), Gen("uniform", 71, n, 2.0, 3.0))
    # large samples: scipy's T is ~1e-11 off here (cancellation)
    cvm_case(w, "large", Gen("normal", 80, 100000, 0.0, 1.0), Gen("normal", 81, 100000, 0.005, 1.0))
    cvm_case(w, "large_ties", Gen("int", 82, 100000, 0, 30), Gen("int", 83, 90000, 0, 30))
    # infinities, NaN
    cvm_case(w, "inf", [-np.inf, 0.0, 2.0], [1.0, np.inf, 3.0])
    cvm_case(w, "inf_asym", list(rng.normal(size=25)) + [np.inf, -np.inf], list(rng.normal(size=22)) + [np.inf])
    cvm_case(w, "nan", [np.nan, 1.0, 5.0, 2.0], [2.5, np.nan, 4.0, 0.0, np.nan])
    # bad input: fewer than two values in a sample (scipy raises)
    for nm, a, b in (("err_size_1", [1.0], [2.0, 3.0]), ("err_size_1_after_nan", [1.0, 2.0], [np.nan, 3.0]),
                     ("err_empty", [], [1.0, 2.0])):
        try:
            stats.cramervonmises_2samp(clean(a), clean(b))
            raise AssertionError("scipy accepted " + nm)
        except ValueError:
            pass
        w.case("cvm_" + nm, test="cvm", a=a, b=b, method="auto", error="einvalid")


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ranks.vec")
    w = Writer(out, __doc__.split("\n\n")[0] + "\nGenerated by tests/drift/gen_ranks.py; do not edit.")
    mwu_cases(w)
    ad_cases(w)
    cvm_cases(w)
    w.close()


if __name__ == "__main__":
    main()
