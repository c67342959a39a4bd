"""Loads libmlops and declares the C signatures the package uses.

Loader order (DESIGN.md §5):

1. ``LIBMLOPS_LIBRARY``: a path to the shared library. When it is set it is
   the only candidate, so a test run can never pick up another copy by
   accident.
2. A copy next to the package (``mlops/libmlops.so*``, ``.dylib``, ``.dll``).
3. The library directories recorded when the package was built
   (``mlops/_config.py``, written by the in-tree build backend from
   ``pkg-config --variable=libdir libmlops`` when that works).
4. ``ctypes.util.find_library('mlops')`` (the linker cache, LD_LIBRARY_PATH).
5. ``libmlops.so.<SOVERSION>`` through the dynamic linker's default search.

Every failure is listed in one ImportError.

Every C function the package calls is declared in ``_FUNCTIONS`` below —
one table, so a signature change in the headers is a one-line change here.
Functions of optional modules (experiment tracking, built with
``-Dtrack=true``; data versioning, ``-Ddata=true``; the model registry,
``-Dregistry=true``; drift statistics, ``-Ddrift=true``) sit in the same table
under a module tag: they are declared only when the loaded library has them,
so ``import mlops`` works against a library without them, and
``has_module("track")`` tells which case this is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int64,
                    c_size_t, c_ubyte, c_uint, c_uint32, c_uint64, c_void_p)
from typing import Dict, Iterator, List, Tuple

SOVERSION = "0"

OID_RAWSZ = 32
OID_HEXSZ = 64


# ---- structures (mirror include/mlops/*.h) ------------------------------

class Oid(Structure):
    """``mlops_oid``: the 32 raw bytes of a SHA-256 digest."""
    _fields_ = [("id", c_ubyte * OID_RAWSZ)]


class StoreOptions(Structure):
    """``mlops_store_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("flags", c_uint),
        ("durability", c_int),
        ("compression", c_int),
        ("compression_level", c_int),
        ("compress_limit", c_uint64),
        ("lock_timeout_ms", c_uint),
        ("stale_lock_ms", c_uint),
    ]


class VerifyReport(Structure):
    """``mlops_verify_report``."""
    _fields_ = [
        ("objects", c_uint64),
        ("bytes", c_uint64),
        ("refs", c_uint64),
        ("logs", c_uint64),
        ("ncorrupt", c_size_t),
        ("corrupt", POINTER(Oid)),
        ("ndangling", c_size_t),
        ("dangling", POINTER(c_char_p)),
        ("log_torn", c_uint64),
        ("nbad_refs", c_size_t),
        ("bad_refs", POINTER(c_char_p)),
    ]


class GcOptions(Structure):
    """``mlops_gc_options`` (version 1)."""
    _fields_ = [("version", c_uint), ("grace_seconds", c_uint64), ("dry_run", c_int)]


class GcReport(Structure):
    """``mlops_gc_report``."""
    _fields_ = [
        ("objects", c_uint64),
        ("reachable", c_uint64),
        ("young", c_uint64),
        ("freed", c_uint64),
        ("freed_bytes", c_uint64),
        ("leftovers", c_uint64),
        ("leftover_bytes", c_uint64),
    ]


# track.h
RUN_ID_HEXSZ = 32
EXPERIMENT_ID_MAX = 32


class KV(Structure):
    """``mlops_kv``: a key/value pair (params, tags)."""
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class Experiment(Structure):
    """``mlops_experiment``."""
    _fields_ = [
        ("id", c_char * (EXPERIMENT_ID_MAX + 1)),
        ("name", c_char_p),
        ("lifecycle", c_int),
        ("creation_time", c_int64),
        ("last_update_time", c_int64),
        ("tags", POINTER(KV)),
        ("ntags", c_size_t),
    ]


class Artifact(Structure):
    """``mlops_artifact``."""
    _fields_ = [("name", c_char_p), ("id", Oid), ("size", c_uint64)]


class MetricLatest(Structure):
    """``mlops_metric_latest``."""
    _fields_ = [("key", c_char_p), ("value", c_double), ("step", c_int64), ("timestamp", c_int64)]


class RunInfo(Structure):
    """``mlops_run_info``."""
    _fields_ = [
        ("run_id", c_char * (RUN_ID_HEXSZ + 1)),
        ("experiment_id", c_char * (EXPERIMENT_ID_MAX + 1)),
        ("run_name", c_char_p),
        ("user", c_char_p),
        ("parent_run_id", c_char * (RUN_ID_HEXSZ + 1)),
        ("status", c_int),
        ("lifecycle", c_int),
        ("start_time", c_int64),
        ("end_time", c_int64),
        ("params", POINTER(KV)),
        ("nparams", c_size_t),
        ("tags", POINTER(KV)),
        ("ntags", c_size_t),
        ("metrics", POINTER(MetricLatest)),
        ("nmetrics", c_size_t),
        ("artifacts", POINTER(Artifact)),
        ("nartifacts", c_size_t),
    ]


class RunOptions(Structure):
    """``mlops_run_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("run_name", c_char_p),
        ("parent_run_id", c_char_p),
        ("tags", POINTER(KV)),
        ("ntags", c_size_t),
        ("start_time", c_int64),
        ("buffer_points", c_size_t),
    ]


class MetricHistory(Structure):
    """``mlops_metric_history``."""
    _fields_ = [
        ("n", c_size_t),
        ("values", POINTER(c_double)),
        ("steps", POINTER(c_int64)),
        ("timestamps", POINTER(c_int64)),
    ]


class HistoryOptions(Structure):
    """``mlops_history_options`` (version 1)."""
    _fields_ = [("version", c_uint), ("min_step", c_int64), ("max_step", c_int64),
                ("max_points", c_size_t)]


class SearchOptions(Structure):
    """``mlops_search_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("filter", c_char_p),
        ("order_by", POINTER(c_char_p)),
        ("norder_by", c_size_t),
        ("max_results", c_size_t),
        ("page_token", c_char_p),
        ("include_deleted", c_int),
    ]


