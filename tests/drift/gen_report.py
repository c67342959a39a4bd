"""Reference results of mlops_drift_report_run (tests/drift/report.vec).

Each case is a small pair of tables; the expected test, statistic, p-value,
corrected p-value and verdict per column are computed here with scipy and
numpy following the report's documented rules (include/mlops/drift.h,
docs/FORMAT.md "Drift reports"), which transcribe Evidently's defaults:
this script is the independent expectation, not a copy of the C code.

Run with Debian's python3 (scipy 1.10): /usr/bin/python3 gen_report.py
"""
import math
import os

import numpy as np
from scipy import stats
from scipy.spatial import distance

from vecgen import Gen, Writer

HERE = os.path.dirname(os.path.abspath(__file__))
WASSERSTEIN_STD_FLOOR = 0.001


def kept(values, categorical):
    v = np.asarray(values, dtype=float)
    if categorical:
        v = v[v >= 0]
    else:
        v = v[np.isfinite(v)]
    return v


def counts_table(r, c):
    keys = np.union1d(r, c)
    return keys, np.array([[np.sum(r == k) for k in keys], [np.sum(c == k) for k in keys]], dtype=float)


def default_test(categorical, nref, distinct):
    if nref <= 1000:
        if not categorical and distinct > 5:
            return "ks"
        return "chisquare" if distinct > 2 else "z"
    if not categorical and distinct > 5:
        return "wasserstein"
    return "jensenshannon"


