"""Shared helpers of the binding tests: one suite runs over every kind of store."""

import glob
import os
import shutil
import sys
import tempfile
import unittest

import mlops

BAD_NAMES = ["../x", "/abs", "a//b", "", "a\nb", "a\x00b", "x/", "a/./b", "a/../b"]
BAD_IDS = ["", "abc", "g" * 64, "a" * 63, "a" * 65, " " + "a" * 63, "é" * 32, "a" * 63 + "\x00"]

try:
    import numpy  # noqa: F401
    HAVE_NUMPY = True
except ImportError:  # numpy is never required
    HAVE_NUMPY = False


class StoreCase:
    """Opens self.store of kind KIND ('fs', 'memory' or 'python') per test."""

    KIND = "fs"

    def open_store(self, **options):
        if self.KIND == "fs":
            return mlops.Store(self.dir, **options)
        if self.KIND == "memory":
            return mlops.Store.memory(**options)
        self.backend = mlops.MemoryBackend()
        return mlops.Store.from_backend(self.backend, **options)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-py-")
        self.store = self.open_store()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self.store.close)

    def corrupt(self, oid):
        """Flips a byte near the end of the stored object; False if this
        kind of store gives no access to its bytes."""
        if self.KIND == "fs":
            paths = glob.glob(os.path.join(self.dir, "objects", oid[:2], oid[2:]))
            self.assertEqual(len(paths), 1, "object file of %s not found" % oid)
            with open(paths[0], "r+b") as f:
                f.seek(-3, os.SEEK_END)
                b = f.read(1)
                f.seek(-3, os.SEEK_END)
                f.write(bytes([b[0] ^ 0x55]))
            return True
        if self.KIND == "python":
            raw = bytes.fromhex(oid)
            data, mtime = self.backend.objects[raw]
            flipped = bytearray(data)
            flipped[-3] ^= 0x55
            self.backend.objects[raw] = (bytes(flipped), mtime)
            return True
        return False


def for_every_kind(cls):
    """Class decorator: registers one TestCase per kind of store."""
    mod = sys.modules[cls.__module__]
    for kind in ("fs", "memory", "python"):
        name = "%s_%s" % (cls.__name__, kind)
        attrs = {"KIND": kind, "__module__": cls.__module__}
        setattr(mod, name, type(name, (cls, unittest.TestCase), attrs))
    return cls
