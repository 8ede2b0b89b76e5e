"""`steward data profile|infer-schema|validate` as a user (and CI) runs them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlsteward.cli import main


def frame(seed: int, n: int = 2_000, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "city": rng.choice(["Oslo", "Bergen"], n),
            "prix €": rng.integers(0, 10, n),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    frame(1).to_parquet(tmp_path / "train.parquet")
    frame(2).to_csv(tmp_path / "fresh.csv", index=False)
    frame(3, shift=5.0).to_csv(tmp_path / "shifted.csv", index=False)
    return tmp_path


def test_profile_text_and_json(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "profile", str(files / "train.parquet")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2,000 rows, 3 columns"
    assert lines[1].split()[:4] == ["COLUMN", "KIND", "NULLS", "DISTINCT"]
    assert lines[3].startswith("city")
    assert "Oslo" in lines[3]
    args = [
        "data",
        "profile",
        str(files / "fresh.csv"),
        "--reference",
        str(files / "train.parquet"),
    ]
    assert main([*args, "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 2_000
    x = doc["columns"][0]
    assert (x["name"], x["kind"], x["nulls"]) == ("x", "float", 0)
    assert abs(x["mean"]) < 0.1
    assert set(x["quantiles"]) == {"0.01", "0.5", "0.99"}
    assert doc["columns"][2]["name"] == "prix €"
    assert main(["data", "profile", str(files / "train.parquet"), "-f", "xml"]) == 2
    assert "[unknown-format]" in capsys.readouterr().err


def test_infer_then_validate(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "infer-schema", str(files / "train.parquet")]) == 0
    text = capsys.readouterr().out
    doc = tomllib.loads(text)
    assert doc["columns"]["city"]["domain"] == ["Bergen", "Oslo"]
    schema = files / "schema.toml"
    assert main(["data", "infer-schema", str(files / "train.parquet"), "-o", str(schema)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "wrote" in err
    written = tomllib.loads(schema.read_text())
    # ranges may move in the last digit: the KLL sketch behind them is randomised
    assert written["columns"]["city"] == doc["columns"]["city"]
    assert written["columns"]["x"].keys() == doc["columns"]["x"].keys()

    assert main(["data", "validate", str(files / "fresh.csv"), "--schema", str(schema)]) == 0
    assert capsys.readouterr().out.startswith("ok: 0 errors")
    shifted = ["data", "validate", str(files / "shifted.csv"), "--schema", str(schema)]
    assert main(shifted) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main([*shifted, "-f", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["errors"] == 1
    (anomaly,) = report["anomalies"]
    assert (anomaly["column"], anomaly["kind"], anomaly["severity"]) == ("x", "range", "error")
    assert anomaly["share"] > 0.5
    assert len(anomaly["examples"]) == 5


def test_usage_errors_exit_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(files / "fresh.csv")
    assert main(["data", "validate", data, "--schema", str(files / "none.toml")]) == 2
    assert "[schema-missing]" in capsys.readouterr().err
    (files / "bad.toml").write_text('format = "steward-schema/1"\n[columns.x]\ntype = "real"\n')
    assert main(["data", "validate", data, "--schema", str(files / "bad.toml")]) == 2
    err = capsys.readouterr().err
    assert "[schema-invalid]" in err
    assert "line 3" in err
    assert "hint:" in err
    (files / "broken.parquet").write_bytes(b"PAR1 not really")
    good = files / "good.toml"
    assert main(["data", "infer-schema", data, "-o", str(good)]) == 0
    capsys.readouterr()
    assert main(["data", "validate", str(files / "broken.parquet"), "--schema", str(good)]) == 2
    assert "[profile-input]" in capsys.readouterr().err
    assert main(["data", "validate", data]) == 2  # --schema is required
    assert main(["data", "validate", data, "--schema", str(good), "-f", "yaml"]) == 2


def test_save_with_a_dataset_version(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlsteward.data.profile import load_profile
    from mlsteward.data.schema import load_schema
    from mlsteward.project import Project

    frame(4, 500).to_csv(project_dir / "train.csv", index=False)
    assert main(["data", "add", "train.csv", "--name", "train"]) == 0
    capsys.readouterr()
    assert main(["data", "profile", "train@1", "--save"]) == 0
    assert "(saved with train@1)" in capsys.readouterr().out
    assert main(["data", "infer-schema", "train@1", "--save", "-o", "schema.toml"]) == 0
    assert "saved with train@1" in capsys.readouterr().err
    project = Project.open()
    stored = load_profile(project, "train@1")
    assert stored is not None
    assert stored.rows == 500
    schema = load_schema(project, "train@1")
    assert schema is not None
    assert list(schema.columns) == ["x", "city", "prix €"]
    assert main(["data", "validate", "train@1", "--schema", "schema.toml"]) == 0
    capsys.readouterr()
    assert main(["data", "infer-schema", "train.csv", "--save"]) == 2
    assert "[save-needs-version]" in capsys.readouterr().err
