"""The reproducibility check runs the user's training command twice, for real."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlsteward.gates import evaluate
from mlsteward.project import Project
from mlsteward.registry.policy import parse_policy

TRAIN = """
import random, sys
import mlsteward as steward
value = {value}
with steward.start_run("train") as run:
    run.log_metric("accuracy", value)
    run.log_metric("loss", 0.5)
"""


def _check(root: Path, script: str, **spec: Any) -> dict[str, Any]:
    (root / "train.py").write_text(script)
    table = {
        "reproducibility": {"command": [sys.executable, "train.py"], "metrics": ["accuracy"]} | spec
    }
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
    report = evaluate(
        lambda x: (x["x"] > 1.5).astype(int).to_numpy(), frame, "y",
        parse_policy("production", table), project=Project.open(root),
    )  # fmt: skip
    [result] = [c.to_dict() for c in report.checks]
    return result


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_reproducible_and_not(project_dir: Path) -> None:
    same = _check(project_dir, TRAIN.format(value="0.9"), tolerance=0.0)
    assert same["passed"], same["detail"]
    assert same["measured"]["accuracy"] == [0.9, 0.9]
    assert len(set(same["measured"]["runs"])) == 2
    drift = _check(project_dir, TRAIN.format(value="random.random()"), tolerance=0.0)
    assert not drift["passed"]
    assert "accuracy:" in drift["detail"]
    loose = _check(project_dir, TRAIN.format(value="0.9 + random.random() * 1e-4"), tolerance=0.01)
    assert loose["passed"]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("script", "spec", "words"),
    [
        ("import sys; sys.exit('no data here')", {}, "exited with 1: no data here"),
        ("print('trained, logged nothing')", {}, "logged no run with mlsteward"),
        ("import time; time.sleep(30)", {"timeout": 0.5}, "ran over its timeout"),
        (TRAIN.format(value="0.9"), {"metrics": ["f1"]}, "f1 was not logged by both runs"),
    ],
)
def test_a_training_that_cannot_be_compared_fails(
    project_dir: Path, script: str, spec: dict[str, Any], words: str
) -> None:
    result = _check(project_dir, script, **spec)
    assert not result["passed"]
    assert words in result["detail"]


def test_without_a_project_it_fails() -> None:
    frame = pd.DataFrame({"x": np.arange(4.0), "y": [0, 0, 1, 1]})
    policy = parse_policy("p", {"reproducibility": {"command": "python t.py", "metrics": ["a"]}})
    report = evaluate(lambda x: np.zeros(len(x), dtype=int), frame, "y", policy)
    assert not report.passed
