"""mlsteward's own records, when the repository has a ``.steward/`` workspace.

Records are the strongest evidence the audit has (*verified*): a tracked run with its
commit, a dataset version with its hash, an event log, not a file that merely exists.

The audit reads the store the way it reads everything else: without running anything
and without writing. The SQLite file is opened read-only with the standard library
(SQLAlchemy would cost start-up time for one summary query); a store the code cannot
read (damaged, a newer schema, a team's PostgreSQL server named in the config) is
reported as such and judged on the other evidence.

The model registry's records (migration 0003) are summarised for the versions that
matter to a release: those an alias guarded by a gate policy points to, and
``production`` always. For each: its provenance, its verdict for the alias's policy as
declared now, whether every promotion into the alias named a passing verdict, whether
an earlier version is kept for rollback, whether it went through canary, and whether a
card was made. A store from before the registry reads as one without models.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlsteward.audit.facts import Facts
    from mlsteward.audit.rule import Evidence, Hit

__all__ = [
    "STORE",
    "HeldVersion",
    "RecordFacts",
    "RegistrySummary",
    "RunSummary",
    "UngatedMove",
    "finding",
    "gather",
    "refs",
    "registry_of",
    "verified",
]


@dataclass(frozen=True)
class RunSummary:
    """Counts over the tracked runs of a store."""

    total: int = 0
    finished: int = 0
    with_params: int = 0
    with_metrics: int = 0
    stepped: int = 0  # runs with a metric logged at more than one step
    with_commit: int = 0
    dirty: int = 0
    with_lock: int = 0
    with_seeds: int = 0
    consumed_data: int = 0  # runs that recorded the dataset versions they used
    last_start: float | None = None


@dataclass(frozen=True)
class HeldVersion:
    """A model version held by a release alias (``production``, or one a policy guards)."""

    model: str
    alias: str
    version: int
    run_id: str | None = None
    git_commit: str | None = None
    forced: bool = False
    deleted: bool = False
    train_data: int = 0  # training dataset versions recorded
    card: bool = False  # `steward models card` was run for it
    policy: str | None = None  # the policy whose verdict counts ('' when none declared)
    verdict: str = "none"  # pass | fail | stale (passed an earlier policy) | none
    checks: tuple[str, ...] = ()  # names of the passing checks of that verdict
    previous: int | None = None  # an earlier holder of the alias, still kept
    previous_deleted: int | None = None  # an earlier holder that was deleted
    canary_alias: str = "canary"
    canary_minutes: float = 0.0
    canaried: bool = False  # held the canary alias before it took this one

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version} ({self.alias})"

    @property
    def provenance(self) -> bool:
        """A producing run, a commit and training data, and not forced."""
        return bool(self.run_id and self.git_commit and self.train_data) and not self.forced

    def missing_provenance(self) -> list[str]:
        out = [] if self.run_id else ["no producing run"]
        out += [] if self.git_commit else ["no git commit"]
        out += [] if self.train_data else ["no training data"]
        return out + (["registered with --force"] if self.forced else [])


@dataclass(frozen=True)
class UngatedMove:
    """A promotion into a guarded alias that named no passing verdict of the version."""

    model: str
    alias: str
    version: int
    time: float


@dataclass(frozen=True)
class RegistrySummary:
    """The model registry's records, as far as the audit judges them."""

    present: bool = False  # the store has the registry's tables
    models: int = 0
    versions: int = 0  # not deleted
    forced: int = 0
    cards: int = 0  # model.card events
    aliases: tuple[tuple[str, str, int], ...] = ()  # (model, alias, version)
    held: tuple[HeldVersion, ...] = ()
    guarded_moves: int = 0  # promotions into guarded aliases
    ungated: tuple[UngatedMove, ...] = ()
    rollbacks: int = 0


@dataclass(frozen=True)
class RecordFacts:
    workspace: Path | None
    store: Path | None
    runs: RunSummary = field(default_factory=RunSummary)
    datasets: int = 0
    dataset_versions: int = 0
    versions_with_commit: int = 0
    events: int = 0
    revision: str | None = None
    error: str | None = None
    registry: RegistrySummary = field(default_factory=RegistrySummary)

    @property
    def present(self) -> bool:
        return self.workspace is not None

    @property
    def readable(self) -> bool:
        return self.store is not None and self.error is None


_RUNS = """
SELECT count(*),
       sum(status = 'finished'),
       sum(EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id)),
       sum(EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id)),
       sum(EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.id AND m.step > 0)),
       sum(git_commit IS NOT NULL),
       sum(coalesce(git_dirty, 0)),
       sum(lock_hash IS NOT NULL),
       sum(seeds IS NOT NULL AND seeds NOT IN ('', '{}', 'null')),
       sum(EXISTS (SELECT 1 FROM edges e JOIN dataset_versions v ON v.artifact_id = e.artifact_id
                   WHERE e.run_id = r.id AND e.direction = 'consumed')),
       max(start_time)
FROM runs r
"""


