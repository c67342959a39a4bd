"""Drift statistics (``include/mlops/drift.h``): two-sample tests and
distances with scipy's names, fields and digits, mergeable column profiles,
and dataset reports.

    >>> from mlops import drift
    >>> r = drift.ks_2samp([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0])
    >>> r.statistic, round(r.pvalue, 6)
    (0.5, 0.771429)
    >>> drift.jensenshannon([0.5, 0.5], [0.9, 0.1], base=2)  # doctest: +ELLIPSIS
    0.3...

Samples are any sequence of numbers: numpy float64 arrays (and any
contiguous buffer of doubles, e.g. ``array.array('d')``) go in without a
copy; lists, tuples and other dtypes are converted. numpy is never
required. NaN values are dropped and counted, as scipy's
``nan_policy='omit'``; bad input raises :class:`mlops.InvalidArgumentError`
(a ``ValueError``) with the library's message.

The C library contains these functions only when built with
``-Ddrift=true``; otherwise every call raises :class:`mlops.UnsupportedError`.
"""

from __future__ import annotations

import ctypes
import json
import math
from ctypes import POINTER, byref, c_double, c_int, c_int64, c_size_t, c_uint64, c_void_p
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _lib
from ._util import Closing, NumberArray, encode_name, is_numpy, oid_hex, parse_oid
from .errors import UnsupportedError, check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = ["TestResult", "AndersonResult", "Chi2ContingencyResult", "ks_2samp", "chisquare",
           "chi2_contingency", "anderson_ksamp", "cramervonmises_2samp", "mannwhitneyu",
           "ztest_proportions", "psi", "kl_divergence", "jensenshannon", "hellinger", "total_variation",
           "wasserstein_distance", "wasserstein_normed", "energy_distance", "Profile", "ProfileStats",
           "ProfileDrift", "Report", "ColumnResult", "report", "available"]

_L = _lib.lib
_METHODS = {0: "auto", 1: "exact", 2: "asymptotic"}
_CORRECTIONS = {"none": 0, "bonferroni": 1, "bh": 2, "benjamini-hochberg": 2}
_NUMERIC, _CATEGORICAL = 0, 1


def available() -> bool:
    """True if the loaded library was built with drift statistics in full."""
    return _lib.has_module("drift")


def _c(name: str) -> Any:
    if _lib.has_function(name):
        return getattr(_L, name)
    raise UnsupportedError("libmlops at %s has no %s: rebuild it with meson -Ddrift=true"
                           % (_lib.path, name), code=UnsupportedError.code, name="EUNSUPPORTED")


def _parse(fn: str, text: str, what: str) -> int:
    if not isinstance(text, str):
        raise TypeError("%s must be a str, not %s" % (what, type(text).__name__))
    out = c_int()
    check(_c(fn)(byref(out), text.encode("utf-8")))
    return out.value


# ---- results ---------------------------------------------------------------

class TestResult:
    """A test's result with scipy's field names. Unpacks as
    ``statistic, pvalue`` like scipy's result objects."""

    __slots__ = ("statistic", "pvalue", "statistic_location", "statistic_sign", "method", "dof", "n1", "n2",
                 "nan1", "nan2")

    def __init__(self, t: _lib.DriftTest):
        self.statistic = t.statistic
        self.pvalue = t.pvalue
        self.statistic_location = t.statistic_location
        self.statistic_sign = t.statistic_sign
        self.method = _METHODS.get(t.method, "?")
        self.dof = t.dof
        self.n1, self.n2, self.nan1, self.nan2 = t.n1, t.n2, t.nan1, t.nan2

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.pvalue))

    def __getitem__(self, i: int) -> float:
        return (self.statistic, self.pvalue)[i]

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return "TestResult(statistic=%r, pvalue=%r)" % (self.statistic, self.pvalue)


@dataclass(frozen=True)
class Chi2ContingencyResult:
    """scipy.stats.chi2_contingency's result: ``statistic, pvalue, dof,
    expected_freq`` (also unpacks as that 4-tuple)."""
    statistic: float
    pvalue: float
    dof: int
    expected_freq: List[List[float]]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.statistic, self.pvalue, self.dof, self.expected_freq))


