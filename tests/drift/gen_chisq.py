"""Test vectors for tests/test_drift_chisq.c: scipy.stats.chisquare,
scipy.stats.chi2_contingency and the two-proportion Z-test. Run with
Debian's /usr/bin/python3 (python3-scipy, python3-mpmath); writes
tests/drift/chisq.vec.

Expectations come from scipy 1.10.1, except where noted:
  - chi2_contingency: the library leaves out rows and columns of zeros
    before anything (scipy raises for them), so the expected values are
    scipy's on the reduced table, with 0 expected counts put back in the
    left-out cells; a table reduced to one row or one column gives
    statistic 0, p-value 1, dof 0, as scipy's dof == 0 case.
  - Z-test: Evidently's z_stat_test, transcribed below with numpy/scipy
    (evidently_z). The library forms p1 - p2 and 1 - P without
    cancellation; where Evidently's transcription loses digits to that
    cancellation (proportions close: 5 digits lost at 0.50001 vs 0.49998, or P within
    1e-8 of 1),
    the vector holds the exact z (rational arithmetic, mpmath square root)
    and the script asserts elsewhere that the two agree to 1e-13. The
    p-value is 2 * norm.sf(|z|), Evidently's 2 * (1 - norm.cdf(|z|))
    without its underflow to 0 beyond |z| = 8.3.
Every scipy p-value is also checked against mpmath (50 digits) to 1e-11,
so the far-tail values (below 1e-300) are the true ones.
"""
import math
import os
import random
from fractions import Fraction

import mpmath
import numpy as np
import scipy.stats as st

from vecgen import Gen, Writer

mpmath.mp.dps = 50


def true_chi2_sf(x, k):
    if k <= 0:
        return math.nan
    return mpmath.gammainc(mpmath.mpf(k) / 2, mpmath.mpf(x) / 2, regularized=True)


def check_p(p, stat, dof):
    """scipy's p-value against mpmath's."""
    if math.isnan(p):
        assert dof <= 0
        return
    t = true_chi2_sf(stat, dof)
    assert abs(p - t) <= 1e-11 * t + 1e-300, (stat, dof, p, t)


# ---- chisquare ----------------------------------------------------------------

