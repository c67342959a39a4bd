"""In-tree PEP 517 build backend for the pure-Python ``mlops`` package.

Why not setuptools: with build isolation pip would download setuptools (and,
for setuptools < 70.1, wheel) from an index, so ``pip install
./bindings/python`` would fail on an offline machine; Debian's own Python
also ships no ``wheel``. The package is pure Python, so a wheel is just a zip
with three metadata files — written here with the standard library only, and
``requires = []`` needs nothing from anywhere.

At build time it records where the C library is installed, if pkg-config
knows (``pkg-config --variable=libdir libmlops``) or ``MLOPS_LIBDIR`` says,
in ``mlops/_config.py``; the loader tries that directory before asking the
dynamic linker.
"""

import base64
import hashlib
import io
import os
import re
import subprocess
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "mlops"


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    try:
        import tomllib
        return tomllib.loads(text)["project"]
    except ImportError:  # Python < 3.11: the few keys used below
        section = text.split("[project]", 1)[1].split("\n[", 1)[0]
        return {k: v for k, v in re.findall(r'^(\w[\w-]*)\s*=\s*"([^"]*)"', section, re.M)}


def _names():
    p = _project()
    return p, p["name"], p["version"], re.sub(r"[-_.]+", "_", p["name"])


def _metadata(p):
    lines = ["Metadata-Version: 2.1", "Name: %s" % p["name"], "Version: %s" % p["version"]]
    if p.get("description"):
        lines.append("Summary: %s" % p["description"])
    if p.get("requires-python"):
        lines.append("Requires-Python: %s" % p["requires-python"])
    lines.append("License: MIT")
    lines.append("Provides-Extra: numpy")
    lines.append("Requires-Dist: numpy; extra == \"numpy\"")
    lines.append("Description-Content-Type: text/markdown")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return "\n".join(lines) + "\n\n" + f.read()


def _libdirs():
    dirs = []
    if os.environ.get("MLOPS_LIBDIR"):
        dirs.append(os.environ["MLOPS_LIBDIR"])
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", "libmlops"], capture_output=True,
                             text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            dirs.append(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return dirs


def _package_files():
    pkg = os.path.join(ROOT, PACKAGE)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") and name != "_config.py":
            yield "%s/%s" % (PACKAGE, name), os.path.join(pkg, name)


class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.record = []

    def add(self, arcname, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.record.append("%s,sha256=%s,%d" % (arcname, digest, len(data)))

    def close(self, distinfo):
        self.record.append("%s/RECORD,," % distinfo)
        info = zipfile.ZipInfo("%s/RECORD" % distinfo, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, "\n".join(self.record) + "\n")
        self.zip.close()


def _build(wheel_directory, editable):
    p, name, version, dist = _names()
    filename = "%s-%s-py3-none-any.whl" % (dist, version)
    distinfo = "%s-%s.dist-info" % (dist, version)
    w = _Wheel(os.path.join(wheel_directory, filename))
    if editable:
        w.add("%s.pth" % dist, ROOT + "\n")
    else:
        for arcname, path in _package_files():
            with open(path, "rb") as f:
                w.add(arcname, f.read())
        w.add("%s/_config.py" % PACKAGE,
              "# Written by the build backend: where libmlops was installed.\nLIBDIRS = %r\n"
              % (_libdirs(),))
    w.add("%s/METADATA" % distinfo, _metadata(p))
    w.add("%s/WHEEL" % distinfo,
          "Wheel-Version: 1.0\nGenerator: mlops_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    w.add("%s/top_level.txt" % distinfo, PACKAGE + "\n")
    w.close(distinfo)
    return filename


# ---- PEP 517 / PEP 660 hooks ------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    p, name, version, dist = _names()
    base = "%s-%s" % (dist, version)
    filename = base + ".tar.gz"
    files = ["pyproject.toml", "README.md", "_build/mlops_build.py"]
    files += [arc for arc, _ in _package_files()]
    tests = os.path.join(ROOT, "tests")
    if os.path.isdir(tests):
        files += ["tests/" + n for n in sorted(os.listdir(tests)) if n.endswith(".py")]
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel in files:
            with open(os.path.join(ROOT, rel), "rb") as f:
                data = f.read()
            info = tarfile.TarInfo("%s/%s" % (base, rel))
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        pkg_info = _metadata(p).encode("utf-8")
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        info.size = len(pkg_info)
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(pkg_info))
    return filename
