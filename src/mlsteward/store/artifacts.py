"""Artifact records and lineage edges (a run consumed or produced an artifact).

An artifact row describes bytes held in the object store: its kind, its address (the
hash of a file, or of a directory's tree manifest), its size and file count, and the
name it had in the project. The same bytes logged twice are two artifact rows with one
object behind them: the row is the event "this run produced this", the object is shared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, select

from mlsteward.errors import NotFoundError
from mlsteward.store.runs import new_id
from mlsteward.store.schema import artifacts, edges

__all__ = [
    "KINDS",
    "ArtifactRow",
    "add_edge",
    "get_artifact",
    "insert_artifact",
]

KINDS = ("dataset", "model", "profile", "schema", "report", "file")
DIRECTIONS = ("consumed", "produced")


@dataclass(frozen=True)
class ArtifactRow:
    id: str
    kind: str
    hash: str
    is_tree: bool
    size: int
    files: int
    uri: str
    name: str
    created: float


def insert_artifact(
    conn: Connection,
    *,
    kind: str,
    digest: str,
    is_tree: bool,
    size: int,
    files: int,
    uri: str,
    name: str,
) -> ArtifactRow:
    """Record an artifact whose bytes are already in the object store."""
    if kind not in KINDS:
        raise ValueError(f"artifact kind must be one of {KINDS}, got {kind!r}")
    row = ArtifactRow(new_id(), kind, digest, is_tree, size, files, uri, name, time.time())
    conn.execute(artifacts.insert().values(**row.__dict__))
    return row


def add_edge(conn: Connection, run_id: str, artifact_id: str, direction: str) -> None:
    """Record that a run consumed or produced an artifact (idempotent)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    have = conn.execute(
        select(edges.c.id).where(
            edges.c.run_id == run_id,
            edges.c.artifact_id == artifact_id,
            edges.c.direction == direction,
        )
    ).first()
    if have is None:
        conn.execute(
            edges.insert().values(
                run_id=run_id, artifact_id=artifact_id, direction=direction, time=time.time()
            )
        )


def get_artifact(conn: Connection, artifact_id: str) -> ArtifactRow:
    """The artifact with this id.

    Raises:
        NotFoundError: no such artifact (code ``not-found``).
    """
    row = conn.execute(select(artifacts).where(artifacts.c.id == artifact_id)).first()
    if row is None:
        raise NotFoundError(
            f"no artifact with id {artifact_id!r}",
            code="not-found",
            hint="`steward lineage` shows the artifacts around a run or dataset",
        )
    return ArtifactRow(**row._mapping)
