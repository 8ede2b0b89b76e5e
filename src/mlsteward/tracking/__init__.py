"""Tracked runs: params, metrics (buffered, batched), datasets in, artifacts out, provenance.

See docs/tracking.md. Names load lazily so ``import mlsteward.tracking`` stays cheap.
"""

from __future__ import annotations

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr

_EXPORTS = {
    "Run": "mlsteward.tracking.run",
    "active_run": "mlsteward.tracking.run",
    "start_run": "mlsteward.tracking.run",
    "seed_everything": "mlsteward.tracking.seeds",
    "get_run": "mlsteward.tracking.search",
    "search_runs": "mlsteward.tracking.search",
}

__all__ = sorted(_EXPORTS)

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
