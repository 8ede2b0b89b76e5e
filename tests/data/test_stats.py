"""The distances and tests of mlsteward.data.stats, against scipy where scipy has them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from mlsteward.data import stats
from mlsteward.errors import UsageError


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_wasserstein_on_samples_matches_scipy(rng: np.random.Generator) -> None:
    a = rng.normal(size=3000)
    b = rng.lognormal(size=1700)
    assert stats.wasserstein(a, b) == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-12)


def test_wasserstein_drops_non_finite_values(rng: np.random.Generator) -> None:
    a = rng.normal(size=500)
    b = rng.normal(size=400)
    dirty = np.concatenate((b, [np.inf, -np.inf, np.nan]))
    assert stats.wasserstein(a, dirty) == pytest.approx(sps.wasserstein_distance(a, b))


def test_wasserstein_from_quantile_grids_is_close_to_exact(rng: np.random.Generator) -> None:
    a = rng.normal(size=200_000)
    b = rng.normal(0.3, 1.2, size=150_000)
    qa = np.quantile(a, stats.DEFAULT_PROBS, method="inverted_cdf")
    qb = np.quantile(b, stats.DEFAULT_PROBS, method="inverted_cdf")
    from_grid = stats.wasserstein_normalized(qa, qb, scale=a.std())
    exact = sps.wasserstein_distance(a, b) / a.std()
    assert from_grid == pytest.approx(exact, rel=5e-3)


def test_wasserstein_normalized_is_in_reference_sds(rng: np.random.Generator) -> None:
    a = rng.normal(10, 4, size=100_000)
    qa = np.quantile(a, stats.DEFAULT_PROBS)
    assert stats.wasserstein_normalized(qa, qa + 2.0, scale=4.0) == pytest.approx(0.5)


def test_wasserstein_normalized_honours_an_uneven_grid() -> None:
    probs = np.array([0.1, 0.5, 0.9])
    # cells: [0, 0.3), [0.3, 0.7), [0.7, 1] -> weights 0.3, 0.4, 0.3
    got = stats.wasserstein_normalized([0, 0, 0], [1, 2, 3], scale=1.0, probs=probs)
    assert got == pytest.approx(0.3 * 1 + 0.4 * 2 + 0.3 * 3)


def test_reference_scale_falls_back_to_iqr_then_none() -> None:
    assert stats.reference_scale(2.0, 0.0, 1.0) == 2.0
    assert stats.reference_scale(0.0, 1.0, 2.349) == pytest.approx(1.0)
    assert stats.reference_scale(math.nan, 1.0, 2.349) == pytest.approx(1.0)
    assert stats.reference_scale(0.0, 3.0, 3.0) is None


def test_psi_matches_its_formula() -> None:
    r = np.array([10.0, 20.0, 30.0, 40.0])
    c = np.array([20.0, 20.0, 20.0, 40.0])
    rp, cp = r / r.sum(), c / c.sum()
    assert stats.psi(r, c) == pytest.approx(float(np.sum((cp - rp) * np.log(cp / rp))))
    assert stats.psi(r, r) == 0.0


def test_psi_smooths_empty_bins_with_eps() -> None:
    got = stats.psi([50, 50, 0], [50, 0, 50], eps=1e-4)
    p, q = np.array([0.5, 0.5, 1e-4]), np.array([0.5, 1e-4, 0.5])
    assert got == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert math.isfinite(got)


@pytest.mark.parametrize(
    ("r", "c"),
    [([1, 2, 3, 4], [4, 3, 2, 1]), ([10, 0, 5], [0, 7, 5]), ([1, 0], [0, 1]), ([3, 3], [6, 6])],
)
def test_jensen_shannon_matches_scipy(r: list[int], c: list[int]) -> None:
    want = float(jensenshannon(np.array(r, float), np.array(c, float), base=2))
    assert stats.jensen_shannon(r, c) == pytest.approx(want, abs=1e-12)


def test_jensen_shannon_is_one_for_disjoint_support() -> None:
    assert stats.jensen_shannon([5, 0], [0, 9]) == pytest.approx(1.0)


def test_ks_test_matches_scipy(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=300), rng.normal(0.2, size=250)
    want = sps.ks_2samp(a, b)
    got = stats.ks_test(a, b)
    assert got.statistic == pytest.approx(want.statistic)
    assert got.p_value == pytest.approx(want.pvalue)


def test_ks_from_cdfs_matches_scipy_asymptotic(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=800), rng.normal(0.1, size=600)
    grid = np.sort(np.concatenate((a, b)))
    f = np.searchsorted(np.sort(a), grid, side="right") / a.size
    g = np.searchsorted(np.sort(b), grid, side="right") / b.size
    got = stats.ks_test_from_cdfs(f, g, n_ref=a.size, n_cur=b.size)
    want = sps.ks_2samp(a, b, method="asymp")
    assert got.statistic == pytest.approx(want.statistic)
    assert got.p_value == pytest.approx(want.pvalue, rel=1e-9)


def test_chi_square_matches_scipy_contingency() -> None:
    r = np.array([30, 50, 20, 0, 7])
    c = np.array([40, 35, 25, 0, 3])
    # the empty category is dropped, as chi2_contingency needs
    got = stats.chi_square_test(r, c)
    want = sps.chi2_contingency(np.vstack((r, c))[:, [0, 1, 2, 4]], correction=False)
    assert got.statistic == pytest.approx(want.statistic)
    assert got.p_value == pytest.approx(want.pvalue)


def test_chi_square_pools_sparse_categories() -> None:
    r = np.array([100, 100, 1, 1, 2])
    c = np.array([90, 110, 2, 0, 1])
    got = stats.chi_square_test(r, c, min_expected=5.0)
    want = sps.chi2_contingency(np.array([[100, 100, 4], [90, 110, 3]]), correction=False)
    assert got.p_value == pytest.approx(want.pvalue)


def test_chi_square_on_one_category_is_no_evidence() -> None:
    assert stats.chi_square_test([5, 0], [9, 0]) == (0.0, 1.0)


def test_benjamini_hochberg_matches_scipy(rng: np.random.Generator) -> None:
    p = np.concatenate((rng.uniform(size=20), [1e-5, 0.001, 0.01]))
    rejected, adjusted = stats.benjamini_hochberg(p, 0.05)
    np.testing.assert_allclose(adjusted, sps.false_discovery_control(p), rtol=1e-12)
    assert rejected.tolist() == (adjusted <= 0.05).tolist()
    assert rejected[-3:].tolist()[:2] == [True, True]


def test_benjamini_hochberg_of_nothing() -> None:
    rejected, adjusted = stats.benjamini_hochberg([], 0.05)
    assert rejected.size == adjusted.size == 0


def test_category_buckets_align_and_name_the_top_mover() -> None:
    ref = {"a": 50, "b": 30, "c": 15, "d": 5}
    cur = {"a": 30, "b": 30, "c": 15, "d": 5, "new": 20}
    b = stats.category_buckets(ref, cur, top=2, ref_missing=0, cur_missing=10)
    assert b.labels == ("a", "b", stats.OTHER, stats.MISSING, stats.UNSEEN)
    assert b.ref_counts.tolist() == [50, 30, 20, 0, 0]
    assert b.cur_counts.tolist() == [30, 30, 20, 10, 20]
    assert b.top_mover == "a"
    assert b.top_mover_delta == pytest.approx(30 / 110 - 0.5)


def test_category_buckets_after_a_truncated_reference_put_new_values_in_other() -> None:
    b = stats.category_buckets([("a", 60), ("b", 30)], {"a": 60, "z": 40}, ref_total=100, top=2)
    assert b.labels == ("a", "z", stats.OTHER, stats.MISSING, stats.UNSEEN)
    assert b.ref_counts.tolist() == [60, 0, 40, 0, 0]
    assert b.cur_counts.tolist() == [60, 40, 0, 0, 0]


def test_category_buckets_rank_by_both_counts_and_expect_reference_singletons_unseen() -> None:
    ref = {"a": 5, "b": 4, "s1": 1, "s2": 1}
    cur = {"a": 1, "b": 4, "new": 6}
    assert stats.category_buckets(ref, cur, top=2).labels[:2] == ("b", "a")  # 8, then 6 + tie
    b = stats.category_buckets(ref, cur, top=1)
    assert b.labels == ("b", stats.OTHER, stats.MISSING, stats.UNSEEN)
    # the reference's singletons (s1, s2) stand for the novel share a fresh sample has
    assert b.ref_counts.tolist() == [4, 5, 0, 2]
    assert b.cur_counts.tolist() == [4, 1, 0, 6]
    assert abs(b.top_mover_delta) == pytest.approx(4 / 11)


def test_category_buckets_reject_totals_below_their_items() -> None:
    with pytest.raises(UsageError) as err:
        stats.category_buckets({"a": 5}, {"a": 5}, ref_total=3)
    assert err.value.code == "drift-input"


def test_noise_floor_shrinks_with_the_smaller_sample() -> None:
    big = stats.noise_floor(1_000_000, 1_000_000, "wasserstein")
    small = stats.noise_floor(1_000_000, 200, "wasserstein")
    assert big < 0.01 < 0.1 < small
    assert stats.noise_floor(1000, 1000, "ks") == pytest.approx(1.358 / math.sqrt(500))


def test_noise_floor_for_js_and_psi_matches_a_simulation() -> None:
    rng = np.random.default_rng(3)
    n, edges = 2000, np.quantile(rng.normal(size=100_000), np.arange(1, 10) / 10)
    js, ps = [], []
    for _ in range(200):
        a = np.bincount(np.searchsorted(edges, rng.normal(size=n)), minlength=10)
        b = np.bincount(np.searchsorted(edges, rng.normal(size=n)), minlength=10)
        js.append(stats.jensen_shannon(a, b))
        ps.append(stats.psi(a, b))
    js_floor = stats.noise_floor(n, n, "jensen_shannon", bins=10)
    psi_floor = stats.noise_floor(n, n, "psi", bins=10)
    assert js_floor == pytest.approx(np.quantile(js, 0.95), rel=0.25)
    assert psi_floor == pytest.approx(np.quantile(ps, 0.95), rel=0.3)


@pytest.mark.parametrize(
    "call",
    [
        lambda: stats.psi([1, 2, 3], [1, 2]),
        lambda: stats.jensen_shannon([0, 0], [1, 1]),
        lambda: stats.psi([1, -1], [1, 1]),
        lambda: stats.wasserstein([], [1.0]),
        lambda: stats.wasserstein([np.nan, np.inf], [1.0]),
        lambda: stats.wasserstein_normalized([1, 2], [1, 2, 3], scale=1.0, probs=[0.2, 0.8]),
        lambda: stats.wasserstein_normalized([1, 2], [1, 2], scale=0.0, probs=[0.2, 0.8]),
        lambda: stats.wasserstein_normalized([1, 2], [1, 2], scale=1.0, probs=[0.8, 0.2]),
        lambda: stats.wasserstein_normalized([1, np.inf], [1, 2], scale=1.0, probs=[0.2, 0.8]),
        lambda: stats.ks_test_from_cdfs([0.5], [0.5, 1], n_ref=3, n_cur=3),
        lambda: stats.benjamini_hochberg([0.5, 1.5]),
        lambda: stats.noise_floor(0, 10, "ks"),
        lambda: stats.psi([[1, 2]], [[1, 2]]),
        lambda: stats.psi(["a"], ["b"]),
    ],
)
def test_bad_input_is_a_usage_error_with_a_code(call: object) -> None:
    with pytest.raises(UsageError) as err:
        call()  # type: ignore[operator]
    assert err.value.code == "drift-input"