def chisquare_cases(w, rng):
    def case(name, f_obs, f_exp=None, ddof=0, gen=None):
        obs = np.asarray(gen.values() if gen is not None else f_obs, dtype=float)
        r = st.chisquare(obs, f_exp=None if f_exp is None else np.asarray(f_exp, dtype=float), ddof=ddof)
        dof = len(obs) - 1 - ddof
        check_p(float(r.pvalue), float(r.statistic), dof)
        fields = {"f_obs": gen if gen is not None else list(map(float, obs))}
        if f_exp is not None:
            fields["f_exp"] = [float(v) for v in f_exp]
        fields.update(ddof=float(ddof), stat=float(r.statistic), p=float(r.pvalue), dof=float(dof))
        w.case("chisquare_" + name, **fields)

    # scipy's documentation examples
    case("doc_uniform", [16, 18, 16, 14, 12, 12])
    case("doc_fexp", [16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8])
    case("doc_ddof1", [16, 18, 16, 14, 12, 12], ddof=1)
    case("doc_ddof2", [16, 18, 16, 14, 12, 12], ddof=2)
    case("ddof_negative", [16, 18, 16, 14, 12, 12], ddof=-1)
    # dof <= 0: scipy's p-value is NaN
    case("one_category", [7])
    case("dof_zero", [3, 9], ddof=1)
    case("dof_negative", [3, 9, 4], ddof=5)
    # zero observed counts in some categories, identical counts (statistic 0)
    case("zeros", [0, 0, 12, 0, 3])
    case("identical", [5, 5, 5, 5])
    case("two", [1, 0])
    # non-integer counts, f_exp a different total within scipy's 1e-8
    case("fractional", [0.5, 2.25, 7.125, 3.0], [3.0, 3.0, 4.4375, 2.4375])
    case("sum_within_tol", [10, 20, 30], [10.0, 20.0, 30.0000003])
    # far tails: p-values from 1e-100 to below 1e-300
    for d in (700, 1000, 1300, 1500, 1600):
        case("tail_%d" % d, [1000 + d // 2, 1000 - d // 2])
    case("tail_k5", [660, 85, 85, 85, 85])
    # random
    for i in range(12):
        k = rng.randint(2, 60)
        obs = [rng.randint(0, 40) for _ in range(k)]
        if sum(obs) == 0:
            obs[0] = 1
        if i % 2:
            pr = np.array([rng.random() + 0.05 for _ in range(k)])
            exp = list(pr / pr.sum() * sum(obs))
            case("random_%d" % i, obs, exp, ddof=rng.randint(0, 2))
        else:
            case("random_%d" % i, obs)
    # many categories, generated
    case("k100000", None, gen=Gen("int", 7, 100000, 0, 20))
    case("k1000000", None, gen=Gen("int", 8, 1000000, 0, 3))


# ---- chi2_contingency -----------------------------------------------------------

def reduced(table):
    t = np.asarray(table, dtype=float)
    rows = t.sum(axis=1) > 0
    cols = t.sum(axis=0) > 0
    return t, rows, cols


def contingency_cases(w, rng):
    def case(name, table, correction=True, store_expected=True, gen=None, shape=None):
        if gen is not None:
            t = np.asarray(gen.values(), dtype=float).reshape(shape)
        else:
            t = np.asarray(table, dtype=float)
        full, rows, cols = reduced(t)
        sub = full[rows][:, cols]
        exp_full = np.zeros_like(full)
        if sub.shape[0] == 1 or sub.shape[1] == 1:
            stat, p, dof = 0.0, 1.0, 0
            if sub.size:
                exp_full[np.ix_(rows, cols)] = st.contingency.expected_freq(sub)
        else:
            r = st.chi2_contingency(sub, correction=correction)
            stat, p, dof = float(r.statistic), float(r.pvalue), int(r.dof)
            check_p(p, stat, dof)
            exp_full[np.ix_(rows, cols)] = r.expected_freq
        fields = {"table": gen if gen is not None else [float(v) for v in full.ravel()]}
        fields.update(rows=float(full.shape[0]), cols=float(full.shape[1]), correction=float(bool(correction)),
                      stat=stat, p=p, dof=float(dof), kept_rows=float(rows.sum()), kept_cols=float(cols.sum()))
        if store_expected:
            fields["expected"] = [float(v) for v in exp_full.ravel()]
        w.case("contingency_" + name, **fields)

    case("doc_2x3", [[10, 10, 20], [20, 20, 20]])
    case("doc_2x3_nocorr", [[10, 10, 20], [20, 20, 20]], correction=False)
    # 2 x 2: Yates' correction or not; cells within 0.5 of expected
    # (scipy's gh-13875 rule: never moved past the expected count)
    for corr in (True, False):
        tag = "yates" if corr else "plain"
        case("2x2_" + tag, [[12, 5], [7, 9]], correction=corr)
        case("2x2_near_" + tag, [[5, 5], [5, 6]], correction=corr)
        case("2x2_equal_" + tag, [[4, 8], [4, 8]], correction=corr)
        case("2x2_tail_" + tag, [[700, 0], [0, 700]], correction=corr)
        case("2x2_frac_" + tag, [[2.5, 0.75], [1.25, 6.0]], correction=corr)
    # a category seen in one sample only, zero rows and columns dropped
    case("unseen_category", [[10, 0, 5, 7], [8, 4, 0, 9]])
    case("zero_column", [[10, 0, 5, 7], [8, 0, 6, 9]])
    case("zero_column_to_2x2", [[10, 0, 5], [8, 0, 16]])
    case("zero_column_to_2x2_plain", [[10, 0, 5], [8, 0, 16]], correction=False)
    case("zero_row_and_column", [[0, 0, 0, 0], [3, 0, 4, 1], [2, 0, 9, 5]])
    # one row or one column left: statistic 0, p-value 1, dof 0
    case("one_row_left", [[0, 0, 0], [3, 4, 5]])
    case("one_col_left", [[0, 3], [0, 4], [0, 9]])
    case("single_row", [[3, 4, 5]])
    case("single_col", [[3], [4]])
    case("single_cell", [[5]])
    case("one_nonzero", [[0, 0], [0, 2]])
    # far tails
    case("tail_2x3", [[600, 100, 0], [0, 100, 600]])
    case("tail_3x3", [[260, 25, 5], [25, 260, 25], [5, 25, 260]])
    # random tables
    for i in range(12):
        r, c = rng.randint(2, 5), rng.randint(2, 9)
        t = [[rng.randint(0, 30) for _ in range(c)] for _ in range(r)]
        if i % 3 == 0:
            t[rng.randrange(r)][rng.randrange(c)] = 0
        case("random_%d" % i, t, correction=bool(i % 2))
    # large: 2 x 5000 and 50 x 200 with many zero columns (counts 0..1)
    case("2x5000", None, store_expected=False, gen=Gen("int", 11, 10000, 0, 1), shape=(2, 5000))
    case("50x200", None, store_expected=False, gen=Gen("int", 12, 10000, 0, 6), shape=(50, 200))


# ---- Z-test ---------------------------------------------------------------------

def evidently_z(x1, n1, x2, n2):
    """Evidently's proportions_diff_z_stat_ind on counts, with numpy."""
    p1 = float(x1) / n1
    p2 = float(x2) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    return (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))


def exact_z(x1, n1, x2, n2):
    s, f, n = x1 + x2, (n1 - x1) + (n2 - x2), n1 + n2
    num = Fraction(x1 * n2 - x2 * n1)
    return mpmath.mpf(num.numerator) * mpmath.sqrt(mpmath.mpf(n) / (mpmath.mpf(n1) * n2 * s * f))


def ztest_cases(w, rng):
    def case(name, x1, n1, x2, n2, cancels=False):
        if x1 + x2 == 0 or x1 + x2 == n1 + n2:
            # Evidently: one value in both samples -> p-value 1
            z, p = 0.0, 1.0
        else:
            ze = float(exact_z(x1, n1, x2, n2))
            with np.errstate(all="ignore"):
                zn = float(evidently_z(x1, n1, x2, n2))
            if cancels:
                # the transcription's digits are lost here: exact value
                assert abs(zn - ze) > 1e-13 * abs(ze), (name, zn, ze)
                z = ze
            else:
                assert abs(zn - ze) <= 1e-13 * abs(ze), (name, zn, ze)
                z = zn
            p = float(2 * st.norm.sf(abs(z)))
            tp = 2 * mpmath.ncdf(-abs(mpmath.mpf(z)))
            assert abs(p - tp) <= 1e-11 * tp + 1e-300, (name, p, tp)
        w.case("ztest_" + name, x1=float(x1), n1=float(n1), x2=float(x2), n2=float(n2), z=z, p=p)

    case("basic", 50, 100, 60, 120)
    case("basic_greater", 70, 100, 50, 100)
    case("basic_less", 10, 200, 35, 150)
    case("equal", 30, 100, 30, 100)
    case("equal_unequal_n", 25, 100, 50, 200)
    case("both_zero", 0, 10, 0, 25)
    case("both_one", 10, 10, 25, 25)
    case("zero_vs_some", 0, 10, 3, 10)
    case("all_vs_some", 10, 10, 3, 10)
    case("size_one", 1, 1, 0, 1)
    case("size_one_two", 0, 1, 1, 2)
    case("far_tail", 11850, 20000, 8150, 20000)
    case("far_tail_neg", 8150, 20000, 11850, 20000)
    case("large_n_unequal", 500000000, 1000000000, 520, 1000)
    case("large_n", 500000123, 1000000000, 499980000, 1000000000, cancels=True)
    case("near_one", 999999999, 1000000000, 999999990, 1000000000, cancels=True)
    case("near_equal", 333333333, 1000000000, 333333334, 1000000003, cancels=True)
    for i in range(10):
        n1, n2 = rng.randint(1, 5000), rng.randint(1, 5000)
        x1 = rng.randint(0, n1)
        # x2 around n2 x1 / n1, so that |z| is a few units
        x2 = round(n2 * x1 / n1 + rng.gauss(0, 1) * 2 * math.sqrt(n2 * 0.25))
        case("random_%d" % i, x1, n1, min(max(x2, 0), n2), n2)


def main():
    rng = random.Random(612)
    here = os.path.dirname(os.path.abspath(__file__))
    w = Writer(os.path.join(here, "chisq.vec"), """
Generated by tests/drift/gen_chisq.py from scipy 1.10.1 (see the script for
the two documented deviations: zero rows/columns of contingency tables are
left out; Z-test values exact where Evidently's formula cancels).
Do not edit.
""")
    chisquare_cases(w, rng)
    contingency_cases(w, rng)
    ztest_cases(w, rng)
    w.close()


if __name__ == "__main__":
    main()
