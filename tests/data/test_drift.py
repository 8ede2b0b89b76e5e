"""Drift decisions on generated data where the answer is known (issue 4, section 5)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from mlsteward.data.drift import (
    ColumnSummary,
    DriftConfig,
    detect_drift,
    summarize_array,
)
from mlsteward.errors import UsageError

N = 1_000_000


def _pair(
    ref: dict[str, Any], cur: dict[str, Any], **kw: Any
) -> tuple[dict[str, ColumnSummary], dict[str, ColumnSummary]]:
    """Summaries of both samples, the current one histogrammed on the reference's edges."""
    r = {k: summarize_array(v, **kw) for k, v in ref.items()}
    c = {k: summarize_array(v, edges=r[k].edges, **kw) for k, v in cur.items()}
    return r, c


def _zipf(rng: np.random.Generator, n: int, k: int = 20_000) -> np.ndarray:
    p = 1 / np.arange(1, k + 1) ** 1.1
    return rng.choice(k, size=n, p=p / p.sum()).astype(str)


@pytest.fixture(scope="module")
def large() -> dict[str, Any]:
    """1M rows a side: one 0.5 sd shift, a null-rate jump, a 20k-category column, a re-weighting."""
    rng = np.random.default_rng(11)
    ref = {
        "shifted": rng.normal(size=N),
        "same_normal": rng.normal(size=N),
        "same_lognormal": rng.lognormal(size=N),
        "nulls": rng.normal(size=N),
        "zipf": _zipf(rng, N),
        "reweighted": rng.choice(
            np.array(["a", "b", "c", "d", "e"]), size=N, p=[0.4, 0.3, 0.1, 0.1, 0.1]
        ),
    }
    cur = {
        "shifted": rng.normal(0.5, size=N),
        "same_normal": rng.normal(size=N),
        "same_lognormal": rng.lognormal(size=N),
        "nulls": rng.normal(size=N),
        "zipf": _zipf(rng, N),
        # "c" doubles its share, the others give way in proportion
        "reweighted": rng.choice(
            np.array(["a", "b", "c", "d", "e"]),
            size=N,
            p=[0.4 * 8 / 9, 0.3 * 8 / 9, 0.2, 0.1 * 8 / 9, 0.1 * 8 / 9],
        ),
    }
    ref["nulls"][rng.random(N) < 0.01] = np.nan
    cur["nulls"][rng.random(N) < 0.05] = np.nan
    r, c = _pair(ref, cur)
    report = detect_drift(r, c)
    return {c.name: c for c in report.columns} | {"_report": report}


def test_a_half_sd_shift_is_found_at_1m_rows(large: dict[str, Any]) -> None:
    col = large["shifted"]
    assert col.drifted
    assert col.method == "wasserstein"
    assert col.value == pytest.approx(0.5, abs=0.02)
    assert col.psi > 0.1


@pytest.mark.parametrize("name", ["same_normal", "same_lognormal", "nulls"])
def test_identical_distributions_at_1m_rows_do_not_alarm(large: dict[str, Any], name: str) -> None:
    col = large[name]
    assert not col.drifted
    assert col.method == "wasserstein"
    assert col.value < 0.01
    assert col.threshold == 0.1


def test_a_null_rate_from_1_to_5_percent_is_flagged_on_its_own(large: dict[str, Any]) -> None:
    col = large["nulls"]
    assert col.missing_jump
    assert col.alert
    assert not col.drifted
    assert col.missing_rate_ref == pytest.approx(0.01, abs=0.001)
    assert col.missing_rate_cur == pytest.approx(0.05, abs=0.001)
    assert "missing rate" in col.note
    assert not any(large[n].missing_jump for n in ("shifted", "same_normal", "zipf"))


def test_a_20k_category_column_without_drift_does_not_alarm(large: dict[str, Any]) -> None:
    col = large["zipf"]
    assert col.method == "jensen_shannon"
    assert not col.drifted
    assert col.value < 0.05


def test_a_category_whose_share_doubles_is_flagged_and_named(large: dict[str, Any]) -> None:
    col = large["reweighted"]
    assert col.drifted
    assert col.method == "jensen_shannon"
    assert col.top_mover.startswith("c (+10.0%")


def test_dataset_verdict_and_json(large: dict[str, Any]) -> None:
    report = large["_report"]
    assert set(report.drifted_columns) == {"shifted", "reweighted"}
    assert report.missing_jumps == ("nulls",)
    assert report.share_drifted == pytest.approx(2 / 6)
    assert not report.drifted
    doc = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    for col in doc["columns"]:
        assert {"name", "drifted", "method", "value", "threshold"} <= col.keys()
    assert doc["config"]["numeric_threshold"] == 0.1


