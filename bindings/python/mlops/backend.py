"""Custom storage backends written in Python.

Subclass :class:`Backend`, implement its methods, and open a store over it
with ``mlops.Store.from_backend(MyBackend(), **options)``. The C store front
end does the hashing, encoding, verification and log framing; a backend only
moves bytes (see ``include/mlops/sys/backend.h`` for the promises it keeps:
blobs are published whole or not at all, ``ref_cas`` is atomic, each backend
instance appends to its own segment of a log).

Ids are the 32 raw bytes of the SHA-256 (``bytes``); names are ``str``.
A method reports a failure by raising: ``KeyError``/``FileNotFoundError``
become NOT FOUND, ``ValueError``/``TypeError`` INVALID, ``MemoryError`` NOMEM,
``PermissionError`` PERM, ``NotImplementedError`` UNSUPPORTED, ``OSError`` IO
(NOSPACE for ENOSPC), an :class:`mlops.MlopsError` its own code, anything
else the generic error. The store then raises the matching MlopsError with
the original exception as ``__cause__``.

Methods may be called from several threads at once (the store handle is
shared by threads); :class:`MemoryBackend` shows the locking.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from . import _lib
from ._util import decode_name
from .errors import ConflictError, NotFoundError, exception_to_code

__all__ = ["Backend", "MemoryBackend"]

ObjectInfo = Tuple[bytes, int, int]  # (raw id, stored size, mtime in seconds)


class Backend:
    """Base class of custom backends: override every method but ``close``."""

    # -- objects: physical blobs, keyed by raw 32-byte id --
    def obj_exists(self, oid: bytes) -> bool:
        """True if a blob is stored under ``oid``."""
        raise NotImplementedError

    def obj_stat(self, oid: bytes) -> Tuple[int, int]:
        """(stored size in bytes, modification time in seconds since the
        epoch); KeyError if missing."""
        raise NotImplementedError

    def obj_write_open(self) -> Any:
        """Starts a new blob; returns any handle object."""
        raise NotImplementedError

    def obj_write(self, handle: Any, data: bytes) -> None:
        """Adds bytes to a blob being written."""
        raise NotImplementedError

    def obj_write_commit(self, handle: Any, oid: bytes) -> None:
        """Publishes the whole blob under ``oid`` — or keeps the existing
        blob if ``oid`` is already there."""
        raise NotImplementedError

    def obj_write_abort(self, handle: Any) -> None:
        """Discards a blob being written."""
        raise NotImplementedError

    def obj_read_open(self, oid: bytes) -> Any:
        """Opens a blob for reading; KeyError if missing."""
        raise NotImplementedError

    def obj_read(self, handle: Any, n: int) -> bytes:
        """Up to ``n`` next bytes; ``b""`` at the end."""
        raise NotImplementedError

    def obj_read_close(self, handle: Any) -> None:
        """Releases a read handle."""
        raise NotImplementedError

    def obj_delete(self, oid: bytes) -> None:
        """Deletes a blob; KeyError if missing."""
        raise NotImplementedError

    def obj_list(self) -> Iterable[ObjectInfo]:
        """Every blob as (oid, stored size, mtime), in any order. The store
        may delete blobs while it walks this (gc): return a snapshot."""
        raise NotImplementedError

    # -- refs --
    def ref_read(self, name: str) -> Optional[bytes]:
        """The raw id of a ref, or None if it does not exist."""
        raise NotImplementedError

    def ref_cas(self, name: str, expected: Optional[bytes], new: Optional[bytes]) -> bool:
        """Atomically: if the ref's value equals ``expected`` (None: the ref
        must not exist), set it to ``new`` (None: delete it) and return True;
        otherwise return False (a conflict). Deleting a missing ref raises
        KeyError."""
        raise NotImplementedError

    def ref_list(self, prefix: str) -> Iterable[str]:
        """Names of the refs starting with ``prefix``, any order (snapshot)."""
        raise NotImplementedError

    # -- logs --
    def log_append(self, log: str, data: bytes) -> None:
        """Appends bytes to this instance's own segment of the log."""
        raise NotImplementedError

    def log_sync(self, log: str) -> None:
        """Makes this instance's appends to the log durable."""
        raise NotImplementedError

    def log_segments(self, log: str) -> Iterable[str]:
        """Segment names of a log in creation order; KeyError if no such log."""
        raise NotImplementedError

    def log_read(self, log: str, segment: str, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes of a segment from ``offset``; ``b""`` at the end."""
        raise NotImplementedError

    def log_list(self, prefix: str) -> Iterable[str]:
        """Names of the logs starting with ``prefix``, any order."""
        raise NotImplementedError

    # -- whole store --
    def sync(self) -> None:
        """A commit point: everything written so far becomes durable."""
        raise NotImplementedError

    def close(self) -> None:
        """Called once when the store over this backend is closed."""


class MemoryBackend(Backend):
    """A reference backend keeping everything in Python dicts (thread-safe).

    Useful for tests and as a template for a real one (S3, a database...).
    ``objects`` maps raw id -> (bytes, mtime) and may be tampered with by
    tests; ``now`` gives the clock (override to age objects for gc tests).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.objects: Dict[bytes, Tuple[bytes, int]] = {}
        self.refs: Dict[str, bytes] = {}
        self.logs: Dict[str, Dict[str, bytearray]] = {}
        self.segment = "seg-" + uuid.uuid4().hex
        self.syncs = 0
        self.closed = False
        self.now: Callable[[], float] = time.time

    def obj_exists(self, oid: bytes) -> bool:
        with self._lock:
            return oid in self.objects

    def obj_stat(self, oid: bytes) -> Tuple[int, int]:
        with self._lock:
            data, mtime = self.objects[oid]
            return len(data), mtime

    def obj_write_open(self) -> Any:
        return bytearray()

    def obj_write(self, handle: Any, data: bytes) -> None:
        handle += data

    def obj_write_commit(self, handle: Any, oid: bytes) -> None:
        with self._lock:
            if oid not in self.objects:
                self.objects[oid] = (bytes(handle), int(self.now()))

    def obj_write_abort(self, handle: Any) -> None:
        pass

    def obj_read_open(self, oid: bytes) -> Any:
        with self._lock:
            return [self.objects[oid][0], 0]

    def obj_read(self, handle: Any, n: int) -> bytes:
        data, pos = handle
        chunk = data[pos:pos + n]
        handle[1] = pos + len(chunk)
        return chunk

    def obj_read_close(self, handle: Any) -> None:
        pass

    def obj_delete(self, oid: bytes) -> None:
        with self._lock:
            del self.objects[oid]

    def obj_list(self) -> List[ObjectInfo]:
        with self._lock:
            return [(k, len(v[0]), v[1]) for k, v in self.objects.items()]

    def ref_read(self, name: str) -> Optional[bytes]:
        with self._lock:
            return self.refs.get(name)

    def ref_cas(self, name: str, expected: Optional[bytes], new: Optional[bytes]) -> bool:
        with self._lock:
            current = self.refs.get(name)
            if new is None and current is None:
                raise NotFoundError("ref %r not found" % name)
            if expected is not None and current != expected:
                return False
            if expected is None and current is not None and new is not None:
                return False
            if new is None:
                del self.refs[name]
            else:
                self.refs[name] = new
            return True

    def ref_list(self, prefix: str) -> List[str]:
        with self._lock:
            return [n for n in self.refs if n.startswith(prefix)]

    def log_append(self, log: str, data: bytes) -> None:
        with self._lock:
            self.logs.setdefault(log, {}).setdefault(self.segment, bytearray()).extend(data)

    def log_sync(self, log: str) -> None:
        with self._lock:
            self.syncs += 1

    def log_segments(self, log: str) -> List[str]:
        with self._lock:
            return list(self.logs[log])

    def log_read(self, log: str, segment: str, offset: int, n: int) -> bytes:
        with self._lock:
            return bytes(self.logs[log][segment][offset:offset + n])

    def log_list(self, prefix: str) -> List[str]:
        with self._lock:
            return [n for n in self.logs if n.startswith(prefix)]

    def sync(self) -> None:
        with self._lock:
            self.syncs += 1

    def close(self) -> None:
        self.closed = True


def _raw(oid_ptr: Any) -> bytes:
    return bytes(oid_ptr.contents.id)


def _name(raw: Optional[bytes]) -> str:
    return decode_name(raw) if raw else ""


class _Adapter:
    """Builds the C vtable for a Backend. Holds every CFUNCTYPE object for
    as long as the store lives (the store keeps the adapter)."""

    def __init__(self, backend: Backend) -> None:
        if not isinstance(backend, Backend):
            raise TypeError("from_backend() needs an mlops.Backend instance, not %s"
                            % type(backend).__name__)
        self.backend = backend
        self._handles: Dict[int, Any] = {}
        self._next = itertools.count(1)  # 0 would be NULL
        self._pending = threading.local()
        self._freed = False
        self._set_error = _lib.lib.mlops_backend_error_set
        vt = _lib.BackendVtable()
        rc = _lib.lib.mlops_backend_init(ctypes.byref(vt), _lib.BACKEND_VERSION)
        if rc < 0:
            from .errors import check
            check(rc)
        self._keep: List[Any] = []
        for fname, ftype in _lib.BackendVtable._fields_[2:]:
            if fname in _lib.BACKEND_OPTIONAL:
                continue
            impl = getattr(self, "_cb_" + fname)
            wrapped = self._guard(impl, void=fname in ("obj_write_abort", "obj_read_close", "free"))
            cfn = ftype(wrapped)
            self._keep.append(cfn)
            setattr(vt, fname, cfn)
        self.vtable = vt

    # -- error plumbing --
    def _guard(self, fn: Callable[..., Any], void: bool) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except BaseException as e:  # noqa: B902 - becomes an error code
                if void:
                    return None
                return self._fail(e)
        return call

    def _fail(self, exc: BaseException) -> int:
        code = exception_to_code(exc)
        try:
            self._pending.exc = (code, exc)
            msg = str(exc) if not isinstance(exc, KeyError) or not exc.args else str(exc.args[0])
            if not hasattr(exc, "code"):
                msg = "%s: %s" % (type(exc).__name__, msg) if msg else type(exc).__name__
            self._set_error(code, ("python backend: " + msg).encode("utf-8", "replace"))
        except BaseException:
            pass
        return code

    def take_exception(self, code: int) -> Optional[BaseException]:
        """The exception a callback raised on this thread, if it is what
        made the C call fail with code (else it was handled inside C)."""
        pending = getattr(self._pending, "exc", None)
        self._pending.exc = None
        if pending is None or pending[0] != code:
            return None
        return pending[1]

    def _put(self, obj: Any) -> int:
        key = next(self._next)
        self._handles[key] = obj
        return key

    @staticmethod
    def _copy_out(data: Any, buf: int, cap: int, out_n: Any) -> int:
        n = len(data)
        if n > cap:
            raise ValueError("backend returned %d bytes, more than the %d asked for" % (n, cap))
        if n:
            ctypes.memmove(buf, bytes(data), n)
        out_n[0] = n
        return 0

    # -- callbacks: (mlops_backend *b, ...) with b ignored --
    def _cb_obj_exists(self, b: Any, oid: Any) -> int:
        return 1 if self.backend.obj_exists(_raw(oid)) else 0

    def _cb_obj_stat(self, b: Any, oid: Any, size: Any, mtime: Any) -> int:
        s, m = self.backend.obj_stat(_raw(oid))
        if size:
            size[0] = int(s)
        if mtime:
            mtime[0] = int(m)
        return 0

    def _cb_obj_write_open(self, b: Any, out_w: Any) -> int:
        out_w[0] = self._put(self.backend.obj_write_open())
        return 0

    def _cb_obj_write(self, b: Any, w: int, data: int, n: int) -> int:
        self.backend.obj_write(self._handles[w], ctypes.string_at(data, n) if n else b"")
        return 0

    def _cb_obj_write_commit(self, b: Any, w: int, oid: Any) -> int:
        self.backend.obj_write_commit(self._handles.pop(w), _raw(oid))
        return 0

    def _cb_obj_write_abort(self, b: Any, w: int) -> None:
        h = self._handles.pop(w, None)
        self.backend.obj_write_abort(h)

    def _cb_obj_read_open(self, b: Any, oid: Any, out_r: Any) -> int:
        out_r[0] = self._put(self.backend.obj_read_open(_raw(oid)))
        return 0

    def _cb_obj_read(self, b: Any, r: int, buf: int, cap: int, out_n: Any) -> int:
        return self._copy_out(self.backend.obj_read(self._handles[r], cap), buf, cap, out_n)

    def _cb_obj_read_close(self, b: Any, r: int) -> None:
        h = self._handles.pop(r, None)
        self.backend.obj_read_close(h)

    def _cb_obj_delete(self, b: Any, oid: Any) -> int:
        self.backend.obj_delete(_raw(oid))
        return 0

    def _cb_obj_foreach(self, b: Any, cb: Any, payload: Any) -> int:
        for raw, size, mtime in self.backend.obj_list():
            oid = _lib.Oid.from_buffer_copy(bytes(raw))
            rc = cb(ctypes.pointer(oid), int(size), int(mtime), payload)
            if rc:
                return rc
        return 0

    def _cb_ref_read(self, b: Any, name: bytes, out: Any) -> int:
        n = _name(name)
        v = self.backend.ref_read(n)
        if v is None:
            return self._set_error(NotFoundError.code, ("ref '%s' not found" % n).encode("utf-8", "replace"))
        if len(v) != _lib.OID_RAWSZ:
            raise ValueError("backend returned an id of %d bytes, not 32" % len(v))
        ctypes.memmove(out, bytes(v), _lib.OID_RAWSZ)
        return 0

    def _cb_ref_cas(self, b: Any, name: bytes, expected: Any, new: Any) -> int:
        n = _name(name)
        exp = _raw(expected) if expected else None
        nw = _raw(new) if new else None
        if not self.backend.ref_cas(n, exp, nw):
            return self._set_error(ConflictError.code,
                                   ("ref '%s' changed concurrently" % n).encode("utf-8", "replace"))
        return 0

    def _walk_names(self, names: Iterable[str], cb: Any, payload: Any) -> int:
        for nm in names:
            rc = cb(nm.encode("utf-8", "surrogateescape"), payload)
            if rc:
                return rc
        return 0

    def _cb_ref_foreach(self, b: Any, prefix: Optional[bytes], cb: Any, payload: Any) -> int:
        return self._walk_names(self.backend.ref_list(_name(prefix)), cb, payload)

    def _cb_log_append(self, b: Any, log: bytes, data: int, n: int) -> int:
        self.backend.log_append(_name(log), ctypes.string_at(data, n) if n else b"")
        return 0

    def _cb_log_sync(self, b: Any, log: bytes) -> int:
        self.backend.log_sync(_name(log))
        return 0

    def _cb_log_segments(self, b: Any, log: bytes, cb: Any, payload: Any) -> int:
        return self._walk_names(list(self.backend.log_segments(_name(log))), cb, payload)

    def _cb_log_read(self, b: Any, log: bytes, seg: bytes, offset: int, buf: int, cap: int,
                     out_n: Any) -> int:
        return self._copy_out(self.backend.log_read(_name(log), _name(seg), offset, cap), buf, cap, out_n)

    def _cb_log_foreach(self, b: Any, prefix: Optional[bytes], cb: Any, payload: Any) -> int:
        return self._walk_names(self.backend.log_list(_name(prefix)), cb, payload)

    def _cb_sync(self, b: Any) -> int:
        self.backend.sync()
        return 0

    def _cb_free(self, b: Any) -> None:
        if self._freed:
            return
        self._freed = True
        self._handles.clear()
        self.backend.close()
