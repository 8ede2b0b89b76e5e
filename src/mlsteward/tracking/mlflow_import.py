"""Importing runs from an MLflow tracking store, so a team can move over.

Each MLflow run becomes one mlsteward run with its params, every point of its metric
history and all its tags (MLflow's own ``mlflow.*`` tags included), written in ONE write
transaction together with a ``run.imported`` event: a failure part-way leaves no half
run. The run's id is derived from MLflow's run id (a UUID5), and the run carries the tag
``steward.imported_from = mlflow:<run id>``, so importing the same store again skips what
is already there, even when two imports race. Artifacts are not copied (docs/import.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsteward.project import Project
from mlsteward.store.runs import MetricPoint
from mlsteward.tracking.mlflow_sources import (
    Source,
    SourceRun,
    open_source,
    unknown_experiments,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mlsteward.store.database import Store

__all__ = ["IMPORTED_FROM", "ImportReport", "import_mlflow", "imported_run_id"]

IMPORTED_FROM = "steward.imported_from"
BATCH = 5000  # metric points per insert: bounded memory, few round trips
_NAMESPACE = uuid.UUID("6d1c7f53-3f0a-4b8e-9d2c-51c0a7e1b0f4")  # mlsteward's MLflow imports
_STATUS = {"FINISHED": ("finished", None), "FAILED": ("failed", None)}
_KILLED = "killed in MLflow"
_STILL_RUNNING = "still running in MLflow at import"


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    source: str
    dry_run: bool = False
    experiments: int = 0  # that hold at least one run (not deleted)
    runs_imported: int = 0
    runs_skipped: int = 0  # imported before
    runs_deleted: int = 0  # deleted in MLflow: not imported
    params: int = 0
    metric_points: int = 0
    tags: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[int, int], None]


def imported_run_id(mlflow_run_id: str) -> str:
    """The mlsteward run id an MLflow run is imported as: stable, so re-imports find it."""
    return uuid.uuid5(_NAMESPACE, f"mlflow:{mlflow_run_id}").hex


def import_mlflow(
    project: Project,
    uri: str,
    *,
    experiments: Sequence[str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the runs of the MLflow store at ``uri`` into ``project``'s store.

    Args:
        project: the project whose store receives the runs.
        uri: ``sqlite:///mlflow.db``, ``postgresql://...``, ``./mlruns`` or ``file:///...``.
        experiments: import only these experiments (by name); all active ones by default.
        dry_run: read everything and count, write nothing (not even a new store).
        progress: called with (runs done, runs in all) after each run.

    Raises:
        UsageError: an unsupported URI (``import-source``), not an MLflow store
            (``import-not-mlflow``), an unknown experiment name (``not-found``).
        PathError: the store's file or folder does not exist (``path-missing``).
        StewardError: the MLflow store cannot be read or holds a malformed record
            (``import-unreadable``, ``import-malformed``); runs imported before it stay.
    """
    source = open_source(uri)
    store: Store | None = None
    try:
        report = ImportReport(source=source.description, dry_run=dry_run)
        chosen = source.experiments()
        if experiments:
            unknown_experiments(experiments, chosen)
            chosen = [e for e in chosen if e.name in set(experiments)]
        runs = source.runs(chosen)
        report.experiments = len({r.experiment_id for r in runs if not r.deleted})
        store = _target(project, dry_run)
        done = _already_imported(store, runs) if store is not None else set()
        for number, run in enumerate(runs, 1):
            if run.deleted:
                report.runs_deleted += 1
            elif imported_run_id(run.uuid) in done:
                report.runs_skipped += 1
            elif dry_run or store is None:  # no store: a dry run before the first write
                _count(source, run, report)
            elif _import_run(store, source, run, report):
                report.runs_imported += 1
            else:
                report.runs_skipped += 1
            if progress is not None:
                progress(number, len(runs))
        return report
    finally:
        source.close()
        if dry_run and store is not None:  # made for this dry run, not the cached one
            store.close()


def _target(project: Project, dry_run: bool) -> Store | None:
    """The store to write to; for a dry run, the existing store only (None if there is none)."""
    from mlsteward.store.database import Store, open_store

    if not dry_run:
        return open_store(project)
    url = project.store_url
    if url.startswith("sqlite") and not url.endswith(":memory:"):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if not database or not Path(database).is_file():
            return None
    store = Store(url)
    store.open()
    if store.revision() is None:
        store.close()
        return None
    store.check_schema(create=False)
    return store


