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
