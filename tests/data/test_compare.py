"""Drift and skew through the whole path, on generated data whose answer is known.

data -> profiles -> column summaries -> drift: shifts injected into chosen columns are found
in exactly those columns; identical distributions (1M rows, 20 columns, one with 20,000
categories) raise no alert; a null rate going from 1% to 5% is flagged; ids are skipped.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlsteward.data.compare import (
    SKEW_CONFIG,
    column_pair,
    column_summary,
    compare_profiles,
    drift,
    profile_pair,
    skew,
)
from mlsteward.data.drift import DriftConfig
from mlsteward.data.profile import profile_data
from mlsteward.errors import UsageError


def _categories(rng: np.random.Generator, n: int, k: int, p: np.ndarray | None = None) -> pa.Array:
    """n draws of k categories named c0..c{k-1}, as a dictionary array (cheap to build)."""
    idx = rng.choice(k, n, p=p) if p is not None else rng.integers(0, k, n)
    names = pa.array([f"c{j}" for j in range(k)])
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32)), names)


def _zipf(rng: np.random.Generator, n: int, k: int = 20_000) -> pa.Array:
    idx = ((rng.zipf(1.2, n) - 1) % k).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array([f"z{j}" for j in range(k)]))


def _table(n: int, seed: int) -> dict[str, pa.Array]:
    """15 numeric columns (normal, lognormal, exponential) and 5 categorical (3 to 20,000)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, pa.Array] = {}
    for i in range(15):
        if i % 3 == 0:
            v = rng.normal(10.0 * i, 1.0 + i, n)
        elif i % 3 == 1:
            v = rng.lognormal(0.0, 0.5, n)
        else:
            v = rng.exponential(2.0, n)
        cols[f"num_{i}"] = pa.array(v)
    cols["cat_0"] = _categories(rng, n, 3, np.array([0.5, 0.3, 0.2]))
    cols["cat_1"] = _categories(rng, n, 10)
    cols["cat_2"] = _categories(rng, n, 100)
    cols["cat_3"] = _categories(rng, n, 1000)
    cols["cat_4"] = _zipf(rng, n)
    return cols


def test_identical_distributions_at_1m_rows_raise_no_alert() -> None:
    ref = pa.table(_table(1_000_000, 1))
    cur = pa.table(_table(1_000_000, 2))
    report = drift(ref, cur)
    assert [c.name for c in report.columns] == ref.column_names
    alerts = [(c.name, c.method, c.value) for c in report.columns if c.alert]
    assert alerts == []
    assert report.share_drifted == 0.0
    assert not report.drifted
    methods = {c.name: c.method for c in report.columns}
    assert {methods[f"num_{i}"] for i in range(15)} == {"wasserstein"}
    assert {methods[f"cat_{i}"] for i in range(5)} == {"jensen_shannon"}
    # the sketches' own error stays far below the threshold (0.05 at k = 200, 0.01 at 1024)
    assert max(c.value or 0.0 for c in report.columns if c.method == "wasserstein") < 0.03
    # the 20,000-category column is compared, not skipped, and stays well under 0.1
    zipf = next(c for c in report.columns if c.name == "cat_4")
    assert zipf.value is not None
    assert zipf.value < 0.05