def gather(facts: Facts) -> RecordFacts:
    ws = facts.root / ".steward"
    if not ws.is_dir() or ws.is_symlink():
        return RecordFacts(None, None)
    db = ws / "steward.db"
    if not db.is_file() or db.is_symlink():
        return RecordFacts(ws, None)
    try:
        return _read(ws, db, _policies(facts.settings.extra.get("gates")))
    except sqlite3.Error as exc:
        return RecordFacts(ws, db, error=f"the store cannot be read: {exc}")


def _connect(db: Path) -> sqlite3.Connection:
    uri = db.resolve().as_uri()
    wal = db.with_name(db.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        # a writer's log holds recent records: read through it (read-only; its -shm exists)
        return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2)
    # the main file is complete: read it as an immutable snapshot, which creates no
    # -wal/-shm files next to it (the audit writes nothing in the audited repository)
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _read(ws: Path, db: Path, policies: Mapping[str, Mapping[str, Any]]) -> RecordFacts:
    conn = _connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables or "runs" not in tables:
            return RecordFacts(ws, db, error="the file is not an mlsteward store")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
        counts = conn.execute(_RUNS).fetchone()
        runs = replace(RunSummary(*[int(c or 0) for c in counts[:-1]]), last_start=counts[-1])
        datasets = versions = with_commit = 0
        if "dataset_versions" in tables:
            datasets = conn.execute("SELECT count(*) FROM datasets").fetchone()[0]
            versions, with_commit = conn.execute(
                "SELECT count(*), sum(code_commit IS NOT NULL) FROM dataset_versions"
            ).fetchone()
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        registry = RegistrySummary()
        if {"model_versions", "aliases", "alias_moves", "verdicts"} <= tables:
            registry = _registry(conn, policies)
    finally:
        conn.close()
    return RecordFacts(
        ws,
        db,
        runs=runs,
        datasets=int(datasets),
        dataset_versions=int(versions or 0),
        versions_with_commit=int(with_commit or 0),
        events=int(events),
        revision=revision,
        registry=registry,
    )


# -- the model registry ----------------------------------------------------------------------

RELEASE = "production"  # judged as a release alias whether or not a policy guards it

_REGISTRY = """
SELECT (SELECT count(*) FROM registered_models),
       (SELECT count(*) FROM model_versions WHERE deleted IS NULL),
       (SELECT count(*) FROM model_versions WHERE forced),
       (SELECT count(*) FROM events WHERE kind = 'model.card')
"""
_ALIASES = """
SELECT m.name, a.alias, a.version, v.id, v.run_id, v.git_commit, v.forced, v.deleted,
       (SELECT count(*) FROM model_datasets d WHERE d.version_id = v.id AND d.role = 'train'),
       EXISTS (SELECT 1 FROM events e WHERE e.kind = 'model.card'
               AND e.subject = 'model:' || m.name || '@' || a.version)
FROM aliases a JOIN registered_models m ON m.id = a.model_id
LEFT JOIN model_versions v ON v.model_id = a.model_id AND v.version = a.version
ORDER BY m.name, a.alias
"""
_MOVES = """
SELECT mv.id, m.name, mv.alias, mv.to_version, mv.kind, mv.time, t.deleted IS NOT NULL,
       vd.passed, vd.policy, vd.version_id = t.id
FROM alias_moves mv JOIN registered_models m ON m.id = mv.model_id
LEFT JOIN model_versions t ON t.model_id = mv.model_id AND t.version = mv.to_version
LEFT JOIN verdicts vd ON vd.id = mv.verdict_id
ORDER BY mv.id
"""
_VERDICTS = """
SELECT version_id, policy, policy_hash, passed, checks FROM verdicts
WHERE version_id IN ({marks}) ORDER BY time, id
"""


def _policies(raw: Any) -> dict[str, Mapping[str, Any]]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, Mapping)}


