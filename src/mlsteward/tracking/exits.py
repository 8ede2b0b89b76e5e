"""The runs active in this process, and ending them when the interpreter exits.

Runs are kept on a stack (the innermost is `innermost`). At normal interpreter exit
(`atexit`) every run still open ends as ``finished``; when an uncaught exception is on
its way out (a wrapped `sys.excepthook`, which Python calls before the exit handlers) they
end as ``failed`` with that exception. A forked child forgets its parent's runs: they are
the parent's to end. A process killed outright runs none of this; its run stays
``running`` until `mlsteward.store.liveness.reap_crashed` marks it ``crashed``.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Protocol

__all__ = ["innermost", "push", "remove", "script_name"]

_log = logging.getLogger("mlsteward")


class _Endable(Protocol):
    id: str
    pid: int

    def end(self, status: str = "finished", *, error: str | None = None) -> None: ...


_STACK: list[_Endable] = []
_LOCK = threading.RLock()
_HOOKED: list[bool] = []


def innermost() -> _Endable | None:
    """The run pushed last and not yet removed."""
    with _LOCK:
        return _STACK[-1] if _STACK else None


def push(run: _Endable) -> None:
    """Make ``run`` the innermost active run (installing the exit hooks once)."""
    with _LOCK:
        _install()
        _STACK.append(run)


def remove(run: _Endable) -> None:
    """Forget ``run`` wherever it is on the stack (a parent may end before its child)."""
    with _LOCK:
        if run in _STACK:
            _STACK.remove(run)


def script_name() -> str:
    """A default run name: the running script's name, or ``run``."""
    argv0 = sys.argv[0] if sys.argv else ""
    stem = Path(argv0).stem if argv0 not in ("", "-c", "-m") else ""
    return stem if stem and stem != "__main__" else "run"


def _install() -> None:
    if _HOOKED:
        return
    _HOOKED.append(True)
    atexit.register(_end_all, "finished", None)
    previous = sys.excepthook

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        from mlsteward.tracking.run import describe

        _end_all("failed", describe(exc))
        previous(kind, exc, tb)

    sys.excepthook = excepthook
    os.register_at_fork(after_in_child=_forget)


def _end_all(status: str, error: str | None) -> None:
    """End every open run of this process, innermost first; never raise (we are exiting)."""
    with _LOCK:
        open_runs = [r for r in reversed(_STACK) if r.pid == os.getpid()]
    for run in open_runs:
        try:
            run.end(status, error=error)
        except Exception as exc:
            _log.warning("run %s could not be ended at exit: %s", run.id, exc)


def _forget() -> None:
    global _LOCK
    _LOCK = threading.RLock()
    _STACK.clear()
