"""The registry's world: a project with a dataset, and runs that trained real skops models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def skops_model() -> bytes:
    """A fitted scikit-learn classifier as a .skops file's bytes (made once)."""
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    return bytes(sio.dumps(LogisticRegression().fit(x, [0, 0, 1, 1])))


def train(root: Path, model: bytes, *, data: bool = True, name: str = "train") -> str:
    """Run a 'training': use dataset ``reviews`` (unless not ``data``), log model.skops."""
    from mlsteward import add_dataset, start_run
    from mlsteward.project import Project

    (root / "data.csv").write_text("x,y\n0,0\n3,1\n")
    add_dataset(Project.open(root), root / "data.csv", "reviews")
    (root / "model.skops").write_bytes(model)
    with start_run(name, project=root) as run:
        if data:
            run.use_dataset("reviews")
        run.log_artifact(root / "model.skops")
    return run.id


Train = Callable[..., str]


@pytest.fixture
def make_run(skops_model: bytes) -> Train:
    """`train` with the session's model: ``make_run(root, data=True, name="train")``."""

    def make(root: Path, *, data: bool = True, name: str = "train") -> str:
        return train(root, skops_model, data=data, name=name)

    return make


@pytest.fixture
def trained(project_dir: Path, make_run: Train) -> str:
    """The id of a run that used ``reviews@1`` and logged a skops model, in a committed repo."""
    return make_run(project_dir)
