"""`steward import mlflow URI` as a user runs it, on stores the real MLflow wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlsteward.cli import main

pytest.importorskip("mlflow", reason="mlflow-skinny (dev dependency) writes the test stores")

from tracking.test_mlflow_import import write_mlflow_stores


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same MLflow stores the library tests use (written once per session)."""
    return write_mlflow_stores(tmp_path_factory.getbasetemp())


def test_import_prints_what_it_did_and_then_what_it_skipped(
    project_dir: Path, stores: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    uri, _ = stores["file"]
    assert main(["import", "mlflow", uri]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("imported 4 run(s) from 2 experiment(s)")
    assert "  metric points 12017" in out
    assert "  left out      1 run(s) deleted in MLflow" in out
    assert not any("skipped" in line for line in out)

    assert main(["import", "mlflow", uri]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("imported 0 run(s) from 2 experiment(s)")
    assert "  skipped       4 run(s) imported before" in out


def test_json_dry_run_of_one_experiment(
    project_dir: Path, stores: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    uri, _ = stores["sql"]
    args = ["import", "mlflow", uri, "--experiment", "exp-b", "--dry-run", "--format", "json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "source": uri,
        "dry_run": True,
        "experiments": 1,
        "runs_imported": 2,
        "runs_skipped": 0,
        "runs_deleted": 1,
        "params": 0,
        "metric_points": 1,
        "tags": report["tags"],
    }
    assert report["tags"] > 0
    assert main(["import", "mlflow", uri, "-e", "exp-b", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "would import 2 run(s)" in text
    assert text.rstrip().endswith("dry run: nothing was written")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_big_store_shows_progress_on_stderr(
    project_dir: Path, stores: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    uri, _ = stores["many"]
    assert main(["import", "mlflow", uri]) == 0
    captured = capsys.readouterr()
    assert "run 100/120" in captured.err
    assert captured.err.endswith("run 120/120\n")
    assert "imported 120 run(s) from 1 experiment(s)" in captured.out
    assert "run 1" not in captured.out  # the report stays clean for pipes


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["http://mlflow.example.com"], "import-source"),
        (["./no-such-mlruns"], "path-missing"),
        ([".", "--format", "xml"], "unknown-format"),
        (["."], "import-not-mlflow"),
    ],
)
def test_bad_input_exits_2_with_a_code(
    project_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: str
) -> None:
    assert main(["import", "mlflow", *args]) == 2
    captured = capsys.readouterr()
    assert f"[{code}]" in captured.err
    assert "hint:" in captured.err
    assert captured.out == ""


def test_starting_the_cli_does_not_load_the_importer() -> None:
    probe = (
        "import sys, mlsteward.cli.app; "
        "print([m for m in sys.modules if m.startswith('mlsteward.tracking.mlflow')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
