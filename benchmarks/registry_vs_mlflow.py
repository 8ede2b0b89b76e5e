#!/usr/bin/env python3
"""Promotion and rollback with 10,000 versions in the registry, side by side with MLflow 3.17.2.

Both sides hold one registered model with 10,000 versions (made untimed: MLflow through
``MlflowClient.create_model_version``, mlsteward through the store's own inserts in one
transaction, since registering 10,000 real packages would only measure skops) and a
history of 200 promotions to ``production`` made through each side's public API. Then,
timed call by call (wall clock, ``time.perf_counter``):

- promote: 100 moves of ``production`` to the next version. MLflow:
  ``MlflowClient.set_registered_model_alias``; mlsteward: ``mlsteward.promote`` (which
  also checks the alias's policy, compares-and-sets the alias and appends the move and
  an event in one transaction).
- rollback: 50 moves back. MLflow has no history of an alias, so the script tells it
  the previous version (``set_registered_model_alias(name, "production", previous)``);
  mlsteward: ``mlsteward.rollback``, which finds the previous version in the alias's
  history itself.

Target (issue 5, section 7): promote and rollback under 10 ms each. Set up MLflow once::

    python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow==3.17.2

Then, from the repository root::

    uv run python benchmarks/registry_vs_mlflow.py
    uv run python benchmarks/registry_vs_mlflow.py --postgres postgresql+psycopg://...  # also PG
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_MLFLOW_PYTHON = "/tmp/mlflow-venv/bin/python"
VERSIONS = 10_000
HISTORY = 200
PROMOTES = 100
ROLLBACKS = 50

MLFLOW_CHILD = r"""
import json, logging, sys, time
cfg = json.loads(sys.stdin.read())
logging.disable(logging.WARNING)
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=f"sqlite:///{cfg['db']}")
client.create_registered_model("churn")
for i in range(cfg["versions"]):
    client.create_model_version("churn", source=f"file:///models/{i}", run_id=None)
for v in range(1, cfg["history"] + 1):
    client.set_registered_model_alias("churn", "production", str(v))
promote, rollback = [], []
v = cfg["history"]
for _ in range(cfg["promotes"]):
    v += 1
    t = time.perf_counter()
    client.set_registered_model_alias("churn", "production", str(v))
    promote.append(time.perf_counter() - t)
for _ in range(cfg["rollbacks"]):
    v -= 1  # the caller must know the previous version: MLflow keeps no alias history
    t = time.perf_counter()
    client.set_registered_model_alias("churn", "production", str(v))
    rollback.append(time.perf_counter() - t)
assert str(client.get_model_version_by_alias("churn", "production").version) == str(v)
print(json.dumps({"promote": promote, "rollback": rollback}))
"""


def steward(store_url: str | None, root: Path) -> dict[str, list[float]]:
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pyproject.toml").write_text('[project]\nname = "bench"\n')
    if store_url:
        os.environ["STEWARD_STORE"] = store_url
    from mlsteward import promote, rollback
    from mlsteward.project import Project
    from mlsteward.registry import get_version
    from mlsteward.store.artifacts import insert_artifact
    from mlsteward.store.database import open_store
    from mlsteward.store.runs import new_id
    from mlsteward.store.schema import model_versions, registered_models

    project = Project.open(root)
    store = open_store(project)
    with store.write() as conn:
        art = insert_artifact(
            conn, kind="model", digest="0" * 64, is_tree=False, size=1, files=1, uri="x",
            name="model.skops",
        )  # fmt: skip
        model_id = new_id()
        conn.execute(
            registered_models.insert().values(id=model_id, name="churn", description="", created=0)
        )
        rows = [
            {
                "id": new_id(),
                "model_id": model_id,
                "version": i,
                "artifact_id": art.id,
                "format": "skops",
                "signature": "{}",
                "trust": "{}",
                "run_id": None,
                "git_commit": None,
                "git_dirty": None,
                "forced": True,
                "description": "",
                "created": time.time(),
                "actor": "bench",
                "deleted": None,
            }
            for i in range(1, VERSIONS + 1)
        ]
        conn.execute(model_versions.insert(), rows)
    for v in range(1, HISTORY + 1):
        promote("churn", v, "production", reason="history", project=project)
    times: dict[str, list[float]] = {"promote": [], "rollback": []}
    v = HISTORY
    for _ in range(PROMOTES):
        v += 1
        t = time.perf_counter()
        promote("churn", v, "production", reason="release", project=project)
        times["promote"].append(time.perf_counter() - t)
    for _ in range(ROLLBACKS):
        v -= 1
        t = time.perf_counter()
        rollback("churn", "production", reason="incident", project=project)
        times["rollback"].append(time.perf_counter() - t)
    assert get_version("churn@production", project=project).version == v
    if store_url:
        del os.environ["STEWARD_STORE"]
    return times


@contextlib.contextmanager
def _fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the server ``url`` names (its user needs CREATEDB)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"steward_bench_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        from mlsteward.store.database import dispose_all

        dispose_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {1000 * statistics.median(ordered):6.2f} ms, p95 {1000 * p95:6.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlflow-python", default=DEFAULT_MLFLOW_PYTHON)
    parser.add_argument("--postgres", help="also measure mlsteward on this PostgreSQL server")
    args = parser.parse_args(argv)
    if not Path(args.mlflow_python).exists():
        sys.exit(f"no MLflow interpreter at {args.mlflow_python}; see this script's docstring")
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        cfg = {
            "db": str(Path(tmp) / "mlflow.db"), "versions": VERSIONS, "history": HISTORY,
            "promotes": PROMOTES, "rollbacks": ROLLBACKS,
        }  # fmt: skip
        proc = subprocess.run(
            [args.mlflow_python, "-c", MLFLOW_CHILD],
            input=json.dumps(cfg), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            sys.exit(f"the MLflow side failed:\n{proc.stderr[-3000:]}")
        ml: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        sides = {"mlsteward (SQLite)": steward(None, Path(tmp) / "sqlite")}
        if args.postgres:
            with _fresh_database(args.postgres) as url:
                sides["mlsteward (PostgreSQL)"] = steward(url, Path(tmp) / "pg")
    print(
        f"registry with {VERSIONS:,} versions, {time.strftime('%Y-%m-%d')}, "
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    met = True
    for what in ("promote", "rollback"):
        print(f"{what}:")
        print(f"  MLflow 3.17.2 (SQLite)   {_ms(ml[what])}")
        for side, times in sides.items():
            median = statistics.median(times[what])
            met = met and median < 0.010
            ratio = statistics.median(ml[what]) / median
            print(f"  {side:24} {_ms(times[what])}  ({ratio:.1f}x MLflow)")
    print(f"target: promote and rollback under 10 ms: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
