"""Aliases: promote a version to a name like ``production``, roll back, read the history.

Every move appends a row to ``alias_moves`` (append-only) and an event, in the same
transaction as the alias change. An alias row carries a ``revision`` bumped by every
move: a move reads it before its checks and updates ``WHERE revision = seen``, so of
two concurrent moves exactly one wins and the other gets ``alias-conflict``; every
move's ``from_version`` is therefore the previous move's ``to_version``.

A promotion to an alias with a gate policy (``[tool.steward.gates.<alias>]``) needs a
passing verdict for the policy as it is now, and, if the policy says so, time served at
the canary alias. A rollback needs neither: it is the emergency exit. The history is
replayed as a stack (a promotion pushes, a rollback pops), so two rollbacks go two
steps back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from mlsteward.errors import RegistryError
from mlsteward.project import Project
from mlsteward.registry.policy import GatePolicy, policy_for
from mlsteward.registry.records import (
    ModelRow,
    check_alias,
    check_model_name,
    check_number,
    check_reason,
    find_model,
    resolve_number,
    subject,
    when,
)
from mlsteward.registry.verdicts import passing_verdict, verdicts_of
from mlsteward.store.database import open_store
from mlsteward.store.events import actor, append_event
from mlsteward.store.schema import alias_moves, aliases, model_versions, registered_models

__all__ = ["AliasMove", "alias_history", "moves_of", "promote", "rollback"]

_SHOWN_MOVES = 10  # how many moves an error's hint lists


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: from which version to which, how, why and by whom."""

    id: int
    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    kind: str  # promote | rollback | remove
    reason: str
    verdict_id: str | None
    time: float
    actor: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "alias": self.alias,
            "from": self.from_version,
            "to": self.to_version,
            "kind": self.kind,
            "reason": self.reason,
            "verdict": self.verdict_id,
            "time": self.time,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class _Seen:
    version: int
    revision: int


def promote(
    name: str,
    version: int,
    alias: str,
    *,
    reason: str,
    project: Project | str | Path | None = None,
) -> AliasMove:
    """Point ``alias`` of model ``name`` at ``version``.

    Raises:
        RegistryError: a bad alias (``alias-name``) or no reason (``reason-missing``);
            the version is deleted (``version-deleted``) or already holds the alias
            (``alias-unchanged``); the alias's policy has no passing verdict for it or
            its canary time is not served (``promotion-refused``); another move won
            (``alias-conflict``).
        NotFoundError: ``model-not-found``, ``version-not-found``.
        GateError: the project's policy table is malformed (``gate-policy``).
    """
    check_model_name(name)
    number = check_number(version)
    check_alias(alias)
    why = check_reason(reason, f"promoting {name}@{number} to {alias}")
    proj = Project.of(project)
    policy = policy_for(proj, alias)
    store = open_store(proj)
    with store.read() as conn:
        model, version_id, seen = _lookup(conn, name, number, alias)
        if seen is not None and seen.version == number:
            raise RegistryError(
                f"alias {alias} of {name} already points to version {number}",
                code="alias-unchanged",
                hint=f"`steward models history {name} --alias {alias}` shows its moves",
            )
        verdict_id = None
        if policy is not None:
            verdict_id = _check_policy(conn, model, number, version_id, policy)
    with store.write() as conn:
        # not deleted meanwhile; the row lock (PostgreSQL) orders this against a delete
        _live_version(conn, model, number, lock=True)
        return _move(conn, model, alias, seen, number, "promote", why, verdict_id)


def rollback(
    name: str,
    alias: str,
    *,
    reason: str = "",
    project: Project | str | Path | None = None,
) -> AliasMove:
    """Move ``alias`` back to the version it pointed to before its last promotion.

    Raises:
        RegistryError: nothing to go back to, or the version before is deleted
            (``rollback-empty``, the history in the hint); another move won
            (``alias-conflict``).
        NotFoundError: ``model-not-found``, ``alias-not-found``.
    """
    check_model_name(name)
    check_alias(alias)
    why = reason.strip() if isinstance(reason, str) else ""
    store = open_store(Project.of(project))
    with store.read() as conn:
        model = find_model(conn, name)
        seen = _seen(conn, model, alias)
        if seen is None:
            resolve_number(conn, model, alias)  # raises alias-not-found, listing the aliases
            raise AssertionError("unreachable")  # pragma: no cover
        moves = moves_of(conn, model, alias)
        stack: list[int | None] = []
        for move in moves:
            if move.kind == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(move.to_version)
        target = stack[-2] if len(stack) >= 2 else None
        if target is None:
            raise RegistryError(
                f"alias {alias} of {name} has no version to roll back to: it points to "
                f"{seen.version} and pointed to nothing before",
                code="rollback-empty",
                hint=f"promote a version instead; history: {_story(moves)}",
            )
        deleted = conn.execute(
            select(model_versions.c.deleted).where(
                model_versions.c.model_id == model.id, model_versions.c.version == target
            )
        ).scalar()
        if deleted is not None:
            raise RegistryError(
                f"alias {alias} of {name} pointed to version {target} before, but that "
                f"version was deleted at {when(deleted)}",
                code="rollback-empty",
                hint=f"promote a version that exists instead; history: {_story(moves)}",
            )
    with store.write() as conn:
        return _move(conn, model, alias, seen, target, "rollback", why, None)


