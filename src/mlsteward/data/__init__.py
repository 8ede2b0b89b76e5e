"""Datasets: versions with provenance, checkout, lineage (and, later, profiles and drift).

See docs/data.md. Names load lazily so ``import mlsteward.data`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "add_dataset": "mlsteward.data.datasets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlsteward.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
