"""`seed_everything`: the generators are really seeded, and runs record the seeds.

The pseudo-random calls here test seeding; nothing is cryptographic (hence the S311 noqa).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from mlsteward import Project, seed_everything
from mlsteward.errors import RecordError
from mlsteward.store.database import open_store
from mlsteward.store.schema import runs
from mlsteward.tracking.run import active_run, start_run
from mlsteward.tracking.seeds import current_seeds


@pytest.fixture(autouse=True)
def _restore_hash_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """seed_everything sets PYTHONHASHSEED; put the test process's value back after."""
    monkeypatch.setenv("PYTHONHASHSEED", os.environ.get("PYTHONHASHSEED", "random"))


def draw() -> float:
    """The next number of the global generator that seed_everything seeds."""
    return random.random()  # noqa: S311


def test_seed_everything_repeats_random_streams() -> None:
    seeded = seed_everything(123)
    first = [draw() for _ in range(5)]
    seed_everything(123)
    assert [draw() for _ in range(5)] == first
    seed_everything(124)
    assert [draw() for _ in range(5)] != first
    assert seeded["random"] == seeded["PYTHONHASHSEED"] == 123
    assert current_seeds()["random"] == 124
    assert ("numpy" in seeded) == (importlib.util.find_spec("numpy") is not None)
    assert ("torch" in seeded) == (importlib.util.find_spec("torch") is not None)
    if importlib.util.find_spec("torch") is None:
        assert "torch" not in sys.modules


def test_hash_seed_reaches_child_processes() -> None:
    seed_everything(5)
    assert os.environ["PYTHONHASHSEED"] == "5"
    probe = [sys.executable, "-c", "print(hash('mlsteward'))"]
    hashes = {
        subprocess.run(probe, capture_output=True, text=True, check=True).stdout for _ in "ab"
    }
    assert len(hashes) == 1


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True, "3", None])
def test_bad_seeds_are_refused(bad: object) -> None:
    with pytest.raises(RecordError) as info:
        seed_everything(bad)  # type: ignore[arg-type]
    assert info.value.code == "seed-value"


def seeds_of(run_id: str) -> dict[str, int]:
    with open_store(Project.open()).read() as conn:
        text = conn.execute(select(runs.c.seeds).where(runs.c.id == run_id)).scalar_one()
    return dict(json.loads(text))


def test_runs_record_their_seeds(project_dir: Path) -> None:
    try:
        with start_run(seed=7) as run:
            assert seeds_of(run.id)["random"] == 7
            state = draw()
            assert state == random.Random(7).random()  # noqa: S311
            assert seed_everything(8)["random"] == 8
            assert seeds_of(run.id)["random"] == 8  # the active run records a new seed at once
        with start_run() as later:
            pass
        assert seeds_of(later.id)["random"] == 8  # remembered for the runs that follow
        with start_run(seed=7):
            assert draw() == state  # start_run(seed=) really seeds
    finally:
        while (left := active_run()) is not None:
            left.end("failed")
