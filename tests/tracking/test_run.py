"""Tracked runs: the run row, params, tags, nesting and how a run ends (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mlsteward import Project
from mlsteward.errors import RecordError
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events
from mlsteward.store.schema import metrics, params, runs, tags
from mlsteward.tracking.run import PARENT_TAG, Run, active_run, start_run


@pytest.fixture
def project(project_dir: Path) -> Iterator[Project]:
    """The project; any run a failing test left open is ended before the store goes."""
    yield Project.open()
    while (run := active_run()) is not None:
        run.end("failed", error="left open by a test")


def run_row(run_id: str) -> Any:
    with open_store(Project.open()).read() as conn:
        return conn.execute(select(runs).where(runs.c.id == run_id)).one()


def kv(table: Any, run_id: str) -> dict[str, str]:
    with open_store(Project.open()).read() as conn:
        rows = conn.execute(select(table.c.key, table.c.value).where(table.c.run_id == run_id))
        return dict(rows.all())


def test_params_and_tags_round_trip(project: Project) -> None:
    with start_run("train", {"lr": 0.1, "layers": [64, 32]}, tags={"team": "nlp"}) as run:
        run.log_param("epochs", 3)
        run.log_params({"optimizer": "adam", "lr": 0.1})  # the same value again is fine
        run.set_tag("stage", "dev")
        run.set_tags({"stage": "review", "owner": "ana"})  # a tag's last value wins
    assert kv(params, run.id) == {
        "lr": "0.1",
        "layers": "[64, 32]",
        "epochs": "3",
        "optimizer": "adam",
    }
    assert kv(tags, run.id) == {"team": "nlp", "stage": "review", "owner": "ana"}
    with open_store(project).read() as conn:
        numbers = dict(conn.execute(select(params.c.key, params.c.value_num)).all())
    assert numbers["lr"] == 0.1
    assert numbers["optimizer"] is None


def test_run_row_and_events(project: Project) -> None:
    with start_run("train", experiment="exp1") as run:
        assert active_run() is run
        assert run_row(run.id).status == "running"
    assert active_run() is None
    assert run.status == "finished"
    row = run_row(run.id)
    assert (row.name, row.experiment, row.status) == ("train", "exp1", "finished")
    assert row.end_time >= row.start_time
    assert row.error is None
    with open_store(project).read() as conn:
        events = read_events(conn, subject=run.id)
    assert [e.kind for e in events] == ["run.start", "run.end"]
    assert events[1].payload["status"] == "finished"


def test_run_without_with_block(project: Project) -> None:
    run = start_run()
    assert isinstance(run, Run)
    assert run.name  # a default name
    run.end()
    run.end()  # ending twice does nothing
    assert run_row(run.id).status == "finished"
    with pytest.raises(RecordError) as info:
        run.log_metric("loss", 1.0)
    assert info.value.code == "run-ended"
    with pytest.raises(RecordError) as info:
        run.log_param("lr", 1)
    assert info.value.code == "run-ended"

    other = start_run()
    with pytest.raises(RecordError) as info:
        other.end("crashed")
    assert info.value.code == "run-status"
    other.end("failed", error="diverged")
    assert (run_row(other.id).status, run_row(other.id).error) == ("failed", "diverged")


def test_params_never_change_and_stay_small(project: Project) -> None:
    with start_run(params={"lr": 0.1}) as run:
        with pytest.raises(RecordError) as info:
            run.log_params({"batch": 32, "lr": 0.2})
        assert info.value.code == "param-changed"
        # the whole call was refused: nothing of it was written
        assert kv(params, run.id) == {"lr": "0.1"}
        run.log_param("big", "y" * (64 * 1024))
        with pytest.raises(RecordError) as info:
            run.log_param("bigger", "y" * (64 * 1024 + 1))
        assert info.value.code == "param-too-large"
        assert "log_artifact" in (info.value.hint or "")
        with pytest.raises(RecordError) as info:
            run.set_tag("k" * 251, "v")
        assert info.value.code == "record-key"
    assert kv(params, run.id) == {"lr": "0.1", "big": "y" * (64 * 1024)}


def fail_inside(exc: BaseException, started: list[Run]) -> None:
    """Start a run (appended to ``started``), log a point and raise ``exc`` in its block."""
    with start_run("train") as run:
        started.append(run)
        run.log_metric("loss", 0.5)
        raise exc


def test_failed_run_records_the_exception_and_reraises(project: Project) -> None:
    started: list[Run] = []
    with pytest.raises(ValueError, match="bad batch"):
        fail_inside(ValueError("bad batch " + "x" * 3000), started)
    run = started[-1]
    row = run_row(run.id)
    assert row.status == "failed"
    assert row.error.startswith("ValueError: bad batch")
    assert len(row.error) == 2000
    with open_store(project).read() as conn:
        end = read_events(conn, subject=run.id, kind="run.end")
        assert conn.execute(select(metrics.c.value).where(metrics.c.run_id == run.id)).all()
    assert end[0].payload["status"] == "failed"

    with pytest.raises(KeyboardInterrupt):
        fail_inside(KeyboardInterrupt(), started)
    assert (run_row(started[-1].id).status, run_row(started[-1].id).error) == (
        "failed",
        "KeyboardInterrupt",
    )
    with pytest.raises(SystemExit):
        fail_inside(SystemExit(0), started)
    assert run_row(started[-1].id).status == "finished"
    with pytest.raises(SystemExit):
        fail_inside(SystemExit(3), started)
    assert run_row(started[-1].id).status == "failed"


def test_nested_runs(project: Project) -> None:
    with start_run("outer") as outer:
        with pytest.raises(RecordError) as info:
            start_run("inner")
        assert info.value.code == "run-active"
        assert info.value.hint is not None
        assert "nested=True" in info.value.hint
        with start_run("inner", nested=True) as inner:
            assert active_run() is inner
            inner.log_metric("loss", 1.0)
        assert active_run() is outer
    assert kv(tags, inner.id) == {PARENT_TAG: outer.id}
    assert kv(tags, outer.id) == {}
    assert run_row(inner.id).status == run_row(outer.id).status == "finished"


def test_bad_names_keys_and_values_write_nothing(project: Project) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": ""}, "run-name"),
        ({"name": "a\nb"}, "run-name"),
        ({"experiment": "x" * 251}, "run-name"),
        ({"params": {"": 1}}, "record-key"),
        ({"params": {1: 1}}, "record-key"),
        ({"params": {"lr": "x" * (64 * 1024 + 1)}}, "param-too-large"),
        ({"tags": {"note": "x" * (64 * 1024 + 1)}}, "tag-too-large"),
        ({"tags": {"a\x00b": "x"}}, "record-key"),
        ({"seed": -1}, "seed-value"),
    ]
    for kwargs, code in cases:
        with pytest.raises(RecordError) as info:
            start_run(**kwargs)
        assert info.value.code == code, kwargs
        assert info.value.hint
    assert active_run() is None
    with open_store(project).read() as conn:
        assert conn.execute(select(runs.c.id)).all() == []
