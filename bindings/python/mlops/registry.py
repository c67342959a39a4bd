"""Model registry: registered models, numbered versions pointing at artifact
objects with run and dataset lineage, aliases, MLflow's legacy stages,
resolution of model references and an audit history
(``include/mlops/registry.h``).

Reached through :attr:`mlops.Store.registry`::

    with mlops.Store("/data/store") as store:
        store.registry.create_model("churn", description="gradient boosting")
        v = store.registry.register("churn", "model.bin", run_id=run.id,
                                    dataset="customers@3")
        store.registry.set_alias("churn", "production", v.version)
        store.registry.download("models:/churn@production", "/srv/model.bin")
        for e in store.registry.history("churn"):
            print(e.time, e.user, e.kind, e.version, e.alias, e.to_stage)

A model *reference* is ``"name@alias"``, ``"name/3"``, ``"name@latest"``,
``"name/latest"``, ``"name/Production"`` (the highest version in that
stage), each also with a ``"models:/"`` prefix. Times are ints,
milliseconds since the epoch, as in tracking.

The C library contains these functions only when built with
``-Dregistry=true``; otherwise every call raises
:class:`mlops.UnsupportedError` and ``import mlops`` still works.
"""

from __future__ import annotations

import os
import weakref
from ctypes import POINTER, byref, c_char_p, c_int, c_size_t
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _lib
from ._util import PathLike, decode_name, encode_name, encode_path, oid_hex, parse_oid
from .errors import UnsupportedError, check, invalid

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = ["Registry", "RegisteredModel", "ModelVersion", "RegistryEvent", "STAGES", "EVENT_KINDS",
           "available"]

_L = _lib.lib

#: Stage names as the library spells them (mlops_registry_stage).
STAGES = {0: "None", 1: "Staging", 2: "Production", 3: "Archived"}
#: History event kinds (mlops_registry_event_kind).
EVENT_KINDS = {1: "model_created", 2: "model_renamed", 3: "model_description", 4: "model_tag_set",
               5: "model_tag_deleted", 6: "version_registered", 7: "version_deleted",
               8: "version_description", 9: "version_tag_set", 10: "version_tag_deleted",
               11: "alias_set", 12: "alias_deleted", 13: "stage_changed"}
_STATUS = {1: "READY"}


def available() -> bool:
    """True if the loaded library was built with the model registry in full."""
    return _lib.has_module("registry")


def _c(name: str) -> Any:
    """The C function ``name``, or UnsupportedError when the library lacks it."""
    if _lib.has_function(name):
        return getattr(_L, name)
    raise UnsupportedError("libmlops at %s has no %s: rebuild it with meson -Dregistry=true"
                           % (_lib.path, name), code=UnsupportedError.code, name="EUNSUPPORTED")


def _s(raw: Optional[bytes]) -> str:
    return decode_name(raw) if raw else ""


def _tags_from_c(tags: Any, n: int) -> Dict[str, str]:
    return {_s(tags[i].key): _s(tags[i].value) for i in range(n)}


def _version_number(version: Any) -> int:
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 1 << 64:
        raise invalid("a model version is a positive int, not %r" % (version,))
    return version


# ---- value objects ---------------------------------------------------------

@dataclass
class RegisteredModel:
    """A registered model as :meth:`Registry.get_model` returns it."""
    name: str
    description: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
    aliases: Dict[str, int] = field(default_factory=dict)  #: alias -> version
    created: int = 0          #: ms since the epoch
    updated: int = 0          #: time of the last change
    latest_version: int = 0   #: highest live version (0: none)
    versions: int = 0         #: live versions
    next_version: int = 1     #: the number the next registration gets
    state: str = ""           #: id of the model's current state object

    @classmethod
    def _from_c(cls, m: _lib.RegistryModel) -> "RegisteredModel":
        return cls(_s(m.name), _s(m.description), _tags_from_c(m.tags, m.ntags),
                   {_s(m.aliases[i].alias): m.aliases[i].version for i in range(m.naliases)},
                   m.created_ms, m.updated_ms, m.latest_version, m.nversions, m.next_version,
                   oid_hex(m.state))