@dataclass(frozen=True)
class AndersonResult:
    """scipy.stats.anderson_ksamp's result: ``statistic``,
    ``critical_values`` (for 25%, 10%, 5%, 2.5%, 1%, 0.5%, 0.1%) and
    ``pvalue`` (alias ``significance_level``), capped to [0.001, 0.25]."""
    statistic: float
    critical_values: Tuple[float, ...]
    pvalue: float

    @property
    def significance_level(self) -> float:
        return self.pvalue

    def __iter__(self) -> Iterator[Any]:
        return iter((self.statistic, self.critical_values, self.pvalue))


def _arrays(*pairs: Tuple[Any, str]) -> List[NumberArray]:
    return [NumberArray(data, "d", what) for data, what in pairs]


def _release(arrays: Sequence[Optional[NumberArray]]) -> None:
    for a in arrays:
        if a is not None:
            a.release()


def _two_sample(fn: str, a: Any, b: Any, *extra: Any) -> TestResult:
    x, y = _arrays((a, "first sample"), (b, "second sample"))
    try:
        t = _lib.DriftTest()
        check(_c(fn)(byref(t), x.ptr, x.n, y.ptr, y.n, *extra))
        return TestResult(t)
    finally:
        _release((x, y))


# ---- tests -------------------------------------------------------------------

def ks_2samp(data1: Any, data2: Any, alternative: str = "two-sided", method: str = "auto") -> TestResult:
    """Two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp): ``statistic``,
    ``pvalue``, ``statistic_location``, ``statistic_sign``; ``method`` is
    ``"auto"``, ``"exact"`` or ``"asymp"``."""
    alt = _parse("mlops_drift_alternative_parse", alternative, "alternative")
    m = _parse("mlops_drift_method_parse", method, "method")
    return _two_sample("mlops_drift_ks_2samp", data1, data2, alt, m)


def chisquare(f_obs: Any, f_exp: Any = None, ddof: int = 0) -> TestResult:
    """Chi-square goodness of fit (scipy.stats.chisquare)."""
    obs = NumberArray(f_obs, "d", "f_obs")
    exp = None if f_exp is None else NumberArray(f_exp, "d", "f_exp")
    try:
        if exp is not None and exp.n != obs.n:
            raise invalid("f_obs has %d counts and f_exp %d" % (obs.n, exp.n))
        t = _lib.DriftTest()
        check(_c("mlops_drift_chisquare")(byref(t), obs.ptr, None if exp is None else exp.ptr, obs.n, int(ddof)))
        return TestResult(t)
    finally:
        _release((obs, exp))


def chi2_contingency(observed: Any, correction: bool = True) -> Chi2ContingencyResult:
    """Chi-square test of a contingency table (scipy.stats.chi2_contingency):
    a 2-D sequence (or numpy array) of counts. Rows and columns of zeros (a
    category seen in no sample) are left out."""
    rows = [list(r) for r in (observed.tolist() if is_numpy(observed) else observed)]
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        raise invalid("a contingency table is a non-empty 2-D table with rows of equal length")
    nr, nc = len(rows), len(rows[0])
    flat = NumberArray([v for r in rows for v in r], "d", "observed")
    expected = (c_double * max(nr * nc, 1))()
    try:
        t = _lib.DriftTest()
        check(_c("mlops_drift_chi2_contingency")(byref(t), expected, flat.ptr, nr, nc, 1 if correction else 0))
    finally:
        flat.release()
    exp = [[expected[i * nc + j] for j in range(nc)] for i in range(nr)]
    return Chi2ContingencyResult(t.statistic, t.pvalue, int(t.dof), exp)


def anderson_ksamp(samples: Sequence[Any]) -> AndersonResult:
    """Anderson-Darling k-sample test (scipy.stats.anderson_ksamp, midrank)."""
    arrays = [NumberArray(s, "d", "sample %d" % i) for i, s in enumerate(samples)]
    try:
        ptrs = (c_void_p * max(len(arrays), 1))(*[a.ptr for a in arrays])
        sizes = (c_size_t * max(len(arrays), 1))(*[a.n for a in arrays])
        out = _lib.DriftAnderson()
        check(_c("mlops_drift_anderson_ksamp")(byref(out), ptrs, sizes, len(arrays)))
        return AndersonResult(out.statistic, tuple(out.critical_values), out.pvalue)
    finally:
        _release(arrays)


