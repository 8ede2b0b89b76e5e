"""Two processes give the same report as one, and a child that cannot run falls back."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from mlsteward.audit import AuditOptions, audit
from mlsteward.audit.render import render
from repo_builder import build_repo

#: findings from both halves (code smells in the child, CI and tools in the parent) and
#: reading problems from both (a broken workflow, a syntax error)
REPO = {
    "train.py": "import pandas as pd\nimport numpy as np\nfrom sklearn.svm import SVC\n"
    "df = pd.read_csv('d.csv')\nif df.x == np.nan:\n    pass\nSVC().fit(df, df.y)\n",
    "broken.py": "def f(:\n",
    # no rule parses a module that imports nothing of interest: only the syntax check
    "tools": {"helpers.py": "def g(:\n    return 1\n"},
    ".github": {"workflows": {"ci.yml": "on: [push\njobs: {\n", "ok.yml": "on: push\n"}},
    "requirements.txt": "pandas\n",
    "Dockerfile": "FROM python:3.11\nCOPY . .\n",
}


def _report(root: Path, jobs: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("STEWARD_AUDIT_JOBS", jobs)
    data: dict[str, object] = json.loads(render(audit(root, AuditOptions()), "json"))
    data.pop("repository", None)
    return data


def _needs_fork() -> None:
    if threading.active_count() > 1:
        pytest.skip("a process with threads (pytest-xdist) never forks; run without -n")


def test_two_processes_give_the_report_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlsteward.audit import parallel

    _needs_fork()
    root = build_repo(tmp_path / "r", REPO, use_git=True)
    one = _report(root, "1", monkeypatch)
    before = parallel.splits
    two = _report(root, "2", monkeypatch)
    assert parallel.splits == before + 1
    assert two == one
    codes = {f["code"] for f in one["findings"]}  # type: ignore[index, union-attr]
    assert any(c.startswith("SML") for c in codes), codes  # the child's half reported
    assert any(c.startswith("AUD") for c in codes), codes  # problems reached AUD
    broken = {f["path"] for f in one["findings"] if f["code"] == "AUD002"}  # type: ignore[index, union-attr]
    assert {"broken.py", "tools/helpers.py"} <= broken, broken


def test_a_child_that_dies_is_replaced_by_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlsteward.audit import parallel

    _needs_fork()
    root = build_repo(tmp_path / "r", REPO, use_git=True)
    one = _report(root, "1", monkeypatch)

    def dies(*_args: object) -> None:
        import os

        os._exit(3)

    monkeypatch.setattr(parallel, "_child", dies)
    assert _report(root, "2", monkeypatch) == one
