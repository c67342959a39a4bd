"""Test vectors for tests/test_drift_profile.c (column profiles).

Run with Debian's python3 (numpy 1.24, scipy 1.10):
    /usr/bin/python3 tests/drift/gen_profile.py > /dev/null
It writes tests/drift/profile.vec next to itself.

What numpy/scipy provide here (the C suite checks the rest against the
sorted data itself, independently of the sketch):
  stats_*     count, missing (NaN, +-Inf), min, max, mean, numpy.var
              (ddof 0) and numpy.histogram on the given edges (values
              outside the edges counted nowhere, the last bin closed);
  cat_*       category counts (numpy.unique) of int64 codes, < 0 missing;
  cmp_*       drift between two profiles: PSI (epsilon 1e-4 for empty
              shares), scipy.spatial.distance.jensenshannon (base e) and
              Hellinger on the histogram shares, on category shares, or on
              10 bins between the reference deciles (for samples smaller
              than 2k, where the sketch is exact and its q-quantile is the
              smallest value whose count of values <= it reaches q n:
              computed here from the sorted data by that definition); the
              KS statistic of scipy.stats.ks_2samp, which the profiles'
              statistic must match within the bound they report.

Large samples are Gen arrays (drift_vec.h), produced here with a numpy
version of vecgen.generate (checked against it on a prefix) for speed.
"""
import os
import sys

import numpy as np
import scipy
import scipy.spatial.distance
import scipy.stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vecgen  # noqa: E402
from vecgen import Gen, Writer  # noqa: E402

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _units(seed, count):
    with np.errstate(over="ignore"):
        states = np.uint64(seed) + GAMMA * np.arange(1, count + 1, dtype=np.uint64)
        z = _mix(states)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def gen_values(g):
    """The values of Gen g, bit-identical to vecgen.generate (numpy)."""
    if g.kind == "uniform":
        return g.p1 + (g.p2 - g.p1) * _units(g.seed, g.n)
    if g.kind == "normal":
        u = _units(g.seed, 12 * g.n).reshape(g.n, 12)
        s = np.zeros(g.n)
        for j in range(12):  # summed in order, as the C and Python generators do
            s = s + u[:, j]
        return g.p1 + g.p2 * (s - 6.0)
    if g.kind == "int":
        return np.floor(g.p1 + (g.p2 - g.p1 + 1.0) * _units(g.seed, g.n))
    raise ValueError(g.kind)


def _check_generator():
    for g in (Gen("normal", 7, 300, 1.5, 2.0), Gen("uniform", 9, 300, -1, 3), Gen("int", 11, 300, -3, 20)):
        want = vecgen.generate(g.kind, g.seed, g.n, g.p1, g.p2)
        got = gen_values(g).tolist()
        assert got == want, g.kind


def stats_case(w, name, x, edges, data):
    x = np.asarray(x, dtype=np.float64)
    finite = x[np.isfinite(x)]
    fields = dict(x=data)
    if edges is not None:
        fields["edges"] = list(edges)
    fields.update(count=float(finite.size), missing=float(x.size - finite.size))
    if finite.size:
        fields.update(min=float(finite.min()), max=float(finite.max()), mean=float(np.mean(finite)),
                      var=float(np.var(finite)))
    if edges is not None:
        h, _ = np.histogram(finite, bins=np.asarray(edges, dtype=np.float64))
        fields["hist"] = [float(c) for c in h]
    w.case(name, **fields)


def shares_distances(r, c):
    """PSI (epsilon 1e-4), Jensen-Shannon (scipy, base e), Hellinger."""
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    p = r / r.sum()
    q = c / c.sum()
    pe = np.where(p > 0, p, 1e-4)
    qe = np.where(q > 0, q, 1e-4)
    psi = float(np.sum((qe - pe) * np.log(qe / pe)))
    js = float(scipy.spatial.distance.jensenshannon(p, q))
    hell = float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2))
    return psi, js, hell


def exact_decile_bins(ref, cur):
    """Shares of (-inf, d1), [d1, d2), ..., [d_last, inf), d_i the
    smallest reference value with #(ref <= d_i) >= i/10 * n (repeats
    merged)."""
    rs = np.sort(ref)
    n = rs.size
    d = []
    for i in range(1, 10):
        t = i / 10 * n
        # first index j (0-based) with j + 1 >= t, i.e. count of values <= rs[j]
        # is at least t; with ties, #(<= rs[j]) only grows, so the smallest
        # value qualifies as soon as its last copy does.
        counts_le = np.searchsorted(rs, rs, side="right")
        j = int(np.argmax(counts_le >= t))
        v = rs[j]
        if not d or v > d[-1]:
            d.append(v)
    d = np.asarray(d)
    cs = np.sort(cur)

    def shares(s):
        lt = np.searchsorted(s, d, side="left")
        edges = np.concatenate(([0], lt, [s.size]))
        return np.diff(edges).astype(np.float64)

    return shares(rs), shares(cs)


