"""Fixtures of the gate tests: the world of `world.py` in a fresh project."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.world import World, build_world


@pytest.fixture
def world(project_dir: Path) -> World:
    """``train@1``, ``evalset@1`` and ``churn@1`` in ``project_dir`` (see `build_world`)."""
    return build_world(project_dir)
