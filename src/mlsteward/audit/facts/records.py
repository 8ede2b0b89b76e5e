"""mlsteward's own records, when the repository has a ``.steward/`` workspace.

Records are the strongest evidence the audit has (*verified*): a tracked run with its
commit, a dataset version with its hash, an event log, not a file that merely exists.

The audit reads the store the way it reads everything else: without running anything
and without writing. The SQLite file is opened read-only with the standard library
(SQLAlchemy would cost start-up time for one summary query); a store the code cannot
read (damaged, a newer schema, a team's PostgreSQL server named in the config) is
reported as such and judged on the other evidence.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["RecordFacts", "RunSummary", "gather"]


@dataclass(frozen=True)
class RunSummary:
    """Counts over the tracked runs of a store."""

    total: int = 0
    finished: int = 0
    with_params: int = 0
    with_metrics: int = 0
    stepped: int = 0  # runs with a metric logged at more than one step
    with_commit: int = 0
    dirty: int = 0
    with_lock: int = 0
    with_seeds: int = 0
    consumed_data: int = 0  # runs that recorded the dataset versions they used
    last_start: float | None = None


@dataclass(frozen=True)
class RecordFacts:
    workspace: Path | None
    store: Path | None
    runs: RunSummary = field(default_factory=RunSummary)
    datasets: int = 0
    dataset_versions: int = 0
    versions_with_commit: int = 0
    events: int = 0
    revision: str | None = None
    error: str | None = None

    @property
    def present(self) -> bool:
        return self.workspace is not None

    @property
    def readable(self) -> bool:
        return self.store is not None and self.error is None


_RUNS = """
SELECT count(*),
       sum(status = 'finished'),
       sum(EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id)),
       sum(EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id)),
       sum(EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.step > 0)),
       sum(git_commit IS NOT NULL),
       sum(coalesce(git_dirty, 0)),
       sum(lock_hash IS NOT NULL),
       sum(seeds IS NOT NULL AND seeds NOT IN ('', '{}', 'null')),
       sum(EXISTS (SELECT 1 FROM edges e JOIN dataset_versions v ON v.artifact_id = e.artifact_id
                   WHERE e.run_id = r.id AND e.direction = 'consumed')),
       max(start_time)
FROM runs r
"""


def gather(facts: Facts) -> RecordFacts:
    ws = facts.root / ".steward"
    if not ws.is_dir() or ws.is_symlink():
        return RecordFacts(None, None)
    db = ws / "steward.db"
    if not db.is_file() or db.is_symlink():
        return RecordFacts(ws, None)
    try:
        return _read(ws, db)
    except sqlite3.Error as exc:
        return RecordFacts(ws, db, error=f"the store cannot be read: {exc}")


def _connect(db: Path) -> sqlite3.Connection:
    uri = db.resolve().as_uri()
    wal = db.with_name(db.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        # a writer's log holds recent records: read through it (read-only; its -shm exists)
        return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2)
    # the main file is complete: read it as an immutable snapshot, which creates no
    # -wal/-shm files next to it (the audit writes nothing in the audited repository)
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _read(ws: Path, db: Path) -> RecordFacts:
    conn = _connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables or "runs" not in tables:
            return RecordFacts(ws, db, error="the file is not an mlsteward store")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
        counts = conn.execute(_RUNS).fetchone()
        runs = replace(RunSummary(*[int(c or 0) for c in counts[:-1]]), last_start=counts[-1])
        datasets = versions = with_commit = 0
        if "dataset_versions" in tables:
            datasets = conn.execute("SELECT count(*) FROM datasets").fetchone()[0]
            versions, with_commit = conn.execute(
                "SELECT count(*), sum(code_commit IS NOT NULL) FROM dataset_versions"
            ).fetchone()
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    return RecordFacts(
        ws,
        db,
        runs=runs,
        datasets=int(datasets),
        dataset_versions=int(versions or 0),
        versions_with_commit=int(with_commit or 0),
        events=int(events),
        revision=revision,
    )
