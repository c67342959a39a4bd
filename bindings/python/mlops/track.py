"""Experiment tracking: experiments, runs, params, metrics, tags, artifacts,
metric histories, search and export (``include/mlops/track.h``).

Reached through :class:`mlops.Store`::

    with mlops.Store("/data/store") as store:
        with store.start_run("mnist", run_name="baseline", tags={"team": "cv"}) as run:
            run.log_params({"lr": 0.01, "epochs": 3})
            for epoch in range(3):
                run.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
            run.log_artifact("model.onnx")
        # the run ended FINISHED (FAILED had the block raised)
        best = store.search_runs("mnist", "metrics.loss < 0.5", order_by=["metrics.loss ASC"])

Choices, where MLflow leaves room:

- ``log_metric(key, value)`` without ``step`` logs at step 0 (MLflow's
  default; no per-key auto-increment). Without ``timestamp`` the point gets
  the current time in milliseconds; ``log_metrics`` gives all its points
  one timestamp.
- Param and tag values are stored as ``str(value)`` (MLflow's behaviour).
- ``RunInfo.end_time`` is ``None`` while a run has not ended.
- ``metric_history`` returns a list of ``(step, timestamp, value)`` tuples,
  or, when numpy is importable, a tuple ``(steps, timestamps, values)`` of
  numpy arrays (int64, int64, float64) — pass ``as_numpy`` to choose.

The C library contains these functions only when built with
``-Dtrack=true``; otherwise every call raises
:class:`mlops.UnsupportedError`, and ``import mlops`` still works.
"""

from __future__ import annotations

import ctypes
import time
from ctypes import byref, c_char_p, c_double, c_int, c_int64, c_size_t, c_void_p
from dataclasses import dataclass, field
from typing import (TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, NamedTuple, Optional,
                    Sequence, Tuple, Union)

from . import _lib
from ._util import NumberArray, PathLike, decode_name, encode_name, encode_path, int64_arg, oid_hex
from .errors import UnsupportedError, error_for_code, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = ["Experiment", "Run", "RunInfo", "RunList", "Metric", "ArtifactInfo", "RUN_STATUSES",
           "available"]

_L = _lib.lib

#: MLflow's run statuses, by their integer codes (track.h).
RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_STATUS_CODES = {v: k for k, v in RUN_STATUSES.items()}
_LIFECYCLE = {0: "active", 1: "deleted"}

# MLflow's experiment/run references: an Experiment, an int id or a str.
ExperimentRef = Union["Experiment", int, str]
RunRef = Union["Run", "RunInfo", str]


def available() -> bool:
    """True if the loaded library was built with experiment tracking."""
    return _lib.has_module("track")


def _require() -> None:
    if available():
        return
    missing = _lib.missing_functions("track")
    detail = (" (it lacks %s)" % ", ".join(missing[:5])) if missing else ""
    raise UnsupportedError("libmlops at %s was built without experiment tracking%s: rebuild it "
                           "with meson -Dtrack=true" % (_lib.path, detail),
                           code=UnsupportedError.code, name="EUNSUPPORTED")


def _s(raw: Optional[bytes]) -> str:
    return decode_name(raw) if raw else ""


def _enc(value: Any, what: str) -> bytes:
    """A key, name or id as a C string (NUL refused: C would cut it short)."""
    return encode_name(value, what)


def _enc_value(value: Any, what: str) -> bytes:
    """A param or tag value: anything, stored as str(value) (MLflow does the same)."""
    if isinstance(value, (bytes, bytearray)):
        return encode_name(bytes(value), what)
    return encode_name(value if isinstance(value, str) else str(value), what)


def _timestamp(value: Optional[Any]) -> int:
    """Milliseconds since the epoch; None means now (-1 for C)."""
    if value is None:
        return -1
    ts = int64_arg(value, "timestamp")
    if ts < 0:
        raise invalid("timestamp must be >= 0 milliseconds since the epoch (None: now), not %d" % ts)
    return ts


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _status_code(status: Union[str, int]) -> int:
    if isinstance(status, str):
        code = c_int()
        rc = _L.mlops_run_status_parse(byref(code), _enc(status, "status"))
        if rc < 0:
            raise error_for_code(rc)
        return code.value
    return int64_arg(status, "status")


def _kv_dict(arr: Any, n: int) -> Dict[str, str]:
    return {_s(arr[i].key): _s(arr[i].value) for i in range(n)}


