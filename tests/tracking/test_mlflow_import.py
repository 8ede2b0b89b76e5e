"""Importing from MLflow stores written by the real MLflow (mlflow-skinny, a dev dependency).

A session fixture runs MLflow in a subprocess (its warnings and global state stay out of
this process) to write the same runs into an SQLite store and a file store, and to read
them back with MLflow's own client: that read-back is what the imported runs must match.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mlsteward.errors import StewardError
from mlsteward.project import Project
from mlsteward.store.database import Store, open_store
from mlsteward.store.schema import events, latest_metrics, metrics, params, runs, tags
from mlsteward.tracking.mlflow_import import (
    IMPORTED_FROM,
    ImportReport,
    import_mlflow,
    imported_run_id,
)

WRITER = r"""
import json, math, os, sys
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

def populate(uri):
    c = MlflowClient(tracking_uri=uri)
    a, b, gone = (c.create_experiment(n) for n in ("exp-a", "exp-b", "exp-gone"))
    t0 = 1_700_000_000_000
    r1 = c.create_run(a, run_name="train-1", start_time=t0, tags={
        "team": "vision", "nested/key": "v",
        "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
        "mlflow.source.git.branch": "main"}).info.run_id
    c.log_batch(r1, params=[Param("lr", "0.1"), Param("layers", "3"), Param("note", "x" * 600)])
    for s in range(10):
        c.log_metric(r1, "loss", 1 / (s + 1), timestamp=t0 + s, step=s)
    for s, v in enumerate((math.nan, math.inf, -math.inf, 0.25)):
        c.log_metric(r1, "odd", v, timestamp=t0 + 100 + s, step=s)
    c.log_metric(r1, "val/loss", 0.5, timestamp=t0 + 200, step=3)
    for k in range(12):  # 12,000 points: more than one insert batch of 5,000
        batch = [Metric("big", i / 7, t0 + i, i) for i in range(k * 1000, k * 1000 + 1000)]
        c.log_batch(r1, metrics=batch)
    c.set_terminated(r1, "FINISHED", end_time=t0 + 60_000)
    r2 = c.create_run(a, run_name="train-2", start_time=t0 + 1).info.run_id
    c.log_param(r2, "lr", "0.2")
    c.log_metric(r2, "loss", 9.5, timestamp=t0 + 5, step=0)
    c.set_terminated(r2, "FAILED", end_time=t0 + 2000)
    r3 = c.create_run(b, run_name="killed", start_time=t0 + 2).info.run_id
    c.set_terminated(r3, "KILLED", end_time=t0 + 3000)
    r4 = c.create_run(b, run_name="still", start_time=t0 + 3).info.run_id
    c.log_metric(r4, "loss", 1.0, timestamp=t0 + 4000, step=0)
    r5 = c.create_run(b, run_name="deleted", start_time=t0 + 4).info.run_id
    c.set_terminated(r5, "FINISHED")
    r6 = c.create_run(gone, run_name="in-deleted-experiment").info.run_id
    c.set_terminated(r6, "FINISHED")
    truth = {}
    for rid in (r1, r2, r3, r4, r5, r6):
        run = c.get_run(rid)
        i = run.info
        truth[rid] = {
            "experiment": c.get_experiment(i.experiment_id).name, "name": i.run_name,
            "status": i.status, "start_time": i.start_time, "end_time": i.end_time,
            "user": i.user_id, "artifact_uri": i.artifact_uri, "params": run.data.params,
            "tags": run.data.tags, "deleted": rid in (r5, r6),
            "metrics": {k: [[m.timestamp, m.step, m.value] for m in c.get_metric_history(rid, k)]
                        for k in run.data.metrics},
        }
    c.delete_run(r5)
    c.delete_experiment(gone)
    return truth

kind, out = sys.argv[1], sys.argv[2]
if kind == "sql":
    truth = {"sql": populate(f"sqlite:///{out}/mlflow.db")}
else:
    truth = {"file": populate(f"file://{out}/mlruns"), "many": {}}
    c = MlflowClient(tracking_uri=f"file://{out}/many")  # enough runs for a progress line
    e = c.create_experiment("sweep")
    for i in range(120):
        c.set_terminated(c.create_run(e, run_name=f"trial-{i}").info.run_id, "FINISHED")
with open(f"{out}/{kind}.json", "w") as fh:
    json.dump(truth, fh)
