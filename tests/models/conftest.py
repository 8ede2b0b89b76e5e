"""A project with its own object store in tmp_path, and small fitted models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlsteward.project import Project
from repo_builder import build_repo

MakeProject = Callable[..., Project]


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeProject:
    """A project whose pyproject.toml holds ``config`` (TOML under [tool.steward])."""
    monkeypatch.delenv("STEWARD_OBJECTS", raising=False)
    monkeypatch.delenv("STEWARD_PROJECT", raising=False)

    def make(config: str = "", name: str = "project") -> Project:
        text = '[project]\nname = "demo"\nversion = "0"\n\n[tool.steward]\nprofile = "poc"\n'
        root = build_repo(tmp_path / name, {"pyproject.toml": text + config})
        return Project.open(root)

    return make


@pytest.fixture
def project(make_project: MakeProject) -> Project:
    return make_project()


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"age": rng.normal(40, 10, 60), "income": rng.normal(3, 1, 60)})
    return x


@pytest.fixture(scope="session")
def labels(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["age"] > 40) ^ (frame["income"] > 3.2)).to_numpy().astype("int64")
