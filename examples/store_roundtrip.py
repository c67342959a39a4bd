#!/usr/bin/env python3
"""store_roundtrip.py: store a file in a libmlops store, print its id, point a
ref at it, restore it to another path and check that the bytes are equal.

    python3 examples/store_roundtrip.py [FILE [STORE_DIR [RESTORED_PATH]]]

From a source tree, without installing:
    PYTHONPATH=bindings/python LIBMLOPS_LIBRARY=build/libmlops.so \
        python3 examples/store_roundtrip.py
"""
import filecmp
import hashlib
import os
import sys

import mlops

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    src = argv[1] if len(argv) > 1 else os.path.join(HERE, "data", "breast_cancer.csv")
    store_dir = argv[2] if len(argv) > 2 else "mlops-example-store"
    restored = argv[3] if len(argv) > 3 else "breast_cancer.restored.csv"
    ref = "examples/breast_cancer"

    with mlops.Store(store_dir) as store:
        oid = store.put_file(src)
        with open(src, "rb") as f:
            assert oid == hashlib.sha256(f.read()).hexdigest()  # the id is the SHA-256
        print(f"stored {src}\nid {oid}")

        # Compare-and-swap: expected=None means "must not exist yet".
        try:
            old = store.refs.get(ref)
        except mlops.NotFoundError:
            old = None
        store.refs.set(ref, oid, expected=old)
        print(f"ref {ref} -> {oid}")

        store.get_file(store.refs.get(ref), restored)  # verified before it appears
    if not filecmp.cmp(src, restored, shallow=False):
        print(f"store_roundtrip.py: {restored} differs from {src}", file=sys.stderr)
        return 1
    print(f"restored {restored}: identical (libmlops {mlops.version()})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