def ztest(r, c):
    keys = np.union1d(r, c)
    x1, x2 = np.sum(r == keys[0]), np.sum(c == keys[0])
    n1, n2 = len(r), len(c)
    p = (x1 + x2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, 2 * stats.norm.sf(abs(z))


def binned(r, c, categorical, fill):
    if categorical:
        _, t = counts_table(r, c)
        rp, cp = t[0] / len(r), t[1] / len(c)
    else:
        edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
        rp = np.histogram(r, edges)[0] / len(r)
        cp = np.histogram(c, edges)[0] / len(c)
    if fill:
        for p in (rp, cp):
            p[p == 0] = np.min(p[p != 0]) / 1e6
    return rp, cp


def psi_quantile_bins(r, c, bins=10, eps=1e-4):
    edges = np.unique(np.quantile(r, np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1]
    rc = np.bincount(np.searchsorted(inner, r, side="right"), minlength=len(inner) + 1) / len(r)
    cc = np.bincount(np.searchsorted(inner, c, side="right"), minlength=len(inner) + 1) / len(c)
    rc = np.where(rc == 0, eps, rc)
    cc = np.where(cc == 0, eps, cc)
    return float(np.sum((cc - rc) * np.log(cc / rc)))


def run_test(test, r, c, categorical):
    """(statistic, p-value or nan)"""
    if test == "ks":
        res = stats.ks_2samp(r, c)
        return res.statistic, res.pvalue
    if test == "chisquare":
        _, t = counts_table(r, c)
        res = stats.chi2_contingency(t)
        return res[0], res[1]
    if test == "z":
        return ztest(r, c)
    if test == "wasserstein":
        return stats.wasserstein_distance(r, c) / max(np.std(r), WASSERSTEIN_STD_FLOOR), math.nan
    if test == "mannw":
        res = stats.mannwhitneyu(r, c)
        return res.statistic, res.pvalue
    if test == "anderson":
        res = stats.anderson_ksamp([r, c])
        return res.statistic, res.significance_level
    if test == "cramer_von_mises":
        res = stats.cramervonmises_2samp(r, c)
        return res.statistic, res.pvalue
    if test == "ed":
        return stats.energy_distance(r, c), math.nan
    if test == "psi" and not categorical:
        return psi_quantile_bins(r, c), math.nan
    fill = test in ("jensenshannon", "kl_div")
    rp, cp = binned(r, c, categorical, fill)
    if test == "jensenshannon":
        return distance.jensenshannon(rp, cp), math.nan
    if test == "kl_div":
        return stats.entropy(rp, cp), math.nan
    if test == "hellinger":
        rp, cp = rp / rp.sum(), cp / cp.sum()
        return math.sqrt(np.sum((np.sqrt(rp) - np.sqrt(cp)) ** 2) / 2), math.nan
    if test == "TV":
        return 0.5 * np.sum(np.abs(rp / rp.sum() - cp / cp.sum())), math.nan
    if test == "psi":
        rp = np.where(rp == 0, 1e-4, rp)
        cp = np.where(cp == 0, 1e-4, cp)
        return float(np.sum((cp - rp) * np.log(cp / rp))), math.nan
    raise ValueError(test)


def correct(ps, how):
    ps = np.array(ps, dtype=float)
    ok = ~np.isnan(ps)
    m = int(ok.sum())
    out = ps.copy()
    if how == "bonferroni":
        out[ok] = np.minimum(1.0, ps[ok] * m)
    elif how == "bh":
        idx = np.where(ok)[0]
        order = idx[np.argsort(ps[idx], kind="stable")]
        running = 1.0
        for rank in range(m, 0, -1):
            i = order[rank - 1]
            running = min(running, ps[i] * m / rank)
            out[i] = running
    return out


def case(w, name, columns, correction="none", drift_share=0.5, pthr=0.05, dthr=0.1):
    """columns: list of dict(name, cat, ref=Gen|list, cur=Gen|list, test=None, thr=0)"""
    fields = {"columns": str(len(columns)), "correction": correction, "drift_share": drift_share}
    results = []
    for i, col in enumerate(columns):
        ref = col["ref"].values() if isinstance(col["ref"], Gen) else col["ref"]
        cur = col["cur"].values() if isinstance(col["cur"], Gen) else col["cur"]
        cat = col.get("cat", False)
        r, c = kept(ref, cat), kept(cur, cat)
        distinct = len(np.union1d(r, c))
        test = col.get("test") or default_test(cat, len(r), distinct)
        stat, p = run_test(test, r, c, cat)
        is_p = not math.isnan(p)
        thr = col.get("thr") or (pthr if is_p else dthr)
        results.append(dict(test=test, stat=stat, p=p, is_p=is_p, thr=thr, r=r, c=c, distinct=distinct,
                            mref=len(ref) - len(r), mcur=len(cur) - len(c)))
        fields["c%d.name" % i] = col["name"]
        fields["c%d.type" % i] = "categorical" if cat else "numeric"
        fields["c%d.ref" % i] = col["ref"]
        fields["c%d.cur" % i] = col["cur"]
        if col.get("test"):
            fields["c%d.override" % i] = col["test"]
        if col.get("thr"):
            fields["c%d.override_threshold" % i] = col["thr"]
    adj = correct([x["p"] for x in results], correction)
    ndrift = 0
    for i, x in enumerate(results):
        drifted = (adj[i] < x["thr"]) if x["is_p"] else (x["stat"] >= x["thr"])
        ndrift += int(drifted)
        fields["c%d.want_test" % i] = x["test"]
        fields["c%d.want_statistic" % i] = x["stat"]
        fields["c%d.want_pvalue" % i] = x["p"]
        fields["c%d.want_pvalue_corrected" % i] = adj[i]
        fields["c%d.want_threshold" % i] = x["thr"]
        fields["c%d.want_drifted" % i] = str(int(drifted))
        fields["c%d.want_n" % i] = [len(x["r"]), len(x["c"]), x["mref"], x["mcur"], x["distinct"]]
    share = ndrift / len(columns)
    fields["want_ndrifted"] = str(ndrift)
    fields["want_share"] = share
    fields["want_dataset_drift"] = str(int(share >= drift_share))
    w.case(name, **fields)


def main():
    w = Writer(os.path.join(HERE, "report.vec"), __doc__.strip().splitlines()[0] + "\nscipy " +
               __import__("scipy").__version__ + ", numpy " + np.__version__)
    nan, inf = math.nan, math.inf
    # Small reference: KS, chi-square, z (numeric and categorical).
    case(w, "small_reference_defaults", [
        dict(name="age", ref=Gen("normal", 1, 300, 50, 10), cur=Gen("normal", 2, 250, 53, 10)),
        dict(name="rooms", ref=Gen("int", 3, 300, 1, 4), cur=Gen("int", 4, 250, 1, 5)),
        dict(name="smoker", ref=Gen("int", 5, 300, 0, 1), cur=Gen("int", 6, 250, 0, 1)),
        dict(name="city", cat=True, ref=Gen("int", 7, 300, 0, 6), cur=Gen("int", 8, 250, 0, 6)),
        dict(name="flag", cat=True, ref=Gen("int", 9, 300, 3, 4), cur=Gen("int", 10, 250, 3, 4)),
    ])
    # Large reference: normed Wasserstein, JS on sturges bins, JS on categories.
    case(w, "large_reference_defaults", [
        dict(name="income", ref=Gen("normal", 11, 5000, 100, 15), cur=Gen("normal", 12, 4000, 100, 15)),
        dict(name="shifted", ref=Gen("normal", 13, 5000, 0, 1), cur=Gen("normal", 14, 4000, 0.5, 1)),
        dict(name="grade", ref=Gen("int", 15, 5000, 1, 5), cur=Gen("int", 16, 4000, 1, 5)),
        dict(name="country", cat=True, ref=Gen("int", 17, 5000, 0, 30), cur=Gen("int", 18, 4000, 5, 40)),
    ])
    # Missing values: NaN and ±Inf (numeric), codes < 0 (categorical).
    case(w, "missing_values", [
        dict(name="x", ref=[1.5, nan, 2.5, inf, 3.5, 4.5, -inf, 5.5, 6.5, 7.5],
             cur=[2.0, 3.0, nan, 4.0, 5.0, 6.0, 7.0, 8.0]),
        dict(name="k", cat=True, ref=[0, 1, -1, 2, 2, 1, 0, -5], cur=[2, 2, 1, -1, 0, 2]),
    ])
    # Every test by override, on the same two numeric samples.
    tests = ["ks", "chisquare", "wasserstein", "jensenshannon", "psi", "kl_div", "hellinger", "TV", "anderson",
             "cramer_von_mises", "mannw", "ed"]
    case(w, "every_numeric_test", [
        dict(name="t_" + t, test=t, ref=Gen("normal", 20, 400, 0, 1) if t != "chisquare" else Gen("int", 20, 400, 0, 5),
             cur=Gen("normal", 21, 300, 0.2, 1.1) if t != "chisquare" else Gen("int", 21, 300, 0, 6))
        for t in tests])
    case(w, "every_categorical_test", [
        dict(name="t_" + t, test=t, cat=True, ref=Gen("int", 30, 400, 0, 8), cur=Gen("int", 31, 300, 1, 9))
        for t in ["chisquare", "jensenshannon", "psi", "kl_div", "hellinger", "TV"]])
    # Thresholds and corrections over several p-value columns.
    cols = [dict(name="p%d" % i, ref=Gen("normal", 40 + i, 200, 0, 1), cur=Gen("normal", 60 + i, 200, 0.04 * i, 1))
            for i in range(8)]
    for corr in ("none", "bonferroni", "bh"):
        case(w, "correction_" + corr, cols, correction=corr)
    case(w, "thresholds_and_share", [
        dict(name="a", ref=Gen("normal", 80, 300, 0, 1), cur=Gen("normal", 81, 300, 0.1, 1), thr=0.5),
        dict(name="b", ref=Gen("normal", 82, 3000, 0, 1), cur=Gen("normal", 83, 3000, 0.1, 1), thr=0.05),
        dict(name="c", ref=Gen("normal", 84, 300, 0, 1), cur=Gen("normal", 85, 300, 0, 1)),
    ], drift_share=0.6)
    w.close()


if __name__ == "__main__":
    main()
