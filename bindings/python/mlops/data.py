"""Data versioning: snapshots of files and directory trees, datasets with a
linear version history, checkout, status, diff and pointer files
(``include/mlops/data.h``).

Reached through :attr:`mlops.Store.data`::

    with mlops.Store("/data/store") as store:
        v = store.data.commit("images", "data/images", message="relabelled cats")
        print(v.ref, v.id, v.created)       # images@3 <64 hex> True
        store.data.checkout("images@2", "/tmp/images-v2", mode="hardlink")
        if store.data.status("images", "data/images"):
            print("data/images has uncommitted changes")
        print(store.data.diff("images@1", "images").to_json())

A *ref* is any string the C library resolves — ``"name"`` (latest),
``"name@3"``, ``"name@tag"`` or a raw 64-hex snapshot id — or a
:class:`DataVersion` (its ``dataset@version``, or its id for a bare
snapshot). Times are ints, milliseconds since the epoch, as in tracking.

Callbacks: ``notice(kind, path)`` (kind is one of :data:`NOTICE_KINDS`'s
values, path relative to the walked root) and ``progress(files_done,
files_total, bytes_done, bytes_total)``. A true return value stops the
walk (CallbackError); an exception they raise stops it too and is re-raised
once the C call has returned.

The C library contains these functions only when built with
``-Ddata=true``; otherwise every call raises :class:`mlops.UnsupportedError`
and ``import mlops`` still works.
"""

from __future__ import annotations

import ctypes
import os
import weakref
from ctypes import POINTER, byref, c_char_p, c_size_t, c_void_p
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, Union

from . import _lib
from ._util import PathLike, decode_name, encode_name, encode_path, oid_hex, parse_oid
from .errors import UnsupportedError, check, invalid
from .store import _Callback

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = ["Data", "DataVersion", "SnapshotInfo", "CheckoutInfo", "CacheReport", "Diff", "Change",
           "NOTICE_KINDS", "CHECKOUT_MODES", "available"]

_L = _lib.lib

#: What a walk reports through ``notice(kind, path)`` (data.h's mlops_data_notice).
NOTICE_KINDS = {1: "special", 2: "link_outside", 3: "bad_name", 4: "unreadable", 5: "changed"}
#: Checkout modes (mlops_data_checkout_mode).
CHECKOUT_MODES = {"copy": 0, "hardlink": 1, "reflink": 2}
_TYPES = {1: "file", 2: "dir", 3: "symlink"}
_KINDS = {1: "added", 2: "removed", 3: "modified", 4: "renamed"}
_ZERO = bytes(_lib.OID_RAWSZ)

Notice = Callable[[str, str], Any]
DataProgress = Callable[[int, int, int, int], Any]


def available() -> bool:
    """True if the loaded library was built with data versioning in full."""
    return _lib.has_module("data")


def _c(name: str) -> Any:
    """The C function ``name``, or UnsupportedError when the library lacks it
    (built without -Ddata=true, or older than this package)."""
    if _lib.has_function(name):
        return getattr(_L, name)
    raise UnsupportedError("libmlops at %s has no %s: rebuild it with meson -Ddata=true"
                           % (_lib.path, name), code=UnsupportedError.code, name="EUNSUPPORTED")


def _s(raw: Optional[bytes]) -> str:
    return decode_name(raw) if raw else ""


def _oid_or_none(oid: _lib.Oid) -> Optional[str]:
    """Hex of an id; None for the all-zero id data.h uses for "none"."""
    return None if bytes(oid.id) == _ZERO else oid_hex(oid)


def _fspath(raw: Optional[bytes]) -> Optional[str]:
    return os.fsdecode(raw) if raw is not None else None


# ---- value objects ---------------------------------------------------------