def test_the_dataset_drifts_when_half_its_columns_do() -> None:
    rng = np.random.default_rng(5)
    r, c = _pair(
        {"x": rng.normal(size=5000), "y": rng.normal(size=5000)},
        {"x": rng.normal(1.0, size=5000), "y": rng.normal(size=5000)},
    )
    assert detect_drift(r, c).drifted
    assert not detect_drift(r, c, DriftConfig(dataset_share=0.6)).drifted


# --- small samples ---------------------------------------------------------------------------


def test_small_samples_use_tests_with_bh_and_hold_their_false_alarm_rate() -> None:
    rng = np.random.default_rng(2024)
    cats = np.array(list("abcdefgh"))
    p = [0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05]
    alarms = 0
    for _ in range(50):

        def sample() -> dict[str, Any]:
            return {
                "n1": rng.normal(size=300),
                "n2": rng.exponential(size=300),
                "n3": rng.uniform(size=300),
                "c1": rng.choice(cats, size=300, p=p),
                # 60 categories of 5 rows each: sparse cells must not bias the test
                "c2": rng.choice(np.arange(60).astype(str), size=300),
            }

        r, c = _pair(sample(), sample())
        report = detect_drift(r, c)
        assert {col.method for col in report.columns} == {"ks", "chi_square"}
        alarms += bool(report.drifted_columns)
    # BH at 0.05 under the full null controls the chance of any alarm at 0.05: 2.5 of 50
    assert alarms <= 6


def test_small_samples_detect_a_large_shift() -> None:
    rng = np.random.default_rng(9)
    r, c = _pair(
        {"x": rng.normal(size=300), "y": rng.normal(size=300), "k": rng.choice(list("abc"), 300)},
        {
            "x": rng.normal(1.0, size=300),
            "y": rng.normal(size=300),
            "k": rng.choice(list("abc"), 300, p=[0.6, 0.2, 0.2]),
        },
    )
    by = {col.name: col for col in detect_drift(r, c).columns}
    assert by["x"].drifted
    assert by["x"].method == "ks"
    assert by["x"].value <= 0.05
    assert by["x"].threshold == 0.05
    assert by["k"].drifted
    assert by["k"].method == "chi_square"
    assert by["k"].top_mover.startswith("a ")
    assert not by["y"].drifted


def test_small_samples_from_quantile_grids_alone() -> None:
    rng = np.random.default_rng(4)
    r, c = _pair({"x": rng.normal(size=500)}, {"x": rng.normal(1.0, size=500)}, keep_sample=0)
    r2 = {"x": replace(r["x"], edges=None, hist_counts=None)}
    c2 = {"x": replace(c["x"], edges=None, hist_counts=None)}
    for ref, cur, how in ((r, c, "histogram"), (r2, c2, "quantile grids")):
        col = detect_drift(ref, cur).columns[0]
        assert col.method == "ks", how
        assert col.drifted, how
        assert how in col.note


def test_a_small_current_batch_raises_the_threshold_to_the_noise_floor() -> None:
    rng = np.random.default_rng(8)
    r, c = _pair({"x": rng.normal(size=200_000)}, {"x": rng.normal(size=300)})
    col = detect_drift(r, c, DriftConfig(small_sample_rows=100)).columns[0]
    assert col.method == "wasserstein"
    assert col.threshold == pytest.approx(2.3 / np.sqrt(200_000 * 300 / 200_300))
    assert col.threshold > 0.1
    assert not col.drifted


# --- skipping and bad input ------------------------------------------------------------------


def test_id_like_columns_are_skipped() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    ref = {
        "uid": np.array([f"u{i}" for i in range(n)]),
        "row": np.arange(n),
        "x": rng.normal(size=n),
    }
    cur = {
        "uid": np.array([f"v{i}" for i in range(n)]),
        "row": np.arange(n, 2 * n),
        "x": rng.normal(size=n),
    }
    by = {col.name: col for col in detect_drift(*_pair(ref, cur)).columns}
    assert by["uid"].method == by["row"].method == "skipped (id)"
    assert not by["uid"].drifted
    assert by["uid"].value is None
    assert by["x"].method == "wasserstein"
    flagged = ColumnSummary("numeric", count=10, id_like=True)
    assert detect_drift({"k": flagged}, {"k": flagged}).columns[0].method == "skipped (id)"