def _kv_array(d: Optional[Mapping[str, Any]], what: str) -> Tuple[Any, int, List[bytes]]:
    """A C array of mlops_kv from a mapping (the bytes are kept alive in the list)."""
    if not d:
        return None, 0, []
    keep: List[bytes] = []
    arr = (_lib.KV * len(d))()
    for i, (k, v) in enumerate(d.items()):
        kb, vb = _enc(k, what + " key"), _enc_value(v, what + " value")
        keep += [kb, vb]
        arr[i].key = kb
        arr[i].value = vb
    return arr, len(d), keep


# ---- value objects ---------------------------------------------------------

@dataclass
class Experiment:
    """An experiment, as stored (a snapshot: re-read it with
    :meth:`Store.get_experiment` to see later changes)."""
    id: str                      #: decimal id, "1", "2", …
    name: str
    lifecycle_stage: str         #: "active" or "deleted" (MLflow's words)
    creation_time: int = 0       #: ms since the epoch
    last_update_time: int = 0    #: ms since the epoch
    tags: Dict[str, str] = field(default_factory=dict)

    @property
    def experiment_id(self) -> str:
        """MLflow's name for :attr:`id`."""
        return self.id

    @classmethod
    def _from_c(cls, e: _lib.Experiment) -> "Experiment":
        return cls(_s(e.id), _s(e.name), _LIFECYCLE.get(e.lifecycle, str(e.lifecycle)),
                   e.creation_time, e.last_update_time, _kv_dict(e.tags, e.ntags))


class Metric(NamedTuple):
    """The latest point of one metric key."""
    key: str
    value: float
    step: int
    timestamp: int  #: ms since the epoch


class ArtifactInfo(NamedTuple):
    """A named artifact of a run: the store object holding it."""
    name: str   #: path inside the run's artifacts, e.g. "model/weights.bin"
    id: str     #: 64-hex object id (for a directory: its listing)
    size: int   #: bytes


@dataclass
class RunInfo:
    """What a run is, as stored (a snapshot)."""
    id: str                      #: 32 hex digits
    experiment_id: str
    run_name: str
    status: str                  #: "RUNNING", "FINISHED", "FAILED", "KILLED" (or "SCHEDULED")
    start_time: int              #: ms since the epoch
    end_time: Optional[int]      #: ms since the epoch; None while the run has not ended
    lifecycle_stage: str = "active"
    user: str = ""
    parent_run_id: Optional[str] = None
    params: Dict[str, str] = field(default_factory=dict)
    metrics: Dict[str, float] = field(default_factory=dict)  #: latest value per key
    latest: Dict[str, Metric] = field(default_factory=dict)  #: latest point per key
    tags: Dict[str, str] = field(default_factory=dict)
    artifacts: List[ArtifactInfo] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """MLflow's name for :attr:`id`."""
        return self.id

    @classmethod
    def _from_c(cls, r: _lib.RunInfo) -> "RunInfo":
        latest = {}
        for i in range(r.nmetrics):
            m = r.metrics[i]
            k = _s(m.key)
            latest[k] = Metric(k, m.value, m.step, m.timestamp)
        arts = [ArtifactInfo(_s(r.artifacts[i].name), oid_hex(r.artifacts[i].id), r.artifacts[i].size)
                for i in range(r.nartifacts)]
        return cls(
            id=_s(r.run_id), experiment_id=_s(r.experiment_id), run_name=_s(r.run_name),
            status=RUN_STATUSES.get(r.status, str(r.status)), start_time=r.start_time,
            end_time=r.end_time if r.end_time else None,
            lifecycle_stage=_LIFECYCLE.get(r.lifecycle, str(r.lifecycle)), user=_s(r.user),
            parent_run_id=_s(r.parent_run_id) or None, params=_kv_dict(r.params, r.nparams),
            metrics={k: m.value for k, m in latest.items()}, latest=latest,
            tags=_kv_dict(r.tags, r.ntags), artifacts=arts)


class RunList(List[RunInfo]):
    """A page of :meth:`Store.search_runs` results; ``.token`` is the page
    token of the next page (None on the last page)."""
    token: Optional[str] = None


def _numpy() -> Any:
    try:
        import numpy
        return numpy
    except ImportError:
        return None


# ---- the run handle --------------------------------------------------------

