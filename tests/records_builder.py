"""Real mlsteward stores as bytes, for audit rule cases that read a project's records.

The store is written by the store's own code into a temporary directory, closed (so the
WAL is checkpointed into the main file) and returned as the bytes of ``steward.db``; a
case puts them at ``.steward/steward.db``.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKS",
    "POLICY",
    "add_verdict",
    "card_event",
    "dataset_and_model",
    "gates_toml",
    "move_alias",
    "policy_hash",
    "register_version",
    "registry_store_bytes",
    "store_bytes",
    "version_id",
]


def dataset_and_model(
    conn: Any,
    run_id: str,
    *,
    name: str = "reviews",
    version: int = 1,
    size: int = 10,
    model_size: int = 20,
    source: str = "web",
    now: float | None = None,
) -> tuple[str, str]:
    """Record dataset version ``name@version`` consumed by ``run_id`` and a model it
    produced; return the two artifact ids."""
    from mlsteward.store.artifacts import add_edge, insert_artifact
    from mlsteward.store.runs import new_id
    from mlsteward.store.schema import dataset_versions, datasets

    now = time.time() if now is None else now
    data = insert_artifact(
        conn,
        kind="dataset",
        digest=f"{version:064x}",
        is_tree=False,
        size=size,
        files=1,
        uri=f"objects/{name}",
        name=f"data/{name}.csv",
    )
    model = insert_artifact(
        conn,
        kind="model",
        digest="e" * 64,
        is_tree=False,
        size=model_size,
        files=1,
        uri="objects/e",
        name="model.skops",
    )
    dataset_id = new_id()
    conn.execute(datasets.insert().values(id=dataset_id, name=name, description="", created=now))
    row = {
        "id": new_id(),
        "dataset_id": dataset_id,
        "version": version,
        "artifact_id": data.id,
        "path": f"data/{name}.csv",
        "source": source,
        "code_commit": "a" * 40,
        "code_dirty": False,
        "created": now,
    }
    conn.execute(dataset_versions.insert().values(**row))
    add_edge(conn, run_id, data.id, "consumed")
    add_edge(conn, run_id, model.id, "produced")
    return data.id, model.id


@functools.cache
def store_bytes(*, runs: int = 2, steps: int = 3, datasets: int = 1, dirty: bool = False) -> bytes:
    """A store holding ``runs`` tracked runs (params, metrics at ``steps`` steps) and
    ``datasets`` dataset versions, each consumed by every run."""
    from mlsteward.store import Store
    from mlsteward.store.artifacts import add_edge, insert_artifact
    from mlsteward.store.events import append_event
    from mlsteward.store.runs import MetricPoint, insert_metrics, insert_run, new_id, set_params
    from mlsteward.store.schema import dataset_versions
    from mlsteward.store.schema import datasets as datasets_table

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "steward.db"
        store = Store.connect(f"sqlite:///{db}")
        now = time.time()
        with store.write() as conn:
            versions = []
            for d in range(datasets):
                art = insert_artifact(
                    conn, kind="dataset", digest=f"{d:064x}", is_tree=False, size=10, files=1,
                    uri=f"objects/{d}", name=f"data/d{d}.csv",
                )  # fmt: skip
                ds_id = new_id()
                conn.execute(
                    datasets_table.insert().values(
                        id=ds_id, name=f"d{d}", description="", created=now
                    )
                )
                version = {
                    "id": new_id(), "dataset_id": ds_id, "version": 1, "artifact_id": art.id,
                    "path": f"data/d{d}.csv", "source": f"data/d{d}.csv",
                    "code_commit": "a" * 40, "code_dirty": False, "created": now,
                }  # fmt: skip
                conn.execute(dataset_versions.insert().values(**version))
                versions.append(art.id)
            for r in range(runs):
                run_id = new_id()
                insert_run(
                    conn,
                    {
                        "id": run_id, "name": f"train-{r}", "experiment": "default",
                        "start_time": now + r, "git_commit": "b" * 40, "git_dirty": dirty,
                        "lock_file": "uv.lock", "lock_hash": "c" * 64,
                    },
                )  # fmt: skip
                set_params(conn, run_id, {"lr": "0.1"})
                points = [MetricPoint("loss", 1.0 / (s + 1), s, now) for s in range(steps)]
                insert_metrics(conn, run_id, points)
                for art_id in versions:
                    add_edge(conn, run_id, art_id, "consumed")
                append_event(conn, "run.start", run_id)
        store.close()
        return db.read_bytes()


# -- the model registry ------------------------------------------------------------------------


def _model_id(conn: Any, name: str, *, create: bool = True) -> str:
    from sqlalchemy import select

    from mlsteward.store.runs import new_id
    from mlsteward.store.schema import registered_models

    row = conn.execute(
        select(registered_models.c.id).where(registered_models.c.name == name)
    ).first()
    if row is not None:
        return str(row[0])
    if not create:
        raise KeyError(name)
    model_id = new_id()
    conn.execute(
        registered_models.insert().values(
            id=model_id, name=name, description=f"the {name} model", created=time.time()
        )
    )
    return model_id


def version_id(conn: Any, model: str, version: int) -> str:
    """The id of ``model`` version ``version``."""
    from sqlalchemy import select

    from mlsteward.store.schema import model_versions

    return str(
        conn.execute(
            select(model_versions.c.id).where(
                model_versions.c.model_id == _model_id(conn, model, create=False),
                model_versions.c.version == version,
            )
        ).scalar_one()
    )


def register_version(
    conn: Any,
    model: str,
    version: int,
    *,
    run_id: str | None = None,
    commit: str | None = "b" * 40,
    dirty: bool | None = False,
    forced: bool = False,
    train: tuple[str, ...] = (),
    evaluation: tuple[str, ...] = (),
    description: str = "",
    signature: dict[str, Any] | None = None,
    trust: dict[str, Any] | None = None,
    fmt: str = "skops",
    deleted: float | None = None,
) -> str:
    """Write a model version row (and its model row, artifact and data links); return its id.

    ``train`` and ``evaluation`` are dataset version ids.
    """
    import json

    from mlsteward.store.artifacts import insert_artifact
    from mlsteward.store.runs import new_id
    from mlsteward.store.schema import model_datasets, model_versions

    model_id = _model_id(conn, model)
    art = insert_artifact(
        conn, kind="model", digest=f"{version:064x}", is_tree=False, size=100, files=1,
        uri=f"objects/{model}-{version}", name=f"{model}.skops",
    )  # fmt: skip
    vid = new_id()
    sig = signature or {"inputs": [{"name": "x", "type": "double"}], "outputs": []}
    conn.execute(
        model_versions.insert().values(
            id=vid, model_id=model_id, version=version, artifact_id=art.id, format=fmt,
            signature=json.dumps(sig), trust=json.dumps(trust or {"types": []}), run_id=run_id,
            git_commit=commit, git_dirty=dirty, forced=forced, description=description,
            created=time.time(), actor="tester@host", deleted=deleted,
        )
    )  # fmt: skip
    for role, ids in (("train", train), ("eval", evaluation)):
        for dv in ids:
            conn.execute(
                model_datasets.insert().values(version_id=vid, dataset_version_id=dv, role=role)
            )
    return vid


def move_alias(
    conn: Any,
    model: str,
    alias: str,
    to_version: int | None,
    *,
    kind: str = "promote",
    verdict_id: str | None = None,
    reason: str = "",
) -> None:
    """Move (or remove) an alias and append the move, as the registry does."""
    from sqlalchemy import select

    from mlsteward.store.events import append_event
    from mlsteward.store.schema import alias_moves, aliases

    model_id = _model_id(conn, model, create=False)
    now = time.time()
    row = conn.execute(
        select(aliases.c.version, aliases.c.revision).where(
            aliases.c.model_id == model_id, aliases.c.alias == alias
        )
    ).first()
    where = (aliases.c.model_id == model_id) & (aliases.c.alias == alias)
    if to_version is None:
        conn.execute(aliases.delete().where(where))
    elif row is None:
        conn.execute(
            aliases.insert().values(
                model_id=model_id, alias=alias, version=to_version, revision=1, moved=now
            )
        )
    else:
        conn.execute(
            aliases.update()
            .where(where)
            .values(version=to_version, revision=row.revision + 1, moved=now)
        )
    conn.execute(
        alias_moves.insert().values(
            model_id=model_id, alias=alias, from_version=None if row is None else row.version,
            to_version=to_version, kind=kind, reason=reason, verdict_id=verdict_id, time=now,
            actor="tester@host",
        )
    )  # fmt: skip
    append_event(conn, f"model.{kind}", f"model:{model}", {"alias": alias, "to": to_version})


def add_verdict(
    conn: Any,
    model: str,
    version: int,
    *,
    policy: str,
    policy_hash: str,
    passed: bool,
    checks: tuple[dict[str, Any], ...] = (),
    dataset_version_id: str | None = None,
) -> str:
    """Record a gate verdict on ``model@version`` through the registry's own code."""
    from mlsteward.registry.verdicts import record_verdict

    return record_verdict(
        conn,
        version_id=version_id(conn, model, version),
        subject=f"model:{model}@{version}",
        policy=policy,
        policy_hash=policy_hash,
        passed=passed,
        checks=checks,
        dataset_version_id=dataset_version_id,
    ).id


