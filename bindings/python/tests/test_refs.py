"""Refs: get, compare-and-swap set, delete, listing, bad names."""

import threading
import unittest

import mlops
from support import BAD_IDS, BAD_NAMES, StoreCase, for_every_kind


@for_every_kind
class RefTests(StoreCase):

    def setUp(self):
        super().setUp()
        self.a = self.store.put(b"object a")
        self.b = self.store.put(b"object b")

    def test_set_get(self):
        self.store.refs.set("models/best", self.a)
        self.assertEqual(self.store.refs.get("models/best"), self.a)
        self.assertEqual(self.store.refs["models/best"], self.a)
        self.assertIn("models/best", self.store.refs)
        self.store.refs.set("models/best", self.b, expected=self.a)
        self.assertEqual(self.store.refs.get("models/best"), self.b)

    def test_missing_ref(self):
        with self.assertRaises(mlops.NotFoundError) as cm:
            self.store.refs.get("no/such/ref")
        e = cm.exception
        self.assertIsInstance(e, KeyError)
        self.assertIsInstance(e, mlops.MlopsError)
        self.assertEqual(e.code, -3)
        self.assertTrue(e.message)
        self.assertEqual(str(e), e.message)  # not quoted like a KeyError
        self.assertNotIn("no/such/ref", self.store.refs)
        with self.assertRaises(KeyError):
            self.store.refs["no/such/ref"]

    def test_conflicts(self):
        self.store.refs.set("r", self.a)
        with self.assertRaises(mlops.ConflictError) as cm:
            self.store.refs.set("r", self.b)  # must not exist yet
        self.assertEqual(cm.exception.code, -7)
        with self.assertRaises(mlops.ConflictError):
            self.store.refs.set("r", self.a, expected=self.b)  # stale expectation
        self.assertEqual(self.store.refs.get("r"), self.a)
        with self.assertRaises(mlops.ConflictError):
            self.store.refs.delete("r", expected=self.b)
        self.assertEqual(self.store.refs.get("r"), self.a)

    def test_set_to_missing_object(self):
        with self.assertRaises(mlops.NotFoundError):
            self.store.refs.set("r", "0" * 64)
        self.assertNotIn("r", self.store.refs)

    def test_delete(self):
        self.store.refs.set("x", self.a)
        self.store.refs.delete("x", expected=self.a)
        self.assertNotIn("x", self.store.refs)
        self.store.refs.set("y", self.a)
        self.store.refs.delete("y")
        with self.assertRaises(mlops.NotFoundError):
            self.store.refs.delete("y")
        with self.assertRaises(mlops.NotFoundError):
            self.store.refs.delete("never", expected=self.a)

    def test_list(self):
        names = ["a/1", "a/2", "b/1", "ab"]
        for n in names:
            self.store.refs.set(n, self.a)
        self.store.refs.set("a/3", self.b)
        self.assertEqual(self.store.refs.list(), sorted(names + ["a/3"]))
        self.assertEqual(self.store.refs.list("a/"), ["a/1", "a/2", "a/3"])
        self.assertEqual(self.store.refs.items("a/"), [("a/1", self.a), ("a/2", self.a), ("a/3", self.b)])
        self.assertEqual(self.store.refs.list("zzz"), [])
        self.assertEqual(list(self.store.refs), sorted(names + ["a/3"]))
        self.assertEqual(len(self.store.refs), 5)

    def test_bad_names(self):
        for bad in BAD_NAMES:
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)) as cm:
                self.store.refs.set(bad, self.a)
            self.assertIsInstance(cm.exception, ValueError)
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                self.store.refs.get(bad)
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                self.store.refs.delete(bad)
            self.assertNotIn(bad, self.store.refs)
            self.assertFalse(mlops.ref_name_is_valid(bad))
        self.assertEqual(self.store.refs.list(), [])
        self.assertTrue(mlops.ref_name_is_valid("models/resnet-50/v1"))
        with self.assertRaises(TypeError):
            self.store.refs.get(42)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.refs.list("a\x00")

    def test_bad_ids(self):
        for bad in BAD_IDS:
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                self.store.refs.set("r", bad)
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                self.store.refs.set("r", self.a, expected=bad)
        self.assertNotIn("r", self.store.refs)

    def test_concurrent_cas_counter(self):
        """4 threads x 25 compare-and-swap increments with retry end at 100."""
        self.store.refs.set("counter", self.store.put(b"0"))

        def worker():
            done = 0
            while done < 25:
                cur = self.store.refs.get("counter")
                n = int(self.store.get(cur))
                new = self.store.put(b"%d" % (n + 1))
                try:
                    self.store.refs.set("counter", new, expected=cur)
                    done += 1
                except mlops.ConflictError:
                    pass

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.store.get(self.store.refs.get("counter")), b"100")


if __name__ == "__main__":
    unittest.main()
