"""The file index: .gitignore honoured with or without git, links never followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.files import glob_match
from mlsteward.config import parse_settings
from repo_builder import Link, build_repo, git

TREE = {
    ".gitignore": "data/\n*.log\n!keep.log\n",
    "train.py": "x = 1\n",
    "run.log": "noise",
    "keep.log": "kept",
    "data": {"big.csv": "a,b\n"},
    "pkg": {".gitignore": "local_*.py\n", "core.py": "y = 2\n", "local_scratch.py": "z = 3\n"},
    ".venv": {"lib.py": "v = 1\n"},
    "node_modules": {"x.js": "1"},
}


@pytest.mark.parametrize("use_git", [False, True], ids=["walk", "git"])
def test_gitignore_is_honoured(tmp_path: Path, use_git: bool) -> None:
    root = build_repo(tmp_path, TREE, use_git=use_git)
    if use_git:
        (root / "untracked.py").write_text("u = 1\n")
    files = Facts(root).files
    expected = {".gitignore", "train.py", "keep.log", "pkg/.gitignore", "pkg/core.py"}
    if use_git:
        expected.add("untracked.py")
        assert files.tracked is not None
        assert "untracked.py" not in files.tracked
        assert not files.is_tracked("untracked.py")
        assert files.is_tracked("train.py")
    assert set(files.files) == expected


def test_links_are_recorded_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("secret")
    root = build_repo(
        tmp_path / "repo", {"a.py": "x = 1\n", "leak.py": Link(str(secret)), "self": Link("self")}
    )
    facts = Facts(root)
    files = facts.files
    assert "leak.py" not in files.files
    assert "leak.py" in files.links
    assert files.read_text("leak.py") is None
    kinds = {(p.kind, p.path) for p in facts.problems}
    assert ("link", "leak.py") in kinds
    assert ("link", "self") in kinds


def test_a_directory_link_loop_does_not_hang(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a": {"b.py": "x = 1\n", "up": Link("..")}})
    assert Facts(root).files.files == ("a/b.py",)


def test_text_reading_refuses_binary_and_reports_it(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"model.py": b"\x00\x01binary", "ok.py": "x = 1\n"})
    facts = Facts(root)
    assert facts.files.read_text("model.py") is None
    assert facts.files.read_text("ok.py") == "x = 1\n"
    assert [p.kind for p in facts.problems] == ["unreadable"]


def test_exclude_setting_removes_paths(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"vendor": {"lib.py": "x = 1\n"}, "src": {"a.py": "y = 1\n"}})
    settings = parse_settings({"audit": {"exclude": ["vendor"]}})
    assert Facts(root, settings).files.files == ("src/a.py",)


def test_anchor_prefers_the_named_file_then_readme(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"README.md": "# x", "sub": {"requirements.txt": "numpy\n"}})
    files = Facts(root).files
    assert files.anchor("requirements*.txt") == "sub/requirements.txt"
    assert files.anchor("uv.lock") == "README.md"


@pytest.mark.parametrize(
    ("path", "pattern", "hit"),
    [
        ("a/b/c.py", "**/*.py", True),
        ("c.py", "**/*.py", True),
        ("a/b/c.py", "a/*.py", False),
        ("a/b/c.py", "c.py", True),
        ("notebooks/x/y.ipynb", "notebooks/**", True),
        ("src/notebooks.py", "notebooks/**", False),
    ],
)
def test_glob_semantics(path: str, pattern: str, hit: bool) -> None:
    assert glob_match(path, pattern) is hit


def test_git_index_lists_files_of_a_fresh_clone(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a.py": "x = 1\n"}, use_git=True)
    git(root, "rm", "-q", "--cached", "a.py")
    # untracked again, but not ignored: still part of the project's files
    assert Facts(root).files.files == ("a.py",)