def card_event(conn: Any, model: str, version: int) -> None:
    """The event `steward models card` appends when it makes a card."""
    from mlsteward.store.events import append_event

    append_event(conn, "model.card", f"model:{model}@{version}", {"artifact": None})


def policy_hash(table: dict[str, Any]) -> str:
    """The hash a verdict records for a ``[tool.steward.gates.<alias>]`` table."""
    from mlsteward.registry.policy import GatePolicy

    return GatePolicy("any", table).hash


#: the production policy of the registry cases (`gates_toml` writes it)
POLICY: dict[str, Any] = {"metrics": {"accuracy": ">= 0.8"}, "canary_minutes": 0}
CHECKS = (
    {"check": "metrics", "passed": True, "measured": {"accuracy": 0.91},
     "expected": {"accuracy": ">= 0.8"}, "detail": ""},
    {"check": "slices", "passed": True,
     "measured": {"region": {"EU": {"accuracy": 0.9}, "US": {"accuracy": 0.92}}},
     "expected": {"accuracy": ">= 0.8"}, "detail": "2 slices"},
    {"check": "fairness", "passed": True, "measured": {"sex": {"demographic_parity": 0.03}},
     "expected": {"demographic_parity": "<= 0.1"}, "detail": ""},
)  # fmt: skip


