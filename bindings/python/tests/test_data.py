"""Data versioning through the Python binding (mlops/data.py), over directory
stores in temporary directories.

Skipped when the loaded library was built without data versioning
(meson -Ddata=false), except TestWithoutData.
"""

import hashlib
import json
import os
import pathlib
import shutil
import stat
import tempfile
import unittest
from unittest import mock

import mlops
from mlops import _lib

HAVE_DATA = _lib.has_function("mlops_data_resolve")  # the module's probe
needs_data = unittest.skipUnless(HAVE_DATA, "libmlops built without data versioning (-Ddata=true)")

BIG = bytes(range(256)) * 400  # 100 KiB, the same on every run


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def listing(root):
    """{relative path: ("file", sha256, exec) or ("link", target)} of a tree."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root).replace(os.sep, "/")
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("file", digest, bool(os.stat(p).st_mode & stat.S_IXUSR))
    return out


def tree_size(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files
               if not os.path.islink(os.path.join(d, f)))


@needs_data
class DataTests(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlops-py-data-")
        self.addCleanup(self._rmtree, self.tmp)
        self.store = mlops.Store(os.path.join(self.tmp, "store"))
        self.addCleanup(self.store.close)
        self.data = self.store.data
        self.tree = os.path.join(self.tmp, "tree")
        write(os.path.join(self.tree, "a.txt"), b"hello\n")
        write(os.path.join(self.tree, "notes.md"), b"# notes\nsome words\n")
        write(os.path.join(self.tree, "bin", "run.sh"), b"#!/bin/sh\necho hi\n", 0o755)
        write(os.path.join(self.tree, "sub", "deep", "data.bin"), BIG)
        os.symlink("a.txt", os.path.join(self.tree, "link"))

    @staticmethod
    def _rmtree(path):
        # hardlinked checkouts are read-only: make them writable to remove them
        for d, dirs, files in os.walk(path):
            for name in dirs + files:
                p = os.path.join(d, name)
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
        shutil.rmtree(path, True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def assertSameTree(self, a, b):
        self.assertEqual(listing(a), listing(b))

    # ---- commits, versions, refs ---------------------------------------------

    def test_commit_versions_and_refs(self):
        d = self.data
        v1 = d.commit("ds", self.tree, message="first", tags=["base"], user="alice")
        self.assertIsInstance(v1, mlops.DataVersion)
        self.assertEqual((v1.dataset, v1.version, v1.created), ("ds", 1, True))
        self.assertEqual((v1.message, v1.user, v1.tags), ("first", "alice", ["base"]))
        self.assertEqual(v1.files, 4)
        self.assertEqual(v1.size, tree_size(self.tree))
        self.assertRegex(v1.id, "^[0-9a-f]{64}$")
        self.assertIsNone(v1.parent)
        self.assertIsInstance(v1.time, int)
        self.assertGreater(v1.time, 1_600_000_000_000)  # ms since the epoch
        self.assertEqual(v1.ref, "ds@1")
        # the id is the root manifest's: a structured object linking to the
        # files, which are stored under their sha256sum
        self.assertEqual(d.snapshot(self.tree).id, v1.id)
        root = self.store.get_structured(v1.id)
        self.assertIn(hashlib.sha256(b"hello\n").hexdigest(), root.links)

        again = d.commit("ds", self.tree)
        self.assertFalse(again.created)
        self.assertEqual((again.version, again.id), (1, v1.id))

        write(os.path.join(self.tree, "a.txt"), b"hello again\n")
        v2 = d.commit("ds", pathlib.Path(self.tree), message="second")
        self.assertEqual((v2.version, v2.created, v2.parent), (2, True, v1.record))
        self.assertNotEqual(v2.id, v1.id)
        self.assertEqual(v2.size, tree_size(self.tree))

        self.assertEqual([v.version for v in d.versions("ds")], [1, 2])
        self.assertEqual([v.id for v in d.versions("ds")], [v1.id, v2.id])
        d.commit("other", os.path.join(self.tree, "a.txt"))  # a single file
        self.assertEqual(d.datasets(), ["ds", "other"])

        self.assertEqual(d.resolve("ds").version, 2)
        self.assertEqual(d.resolve("ds@1").id, v1.id)
        self.assertEqual(d.resolve("ds@base").version, 1)
        self.assertEqual(d.resolve(v1).id, v1.id)
        bare = d.resolve(v1.id)
        self.assertEqual((bare.dataset, bare.version, bare.id, bare.ref), (None, 0, v1.id, v1.id))

    def test_tags(self):
        d = self.data
        d.commit("ds", self.tree)
        write(os.path.join(self.tree, "a.txt"), b"v2\n")
        v2 = d.commit("ds", self.tree, tags="prod")
        self.assertEqual(d.resolve("ds@prod").version, 2)
        with self.assertRaises(mlops.AlreadyExistsError):
            d.tag("ds@1", "prod")
        d.tag("ds@1", "prod", force=True)
        self.assertEqual(d.resolve("ds@prod").version, 1)
        self.assertEqual(d.resolve("ds@1").tags, ["prod"])
        d.untag(v2, "prod")
        with self.assertRaises(mlops.NotFoundError):
            d.resolve("ds@prod")
        with self.assertRaises(mlops.NotFoundError):
            d.untag("ds", "prod")
        with self.assertRaises(ValueError):
            d.tag("ds@1", "123")  # all digits: a version number
        with self.assertRaises(ValueError):
            d.tag(v2.id, "raw")  # a raw id belongs to no dataset

    def test_commit_snapshot(self):
        d = self.data
        snap = d.snapshot(self.tree)
        self.assertEqual((snap.files, snap.dirs, snap.symlinks, snap.skipped), (4, 3, 1, 0))
        self.assertEqual(snap.size, tree_size(self.tree))
        v = d.commit_snapshot("snap", snap, message="from a snapshot")
        self.assertEqual((v.version, v.id, v.message), (1, snap.id, "from a snapshot"))
        self.assertFalse(d.commit_snapshot("snap", snap.id).created)
        self.assertTrue(d.commit_snapshot("snap", snap.id, allow_empty=True).created)
        with self.assertRaises(mlops.NotFoundError):
            d.commit_snapshot("snap", "ab" * 32)

    # ---- checkout -------------------------------------------------------------

    def test_checkout_copy(self):
        v1 = self.data.commit("ds", self.tree)
        dest = self.path("out")
        info = self.data.checkout("ds@1", dest)
        self.assertIsInstance(info, mlops.CheckoutInfo)
        self.assertEqual(info.files_written, 4)
        self.assertSameTree(self.tree, dest)
        for rel in ("a.txt", "bin/run.sh", "sub/deep/data.bin"):
            with open(os.path.join(self.tree, rel), "rb") as a, open(os.path.join(dest, rel), "rb") as b:
                self.assertEqual(a.read(), b.read())
        self.assertTrue(os.access(os.path.join(dest, "bin", "run.sh"), os.X_OK))
        self.assertFalse(os.stat(os.path.join(dest, "a.txt")).st_mode & stat.S_IXUSR)
        self.assertEqual(os.readlink(os.path.join(dest, "link")), "a.txt")
        self.assertEqual(os.stat(os.path.join(dest, "a.txt")).st_nlink, 1)
        # a second checkout finds everything in place
        again = self.data.checkout(v1, dest)
        self.assertEqual((again.files_written, again.files_unchanged), (0, 4))

    def test_checkout_hardlink(self):
        self.data.commit("ds", self.tree)
        dest = self.path("links")
        info = self.data.checkout("ds", dest, mode="hardlink")
        self.assertGreaterEqual(info.linked, 1)
        self.assertSameTree(self.tree, dest)
        for rel in ("a.txt", "sub/deep/data.bin"):
            st = os.stat(os.path.join(dest, rel))
            self.assertGreaterEqual(st.st_nlink, 2, rel)
            self.assertEqual(st.st_mode & 0o222, 0, "%s is writable" % rel)

    def test_prune_cache(self):
        self.data.commit("ds", self.tree)
        dest = self.path("links")
        self.data.checkout("ds", dest, mode="hardlink")
        rep = self.data.prune_cache(grace_seconds=0)
        self.assertEqual((rep.copies, rep.linked, rep.removed, rep.young), (4, 4, 0, 0))
        os.remove(os.path.join(dest, "a.txt"))  # its copy is linked no more
        self.assertEqual(self.data.prune_cache().young, 1)  # default grace: an hour
        dry = self.data.prune_cache(grace_seconds=0, dry_run=True)
        self.assertEqual((dry.removed, dry.removed_bytes), (1, len(b"hello\n")))
        rep = self.data.prune_cache(grace_seconds=0)
        self.assertEqual((rep.copies, rep.removed, rep.removed_bytes, rep.linked), (4, 1, 6, 3))
        self.assertEqual(self.data.prune_cache(grace_seconds=0).copies, 3)
        again = self.data.checkout("ds", dest, mode="hardlink")
        self.assertEqual(again.files_written, 1)
        self.assertSameTree(self.tree, dest)
        for bad in (-1, 2 ** 64, 1.5, True, "1"):
            with self.assertRaises(ValueError):
                self.data.prune_cache(grace_seconds=bad)
        with mlops.Store.memory() as mem:
            self.assertEqual(mem.data.prune_cache(grace_seconds=0), mlops.CacheReport())

    def test_checkout_reflink_and_subpath(self):
        self.data.commit("ds", self.tree)
        self.data.checkout("ds", self.path("ref"), mode="reflink")
        self.assertSameTree(self.tree, self.path("ref"))
        self.data.checkout("ds", self.path("sub"), subpath="sub")
        self.assertEqual(list(listing(self.path("sub"))), ["deep/data.bin"])
        self.data.checkout("ds", self.path("one"), subpath="notes.md")
        self.assertEqual(os.listdir(self.path("one")), ["notes.md"])

    def test_checkout_clean(self):
        self.data.commit("ds", self.tree)
        dest = self.path("out")
        write(os.path.join(dest, "extra.txt"), b"not in the version")
        self.data.checkout("ds", dest)
        self.assertTrue(os.path.exists(os.path.join(dest, "extra.txt")))
        info = self.data.checkout("ds", dest, clean=True)
        self.assertGreaterEqual(info.removed, 1)
        self.assertSameTree(self.tree, dest)

    # ---- status and diff --------------------------------------------------------

    def test_status(self):
        self.data.commit("ds", self.tree)
        clean = self.data.status("ds", self.tree)
        self.assertFalse(clean)
        self.assertEqual(len(clean), 0)
        write(os.path.join(self.tree, "sub", "deep", "data.bin"), BIG + b"more")
        write(os.path.join(self.tree, "new.txt"), b"a new file\n")
        os.unlink(os.path.join(self.tree, "notes.md"))
        st = self.data.status("ds", self.tree)
        self.assertTrue(st)
        self.assertEqual({c.path: c.kind for c in st.changes},
                         {"sub/deep/data.bin": "modified", "new.txt": "added", "notes.md": "removed"})
        self.assertEqual([c.path for c in st.changes], sorted(c.path for c in st.changes))
        (mod,) = st.modified
        self.assertEqual((mod.old_size, mod.new_size), (len(BIG), len(BIG) + 4))
        self.assertEqual(mod.new_id, hashlib.sha256(BIG + b"more").hexdigest())
        (added,) = st.added
        self.assertEqual((added.old_type, added.new_type, added.old_id), (None, "file", None))
        self.assertEqual([c.path for c in st.removed], ["notes.md"])
        self.assertGreaterEqual(st.files_hashed, 1)

    def test_diff(self):
        d = self.data
        d.commit("ds", self.tree)
        os.rename(os.path.join(self.tree, "notes.md"), os.path.join(self.tree, "README.md"))
        write(os.path.join(self.tree, "a.txt"), b"changed\n")
        d.commit("ds", self.tree)
        diff = d.diff("ds@1", "ds@2")
        self.assertIsInstance(diff, mlops.Diff)
        self.assertTrue(diff)
        self.assertEqual([c.path for c in diff.modified], ["a.txt"])
        (ren,) = diff.renamed
        self.assertEqual((ren.old_path, ren.path, ren.kind), ("notes.md", "README.md", "renamed"))
        self.assertEqual(ren.old_id, ren.new_id)
        self.assertEqual((diff.added, diff.removed), ([], []))
        self.assertEqual(diff.old_files, 4)
        self.assertEqual(diff.new_size, tree_size(self.tree))
        self.assertEqual(list(diff), diff.changes)
        doc = json.loads(diff.to_json())
        self.assertIsInstance(doc, dict)
        self.assertIn("README.md", json.dumps(doc))
        self.assertFalse(d.diff("ds@2", "ds"))
        self.assertIsInstance(json.loads(d.diff("ds@2", "ds").to_json()), dict)

    # ---- pointer files ----------------------------------------------------------------

    def test_pointer_files(self):
        d = self.data
        ptr = self.path("ds.mlops")
        v1 = d.commit("ds", self.tree, pointer=ptr)
        self.assertEqual(d.read_pointer(ptr).id, v1.id)
        write(os.path.join(self.tree, "a.txt"), b"v2\n")
        v2 = d.commit("ds", self.tree)
        d.write_pointer(v1, pathlib.Path(ptr))
        back = d.read_pointer(ptr)
        self.assertEqual((back.dataset, back.version, back.id), ("ds", 1, v1.id))
        d.write_pointer("ds", ptr)
        self.assertEqual(d.read_pointer(ptr).version, v2.version)
        write(self.path("junk.mlops"), b"not a pointer\n")
        with self.assertRaises(ValueError):
            d.read_pointer(self.path("junk.mlops"))

    # ---- callbacks ----------------------------------------------------------------------

    def test_progress_and_notice(self):
        os.symlink("../../outside", os.path.join(self.tree, "bad"))
        seen, notices = [], []
        info = self.data.snapshot(self.tree, progress=lambda *a: seen.append(a),
                                  notice=lambda kind, path: notices.append((kind, path)))
        self.assertEqual(notices, [("link_outside", "bad")])
        self.assertEqual(info.skipped, 1)
        self.assertTrue(seen)
        files_done, files_total, bytes_done, bytes_total = seen[-1]
        self.assertEqual((files_total, bytes_total), (4, tree_size(self.tree)))
        self.assertLessEqual(files_done, files_total)

    def test_callback_exception_propagates(self):
        class Boom(Exception):
            pass

        def explode(*args):
            raise Boom("from the callback")

        with self.assertRaises(Boom):
            self.data.snapshot(self.tree, progress=explode, use_cache=False)
        os.symlink("/etc/hostname", os.path.join(self.tree, "abs"))
        with self.assertRaises(Boom):
            self.data.commit("ds", self.tree, notice=explode)
        with self.assertRaises(mlops.NotFoundError):
            self.data.resolve("ds")  # the walk stopped: nothing was committed
        with self.assertRaises(mlops.CallbackError):
            self.data.snapshot(self.tree, notice=lambda kind, path: True)  # a true value stops too
        os.unlink(os.path.join(self.tree, "abs"))
        self.data.commit("ds", self.tree)
        with self.assertRaises(Boom):
            self.data.checkout("ds", self.path("out"), progress=explode)
        with self.assertRaises(TypeError):
            self.data.snapshot(self.tree, progress="not callable")

    # ---- errors ---------------------------------------------------------------------------

    def test_errors(self):
        d = self.data
        for bad in ("bad name", ".hidden", "-dash", "a/b", "x" * 129, ""):
            with self.assertRaises(mlops.InvalidArgumentError, msg=bad) as cm:
                d.commit(bad, self.tree)
            self.assertIsInstance(cm.exception, ValueError)
        with self.assertRaises(mlops.NotFoundError) as cm:
            d.resolve("nosuch")
        self.assertIsInstance(cm.exception, KeyError)
        with self.assertRaises(KeyError):
            d.versions("nosuch")
        with self.assertRaises(mlops.NotFoundError):
            d.commit("ds", self.path("missing"))
        d.commit("ds", self.tree)
        with self.assertRaises(KeyError):
            d.resolve("ds@7")
        with self.assertRaises(ValueError):
            d.resolve("ds@@")
        for mode in ("bogus", "COPY", None, 1):
            with self.assertRaises(ValueError):
                d.checkout("ds", self.path("out"), mode=mode)
        with self.assertRaises(ValueError):
            d.commit("ds", self.tree, message="nul\x00byte")

    def test_hardlink_needs_fs_store(self):
        with mlops.Store.memory() as mem:
            mem.data.commit("ds", self.tree)
            with self.assertRaises(mlops.UnsupportedError):
                mem.data.checkout("ds", self.path("out"), mode="hardlink")
            mem.data.checkout("ds", self.path("out"))
            self.assertSameTree(self.tree, self.path("out"))

    def test_module_complete(self):
        """A library with the data module has every function of data.h."""
        self.assertEqual(_lib.missing_functions("data"), [])
        self.assertTrue(mlops.has_data())


class TestWithoutData(unittest.TestCase):
    """Without the C functions, import works and every call raises
    UnsupportedError."""

    def test_unsupported(self):
        with mlops.Store.memory() as s, mock.patch.object(_lib, "has_function", lambda name: False):
            with self.assertRaises(mlops.UnsupportedError):
                s.data.resolve("ds")
            with self.assertRaises(mlops.UnsupportedError):
                s.data.commit("ds", ".")
            with self.assertRaises(mlops.UnsupportedError):
                mlops.Diff().to_json()
            self.assertFalse(mlops.Diff())


if __name__ == "__main__":
    unittest.main()
