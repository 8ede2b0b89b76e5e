"""The metadata store's foundation: schema vs migrations, versions, damage, locks, races.

Every test that can runs on SQLite and PostgreSQL (the ``store_url`` fixture); the ones
about files (corruption, SQLite's lock) are SQLite's alone. Bad stores must give a
StewardError with a code and leave what is stored exactly as it was.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mlsteward.errors import (
    ConfigError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreSchemaError,
)
from mlsteward.store.database import HEAD, Store, alembic_config
from mlsteward.store.runs import MetricPoint, insert_metrics, insert_run, new_id, set_params
from mlsteward.store.schema import metadata, metrics, params, runs

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _add_run(store: Store, name: str = "r") -> str:
    run_id = new_id()
    with store.write() as conn:
        insert_run(conn, {"id": run_id, "name": name, "experiment": "e", "start_time": 1.0})
        set_params(conn, run_id, {"lr": "0.1"})
        insert_metrics(conn, run_id, [MetricPoint("loss", 1.0 / (s + 1), s, 2.0) for s in range(5)])
    return run_id


def _dump(url: str) -> dict[str, Any]:
    """Every table's rows, sorted: what 'nothing changed' is checked against."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(sa.inspect(conn).get_table_names())
            return {
                n: sorted(map(repr, conn.execute(sa.select(sa.text("*")).select_from(sa.table(n)))))
                for n in names
            }
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


# -- schema ---------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_schema(store_url: str) -> None:
    store = Store.connect(store_url)
    try:
        with store.read() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            found = sa.inspect(conn)
            assert set(found.get_table_names()) == {*metadata.tables, "alembic_version"}
            for table in metadata.sorted_tables:
                indexes = {ix["name"] for ix in found.get_indexes(table.name)}
                assert {ix.name for ix in table.indexes} <= indexes, table.name
                fks = {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in
                       found.get_foreign_keys(table.name)}  # fmt: skip
                want = {(tuple(fk.parent.name for fk in c.elements), c.referred_table.name)
                        for c in table.foreign_key_constraints}  # fmt: skip
                assert fks == want, table.name
        # the comparison is not blind: a dropped index shows up
        with store.write() as conn:
            conn.execute(sa.text("DROP INDEX ix_runs_name"))
        with store.read() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) != []
    finally:
        store.close()


def test_foreign_keys_are_enforced_after_the_store_is_made(store_url: str) -> None:
    # creating the store turns SQLite's foreign keys off while migrating: they must be back
    store = Store.connect(store_url)
    with pytest.raises(sa.exc.IntegrityError), store.write() as conn:
        conn.execute(sa.insert(params).values(run_id="0" * 32, key="lr", value="1"))
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(params)).scalar() == 0
    store.close()


def test_a_store_newer_than_the_code_is_refused_and_left_alone(store_url: str) -> None:
    store = Store.connect(store_url)
    _add_run(store)
    with store.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    before = _dump(store_url)
    raw = _sqlite_file(store_url).read_bytes() if store_url.startswith("sqlite") else b""

    with pytest.raises(StoreSchemaError) as err:
        Store.connect(store_url)
    assert err.value.code == "store-too-new"
    assert "9999" in err.value.message
    assert "upgrade mlsteward" in (err.value.hint or "")
    other = Store(store_url)
    other.open()
    with pytest.raises(StoreSchemaError, match="store-too-new"):
        other.upgrade()
    other.close()

    assert _dump(store_url) == before
    if raw:
        assert _sqlite_file(store_url).read_bytes() == raw


