"""Datasets: versions with provenance, checkout, lineage (and, later, profiles and drift).

See docs/data.md. Names load lazily so ``import mlsteward.data`` stays cheap.
"""

from __future__ import annotations

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr

_EXPORTS = {
    "add_dataset": "mlsteward.data.datasets",
    "checkout": "mlsteward.data.datasets",
    "get_version": "mlsteward.data.datasets",
    "lineage": "mlsteward.data.lineage",
    "list_datasets": "mlsteward.data.datasets",
    "show_dataset": "mlsteward.data.datasets",
}

__all__ = sorted(_EXPORTS)

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
