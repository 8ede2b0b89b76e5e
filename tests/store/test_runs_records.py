"""Writing run records (store/runs.py): metrics and their latest values, params, tags, ends."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mlsteward.errors import RecordError
from mlsteward.store.database import Store
from mlsteward.store.runs import (
    MetricPoint,
    finish_run,
    insert_metrics,
    insert_run,
    new_id,
    number_or_none,
    put_environment,
    run_ids,
    set_heartbeat,
    set_params,
    set_tags,
)
from mlsteward.store.schema import environments, latest_metrics, metrics, params, runs, tags


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store.connect(store_url)
    yield store
    store.close()


@pytest.fixture
def run_id(store: Store) -> str:
    rid = new_id()
    with store.write() as conn:
        insert_run(conn, {"id": rid, "name": "train", "experiment": "e", "start_time": 1.0})
    return rid


def _latest(store: Store, run_id: str) -> dict[str, tuple[float | None, bool, int, float]]:
    with store.read() as conn:
        rows = conn.execute(sa.select(latest_metrics).where(latest_metrics.c.run_id == run_id))
        return {r.key: (r.value, r.is_nan, r.step, r.time) for r in rows}


def _log(store: Store, run_id: str, *points: tuple[str, float, int, float]) -> None:
    with store.write() as conn:
        insert_metrics(conn, run_id, [MetricPoint(*p) for p in points])


def test_new_ids_are_32_hex_and_distinct() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_latest_metric_moves_forward_only(store: Store, run_id: str) -> None:
    # within one batch, out of order: the highest step wins
    _log(store, run_id, ("loss", 0.5, 5, 10.0), ("loss", 0.9, 3, 11.0), ("auc", 0.7, 0, 10.0))
    assert _latest(store, run_id)["loss"] == (0.5, False, 5, 10.0)
    # a later batch with a lower step does not move it back, even when written later
    _log(store, run_id, ("loss", 0.8, 4, 20.0))
    assert _latest(store, run_id)["loss"] == (0.5, False, 5, 10.0)
    # the same step written later does
    _log(store, run_id, ("loss", 0.4, 5, 21.0))
    assert _latest(store, run_id)["loss"] == (0.4, False, 5, 21.0)
    # ... and the same step with an earlier time does not
    _log(store, run_id, ("loss", 0.3, 5, 15.0))
    assert _latest(store, run_id)["loss"] == (0.4, False, 5, 21.0)
    # a higher step moves it on; other keys are untouched
    _log(store, run_id, ("loss", 0.2, 6, 1.0))
    assert _latest(store, run_id) == {"loss": (0.2, False, 6, 1.0), "auc": (0.7, False, 0, 10.0)}
    with store.read() as conn:  # every point is kept in the history
        assert conn.execute(sa.select(sa.func.count()).select_from(metrics)).scalar() == 7


def test_nan_and_infinities_round_trip(store: Store, run_id: str) -> None:
    values = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "tiny": 5e-324, "big": 1e308}
    _log(store, run_id, *((k, v, 0, 1.0) for k, v in values.items()))
    with store.read() as conn:
        rows = conn.execute(sa.select(metrics.c.key, metrics.c.value, metrics.c.is_nan)).all()
    back = {k: math.nan if is_nan else v for k, v, is_nan in rows}
    assert math.isnan(back.pop("nan"))
    assert back == {k: v for k, v in values.items() if k != "nan"}
    latest = _latest(store, run_id)
    assert latest["nan"][:2] == (None, True)
    assert latest["inf"][:2] == (math.inf, False)
    assert latest["-inf"][:2] == (-math.inf, False)
    # a NaN later at the same step replaces a number, and a number replaces the NaN
    _log(store, run_id, ("inf", math.nan, 0, 2.0), ("nan", 1.5, 0, 2.0))
    latest = _latest(store, run_id)
    assert latest["inf"][:2] == (None, True)
    assert latest["nan"][:2] == (1.5, False)


def test_params_are_set_once(store: Store, run_id: str) -> None:
    with store.write() as conn:
        set_params(conn, run_id, {"lr": "0.1", "opt": "adam", "big": "1e400", "n": "nan"})
        set_params(conn, run_id, {"lr": "0.1", "epochs": "3"})  # same value again: fine
        set_params(conn, run_id, {})
    with pytest.raises(RecordError) as err, store.write() as conn:
        set_params(conn, run_id, {"epochs": "3", "lr": "0.2"})
    assert err.value.code == "param-changed"
    assert "'0.1'" in err.value.message
    assert err.value.hint
    with store.read() as conn:
        rows = {r.key: (r.value, r.value_num) for r in conn.execute(sa.select(params))}
    assert rows == {
        "lr": ("0.1", 0.1),
        "opt": ("adam", None),
        "big": ("1e400", None),  # not a finite number: compared as text only
        "n": ("nan", None),
        "epochs": ("3", 3.0),
    }
    assert number_or_none("-2.5") == -2.5


def test_tags_last_value_wins(store: Store, run_id: str) -> None:
    with store.write() as conn:
        set_tags(conn, run_id, {"stage": "dev", "owner": "ana"})
    with store.write() as conn:
        set_tags(conn, run_id, {"stage": "prod"})
        set_tags(conn, run_id, {})
    with store.read() as conn:
        got = dict(conn.execute(sa.select(tags.c.key, tags.c.value)).all())
    assert got == {"stage": "prod", "owner": "ana"}


def test_only_a_running_run_can_end(store: Store, run_id: str) -> None:
    with store.write() as conn:
        assert finish_run(conn, run_id, "failed", 5.0, error="ValueError: boom")
        assert not finish_run(conn, run_id, "finished", 6.0)
        assert not finish_run(conn, new_id(), "finished", 6.0)
        with pytest.raises(ValueError, match="running"):
            finish_run(conn, run_id, "running", 7.0)
    with store.read() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()
    assert (row.status, row.end_time, row.error) == ("failed", 5.0, "ValueError: boom")


def test_heartbeat_environment_and_lookup(store: Store, run_id: str) -> None:
    with store.write() as conn:
        set_heartbeat(conn, run_id, 42.0)
        put_environment(conn, "a" * 64, "3.11.7", '{"numpy": "2.0"}')
        put_environment(conn, "a" * 64, "3.11.7", '{"numpy": "2.0"}')  # once per hash
        assert run_ids(conn, [run_id, new_id()]) == {run_id}
    with store.read() as conn:
        assert conn.execute(sa.select(runs.c.heartbeat)).scalar() == 42.0
        assert conn.execute(sa.select(sa.func.count()).select_from(environments)).scalar() == 1
