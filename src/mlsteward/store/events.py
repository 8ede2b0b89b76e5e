"""The append-only event log: who did what to which record, and when.

Every mutation a user makes through mlsteward (a run starts or ends, a dataset version
is added, later an alias moves) appends one event in the same transaction as the change
itself, so the log and the records cannot disagree. The database refuses updates and
deletes of events (triggers made by the first migration).
"""

from __future__ import annotations

import getpass
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from mlsteward.store.schema import events

__all__ = ["Event", "actor", "append_event", "read_events"]


@dataclass(frozen=True)
class Event:
    id: int
    time: float
    actor: str
    kind: str
    subject: str
    payload: Mapping[str, Any]


def actor() -> str:
    """``user@host`` of this process: who the log says acted."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def append_event(
    conn: Connection,
    kind: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
    *,
    who: str | None = None,
) -> None:
    """Append one event (inside the caller's transaction)."""
    conn.execute(
        events.insert().values(
            time=time.time(),
            actor=who or actor(),
            kind=kind,
            subject=subject,
            payload=json.dumps(dict(payload or {}), sort_keys=True, default=str),
        )
    )


def read_events(
    conn: Connection, *, subject: str | None = None, kind: str | None = None, limit: int = 1000
) -> list[Event]:
    """Events in the order they happened, optionally for one subject or kind."""
    query = select(events).order_by(events.c.id)
    if subject is not None:
        query = query.where(events.c.subject == subject)
    if kind is not None:
        query = query.where(events.c.kind == kind)
    return [
        Event(r.id, r.time, r.actor, r.kind, r.subject, json.loads(r.payload))
        for r in conn.execute(query.limit(limit))
    ]
