"""Reading runs: hydration of one page only, references (id, prefix, name, ambiguous),
a metric's history, a run's inputs and outputs, compare, and crashed-run detection."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from mlsteward.errors import NotFoundError, UsageError
from mlsteward.store.database import Store
from mlsteward.store.runs import (
    MetricPoint,
    finish_run,
    insert_metrics,
    insert_run,
    set_params,
    set_tags,
)
from mlsteward.store.views import (
    compare,
    get_run,
    metric_history,
    refresh_status,
    run_io,
    search,
)
from records_builder import dataset_and_model

ID_A = "abcd" + "0" * 28
ID_B = "abcd" + "1" * 28
ID_C = "ef01" + "2" * 28


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Three runs: two named "train" whose ids share the prefix "abcd", one "eval"."""
    store = Store.connect(store_url)
    now = time.time()
    with store.write() as conn:
        for i, (run_id, name) in enumerate(((ID_A, "train"), (ID_B, "train"), (ID_C, "eval"))):
            insert_run(
                conn,
                {
                    "id": run_id,
                    "name": name,
                    "experiment": "default",
                    "start_time": now + i,
                    "git_commit": "c" * 40,
                    "git_dirty": True,
                    "seeds": json.dumps({"random": i}),
                    "host": "box",
                    "user": "ana",
                },
            )
            set_params(conn, run_id, {"lr": f"0.{i + 1}", "opt": "adam"})
            set_tags(conn, run_id, {"i": str(i)})
            points = [MetricPoint("loss", 1.0 / (step + 1), step, now + step) for step in range(3)]
            points.append(MetricPoint("auc", math.nan if i == 1 else 0.5 + i / 10, 0, now))
            insert_metrics(conn, run_id, points)
            finish_run(conn, run_id, "failed" if i == 2 else "finished", now + i + 5, "boom")
    yield store
    store.close()


def test_search_reads_only_the_page(store: Store) -> None:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        statements.append((sql, params))

    with store.read() as conn:
        event.listen(conn, "before_cursor_execute", record)
        views = search(conn, None, "start_time", limit=1, offset=1)
        event.remove(conn, "before_cursor_execute", record)
    assert [v.id for v in views] == [ID_B]
    # the page's ids, then the rows, params, latest metrics and tags of that page's one run
    assert len(statements) == 5, [s for s, _ in statements]
    for sql, params in statements[1:]:
        assert " IN " in sql.upper()
        values = list(params.values()) if isinstance(params, dict) else list(params)
        assert ID_A not in values
        assert ID_C not in values
    (run,) = views
    assert run.params == {"lr": "0.2", "opt": "adam"}
    assert run.tags == {"i": "1"}
    assert math.isnan(run.metrics["auc"])
    assert run.metrics["loss"] == pytest.approx(1 / 3)
    assert run.seeds == {"random": 1}
    assert run.duration == pytest.approx(5.0)
    assert (run.git_dirty, run.host, run.user, run.status) == (True, "box", "ana", "finished")


def test_get_run_by_id_prefix_or_name_never_guessing(store: Store) -> None:
    refs = [(ID_C, ID_C), ("ef01", ID_C), ("EF012", ID_C), ("eval", ID_C), (f"  {ID_A}  ", ID_A)]
    with store.read() as conn:
        found = [(ref, get_run(conn, ref).id) for ref, _ in refs]
        assert get_run(conn, ID_A).params["opt"] == "adam"
    assert found == refs
    # an ambiguous reference is refused, listing the candidates
    for ref in ("train", "abcd", "ABCD"):
        with store.read() as conn, pytest.raises(UsageError) as info:
            get_run(conn, ref)
        assert info.value.code == "ambiguous-ref"
        assert ID_A in info.value.message
        assert ID_B in info.value.message
    # "abc" is too short to be a prefix and names no run
    for ref in ("nope", "abc", "ffff", ""):
        with store.read() as conn, pytest.raises(NotFoundError) as info:
            get_run(conn, ref)
        assert info.value.code == "not-found"


def test_metric_history_in_step_order_with_nan(store: Store) -> None:
    with store.read() as conn:
        assert [(s, v) for s, v, _ in metric_history(conn, ID_A, "loss")] == [
            (0, 1.0),
            (1, 0.5),
            (2, pytest.approx(1 / 3)),
        ]
        ((step, value, _),) = metric_history(conn, ID_B, "auc")
        assert step == 0
        assert math.isnan(value)
        with pytest.raises(NotFoundError) as info:
            metric_history(conn, ID_A, "acc")
    assert "auc, loss" in info.value.message


def test_run_io_names_datasets_by_version(store: Store) -> None:
    now = time.time()
    with store.write() as conn:
        dataset_and_model(conn, ID_A, version=3, size=10, source="s3://bucket", now=now)
    with store.read() as conn:
        io = run_io(conn, ID_A)
        assert run_io(conn, ID_C).consumed == []
    assert [(i.dataset, i.kind, i.size) for i in io.consumed] == [("reviews@3", "dataset", 10)]
    assert [(i.dataset, i.name, i.hash) for i in io.produced] == [(None, "model.skops", "e" * 64)]


def test_compare_marks_differences_and_nan_equals_nan(store: Store) -> None:
    with store.read() as conn:
        a, b, c = (get_run(conn, i) for i in (ID_A, ID_B, ID_C))
    rows = {r.key: r for r in compare([a, b, c])}
    assert list(rows) == ["params.lr", "params.opt", "metrics.auc", "metrics.loss"]
    assert rows["params.lr"].values == ("0.1", "0.2", "0.3")
    assert rows["params.lr"].differs
    assert not rows["params.opt"].differs
    assert rows["metrics.auc"].differs
    b2 = dataclasses.replace(b, id="x")  # the same NaN in two runs is no difference
    assert not {r.key: r for r in compare([b, b2])}["metrics.auc"].differs
    assert [r.key for r in compare([a, b], only_diff=True)] == ["params.lr", "metrics.auc"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_refresh_status_marks_a_dead_process_crashed_and_keeps_a_live_one(
    store: Store,
) -> None:
    with store.write() as conn:
        for run_id, pid in (("1" * 32, _dead_pid()), ("2" * 32, os.getpid())):
            insert_run(
                conn,
                {
                    "id": run_id,
                    "name": "live",
                    "experiment": "default",
                    "start_time": time.time(),
                    "heartbeat": time.time(),
                    "host": socket.gethostname(),
                    "pid": pid,
                },
            )
    assert refresh_status(store) == ["1" * 32]
    assert refresh_status(store) == []  # idempotent: nothing new has died
    with store.read() as conn:
        assert get_run(conn, "1111").status == "crashed"
        assert get_run(conn, "2222").status == "running"
        assert [v.name for v in search(conn, "status = 'crashed'")] == ["live"]


def test_refresh_status_without_running_runs_takes_no_write_lock(store: Store) -> None:
    # hold the write lock elsewhere: a store with no running run must still be readable
    if store.dialect != "sqlite":
        pytest.skip("the SQLite write lock is what this checks")
    with store.write():
        assert refresh_status(store) == []
