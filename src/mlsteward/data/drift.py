"""Per-column and dataset drift decisions over column summaries.

A :class:`ColumnSummary` holds what a column profile provides (counts, a quantile function on
a fixed grid, a histogram on frozen edges, frequent items, a distinct estimate); the
distances and tests it feeds are the pure functions of :mod:`mlsteward.data.stats`. The
defaults, and why, are in docs/drift.md::

    ref = {"age": summarize_array(train_age), "city": summarize_array(train_city)}
    cur = {"age": summarize_array(live_age, edges=ref["age"].edges), ...}
    report = detect_drift(ref, cur)
    report.to_dict()["columns"][0]  # {"name": "age", "drifted": False, "method": ...}
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from mlsteward.data import stats
from mlsteward.errors import UsageError

__all__ = [
    "ColumnDrift",
    "ColumnSummary",
    "DatasetDrift",
    "DriftConfig",
    "detect_drift",
    "summarize_array",
]

Kind = Literal["numeric", "categorical"]
FloatArray = npt.NDArray[np.float64]

_PSI_PROBS = (np.arange(1, 10, dtype=np.float64)) / 10  # reference deciles


def _fail(message: str, hint: str | None = None) -> UsageError:
    return UsageError(message, code="drift-input", hint=hint)


@dataclass(frozen=True, eq=False)
class ColumnSummary:
    """What drift needs to know about one column of one sample.

    Every field maps 1:1 onto a column profile (docs/drift.md, "From a profile"):

    Attributes:
        kind: ``"numeric"`` or ``"categorical"``.
        count: rows, nulls included.
        nulls: null or NaN rows.
        infinities: +/-inf rows (numeric); counted, and excluded from every distance.
        mean: mean of the finite values.
        std: population standard deviation (ddof 0) of the finite values.
        probs: the probability grid of ``quantiles`` (default :data:`stats.DEFAULT_PROBS`).
        quantiles: the quantile function of the finite values at ``probs``.
        sample: the finite values themselves, when few enough to keep (exact tests).
        edges: frozen bin edges; ``hist_counts`` has ``len(edges) + 1`` bins:
            (-inf, e0), [e0, e1), ..., [e_last, +inf).
        hist_counts: finite values per bin.
        items: category -> rows (frequent items, or exact value counts).
        items_complete: whether ``items`` lists every non-null value.
        distinct: distinct non-null values (an estimate is fine).
        id_like: the column identifies rows; drift skips it.
        notes: what summarising noticed (mixed types...), carried into the drift note.
    """

    kind: Kind
    count: int
    nulls: int = 0
    infinities: int = 0
    mean: float | None = None
    std: float | None = None
    probs: FloatArray | None = None
    quantiles: FloatArray | None = None
    sample: FloatArray | None = None
    edges: FloatArray | None = None
    hist_counts: FloatArray | None = None
    items: Mapping[Hashable, float] | None = None
    items_complete: bool = True
    distinct: int | None = None
    id_like: bool = False
    notes: tuple[str, ...] = ()

    @property
    def valid(self) -> int:
        """Rows holding a usable value: not null, and finite for numerics."""
        return self.count - self.nulls - self.infinities

    @property
    def missing_rate(self) -> float | None:
        """Null rows over all rows, or None for an empty sample."""
        return self.nulls / self.count if self.count else None


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds and switches of :func:`detect_drift`, checked once when built.

    Attributes:
        numeric_threshold: normalised Wasserstein distance that counts as drift.
        categorical_threshold: Jensen-Shannon distance (base 2) that counts as drift.
        top_categories: reference categories kept in their own bucket.
        small_sample_rows: below this many valid rows in either sample, use KS / chi-square.
        alpha: false discovery rate of the Benjamini-Hochberg step in small-sample mode.
        use_noise_floor: never let a threshold sit below the sampling-noise floor.
        psi_eps: share that replaces an empty bin in PSI.
        missing_abs_jump: a missing-rate change of at least this is a jump...
        missing_ratio_jump: ...and so is one rate at least this multiple of the other...
        missing_min_abs: ...when the rates also differ by at least this;
        missing_alpha: and the two-proportion z-test p-value is below this.
        id_distinct_ratio: distinct / valid rows above which a categorical column is an id.
        dataset_share: share of tested columns that must drift for the dataset to drift.
    """

    numeric_threshold: float = 0.1
    categorical_threshold: float = 0.1
    top_categories: int = 50
    small_sample_rows: int = 1000
    alpha: float = 0.05
    use_noise_floor: bool = True
    psi_eps: float = 1e-4
    missing_abs_jump: float = 0.05
    missing_ratio_jump: float = 2.0
    missing_min_abs: float = 0.01
    missing_alpha: float = 0.05
    id_distinct_ratio: float = 0.9
    dataset_share: float = 0.5

    def __post_init__(self) -> None:
        problems = []
        for name in ("numeric_threshold", "categorical_threshold", "missing_abs_jump"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < math.inf):
                problems.append(f"{name} must be a non-negative number, got {value!r}")
        for name in ("alpha", "missing_alpha", "psi_eps"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < 1):
                problems.append(f"{name} must lie strictly between 0 and 1, got {value!r}")
        for name in ("id_distinct_ratio", "dataset_share", "missing_min_abs"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 1):
                problems.append(f"{name} must lie in [0, 1], got {value!r}")
        if not (isinstance(self.missing_ratio_jump, int | float) and self.missing_ratio_jump >= 1):
            problems.append(f"missing_ratio_jump must be >= 1, got {self.missing_ratio_jump!r}")
        for name in ("top_categories", "small_sample_rows"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                problems.append(f"{name} must be a non-negative int, got {value!r}")
        if self.top_categories == 0:
            problems.append("top_categories must be at least 1")
        if problems:
            raise UsageError(
                "invalid DriftConfig: " + "; ".join(problems),
                code="drift-config",
                hint="see docs/drift.md for each setting and its default",
            )


@dataclass(frozen=True)
class ColumnDrift:
    """The drift verdict for one column.

    ``value`` is the method's number: a distance (drift when ``value >= threshold``) or, for
    ``ks`` / ``chi_square``, the Benjamini-Hochberg adjusted p-value (drift when ``value <=
    threshold``, the FDR). ``missing_jump`` is flagged on its own and does not set
    ``drifted``; ``alert`` is either.
    """

    name: str
    drifted: bool
    method: str
    value: float | None
    threshold: float | None
    p_value: float | None = None
    psi: float | None = None
    top_mover: str | None = None
    missing_rate_ref: float | None = None
    missing_rate_cur: float | None = None
    missing_jump: bool = False
    note: str = ""
    n_ref: int = 0
    n_cur: int = 0
    noise_floor: float | None = None

    @property
    def alert(self) -> bool:
        """Whether anything about this column needs a look: drift or a missing-rate jump."""
        return self.drifted or self.missing_jump

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields: ``name, drifted, method, value, threshold`` first, then extras."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[f.name] = value
        out["alert"] = self.alert
        return out


@dataclass(frozen=True)
class DatasetDrift:
    """Every column's verdict and the dataset-level one.

    Attributes:
        columns: one verdict per column, reference order first.
        share_drifted: drifted columns over columns tested (skipped ones do not count).
        drifted: ``share_drifted >= config.dataset_share`` (and at least one column drifted).
        config: the settings used.
    """

    columns: tuple[ColumnDrift, ...]
    share_drifted: float
    drifted: bool
    config: DriftConfig = field(default_factory=DriftConfig)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of the columns whose distribution drifted."""
        return tuple(c.name for c in self.columns if c.drifted)

    @property
    def missing_jumps(self) -> tuple[str, ...]:
        """Names of the columns whose missing rate jumped."""
        return tuple(c.name for c in self.columns if c.missing_jump)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``steward data drift --format json``."""
        return {
            "drifted": self.drifted,
            "share_drifted": self.share_drifted,
            "drifted_columns": list(self.drifted_columns),
            "missing_jumps": list(self.missing_jumps),
            "config": asdict(self.config),
            "columns": [c.to_dict() for c in self.columns],
        }


# --- summarising a raw array ---------------------------------------------------------------


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _py(value: object) -> Hashable:
    """Numpy scalars become Python ones, so categories compare, hash and serialise alike."""
    if isinstance(value, np.generic):
        item: Hashable = value.item()
        return item
    return value


def summarize_array(
    values: npt.ArrayLike | Sequence[object],
    *,
    kind: Kind | None = None,
    probs: npt.ArrayLike | None = None,
    edges: npt.ArrayLike | None = None,
    keep_sample: int = 10_000,
) -> ColumnSummary:
    """Summarise one column given as a raw array or list, as a profile would.

    Args:
        values: the column. ``None`` and NaN are nulls; +/-inf are counted apart.
        kind: ``numeric`` or ``categorical``; by default floats are numeric, strings, bools,
            mixed objects and ints with at most 20 distinct values categorical, other ints
            numeric (the research note's typing rules).
        probs: quantile grid, default :data:`stats.DEFAULT_PROBS`.
        edges: histogram edges; default the sample's own deciles (pass the reference's
            ``edges`` when summarising the current sample, so PSI is exact).
        keep_sample: keep the finite values themselves up to this many (for exact tests).
    """
    notes: list[str] = []
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        arr = np.asarray(values, dtype=object)
        if arr.ndim != 1:
            raise _fail(f"a column must be one-dimensional, got shape {arr.shape}")
    if kind not in (None, "numeric", "categorical"):
        raise _fail(f"kind must be 'numeric' or 'categorical', got {kind!r}")

    numeric_arr: FloatArray | None = None
    if arr.dtype.kind in "fiu":
        numeric_arr = arr.astype(np.float64)
    elif arr.dtype.kind == "O":
        non_null = [v for v in arr.tolist() if not _is_null(v)]
        if non_null and all(_is_number(v) for v in non_null):
            numeric_arr = np.array(
                [math.nan if _is_null(v) else float(v) for v in arr.tolist()], dtype=np.float64
            )
        elif non_null and len({type(v) for v in non_null}) > 1:
            notes.append("mixed types: " + ", ".join(sorted({type(v).__name__ for v in non_null})))

    if kind is None:
        if numeric_arr is None:
            kind = "categorical"
        elif arr.dtype.kind in "iu" or arr.dtype.kind == "O":
            finite = numeric_arr[np.isfinite(numeric_arr)]
            integral = finite.size > 0 and bool(np.all(finite == np.round(finite)))
            small = np.unique(finite).size <= 20
            kind = "categorical" if (arr.dtype.kind in "iu" or integral) and small else "numeric"
        else:
            kind = "numeric"
    if kind == "numeric":
        if numeric_arr is None:
            raise _fail(
                "a numeric column holds values that are not numbers",
                hint="summarise it with kind='categorical'",
            )
        return _summarize_numeric(numeric_arr, arr.dtype.kind in "iu", probs, edges, keep_sample)
    return _summarize_categorical(arr, tuple(notes))


def _summarize_numeric(
    arr: FloatArray,
    integer: bool,
    probs: npt.ArrayLike | None,
    edges: npt.ArrayLike | None,
    keep_sample: int,
) -> ColumnSummary:
    p = stats.DEFAULT_PROBS if probs is None else np.asarray(probs, dtype=np.float64)
    nan = np.isnan(arr)
    inf = np.isinf(arr)
    finite = arr[~(nan | inf)]
    nulls, infinities = int(nan.sum()), int(inf.sum())
    if finite.size == 0:
        return ColumnSummary("numeric", arr.size, nulls, infinities, probs=p)
    quantiles = np.quantile(finite, p, method="inverted_cdf")
    if edges is None:
        e = np.unique(np.quantile(finite, _PSI_PROBS))
    else:
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
            raise _fail("edges must be finite and strictly increasing")
    hist = np.bincount(np.searchsorted(e, finite, side="right"), minlength=e.size + 1)
    distinct = int(np.unique(finite).size)
    id_like = False
    if integer and finite.size >= 20 and distinct / finite.size > 0.9:
        # an auto-increment key: nearly all distinct and nearly consecutive
        id_like = float(finite.max() - finite.min()) + 1 <= 1.1 * distinct
    return ColumnSummary(
        "numeric",
        count=arr.size,
        nulls=nulls,
        infinities=infinities,
        mean=float(finite.mean()),
        std=float(finite.std()),
        probs=p,
        quantiles=quantiles,
        sample=np.sort(finite) if finite.size <= keep_sample else None,
        edges=e,
        hist_counts=hist.astype(np.float64),
        distinct=distinct,
        id_like=id_like,
    )


def _summarize_categorical(arr: npt.NDArray[Any], notes: tuple[str, ...]) -> ColumnSummary:
    if arr.dtype.kind in "USbiu":
        keys, counts = np.unique(arr, return_counts=True)
        items: dict[Hashable, float] = {
            _py(k): float(c) for k, c in zip(keys.tolist(), counts.tolist(), strict=True)
        }
        nulls = 0
    elif arr.dtype.kind == "f":
        nan = np.isnan(arr)
        keys, counts = np.unique(arr[~nan], return_counts=True)
        items = {_py(k): float(c) for k, c in zip(keys.tolist(), counts.tolist(), strict=True)}
        nulls = int(nan.sum())
    else:
        counter: Counter[Hashable] = Counter()
        nulls = 0
        for v in arr.tolist():
            if _is_null(v):
                nulls += 1
            else:
                counter[_py(v)] += 1
        items = {k: float(c) for k, c in counter.items()}
    valid = arr.size - nulls
    distinct = len(items)
    id_like = valid >= 20 and distinct / valid > 0.9
    return ColumnSummary(
        "categorical",
        count=arr.size,
        nulls=nulls,
        items=items,
        items_complete=True,
        distinct=distinct,
        id_like=id_like,
        notes=notes,
    )


# --- the decision --------------------------------------------------------------------------


def _check_summary(name: str, side: str, s: ColumnSummary) -> None:
    if s.kind not in ("numeric", "categorical"):
        raise _fail(f"column {name!r} ({side}): kind must be numeric or categorical")
    if s.count < 0 or s.nulls < 0 or s.infinities < 0 or s.valid < 0:
        raise _fail(
            f"column {name!r} ({side}): counts are inconsistent "
            f"(count {s.count}, nulls {s.nulls}, infinities {s.infinities})"
        )
    if s.quantiles is not None and (s.probs is None or len(s.probs) != len(s.quantiles)):
        raise _fail(f"column {name!r} ({side}): quantiles and probs differ in length")
    if s.hist_counts is not None and (s.edges is None or len(s.hist_counts) != len(s.edges) + 1):
        raise _fail(
            f"column {name!r} ({side}): a histogram needs len(edges) + 1 counts",
            hint="bins are (-inf, e0), [e0, e1), ..., [e_last, +inf)",
        )


def _missing_jump(ref: ColumnSummary, cur: ColumnSummary, cfg: DriftConfig) -> bool:
    r, c = ref.missing_rate, cur.missing_rate
    if r is None or c is None:
        return False
    diff = abs(c - r)
    lo, hi = min(r, c), max(r, c)
    big = diff >= cfg.missing_abs_jump or (
        diff >= cfg.missing_min_abs and hi >= cfg.missing_ratio_jump * lo
    )
    if not big:
        return False
    pooled = (ref.nulls + cur.nulls) / (ref.count + cur.count)
    se = math.sqrt(pooled * (1 - pooled) * (1 / ref.count + 1 / cur.count))
    if se == 0:
        return False
    p = 2 * float(sps.norm.sf(diff / se))
    return p < cfg.missing_alpha


def _cdf_on(points: FloatArray, quantiles: FloatArray, probs: FloatArray) -> FloatArray:
    """A step CDF read off a quantile grid: the mass of the grid cells at or below each point."""
    weights = np.cumsum(stats._cell_weights(probs))
    idx = np.searchsorted(quantiles, points, side="right")
    return np.where(idx > 0, weights[np.maximum(idx - 1, 0)], 0.0)


def _bincount(edges: FloatArray, values: FloatArray) -> FloatArray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return counts.astype(np.float64)


@dataclass(frozen=True)
class _Numeric:
    """The numeric evidence of one column pair, in the most exact form both sides have."""

    samples: tuple[FloatArray, FloatArray] | None
    hists: tuple[FloatArray, FloatArray] | None
    grid: tuple[FloatArray, FloatArray, FloatArray] | None  # probs, ref q, cur q

    @classmethod
    def of(cls, name: str, ref: ColumnSummary, cur: ColumnSummary, notes: list[str]) -> _Numeric:
        samples = None
        if ref.sample is not None and cur.sample is not None:
            samples = (np.asarray(ref.sample, np.float64), np.asarray(cur.sample, np.float64))
        hists = None
        if (
            ref.hist_counts is not None
            and cur.hist_counts is not None
            and ref.edges is not None
            and cur.edges is not None
        ):
            if np.array_equal(ref.edges, cur.edges):
                hists = (
                    np.asarray(ref.hist_counts, np.float64),
                    np.asarray(cur.hist_counts, np.float64),
                )
            else:
                notes.append("histograms are on different edges; PSI from quantiles instead")
        grid = None
        if ref.quantiles is not None and cur.quantiles is not None:
            assert ref.probs is not None  # _check_summary saw to it
            assert cur.probs is not None
            probs = np.asarray(ref.probs, np.float64)
            cur_q = np.asarray(cur.quantiles, np.float64)
            if not np.array_equal(cur.probs, ref.probs):
                cur_q = np.interp(probs, np.asarray(cur.probs, np.float64), cur_q)
                notes.append("current quantiles interpolated onto the reference grid")
            grid = (probs, np.asarray(ref.quantiles, np.float64), cur_q)
        if samples is None and grid is None:
            raise _fail(
                f"column {name!r}: a numeric summary needs quantiles or a sample on both sides"
            )
        return cls(samples, hists, grid)

    def psi(self, eps: float, notes: list[str]) -> float | None:
        if self.hists is not None:
            rc, cc = self.hists
            notes.append(f"PSI on {rc.size} shared bins")
        elif self.samples is not None:
            edges = np.unique(np.quantile(self.samples[0], _PSI_PROBS))
            rc, cc = _bincount(edges, self.samples[0]), _bincount(edges, self.samples[1])
            notes.append("PSI on reference deciles")
        else:
            assert self.grid is not None
            probs, rq, cq = self.grid
            edges = np.unique(np.quantile(rq, _PSI_PROBS))
            rc = np.diff(np.concatenate(([0.0], _cdf_on(edges, rq, probs), [1.0])))
            cc = np.diff(np.concatenate(([0.0], _cdf_on(edges, cq, probs), [1.0])))
            notes.append("PSI on reference deciles, from quantiles")
        if rc.sum() <= 0 or cc.sum() <= 0:
            return None
        return stats.psi(rc, cc, eps=eps)

    def ks(self, n_ref: int, n_cur: int, notes: list[str]) -> stats.TestResult:
        if self.samples is not None:
            return stats.ks_test(*self.samples)
        if self.hists is not None:
            rc, cc = self.hists
            notes.append("KS from the shared histogram (conservative)")
            return stats.ks_test_from_cdfs(
                np.cumsum(rc)[:-1] / rc.sum(),
                np.cumsum(cc)[:-1] / cc.sum(),
                n_ref=n_ref,
                n_cur=n_cur,
            )
        assert self.grid is not None
        probs, rq, cq = self.grid
        points = np.union1d(rq, cq)
        notes.append("KS from quantile grids (approximate)")
        return stats.ks_test_from_cdfs(
            _cdf_on(points, rq, probs), _cdf_on(points, cq, probs), n_ref=n_ref, n_cur=n_cur
        )

    def wasserstein(self) -> tuple[float, float, float]:
        """Raw W1 and the reference's quartiles."""
        if self.samples is not None:
            q25, q75 = np.quantile(self.samples[0], [0.25, 0.75])
            return stats.wasserstein(*self.samples), float(q25), float(q75)
        assert self.grid is not None
        probs, rq, cq = self.grid
        q25, q75 = np.interp([0.25, 0.75], probs, rq)
        return stats.wasserstein_normalized(rq, cq, scale=1.0, probs=probs), float(q25), float(q75)


@dataclass
class _Partial:
    """A column verdict, and its raw p-value while Benjamini-Hochberg waits for the others."""

    drift: ColumnDrift
    raw_p: float | None = None


def _numeric(
    name: str,
    ref: ColumnSummary,
    cur: ColumnSummary,
    cfg: DriftConfig,
    base: ColumnDrift,
    notes: list[str],
) -> _Partial:
    n_ref, n_cur = ref.valid, cur.valid
    evidence = _Numeric.of(name, ref, cur, notes)
    base = replace(base, psi=evidence.psi(cfg.psi_eps, notes))
    if min(n_ref, n_cur) < cfg.small_sample_rows:
        res = evidence.ks(n_ref, n_cur, notes)
        tested = replace(
            base, method="ks", value=res.p_value, threshold=cfg.alpha, p_value=res.p_value
        )
        return _Partial(tested, res.p_value)

    w, q25, q75 = evidence.wasserstein()
    std = ref.std
    if std is None:
        std = float(np.std(evidence.samples[0])) if evidence.samples is not None else math.nan
    scale = stats.reference_scale(std, q25, q75)
    floor = stats.noise_floor(n_ref, n_cur, "wasserstein") if cfg.use_noise_floor else 0.0
    base = replace(base, method="wasserstein", noise_floor=floor)
    if scale is None:
        notes.append(
            "reference is constant: value is the raw Wasserstein distance; any change drifts"
        )
        return _Partial(replace(base, drifted=w > 0, value=w, threshold=0.0))
    threshold = max(cfg.numeric_threshold, floor)
    return _Partial(
        replace(base, drifted=w / scale >= threshold, value=w / scale, threshold=threshold)
    )


def _categorical(
    name: str,
    ref: ColumnSummary,
    cur: ColumnSummary,
    cfg: DriftConfig,
    base: ColumnDrift,
    notes: list[str],
) -> _Partial:
    if ref.items is None or cur.items is None:
        raise _fail(f"column {name!r}: a categorical summary needs items on both sides")
    buckets = stats.category_buckets(
        ref.items,
        cur.items,
        top=cfg.top_categories,
        ref_total=ref.valid,
        cur_total=cur.valid,
        ref_missing=ref.nulls,
        cur_missing=cur.nulls,
        ref_complete=ref.items_complete,
    )
    base = replace(
        base,
        psi=stats.psi(buckets.ref_counts, buckets.cur_counts, eps=cfg.psi_eps),
        top_mover=f"{buckets.top_mover} ({buckets.top_mover_delta:+.1%} of rows)",
    )
    unseen = float(buckets.cur_counts[-1])
    if unseen:
        share = unseen / float(buckets.cur_counts.sum())
        notes.append(f"{share:.1%} of current rows are categories the reference never had")
    if not ref.items_complete:
        notes.append("reference items are truncated: values outside them count as (other)")
    if min(ref.valid, cur.valid) < cfg.small_sample_rows:
        r_counts, c_counts = _union_counts(ref, cur)
        res = stats.chi_square_test(r_counts, c_counts, min_expected=5.0)
        notes.append("chi-square of homogeneity; categories expecting < 5 rows pooled")
        tested = replace(
            base, method="chi_square", value=res.p_value, threshold=cfg.alpha, p_value=res.p_value
        )
        return _Partial(tested, res.p_value)
    js = stats.jensen_shannon(buckets.ref_counts, buckets.cur_counts)
    nonempty = int(np.count_nonzero(buckets.ref_counts + buckets.cur_counts))
    floor = 0.0
    if cfg.use_noise_floor:
        floor = stats.noise_floor(ref.count, cur.count, "jensen_shannon", bins=nonempty)
    threshold = max(cfg.categorical_threshold, floor)
    return _Partial(
        replace(
            base,
            drifted=js >= threshold,
            method="jensen_shannon",
            value=js,
            threshold=threshold,
            noise_floor=floor,
        )
    )


def _union_counts(ref: ColumnSummary, cur: ColumnSummary) -> tuple[FloatArray, FloatArray]:
    """Counts on every category either side lists, plus unlisted rows and nulls.

    The test must not use the reference's top-k buckets: choosing cells by the reference's
    counts makes its small cells smaller than the current's by selection alone (with 60
    categories at 300 rows, 27% false alarms at alpha 0.05). Cells that depend only on the
    combined counts, as here and in the pooling of ``chi_square_test``, keep the test exact.
    """
    assert ref.items is not None
    assert cur.items is not None
    keys = list(ref.items.keys() | cur.items.keys())
    r = [float(ref.items.get(k, 0.0)) for k in keys]
    c = [float(cur.items.get(k, 0.0)) for k in keys]
    r += [max(ref.valid - sum(r), 0.0), float(ref.nulls)]
    c += [max(cur.valid - sum(c), 0.0), float(cur.nulls)]
    return np.array(r), np.array(c)


def _column(name: str, ref: ColumnSummary, cur: ColumnSummary, cfg: DriftConfig) -> _Partial:
    _check_summary(name, "reference", ref)
    _check_summary(name, "current", cur)
    notes = [*ref.notes, *cur.notes]
    for side, s in (("reference", ref), ("current", cur)):
        if s.infinities:
            notes.append(f"{s.infinities} infinite {side} values excluded")
    jump = _missing_jump(ref, cur, cfg)
    if jump:
        notes.append(f"missing rate {ref.missing_rate:.2%} -> {cur.missing_rate:.2%}")
    base = ColumnDrift(
        name=name,
        drifted=False,
        method="",
        value=None,
        threshold=None,
        missing_rate_ref=ref.missing_rate,
        missing_rate_cur=cur.missing_rate,
        missing_jump=jump,
        n_ref=ref.valid,
        n_cur=cur.valid,
    )
    skip = None
    if ref.kind != cur.kind:
        notes.append(f"kind changed from {ref.kind} to {cur.kind}")
        skip = "kind"
    elif _is_id(ref, cfg):
        skip = "id"
    elif ref.valid == 0 or cur.valid == 0:
        notes.append(f"no values to compare in the {'reference' if ref.valid == 0 else 'current'}")
        skip = "empty"
    if skip is not None:
        return _Partial(replace(base, method=f"skipped ({skip})", note="; ".join(notes)))
    decide = _numeric if ref.kind == "numeric" else _categorical
    part = decide(name, ref, cur, cfg, base, notes)
    part.drift = replace(part.drift, note="; ".join(notes))
    return part


def _is_id(s: ColumnSummary, cfg: DriftConfig) -> bool:
    if s.id_like:
        return True
    if s.kind != "categorical" or s.distinct is None or s.valid < 20:
        return False
    return s.distinct / s.valid > cfg.id_distinct_ratio


def detect_drift(
    reference: Mapping[str, ColumnSummary],
    current: Mapping[str, ColumnSummary],
    config: DriftConfig | None = None,
) -> DatasetDrift:
    """Compare every column of two samples and decide which drifted.

    Numeric columns: normalised Wasserstein >= 0.1, PSI beside it. Categorical: Jensen-Shannon
    >= 0.1 over the top 50 categories + other/missing/unseen, naming the bucket that moved
    most. Below 1,000 valid rows on either side: KS / chi-square p-values, Benjamini-Hochberg
    across those columns. Thresholds never sit below the noise floor of the sample sizes;
    missing-rate jumps are flagged apart; id-like columns are skipped. See docs/drift.md.

    Raises:
        UsageError: ``drift-input`` when a summary is inconsistent (mismatched bins or grids),
            ``drift-config`` when ``config`` is not a DriftConfig.
    """
    cfg = DriftConfig() if config is None else config
    if not isinstance(cfg, DriftConfig):
        raise UsageError(
            f"config must be a DriftConfig, got {type(cfg).__name__}", code="drift-config"
        )
    parts: list[_Partial] = []
    for name, ref in reference.items():
        cur = current.get(name)
        if cur is None:
            gone = ColumnDrift(name, False, "skipped (missing column)", None, None)
            parts.append(_Partial(replace(gone, note="not in the current sample")))
        else:
            parts.append(_column(name, ref, cur, cfg))
    for name in current:
        if name not in reference:
            new = ColumnDrift(name, False, "skipped (new column)", None, None)
            parts.append(_Partial(replace(new, note="not in the reference sample")))

    tested = [p for p in parts if p.raw_p is not None]
    if tested:
        raw = [p.raw_p for p in tested if p.raw_p is not None]
        rejected, adjusted = stats.benjamini_hochberg(raw, cfg.alpha)
        for p, rej, adj in zip(tested, rejected.tolist(), adjusted.tolist(), strict=True):
            p.drift = replace(p.drift, drifted=bool(rej), value=float(adj))
    columns = tuple(p.drift for p in parts)
    counted = [c for c in columns if not c.method.startswith("skipped")]
    n_drifted = sum(c.drifted for c in counted)
    share = n_drifted / len(counted) if counted else 0.0
    return DatasetDrift(columns, share, n_drifted > 0 and share >= cfg.dataset_share, cfg)
