"""Tracked runs: params, metrics (buffered, batched), datasets in, artifacts out, provenance.

See docs/tracking.md. Names load lazily so ``import mlsteward.tracking`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Run": "mlsteward.tracking.run",
    "active_run": "mlsteward.tracking.run",
    "start_run": "mlsteward.tracking.run",
    "seed_everything": "mlsteward.tracking.seeds",
    "get_run": "mlsteward.tracking.search",
    "search_runs": "mlsteward.tracking.search",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlsteward.tracking' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
