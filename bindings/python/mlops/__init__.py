"""libmlops for Python: ctypes bindings of the embeddable ML-lifecycle library.

>>> import mlops
>>> with mlops.Store("/tmp/store") as s:
...     oid = s.put(b"hello")
...     s.refs.set("models/best", oid)
...     s.get(s.refs.get("models/best"))
b'hello'

The shared library is found as described in ``mlops._lib`` (first of all
through the ``LIBMLOPS_LIBRARY`` environment variable). numpy is never
required; numpy arrays (and any buffer-protocol object) go in without copies.
"""

from __future__ import annotations

from . import _lib
from .backend import Backend, MemoryBackend
from .errors import (AlreadyExistsError, CallbackError, ConflictError, CorruptError,
                     InvalidArgumentError, LockedError, MlopsError, NoSpaceError, NotFoundError,
                     OutOfMemoryError, PermissionDeniedError, StorageError, UnsupportedError)
from .track import ArtifactInfo, Experiment, Metric, Run, RunInfo, RunList
from .store import (GcReport, LogReader, ObjectReader, ObjectWriter, Refs, Store, StructuredObject,
                    VerifyReport, object_id, ref_name_is_valid)
from .data import CacheReport, Change, CheckoutInfo, Data, DataVersion, Diff, SnapshotInfo
from .registry import ModelVersion, RegisteredModel, Registry, RegistryEvent
from . import drift

__version__ = "0.1.0"

__all__ = [
    "version", "version_number", "library_path", "strerror", "error_name",
    "Store", "Refs", "ObjectReader", "ObjectWriter", "LogReader", "VerifyReport", "GcReport",
    "StructuredObject", "object_id", "ref_name_is_valid", "Backend", "MemoryBackend",
    "Experiment", "Run", "RunInfo", "RunList", "Metric", "ArtifactInfo", "has_tracking",
    "Data", "DataVersion", "SnapshotInfo", "CheckoutInfo", "CacheReport", "Diff", "Change", "has_data",
    "Registry", "RegisteredModel", "ModelVersion", "RegistryEvent", "has_registry",
    "drift", "has_drift",
    "MlopsError", "OutOfMemoryError", "NotFoundError", "AlreadyExistsError",
    "InvalidArgumentError", "CorruptError", "ConflictError", "StorageError", "LockedError",
    "UnsupportedError", "CallbackError", "NoSpaceError", "PermissionDeniedError",
]


def has_tracking() -> bool:
    """True if the loaded library was built with experiment tracking
    (``meson -Dtrack=true``); without it the Store's tracking methods raise
    UnsupportedError."""
    return _lib.has_module("track")


def has_data() -> bool:
    """True if the loaded library was built with data versioning
    (``meson -Ddata=true``); without it ``store.data`` calls raise
    UnsupportedError."""
    return _lib.has_module("data")


def has_registry() -> bool:
    """True if the loaded library was built with the model registry
    (``meson -Dregistry=true``); without it ``store.registry`` calls raise
    UnsupportedError."""
    return _lib.has_module("registry")


def version() -> str:
    """Version of the loaded C library, "MAJOR.MINOR.PATCH"."""
    return _lib.lib.mlops_version().decode("ascii")


def version_number() -> int:
    """MAJOR*10000 + MINOR*100 + PATCH of the loaded C library."""
    return int(_lib.lib.mlops_version_number())


def library_path() -> str:
    """The path (or name) the shared library was loaded from."""
    return _lib.path


def strerror(code: int) -> str:
    """Static description of an error code ("not found")."""
    return _lib.lib.mlops_strerror(code).decode("utf-8", "replace")


def error_name(code: int) -> str:
    """Symbolic name of an error code ("ENOTFOUND")."""
    return _lib.lib.mlops_error_name(code).decode("ascii", "replace")


def has_drift() -> bool:
    """True if the loaded library was built with drift statistics
    (``meson -Ddrift=true``); without it ``mlops.drift`` calls raise
    UnsupportedError."""
    return _lib.has_module("drift")