"""

# the file store is in "maintenance mode" and refuses to start without the first;
# MLflow 3 reports usage over the network unless told not to
MLFLOW_ENV = {"MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}

pytest.importorskip("mlflow", reason="mlflow-skinny (dev dependency) writes the test stores")


def write_mlflow_stores(base: Path) -> dict[str, Any]:
    """Have MLflow write its stores under ``base`` once per test session; return them.

    Returns ``{"sql": (uri, truth), "file": (uri, truth), "many": (uri, {})}`` where truth
    maps each MLflow run id to what MLflow's client reads back for it.
    """
    out = base / "mlflow-stores"
    kinds = ("sql", "file")
    if not all((out / f"{k}.json").is_file() for k in kinds):
        out.mkdir(exist_ok=True)
        writers = [  # two processes side by side: MLflow's start-up dominates
            subprocess.Popen(
                [sys.executable, "-c", WRITER, kind, str(out)],
                env={**os.environ, **MLFLOW_ENV},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for kind in kinds
        ]
        for w in writers:
            output, _ = w.communicate(timeout=300)
            assert w.returncode == 0, output.decode()
    uris = {"sql": f"sqlite:///{out / 'mlflow.db'}", "file": str(out / "mlruns")}
    uris["many"] = str(out / "many")
    truth = {
        **json.loads((out / "sql.json").read_text()),
        **json.loads((out / "file.json").read_text()),
    }
    return {k: (uris[k], truth[k]) for k in uris}


@pytest.fixture(scope="session")
def mlflow_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Stores written by MLflow, their URIs, and what MLflow reads back from each."""
    return write_mlflow_stores(tmp_path_factory.getbasetemp())


def _rows(table: sa.Table, run_id: str) -> list[Any]:
    store = open_store(Project.open())
    with store.read() as conn:
        return list(conn.execute(sa.select(table).where(table.c.run_id == run_id)))


def _count(table: sa.Table) -> int:
    with open_store(Project.open()).read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _same(ours: float, theirs: float) -> bool:
    """MLflow's SQL store hands back +/-inf as +/-DBL_MAX; the importer restores inf."""
    if math.isnan(theirs):
        return math.isnan(ours)
    if abs(theirs) == sys.float_info.max:
        return ours == math.copysign(math.inf, theirs)
    return ours == theirs


@pytest.mark.parametrize("kind", ["sql", "file"])
def test_import_matches_what_mlflow_reads_back(
    project_dir: Path, mlflow_stores: dict[str, Any], kind: str
) -> None:
    uri, truth = mlflow_stores[kind]
    report = import_mlflow(Project.open(), uri)
    _assert_matches(report, truth)


