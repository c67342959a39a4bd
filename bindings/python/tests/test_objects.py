"""Objects: put/get in memory, files, streams, ids, corruption."""

import array
import hashlib
import os
import unittest

import mlops
from mlops._util import Borrowed
from support import BAD_IDS, HAVE_NUMPY, StoreCase, for_every_kind


def sha(data):
    return hashlib.sha256(data).hexdigest()


@for_every_kind
class ObjectTests(StoreCase):

    def test_put_get_round_trip(self):
        for data in (b"", b"hello", os.urandom(100000), b"a" * 300000):
            oid = self.store.put(data)
            self.assertEqual(oid, sha(data))
            self.assertEqual(len(oid), 64)
            self.assertEqual(oid, oid.lower())
            self.assertEqual(self.store.get(oid), data)
            self.assertEqual(self.store.size(oid), len(data))
            self.assertIn(oid, self.store)
            self.assertTrue(self.store.exists(oid))

    def test_put_is_idempotent(self):
        self.assertEqual(self.store.put(b"same"), self.store.put(b"same"))

    def test_put_bytes_like(self):
        data = os.urandom(4096)
        for obj in (bytearray(data), memoryview(data), array.array("B", data),
                    memoryview(data)[::1]):
            self.assertEqual(self.store.put(obj), sha(data))
        self.assertEqual(self.store.put(memoryview(data)[100:200]), sha(data[100:200]))
        self.assertEqual(self.store.put(memoryview(data)[::2]), sha(data[::2]))  # copied
        ints = array.array("i", range(1000))
        self.assertEqual(self.store.put(ints), sha(ints.tobytes()))

    def test_put_rejects_non_buffers(self):
        with self.assertRaises(TypeError):
            self.store.put("text")
        with self.assertRaises(TypeError):
            self.store.put(12)

    @unittest.skipUnless(HAVE_NUMPY, "numpy not importable")
    def test_numpy_round_trip(self):
        import numpy as np
        a = np.arange(10000, dtype=np.float64)
        oid = self.store.put(a)
        self.assertEqual(oid, sha(a.tobytes()))
        back = np.frombuffer(self.store.get(oid), dtype=np.float64)
        self.assertTrue(np.array_equal(a, back))
        a2 = np.arange(12, dtype=np.int32).reshape(3, 4)
        self.assertEqual(self.store.put(a2), sha(a2.tobytes()))
        self.assertEqual(self.store.put(a2.T), sha(a2.T.tobytes()))  # non-contiguous: copied

    def test_missing_object(self):
        missing = sha(b"never stored")
        self.assertNotIn(missing, self.store)
        self.assertFalse(self.store.exists(missing))
        for call in (self.store.get, self.store.size, self.store.open_reader):
            with self.assertRaises(mlops.NotFoundError) as cm:
                call(missing)
            self.assertIsInstance(cm.exception, KeyError)
            self.assertEqual(cm.exception.code, -3)
            self.assertEqual(cm.exception.name, "ENOTFOUND")
        with self.assertRaises(mlops.NotFoundError):
            self.store.get_file(missing, os.path.join(self.dir, "out"))

    def test_bad_ids(self):
        for bad in BAD_IDS:
            for call in (self.store.get, self.store.size, self.store.exists, self.store.open_reader):
                with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)) as cm:
                    call(bad)
                self.assertIsInstance(cm.exception, ValueError)
                self.assertEqual(cm.exception.code, -5)
            self.assertNotIn(bad, self.store)
        with self.assertRaises(TypeError):
            self.store.get(None)
        self.assertNotIn(None, self.store)

    def test_upper_case_id_accepted(self):
        oid = self.store.put(b"case")
        self.assertEqual(self.store.get(oid.upper()), b"case")

    def test_files(self):
        src = os.path.join(self.dir, "src.bin")
        data = os.urandom(200000) + b"z" * 100000
        with open(src, "wb") as f:
            f.write(data)
        oid = self.store.put_file(src)
        self.assertEqual(oid, sha(data))
        import pathlib
        self.assertEqual(self.store.put_file(pathlib.Path(src)), oid)
        dst = pathlib.Path(self.dir) / "dst.bin"
        self.store.get_file(oid, dst)
        self.assertEqual(dst.read_bytes(), data)
        self.store.get_file(oid, str(dst))  # replaces
        self.assertEqual(dst.read_bytes(), data)

    def test_put_file_errors(self):
        with self.assertRaises(mlops.NotFoundError):
            self.store.put_file(os.path.join(self.dir, "no such file"))
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.put_file(self.dir)  # a directory
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.put_file("a\x00b")

    def test_reader(self):
        data = os.urandom(300000)
        oid = self.store.put(data)
        with self.store.open_reader(oid) as r:
            self.assertEqual(r.size, len(data))
            self.assertEqual(r.id, oid)
            parts = [r.read(1000)]
            parts.append(r.read())
            self.assertEqual(r.read(10), b"")
        self.assertEqual(b"".join(parts), data)
        self.assertTrue(r.closed)
        with self.assertRaises(ValueError):
            r.read(1)
        r.close()  # idempotent
        with self.store.open_reader(oid) as r:
            buf = bytearray(len(data) + 10)
            n = 0
            while True:
                got = r.readinto(memoryview(buf)[n:])
                if not got:
                    break
                n += got
            self.assertEqual(bytes(buf[:n]), data)

    def test_writer(self):
        w = self.store.open_writer()
        for i in range(10):
            self.assertEqual(w.write(b"%d-" % i * 1000), len(b"%d-" % i) * 1000)
        oid = w.finish()
        expected = b"".join(b"%d-" % i * 1000 for i in range(10))
        self.assertEqual(oid, sha(expected))
        self.assertEqual(w.finish(), oid)
        self.assertTrue(w.closed)
        self.assertEqual(self.store.get(oid), expected)
        with self.store.open_writer() as w:
            w.write(bytearray(b"ctx"))
        self.assertEqual(w.id, sha(b"ctx"))
        self.assertIn(w.id, self.store)

    def test_writer_discards_on_error(self):
        with self.assertRaises(RuntimeError):
            with self.store.open_writer() as w:
                w.write(b"half an object")
                raise RuntimeError("boom")
        self.assertIsNone(w.id)
        self.assertNotIn(sha(b"half an object"), self.store)
        w = self.store.open_writer()
        w.write(b"abandoned")
        w.close()
        self.assertNotIn(sha(b"abandoned"), self.store)

    def test_corrupt_object(self):
        data = os.urandom(50000)  # incompressible: stored raw
        oid = self.store.put(data)
        good = self.store.put(b"good object")
        if not self.corrupt(oid):
            self.skipTest("no access to stored bytes")
        with self.assertRaises(mlops.CorruptError) as cm:
            self.store.get(oid)
        self.assertEqual(cm.exception.code, -6)
        self.assertTrue(str(cm.exception))
        out = os.path.join(self.dir, "restored")
        with self.assertRaises(mlops.CorruptError):
            self.store.get_file(oid, out)
        self.assertFalse(os.path.exists(out))
        with self.assertRaises(mlops.CorruptError):
            with self.store.open_reader(oid) as r:
                r.read()
        report = self.store.verify()
        self.assertEqual(report.corrupt, [oid])
        self.assertFalse(report.ok)
        self.assertGreaterEqual(report.objects, 2)
        self.assertEqual(self.store.get(good), b"good object")

    def test_structured(self):
        a = self.store.put(b"linked a")
        b = self.store.put(b"linked b")
        sid = self.store.put_structured("manifest", b"body bytes", [a, b])
        got = self.store.get_structured(sid)
        self.assertEqual(got.type, "manifest")
        self.assertEqual(got.links, [a, b])
        self.assertEqual(got.body, b"body bytes")
        empty = self.store.get_structured(self.store.put_structured("t"))
        self.assertEqual(empty, mlops.StructuredObject("t", [], b""))
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.get_structured(a)  # not structured
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.put_structured("bad\x00type")
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.put_structured("t", b"", ["not an id"])

    def test_sync(self):
        self.store.put(b"x")
        self.store.sync()


