"""`steward data drift|skew` as a user runs them: formats, files, exit codes, dataset refs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlsteward.cli import main


def _write(path: Path, seed: int, *, shift: float = 0.0, scale: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    n = 3_000
    age = rng.integers(18, 90, n).astype(np.float64)
    table = pa.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "x": rng.normal(shift, 1.0, n),
            "y": rng.normal(shift, 1.0, n),
            "age": (age - 53.5) / 20.5 if scale else age,
            "city": np.array(["a", "b", "c"])[rng.integers(0, 3, n)],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        "ref": str(_write(tmp_path / "ref.parquet", 1)),
        "same": str(_write(tmp_path / "same.parquet", 2)),
        "moved": str(_write(tmp_path / "moved.parquet", 3, shift=1.0)),
    }


def test_drift_text_json_and_exit_codes(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "drift", files["ref"], files["same"]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no dataset drift: 0 of 4 tested columns drifted")
    assert "skipped (id)" in out

    assert main(["data", "drift", files["ref"], files["moved"], "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["drifted"]
    assert doc["drifted_columns"] == ["x", "y"]
    assert [c["name"] for c in doc["columns"]] == ["id", "x", "y", "age", "city"]
    for col in doc["columns"]:
        assert {"name", "drifted", "method", "value", "threshold"} <= set(col)

    assert main(["data", "drift", files["ref"], files["same"], "--fail-on-drift"]) == 0
    capsys.readouterr()
    assert main(["data", "drift", files["ref"], files["moved"], "--fail-on-drift"]) == 1
    assert "DRIFTED" in capsys.readouterr().out


def test_drift_thresholds_are_options(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["data", "drift", files["ref"], files["moved"], "-f", "json"]
    assert main([*args, "--threshold-numeric", "5", "--threshold-categorical", "0.9"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["drifted_columns"] == []
    assert doc["config"]["numeric_threshold"] == 5.0
    assert doc["config"]["categorical_threshold"] == 0.9
    assert main([*args, "--threshold-numeric", "-1"]) == 2
    assert "drift-config" in capsys.readouterr().err


def test_drift_writes_reports_to_files(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = tmp_path / "out" / "drift.html"
    assert main(["data", "drift", files["ref"], files["moved"], "-f", "html", "-o", str(html)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "wrote" in captured.err
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 4
    assert not re.search(r"https?://", page)
    assert "<script" not in page
    report = tmp_path / "drift.json"
    assert (
        main(["data", "drift", files["ref"], files["moved"], "-f", "json", "-o", str(report)]) == 0
    )
    assert json.loads(report.read_text())["drifted"] is True
    assert not list(tmp_path.glob(".drift.json.*"))  # no temp file left behind


def test_drift_usage_errors_exit_2(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "drift", files["ref"], files["same"], "-f", "xml"]) == 2
    assert "unknown-format" in capsys.readouterr().err
    assert main(["data", "drift", files["ref"], str(tmp_path / "nope.parquet")]) == 2
    assert "profile-input" in capsys.readouterr().err
    assert main(["data", "skew", files["ref"], files["same"], "--key", "nope"]) == 2
    assert "skew-input" in capsys.readouterr().err


def test_drift_between_dataset_versions(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlsteward.data.datasets import add_dataset
    from mlsteward.project import Project

    project = Project.open()
    _write(project_dir / "data" / "part.parquet", 1)
    add_dataset(project, "data", "events")
    _write(project_dir / "data" / "part.parquet", 3, shift=1.0)
    add_dataset(project, "data", "events")
    assert main(["data", "drift", "events@1", "events@2", "-f", "json", "--fail-on-drift"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["drifted_columns"] == ["x", "y"]
    assert main(["data", "drift", "events@1", "events@9"]) == 2
    assert "events@9" in capsys.readouterr().err


def test_skew_text_json_and_keys(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    serve = str(_write(tmp_path / "serve.parquet", 1, scale=False))  # forgot to scale age
    assert main(["data", "skew", files["ref"], files["ref"], "--key", "id"]) == 0
    assert capsys.readouterr().out.startswith("no training/serving skew")
    assert main(["data", "skew", files["ref"], serve, "-k", "id", "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["skewed"]
    assert doc["skewed_features"] == ["age"]
    rates = {m["name"]: m["rate"] for m in doc["mismatches"]}
    assert rates == {"x": 0.0, "y": 0.0, "age": 1.0, "city": 0.0}
    assert main(["data", "skew", files["ref"], serve, "--fail-on-skew"]) == 1
    assert "SKEWED: age" in capsys.readouterr().out
