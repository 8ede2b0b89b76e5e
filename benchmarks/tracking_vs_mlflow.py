#!/usr/bin/env python3
"""Run tracking side by side with MLflow 3.17.2 on the same machine and the same SQLite.

Three measurements, each on a fresh SQLite file per side, in one run of this script:

(a) 10,000 metric points logged one call at a time. MLflow: ``mlflow.log_metric`` with
    tracking URI ``sqlite:///...``; mlsteward: ``run.log_metric``. The clock runs from
    the first call to the end of the run (``mlflow.end_run()`` / ``run.end()``, which
    flushes mlsteward's buffer), so every point is in the store when it stops.
(b) The same 10,000 points in batches of 1,000. MLflow: ``MlflowClient.log_batch``;
    mlsteward: ``run.log_batch``; again up to the end of the run.
(c) ``search_runs`` over 5,000 finished runs, each with 5 params, 5 metrics and 3 tags,
    filtered and ordered, top 100. MLflow: ``MlflowClient.search_runs(...,
    filter_string="metrics.m0 > 0.5 and params.p0 = '3'", order_by=["metrics.m1 DESC"],
    max_results=100)``; mlsteward: ``search_runs("metrics.m0 > 0.5 and params.p0 = 3",
    order_by="-metrics.m1", limit=100)``. One warm-up query, then the median of 5. The
    runs are built untimed with each side's fastest way (MLflow: ``create_run`` +
    ``log_batch`` + ``set_terminated``; mlsteward: the store's insert functions, all in
    one transaction), from the same random values, and both answers are checked to
    hold the same ``m1`` values.

Targets (issue 3, section 7): (a) at least 50x faster than MLflow, (b) at least 2x,
(c) under 50 ms.

MLflow runs in its own virtualenv through a subprocess. Set it up once (minutes)::

    python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow==3.17.2

Then, from the repository root::

    uv run python benchmarks/tracking_vs_mlflow.py                 # full sizes
    uv run python benchmarks/tracking_vs_mlflow.py --quick         # small sizes, smoke
    uv run python benchmarks/tracking_vs_mlflow.py --mlflow-python /path/to/python

Only the standard library and mlsteward are imported here. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_MLFLOW_PYTHON = "/tmp/mlflow-venv/bin/python"
FILTER_MLFLOW = "metrics.m0 > 0.5 and params.p0 = '3'"
FILTER_STEWARD = "metrics.m0 > 0.5 and params.p0 = 3"
SEARCH_REPEATS = 5

# The MLflow side, run by the MLflow virtualenv's interpreter; prints one JSON line.
MLFLOW_CHILD = r"""
import json, logging, statistics, sys, time
cfg = json.loads(sys.stdin.read())
logging.disable(logging.WARNING)
import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

mode, db = cfg["mode"], cfg["db"]
mlflow.set_tracking_uri(f"sqlite:///{db}")
client = MlflowClient()
out = {}
if mode == "single":
    mlflow.start_run()
    t0 = time.perf_counter()
    for i in range(cfg["points"]):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    mlflow.end_run()
    out["seconds"] = time.perf_counter() - t0
elif mode == "batch":
    exp = client.get_experiment_by_name("Default").experiment_id
    run = client.create_run(exp)
    t0 = time.perf_counter()
    for start in range(0, cfg["points"], cfg["batch"]):
        now = int(time.time() * 1000)
        metrics = [Metric("loss", 1.0 / (i + 1), now, i)
                   for i in range(start, min(start + cfg["batch"], cfg["points"]))]
        client.log_batch(run.info.run_id, metrics=metrics)
    client.set_terminated(run.info.run_id)
    out["seconds"] = time.perf_counter() - t0
else:
    exp = client.get_experiment_by_name("Default").experiment_id
    t0 = time.perf_counter()
    for r in cfg["runs"]:
        run = client.create_run(exp)
        now = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, now, 0) for k, v in r["metrics"].items()],
            params=[Param(k, v) for k, v in r["params"].items()],
            tags=[RunTag(k, v) for k, v in r["tags"].items()],
        )
        client.set_terminated(run.info.run_id)
    out["build_seconds"] = time.perf_counter() - t0

    def query():
        return client.search_runs(
            [exp], filter_string=cfg["filter"], order_by=["metrics.m1 DESC"], max_results=100
        )

    query()  # warm-up
    times = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        found = query()
        times.append(time.perf_counter() - t0)
    out["seconds"] = statistics.median(times)
    out["m1"] = [r.data.metrics["m1"] for r in found]
