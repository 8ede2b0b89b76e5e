"""`search_runs`, `get_run` and friends through a project: what the public API returns,
how it refuses bad arguments, and that a run logged with `start_run` is found."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from mlsteward.errors import StewardError, UsageError
from mlsteward.project import Project
from mlsteward.store.database import open_store
from mlsteward.store.query import FilterError
from mlsteward.store.runs import MetricPoint, finish_run, insert_metrics, insert_run, set_params
from mlsteward.tracking.search import (
    compare_runs,
    get_run,
    metric_history,
    run_io,
    search_runs,
)


def _add_runs(count: int) -> list[str]:
    store = open_store(Project.open())
    ids = []
    now = time.time()
    with store.write() as conn:
        for i in range(count):
            run_id = f"{i:032x}"
            insert_run(
                conn,
                {"id": run_id, "name": f"run{i}", "experiment": "default", "start_time": now + i},
            )
            set_params(conn, run_id, {"lr": str(i / 10)})
            insert_metrics(conn, run_id, [MetricPoint("auc", i / 10, 0, now)])
            finish_run(conn, run_id, "finished", now + i + 1)
            ids.append(run_id)
    return ids


def test_search_runs_get_run_and_reads_through_the_project(project_dir: Path) -> None:
    ids = _add_runs(5)
    found = search_runs("metrics.auc >= 0.2 and params.lr < 0.4", order_by="-metrics.auc")
    assert [r.name for r in found] == ["run3", "run2"]
    assert [r.name for r in search_runs(limit=2)] == ["run4", "run3"]  # newest first
    assert [r.name for r in search_runs(limit=2, offset=4)] == ["run0"]
    assert search_runs(status="running") == []
    assert search_runs(experiment="other") == []
    assert search_runs(project=project_dir)[0].id == ids[4]

    assert get_run("run2").metrics == {"auc": 0.2}
    run, points = metric_history("run2", "auc")
    assert run.id == ids[2]
    assert [(s, v) for s, v, _ in points] == [(0, 0.2)]
    run, io = run_io(ids[1])
    assert (run.name, io.consumed, io.produced) == ("run1", [], [])
    views, rows = compare_runs(["run1", "run2"], only_diff=True)
    assert [v.name for v in views] == ["run1", "run2"]
    assert [(r.key, r.values) for r in rows] == [
        ("params.lr", ("0.1", "0.2")),
        ("metrics.auc", (0.1, 0.2)),
    ]


def test_bad_arguments_are_usage_errors(project_dir: Path) -> None:
    _add_runs(1)
    for kwargs in ({"limit": 0}, {"limit": 100_001}, {"offset": -1}, {"status": "done"}):
        with pytest.raises(UsageError) as info:
            search_runs(**kwargs)  # type: ignore[arg-type]
        assert info.value.code == "usage-value", kwargs
    with pytest.raises(FilterError) as bad:
        search_runs("metrics.auc >> 1")
    assert (bad.value.code, bad.value.position, bad.value.exit_code) == ("filter-syntax", 13, 2)
    with pytest.raises(FilterError) as field:
        search_runs(order_by="-nope")
    assert field.value.code == "filter-field"
    with pytest.raises(UsageError) as one:
        compare_runs(["run0"])
    assert one.value.code == "usage-value"
    with pytest.raises(StewardError) as missing:
        get_run("no-such-run")
    assert missing.value.code == "not-found"


def test_a_run_logged_with_start_run_is_found(project_dir: Path) -> None:
    from mlsteward.tracking.run import start_run

    with start_run("train", params={"lr": 0.1}, tags={"team": "nlp"}) as run:
        run.log_metric("loss", 0.5, step=0)
        run.log_metric("loss", 0.25, step=1)
        run.log_metric("gap", math.inf)
    (found,) = search_runs("params.lr = 0.1 and metrics.loss < 0.3 and tags.team = 'nlp'")
    assert found.id == run.id
    assert found.status == "finished"
    assert found.metrics["gap"] == math.inf
    assert found.git_commit is not None  # provenance is captured without asking