def _already_imported(store: Store, runs: Sequence[SourceRun]) -> set[str]:
    from sqlalchemy import select

    from mlsteward.store.schema import runs as runs_table

    wanted = [imported_run_id(r.uuid) for r in runs if not r.deleted]
    found: set[str] = set()
    with store.read() as conn:
        for start in range(0, len(wanted), 500):  # keep IN lists short
            chunk = wanted[start : start + 500]
            found.update(
                conn.execute(select(runs_table.c.id).where(runs_table.c.id.in_(chunk))).scalars()
            )
    return found


def _count(source: Source, run: SourceRun, report: ImportReport) -> None:
    report.runs_imported += 1
    report.params += len(source.params(run))
    report.tags += len(source.tags(run))
    report.metric_points += sum(1 for _ in source.metrics(run))


def _import_run(store: Store, source: Source, run: SourceRun, report: ImportReport) -> bool:
    """Write one run in one transaction; False if another import wrote it first."""
    from sqlalchemy.exc import IntegrityError

    run_id = imported_run_id(run.uuid)
    params, tags = source.params(run), source.tags(run)
    try:
        with store.write() as conn:
            if conn.dialect.name == "postgresql":  # serialise imports like SQLite's lock does
                from sqlalchemy import text

                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x57E3A2E})
            if _exists(conn, run_id):
                return False
            points = _write_run(conn, run_id, source, run, params, tags)
    except IntegrityError:
        with store.read() as conn:
            if _exists(conn, run_id):
                return False
        raise
    report.params += len(params)
    report.tags += len(tags)
    report.metric_points += points
    return True


def _exists(conn: Connection, run_id: str) -> bool:
    from mlsteward.store.runs import run_ids

    return bool(run_ids(conn, [run_id]))


def _write_run(
    conn: Connection,
    run_id: str,
    source: Source,
    run: SourceRun,
    params: dict[str, str],
    tags: dict[str, str],
) -> int:
    """The run row, params, tags, metric history, status and event; the count of points."""
    from mlsteward.store import events
    from mlsteward.store import runs as records

    start = _seconds(run.start_ms if run.start_ms is not None else run.end_ms) or 0.0
    commit = tags.get("mlflow.source.git.commit")
    branch = tags.get("mlflow.source.git.branch")
    records.insert_run(
        conn,
        {
            "id": run_id,
            "name": (run.name or tags.get("mlflow.runName") or f"mlflow-{run.uuid[:8]}")[:250],
            "experiment": run.experiment[:250],
            "start_time": start,
            "user": run.user or tags.get("mlflow.user"),
            "git_commit": commit if commit and len(commit) <= 40 else None,
            "git_branch": branch[:250] if branch else None,
            "host": None,
            "pid": None,
        },
    )
    records.set_params(conn, run_id, params)
    extra = {IMPORTED_FROM: f"mlflow:{run.uuid}"}
    if run.artifact_uri:
        extra["steward.mlflow_artifact_uri"] = run.artifact_uri
    records.set_tags(conn, run_id, {**tags, **extra})
    points, last = 0, start
    for batch in _batches(source.metrics(run), BATCH):
        records.insert_metrics(conn, run_id, batch)
        points += len(batch)
        last = max(last, max(p.time for p in batch))
    status, error = _STATUS.get(run.status, ("crashed", _STILL_RUNNING))
    if run.status == "KILLED":
        status, error = "failed", _KILLED
    end = _seconds(run.end_ms)
    records.finish_run(conn, run_id, status, end if end is not None else last, error)
    events.append_event(
        conn,
        "run.imported",
        run_id,
        {
            "from": "mlflow",
            "mlflow_run_id": run.uuid,
            "store": source.description,
            "experiment": run.experiment,
            "status": run.status,
            "params": len(params),
            "tags": len(tags),
            "metric_points": points,
        },
    )
    return points


def _batches(points: Iterable[MetricPoint], size: int) -> Iterator[list[MetricPoint]]:
    batch: list[MetricPoint] = []
    for p in points:
        batch.append(p)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000
