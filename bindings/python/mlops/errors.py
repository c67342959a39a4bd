"""Exceptions: one class per libmlops error code.

Each carries ``.code`` (the negative ``MLOPS_E*`` value), ``.name``
(``"ENOTFOUND"``) and the one-line message of ``mlops_error_last()``.
Where a builtin exception means the same thing, the class inherits it too,
so ``except KeyError`` catches a missing ref and ``except ValueError`` a
bad name.
"""

from __future__ import annotations

import errno as _errno
from typing import Dict, Optional, Type

from . import _lib

__all__ = [
    "MlopsError", "OutOfMemoryError", "NotFoundError", "AlreadyExistsError",
    "InvalidArgumentError", "CorruptError", "ConflictError", "StorageError", "LockedError",
    "UnsupportedError", "CallbackError", "NoSpaceError", "PermissionDeniedError",
    "error_for_code", "exception_to_code",
]


class MlopsError(Exception):
    """Base class of every libmlops error (``MLOPS_ERROR``, -1, when raised
    as itself)."""

    code: int = -1
    name: str = "ERROR"

    def __init__(self, message: str = "", code: Optional[int] = None, name: Optional[str] = None):
        # One positional argument only: OSError subclasses read two as
        # (errno, strerror).
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class OutOfMemoryError(MlopsError, MemoryError):
    """``MLOPS_ENOMEM``: an allocation failed; the handle stays usable."""
    code, name = -2, "ENOMEM"


class NotFoundError(MlopsError, KeyError):
    """``MLOPS_ENOTFOUND``: no such object, ref, log, file or store."""
    code, name = -3, "ENOTFOUND"


class AlreadyExistsError(MlopsError):
    """``MLOPS_EEXISTS``: the thing to create exists already."""
    code, name = -4, "EEXISTS"


class InvalidArgumentError(MlopsError, ValueError):
    """``MLOPS_EINVALID``: a bad argument (id, ref name, option...)."""
    code, name = -5, "EINVALID"


class CorruptError(MlopsError):
    """``MLOPS_ECORRUPT``: stored bytes do not match their id or checksum."""
    code, name = -6, "ECORRUPT"


class ConflictError(MlopsError):
    """``MLOPS_ECONFLICT``: a compare-and-swap lost a race; re-read and retry."""
    code, name = -7, "ECONFLICT"


class StorageError(MlopsError, OSError):
    """``MLOPS_EIO``: the storage failed (an ``OSError`` too)."""
    code, name = -8, "EIO"


class LockedError(MlopsError):
    """``MLOPS_ELOCKED``: a lock could not be taken in time."""
    code, name = -9, "ELOCKED"


class UnsupportedError(MlopsError):
    """``MLOPS_EUNSUPPORTED``: unsupported format (e.g. a newer store) or operation."""
    code, name = -10, "EUNSUPPORTED"


class CallbackError(MlopsError):
    """``MLOPS_EUSER``: a callback stopped the walk."""
    code, name = -11, "EUSER"


class NoSpaceError(StorageError):
    """``MLOPS_ENOSPACE``: no space left on the device."""
    code, name = -12, "ENOSPACE"


class PermissionDeniedError(MlopsError, PermissionError):
    """``MLOPS_EPERM``: permission denied, or a write to a read-only store."""
    code, name = -13, "EPERM"


_BY_CODE: Dict[int, Type[MlopsError]] = {
    cls.code: cls for cls in (
        MlopsError, OutOfMemoryError, NotFoundError, AlreadyExistsError, InvalidArgumentError,
        CorruptError, ConflictError, StorageError, LockedError, UnsupportedError, CallbackError,
        NoSpaceError, PermissionDeniedError)
}

ITEROVER = -30


def error_for_code(code: int, message: Optional[str] = None) -> MlopsError:
    """The exception for a negative code; message defaults to
    ``mlops_error_last()`` (or the code's description when that is empty)."""
    lib = _lib.lib
    if message is None:
        last = lib.mlops_error_last() or b""
        message = last.decode("utf-8", "replace")
        if not message:
            message = (lib.mlops_strerror(code) or b"").decode("utf-8", "replace")
    cls = _BY_CODE.get(code, MlopsError)
    name = (lib.mlops_error_name(code) or b"").decode("ascii", "replace")
    return cls(message, code=code, name=name)


def check(code: int) -> int:
    """Raises the matching exception for a negative return code."""
    if code < 0:
        raise error_for_code(code)
    return code


def invalid(message: str) -> InvalidArgumentError:
    """An EINVALID raised by the binding itself, before calling C."""
    return InvalidArgumentError(message, code=-5, name="EINVALID")


def exception_to_code(exc: BaseException) -> int:
    """The code a Python exception raised by a custom backend becomes."""
    if isinstance(exc, MlopsError):
        return exc.code if exc.code < 0 else -1
    if isinstance(exc, KeyError):
        return NotFoundError.code
    if isinstance(exc, FileNotFoundError):
        return NotFoundError.code
    if isinstance(exc, FileExistsError):
        return AlreadyExistsError.code
    if isinstance(exc, PermissionError):
        return PermissionDeniedError.code
    if isinstance(exc, (ValueError, TypeError)):
        return InvalidArgumentError.code
    if isinstance(exc, MemoryError):
        return OutOfMemoryError.code
    if isinstance(exc, NotImplementedError):
        return UnsupportedError.code
    if isinstance(exc, TimeoutError):
        return LockedError.code
    if isinstance(exc, OSError):
        return NoSpaceError.code if exc.errno == _errno.ENOSPC else StorageError.code
    return MlopsError.code
