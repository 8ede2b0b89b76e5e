"""``steward store info|upgrade`` on a project's store, both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlsteward.cli import main
from mlsteward.store.database import HEAD


def _password(url: str) -> str | None:
    import sqlalchemy as sa

    return sa.make_url(url).password  # type: ignore[return-value]


def test_info_before_any_store_creates_nothing(
    project_dir: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "info", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    if store_url.startswith("sqlite"):
        assert shown["revision"] is None
        assert shown["counts"] == {}
        assert not Path(store_url.removeprefix("sqlite:///")).exists()
    else:  # a fresh, empty PostgreSQL database: nothing in it yet either
        assert shown["revision"] is None
    assert shown["head"] == HEAD
    assert shown["up_to_date"] is False
    assert not (project_dir / ".steward").exists()


def test_upgrade_creates_then_info_shows_counts(
    project_dir: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "upgrade"]) == 0
    assert f"migrated from an empty store to {HEAD}" in capsys.readouterr().out
    assert main(["store", "upgrade"]) == 0
    assert f"already at {HEAD}" in capsys.readouterr().out

    from mlsteward.project import Project
    from mlsteward.store.database import open_store
    from mlsteward.store.events import append_event
    from mlsteward.store.runs import insert_run, new_id

    with open_store(Project.open()).write() as conn:
        insert_run(conn, {"id": new_id(), "name": "r", "experiment": "e", "start_time": 1.0})
        append_event(conn, "run.start", "r", {})

    assert main(["store", "info", "-f", "json"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["revision"] == HEAD
    assert shown["up_to_date"] is True
    assert shown["counts"] == {"runs": 1, "datasets": 0, "artifacts": 0, "events": 1}
    assert shown["backend"] == store_url.split(":")[0].split("+")[0]
    assert (shown["size"] > 0) if store_url.startswith("sqlite") else shown["size"] is None

    assert main(["store", "info"]) == 0
    text = capsys.readouterr().out
    assert f"schema     {HEAD} (current)" in text
    assert "runs       1" in text
    password = _password(store_url)
    if password:
        assert password not in out + text
        assert "***" in text


def test_info_of_an_old_store_says_to_upgrade(
    project_dir: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from alembic import command

    from mlsteward.store.database import Store, alembic_config

    old = Store(store_url)
    old.open()
    if old.path is not None:
        old.path.parent.mkdir(parents=True, exist_ok=True)
    with old.write() as conn:
        command.upgrade(alembic_config(conn), "0001")
    old.close()
    assert main(["store", "info"]) == 0
    assert "0001 (this mlsteward needs" in capsys.readouterr().out
    assert main(["store", "upgrade"]) == 0
    assert f"migrated from 0001 to {HEAD}" in capsys.readouterr().out


def test_errors_are_one_line_with_a_code(
    project_dir: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["store", "info", "--format", "yaml"]) == 2
    assert "unknown-format" in capsys.readouterr().err
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a database at all")
        assert main(["store", "upgrade"]) == 1
        err = capsys.readouterr().err
        assert "[store-corrupt]" in err
        assert "hint:" in err
        assert path.read_bytes() == b"not a database at all"


def test_the_store_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, mlsteward.cli.store; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'fsspec') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
