"""Store lifecycle, options, verify, gc, version and the exception classes."""

import gc as pygc
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import mlops
from support import StoreCase, for_every_kind


@for_every_kind
class MaintenanceTests(StoreCase):

    def test_verify_clean(self):
        a = self.store.put(b"a" * 1000)
        self.store.put(os.urandom(3000))
        self.store.refs.set("r", a)
        calls = []
        report = self.store.verify(progress=lambda done, total: calls.append((done, total)))
        self.assertTrue(report.ok)
        self.assertEqual(report.corrupt, [])
        self.assertEqual(report.dangling, [])
        self.assertEqual(report.objects, 2)
        self.assertEqual(report.bytes, 4000)
        self.assertEqual(report.refs, 1)
        self.assertTrue(calls)

    def test_verify_progress_stops(self):
        self.store.put(b"x")
        with self.assertRaises(mlops.CallbackError) as cm:
            self.store.verify(progress=lambda d, t: True)
        self.assertEqual(cm.exception.code, -11)

        class Stop(Exception):
            pass

        def raiser(d, t):
            raise Stop()
        with self.assertRaises(Stop):
            self.store.verify(progress=raiser)
        self.assertTrue(self.store.verify().ok)  # still usable

    def test_gc(self):
        keep = self.store.put(b"kept by a ref")
        linked = self.store.put(b"kept through a link")
        manifest = self.store.put_structured("manifest", b"", [linked])
        garbage = self.store.put(b"garbage")
        self.store.refs.set("heads/main", keep)
        self.store.refs.set("heads/manifest", manifest)

        young = self.store.gc()  # default grace: an hour
        self.assertEqual(young.freed, 0)
        self.assertGreaterEqual(young.young, 1)

        dry = self.store.gc(grace_seconds=0, dry_run=True)
        self.assertEqual(dry.objects, 4)
        self.assertEqual(dry.reachable, 3)
        self.assertEqual(dry.freed, 1)
        self.assertGreater(dry.freed_bytes, 0)
        self.assertIn(garbage, self.store)

        real = self.store.gc(grace_seconds=0)
        self.assertEqual(real.freed, 1)
        self.assertNotIn(garbage, self.store)
        for oid in (keep, linked, manifest):
            self.assertIn(oid, self.store)
        self.assertEqual(self.store.gc(grace_seconds=0).freed, 0)
        self.assertEqual((real.leftovers, real.leftover_bytes), (0, 0))
        self.assertTrue(self.store.verify().ok)

    def test_gc_leftovers(self):
        if self.KIND != "fs":
            self.skipTest("only the fs store leaves temp files behind")
        leftover = os.path.join(self.dir, "tmp", "obj-" + "ab" * 16)
        with open(leftover, "wb") as f:
            f.write(b"12345")
        os.utime(leftover, (0, 0))
        dry = self.store.gc(dry_run=True)
        self.assertEqual((dry.leftovers, dry.leftover_bytes), (1, 5))
        self.assertTrue(os.path.exists(leftover))
        real = self.store.gc()
        self.assertEqual((real.leftovers, real.leftover_bytes), (1, 5))
        self.assertFalse(os.path.exists(leftover))

    def test_gc_bad_arguments(self):
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.gc(grace_seconds=-1)
        with self.assertRaises(TypeError):
            self.store.gc(grace_seconds="1")

    def test_close(self):
        oid = self.store.put(b"x")
        self.store.close()
        self.store.close()  # idempotent
        self.assertTrue(self.store.closed)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.get(oid)
        with self.assertRaises(ValueError):
            self.store.refs.list()
        self.assertIn("closed", repr(self.store))

    def test_close_closes_children(self):
        oid = self.store.put(b"y" * 10000)
        self.store.log_append("l", b"r")
        r = self.store.open_reader(oid)
        w = self.store.open_writer()
        it = self.store.log_read("l")
        self.store.close()
        self.assertTrue(r.closed)
        self.assertTrue(w.closed)
        with self.assertRaises(ValueError):
            r.read(1)
        self.assertEqual(list(it), [])

    def test_context_manager(self):
        with self.open_store() as s:
            oid = s.put(b"ctx")
            self.assertFalse(s.closed)
        self.assertTrue(s.closed)
        self.assertEqual(oid, mlops.object_id(b"ctx"))

    def test_options(self):
        for kw in ({"durability": "none"}, {"durability": "full"}, {"compression": "none"},
                   {"compression": "always", "compression_level": 9}, {"compress_limit": 1 << 10},
                   {"lock_timeout_ms": 100, "stale_lock_ms": 1000}):
            with self.open_store(**kw) as s:
                data = b"options " * 1000
                self.assertEqual(s.get(s.put(data)), data)
        for bad in ({"durability": "sometimes"}, {"compression": "zstd"},
                    {"compression_level": -1}, {"lock_timeout_ms": 1 << 40}):
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                self.open_store(**bad)
        with self.assertRaises(TypeError):
            self.open_store(unknown_option=1)


