"""Reference values of the distances (tests/drift/distance.vec):
scipy.stats.entropy, scipy.spatial.distance.jensenshannon, Hellinger and
total variation in numpy, scipy.stats.wasserstein_distance and
energy_distance, Evidently's normed Wasserstein, and PSI.

PSI has no scipy function: psi_reference() below is the definition of
include/mlops/drift.h written with numpy (np.quantile's default 'linear'
method, np.unique, np.searchsorted, np.histogram), the independent
expectation for the C code, not a transcription of it.

NaN handling: the C functions drop NaN values (with their weight); scipy
would propagate them, so the expectations are computed on the arrays
without NaN while the case hands the C side the arrays with NaN.

Large samples are Gen arrays (tests/drift/drift_vec.h): generated here
with numpy, bit-identical to vecgen.generate (checked on a prefix below)
and to the C reader.

Run with Debian's python3 (scipy 1.10.1, numpy 1.24.2):
    /usr/bin/python3 tests/drift/gen_distance.py
"""
import math
import os

import mpmath
import numpy as np
from scipy import stats
from scipy.spatial import distance

from vecgen import Gen, Writer, generate

HERE = os.path.dirname(os.path.abspath(__file__))
WASSERSTEIN_STD_FLOOR = 0.001  # Evidently: max(np.std(reference), 0.001)
PSI_EPSILON = 1e-4

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def gen_np(g):
    """Gen(kind, seed, n, p1, p2) as a numpy array, vectorized: splitmix64's
    state after k steps is seed + k * golden, so every draw is independent
    of the others' computation."""
    kind, n = g.kind, g.n
    draws = n * (12 if kind == "normal" else 1)
    with np.errstate(over="ignore"):
        k = np.arange(1, draws + 1, dtype=np.uint64)
        z = np.uint64(g.seed) + k * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    if kind == "uniform":
        return g.p1 + (g.p2 - g.p1) * u
    if kind == "int":
        return np.floor(g.p1 + (g.p2 - g.p1 + 1.0) * u)
    if kind == "normal":
        u = u.reshape(n, 12)
        s = np.zeros(n)
        for t in range(12):  # in order, as the scalar generator adds them
            s = s + u[:, t]
        return g.p1 + g.p2 * (s - 6.0)
    raise ValueError(kind)


def values(x):
    return gen_np(x) if isinstance(x, Gen) else np.asarray(x, dtype=float)


# ---- distributions -----------------------------------------------------------


def norm(p):
    p = np.asarray(p, dtype=float)
    return p / np.sum(p)


def hellinger(p, q):
    p, q = norm(p), norm(q)
    return min(1.0, float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2.0)))


def total_variation(p, q):
    p, q = norm(p), norm(q)
    return min(1.0, float(np.sum(np.abs(p - q)) / 2.0))


def mp_all(p, q, base):
    """KL, JS, Hellinger and TV of the exactly normalized inputs with 50
    digits: the check on scipy's values."""
    mpmath.mp.dps = 50
    p = [mpmath.mpf(float(x)) for x in p]
    q = [mpmath.mpf(float(x)) for x in q]
    sp, sq = sum(p), sum(q)
    lb = mpmath.log(base) if base is not None else mpmath.mpf(1)
    kl = js = hel = tv = mpmath.mpf(0)
    for a, b in zip(p, q):
        a, b = a / sp, b / sq
        m = (a + b) / 2
        if a > 0:
            kl = mpmath.inf if b == 0 else kl + a * mpmath.log(a / b)
            js += a * mpmath.log(a / m)
        if b > 0:
            js += b * mpmath.log(b / m)
        hel += (mpmath.sqrt(a) - mpmath.sqrt(b)) ** 2
        tv += abs(a - b)
    return dict(kl=float(kl / lb), js=float(mpmath.sqrt(js / lb / 2)), hellinger=float(mpmath.sqrt(hel / 2)),
                tv=float(tv / 2))


def dist_case(w, name, p, q, base=None):
    """scipy's values, except where mpmath shows them inaccurate (more than
    1e-13 relative off): then the accurate value is the expectation, and
    the case says so in its 'reference' field. This happens for (nearly)
    identical distributions, where scipy's terms are about |a - b| and the
    divergence (a - b)^2: see dist_near_identical (scipy's KL is 5.6e-17,
    the true one 1.0e-17), and for equal distributions given at different
    scales, where scipy's JS divergence rounds to -1e-17 and its distance
    is NaN (the true one is 0)."""
    pv, qv = values(p), values(q)
    with np.errstate(invalid="ignore"):
        got = dict(kl=float(stats.entropy(pv, qv, base=base)), js=float(distance.jensenshannon(pv, qv, base=base)),
                   hellinger=hellinger(pv, qv), tv=total_variation(pv, qv))
    ref = []
    if len(pv) <= 5000:
        exact = mp_all(pv, qv, base)
        for key, want in exact.items():
            if got[key] == want or (math.isinf(want) and got[key] == want):
                continue
            if not abs(got[key] - want) <= 1e-13 * abs(want):
                print("%s: scipy's %s = %r, mpmath %r: testing against mpmath" % (name, key, got[key], want))
                got[key] = want
                ref.append(key)
    w.case(name, kind="dist", p=p, q=q, base=0.0 if base is None else float(base),
           reference="mpmath:" + ",".join(ref) if ref else "scipy", **got)


