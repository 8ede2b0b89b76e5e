"""The audit reads a project's own records read-only, and survives a store it cannot read."""

from __future__ import annotations

import time
from pathlib import Path

from mlsteward.audit.facts import Facts
from records_builder import store_bytes
from repo_builder import build_repo


def _facts(root: Path) -> Facts:
    return Facts(root)  # type: ignore[arg-type]


def test_counts_runs_datasets_and_events(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "r", {".steward": {"steward.db": store_bytes(runs=3)}})
    records = _facts(root).records
    assert records.readable
    assert (records.runs.total, records.runs.with_params, records.runs.stepped) == (3, 3, 3)
    assert records.runs.consumed_data == 3
    assert (records.datasets, records.dataset_versions, records.versions_with_commit) == (1, 1, 1)
    assert records.events == 3
    assert records.revision is not None


def test_reading_writes_nothing_next_to_the_store(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "r", {".steward": {"steward.db": store_bytes()}})
    before = sorted(p.name for p in (root / ".steward").iterdir())
    data = (root / ".steward" / "steward.db").read_bytes()
    assert _facts(root).records.readable
    assert sorted(p.name for p in (root / ".steward").iterdir()) == before
    assert (root / ".steward" / "steward.db").read_bytes() == data


def test_records_still_in_a_live_writers_log_are_read(tmp_path: Path) -> None:
    from mlsteward.store import Store
    from mlsteward.store.runs import insert_run, new_id

    root = tmp_path / "r"
    store = Store.connect(f"sqlite:///{root / '.steward' / 'steward.db'}")
    with store.write() as conn:
        row = {"id": new_id(), "name": "live", "experiment": "e", "start_time": time.time()}
        insert_run(conn, row)
    # the store stays open, so the run may sit in the WAL and not the main file yet
    try:
        assert _facts(root).records.runs.total == 1
    finally:
        store.close()


def test_a_damaged_or_foreign_file_is_reported_not_raised(tmp_path: Path) -> None:
    garbage = build_repo(tmp_path / "g", {".steward": {"steward.db": b"\x00junk" * 100}})
    assert _facts(garbage).records.error is not None
    assert not _facts(garbage).records.readable

    import sqlite3

    foreign = tmp_path / "f"
    (foreign / ".steward").mkdir(parents=True)
    with sqlite3.connect(foreign / ".steward" / "steward.db") as conn:
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    assert _facts(foreign).records.error == "the file is not an mlsteward store"


def test_no_workspace_means_no_records(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "r", {"train.py": "x = 1\n"})
    records = _facts(root).records
    assert not records.present
    assert not records.readable


# -- the model registry --------------------------------------------------------------------


def _registry_facts(root: Path) -> Facts:
    from mlsteward.config import load_settings

    return Facts(root, load_settings(root))  # type: ignore[arg-type]


def test_a_release_with_its_records_in_order(tmp_path: Path) -> None:
    from records_builder import gates_toml, registry_store_bytes

    root = build_repo(
        tmp_path / "r",
        {"pyproject.toml": gates_toml(), ".steward": {"steward.db": registry_store_bytes()}},
    )
    registry = _registry_facts(root).records.registry
    assert registry.present
    assert (registry.models, registry.versions, registry.forced, registry.cards) == (1, 2, 0, 1)
    assert registry.aliases == (("churn", "canary", 2), ("churn", "production", 2))
    (held,) = registry.held
    assert (held.model, held.alias, held.version) == ("churn", "production", 2)
    assert held.provenance
    assert (held.train_data, held.card, held.canaried) == (1, True, True)
    assert (held.policy, held.verdict) == ("production", "pass")
    assert held.checks == ("metrics", "slices", "fairness")
    assert (held.previous, held.previous_deleted) == (1, None)
    assert (registry.guarded_moves, registry.ungated) == (2, ())


def test_a_release_the_records_contradict(tmp_path: Path) -> None:
    from records_builder import gates_toml, registry_store_bytes

    store = registry_store_bytes(
        provenance=False, verdict="none", gated=False, previous=False, card=False, canary=False
    )
    root = build_repo(
        tmp_path / "r", {"pyproject.toml": gates_toml(), ".steward": {"steward.db": store}}
    )
    registry = _registry_facts(root).records.registry
    (held,) = registry.held
    assert held.forced
    assert not held.provenance
    assert held.missing_provenance() == [
        "no producing run", "no git commit", "no training data", "registered with --force"
    ]  # fmt: skip
    assert (held.verdict, held.card, held.canaried) == ("none", False, False)
    assert (held.previous, held.previous_deleted) == (None, 1)
    assert [(m.model, m.alias, m.version) for m in registry.ungated] == [("churn", "production", 2)]


def test_a_verdict_counts_for_the_policy_as_declared_now(tmp_path: Path) -> None:
    from records_builder import gates_toml, registry_store_bytes

    stale = registry_store_bytes(stale_policy=True)
    root = build_repo(
        tmp_path / "a", {"pyproject.toml": gates_toml(), ".steward": {"steward.db": stale}}
    )
    assert _registry_facts(root).records.registry.held[0].verdict == "stale"
    # edit the policy: the verdicts recorded no longer count for it
    edited = gates_toml(canary_minutes=5)
    root = build_repo(
        tmp_path / "b",
        {"pyproject.toml": edited, ".steward": {"steward.db": registry_store_bytes()}},
    )
    held = _registry_facts(root).records.registry.held[0]
    assert (held.verdict, held.canary_minutes) == ("stale", 5.0)


def test_the_audit_and_the_registry_hash_a_policy_alike() -> None:
    from mlsteward.registry.policy import GatePolicy, policy_hash

    table = {"metrics": {"accuracy": ">= 0.8"}, "slices": ["region"], "canary_minutes": 30}
    assert policy_hash(table) == GatePolicy("production", table).hash


def test_a_store_from_before_the_registry_has_no_models(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "r" / ".steward" / "steward.db"
    root = build_repo(tmp_path / "r", {".steward": {"steward.db": store_bytes()}})
    with sqlite3.connect(db) as conn:  # what an 0002 store looks like
        for table in ("verdicts", "alias_moves", "aliases", "model_datasets", "model_versions",
                      "registered_models"):  # fmt: skip
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.close()
    records = _facts(root).records
    assert records.readable
    assert records.revision == "0002"
    assert records.runs.total == 2
    assert not records.registry.present
    assert records.registry.held == ()
