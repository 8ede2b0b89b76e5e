"""Declared pass/fail cases for audit rules, run by one parametrized test.

Each family's cases live in ``tests/audit/rules/cases_<family>.py`` as a module-level
``CASES`` list. A case is a tiny repository (a dict of files) and the verdict one rule
must give on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case"]


@dataclass(frozen=True)
class Case:
    """One rule on one fixture repository.

    Attributes:
        code: the rule under test.
        expect: passed | failed | partial | not_applicable | unknown.
        files: the repository; nested dicts are folders, bytes are written as-is.
        id: a short name for the test id.
        git: commit the files to a fresh git repository first.
        lines: for failing code rules, the (path, line) pairs the findings must point at.
        context: overrides of [tool.steward.context] for this case.
        profile: poc or production (default production).
    """

    code: str
    expect: str
    files: Mapping[str, Any]
    id: str = ""
    git: bool = False
    lines: tuple[tuple[str, int], ...] | None = None
    context: Mapping[str, bool] = field(default_factory=dict)
    profile: str | None = None