def distributions(w):
    rng = np.random.default_rng(20240601)
    for i, k in enumerate([2, 3, 10, 50]):
        p, q = rng.uniform(0, 1, k), rng.uniform(0, 1, k)
        for base in (None, 2, 10):
            dist_case(w, "dist_random_k%d_b%s" % (k, base or "e"), p, q, base)
    dist_case(w, "dist_k1", [3.0], [5.0])
    dist_case(w, "dist_k1_base2", [0.25], [7.0], 2)
    same = rng.uniform(0, 10, 20)
    dist_case(w, "dist_identical", same, same)
    dist_case(w, "dist_identical_scaled", same, same * 3.0, 10)  # same distribution after normalizing
    dist_case(w, "dist_zero_in_p", [0, 1, 2, 3, 0], [1, 1, 1, 1, 1])
    dist_case(w, "dist_zero_in_q", [1, 1, 1, 1, 1], [0, 1, 2, 3, 0], 2)  # KL = +Inf
    dist_case(w, "dist_zero_in_both", [0, 2, 5, 0, 1], [0, 1, 1, 3, 2])
    dist_case(w, "dist_disjoint", [1, 2, 0, 0], [0, 0, 3, 4])
    dist_case(w, "dist_disjoint_base2", [1, 2, 0, 0], [0, 0, 3, 4], 2)
    dist_case(w, "dist_counts", [120, 30, 0, 7, 1, 1000], [100, 45, 2, 0, 3, 990], 10)
    dist_case(w, "dist_tiny_weights", [1e-300, 3e-300, 2e-300], [5e-310, 1e-300, 1e-300])
    dist_case(w, "dist_huge_weights", [1e300, 3e300, 2e300], [4e305, 1e306, 1e306])
    dist_case(w, "dist_far_apart", [1.0, 1e-12, 1e-12], [1e-12, 1e-12, 1.0])
    dist_case(w, "dist_near_identical", [0.2, 0.3, 0.5], [0.2 + 1e-9, 0.3 - 2e-9, 0.5 + 1e-9])
    # large k from Gen arrays (weights in [0, 1), and integer counts with zeros)
    dist_case(w, "dist_gen_100k", Gen("uniform", 11, 100000, 0, 1), Gen("uniform", 12, 100000, 0, 1))
    dist_case(w, "dist_gen_counts_base2", Gen("int", 13, 5000, 0, 3), Gen("int", 14, 5000, 0, 3), 2)


# ---- Wasserstein, energy ------------------------------------------------------


def drop_nan(x, wts):
    x = values(x)
    keep = ~np.isnan(x)
    return x[keep], (None if wts is None else values(wts)[keep])


def sample_case(w, name, u, v, uw=None, vw=None):
    uu, uws = drop_nan(u, uw)
    vv, vws = drop_nan(v, vw)
    fields = dict(kind="sample", u=u, v=v)
    if uw is not None:
        fields["uw"] = uw
    if vw is not None:
        fields["vw"] = vw
    fields["wasserstein"] = float(stats.wasserstein_distance(uu, vv, uws, vws))
    fields["energy"] = float(stats.energy_distance(uu, vv, uws, vws))
    if uw is None and vw is None:
        fields["normed"] = float(stats.wasserstein_distance(uu, vv) / max(np.std(uu), WASSERSTEIN_STD_FLOOR))
    w.case(name, **fields)