class RunList(Structure):
    """``mlops_run_list``."""
    _fields_ = [("runs", POINTER(POINTER(RunInfo))), ("count", c_size_t),
                ("next_page_token", c_char_p)]


# data.h
class DataProgress(Structure):
    """``mlops_data_progress``."""
    _fields_ = [("files_done", c_uint64), ("files_total", c_uint64), ("bytes_done", c_uint64),
                ("bytes_total", c_uint64)]


# int (*)(const mlops_data_progress *, void *); int (*)(mlops_data_notice, const char *, void *)
DATA_PROGRESS_CB = CFUNCTYPE(c_int, POINTER(DataProgress), c_void_p)
DATA_NOTICE_CB = CFUNCTYPE(c_int, c_int, c_char_p, c_void_p)
DATA_NAME_CB = CFUNCTYPE(c_int, c_char_p, c_void_p)


class DataSnapshotOptions(Structure):
    """``mlops_data_snapshot_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("flags", c_uint),
        ("threads", c_uint),
        ("progress", DATA_PROGRESS_CB),
        ("progress_payload", c_void_p),
        ("notice", DATA_NOTICE_CB),
        ("notice_payload", c_void_p),
    ]


class DataSnapshotInfo(Structure):
    """``mlops_data_snapshot_info``."""
    _fields_ = [("id", Oid), ("size", c_uint64), ("files", c_uint64), ("dirs", c_uint64),
                ("symlinks", c_uint64), ("skipped", c_uint64), ("files_hashed", c_uint64),
                ("bytes_hashed", c_uint64)]


class DataVersion(Structure):
    """``mlops_data_version``."""
    _fields_ = [
        ("dataset", c_char_p),
        ("version", c_uint64),
        ("id", Oid),
        ("record", Oid),
        ("parent", Oid),
        ("message", c_char_p),
        ("user", c_char_p),
        ("time_ms", c_int64),
        ("size", c_uint64),
        ("files", c_uint64),
        ("tags", POINTER(c_char_p)),
        ("ntags", c_size_t),
        ("created", c_int),
    ]


class DataCommitOptions(Structure):
    """``mlops_data_commit_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("flags", c_uint),
        ("message", c_char_p),
        ("user", c_char_p),
        ("tags", POINTER(c_char_p)),
        ("ntags", c_size_t),
        ("pointer_path", c_char_p),
        ("snapshot", POINTER(DataSnapshotOptions)),
        ("max_retries", c_uint),
    ]