def cramervonmises_2samp(x: Any, y: Any, method: str = "auto") -> TestResult:
    """Cramér-von Mises two-sample test (scipy.stats.cramervonmises_2samp)."""
    m = _parse("mlops_drift_method_parse", method, "method")
    return _two_sample("mlops_drift_cramervonmises_2samp", x, y, m)


def mannwhitneyu(x: Any, y: Any, use_continuity: bool = True, alternative: str = "two-sided",
                 method: str = "auto") -> TestResult:
    """Mann-Whitney U test (scipy.stats.mannwhitneyu): U of the first sample."""
    alt = _parse("mlops_drift_alternative_parse", alternative, "alternative")
    m = _parse("mlops_drift_method_parse", method, "method")
    return _two_sample("mlops_drift_mannwhitneyu", x, y, alt, 1 if use_continuity else 0, m)


def ztest_proportions(successes1: int, n1: int, successes2: int, n2: int) -> TestResult:
    """Z-test for two proportions with a pooled standard error, two-sided."""
    t = _lib.DriftTest()
    for v in (successes1, n1, successes2, n2):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise invalid("counts must be non-negative ints, not %r" % (v,))
    check(_c("mlops_drift_ztest_proportions")(byref(t), successes1, n1, successes2, n2))
    return TestResult(t)


# ---- distances -----------------------------------------------------------------

