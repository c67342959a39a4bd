"""Drift statistics through the Python binding (mlops/drift.py).

Expected values were computed with scipy 1.10.1 (Debian's python3-scipy)
and are written out here, so the suite needs no scipy; the report is
checked against tests/drift/report.vec, made by tests/drift/gen_report.py
with scipy. Skipped when the library was built without drift
(meson -Ddrift=false).
"""

import array
import bisect
import json
import math
import os
import sys
import unittest

import mlops
from mlops import _lib

try:
    import numpy
except ImportError:  # numpy is never required
    numpy = None

HAVE_DRIFT = _lib.has_module("drift")
needs_drift = unittest.skipUnless(HAVE_DRIFT, "libmlops built without drift (-Ddrift=true)")
if HAVE_DRIFT:
    from mlops import drift

A = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77,
     1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47]
B = [2.2, 1.66, 1.38, 0.2, 0.36, 0.0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, 1.27, 0.38, 0.61, 1.39]
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "drift")
sys.path.insert(0, VECTORS)
import vecgen  # noqa: E402  (tests/drift/vecgen.py: the generated arrays of the .vec files)


def close(a, b, rel=1e-12):
    return a == b or abs(a - b) <= rel * abs(b)


@needs_drift
class TestTests(unittest.TestCase):
    def test_ks_2samp(self):
        r = drift.ks_2samp(A, B)
        self.assertEqual(r.statistic, 0.34)
        self.assertTrue(close(r.pvalue, 0.13515536982719126, 1e-10))
        self.assertEqual(r.statistic_location, 1.09)
        self.assertEqual(r.statistic_sign, 1)
        stat, p = r  # unpacks like scipy's result
        self.assertEqual((stat, p), (r.statistic, r.pvalue))
        self.assertEqual(tuple(drift.ks_2samp(A, B, alternative="less", method="asymp")), (0.0, 1.0))

    def test_nan_dropped_and_counted(self):
        r = drift.ks_2samp(A + [math.nan, math.nan], B)
        self.assertEqual((r.n1, r.nan1, r.n2, r.nan2), (25, 2, 18, 0))
        self.assertTrue(close(r.pvalue, 0.13515536982719126, 1e-10))

    def test_inputs_without_copies_and_sequences(self):
        want = drift.ks_2samp(A, B).pvalue
        self.assertEqual(drift.ks_2samp(array.array("d", A), tuple(B)).pvalue, want)
        if numpy is not None:
            self.assertEqual(drift.ks_2samp(numpy.array(A), numpy.array(B, dtype=numpy.float32).astype(float)).pvalue,
                             want)
            self.assertEqual(drift.ks_2samp(numpy.array(A)[::-1], numpy.array(B)).pvalue, want)  # non-contiguous

    def test_rank_tests(self):
        u, p = drift.mannwhitneyu(A, B)
        self.assertEqual(u, 125.5)
        self.assertTrue(close(p, 0.01479725247159623, 1e-10))
        r = drift.cramervonmises_2samp(A, B)
        self.assertTrue(close(r.statistic, 0.6079974160206723))
        self.assertTrue(close(r.pvalue, 0.021146673076815503, 1e-10))
        ad = drift.anderson_ksamp([A, B])
        self.assertTrue(close(ad.statistic, 3.139477021597743))
        want = [0.325, 1.226, 1.961, 2.718, 3.752, 4.592, 6.546]
        for got, w in zip(ad.critical_values, want):
            self.assertTrue(close(got, w, 1e-12))
        self.assertTrue(close(ad.significance_level, 0.017185174038798132, 1e-10))

    def test_chi_square(self):
        stat, p = drift.chisquare([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8])
        self.assertTrue(close(stat, 3.5))
        self.assertTrue(close(p, 0.6233876277495822, 1e-10))
        c = drift.chi2_contingency([[10, 20, 30], [6, 9, 17]])
        self.assertTrue(close(c.statistic, 0.27157465150403504))
        self.assertTrue(close(c.pvalue, 0.873028283380073, 1e-10))
        self.assertEqual(c.dof, 2)
        self.assertTrue(close(c.expected_freq[1][2], 16.347826086956523))

    def test_distances(self):
        self.assertTrue(close(drift.wasserstein_distance(A, B), 0.887488888888889))
        self.assertTrue(close(drift.wasserstein_distance([0, 1, 3], [5, 6, 8], [1, 1, 1], [1, 3, 2]),
                              5.166666666666667))
        self.assertTrue(close(drift.energy_distance(A, B), 0.6261973814172551))
        self.assertTrue(close(drift.kl_divergence([0.2, 0.5, 0.3], [0.1, 0.6, 0.3]), 0.047468657715011756))
        self.assertTrue(close(drift.kl_divergence([1, 2, 3], [3, 2, 1], base=2), 0.5283208335737188))
        self.assertTrue(close(drift.jensenshannon([1.0, 0, 0], [0, 1.0, 0]), 0.8325546111576977))
        self.assertTrue(close(drift.jensenshannon([0.2, 0.5, 0.3], [0.1, 0.6, 0.3], base=2),
                              0.12465555976169079))
        self.assertEqual(drift.hellinger([1, 0], [0, 1]), 1.0)
        self.assertEqual(drift.total_variation([1, 0], [0, 1]), 1.0)
        self.assertEqual(drift.psi(A, A), 0.0)
        self.assertGreater(drift.psi(A, B), 0.1)

    def test_bad_input(self):
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.ks_2samp([], B)
        with self.assertRaises(ValueError):  # InvalidArgumentError is a ValueError
            drift.ks_2samp([math.nan], B)
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.ks_2samp(A, B, alternative="two_sided")
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.mannwhitneyu(A, B, method="permutation")
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.wasserstein_distance(A, B, u_weights=[1.0])
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.wasserstein_distance([1, 2], [3], u_weights=[-1, 2])
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.jensenshannon([0, 0], [1, 1])
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.psi(A, B, bins=0)
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.chisquare([1, -2, 3])
        with self.assertRaises(TypeError):
            drift.ks_2samp("abc", B)