class Run:
    """A run open for logging (from :meth:`Store.start_run` or
    :meth:`Store.resume_run`).

    A context manager: leaving the ``with`` block ends the run
    ``"FINISHED"``, or ``"FAILED"`` if the block raised (MLflow's rule; also
    for KeyboardInterrupt), unless it was ended inside the block. Logging is
    buffered in the handle: :meth:`flush` is a durability point. The handle
    may be used from several threads at once (the C calls release the GIL),
    but :meth:`close` must not race with logging.

    :meth:`close` (also on garbage collection and when the store closes)
    flushes and frees the handle without ending the run: it stays
    ``RUNNING`` and can be resumed with :meth:`Store.resume_run`.
    """

    def __init__(self, store: "Store", handle: int) -> None:
        self._ch: Optional[int] = None
        self._store = store
        self._lib = _L
        self._ch = handle
        self._ended = False
        raw = _L.mlops_run_id(handle)
        self.id: str = _s(raw)  #: the run's 32-hex id
        store._children.add(self)

    # -- lifetime

    def _handle(self) -> int:
        h = self._ch
        if h is None or self._store.closed:
            raise invalid("run %s: the handle is closed" % self.id)
        return h

    @property
    def run_id(self) -> str:
        """MLflow's name for :attr:`id`."""
        return self.id

    @property
    def closed(self) -> bool:
        return self._ch is None

    @property
    def ended(self) -> bool:
        """True once :meth:`end` succeeded through this handle."""
        return self._ended

    def close(self) -> None:
        """Flushes (errors are lost: call :meth:`flush` first if they matter)
        and frees the handle; the run itself is not ended. Idempotent."""
        h, self._ch = self._ch, None
        if h is not None:
            self._lib.mlops_run_free(h)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if not self._ended and self._ch is not None:
                if exc_type is None:
                    self.end("FINISHED")
                else:
                    try:
                        self.end("FAILED")
                    except Exception:
                        pass  # the block's exception is the one that matters
        finally:
            self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except BaseException:  # quiet at interpreter shutdown
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("ended" if self._ended else "open")
        return "<mlops.Run %s %s>" % (self.id, state)

    def _check(self, rc: int) -> int:
        return self._store._check(rc)

    # -- logging

    def log_param(self, key: str, value: Any) -> None:
        """Logs a parameter (stored as ``str(value)``). Logging the same value
        again is fine; a different one raises ConflictError. Written to the
        run record at once. InvalidArgumentError for a bad key or a value over
        6000 bytes."""
        self._check(_L.mlops_run_log_param(self._handle(), _enc(key, "param key"),
                                           _enc_value(value, "param value")))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs several parameters (one call per key, in the mapping's order:
        an error stops at the first bad one)."""
        for k, v in params.items():
            self.log_param(k, v)

    def set_tag(self, key: str, value: Any) -> None:
        """Sets a tag (stored as ``str(value)``; at most 8000 bytes). Written at once."""
        self._check(_L.mlops_run_set_tag(self._handle(), _enc(key, "tag key"), _enc_value(value, "tag value")))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Sets several tags."""
        for k, v in tags.items():
            self.set_tag(k, v)

    def delete_tag(self, key: str) -> None:
        """Removes a tag."""
        self._check(_L.mlops_run_set_tag(self._handle(), _enc(key, "tag key"), None))

    def log_metric(self, key: str, value: float, step: Optional[int] = None,
                   timestamp: Optional[int] = None) -> None:
        """Buffers one metric point. ``step`` defaults to 0 (as in MLflow),
        ``timestamp`` (ms since the epoch, >= 0) to now. NaN, ±Inf and -0.0
        are valid values and read back bit-exactly."""
        self._check(_L.mlops_run_log_metric(self._handle(), _enc(key, "metric key"), float(value),
                                            0 if step is None else int64_arg(step, "step"),
                                            _timestamp(timestamp)))

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None,
                    timestamp: Optional[int] = None) -> None:
        """Buffers one point per key, all at the same step (default 0) and the
        same timestamp (default: now, taken once)."""
        st = 0 if step is None else int64_arg(step, "step")
        ts = _now_ms() if timestamp is None else _timestamp(timestamp)
        h = self._handle()
        for k, v in metrics.items():
            self._check(_L.mlops_run_log_metric(h, _enc(k, "metric key"), float(v), st, ts))

    def log_metric_batch(self, key: str, values: Any, steps: Any, timestamps: Any = None) -> None:
        """Buffers ``len(values)`` points of one key in one call.

        ``values`` holds doubles, ``steps`` and ``timestamps`` (ms; None: now
        for all) int64s, all of the same length. They are read in place,
        without a copy, when they are C-contiguous numpy arrays of dtype
        float64 / int64 or any contiguous buffer of format ``d`` / ``q``
        (``array.array('d')``, ``array.array('q')``, ``memoryview.cast``…);
        other sequences (lists, numpy arrays of another dtype) are converted
        into a temporary C array first."""
        vals = NumberArray(values, "d", "values")
        arrays = [vals]
        try:
            stp = NumberArray(steps, "q", "steps")
            arrays.append(stp)
            tsp = None
            if timestamps is not None:
                tsp = NumberArray(timestamps, "q", "timestamps")
                arrays.append(tsp)
            if stp.n != vals.n or (tsp is not None and tsp.n != vals.n):
                raise invalid("log_metric_batch: %d values, %d steps%s: the lengths must match"
                              % (vals.n, stp.n, "" if tsp is None else ", %d timestamps" % tsp.n))
            if vals.n == 0:
                return
            self._check(_L.mlops_run_log_metric_batch(self._handle(), _enc(key, "metric key"), vals.ptr,
                                                      stp.ptr, None if tsp is None else tsp.ptr, vals.n))
        finally:
            for a in arrays:
                a.release()

    def log_artifact(self, path: PathLike, name: Optional[str] = None) -> str:
        """Stores a file or a directory (recursively) as artifacts under
        ``name`` (default: the base name of ``path``); returns the object id
        (64 hex) of the file, or of the directory's listing."""
        oid = _lib.Oid()
        self._check(_L.mlops_run_log_artifact(byref(oid), self._handle(), encode_path(path),
                                              None if name is None else _enc(name, "artifact name")))
        return oid_hex(oid)

    def flush(self) -> None:
        """A durability point: every point logged before it returns survives
        a crash, and the run record shows the latest values."""
        self._check(_L.mlops_run_flush(self._handle()))

    def end(self, status: Union[str, int] = "FINISHED") -> None:
        """Flushes, then ends the run with ``status`` ("FINISHED", "FAILED" or
        "KILLED", any case, or the integer code) and the end time. Further
        logging raises InvalidArgumentError, so does a second end."""
        code = _status_code(status)
        self._check(_L.mlops_run_end(self._handle(), code))
        self._ended = True

    def info(self) -> RunInfo:
        """The run as stored now (flushed points only)."""
        return get_run(self._store, self.id)