def _shifted(n: int, seed: int, shift: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    base = {
        "mean_shift": rng.normal(0.0, 1.0, n) + (0.5 if shift else 0.0),
        "scale_change": rng.normal(5.0, 2.0, n) * (1.5 if shift else 1.0),
        "steady_normal": rng.normal(3.0, 1.0, n),
        "steady_skewed": rng.lognormal(0.0, 1.0, n),
        "steady_uniform": rng.uniform(-1.0, 1.0, n),
    }
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    moved = np.array([0.25, 0.3, 0.2, 0.25])  # c0 gives 15 points of rows to c3
    cols: dict[str, pa.Array] = {k: pa.array(v) for k, v in base.items()}
    cols["share_change"] = _categories(rng, n, 4, moved if shift else shares)
    cols["steady_cat"] = _categories(rng, n, 20)
    cols["steady_many"] = _zipf(rng, n, 5000)
    return pa.table(cols)


def test_injected_shifts_are_found_in_exactly_those_columns() -> None:
    report = drift(_shifted(50_000, 1, False), _shifted(50_000, 2, True))
    assert set(report.drifted_columns) == {"mean_shift", "scale_change", "share_change"}
    by = {c.name: c for c in report.columns}
    assert by["mean_shift"].value == pytest.approx(0.5, abs=0.05)
    assert by["share_change"].top_mover is not None
    assert by["share_change"].top_mover.startswith("c0 (-15")
    assert report.missing_jumps == ()


def test_the_dataset_verdict_follows_the_share_of_drifted_columns() -> None:
    report = drift(_shifted(50_000, 1, False), _shifted(50_000, 2, True))
    assert report.share_drifted == pytest.approx(3 / 8)
    assert not report.drifted  # 37.5% is under the default 50%
    strict = drift(
        _shifted(50_000, 1, False), _shifted(50_000, 2, True), config=DriftConfig(dataset_share=0.3)
    )
    assert strict.drifted


def test_a_null_rate_going_from_1_to_5_percent_is_flagged() -> None:
    rng = np.random.default_rng(7)
    n = 20_000

    def frame(rate: float) -> pa.Table:
        v = rng.normal(0.0, 1.0, n)
        s = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, n)]
        mask = rng.random(n) < rate
        return pa.table(
            {"x": pa.array(v, mask=mask), "s": pa.array(s, mask=rng.random(n) < rate), "y": v}
        )

    report = drift(frame(0.01), frame(0.05))
    assert set(report.missing_jumps) == {"x", "s"}
    by = {c.name: c for c in report.columns}
    assert not by["x"].drifted
    assert by["x"].alert
    assert by["x"].missing_rate_ref == pytest.approx(0.01, abs=0.003)
    assert by["x"].missing_rate_cur == pytest.approx(0.05, abs=0.005)
    assert not by["y"].alert


def test_id_columns_are_skipped() -> None:
    rng = np.random.default_rng(3)
    n = 5_000

    def frame(start: int) -> pa.Table:
        return pa.table(
            {
                "row_id": np.arange(start, start + n, dtype=np.int64),  # auto-increment
                "uuid": [f"{x:032x}" for x in rng.integers(0, 2**62, n)],
                "x": rng.normal(0.0, 1.0, n),
            }
        )

    report = drift(frame(0), frame(1_000_000))  # the ids moved a million: not drift
    by = {c.name: c for c in report.columns}
    assert by["row_id"].method == "skipped (id)"
    assert by["uuid"].method == "skipped (id)"
    assert by["x"].method == "wasserstein"
    assert report.share_drifted == 0.0


def test_small_samples_use_tests_with_benjamini_hochberg() -> None:
    def frame(seed: int, shift: float) -> pa.Table:
        rng = np.random.default_rng(seed)
        return pa.table(
            {
                "a": rng.normal(shift, 1.0, 300),
                "b": rng.normal(0.0, 1.0, 300),
                "c": np.array(["u", "v", "w"])[rng.integers(0, 3, 300)],
            }
        )

    same = drift(frame(1, 0.0), frame(2, 0.0))
    assert {c.method for c in same.columns} == {"ks", "chi_square"}
    assert same.drifted_columns == ()
    moved = drift(frame(1, 0.0), frame(2, 1.0))
    assert moved.drifted_columns == ("a",)
    a = moved.columns[0]
    assert a.threshold == 0.05
    assert a.value is not None
    assert a.value < 0.05


def test_drift_takes_frames_files_and_profiles_alike(tmp_path: Path) -> None:
    pl = pytest.importorskip("polars")
    ref_t, cur_t = _shifted(5_000, 1, False), _shifted(5_000, 2, True)
    pq.write_table(ref_t, tmp_path / "ref.parquet")
    pq.write_table(cur_t, tmp_path / "cur.parquet")
    from_files = drift(tmp_path / "ref.parquet", str(tmp_path / "cur.parquet"))
    from_pandas = drift(ref_t.to_pandas(), cur_t.to_pandas())
    from_polars = drift(pl.from_arrow(ref_t), pl.from_arrow(cur_t))
    ref_p, cur_p = profile_pair(ref_t, cur_t)
    from_profiles = drift(ref_p, cur_p)
    expected = set(from_profiles.drifted_columns)
    assert expected >= {"mean_shift", "scale_change", "share_change"}
    for other in (from_files, from_pandas, from_polars):
        assert set(other.drifted_columns) == expected