def _assert_matches(report: ImportReport, truth: dict[str, Any]) -> None:
    """The project's store holds exactly the runs MLflow's client reads back."""
    kept = {u: t for u, t in truth.items() if not t["deleted"]}
    assert (report.runs_imported, report.runs_deleted, report.runs_skipped) == (4, 1, 0)
    assert report.experiments == 2
    assert report.params == sum(len(t["params"]) for t in kept.values())
    assert report.tags == sum(len(t["tags"]) for t in kept.values())
    assert report.metric_points == sum(len(h) for t in kept.values() for h in t["metrics"].values())
    assert _count(runs) == 4
    store = open_store(Project.open())
    for mlflow_id, t in truth.items():
        run_id = imported_run_id(mlflow_id)
        with store.read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if t["deleted"]:
            assert row is None
            continue
        assert row is not None
        assert (row.name, row.experiment, row.user) == (t["name"], t["experiment"], t["user"])
        assert row.start_time == t["start_time"] / 1000
        assert (row.host, row.pid) == (None, None)
        expected = {
            "FINISHED": ("finished", None),
            "FAILED": ("failed", None),
            "KILLED": ("failed", "killed in MLflow"),
            "RUNNING": ("crashed", "still running in MLflow at import"),
        }[t["status"]]
        assert (row.status, row.error) == expected
        if t["end_time"] is not None:
            assert row.end_time == t["end_time"] / 1000
        else:  # still running: it ended, for us, at its last sign of life
            assert row.end_time == max(p[0] for h in t["metrics"].values() for p in h) / 1000
        if t["name"] == "train-1":
            assert (row.git_commit, row.git_branch) == ("0123456789abcdef" * 2 + "01234567", "main")
        assert {r.key: r.value for r in _rows(params, run_id)} == t["params"]
        assert {r.key: r.value for r in _rows(tags, run_id)} == {
            **t["tags"],
            IMPORTED_FROM: f"mlflow:{mlflow_id}",
            "steward.mlflow_artifact_uri": t["artifact_uri"],
        }
        ours = sorted(
            (r.key, r.time, r.step, math.nan if r.is_nan else r.value)
            for r in _rows(metrics, run_id)
        )
        theirs = sorted((k, p[0] / 1000, p[1], p[2]) for k, h in t["metrics"].items() for p in h)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert a[:3] == b[:3]
            assert _same(a[3], b[3]), (a, b)
        latest = {r.key: (r.step, r.value, r.is_nan) for r in _rows(latest_metrics, run_id)}
        assert set(latest) == set(t["metrics"])
    train = imported_run_id(next(u for u, t in truth.items() if t["name"] == "train-1"))
    odd = {r.step: r for r in _rows(metrics, train) if r.key == "odd"}
    assert odd[0].is_nan
    assert odd[0].value is None
    assert (odd[1].value, odd[2].value, odd[3].value) == (math.inf, -math.inf, 0.25)
    assert len([r for r in _rows(metrics, train) if r.key == "big"]) == 12_000
    with store.read() as conn:
        logged = conn.execute(sa.select(events).where(events.c.kind == "run.imported")).all()
    assert len(logged) == 4
    payload = json.loads(next(e.payload for e in logged if e.subject == train))
    assert payload["mlflow_run_id"] in truth
    assert payload["metric_points"] == 12_000 + 10 + 4 + 1


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_postgresql_mlflow_store_reads_the_same(
    project_dir: Path, mlflow_stores: dict[str, Any]
) -> None:
    """MLflow's tables, copied as they are from its SQLite store into PostgreSQL."""
    admin = os.environ.get("STEWARD_TEST_POSTGRES")
    if not admin:
        pytest.skip("no PostgreSQL server: run `export STEWARD_TEST_POSTGRES=$(.ci/postgres.sh)`")
    uri, truth = mlflow_stores["sql"]
    name = f"mlflow_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    target_url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        _copy_tables(uri, target_url)
        report = import_mlflow(Project.open(), target_url)
        _assert_matches(report, truth)
        again = import_mlflow(Project.open(), uri)  # the same runs, read from SQLite
        assert (again.runs_imported, again.runs_skipped) == (0, 4)
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _copy_tables(source_url: str, target_url: str) -> None:
    tables = ("experiments", "runs", "params", "metrics", "tags")
    source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    meta = sa.MetaData()
    meta.reflect(source, only=tables)
    for table in meta.tables.values():
        table.constraints = {c for c in table.constraints if isinstance(c, sa.PrimaryKeyConstraint)}
    meta.create_all(target)
    with source.connect() as read, target.begin() as write:
        for name in tables:
            rows = [dict(r._mapping) for r in read.execute(sa.select(meta.tables[name]))]
            write.execute(meta.tables[name].insert(), rows)
    source.dispose()
    target.dispose()


def test_reimport_skips_what_is_there_and_adds_nothing(
    project_dir: Path, mlflow_stores: dict[str, Any]
) -> None:
    uri, _ = mlflow_stores["file"]
    first = import_mlflow(Project.open(), uri)
    before = [_count(t) for t in (runs, params, metrics, tags, events)]

    again = import_mlflow(Project.open(), f"file://{uri}")  # the same store, as a file URI

    assert (again.runs_imported, again.runs_skipped) == (0, first.runs_imported)
    assert (again.params, again.metric_points, again.tags) == (0, 0, 0)
    assert [_count(t) for t in (runs, params, metrics, tags, events)] == before


def test_two_imports_racing_import_each_run_once(
    project_dir: Path, mlflow_stores: dict[str, Any]
) -> None:
    uri, truth = mlflow_stores["file"]
    argv = [sys.executable, "-m", "mlsteward", "import", "mlflow", uri, "--format", "json"]
    racers = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    reports = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err.decode()
        reports.append(json.loads(out))

    assert sum(r["runs_imported"] for r in reports) == 4  # each run by one of the two
    assert all(r["runs_imported"] + r["runs_skipped"] == 4 for r in reports)
    assert _count(runs) == 4
    points = sum(len(h) for t in truth.values() if not t["deleted"] for h in t["metrics"].values())
    assert _count(metrics) == points
    with open_store(Project.open()).read() as conn:
        kinds = conn.execute(sa.select(events.c.kind).where(events.c.kind == "run.imported"))
        assert len(kinds.all()) == 4