def test_an_old_store_asks_for_upgrade_and_the_cli_upgrade_keeps_its_rows(
    project_dir: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlsteward.cli import main

    old = Store(store_url)
    old.open()
    if old.path is not None:
        old.path.parent.mkdir(parents=True, exist_ok=True)
    with old.write() as conn:
        command.upgrade(alembic_config(conn), "0001")
    assert old.revision() == "0001"
    run_id = _add_run(old)
    old.close()

    with pytest.raises(StoreSchemaError) as err:
        Store.connect(store_url)
    assert err.value.code == "store-schema"
    assert "steward store upgrade" in (err.value.hint or "")

    assert main(["store", "upgrade"]) == 0
    assert f"from 0001 to {HEAD}" in capsys.readouterr().out
    store = Store.connect(store_url)
    with store.read() as conn:
        assert conn.execute(sa.select(runs.c.name).where(runs.c.id == run_id)).scalar() == "r"
        assert conn.execute(sa.select(params.c.value)).scalars().all() == ["0.1"]
        assert len(conn.execute(sa.select(metrics.c.step)).all()) == 5
    store.close()
    assert main(["store", "upgrade"]) == 0
    assert f"already at {HEAD}" in capsys.readouterr().out


def test_a_database_holding_other_tables_is_not_touched(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    if store_url.startswith("sqlite"):
        _sqlite_file(store_url).parent.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total FLOAT)"))
        conn.execute(sa.text("INSERT INTO invoices VALUES (1, 9.5)"))
    engine.dispose()
    before = _dump(store_url)
    with pytest.raises(StoreSchemaError) as err:
        Store.connect(store_url)
    assert err.value.code == "store-foreign"
    assert "invoices" in err.value.message
    assert _dump(store_url) == before


def test_another_tools_alembic_database_is_not_taken_for_a_newer_store(tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    with sqlite3.connect(path) as db:  # what an MLflow tracking database looks like
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('bf29a5ff90ea')")
        db.execute("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY)")
    db.close()
    raw = path.read_bytes()
    with pytest.raises(StoreSchemaError) as err:
        Store.connect(f"sqlite:///{path}")
    assert err.value.code == "store-foreign"
    assert path.read_bytes() == raw


# -- damage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("junk", [b"PK\x03\x04 a zip file, not a database" * 50, b"short"])
def test_a_file_that_is_not_sqlite_is_refused_unmodified(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "steward.db"
    path.write_bytes(junk)
    with pytest.raises(StoreCorruptError) as err:
        Store.connect(f"sqlite:///{path}")
    assert err.value.code == "store-corrupt"
    assert path.read_bytes() == junk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steward.db"]


def test_damaged_pages_give_store_corrupt_from_read_and_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    store = Store.connect(url)
    run_id = new_id()
    with store.write() as conn:
        insert_run(conn, {"id": run_id, "name": "r", "experiment": "e", "start_time": 1.0})
        points = [MetricPoint("loss", float(s), s, 1.0) for s in range(20_000)]
        insert_metrics(conn, run_id, points)
    store.close()  # checkpoints the WAL into the file
    path = tmp_path / "steward.db"
    size = path.stat().st_size
    with path.open("r+b") as fh:  # junk over a few pages in the middle of the metrics
        for page in (size // 4096 // 2, size // 4096 // 2 + 3, size // 4096 // 2 + 7):
            fh.seek(page * 4096)
            fh.write(bytes(range(256)) * 16)

    store = Store.connect(url, timeout=1)  # the schema's pages are intact
    with pytest.raises(StoreCorruptError, match="store-corrupt"), store.read() as conn:
        conn.execute(sa.select(sa.func.sum(metrics.c.value))).scalar()
    with pytest.raises(StoreCorruptError, match="store-corrupt"), store.write() as conn:
        conn.execute(sa.update(metrics).values(step=metrics.c.step + 1))
    store.close()


def test_a_folder_in_place_of_the_file_is_an_access_error(tmp_path: Path) -> None:
    (tmp_path / "steward.db").mkdir()
    with pytest.raises(StoreError) as err:
        Store.connect(f"sqlite:///{tmp_path / 'steward.db'}")
    assert err.value.code == "store-access"


def test_a_postgresql_user_without_create_rights_gets_store_access(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("about PostgreSQL's privileges")
    engine = sa.create_engine(store_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # what PostgreSQL 15+ does for a user who is not the owner
        conn.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM pg_database_owner, PUBLIC"))
    engine.dispose()
    with pytest.raises(StoreError) as err:
        Store.connect(store_url)
    assert err.value.code == "store-access"
    assert "permission denied" in err.value.message
    assert "\n" not in err.value.message  # the driver's message, not the SQL it echoes
    assert _dump(store_url) == {}


# -- locks ----------------------------------------------------------------------------------

_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO runs (id, name, experiment, status, start_time) "
           "VALUES ('holder', 'holder', 'e', 'running', 1.0)")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


def test_a_write_lock_held_by_another_process_gives_store_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    first = _add_run(Store.connect(url), "first")
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "steward.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "locked"
            store = Store.connect(url, timeout=0.5)  # readers do not wait (WAL)
            row = {"id": new_id(), "name": "lost?", "experiment": "e", "start_time": 2.0}
            with pytest.raises(StoreLockedError) as err, store.write() as conn:
                insert_run(conn, row)
            assert err.value.code == "store-locked"
        finally:
            holder.stdin.write("\n")
            holder.stdin.close()
            assert holder.wait(timeout=30) == 0
    second = _add_run(store, "second")
    with store.read() as conn:
        ids = set(conn.execute(sa.select(runs.c.id)).scalars())
    assert ids == {first, second, "holder"}
    store.close()


# -- URLs and servers -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_unreachable(url: str, password: str) -> None:
    with pytest.raises(StoreError) as err:
        Store.connect(url)
    assert err.value.code == "store-unreachable"
    shown = f"{err.value} {err.value!r} {err.value.hint}"
    assert password not in shown
    assert "***" in shown


def test_a_server_nobody_listens_on_is_unreachable_and_the_password_stays_hidden() -> None:
    password = "Pw-that-must-not-show-7f3a"
    _assert_unreachable(f"postgresql://steward:{password}@127.0.0.1:{_free_port()}/x", password)


def test_a_wrong_password_is_unreachable_and_not_shown() -> None:
    admin = os.environ.get("STEWARD_TEST_POSTGRES")
    if not admin:
        if os.environ.get("STEWARD_TEST_REQUIRE_POSTGRES"):
            pytest.fail("STEWARD_TEST_POSTGRES is not set but CI requires the PostgreSQL tests")
        pytest.skip("no PostgreSQL server")
    url = sa.make_url(admin).set(password="Wrong-pw-4e1d9c")
    _assert_unreachable(url.render_as_string(hide_password=False), "Wrong-pw-4e1d9c")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user@localhost/db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:records?mode=memory&uri=true",
        "not a url at all",
        "postgresql://user:Hidden-9c2@host:notaport/db",
        "postgresql+nosuchdriver://user@host/db",
    ],
)
def test_urls_mlsteward_cannot_use_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        Store.connect(url)
    assert err.value.code == "config-value"
    assert err.value.hint
    assert "Hidden-9c2" not in str(err.value)


# -- racing first start ---------------------------------------------------------------------

_STARTER = """
import os, sys, time
from mlsteward.store.database import Store
url, ready, go = sys.argv[1:4]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
print(Store.connect(url).revision())
"""


def test_processes_starting_together_make_one_schema(store_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, store_url, str(tmp_path / f"ready{i}"), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(6)):
        assert time.monotonic() < deadline, "the starters did not come up"
        assert all(s.poll() is None for s in starters), [s.communicate() for s in starters]
        time.sleep(0.01)
    go.touch()  # the barrier: every process is imported and waiting
    outcomes = [s.communicate(timeout=120) for s in starters]
    assert [s.returncode for s in starters] == [0] * 6, outcomes
    assert [out.strip() for out, _ in outcomes] == [HEAD] * 6
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
        assert set(sa.inspect(conn).get_table_names()) == {*metadata.tables, "alembic_version"}
    engine.dispose()


def test_a_store_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "steward.db"
    with pytest.raises(StoreSchemaError, match="store-schema"):
        Store.connect(f"sqlite:///{path}", create=False)
    assert not path.parent.exists()
    info = Store(f"sqlite:///{path}").info()
    assert (info.revision, info.counts, info.size) == (None, {}, None)
    assert not path.parent.exists()


def test_info_counts_what_the_store_holds(store_url: str) -> None:
    store = Store.connect(store_url)
    _add_run(store)
    info = store.info()
    store.close()
    assert info.revision == HEAD
    assert info.up_to_date
    assert info.counts == {"runs": 1, "datasets": 0, "artifacts": 0, "events": 0}
    assert (info.size is not None) == store_url.startswith("sqlite")
    assert "***" in info.url or "@" not in info.url