@dataclass
class SnapshotInfo:
    """What :meth:`Data.snapshot` stored."""
    id: str                #: the root manifest: the snapshot id (64 hex)
    size: int = 0          #: bytes in all files
    files: int = 0         #: regular files
    dirs: int = 0          #: directories below the root
    symlinks: int = 0
    skipped: int = 0       #: entries skipped (each reported as a notice)
    files_hashed: int = 0  #: files actually read (the rest came from the stat cache)
    bytes_hashed: int = 0

    @classmethod
    def _from_c(cls, i: _lib.DataSnapshotInfo) -> "SnapshotInfo":
        return cls(oid_hex(i.id), i.size, i.files, i.dirs, i.symlinks, i.skipped, i.files_hashed,
                   i.bytes_hashed)


@dataclass
class DataVersion:
    """One version of a dataset, or (resolved from a raw id) a bare
    snapshot: ``dataset`` None, ``version`` 0."""
    dataset: Optional[str]
    version: int
    id: str                      #: snapshot id (root manifest), 64 hex
    size: int = 0                #: bytes in all files
    files: int = 0               #: regular files
    message: str = ""
    user: str = ""
    time: int = 0                #: commit time, ms since the epoch
    tags: List[str] = field(default_factory=list)  #: sorted
    created: bool = False        #: commit only: False if the latest version already matched
    parent: Optional[str] = None  #: record id of the previous version (None for version 1)
    record: Optional[str] = None  #: id of this version's record (None for a bare snapshot)

    @property
    def ref(self) -> str:
        """``"dataset@version"``, or the snapshot id for a bare snapshot."""
        return "%s@%d" % (self.dataset, self.version) if self.dataset is not None else self.id

    def __str__(self) -> str:
        return self.ref

    @classmethod
    def _from_c(cls, v: _lib.DataVersion) -> "DataVersion":
        return cls(
            dataset=decode_name(v.dataset) if v.dataset is not None else None, version=v.version,
            id=oid_hex(v.id), size=v.size, files=v.files, message=_s(v.message), user=_s(v.user),
            time=v.time_ms, tags=[_s(v.tags[i]) for i in range(v.ntags)], created=bool(v.created),
            parent=_oid_or_none(v.parent), record=_oid_or_none(v.record))


@dataclass
class CheckoutInfo:
    """What :meth:`Data.checkout` did."""
    files_written: int = 0    #: files created or replaced
    files_unchanged: int = 0  #: already matching: not touched
    removed: int = 0          #: entries removed (clean=True)
    bytes_written: int = 0
    linked: int = 0           #: hard links or reflinks made


@dataclass
class CacheReport:
    """What :meth:`Data.prune_cache` removed (or, in a dry run, would remove)."""
    copies: int = 0         #: raw copies in the link cache
    removed: int = 0        #: copies no checkout links any more, past the grace period
    removed_bytes: int = 0
    linked: int = 0         #: kept: a checked-out file still links them
    young: int = 0          #: kept: changed within the grace period
    leftovers: int = 0      #: temp files of interrupted copies removed


class Change(NamedTuple):
    """One changed entry (a file, a symlink or an empty directory). Types
    are ``"file"``, ``"dir"``, ``"symlink"`` or None (the side where the
    entry does not exist); ids are 64 hex or None."""
    path: str                #: '/'-separated, relative to the root
    kind: str                #: "added", "removed", "modified" or "renamed"
    old_path: Optional[str]  #: renamed only: where the content was
    old_id: Optional[str]
    new_id: Optional[str]
    old_size: int
    new_size: int
    old_type: Optional[str]
    new_type: Optional[str]

    @classmethod
    def _from_c(cls, c: _lib.DataChange) -> "Change":
        return cls(os.fsdecode(c.path or b""), _KINDS.get(c.kind, str(c.kind)), _fspath(c.old_path),
                   _oid_or_none(c.old_id), _oid_or_none(c.new_id), c.old_size, c.new_size,
                   _TYPES.get(c.old_type), _TYPES.get(c.new_type))


