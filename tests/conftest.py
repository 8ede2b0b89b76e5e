"""Fixtures shared by the records tests: a store URL for each backend, a project.

Every store test runs twice: on SQLite in ``tmp_path`` and on a fresh database of the
PostgreSQL server named by ``STEWARD_TEST_POSTGRES`` (``.ci/postgres.sh`` starts one and
prints its URL). Without that variable the PostgreSQL half is skipped, unless
``STEWARD_TEST_REQUIRE_POSTGRES`` is set (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")


def _admin_url() -> str | None:
    url = os.environ.get("STEWARD_TEST_POSTGRES")
    if not url and os.environ.get("STEWARD_TEST_REQUIRE_POSTGRES"):
        pytest.fail("STEWARD_TEST_POSTGRES is not set but CI requires the PostgreSQL tests")
    return url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store: SQLite under tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / '.steward' / 'steward.db'}"
        return
    admin = _admin_url()
    if not admin:
        pytest.skip("no PostgreSQL server: run `export STEWARD_TEST_POSTGRES=$(.ci/postgres.sh)`")
    import sqlalchemy as sa

    name = f"steward_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def project_dir(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project (a git repository with a pyproject) whose store is ``store_url``.

    The working directory is the project; ``STEWARD_STORE`` points at the store so the
    library and the CLI find it as a user's configuration would.
    """
    from repo_builder import build_repo

    root = build_repo(
        tmp_path / "project",
        {"pyproject.toml": '[project]\nname = "demo"\nversion = "0"\n', "uv.lock": "version = 1\n"},
        use_git=True,
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("STEWARD_STORE", store_url)
    monkeypatch.delenv("STEWARD_OBJECTS", raising=False)
    monkeypatch.delenv("STEWARD_PROJECT", raising=False)
    yield root
    # drop pooled connections so PostgreSQL can drop the database
    from mlsteward.store.database import dispose_all

    dispose_all()
