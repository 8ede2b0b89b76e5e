"""Batches validated against schemas: each anomaly kind found, none on fresh samples."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlsteward.data.profile import profile_data
from mlsteward.data.schema import Schema, infer_schema
from mlsteward.data.validate import ValidationConfig, ValidationReport, validate
from mlsteward.errors import UsageError


def sample(seed: int, n: int = 5_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n) + seed * n,
            "age": rng.integers(18, 90, n),
            "x": rng.normal(10.0, 2.0, n),
            "wait": rng.exponential(3.0, n),
            "price": rng.lognormal(0.0, 1.0, n),
            "city": rng.choice(["Oslo", "Bergen", "Tromsø", "Bodø"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "flag": rng.random(n) < 0.3,
            "sparse": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
        }
    )


@pytest.fixture(scope="module")
def schema() -> Schema:
    return infer_schema(profile_data(sample(1)))


def kinds(report: ValidationReport) -> dict[tuple[str | None, str], str]:
    return {(a.column, a.kind): a.severity for a in report.anomalies}


def test_fresh_samples_raise_no_error(schema: Schema) -> None:
    for seed in range(2, 7):
        batch = sample(seed)
        exact = validate(batch, schema)
        assert exact.ok, exact.to_text()
        assert exact.exact
        assert exact.rows == 5_000
        estimated = validate(profile_data(batch), schema)
        assert estimated.ok, estimated.to_text()
        assert not estimated.exact


def _mutate(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    f = frame.copy()
    n = len(f)
    if how == "missing":
        return f.drop(columns=["age"])
    if how == "extra":
        return f.assign(new=1.0)
    if how == "type":
        return f.assign(flag=f["flag"].map({True: "yes", False: "no"}))
    if how == "widening":
        return f.assign(age=f["age"].astype(float))
    if how == "nulls":
        return f.assign(sparse=np.where(np.arange(n) % 5 == 0, np.nan, f["sparse"]))
    if how == "not-nullable":
        return f.assign(x=np.where(np.arange(n) < 100, np.nan, f["x"]))
    if how == "range":
        return f.assign(x=f["x"] + 10.0)
    if how == "range-warning":
        return f.assign(x=np.where(np.arange(n) < 150, 1e4, f["x"]))
    if how == "domain":
        return f.assign(city=np.where(np.arange(n) % 10 == 0, "Paris", f["city"]))
    if how == "unseen":
        return f.assign(city=np.where(np.arange(n) < 5, "Paris", f["city"]))
    raise AssertionError(how)


CASES: list[tuple[str, tuple[str, str], str]] = [
    ("missing", ("age", "missing-column"), "error"),
    ("extra", ("new", "extra-column"), "warning"),
    ("type", ("flag", "type"), "error"),
    ("widening", ("age", "type"), "warning"),
    ("nulls", ("sparse", "nulls"), "error"),
    ("not-nullable", ("x", "nulls"), "error"),
    ("range", ("x", "range"), "error"),
    ("range-warning", ("x", "range"), "warning"),
    ("domain", ("city", "domain"), "error"),
    ("unseen", ("city", "unseen"), "warning"),
]


@pytest.mark.parametrize(("how", "where", "severity"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("from_profile", [False, True], ids=["data", "profile"])
def test_each_anomaly_is_found(
    schema: Schema, how: str, where: tuple[str, str], severity: str, from_profile: bool
) -> None:
    batch = _mutate(sample(8), how)
    report = validate(profile_data(batch) if from_profile else batch, schema)
    found = kinds(report)
    assert found == {where: severity}, report.to_text()
    (anomaly,) = report.anomalies
    assert report.ok == (severity == "warning")
    assert anomaly.message
    doc = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert doc["anomalies"][0]["kind"] == where[1]
    assert doc["ok"] is report.ok


def test_the_values_behind_an_anomaly(schema: Schema) -> None:
    batch = _mutate(sample(9), "domain")
    (domain,) = validate(batch, schema).anomalies
    assert domain.share == pytest.approx(0.1)
    assert domain.count == 500
    assert domain.examples == ("Paris",)
    assert not domain.estimated
    batch = _mutate(sample(9), "range-warning")
    exact = validate(batch, schema).anomalies[0]
    # 150 planted, plus a few genuine values past the (randomised) range: 0-10 in 100 runs
    assert 150 <= (exact.count or 0) <= 165
    assert "10000" in exact.examples
    assert not exact.estimated
    assert exact.expected == list(schema.columns["x"].range or ())
    estimated = validate(profile_data(batch), schema).anomalies[0]
    assert estimated.estimated
    assert "estimated" in estimated.message
    assert estimated.count == pytest.approx(150, rel=0.5)
    nulls = validate(_mutate(sample(9), "nulls"), schema).anomalies[0]
    assert nulls.got == pytest.approx(nulls.share or 0)
    assert nulls.got > 0.2


def test_a_null_rate_from_one_to_five_percent_is_flagged() -> None:
    def frame(rate: float, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        v = rng.normal(size=20_000)
        return pd.DataFrame({"v": np.where(rng.random(20_000) < rate, np.nan, v)})

    schema = infer_schema(profile_data(frame(0.01, 1)))
    assert validate(frame(0.01, 2), schema).ok
    assert kinds(validate(frame(0.05, 3), schema)) == {("v", "nulls"): "error"}


def test_id_columns_are_not_range_checked(schema: Schema) -> None:
    batch = sample(10).assign(id=lambda f: f["id"] + 10**9)
    assert validate(batch, schema).anomalies == ()


def test_infinities_are_out_of_range(schema: Schema) -> None:
    batch = sample(11)
    batch.loc[:499, "x"] = np.inf
    prof = profile_data(batch)
    for data in (batch, prof):
        (a,) = validate(data, schema).anomalies
        assert (a.kind, a.severity) == ("range", "error")
        # exact from the data (and the odd genuine value beyond the range); from a profile
        # the finite share is read off the KLL sketch, within its rank error
        slack = 10 if not a.estimated else 10 + int(prof.columns["x"].rank_error * len(batch))
        assert 500 <= (a.count or 0) <= 500 + slack, (a.count, a.estimated)
        assert "inf" in a.examples


def test_severities_are_configurable(schema: Schema) -> None:
    batch = _mutate(_mutate(sample(12), "extra"), "missing")
    cfg = ValidationConfig(missing_column="warning", extra_column="off")
    report = validate(batch, schema, config=cfg)
    assert kinds(report) == {("age", "missing-column"): "warning"}
    assert report.ok
    assert "warning" in report.to_text()


@pytest.mark.parametrize(
    "settings",
    [{"nulls": "fatal"}, {"range_error": 2.0}, {"domain_warning": 0.5}, {"null_alpha": 0.0}],
)
def test_bad_config_is_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(UsageError) as err:
        ValidationConfig(**settings)
    assert err.value.code == "validate-config"


def test_odd_batches_give_anomalies_not_tracebacks(schema: Schema) -> None:
    empty = validate(sample(13).iloc[:0], schema)
    assert kinds(empty) == {(None, "empty"): "error"}
    nothing = validate(pd.DataFrame(), schema)
    assert nothing.errors[0].kind == "empty"
    assert {a.kind for a in nothing.anomalies} == {"empty", "missing-column"}
    all_null = sample(14).assign(x=np.nan, city=None)
    found = kinds(validate(all_null, schema))
    assert found == {("x", "nulls"): "error", ("city", "nulls"): "error"}
    mixed = sample(15).astype({"city": object})
    mixed.loc[:9, "city"] = 7
    found = kinds(validate(mixed, schema))
    assert found == {("city", "type"): "error"}
    table = pa.Table.from_pandas(sample(16), preserve_index=False)
    table = table.append_column("x", pa.array([1.0] * table.num_rows))
    table = table.append_column("ünï 名", pa.array(["a"] * table.num_rows))
    report = validate(table, schema)
    assert kinds(report) == {
        ("x#2", "extra-column"): "warning",
        ("ünï 名", "extra-column"): "warning",
    }
    assert any("duplicate column name 'x'" in n for n in report.notes)
    text = report.to_text()
    assert "ünï 名" in text
    assert text.startswith("ok: 0 errors, 2 warnings")
    assert json.dumps(report.to_dict(), allow_nan=False)


def test_a_datetime_range_written_by_hand_is_checked() -> None:
    schema = Schema.from_toml(
        'format = "steward-schema/1"\n[columns.t]\ntype = "datetime"\n'
        "range = [2024-01-01T00:00:00, 2024-12-31T23:59:59]\n"
    )
    days = pd.date_range("2024-06-01", periods=100, freq="D")
    assert validate(pd.DataFrame({"t": days}), schema).ok
    late = pd.DataFrame({"t": pd.date_range("2024-12-01", periods=100, freq="D")})
    (a,) = validate(late, schema).anomalies
    assert (a.kind, a.count, a.examples[0]) == ("range", 69, "2025-03-10T00:00:00")
    assert "2024-12-31T23:59:59" in a.message
    (b,) = validate(profile_data(late), schema).anomalies
    assert b.estimated
    assert b.count == pytest.approx(69, abs=10)


def test_a_file_that_does_not_match_its_schema(tmp_path: Any, schema: Schema) -> None:
    path = tmp_path / "other.csv"
    pd.DataFrame({"name": ["a", "b"], "score": [1.5, math.pi]}).to_csv(path, index=False)
    report = validate(str(path), schema)
    assert not report.ok
    assert sorted(kinds(report).values()).count("error") == len(schema.columns)
    with pytest.raises(UsageError) as err:
        validate(str(tmp_path / "none.parquet"), schema)
    assert err.value.code == "profile-input"
