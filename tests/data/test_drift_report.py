"""The drift report in its three forms: strict JSON, a terminal summary, one offline HTML page."""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pytest

from mlsteward.data.compare import compare_profiles, profile_pair, skew
from mlsteward.data.drift import ColumnDrift, DatasetDrift
from mlsteward.data.drift_report import skew_json, skew_text, to_html, to_json, to_text

EVIL = "<script>alert(1)</script>"


def _tables(n: int = 5_000) -> tuple[pa.Table, pa.Table]:
    """20 columns, 15 numeric and 5 categorical; 4 shifted, one with a null-rate jump."""
    out = []
    for seed, shift in ((1, 0.0), (2, 1.0)):
        rng = np.random.default_rng(seed)
        cols: dict[str, object] = {}
        for i in range(15):
            v = rng.normal(0.0, 1.0, n) + (shift if i < 3 else 0.0)
            cols[EVIL if i == 0 else f"num_{i}"] = v
        for i in range(4):
            p = np.array([0.4, 0.3, 0.2, 0.1]) if not shift or i else np.array([0.1, 0.2, 0.3, 0.4])
            cols[f"cat_{i}"] = np.array(["a", "b", '"c"&', "<d>"])[rng.choice(4, n, p=p)]
        names = np.array([f"v{j}" for j in range(3000)])
        mask = rng.random(n) < (0.01 if not shift else 0.035)
        cols["many"] = pa.array(names[rng.integers(0, 3000, n)], mask=mask)
        out.append(pa.table(cols))
    return out[0], out[1]


@pytest.fixture(scope="module")
def reports() -> tuple[DatasetDrift, object, object]:
    ref_t, cur_t = _tables()
    ref, cur = profile_pair(ref_t, cur_t)
    return compare_profiles(ref, cur), ref, cur


def test_json_lists_every_column_with_the_required_fields(reports: tuple) -> None:
    drift, _, _ = reports
    doc = json.loads(to_json(drift))
    assert [c["name"] for c in doc["columns"]] == [c.name for c in drift.columns]
    assert len(doc["columns"]) == 20
    for col in doc["columns"]:
        assert {"name", "drifted", "method", "value", "threshold"} <= set(col)
    assert set(doc["drifted_columns"]) == {EVIL, "num_1", "num_2", "cat_0"}
    assert doc["missing_jumps"] == ["many"]


def test_json_is_strict_even_with_non_finite_numbers() -> None:
    col = ColumnDrift("x", True, "wasserstein", float("inf"), 0.1, psi=float("nan"))
    text = to_json(DatasetDrift((col,), 1.0, True))
    assert "NaN" not in text
    assert "Infinity" not in text
    doc = json.loads(text)
    assert doc["columns"][0]["value"] is None
    assert doc["columns"][0]["psi"] is None


def test_text_puts_drifted_columns_first_with_their_numbers(reports: tuple) -> None:
    drift, _, _ = reports
    text = to_text(drift)
    head, rest = text.split("drifted columns:\n", 1)
    assert "4 of 20 tested columns drifted" in head
    drifted_block = rest.split("\n\n", 1)[0]
    names = {line.split()[0] for line in drifted_block.splitlines()}
    assert names == {EVIL, "num_1", "num_2", "cat_0"}
    assert "jensen_shannon" in drifted_block
    assert ">= 0.100" in drifted_block
    assert "top mover <d> (+3" in drifted_block  # 10% of rows became 40%
    assert "missing-rate jumps:\n  many" in text


def test_html_is_one_offline_escaped_file_under_1_mb(reports: tuple) -> None:
    drift, ref, cur = reports
    page = to_html(drift, ref, cur)
    assert len(page.encode()) < 1_000_000
    assert EVIL not in page  # the column name is escaped everywhere
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert not re.search(r"https?://", page)
    assert not re.search(r"\b(src|href)\s*=", page)
    # a chart per column: 15 numeric histograms with both sides, 5 category charts
    assert page.count("<svg") == 20
    assert page.count("shares on") == 15
    assert page.count("share of rows per category") == 5
    assert "&lt;d&gt;" in page
    assert "<d>" not in page


def test_html_without_profiles_has_the_table_only(reports: tuple) -> None:
    drift, _, _ = reports
    page = to_html(drift)
    assert "<svg" not in page
    assert "<table>" in page


def test_skew_renders_as_json_and_text() -> None:
    rng = np.random.default_rng(0)
    t = pa.table({"id": np.arange(2_000), "x": rng.normal(0.0, 1.0, 2_000)})
    s = pa.table({"id": np.arange(2_000), "x": t.column("x").to_numpy() * 3})
    report = skew(t, s, keys=["id"])
    doc = json.loads(skew_json(report))
    assert doc["skewed"]
    assert doc["skewed_features"] == ["x"]
    assert doc["mismatches"][0]["rate"] == 1.0
    text = skew_text(report)
    assert text.startswith("SKEWED: x")
    assert "2,000 of 2,000 rows (100.00%)" in text