def alias_history(
    name: str, alias: str | None = None, *, project: Project | str | Path | None = None
) -> list[AliasMove]:
    """Every move of model ``name``'s aliases (or of one alias), oldest first.

    Raises:
        NotFoundError: ``model-not-found``.
    """
    check_model_name(name)
    if alias is not None:
        check_alias(alias)
    with open_store(Project.of(project)).read() as conn:
        model = find_model(conn, name)
        return moves_of(conn, model, alias)


# -- the parts ---------------------------------------------------------------------------------


def _lookup(
    conn: Connection, name: str, number: int, alias: str
) -> tuple[ModelRow, str, _Seen | None]:
    """The model, the live version's id and the alias as it is, in one query.

    Anything missing or deleted falls back to the detailed lookups for their errors.
    """
    version = model_versions.alias("v")
    held = aliases.alias("a")
    row = conn.execute(
        select(
            registered_models,
            version.c.id.label("version_id"),
            version.c.deleted,
            held.c.version.label("alias_version"),
            held.c.revision,
        )
        .outerjoin(
            version,
            (version.c.model_id == registered_models.c.id) & (version.c.version == number),
        )
        .outerjoin(held, (held.c.model_id == registered_models.c.id) & (held.c.alias == alias))
        .where(registered_models.c.name == name)
    ).first()
    if row is None or row.version_id is None or row.deleted is not None:
        model = find_model(conn, name)
        _live_version(conn, model, number)
        raise AssertionError("unreachable")  # pragma: no cover
    model = ModelRow(row.id, row.name, row.description, row.created)
    seen = None if row.revision is None else _Seen(int(row.alias_version), int(row.revision))
    return model, str(row.version_id), seen


