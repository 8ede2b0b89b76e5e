"""`steward models register|list|show|promote|rollback|history|delete` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlsteward.cli import main


@pytest.fixture
def run_id(project_dir: Path) -> str:
    """A run that used dataset ``reviews@1`` and logged a real skops model file."""
    import numpy as np
    import skops.io as sio
    from sklearn.tree import DecisionTreeClassifier

    from mlsteward import add_dataset, start_run
    from mlsteward.project import Project

    (project_dir / "data.csv").write_text("x,y\n0,0\n3,1\n")
    add_dataset(Project.open(), "data.csv", "reviews")
    model = DecisionTreeClassifier().fit(np.array([[0.0], [3.0]]), [0, 1])
    sio.dump(model, project_dir / "model.skops")
    with start_run("train") as run:
        run.use_dataset("reviews")
        run.log_artifact("model.skops")
    return run.id


def test_register_promote_rollback_history(
    project_dir: Path, run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "register", "churn", "--run", run_id, "--description", "d"]) == 0
    ref, fmt, digest, *_ = capsys.readouterr().out.split()
    assert (ref, fmt, len(digest)) == ("churn@1", "skops", 12)
    assert main(["models", "register", "churn", "--run", run_id, "--data", "reviews@1"]) == 0
    assert capsys.readouterr().out.startswith("churn@2  skops")

    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "LATEST", "VERSIONS", "ALIASES"]
    assert lines[1].split() == ["churn", "@2", "2", "-"]

    assert main(["models", "promote", "churn", "1", "--to", "production", "--reason", "r1"]) == 0
    assert capsys.readouterr().out == "churn: production - -> @1  (promote)\n"
    assert main(["models", "promote", "churn", "2", "--to", "production", "--reason", "r2"]) == 0
    capsys.readouterr()
    assert main(["models", "rollback", "churn", "--alias", "production"]) == 0
    assert capsys.readouterr().out == "churn: production @2 -> @1  (rollback)\n"

    assert main(["models", "history", "churn"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["TIME", "ACTOR", "ALIAS", "FROM", "TO", "KIND", "REASON", "VERDICT"]
    assert [r.split()[3:7] for r in rows[1:]] == [
        ["production", "-", "@1", "promote"],
        ["production", "@1", "@2", "promote"],
        ["production", "@2", "@1", "rollback"],
    ]
    assert main(["models", "history", "churn", "--alias", "production", "-f", "json"]) == 0
    moves = json.loads(capsys.readouterr().out)
    assert [(m["from"], m["to"], m["kind"], m["reason"]) for m in moves] == [
        (None, 1, "promote", "r1"),
        (1, 2, "promote", "r2"),
        (2, 1, "rollback", ""),
    ]

    assert main(["models", "show", "churn"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [r.split()[0] for r in rows] == ["VERSION", "churn@2", "churn@1"]
    assert "reviews@1" in rows[2]
    assert "production" in rows[2]
    assert main(["models", "show", "churn@production"]) == 0
    text = capsys.readouterr().out
    assert "churn@1" in text
    assert ["run", run_id] in [line.split() for line in text.splitlines()]
    assert "data (train)  reviews@1" in text
    assert main(["models", "show", "churn@1", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["version"], shown["run_id"], shown["forced"]) == (1, run_id, False)
    assert shown["aliases"] == ["production"]
    assert shown["verdicts"] == []
    assert len(shown["git_commit"]) == 40

    assert main(["models", "delete", "churn", "1", "--reason", "old"]) == 2
    err = capsys.readouterr().err
    assert "version-in-use" in err
    assert "hint:" in err
    assert main(["models", "delete", "churn", "2", "--reason", "bad"]) == 0
    assert capsys.readouterr().out == "deleted churn@2\n"
    assert main(["models", "list", "-f", "json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed == {
        "name": "churn",
        "description": "",
        "versions": 2,
        "latest": 1,
        "aliases": {"production": 1},
    }


def test_forced_registration_is_marked(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlsteward import start_run

    (project_dir / "m.onnx").write_bytes(b"not really onnx")
    with start_run("untracked-data") as run:
        run.log_artifact("m.onnx")
    assert main(["models", "register", "m", "--run", run.id]) == 2
    err = capsys.readouterr().err
    assert "provenance-missing" in err
    assert "training data" in err
    assert "--force" in err
    assert main(["models", "register", "m", "--run", run.id, "--force"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("FORCED (no provenance)")
    assert main(["models", "show", "m@1"]) == 0
    assert ["forced", "yes:"] in [line.split()[:2] for line in capsys.readouterr().out.splitlines()]


BAD = [
    (["models", "show", "nope"], "model-not-found"),
    (["models", "show", "churn@9"], "version-not-found"),
    (["models", "show", "churn@staging"], "alias-not-found"),
    (["models", "show", "churn", "-f", "yaml"], "unknown-format"),
    (["models", "promote", "churn", "1", "--to", "Prod!", "--reason", "x"], "alias-name"),
    (["models", "promote", "churn", "x", "--to", "prod", "--reason", "x"], "version-number"),
    (["models", "promote", "churn", "1", "--to", "prod", "--reason", " "], "reason-missing"),
    (["models", "rollback", "churn", "--alias", "production"], "rollback-empty"),
    (["models", "register", "bad name", "--run", "x"], "model-name"),
    (["models", "register", "m", "--run", "nosuchrun"], "not-found"),
    (["models", "history", "nope"], "model-not-found"),
]


def test_bad_input_exits_2_with_a_code(
    project_dir: Path, run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "register", "churn", "--run", run_id]) == 0
    assert main(["models", "promote", "churn", "1", "--to", "production", "--reason", "r"]) == 0
    capsys.readouterr()
    for argv, code in BAD:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"[{code}]" in err, (argv, err)
        assert "Traceback" not in err


def test_register_a_plain_file_with_example_rows(
    project_dir: Path, run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    pd.DataFrame({"x": [0.0, 3.0]}).to_parquet(project_dir / "rows.parquet")
    argv = ["models", "register", "churn", "--run", run_id, "--example", "rows.parquet"]
    assert main(argv) == 1  # a decision tree's skops file holds a type nobody trusted yet
    err = capsys.readouterr().err
    assert "[model-untrusted]" in err
    assert "sklearn.tree._tree.Tree" in err
    assert main([*argv, "--trust"]) == 0
    assert capsys.readouterr().out.startswith("churn@1  skops")
    assert main(["models", "show", "churn@1", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in shown["signature"]["inputs"]] == ["x"]

    (project_dir / "notes.txt").write_text("x\n0\n")
    assert main(["models", "register", "churn", "--run", run_id, "--example", "notes.txt"]) == 2
    assert "[example-file]" in capsys.readouterr().err
    (project_dir / "bad.parquet").write_text("not parquet")
    assert main(["models", "register", "churn", "--run", run_id, "--example", "bad.parquet"]) == 2
    assert "[example-file]" in capsys.readouterr().err
    outside = project_dir.parent / "rows.parquet"
    pd.DataFrame({"x": [0.0]}).to_parquet(outside)
    assert main(["models", "register", "churn", "--run", run_id, "--example", str(outside)]) == 2
    assert "[path-outside]" in capsys.readouterr().err
