"""Datasets: versions with provenance, checkout, lineage mergeable profiles, drift statistics.

See docs/data.md. Names load lazily so ``import mlsteward.data`` stays cheap.
"""

from __future__ import annotations

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr

_EXPORTS = {
    "add_dataset": "mlsteward.data.datasets",
    "checkout": "mlsteward.data.datasets",
    "ColumnDrift": "mlsteward.data.drift",
    "ColumnProfile": "mlsteward.data.columns",
    "ColumnSummary": "mlsteward.data.drift",
    "DatasetDrift": "mlsteward.data.drift",
    "detect_drift": "mlsteward.data.drift",
    "DriftConfig": "mlsteward.data.drift",
    "get_version": "mlsteward.data.datasets",
    "lineage": "mlsteward.data.lineage",
    "list_datasets": "mlsteward.data.datasets",
    "load_profile": "mlsteward.data.profile",
    "merge_profiles": "mlsteward.data.profile",
    "Profile": "mlsteward.data.profile",
    "profile_dask": "mlsteward.data.distributed",
    "profile_data": "mlsteward.data.profile",
    "save_profile": "mlsteward.data.profile",
    "show_dataset": "mlsteward.data.datasets",
    "summarize_array": "mlsteward.data.drift",
}

__all__ = sorted(_EXPORTS)

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
