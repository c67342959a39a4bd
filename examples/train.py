"""A small training loop that versions its data and tracks itself with libmlops (the
Python twin of train.c).

Commits the directory holding the CSV as dataset "breast-cancer" (a rerun finds it
unchanged and reuses the version), checks that version out and trains on the copy:
logistic regression by batch gradient descent for three learning rates. Each training
is a run that logs its params (the dataset version among them), per-epoch loss and
validation accuracy, and the trained weights as an artifact; then a search with MLflow's
filter grammar finds the best run, whose model is registered in the model registry with
its lineage (run and dataset version) and aliased "production". Last, a "production"
sample (the held-out rows, three size features read half a standard deviation high, as
from a recalibrated imaging device) is checked for drift against the training rows: the
report is printed and stored, with a profile of the training data's mean radius.

    PYTHONPATH=bindings/python LIBMLOPS_LIBRARY=build/libmlops.so \\
        python3 examples/train.py [CSV [STORE_DIR]]

Pure Python (no numpy needed).
"""
import csv
import math
import os
import sys
import tempfile

import mlops

EPOCHS = 40


def load(path):
    """Column names, rows of standardised features and 0/1 targets (the last column)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    names, rows = rows[0], rows[1:]
    xs = [[float(v) for v in r[:-1]] for r in rows if r]
    ys = [int(float(r[-1])) for r in rows if r]
    for c in range(len(xs[0])):
        col = [x[c] for x in xs]
        mean = sum(col) / len(col)
        sd = math.sqrt(sum((v - mean) ** 2 for v in col) / len(col)) or 1.0
        for x in xs:
            x[c] = (x[c] - mean) / sd
    return names, xs, ys


def predict(w, x):
    z = w[-1] + sum(wi * xi for wi, xi in zip(w, x))
    return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def evaluate(w, xs, ys):
    loss, right = 0.0, 0
    for x, y in zip(xs, ys):
        p = predict(w, x)
        loss -= math.log(p + 1e-12) if y else math.log(1 - p + 1e-12)
        right += (p >= 0.5) == (y == 1)
    return loss / len(xs), right / len(xs)


def train(store, experiment, xs, ys, lr, dataset):
    split = len(xs) * 4 // 5
    with store.start_run(experiment, run_name=f"py-lr-{lr:g}",
                         tags={"mlops.dataset.id": dataset.id}) as run:
        run.log_params({"lr": f"{lr:g}", "epochs": EPOCHS, "dataset": dataset.ref})
        w = [0.0] * (len(xs[0]) + 1)
        for epoch in range(EPOCHS):
            grad = [0.0] * len(w)
            for x, y in zip(xs[:split], ys[:split]):
                err = predict(w, x) - y
                for c, xc in enumerate(x):
                    grad[c] += err * xc / split
                grad[-1] += err / split
            w = [wi - lr * g for wi, g in zip(w, grad)]
            loss, _ = evaluate(w, xs[:split], ys[:split])
            val_loss, val_acc = evaluate(w, xs[split:], ys[split:])
            run.log_metrics({"loss": loss, "val_loss": val_loss, "val_acc": val_acc}, step=epoch)
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "model.txt")
            with open(model, "w") as f:
                f.write("\n".join(repr(v) for v in w) + "\n")
            run.log_artifact(model, "model.txt")
    return run.id


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "data", "breast_cancer.csv")
    store_dir = sys.argv[2] if len(sys.argv) > 2 else "mlops-example-store"
    with mlops.Store(store_dir) as store:
        # Version the data: unchanged data makes no new version ("breast-cancer@N" again).
        data_dir = os.path.dirname(path)  # holds only the CSV and its README
        dataset = store.data.commit("breast-cancer", data_dir if data_dir not in ("", "/") else path,
                                    message="breast cancer table (examples/data)")
        print(f"dataset {dataset.ref} {dataset.id}")
        with tempfile.TemporaryDirectory() as tmp:  # train on exactly that version's bytes
            store.data.checkout(dataset, tmp, subpath=os.path.basename(path))
            names, xs, ys = load(os.path.join(tmp, os.path.basename(path)))
        print(f"training data: {len(xs)} rows, {len(xs[0])} features")
        experiment = store.get_or_create_experiment("breast-cancer-logreg-py")
        for lr in (0.05, 0.3, 1.0):
            train(store, experiment, xs, ys, lr, dataset)
        best = store.search_runs([experiment.id],
                                 filter="attributes.status = 'FINISHED' and metrics.val_acc > 0.5",
                                 order_by=["metrics.val_acc DESC", "metrics.val_loss ASC"],
                                 max_results=1)
        if not best:
            sys.exit("train.py: no finished run found")
        run = best[0]
        print(f"best run {run.id} ({run.run_name}): val_acc {run.metrics['val_acc']:.4f} "
              f"with lr {run.params['lr']}")
        # Register the best run's model with its lineage and put it in production.
        model = next(a for a in run.artifacts if a.name == "model.txt")
        try:
            store.registry.create_model("breast-cancer-logreg-py", description="logistic regression, train.py")
        except mlops.AlreadyExistsError:
            pass  # a rerun adds a version to the same model
        version = store.registry.register("breast-cancer-logreg-py", model.id, run_id=run.id, dataset=dataset)
        store.registry.set_alias(version.name, "production", version.version)
        served = store.registry.resolve("models:/breast-cancer-logreg-py@production")
        print(f"registered {served.ref} (run {served.run_id}, dataset {served.dataset}) as @production")
        check_drift(store, names, xs, ys)


SHIFTED = {0, 2, 3}  # mean radius, perimeter and area


def check_drift(store, names, xs, ys):
    """Production data (held-out rows, shifted) against the training rows."""
    split = len(xs) * 4 // 5
    label = {0: "malignant", 1: "benign"}  # the dataset's target coding
    reference = {n: [x[c] for x in xs[:split]] for c, n in enumerate(names[:-1])}
    current = {n: [x[c] + (0.5 if c in SHIFTED else 0.0) for x in xs[split:]] for c, n in enumerate(names[:-1])}
    reference[names[-1]] = [label[y] for y in ys[:split]]  # a categorical column
    current[names[-1]] = [label[y] for y in ys[split:]]
    report = mlops.drift.report(reference, current, correction="bh")
    print("drift report (production sample vs training data, Benjamini-Hochberg):")
    print(report)
    print(f"drift report stored as object {report.save(store)}")
    # A profile of the training column: later checks need only the profile.
    profile = mlops.drift.Profile()
    profile.add(reference[names[0]])
    profile_id = profile.save(store)
    d = mlops.drift.Profile.load(store, profile_id).compare(current[names[0]])
    print(f"profile of {names[0]} stored as {profile_id}; production vs profile: "
          f"KS {d.ks_statistic:.4f} (+/- {d.ks_error_bound:.4f}), PSI {d.psi:.4f}")


if __name__ == "__main__":
    main()