def samples(w):
    rng = np.random.default_rng(7)
    sample_case(w, "w_sizes_1_1", [0.5], [2.0])
    sample_case(w, "w_sizes_1_2", [1.0], [0.0, 3.0])
    sample_case(w, "w_sizes_2_2", [-1.0, 1.0], [0.25, 0.75])
    sample_case(w, "w_sizes_2_1_weighted", [0.0, 10.0], [4.0], [1.0, 3.0], None)
    a = rng.normal(0, 1, 50)
    sample_case(w, "w_identical", a, a)
    sample_case(w, "w_identical_permuted", a, rng.permutation(a))
    sample_case(w, "w_random_unequal", rng.normal(0, 1, 100), rng.normal(0.3, 1.5, 37))
    sample_case(w, "w_random_shift", rng.normal(5, 2, 300), rng.normal(6, 2, 250))
    sample_case(w, "w_ties", rng.integers(0, 5, 80).astype(float), rng.integers(1, 7, 60).astype(float))
    sample_case(w, "w_all_tied_values", [2.0] * 10, [2.0] * 3)
    sample_case(w, "w_constant_reference", [3.0] * 20, rng.normal(3, 1, 15))  # normed: / 0.001
    sample_case(w, "w_small_spread", 1.0 + rng.normal(0, 1e-4, 30), 1.0 + rng.normal(0, 2e-4, 40))  # std < floor
    sample_case(w, "w_negative_and_offset", rng.normal(-1e6, 3, 64), rng.normal(-1e6 + 1, 3, 65))
    sample_case(w, "w_tiny_scale", rng.normal(0, 1e-9, 70), rng.normal(1e-10, 1e-9, 71))
    sample_case(w, "w_signed_zeros", [-0.0, 0.0, 1.0], [0.0, -0.0, 2.0])
    nan_u = rng.normal(0, 1, 40)
    nan_u[[3, 17, 39]] = np.nan
    nan_v = rng.normal(0, 1, 30)
    nan_v[0] = np.nan
    sample_case(w, "w_nan_dropped", nan_u, nan_v)
    # weights
    sample_case(w, "w_weighted", rng.normal(0, 1, 40), rng.normal(0.5, 1, 30), rng.uniform(0, 2, 40),
                rng.uniform(0, 5, 30))
    wz = rng.uniform(0, 1, 25)
    wz[[0, 5, 6, 24]] = 0.0
    sample_case(w, "w_weights_with_zeros", rng.normal(0, 1, 25), rng.normal(0, 1, 20), wz, None)
    sample_case(w, "w_weights_as_repeats", [1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 5.0], [2.0, 1.0, 3.0], None)
    sample_case(w, "w_weights_ties", rng.integers(0, 4, 50).astype(float), rng.integers(0, 4, 45).astype(float),
                rng.uniform(0, 1, 50), rng.uniform(0, 1, 45))
    sample_case(w, "w_weights_v_only", rng.normal(0, 1, 20), rng.normal(0, 1, 22), None, rng.uniform(1, 2, 22))
    wn = rng.uniform(1, 2, 40)
    sample_case(w, "w_weights_nan_dropped", nan_u, rng.normal(0, 1, 10), wn, None)
    sample_case(w, "w_weights_scaled", [0.0, 1.0, 2.0], [0.5, 1.5], [1e-200, 2e-200, 1e-200], [3e200, 1e200])
    # a million against a million (the benchmark's sizes), and ties at scale
    sample_case(w, "w_gen_1m", Gen("normal", 1, 1000000, 0, 1), Gen("normal", 2, 1000000, 0.1, 1))
    sample_case(w, "w_gen_ties_1m", Gen("int", 3, 1000000, 0, 9), Gen("int", 4, 500000, 1, 9))
    sample_case(w, "w_gen_weighted_100k", Gen("normal", 5, 100000, 0, 1), Gen("uniform", 6, 80000, -3, 3),
                Gen("uniform", 7, 100000, 0, 1), Gen("uniform", 8, 80000, 0, 1))


# ---- PSI -----------------------------------------------------------------------


def psi_reference(ref, cur, bins=10, edges=None, eps=PSI_EPSILON):
    """drift.h's PSI in numpy."""
    ref = ref[~np.isnan(ref)]
    cur = cur[~np.isnan(cur)]
    if edges is None:
        q = np.arange(bins + 1, dtype=float) / bins
        e = np.unique(np.quantile(ref, q))  # 'linear', numpy's default
        cuts = e[1:-1]  # open outer bins: only the inner edges cut
        rc = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=len(cuts) + 1)
        cc = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=len(cuts) + 1)
    else:
        rc = np.histogram(ref, np.asarray(edges, dtype=float))[0]
        cc = np.histogram(cur, np.asarray(edges, dtype=float))[0]
    r = rc / len(ref)
    c = cc / len(cur)
    r[r == 0] = eps
    c[c == 0] = eps
    return float(np.sum((c - r) * np.log(c / r)))


def psi_case(w, name, ref, cur, bins=None, edges=None, eps=None):
    fields = dict(kind="psi", ref=ref, cur=cur)
    if bins is not None:
        fields["bins"] = float(bins)
    if edges is not None:
        fields["edges"] = edges
    if eps is not None:
        fields["eps"] = eps
    fields["psi"] = psi_reference(values(ref), values(cur), 10 if bins is None else bins, edges,
                                  PSI_EPSILON if eps is None else eps)
    w.case(name, **fields)


