"""mlsteward's own records, when the repository has a ``.steward/`` workspace.

The records issue fills the store; until then the audit knows only whether a workspace
and a store exist. Rules that read records give *verified* evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts

__all__ = ["RecordFacts", "gather"]


@dataclass(frozen=True)
class RecordFacts:
    workspace: Path | None
    store: Path | None

    @property
    def present(self) -> bool:
        return self.workspace is not None


def gather(facts: Facts) -> RecordFacts:
    ws = facts.root / ".steward"
    if not ws.is_dir() or ws.is_symlink():
        return RecordFacts(None, None)
    db = ws / "steward.db"
    return RecordFacts(ws, db if db.is_file() and not db.is_symlink() else None)
