"""Drift and training/serving skew between two datasets, through their profiles.

The glue between :mod:`mlsteward.data.profile` and :mod:`mlsteward.data.drift`: each column
profile becomes a :class:`~mlsteward.data.drift.ColumnSummary` (the mapping is in
docs/drift.md, "From a profile"), and the summaries go to ``detect_drift``. Data given as
frames, files or dataset references is profiled first, the current sample *with* the
reference's profile so histogram bins are frozen and shared::

    report = drift("data/train.parquet", "reviews@3")
    report.drifted_columns

    sk = skew(train_features, serving_features, keys=["user_id"])
    sk.skewed, sk.mismatches[0].rate
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlsteward.data import stats
from mlsteward.data.columns import CATEGORICAL_KINDS, NUMERIC_KINDS, ColumnProfile
from mlsteward.data.drift import (
    ColumnDrift,
    ColumnSummary,
    DatasetDrift,
    DriftConfig,
    Kind,
    detect_drift,
)
from mlsteward.data.profile import Profile, profile_data
from mlsteward.data.readers import iter_batches, unique_names
from mlsteward.errors import UsageError

__all__ = [
    "DRIFT_K",
    "SKEW_CONFIG",
    "FeatureMismatch",
    "SkewReport",
    "column_pair",
    "column_summary",
    "compare_profiles",
    "data_drift",
    "drift",
    "profile_pair",
    "skew",
]

#: Skew compares one feature computed twice, by the training path and the serving path, so a
#: smaller change already means a bug: half of drift's thresholds, and any skewed column
#: makes the whole set skewed (``dataset_share`` 0) instead of half of them.
#: KLL accuracy when drift profiles data itself. Normalised Wasserstein reads the whole
#: quantile function, tails included, so it inherits the sketch's rank error: on two samples
#: of 1M rows from one distribution (15 normal, lognormal and exponential columns) it read up
#: to 0.051 at the profile default k = 200 and at most 0.011 at k = 1024, for the same
#: profiling time (the profile grows from about 9 to 24 kB a column).
DRIFT_K = 1024

#: A value of a truncated frequent-items sketch gets its own cell only when its count is at
#: least this multiple of the sketch's error bound: with 1, two samples of 1,000 equally
#: frequent values at 1M rows gave Jensen-Shannon 0.02-0.07 from sketch noise alone; with 2,
#: 0 (they share the (other) cell), while a value that gains rows still gets a cell.
_RESOLVED = 2
SKEW_CONFIG = DriftConfig(numeric_threshold=0.05, categorical_threshold=0.05, dataset_share=0.0)


def _kind(col: ColumnProfile) -> Kind | None:
    if col.kind in NUMERIC_KINDS:
        return "numeric"
    if col.kind in CATEGORICAL_KINDS:
        return "categorical"
    return None  # "null" (no value seen) or "other" (lists, structs, binary)


def column_summary(
    col: ColumnProfile,
    *,
    kind: Kind | None = None,
    edges: Sequence[float] | None = None,
    probs: np.ndarray[Any, Any] | None = None,
    categories: Iterable[str] = (),
) -> ColumnSummary:
    """What drift needs from one column profile (docs/drift.md, "From a profile").

    Args:
        col: the column profile.
        kind: ``numeric`` or ``categorical``; default from the profile's type (int, float,
            datetime are numeric; string, boolean, mixed categorical). Needed for a column
            that held only nulls, which has no type of its own.
        edges: histogram edges to count on (the reference's); the column's frozen counts
            when it was profiled on these edges, else read off its quantile sketch. Default:
            the column's own histogram.
        probs: the quantile grid, default :data:`stats.DEFAULT_PROBS`.
        categories: values to count even when a truncated frequent-items sketch would not
            list them (the other side's frequent values), so both sides have the same cells.

    Raises:
        UsageError: ``drift-input`` for a column whose values are neither numbers nor
            categories (lists, structs, binary), or that is all nulls and ``kind`` is not given.
    """
    kind = kind or _kind(col)
    if kind is None:
        raise UsageError(
            f"column {col.name!r} of kind {col.kind!r} has no distribution to compare",
            code="drift-input",
            hint="drift compares numeric and categorical columns; give kind= for an "
            "all-null column",
        )
    nulls = col.nulls + col.nan
    common: dict[str, Any] = {
        "count": col.count,
        "nulls": nulls,
        "distinct": round(col.distinct),
    }
    if kind == "categorical":
        items, complete = _items(col, categories)
        notes = (f"mixed types: {col.arrow_type}",) if col.kind == "mixed" else ()
        return ColumnSummary(
            "categorical", items=items, items_complete=complete, notes=notes, **common
        )
    return _numeric_summary(col, edges, probs, common)


def _numeric_summary(
    col: ColumnProfile,
    edges: Sequence[float] | None,
    probs: np.ndarray[Any, Any] | None,
    common: dict[str, Any],
) -> ColumnSummary:
    p = stats.DEFAULT_PROBS if probs is None else np.asarray(probs, dtype=np.float64)
    infinities = col.posinf + col.neginf
    kll, n = col.kll, col.moments.n
    if kll is None or kll.is_empty() or n == 0:
        return ColumnSummary("numeric", infinities=infinities, probs=p, **common)
    quantiles = np.asarray(kll.get_quantiles(p.tolist()), dtype=np.float64)
    sample = None
    if not kll.is_estimation_mode():  # the sketch still holds every value
        pairs = list(kll)
        sample = np.sort(np.repeat([v for v, _ in pairs], [w for _, w in pairs]).astype(np.float64))
    hist_edges, hist_counts = _histogram(col, edges)
    distinct = common["distinct"]
    id_like = False
    if col.kind == "int" and n >= 20 and distinct / n > 0.9 and col.min is not None:
        # an auto-increment key: nearly all distinct and nearly consecutive
        id_like = float(col.max or 0.0) - col.min + 1 <= 1.1 * distinct
    return ColumnSummary(
        "numeric",
        infinities=infinities,
        mean=col.moments.mean,
        std=math.sqrt(max(col.moments.m2, 0.0) / n),  # population sd, as drift expects
        probs=p,
        quantiles=quantiles,
        sample=sample,
        edges=hist_edges,
        hist_counts=hist_counts,
        id_like=id_like,
        **common,
    )


def _histogram(
    col: ColumnProfile, edges: Sequence[float] | None
) -> tuple[np.ndarray[Any, Any] | None, np.ndarray[Any, Any] | None]:
    """Counts in the drift layout: (-inf, e0), [e0, e1), ..., [e_last, +inf).

    A profile's histogram closes its last inner bin on the right (it holds ``e_last``, the
    reference's maximum); both sides of a comparison share that convention, so they compare.
    """
    own = col.histogram if edges is None else None
    if edges is None:
        if own is None or own.edges is None:
            return None, None
        edges = own.edges
    e = np.asarray(edges, dtype=np.float64)
    if e.size == 0 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
        return None, None  # a constant column: no bins to compare
    frozen = col.frozen
    counts: Any
    if frozen is not None and frozen.edges is not None and np.array_equal(frozen.edges, e):
        counts = frozen.counts  # exact: counted on these very edges
    elif own is not None:
        counts = own.counts  # estimated from the sketch on its own edges
    else:  # read the shares off the sketch, on the given edges
        counts = np.asarray(col.kll.get_pmf(e.tolist()), dtype=np.float64) * col.moments.n
    return e, np.asarray(counts, dtype=np.float64)


def _items(col: ColumnProfile, also: Iterable[str] = ()) -> tuple[dict[Hashable, float], bool]:
    """Category counts from the frequent-items sketch, and whether they are complete.

    The sketch is exact until it has to purge (about 750 distinct values); then every count
    is known within ``offset`` (its upper minus its lower bound, 0 for an unlisted value),
    and only values whose lower bound passes ``_RESOLVED * offset`` are resolved. Those, and the
    values in ``also`` (the other side's resolved ones), get the middle of their
    bounds, so two samples of one distribution, sketched alike, get the same counts, and a
    value listed on one side only is not taken for a value the other side never had.
    """
    if col.items is None or col.items.is_empty():
        return {}, True
    import datasketches as ds

    sketch = col.items
    found = sketch.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    offset = max((int(i[3]) - int(i[2]) for i in found), default=0)
    if offset == 0:
        return {str(i[0]): float(i[2]) for i in found}, True
    items: dict[Hashable, float] = {
        str(i[0]): i[2] + offset / 2 for i in found if i[2] > _RESOLVED * offset
    }
    for key in also:
        if key not in items:
            items[key] = int(sketch.get_lower_bound(key)) + offset / 2
    valid = col.count - col.nulls
    total = sum(items.values())
    if total > valid > 0:
        items = {k: v * valid / total for k, v in items.items()}
    return items, False


# -- drift ----------------------------------------------------------------------------------


def profile_pair(reference: Any, current: Any, *, project: Any = None) -> tuple[Profile, Profile]:
    """Profiles of both sides; data for the current side is profiled on the reference's bins.

    Either side may be a `Profile` already, or anything `profile_data` reads (a frame, an
    Arrow table, a Parquet/CSV path or directory, a dataset reference ``"name@N"``). Data
    for the reference is profiled with ``k = DRIFT_K``; the current side with the
    reference's settings, so both sketches have the same accuracy.
    """
    if isinstance(reference, Profile):
        ref = reference
    else:
        ref = profile_data(reference, project=project, k=DRIFT_K)
    if isinstance(current, Profile):
        return ref, current
    settings = ref.settings  # same bins and sketch sizes: the two sides compare like for like
    cur = profile_data(
        current,
        reference=ref,
        project=project,
        bins=settings.bins,
        k=settings.k,
        sample_values=settings.sample_values,
    )
    return ref, cur


def compare_profiles(
    reference: Profile, current: Profile, config: DriftConfig | None = None
) -> DatasetDrift:
    """Drift between two profiles, column by column (see `drift`)."""
    ref_sums: dict[str, ColumnSummary] = {}
    cur_sums: dict[str, ColumnSummary] = {}
    unsupported: dict[str, str] = {}
    for name, rcol in reference.columns.items():
        ccol = current.columns.get(name)
        cols = [c for c in (rcol, ccol) if c is not None]
        other = [c.kind for c in cols if c.kind == "other"]
        if other:
            unsupported[name] = other[0]
            continue
        if ccol is None:
            ref_sums[name] = column_summary(rcol, kind=_kind(rcol) or "numeric")
        else:
            ref_sums[name], cur_sums[name] = _summaries(rcol, ccol)
    for name, ccol in current.columns.items():
        if name in reference.columns:
            continue
        if ccol.kind == "other":
            unsupported[name] = ccol.kind
        else:
            cur_sums[name] = column_summary(ccol, kind=_kind(ccol) or "numeric")
    result = detect_drift(ref_sums, cur_sums, config)
    if not unsupported:
        return result
    verdicts = {c.name: c for c in result.columns}
    for name, what in unsupported.items():
        verdicts[name] = ColumnDrift(
            name, False, "skipped (type)", None, None, note=f"{what} values are not compared"
        )
    order = [*reference.columns, *(n for n in current.columns if n not in reference.columns)]
    return replace(result, columns=tuple(verdicts[n] for n in order))


def _summaries(rcol: ColumnProfile, ccol: ColumnProfile) -> tuple[ColumnSummary, ColumnSummary]:
    """Both sides of one column, on the same histogram edges and the same category cells."""
    # a side holding only nulls has no type of its own: it takes the other side's
    rkind, ckind = _kind(rcol), _kind(ccol)
    kind: Kind = rkind or ckind or "numeric"
    rsum = column_summary(rcol, kind=rkind or kind)
    csum = column_summary(ccol, kind=ckind or kind, edges=_edges(rsum))
    ritems, citems = rsum.items, csum.items
    if ritems and citems and not (rsum.items_complete and csum.items_complete):
        # truncated sketches: count each side's frequent values on the other side too
        rsum, csum = (
            column_summary(rcol, kind=rsum.kind, categories=map(str, citems)),
            column_summary(ccol, kind=csum.kind, edges=_edges(rsum), categories=map(str, ritems)),
        )
    return rsum, csum


def column_pair(
    name: str, reference: Profile, current: Profile
) -> tuple[ColumnSummary, ColumnSummary] | None:
    """The summaries drift compared for column ``name``; None unless both sides have it."""
    rcol, ccol = reference.columns.get(name), current.columns.get(name)
    if rcol is None or ccol is None or "other" in (rcol.kind, ccol.kind):
        return None
    return _summaries(rcol, ccol)


def _edges(summary: ColumnSummary) -> Sequence[float] | None:
    return None if summary.edges is None else summary.edges.tolist()


def drift(
    reference: Any,
    current: Any,
    *,
    config: DriftConfig | None = None,
    project: Any = None,
) -> DatasetDrift:
    """Which columns of ``current`` drifted from ``reference``, and whether the dataset did.

    Args:
        reference: a `Profile`, or data `profile_data` reads: a pandas/polars frame, an Arrow
            table, a Parquet/CSV path or directory, a dataset reference ``"name@N"``.
        current: the same; data is profiled on the reference's frozen bins.
        config: thresholds and switches (default `DriftConfig()`, docs/drift.md).
        project: the project dataset references belong to (default: the current one).

    Raises:
        UsageError: unreadable input (``profile-input``), a bad config (``drift-config``).
    """
    ref, cur = profile_pair(reference, current, project=project)
    return compare_profiles(ref, cur, config)


# the package exports it under this name: ``mlsteward.data.drift`` is a module
data_drift = drift


# -- skew -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureMismatch:
    """How often one feature differs between the training and serving rows of one entity.

    Attributes:
        name: the feature.
        compared: joined rows compared.
        mismatched: rows whose values differ beyond the tolerance (a null against a value
            counts; two nulls, or two NaNs, match).
        rate: ``mismatched / compared`` (0 when nothing was compared).
        flagged: ``rate > max_mismatch``.
        example: one mismatched row as ``{"key": ..., "training": ..., "serving": ...}``.
    """

    name: str
    compared: int
    mismatched: int
    rate: float
    flagged: bool
    example: dict[str, Any] | None = None


@dataclass(frozen=True)
class SkewReport:
    """Training/serving skew: distributions compared, and values compared entity by entity.

    Attributes:
        distribution: drift between the two feature sets, with `SKEW_CONFIG` by default.
        keys: the join keys (empty: no entity comparison).
        mismatches: one entry per common feature when ``keys`` were given.
        joined: entities on both sides; ``training_only`` / ``serving_only`` on one side.
        duplicates: rows dropped because their key repeated on a side (the first is kept).
    """

    distribution: DatasetDrift
    keys: tuple[str, ...] = ()
    mismatches: tuple[FeatureMismatch, ...] = ()
    joined: int = 0
    training_only: int = 0
    serving_only: int = 0
    duplicates: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def skewed(self) -> bool:
        """Any skewed distribution, missing-rate jump or flagged value mismatch."""
        return (
            self.distribution.drifted
            or bool(self.distribution.missing_jumps)
            or any(m.flagged for m in self.mismatches)
        )

    @property
    def skewed_features(self) -> tuple[str, ...]:
        """Features with drift, a missing-rate jump or flagged mismatches, in column order."""
        bad = {c.name for c in self.distribution.columns if c.alert}
        bad |= {m.name for m in self.mismatches if m.flagged}
        return tuple(c.name for c in self.distribution.columns if c.name in bad)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``steward data skew --format json``."""
        return {
            "skewed": self.skewed,
            "skewed_features": list(self.skewed_features),
            "keys": list(self.keys),
            "joined": self.joined,
            "training_only": self.training_only,
            "serving_only": self.serving_only,
            "duplicates": self.duplicates,
            "notes": list(self.notes),
            "mismatches": [
                {
                    "name": m.name,
                    "compared": m.compared,
                    "mismatched": m.mismatched,
                    "rate": m.rate,
                    "flagged": m.flagged,
                    "example": m.example,
                }
                for m in self.mismatches
            ],
            "distribution": self.distribution.to_dict(),
        }


def skew(
    training: Any,
    serving: Any,
    *,
    keys: Sequence[str] | None = None,
    config: DriftConfig | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_mismatch: float = 0.0,
    project: Any = None,
) -> SkewReport:
    """Compare the features the training path and the serving path computed.

    Two checks. Distribution skew: `drift` between the two feature sets, with the stricter
    `SKEW_CONFIG` (thresholds 0.05, any column counts). Value skew, when ``keys`` name the
    entity: rows are joined on the keys and, per feature, the share of joined rows whose
    values differ (numbers beyond ``|a - b| <= atol + rtol * |b|``, other values when not
    equal) is reported; a rate above ``max_mismatch`` flags the feature.

    Args:
        training: features from the training pipeline (frame, table, path, dataset ref;
            a `Profile` only without ``keys``).
        serving: the same features from the serving path (logged requests, say).
        keys: columns identifying an entity on both sides.
        config: the distribution thresholds (default `SKEW_CONFIG`).
        rtol: relative tolerance for numeric values.
        atol: absolute tolerance for numeric values.
        max_mismatch: mismatch share a feature may have before it is flagged.
        project: the project dataset references belong to.

    Raises:
        UsageError: ``skew-input`` for a key missing on a side, a `Profile` given with keys,
            or negative tolerances; the errors of `drift`.
    """
    if rtol < 0 or atol < 0 or not 0 <= max_mismatch <= 1:
        raise UsageError(
            f"rtol={rtol}, atol={atol}, max_mismatch={max_mismatch} are out of range",
            code="skew-input",
            hint="tolerances are >= 0 and max_mismatch lies in [0, 1]",
        )
    keys = tuple(keys or ())
    if not keys:
        dist = drift(training, serving, config=config or SKEW_CONFIG, project=project)
        return SkewReport(dist)
    train_t = _table(training, "training", project)
    serve_t = _table(serving, "serving", project)
    for side, t in (("training", train_t), ("serving", serve_t)):
        missing = [k for k in keys if k not in t.column_names]
        if missing:
            raise UsageError(
                f"the {side} data has no key column {', '.join(map(repr, missing))}",
                code="skew-input",
                hint=f"its columns are {', '.join(t.column_names[:20])}",
            )
    features = [n for n in train_t.column_names if n in serve_t.column_names and n not in keys]
    dist = drift(
        train_t.drop_columns(list(keys)),
        serve_t.drop_columns(list(keys)),
        config=config or SKEW_CONFIG,
    )
    train_u, dup_t = _first_per_key(train_t, keys)
    serve_u, dup_s = _first_per_key(serve_t, keys)
    joined = _join(train_u, serve_u, keys, features)
    n = joined.num_rows
    mismatches = []
    for name in features:
        a, b = joined.column(f"{name}\x00t"), joined.column(f"{name}\x00s")
        bad = _differs(a, b, rtol, atol)
        count = int(np.count_nonzero(bad))
        example = None
        if count:
            i = int(np.flatnonzero(bad)[0])
            example = {
                "key": {k: joined.column(k)[i].as_py() for k in keys},
                "training": _jsonable(a[i].as_py()),
                "serving": _jsonable(b[i].as_py()),
            }
        rate = count / n if n else 0.0
        mismatches.append(FeatureMismatch(name, n, count, rate, rate > max_mismatch, example))
    notes = []
    if dup_t or dup_s:
        notes.append(
            f"repeated keys: {dup_t} training and {dup_s} serving rows dropped (first kept)"
        )
    return SkewReport(
        dist,
        keys=keys,
        mismatches=tuple(mismatches),
        joined=n,
        training_only=train_u.num_rows - n,
        serving_only=serve_u.num_rows - n,
        duplicates=dup_t + dup_s,
        notes=tuple(notes),
    )


def _table(data: Any, side: str, project: Any) -> pa.Table:
    if isinstance(data, Profile):
        raise UsageError(
            f"the {side} side is a profile; comparing values by key needs the rows",
            code="skew-input",
            hint="give frames, Arrow tables, files or dataset references with keys=",
        )
    if isinstance(data, pa.Table):
        return data
    tables = []
    for batch in iter_batches(data, project=project):
        names, _ = unique_names([c.name for c in batch.columns])
        tables.append(pa.table({n: c.values for n, c in zip(names, batch.columns, strict=True)}))
    return pa.concat_tables(tables, promote_options="permissive")


def _first_per_key(t: pa.Table, keys: tuple[str, ...]) -> tuple[pa.Table, int]:
    """The first row of each key, and how many repeated rows were dropped."""
    rows = t.append_column("\x00row", pa.array(np.arange(t.num_rows, dtype=np.int64)))
    first = rows.group_by(list(keys), use_threads=False).aggregate([("\x00row", "min")])
    if first.num_rows == t.num_rows:
        return t, 0
    idx = np.sort(first.column("\x00row_min").to_numpy())
    return t.take(pa.array(idx)), t.num_rows - first.num_rows


def _join(train: pa.Table, serve: pa.Table, keys: tuple[str, ...], features: list[str]) -> pa.Table:
    left = train.select([*keys, *features]).rename_columns(
        [*keys, *(f"{f}\x00t" for f in features)]
    )
    right = serve.select([*keys, *features]).rename_columns(
        [*keys, *(f"{f}\x00s" for f in features)]
    )
    try:
        return left.join(right, list(keys), join_type="inner", use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise UsageError(
            f"cannot join the training and serving rows on {', '.join(keys)}: {exc}",
            code="skew-input",
            hint="the key columns must have the same, joinable type on both sides",
        ) from exc


def _differs(
    a: pa.ChunkedArray, b: pa.ChunkedArray, rtol: float, atol: float
) -> np.ndarray[Any, Any]:
    """Per row: the two values differ (vectorised; nulls and NaNs match each other only)."""
    na = np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    nb = np.asarray(b.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    numeric = all(
        pa.types.is_integer(t.type) or pa.types.is_floating(t.type) or pa.types.is_decimal(t.type)
        for t in (a, b)
    )
    if numeric:
        x = np.asarray(pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        y = np.asarray(pc.cast(b, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        na |= np.isnan(x)
        nb |= np.isnan(y)
        with np.errstate(invalid="ignore"):
            close = np.abs(x - y) <= atol + rtol * np.abs(y)
        same = close | (x == y)  # equal infinities
    else:
        if a.type != b.type:
            a, b = pc.cast(a, pa.string()), pc.cast(b, pa.string())
        same = np.asarray(pc.equal(a, b).fill_null(False).to_numpy(zero_copy_only=False))
    differs: np.ndarray[Any, Any] = np.where(na | nb, na != nb, ~same)
    return differs


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)
