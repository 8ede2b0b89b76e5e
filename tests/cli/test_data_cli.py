"""`steward data add|list|show|checkout` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlsteward.cli import main
from repo_builder import build_repo


def test_add_list_show_checkout(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_repo(project_dir, {"data": {"a.csv": "x\n" * 1000, "b.csv": "y\n"}})
    assert main(["data", "add", "data", "--name", "reviews", "--description", "d"]) == 0
    out, err = capsys.readouterr()
    ref, digest, size, unit, files, word = out.split()
    assert (ref, size, unit, files, word) == ("reviews@1", "2.0", "kB", "2", "files")
    assert len(digest) == 12
    assert err == ""  # no progress bar when stderr is not a terminal
    assert main(["data", "add", "data", "--name", "reviews"]) == 0
    assert capsys.readouterr().out == "unchanged: reviews@1\n"
    (project_dir / "data" / "b.csv").write_text("changed\n")
    assert main(["data", "add", "data", "-n", "reviews", "--source", "s3://bucket/r", "-q"]) == 0
    assert capsys.readouterr().out.startswith("reviews@2  ")

    assert main(["data", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "LATEST", "VERSIONS", "SIZE", "FILES", "HASH", "ADDED"]
    assert lines[1].split()[:3] == ["reviews", "@2", "2"]
    assert main(["data", "list", "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["name"], entry["versions"], entry["latest"]["version"]) == ("reviews", 2, 2)

    assert main(["data", "show", "reviews"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [r.split()[0] for r in rows] == ["VERSION", "reviews@2", "reviews@1"]
    assert "s3://bucket/r" in rows[1]
    assert main(["data", "show", "reviews@1", "-f", "json"]) == 0
    (version,) = json.loads(capsys.readouterr().out)
    assert (version["version"], version["source"], version["tree"]) == (1, "data", True)
    assert len(version["code_commit"]) == 40

    assert main(["data", "checkout", "reviews@1"]) == 2  # b.csv differs from version 1
    assert "checkout-conflict" in capsys.readouterr().err
    assert main(["data", "checkout", "reviews@1", "--force"]) == 0
    assert capsys.readouterr().out == "reviews@1 -> data\n"
    assert (project_dir / "data" / "b.csv").read_text() == "y\n"
    assert main(["data", "checkout", "reviews", "--to", "copy"]) == 0
    assert (project_dir / "copy" / "b.csv").read_text() == "changed\n"


def test_bad_input_exits_2_with_a_code(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "outside.csv").write_text("o")
    assert main(["data", "add", str(tmp_path / "outside.csv"), "--name", "o"]) == 2
    assert "[path-outside]" in capsys.readouterr().err
    assert main(["data", "add", "missing.csv", "--name", "m"]) == 2
    assert "[path-missing]" in capsys.readouterr().err
    assert main(["data", "show", "nothing"]) == 2
    assert "[not-found]" in capsys.readouterr().err
    assert main(["data", "list", "--format", "xml"]) == 2
    assert "[unknown-format]" in capsys.readouterr().err
    assert main(["data", "list"]) == 0
    assert "no datasets yet" in capsys.readouterr().out


def test_the_cli_modules_import_nothing_heavy() -> None:
    code = (
        "import sys, mlsteward.cli.app; "
        "print(sorted(m for m in ('sqlalchemy', 'fsspec', 'rich.progress', "
        "'mlsteward.data.datasets', 'mlsteward.data.housekeeping') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
