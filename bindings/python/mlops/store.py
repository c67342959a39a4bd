"""The artifact store: objects, refs, logs, verify and gc."""

from __future__ import annotations

import ctypes
import io
import threading
import weakref
from ctypes import byref, c_size_t, c_uint64, c_void_p
from dataclasses import dataclass, field
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, NamedTuple,
                    Optional, Sequence, Tuple, Union)

from . import _lib
from . import track as _track
from ._util import (Borrowed, Closing, PathLike, decode_name, encode_name, encode_path, oid_hex, parse_oid,
                    writable_view)
from .errors import ITEROVER, error_for_code, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .data import Data
    from .registry import Registry

__all__ = ["Store", "Refs", "ObjectReader", "ObjectWriter", "LogReader", "VerifyReport",
           "GcReport", "StructuredObject", "object_id", "ref_name_is_valid"]

_L = _lib.lib

_DURABILITY = {"none": 0, "commit": 1, "full": 2}
_COMPRESSION = {"auto": 0, "none": 1, "always": 2}

BytesLike = Any  # anything with the buffer protocol
Progress = Callable[[int, int], Any]


def _uint(value: Any, bits: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an int" % what)
    if not 0 <= value < (1 << bits):
        raise invalid("%s out of range: %d" % (what, value))
    return value


def object_id(data: BytesLike) -> str:
    """The id ``data`` would get in any store (its SHA-256, 64 lowercase hex),
    computed without storing anything."""
    oid = _lib.Oid()
    with Borrowed(data) as b:
        rc = _L.mlops_oid_hash(byref(oid), b.ptr, b.len)
    if rc < 0:
        raise error_for_code(rc)
    return oid_hex(oid)


def ref_name_is_valid(name: Union[str, bytes]) -> bool:
    """True if ``name`` is a valid ref or log name (see store.h)."""
    try:
        raw = encode_name(name)
    except ValueError:
        return False
    return _L.mlops_ref_name_is_valid(raw) == 1


@dataclass
class VerifyReport:
    """What :meth:`Store.verify` found."""
    objects: int = 0            #: objects re-hashed
    bytes: int = 0              #: logical bytes re-hashed
    refs: int = 0               #: refs checked
    logs: int = 0               #: logs checked
    corrupt: List[str] = field(default_factory=list)   #: ids whose bytes are wrong
    dangling: List[str] = field(default_factory=list)  #: refs naming a missing object
    log_torn: int = 0           #: torn log tails (harmless after a crash; skipped by readers)
    bad_refs: List[str] = field(default_factory=list)  #: refs whose value is unreadable

    @property
    def ok(self) -> bool:
        """No corrupt object, no dangling or unreadable ref (torn log tails
        are expected after a crash and do not count)."""
        return not self.corrupt and not self.dangling and not self.bad_refs


@dataclass
class GcReport:
    """What :meth:`Store.gc` did (or, in a dry run, would do)."""
    objects: int = 0      #: objects seen
    reachable: int = 0    #: marked from refs
    young: int = 0        #: unreachable but kept by the grace period
    freed: int = 0        #: deleted (or deletable in a dry run)
    freed_bytes: int = 0  #: stored bytes of the freed objects
    leftovers: int = 0       #: temp files of crashed writers removed (or removable)
    leftover_bytes: int = 0  #: their bytes


class StructuredObject(NamedTuple):
    """A structured object: a type tag, the ids it links to, and its body."""
    type: str
    links: List[str]
    body: bytes


class _Callback:
    """Wraps a Python callable for a C walk: an exception (or a true return
    value, for progress callbacks) stops the walk; the exception is re-raised
    after the C call returns."""

    def __init__(self) -> None:
        self.exc: Optional[BaseException] = None

    def fail(self, exc: BaseException) -> int:
        if self.exc is None:
            self.exc = exc
        return 1

    def reraise(self) -> None:
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc


def _progress_cb(progress: Optional[Progress], guard: _Callback) -> Any:
    if progress is None:
        return _lib.PROGRESS_CB()  # NULL

    def cb(done: int, total: int, payload: Any) -> int:
        try:
            return 1 if progress(done, total) else 0
        except BaseException as e:  # noqa: B902 - re-raised after the C call
            return guard.fail(e)

    return _lib.PROGRESS_CB(cb)


class Store(Closing):
    """A handle on an artifact store.

    ``Store(path)`` opens (and by default creates) the store in directory
    ``path``; :meth:`memory` makes an ephemeral one, :meth:`from_backend` one
    over a custom backend written in Python. A store is a context manager;
    :meth:`close` is idempotent. The handle may be used from several
    threads at once.

    Options: ``durability`` is ``"none"``, ``"commit"`` (default: a put is
    durable once the next commit point — ref update, log sync, :meth:`sync`
    — returns) or ``"full"``; ``compression`` is ``"auto"``, ``"none"`` or
    ``"always"``; ``compression_level`` 1..9; ``compress_limit`` (bytes, the
    size up to which ``"auto"`` compresses); ``lock_timeout_ms``,
    ``stale_lock_ms``; ``create=False`` fails with NotFoundError when no
    store exists; ``readonly=True`` refuses writes (PermissionDeniedError).
    """

    def __init__(self, path: PathLike, *, durability: str = "commit", compression: str = "auto",
                 compression_level: int = 1, compress_limit: Optional[int] = None,
                 lock_timeout_ms: Optional[int] = None, stale_lock_ms: Optional[int] = None,
                 create: bool = True, readonly: bool = False) -> None:
        self._init_state()
        opts = self._options(durability, compression, compression_level, compress_limit,
                             lock_timeout_ms, stale_lock_ms, create, readonly)
        raw = encode_path(path)
        self.path: Optional[str] = raw.decode("utf-8", "surrogateescape")
        h = c_void_p()
        self._check(_L.mlops_store_open(byref(h), raw, byref(opts)))
        self._h = h.value

    # ---- construction ----------------------------------------------------

    def _init_state(self) -> None:
        self._h: Optional[int] = None
        self._lib = _L  # kept so close() works during interpreter shutdown
        self._lock = threading.Lock()
        self._children: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._adapter: Any = None
        self.path = None
        self.refs = Refs(self)
        self._data: "Optional[Data]" = None
        self._registry: "Optional[Registry]" = None

    @staticmethod
    def _options(durability: str = "commit", compression: str = "auto", compression_level: int = 1,
                 compress_limit: Optional[int] = None, lock_timeout_ms: Optional[int] = None,
                 stale_lock_ms: Optional[int] = None, create: bool = True,
                 readonly: bool = False) -> _lib.StoreOptions:
        opts = _lib.StoreOptions()
        rc = _L.mlops_store_options_init(byref(opts), _lib.STORE_OPTIONS_VERSION)
        if rc < 0:
            raise error_for_code(rc)
        if durability not in _DURABILITY:
            raise invalid("durability must be one of %s, not %r" % (sorted(_DURABILITY), durability))
        if compression not in _COMPRESSION:
            raise invalid("compression must be one of %s, not %r" % (sorted(_COMPRESSION), compression))
        opts.durability = _DURABILITY[durability]
        opts.compression = _COMPRESSION[compression]
        opts.compression_level = _uint(compression_level, 31, "compression_level")
        if compress_limit is not None:
            opts.compress_limit = _uint(compress_limit, 64, "compress_limit")
        if lock_timeout_ms is not None:
            opts.lock_timeout_ms = _uint(lock_timeout_ms, 32, "lock_timeout_ms")
        if stale_lock_ms is not None:
            opts.stale_lock_ms = _uint(stale_lock_ms, 32, "stale_lock_ms")
        opts.flags = (0 if create else _lib.STORE_NO_CREATE) | (_lib.STORE_READONLY if readonly else 0)
        return opts

    @classmethod
    def memory(cls, **options: Any) -> "Store":
        """An empty store held in this process's memory; it vanishes on close.
        Takes the same keyword options as the constructor (but no path)."""
        self = cls.__new__(cls)
        self._init_state()
        opts = cls._options(**options)
        h = c_void_p()
        self._check(_L.mlops_store_open_memory(byref(h), byref(opts)))
        self._h = h.value
        return self

    @classmethod
    def from_backend(cls, backend: Any, **options: Any) -> "Store":
        """A store over a custom backend: an instance of a
        :class:`mlops.Backend` subclass. The store keeps the backend alive
        and calls its ``close()`` when the store is closed."""
        from .backend import _Adapter
        self = cls.__new__(cls)
        self._init_state()
        opts = cls._options(**options)
        adapter = _Adapter(backend)
        self._adapter = adapter
        h = c_void_p()
        self._check(_L.mlops_store_open_backend(byref(h), byref(adapter.vtable), byref(opts)))
        self._h = h.value
        return self

    # ---- lifetime ----------------------------------------------------------

    def close(self) -> None:
        """Closes readers, writers and log iterators of this store, then the
        store (a final sync unless durability is ``"none"``). Idempotent."""
        with self._lock:
            h, self._h = self._h, None
            if h is None:
                return
            for child in list(self._children):
                try:
                    child.close()
                except Exception:
                    pass
            self._lib.mlops_store_free(h)

    @property
    def closed(self) -> bool:
        return self._h is None


    def __repr__(self) -> str:
        where = repr(self.path) if self.path is not None else ("backend" if self._adapter else "memory")
        return "<mlops.Store %s%s>" % (where, " closed" if self.closed else "")

    @property
    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise invalid("the store is closed")
        return h

    def _check(self, rc: int) -> int:
        if rc >= 0:
            return rc
        err = error_for_code(rc)
        cause = self._adapter.take_exception(rc) if self._adapter is not None else None
        if isinstance(cause, (KeyboardInterrupt, SystemExit)):
            raise cause
        if cause is not None:
            raise err from cause
        raise err

    # ---- objects -------------------------------------------------------------

    def put(self, data: BytesLike) -> str:
        """Stores the bytes of any bytes-like object (bytes, bytearray,
        memoryview, array, numpy array...) without copying them, and returns
        the id: 64 lowercase hex digits, the SHA-256 of the bytes."""
        oid = _lib.Oid()
        with Borrowed(data) as b:
            self._check(_L.mlops_object_put(byref(oid), self._handle, b.ptr, b.len))
        return oid_hex(oid)

    def put_file(self, path: PathLike) -> str:
        """Stores a regular file in constant memory; returns its id (equal to
        ``sha256sum path``). NotFoundError if it does not exist,
        InvalidArgumentError if it is not a regular file."""
        oid = _lib.Oid()
        self._check(_L.mlops_object_put_file(byref(oid), self._handle, encode_path(path)))
        return oid_hex(oid)

    def get(self, id: str) -> bytes:
        """The bytes of an object, verified against its id (CorruptError if
        they are wrong, NotFoundError if it is missing)."""
        oid = parse_oid(id)
        ptr = c_void_p()
        n = c_size_t()
        self._check(_L.mlops_object_get(byref(ptr), byref(n), self._handle, byref(oid)))
        try:
            return ctypes.string_at(ptr.value, n.value) if n.value else b""
        finally:
            _L.mlops_free(ptr)

    def get_file(self, id: str, path: PathLike) -> None:
        """Writes an object into a file, replaced atomically once the bytes
        were verified."""
        oid = parse_oid(id)
        self._check(_L.mlops_object_get_file(self._handle, byref(oid), encode_path(path)))

    def exists(self, id: str) -> bool:
        """True if the object is in the store (InvalidArgumentError for a
        malformed id)."""
        oid = parse_oid(id)
        return self._check(_L.mlops_object_exists(self._handle, byref(oid))) == 1

    def __contains__(self, id: object) -> bool:
        if not isinstance(id, (str, bytes)):
            return False
        try:
            oid = parse_oid(id)
        except ValueError:
            return False  # a malformed id is in no store
        return self._check(_L.mlops_object_exists(self._handle, byref(oid))) == 1

    def size(self, id: str) -> int:
        """Logical size of an object in bytes."""
        oid = parse_oid(id)
        n = c_uint64()
        self._check(_L.mlops_object_size(byref(n), self._handle, byref(oid)))
        return n.value

    def open_reader(self, id: str) -> "ObjectReader":
        """A binary file-like object streaming an object in constant memory.
        The read that reaches the end raises CorruptError if the bytes were
        wrong: consume it to the end before trusting what you read."""
        return ObjectReader(self, parse_oid(id))

    def open_writer(self) -> "ObjectWriter":
        """A binary file-like object that stores what is written to it as one
        object; :meth:`ObjectWriter.finish` returns the id."""
        return ObjectWriter(self)

    def put_structured(self, type: str, body: BytesLike = b"", links: Iterable[str] = ()) -> str:
        """Stores a structured object: a type tag (1..32 bytes), the ids it
        links to (gc keeps them alive while this object is reachable), and an
        opaque body."""
        tag = encode_name(type, "type")
        ids = [parse_oid(i) for i in links]
        arr = (_lib.Oid * len(ids))(*ids) if ids else None
        oid = _lib.Oid()
        with Borrowed(body) as b:
            self._check(_L.mlops_object_put_structured(byref(oid), self._handle, tag, arr, len(ids),
                                                       b.ptr, b.len))
        return oid_hex(oid)

    def get_structured(self, id: str) -> StructuredObject:
        """Reads a structured object (InvalidArgumentError if the object is
        not one)."""
        oid = parse_oid(id)
        tp, links, body = c_void_p(), c_void_p(), c_void_p()
        nlinks, nbody = c_size_t(), c_size_t()
        self._check(_L.mlops_object_get_structured(byref(tp), byref(links), byref(nlinks), byref(body),
                                                   byref(nbody), self._handle, byref(oid)))
        try:
            t = ctypes.string_at(tp.value).decode("utf-8", "surrogateescape") if tp.value else ""
            ids: List[str] = []
            if nlinks.value:
                arr = ctypes.cast(links, ctypes.POINTER(_lib.Oid * nlinks.value)).contents
                ids = [oid_hex(o) for o in arr]
            data = ctypes.string_at(body.value, nbody.value) if nbody.value else b""
        finally:
            _L.mlops_free(tp)
            _L.mlops_free(links)
            _L.mlops_free(body)
        return StructuredObject(t, ids, data)

    def sync(self) -> None:
        """A commit point: everything written through this handle is durable."""
        self._check(_L.mlops_store_sync(self._handle))

    # ---- logs ----------------------------------------------------------------

    def log_append(self, name: str, record: BytesLike) -> None:
        """Appends one record to a log (created on first append). Durable at
        the next :meth:`log_sync` (or per the durability option)."""
        raw = encode_name(name, "log name")
        with Borrowed(record) as b:
            self._check(_L.mlops_log_append(self._handle, raw, b.ptr, b.len))

    def log_append_batch(self, name: str, records: Sequence[BytesLike]) -> None:
        """Appends several records at once: a reader sees all of them or none."""
        raw = encode_name(name, "log name")
        bufs = [Borrowed(r) for r in records]
        try:
            n = len(bufs)
            ptrs = (c_void_p * max(n, 1))(*[b.address for b in bufs])
            lens = (c_size_t * max(n, 1))(*[b.len for b in bufs])
            self._check(_L.mlops_log_append_batch(self._handle, raw, ptrs, lens, n))
        finally:
            for b in bufs:
                b.release()

    def log_sync(self, name: str) -> None:
        """A commit point for one log: its appended records are durable."""
        self._check(_L.mlops_log_sync(self._handle, encode_name(name, "log name")))

    def log_read(self, name: str) -> "LogReader":
        """An iterator over the records of a log, as bytes (NotFoundError if
        there is no such log)."""
        return LogReader(self, encode_name(name, "log name"))

    def logs(self, prefix: str = "") -> List[str]:
        """Names of the logs starting with ``prefix``, in bytewise order."""
        names: List[str] = []
        guard = _Callback()

        def cb(name: bytes, payload: Any) -> int:
            try:
                names.append(decode_name(name))
                return 0
            except BaseException as e:
                return guard.fail(e)

        c_cb = _lib.LOG_NAME_CB(cb)
        rc = _L.mlops_log_list(self._handle, encode_name(prefix, "prefix"), c_cb, None)
        guard.reraise()
        self._check(rc)
        return names

    # ---- maintenance ---------------------------------------------------------

    def verify(self, progress: Optional[Progress] = None) -> VerifyReport:
        """Re-hashes every object and checks every ref and log. Problems are
        reported, not raised: see :attr:`VerifyReport.ok`. ``progress(done,
        total)`` is called as it goes; a true return value stops the walk
        (CallbackError), an exception it raises is re-raised."""
        guard = _Callback()
        cb = _progress_cb(progress, guard)
        rep = _lib.VerifyReport()
        rc = _L.mlops_store_verify(byref(rep), self._handle, cb, None)
        guard.reraise()
        self._check(rc)
        try:
            corrupt = [oid_hex(rep.corrupt[i]) for i in range(rep.ncorrupt)]
            dangling = [decode_name(rep.dangling[i]) for i in range(rep.ndangling)]
            bad_refs = [decode_name(rep.bad_refs[i]) for i in range(rep.nbad_refs)]
            return VerifyReport(rep.objects, rep.bytes, rep.refs, rep.logs, corrupt, dangling,
                                rep.log_torn, bad_refs)
        finally:
            _L.mlops_verify_report_free(byref(rep))

    def gc(self, grace_seconds: int = 3600, dry_run: bool = False,
           progress: Optional[Progress] = None) -> GcReport:
        """Deletes objects unreachable from every ref (through the links of
        structured objects) and older than ``grace_seconds``, and the temp
        files crashed writers left behind (as old). With ``dry_run`` nothing
        is deleted and the report says what would be."""
        opts = _lib.GcOptions()
        self._check(_L.mlops_gc_options_init(byref(opts), _lib.GC_OPTIONS_VERSION))
        opts.grace_seconds = _uint(grace_seconds, 64, "grace_seconds")
        opts.dry_run = 1 if dry_run else 0
        guard = _Callback()
        cb = _progress_cb(progress, guard)
        rep = _lib.GcReport()
        rc = _L.mlops_store_gc(byref(rep), self._handle, byref(opts), cb, None)
        guard.reraise()
        self._check(rc)
        return GcReport(rep.objects, rep.reachable, rep.young, rep.freed, rep.freed_bytes,
                        rep.leftovers, rep.leftover_bytes)

    # ---- data versioning (data.py; needs a library built with -Ddata=true) ----

    @property
    def data(self) -> "Data":
        """Data versioning on this store: a :class:`mlops.data.Data` facade
        (``store.data.commit(name, path)``, ``.checkout(ref, dest)``,
        ``.status(ref, path)``, ``.diff(a, b)``...)."""
        if self._data is None:
            from .data import Data  # data.py imports this module: import it late
            self._data = Data(self)
        return self._data

    # ---- model registry (registry.py; needs a library built with -Dregistry=true) ----

    @property
    def registry(self) -> "Registry":
        """The model registry on this store: a :class:`mlops.registry.Registry`
        facade (``store.registry.register(name, artifact)``,
        ``.set_alias(name, alias, version)``, ``.resolve("models:/name@alias")``)."""
        if self._registry is None:
            from .registry import Registry  # registry.py imports this module: import it late
            self._registry = Registry(self)
        return self._registry

    # ---- experiment tracking (track.py; needs a library built with -Dtrack=true) ----

    def create_experiment(self, name: str) -> "_track.Experiment":
        """Creates an experiment and returns it (AlreadyExistsError if the name
        is taken, InvalidArgumentError for a bad name)."""
        return _track.create_experiment(self, name)

    def get_or_create_experiment(self, name: str) -> "_track.Experiment":
        """The experiment named ``name``, created if missing (safe against
        concurrent creators: one id per name)."""
        return _track.get_or_create_experiment(self, name)

    def get_experiment(self, id_or_name: Union[int, str]) -> "_track.Experiment":
        """An experiment by id, or (if no experiment has that id) by name.
        NotFoundError if neither matches."""
        return _track.get_experiment(self, id_or_name)

    def list_experiments(self, include_deleted: bool = False) -> List["_track.Experiment"]:
        """All experiments, by id (deleted ones only with ``include_deleted``)."""
        return _track.list_experiments(self, include_deleted)

    def rename_experiment(self, experiment: "_track.ExperimentRef", new_name: str) -> None:
        """Renames an experiment (AlreadyExistsError if the name is taken)."""
        _track.rename_experiment(self, experiment, new_name)

    def delete_experiment(self, experiment: "_track.ExperimentRef") -> None:
        """Soft-deletes an experiment (lifecycle_stage "deleted")."""
        _track.delete_experiment(self, experiment)

    def restore_experiment(self, experiment: "_track.ExperimentRef") -> None:
        """Restores a soft-deleted experiment."""
        _track.restore_experiment(self, experiment)

    def set_experiment_tag(self, experiment: "_track.ExperimentRef", key: str, value: Any) -> None:
        """Sets an experiment tag (``str(value)``); ``value=None`` removes it."""
        _track.set_experiment_tag(self, experiment, key, value)

    def start_run(self, experiment: "_track.ExperimentRef", run_name: Optional[str] = None,
                  tags: Optional[Dict[str, Any]] = None, parent: Optional["_track.RunRef"] = None, *,
                  start_time: Optional[int] = None, buffer_points: Optional[int] = None) -> "_track.Run":
        """Starts a run (status RUNNING) and returns its :class:`~mlops.track.Run`
        handle, a context manager that ends it FINISHED (FAILED if the block
        raised).

        ``experiment`` is an :class:`~mlops.track.Experiment`, an int id, or a
        str: an existing id, else an existing name, else the name of an
        experiment created now. ``run_name`` defaults to a generated one;
        ``tags`` are start tags; ``parent`` (a Run, RunInfo or run id) makes a
        nested run. ``start_time`` (ms) defaults to now, ``buffer_points``
        (points buffered before an automatic append) to 65536."""
        return _track.start_run(self, experiment, run_name, tags, parent, start_time, buffer_points)

    def resume_run(self, run_id: "_track.RunRef") -> "_track.Run":
        """Reopens a run for logging by id, e.g. after its process crashed
        (NotFoundError for an unknown run). A run that has ended is reopened,
        but logging to it raises InvalidArgumentError. The handle does not
        end the run when garbage-collected; as a context manager it does."""
        return _track.resume_run(self, run_id)

    def get_run(self, run_id: "_track.RunRef") -> "_track.RunInfo":
        """A run's :class:`~mlops.track.RunInfo`: ``.id .experiment_id
        .run_name .status`` (a string) ``.start_time .end_time`` (ms; None
        while running) ``.params .metrics`` (latest value per key) ``.tags``
        (dicts), ``.latest`` (key → Metric(key, value, step, timestamp)),
        ``.artifacts`` (ArtifactInfo(name, id, size)). NotFoundError for an
        unknown run."""
        return _track.get_run(self, run_id)

    def delete_run(self, run_id: "_track.RunRef") -> None:
        """Soft-deletes a run (lifecycle_stage "deleted")."""
        _track.delete_run(self, run_id)

    def restore_run(self, run_id: "_track.RunRef") -> None:
        """Restores a soft-deleted run."""
        _track.restore_run(self, run_id)

    def metric_keys(self, run_id: "_track.RunRef") -> List[str]:
        """The metric keys of a run that have durable points, sorted."""
        return _track.metric_keys(self, run_id)

    def metric_history(self, run_id: "_track.RunRef", key: str, *, min_step: Optional[int] = None,
                       max_step: Optional[int] = None, max_points: Optional[int] = None,
                       as_numpy: Optional[bool] = None) -> "_track.History":
        """The durable points of one metric key, in step order (ties:
        timestamp, then log order).

        Returns a list of ``(step, timestamp, value)`` tuples, or — when
        numpy is importable (``as_numpy=None``, the default) or
        ``as_numpy=True`` — a tuple ``(steps, timestamps, values)`` of numpy
        arrays of dtypes int64, int64, float64 (copies owned by Python).
        ``as_numpy=False`` always gives the list. A key never logged gives an
        empty result; an unknown run raises NotFoundError.

        ``min_step``/``max_step`` bound the steps (inclusive); ``max_points``
        downsamples to at most that many points, keeping the first and last
        point of the range."""
        return _track.metric_history(self, run_id, key, min_step, max_step, max_points, as_numpy)

    def search_runs(self, experiments: Any, filter: str = "", order_by: Optional[Sequence[str]] = None,
                    max_results: int = 1000, *, page_token: Optional[str] = None,
                    include_deleted: bool = False) -> "_track.RunList":
        """Runs of one or more experiments (Experiment, id or name, or a list of
        them) matching an MLflow filter (``"metrics.acc > 0.9 and params.lr =
        '0.01'"``), ordered by ``order_by`` entries (``"metrics.acc DESC"``,
        ``"attributes.start_time"``). Returns a list of RunInfo with ``.token``,
        the page token of the next page (None on the last one). A malformed
        filter or unknown order_by key raises InvalidArgumentError."""
        return _track.search_runs(self, experiments, filter, order_by, max_results, page_token,
                                  include_deleted)

    def export_mlflow(self, dest: PathLike, experiments: Any = None) -> None:
        """Writes experiments (None: all) and their runs, artifacts included,
        into directory ``dest`` in MLflow's file-store layout (``mlruns``)."""
        _track.export_mlflow(self, dest, experiments)

    def export_tensorboard(self, run_id: "_track.RunRef", dest: PathLike) -> None:
        """Writes a run's metrics as a TensorBoard event file into directory ``dest``."""
        _track.export_tensorboard(self, run_id, dest)

    def export_csv(self, run_id: "_track.RunRef", dest: PathLike) -> None:
        """Writes a run's metrics as CSV (``key,step,timestamp,value``) into file ``dest``."""
        _track.export_csv(self, run_id, dest)


class Refs:
    """``store.refs``: named pointers to objects, updated by compare-and-swap.

    Also a read-only mapping view: ``store.refs[name]``, ``name in
    store.refs``, ``iter(store.refs)`` (names), ``len(store.refs)``.
    """

    def __init__(self, store: Store) -> None:
        self._store = weakref.proxy(store)

    def get(self, name: str) -> str:
        """The id a ref points to; NotFoundError (a KeyError) if it does not
        exist, InvalidArgumentError (a ValueError) for a bad name."""
        s = self._store
        oid = _lib.Oid()
        s._check(_L.mlops_ref_get(byref(oid), s._handle, encode_name(name, "ref name")))
        return oid_hex(oid)

    def set(self, name: str, new_id: str, expected: Optional[str] = None) -> None:
        """Compare-and-swap: points ``name`` at ``new_id`` (an existing
        object) if the ref does not exist yet (``expected=None``) or currently
        equals ``expected``. A lost race raises ConflictError: re-read, retry."""
        s = self._store
        raw = encode_name(name, "ref name")
        new = parse_oid(new_id)
        exp = parse_oid(expected) if expected is not None else None
        s._check(_L.mlops_ref_set(s._handle, raw, byref(new), byref(exp) if exp is not None else None))

    def delete(self, name: str, expected: Optional[str] = None) -> None:
        """Deletes a ref if it equals ``expected`` (``None``: whatever it
        points to). NotFoundError if it does not exist, ConflictError if it
        changed."""
        s = self._store
        raw = encode_name(name, "ref name")
        exp = parse_oid(expected) if expected is not None else None
        s._check(_L.mlops_ref_delete(s._handle, raw, byref(exp) if exp is not None else None))

    def items(self, prefix: str = "") -> List[Tuple[str, str]]:
        """(name, id) of every ref starting with ``prefix``, by name."""
        s = self._store
        out: List[Tuple[str, str]] = []
        guard = _Callback()

        def cb(name: bytes, oid: Any, payload: Any) -> int:
            try:
                out.append((decode_name(name), oid_hex(oid.contents)))
                return 0
            except BaseException as e:
                return guard.fail(e)

        c_cb = _lib.REF_CB(cb)
        rc = _L.mlops_ref_foreach(s._handle, encode_name(prefix, "prefix"), c_cb, None)
        guard.reraise()
        s._check(rc)
        return out

    def list(self, prefix: str = "") -> List[str]:
        """Names of the refs starting with ``prefix``, in bytewise order."""
        return [name for name, _ in self.items(prefix)]

    def __getitem__(self, name: str) -> str:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, (str, bytes)):
            return False
        try:
            self.get(name)
        except (KeyError, ValueError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.items())


