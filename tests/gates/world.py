"""The gates' world: a project with training and evaluation datasets and a registered model.

Shared with tests/cli/test_gate_cli.py, which imports `build_world`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

POLICIES = """
[tool.steward.gates.production]
metrics = { accuracy = ">= 0.8", roc_auc = ">= 0.85" }
baseline = true
sensitive = ["gender"]
fairness = { demographic_parity_difference = "<= 0.15" }
denylist = ["gender"]

[tool.steward.gates.production.slices]
columns = ["region"]
metrics = { accuracy = ">= 0.7" }
min_rows = 30

[tool.steward.gates.staging]
metrics = { accuracy = ">= 0.6" }
max_regression = 0.01

[tool.steward.gates.strict]
metrics = { accuracy = ">= 0.99" }

[tool.steward.gates.checked]
data = true

[tool.steward.gates.sliced]
slices = { columns = ["zone"], metrics = { accuracy = ">= 0.5" } }
"""


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "region": rng.choice(["north", "south", "east"], n),
            "gender": rng.choice(["f", "m"], n),
        }
    )
    df["y"] = (df.x1 + 0.5 * df.x2 + rng.normal(scale=0.4, size=n) > 0).astype(np.int64)
    return df


@dataclass
class World:
    root: Path
    train: pd.DataFrame
    model: Any

    def register(self, model: Any, columns: list[str]) -> Any:
        from mlsteward.registry import register_model

        return register_model(
            model, name="churn", example=self.train[columns].head(5), datasets=["train@1"],
            force=True, project=self.root,
        )  # fmt: skip


def build_world(project_dir: Path) -> World:
    """``train@1``, ``evalset@1`` (CSV) and ``churn@1``, a logistic regression on x1, x2."""
    from sklearn.linear_model import LogisticRegression

    from mlsteward import add_dataset
    from mlsteward.project import Project

    with (project_dir / "pyproject.toml").open("a") as f:
        f.write(POLICIES)
    (project_dir / "data").mkdir()
    train = make_frame(800, 1)
    train.to_csv(project_dir / "data" / "train.csv", index=False)
    make_frame(600, 2).to_csv(project_dir / "data" / "eval.csv", index=False)
    project = Project.open(project_dir)
    add_dataset(project, project_dir / "data" / "train.csv", "train")
    add_dataset(project, project_dir / "data" / "eval.csv", "evalset")
    model = LogisticRegression().fit(train[["x1", "x2"]], train.y)
    w = World(project_dir, train, model)
    w.register(model, ["x1", "x2"])
    return w
