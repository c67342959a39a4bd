"""Logs: append, batch, read, sync, list."""

import os
import unittest

import mlops
from support import BAD_NAMES, StoreCase, for_every_kind


@for_every_kind
class LogTests(StoreCase):

    def test_append_read(self):
        records = [b"first", b"", os.urandom(70000), b"last"]
        for r in records:
            self.store.log_append("runs/1/metrics", r)
        self.store.log_sync("runs/1/metrics")
        self.assertEqual(list(self.store.log_read("runs/1/metrics")), records)

    def test_bytes_like_records(self):
        self.store.log_append("l", bytearray(b"ba"))
        self.store.log_append("l", memoryview(b"xmvx")[1:3])
        self.assertEqual(list(self.store.log_read("l")), [b"ba", b"mv"])

    def test_batch(self):
        self.store.log_append("b", b"0")
        self.store.log_append_batch("b", [b"1", bytearray(b"22"), memoryview(b"333")])
        self.assertEqual(list(self.store.log_read("b")), [b"0", b"1", b"22", b"333"])

    def test_many_records(self):
        for i in range(2000):
            self.store.log_append("many", b"record %d" % i)
        got = list(self.store.log_read("many"))
        self.assertEqual(got, [b"record %d" % i for i in range(2000)])

    def test_partial_iteration_and_close(self):
        for i in range(10):
            self.store.log_append("p", b"%d" % i)
        it = self.store.log_read("p")
        self.assertEqual(next(it), b"0")
        it.close()
        self.assertEqual(list(it), [])
        with self.store.log_read("p") as it2:
            self.assertEqual(next(it2), b"0")

    def test_missing_log(self):
        with self.assertRaises(mlops.NotFoundError):
            self.store.log_read("no/such/log")

    def test_list(self):
        for n in ("runs/2", "runs/1", "other"):
            self.store.log_append(n, b"x")
        self.assertEqual(self.store.logs(), ["other", "runs/1", "runs/2"])
        self.assertEqual(self.store.logs("runs/"), ["runs/1", "runs/2"])
        self.assertEqual(self.store.logs("nothing"), [])

    def test_bad_names(self):
        for bad in BAD_NAMES:
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                self.store.log_append(bad, b"x")
            with self.assertRaises(ValueError, msg=repr(bad)):
                self.store.log_read(bad)
            with self.assertRaises(ValueError, msg=repr(bad)):
                self.store.log_append_batch(bad, [b"x"])
        self.assertEqual(self.store.logs(), [])
        with self.assertRaises(TypeError):
            self.store.log_append("ok", "not bytes")

    def test_verify_counts_logs(self):
        self.store.log_append("v", b"x")
        self.store.log_sync("v")
        report = self.store.verify()
        self.assertTrue(report.ok)
        self.assertGreaterEqual(report.logs, 1)


if __name__ == "__main__":
    unittest.main()