def main():
    _check_generator()
    here = os.path.dirname(os.path.abspath(__file__))
    w = Writer(os.path.join(here, "profile.vec"), __doc__.split("\n\n")[0] + "\n"
               "numpy %s, scipy %s; written by gen_profile.py, do not edit" % (np.__version__, scipy.__version__))

    # ---- statistics and histograms against numpy ----
    g = Gen("normal", 101, 1000000, 5.0, 2.0)
    stats_case(w, "stats_normal_1e6", gen_values(g), [-1, 1, 2.5, 3, 4, 5, 6, 7.5, 9, 11], g)
    g = Gen("normal", 102, 1000000, 1e6, 1e-3)  # large mean, small spread: variance cancellation
    stats_case(w, "stats_offset_1e6", gen_values(g), None, g)
    g = Gen("int", 103, 200000, -5, 25)  # ties, values on every edge, values outside
    stats_case(w, "stats_int_ties", gen_values(g), [0, 2, 5, 7.5, 10, 20], g)
    g = Gen("uniform", 104, 1000, -1, 1)
    stats_case(w, "stats_uniform_1000", gen_values(g), [-0.5, 0, 0.25, 0.5], g)
    x = [3.5, float("nan"), -2.0, float("inf"), 7.25, -0.0, float("-inf"), 1.0, float("nan"), 7.25, 10.0, -3.0]
    stats_case(w, "stats_missing", x, [-2.0, 0.0, 7.25, 10.0], x)
    stats_case(w, "stats_one", [42.5], [0.0, 42.5], [42.5])
    stats_case(w, "stats_two", [-1.25, 3.0], [-5.0, 0.0, 5.0], [-1.25, 3.0])
    x = [float("nan"), float("inf")]
    stats_case(w, "stats_all_missing", x, None, x)

    # ---- categorical counts ----
    g = Gen("int", 201, 100000, -3, 40)
    codes = gen_values(g).astype(np.int64)
    valid = codes[codes >= 0]
    u, c = np.unique(valid, return_counts=True)
    w.case("cat_counts", x=g, count=float(valid.size), missing=float(codes.size - valid.size),
           codes=[float(v) for v in u], counts=[float(v) for v in c])

    # ---- drift between profiles ----
    edges = [-4, -2, -1, -0.5, 0, 0.5, 1, 2, 4]
    ga, gb = Gen("normal", 301, 100000, 0.0, 1.0), Gen("normal", 302, 120000, 0.3, 1.2)
    a, b = gen_values(ga), gen_values(gb)
    ha, _ = np.histogram(a, bins=np.asarray(edges, dtype=np.float64))
    hb, _ = np.histogram(b, bins=np.asarray(edges, dtype=np.float64))
    psi, js, hell = shares_distances(ha, hb)
    w.case("cmp_edges", a=ga, b=gb, edges=edges, ks=float(scipy.stats.ks_2samp(a, b).statistic), psi=psi, js=js,
           hellinger=hell)

    ga, gb = Gen("normal", 311, 1000, 0.0, 1.0), Gen("normal", 312, 1500, 0.5, 1.0)
    a, b = gen_values(ga), gen_values(gb)
    r, c = exact_decile_bins(a, b)
    psi, js, hell = shares_distances(r, c)
    w.case("cmp_deciles_exact", a=ga, b=gb, ks=float(scipy.stats.ks_2samp(a, b).statistic), psi=psi, js=js,
           hellinger=hell)

    ga, gb = Gen("int", 321, 3000, 0, 6), Gen("int", 322, 2000, 2, 9)  # ties: repeated deciles merged
    a, b = gen_values(ga), gen_values(gb)
    r, c = exact_decile_bins(a, b)
    psi, js, hell = shares_distances(r, c)
    w.case("cmp_deciles_ties", a=ga, b=gb, ks=float(scipy.stats.ks_2samp(a, b).statistic), psi=psi, js=js,
           hellinger=hell, bins=float(r.size))

    ga, gb = Gen("normal", 331, 1000000, 0.0, 1.0), Gen("normal", 332, 1000000, 0.02, 1.0)
    a, b = gen_values(ga), gen_values(gb)
    w.case("cmp_ks_1e6", a=ga, b=gb, ks=float(scipy.stats.ks_2samp(a, b).statistic))

    ga, gb = Gen("int", 341, 50000, -2, 12), Gen("int", 342, 40000, 0, 15)  # categories only in one side
    a, b = gen_values(ga).astype(np.int64), gen_values(gb).astype(np.int64)
    a, b = a[a >= 0], b[b >= 0]
    cats = np.union1d(a, b)
    ra = np.array([np.sum(a == v) for v in cats])
    rb = np.array([np.sum(b == v) for v in cats])
    psi, js, hell = shares_distances(ra, rb)
    w.case("cmp_categorical", a=ga, b=gb, psi=psi, js=js, hellinger=hell)
    w.close()


if __name__ == "__main__":
    main()
