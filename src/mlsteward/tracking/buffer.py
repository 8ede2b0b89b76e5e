"""The metric buffer: how ``log_metric`` stays fast and what a ``kill -9`` can lose.

``log_metric`` only appends a point to an in-memory list under a lock. The list is written
to the store in one transaction (`mlsteward.store.runs.insert_metrics`):

* by the logging call itself when the list reaches `FLUSH_POINTS` points;
* by a daemon thread every `FLUSH_SECONDS` seconds (which also writes the run's
  heartbeat every `mlsteward.store.liveness.HEARTBEAT` seconds);
* by ``run.flush()`` and ``run.end()``.

Points leave the list only after their transaction has committed. So a process killed
with SIGKILL (or a lost machine) loses exactly the points still in the list: fewer than
`FLUSH_POINTS`, logged within the last `FLUSH_SECONDS` (plus however long the write
waited for the store's lock). What was committed stays, and the store stays consistent:
a transaction is written whole or not at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from mlsteward.store import liveness
from mlsteward.store.database import Store
from mlsteward.store.runs import MetricPoint, insert_metrics, set_heartbeat

__all__ = ["FLUSH_POINTS", "FLUSH_SECONDS", "Flusher", "MetricBuffer"]

FLUSH_POINTS = 1000
"""A buffer holding this many points is written at once, by the call that filled it."""
FLUSH_SECONDS = 1.0
"""The background thread writes whatever the buffer holds this often."""

_log = logging.getLogger("mlsteward")

Point = tuple[str, float, int, float]  # key, value, step, time


class MetricBuffer:
    """The metric points of one run not yet in the store, and the per-key step counters."""

    def __init__(self, store: Store, run_id: str, *, limit: int = FLUSH_POINTS) -> None:
        self.store = store
        self.run_id = run_id
        self.limit = limit
        self._points: list[Point] = []
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one writer at a time, so no point is written twice

    def add(self, key: str, value: float, step: int | None, when: float) -> None:
        """Append a point (``step`` None: one past the key's last step; 0 first)."""
        with self._lock:
            if step is None:
                step = self._next.get(key, 0)
            self._next[key] = step + 1
            self._points.append((key, value, step, when))
            full = len(self._points) >= self.limit
        if full:
            self.flush()

    def steps(self, wanted: Sequence[tuple[str, int | None]]) -> list[int]:
        """Steps for points written around the buffer (``log_batch``), counted as `add` does."""
        out = []
        with self._lock:
            for key, step in wanted:
                if step is None:
                    step = self._next.get(key, 0)
                self._next[key] = step + 1
                out.append(step)
        return out

    def pending(self) -> int:
        """How many points are waiting to be written."""
        return len(self._points)

    def flush(self, then: Callable[[Connection], None] | None = None) -> int:
        """Write the waiting points in one transaction (with ``then``'s writes); return how many.

        The points leave the buffer only once the transaction has committed: a failed
        write keeps them for the next attempt.
        """
        with self._flush_lock:
            with self._lock:
                batch = list(self._points)
            if not batch and then is None:
                return 0
            with self.store.write() as conn:
                insert_metrics(conn, self.run_id, [MetricPoint(*p) for p in batch])
                if then is not None:
                    then(conn)
            with self._lock:
                del self._points[: len(batch)]
            return len(batch)


class Flusher:
    """The daemon thread that writes a run's buffer every `FLUSH_SECONDS` and its heartbeat."""

    def __init__(self, buffer: MetricBuffer, *, every: float = FLUSH_SECONDS) -> None:
        self.buffer = buffer
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"mlsteward-run-{self.buffer.run_id[:8]}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for a write it has under way."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        last_beat = time.monotonic()
        while not self._stop.wait(min(self.every, liveness.HEARTBEAT)):
            beat = time.monotonic() - last_beat >= liveness.HEARTBEAT
            try:
                if beat:
                    self.buffer.flush(then=self._heartbeat)
                    last_beat = time.monotonic()
                elif self.buffer.pending():
                    self.buffer.flush()
            except Exception as exc:
                # the points stay buffered for the next attempt; say so once per outage
                if not self._failing:
                    _log.warning("run %s: metrics not written yet: %s", self.buffer.run_id, exc)
                self._failing = True
            else:
                self._failing = False

    def _heartbeat(self, conn: Connection) -> None:
        set_heartbeat(conn, self.buffer.run_id, time.time())
