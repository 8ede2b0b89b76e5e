"""Writing run records: the run row, its environment, params, tags and metric points.

Functions take a connection inside a transaction (`Store.write`) so a caller can group
several writes into one commit; the tracking layer batches metric points through
`insert_metrics`, which also keeps ``latest_metrics`` (what listing and search read).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mlsteward.errors import RecordError
from mlsteward.store.schema import environments, latest_metrics, metrics, params, runs, tags

__all__ = [
    "MetricPoint",
    "finish_run",
    "insert_metrics",
    "insert_run",
    "new_id",
    "number_or_none",
    "put_environment",
    "set_heartbeat",
    "set_params",
    "set_seeds",
    "set_tags",
]

STATUSES = ("running", "finished", "failed", "crashed")


def new_id() -> str:
    """A fresh server-made id: 32 hex digits."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One value of one metric at one step; ``value`` may be NaN or infinite."""

    key: str
    value: float
    step: int
    time: float


def number_or_none(value: str) -> float | None:
    """A param's text read as a finite number, so ``params.lr > 0.01`` compares numbers."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _upsert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_run(conn: Connection, row: Mapping[str, Any]) -> None:
    """Insert a run row (``id``, ``name``, ``start_time`` and provenance columns)."""
    conn.execute(runs.insert().values(status="running", **row))


def put_environment(conn: Connection, digest: str, python: str, packages: str) -> None:
    """Record an environment (python + packages JSON) once per content hash."""
    stmt: Insert = _upsert(conn, environments).values(
        hash=digest, python=python, packages=packages, created=time.time()
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["hash"]))  # type: ignore[attr-defined]


def set_params(conn: Connection, run_id: str, values: Mapping[str, str]) -> None:
    """Record params; a param is set once per run (logging it again with a new value fails).

    Raises:
        RecordError: a key already holds a different value (code ``param-changed``).
    """
    if not values:
        return
    have = dict(
        conn.execute(
            select(params.c.key, params.c.value).where(
                params.c.run_id == run_id, params.c.key.in_(list(values))
            )
        ).all()
    )
    for key, value in values.items():
        if key in have and have[key] != value:
            raise RecordError(
                f"param {key!r} of run {run_id} is {have[key]!r}; it cannot become {value!r}",
                code="param-changed",
                hint="params describe how a run was set up and never change; use a metric or "
                "a tag for what varies, or start a new run",
            )
    new = [
        {"run_id": run_id, "key": k, "value": v, "value_num": number_or_none(v)}
        for k, v in values.items()
        if k not in have
    ]
    if new:
        conn.execute(params.insert(), new)


def set_tags(conn: Connection, run_id: str, values: Mapping[str, str]) -> None:
    """Set tags (the last value wins)."""
    if not values:
        return
    stmt = _upsert(conn, tags)
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()]
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
        ),
        rows,
    )


def insert_metrics(conn: Connection, run_id: str, points: Sequence[MetricPoint]) -> None:
    """Append metric points in one statement and move each key's latest value forward.

    NaN is stored as ``is_nan`` with a NULL value (SQLite turns NaN into NULL anyway);
    infinities are stored as they are.
    """
    if not points:
        return
    conn.execute(metrics.insert(), [_metric_row(run_id, p) for p in points])
    latest: dict[str, MetricPoint] = {}
    for p in points:
        have = latest.get(p.key)
        if have is None or (p.step, p.time) >= (have.step, have.time):
            latest[p.key] = p
    stmt = _upsert(conn, latest_metrics)
    newer = (stmt.excluded.step > latest_metrics.c.step) | (
        (stmt.excluded.step == latest_metrics.c.step)
        & (stmt.excluded.time >= latest_metrics.c.time)
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={c: stmt.excluded[c] for c in ("value", "is_nan", "step", "time")},
            where=newer,
        ),
        [_metric_row(run_id, p) for p in latest.values()],
    )


def _metric_row(run_id: str, p: MetricPoint) -> dict[str, Any]:
    nan = math.isnan(p.value)
    return {
        "run_id": run_id,
        "key": p.key,
        "value": None if nan else p.value,
        "is_nan": nan,
        "step": p.step,
        "time": p.time,
    }


def finish_run(
    conn: Connection, run_id: str, status: str, end_time: float, error: str | None = None
) -> bool:
    """End a run that is still running; False if it had already ended."""
    if status not in STATUSES[1:]:
        raise ValueError(f"a run ends as one of {STATUSES[1:]}, not {status!r}")
    result = conn.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.status == "running")
        .values(status=status, end_time=end_time, error=error)
    )
    return bool(result.rowcount)


def set_seeds(conn: Connection, run_id: str, seeds: Mapping[str, int]) -> None:
    """Record the seeds a run set (JSON ``{"random": 1, "numpy": 1, ...}``)."""
    import json

    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(seeds=json.dumps(dict(seeds), sort_keys=True))
    )


def set_heartbeat(conn: Connection, run_id: str, when: float) -> None:
    conn.execute(update(runs).where(runs.c.id == run_id).values(heartbeat=when))


def run_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are runs in the store."""
    return set(conn.execute(select(runs.c.id).where(runs.c.id.in_(list(ids)))).scalars())