@needs_drift
class TestProfiles(unittest.TestCase):
    def test_numeric_profile_merge_save_load(self):
        values = [((i * 7919) % 10007) / 100.0 for i in range(20000)]
        whole = drift.Profile(edges=[0, 25, 50, 75, 100.07])
        whole.add(values)
        shards = [drift.Profile(edges=[0, 25, 50, 75, 100.07]) for _ in range(4)]
        for i, s in enumerate(shards):
            s.add(values[i::4])
        merged = shards[0]
        for s in shards[1:]:
            merged.merge(s)
        st, sw = merged.stats, whole.stats
        self.assertEqual((st.count, st.missing, st.min, st.max), (20000, 0, min(values), max(values)))
        self.assertTrue(close(st.mean, sum(values) / len(values), 1e-12))
        self.assertEqual(merged.histogram, whole.histogram)
        self.assertEqual(sum(merged.histogram), 20000)
        srt = sorted(values)
        exact_median = srt[10000]
        q = merged.quantile(0.5)
        lo, hi = bisect.bisect_left(srt, q), bisect.bisect_right(srt, q)
        self.assertTrue(lo - st.rank_error <= 10000 <= hi + st.rank_error, (lo, hi, st.rank_error))
        self.assertLessEqual(abs(merged.cdf(exact_median) - 0.5), st.epsilon + 1e-4)
        self.assertEqual(sw.count, st.count)
        d = whole.compare(values)
        self.assertLessEqual(d.ks_statistic, d.ks_error_bound)
        self.assertEqual(d.psi, 0.0)
        with mlops.Store.memory() as store:
            oid = merged.save(store)
            back = drift.Profile.load(store, oid)
            self.assertEqual(back.encode(), merged.encode())
            self.assertEqual(back.stats, st)
        with self.assertRaises(mlops.CorruptError):
            drift.Profile.decode(merged.encode()[:-1])
        with self.assertRaises(mlops.InvalidArgumentError):
            merged.merge(drift.Profile())  # other edges

    def test_categorical_profile(self):
        p = drift.Profile(kind="categorical")
        p.add([3, 1, 3, -1, 7])
        self.assertEqual(p.categories, {1: 1, 3: 2, 7: 1})
        self.assertEqual((p.stats.count, p.stats.missing), (4, 1))
        with self.assertRaises(mlops.InvalidArgumentError):
            p.merge(drift.Profile())