class _Child:
    """Something with a C handle that must be freed before its store."""

    _free_name = ""

    def _attach(self, store: Store, handle: Optional[int]) -> None:
        self._store = store
        self._lib = _L
        self._ch = handle
        store._children.add(self)

    def _child_handle(self) -> int:
        if self._ch is None or self._store.closed:
            raise invalid("I/O operation on a closed %s" % type(self).__name__)
        return self._ch

    def _free(self) -> None:
        h, self._ch = getattr(self, "_ch", None), None
        if h is not None:
            getattr(self._lib, self._free_name)(h)


class ObjectReader(_Child, io.RawIOBase):
    """A streaming reader of one object (see :meth:`Store.open_reader`)."""

    _free_name = "mlops_object_reader_free"

    def __init__(self, store: Store, oid: _lib.Oid) -> None:
        io.RawIOBase.__init__(self)
        self._ch = None
        h = c_void_p()
        store._check(_L.mlops_object_reader_open(byref(h), store._handle, byref(oid)))
        self._attach(store, h.value)
        self.id = oid_hex(oid)

    @property
    def size(self) -> int:
        """Logical size of the object."""
        return int(_L.mlops_object_reader_size(self._child_handle()))

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        arr, n = writable_view(b)
        got = c_size_t()
        self._store._check(_L.mlops_object_reader_read(byref(got), self._child_handle(), arr, n))
        return got.value

    def readall(self) -> bytes:
        chunks = []
        while True:
            chunk = self.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def close(self) -> None:
        try:
            self._free()
        finally:
            io.RawIOBase.close(self)