def test_the_current_side_is_profiled_on_the_reference_bins() -> None:
    ref_t, cur_t = _shifted(5_000, 1, False), _shifted(5_000, 2, True)
    ref, cur = profile_pair(ref_t, cur_t)
    col = cur.columns["mean_shift"]
    assert col.frozen is not None
    assert col.frozen.edges == ref.columns["mean_shift"].histogram.edges
    pair = column_pair("mean_shift", ref, cur)
    assert pair is not None
    rsum, csum = pair
    assert rsum.edges is not None
    assert csum.edges is not None
    assert np.array_equal(rsum.edges, csum.edges)
    assert csum.hist_counts is not None
    assert csum.hist_counts.sum() == 5_000
    assert "PSI on" in compare_profiles(ref, cur).columns[0].note


def test_column_summary_maps_the_profile() -> None:
    rng = np.random.default_rng(5)
    v = rng.normal(2.0, 3.0, 10_000)
    v[:10] = np.nan
    v[10:13] = np.inf
    s = np.array(["x", "y", "z"], dtype=object)[rng.integers(0, 3, 10_000)]
    s[:50] = None
    prof = profile_data(pa.table({"v": pa.array(v, from_pandas=False), "s": s}))
    num = column_summary(prof.columns["v"])
    finite = v[np.isfinite(v)]
    assert num.kind == "numeric"
    assert (num.count, num.nulls, num.infinities, num.valid) == (10_000, 10, 3, finite.size)
    assert num.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert num.std == pytest.approx(finite.std(), rel=1e-9)  # population sd
    assert num.quantiles is not None
    assert num.probs is not None
    ranks = np.searchsorted(np.sort(finite), num.quantiles, side="right") / finite.size
    assert np.max(np.abs(ranks - num.probs)) < 0.02  # within the KLL sketch's rank error
    assert num.hist_counts is not None
    assert num.edges is not None
    assert len(num.hist_counts) == len(num.edges) + 1
    cat = column_summary(prof.columns["s"])
    assert cat.kind == "categorical"
    assert cat.items_complete
    assert cat.nulls == 50
    assert cat.items is not None
    values, counts = np.unique(s[50:].astype(str), return_counts=True)
    assert dict(cat.items) == dict(zip(values.tolist(), counts.astype(float).tolist(), strict=True))


def test_a_small_numeric_column_keeps_its_values_for_exact_tests() -> None:
    prof = profile_data(pa.table({"v": np.arange(100.0)}))
    s = column_summary(prof.columns["v"])
    assert s.sample is not None
    assert np.array_equal(s.sample, np.arange(100.0))


def test_all_null_new_missing_and_unsupported_columns() -> None:
    n = 2_000
    rng = np.random.default_rng(9)
    ref = pa.table(
        {
            "gone_null": rng.normal(0.0, 1.0, n),
            "only_ref": rng.normal(0.0, 1.0, n),
            "lists": pa.array(
                [b"\x00\x01"] * n
            ),  # binary: no distribution (list columns: see report)
            "x": rng.normal(0.0, 1.0, n),
        }
    )
    cur = pa.table(
        {
            "gone_null": pa.nulls(n),
            "lists": pa.array([b"\x02"] * n),
            "x": rng.normal(0.0, 1.0, n),
            "only_cur": rng.normal(0.0, 1.0, n),
        }
    )
    by = {c.name: c for c in drift(ref, cur).columns}
    assert by["gone_null"].method == "skipped (empty)"
    assert by["gone_null"].missing_jump
    assert by["only_ref"].method == "skipped (missing column)"
    assert by["only_cur"].method == "skipped (new column)"
    assert by["lists"].method == "skipped (type)"
    assert by["x"].method == "wasserstein"
    with pytest.raises(UsageError) as err:
        column_summary(profile_data(ref).columns["lists"])
    assert err.value.code == "drift-input"


# -- skew -----------------------------------------------------------------------------------


def _raw(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "user_id": np.arange(n, dtype=np.int64),
            "income": rng.lognormal(10.0, 0.5, n),
            "age": rng.integers(18, 90, n).astype(np.float64),
            "country": np.array(["de", "fr", "it", "es"])[rng.integers(0, 4, n)],
        }
    )


def _features(raw: pa.Table, *, scale: bool = True) -> pa.Table:
    """The feature pipeline: log income, age standardised (unless a path forgets it)."""
    income = np.log(raw.column("income").to_numpy())
    age = raw.column("age").to_numpy()
    if scale:
        age = (age - 53.5) / 20.5
    return pa.table(
        {
            "user_id": raw.column("user_id"),
            "log_income": income,
            "age_z": age,
            "country": raw.column("country"),
        }
    )


