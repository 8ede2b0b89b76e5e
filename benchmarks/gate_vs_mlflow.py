#!/usr/bin/env python3
"""A validation gate side by side with ``mlflow.models.evaluate`` + threshold validation.

The same 1,000,000-row evaluation set (a Parquet file: five numeric features, a ``region``
column of 10 values, a ``gender`` column, a binary label ``y``) and the same model (a
scikit-learn ``LogisticRegression`` that each side fits, untimed, on the first 100,000
rows of the file; same data, same solver, same coefficients). Each side's clock covers
predicting and judging:

- mlsteward: ``mlsteward.gates.evaluate`` with a policy of two metric thresholds
  (accuracy, f1), one slice column of 10 values (accuracy in each), and fairness over
  ``gender`` (demographic parity difference, accuracy ratio), computed with fairlearn.
  Also end to end as a user runs it, ``run_gate`` (what ``steward gate run`` calls): the
  model version loaded from the registry (hash and trust checked), the evaluation set
  read from the object store as dataset ``eval@1``, the same policy declared in the
  project's pyproject.toml, and the verdict written to the store.
- MLflow 3.17.2 (its own virtualenv, a subprocess, a SQLite tracking store): predict
  once (the cheapest way MLflow allows: a static dataset with a ``predictions`` column,
  so the model is not called 13 times), then ``mlflow.models.evaluate`` with
  ``model_type="classifier"`` on the whole set, on each of the 10 slices and on each
  gender group, each followed by ``mlflow.validate_evaluation_results`` with the same
  thresholds; the fairness numbers are computed from the group results (MLflow has no
  fairness metrics). Explainability is off (``log_model_explainability: False``).

Target (issue 5, section 7): mlsteward at least 3x faster. Set up MLflow once::

    python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow==3.17.2

Then, from the repository root::

    uv run python benchmarks/gate_vs_mlflow.py            # 1,000,000 rows
    uv run python benchmarks/gate_vs_mlflow.py --quick    # 100,000 rows, smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_MLFLOW_PYTHON = "/tmp/mlflow-venv/bin/python"
FEATURES = ["x0", "x1", "x2", "x3", "x4"]
TRAIN_ROWS = 100_000

MLFLOW_CHILD = r"""
import json, logging, sys, time, warnings
warnings.filterwarnings("ignore")
cfg = json.loads(sys.stdin.read())
logging.disable(logging.WARNING)
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
import mlflow
from mlflow.models import MetricThreshold

df = pd.read_parquet(cfg["data"])
features = cfg["features"]
head = df.iloc[: cfg["train_rows"]]
model = LogisticRegression().fit(head[features], head["y"])
mlflow.set_tracking_uri(f"sqlite:///{cfg['db']}")
mlflow.set_experiment("gate")
overall = {
    "accuracy_score": MetricThreshold(threshold=0.7, greater_is_better=True),
    "f1_score": MetricThreshold(threshold=0.5, greater_is_better=True),
}
per_slice = {"accuracy_score": MetricThreshold(threshold=0.7, greater_is_better=True)}


def judge(data, thresholds):
    with mlflow.start_run():
        result = mlflow.models.evaluate(
            data=data, predictions="pred", targets="y", model_type="classifier",
            evaluator_config={"log_model_explainability": False},
        )
    try:
        mlflow.validate_evaluation_results(thresholds, result)
        return True, result.metrics
    except Exception as exc:  # ModelValidationFailedException
        return False, result.metrics


t0 = time.perf_counter()
frame = df[[*features, "y", "region", "gender"]].copy()
frame["pred"] = model.predict(frame[features])
passed, metrics = judge(frame.drop(columns=features), overall)
for region, part in frame.groupby("region"):
    ok, _ = judge(part.drop(columns=features), per_slice)
    passed = passed and ok
accuracy, selection = [], []
for gender, part in frame.groupby("gender"):
    ok, m = judge(part.drop(columns=features), {})
    accuracy.append(m["accuracy_score"])
    selection.append(float(part["pred"].mean()))
dpd = max(selection) - min(selection)
ratio = min(accuracy) / max(accuracy)
passed = passed and dpd <= 0.1 and ratio >= 0.8
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "passed": passed, "accuracy": metrics["accuracy_score"],
                  "dpd": dpd, "accuracy_ratio": ratio}))