class FsStoreTests(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-py-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_persistence(self):
        with mlops.Store(self.dir) as s:
            oid = s.put(b"persisted")
            s.refs.set("r", oid)
            s.log_append("l", b"rec")
            self.assertEqual(s.path, self.dir)
        import pathlib
        with mlops.Store(pathlib.Path(self.dir), create=False) as s:
            self.assertEqual(s.get(s.refs.get("r")), b"persisted")
            self.assertEqual(list(s.log_read("l")), [b"rec"])

    def test_no_create(self):
        target = os.path.join(self.dir, "nothing here")
        with self.assertRaises(mlops.NotFoundError):
            mlops.Store(target, create=False)
        self.assertFalse(os.path.exists(os.path.join(target, "objects")))

    def test_readonly(self):
        with mlops.Store(self.dir) as s:
            oid = s.put(b"ro")
        with mlops.Store(self.dir, readonly=True) as s:
            self.assertEqual(s.get(oid), b"ro")
            with self.assertRaises(mlops.PermissionDeniedError) as cm:
                s.put(b"new")
            self.assertIsInstance(cm.exception, PermissionError)
            with self.assertRaises(mlops.PermissionDeniedError):
                s.refs.set("r", oid)
            with self.assertRaises(mlops.PermissionDeniedError):
                s.log_append("l", b"x")

    def test_path_is_a_file(self):
        f = os.path.join(self.dir, "file")
        with open(f, "wb") as fh:
            fh.write(b"not a store")
        with self.assertRaises(mlops.MlopsError):
            mlops.Store(f)

    def test_nul_in_path(self):
        with self.assertRaises(mlops.InvalidArgumentError):
            mlops.Store(self.dir + "\x00x")

    @unittest.skipIf(os.geteuid() == 0, "root ignores permissions")
    def test_unwritable_directory(self):
        d = os.path.join(self.dir, "ro")
        os.mkdir(d)
        os.chmod(d, stat.S_IRUSR | stat.S_IXUSR)
        with self.assertRaises(mlops.PermissionDeniedError):
            mlops.Store(d)

    def test_object_layout(self):
        with mlops.Store(self.dir) as s:
            oid = s.put(b"layout")
        self.assertTrue(os.path.isfile(os.path.join(self.dir, "objects", oid[:2], oid[2:])))

    def test_del_is_quiet(self):
        s = mlops.Store(self.dir)
        s.put(b"x")
        del s
        pygc.collect()

    def test_unclosed_at_exit_is_quiet(self):
        code = ("import mlops, sys\n"
                "s = mlops.Store(sys.argv[1]); s.put(b'x'); r = s.open_reader(s.put(b'y'))\n"
                "m = mlops.Store.from_backend(mlops.MemoryBackend()); m.put(b'z')\n"
                "it = (s.log_append('l', b'1'), s.log_read('l'))\n")
        p = subprocess.run([sys.executable, "-c", code, self.dir], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")


class ModuleTests(unittest.TestCase):

    def test_version(self):
        v = mlops.version()
        parts = v.split(".")
        self.assertEqual(len(parts), 3)
        major, minor, patch = map(int, parts)
        self.assertEqual(mlops.version_number(), major * 10000 + minor * 100 + patch)
        self.assertTrue(mlops.library_path())

    def test_error_classes(self):
        table = {
            -1: (mlops.MlopsError, ()), -2: (mlops.OutOfMemoryError, (MemoryError,)),
            -3: (mlops.NotFoundError, (KeyError,)), -4: (mlops.AlreadyExistsError, ()),
            -5: (mlops.InvalidArgumentError, (ValueError,)), -6: (mlops.CorruptError, ()),
            -7: (mlops.ConflictError, ()), -8: (mlops.StorageError, (OSError,)),
            -9: (mlops.LockedError, ()), -10: (mlops.UnsupportedError, ()),
            -11: (mlops.CallbackError, ()), -12: (mlops.NoSpaceError, (mlops.StorageError, OSError)),
            -13: (mlops.PermissionDeniedError, (PermissionError,)),
        }
        from mlops.errors import error_for_code
        for code, (cls, bases) in table.items():
            self.assertEqual(cls.code, code)
            self.assertEqual(cls.name, mlops.error_name(code))
            e = error_for_code(code, "a message")
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, mlops.MlopsError)
            for b in bases:
                self.assertIsInstance(e, b)
            self.assertEqual(str(e), "a message")
            self.assertEqual(e.code, code)
            self.assertTrue(mlops.strerror(code))
        e = error_for_code(-999, "odd")
        self.assertIs(type(e), mlops.MlopsError)
        self.assertEqual(e.code, -999)

    def test_error_pickles(self):
        import pickle
        e = pickle.loads(pickle.dumps(mlops.NotFoundError("gone")))
        self.assertIsInstance(e, mlops.NotFoundError)
        self.assertEqual(str(e), "gone")
        self.assertEqual(e.code, -3)

    def test_loader_reports_every_failure(self):
        env = dict(os.environ, LIBMLOPS_LIBRARY="/nonexistent/libmlops.so")
        p = subprocess.run([sys.executable, "-c", "import mlops"], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn("LIBMLOPS_LIBRARY", p.stderr)
        self.assertIn("/nonexistent/libmlops.so", p.stderr)


if __name__ == "__main__":
    unittest.main()