def _live_version(conn: Connection, model: ModelRow, number: int, *, lock: bool = False) -> str:
    """The id of version ``number``, refused if it is deleted."""
    query = select(model_versions.c.id, model_versions.c.deleted).where(
        model_versions.c.model_id == model.id, model_versions.c.version == number
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        resolve_number(conn, model, number)  # raises version-not-found, saying what exists
        raise AssertionError("unreachable")  # pragma: no cover
    if row.deleted is not None:
        raise RegistryError(
            f"{model.name}@{number} was deleted at {when(row.deleted)}; a deleted version "
            "takes no alias",
            code="version-deleted",
            hint=f"`steward models show {model.name}` lists the versions that remain",
        )
    return str(row.id)


def _seen(conn: Connection, model: ModelRow, alias: str) -> _Seen | None:
    row = conn.execute(
        select(aliases.c.version, aliases.c.revision).where(
            aliases.c.model_id == model.id, aliases.c.alias == alias
        )
    ).first()
    return None if row is None else _Seen(int(row.version), int(row.revision))


def moves_of(conn: Connection, model: ModelRow, alias: str | None) -> list[AliasMove]:
    """Every move of the model's aliases (or of one), oldest first, in the caller's transaction."""
    query = select(alias_moves).where(alias_moves.c.model_id == model.id)
    if alias is not None:
        query = query.where(alias_moves.c.alias == alias)
    return [
        AliasMove(
            int(r.id),
            model.name,
            r.alias,
            r.from_version,
            r.to_version,
            r.kind,
            r.reason,
            r.verdict_id,
            r.time,
            r.actor,
        )
        for r in conn.execute(query.order_by(alias_moves.c.id))
    ]


def _at(version: int | None) -> str:
    return "-" if version is None else f"@{version}"


def _story(moves: list[AliasMove]) -> str:
    shown = moves[-_SHOWN_MOVES:]
    text = ", ".join(f"{_at(m.from_version)} -> {_at(m.to_version)} ({m.kind})" for m in shown)
    return ("..., " if len(moves) > len(shown) else "") + (text or "no moves")


def _check_policy(
    conn: Connection, model: ModelRow, number: int, version_id: str, policy: GatePolicy
) -> str:
    """The passing verdict's id; refuse without one, or without canary time served."""
    ref = f"{model.name}@{number}"
    verdict = passing_verdict(conn, version_id, policy.name, policy.hash)
    if verdict is None:
        mine = [v for v in verdicts_of(conn, version_id) if v.policy == policy.name]
        current = [v for v in mine if v.policy_hash == policy.hash]
        if current:
            failed = [str(c.get("check", "?")) for c in current[-1].checks if not c.get("passed")]
            state = f"its newest verdict ({current[-1].id}) failed" + (
                f": {', '.join(failed)}" if failed else ""
            )
        elif mine:
            state = "its verdicts were made against an earlier version of the policy"
        else:
            state = "it has no verdict for this policy"
        raise RegistryError(
            f"promotion of {ref} to {policy.name} refused: policy "
            f"[tool.steward.gates.{policy.name}] needs a passing verdict, and {state}",
            code="promotion-refused",
            hint=f"`steward gate run {model.name} {number} --policy {policy.name} "
            "--data DATASET@VERSION --label COLUMN` checks it and records a verdict",
        )
    if policy.canary_minutes > 0:
        served = _canary_served(conn, model, policy.canary_alias, number)
        if served < policy.canary_minutes * 60:
            held = (
                f"has held {policy.canary_alias} for {served / 60:.1f} minutes"
                if served > 0
                else f"has never held {policy.canary_alias}"
            )
            raise RegistryError(
                f"promotion of {ref} to {policy.name} refused: policy "
                f"[tool.steward.gates.{policy.name}] needs {policy.canary_minutes:g} minutes "
                f"at {policy.canary_alias} first, and it {held}",
                code="promotion-refused",
                hint=f"promote it to {policy.canary_alias} (`steward models promote "
                f"{model.name} {number} --to {policy.canary_alias} --reason ...`) and wait",
            )
    return verdict.id


def _canary_served(conn: Connection, model: ModelRow, alias: str, number: int) -> float:
    """The longest unbroken time, in seconds, that ``number`` held ``alias``."""
    longest, since = 0.0, None
    for move in moves_of(conn, model, alias):
        if since is not None and move.to_version != number:
            longest, since = max(longest, move.time - since), None
        elif since is None and move.to_version == number:
            since = move.time
    if since is not None:
        longest = max(longest, time.time() - since)
    return longest


def _move(
    conn: Connection,
    model: ModelRow,
    alias: str,
    seen: _Seen | None,
    to: int,
    kind: str,
    reason: str,
    verdict_id: str | None,
) -> AliasMove:
    """Compare-and-set the alias from ``seen`` to ``to``; record the move and its event."""
    now, who = time.time(), actor()
    if seen is None:
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(aliases).values(
            model_id=model.id, alias=alias, version=to, revision=1, moved=now
        )
        query: Any = insert.on_conflict_do_nothing(index_elements=["model_id", "alias"])
    else:
        query = (
            aliases.update()
            .where(
                aliases.c.model_id == model.id,
                aliases.c.alias == alias,
                aliases.c.revision == seen.revision,
            )
            .values(version=to, revision=seen.revision + 1, moved=now)
        )
    # RETURNING rather than rowcount: some drivers report -1 for an INSERT ... ON CONFLICT
    if conn.execute(query.returning(aliases.c.revision)).first() is None:
        raise _conflict(conn, model, alias, seen, to)
    start = None if seen is None else seen.version
    result = conn.execute(
        alias_moves.insert().values(
            model_id=model.id,
            alias=alias,
            from_version=start,
            to_version=to,
            kind=kind,
            reason=reason,
            verdict_id=verdict_id,
            time=now,
            actor=who,
        )
    )
    (move_id,) = result.inserted_primary_key or (0,)
    append_event(
        conn,
        f"model.{kind}",
        subject(model.name, to),
        {"alias": alias, "from": start, "to": to, "reason": reason, "verdict": verdict_id},
        who=who,
    )
    return AliasMove(int(move_id), model.name, alias, start, to, kind, reason, verdict_id, now, who)


def _conflict(
    conn: Connection, model: ModelRow, alias: str, seen: _Seen | None, to: int
) -> RegistryError:
    last = conn.execute(
        select(alias_moves)
        .where(alias_moves.c.model_id == model.id, alias_moves.c.alias == alias)
        .order_by(alias_moves.c.id.desc())
        .limit(1)
    ).first()
    before = "nothing" if seen is None else f"version {seen.version}"
    moved = (
        f"{last.actor} moved it ({last.kind}) from {last.from_version} to {last.to_version} "
        f"at {when(last.time)}"
        if last is not None
        else "another process moved it"
    )
    return RegistryError(
        f"alias {alias} of {model.name} changed while moving it from {before} to {to}: {moved}",
        code="alias-conflict",
        hint=f"check `steward models history {model.name} --alias {alias}`, then retry if "
        "the move is still wanted",
    )
