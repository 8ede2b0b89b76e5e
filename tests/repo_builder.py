"""Build fixture repositories in tmp_path from small dicts (dvc's tmp_dir.gen style)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["Link", "build_repo", "git", "notebook"]


class Link(str):
    """A symbolic link to this target (relative or absolute), instead of a file."""


Tree = Mapping[str, "str | bytes | Tree"]


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_SYSTEM": os.devnull,
    }
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def _write(root: Path, tree: Tree) -> None:
    for name, content in tree.items():
        path = root / name
        if isinstance(content, Mapping):
            path.mkdir(parents=True, exist_ok=True)
            _write(path, content)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            path.symlink_to(str(content))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def build_repo(
    root: Path, files: Tree, *, use_git: bool = False, remote: str | None = None
) -> Path:
    """Write ``files`` under ``root`` (nested dicts are folders); optionally commit them."""
    root.mkdir(parents=True, exist_ok=True)
    _write(root, files)
    if use_git:
        git(root, "init", "-q", "-b", "main")
        if remote:
            git(root, "remote", "add", "origin", remote)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "fixture", "--allow-empty")
    return root


def notebook(*cells: str, markdown: tuple[str, ...] = ()) -> str:
    """A minimal nbformat-4 notebook with these code cells (and optional markdown cells first)."""
    nb_cells = [{"cell_type": "markdown", "metadata": {}, "source": m} for m in markdown]
    nb_cells += [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
        for c in cells
    ]
    return json.dumps({"cells": nb_cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