print(json.dumps(out))
"""


def mlflow(python: str, cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one MLflow measurement in the MLflow virtualenv; return its JSON answer."""
    proc = subprocess.run(
        [python, "-c", MLFLOW_CHILD],
        input=json.dumps(cfg),  # the runs of (c) are too large for an argument
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if proc.returncode != 0:
        sys.exit(f"the MLflow side failed ({cfg['mode']}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def steward_project(root: Path) -> Path:
    """A fresh project directory (git repository, pyproject, lock file) with its own store."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0"\n')
    (root / "uv.lock").write_text("version = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    os.environ["STEWARD_STORE"] = f"sqlite:///{root / 'steward.db'}"
    return root


def steward_single(root: Path, points: int) -> float:
    from mlsteward.tracking.run import start_run

    run = start_run("single", project=root)
    t0 = time.perf_counter()
    for i in range(points):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
    run.end()
    return time.perf_counter() - t0


def steward_batch(root: Path, points: int, batch: int) -> float:
    from mlsteward.tracking.run import start_run

    run = start_run("batch", project=root)
    t0 = time.perf_counter()
    for start in range(0, points, batch):
        run.log_batch(
            metrics=[("loss", 1.0 / (i + 1), i) for i in range(start, min(start + batch, points))]
        )
    run.end()
    return time.perf_counter() - t0


def steward_search(root: Path, runs: list[dict[str, Any]]) -> tuple[float, float, list[float]]:
    """Build the runs untimed (one transaction), then time the search; (build, median, m1)."""
    from mlsteward.project import Project
    from mlsteward.store.database import open_store
    from mlsteward.store.runs import (
        MetricPoint,
        finish_run,
        insert_metrics,
        insert_run,
        new_id,
        set_params,
        set_tags,
    )
    from mlsteward.tracking.search import search_runs

    store = open_store(Project.open(root))
    t0 = time.perf_counter()
    with store.write() as conn:
        for i, r in enumerate(runs):
            run_id, now = new_id(), time.time()
            row = {"id": run_id, "name": f"run-{i}", "experiment": "default", "start_time": now}
            insert_run(conn, row)
            set_params(conn, run_id, r["params"])
            set_tags(conn, run_id, r["tags"])
            insert_metrics(
                conn, run_id, [MetricPoint(k, v, 0, now) for k, v in r["metrics"].items()]
            )
            finish_run(conn, run_id, "finished", now)
    build = time.perf_counter() - t0

    def query() -> list[float]:
        found = search_runs(FILTER_STEWARD, order_by="-metrics.m1", limit=100, project=root)
        return [v.metrics["m1"] for v in found]

    query()  # warm-up
    times = []
    for _ in range(SEARCH_REPEATS):
        t1 = time.perf_counter()
        m1 = query()
        times.append(time.perf_counter() - t1)
    return build, statistics.median(times), m1


def make_runs(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """The same runs for both sides: 5 params (0-9), 5 metrics in [0, 1), 3 tags."""
    rng = random.Random(seed)
    return [
        {
            "params": {f"p{j}": str(rng.randrange(10)) for j in range(5)},
            "metrics": {f"m{j}": rng.random() for j in range(5)},
            "tags": {f"t{j}": f"v{rng.randrange(3)}" for j in range(3)},
        }
        for _ in range(count)
    ]


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


Row = tuple[str, float, float, str, bool]  # label, MLflow s, mlsteward s, target, met


def measure_a(python: str, base: Path, points: int) -> Row:
    print(f"(a) {points:,} points, one call each ...", file=sys.stderr)
    cfg = {"mode": "single", "db": "a.db", "points": points}
    ml = mlflow(python, cfg, side(base, "mlflow-a"))["seconds"]
    st = steward_single(steward_project(base / "steward-a"), points)
    return f"(a) {points:,} points, one log_metric call each", ml, st, "ratio >= 50x", ml / st >= 50


def measure_b(python: str, base: Path, points: int, batch: int) -> Row:
    print(f"(b) {points:,} points, batches of {batch:,} ...", file=sys.stderr)
    cfg = {"mode": "batch", "db": "b.db", "points": points, "batch": batch}
    ml = mlflow(python, cfg, side(base, "mlflow-b"))["seconds"]
    st = steward_batch(steward_project(base / "steward-b"), points, batch)
    return f"(b) {points:,} points, log_batch of {batch:,}", ml, st, "ratio >= 2x", ml / st >= 2


def measure_c(python: str, base: Path, count: int) -> Row:
    print(f"(c) building {count:,} runs on each side (untimed) ...", file=sys.stderr)
    runs = make_runs(count)
    cfg = {"mode": "search", "db": "c.db", "runs": runs, "filter": FILTER_MLFLOW}
    ml = mlflow(python, {**cfg, "repeats": SEARCH_REPEATS}, side(base, "mlflow-c"))
    build, st, m1 = steward_search(steward_project(base / "steward-c"), runs)
    agree = [round(x, 12) for x in m1] == [round(x, 12) for x in ml["m1"]]
    print(
        f"    built in {ml['build_seconds']:.1f} s (MLflow) and {build:.1f} s (mlsteward); "
        f"the two top-{len(m1)} answers agree: {agree}",
        file=sys.stderr,
    )
    label = f"(c) search_runs over {count:,} runs, top 100 (median of 5)"
    return label, ml["seconds"], st, "under 50 ms", st < 0.050 and agree


def side(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mlflow-python", default=DEFAULT_MLFLOW_PYTHON)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", default="abc", help="which measurements, e.g. --only c")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not Path(args.mlflow_python).exists():
        sys.exit(f"no MLflow interpreter at {args.mlflow_python}; see this script's docstring")
    points, batch, count = (1_000, 100, 500) if args.quick else (10_000, 1_000, 5_000)
    python = args.mlflow_python
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-") as tmp:
        base = Path(tmp)
        if "a" in args.only:
            rows.append(measure_a(python, base, points))
        if "b" in args.only:
            rows.append(measure_b(python, base, points, batch))
        if "c" in args.only:
            rows.append(measure_c(python, base, count))
    load = os.getloadavg()[0]
    print(
        f"\nMLflow 3.17.2 vs mlsteward, {time.strftime('%Y-%m-%d')}, {platform.platform()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load:.1f} at the end" + (" (--quick)" if args.quick else "")
    )
    head = (
        f"| {'measurement':<55} | {'MLflow':>9} | {'mlsteward':>9} | {'ratio':>7} "
        f"| {'target':<14} | met |"
    )
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for label, ml_s, st_s, target, ok in rows:
        print(
            f"| {label:<55} | {seconds(ml_s):>9} | {seconds(st_s):>9} | "
            f"{ml_s / st_s:>6.0f}x | {target:<14} | {'yes' if ok else 'NO':<3} |"
        )
    if args.json:
        keys = ("measurement", "mlflow_s", "mlsteward_s", "target", "met")
        args.json.write_text(json.dumps([dict(zip(keys, r, strict=True)) for r in rows]))
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
