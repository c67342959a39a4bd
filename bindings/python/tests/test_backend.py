"""Custom backends written in Python (the shared suites also run over
MemoryBackend: see for_every_kind); here, what is specific to them."""

import errno
import hashlib
import unittest

import mlops


class Flaky(mlops.MemoryBackend):
    """A MemoryBackend whose next call of one method raises a given exception."""

    def __init__(self):
        super().__init__()
        self.fail = {}

    def _maybe(self, method):
        exc = self.fail.pop(method, None)
        if exc is not None:
            raise exc

    def obj_write_commit(self, handle, oid):
        self._maybe("obj_write_commit")
        super().obj_write_commit(handle, oid)

    def obj_read_open(self, oid):
        self._maybe("obj_read_open")
        return super().obj_read_open(oid)

    def ref_cas(self, name, expected, new):
        self._maybe("ref_cas")
        return super().ref_cas(name, expected, new)

    def log_append(self, log, data):
        self._maybe("log_append")
        super().log_append(log, data)

    def sync(self):
        self._maybe("sync")
        super().sync()


class PythonBackendTests(unittest.TestCase):

    def setUp(self):
        self.backend = Flaky()
        self.store = mlops.Store.from_backend(self.backend)
        self.addCleanup(self.store.close)

    def test_data_goes_through_the_backend(self):
        data = b"through python " * 100
        oid = self.store.put(data)
        self.assertIn(bytes.fromhex(oid), self.backend.objects)
        self.assertEqual(self.store.get(oid), data)
        self.store.refs.set("heads/x", oid)
        self.assertEqual(self.backend.refs["heads/x"], bytes.fromhex(oid))
        self.store.log_append("log", b"rec")
        self.assertIn("log", self.backend.logs)
        self.store.sync()
        self.assertGreater(self.backend.syncs, 0)

    def test_close_calls_backend_close_once(self):
        self.assertFalse(self.backend.closed)
        self.store.close()
        self.assertTrue(self.backend.closed)
        self.store.close()

    def test_exceptions_become_error_codes(self):
        cases = [
            (OSError(errno.ENOSPC, "disk full"), mlops.NoSpaceError),
            (OSError(errno.EIO, "bad sector"), mlops.StorageError),
            (PermissionError("nope"), mlops.PermissionDeniedError),
            (MemoryError(), mlops.OutOfMemoryError),
            (RuntimeError("bug"), mlops.MlopsError),
            (mlops.LockedError("busy"), mlops.LockedError),
            (NotImplementedError(), mlops.UnsupportedError),
        ]
        for exc, expected in cases:
            self.backend.fail["obj_write_commit"] = exc
            data = b"payload for %r" % (exc,)
            with self.assertRaises(expected, msg=repr(exc)) as cm:
                self.store.put(data)
            self.assertIs(cm.exception.__cause__, exc)
            self.assertIn("python backend", str(cm.exception))
            self.assertNotIn(hashlib.sha256(data).hexdigest(), self.store)
        self.assertEqual(self.store.get(self.store.put(b"fine")), b"fine")  # still usable

    def test_not_found_from_backend(self):
        oid = self.store.put(b"present")
        self.backend.fail["obj_read_open"] = KeyError("gone")
        with self.assertRaises(mlops.NotFoundError):
            self.store.get(oid)

    def test_ref_and_log_failures(self):
        oid = self.store.put(b"r")
        self.backend.fail["ref_cas"] = TimeoutError("lock")
        with self.assertRaises(mlops.LockedError):
            self.store.refs.set("r", oid)
        self.assertNotIn("r", self.store.refs)
        self.backend.fail["log_append"] = OSError(errno.EIO, "io")
        with self.assertRaises(mlops.StorageError):
            self.store.log_append("l", b"x")
        self.backend.fail["sync"] = OSError(errno.EIO, "io")
        with self.assertRaises(mlops.StorageError):
            self.store.sync()

    def test_cas_conflict_from_backend(self):
        a = self.store.put(b"a")
        b = self.store.put(b"b")
        self.store.refs.set("r", a)
        self.backend.refs["r"] = bytes.fromhex(b)  # another writer got there first
        with self.assertRaises(mlops.ConflictError):
            self.store.refs.set("r", a, expected=a)
        self.assertEqual(self.store.refs.get("r"), b)

    def test_needs_a_backend(self):
        with self.assertRaises(TypeError):
            mlops.Store.from_backend(object())

    def test_abstract_backend_is_unsupported(self):
        with mlops.Store.from_backend(mlops.Backend()) as s:
            with self.assertRaises(mlops.UnsupportedError):
                s.put(b"x")

    def test_many_stores(self):
        stores = [mlops.Store.from_backend(mlops.MemoryBackend()) for _ in range(20)]
        for i, s in enumerate(stores):
            s.put(b"%d" % i)
        for i, s in enumerate(stores):
            self.assertEqual(s.get(mlops.object_id(b"%d" % i)), b"%d" % i)
            s.close()


if __name__ == "__main__":
    unittest.main()