# ---- store-level functions (Store methods delegate here) -----------------

def _experiment_out(store: "Store", fn: Any, *args: Any) -> Experiment:
    out = ctypes.POINTER(_lib.Experiment)()
    store._check(fn(byref(out), store._handle, *args))
    try:
        return Experiment._from_c(out.contents)
    finally:
        _L.mlops_experiment_free(out)


def create_experiment(store: "Store", name: str) -> Experiment:
    _require()
    return _experiment_out(store, _L.mlops_experiment_create, _enc(name, "experiment name"))


def get_or_create_experiment(store: "Store", name: str) -> Experiment:
    _require()
    return _experiment_out(store, _L.mlops_experiment_get_or_create, _enc(name, "experiment name"))


def get_experiment(store: "Store", id_or_name: Union[int, str]) -> Experiment:
    _require()
    if isinstance(id_or_name, Experiment):
        id_or_name = id_or_name.id
    if isinstance(id_or_name, int) and not isinstance(id_or_name, bool):
        id_or_name = str(id_or_name)
    return _experiment_out(store, _L.mlops_experiment_get, _enc(id_or_name, "experiment"))


def list_experiments(store: "Store", include_deleted: bool = False) -> List[Experiment]:
    _require()
    out = ctypes.POINTER(ctypes.POINTER(_lib.Experiment))()
    n = c_size_t()
    store._check(_L.mlops_experiment_list(byref(out), byref(n), store._handle, 1 if include_deleted else 0))
    try:
        return [Experiment._from_c(out[i].contents) for i in range(n.value)]
    finally:
        _L.mlops_experiment_list_free(out, n.value)


def experiment_id(store: "Store", experiment: ExperimentRef, create: bool = False) -> str:
    """The id of an Experiment, an int id, or a str id or name. With
    ``create``, a str that is neither an existing id nor an existing name
    creates the experiment of that name."""
    if isinstance(experiment, Experiment):
        return experiment.id
    if isinstance(experiment, int) and not isinstance(experiment, bool):
        return get_experiment(store, str(experiment)).id
    if not isinstance(experiment, str):
        raise TypeError("experiment must be an Experiment, an int id or a str id or name, not %s"
                        % type(experiment).__name__)
    if not create:
        return get_experiment(store, experiment).id
    from .errors import NotFoundError
    try:
        return get_experiment(store, experiment).id
    except NotFoundError:
        return get_or_create_experiment(store, experiment).id