_KIND_CODES = {v: k for k, v in _KINDS.items()}
_TYPE_CODES = {v: k for k, v in _TYPES.items()}


@dataclass
class Diff:
    """Changes between two versions (:meth:`Data.diff`) or between a version
    and a working tree (:meth:`Data.status`). True when there are changes;
    iterating gives every :class:`Change`, sorted by path."""
    changes: List[Change] = field(default_factory=list)
    old_size: int = 0      #: bytes in the files of the old side
    new_size: int = 0
    old_files: int = 0
    new_files: int = 0
    files_hashed: int = 0  #: status only: files read because the stat cache could not vouch

    def _of(self, kind: str) -> List[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def added(self) -> List[Change]:
        return self._of("added")

    @property
    def removed(self) -> List[Change]:
        return self._of("removed")

    @property
    def modified(self) -> List[Change]:
        return self._of("modified")

    @property
    def renamed(self) -> List[Change]:
        return self._of("renamed")

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def to_json(self) -> str:
        """The diff as one JSON object, written by the C library
        (``mlops_data_diff_json``), so C and Python tools print the same."""
        fn = _c("mlops_data_diff_json")
        n = len(self.changes)
        arr = (_lib.DataChange * max(n, 1))()
        for i, c in enumerate(self.changes):
            e = arr[i]  # assigning bytes to c_char_p fields keeps them alive in arr
            e.kind = _KIND_CODES[c.kind]
            e.path = os.fsencode(c.path)
            e.old_path = os.fsencode(c.old_path) if c.old_path is not None else None
            e.old_type = _TYPE_CODES.get(c.old_type, 0)  # type: ignore[arg-type]
            e.new_type = _TYPE_CODES.get(c.new_type, 0)  # type: ignore[arg-type]
            if c.old_id is not None:
                e.old_id = parse_oid(c.old_id)
            if c.new_id is not None:
                e.new_id = parse_oid(c.new_id)
            e.old_size, e.new_size = c.old_size, c.new_size
        d = _lib.DataDiff(ctypes.cast(arr, POINTER(_lib.DataChange)), n, len(self.added),
                          len(self.removed), len(self.modified), len(self.renamed), self.old_size,
                          self.new_size, self.old_files, self.new_files, self.files_hashed)
        out = c_void_p()
        check(fn(byref(out), byref(d)))
        try:
            return ctypes.string_at(out.value).decode("utf-8", "surrogateescape")
        finally:
            _L.mlops_free(out)

    @classmethod
    def _from_c(cls, d: _lib.DataDiff) -> "Diff":
        return cls([Change._from_c(d.changes[i]) for i in range(d.count)], d.old_size, d.new_size,
                   d.old_files, d.new_files, d.files_hashed)


Ref = Union[str, DataVersion]


def _ref(ref: Any, what: str = "ref") -> bytes:
    if isinstance(ref, DataVersion):
        return encode_name(ref.ref, what)
    if isinstance(ref, SnapshotInfo):
        return encode_name(ref.id, what)
    return encode_name(ref, what)


# ---- callbacks -------------------------------------------------------------

class _Hooks:
    """The C callbacks of one call, wrapping Python callables. Whoever holds
    this object keeps the ctypes thunks alive for the whole call (C would
    jump into freed memory otherwise)."""

    def __init__(self, notice: Optional[Notice] = None, progress: Optional[DataProgress] = None):
        self.guard = _Callback()
        for name, fn in (("notice", notice), ("progress", progress)):
            if fn is not None and not callable(fn):
                raise TypeError("%s must be callable, not %s" % (name, type(fn).__name__))
        self.notice = _lib.DATA_NOTICE_CB() if notice is None else _lib.DATA_NOTICE_CB(
            self._wrap(lambda kind, path: notice(NOTICE_KINDS.get(kind, str(kind)), os.fsdecode(path or b""))))
        self.progress = _lib.DATA_PROGRESS_CB() if progress is None else _lib.DATA_PROGRESS_CB(
            self._wrap(lambda p: progress(p.contents.files_done, p.contents.files_total,
                                          p.contents.bytes_done, p.contents.bytes_total)))

    def _wrap(self, call: Callable[..., Any]) -> Callable[..., int]:
        guard = self.guard

        def cb(*args: Any) -> int:
            try:
                return 1 if call(*args[:-1]) else 0  # the last argument is the payload
            except BaseException as e:  # noqa: B902 - re-raised after the C call
                return guard.fail(e)

        return cb

    def reraise(self) -> None:
        self.guard.reraise()


# ---- the facade --------------------------------------------------------------

class Data:
    """``store.data``: data versioning on one store (see the module docstring).

    Errors are the store's usual exceptions: InvalidArgumentError (a
    ValueError) for a bad name, tag, ref or option, NotFoundError (a
    KeyError) for an unknown dataset, version or path, AlreadyExistsError
    for a tag naming another version, ConflictError, PermissionDeniedError,
    CallbackError, UnsupportedError (e.g. hardlink checkout across
    filesystems)."""

    def __init__(self, store: "Store") -> None:
        self._store = weakref.proxy(store)

    # -- helpers

    def _take(self, rc: int, out: Any, hooks: Optional[_Hooks] = None) -> Any:
        """The Python copy of what a call returned in ``*out`` (a version or a
        diff), freed in C whatever happens; a callback's exception first."""
        is_diff = out._type_ is _lib.DataDiff
        try:
            if hooks is not None:
                hooks.reraise()
            self._store._check(rc)
            return (Diff if is_diff else DataVersion)._from_c(out.contents)
        finally:
            if out:
                (_L.mlops_data_diff_free if is_diff else _L.mlops_data_version_free)(out)

    def _snapshot_options(self, hooks: _Hooks, skip_unreadable: bool, use_cache: bool,
                          threads: int) -> _lib.DataSnapshotOptions:
        opts = _lib.DataSnapshotOptions()
        self._store._check(_c("mlops_data_snapshot_options_init")(byref(opts),
                                                                  _lib.DATA_SNAPSHOT_OPTIONS_VERSION))
        opts.flags = ((_lib.DATA_SKIP_UNREADABLE if skip_unreadable else 0)
                      | (0 if use_cache else _lib.DATA_NO_CACHE))
        if not isinstance(threads, int) or isinstance(threads, bool) or not 0 <= threads < 1 << 16:
            raise invalid("threads must be an int in 0..65535 (0: one per CPU, at most 8), not %r"
                          % (threads,))
        opts.threads = threads
        opts.progress = hooks.progress
        opts.notice = hooks.notice
        return opts

    def _commit_options(self, message: Optional[str], tags: Union[None, str, Sequence[str]],
                        pointer: Optional[PathLike], user: Optional[str], allow_empty: bool,
                        max_retries: int) -> _lib.DataCommitOptions:
        opts = _lib.DataCommitOptions()
        self._store._check(_c("mlops_data_commit_options_init")(byref(opts),
                                                                _lib.DATA_COMMIT_OPTIONS_VERSION))
        opts.flags = _lib.DATA_COMMIT_ALLOW_EMPTY if allow_empty else 0
        opts.message = None if message is None else encode_name(message, "message")
        opts.user = None if user is None else encode_name(user, "user")
        if isinstance(tags, (str, bytes)):
            tags = [tags]  # type: ignore[list-item]
        raw = [encode_name(t, "tag") for t in (tags or ())]
        if raw:
            opts.tags = (c_char_p * len(raw))(*raw)  # the struct keeps the array alive
            opts.ntags = len(raw)
        opts.pointer_path = None if pointer is None else encode_path(pointer)
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or not 0 <= max_retries < 1 << 32:
            raise invalid("max_retries must be an int in 0..2**32-1 (0: 100), not %r" % (max_retries,))
        opts.max_retries = max_retries
        return opts

    # -- snapshots and commits

    def snapshot(self, path: PathLike, *, notice: Optional[Notice] = None,
                 progress: Optional[DataProgress] = None, skip_unreadable: bool = False,
                 use_cache: bool = True, threads: int = 0) -> SnapshotInfo:
        """Stores the file or directory tree at ``path`` (symlinks recorded,
        never followed) and returns its :class:`SnapshotInfo`; ``.id`` can be
        checked out, diffed or committed later. Symlinks leaving the tree,
        special files and names with control characters are skipped and
        reported to ``notice``; an unreadable file fails the call
        (PermissionDeniedError) unless ``skip_unreadable``. ``use_cache=False``
        re-hashes every file instead of trusting the store's stat cache;
        ``threads`` is how many files are read at once (0: one per CPU, at
        most 8)."""
        fn = _c("mlops_data_snapshot")
        hooks = _Hooks(notice, progress)
        opts = self._snapshot_options(hooks, skip_unreadable, use_cache, threads)
        info = _lib.DataSnapshotInfo()
        rc = fn(byref(info), self._store._handle, encode_path(path), byref(opts))
        hooks.reraise()
        self._store._check(rc)
        return SnapshotInfo._from_c(info)

    def commit(self, name: str, path: PathLike, message: Optional[str] = None,
               tags: Union[None, str, Sequence[str]] = None, pointer: Optional[PathLike] = None,
               user: Optional[str] = None, *, allow_empty: bool = False, notice: Optional[Notice] = None,
               progress: Optional[DataProgress] = None, skip_unreadable: bool = False,
               use_cache: bool = True, threads: int = 0, max_retries: int = 0) -> DataVersion:
        """Snapshots ``path`` and commits it as the next version of dataset
        ``name`` (created on first commit). If the snapshot equals the latest
        version's, no version is made (unless ``allow_empty``): the latest is
        returned with ``created`` False, and ``tags`` are still applied.
        ``pointer`` writes a pointer file there; ``user`` defaults to $USER.
        The other keywords are :meth:`snapshot`'s; ``max_retries`` bounds the
        compare-and-swaps retried against concurrent committers (0: 100)."""
        fn = _c("mlops_data_commit")
        hooks = _Hooks(notice, progress)
        snap = self._snapshot_options(hooks, skip_unreadable, use_cache, threads)
        opts = self._commit_options(message, tags, pointer, user, allow_empty, max_retries)
        opts.snapshot = ctypes.pointer(snap)
        out = POINTER(_lib.DataVersion)()
        rc = fn(byref(out), self._store._handle, encode_name(name, "dataset name"), encode_path(path),
                byref(opts))
        return self._take(rc, out, hooks)

    def commit_snapshot(self, name: str, snapshot_id: Union[str, SnapshotInfo], message: Optional[str] = None,
                        tags: Union[None, str, Sequence[str]] = None, pointer: Optional[PathLike] = None,
                        user: Optional[str] = None, *, allow_empty: bool = False,
                        max_retries: int = 0) -> DataVersion:
        """:meth:`commit` for a snapshot already in the store (an id or a
        :class:`SnapshotInfo`). NotFoundError if it is missing,
        InvalidArgumentError if it is not a valid snapshot."""
        fn = _c("mlops_data_commit_snapshot")
        if isinstance(snapshot_id, (SnapshotInfo, DataVersion)):
            snapshot_id = snapshot_id.id
        oid = parse_oid(snapshot_id)
        opts = self._commit_options(message, tags, pointer, user, allow_empty, max_retries)
        out = POINTER(_lib.DataVersion)()
        rc = fn(byref(out), self._store._handle, encode_name(name, "dataset name"), byref(oid), byref(opts))
        return self._take(rc, out)

    # -- datasets and versions

    def resolve(self, ref: Ref) -> DataVersion:
        """The version ``ref`` names: ``"name"`` (latest), ``"name@3"``,
        ``"name@tag"``, or a raw 64-hex snapshot id (then a bare snapshot:
        ``dataset`` None, ``version`` 0). NotFoundError if there is no such
        version, InvalidArgumentError for a malformed ref."""
        fn = _c("mlops_data_resolve")
        out = POINTER(_lib.DataVersion)()
        rc = fn(byref(out), self._store._handle, _ref(ref))
        return self._take(rc, out)

    def versions(self, name: str) -> List[DataVersion]:
        """Every version of a dataset, oldest first (NotFoundError if there is
        no such dataset)."""
        fn = _c("mlops_data_versions")
        out = POINTER(POINTER(_lib.DataVersion))()
        n = c_size_t()
        rc = fn(byref(out), byref(n), self._store._handle, encode_name(name, "dataset name"))
        try:
            self._store._check(rc)
            return [DataVersion._from_c(out[i].contents) for i in range(n.value)]
        finally:
            if out:
                _L.mlops_data_version_list_free(out, n.value)

    def datasets(self) -> List[str]:
        """The names of all datasets, sorted."""
        fn = _c("mlops_data_list")
        names: List[str] = []
        hooks = _Hooks()
        cb = _lib.DATA_NAME_CB(hooks._wrap(lambda name: names.append(decode_name(name))))
        rc = fn(self._store._handle, cb, None)
        hooks.reraise()
        self._store._check(rc)
        return names

    def tag(self, ref: Ref, tag: str, force: bool = False) -> None:
        """Names the dataset version ``ref`` resolves to with ``tag``. A tag
        already on another version is AlreadyExistsError unless ``force``
        (then it moves). A raw id is InvalidArgumentError: tags belong to
        datasets."""
        fn = _c("mlops_data_tag")
        self._store._check(fn(self._store._handle, _ref(ref), encode_name(tag, "tag"), 1 if force else 0))

    def untag(self, name: Union[str, DataVersion], tag: str) -> None:
        """Removes a tag from dataset ``name`` (NotFoundError if it has no
        such tag)."""
        fn = _c("mlops_data_untag")
        if isinstance(name, DataVersion):
            if name.dataset is None:
                raise invalid("untag: %s is a bare snapshot, not a dataset version" % name.id)
            name = name.dataset
        self._store._check(fn(self._store._handle, encode_name(name, "dataset name"), encode_name(tag, "tag")))

    # -- pointer files

    def write_pointer(self, version: Ref, path: PathLike) -> None:
        """Writes (atomically replaces) a pointer file at ``path`` pinning the
        version ``version`` resolves to — commit it to git instead of the data."""
        fn = _c("mlops_data_pointer_write")
        out = POINTER(_lib.DataVersion)()
        rc = _c("mlops_data_resolve")(byref(out), self._store._handle, _ref(version))
        try:
            self._store._check(rc)
            self._store._check(fn(out, encode_path(path)))
        finally:
            if out:
                _L.mlops_data_version_free(out)

    def read_pointer(self, path: PathLike) -> DataVersion:
        """The version a pointer file pins, resolved against this store
        (ConflictError if the store's version has another snapshot id; the
        bare snapshot if the store lacks the dataset but has the snapshot)."""
        fn = _c("mlops_data_pointer_read")
        out = POINTER(_lib.DataVersion)()
        rc = fn(byref(out), self._store._handle, encode_path(path))
        return self._take(rc, out)

    # -- checkout, status, diff

    def checkout(self, ref: Ref, dest: PathLike, mode: str = "copy", clean: bool = False,
                 subpath: Optional[str] = None, *, progress: Optional[DataProgress] = None) -> CheckoutInfo:
        """Makes directory ``dest`` (created if missing) hold the version
        ``ref`` names. Matching files are left alone, others replaced
        atomically; exec bits and in-tree symlinks are restored.

        ``mode``: ``"copy"`` (independent files), ``"hardlink"`` (read-only
        hard links into the store: fs store on the same filesystem, else
        UnsupportedError) or ``"reflink"`` (copy-on-write clones where the
        filesystem can, copies elsewhere). ``clean=True`` removes entries of
        ``dest`` absent from the version. ``subpath`` checks out one
        directory (as ``dest``'s content) or one file (as ``dest/<name>``)."""
        fn = _c("mlops_data_checkout")
        if not isinstance(mode, str) or mode not in CHECKOUT_MODES:
            raise invalid("mode must be one of %s, not %r" % (", ".join(map(repr, CHECKOUT_MODES)), mode))
        hooks = _Hooks(progress=progress)
        opts = _lib.DataCheckoutOptions()
        self._store._check(_c("mlops_data_checkout_options_init")(byref(opts),
                                                                  _lib.DATA_CHECKOUT_OPTIONS_VERSION))
        opts.flags = _lib.DATA_CHECKOUT_CLEAN if clean else 0
        opts.mode = CHECKOUT_MODES[mode]
        opts.subpath = None if subpath is None else encode_path(subpath)
        opts.progress = hooks.progress
        info = _lib.DataCheckoutInfo()
        rc = fn(byref(info), self._store._handle, _ref(ref), encode_path(dest), byref(opts))
        hooks.reraise()
        self._store._check(rc)
        return CheckoutInfo(info.files_written, info.files_unchanged, info.removed, info.bytes_written,
                            info.linked)

    def prune_cache(self, grace_seconds: int = 3600, dry_run: bool = False) -> CacheReport:
        """Frees the raw copies that ``"hardlink"`` and ``"reflink"``
        checkouts keep in the store once no checked-out file links them
        (older than ``grace_seconds``), and temp files of interrupted
        copies; a later checkout makes again what it needs. A store without
        a directory has none. ``store.gc()`` never looks at them."""
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int) or \
                not 0 <= grace_seconds < 2 ** 64:
            raise invalid("grace_seconds must be an int in [0, 2**64), not %r" % (grace_seconds,))
        rep = _lib.DataCacheReport()
        self._store._check(_c("mlops_data_prune_cache")(byref(rep), self._store._handle, grace_seconds,
                                                        _lib.DATA_PRUNE_DRY_RUN if dry_run else 0))
        return CacheReport(rep.copies, rep.removed, rep.removed_bytes, rep.linked, rep.young, rep.leftovers)

    def status(self, ref: Ref, path: PathLike, *, notice: Optional[Notice] = None,
               update_cache: bool = True, use_cache: bool = True) -> Diff:
        """Changes from version ``ref`` to the working tree at ``path``
        (``added``: in the tree, not in the version). Files the stat cache
        vouches for are not read (``use_cache=False`` reads all of them);
        ``update_cache=False`` leaves the cache as it was."""
        fn = _c("mlops_data_status")
        hooks = _Hooks(notice=notice)
        opts = _lib.DataStatusOptions()
        self._store._check(_c("mlops_data_status_options_init")(byref(opts),
                                                                _lib.DATA_STATUS_OPTIONS_VERSION))
        opts.flags = ((0 if update_cache else _lib.DATA_STATUS_NO_UPDATE)
                      | (0 if use_cache else _lib.DATA_NO_CACHE))
        opts.notice = hooks.notice
        out = POINTER(_lib.DataDiff)()
        rc = fn(byref(out), self._store._handle, _ref(ref), encode_path(path), byref(opts))
        return self._take(rc, out, hooks)

    def diff(self, a: Ref, b: Ref) -> Diff:
        """Changes from version ``a`` to version ``b`` (renames detected: same
        content at a new path)."""
        fn = _c("mlops_data_diff_versions")
        out = POINTER(_lib.DataDiff)()
        rc = fn(byref(out), self._store._handle, _ref(a, "ref a"), _ref(b, "ref b"))
        return self._take(rc, out)
