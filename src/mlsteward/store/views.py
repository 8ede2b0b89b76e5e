"""Reading runs: `RunView`, search, one run by reference, a metric's history, a run's I/O.

A search selects the ids of one page of runs first (the filter and the order run on
indexes, see `mlsteward.store.query`; sorting bare ids is several times faster than
sorting whole rows), then loads the rows, params, latest metrics and tags of just those
runs with four ``IN`` queries. Nothing ever loads every run's values: that is what makes
MLflow's ``search_runs`` slow on a large store.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, or_, select

from mlsteward.errors import NotFoundError, UsageError
from mlsteward.store.database import Store
from mlsteward.store.liveness import find_crashed, reap_crashed
from mlsteward.store.query import apply_order, filter_clause, parse_filter, parse_order_by
from mlsteward.store.runs import STATUSES
from mlsteward.store.schema import (
    artifacts,
    dataset_versions,
    datasets,
    edges,
    latest_metrics,
    metrics,
    params,
    runs,
    tags,
)

__all__ = [
    "CompareRow",
    "IOItem",
    "RunIO",
    "RunView",
    "common_keys",
    "compare",
    "get_run",
    "metric_history",
    "refresh_status",
    "run_io",
    "search",
]

_CHUNK = 500  # ids per IN (...): well under SQLite's limit on bound parameters
_HEX = re.compile(r"[0-9a-fA-F]{4,32}")
_RUN_COLUMNS = (
    "id",
    "name",
    "experiment",
    "status",
    "start_time",
    "end_time",
    "git_commit",
    "git_branch",
    "git_dirty",
    "git_diff_hash",
    "lock_file",
    "lock_hash",
    "python",
    "command",
    "seeds",
    "host",
    "user",
    "error",
)


@dataclass(frozen=True)
class RunView:
    """A run as readers see it: its row, its params, its latest metrics and its tags.

    ``metrics`` holds each key's latest value; a NaN is ``float("nan")`` and infinities
    are kept as they were logged. ``duration`` is None while the run is running.
    """

    id: str
    name: str
    experiment: str
    status: str
    start_time: float
    end_time: float | None
    duration: float | None
    git_commit: str | None
    git_branch: str | None
    git_dirty: bool | None
    git_diff_hash: str | None
    lock_file: str | None
    lock_hash: str | None
    python: str | None
    command: str | None
    seeds: dict[str, Any]
    host: str | None
    user: str | None
    error: str | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IOItem:
    """An artifact a run consumed or produced; ``dataset`` is ``name@version`` if it is one."""

    artifact_id: str
    kind: str
    name: str
    hash: str
    size: int
    files: int
    dataset: str | None


@dataclass(frozen=True)
class RunIO:
    consumed: list[IOItem]
    produced: list[IOItem]


@dataclass(frozen=True)
class CompareRow:
    """One param or metric across several runs; None where a run lacks it."""

    key: str  # params.lr, metrics.auc
    values: tuple[str | float | None, ...]
    differs: bool


def refresh_status(store: Store) -> list[str]:
    """Mark runs whose process is gone as crashed; return their ids.

    A read decides first whether any running run has lost its process, so a search
    never takes the write lock unless there is a crash to record.
    """
    with store.read() as conn:
        if not find_crashed(conn):
            return []
    with store.write() as conn:
        return reap_crashed(conn)


def search(
    conn: Connection,
    filter: str | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    experiment: str | None = None,
    status: str | None = None,
) -> list[RunView]:
    """The runs that match ``filter``, in ``order_by`` order, one page of them.

    Raises:
        FilterError: the filter or order_by does not parse (``filter-syntax``,
            ``filter-field``).
        UsageError: ``status`` is not a run status (``usage-value``).
    """
    where = filter_clause(parse_filter(filter), conn.dialect.name)
    keys = parse_order_by(order_by)
    if experiment is not None:
        where = and_(where, runs.c.experiment == experiment)
    if status is not None:
        if status not in STATUSES:
            raise UsageError(
                f"status {status!r} is not a run status",
                code="usage-value",
                hint=f"use one of {', '.join(STATUSES)}",
            )
        where = and_(where, runs.c.status == status)
    # the page's ids alone: sorting narrow rows is several times faster than whole runs
    page = apply_order(select(runs.c.id).where(where), keys).limit(limit).offset(offset)
    ids = list(conn.execute(page).scalars())
    found: dict[str, Row[Any]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(select(*(runs.c[c] for c in _RUN_COLUMNS)).where(runs.c.id.in_(chunk)))
        found.update((r.id, r) for r in rows)
    return _hydrate(conn, [found[i] for i in ids])


def get_run(conn: Connection, ref: str) -> RunView:
    """The run ``ref`` names: its id, a unique id prefix (4+ hex digits) or a unique name.

    Raises:
        NotFoundError: no run matches (``not-found``).
        UsageError: several runs match (``ambiguous-ref``); the message lists them.
    """
    ref = ref.strip()
    test = runs.c.name == ref
    if _HEX.fullmatch(ref):
        low = ref.lower()
        # ids are lowercase hex, and "g" sorts after "f": a range the primary key serves
        test = or_(test, and_(runs.c.id >= low, runs.c.id < low + "g"))
    query = select(*(runs.c[c] for c in _RUN_COLUMNS)).where(test)
    rows = conn.execute(query.order_by(runs.c.start_time.desc()).limit(11)).all()
    exact = [r for r in rows if r.id == ref.lower()]
    if exact:
        rows = exact
    if not rows:
        raise NotFoundError(
            f"no run has the id, id prefix or name {ref!r}",
            code="not-found",
            hint="`steward runs list` shows the runs; give 4 or more characters of an id",
        )
    if len(rows) > 1:
        shown = "\n".join(f"  {r.id}  {r.name}" for r in rows[:10])
        more = "\n  ..." if len(rows) > 10 else ""
        raise UsageError(
            f"{ref!r} names several runs:\n{shown}{more}",
            code="ambiguous-ref",
            hint="give more characters of the id",
        )
    return _hydrate(conn, rows)[0]


def metric_history(conn: Connection, run_id: str, key: str) -> list[tuple[int, float, float]]:
    """Every point of metric ``key`` of run ``run_id``: (step, value, time), by step.

    Raises:
        NotFoundError: the run has no such metric (``not-found``); the message lists its
            metrics.
    """
    rows = conn.execute(
        select(metrics.c.step, metrics.c.value, metrics.c.is_nan, metrics.c.time)
        .where(metrics.c.run_id == run_id, metrics.c.key == key)
        .order_by(metrics.c.step, metrics.c.time, metrics.c.id)
    ).all()
    if not rows:
        have = conn.execute(
            select(latest_metrics.c.key)
            .where(latest_metrics.c.run_id == run_id)
            .order_by(latest_metrics.c.key)
        ).scalars()
        names = ", ".join(have) or "none"
        raise NotFoundError(
            f"run {run_id} has no metric {key!r} (its metrics: {names})",
            code="not-found",
            hint="`steward runs show RUN` lists a run's metrics",
        )
    return [(int(r.step), _value(r.value, r.is_nan), float(r.time)) for r in rows]


def run_io(conn: Connection, run_id: str) -> RunIO:
    """The artifacts run ``run_id`` consumed and produced, datasets named ``name@version``."""
    rows = conn.execute(
        select(
            edges.c.direction,
            artifacts.c.id,
            artifacts.c.kind,
            artifacts.c.name,
            artifacts.c.hash,
            artifacts.c.size,
            artifacts.c.files,
            datasets.c.name.label("dataset"),
            dataset_versions.c.version,
        )
        .join(artifacts, artifacts.c.id == edges.c.artifact_id)
        .outerjoin(dataset_versions, dataset_versions.c.artifact_id == artifacts.c.id)
        .outerjoin(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .where(edges.c.run_id == run_id)
        .order_by(edges.c.time, edges.c.id)
    ).all()
    out: dict[str, list[IOItem]] = {"consumed": [], "produced": []}
    for r in rows:
        dataset = f"{r.dataset}@{r.version}" if r.dataset is not None else None
        item = IOItem(r.id, r.kind, r.name, r.hash, int(r.size), int(r.files), dataset)
        out[r.direction].append(item)
    return RunIO(consumed=out["consumed"], produced=out["produced"])


def compare(views: Sequence[RunView], *, only_diff: bool = False) -> list[CompareRow]:
    """Params then metrics of ``views`` side by side; ``only_diff`` keeps the differing rows."""
    rows = []
    for prefix in ("params", "metrics"):
        keys = sorted({k for v in views for k in getattr(v, prefix)})
        for key in keys:
            values = tuple(getattr(v, prefix).get(key) for v in views)
            differs = len({_same(x) for x in values}) > 1
            if differs or not only_diff:
                rows.append(CompareRow(f"{prefix}.{key}", values, differs))
    return rows


def common_keys(views: Iterable[RunView], prefix: str, count: int) -> list[str]:
    """The ``count`` keys (of ``params`` or ``metrics``) most runs in ``views`` have."""
    counter: Counter[str] = Counter()
    for v in views:
        counter.update(getattr(v, prefix).keys())
    return sorted(counter, key=lambda k: (-counter[k], k))[:count]


def _same(value: str | float | None) -> Any:
    # NaN != NaN, but two runs that both logged NaN do not differ
    return "nan" if isinstance(value, float) and math.isnan(value) else value


def _value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan or value is None else float(value)


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _hydrate(conn: Connection, rows: Sequence[Row[Any]]) -> list[RunView]:
    """Attach params, latest metrics and tags to ``rows``: three IN queries per chunk.

    Each query reads the (run_id, key) primary key in order, so the dicts come out
    sorted by key without sorting here.
    """
    ids = [r.id for r in rows]
    ps: dict[str, dict[str, str]] = {i: {} for i in ids}
    ms: dict[str, dict[str, float]] = {i: {} for i in ids}
    ts: dict[str, dict[str, str]] = {i: {} for i in ids}
    for chunk in _chunks(ids):
        for run_id, key, text in conn.execute(_by_run(params, chunk, params.c.value)):
            ps[run_id][key] = text
        for run_id, key, value, is_nan in conn.execute(
            _by_run(latest_metrics, chunk, latest_metrics.c.value, latest_metrics.c.is_nan)
        ):
            ms[run_id][key] = math.nan if is_nan or value is None else value
        for run_id, key, text in conn.execute(_by_run(tags, chunk, tags.c.value)):
            ts[run_id][key] = text
    return [_view(r, ps[r.id], ms[r.id], ts[r.id]) for r in rows]


def _by_run(table: Any, ids: Sequence[str], *values: Any) -> Select[Any]:
    return (
        select(table.c.run_id, table.c.key, *values)
        .where(table.c.run_id.in_(ids))
        .order_by(table.c.run_id, table.c.key)
    )


def _view(row: Row[Any], ps: dict[str, str], ms: dict[str, float], ts: dict[str, str]) -> RunView:
    m = row._mapping
    end = m["end_time"]
    seeds = json.loads(m["seeds"]) if m["seeds"] else {}
    return RunView(
        **{c: m[c] for c in _RUN_COLUMNS if c != "seeds"},
        duration=None if end is None else end - m["start_time"],
        seeds=seeds if isinstance(seeds, dict) else {},
        params=ps,
        metrics=ms,
        tags=ts,
    )
