"""Test vectors for tests/test_drift_ks.c: the Kolmogorov-Smirnov test
(scipy.stats.ks_2samp), its exact null distribution and the Kolmogorov /
Smirnov special functions. Run with Debian's /usr/bin/python3
(python3-scipy, python3-numpy, python3-mpmath); writes tests/drift/ks.vec.
Takes a few minutes (mpmath sums of 10^6 terms, scipy on 10^6 values).

    /usr/bin/python3 tests/drift/gen_ks.py

Where the expected values come from, and where scipy 1.10.1 is NOT the
reference (measured by this script, printed when it runs):
  - scipy.special.kolmogorov: mpmath's 50-digit sums of the two theta
    series (scipy is within ~1e-14 of them).
  - scipy.special.smirnov: scipy for n <= 10^6, where it sums the exact
    Birnbaum-Tingey series in double-double (checked against mpmath on a
    sample); mpmath's exact sum above, because for n > 10^6 scipy switches
    to exp(-(6nd+1)^2/(18n)), off by 1e-8 .. 4e-2 relative at n = 10^6+1
    (the library stays exact for every n).
  - scipy.stats.kstwo.sf: scipy (its Simard-L'Ecuyer rule is the
    definition here), except for n > 10^6 in its 2 * smirnov branch,
    where the reference is 2 * the exact smirnov for the reason above.
  - the exact two-sample distribution (_attempt_exact_2kssamp): scipy,
    except one-sided with unequal sizes and the larger one above 10^4,
    where scipy's path counts lose up to ~2e-9 relative (binomials through
    lgamma, then subtracted): the reference there is the exact rational
    probability (Python integers). Whether scipy succeeds or falls back is
    always scipy's.
  - ks_2samp: scipy on the NaN-free samples (scipy 1.10 has no
    nan_policy), including which method it ended with (a RuntimeWarning
    tells when exact fell back to asymp); same exception as above for its
    one-sided exact p-value with a sample above 10^4.
"""
import functools
import math
import sys
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import scipy
import scipy.special as sc
import scipy.stats as st
from scipy.stats._stats_py import _attempt_exact_2kssamp

from vecgen import Gen, Writer, generate

assert scipy.__version__ == "1.10.1", scipy.__version__
mpmath.mp.dps = 50
MASK = (1 << 64) - 1


