"""Metric logging: buffering, steps, latest values, non-finite values, validation."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mlsteward import Project
from mlsteward.errors import RecordError
from mlsteward.store.database import open_store
from mlsteward.store.runs import MetricPoint
from mlsteward.store.schema import latest_metrics, metrics, params, tags
from mlsteward.tracking import buffer
from mlsteward.tracking.run import active_run, start_run


@pytest.fixture
def project(project_dir: Path) -> Iterator[Project]:
    """The project; any run a failing test left open is ended before the store goes."""
    yield Project.open()
    while (run := active_run()) is not None:
        run.end("failed", error="left open by a test")


def points(run_id: str) -> list[tuple[str, float | None, bool, int]]:
    with open_store(Project.open()).read() as conn:
        rows = conn.execute(
            select(metrics.c.key, metrics.c.value, metrics.c.is_nan, metrics.c.step)
            .where(metrics.c.run_id == run_id)
            .order_by(metrics.c.id)
        )
        return [(r.key, r.value, bool(r.is_nan), r.step) for r in rows]


def latest(run_id: str) -> dict[str, tuple[float | None, bool, int]]:
    with open_store(Project.open()).read() as conn:
        rows = conn.execute(select(latest_metrics).where(latest_metrics.c.run_id == run_id))
        return {r.key: (r.value, bool(r.is_nan), r.step) for r in rows}


class Real:
    """Anything with ``__float__`` is a real number to log."""

    def __float__(self) -> float:
        return 2.5


def test_metrics_round_trip_with_steps(project: Project) -> None:
    with start_run() as run:
        run.log_metric("loss", 0.9)  # steps count per key from 0
        run.log_metric("loss", 0.7)
        run.log_metric("loss", 0.5, step=10)
        run.log_metric("loss", 0.4)  # one past the last step
        run.log_metrics({"auc": 0.8, "f1": Fraction(1, 4)}, step=2)
        run.log_metric("acc", 1)
        run.log_metric("acc", Decimal("0.5"))
        run.log_metric("acc", Real())
        run.log_metric("auc", 0.6, step=1)  # an earlier step: not the latest value
        assert points(run.id) == []  # buffered, not yet written
        run.flush()
        assert len(points(run.id)) == 10
        run.log_metric("late", 1.0)  # written when the run ends
    assert points(run.id) == [
        ("loss", 0.9, False, 0),
        ("loss", 0.7, False, 1),
        ("loss", 0.5, False, 10),
        ("loss", 0.4, False, 11),
        ("auc", 0.8, False, 2),
        ("f1", 0.25, False, 2),
        ("acc", 1.0, False, 0),
        ("acc", 0.5, False, 1),
        ("acc", 2.5, False, 2),
        ("auc", 0.6, False, 1),
        ("late", 1.0, False, 0),
    ]
    assert latest(run.id) == {
        "loss": (0.4, False, 11),
        "auc": (0.8, False, 2),
        "f1": (0.25, False, 2),
        "acc": (2.5, False, 2),
        "late": (1.0, False, 0),
    }


def test_non_finite_values_are_stored_and_said(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mlsteward")
    with start_run() as run:
        run.log_metric("loss", math.nan)
        run.log_metric("loss", math.nan)
        run.log_metric("loss", math.inf)
        run.log_metric("grad", -math.inf)
        run.log_metric("grad", 1.0)
    stored = points(run.id)
    assert stored[:2] == [("loss", None, True, 0), ("loss", None, True, 1)]
    assert stored[2] == ("loss", math.inf, False, 2)
    assert stored[3] == ("grad", -math.inf, False, 0)
    assert latest(run.id) == {"loss": (math.inf, False, 2), "grad": (1.0, False, 1)}
    warned = [r.getMessage() for r in caplog.records if r.name == "mlsteward"]
    assert len(warned) == 2  # once per key per run
    assert "'loss' is nan" in warned[0]
    assert "'grad' is -inf" in warned[1]
    with start_run() as last_nan:
        last_nan.log_metric("loss", 0.5)
        last_nan.log_metric("loss", math.nan)
    assert latest(last_nan.id) == {"loss": (None, True, 1)}


BAD_CALLS: list[tuple[Any, str, str]] = [
    (lambda r: r.log_metric("loss", "0.3"), "metric-value", "str"),
    (lambda r: r.log_metric("loss", True), "metric-value", "bool"),
    (lambda r: r.log_metric("loss", None), "metric-value", "NoneType"),
    (lambda r: r.log_metric("loss", [1.0]), "metric-value", "list"),
    (lambda r: r.log_metric("loss", 1 + 2j), "metric-value", "complex"),
    (lambda r: r.log_metric("", 1.0), "record-key", "1-250"),
    (lambda r: r.log_metric("a" * 251, 1.0), "record-key", "251"),
    (lambda r: r.log_metric("a\tb", 1.0), "record-key", "control"),
    (lambda r: r.log_metric(("a",), 1.0), "record-key", "tuple"),
    (lambda r: r.log_metric("loss", 1.0, step=-1), "metric-step", "-1"),
    (lambda r: r.log_metric("loss", 1.0, step=1.5), "metric-step", "float"),
    (lambda r: r.log_metric("loss", 1.0, step=True), "metric-step", "bool"),
    (lambda r: r.log_metric("loss", 1.0, step=2**63), "metric-step", "2**63"),
    (lambda r: r.log_metric("loss", 1.0, timestamp=math.inf), "metric-time", "inf"),
    (lambda r: r.log_metric("loss", 1.0, timestamp="now"), "metric-time", "now"),
    (lambda r: r.log_metrics({"ok": 2.0, "bad": "x"}), "metric-value", "str"),
    (lambda r: r.log_batch([("loss",)]), "metric-value", "tuple"),
    (lambda r: r.log_batch([("loss", 1.0), ("loss", "x", 1)]), "metric-value", "str"),
    (lambda r: r.log_batch([("a\x00", 1.0)]), "record-key", "control"),
]


def test_bad_metrics_are_refused_and_keep_what_is_stored(project: Project) -> None:
    with start_run() as run:
        run.log_metric("ok", 1.0)
        run.flush()
        for call, code, said in BAD_CALLS:
            with pytest.raises(RecordError) as info:
                call(run)
            assert info.value.code == code, said
            assert said in info.value.message, info.value.message
            assert info.value.hint
    # the good points are kept: log_metrics writes point by point, a batch all or nothing
    assert points(run.id) == [("ok", 1.0, False, 0), ("ok", 2.0, False, 1)]


def test_log_batch_writes_at_once(project: Project) -> None:
    with start_run() as run:
        run.log_metric("loss", 1.0)  # step 0, still buffered
        run.log_batch(
            [("loss", 0.5), ("loss", 0.25, 7), MetricPoint("acc", 0.9, 3, 1_700_000_000.0)],
            params={"lr": 0.1},
            tags={"kind": "batch"},
        )
        stored = points(run.id)
        assert stored == [("loss", 0.5, False, 1), ("loss", 0.25, False, 7), ("acc", 0.9, False, 3)]
        with open_store(project).read() as conn:
            assert conn.execute(select(params.c.value)).scalars().all() == ["0.1"]
            assert conn.execute(select(tags.c.value)).scalars().all() == ["batch"]
        run.log_metric("loss", 0.1)  # counts on from the batch
    assert [p[3] for p in points(run.id) if p[0] == "loss"] == [1, 7, 0, 8]


def test_ten_thousand_points_all_land(project: Project) -> None:
    with start_run() as run:
        for i in range(buffer.FLUSH_POINTS + 5):
            run.log_metric("loss", i / 10_000)
        # the call that filled the buffer wrote it (the 5 since may have been flushed by
        # the background thread too, if the loop took longer than FLUSH_SECONDS)
        assert len(points(run.id)) in (buffer.FLUSH_POINTS, buffer.FLUSH_POINTS + 5)
        for i in range(buffer.FLUSH_POINTS + 5, 10_000):
            run.log_metric("loss", i / 10_000)
        run.log_metric("auc", 0.5)
    with open_store(project).read() as conn:
        count, top, distinct = conn.execute(
            select(
                func.count(), func.max(metrics.c.step), func.count(metrics.c.step.distinct())
            ).where(metrics.c.key == "loss")
        ).one()
    assert (count, top, distinct) == (10_000, 9_999, 10_000)
    assert latest(run.id)["loss"] == (0.9999, False, 9_999)
