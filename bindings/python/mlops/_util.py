"""Argument conversion shared by the modules: names, paths, ids, buffers."""

from __future__ import annotations

import ctypes
import operator
import os
import platform
import sys
from ctypes import POINTER, Structure, c_char, c_double, c_int, c_int64, c_ssize_t, c_void_p
from typing import Any, List, Optional, Tuple, Union

from . import _lib
from .errors import invalid

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def encode_name(name: Union[str, bytes], what: str = "name") -> bytes:
    """A ref or log name as the C string the library gets. A NUL byte would
    silently cut the name short in C, so it is refused here."""
    if isinstance(name, str):
        raw = name.encode("utf-8", "surrogateescape")
    elif isinstance(name, (bytes, bytearray)):
        raw = bytes(name)
    else:
        raise TypeError("%s must be str or bytes, not %s" % (what, type(name).__name__))
    if b"\x00" in raw:
        raise invalid("%s %r contains a NUL character" % (what, name))
    return raw


def decode_name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def encode_path(path: PathLike) -> bytes:
    raw = os.fsencode(os.fspath(path))
    if b"\x00" in raw:
        raise invalid("path %r contains a NUL character" % (path,))
    return raw


def parse_oid(hexid: Union[str, bytes]) -> _lib.Oid:
    """64 hex digits (str or ASCII bytes) -> mlops_oid; InvalidArgumentError
    otherwise (the C parser decides, so Python and C agree)."""
    if isinstance(hexid, str):
        raw = hexid.encode("utf-8", "surrogateescape")
    elif isinstance(hexid, (bytes, bytearray)):
        raw = bytes(hexid)
    else:
        raise TypeError("object id must be a hex str, not %s" % type(hexid).__name__)
    oid = _lib.Oid()
    rc = _lib.lib.mlops_oid_fromhexn(ctypes.byref(oid), raw, len(raw))
    if rc < 0:
        from .errors import check
        check(rc)
    return oid


def oid_hex(oid: _lib.Oid) -> str:
    return bytes(oid.id).hex()


def oid_from_raw(raw: bytes) -> _lib.Oid:
    if len(raw) != _lib.OID_RAWSZ:
        raise invalid("a raw object id has 32 bytes, got %d" % len(raw))
    return _lib.Oid.from_buffer_copy(raw)


# ---- zero-copy buffers ---------------------------------------------------

class _PyBuffer(Structure):
    # Py_buffer (stable layout since Python 3.3)
    _fields_ = [
        ("buf", c_void_p), ("obj", c_void_p), ("len", c_ssize_t), ("itemsize", c_ssize_t),
        ("readonly", c_int), ("ndim", c_int), ("format", c_void_p), ("shape", c_void_p),
        ("strides", c_void_p), ("suboffsets", c_void_p), ("internal", c_void_p),
    ]


_CPYTHON = platform.python_implementation() == "CPython"
if _CPYTHON:
    _GetBuffer = ctypes.pythonapi.PyObject_GetBuffer
    _GetBuffer.argtypes = [ctypes.py_object, POINTER(_PyBuffer), c_int]
    _GetBuffer.restype = c_int
    _ReleaseBuffer = ctypes.pythonapi.PyBuffer_Release
    _ReleaseBuffer.argtypes = [POINTER(_PyBuffer)]
    _ReleaseBuffer.restype = None


class Closing:
    """Context-manager and finalizer plumbing of a handle with ``close()``:
    ``with`` closes it, and so does garbage collection, quietly (the
    interpreter may be shutting down)."""

    def close(self) -> None:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except BaseException:
            pass


class Borrowed(Closing):
    """The address and length of a bytes-like object's memory, borrowed for
    the duration of a ``with`` block — no copy for bytes, bytearray,
    memoryview, array.array, mmap or C-contiguous numpy arrays (readonly
    ones included). Only non-contiguous views are copied."""

    __slots__ = ("ptr", "len", "_keep", "_view")

    def __init__(self, data: Any):
        self._keep: Any = None
        self._view: Optional[_PyBuffer] = None
        if isinstance(data, str):
            raise TypeError("expected a bytes-like object, not str (encode it first)")
        if isinstance(data, bytes):
            # ctypes passes a bytes object's own buffer to a void * argument.
            self._keep = data
            self.ptr: Any = data
            self.len = len(data)
            return
        if _CPYTHON:
            view = _PyBuffer()
            try:
                _GetBuffer(data, ctypes.byref(view), 0)  # PyBUF_SIMPLE: contiguous bytes
            except (BufferError, ValueError):
                pass  # not contiguous (numpy says ValueError): copied below
            except TypeError:
                raise TypeError("expected a bytes-like object, not %s" % type(data).__name__) from None
            else:
                self._view = view
                self.ptr = view.buf
                self.len = view.len
                return
        mv = memoryview(data)
        if mv.c_contiguous and not mv.readonly:
            arr = (c_char * mv.nbytes).from_buffer(mv)
            self._keep = arr
            self.ptr = arr
            self.len = mv.nbytes
            return
        copy = mv.tobytes()  # unavoidable: non-contiguous (or readonly off CPython)
        self._keep = copy
        self.ptr = copy
        self.len = len(copy)

    @property
    def address(self) -> Optional[int]:
        """The plain address (for arrays of pointers)."""
        if isinstance(self.ptr, bytes):
            return ctypes.cast(ctypes.c_char_p(self.ptr), c_void_p).value
        if isinstance(self.ptr, int) or self.ptr is None:
            return self.ptr
        return ctypes.addressof(self.ptr)

    def release(self) -> None:
        if self._view is not None:
            _ReleaseBuffer(ctypes.byref(self._view))
            self._view = None
        self._keep = None
        self.ptr = None

    def close(self) -> None:
        self.release()


