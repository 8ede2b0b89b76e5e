"""`steward lineage`, `steward verify` and `steward gc` as a user runs them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mlsteward.cli import main
from mlsteward.cli.records import parse_duration
from mlsteward.errors import UsageError
from mlsteward.project import Project
from mlsteward.store.artifacts import add_edge
from mlsteward.store.database import open_store
from mlsteward.store.runs import insert_run, new_id
from repo_builder import build_repo


def _add(name: str, path: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["data", "add", path, "--name", name]) == 0
    return capsys.readouterr().out.split()[1]  # the short hash


def test_lineage_in_three_formats(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_repo(project_dir, {"raw.csv": "r\n"})
    _add("raw", "raw.csv", capsys)
    project = Project.open()
    run_id = new_id()
    with open_store(project).write() as conn:
        insert_run(conn, {"id": run_id, "name": "train", "experiment": "e", "start_time": 1.0})
        from mlsteward.data.datasets import get_version

        add_edge(conn, run_id, get_version(project, "raw").artifact_id, "consumed")
    assert main(["lineage", "raw"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("dataset raw@1")
    assert f"-> run train  {run_id[:8]}  running" in text
    assert main(["lineage", run_id[:6], "--format", "json", "--upstream"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["root"] == f"run:{run_id}"
    assert [e["relation"] for e in doc["edges"]] == ["consumed"]
    assert main(["lineage", "raw@1", "-f", "dot", "--downstream", "--depth", "1"]) == 0
    assert capsys.readouterr().out.startswith("digraph lineage {")
    assert main(["lineage", "nosuch"]) == 2
    assert "[not-found]" in capsys.readouterr().err


def test_verify_exits_1_on_a_tampered_object_and_gc(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_repo(project_dir, {"d": {"a.txt": "a\n"}})
    _add("d", "d", capsys)
    assert main(["verify"]) == 0
    assert capsys.readouterr().out.startswith("ok: 2 objects checked")
    objects = project_dir / ".steward" / "objects" / "sha256"
    member = next(p for p in objects.rglob("*") if p.is_file() and p.read_bytes() == b"a\n")
    member.chmod(0o644)
    member.write_bytes(b"b\n")
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("corrupt ")
    assert "dataset d@1: a.txt" in out
    assert main(["verify", "--all", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["ok"], doc["problems"][0]["status"]) == (False, "corrupt")
    (project_dir / "d" / "a.txt").unlink()
    assert main(["data", "checkout", "d"]) == 1
    assert "[object-corrupt]" in capsys.readouterr().err

    stray = objects / "ab" / ("c" * 62)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"stray")
    os.utime(stray, (time.time() - 7200,) * 2)
    assert main(["gc", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("would remove 1 objects (5 B)")
    assert stray.exists()
    assert main(["gc", "--grace", "3h"]) == 0
    assert capsys.readouterr().out.startswith("removed 0 objects")
    assert main(["gc"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 objects (5 B)")
    assert not stray.exists()
    assert main(["gc", "--grace", "soon"]) == 2
    assert "[usage-value]" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_refuses_nonsense() -> None:
    with pytest.raises(UsageError):
        parse_duration("-1h")
