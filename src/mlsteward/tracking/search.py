"""Finding runs: `search_runs`, `get_run`, and the reads the CLI shows (history, I/O, compare).

Each call opens the project's store (cached per process), first marks runs whose
process is gone as crashed, then reads in one transaction. The filter language is in
docs/runs.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlsteward.errors import UsageError
from mlsteward.project import Project

if TYPE_CHECKING:
    from mlsteward.store.database import Store
    from mlsteward.store.views import CompareRow, RunIO, RunView

__all__ = ["compare_runs", "get_run", "metric_history", "run_io", "search_runs"]

MAX_LIMIT = 100_000


def search_runs(
    filter: str | None = None,
    *,
    order_by: str | Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    experiment: str | None = None,
    status: str | None = None,
    project: str | Path | None = None,
) -> list[RunView]:
    """The runs matching ``filter`` (e.g. ``"metrics.auc > 0.8 and params.lr = 0.1"``).

    Args:
        filter: the filter expression; None or "" matches every run.
        order_by: ``"-metrics.auc"``, ``"metrics.auc desc"``, ``"start_time"`` or a list
            of them; the default is the newest first. Missing values sort last.
        limit: at most this many runs (1 to 100,000).
        offset: skip this many matching runs first (for paging).
        experiment: only runs of this experiment.
        status: only runs with this status (running, finished, failed, crashed).
        project: the project's directory (default: found from the working directory).

    Raises:
        FilterError: the filter or order_by is malformed (``filter-syntax``) or names an
            unknown attribute (``filter-field``).
        UsageError: ``limit``, ``offset`` or ``status`` out of range (``usage-value``).
    """
    from mlsteward.store.views import search

    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(
            f"limit must be between 1 and {MAX_LIMIT:,}, got {limit}",
            code="usage-value",
            hint="page through more runs with offset",
        )
    if offset < 0:
        raise UsageError(
            f"offset must be 0 or more, got {offset}", code="usage-value", hint="start at 0"
        )
    store = _store(project)
    with store.read() as conn:
        return search(conn, filter, order_by, limit, offset, experiment, status)


def get_run(ref: str, *, project: str | Path | None = None) -> RunView:
    """The run with this id, unique id prefix (4+ hex digits) or unique name.

    Raises:
        NotFoundError: no such run (``not-found``).
        UsageError: the reference names several runs (``ambiguous-ref``).
    """
    from mlsteward.store.views import get_run as get

    store = _store(project)
    with store.read() as conn:
        return get(conn, ref)


def metric_history(
    ref: str, key: str, *, project: str | Path | None = None
) -> tuple[RunView, list[tuple[int, float, float]]]:
    """The run ``ref`` and every point of its metric ``key``: (step, value, time)."""
    from mlsteward.store.views import get_run as get
    from mlsteward.store.views import metric_history as history

    store = _store(project)
    with store.read() as conn:
        run = get(conn, ref)
        return run, history(conn, run.id, key)


def run_io(ref: str, *, project: str | Path | None = None) -> tuple[RunView, RunIO]:
    """The run ``ref`` and the artifacts and dataset versions it consumed and produced."""
    from mlsteward.store.views import get_run as get
    from mlsteward.store.views import run_io as io

    store = _store(project)
    with store.read() as conn:
        run = get(conn, ref)
        return run, io(conn, run.id)


def compare_runs(
    refs: Sequence[str], *, only_diff: bool = False, project: str | Path | None = None
) -> tuple[list[RunView], list[CompareRow]]:
    """The runs ``refs`` and their params and latest metrics side by side.

    Raises:
        UsageError: fewer than two runs (``usage-value``).
    """
    from mlsteward.store.views import compare
    from mlsteward.store.views import get_run as get

    if len(refs) < 2:
        raise UsageError(
            f"compare needs two runs or more, got {len(refs)}",
            code="usage-value",
            hint="steward runs compare RUN RUN [RUN...]",
        )
    store = _store(project)
    with store.read() as conn:
        views = [get(conn, ref) for ref in refs]
    return views, compare(views, only_diff=only_diff)


def _store(project: str | Path | None) -> Store:
    from mlsteward.store.database import open_store
    from mlsteward.store.views import refresh_status

    store = open_store(Project.open(project))
    refresh_status(store)
    return store
