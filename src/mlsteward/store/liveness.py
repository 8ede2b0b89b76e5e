"""Telling a crashed run from a running one.

A live run's process writes a heartbeat every `HEARTBEAT` seconds. A run still marked
running is *crashed* when its process is gone: on this host that is decided at once
(the pid is dead, or belongs to a newer process: its start time differs); for a run on
another host, when its heartbeat is older than `STALE` seconds. The run then ends as
crashed at its last heartbeat. Readers call `reap_crashed` before they list runs, so a
killed run never shows as running forever.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from mlsteward.store.events import append_event
from mlsteward.store.schema import runs

__all__ = ["HEARTBEAT", "STALE", "find_crashed", "process_start", "reap_crashed"]

HEARTBEAT = 10.0
STALE = 6 * HEARTBEAT


def process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux); None if gone.

    Where /proc is missing the pid's existence alone is checked, and 0 stands for "alive".
    """
    if not Path("/proc/self/stat").exists():
        return 0 if _pid_exists(pid) else None
    stat = Path(f"/proc/{pid}/stat")
    try:
        text = stat.read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return 0 if _pid_exists(pid) else None
    # the command name (field 2) may hold spaces and parentheses: split after the last ")"
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; only its exit status is left
        return None
    return int(fields[19])


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(host: str | None, pid: int | None, pid_start: int | None, heartbeat: float) -> bool:
    if host == socket.gethostname() and pid is not None:
        started = process_start(pid)
        return started is not None and (pid_start in (None, 0) or started in (0, pid_start))
    return time.time() - heartbeat < STALE


def _running(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            select(
                runs.c.id,
                runs.c.host,
                runs.c.pid,
                runs.c.pid_start,
                runs.c.heartbeat,
                runs.c.start_time,
            ).where(runs.c.status == "running")
        ).all()
    )


def find_crashed(conn: Connection) -> list[str]:
    """The ids of runs marked running whose process is gone (reads only)."""
    return [
        r.id
        for r in _running(conn)
        if not _alive(r.host, r.pid, r.pid_start, r.heartbeat or r.start_time)
    ]


def reap_crashed(conn: Connection) -> list[str]:
    """Mark the running runs whose process is gone as crashed; return their ids."""
    dead = []
    for r in _running(conn):
        last = r.heartbeat or r.start_time
        if _alive(r.host, r.pid, r.pid_start, last):
            continue
        changed = conn.execute(
            update(runs)
            .where(runs.c.id == r.id, runs.c.status == "running")
            .values(
                status="crashed",
                end_time=last,
                error="the run's process ended without "
                "ending the run (killed, or the machine stopped)",
            )
        ).rowcount
        if changed:
            append_event(conn, "run.crashed", r.id, {"last_heartbeat": last, "pid": r.pid})
            dead.append(r.id)
    return dead