class DataCheckoutOptions(Structure):
    """``mlops_data_checkout_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("flags", c_uint),
        ("mode", c_int),
        ("subpath", c_char_p),
        ("progress", DATA_PROGRESS_CB),
        ("progress_payload", c_void_p),
    ]


class DataCheckoutInfo(Structure):
    """``mlops_data_checkout_info``."""
    _fields_ = [("files_written", c_uint64), ("files_unchanged", c_uint64), ("removed", c_uint64),
                ("bytes_written", c_uint64), ("linked", c_uint64)]


class DataCacheReport(Structure):
    """``mlops_data_cache_report``."""
    _fields_ = [("copies", c_uint64), ("removed", c_uint64), ("removed_bytes", c_uint64), ("linked", c_uint64),
                ("young", c_uint64), ("leftovers", c_uint64)]


class DataChange(Structure):
    """``mlops_data_change``."""
    _fields_ = [
        ("kind", c_int),
        ("path", c_char_p),
        ("old_path", c_char_p),
        ("old_type", c_int),
        ("new_type", c_int),
        ("old_id", Oid),
        ("new_id", Oid),
        ("old_size", c_uint64),
        ("new_size", c_uint64),
    ]


class DataDiff(Structure):
    """``mlops_data_diff``."""
    _fields_ = [
        ("changes", POINTER(DataChange)),
        ("count", c_size_t),
        ("added", c_uint64),
        ("removed", c_uint64),
        ("modified", c_uint64),
        ("renamed", c_uint64),
        ("old_size", c_uint64),
        ("new_size", c_uint64),
        ("old_files", c_uint64),
        ("new_files", c_uint64),
        ("files_hashed", c_uint64),
    ]


class DataStatusOptions(Structure):
    """``mlops_data_status_options`` (version 1)."""
    _fields_ = [("version", c_uint), ("flags", c_uint), ("notice", DATA_NOTICE_CB),
                ("notice_payload", c_void_p)]


DATA_SNAPSHOT_OPTIONS_VERSION = 1
DATA_COMMIT_OPTIONS_VERSION = 1
DATA_CHECKOUT_OPTIONS_VERSION = 1
DATA_STATUS_OPTIONS_VERSION = 1
DATA_SKIP_UNREADABLE = 0x1
DATA_NO_CACHE = 0x2
DATA_COMMIT_ALLOW_EMPTY = 0x1
DATA_CHECKOUT_CLEAN = 0x1
DATA_PRUNE_DRY_RUN = 0x1
DATA_STATUS_NO_UPDATE = 0x1

RUN_OPTIONS_VERSION = 1
HISTORY_OPTIONS_VERSION = 1
SEARCH_OPTIONS_VERSION = 1

STORE_OPTIONS_VERSION = 1
GC_OPTIONS_VERSION = 1
# Python backends use version 1's layout (below): version 2 only appends
# the optional ref_commit, which they do not implement.
BACKEND_VERSION = 1
STORE_NO_CREATE = 0x1
STORE_READONLY = 0x2

# ---- callback types -------------------------------------------------------

REF_CB = CFUNCTYPE(c_int, c_char_p, POINTER(Oid), c_void_p)
LOG_NAME_CB = CFUNCTYPE(c_int, c_char_p, c_void_p)
PROGRESS_CB = CFUNCTYPE(c_int, c_uint64, c_uint64, c_void_p)

# sys/backend.h. The first argument (mlops_backend *) is declared void *:
# the Python side finds its backend through the closure, not the pointer.
BACKEND_OBJECT_CB = CFUNCTYPE(c_int, POINTER(Oid), c_uint64, c_int64, c_void_p)
BACKEND_NAME_CB = CFUNCTYPE(c_int, c_char_p, c_void_p)

BE_OBJ_EXISTS = CFUNCTYPE(c_int, c_void_p, POINTER(Oid))
BE_OBJ_STAT = CFUNCTYPE(c_int, c_void_p, POINTER(Oid), POINTER(c_uint64), POINTER(c_int64))
BE_OBJ_WRITE_OPEN = CFUNCTYPE(c_int, c_void_p, POINTER(c_void_p))
BE_OBJ_WRITE = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_size_t)
BE_OBJ_WRITE_COMMIT = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(Oid))
BE_OBJ_WRITE_ABORT = CFUNCTYPE(None, c_void_p, c_void_p)
BE_OBJ_READ_OPEN = CFUNCTYPE(c_int, c_void_p, POINTER(Oid), POINTER(c_void_p))
BE_OBJ_READ = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
BE_OBJ_READ_CLOSE = CFUNCTYPE(None, c_void_p, c_void_p)
BE_OBJ_DELETE = CFUNCTYPE(c_int, c_void_p, POINTER(Oid))
BE_OBJ_FOREACH = CFUNCTYPE(c_int, c_void_p, BACKEND_OBJECT_CB, c_void_p)
BE_REF_READ = CFUNCTYPE(c_int, c_void_p, c_char_p, POINTER(Oid))
BE_REF_CAS = CFUNCTYPE(c_int, c_void_p, c_char_p, POINTER(Oid), POINTER(Oid))
BE_REF_FOREACH = CFUNCTYPE(c_int, c_void_p, c_char_p, BACKEND_NAME_CB, c_void_p)
BE_LOG_APPEND = CFUNCTYPE(c_int, c_void_p, c_char_p, c_void_p, c_size_t)
BE_LOG_SYNC = CFUNCTYPE(c_int, c_void_p, c_char_p)
BE_LOG_SEGMENTS = CFUNCTYPE(c_int, c_void_p, c_char_p, BACKEND_NAME_CB, c_void_p)
BE_LOG_READ = CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, c_uint64, c_void_p, c_size_t,
                        POINTER(c_size_t))
BE_LOG_FOREACH = CFUNCTYPE(c_int, c_void_p, c_char_p, BACKEND_NAME_CB, c_void_p)
BE_SYNC = CFUNCTYPE(c_int, c_void_p)
BE_FREE = CFUNCTYPE(None, c_void_p)
BE_CLEANUP = CFUNCTYPE(c_int, c_void_p, c_int64, c_int, POINTER(c_uint64), POINTER(c_uint64))


class BackendVtable(Structure):
    """``struct mlops_backend`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("payload", c_void_p),
        ("obj_exists", BE_OBJ_EXISTS),
        ("obj_stat", BE_OBJ_STAT),
        ("obj_write_open", BE_OBJ_WRITE_OPEN),
        ("obj_write", BE_OBJ_WRITE),
        ("obj_write_commit", BE_OBJ_WRITE_COMMIT),
        ("obj_write_abort", BE_OBJ_WRITE_ABORT),
        ("obj_read_open", BE_OBJ_READ_OPEN),
        ("obj_read", BE_OBJ_READ),
        ("obj_read_close", BE_OBJ_READ_CLOSE),
        ("obj_delete", BE_OBJ_DELETE),
        ("obj_foreach", BE_OBJ_FOREACH),
        ("ref_read", BE_REF_READ),
        ("ref_cas", BE_REF_CAS),
        ("ref_foreach", BE_REF_FOREACH),
        ("log_append", BE_LOG_APPEND),
        ("log_sync", BE_LOG_SYNC),
        ("log_segments", BE_LOG_SEGMENTS),
        ("log_read", BE_LOG_READ),
        ("log_foreach", BE_LOG_FOREACH),
        ("sync", BE_SYNC),
        ("free", BE_FREE),
        ("cleanup", BE_CLEANUP),  # optional; Python backends leave it NULL
    ]

# Optional vtable entries that a Python backend does not implement: they
# stay NULL (mlops_backend_init zeroes them).
BACKEND_OPTIONAL = ("cleanup",)


# ---- registry.h --------------------------------------------------------

class RegistryTag(Structure):
    """``mlops_registry_tag``."""
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class RegistryAlias(Structure):
    """``mlops_registry_alias``."""
    _fields_ = [("alias", c_char_p), ("version", c_uint64)]


class RegistryModel(Structure):
    """``mlops_registry_model``."""
    _fields_ = [
        ("name", c_char_p),
        ("description", c_char_p),
        ("tags", POINTER(RegistryTag)),
        ("ntags", c_size_t),
        ("aliases", POINTER(RegistryAlias)),
        ("naliases", c_size_t),
        ("created_ms", c_int64),
        ("updated_ms", c_int64),
        ("latest_version", c_uint64),
        ("nversions", c_uint64),
        ("next_version", c_uint64),
        ("state", Oid),
    ]


class RegistryVersion(Structure):
    """``mlops_registry_version``."""
    _fields_ = [
        ("model", c_char_p),
        ("version", c_uint64),
        ("artifact", Oid),
        ("size", c_uint64),
        ("run_id", c_char_p),
        ("dataset", c_char_p),
        ("description", c_char_p),
        ("user", c_char_p),
        ("tags", POINTER(RegistryTag)),
        ("ntags", c_size_t),
        ("aliases", POINTER(c_char_p)),
        ("naliases", c_size_t),
        ("created_ms", c_int64),
        ("updated_ms", c_int64),
        ("stage", c_int),
        ("status", c_int),
        ("record", Oid),
    ]


class RegistryRegisterOptions(Structure):
    """``mlops_registry_register_options`` (version 1)."""
    _fields_ = [
        ("version", c_uint),
        ("artifact", POINTER(Oid)),
        ("path", c_char_p),
        ("run_id", c_char_p),
        ("dataset", c_char_p),
        ("description", c_char_p),
        ("tags", POINTER(RegistryTag)),
        ("ntags", c_size_t),
        ("user", c_char_p),
        ("max_retries", c_uint),
    ]


class RegistryEvent(Structure):
    """``mlops_registry_event``."""
    _fields_ = [
        ("kind", c_int),
        ("time_ms", c_int64),
        ("user", c_char_p),
        ("version", c_uint64),
        ("old_version", c_uint64),
        ("alias", c_char_p),
        ("from_stage", c_int),
        ("to_stage", c_int),
        ("detail", c_char_p),
        ("state", Oid),
    ]


# ---- drift.h ------------------------------------------------------------

class DriftTest(Structure):
    """``mlops_drift_test``."""
    _fields_ = [
        ("statistic", c_double), ("pvalue", c_double), ("statistic_location", c_double),
        ("statistic_sign", c_int), ("method", c_int), ("dof", c_double),
        ("n1", c_size_t), ("n2", c_size_t), ("nan1", c_size_t), ("nan2", c_size_t),
    ]


class DriftAnderson(Structure):
    """``mlops_drift_anderson``."""
    _fields_ = [("statistic", c_double), ("critical_values", c_double * 7), ("pvalue", c_double),
                ("nan_total", c_size_t)]


class DriftPsiOptions(Structure):
    """``mlops_drift_psi_options`` (version 1)."""
    _fields_ = [("version", c_uint), ("bins", c_size_t), ("edges", c_void_p), ("nedges", c_size_t),
                ("epsilon", c_double)]


class DriftProfileOptions(Structure):
    """``mlops_drift_profile_options`` (version 1)."""
    _fields_ = [("version", c_uint), ("type", c_int), ("edges", c_void_p), ("nedges", c_size_t),
                ("sketch_k", c_uint32)]


class DriftProfileStats(Structure):
    """``mlops_drift_profile_stats``."""
    _fields_ = [("type", c_int), ("count", c_uint64), ("missing", c_uint64), ("min", c_double),
                ("max", c_double), ("mean", c_double), ("variance", c_double), ("rank_error", c_uint64),
                ("epsilon", c_double), ("ncategories", c_size_t)]


class DriftProfileDrift(Structure):
    """``mlops_drift_profile_drift``."""
    _fields_ = [("ks_statistic", c_double), ("ks_error_bound", c_double), ("psi", c_double),
                ("jensenshannon", c_double), ("hellinger", c_double)]


class DriftColumn(Structure):
    """``mlops_drift_column``."""
    _fields_ = [("name", c_char_p), ("type", c_int), ("values", c_void_p), ("codes", c_void_p),
                ("n", c_size_t)]


class DriftColumnOptions(Structure):
    """``mlops_drift_column_options``."""
    _fields_ = [("name", c_char_p), ("test", c_int), ("threshold", c_double)]


class DriftReportOptions(Structure):
    """``mlops_drift_report_options`` (version 1)."""
    _fields_ = [("version", c_uint), ("drift_share", c_double), ("correction", c_int),
                ("numeric_test", c_int), ("categorical_test", c_int), ("pvalue_threshold", c_double),
                ("distance_threshold", c_double), ("columns", POINTER(DriftColumnOptions)),
                ("ncolumns", c_size_t)]


class DriftColumnResult(Structure):
    """``mlops_drift_column_result``."""
    _fields_ = [("name", c_char_p), ("type", c_int), ("test", c_int), ("is_pvalue", c_int),
                ("statistic", c_double), ("pvalue", c_double), ("pvalue_corrected", c_double),
                ("threshold", c_double), ("drifted", c_int), ("n_reference", c_size_t),
                ("n_current", c_size_t), ("missing_reference", c_size_t), ("missing_current", c_size_t),
                ("distinct", c_size_t)]


class DriftReport(Structure):
    """``mlops_drift_report``."""
    _fields_ = [("columns", POINTER(DriftColumnResult)), ("ncolumns", c_size_t), ("ndrifted", c_size_t),
                ("share_drifted", c_double), ("drift_share", c_double), ("dataset_drift", c_int),
                ("correction", c_int)]


# ---- the one signature table ---------------------------------------------

_p = POINTER
_FUNCTIONS = [
    # name, restype, argtypes[, optional module]
    # common.h
    ("mlops_version", c_char_p, []),
    ("mlops_version_number", c_uint, []),
    ("mlops_strerror", c_char_p, [c_int]),
    ("mlops_error_name", c_char_p, [c_int]),
    ("mlops_error_last", c_char_p, []),
    ("mlops_error_last_code", c_int, []),
    ("mlops_free", None, [c_void_p]),
    # store.h: ids
    ("mlops_oid_fromhexn", c_int, [_p(Oid), c_char_p, c_size_t]),
    ("mlops_oid_tohex", c_int, [c_char_p, _p(Oid)]),
    ("mlops_oid_hash", c_int, [_p(Oid), c_void_p, c_size_t]),
    # store.h: store
    ("mlops_store_options_init", c_int, [_p(StoreOptions), c_uint]),
    ("mlops_store_open", c_int, [_p(c_void_p), c_char_p, _p(StoreOptions)]),
    ("mlops_store_open_memory", c_int, [_p(c_void_p), _p(StoreOptions)]),
    ("mlops_store_free", None, [c_void_p]),
    ("mlops_store_sync", c_int, [c_void_p]),
    # store.h: objects
    ("mlops_object_put", c_int, [_p(Oid), c_void_p, c_void_p, c_size_t]),
    ("mlops_object_put_file", c_int, [_p(Oid), c_void_p, c_char_p]),
    ("mlops_object_get", c_int, [_p(c_void_p), _p(c_size_t), c_void_p, _p(Oid)]),
    ("mlops_object_get_file", c_int, [c_void_p, _p(Oid), c_char_p]),
    ("mlops_object_exists", c_int, [c_void_p, _p(Oid)]),
    ("mlops_object_size", c_int, [_p(c_uint64), c_void_p, _p(Oid)]),
    ("mlops_object_writer_new", c_int, [_p(c_void_p), c_void_p]),
    ("mlops_object_writer_write", c_int, [c_void_p, c_void_p, c_size_t]),
    ("mlops_object_writer_finish", c_int, [_p(Oid), c_void_p]),
    ("mlops_object_writer_free", None, [c_void_p]),
    ("mlops_object_reader_open", c_int, [_p(c_void_p), c_void_p, _p(Oid)]),
    ("mlops_object_reader_read", c_int, [_p(c_size_t), c_void_p, c_void_p, c_size_t]),
    ("mlops_object_reader_size", c_uint64, [c_void_p]),
    ("mlops_object_reader_free", None, [c_void_p]),
    ("mlops_object_put_structured", c_int,
     [_p(Oid), c_void_p, c_char_p, _p(Oid), c_size_t, c_void_p, c_size_t]),
    ("mlops_object_get_structured", c_int,
     [_p(c_void_p), _p(c_void_p), _p(c_size_t), _p(c_void_p), _p(c_size_t), c_void_p, _p(Oid)]),
    # store.h: refs
    ("mlops_ref_name_is_valid", c_int, [c_char_p]),
    ("mlops_ref_get", c_int, [_p(Oid), c_void_p, c_char_p]),
    ("mlops_ref_set", c_int, [c_void_p, c_char_p, _p(Oid), _p(Oid)]),
    ("mlops_ref_delete", c_int, [c_void_p, c_char_p, _p(Oid)]),
    ("mlops_ref_foreach", c_int, [c_void_p, c_char_p, REF_CB, c_void_p]),
    # store.h: logs
    ("mlops_log_append", c_int, [c_void_p, c_char_p, c_void_p, c_size_t]),
    ("mlops_log_append_batch", c_int, [c_void_p, c_char_p, _p(c_void_p), _p(c_size_t), c_size_t]),
    ("mlops_log_sync", c_int, [c_void_p, c_char_p]),
    ("mlops_log_iterator_new", c_int, [_p(c_void_p), c_void_p, c_char_p]),
    ("mlops_log_iterator_next", c_int, [_p(c_void_p), _p(c_size_t), c_void_p]),
    ("mlops_log_iterator_free", None, [c_void_p]),
    ("mlops_log_list", c_int, [c_void_p, c_char_p, LOG_NAME_CB, c_void_p]),
    # store.h: maintenance
    ("mlops_store_verify", c_int, [_p(VerifyReport), c_void_p, PROGRESS_CB, c_void_p]),
    ("mlops_verify_report_free", None, [_p(VerifyReport)]),
    ("mlops_gc_options_init", c_int, [_p(GcOptions), c_uint]),
    ("mlops_store_gc", c_int, [_p(GcReport), c_void_p, _p(GcOptions), PROGRESS_CB, c_void_p]),
    # sys/backend.h
    ("mlops_backend_init", c_int, [_p(BackendVtable), c_uint]),
    ("mlops_store_open_backend", c_int, [_p(c_void_p), _p(BackendVtable), _p(StoreOptions)]),
    ("mlops_backend_error_set", c_int, [c_int, c_char_p]),
    # track.h — only in a library built with -Dtrack=true
    ("mlops_run_status_name", c_char_p, [c_int], "track"),
    ("mlops_run_status_parse", c_int, [_p(c_int), c_char_p], "track"),
    ("mlops_experiment_get_or_create", c_int, [_p(_p(Experiment)), c_void_p, c_char_p], "track"),
    ("mlops_experiment_create", c_int, [_p(_p(Experiment)), c_void_p, c_char_p], "track"),
    ("mlops_experiment_get", c_int, [_p(_p(Experiment)), c_void_p, c_char_p], "track"),
    ("mlops_experiment_list", c_int, [_p(_p(_p(Experiment))), _p(c_size_t), c_void_p, c_int], "track"),
    ("mlops_experiment_rename", c_int, [c_void_p, c_char_p, c_char_p], "track"),
    ("mlops_experiment_delete", c_int, [c_void_p, c_char_p], "track"),
    ("mlops_experiment_restore", c_int, [c_void_p, c_char_p], "track"),
    ("mlops_experiment_set_tag", c_int, [c_void_p, c_char_p, c_char_p, c_char_p], "track"),
    ("mlops_experiment_free", None, [_p(Experiment)], "track"),
    ("mlops_experiment_list_free", None, [_p(_p(Experiment)), c_size_t], "track"),
    ("mlops_run_options_init", c_int, [_p(RunOptions), c_uint], "track"),
    ("mlops_run_start", c_int, [_p(c_void_p), c_void_p, c_char_p, _p(RunOptions)], "track"),
    ("mlops_run_resume", c_int, [_p(c_void_p), c_void_p, c_char_p], "track"),
    ("mlops_run_id", c_char_p, [c_void_p], "track"),
    ("mlops_run_log_param", c_int, [c_void_p, c_char_p, c_char_p], "track"),
    ("mlops_run_set_tag", c_int, [c_void_p, c_char_p, c_char_p], "track"),
    ("mlops_run_log_metric", c_int, [c_void_p, c_char_p, c_double, c_int64, c_int64], "track"),
    # values / steps / timestamps are void * so that a numpy pointer, a
    # borrowed buffer address or a ctypes array all pass without conversion.
    ("mlops_run_log_metric_batch", c_int, [c_void_p, c_char_p, c_void_p, c_void_p, c_void_p, c_size_t],
     "track"),
    ("mlops_run_log_artifact", c_int, [_p(Oid), c_void_p, c_char_p, c_char_p], "track"),
    ("mlops_run_flush", c_int, [c_void_p], "track"),
    ("mlops_run_end", c_int, [c_void_p, c_int], "track"),
    ("mlops_run_free", None, [c_void_p], "track"),
    ("mlops_run_get", c_int, [_p(_p(RunInfo)), c_void_p, c_char_p], "track"),
    ("mlops_run_info_free", None, [_p(RunInfo)], "track"),
    ("mlops_run_delete", c_int, [c_void_p, c_char_p], "track"),
    ("mlops_run_restore", c_int, [c_void_p, c_char_p], "track"),
    ("mlops_history_options_init", c_int, [_p(HistoryOptions), c_uint], "track"),
    ("mlops_metric_history_get", c_int,
     [_p(MetricHistory), c_void_p, c_char_p, c_char_p, _p(HistoryOptions)], "track"),
    ("mlops_metric_history_free", None, [_p(MetricHistory)], "track"),
    ("mlops_metric_keys", c_int, [_p(_p(c_char_p)), _p(c_size_t), c_void_p, c_char_p], "track"),
    ("mlops_string_list_free", None, [_p(c_char_p), c_size_t], "track"),
    ("mlops_search_options_init", c_int, [_p(SearchOptions), c_uint], "track"),
    ("mlops_run_search", c_int, [_p(RunList), c_void_p, _p(c_char_p), c_size_t, _p(SearchOptions)],
     "track"),
    ("mlops_run_list_free", None, [_p(RunList)], "track"),
    ("mlops_export_mlflow", c_int, [c_void_p, c_char_p, _p(c_char_p), c_size_t], "track"),
    ("mlops_export_tensorboard", c_int, [c_void_p, c_char_p, c_char_p], "track"),
    ("mlops_export_csv", c_int, [c_void_p, c_char_p, c_char_p], "track"),
    # data.h — only in a library built with -Ddata=true. mlops_data_diff_json's
    # char ** is void ** so the string can be handed back to mlops_free.
    ("mlops_data_snapshot_options_init", c_int, [_p(DataSnapshotOptions), c_uint], "data"),
    ("mlops_data_snapshot", c_int,
     [_p(DataSnapshotInfo), c_void_p, c_char_p, _p(DataSnapshotOptions)], "data"),
    ("mlops_data_version_free", None, [_p(DataVersion)], "data"),
    ("mlops_data_version_list_free", None, [_p(_p(DataVersion)), c_size_t], "data"),
    ("mlops_data_commit_options_init", c_int, [_p(DataCommitOptions), c_uint], "data"),
    ("mlops_data_commit", c_int,
     [_p(_p(DataVersion)), c_void_p, c_char_p, c_char_p, _p(DataCommitOptions)], "data"),
    ("mlops_data_commit_snapshot", c_int,
     [_p(_p(DataVersion)), c_void_p, c_char_p, _p(Oid), _p(DataCommitOptions)], "data"),
    ("mlops_data_resolve", c_int, [_p(_p(DataVersion)), c_void_p, c_char_p], "data"),
    ("mlops_data_versions", c_int, [_p(_p(_p(DataVersion))), _p(c_size_t), c_void_p, c_char_p],
     "data"),
    ("mlops_data_list", c_int, [c_void_p, DATA_NAME_CB, c_void_p], "data"),
    ("mlops_data_tag", c_int, [c_void_p, c_char_p, c_char_p, c_int], "data"),
    ("mlops_data_untag", c_int, [c_void_p, c_char_p, c_char_p], "data"),
    ("mlops_data_pointer_write", c_int, [_p(DataVersion), c_char_p], "data"),
    ("mlops_data_pointer_read", c_int, [_p(_p(DataVersion)), c_void_p, c_char_p], "data"),
    ("mlops_data_checkout_options_init", c_int, [_p(DataCheckoutOptions), c_uint], "data"),
    ("mlops_data_checkout", c_int,
     [_p(DataCheckoutInfo), c_void_p, c_char_p, c_char_p, _p(DataCheckoutOptions)], "data"),
    ("mlops_data_prune_cache", c_int, [_p(DataCacheReport), c_void_p, c_uint64, c_uint], "data"),
    ("mlops_data_diff_free", None, [_p(DataDiff)], "data"),
    ("mlops_data_diff_versions", c_int, [_p(_p(DataDiff)), c_void_p, c_char_p, c_char_p], "data"),
    ("mlops_data_status_options_init", c_int, [_p(DataStatusOptions), c_uint], "data"),
    ("mlops_data_status", c_int,
     [_p(_p(DataDiff)), c_void_p, c_char_p, c_char_p, _p(DataStatusOptions)], "data"),
    ("mlops_data_diff_json", c_int, [_p(c_void_p), _p(DataDiff)], "data"),
    # registry.h — only in a library built with -Dregistry=true.
    ("mlops_registry_stage_parse", c_int, [_p(c_int), c_char_p], "registry"),
    ("mlops_registry_stage_name", c_char_p, [c_int], "registry"),
    ("mlops_registry_model_free", None, [_p(RegistryModel)], "registry"),
    ("mlops_registry_model_list_free", None, [_p(_p(RegistryModel)), c_size_t], "registry"),
    ("mlops_registry_version_free", None, [_p(RegistryVersion)], "registry"),
    ("mlops_registry_version_list_free", None, [_p(_p(RegistryVersion)), c_size_t], "registry"),
    ("mlops_registry_create_model", c_int,
     [_p(_p(RegistryModel)), c_void_p, c_char_p, c_char_p, _p(RegistryTag), c_size_t], "registry"),
    ("mlops_registry_get_model", c_int, [_p(_p(RegistryModel)), c_void_p, c_char_p], "registry"),
    ("mlops_registry_list_models", c_int,
     [_p(_p(_p(RegistryModel))), _p(c_size_t), c_void_p, c_char_p], "registry"),
    ("mlops_registry_rename_model", c_int, [c_void_p, c_char_p, c_char_p], "registry"),
    ("mlops_registry_set_model_description", c_int, [c_void_p, c_char_p, c_char_p], "registry"),
    ("mlops_registry_set_model_tag", c_int, [c_void_p, c_char_p, c_char_p, c_char_p], "registry"),
    ("mlops_registry_delete_model_tag", c_int, [c_void_p, c_char_p, c_char_p], "registry"),
    ("mlops_registry_delete_model", c_int, [c_void_p, c_char_p, c_int], "registry"),
    ("mlops_registry_register_options_init", c_int, [_p(RegistryRegisterOptions), c_uint], "registry"),
    ("mlops_registry_register", c_int,
     [_p(_p(RegistryVersion)), c_void_p, c_char_p, _p(RegistryRegisterOptions)], "registry"),
    ("mlops_registry_get_version", c_int, [_p(_p(RegistryVersion)), c_void_p, c_char_p, c_uint64],
     "registry"),
    ("mlops_registry_list_versions", c_int,
     [_p(_p(_p(RegistryVersion))), _p(c_size_t), c_void_p, c_char_p], "registry"),
    ("mlops_registry_delete_version", c_int, [c_void_p, c_char_p, c_uint64], "registry"),
    ("mlops_registry_set_version_description", c_int, [c_void_p, c_char_p, c_uint64, c_char_p],
     "registry"),
    ("mlops_registry_set_version_tag", c_int, [c_void_p, c_char_p, c_uint64, c_char_p, c_char_p],
     "registry"),
    ("mlops_registry_delete_version_tag", c_int, [c_void_p, c_char_p, c_uint64, c_char_p], "registry"),
    ("mlops_registry_set_alias", c_int, [c_void_p, c_char_p, c_char_p, c_uint64], "registry"),
    ("mlops_registry_delete_alias", c_int, [c_void_p, c_char_p, c_char_p], "registry"),
    ("mlops_registry_transition_stage", c_int,
     [_p(_p(RegistryVersion)), c_void_p, c_char_p, c_uint64, c_char_p, c_int], "registry"),
    ("mlops_registry_resolve", c_int, [_p(_p(RegistryVersion)), c_void_p, c_char_p], "registry"),
    ("mlops_registry_download", c_int, [_p(_p(RegistryVersion)), c_void_p, c_char_p, c_char_p],
     "registry"),
    ("mlops_registry_history", c_int, [_p(_p(RegistryEvent)), _p(c_size_t), c_void_p, c_char_p],
     "registry"),
    ("mlops_registry_history_free", None, [_p(RegistryEvent), c_size_t], "registry"),
    ("mlops_registry_export_mlflow", c_int, [c_void_p, c_char_p, _p(c_char_p), c_size_t], "registry"),
    # drift.h — only in a library built with -Ddrift=true.
    ("mlops_drift_alternative_parse", c_int, [_p(c_int), c_char_p], "drift"),
    ("mlops_drift_method_parse", c_int, [_p(c_int), c_char_p], "drift"),
    ("mlops_drift_stattest_parse", c_int, [_p(c_int), c_char_p], "drift"),
    ("mlops_drift_stattest_name", c_char_p, [c_int], "drift"),
    ("mlops_drift_ks_2samp", c_int,
     [_p(DriftTest), c_void_p, c_size_t, c_void_p, c_size_t, c_int, c_int], "drift"),
    ("mlops_drift_chisquare", c_int, [_p(DriftTest), c_void_p, c_void_p, c_size_t, c_int], "drift"),
    ("mlops_drift_chi2_contingency", c_int,
     [_p(DriftTest), c_void_p, c_void_p, c_size_t, c_size_t, c_int], "drift"),
    ("mlops_drift_anderson_ksamp", c_int, [_p(DriftAnderson), c_void_p, c_void_p, c_size_t], "drift"),
    ("mlops_drift_cramervonmises_2samp", c_int,
     [_p(DriftTest), c_void_p, c_size_t, c_void_p, c_size_t, c_int], "drift"),
    ("mlops_drift_mannwhitneyu", c_int,
     [_p(DriftTest), c_void_p, c_size_t, c_void_p, c_size_t, c_int, c_int, c_int], "drift"),
    ("mlops_drift_ztest_proportions", c_int,
     [_p(DriftTest), c_uint64, c_uint64, c_uint64, c_uint64], "drift"),
    ("mlops_drift_psi_options_init", c_int, [_p(DriftPsiOptions), c_uint], "drift"),
    ("mlops_drift_psi", c_int,
     [_p(c_double), c_void_p, c_size_t, c_void_p, c_size_t, _p(DriftPsiOptions)], "drift"),
    ("mlops_drift_kl_divergence", c_int, [_p(c_double), c_void_p, c_void_p, c_size_t, c_double], "drift"),
    ("mlops_drift_jensenshannon", c_int, [_p(c_double), c_void_p, c_void_p, c_size_t, c_double], "drift"),
    ("mlops_drift_hellinger", c_int, [_p(c_double), c_void_p, c_void_p, c_size_t], "drift"),
    ("mlops_drift_total_variation", c_int, [_p(c_double), c_void_p, c_void_p, c_size_t], "drift"),
    ("mlops_drift_wasserstein", c_int,
     [_p(c_double), c_void_p, c_size_t, c_void_p, c_size_t, c_void_p, c_void_p], "drift"),
    ("mlops_drift_wasserstein_normed", c_int,
     [_p(c_double), c_void_p, c_size_t, c_void_p, c_size_t], "drift"),
    ("mlops_drift_energy_distance", c_int,
     [_p(c_double), c_void_p, c_size_t, c_void_p, c_size_t, c_void_p, c_void_p], "drift"),
    ("mlops_drift_gammainc", c_double, [c_double, c_double], "drift"),
    ("mlops_drift_gammaincc", c_double, [c_double, c_double], "drift"),
    ("mlops_drift_chi2_sf", c_double, [c_double, c_double], "drift"),
    ("mlops_drift_norm_sf", c_double, [c_double], "drift"),
    ("mlops_drift_kolmogorov_sf", c_double, [c_double], "drift"),
    ("mlops_drift_smirnov_sf", c_double, [c_uint64, c_double], "drift"),
    ("mlops_drift_kolmogorov_n_sf", c_double, [c_uint64, c_double], "drift"),
    ("mlops_drift_profile_options_init", c_int, [_p(DriftProfileOptions), c_uint], "drift"),
    ("mlops_drift_profile_new", c_int, [_p(c_void_p), _p(DriftProfileOptions)], "drift"),
    ("mlops_drift_profile_new_like", c_int, [_p(c_void_p), c_void_p], "drift"),
    ("mlops_drift_profile_free", None, [c_void_p], "drift"),
    ("mlops_drift_profile_add", c_int, [c_void_p, c_void_p, c_size_t], "drift"),
    ("mlops_drift_profile_add_codes", c_int, [c_void_p, c_void_p, c_size_t], "drift"),
    ("mlops_drift_profile_merge", c_int, [c_void_p, c_void_p], "drift"),
    ("mlops_drift_profile_stats_get", c_int, [_p(DriftProfileStats), c_void_p], "drift"),
    ("mlops_drift_profile_quantile", c_int, [_p(c_double), c_void_p, c_double], "drift"),
    ("mlops_drift_profile_cdf", c_int, [_p(c_double), c_void_p, c_double], "drift"),
    ("mlops_drift_profile_histogram", c_int, [_p(_p(c_uint64)), _p(c_size_t), c_void_p], "drift"),
    ("mlops_drift_profile_categories", c_int,
     [_p(_p(c_int64)), _p(_p(c_uint64)), _p(c_size_t), c_void_p], "drift"),
    ("mlops_drift_profile_encode", c_int, [_p(c_void_p), _p(c_size_t), c_void_p], "drift"),
    ("mlops_drift_profile_decode", c_int, [_p(c_void_p), c_void_p, c_size_t], "drift"),
    ("mlops_drift_profile_save", c_int, [_p(Oid), c_void_p, c_void_p], "drift"),
    ("mlops_drift_profile_load", c_int, [_p(c_void_p), c_void_p, _p(Oid)], "drift"),
    ("mlops_drift_profile_compare", c_int, [_p(DriftProfileDrift), c_void_p, c_void_p], "drift"),
    ("mlops_drift_report_options_init", c_int, [_p(DriftReportOptions), c_uint], "drift"),
    ("mlops_drift_report_run", c_int,
     [_p(_p(DriftReport)), _p(DriftColumn), c_size_t, _p(DriftColumn), c_size_t, _p(DriftReportOptions)],
     "drift"),
    ("mlops_drift_report_free", None, [_p(DriftReport)], "drift"),
    ("mlops_drift_report_json", c_int, [_p(c_void_p), _p(c_size_t), _p(DriftReport)], "drift"),
    ("mlops_drift_report_save", c_int, [_p(Oid), c_void_p, _p(DriftReport)], "drift"),
]

# An optional module is present when its probe symbol is exported.
_MODULE_PROBES = {"track": "mlops_run_start", "data": "mlops_data_resolve",
                  "registry": "mlops_registry_resolve", "drift": "mlops_drift_ks_2samp"}


def _package_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _candidates() -> Iterator[Tuple[str, str]]:
    """(how it was found, what to pass to CDLL), in loader order; lazy, so
    find_library (which may spawn ldconfig or gcc) runs only when needed."""
    env = os.environ.get("LIBMLOPS_LIBRARY")
    if env:
        yield ("LIBMLOPS_LIBRARY", env)
        return
    here = _package_dir()
    patterns = ["libmlops.so*", "libmlops*.dylib", "mlops.dll", "libmlops.dll"]
    local = sorted(p for pat in patterns for p in glob.glob(os.path.join(here, pat)))
    if not local:
        yield ("next to the package", os.path.join(here, "libmlops.so*"))
    for p in local:
        yield ("next to the package", p)
    try:
        from . import _config  # written at build time; absent in a source tree
        for d in getattr(_config, "LIBDIRS", ()):
            yield ("recorded libdir", os.path.join(d, "libmlops.so." + SOVERSION))
    except ImportError:
        pass
    yield ("ctypes.util.find_library('mlops')", ctypes.util.find_library("mlops") or "")
    if sys.platform == "darwin":
        yield ("default linker path", "libmlops.%s.dylib" % SOVERSION)
    else:
        yield ("default linker path", "libmlops.so." + SOVERSION)


def _load() -> ctypes.CDLL:
    failures = []
    for how, path in _candidates():
        if not path:
            failures.append("%s: nothing found" % how)
            continue
        if "*" in path:
            failures.append("%s: no %s" % (how, path))
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            failures.append("%s: %s" % (how, e))
            continue
        try:
            _declare(lib)
        except AttributeError as e:
            failures.append("%s: %s is not a compatible libmlops (%s)" % (how, path, e))
            continue
        lib._mlops_path = path  # type: ignore[attr-defined]
        return lib
    raise ImportError(
        "mlops: cannot load the libmlops shared library; tried:\n  - "
        + "\n  - ".join(failures)
        + "\nSet LIBMLOPS_LIBRARY to the path of libmlops.so, or install the library "
          "(meson install; ldconfig). See bindings/python/README.md.")


def _declare(lib: ctypes.CDLL) -> None:
    """Declares every function of the table. A missing core function makes
    the library incompatible (AttributeError). An optional module counts as
    present when its probe symbol is there; then all its functions must be
    (otherwise it is reported absent, with what is missing, in
    ``missing_functions``)."""
    present = {m: hasattr(lib, probe) for m, probe in _MODULE_PROBES.items()}
    missing: Dict[str, List[str]] = {}
    declared = set()
    for entry in _FUNCTIONS:
        name, restype, argtypes = entry[0], entry[1], entry[2]
        module = entry[3] if len(entry) > 3 else None
        if module is not None:
            if not present[module]:
                continue
            if not hasattr(lib, name):
                missing.setdefault(module, []).append(name)
                continue
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
        declared.add(name)
    lib._mlops_declared = declared  # type: ignore[attr-defined]
    lib._mlops_modules = {m for m, ok in present.items()  # type: ignore[attr-defined]
                          if ok and m not in missing}
    lib._mlops_missing = missing  # type: ignore[attr-defined]


def has_module(module: str) -> bool:
    """True if the loaded library contains the optional module (``"track"``,
    ``"data"``, ``"registry"``, ``"drift"``) in full."""
    return module in lib._mlops_modules  # type: ignore[attr-defined]


def has_function(name: str) -> bool:
    """True if a function of the table was found and declared (an optional
    module's function, only when the module's probe symbol is there too)."""
    return name in lib._mlops_declared  # type: ignore[attr-defined]


def missing_functions(module: str) -> List[str]:
    """Functions of a partially present optional module that the library lacks."""
    return list(lib._mlops_missing.get(module, ()))  # type: ignore[attr-defined]


lib = _load()
path: str = lib._mlops_path  # type: ignore[attr-defined]