def writable_view(b: Any) -> Tuple[Any, int]:
    """(ctypes array over a writable buffer, length) for readinto()."""
    mv = memoryview(b)
    if mv.readonly:
        raise TypeError("readinto() needs a writable buffer")
    mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
    return (c_char * mv.nbytes).from_buffer(mv), mv.nbytes


def int64_arg(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError("%s must be an int, not bool" % what)
    try:
        v = operator.index(value)  # int, numpy integers
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__)) from None
    if not -(1 << 63) <= v < (1 << 63):
        raise invalid("%s out of the int64 range: %d" % (what, v))
    return v


# ---- arrays of numbers ---------------------------------------------------

_DOUBLE_FORMATS = {"d", "@d", "=d", "<d"}  # little-endian machines: "<d" is native
_INT64_FORMATS = {"q", "@q", "=q", "<q", "l", "@l", "=l", "<l"}


class NumberArray:
    """The address of n doubles or int64s for a C call: borrowed without
    a copy from a numpy array of the right dtype (C-contiguous, 1-D or
    flattened) or any contiguous buffer whose format is ``d`` (resp. ``q``/``l``
    with 8-byte items: array.array('d'), memoryview.cast('d'), …); anything
    else (lists, tuples, other dtypes) is converted into a fresh C array."""

    __slots__ = ("ptr", "n", "_keep", "_borrowed", "copied")

    def __init__(self, data: Any, kind: str, what: str):
        self._keep: Any = None
        self._borrowed: Optional[Borrowed] = None
        self.copied = False
        ctype = c_double if kind == "d" else c_int64
        if is_numpy(data):
            self._from_numpy(data, kind, ctype, what)
            return
        if isinstance(data, (str, bytes, bytearray)):
            raise TypeError("%s must be a sequence or buffer of numbers, not %s" % (what, type(data).__name__))
        try:
            mv = memoryview(data)
        except TypeError:
            mv = None
        if mv is not None:
            ok = _DOUBLE_FORMATS if kind == "d" else _INT64_FORMATS
            if mv.format in ok and mv.itemsize == 8 and mv.c_contiguous:
                b = Borrowed(data)
                self._borrowed = b
                self.ptr = b.address
                self.n = mv.nbytes // 8
                mv.release()
                return
            seq: Any = mv.tolist() if mv.ndim <= 1 else _flatten(mv.tolist())
            mv.release()
        else:
            seq = data
        self._copy(seq, kind, ctype, what)

    def _from_numpy(self, a: Any, kind: str, ctype: Any, what: str) -> None:
        import numpy as np
        dtype = np.dtype(np.float64 if kind == "d" else np.int64)
        if a.dtype != dtype or not a.flags.c_contiguous:
            if kind == "q" and a.dtype.kind not in "iub":
                raise TypeError("%s must hold integers, not %s" % (what, a.dtype))
            a = np.ascontiguousarray(a, dtype=dtype)
            self.copied = True
        self._keep = a
        self.ptr = a.ctypes.data_as(c_void_p)
        self.n = int(a.size)

    def _copy(self, seq: Any, kind: str, ctype: Any, what: str) -> None:
        try:
            items = list(seq)
        except TypeError:
            raise TypeError("%s must be a sequence or buffer of numbers, not %s"
                            % (what, type(seq).__name__)) from None
        if kind == "d":
            arr = (ctype * max(len(items), 1))(*[float(v) for v in items])
        else:
            arr = (ctype * max(len(items), 1))(*[int64_arg(v, "an item of " + what) for v in items])
        self._keep = arr
        self.ptr = ctypes.cast(arr, c_void_p)
        self.n = len(items)
        self.copied = True

    def release(self) -> None:
        if self._borrowed is not None:
            self._borrowed.release()
            self._borrowed = None
        self._keep = None


def _flatten(x: Any) -> List[Any]:
    out: List[Any] = []
    for v in x:
        if isinstance(v, list):
            out.extend(_flatten(v))
        else:
            out.append(v)
    return out


def is_numpy(obj: Any) -> bool:
    np = sys.modules.get("numpy")  # never imported here: an ndarray implies numpy is loaded
    return np is not None and isinstance(obj, np.ndarray)
