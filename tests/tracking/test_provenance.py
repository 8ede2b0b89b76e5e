"""Provenance captured without asking: git state, lock file, environment, process."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from mlsteward import Project
from mlsteward.store.database import open_store
from mlsteward.store.schema import environments, runs
from mlsteward.tracking import provenance
from mlsteward.tracking.provenance import GitState, command_line, git_state, lock_file
from mlsteward.tracking.run import start_run
from repo_builder import build_repo, git


def test_clean_and_dirty_trees(tmp_path: Path) -> None:
    root = build_repo(
        tmp_path / "repo",
        {"train.py": "print(1)\n", ".gitignore": "*.log\n", "data": {"a.csv": "a\n"}},
        use_git=True,
    )
    head = git(root, "rev-parse", "HEAD").strip()
    assert git_state(root) == GitState(head, "main", dirty=False, diff_hash=None)
    assert git_state(root / "data") == git_state(root)  # from anywhere inside the tree

    Project.open(root).ensure_workspace()
    (root / ".steward" / "steward.db").write_bytes(b"records")
    (root / "run.log").write_text("ignored\n", encoding="utf-8")
    assert git_state(root).dirty is False  # the workspace and ignored files do not count

    (root / "train.py").write_text("print(2)\n", encoding="utf-8")
    edit = git_state(root)
    assert (edit.commit, edit.dirty) == (head, True)
    assert edit.diff_hash is not None
    assert len(edit.diff_hash) == 64
    (root / "train.py").write_text("print(3)\n", encoding="utf-8")
    other = git_state(root).diff_hash
    assert other != edit.diff_hash
    (root / "train.py").write_text("print(2)\n", encoding="utf-8")
    assert git_state(root).diff_hash == edit.diff_hash  # same edit, same hash

    (root / "notes.md").write_text("draft\n", encoding="utf-8")
    untracked = git_state(root).diff_hash
    assert untracked != edit.diff_hash
    (root / "notes.md").write_text("draft 2\n", encoding="utf-8")
    assert git_state(root).diff_hash not in (untracked, edit.diff_hash)
    (root / "notes.md").unlink()
    (root / "run.log").write_text("changed, still ignored\n", encoding="utf-8")
    assert git_state(root).diff_hash == edit.diff_hash

    git(root, "add", "train.py")  # staged or not, the diff against HEAD is the same
    assert git_state(root).diff_hash == edit.diff_hash
    git(root, "checkout", "-q", "--detach")
    assert git_state(root).branch is None


def test_outside_git_the_fields_are_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_state(plain) == GitState()
    empty = build_repo(tmp_path / "new", {"a.py": "x = 1\n"})
    git(empty, "init", "-q", "-b", "main")  # a repository with no commit yet
    fresh = git_state(empty)
    assert (fresh.commit, fresh.branch, fresh.dirty) == (None, "main", True)
    assert fresh.diff_hash is not None
    monkeypatch.setenv("PATH", str(plain))  # no git on PATH: still no error
    assert git_state(empty) == GitState()


def test_lock_file_is_the_first_present(tmp_path: Path) -> None:
    assert lock_file(tmp_path) is None
    (tmp_path / "requirements.txt").write_text("numpy==2.0\n", encoding="utf-8")
    (tmp_path / "poetry.lock").write_text("# poetry\n", encoding="utf-8")
    name, digest = lock_file(tmp_path) or ("", "")
    assert name == "poetry.lock"
    assert digest == hashlib.sha256(b"# poetry\n").hexdigest()


def test_command_line_masks_secrets() -> None:
    argv = [
        "train.py",
        "--api-key=abc",
        "--token",
        "t0k",
        "--lr",
        "0.1",
        "db_password=hunter2",
        "--SECRET",
        "s",
        "--note",
        "two words",
    ]
    assert command_line(argv) == (
        "train.py --api-key=*** --token *** --lr 0.1 db_password=*** --SECRET *** "
        "--note 'two words'"
    )
    assert "hunter2" not in command_line(argv)


def test_environment_is_read_once() -> None:
    env = provenance.environment()
    assert provenance.environment() is env
    packages = json.loads(env.packages)
    assert list(packages) == sorted(packages)
    assert "SQLAlchemy" in packages or "sqlalchemy" in packages
    assert env.python.split()[-1].count(".") == 2
    assert env.hash == hashlib.sha256(f"{env.python}\n{env.packages}".encode()).hexdigest()


def test_runs_record_their_provenance(project_dir: Path) -> None:
    head = git(project_dir, "rev-parse", "HEAD").strip()
    with start_run("clean") as clean:
        pass
    (project_dir / "pyproject.toml").write_text('[project]\nname = "demo2"\n', encoding="utf-8")
    with start_run("dirty") as dirty:
        pass
    with open_store(Project.open()).read() as conn:
        rows = {r.name: r for r in conn.execute(select(runs))}
        envs = conn.execute(select(environments)).all()
    first, second = rows["clean"], rows["dirty"]
    assert (first.git_commit, first.git_branch, first.git_dirty) == (head, "main", False)
    assert first.git_diff_hash is None
    assert (second.git_commit, second.git_dirty) == (head, True)
    assert second.git_diff_hash == git_state(project_dir).diff_hash
    assert first.lock_file == "uv.lock"
    assert first.lock_hash == hashlib.sha256(b"version = 1\n").hexdigest()
    assert len(envs) == 1  # one environment, recorded once
    assert first.environment == second.environment == envs[0].hash
    assert envs[0].python == first.python
    assert (first.pid, first.host) == (os.getpid(), provenance.capture(project_dir).host)
    assert first.pid_start is not None
    assert first.user
    assert first.command
    assert (clean.id, dirty.id) == (first.id, second.id)