def test_empty_and_all_null_columns_are_skipped_with_a_note() -> None:
    r, c = _pair(
        {"e": np.array([], dtype=float), "n": np.ones(100)},
        {"e": np.array([], dtype=float), "n": np.full(100, np.nan)},
    )
    by = {col.name: col for col in detect_drift(r, c).columns}
    assert by["e"].method == "skipped (empty)"
    assert by["e"].missing_rate_ref is None
    assert by["n"].method == "skipped (empty)"
    assert by["n"].missing_jump
    assert by["n"].missing_rate_cur == 1.0
    assert "no values to compare" in by["n"].note


def test_infinities_are_counted_and_excluded() -> None:
    rng = np.random.default_rng(3)
    cur_x = rng.normal(size=5000)
    cur_x[:10] = np.inf
    r, c = _pair({"x": rng.normal(size=5000)}, {"x": cur_x})
    assert c["x"].infinities == 10
    assert c["x"].valid == 4990
    col = detect_drift(r, c).columns[0]
    assert not col.drifted
    assert col.n_cur == 4990
    assert "10 infinite current values excluded" in col.note


def test_mismatched_histogram_edges_fall_back_with_a_note() -> None:
    rng = np.random.default_rng(3)
    r = {"x": summarize_array(rng.normal(size=5000))}
    c = {"x": summarize_array(rng.normal(size=5000))}  # its own deciles
    col = detect_drift(r, c).columns[0]
    assert "different edges" in col.note
    assert col.psi is not None


def test_a_histogram_with_the_wrong_number_of_bins_is_an_error() -> None:
    good = summarize_array(np.arange(50.0))
    bad = replace(good, hist_counts=np.ones(3))
    with pytest.raises(UsageError) as err:
        detect_drift({"x": good}, {"x": bad})
    assert err.value.code == "drift-input"


def test_missing_new_and_retyped_columns_are_reported_not_raised() -> None:
    r = {"gone": summarize_array([1.0, 2.0]), "kind": summarize_array([1.5, 2.5])}
    c = {"new": summarize_array([1.0]), "kind": summarize_array(["a", "b"])}
    methods = {col.name: col.method for col in detect_drift(r, c).columns}
    assert methods == {
        "gone": "skipped (missing column)",
        "kind": "skipped (kind)",
        "new": "skipped (new column)",
    }


def test_mixed_types_are_summarised_as_categories_with_a_note() -> None:
    s = summarize_array(np.array([1, "a", None, 2.5, "a"], dtype=object))
    assert s.kind == "categorical"
    assert s.nulls == 1
    assert s.items == {1: 1, "a": 2, 2.5: 1}
    assert s.notes
    assert "mixed types" in s.notes[0]


def test_a_constant_reference_drifts_on_any_change() -> None:
    r, c = _pair({"k": np.full(2000, 3.0)}, {"k": np.full(2000, 3.5)}, kind="numeric")
    col = detect_drift(r, c).columns[0]
    assert col.drifted
    assert col.value == pytest.approx(0.5)
    assert "reference is constant" in col.note


def test_kind_inference() -> None:
    assert summarize_array(np.arange(100) % 5).kind == "categorical"
    assert summarize_array(np.arange(100) * 7).kind == "numeric"
    assert summarize_array([True, False]).kind == "categorical"
    assert summarize_array(np.array([0.5, 1.5])).kind == "numeric"
    with pytest.raises(UsageError):
        summarize_array(["a"], kind="numeric")


@pytest.mark.parametrize(
    "kw",
    [
        {"numeric_threshold": -0.1},
        {"alpha": 0.0},
        {"top_categories": 0},
        {"dataset_share": 1.5},
        {"missing_ratio_jump": 0.5},
        {"small_sample_rows": True},
    ],
)
def test_bad_config_is_refused_once_with_a_code(kw: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as err:
        DriftConfig(**kw)
    assert err.value.code == "drift-config"


@pytest.mark.parametrize("n", [3000, 100_000])
def test_a_20k_category_column_without_drift_does_not_alarm_at_moderate_n(n: int) -> None:
    rng = np.random.default_rng(n)
    r = {"z": summarize_array(_zipf(rng, n))}
    c = {"z": summarize_array(_zipf(rng, n))}
    col = detect_drift(r, c).columns[0]
    assert col.method == "jensen_shannon"
    assert not col.drifted
