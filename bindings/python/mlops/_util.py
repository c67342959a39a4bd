"""Argument conversion shared by the modules: names, paths, ids, buffers."""

from __future__ import annotations

import ctypes
import os
import platform
from ctypes import POINTER, Structure, c_char, c_int, c_ssize_t, c_void_p
from typing import Any, Optional, Tuple, Union

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


class Borrowed:
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

    def __enter__(self) -> "Borrowed":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:
            pass


def writable_view(b: Any) -> Tuple[Any, int]:
    """(ctypes array over a writable buffer, length) for readinto()."""
    mv = memoryview(b)
    if mv.readonly:
        raise TypeError("readinto() needs a writable buffer")
    mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
    return (c_char * mv.nbytes).from_buffer(mv), mv.nbytes