def gates_toml(*, models: str = "", canary_minutes: int = 0) -> str:
    """A pyproject.toml declaring `POLICY` for production (and ``models`` tables).

    Another ``canary_minutes`` makes another policy: the store's verdicts no longer match it.
    """
    return (
        '[project]\nname = "demo"\nversion = "0"\n\n'
        '[tool.steward.gates.production]\nmetrics = { accuracy = ">= 0.8" }\n'
        f"canary_minutes = {canary_minutes}\n" + models
    )


@functools.cache
def registry_store_bytes(
    *,
    provenance: bool = True,
    verdict: str = "pass",
    gated: bool = True,
    previous: bool = True,
    card: bool = True,
    canary: bool = True,
    stale_policy: bool = False,
) -> bytes:
    """A store where ``churn`` v1 then v2 went to production.

    v1 has full provenance, a passing verdict and went through canary; v2 is what the
    flags say: ``provenance`` (else forced, no run, no data), ``verdict`` pass | fail |
    none, ``gated`` (the production move names its verdict), ``previous`` (v1 is kept,
    else deleted), ``card`` (a card event), ``canary`` (v2 held canary first),
    ``stale_policy`` (v2's verdict was for an earlier version of the policy).
    """
    from mlsteward.store import Store
    from mlsteward.store.runs import insert_run, new_id

    current = policy_hash(POLICY)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "steward.db"
        store = Store.connect(f"sqlite:///{db}")
        with store.write() as conn:
            run_id = new_id()
            insert_run(
                conn,
                {"id": run_id, "name": "train", "experiment": "default",
                 "start_time": time.time(), "git_commit": "b" * 40, "git_dirty": False},
            )  # fmt: skip
            dataset_and_model(conn, run_id, name="reviews")
            from sqlalchemy import select

            from mlsteward.store.schema import dataset_versions

            data = str(conn.execute(select(dataset_versions.c.id)).scalar_one())
            register_version(conn, "churn", 1, run_id=run_id, train=(data,))
            if provenance:
                register_version(conn, "churn", 2, run_id=run_id, train=(data,))
            else:
                register_version(conn, "churn", 2, commit=None, dirty=None, forced=True)
            v1 = add_verdict(
                conn, "churn", 1, policy="production", policy_hash=current, passed=True,
                checks=CHECKS,
            )  # fmt: skip
            move_alias(conn, "churn", "canary", 1)
            move_alias(conn, "churn", "production", 1, verdict_id=v1, reason="first")
            v2 = None
            if verdict != "none":
                v2 = add_verdict(
                    conn, "churn", 2, policy="production",
                    policy_hash="0" * 64 if stale_policy else current,
                    passed=verdict == "pass", checks=CHECKS,
                )  # fmt: skip
            if canary:
                move_alias(conn, "churn", "canary", 2)
            move_alias(
                conn, "churn", "production", 2, verdict_id=v2 if gated else None, reason="better"
            )
            if card:
                card_event(conn, "churn", 2)
            if not previous:
                from mlsteward.store.schema import model_versions

                conn.execute(
                    model_versions.update()
                    .where(model_versions.c.id == version_id(conn, "churn", 1))
                    .values(deleted=time.time())
                )
        store.close()
        return db.read_bytes()
