"""Datasets: versions with provenance, checkout, lineage mergeable profiles, drift statistics.

See docs/data.md. Names load lazily so ``import mlsteward.data`` stays cheap.
"""

from __future__ import annotations

from mlsteward._internal.lazy import lazy_getattr as _lazy_getattr

_EXPORTS = {
    "add_dataset": "mlsteward.data.datasets",
    "Anomaly": "mlsteward.data.validate",
    "checkout": "mlsteward.data.datasets",
    "column_summary": "mlsteward.data.compare",
    "ColumnDrift": "mlsteward.data.drift",
    "ColumnProfile": "mlsteward.data.columns",
    "ColumnSchema": "mlsteward.data.schema",
    "ColumnSummary": "mlsteward.data.drift",
    "compare_profiles": "mlsteward.data.compare",
    "data_drift": "mlsteward.data.compare",
    "DatasetDrift": "mlsteward.data.drift",
    "detect_drift": "mlsteward.data.drift",
    "DriftConfig": "mlsteward.data.drift",
    "FeatureMismatch": "mlsteward.data.compare",
    "get_version": "mlsteward.data.datasets",
    "infer_schema": "mlsteward.data.schema",
    "lineage": "mlsteward.data.lineage",
    "list_datasets": "mlsteward.data.datasets",
    "load_profile": "mlsteward.data.profile",
    "load_schema": "mlsteward.data.schema",
    "merge_profiles": "mlsteward.data.profile",
    "Profile": "mlsteward.data.profile",
    "profile_dask": "mlsteward.data.distributed",
    "profile_data": "mlsteward.data.profile",
    "profile_pair": "mlsteward.data.compare",
    "read_schema": "mlsteward.data.schema",
    "save_profile": "mlsteward.data.profile",
    "save_schema": "mlsteward.data.schema",
    "Schema": "mlsteward.data.schema",
    "show_dataset": "mlsteward.data.datasets",
    "skew": "mlsteward.data.compare",
    "SkewReport": "mlsteward.data.compare",
    "summarize_array": "mlsteward.data.drift",
    "validate_data": "mlsteward.data.validate",
    "ValidationConfig": "mlsteward.data.validate",
    "ValidationReport": "mlsteward.data.validate",
    "write_schema": "mlsteward.data.schema",
}

__all__ = sorted(_EXPORTS)

__getattr__ = _lazy_getattr(__name__, _EXPORTS)
