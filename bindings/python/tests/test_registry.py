"""The model registry through the Python binding (mlops/registry.py), over
directory stores in temporary directories.

Skipped when the loaded library was built without the registry
(meson -Dregistry=false).
"""

import hashlib
import os
import shutil
import tempfile
import unittest

import mlops
from mlops import _lib

HAVE_REGISTRY = _lib.has_function("mlops_registry_resolve")  # the module's probe
needs_registry = unittest.skipUnless(HAVE_REGISTRY, "libmlops built without the registry (-Dregistry=true)")


@needs_registry
class TestRegistry(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-py-registry-")
        self.store = mlops.Store(os.path.join(self.dir, "store"))
        self.reg = self.store.registry
        self.model_file = os.path.join(self.dir, "model.bin")
        self.model_bytes = b"weights " * 1000
        with open(self.model_file, "wb") as f:
            f.write(self.model_bytes)

    def tearDown(self):
        self.store.close()
        shutil.rmtree(self.dir)

    def test_models_create_get_list(self):
        m = self.reg.create_model("churn", description="gbm", tags={"team": "growth"})
        self.assertEqual((m.name, m.description, m.tags), ("churn", "gbm", {"team": "growth"}))
        self.assertEqual((m.versions, m.latest_version, m.next_version), (0, 0, 1))
        self.reg.create_model("churn-v2")
        self.reg.create_model("fraud")
        self.assertEqual([x.name for x in self.reg.list_models()], ["churn", "churn-v2", "fraud"])
        self.assertEqual([x.name for x in self.reg.list_models("churn")], ["churn", "churn-v2"])
        with self.assertRaises(mlops.AlreadyExistsError):
            self.reg.create_model("churn")
        for bad in ("", "a/b", "a:b", "50%", ".."):
            with self.assertRaises(mlops.InvalidArgumentError, msg=bad):
                self.reg.create_model(bad)
        with self.assertRaises(mlops.NotFoundError):
            self.reg.get_model("nope")

    def test_register_with_lineage_and_resolve(self):
        self.reg.create_model("churn")
        v1 = self.reg.register("churn", self.model_file, run_id="0123456789abcdef0123456789abcdef",
                               dataset="breast-cancer@1", description="first", tags={"algo": "lr"})
        self.assertEqual(v1.version, 1)
        self.assertEqual(v1.artifact_id, hashlib.sha256(self.model_bytes).hexdigest())
        self.assertEqual(v1.size, len(self.model_bytes))
        self.assertEqual(v1.run_id, "0123456789abcdef0123456789abcdef")
        self.assertEqual(v1.dataset, "breast-cancer@1")
        self.assertEqual((v1.stage, v1.status, v1.description), ("None", "READY", "first"))
        # by object id: the same artifact again is a new version
        v2 = self.reg.register("churn", v1.artifact_id)
        self.assertEqual((v2.version, v2.artifact_id, v2.run_id), (2, v1.artifact_id, None))
        self.assertEqual([v.version for v in self.reg.versions("churn")], [1, 2])
        self.reg.set_alias("churn", "production", 1)
        for ref in ("churn@production", "models:/churn@production", "churn/1", "models:/churn/1"):
            self.assertEqual(self.reg.resolve(ref).version, 1, ref)
        self.assertEqual(self.reg.resolve("churn@latest").version, 2)
        self.assertEqual(self.reg.get_version("churn", 1).aliases, ["production"])
        self.assertEqual(self.reg.get_model("churn").aliases, {"production": 1})
        dest = os.path.join(self.dir, "out", "model.bin")
        os.makedirs(os.path.dirname(dest))
        got = self.reg.download("models:/churn@production", dest)
        self.assertEqual(got.version, 1)
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), self.model_bytes)

    def test_aliases_and_stages(self):
        self.reg.create_model("m")
        for _ in range(3):
            self.reg.register("m", self.model_file)
        self.reg.set_alias("m", "champion", 1)
        self.reg.set_alias("m", "champion", 3)  # moves
        self.assertEqual(self.reg.resolve("m@champion").version, 3)
        for bad in ("latest", "LATEST", "v1", "V12", "bad alias", "a/b"):
            with self.assertRaises(mlops.InvalidArgumentError, msg=bad):
                self.reg.set_alias("m", bad, 1)
        with self.assertRaises(mlops.NotFoundError):
            self.reg.set_alias("m", "x", 99)
        self.reg.transition_stage("m", 1, "production")
        self.reg.transition_stage("m", 2, "Production")
        v3 = self.reg.transition_stage("m", 3, "PRODUCTION", archive_existing=True)
        self.assertEqual(v3.stage, "Production")
        self.assertEqual([v.stage for v in self.reg.versions("m")], ["Archived", "Archived", "Production"])
        self.assertEqual(self.reg.resolve("m/production").version, 3)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.reg.transition_stage("m", 1, "Shipping")
        with self.assertRaises(mlops.InvalidArgumentError):
            self.reg.transition_stage("m", 1, "Archived", archive_existing=True)
        self.assertEqual(self.reg.parse_stage("staging"), "Staging")
        # deleting a version takes its aliases; its number is never reused
        self.reg.delete_version("m", 3)
        with self.assertRaises(mlops.NotFoundError):
            self.reg.resolve("m@champion")
        self.assertEqual(self.reg.register("m", self.model_file).version, 4)

    def test_history(self):
        self.reg.create_model("m")
        self.reg.register("m", self.model_file, user="alice")
        self.reg.set_alias("m", "production", 1)
        self.reg.transition_stage("m", 1, "Staging")
        self.reg.delete_alias("m", "production")
        kinds = [e.kind for e in self.reg.history("m")]
        self.assertEqual(kinds, ["model_created", "version_registered", "alias_set", "stage_changed",
                                 "alias_deleted"])
        h = self.reg.history("m")
        self.assertEqual((h[1].version, h[1].user), (1, "alice"))
        self.assertEqual((h[2].alias, h[2].version), ("production", 1))
        self.assertEqual((h[3].from_stage, h[3].to_stage), ("None", "Staging"))
        self.assertTrue(all(a.time <= b.time for a, b in zip(h, h[1:])))

    def test_bad_input_changes_nothing(self):
        self.reg.create_model("m")
        self.reg.register("m", self.model_file)
        before = self.reg.get_model("m").state
        with self.assertRaises(mlops.NotFoundError):
            self.reg.register("m", "0" * 64)  # not in the store
        with self.assertRaises(mlops.NotFoundError):
            self.reg.register("nope", self.model_file)
        with self.assertRaises(mlops.NotFoundError):
            self.reg.get_version("m", 7)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.reg.get_version("m", 0)
        with self.assertRaises(mlops.InvalidArgumentError):
            self.reg.delete_model("m")  # live versions, no force
        self.assertEqual(self.reg.get_model("m").state, before)
        self.reg.delete_model("m", force=True)
        with self.assertRaises(mlops.NotFoundError):
            self.reg.get_model("m")

    def test_export_mlflow_reads_back_as_mlflow_expects(self):
        try:
            import yaml  # MLflow reads meta.yaml with PyYAML's safe loader
        except ImportError:
            self.skipTest("PyYAML not installed")
        self.reg.create_model("churn", description="gbm: 'v2'", tags={"team": "growth"})
        v = self.reg.register("churn", self.model_file, run_id="00000000000000000000000000000123",
                              user="alice")
        self.reg.set_alias("churn", "champion", v.version)
        self.reg.transition_stage("churn", v.version, "Staging")
        dest = os.path.join(self.dir, "mlruns")
        self.reg.export_mlflow(dest)
        root = os.path.join(dest, "models", "churn")
        with open(os.path.join(root, "meta.yaml")) as f:
            meta = yaml.safe_load(f)
        self.assertEqual(meta["name"], "churn")
        self.assertEqual(meta["description"], "gbm: 'v2'")
        self.assertEqual(meta["aliases"], {"champion": "1"})
        self.assertIsInstance(meta["creation_timestamp"], int)
        with open(os.path.join(root, "version-1", "meta.yaml")) as f:
            vm = yaml.safe_load(f)
        self.assertEqual(vm["version"], 1)  # an int: MLflow computes max + 1
        self.assertEqual(vm["current_stage"], "Staging")
        self.assertEqual(vm["run_id"], "00000000000000000000000000000123")  # a string, not a number
        self.assertEqual((vm["status"], vm["user_id"], vm["description"]), ("READY", "alice", None))
        self.assertTrue(vm["source"].startswith("file://"))
        artifact = vm["source"][len("file://"):]
        with open(artifact, "rb") as f:
            self.assertEqual(f.read(), self.model_bytes)
        with open(os.path.join(root, "aliases", "champion")) as f:
            self.assertEqual(f.read(), "1")
        with open(os.path.join(root, "tags", "team")) as f:
            self.assertEqual(f.read(), "growth")
        with self.assertRaises(mlops.NotFoundError):
            self.reg.export_mlflow(dest, ["nope"])


if __name__ == "__main__":
    unittest.main()
