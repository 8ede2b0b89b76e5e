"""Every error code the code raises is documented in docs/errors.md, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

from mlsteward import errors

ROOT = Path(__file__).resolve().parents[1]


def _documented() -> set[str]:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([a-z][a-z-]+)` \|", text, re.M))


def _raised() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "src" / "mlsteward").rglob("*.py"):
        codes |= set(re.findall(r'\bcode="([a-z][a-z-]+)"', path.read_text(encoding="utf-8")))
    for name in errors.__all__:
        codes.add(getattr(errors, name).code)
    codes.add(errors.StewardError.code)
    return codes


def test_every_raised_code_is_documented() -> None:
    assert _raised() - _documented() == set()


def test_no_documented_code_is_stale() -> None:
    assert _documented() - _raised() == set()
