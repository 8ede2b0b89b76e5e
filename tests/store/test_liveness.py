"""Crash detection (store/liveness.py): a run whose process is gone ends as crashed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mlsteward.store.database import Store
from mlsteward.store.events import read_events
from mlsteward.store.liveness import STALE, process_start, reap_crashed
from mlsteward.store.runs import insert_run, new_id
from mlsteward.store.schema import runs

HOST = socket.gethostname()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store.connect(store_url)
    yield store
    store.close()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now
    return child.pid


def _run(store: Store, **row: object) -> str:
    rid = new_id()
    now = time.time()
    with store.write() as conn:
        insert_run(
            conn,
            {"id": rid, "name": "r", "experiment": "e", "start_time": now - 5, **row},
        )
    return rid


def _status(store: Store, rid: str) -> tuple[str, float | None]:
    with store.read() as conn:
        row = conn.execute(sa.select(runs.c.status, runs.c.end_time).where(runs.c.id == rid))
        status, end = row.one()
        return status, end


def test_process_start_of_this_process_and_of_a_dead_one() -> None:
    mine = process_start(os.getpid())
    assert mine is not None
    assert process_start(os.getpid()) == mine
    assert process_start(_dead_pid()) is None


def test_a_run_whose_process_died_is_crashed_with_an_event(store: Store) -> None:
    beat = time.time()
    dead = _run(store, host=HOST, pid=_dead_pid(), pid_start=123, heartbeat=beat)
    with store.write() as conn:
        assert reap_crashed(conn) == [dead]
        assert reap_crashed(conn) == []  # once
    assert _status(store, dead) == ("crashed", beat)  # it ended at its last sign of life
    with store.read() as conn:
        (event,) = read_events(conn, subject=dead)
    assert event.kind == "run.crashed"
    assert event.payload["last_heartbeat"] == beat


def test_a_live_process_keeps_its_run_running(store: Store) -> None:
    me = os.getpid()
    beat = time.time() - 3600  # an old heartbeat does not matter on this host: the pid does
    alive = _run(store, host=HOST, pid=me, pid_start=process_start(me), heartbeat=beat)
    with store.write() as conn:
        assert reap_crashed(conn) == []
    assert _status(store, alive) == ("running", None)


def test_a_reused_pid_does_not_keep_a_dead_run_alive(store: Store) -> None:
    me = os.getpid()
    start = process_start(me)
    assert start is not None
    reused = _run(store, host=HOST, pid=me, pid_start=start + 1, heartbeat=time.time())
    with store.write() as conn:
        assert reap_crashed(conn) == [reused]
    assert _status(store, reused)[0] == "crashed"


def test_runs_on_another_host_are_judged_by_their_heartbeat(store: Store) -> None:
    now = time.time()
    stale = _run(store, host="elsewhere.invalid", pid=1, pid_start=1, heartbeat=now - STALE - 60)
    fresh = _run(store, host="elsewhere.invalid", pid=1, pid_start=1, heartbeat=now - 1)
    ended = _run(store, host="elsewhere.invalid", pid=1, heartbeat=now - STALE - 60)
    with store.write() as conn:
        conn.execute(sa.update(runs).where(runs.c.id == ended).values(status="finished"))
        assert reap_crashed(conn) == [stale]
    assert _status(store, stale) == ("crashed", now - STALE - 60)
    assert _status(store, fresh) == ("running", None)
    assert _status(store, ended)[0] == "finished"  # only running runs are judged