class ObjectWriter(_Child, io.RawIOBase):
    """A streaming writer of one object (see :meth:`Store.open_writer`).

    ``finish()`` publishes the object and returns its id. Used as a context
    manager it finishes on a clean exit (the id is then in ``.id``) and
    discards the object when the block raises. Closing an unfinished writer
    discards what was written.
    """

    _free_name = "mlops_object_writer_free"

    def __init__(self, store: Store) -> None:
        io.RawIOBase.__init__(self)
        self._ch = None
        h = c_void_p()
        store._check(_L.mlops_object_writer_new(byref(h), store._handle))
        self._attach(store, h.value)
        self.id: Optional[str] = None

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        if self.id is not None:
            raise invalid("write to a finished ObjectWriter")
        with Borrowed(b) as buf:
            self._store._check(_L.mlops_object_writer_write(self._child_handle(), buf.ptr, buf.len))
            return buf.len

    def finish(self) -> str:
        """Publishes the object, closes the writer and returns the id."""
        if self.id is not None:
            return self.id
        oid = _lib.Oid()
        self._store._check(_L.mlops_object_writer_finish(byref(oid), self._child_handle()))
        self.id = oid_hex(oid)
        self.close()
        return self.id

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        try:
            if exc_type is None and self.id is None and not self.closed:
                self.finish()
        finally:
            self.close()

    def close(self) -> None:
        try:
            self._free()
        finally:
            io.RawIOBase.close(self)


class LogReader(_Child, Closing):
    """Iterator over a log's records (bytes); see :meth:`Store.log_read`.
    Frees its C iterator when exhausted, closed, or collected."""

    _free_name = "mlops_log_iterator_free"

    def __init__(self, store: Store, name: bytes) -> None:
        self._ch = None
        h = c_void_p()
        store._check(_L.mlops_log_iterator_new(byref(h), store._handle, name))
        self._attach(store, h.value)

    def __iter__(self) -> "LogReader":
        return self

    def __next__(self) -> bytes:
        if self._ch is None:
            raise StopIteration
        rec = c_void_p()
        n = c_size_t()
        rc = _L.mlops_log_iterator_next(byref(rec), byref(n), self._child_handle())
        if rc == ITEROVER:
            self.close()
            raise StopIteration
        self._store._check(rc)
        return ctypes.string_at(rec.value, n.value) if n.value else b""

    def close(self) -> None:
        self._free()