@dataclass
class ModelVersion:
    """One version of a registered model."""
    name: str                 #: the model's current name
    version: int
    artifact_id: str          #: the artifact object (64 hex; its sha256sum for a file)
    size: int = 0
    run_id: Optional[str] = None   #: lineage: the run that produced it
    dataset: Optional[str] = None  #: lineage: the dataset version it was trained on
    description: str = ""
    user: str = ""
    tags: Dict[str, str] = field(default_factory=dict)
    aliases: List[str] = field(default_factory=list)  #: sorted
    created: int = 0
    updated: int = 0
    stage: str = "None"       #: "None", "Staging", "Production" or "Archived"
    status: str = "READY"
    record: str = ""          #: id of the version record object

    @property
    def ref(self) -> str:
        """``"name/version"``: what :meth:`Registry.resolve` accepts."""
        return "%s/%d" % (self.name, self.version)

    def __str__(self) -> str:
        return self.ref

    @classmethod
    def _from_c(cls, v: _lib.RegistryVersion) -> "ModelVersion":
        return cls(_s(v.model), v.version, oid_hex(v.artifact), v.size, _s(v.run_id) or None,
                   _s(v.dataset) or None, _s(v.description), _s(v.user), _tags_from_c(v.tags, v.ntags),
                   [_s(v.aliases[i]) for i in range(v.naliases)], v.created_ms, v.updated_ms,
                   STAGES.get(v.stage, str(v.stage)), _STATUS.get(v.status, str(v.status)),
                   oid_hex(v.record))


@dataclass
class RegistryEvent:
    """One change in a model's history (:meth:`Registry.history`)."""
    kind: str                 #: one of EVENT_KINDS's values
    time: int                 #: ms since the epoch
    user: str
    version: int = 0          #: the version concerned (0: a model-level change)
    old_version: int = 0      #: alias_set: the version the alias named before (0: new alias)
    alias: str = ""
    from_stage: str = "None"  #: stage_changed
    to_stage: str = "None"
    detail: str = ""          #: old name, tag key, or versions archived ("1,4")
    state: str = ""           #: the state this change produced

    @classmethod
    def _from_c(cls, e: _lib.RegistryEvent) -> "RegistryEvent":
        return cls(EVENT_KINDS.get(e.kind, str(e.kind)), e.time_ms, _s(e.user), e.version, e.old_version,
                   _s(e.alias), STAGES.get(e.from_stage, str(e.from_stage)),
                   STAGES.get(e.to_stage, str(e.to_stage)), _s(e.detail), oid_hex(e.state))


def _tag_array(tags: Optional[Mapping[str, str]]) -> Tuple[Any, int]:
    if not tags:
        return None, 0
    if not isinstance(tags, Mapping):
        raise invalid("tags must be a mapping of key to value, not %r" % (type(tags).__name__,))
    arr = (_lib.RegistryTag * len(tags))()
    for i, (k, v) in enumerate(sorted(tags.items())):
        arr[i].key = encode_name(k, "tag key")
        arr[i].value = encode_name(v, "tag value")
    return arr, len(tags)


def _text(value: Optional[str], what: str) -> Optional[bytes]:
    return None if value is None else encode_name(value, what)


