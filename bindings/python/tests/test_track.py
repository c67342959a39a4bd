"""Experiment tracking through the Python binding (mlops/track.py).

Skipped as a whole when the loaded library was built without tracking
(meson -Dtrack=true), except TestWithoutTracking, which checks that case.
"""

import array
import csv
import ctypes
import glob
import hashlib
import os
import shutil
import struct
import tempfile
import threading
import unittest
from unittest import mock

import mlops
from mlops import _lib
from support import HAVE_NUMPY, StoreCase, for_every_kind

if HAVE_NUMPY:
    import numpy as np

HAVE_TRACK = mlops.has_tracking()
needs_track = unittest.skipUnless(HAVE_TRACK, "libmlops built without tracking (-Dtrack=true)")
needs_numpy = unittest.skipUnless(HAVE_NUMPY, "numpy not importable")


def bits(x):
    return struct.pack("<d", x)


def from_bits(hexbits):
    return struct.unpack("<d", bytes.fromhex(hexbits))[0]


# NaN (the default one and one with a payload), infinities, signed zeros,
# the smallest subnormal.
SPECIAL = [float("nan"), from_bits("0100000000f8ff7f"), from_bits("efbeadde0000f0ff"),
           float("inf"), float("-inf"), -0.0, 0.0, 5e-324, -1.7976931348623157e308]


class BatchSpy:
    """Wraps mlops_run_log_metric_batch to record the addresses it gets."""

    def __init__(self):
        self.calls = []
        self.real = _lib.lib.mlops_run_log_metric_batch

    def __call__(self, run, key, values, steps, timestamps, n):
        def addr(p):
            if p is None or isinstance(p, int):
                return p
            if isinstance(p, ctypes.c_void_p):
                return p.value
            return ctypes.addressof(p)
        self.calls.append((addr(values), addr(steps), addr(timestamps), n))
        return self.real(run, key, values, steps, timestamps, n)

    def patch(self):
        return mock.patch.object(_lib.lib, "mlops_run_log_metric_batch", self)