def test_dry_run_counts_the_same_and_writes_nothing(
    project_dir: Path, mlflow_stores: dict[str, Any], store_url: str
) -> None:
    uri, _ = mlflow_stores["sql"]
    dry = import_mlflow(Project.open(), uri, dry_run=True)

    if store_url.startswith("sqlite"):
        assert not (project_dir.parent / ".steward" / "steward.db").exists()
    else:
        probe = Store(store_url)
        probe.open()
        assert probe.revision() is None  # not even the schema was made
        probe.close()
    real = import_mlflow(Project.open(), uri)
    assert dry.dry_run
    assert {**dry.to_dict(), "dry_run": False} == real.to_dict()
    # a dry run against a store that holds them reports them as skipped, and adds nothing
    again = import_mlflow(Project.open(), uri, dry_run=True)
    assert (again.runs_imported, again.runs_skipped) == (0, real.runs_imported)
    assert _count(runs) == real.runs_imported


def test_experiments_filter_imports_only_those(
    project_dir: Path, mlflow_stores: dict[str, Any]
) -> None:
    uri, _ = mlflow_stores["sql"]
    with pytest.raises(StewardError) as err:
        import_mlflow(Project.open(), uri, experiments=["exp-b", "nope"])
    assert err.value.code == "not-found"
    assert "exp-a" in (err.value.hint or "")

    report = import_mlflow(Project.open(), uri, experiments=["exp-b"])

    assert (report.experiments, report.runs_imported, report.runs_deleted) == (1, 2, 1)
    with open_store(Project.open()).read() as conn:
        names = set(conn.execute(sa.select(runs.c.name)).scalars())
    assert names == {"killed", "still"}
    # a dry run over the whole store now: exp-a's runs would come, exp-b's are there
    before = [_count(t) for t in (runs, params, metrics, tags, events)]
    dry = import_mlflow(Project.open(), uri, dry_run=True)
    assert (dry.runs_imported, dry.runs_skipped, dry.params) == (2, 2, 4)
    assert [_count(t) for t in (runs, params, metrics, tags, events)] == before


def test_a_malformed_run_is_not_half_imported_and_earlier_runs_stay(
    project_dir: Path, mlflow_stores: dict[str, Any], tmp_path: Path
) -> None:
    uri, truth = mlflow_stores["file"]
    copy = tmp_path / "mlruns"
    shutil.copytree(uri, copy)
    broken = next(u for u, t in truth.items() if t["name"] == "train-2")
    (history,) = copy.glob(f"*/{broken}/metrics/loss")
    history.write_text(history.read_text() + "not a metric line at all\n")

    with pytest.raises(StewardError) as err:
        import_mlflow(Project.open(), str(copy))

    assert err.value.code == "import-malformed"
    assert broken in str(err.value)
    assert _rows(params, imported_run_id(broken)) == []
    with open_store(Project.open()).read() as conn:
        half = conn.execute(sa.select(runs).where(runs.c.id == imported_run_id(broken))).first()
        done = set(conn.execute(sa.select(runs.c.name)).scalars())
    assert half is None
    assert done == {"train-1"}  # it came before the broken run (by start time)
    history.write_text("".join(history.read_text().splitlines(keepends=True)[:-1]))
    resumed = import_mlflow(Project.open(), str(copy))
    assert (resumed.runs_imported, resumed.runs_skipped) == (3, 1)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # fails before any store use
@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: str(d / "missing"), "path-missing"),
        (lambda d: "sqlite:///" + str(d / "missing.db"), "path-missing"),
        (lambda d: str(d), "import-not-mlflow"),  # an empty folder
        (lambda d: str(_write(d / "notes.txt", "hello")), "import-not-mlflow"),
        (lambda d: "sqlite:///" + str(_other_db(d / "other.db")), "import-not-mlflow"),
        (lambda d: "http://mlflow.example.com:5000", "import-source"),
        (lambda d: "mysql://user@host/mlflow", "import-source"),
        (lambda d: "postgresql://user:secret@127.0.0.1:9/mlflow", "import-unreadable"),
    ],
)
def test_what_is_not_an_mlflow_store_gets_a_coded_error(
    project_dir: Path, tmp_path: Path, make: Any, code: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StewardError) as err:
        import_mlflow(Project.open(), make(empty))
    assert err.value.code == code
    assert err.value.hint
    assert "secret" not in str(err.value)
    assert _count(runs) == 0


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _other_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id TEXT)")
    conn.close()
    return path


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_sqlite_source_is_opened_read_only(
    project_dir: Path, mlflow_stores: dict[str, Any]
) -> None:
    uri, _ = mlflow_stores["sql"]
    db = Path(uri.removeprefix("sqlite:///"))
    before = db.stat().st_mtime_ns, db.read_bytes()
    import_mlflow(Project.open(), uri)
    assert (db.stat().st_mtime_ns, db.read_bytes()) == before
