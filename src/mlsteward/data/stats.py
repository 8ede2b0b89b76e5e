"""Distances and two-sample tests for drift, as pure functions over numpy arrays and counts.

Nothing here knows about frames or profiles: inputs are raw samples, quantile functions on a
grid of probabilities (what a KLL sketch answers), or counts on shared bins (what a histogram
on frozen edges or a frequent-items list gives). ``mlsteward.data.drift`` turns these numbers
into per-column decisions. Formulas and sources are in each docstring and in docs/drift.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from mlsteward.errors import UsageError

__all__ = [
    "DEFAULT_PROBS",
    "MISSING",
    "OTHER",
    "UNSEEN",
    "CategoryBuckets",
    "TestResult",
    "benjamini_hochberg",
    "category_buckets",
    "chi_square_test",
    "jensen_shannon",
    "ks_test",
    "ks_test_from_cdfs",
    "noise_floor",
    "psi",
    "reference_scale",
    "wasserstein",
    "wasserstein_normalized",
]

FloatArray = npt.NDArray[np.float64]
NoiseKind = Literal["wasserstein", "psi", "jensen_shannon", "ks"]

#: Midpoints of 1,000 equal cells of [0, 1]: each quantile stands for 1/1000 of the mass, so the
#: Wasserstein integral is a plain mean over the grid.
DEFAULT_PROBS: FloatArray = (np.arange(1000, dtype=np.float64) + 0.5) / 1000

#: Labels of the three extra buckets of :func:`category_buckets`.
OTHER = "(other)"
MISSING = "(missing)"
UNSEEN = "(unseen)"

#: 95th percentile of sqrt(n_eff) * W1 / sd under the null, simulated (200 repetitions each)
#: for normal, uniform, exponential, lognormal, t(5) and bimodal data at n = 300, 2,000 and
#: 20,000 per side: the values ran from 1.90 to 2.38; 2.3 covers all but the t(5) tail.
WASSERSTEIN_NULL_95 = 2.3

#: c(alpha) of the two-sample KS critical value c * sqrt((n + m) / nm) at alpha = 0.05.
KS_C_95 = 1.358


class TestResult(NamedTuple):
    """A test statistic and its p-value."""

    statistic: float
    p_value: float


def _fail(message: str, hint: str | None = None) -> UsageError:
    return UsageError(message, code="drift-input", hint=hint)


def _vector(values: npt.ArrayLike, what: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{what} must be numbers, got {type(values).__name__}: {exc}") from None
    if arr.ndim != 1:
        raise _fail(f"{what} must be one-dimensional, got shape {arr.shape}")
    return arr


def _finite_sample(values: npt.ArrayLike, what: str) -> FloatArray:
    arr = _vector(values, what)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise _fail(f"{what} holds no finite values", hint="drop empty or all-null columns first")
    return arr


def _counts(values: npt.ArrayLike, what: str) -> FloatArray:
    arr = _vector(values, what)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise _fail(f"{what} must be finite non-negative counts")
    if arr.sum() <= 0:
        raise _fail(f"{what} are all zero", hint="compare columns that hold at least one value")
    return arr


def _paired_counts(ref: npt.ArrayLike, cur: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    r = _counts(ref, "reference counts")
    c = _counts(cur, "current counts")
    if r.shape != c.shape:
        raise _fail(
            f"reference and current counts are on different bins ({r.size} vs {c.size})",
            hint="histogram both samples on the reference's edges, or align categories with "
            "category_buckets",
        )
    return r, c


# --- Wasserstein ---------------------------------------------------------------------------


def _cell_weights(probs: FloatArray) -> FloatArray:
    """Width of the cell each probability stands for: halfway to its neighbours, 0 and 1."""
    bounds = np.concatenate(([0.0], (probs[1:] + probs[:-1]) / 2, [1.0]))
    return np.diff(bounds)


def wasserstein(ref: npt.ArrayLike, cur: npt.ArrayLike) -> float:
    """Exact 1-D Wasserstein-1 distance between two samples (non-finite values dropped).

    W1 = integral |F(x) - G(x)| dx over the merged sorted values, the algorithm of
    ``scipy.stats.wasserstein_distance`` (equal weights), in O((n + m) log(n + m)).
    """
    a = np.sort(_finite_sample(ref, "reference sample"))
    b = np.sort(_finite_sample(cur, "current sample"))
    merged = np.sort(np.concatenate((a, b)))
    deltas = np.diff(merged)
    fa = np.searchsorted(a, merged[:-1], side="right") / a.size
    fb = np.searchsorted(b, merged[:-1], side="right") / b.size
    return float(np.sum(np.abs(fa - fb) * deltas))


def reference_scale(std: float, q25: float, q75: float) -> float | None:
    """The scale that normalises a Wasserstein distance: the reference's standard deviation.

    The population sd (ddof 0, as ``np.std`` and Evidently use); when it is zero or not finite
    (a column of one repeated value, or an overflow), the normal-consistent IQR / 1.349. Returns
    None when both are zero: the reference is constant and any movement is drift.
    """
    if math.isfinite(std) and std > 0:
        return float(std)
    iqr = (q75 - q25) / 1.349
    if math.isfinite(iqr) and iqr > 0:
        return float(iqr)
    return None


def wasserstein_normalized(
    ref_quantiles: npt.ArrayLike,
    cur_quantiles: npt.ArrayLike,
    *,
    scale: float,
    probs: npt.ArrayLike | None = None,
) -> float:
    """Wasserstein-1 distance from two quantile functions on one grid, in units of ``scale``.

    In one dimension W1 = integral_0^1 |F^-1(p) - G^-1(p)| dp (Villani, *Topics in Optimal
    Transport*, 2.18). The integral is the midpoint rule on ``probs`` (default
    :data:`DEFAULT_PROBS`): each quantile stands for the cell halfway to its neighbours. With
    ``np.quantile(..., method="inverted_cdf")`` on 1,000 midpoints it agrees with
    ``scipy.stats.wasserstein_distance`` on the raw samples to a fraction of a percent; a KLL
    sketch adds its own rank error (about 1e-3 at k = 1024).

    Dividing by the reference sd makes 0.1 mean "moved by a tenth of a standard deviation".
    Evidently divides by ``max(np.std(reference), 0.001)``; we divide by :func:`reference_scale`
    instead of flooring at an absolute 0.001, which depends on the column's units.
    """
    rq = _vector(ref_quantiles, "reference quantiles")
    cq = _vector(cur_quantiles, "current quantiles")
    p = DEFAULT_PROBS if probs is None else _vector(probs, "probabilities")
    if not (rq.shape == cq.shape == p.shape):
        raise _fail(
            f"quantiles must share one grid: {rq.size} reference, {cq.size} current, "
            f"{p.size} probabilities",
            hint="evaluate both quantile functions at the same probabilities",
        )
    if p.size == 0 or np.any(np.diff(p) <= 0) or p[0] < 0 or p[-1] > 1:
        raise _fail("probabilities must be strictly increasing within [0, 1]")
    if not (np.all(np.isfinite(rq)) and np.all(np.isfinite(cq))):
        raise _fail("quantiles must be finite", hint="exclude infinities before sketching")
    if not (math.isfinite(scale) and scale > 0):
        raise _fail(f"scale must be a positive number, got {scale!r}")
    return float(np.sum(np.abs(rq - cq) * _cell_weights(p)) / scale)


# --- binned distances ----------------------------------------------------------------------


def psi(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike, *, eps: float = 1e-4) -> float:
    """Population stability index on shared bins.

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i), with r, c the bin shares (Yurdakul, *Statistical
    properties of the population stability index*, 2018). An empty bin would make it infinite,
    so shares below ``eps`` are raised to ``eps`` (not renormalised) first. Evidently
    substitutes 1e-4, or min/1e6 when the smallest share is below that; 1e-4 caps one empty
    bin's contribution near 0.1 * 9.2 for a bin holding 10% on the other side.
    """
    r, c = _paired_counts(ref_counts, cur_counts)
    if not (eps > 0):
        raise _fail(f"eps must be positive, got {eps!r}")
    rp = np.maximum(r / r.sum(), eps)
    cp = np.maximum(c / c.sum(), eps)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def jensen_shannon(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike) -> float:
    """Jensen-Shannon distance, base 2, between two count vectors on aligned categories.

    JS = sqrt(0.5 * KL(p || m) + 0.5 * KL(q || m)) with m = (p + q) / 2 and logs base 2, so it
    lies in [0, 1] (Endres and Schindelin 2003; ``scipy.spatial.distance.jensenshannon`` with
    ``base=2``). Bounded, so empty categories need no smoothing.
    """
    r, c = _paired_counts(ref_counts, cur_counts)
    p = r / r.sum()
    q = c / c.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.sum(special.xlogy(p, p) - special.xlogy(p, m))
        kl_q = np.sum(special.xlogy(q, q) - special.xlogy(q, m))
    divergence = max(0.0, float(kl_p + kl_q) / 2 / math.log(2))
    return min(1.0, math.sqrt(divergence))


@dataclass(frozen=True)
class CategoryBuckets:
    """Two category count lists aligned on the same buckets.

    Attributes:
        labels: the top categories, then :data:`OTHER`, :data:`MISSING`,
            :data:`UNSEEN`.
        ref_counts: reference rows per bucket.
        cur_counts: current rows per bucket.
        top_mover: the bucket whose share of rows changed most.
        top_mover_delta: that change, current share minus reference share.
    """

    labels: tuple[Hashable, ...]
    ref_counts: FloatArray
    cur_counts: FloatArray
    top_mover: Hashable
    top_mover_delta: float


def _items(
    items: Mapping[Hashable, float] | Iterable[tuple[Hashable, float]],
) -> dict[Hashable, float]:
    pairs = items.items() if isinstance(items, Mapping) else items
    out: dict[Hashable, float] = {}
    for key, count in pairs:
        value = float(count)
        if not (math.isfinite(value) and value >= 0):
            raise _fail(f"category {key!r} has count {count!r}; counts must be non-negative")
        out[key] = out.get(key, 0.0) + value
    return out


def category_buckets(
    ref_items: Mapping[Hashable, float] | Iterable[tuple[Hashable, float]],
    cur_items: Mapping[Hashable, float] | Iterable[tuple[Hashable, float]],
    *,
    top: int = 50,
    ref_total: float | None = None,
    cur_total: float | None = None,
    ref_missing: float = 0,
    cur_missing: float = 0,
    ref_complete: bool | None = None,
) -> CategoryBuckets:
    """Align two frequent-item lists on their top categories plus three buckets.

    Buckets: the ``top`` most frequent categories (by the two counts added, so neither side
    picks the cells; a current category the reference never had can get its own), then
    ``(other)`` (values in the tail, and any rows a truncated list does not name),
    ``(missing)`` (null rows) and ``(unseen)``: current values the reference never had,
    against the reference's tail values seen only once (Good 1953: the share of a fresh
    sample that is novel is about the share of singletons). A current value is only
    *unseen* when the reference list is complete (``ref_complete``, by default: the listed
    counts add up to ``ref_total``); after a truncated frequent-items sketch it might be a tail
    value, so it goes to ``(other)``. Folding the tail keeps the plug-in JS estimate from the
    upward bias sparse categories give it (research note section 5.6: 0.22 over 20,000
    categories vs 0.010 over top-50 + other, for two i.i.d. samples of 100k rows).

    Args:
        ref_items: category -> count for the reference (a mapping or pairs).
        cur_items: the same for the current sample.
        top: how many categories keep their own bucket.
        ref_total: non-null reference rows; default the sum of ``ref_items``.
        cur_total: non-null current rows; default the sum of ``cur_items``.
        ref_missing: null rows in the reference.
        cur_missing: null rows in the current sample.
        ref_complete: whether ``ref_items`` lists every reference value.
    """
    if top < 1:
        raise _fail(f"top must be at least 1, got {top}")
    ref = _items(ref_items)
    cur = _items(cur_items)
    ref_listed = sum(ref.values())
    cur_listed = sum(cur.values())
    ref_n = ref_listed if ref_total is None else float(ref_total)
    cur_n = cur_listed if cur_total is None else float(cur_total)
    if ref_n + 1e-9 < ref_listed or cur_n + 1e-9 < cur_listed:
        raise _fail("a total is smaller than the counts listed for its categories")
    if ref_missing < 0 or cur_missing < 0:
        raise _fail("missing counts must be non-negative")
    complete = (ref_n - ref_listed) <= 1e-9 if ref_complete is None else ref_complete

    # Rank by the combined count: cells chosen by one side's counts make that side's small
    # cells smaller by selection alone, a bias that alarmed on no-drift samples of 1,000 rows.
    ranked = sorted(
        ref.keys() | cur.keys(), key=lambda k: (-(ref.get(k, 0.0) + cur.get(k, 0.0)), str(k))
    )
    head = ranked[:top]
    head_set = set(head)
    tail_set = {k for k in ref if k not in head_set}

    ref_head = np.array([ref.get(k, 0.0) for k in head], dtype=np.float64)
    cur_head = np.array([cur.get(k, 0.0) for k in head], dtype=np.float64)
    cur_unseen = sum(v for k, v in cur.items() if k not in head_set and k not in ref)
    if not complete:
        cur_unseen = 0.0
    # Good-Turing: the share of a fresh sample holding values not seen before is about the
    # share of reference rows whose value occurs once; those rows are the reference's "unseen",
    # so a no-drift sample of a high-cardinality column matches it instead of alarming.
    ref_unseen = sum(ref[k] for k in tail_set if ref[k] == 1) if complete else 0.0
    ref_other = ref_n - float(ref_head.sum()) - ref_unseen
    cur_other = cur_n - float(cur_head.sum()) - cur_unseen

    labels: tuple[Hashable, ...] = (*head, OTHER, MISSING, UNSEEN)
    r = np.concatenate((ref_head, [max(ref_other, 0.0), float(ref_missing), ref_unseen]))
    c = np.concatenate((cur_head, [max(cur_other, 0.0), float(cur_missing), cur_unseen]))
    r_sum, c_sum = r.sum(), c.sum()
    if r_sum <= 0 or c_sum <= 0:
        raise _fail("a category list with no rows at all cannot be compared")
    delta = c / c_sum - r / r_sum
    i = int(np.argmax(np.abs(delta)))
    return CategoryBuckets(labels, r, c, labels[i], float(delta[i]))


# --- tests ---------------------------------------------------------------------------------


def ks_test(ref: npt.ArrayLike, cur: npt.ArrayLike) -> TestResult:
    """Two-sample Kolmogorov-Smirnov test on raw samples (non-finite values dropped).

    D = sup_x |F_n(x) - G_m(x)|; ``scipy.stats.ks_2samp`` (two-sided, exact for small samples,
    asymptotic otherwise). Use it below about 1,000 rows: at 1M rows a 0.02 sd shift already
    gives p = 4e-173 (research note section 5.1).
    """
    a = _finite_sample(ref, "reference sample")
    b = _finite_sample(cur, "current sample")
    res = stats.ks_2samp(a, b)
    return TestResult(float(res.statistic), float(res.pvalue))


def ks_test_from_cdfs(
    ref_cdf: npt.ArrayLike, cur_cdf: npt.ArrayLike, *, n_ref: int, n_cur: int
) -> TestResult:
    """KS test from two CDFs evaluated on one grid of points, and the two sample sizes.

    D = max_i |F(x_i) - G(x_i)|; p from the asymptotic distribution of D with
    n_eff = n m / (n + m), as ``scipy.stats.ks_2samp(method="asymp")``:
    p = ``scipy.stats.kstwo.sf(D, round(n_eff))``. D on a grid can only be smaller than the
    sup over all x, so the test is conservative; the histogram of a shared set of edges gives
    the CDFs exactly at those edges.
    """
    f = _vector(ref_cdf, "reference CDF")
    g = _vector(cur_cdf, "current CDF")
    if f.shape != g.shape or f.size == 0:
        raise _fail(f"the two CDFs must be on one grid ({f.size} vs {g.size} points)")
    if n_ref < 1 or n_cur < 1:
        raise _fail(f"sample sizes must be positive, got {n_ref} and {n_cur}")
    d = float(np.max(np.abs(f - g)))
    en = n_ref * n_cur / (n_ref + n_cur)
    p = float(stats.kstwo.sf(d, max(1, round(en))))
    return TestResult(d, min(1.0, max(0.0, p)))


def chi_square_test(
    ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike, *, min_expected: float = 0.0
) -> TestResult:
    """Chi-square test of homogeneity of two count vectors on aligned categories.

    X^2 = sum over the 2 x K table of (O - E)^2 / E, E = row total * column total / N, with
    K - 1 degrees of freedom (Pearson; ``scipy.stats.chi2_contingency(correction=False)``).
    Categories empty on both sides are dropped. We test homogeneity, not goodness of fit to
    the reference shares as Evidently does (``scipy.stats.chisquare`` with expected = reference
    shares): that treats the reference as exact, so with a few hundred reference rows its false
    alarm rate runs above alpha.

    Args:
        ref_counts: reference counts per category.
        cur_counts: current counts per category.
        min_expected: pool, into one cell, categories whose smallest expected count is below
            this (Cochran's rule uses 5); 0 keeps every category.
    """
    r, c = _paired_counts(ref_counts, cur_counts)
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    n_r, n_c = r.sum(), c.sum()
    total = n_r + n_c
    if min_expected > 0 and r.size > 1:
        expected_min = (r + c) * min(n_r, n_c) / total
        small = expected_min < min_expected
        if small.any():
            r = np.concatenate((r[~small], [r[small].sum()]))
            c = np.concatenate((c[~small], [c[small].sum()]))
    if r.size < 2:
        return TestResult(0.0, 1.0)
    col = r + c
    e_r = col * n_r / total
    e_c = col * n_c / total
    x2 = float(np.sum((r - e_r) ** 2 / e_r) + np.sum((c - e_c) ** 2 / e_c))
    p = float(stats.chi2.sf(x2, r.size - 1))
    return TestResult(x2, p)


def benjamini_hochberg(
    p_values: npt.ArrayLike, alpha: float = 0.05
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Benjamini-Hochberg step-up procedure: which hypotheses to reject at FDR ``alpha``.

    Adjusted p_(i) = min_{j >= i} (m / j) p_(j), capped at 1 (Benjamini and Hochberg 1995;
    ``scipy.stats.false_discovery_control``); reject where adjusted <= alpha. Controls the
    expected share of false alarms among the columns flagged, where testing 15 columns at
    0.05 each gives a 54% chance of at least one false alarm.

    Returns:
        (rejected, adjusted p-values), both in the order given.
    """
    p = _vector(p_values, "p-values")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise _fail("p-values must lie in [0, 1]")
    if not (0 < alpha < 1):
        raise _fail(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adjusted_sorted, 1.0)
    return adjusted <= alpha, adjusted


def noise_floor(n_ref: int, n_cur: int, kind: NoiseKind, *, bins: int = 10) -> float:
    """The distance two samples of these sizes from the same distribution reach 5% of the time.

    All four shrink like 1/sqrt(n_eff), n_eff = n m / (n + m), so the smaller sample sets the
    floor (Evidently picks its test from the reference size alone, which lets a 200-row current
    batch alarm on noise). With X^2 ~ chi2(bins - 1) the homogeneity statistic:

    - ``wasserstein`` (normalised): 2.3 / sqrt(n_eff), simulated (see WASSERSTEIN_NULL_95).
    - ``ks``: 1.358 / sqrt(n_eff), the KS critical value at alpha 0.05 (Deequ's robust L-inf
      subtracts the same term).
    - ``psi``: chi2_95(bins - 1) / n_eff, since PSI ~ sum (c - r)^2 / r ~ X^2 / n_eff.
    - ``jensen_shannon`` (base-2 distance): sqrt(chi2_95(bins - 1) / (8 ln 2 n_eff)), since the
      divergence ~ sum (p - q)^2 / (8 m) nats ~ X^2 / (8 n_eff).

    Against the research note's simulated 95th percentiles (N(0,1), 10 bins): JS 0.078 vs 0.072
    at 1,000 rows a side, 0.0078 vs 0.008 at 100,000; PSI 0.034 vs 0.029, 3.4e-4 vs 3e-4.
    """
    if n_ref < 1 or n_cur < 1:
        raise _fail(f"sample sizes must be positive, got {n_ref} and {n_cur}")
    n_eff = n_ref * n_cur / (n_ref + n_cur)
    if kind == "wasserstein":
        return WASSERSTEIN_NULL_95 / math.sqrt(n_eff)
    if kind == "ks":
        return KS_C_95 / math.sqrt(n_eff)
    if bins < 2:
        return 0.0
    chi2_95 = float(stats.chi2.ppf(0.95, bins - 1))
    if kind == "psi":
        return chi2_95 / n_eff
    if kind == "jensen_shannon":
        return min(1.0, math.sqrt(chi2_95 / (8 * math.log(2) * n_eff)))
    raise _fail(f"unknown noise-floor kind {kind!r}; expected wasserstein, psi, jensen_shannon, ks")