@needs_track
class TrackTests(StoreCase):
    """Round trips of the whole API, over every kind of store."""

    def history(self, run_id, key, **kw):
        return self.store.metric_history(run_id, key, as_numpy=False, **kw)

    # ---- experiments ------------------------------------------------------

    def test_experiments(self):
        s = self.store
        e = s.create_experiment("exp-a")
        self.assertIsInstance(e, mlops.Experiment)
        self.assertEqual(e.name, "exp-a")
        self.assertEqual(e.lifecycle_stage, "active")
        self.assertTrue(e.id.isdigit())
        self.assertEqual(e.experiment_id, e.id)
        self.assertGreater(e.creation_time, 0)
        with self.assertRaises(mlops.AlreadyExistsError):
            s.create_experiment("exp-a")
        self.assertEqual(s.get_experiment("exp-a"), e)
        self.assertEqual(s.get_experiment(e.id), e)
        self.assertEqual(s.get_experiment(int(e.id)), e)
        self.assertEqual(s.get_or_create_experiment("exp-a").id, e.id)
        b = s.get_or_create_experiment("exp b/2")
        self.assertNotEqual(b.id, e.id)
        self.assertEqual([x.name for x in s.list_experiments()], ["exp-a", "exp b/2"])
        with self.assertRaises(mlops.NotFoundError):
            s.get_experiment("nope")
        with self.assertRaises(KeyError):
            s.get_experiment("nope")
        for bad in ["", "a" * 251, "bad\x00name", "new\nline", "tab\tname"]:  # names are free text
            with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                s.create_experiment(bad)

    def test_experiment_lifecycle_and_tags(self):
        s = self.store
        e = s.create_experiment("life")
        s.set_experiment_tag(e, "owner", "ana")
        s.set_experiment_tag(e.id, "n", 3)
        self.assertEqual(s.get_experiment("life").tags, {"owner": "ana", "n": "3"})
        s.set_experiment_tag("life", "n", None)
        self.assertEqual(s.get_experiment("life").tags, {"owner": "ana"})
        s.rename_experiment(e, "life2")
        self.assertEqual(s.get_experiment(e.id).name, "life2")
        s.delete_experiment(e.id)
        self.assertEqual(s.get_experiment(e.id).lifecycle_stage, "deleted")
        self.assertEqual(s.list_experiments(), [])
        self.assertEqual([x.id for x in s.list_experiments(include_deleted=True)], [e.id])
        s.restore_experiment(e.id)
        self.assertEqual(s.get_experiment(e.id).lifecycle_stage, "active")

    # ---- runs -------------------------------------------------------------

    def test_run_context_manager_finished(self):
        s = self.store
        with s.start_run("ctx", run_name="first", tags={"team": "cv", "n": 1}) as run:
            self.assertIsInstance(run, mlops.Run)
            self.assertRegex(run.id, r"^[0-9a-f]{32}$")
            self.assertEqual(run.run_id, run.id)
            info = s.get_run(run.id)
            self.assertEqual(info.status, "RUNNING")
            self.assertIsNone(info.end_time)
            run.log_metric("loss", 0.5)
        self.assertTrue(run.closed)
        info = s.get_run(run.id)
        self.assertIsInstance(info, mlops.RunInfo)
        self.assertEqual(info.id, run.id)
        self.assertEqual(info.experiment_id, s.get_experiment("ctx").id)  # created by name
        self.assertEqual(info.run_name, "first")
        self.assertEqual(info.status, "FINISHED")
        self.assertEqual(info.lifecycle_stage, "active")
        self.assertGreater(info.start_time, 0)
        self.assertGreaterEqual(info.end_time, info.start_time)
        self.assertEqual(info.tags, {"team": "cv", "n": "1"})
        self.assertEqual(info.metrics, {"loss": 0.5})
        self.assertIsNone(info.parent_run_id)

    def test_run_context_manager_failed(self):
        s = self.store
        with self.assertRaises(ZeroDivisionError):
            with s.start_run("ctx") as run:
                run.log_param("p", "1")
                1 / 0
        info = s.get_run(run.id)
        self.assertEqual(info.status, "FAILED")
        self.assertIsNotNone(info.end_time)
        self.assertEqual(info.params, {"p": "1"})

    def test_end_inside_block_is_kept(self):
        s = self.store
        with s.start_run("ctx") as run:
            run.end("killed")
            self.assertTrue(run.ended)
        self.assertEqual(s.get_run(run.id).status, "KILLED")

    def test_start_run_experiment_forms(self):
        s = self.store
        e = s.create_experiment("forms")
        ids = set()
        for ref in (e, e.id, int(e.id), "forms"):
            with s.start_run(ref) as run:
                ids.add(s.get_run(run.id).experiment_id)
        self.assertEqual(ids, {e.id})
        with self.assertRaises(mlops.NotFoundError):
            s.start_run(12345)  # an int is an id: never created
        with self.assertRaises(TypeError):
            s.start_run(1.5)
        with s.start_run("brand-new") as run:
            pass
        self.assertEqual(s.get_experiment("brand-new").id, s.get_run(run.id).experiment_id)

    def test_run_name_generated_and_nested(self):
        s = self.store
        with s.start_run("nest") as parent:
            with s.start_run("nest", run_name="child", parent=parent) as child:
                pass
            with s.start_run("nest", parent=parent.id) as child2:
                pass
        self.assertTrue(s.get_run(parent.id).run_name)
        self.assertEqual(s.get_run(child.id).parent_run_id, parent.id)
        self.assertEqual(s.get_run(child2.id).parent_run_id, parent.id)
        with self.assertRaises(mlops.NotFoundError):
            s.start_run("nest", parent="0" * 32)

    def test_params(self):
        s = self.store
        with s.start_run("p") as run:
            run.log_param("lr", 0.01)
            run.log_params({"epochs": 3, "opt": "adam", "path/with.dots-and_dash": "x"})
            run.log_param("lr", "0.01")  # same value again: fine
            with self.assertRaises(mlops.ConflictError):
                run.log_param("lr", 0.02)
            for bad in ["", "../x", "a/../b", "/lead", "k" * 251, "bad!char", "nul\x00"]:
                with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                    run.log_param(bad, 1)
            run.log_param("k" * 250, "ok")
            run.log_param("long", "v" * 6000)
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_param("toolong", "v" * 6001)
            with self.assertRaises(ValueError):  # InvalidArgumentError is a ValueError
                run.log_param("", 1)
        p = s.get_run(run.id).params
        self.assertEqual(p["lr"], "0.01")
        self.assertEqual(p["epochs"], "3")
        self.assertEqual(p["opt"], "adam")
        self.assertEqual(p["k" * 250], "ok")
        self.assertEqual(len(p["long"]), 6000)
        self.assertNotIn("toolong", p)

    def test_tags(self):
        s = self.store
        with s.start_run("t", tags={"a": "1"}) as run:
            run.set_tag("b", 2)
            run.set_tags({"c": "3", "a": "one"})
            run.delete_tag("c")
            run.set_tag("big", "x" * 8000)
            with self.assertRaises(mlops.InvalidArgumentError):
                run.set_tag("huge", "x" * 8001)
            with self.assertRaises(mlops.InvalidArgumentError):
                run.set_tag("..", "x")
        tags = s.get_run(run.id).tags
        self.assertEqual(tags["a"], "one")
        self.assertEqual(tags["b"], "2")
        self.assertNotIn("c", tags)
        self.assertNotIn("huge", tags)
        self.assertEqual(len(tags["big"]), 8000)

    def test_metrics_round_trip(self):
        s = self.store
        with s.start_run("m") as run:
            run.log_metric("loss", 1.0)                       # step 0, now
            run.log_metric("loss", 0.5, step=1, timestamp=1000)
            run.log_metric("loss", 0.25, step=2, timestamp=2000)
            run.log_metrics({"acc": 0.9, "f1": 0.8}, step=7)
            run.log_metrics({"acc": 0.95}, step=8, timestamp=5)
            run.flush()
            info = s.get_run(run.id)
            self.assertEqual(info.metrics, {"loss": 0.25, "acc": 0.95, "f1": 0.8})
            self.assertEqual(info.latest["acc"], mlops.Metric("acc", 0.95, 8, 5))
        h = self.history(run.id, "loss")
        self.assertEqual([(st, v) for st, _, v in h], [(0, 1.0), (1, 0.5), (2, 0.25)])
        self.assertEqual([ts for _, ts, _ in h][1:], [1000, 2000])
        self.assertGreater(h[0][1], 1_500_000_000_000)  # "now" in ms
        acc = self.history(run.id, "acc")
        f1 = self.history(run.id, "f1")
        self.assertEqual(acc[0][1], f1[0][1])  # log_metrics: one timestamp for all
        self.assertEqual(acc[1], (8, 5, 0.95))
        self.assertEqual(s.metric_keys(run.id), ["acc", "f1", "loss"])
        self.assertEqual(self.history(run.id, "never-logged"), [])
        self.assertIsInstance(h[0][0], int)
        self.assertIsInstance(h[0][2], float)

    def test_metric_bad_input(self):
        s = self.store
        with s.start_run("bad") as run:
            for bad in ["", "../up", "/root", "a" * 251, "sp\tace"]:
                with self.assertRaises(mlops.InvalidArgumentError, msg=repr(bad)):
                    run.log_metric(bad, 1.0)
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_metric("x", 1.0, timestamp=-5)
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_metric("x", 1.0, step=1 << 63)
            with self.assertRaises(TypeError):
                run.log_metric("x", 1.0, step=1.5)
            with self.assertRaises((TypeError, ValueError)):
                run.log_metric("x", "not a number")
        self.assertEqual(s.metric_keys(run.id), [])

    def test_special_values_bit_exact(self):
        s = self.store
        with s.start_run("special") as run:
            for i, v in enumerate(SPECIAL):
                run.log_metric("one", v, step=i)
            run.log_metric_batch("batch", array.array("d", SPECIAL), array.array("q", range(len(SPECIAL))))
            run.log_metric_batch("list", list(SPECIAL), list(range(len(SPECIAL))))
        for key in ("one", "batch", "list"):
            got = [v for _, _, v in self.history(run.id, key)]
            self.assertEqual([bits(v) for v in got], [bits(v) for v in SPECIAL], key)
        latest = s.get_run(run.id).metrics["one"]
        self.assertEqual(bits(latest), bits(SPECIAL[-1]))

    def test_special_values_numpy_history(self):
        if not HAVE_NUMPY:
            self.skipTest("numpy not importable")
        s = self.store
        with s.start_run("special-np") as run:
            run.log_metric_batch("k", np.array(SPECIAL), np.arange(len(SPECIAL), dtype=np.int64))
        steps, ts, vals = s.metric_history(run.id, "k")
        self.assertEqual(vals.dtype, np.float64)
        self.assertEqual(vals.tobytes(), struct.pack("<%dd" % len(SPECIAL), *SPECIAL))

    # ---- batch logging and zero copy -------------------------------------------

    def test_batch_buffers_are_not_copied(self):
        s = self.store
        n = 1000
        vals = array.array("d", (i * 0.5 for i in range(n)))
        steps = array.array("q", range(n))
        ts = array.array("q", (10_000 + i for i in range(n)))
        spy = BatchSpy()
        with s.start_run("zc") as run, spy.patch():
            run.log_metric_batch("a", vals, steps, ts)
            # a memoryview cast over a bytearray, and a read-only buffer
            raw = bytearray(struct.pack("<3d", 1.0, 2.0, 3.0))
            ro = bytes(struct.pack("<3q", 100, 101, 102))
            run.log_metric_batch("b", memoryview(raw).cast("d"), memoryview(ro).cast("q"))
        self.assertEqual(spy.calls[0], (vals.buffer_info()[0], steps.buffer_info()[0],
                                        ts.buffer_info()[0], n))
        raw_addr = ctypes.addressof((ctypes.c_char * len(raw)).from_buffer(raw))
        self.assertEqual(spy.calls[1][0], raw_addr)
        self.assertEqual(spy.calls[1][1], ctypes.cast(ctypes.c_char_p(ro), ctypes.c_void_p).value)
        h = self.history(run.id, "a")
        self.assertEqual(len(h), n)
        self.assertEqual(h[10], (10, 10_010, 5.0))
        self.assertEqual([(st, v) for st, _, v in self.history(run.id, "b")],
                         [(100, 1.0), (101, 2.0), (102, 3.0)])

    def test_batch_conversions_and_errors(self):
        s = self.store
        with s.start_run("conv") as run:
            run.log_metric_batch("ints", [1, 2, 3], (0, 1, 2))             # lists, tuples: copied
            run.log_metric_batch("f32", array.array("f", [0.5, 1.5]), array.array("i", [4, 5]))
            run.log_metric_batch("empty", [], [])
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_metric_batch("x", [1.0, 2.0], [1])
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_metric_batch("x", [1.0], [1], [1, 2])
            with self.assertRaises(TypeError):
                run.log_metric_batch("x", [1.0], [1.5])
            with self.assertRaises(TypeError):
                run.log_metric_batch("x", b"abc", [1, 2, 3])
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_metric_batch("x", [1.0], [1], [-7])
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_metric_batch("../x", [1.0], [1])
        self.assertEqual([(st, v) for st, _, v in self.history(run.id, "ints")], [(0, 1.0), (1, 2.0), (2, 3.0)])
        self.assertEqual([(st, v) for st, _, v in self.history(run.id, "f32")], [(4, 0.5), (5, 1.5)])
        self.assertNotIn("x", s.metric_keys(run.id))
        self.assertNotIn("empty", s.metric_keys(run.id))

    @needs_numpy
    def test_numpy_zero_copy_and_conversions(self):
        s = self.store
        n = 10_000
        vals = np.linspace(0.0, 1.0, n)
        steps = np.arange(n, dtype=np.int64)
        ts = np.full(n, 42, dtype=np.int64)
        spy = BatchSpy()
        with s.start_run("np") as run, spy.patch():
            run.log_metric_batch("v", vals, steps, ts)
            strided = np.arange(20, dtype=np.float64)[::2]           # not contiguous: copied
            run.log_metric_batch("strided", strided, np.arange(10, dtype=np.int32))  # int32: converted
            run.log_metric_batch("ro", np.frombuffer(vals[:5].tobytes()), np.arange(5))  # read-only
            with self.assertRaises(TypeError):
                run.log_metric_batch("bad", np.ones(2), np.ones(2))  # float steps refused
        self.assertEqual(spy.calls[0], (vals.ctypes.data, steps.ctypes.data, ts.ctypes.data, n))
        steps_out, ts_out, vals_out = s.metric_history(run.id, "v")
        self.assertIsInstance(vals_out, np.ndarray)
        self.assertEqual((steps_out.dtype, ts_out.dtype, vals_out.dtype), (np.int64, np.int64, np.float64))
        self.assertTrue(np.array_equal(vals_out, vals))
        self.assertTrue(np.array_equal(steps_out, steps))
        self.assertTrue((ts_out == 42).all())
        _, _, sv = s.metric_history(run.id, "strided")
        self.assertEqual(sv.tolist(), list(range(0, 20, 2)))
        self.assertEqual(s.metric_history(run.id, "ro")[2].tolist(), vals[:5].tolist())
        as_list = s.metric_history(run.id, "strided", as_numpy=False)
        self.assertEqual(as_list[1][0], 1)
        e = s.metric_history(run.id, "nothing")
        self.assertEqual([len(a) for a in e], [0, 0, 0])

    def test_history_ranges_and_downsampling(self):
        s = self.store
        n = 1000
        with s.start_run("range") as run:
            run.log_metric_batch("k", [float(i) for i in range(n)], list(range(n)))
        self.assertEqual([st for st, _, _ in self.history(run.id, "k", min_step=10, max_step=14)],
                         [10, 11, 12, 13, 14])
        d = self.history(run.id, "k", max_points=50)
        self.assertLessEqual(len(d), 50)
        self.assertGreaterEqual(len(d), 2)
        self.assertEqual(d[0][0], 0)
        self.assertEqual(d[-1][0], n - 1)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.history(run.id, "k", max_points=-1)

    def test_history_is_in_step_order(self):
        s = self.store
        with s.start_run("order") as run:
            for st in (5, 1, 3):
                run.log_metric("k", float(st), step=st, timestamp=1)
        self.assertEqual(self.history(run.id, "k"), [(1, 1, 1.0), (3, 1, 3.0), (5, 1, 5.0)])

    # ---- lifecycle, resume, errors ---------------------------------------------

    def test_resume_and_end(self):
        s = self.store
        run = s.start_run("resume")
        run.log_metric("k", 1.0, step=1)
        run.close()  # no end: the run stays RUNNING (the handle flushed)
        self.assertEqual(s.get_run(run.id).status, "RUNNING")
        with s.resume_run(run.id) as again:
            self.assertEqual(again.id, run.id)
            again.log_metric("k", 2.0, step=2)
        self.assertEqual(s.get_run(run.id).status, "FINISHED")
        self.assertEqual([v for _, _, v in self.history(run.id, "k")], [1.0, 2.0])
        with self.assertRaises(mlops.NotFoundError):
            s.resume_run("f" * 32)
        ended = s.resume_run(run.id)  # an ended run reopens, but refuses logging
        with self.assertRaises(mlops.InvalidArgumentError):
            ended.log_metric("k", 3.0)
        ended.close()

    def test_end_errors(self):
        s = self.store
        run = s.start_run("end")
        with self.assertRaises(mlops.InvalidArgumentError):
            run.end("BOGUS")
        with self.assertRaises(mlops.InvalidArgumentError):
            run.end("RUNNING")
        run.end()
        with self.assertRaises(mlops.InvalidArgumentError):
            run.end()
        with self.assertRaises(mlops.InvalidArgumentError):
            run.log_metric("k", 1.0)
        with self.assertRaises(mlops.InvalidArgumentError):
            run.log_param("k", 1)
        info = run.info()
        self.assertEqual(info.status, "FINISHED")
        run.close()
        run.close()  # idempotent
        with self.assertRaises(mlops.InvalidArgumentError):
            run.log_metric("k", 1.0)

    def test_unknown_runs(self):
        s = self.store
        for fn in (s.get_run, s.metric_keys, s.delete_run, s.resume_run):
            with self.assertRaises(mlops.NotFoundError, msg=fn.__name__):
                fn("0123456789abcdef0123456789abcdef")
        with self.assertRaises(mlops.NotFoundError):
            s.metric_history("0123456789abcdef0123456789abcdef", "k")
        with self.assertRaises((mlops.InvalidArgumentError, mlops.NotFoundError)):
            s.get_run("not-a-run-id")
        with self.assertRaises(mlops.InvalidArgumentError):
            s.get_run("bad\x00id")

    def test_delete_restore_run(self):
        s = self.store
        with s.start_run("del") as run:
            pass
        s.delete_run(run.id)
        self.assertEqual(s.get_run(run.id).lifecycle_stage, "deleted")
        self.assertEqual(s.search_runs("del"), [])
        self.assertEqual(len(s.search_runs("del", include_deleted=True)), 1)
        s.restore_run(run)
        self.assertEqual(s.get_run(run.id).lifecycle_stage, "active")

    def test_closed_store_closes_runs(self):
        run = self.store.start_run("closing")
        run.log_metric("k", 1.0)
        self.store.close()
        self.assertTrue(run.closed)
        with self.assertRaises(mlops.InvalidArgumentError):
            run.log_metric("k", 2.0)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.store.get_run(run.id)

    def test_threads_share_a_run(self):
        s = self.store
        nthreads, per = 4, 5000
        with s.start_run("threads") as run:
            def work(t):
                for chunk in range(0, per, 500):
                    steps = array.array("q", range(t * per + chunk, t * per + chunk + 500))
                    run.log_metric_batch("k", array.array("d", (float(x) for x in steps)), steps)
            threads = [threading.Thread(target=work, args=(t,)) for t in range(nthreads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        h = self.history(run.id, "k")
        self.assertEqual(len(h), nthreads * per)
        self.assertEqual([st for st, _, _ in h], list(range(nthreads * per)))
        self.assertTrue(all(float(st) == v for st, _, v in h))

    # ---- artifacts ----------------------------------------------------------------

    def test_artifacts(self):
        s = self.store
        src = tempfile.mkdtemp(prefix="mlops-art-")
        self.addCleanup(shutil.rmtree, src, True)
        f = os.path.join(src, "model.bin")
        data = os.urandom(5000)
        with open(f, "wb") as fh:
            fh.write(data)
        d = os.path.join(src, "dir")
        os.makedirs(os.path.join(d, "sub"))
        for rel, content in (("a.txt", b"a"), ("sub/b.txt", b"bb")):
            with open(os.path.join(d, rel), "wb") as fh:
                fh.write(content)
        with s.start_run("art") as run:
            oid = run.log_artifact(f)
            self.assertEqual(oid, hashlib.sha256(data).hexdigest())
            self.assertEqual(run.log_artifact(f, "weights/final.bin"), oid)
            dir_id = run.log_artifact(d, "tree")
            self.assertRegex(dir_id, r"^[0-9a-f]{64}$")
            with self.assertRaises(mlops.NotFoundError):
                run.log_artifact(os.path.join(src, "missing"))
            with self.assertRaises(mlops.InvalidArgumentError):
                run.log_artifact(f, "../escape")
        arts = {a.name: a for a in s.get_run(run.id).artifacts}
        self.assertEqual(arts["model.bin"].id, oid)
        self.assertEqual(arts["model.bin"].size, 5000)
        self.assertEqual(arts["weights/final.bin"].id, oid)
        self.assertTrue(any(n.startswith("tree") for n in arts), sorted(arts))
        self.assertEqual(s.get(oid), data)

    # ---- search -------------------------------------------------------------------

    def make_runs(self):
        s = self.store
        ids = {}
        for i, (lr, acc) in enumerate([("0.1", 0.7), ("0.01", 0.9), ("0.001", 0.95), ("0.01", 0.5)]):
            with s.start_run("search", run_name="r%d" % i, tags={"kind": "a" if i % 2 else "b"}) as run:
                run.log_param("lr", lr)
                run.log_metric("acc", acc)
            ids["r%d" % i] = run.id
        with s.start_run("other", run_name="o") as run:
            run.log_metric("acc", 0.99)
        ids["o"] = run.id
        return ids

    def test_search(self):
        s = self.store
        ids = self.make_runs()
        res = s.search_runs("search", "metrics.acc > 0.6 and params.lr = '0.01'")
        self.assertIsInstance(res, mlops.RunList)
        self.assertEqual([r.id for r in res], [ids["r1"]])
        self.assertIsInstance(res[0], mlops.RunInfo)
        res = s.search_runs("search", order_by=["metrics.acc DESC"])
        self.assertEqual([r.run_name for r in res], ["r2", "r1", "r0", "r3"])
        res = s.search_runs(["search", "other"], "metrics.acc >= 0.9", order_by="metrics.acc ASC")
        self.assertEqual([r.run_name for r in res], ["r1", "r2", "o"])
        res = s.search_runs(s.get_experiment("search"), "tags.kind = 'a'", order_by=["attributes.run_name"])
        self.assertEqual([r.run_name for r in res], ["r1", "r3"])
        res = s.search_runs("search", "params.lr LIKE '0.0%'", order_by=["params.lr DESC"])
        self.assertEqual(len(res), 3)
        self.assertEqual(s.search_runs("search", "metrics.missing > 0"), [])
        res = s.search_runs("search", "attributes.run_id IN ('%s', '%s')" % (ids["r0"], ids["r3"]))
        self.assertEqual({r.id for r in res}, {ids["r0"], ids["r3"]})
        res = s.search_runs("search", "attributes.status = 'FINISHED'")
        self.assertEqual(len(res), 4)

    def test_search_paging(self):
        s = self.store
        self.make_runs()
        seen = []
        page = s.search_runs("search", order_by=["metrics.acc ASC"], max_results=3)
        self.assertEqual(len(page), 3)
        self.assertIsNotNone(page.token)
        seen += [r.run_name for r in page]
        page = s.search_runs("search", order_by=["metrics.acc ASC"], max_results=3, page_token=page.token)
        seen += [r.run_name for r in page]
        self.assertIsNone(page.token)
        self.assertEqual(seen, ["r3", "r0", "r1", "r2"])

    def test_search_errors(self):
        s = self.store
        self.make_runs()
        with self.assertRaises(mlops.InvalidArgumentError) as cm:
            s.search_runs("search", "metrics.acc >> 1")
        self.assertIn(">", str(cm.exception))
        with self.assertRaises(mlops.InvalidArgumentError) as cm:
            s.search_runs("search", "bogus.acc = 1")
        self.assertIn("bogus", str(cm.exception))
        with self.assertRaises(mlops.InvalidArgumentError):
            s.search_runs("search", order_by=["nonsense.x"])
        with self.assertRaises(mlops.InvalidArgumentError):
            s.search_runs("search", max_results=0)
        with self.assertRaises(mlops.InvalidArgumentError):
            s.search_runs([])
        with self.assertRaises(mlops.NotFoundError):
            s.search_runs("no-such-experiment")

    # ---- export ---------------------------------------------------------------------

    def test_exports(self):
        s = self.store
        out = tempfile.mkdtemp(prefix="mlops-export-")
        self.addCleanup(shutil.rmtree, out, True)
        with s.start_run("exp", run_name="r") as run:
            run.log_param("lr", "0.1")
            run.set_tag("t", "v")
            run.log_metric("loss", 0.5, step=1, timestamp=1234)
            run.log_metric("loss", 0.25, step=2, timestamp=1235)
        exp_id = s.get_experiment("exp").id

        mlruns = os.path.join(out, "mlruns")
        s.export_mlflow(mlruns)
        rundir = os.path.join(mlruns, exp_id, run.id)
        self.assertTrue(os.path.isfile(os.path.join(mlruns, exp_id, "meta.yaml")))
        with open(os.path.join(rundir, "meta.yaml")) as fh:
            meta = fh.read()
        self.assertIn(run.id, meta)
        with open(os.path.join(rundir, "metrics", "loss")) as fh:
            self.assertEqual(fh.read().split("\n")[:2], ["1234 0.5 1", "1235 0.25 2"])
        with open(os.path.join(rundir, "params", "lr")) as fh:
            self.assertEqual(fh.read(), "0.1")
        mlruns2 = os.path.join(out, "only")
        s.export_mlflow(mlruns2, experiments=["exp"])
        self.assertTrue(os.path.isdir(os.path.join(mlruns2, exp_id, run.id)))

        tb = os.path.join(out, "tb")
        s.export_tensorboard(run.id, tb)
        events = glob.glob(os.path.join(tb, "events.out.tfevents.*"))
        self.assertEqual(len(events), 1, os.listdir(tb))
        with open(events[0], "rb") as fh:
            head = fh.read(64)
        self.assertIn(b"brain.Event:2", head)

        path = os.path.join(out, "m.csv")
        s.export_csv(run, path)
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        self.assertEqual(rows[0], ["key", "step", "timestamp", "value"])
        self.assertEqual([(r[0], r[1], r[2], float(r[3])) for r in rows[1:]],
                         [("loss", "1", "1234", 0.5), ("loss", "2", "1235", 0.25)])

        with self.assertRaises(mlops.NotFoundError):
            s.export_csv("0" * 32, path)


for_every_kind(TrackTests)


@needs_track
class TrackPersistenceTests(unittest.TestCase):
    """A directory store keeps experiments, runs and flushed points across opens."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-py-track-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_reopen(self):
        with mlops.Store(self.dir) as s:
            with s.start_run("persist", run_name="r", tags={"a": "b"}) as run:
                run.log_param("p", "v")
                run.log_metric_batch("k", array.array("d", SPECIAL), array.array("q", range(len(SPECIAL))))
            open_run = s.start_run("persist")
            open_run.log_metric("x", 1.0)
            open_run.flush()
            open_run.close()
        with mlops.Store(self.dir, create=False) as s:
            info = s.get_run(run.id)
            self.assertEqual((info.status, info.params, info.tags), ("FINISHED", {"p": "v"}, {"a": "b"}))
            got = [v for _, _, v in s.metric_history(run.id, "k", as_numpy=False)]
            self.assertEqual([bits(v) for v in got], [bits(v) for v in SPECIAL])
            self.assertEqual(s.get_run(open_run.id).status, "RUNNING")
            with s.resume_run(open_run.id) as r:
                r.log_metric("x", 2.0, step=1)
            self.assertEqual(s.get_run(open_run.id).status, "FINISHED")
            self.assertEqual(len(s.metric_history(open_run.id, "x", as_numpy=False)), 2)
            self.assertEqual([e.name for e in s.list_experiments()], ["persist"])
            self.assertTrue(s.verify().ok)


class TestOptionalDeclaration(unittest.TestCase):
    """_lib declares the tracking functions only when the library has them."""

    class Fn:
        restype = argtypes = None

    def fake(self, names):
        lib = type("FakeLib", (), {})()
        for n in names:
            setattr(lib, n, self.Fn())
        return lib

    def test_modules(self):
        core = [e[0] for e in _lib._FUNCTIONS if len(e) == 3]
        track = [e[0] for e in _lib._FUNCTIONS if len(e) > 3 and e[3] == "track"]
        self.assertIn("mlops_run_log_metric_batch", track)
        lib = self.fake(core)
        _lib._declare(lib)
        self.assertEqual(lib._mlops_modules, set())
        lib = self.fake(core + track)
        _lib._declare(lib)
        self.assertEqual(lib._mlops_modules, {"track"})
        self.assertEqual(lib.mlops_run_log_metric.argtypes[2], ctypes.c_double)
        lib = self.fake(core + ["mlops_run_start"])  # half a module: absent, and says why
        _lib._declare(lib)
        self.assertEqual(lib._mlops_modules, set())
        self.assertIn("mlops_run_end", lib._mlops_missing["track"])
        with self.assertRaises(AttributeError):  # a missing core function is fatal
            _lib._declare(self.fake(core[1:]))


@unittest.skipIf(HAVE_TRACK, "the library has tracking")
class TestWithoutTracking(unittest.TestCase):
    """Against a library built without tracking: import works, calls explain."""

    def test_unsupported(self):
        with mlops.Store.memory() as s:
            with self.assertRaises(mlops.UnsupportedError) as cm:
                s.start_run("x")
            self.assertIn("-Dtrack=true", str(cm.exception))
            with self.assertRaises(mlops.UnsupportedError):
                s.list_experiments()
            with self.assertRaises(mlops.UnsupportedError):
                s.get_run("0" * 32)


if __name__ == "__main__":
    unittest.main()