class ModuleTests(unittest.TestCase):

    def test_object_id(self):
        self.assertEqual(mlops.object_id(b"abc"), sha(b"abc"))
        self.assertEqual(mlops.object_id(bytearray(b"")), sha(b""))

    def test_borrowed_is_zero_copy(self):
        import ctypes
        data = bytes(range(256)) * 10
        base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
        with Borrowed(data) as b:
            self.assertEqual(b.address, base)
        with Borrowed(memoryview(data)[10:]) as b:  # readonly view: still no copy
            self.assertEqual(b.address, base + 10)
            self.assertEqual(b.len, len(data) - 10)
        ba = bytearray(data)
        with Borrowed(ba) as b:
            self.assertEqual(b.address, ctypes.addressof((ctypes.c_char * len(ba)).from_buffer(ba)))

    @unittest.skipUnless(HAVE_NUMPY, "numpy not importable")
    def test_numpy_zero_copy(self):
        import numpy as np
        a = np.arange(1000, dtype=np.float32)
        with Borrowed(a) as b:
            self.assertEqual(b.address, a.ctypes.data)
            self.assertEqual(b.len, a.nbytes)
        a.setflags(write=False)
        with Borrowed(a) as b:
            self.assertEqual(b.address, a.ctypes.data)


if __name__ == "__main__":
    unittest.main()