def read_vectors(path):
    """Cases of a tests/drift .vec file: name -> {key: text or list}."""
    cases, cur = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            if key == "case":
                cur = cases.setdefault(rest, {})
            elif key == "end":
                cur = None
            elif key.endswith("[]"):
                parts = rest.split()
                if parts[0] == "gen":
                    vals = vecgen.generate(parts[1], int(parts[2]), int(parts[3]), num(parts[4]), num(parts[5]))
                else:
                    vals = [num(v) for v in parts[1:]]
                cur[key[:-2]] = vals
            else:
                cur[key] = rest
    return cases


def num(text):
    return float.fromhex(text) if "0x" in text else float(text)


@needs_drift
class TestReport(unittest.TestCase):
    def test_matches_reference_results(self):
        cases = read_vectors(os.path.join(VECTORS, "report.vec"))
        corrections = {"none": "none", "bonferroni": "bonferroni", "bh": "bh"}
        for name, c in cases.items():
            ref, cur, cat, tests, thr = {}, {}, [], {}, {}
            for i in range(int(c["columns"])):
                col = c["c%d.name" % i]
                is_cat = c["c%d.type" % i] == "categorical"
                conv = (lambda v: [int(x) for x in v]) if is_cat else list
                ref[col], cur[col] = conv(c["c%d.ref" % i]), conv(c["c%d.cur" % i])
                if is_cat:
                    cat.append(col)
                if "c%d.override" % i in c:
                    tests[col] = c["c%d.override" % i]
                if "c%d.override_threshold" % i in c:
                    thr[col] = num(c["c%d.override_threshold" % i])
            r = drift.report(ref, cur, correction=corrections[c["correction"]], drift_share=num(c["drift_share"]),
                             tests=tests, thresholds=thr, categorical=cat)
            for i, res in enumerate(r.columns):
                with self.subTest(case=name, column=res.name):
                    self.assertEqual(res.test, c["c%d.want_test" % i])
                    self.assertTrue(close(res.statistic, num(c["c%d.want_statistic" % i]), 1e-12))
                    want_p = num(c["c%d.want_pvalue" % i])
                    if math.isnan(want_p):
                        self.assertIsNone(res.pvalue)
                    else:
                        self.assertTrue(close(res.pvalue, want_p, 1e-10) or abs(res.pvalue - want_p) < 1e-300)
                    self.assertEqual(res.drifted, c["c%d.want_drifted" % i] == "1")
            self.assertEqual(r.dataset_drift, c["want_dataset_drift"] == "1")
            d = r.to_dict()
            self.assertEqual(d["format"], "mlops.drift.report")
            self.assertEqual(len(d["columns"]), len(r.columns))

    def test_labels_and_types(self):
        ref = {"x": [float(i % 17) for i in range(300)], "color": ["red", "green", "blue"] * 100,
               "ok": [True, False] * 150}
        cur = {"x": [float(i % 17) + 3 for i in range(200)], "color": ["red", "blue", None, "purple"] * 50,
               "ok": [True] * 200, "extra": [1.0] * 200}
        r = drift.report(ref, cur, correction="bh")
        self.assertEqual(r["x"].test, "ks")
        self.assertEqual(r["color"].kind, "categorical")
        self.assertEqual(r["color"].test, "chisquare")
        self.assertEqual(r["color"].missing_current, 50)
        self.assertEqual(r["color"].distinct, 4)
        self.assertEqual(r["ok"].test, "z")
        self.assertTrue(r["ok"].drifted)
        self.assertIn("DRIFT", str(r))
        self.assertEqual(r.correction, "bh")
        self.assertIn("p (bh)", str(r))
        self.assertIn("%.4g" % r["x"].pvalue_corrected, str(r))
        with mlops.Store.memory() as store:
            oid = r.save(store)
            self.assertEqual(json.loads(store.get(oid)), r.to_dict())
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.report(ref, {"x": cur["x"]})  # columns missing from current
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.report(ref, cur, tests={"color": "ks"})  # KS on categories
        with self.assertRaises(mlops.InvalidArgumentError):
            drift.report(ref, cur, correction="holm")


if __name__ == "__main__":
    unittest.main()