def test_identical_pipelines_show_no_skew() -> None:
    raw = _raw(20_000, 1)
    report = skew(_features(raw), _features(raw), keys=["user_id"])
    assert not report.skewed
    assert report.joined == 20_000
    assert report.training_only == report.serving_only == 0
    assert {m.name: m.rate for m in report.mismatches} == {
        "log_income": 0.0,
        "age_z": 0.0,
        "country": 0.0,
    }
    # without keys, two samples of the same population: no distribution skew either
    other = skew(_features(_raw(20_000, 1)), _features(_raw(20_000, 2)))
    assert not other.skewed
    assert other.mismatches == ()
    assert other.distribution.config == SKEW_CONFIG


def test_a_serving_path_that_forgets_a_scaling_step_is_caught() -> None:
    train = _features(_raw(20_000, 1))
    serve = _features(_raw(5_000, 2), scale=False)
    by_distribution = skew(train, serve)
    assert by_distribution.skewed
    assert by_distribution.skewed_features == ("age_z",)  # user_id is an id: skipped
    assert "log_income" not in by_distribution.skewed_features
    raw = _raw(5_000, 3)
    by_key = skew(_features(raw), _features(raw, scale=False), keys=["user_id"])
    rates = {m.name: m.rate for m in by_key.mismatches}
    assert rates == {"log_income": 0.0, "age_z": 1.0, "country": 0.0}
    assert by_key.skewed_features == ("age_z",)
    example = next(m for m in by_key.mismatches if m.name == "age_z").example
    assert example is not None
    assert set(example) == {"key", "training", "serving"}


def test_key_joined_mismatch_rates_are_right() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(11)
    n = 1_000
    train = pd.DataFrame(
        {
            "id": np.arange(n),
            "shop": rng.integers(0, 3, n),
            "x": rng.normal(0.0, 1.0, n),
            "c": np.array(["a", "b"], dtype=object)[rng.integers(0, 2, n)],
        }
    )
    serve = train.copy()
    bad = rng.choice(n, 37, replace=False)
    serve.loc[bad, "x"] += 1e-3  # beyond the tolerance
    serve.loc[:99, "x"] *= 1 + 1e-9  # within it
    flip = rng.choice(n, 50, replace=False)
    serve.loc[flip, "c"] = np.where(serve.loc[flip, "c"] == "a", "b", "a")
    serve.loc[[0, 1], "c"] = None  # a null against a value is a mismatch
    train.loc[[0, 1, 2], "c"] = None  # two nulls match
    serve = serve.iloc[50:]  # 50 entities never served
    extra = train.iloc[:5].assign(id=np.arange(n, n + 5))  # 5 served, never trained
    serve = pd.concat([serve, extra, serve.iloc[:3]])  # and 3 repeated keys

    report = skew(train, serve, keys=["id", "shop"])
    assert report.joined == n - 50
    assert report.training_only == 50
    assert report.serving_only == 5
    assert report.duplicates == 3
    by = {m.name: m for m in report.mismatches}
    assert by["x"].compared == n - 50
    assert by["x"].mismatched == int(np.sum(bad >= 50))
    kept = set(range(50, n))
    c_expected = len(kept & set(flip.tolist()))  # rows 0-2 are not served
    assert by["c"].mismatched == c_expected
    assert by["c"].rate == pytest.approx(c_expected / (n - 50))
    assert report.skewed
    assert {"x", "c"} <= set(report.skewed_features)
    doc = report.to_dict()
    assert doc["keys"] == ["id", "shop"]
    assert doc["mismatches"][0]["name"] == "x"


def test_skew_refuses_bad_input() -> None:
    raw = _features(_raw(100, 1))
    prof = profile_data(raw)
    with pytest.raises(UsageError) as err:
        skew(prof, raw, keys=["user_id"])
    assert err.value.code == "skew-input"
    with pytest.raises(UsageError) as err:
        skew(raw, raw.drop_columns(["user_id"]), keys=["user_id"])
    assert err.value.code == "skew-input"
    with pytest.raises(UsageError) as err:
        skew(raw, raw, keys=["user_id"], rtol=-1.0)
    assert err.value.code == "skew-input"


def test_profiles_made_apart_still_compare() -> None:
    """Two profiles made without a shared reference: current counts come off its sketch."""
    ref_t, cur_t = _shifted(20_000, 1, False), _shifted(20_000, 2, True)
    report = compare_profiles(profile_data(ref_t), profile_data(cur_t))
    assert set(report.drifted_columns) == {"mean_shift", "scale_change", "share_change"}
    assert all(math.isfinite(c.psi) for c in report.columns if c.psi is not None)