def _minutes(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def _registry(
    conn: sqlite3.Connection, policies: Mapping[str, Mapping[str, Any]]
) -> RegistrySummary:
    models, versions, forced, cards = conn.execute(_REGISTRY).fetchone()
    alias_rows = conn.execute(_ALIASES).fetchall()
    moves = conn.execute(_MOVES).fetchall()
    guarded = set(policies) | {RELEASE}
    held_rows = [r for r in alias_rows if r[1] in guarded and r[3] is not None]
    verdicts: dict[str, list[tuple[str, str, bool, str]]] = {}
    ids = [r[3] for r in held_rows]
    if ids:
        query = _VERDICTS.format(marks=",".join("?" * len(ids)))
        for vid, policy, digest, passed, checks in conn.execute(query, ids):
            verdicts.setdefault(vid, []).append((policy, digest, bool(passed), checks))
    held = tuple(_held(r, policies, moves, verdicts.get(r[3], [])) for r in held_rows)
    ungated: list[UngatedMove] = []
    promotions = 0
    for _id, model, alias, to, kind, when, _deleted, passed, policy, same in moves:
        if alias not in guarded or kind != "promote" or to is None:
            continue
        promotions += 1
        right_policy = alias not in policies or policy == alias
        if not (passed and same and right_policy):
            ungated.append(UngatedMove(model, alias, int(to), float(when)))
    return RegistrySummary(
        present=True,
        models=int(models),
        versions=int(versions),
        forced=int(forced or 0),
        cards=int(cards),
        aliases=tuple((r[0], r[1], int(r[2])) for r in alias_rows),
        held=held,
        guarded_moves=promotions,
        ungated=tuple(ungated),
        rollbacks=sum(1 for m in moves if m[4] == "rollback"),
    )


def _held(
    row: Any,
    policies: Mapping[str, Mapping[str, Any]],
    moves: list[Any],
    verdicts: list[tuple[str, str, bool, str]],
) -> HeldVersion:
    model, alias, version = row[0], row[1], int(row[2])
    settings = policies.get(alias)
    canary_alias = str((settings or {}).get("canary_alias", "canary"))
    verdict, checks, policy = _verdict(alias, settings, verdicts)
    mine = [m for m in moves if m[1] == model]
    entered = [m[0] for m in mine if m[2] == alias and m[3] == version]
    first_entry = min(entered) if entered else None
    canaried = any(
        m[2] == canary_alias and m[3] == version and (first_entry is None or m[0] < first_entry)
        for m in mine
    )
    earlier = {m[3]: bool(m[6]) for m in mine if m[2] == alias and m[3] not in (None, version)}
    kept = [v for v, deleted in earlier.items() if not deleted]
    gone = [v for v, deleted in earlier.items() if deleted]
    return HeldVersion(
        model=model,
        alias=alias,
        version=version,
        run_id=row[4],
        git_commit=row[5],
        forced=bool(row[6]),
        deleted=row[7] is not None,
        train_data=int(row[8]),
        card=bool(row[9]),
        policy=policy,
        verdict=verdict,
        checks=checks,
        previous=max(kept) if kept else None,
        previous_deleted=max(gone) if gone else None,
        canary_alias=canary_alias,
        canary_minutes=_minutes((settings or {}).get("canary_minutes", 0)),
        canaried=canaried,
    )


def _verdict(
    alias: str, settings: Mapping[str, Any] | None, verdicts: list[tuple[str, str, bool, str]]
) -> tuple[str, tuple[str, ...], str | None]:
    """(pass | fail | stale | none, passing check names, the policy judged).

    As the registry does: the newest verdict for the policy as declared now counts, so a
    later failure withdraws an earlier pass. Without a declared policy, the newest
    verdict of any policy counts.
    """
    if settings is not None:
        # read only when a store holds a registry; the registry package loads lazily
        from mlsteward.registry.policy import policy_hash

        digest = policy_hash(settings)
        current = [v for v in verdicts if v[0] == alias and v[1] == digest]
        if current:
            return _outcome(current[-1]), _checks(current[-1]), alias
        older = [v for v in verdicts if v[0] == alias and v[2]]
        return ("stale" if older else "none"), (), alias
    if verdicts:
        return _outcome(verdicts[-1]), _checks(verdicts[-1]), verdicts[-1][0]
    return "none", (), None


def _outcome(verdict: tuple[str, str, bool, str]) -> str:
    return "pass" if verdict[2] else "fail"


def _checks(verdict: tuple[str, str, bool, str]) -> tuple[str, ...]:
    if not verdict[2]:
        return ()
    try:
        checks = json.loads(verdict[3])
    except ValueError:
        return ()
    if not isinstance(checks, list):
        return ()
    return tuple(str(c.get("check")) for c in checks if isinstance(c, Mapping) and c.get("passed"))


# -- evidence for the rules ------------------------------------------------------------------

STORE = ".steward/steward.db"


def registry_of(facts: Facts) -> RegistrySummary:
    """The registry summary when the records can be read; an empty one otherwise."""
    records = facts.records
    return records.registry if records.readable else RegistrySummary()


def verified(text: str) -> Evidence:
    """Evidence read from the project's records: the strongest there is."""
    from mlsteward.audit.rule import Evidence, Strength

    return Evidence(text, Strength.VERIFIED, STORE)


def finding(message: str) -> Hit:
    """A finding the records prove, pointing at the store."""
    from mlsteward.audit.rule import Hit

    return Hit(message, STORE, context=message)


def refs(held: Iterable[HeldVersion], limit: int = 3) -> str:
    """``churn@2 (production), ...`` for a message."""
    items = [h.ref for h in held]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