def psi(w):
    rng = np.random.default_rng(99)
    psi_case(w, "psi_default", rng.normal(0, 1, 1000), rng.normal(0.2, 1.1, 800))
    psi_case(w, "psi_same", rng.normal(0, 1, 200), rng.normal(0, 1, 300), 5)
    a = rng.normal(0, 1, 100)
    psi_case(w, "psi_identical", a, a)
    psi_case(w, "psi_bins_1", rng.normal(0, 1, 50), rng.normal(3, 1, 50), 1)  # one bin: 0
    psi_case(w, "psi_bins_3", rng.uniform(0, 1, 31), rng.uniform(0.2, 1.2, 17), 3)
    psi_case(w, "psi_bins_20", rng.normal(0, 1, 500), rng.normal(0, 2, 400), 20)
    psi_case(w, "psi_bins_more_than_values", [1.0, 4.0, 2.0, 8.0, 3.0], [0.5, 2.5, 2.5, 9.0], 100)
    psi_case(w, "psi_ties_merged_edges", rng.integers(0, 4, 300).astype(float),
             rng.integers(0, 5, 200).astype(float), 10)
    psi_case(w, "psi_mostly_zero", np.r_[np.zeros(90), rng.uniform(0, 1, 10)], rng.uniform(0, 1, 50), 10)
    psi_case(w, "psi_constant_reference", [2.0] * 30, rng.normal(2, 1, 20))  # one bin: 0
    psi_case(w, "psi_reference_size_1", [5.0], [1.0, 5.0, 9.0])
    psi_case(w, "psi_reference_size_2", [1.0, 3.0], [0.0, 2.0, 2.0, 4.0], 4)
    psi_case(w, "psi_current_size_1", rng.normal(0, 1, 40), [0.1], 4)
    psi_case(w, "psi_current_outside", rng.uniform(0, 1, 100), rng.uniform(5, 6, 100), 10)  # all in the last bin
    psi_case(w, "psi_empty_bins_eps", rng.uniform(0, 1, 100), rng.uniform(0, 0.3, 60), 10, eps=1e-6)
    nan_r = rng.normal(0, 1, 60)
    nan_r[[1, 2, 30]] = np.nan
    nan_c = rng.normal(0, 1, 40)
    nan_c[[0, 39]] = np.nan
    psi_case(w, "psi_nan_dropped", nan_r, nan_c, 6)
    # value exactly on quantile edges (the upper bin takes it)
    psi_case(w, "psi_values_on_edges", [0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 1.0, 2.0, 4.0, 4.0], 4)
    # given edges: numpy.histogram's bins; values outside count nowhere
    e = [-2.0, -1.0, 0.0, 1.0, 2.0]
    psi_case(w, "psi_edges", rng.normal(0, 1, 400), rng.normal(0.5, 1, 300), edges=e)
    psi_case(w, "psi_edges_on_boundaries", [-2.0, -1.0, 0.0, 2.0, 2.0, 3.0], [-2.0, 0.0, 1.0, 2.0, -3.0], edges=e)
    psi_case(w, "psi_edges_two", rng.uniform(0, 1, 30), rng.uniform(0.5, 1.5, 30), edges=[0.0, 1.0])
    psi_case(w, "psi_edges_current_outside", rng.uniform(0, 1, 30), rng.uniform(2, 3, 30), edges=[0.0, 0.5, 1.0])
    psi_case(w, "psi_edges_eps", rng.uniform(0, 1, 30), rng.uniform(0, 0.4, 30), edges=[0.0, 0.25, 0.5, 1.0],
             eps=0.01)
    # a million (the benchmark's case) and ties at scale
    psi_case(w, "psi_gen_1m", Gen("normal", 1, 1000000, 0, 1), Gen("normal", 2, 1000000, 0.1, 1), 10)
    psi_case(w, "psi_gen_ties_1m", Gen("int", 3, 1000000, 0, 9), Gen("int", 4, 700000, 1, 12), 20)
    psi_case(w, "psi_gen_sorted_edges", Gen("uniform", 9, 300000, -1, 1), Gen("normal", 10, 200000, 0, 0.5),
             edges=list(np.linspace(-1, 1, 41)))


def main():
    # the vectorized generator must match the shared scalar one
    for g in (Gen("normal", 1, 500, 0, 1), Gen("uniform", 6, 500, -3, 3), Gen("int", 3, 500, 0, 9)):
        assert np.array_equal(gen_np(g), np.array(generate(g.kind, g.seed, g.n, g.p1, g.p2))), g.kind
    w = Writer(os.path.join(HERE, "distance.vec"),
               "Generated by tests/drift/gen_distance.py with scipy %s, numpy %s: do not edit."
               % (__import__("scipy").__version__, np.__version__))
    distributions(w)
    samples(w)
    psi(w)
    w.close()


if __name__ == "__main__":
    main()