def _run_id(run: RunRef) -> bytes:
    if isinstance(run, (Run, RunInfo)):
        return _enc(run.id, "run id")
    return _enc(run, "run id")


def start_run(store: "Store", experiment: ExperimentRef, run_name: Optional[str] = None,
              tags: Optional[Mapping[str, Any]] = None, parent: Optional[RunRef] = None,
              start_time: Optional[int] = None, buffer_points: Optional[int] = None) -> Run:
    _require()
    exp_id = experiment_id(store, experiment, create=True)
    opts = _lib.RunOptions()
    store._check(_L.mlops_run_options_init(byref(opts), _lib.RUN_OPTIONS_VERSION))
    name_b = None if run_name is None else _enc(run_name, "run name")
    parent_b = None if parent is None else _run_id(parent)
    arr, n, keep = _kv_array(tags, "tag")
    opts.run_name = name_b
    opts.parent_run_id = parent_b
    opts.tags = ctypes.cast(arr, ctypes.POINTER(_lib.KV)) if arr is not None else None
    opts.ntags = n
    if start_time is not None:
        opts.start_time = _timestamp(start_time)
    if buffer_points is not None:
        bp = int64_arg(buffer_points, "buffer_points")
        if bp < 0:
            raise invalid("buffer_points must be >= 0")
        opts.buffer_points = bp
    h = c_void_p()
    store._check(_L.mlops_run_start(byref(h), store._handle, _enc(exp_id, "experiment id"), byref(opts)))
    del keep
    return Run(store, h.value)


def resume_run(store: "Store", run_id: RunRef) -> Run:
    _require()
    h = c_void_p()
    store._check(_L.mlops_run_resume(byref(h), store._handle, _run_id(run_id)))
    return Run(store, h.value)


def get_run(store: "Store", run_id: RunRef) -> RunInfo:
    _require()
    out = ctypes.POINTER(_lib.RunInfo)()
    store._check(_L.mlops_run_get(byref(out), store._handle, _run_id(run_id)))
    try:
        return RunInfo._from_c(out.contents)
    finally:
        _L.mlops_run_info_free(out)


def metric_keys(store: "Store", run_id: RunRef) -> List[str]:
    _require()
    out = ctypes.POINTER(c_char_p)()
    n = c_size_t()
    store._check(_L.mlops_metric_keys(byref(out), byref(n), store._handle, _run_id(run_id)))
    try:
        return [_s(out[i]) for i in range(n.value)]
    finally:
        _L.mlops_string_list_free(out, n.value)


History = Union[List[Tuple[int, int, float]], Tuple[Any, Any, Any]]


def metric_history(store: "Store", run_id: RunRef, key: str, min_step: Optional[int] = None,
                   max_step: Optional[int] = None, max_points: Optional[int] = None,
                   as_numpy: Optional[bool] = None) -> History:
    _require()
    np = None
    if as_numpy is None or as_numpy:
        np = _numpy()
        if np is None and as_numpy:
            raise ImportError("metric_history(as_numpy=True) needs numpy")
    opts = _lib.HistoryOptions()
    store._check(_L.mlops_history_options_init(byref(opts), _lib.HISTORY_OPTIONS_VERSION))
    if min_step is not None:
        opts.min_step = int64_arg(min_step, "min_step")
    if max_step is not None:
        opts.max_step = int64_arg(max_step, "max_step")
    if max_points is not None:
        mp = int64_arg(max_points, "max_points")
        if mp < 0:
            raise invalid("max_points must be >= 0 (0: all)")
        opts.max_points = mp
    h = _lib.MetricHistory()
    store._check(_L.mlops_metric_history_get(byref(h), store._handle, _run_id(run_id),
                                             _enc(key, "metric key"), byref(opts)))
    try:
        n = h.n
        if np is not None:
            if n == 0:
                return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
            steps = np.ctypeslib.as_array(h.steps, shape=(n,)).copy()
            tss = np.ctypeslib.as_array(h.timestamps, shape=(n,)).copy()
            vals = np.ctypeslib.as_array(h.values, shape=(n,)).copy()
            return (steps, tss, vals)
        if n == 0:
            return []
        steps_l = ctypes.cast(h.steps, ctypes.POINTER(c_int64 * n)).contents[:]
        tss_l = ctypes.cast(h.timestamps, ctypes.POINTER(c_int64 * n)).contents[:]
        vals_l = ctypes.cast(h.values, ctypes.POINTER(c_double * n)).contents[:]
        return list(zip(steps_l, tss_l, vals_l))
    finally:
        _L.mlops_metric_history_free(byref(h))


