"""Gate verdicts: what a gate measured on a model version, against which policy, and the outcome.

Verdicts are append-only (the database refuses updates and deletes). The registry reads
them to allow a promotion; the gate engine writes them; the audit and the model card
report them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from mlsteward.store.events import actor, append_event
from mlsteward.store.runs import new_id
from mlsteward.store.schema import verdicts

__all__ = ["VerdictRow", "passing_verdict", "record_verdict", "verdicts_of"]


@dataclass(frozen=True)
class VerdictRow:
    id: str
    version_id: str
    policy: str
    policy_hash: str
    passed: bool
    checks: Sequence[Mapping[str, Any]]
    dataset_version_id: str | None
    time: float
    actor: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "policy": self.policy,
            "policy_hash": self.policy_hash,
            "passed": self.passed,
            "checks": list(self.checks),
            "dataset_version_id": self.dataset_version_id,
            "time": self.time,
            "actor": self.actor,
        }


def _row(r: Any) -> VerdictRow:
    m = r._mapping
    return VerdictRow(
        m["id"],
        m["version_id"],
        m["policy"],
        m["policy_hash"],
        bool(m["passed"]),
        json.loads(m["checks"]),
        m["dataset_version_id"],
        m["time"],
        m["actor"],
    )


def record_verdict(
    conn: Connection,
    *,
    version_id: str,
    subject: str,
    policy: str,
    policy_hash: str,
    passed: bool,
    checks: Sequence[Mapping[str, Any]],
    dataset_version_id: str | None = None,
) -> VerdictRow:
    """Append a verdict (and its event) inside the caller's transaction.

    ``subject`` names the version for the event log, e.g. ``model:churn@3``.
    """
    row = VerdictRow(
        new_id(),
        version_id,
        policy,
        policy_hash,
        passed,
        [dict(c) for c in checks],
        dataset_version_id,
        time.time(),
        actor(),
    )
    conn.execute(
        verdicts.insert().values(
            id=row.id,
            version_id=row.version_id,
            policy=row.policy,
            policy_hash=row.policy_hash,
            passed=row.passed,
            checks=json.dumps(row.checks, sort_keys=True, default=str),
            dataset_version_id=row.dataset_version_id,
            time=row.time,
            actor=row.actor,
        )
    )
    append_event(
        conn,
        "gate.verdict",
        subject,
        {"verdict": row.id, "policy": policy, "policy_hash": policy_hash, "passed": passed},
        who=row.actor,
    )
    return row


def verdicts_of(conn: Connection, version_id: str) -> list[VerdictRow]:
    """Every verdict on a version, oldest first."""
    rows = conn.execute(
        select(verdicts).where(verdicts.c.version_id == version_id).order_by(verdicts.c.time)
    )
    return [_row(r) for r in rows]


def passing_verdict(
    conn: Connection, version_id: str, policy: str, policy_hash: str
) -> VerdictRow | None:
    """The newest verdict on the version for this policy as it is now, if it passed.

    A later failing verdict for the same policy hash withdraws an earlier pass.
    """
    row = conn.execute(
        select(verdicts)
        .where(
            verdicts.c.version_id == version_id,
            verdicts.c.policy == policy,
            verdicts.c.policy_hash == policy_hash,
        )
        .order_by(verdicts.c.time.desc())
        .limit(1)
    ).first()
    if row is None or not row.passed:
        return None
    return _row(row)
