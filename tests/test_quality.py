"""The house rules hold: ruff (lint + format), mypy strict on src/, layer contracts.

These run the real tools from the locked environment, so a change that breaks the style
or the architecture fails the test suite, not only a pre-commit hook someone skipped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)


@pytest.mark.parametrize(
    "argv",
    [
        ("ruff", "check", "src", "tests", "benchmarks"),
        ("ruff", "format", "--check", "src", "tests", "benchmarks"),
    ],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(argv: tuple[str, ...]) -> None:
    proc = _run(str(BIN / argv[0]), *argv[1:])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_src() -> None:
    proc = _run(str(BIN / "mypy"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_layers_point_one_way() -> None:
    proc = _run(str(BIN / "lint-imports"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_doc_is_generated_from_the_rules() -> None:
    from mlsteward.audit.docs import rules_markdown

    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `steward audit rules --format markdown > docs/rules.md`"
    )