def _experiment_ids(store: "Store", experiments: Union[ExperimentRef, Iterable[ExperimentRef], None]
                    ) -> List[bytes]:
    if experiments is None:
        return []
    if isinstance(experiments, (Experiment, int, str)):
        experiments = [experiments]
    return [_enc(experiment_id(store, e), "experiment id") for e in experiments]


def search_runs(store: "Store", experiments: Union[ExperimentRef, Iterable[ExperimentRef]],
                filter: str = "", order_by: Optional[Sequence[str]] = None, max_results: int = 1000,
                page_token: Optional[str] = None, include_deleted: bool = False) -> RunList:
    _require()
    ids = _experiment_ids(store, experiments)
    if not ids:
        raise invalid("search_runs needs at least one experiment")
    if isinstance(order_by, str):
        order_by = [order_by]
    opts = _lib.SearchOptions()
    store._check(_L.mlops_search_options_init(byref(opts), _lib.SEARCH_OPTIONS_VERSION))
    filt = _enc(filter or "", "filter")
    opts.filter = filt
    ob = [_enc(o, "order_by") for o in (order_by or [])]
    ob_arr = (c_char_p * max(len(ob), 1))(*ob)
    opts.order_by = ctypes.cast(ob_arr, ctypes.POINTER(c_char_p)) if ob else None
    opts.norder_by = len(ob)
    mr = int64_arg(max_results, "max_results")
    if mr <= 0:
        raise invalid("max_results must be > 0, not %d" % mr)
    opts.max_results = mr
    tok = None if page_token is None else _enc(page_token, "page_token")
    opts.page_token = tok
    opts.include_deleted = 1 if include_deleted else 0
    id_arr = (c_char_p * len(ids))(*ids)
    out = _lib.RunList()
    store._check(_L.mlops_run_search(byref(out), store._handle, id_arr, len(ids), byref(opts)))
    try:
        res = RunList(RunInfo._from_c(out.runs[i].contents) for i in range(out.count))
        res.token = _s(out.next_page_token) or None
        return res
    finally:
        _L.mlops_run_list_free(byref(out))


def export_mlflow(store: "Store", dest: PathLike,
                  experiments: Union[ExperimentRef, Iterable[ExperimentRef], None] = None) -> None:
    _require()
    ids = _experiment_ids(store, experiments)
    arr = (c_char_p * len(ids))(*ids) if ids else None
    store._check(_L.mlops_export_mlflow(store._handle, encode_path(dest), arr, len(ids)))


def export_tensorboard(store: "Store", run_id: RunRef, dest: PathLike) -> None:
    _require()
    store._check(_L.mlops_export_tensorboard(store._handle, _run_id(run_id), encode_path(dest)))


def export_csv(store: "Store", run_id: RunRef, dest: PathLike) -> None:
    _require()
    store._check(_L.mlops_export_csv(store._handle, _run_id(run_id), encode_path(dest)))


def _simple(store: "Store", fn_name: str, *args: bytes) -> None:
    _require()
    store._check(getattr(_L, fn_name)(store._handle, *args))


def rename_experiment(store: "Store", experiment: ExperimentRef, new_name: str) -> None:
    _simple(store, "mlops_experiment_rename", _enc(experiment_id(store, experiment), "experiment id"),
            _enc(new_name, "experiment name"))


def delete_experiment(store: "Store", experiment: ExperimentRef) -> None:
    _simple(store, "mlops_experiment_delete", _enc(experiment_id(store, experiment), "experiment id"))


def restore_experiment(store: "Store", experiment: ExperimentRef) -> None:
    _simple(store, "mlops_experiment_restore", _enc(experiment_id(store, experiment), "experiment id"))


def set_experiment_tag(store: "Store", experiment: ExperimentRef, key: str, value: Any) -> None:
    _require()
    eid = _enc(experiment_id(store, experiment), "experiment id")
    store._check(_L.mlops_experiment_set_tag(store._handle, eid, _enc(key, "tag key"),
                                             None if value is None else _enc_value(value, "tag value")))


def delete_run(store: "Store", run_id: RunRef) -> None:
    _simple(store, "mlops_run_delete", _run_id(run_id))


def restore_run(store: "Store", run_id: RunRef) -> None:
    _simple(store, "mlops_run_restore", _run_id(run_id))