def short(x):
    """A double as the shortest text strtod reads back exactly: integers in
    decimal, others as Python's repr (shortest round trip)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 2 ** 53:
        return "%d" % int(x) if x != 0 or math.copysign(1, x) > 0 else "-0.0"
    return repr(x)


class CompactWriter(Writer):
    """vecgen.Writer with shorter numbers (the file would be ~2x larger in
    hex floats)."""

    def case(self, name, **fields):
        self.f.write("case %s\n" % name)
        for k, v in fields.items():
            if isinstance(v, Gen):
                self.f.write("%s[] gen %s %d %d %s %s\n" % (k, v.kind, v.seed, v.n, short(v.p1), short(v.p2)))
            elif isinstance(v, (list, tuple)) or hasattr(v, "tolist"):
                vals = list(v.tolist() if hasattr(v, "tolist") else v)
                self.f.write("%s[] %d %s\n" % (k, len(vals), " ".join(short(x) for x in vals)))
            elif isinstance(v, str):
                self.f.write("%s %s\n" % (k, v))
            else:
                self.f.write("%s %s\n" % (k, short(v)))
        self.f.write("end\n")


# ---- generated arrays, vectorized (bit-identical to vecgen.generate) --------

def gen_np(g):
    """vecgen.generate(g.kind, ...) with numpy: the i-th splitmix64 output
    uses the state seed + i * golden (mod 2^64)."""
    draws = g.n * 12 if g.kind == "normal" else g.n
    with np.errstate(over="ignore"):
        i = np.arange(1, draws + 1, dtype=np.uint64)
        z = np.uint64(g.seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    if g.kind == "uniform":
        return g.p1 + (g.p2 - g.p1) * u
    if g.kind == "normal":
        s = np.zeros(g.n)
        for k in range(12):
            s += u[k::12]
        return g.p1 + g.p2 * (s - 6.0)
    if g.kind == "int":
        return np.floor(g.p1 + (g.p2 - g.p1 + 1.0) * u)
    raise ValueError(g.kind)


for g in (Gen("normal", 7, 300, 0.5, 2.0), Gen("uniform", 8, 300, -1.0, 3.0), Gen("int", 9, 300, -3.0, 4.0)):
    assert gen_np(g).tolist() == generate(g.kind, g.seed, g.n, g.p1, g.p2), g.kind


# ---- references for the special functions ---------------------------------

def mp_kolmogorov(x):
    """P(K > x) for the Kolmogorov limit law, from whichever theta series
    converges fast."""
    x = mpmath.mpf(x)
    if x <= 0:
        return mpmath.mpf(1)
    if x < 1:
        s = mpmath.fsum(mpmath.exp(-(2 * k - 1) ** 2 * mpmath.pi ** 2 / (8 * x * x)) for k in range(1, 80))
        return 1 - mpmath.sqrt(2 * mpmath.pi) / x * s
    return 2 * mpmath.fsum((-1) ** (k - 1) * mpmath.exp(-2 * k * k * x * x) for k in range(1, 80))


@functools.lru_cache(maxsize=None)
def mp_smirnov(n, d):
    """P(D+_n >= d), the exact Birnbaum-Tingey sum at 30 digits; terms more
    than 120 nats below the largest are skipped (their logs are still
    computed, as the binomial's log is a running sum)."""
    with mpmath.workdps(30):
        return +_mp_smirnov(n, d)


def _mp_smirnov(n, d):
    d = mpmath.mpf(d)
    if d <= 0:
        return mpmath.mpf(1)
    if d >= 1:
        return mpmath.mpf(0)
    J = int(mpmath.ceil(n * (1 - d))) - 1
    logc = mpmath.mpf(0)
    logs = []
    for j in range(J + 1):
        a = d + mpmath.mpf(j) / n
        b = 1 - d - mpmath.mpf(j) / n
        logs.append(logc + (j - 1) * mpmath.log(a) + (n - j) * mpmath.log(b))
        logc += mpmath.log(mpmath.mpf(n - j) / (j + 1))
    top = max(logs)
    return d * mpmath.exp(top) * mpmath.fsum(mpmath.exp(v - top) for v in logs if v - top > -120)


def d_for(n, t):
    """sqrt(t / n), nudged up until n d d >= t in doubles (scipy branches on
    n d^2 computed that way)."""
    d = math.sqrt(t / n)
    while n * d * d < t:
        d = float(np.nextafter(d, 2.0))
    return d


def rel_err(got, want):
    got, want = float(got), float(want)
    if want == 0:
        return abs(got)
    return abs(got - want) / abs(want)


# ---- exact two-sample distribution ----------------------------------------

def exact_one_sided_fraction(m, n, h):
    """P(D+ >= h / lcm) exactly, by Hodges' first passages in integers."""
    g = math.gcd(m, n)
    if m < n:
        m, n = n, m
    mg, ng = m // g, n // g
    lxj = n + (mg - h) // mg
    if lxj <= 0:
        return Fraction(1)
    xj = [(h + mg * j + ng - 1) // ng for j in range(lxj)]
    B = []
    for j in range(lxj):
        b = math.comb(xj[j] + j, j)
        for i in range(j):
            b -= math.comb(xj[j] - xj[i] + j - i, j - i) * B[i]
        B.append(b)
    num = sum(B[j] * math.comb(m - xj[j] + n - j, n - j) for j in range(lxj))
    return Fraction(num, math.comb(m + n, n))


def scipy_exact(n1, n2, d, alternative):
    """(success, rounded d, p) as scipy's ks_2samp computes them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok, dr, p = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, alternative)
    return bool(ok), float(dr), float(p)


# ---- ks_2samp ----------------------------------------------------------------

def scipy_ks(a, b, alternative, method):
    """scipy's result on NaN-free samples and the method it ended with."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = a[~np.isnan(a)]
    b = b[~np.isnan(b)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = st.ks_2samp(a, b, alternative=alternative, method=method)
    fell = any("Switching to" in str(x.message) or "Exact calculation unsuccessful" in str(x.message) for x in w)
    used = method
    if used == "auto":
        used = "exact" if max(len(a), len(b)) <= 10000 else "asymp"
    if fell:
        used = "asymp"
    return r, used


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else __file__.replace("gen_ks.py", "ks.vec")
    w = CompactWriter(out, """Generated by tests/drift/gen_ks.py (scipy 1.10.1, numpy 1.24.2, mpmath; see
the script for where scipy is not the reference and why). Do not edit.""")
    rng = np.random.default_rng(20240606)

    class Notes(list):
        def append(self, line):
            print(line, flush=True)
            super().append(line)
    notes = Notes()

    # -- kolmogorov: mpmath -------------------------------------------------
    xs = [0.0, 1e-3, 0.03, 0.0406, 0.040611972203751713, 0.0407, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.81,
          0.82, 0.8200000000000001, 0.83, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 13.0, 16.0,
          18.0, 18.9, 19.0, 19.1, 19.2, 19.29, 19.3, 20.0, 27.0, 40.0, 1e300, math.inf, -1.0, -math.inf]
    xs += sorted(rng.uniform(0, 6, 60).tolist())
    want, worst = [], 0.0
    for x in xs:
        v = float(mp_kolmogorov(x))
        want.append(v)
        s = float(sc.kolmogorov(x))
        if v >= 1e-300:
            worst = max(worst, rel_err(s, v))
    notes.append("scipy.special.kolmogorov vs mpmath: worst relative error %.2e" % worst)
    w.case("kolmogorov", x=xs, sf=want, rel=1e-14)
    w.case("kolmogorov_nan", x=[math.nan], sf=[math.nan], rel=0.0)

    # -- smirnov: scipy (n <= 10^6), mpmath above ----------------------------
    ns, ds, want = [], [], []
    grid_n = [1, 2, 3, 4, 5, 7, 10, 11, 20, 50, 100, 141, 500, 1000, 4096, 10007, 50000, 100000, 500000, 1000000]
    grid_t = [1e-6, 1e-3, 0.01, 0.1, 0.5, 0.59, 0.61, 0.99, 1.0, 1.01, 2.2, 5.0, 20.0, 100.0, 300.0, 345.0, 372.0, 380.0]
    for n in grid_n:
        for t in grid_t:
            d = math.sqrt(t / n)
            if d <= 1:
                ns.append(n)
                ds.append(d)
        for d in (0.0, 1.0 / n, 1.0 / n * (1 - 2 ** -52), 1.0 / n * (1 + 2 ** -52), 2.0 / n, 0.5, 1 - 1.0 / n,
                  1 - 0.5 / n, 1.0):
            if 0 <= d <= 1:
                ns.append(n)
                ds.append(d)
    for _ in range(120):
        n = int(math.exp(rng.uniform(0, math.log(1e6))))
        ns.append(n)
        ds.append(float(rng.uniform(0, 1) ** 3))
    for n, d in zip(ns, ds):
        want.append(float(sc.smirnov(n, d)))
    # scipy is checked against mpmath on a sample of small n
    worst = 0.0
    for n, d, v in list(zip(ns, ds, want))[::7]:
        if n <= 1500:
            ref = mp_smirnov(n, d)
            if ref >= 1e-300:
                worst = max(worst, rel_err(v, ref))
    notes.append("scipy.special.smirnov (n <= 1500) vs mpmath: worst relative error %.2e" % worst)
    w.case("smirnov", n=ns, d=ds, sf=want, rel=5e-14)
    # n > 10^6: exact sums in mpmath (scipy's approximation shown for the record)
    big = [(1000003, 0.5), (1000003, 2.2), (1200000, 100.0)]
    bn, bd, bw = [], [], []
    for n, t in big:
        d = d_for(n, t)
        ref = float(mp_smirnov(n, d))
        notes.append("smirnov(%d, sqrt(%g/n)): exact %.17g, scipy %.17g (relative error %.1e)"
                     % (n, t, ref, sc.smirnov(n, d), rel_err(sc.smirnov(n, d), ref)))
        bn.append(n)
        bd.append(d)
        bw.append(ref)
    w.case("smirnov_big", n=bn, d=bd, sf=bw, rel=5e-14)
    w.case("smirnov_domain", n=[0, 5, 5, 5, 5], d=[0.5, math.nan, -0.1, 1.5, -math.inf],
           sf=[math.nan] * 5, rel=0.0)

    # -- kstwo.sf: scipy's rule -------------------------------------------------
    ns, ds, want, tols = [], [], [], []

    def kst(n, d):
        ns.append(n)
        ds.append(d)
        v = float(st.kstwo.sf(d, n))
        want.append(v)
        t = n * d * d
        # 1 - cdf branches lose the cdf's rounding relative to a small sf
        # (scipy's and ours differ by up to ~1e-12 there)
        one_minus = (n <= 140 and 1 < n * d < n - 1 and d < 0.5 and t <= 4) or \
                    (n > 140 and n * d > 1 and t < 2.2)
        tols.append(5e-12 if one_minus else 1e-14)

    for n in [1, 2, 3, 4, 5, 7, 8, 11, 16, 23, 29, 50, 99, 139, 140, 141, 142, 200, 1000, 5000, 99999, 100000,
              100001, 500000, 1000000]:
        for t in [0.01, 0.2, 0.5, 0.754, 0.755, 1.0, 2.0, 2.19, 2.21, 3.9, 4.0, 4.1, 10.0, 100.0, 360.0, 369.9, 370.1]:
            d = math.sqrt(t / n)
            if d < 1:
                kst(n, d)
        for d in (0.0, 0.5 / n, 0.5 / n * (1 + 2 ** -52), 0.75 / n, 1.0 / n, 1.5 / n, 0.5, 0.75, 1 - 1.0 / n,
                  1 - 1.5 / n, 1.0, 1.5):
            kst(n, d)
    for n, d in ((100000, 0.0003), (100000, 0.0005), (80000, 0.0007), (2000, 0.01)):  # Durbin for n > 140
        kst(n, d)
    for _ in range(100):
        n = int(math.exp(rng.uniform(0, math.log(1e6))))
        kst(n, float(math.exp(rng.uniform(math.log(0.4 / n), 0))))
    w.case("kstwo", n=ns, d=ds, sf=want, rel=tols)
    # n > 10^6 in the 2 * smirnov branch: twice the exact smirnov
    n, t = 1000003, 2.2
    d = d_for(n, t)
    ref = 2 * float(mp_smirnov(n, d))
    notes.append("kstwo.sf(sqrt(2.2/n), %d): 2 * exact smirnov %.17g, scipy %.17g" % (n, ref, st.kstwo.sf(d, n)))
    # and scipy's other branches above 10^6, which do not involve smirnov
    kn, kd, kw = [n, 2000000, 2000000, 2000000], [d], [ref]
    for t in (0.3, 2.1, 400.0):
        kd.append(math.sqrt(t / 2000000))
        kw.append(float(st.kstwo.sf(kd[-1], 2000000)))
    w.case("kstwo_big", n=kn, d=kd, sf=kw, rel=[5e-14, 5e-12, 5e-12, 1e-14])
    w.case("kstwo_domain", n=[0, 5], d=[0.5, math.nan], sf=[math.nan, math.nan], rel=0.0)

    # -- exact two-sample distribution ----------------------------------------
    alts = ["two-sided", "less", "greater"]
    rows = []  # (n1, n2, d, alternative)
    sizes = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (3, 5), (5, 3), (4, 6), (10, 10), (10, 15), (12, 18),
             (37, 41), (60, 60), (72, 72), (100, 100), (100, 150), (128, 96), (999, 1000), (1000, 1000),
             (500, 530), (510, 510), (511, 509), (519, 519), (600, 500), (1029, 1), (2000, 41), (5000, 5000),
             (9999, 10000), (10000, 10000), (10000, 130), (10000, 200), (20000, 20000), (3000, 7)]
    for n1, n2 in sizes:
        g = math.gcd(n1, n2)
        lcm = n1 // g * n2
        en = n1 * n2 / (n1 + n2)
        hs = {1, 2, lcm, lcm - 1, max(1, lcm // 2)}
        for z in (0.3, 1.0, 1.36, 2.0, 3.5, 6.0, 12.0):
            hs.add(max(1, min(lcm, round(z / math.sqrt(en) * lcm))))
        for h in sorted(hs):
            for alt in alts:
                rows.append((n1, n2, h / lcm, alt))
    # d off the lattice: rounding to h/lcm (ties to even)
    for n1, n2 in ((10, 15), (37, 41), (100, 150)):
        g = math.gcd(n1, n2)
        lcm = n1 // g * n2
        for frac in (0.25, 0.5, 0.5000001, 1.5, 2.5, 0.49):
            for alt in alts:
                rows.append((n1, n2, (5 + frac) / lcm, alt))
        rows.append((n1, n2, 0.2 / lcm, "two-sided"))  # rounds to 0: p = 1
        rows.append((n1, n2, 0.0, "less"))
    # two-sided, equal sizes: scipy's sum above 1 for small h
    for n in (5, 7, 13, 30, 60, 69, 72, 1000, 2999):
        for h in (1, 2, 3):
            rows.append((n, n, h / n, "two-sided"))
    n1s, n2s, dv, av, okv, drv, pv, pt = [], [], [], [], [], [], [], []
    nfail = 0
    for n1, n2, d, alt in rows:
        ok, dr, p = scipy_exact(n1, n2, d, alt)
        n1s.append(n1)
        n2s.append(n2)
        dv.append(d)
        av.append(alts.index(alt))
        okv.append(1 if ok else 0)
        drv.append(dr)
        pv.append(p if ok else math.nan)
        pt.append(1e-10)
        nfail += not ok
    notes.append("exact distribution: %d cases, %d where scipy falls back" % (len(rows), nfail))
    # one-sided with a large sample (explicit exact): exact rationals
    # (the last ones have over 4e7 lattice points: first passages in C)
    for m, n, z in ((200000, 7, 1.0), (200000, 7, 2.0), (450000, 31, 2.0), (300001, 20, 4.0), (100003, 60, 1.5),
                    (100003, 60, 7.5), (5000011, 9, 1.0), (5000011, 9, 2.5), (20000003, 3, 1.2), (1000003, 40, 3.0)):
        g = math.gcd(m, n)
        lcm = m // g * n
        h = max(1, min(lcm, round(z / math.sqrt(m * n / (m + n)) * lcm)))
        for alt in ("less", "greater"):
            ok, dr, p = scipy_exact(m, n, h / lcm, alt)
            exact = exact_one_sided_fraction(m, n, h)
            notes.append("one-sided exact (%d, %d, h=%d): scipy %.17g, exact %.17g (relative error %.1e)"
                         % (m, n, h, p, float(exact), rel_err(p, exact)))
            assert ok
            n1s.append(m)
            n2s.append(n)
            dv.append(h / lcm)
            av.append(alts.index(alt))
            okv.append(1)
            drv.append(dr)
            pv.append(float(exact))
            pt.append(1e-12)
    w.case("exact", n1=n1s, n2=n2s, d=dv, alternative=av, ok=okv, d_rounded=drv, p=pv, rel=pt)
    assert set(pt) <= {1e-10, 1e-12}

    # -- ks_2samp ------------------------------------------------------------------
    methods = ["auto", "exact", "asymp"]
    count = [0]

    def ks_case(name, a, b, alternatives=alts, meths=methods, exact_ref=None):
        """One case per pair of samples: the arrays once, then one entry
        per (alternative, method) in the result arrays (codes as in
        drift.h: alternative 0 two-sided, 1 less, 2 greater; method 0 auto,
        1 exact, 2 asymp)."""
        va = gen_np(a) if isinstance(a, Gen) else np.asarray(a, dtype=float)
        vb = gen_np(b) if isinstance(b, Gen) else np.asarray(b, dtype=float)
        res = {k: [] for k in ("alternative", "method", "used", "statistic", "pvalue", "location", "sign")}
        for alt in alternatives:
            for meth in meths:
                r, used = scipy_ks(va, vb, alt, meth)
                p = float(r.pvalue)
                if exact_ref is not None and used == "exact" and alt != "two-sided":
                    p = exact_ref(float(r.statistic))
                res["alternative"].append(alts.index(alt))
                res["method"].append(methods.index(meth))
                res["used"].append(methods.index(used))
                res["statistic"].append(float(r.statistic))
                res["pvalue"].append(p)
                res["location"].append(float(r.statistic_location))
                res["sign"].append(int(r.statistic_sign))
                count[0] += 1
        w.case("ks_" + name, a=a, b=b, n1=int(np.sum(~np.isnan(va))), n2=int(np.sum(~np.isnan(vb))),
               nan1=int(np.sum(np.isnan(va))), nan2=int(np.sum(np.isnan(vb))), **res)

    def rnd(n, loc=0.0, scale=1.0):
        return np.round(rng.normal(loc, scale, n), 6).tolist()

    ks_case("size1", [0.5], [1.5])
    ks_case("size1_same", [2.0], [2.0])
    ks_case("size1_2", [0.0], [1.0, -1.0])
    ks_case("size2_1", [3.0, 1.0], [2.0])
    ks_case("size2", [1.0, 2.0], [1.5, 0.5])
    ks_case("size2_ties", [1.0, 1.0], [1.0, 2.0])
    ks_case("small_3_7", rnd(3), rnd(7, 0.5))
    ks_case("small_10_10", rnd(10), rnd(10, 0.8))
    ks_case("small_10_15", rnd(10), rnd(15, -0.3, 2.0))
    ks_case("factor_12_18", rnd(12), rnd(18, 0.4))
    ks_case("coprime_37_41", rnd(37), rnd(41, 0.2))
    ks_case("ties_int", Gen("int", 11, 200, 0, 5), Gen("int", 12, 300, 0, 6))
    ks_case("ties_int_equal", Gen("int", 13, 150, 1, 3), Gen("int", 14, 150, 1, 3))
    ks_case("ties_all_same", [4.0] * 6, [4.0] * 9)
    # where the extreme is attained at several values: scipy reports the
    # first sample's smallest one if any (not the smallest overall)
    ks_case("location_1", [3.0, 4.0, 1.0, 4.0, 0.0], [0.0, 4.0, 4.0, 1.0, 0.0])
    ks_case("location_2", [4.0, 3.0, 0.0], [3.0, 1.0, 4.0, 4.0, 2.0, 4.0])
    ks_case("location_3", [1.0, 0.0], [3.0, 1.0])
    ks_case("location_4", [0.0, 0.0, 1.0, 2.0], [0.0, 4.0, 4.0, 2.0])
    ks_case("location_5", [0.0, 2.0, 2.0, 3.0], [2.0, 1.0, 2.0, 3.0])
    same = rnd(25)
    ks_case("identical", same, list(same))
    ks_case("identical_shuffled", same, list(reversed(same)))
    ks_case("mid_100_150", Gen("normal", 21, 100, 0, 1), Gen("normal", 22, 150, 0.3, 1))
    ks_case("mid_999_1000", Gen("normal", 23, 999, 0, 1), Gen("normal", 24, 1000, 0.05, 1))
    ks_case("mid_1000_1000", Gen("normal", 25, 1000, 0, 1), Gen("normal", 26, 1000, 0.1, 1.1))
    ks_case("big_10000_10000", Gen("normal", 27, 10000, 0, 1), Gen("normal", 28, 10000, 0.02, 1),
            meths=["auto", "asymp"])
    ks_case("big_9999_10000", Gen("uniform", 29, 9999, 0, 1), Gen("uniform", 30, 10000, 0, 1.01),
            alternatives=["two-sided"], meths=["auto"])
    ks_case("auto_asymp_10001", Gen("normal", 31, 10001, 0, 1), Gen("normal", 32, 50, 0.2, 1))
    ks_case("unbalanced_2000_41", Gen("normal", 33, 2000, 0, 1), Gen("normal", 34, 41, 0.5, 1))
    # infinities and NaN
    ks_case("inf", [-math.inf, 0.0, 1.0, math.inf, 2.0], [math.inf, math.inf, 0.5, -1.0])
    ks_case("inf_only", [math.inf, math.inf], [-math.inf, math.inf, -math.inf])
    ks_case("nan_dropped", [math.nan, 0.1, 0.9, math.nan, 0.4, 2.0], [0.3, math.nan, 1.5, 1.7])
    # p-values below 1e-300: separated samples
    ks_case("tiny_exact_510", Gen("uniform", 51, 510, 0, 1), Gen("uniform", 52, 510, 2, 3),
            meths=["auto", "exact"])
    ks_case("tiny_exact_511_509", Gen("uniform", 53, 511, 0, 1), Gen("uniform", 54, 509, -3, -2),
            meths=["auto", "exact"])
    ks_case("tiny_exact_500_530", Gen("uniform", 55, 500, 0, 1), Gen("uniform", 56, 530, 1, 2),
            alternatives=["greater"], meths=["exact"])
    # falling back: equal sizes, scipy's sum just above 1 (h = 2, n = 60)
    ks_case("fallback_square", list(range(60)), [2.0 + i for i in range(60)], alternatives=["two-sided"],
            meths=["auto", "exact"])
    # falling back: one-sided, C(1100, 500) overflows
    ks_case("fallback_overflow", Gen("normal", 35, 600, 0, 1), Gen("normal", 36, 500, 0.1, 1),
            alternatives=["less", "greater"], meths=["auto", "exact"])
    # falling back: lcm(50000, 49999) >= 2^31 - 1
    ks_case("fallback_lcm", Gen("normal", 37, 50000, 0, 1), Gen("normal", 38, 49999, 0.01, 1),
            alternatives=["two-sided", "greater"], meths=["exact"])
    # one-sided exact with a large sample: exact rationals as the reference
    m, n = 200000, 9
    g = math.gcd(m, n)
    lcm = m // g * n
    ks_case("exact_large_onesided", Gen("normal", 39, m, 0, 1), Gen("normal", 40, n, 0.6, 1),
            alternatives=["less", "greater"], meths=["exact"],
            exact_ref=lambda d: float(exact_one_sided_fraction(m, n, round(d * lcm))))
    # asymptotic far tails: kstwo.sf near 1e-300, Hodges near 1e-300
    ks_case("tiny_asymp", Gen("normal", 41, 20000, 0, 1), Gen("normal", 42, 20000, 0.48, 1),
            meths=["asymp"])
    ks_case("tiny_asymp_zero", Gen("normal", 47, 20000, 0, 1), Gen("normal", 48, 20000, 0.6, 1),
            meths=["auto"])
    # a million each: PelzGood (close) and 2 * smirnov(500000, d) (shifted)
    ks_case("million_close", Gen("normal", 43, 1000000, 0, 1), Gen("normal", 44, 1000000, 0.0005, 1),
            alternatives=["two-sided"], meths=["auto"])
    ks_case("million_shift", Gen("normal", 45, 1000000, 0, 1), Gen("normal", 46, 1000000, 0.006, 1),
            alternatives=["two-sided", "less"], meths=["auto"])
    notes.append("ks_2samp: %d cases" % count[0])
    w.close()


if __name__ == "__main__":
    main()