"""


def make_data(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, len(FEATURES)))
    df = pd.DataFrame(x, columns=FEATURES)
    df["region"] = rng.choice([f"r{i}" for i in range(10)], rows)
    df["gender"] = rng.choice(["f", "m"], rows)
    logit = x @ np.array([1.5, -1.0, 0.5, 0.25, 0.0]) + rng.normal(scale=0.5, size=rows)
    df["y"] = (logit > 0).astype(np.int64)
    df.to_parquet(path)


def steward(path: Path) -> dict[str, Any]:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from mlsteward.gates import evaluate
    from mlsteward.registry.policy import parse_policy

    df = pd.read_parquet(path)
    head = df.iloc[:TRAIN_ROWS]
    model = LogisticRegression().fit(head[FEATURES], head["y"])
    policy = parse_policy(
        "production",
        {
            "metrics": {"accuracy": ">= 0.7", "f1": ">= 0.5"},
            "slices": {"columns": ["region"], "metrics": {"accuracy": ">= 0.7"}},
            "sensitive": ["gender"],
            "fairness": {"demographic_parity_difference": "<= 0.1", "accuracy_ratio": ">= 0.8"},
        },
    )
    t0 = time.perf_counter()
    report = evaluate(model, df, "y", policy)
    seconds = time.perf_counter() - t0
    checks = {c.check: c for c in report.checks}
    return {
        "seconds": seconds,
        "passed": report.passed,
        "accuracy": checks["metrics"].measured["accuracy"],
        "dpd": checks["fairness"].measured["demographic_parity_difference"],
    }


def steward_end_to_end(path: Path, root: Path) -> dict[str, Any]:
    """``run_gate`` in a real project: registry, object store, verdict record."""
    import shutil

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bench"\n\n[tool.steward.gates.production]\n'
        'metrics = { accuracy = ">= 0.7", f1 = ">= 0.5" }\n'
        'sensitive = ["gender"]\n'
        'fairness = { demographic_parity_difference = "<= 0.1", accuracy_ratio = ">= 0.8" }\n'
        "[tool.steward.gates.production.slices]\n"
        'columns = ["region"]\nmetrics = { accuracy = ">= 0.7" }\n'
    )
    shutil.copyfile(path, root / "eval.parquet")
    from mlsteward.data import add_dataset
    from mlsteward.gates import run_gate
    from mlsteward.project import Project
    from mlsteward.registry import register_model

    project = Project.open(root)
    add_dataset(project, root / "eval.parquet", "eval")
    head = pd.read_parquet(path).iloc[:TRAIN_ROWS]
    model = LogisticRegression().fit(head[FEATURES], head["y"])
    register_model(model, "clf", example=head[FEATURES].head(20), force=True, project=project)
    t0 = time.perf_counter()
    verdict = run_gate("clf", 1, policy="production", data="eval@1", label="y", project=project)
    return {"seconds": time.perf_counter() - t0, "passed": verdict.passed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--mlflow-python", default=DEFAULT_MLFLOW_PYTHON)
    args = parser.parse_args(argv)
    if not Path(args.mlflow_python).exists():
        sys.exit(f"no MLflow interpreter at {args.mlflow_python}; see this script's docstring")
    rows = 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        data = Path(tmp) / "eval.parquet"
        make_data(data, rows)
        cfg = {
            "data": str(data),
            "db": str(Path(tmp) / "mlflow.db"),
            "features": FEATURES,
            "train_rows": TRAIN_ROWS,
        }
        proc = subprocess.run(
            [args.mlflow_python, "-c", MLFLOW_CHILD],
            input=json.dumps(cfg),
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if proc.returncode != 0:
            sys.exit(f"the MLflow side failed:\n{proc.stderr[-3000:]}")
        ml = json.loads(proc.stdout.strip().splitlines()[-1])
        st = steward(data)
        e2e = steward_end_to_end(data, Path(tmp) / "project")
    ratio = ml["seconds"] / st["seconds"]
    print(
        f"gate with 10 slices + fairness on {rows:,} rows, {time.strftime('%Y-%m-%d')}, "
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(f"MLflow 3.17.2 evaluate + validate: {ml['seconds']:.2f} s (passed {ml['passed']})")
    print(f"mlsteward gate:                    {st['seconds']:.2f} s (passed {st['passed']})")
    print(
        f"mlsteward run_gate, end to end:     {e2e['seconds']:.2f} s (passed {e2e['passed']}; "
        "registry, object store, verdict)"
    )
    print(f"ratio: {ratio:.1f}x (target >= 3x: {'met' if ratio >= 3 else 'NOT met'})")
    print(f"ratio end to end: {ml['seconds'] / e2e['seconds']:.1f}x")
    print(
        f"same answers: accuracy {ml['accuracy']:.6f} vs {st['accuracy']:.6f}, "
        f"demographic parity difference {ml['dpd']:.6f} vs {st['dpd']:.6f}"
    )
    return 0 if ratio >= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
