"""Runs whose process dies: kill -9 loses at most the unflushed buffer; exits end runs.

Real child processes, real signals, real stores (both backends).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mlsteward import Project
from mlsteward.store.database import open_store
from mlsteward.store.events import read_events
from mlsteward.store.liveness import reap_crashed
from mlsteward.store.schema import latest_metrics, metrics, runs

FLUSHED = 1500  # one flush by the full buffer, one by run.flush()
UNFLUSHED = 700  # fewer than FLUSH_POINTS

VICTIM = textwrap.dedent(
    """
    import sys, time
    from mlsteward.tracking import buffer
    buffer.FLUSH_SECONDS = float(sys.argv[1])
    from mlsteward.tracking.run import start_run

    flushed, more, pause = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    run = start_run("victim")
    for i in range(flushed):
        run.log_metric("loss", float(i))
    run.flush()
    for i in range(more):
        run.log_metric("loss", float(flushed + i))
    time.sleep(pause)
    print("ready", run.id, flush=True)
    time.sleep(600)
    """
)

LEFT_OPEN = textwrap.dedent(
    """
    import sys
    from mlsteward.tracking.run import start_run

    outer = start_run("outer")
    inner = start_run("inner", nested=True)
    print(outer.id, inner.id, flush=True)
    inner.log_metric("loss", 1.0)
    if sys.argv[1] == "raise":
        raise RuntimeError("boom")
    """
)


def spawn(tmp_path: Path, name: str, script: str, *args: object) -> subprocess.Popen[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(path), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ready(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready "), proc.stderr.read() if proc.stderr else line
    return line.split()[1]


def row(conn: Any, run_id: str) -> Any:
    return conn.execute(select(runs).where(runs.c.id == run_id)).one()


def test_kill_9_loses_only_the_unflushed_buffer(project_dir: Path, tmp_path: Path) -> None:
    store = open_store(Project.open())  # the schema exists before the children start
    # "held": the buffer is never written by time (an hour between flushes), so the kill
    # loses it; "aged": flushed every 0.2 s and killed after 1 s, so nothing is lost.
    held = spawn(tmp_path, "held", VICTIM, 3600, FLUSHED, UNFLUSHED, 0)
    aged = spawn(tmp_path, "aged", VICTIM, 0.2, FLUSHED, UNFLUSHED, 1.0)
    with held, aged:
        held_id = ready(held)
        held.send_signal(signal.SIGKILL)
        aged_id = ready(aged)
        aged.send_signal(signal.SIGKILL)
        assert (held.wait(), aged.wait()) == (-signal.SIGKILL, -signal.SIGKILL)

    with store.read() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        for run_id, kept in ((held_id, FLUSHED), (aged_id, FLUSHED + UNFLUSHED)):
            assert row(conn, run_id).status == "running"  # nobody ended it
            count, distinct, top = conn.execute(
                select(
                    func.count(), func.count(metrics.c.step.distinct()), func.max(metrics.c.step)
                ).where(metrics.c.run_id == run_id)
            ).one()
            assert (count, distinct, top) == (kept, kept, kept - 1)
            last = conn.execute(
                select(latest_metrics.c.step, latest_metrics.c.value).where(
                    latest_metrics.c.run_id == run_id
                )
            ).one()
            assert tuple(last) == (kept - 1, float(kept - 1))

    with store.write() as conn:
        assert sorted(reap_crashed(conn)) == sorted([held_id, aged_id])
    with store.read() as conn:
        for run_id in (held_id, aged_id):
            crashed = row(conn, run_id)
            assert crashed.status == "crashed"
            assert crashed.end_time == crashed.heartbeat
            kinds = [e.kind for e in read_events(conn, subject=run_id)]
            assert kinds == ["run.start", "run.crashed"]
    with store.write() as conn:
        assert reap_crashed(conn) == []  # once


def test_runs_left_open_end_at_exit(project_dir: Path, tmp_path: Path) -> None:
    store = open_store(Project.open())
    clean = spawn(tmp_path, "clean", LEFT_OPEN, "exit")
    raising = spawn(tmp_path, "raising", LEFT_OPEN, "raise")
    with clean, raising:
        clean_out, clean_err = clean.communicate(timeout=120)
        raise_out, raise_err = raising.communicate(timeout=120)
    assert clean.returncode == 0, clean_err
    assert raising.returncode == 1
    assert "RuntimeError: boom" in raise_err  # the original excepthook still reports it
    with store.read() as conn:
        for out, status, error in (
            (clean_out, "finished", None),
            (raise_out, "failed", "RuntimeError: boom"),
        ):
            for run_id in out.split():
                ended = row(conn, run_id)
                assert (ended.status, ended.error) == (status, error)
                assert ended.end_time is not None
            inner = out.split()[1]
            stored = conn.execute(select(metrics.c.value).where(metrics.c.run_id == inner))
            assert stored.scalars().all() == [1.0]  # flushed before the end was written