def psi(reference: Any, current: Any, bins: int = 10, edges: Any = None, epsilon: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``reference``:
    ``bins`` bins between the reference's quantiles (outer bins open), or
    the given ``edges`` (numpy.histogram's bins); empty bins count as
    ``epsilon``."""
    if isinstance(bins, bool) or not isinstance(bins, int):
        raise TypeError("bins must be an int, not %s" % type(bins).__name__)
    if bins < 1:
        raise invalid("bins must be at least 1, not %d" % bins)
    r, c = _arrays((reference, "reference"), (current, "current"))
    e = None if edges is None else NumberArray(edges, "d", "edges")
    try:
        o = _lib.DriftPsiOptions()
        check(_c("mlops_drift_psi_options_init")(byref(o), 1))
        o.bins = bins
        o.epsilon = float(epsilon)
        if e is not None:
            o.edges = e.ptr
            o.nedges = e.n
        out = c_double()
        check(_c("mlops_drift_psi")(byref(out), r.ptr, r.n, c.ptr, c.n, byref(o)))
        return out.value
    finally:
        _release((r, c, e))


def _pq(fn: str, p: Any, q: Any, *extra: Any) -> float:
    a, b = _arrays((p, "p"), (q, "q"))
    try:
        if a.n != b.n:
            raise invalid("p has %d weights and q %d" % (a.n, b.n))
        out = c_double()
        check(_c(fn)(byref(out), a.ptr, b.ptr, a.n, *extra))
        return out.value
    finally:
        _release((a, b))


def _base(base: Optional[float]) -> float:
    return 0.0 if base is None else float(base)


def kl_divergence(p: Any, q: Any, base: Optional[float] = None) -> float:
    """KL divergence D(p || q) = scipy.stats.entropy(p, q, base)."""
    return _pq("mlops_drift_kl_divergence", p, q, _base(base))


def jensenshannon(p: Any, q: Any, base: Optional[float] = None) -> float:
    """Jensen-Shannon distance (scipy.spatial.distance.jensenshannon)."""
    return _pq("mlops_drift_jensenshannon", p, q, _base(base))


def hellinger(p: Any, q: Any) -> float:
    """Hellinger distance of two distributions (normalized first)."""
    return _pq("mlops_drift_hellinger", p, q)


def total_variation(p: Any, q: Any) -> float:
    """Total variation distance of two distributions (normalized first)."""
    return _pq("mlops_drift_total_variation", p, q)


def _weighted(fn: str, u: Any, v: Any, uw: Any, vw: Any) -> float:
    a, b = _arrays((u, "u_values"), (v, "v_values"))
    wa = None if uw is None else NumberArray(uw, "d", "u_weights")
    wb = None if vw is None else NumberArray(vw, "d", "v_weights")
    try:
        if wa is not None and wa.n != a.n:
            raise invalid("u_weights has %d weights for %d values" % (wa.n, a.n))
        if wb is not None and wb.n != b.n:
            raise invalid("v_weights has %d weights for %d values" % (wb.n, b.n))
        out = c_double()
        check(_c(fn)(byref(out), a.ptr, a.n, b.ptr, b.n, None if wa is None else wa.ptr,
                     None if wb is None else wb.ptr))
        return out.value
    finally:
        _release((a, b, wa, wb))


def wasserstein_distance(u_values: Any, v_values: Any, u_weights: Any = None, v_weights: Any = None) -> float:
    """Wasserstein-1 distance (scipy.stats.wasserstein_distance)."""
    return _weighted("mlops_drift_wasserstein", u_values, v_values, u_weights, v_weights)


def energy_distance(u_values: Any, v_values: Any, u_weights: Any = None, v_weights: Any = None) -> float:
    """Energy distance (scipy.stats.energy_distance)."""
    return _weighted("mlops_drift_energy_distance", u_values, v_values, u_weights, v_weights)


def wasserstein_normed(reference: Any, current: Any) -> float:
    """Wasserstein-1 divided by the reference's standard deviation
    (Evidently's normed form)."""
    a, b = _arrays((reference, "reference"), (current, "current"))
    try:
        out = c_double()
        check(_c("mlops_drift_wasserstein_normed")(byref(out), a.ptr, a.n, b.ptr, b.n))
        return out.value
    finally:
        _release((a, b))


# ---- profiles -------------------------------------------------------------------

@dataclass(frozen=True)
class ProfileStats:
    """What a profile knows of its column."""
    kind: str
    count: int
    missing: int
    min: float
    max: float
    mean: float
    variance: float
    rank_error: int
    epsilon: float
    ncategories: int


@dataclass(frozen=True)
class ProfileDrift:
    """Drift between two profiles (:meth:`Profile.compare`)."""
    ks_statistic: float
    ks_error_bound: float
    psi: float
    jensenshannon: float
    hellinger: float


class Profile(Closing):
    """A mergeable summary of one column, built from chunks: count, missing,
    min/max/mean/variance, an exact histogram on ``edges``, a quantile
    sketch with a proven rank-error bound (numeric), or category counts
    (``kind="categorical"``, int codes, negative = missing)."""

    def __init__(self, kind: str = "numeric", edges: Any = None, sketch_k: int = 0, _handle: Any = None):
        self._p: Optional[int] = None
        if _handle is not None:
            self._p = _handle
            return
        if kind not in ("numeric", "categorical"):
            raise invalid("kind is 'numeric' or 'categorical', not %r" % (kind,))
        e = None if edges is None else NumberArray(edges, "d", "edges")
        try:
            o = _lib.DriftProfileOptions()
            check(_c("mlops_drift_profile_options_init")(byref(o), 1))
            o.type = _NUMERIC if kind == "numeric" else _CATEGORICAL
            if e is not None:
                o.edges = e.ptr
                o.nedges = e.n
            o.sketch_k = int(sketch_k)
            h = c_void_p()
            check(_c("mlops_drift_profile_new")(byref(h), byref(o)))
            self._p = h.value
        finally:
            _release((e,))

    @property
    def _h(self) -> int:
        if self._p is None:
            raise invalid("the profile is closed")
        return self._p

    def add(self, values: Any) -> "Profile":
        """Adds numbers (numeric profile) or int codes (categorical)."""
        if self.stats.kind == "categorical":
            a = NumberArray(values, "q", "codes")
            try:
                check(_c("mlops_drift_profile_add_codes")(self._h, a.ptr, a.n))
            finally:
                a.release()
            return self
        a = NumberArray(values, "d", "values")
        try:
            check(_c("mlops_drift_profile_add")(self._h, a.ptr, a.n))
        finally:
            a.release()
        return self

    def merge(self, other: "Profile") -> "Profile":
        """Adds everything ``other`` summarizes (same kind, edges, sketch_k)."""
        check(_c("mlops_drift_profile_merge")(self._h, other._h))
        return self

    @property
    def stats(self) -> ProfileStats:
        s = _lib.DriftProfileStats()
        check(_c("mlops_drift_profile_stats_get")(byref(s), self._h))
        return ProfileStats("categorical" if s.type == _CATEGORICAL else "numeric", s.count, s.missing, s.min,
                            s.max, s.mean, s.variance, s.rank_error, s.epsilon, s.ncategories)

    def quantile(self, q: float) -> float:
        out = c_double()
        check(_c("mlops_drift_profile_quantile")(byref(out), self._h, float(q)))
        return out.value

    def cdf(self, x: float) -> float:
        out = c_double()
        check(_c("mlops_drift_profile_cdf")(byref(out), self._h, float(x)))
        return out.value

    @property
    def histogram(self) -> List[int]:
        counts = POINTER(c_uint64)()
        n = c_size_t()
        check(_c("mlops_drift_profile_histogram")(byref(counts), byref(n), self._h))
        return [counts[i] for i in range(n.value)]

    @property
    def categories(self) -> Dict[int, int]:
        codes, counts = POINTER(c_int64)(), POINTER(c_uint64)()
        n = c_size_t()
        check(_c("mlops_drift_profile_categories")(byref(codes), byref(counts), byref(n), self._h))
        return {codes[i]: counts[i] for i in range(n.value)}

    def encode(self) -> bytes:
        """The profile's serialized form (docs/FORMAT.md)."""
        ptr, n = c_void_p(), c_size_t()
        check(_c("mlops_drift_profile_encode")(byref(ptr), byref(n), self._h))
        try:
            return ctypes.string_at(ptr, n.value)
        finally:
            _L.mlops_free(ptr)

    @classmethod
    def decode(cls, data: bytes) -> "Profile":
        raw = bytes(data)
        h = c_void_p()
        check(_c("mlops_drift_profile_decode")(byref(h), raw, len(raw)))
        return cls(_handle=h.value)

    def save(self, store: "Store") -> str:
        """Stores the profile as an object; returns its id (hex)."""
        oid = _lib.Oid()
        check(_c("mlops_drift_profile_save")(byref(oid), store._handle, self._h))
        return oid_hex(oid)

    @classmethod
    def load(cls, store: "Store", object_id: Union[str, bytes]) -> "Profile":
        oid = parse_oid(object_id)
        h = c_void_p()
        check(_c("mlops_drift_profile_load")(byref(h), store._handle, byref(oid)))
        return cls(_handle=h.value)

    def compare(self, current: Union["Profile", Any]) -> ProfileDrift:
        """Drift of ``current`` (a profile, or raw values profiled with this
        profile's settings) against this reference profile."""
        cur = current
        if not isinstance(current, Profile):
            h = c_void_p()
            check(_c("mlops_drift_profile_new_like")(byref(h), self._h))
            cur = Profile(_handle=h.value)
            try:
                cur.add(current)
            except BaseException:
                cur.close()
                raise
        d = _lib.DriftProfileDrift()
        try:
            check(_c("mlops_drift_profile_compare")(byref(d), self._h, cur._h))
        finally:
            if cur is not current:
                cur.close()
        return ProfileDrift(d.ks_statistic, d.ks_error_bound, d.psi, d.jensenshannon, d.hellinger)

    def close(self) -> None:
        if self._p is not None:
            _L.mlops_drift_profile_free(self._p)
            self._p = None



# ---- dataset report -------------------------------------------------------------

@dataclass(frozen=True)
class ColumnResult:
    """One column of a :class:`Report`. ``pvalue`` is None for distances."""
    name: str
    kind: str
    test: str
    statistic: float
    pvalue: Optional[float]
    pvalue_corrected: Optional[float]
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    missing_reference: int
    missing_current: int
    distinct: int


class Report:
    """A dataset drift report: :attr:`columns`, :attr:`dataset_drift`,
    :attr:`share_drifted`, and the library's JSON (:attr:`json`)."""

    def __init__(self, c: Any):
        r = c.contents
        self.columns: List[ColumnResult] = []
        for i in range(r.ncolumns):
            x = r.columns[i]
            p = None if not x.is_pvalue else x.pvalue
            pc = None if not x.is_pvalue else x.pvalue_corrected
            self.columns.append(ColumnResult(
                x.name.decode("utf-8"), "categorical" if x.type == _CATEGORICAL else "numeric",
                _L.mlops_drift_stattest_name(x.test).decode(), x.statistic, p, pc, x.threshold, bool(x.drifted),
                x.n_reference, x.n_current, x.missing_reference, x.missing_current, x.distinct))
        self.ndrifted: int = r.ndrifted
        self.share_drifted: float = r.share_drifted
        self.drift_share: float = r.drift_share
        self.dataset_drift: bool = bool(r.dataset_drift)
        self.correction: str = {0: "none", 1: "bonferroni", 2: "bh"}.get(r.correction, "?")
        ptr, n = c_void_p(), c_size_t()
        check(_c("mlops_drift_report_json")(byref(ptr), byref(n), c))
        try:
            self.json: str = ctypes.string_at(ptr, n.value).decode("utf-8")
        finally:
            _L.mlops_free(ptr)

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(self.json)

    def save(self, store: "Store") -> str:
        """Stores the report's JSON as an object; returns its id (hex)."""
        return store.put(self.json.encode("utf-8"))

    def __getitem__(self, name: str) -> ColumnResult:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __str__(self) -> str:
        corrected = self.correction != "none"
        lines = ["%-28s %-12s %-16s %12s %12s  %s" % ("column", "type", "test", "statistic",
                                                       "p (%s)" % self.correction if corrected else "p-value",
                                                       "drift")]
        for c in self.columns:
            p = "" if c.pvalue is None else "%.4g" % (c.pvalue_corrected if corrected else c.pvalue)
            lines.append("%-28s %-12s %-16s %12.4g %12s  %s" % (c.name[:28], c.kind, c.test, c.statistic, p,
                                                                 "DRIFT" if c.drifted else "-"))
        lines.append("%d of %d columns drifted (%.0f%%; dataset drift at %.0f%%): %s" % (
            self.ndrifted, len(self.columns), 100 * self.share_drifted, 100 * self.drift_share,
            "DATASET DRIFT" if self.dataset_drift else "no dataset drift"))
        return "\n".join(lines)


def _is_categorical(values: Any) -> bool:
    if is_numpy(values):
        return values.dtype.kind in "OUSb"
    if isinstance(values, (bytes, bytearray, str)):
        raise TypeError("a column is a sequence of values, not %s" % type(values).__name__)
    try:
        memoryview(values).release()
        return False  # a buffer of numbers
    except TypeError:
        pass
    return any(isinstance(v, (str, bytes, bool)) for v in values)


class _Columns:
    """The C column arrays of a report call, with what they point into."""

    def __init__(self, table: Mapping[str, Any], kinds: Dict[str, int],
                 labels: Dict[str, Optional[Dict[Any, int]]], what: str):
        if not isinstance(table, Mapping):
            raise TypeError("%s must be a mapping of column name to values" % what)
        self.keep: List[Any] = []
        self.arr = (_lib.DriftColumn * max(len(table), 1))()
        self.n = len(table)
        for i, (name, values) in enumerate(table.items()):
            if not isinstance(name, str):
                raise TypeError("column names are str, not %s" % type(name).__name__)
            raw = encode_name(name, "column name")
            self.keep.append(raw)
            col = self.arr[i]
            col.name = raw
            kind = kinds.get(name, _NUMERIC)
            col.type = kind
            if kind == _NUMERIC:
                if not is_numpy(values) and not _is_buffer(values):
                    values = [math.nan if v is None else v for v in values]
                a = NumberArray(values, "d", "column %r" % name)
                self.keep.append(a)
                col.values = a.ptr
                col.n = a.n
            else:
                codes = _codes(values, labels.get(name), name)
                a = NumberArray(codes, "q", "column %r" % name)
                self.keep.append(a)
                col.codes = a.ptr
                col.n = a.n

    def release(self) -> None:
        for k in self.keep:
            if isinstance(k, NumberArray):
                k.release()
        self.keep = []


def _is_buffer(values: Any) -> bool:
    try:
        memoryview(values).release()
        return True
    except TypeError:
        return False


def _plain(values: Any) -> List[Any]:
    return values.tolist() if is_numpy(values) else list(values)


def _int_codes(*columns: Any) -> bool:
    """True when every label of the column (both tables) is an int code."""
    return all(v is None or (isinstance(v, float) and math.isnan(v)) or
               (isinstance(v, int) and not isinstance(v, bool)) for col in columns for v in _plain(col))


def _codes(values: Any, labels: Optional[Dict[Any, int]], name: str) -> List[int]:
    """Category codes: int codes stay as they are (negative = missing) when
    labels is None; otherwise every label gets a code shared by the
    reference and current columns. None and NaN are missing."""
    out = []
    for v in _plain(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(-1)
        elif labels is None:
            out.append(v)
        else:
            out.append(labels.setdefault(v, len(labels)))
    return out


def _test_id(name: Optional[str], what: str) -> int:
    if name is None:
        return 0
    return _parse("mlops_drift_stattest_parse", name, what)


def report(reference: Mapping[str, Any], current: Mapping[str, Any], *, drift_share: float = 0.5,
           correction: str = "none", numeric_test: Optional[str] = None, categorical_test: Optional[str] = None,
           pvalue_threshold: Optional[float] = None, distance_threshold: Optional[float] = None,
           tests: Optional[Mapping[str, str]] = None, thresholds: Optional[Mapping[str, float]] = None,
           categorical: Optional[Sequence[str]] = None) -> Report:
    """Drift of every reference column in ``current`` (dicts of column name
    to values). A column is categorical when named in ``categorical`` or
    when its values are strings, bytes or bools (labels are coded
    consistently across both tables; None is missing); otherwise numeric
    (NaN and ±Inf missing). The default test per column follows
    Evidently's rule; ``tests`` and ``thresholds`` override it per column
    (test names as Evidently's: "ks", "chisquare", "z", "wasserstein",
    "jensenshannon", "psi", "kl_div", "hellinger", "TV", "anderson",
    "cramer_von_mises", "mannw", "ed"). ``correction`` is "none",
    "bonferroni" or "bh" (Benjamini-Hochberg)."""
    if correction not in _CORRECTIONS:
        raise invalid("correction is one of none, bonferroni, bh, not %r" % (correction,))
    forced = set(categorical or ())
    kinds = {}
    for name, values in reference.items():
        cur = current.get(name) if isinstance(current, Mapping) else None
        cat = name in forced or _is_categorical(values) or (cur is not None and _is_categorical(cur))
        kinds[name] = _CATEGORICAL if cat else _NUMERIC
    for name in current:
        kinds.setdefault(name, _CATEGORICAL if name in forced or _is_categorical(current[name]) else _NUMERIC)
    labels: Dict[str, Optional[Dict[Any, int]]] = {}
    for name, kind in kinds.items():
        if kind == _CATEGORICAL:
            both = [t[name] for t in (reference, current) if name in t]
            labels[name] = None if _int_codes(*both) else {}
    ref = _Columns(reference, kinds, labels, "reference")
    cur_cols = None
    try:
        cur_cols = _Columns(current, kinds, labels, "current")
        o = _lib.DriftReportOptions()
        check(_c("mlops_drift_report_options_init")(byref(o), 1))
        o.drift_share = float(drift_share)
        o.correction = _CORRECTIONS[correction]
        o.numeric_test = _test_id(numeric_test, "numeric_test")
        o.categorical_test = _test_id(categorical_test, "categorical_test")
        o.pvalue_threshold = 0.0 if pvalue_threshold is None else float(pvalue_threshold)
        o.distance_threshold = 0.0 if distance_threshold is None else float(distance_threshold)
        names = sorted(set(tests or ()) | set(thresholds or ()))
        per = (_lib.DriftColumnOptions * max(len(names), 1))()
        keep = []
        for i, name in enumerate(names):
            raw = encode_name(name, "column name")
            keep.append(raw)
            per[i].name = raw
            per[i].test = _test_id((tests or {}).get(name), "test of column %r" % name)
            per[i].threshold = float((thresholds or {}).get(name, 0.0))
        o.columns = per
        o.ncolumns = len(names)
        out = POINTER(_lib.DriftReport)()
        check(_c("mlops_drift_report_run")(byref(out), ref.arr, ref.n, cur_cols.arr, cur_cols.n, byref(o)))
        try:
            return Report(out)
        finally:
            _L.mlops_drift_report_free(out)
    finally:
        ref.release()
        if cur_cols is not None:
            cur_cols.release()