class Registry:
    """``store.registry``: the model registry on one store (see the module
    docstring).

    Errors are the store's usual exceptions: InvalidArgumentError (a
    ValueError) for a bad name, alias, stage, tag or reference, NotFoundError
    (a KeyError) for an unknown model, version, alias or artifact,
    AlreadyExistsError for a model name taken, ConflictError when a change
    still loses its compare-and-swap after the retry budget."""

    def __init__(self, store: "Store") -> None:
        self._store = weakref.proxy(store)

    # -- helpers

    def _model(self, rc: int, out: Any) -> RegisteredModel:
        try:
            self._store._check(rc)
            return RegisteredModel._from_c(out.contents)
        finally:
            if out:
                _L.mlops_registry_model_free(out)

    def _version(self, rc: int, out: Any) -> ModelVersion:
        try:
            self._store._check(rc)
            return ModelVersion._from_c(out.contents)
        finally:
            if out:
                _L.mlops_registry_version_free(out)

    @staticmethod
    def _name(name: str) -> bytes:
        return encode_name(name, "model name")

    # -- models

    def create_model(self, name: str, description: Optional[str] = None,
                     tags: Optional[Mapping[str, str]] = None) -> RegisteredModel:
        """Creates a registered model (names by MLflow's rules)."""
        arr, n = _tag_array(tags)
        out = POINTER(_lib.RegistryModel)()
        rc = _c("mlops_registry_create_model")(byref(out), self._store._handle, self._name(name),
                                               _text(description, "description"), arr, n)
        return self._model(rc, out)

    def get_model(self, name: str) -> RegisteredModel:
        out = POINTER(_lib.RegistryModel)()
        rc = _c("mlops_registry_get_model")(byref(out), self._store._handle, self._name(name))
        return self._model(rc, out)

    def list_models(self, prefix: str = "") -> List[RegisteredModel]:
        """Every model whose name starts with ``prefix``, sorted by name."""
        out = POINTER(POINTER(_lib.RegistryModel))()
        n = c_size_t(0)
        rc = _c("mlops_registry_list_models")(byref(out), byref(n), self._store._handle,
                                              encode_name(prefix, "prefix") if prefix else None)
        try:
            self._store._check(rc)
            return [RegisteredModel._from_c(out[i].contents) for i in range(n.value)]
        finally:
            if out:
                _L.mlops_registry_model_list_free(out, n.value)

    def rename_model(self, name: str, new_name: str) -> None:
        """Renames a model; its versions, aliases, tags and history follow."""
        self._store._check(_c("mlops_registry_rename_model")(self._store._handle, self._name(name),
                                                             self._name(new_name)))

    def set_model_description(self, name: str, description: str) -> None:
        self._store._check(_c("mlops_registry_set_model_description")(
            self._store._handle, self._name(name), encode_name(description, "description")))

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self._store._check(_c("mlops_registry_set_model_tag")(
            self._store._handle, self._name(name), encode_name(key, "tag key"), encode_name(value, "tag value")))

    def delete_model_tag(self, name: str, key: str) -> None:
        self._store._check(_c("mlops_registry_delete_model_tag")(self._store._handle, self._name(name),
                                                                 encode_name(key, "tag key")))

    def delete_model(self, name: str, force: bool = False) -> None:
        """Deletes a model; refused while it has live versions unless ``force``."""
        self._store._check(_c("mlops_registry_delete_model")(self._store._handle, self._name(name),
                                                             1 if force else 0))

    # -- versions

    def register(self, name: str, artifact: Union[str, PathLike], run_id: Optional[str] = None,
                 dataset: Any = None, description: Optional[str] = None,
                 tags: Optional[Mapping[str, str]] = None, user: Optional[str] = None) -> ModelVersion:
        """Registers ``artifact`` as the model's next version: a 64-hex id of
        an object already in the store, or the path of a regular file, which
        is stored first. ``dataset`` is the dataset version the model was
        trained on (a ref string, or a :class:`mlops.data.DataVersion`)."""
        opts = _lib.RegistryRegisterOptions()
        self._store._check(_c("mlops_registry_register_options_init")(byref(opts), 1))
        if isinstance(artifact, str) and len(artifact) == _lib.OID_HEXSZ and not os.path.exists(artifact):
            opts.artifact = POINTER(_lib.Oid)(parse_oid(artifact))  # the pointer keeps the id alive
        elif isinstance(artifact, (str, bytes, os.PathLike)):
            opts.path = encode_path(artifact)
        else:
            raise invalid("artifact must be a 64-hex object id or a file path, not %r"
                          % (type(artifact).__name__,))
        opts.run_id = _text(run_id, "run id")
        if dataset is not None and not isinstance(dataset, (str, bytes)):
            dataset = getattr(dataset, "ref", None) or str(dataset)
        opts.dataset = _text(dataset, "dataset")
        opts.description = _text(description, "description")
        arr, n = _tag_array(tags)
        opts.tags, opts.ntags = arr, n
        opts.user = _text(user, "user")
        out = POINTER(_lib.RegistryVersion)()
        rc = _c("mlops_registry_register")(byref(out), self._store._handle, self._name(name), byref(opts))
        return self._version(rc, out)

    def get_version(self, name: str, version: int) -> ModelVersion:
        out = POINTER(_lib.RegistryVersion)()
        rc = _c("mlops_registry_get_version")(byref(out), self._store._handle, self._name(name),
                                              _version_number(version))
        return self._version(rc, out)

    def versions(self, name: str) -> List[ModelVersion]:
        """The live versions, by increasing number."""
        out = POINTER(POINTER(_lib.RegistryVersion))()
        n = c_size_t(0)
        rc = _c("mlops_registry_list_versions")(byref(out), byref(n), self._store._handle, self._name(name))
        try:
            self._store._check(rc)
            return [ModelVersion._from_c(out[i].contents) for i in range(n.value)]
        finally:
            if out:
                _L.mlops_registry_version_list_free(out, n.value)

    def delete_version(self, name: str, version: int) -> None:
        """Deletes a version and its aliases; its number is never reused."""
        self._store._check(_c("mlops_registry_delete_version")(self._store._handle, self._name(name),
                                                               _version_number(version)))

    def set_version_description(self, name: str, version: int, description: str) -> None:
        self._store._check(_c("mlops_registry_set_version_description")(
            self._store._handle, self._name(name), _version_number(version),
            encode_name(description, "description")))

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._store._check(_c("mlops_registry_set_version_tag")(
            self._store._handle, self._name(name), _version_number(version), encode_name(key, "tag key"),
            encode_name(value, "tag value")))

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        self._store._check(_c("mlops_registry_delete_version_tag")(
            self._store._handle, self._name(name), _version_number(version), encode_name(key, "tag key")))

    # -- aliases and stages

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Points ``alias`` at ``version`` (creating or moving it)."""
        self._store._check(_c("mlops_registry_set_alias")(self._store._handle, self._name(name),
                                                          encode_name(alias, "alias"), _version_number(version)))

    def delete_alias(self, name: str, alias: str) -> None:
        self._store._check(_c("mlops_registry_delete_alias")(self._store._handle, self._name(name),
                                                             encode_name(alias, "alias")))

    def transition_stage(self, name: str, version: int, stage: str,
                         archive_existing: bool = False) -> ModelVersion:
        """Moves a version to ``stage`` ("None", "Staging", "Production",
        "Archived", any case). With ``archive_existing`` (Staging or
        Production only) the other versions in that stage become Archived."""
        out = POINTER(_lib.RegistryVersion)()
        rc = _c("mlops_registry_transition_stage")(byref(out), self._store._handle, self._name(name),
                                                   _version_number(version), encode_name(stage, "stage"),
                                                   1 if archive_existing else 0)
        return self._version(rc, out)

    @staticmethod
    def parse_stage(stage: str) -> str:
        """The canonical spelling of a stage name; InvalidArgumentError if unknown."""
        out = c_int(0)
        check(_c("mlops_registry_stage_parse")(byref(out), encode_name(stage, "stage")))
        return STAGES[out.value]

    # -- resolution, download, history

    def resolve(self, ref: Any) -> ModelVersion:
        """The version a model reference names (see the module docstring)."""
        if isinstance(ref, ModelVersion):
            ref = ref.ref
        out = POINTER(_lib.RegistryVersion)()
        rc = _c("mlops_registry_resolve")(byref(out), self._store._handle, encode_name(ref, "model reference"))
        return self._version(rc, out)

    def download(self, ref: Any, dest: PathLike) -> ModelVersion:
        """Writes the artifact of the version ``ref`` names to the file
        ``dest`` (replaced atomically) and returns that version."""
        if isinstance(ref, ModelVersion):
            ref = ref.ref
        out = POINTER(_lib.RegistryVersion)()
        rc = _c("mlops_registry_download")(byref(out), self._store._handle,
                                           encode_name(ref, "model reference"), encode_path(dest))
        return self._version(rc, out)

    def history(self, name: str) -> List[RegistryEvent]:
        """Every change of the model, oldest first."""
        out = POINTER(_lib.RegistryEvent)()
        n = c_size_t(0)
        rc = _c("mlops_registry_history")(byref(out), byref(n), self._store._handle, self._name(name))
        try:
            self._store._check(rc)
            return [RegistryEvent._from_c(out[i]) for i in range(n.value)]
        finally:
            if out:
                _L.mlops_registry_history_free(out, n.value)

    # -- export

    def export_mlflow(self, dest: PathLike, names: Optional[Iterable[str]] = None) -> None:
        """Writes the models (``names``; None: all) into ``dest`` in MLflow's
        file-store registry layout (``dest/models/<name>/...``), beside
        :meth:`mlops.Store.export_mlflow`'s runs when given the same dest, so
        that ``mlflow ui --backend-store-uri dest`` shows both."""
        raw = None if names is None else [self._name(n) for n in names]
        arr = None if raw is None else (c_char_p * max(len(raw), 1))(*raw)
        self._store._check(_c("mlops_registry_export_mlflow")(self._store._handle, encode_path(dest), arr,
                                                              0 if raw is None else len(raw)))
