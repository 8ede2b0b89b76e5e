"""Schemas inferred from profiles, written as TOML, read back strictly, stored per version."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlsteward.data.profile import profile_data
from mlsteward.data.schema import (
    ColumnSchema,
    Schema,
    infer_schema,
    load_schema,
    read_schema,
    save_schema,
    write_schema,
)
from mlsteward.errors import UsageError


def mixed_frame(seed: int, n: int = 4_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(50.0, 5.0, n)
    x[0] = 1e6  # one wild value must not set the range
    return pd.DataFrame(
        {
            "row_id": np.arange(n) + 7,
            "user": [f"user-{i}" for i in rng.permutation(n)],
            "age": rng.integers(18, 90, n),
            "x": x,
            "pos": rng.exponential(2.0, n),
            "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n, p=[0.6, 0.3, 0.1]),
            "flag": rng.random(n) < 0.3,
            "when": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 86_400 * 30, n), unit="s"),
            "sparse": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
        }
    )


def test_inference_on_mixed_columns() -> None:
    schema = infer_schema(profile_data(mixed_frame(1)), source="train.parquet")
    cols = schema.columns
    assert list(cols) == ["row_id", "user", "age", "x", "pos", "city", "flag", "when", "sparse"]
    assert {n: c.type for n, c in cols.items()} == {
        "row_id": "int",
        "user": "string",
        "age": "int",
        "x": "float",
        "pos": "float",
        "city": "string",
        "flag": "bool",
        "when": "datetime",
        "sparse": "float",
    }
    assert cols["when"].arrow_type.startswith("timestamp")
    assert [n for n, c in cols.items() if c.is_id] == ["row_id", "user"]
    assert cols["row_id"].range is None
    assert cols["user"].domain is None
    # quantile range, widened: covers the bulk, ignores the one 1e6 value (the KLL sketch is
    # randomised: its 0.1% quantile may be that value, which the fence then cuts back)
    lo, hi = cols["x"].range or (math.nan, math.nan)
    assert 20.0 < lo < 36.0
    assert 64.0 < hi < 90.0
    assert cols["pos"].range is not None
    assert cols["pos"].range[0] == 0.0
    age = cols["age"].range
    assert age is not None
    assert age[0] <= 18
    assert age[1] >= 89
    assert age == (round(age[0]), round(age[1]))
    assert cols["city"].domain == ("Bergen", "Oslo", "Tromsø")
    assert cols["city"].domain_complete
    assert cols["flag"].domain is None
    assert cols["when"].range is None
    assert not cols["x"].nullable
    assert cols["x"].max_null_rate == 0.0
    sparse = cols["sparse"]
    assert sparse.nullable
    assert 0.08 < sparse.max_null_rate < 0.13
    assert schema.rows == 4_000
    assert schema.source == "train.parquet"


def test_domains_follow_the_limits() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"c": rng.choice([f"v{i}" for i in range(150)], 50_000)})
    prof = profile_data(frame)
    assert infer_schema(prof).columns["c"].domain is not None  # 150 <= 1% of 50,000 rows
    assert infer_schema(prof, domain_share=0.0).columns["c"].domain is None
    assert len(infer_schema(prof, domain_max=200).columns["c"].domain or ()) == 150
    many = pd.DataFrame({"c": rng.choice([f"v{i}" for i in range(3_000)], 6_000)})
    assert infer_schema(profile_data(many)).columns["c"].domain is None  # sketch not exact


def test_toml_round_trip_with_awkward_names() -> None:
    frame = mixed_frame(2, 500)
    frame['we"ird.name\\x'] = 1.5
    frame["ünïcode 名前"] = "a"
    schema = infer_schema(profile_data(frame))
    text = schema.to_toml()
    assert text.startswith("# Data schema, inferred by mlsteward")
    back = Schema.from_toml(text)
    assert back == schema
    assert back.to_toml() == text


def test_a_hand_edited_file_is_accepted() -> None:
    text = """
# reviewed by the team
format = "steward-schema/1"

[columns.when]
type = "datetime"
range = [2024-01-01T00:00:00, 2025-01-01]   # widened by hand

[columns.city]
domain = ["Oslo", "Bergen"]
domain_complete = false
type = "string"
nullable = true

[columns.user]
type = "string"
role = "id"
nullable = false
max_null_rate = 0
"""
    schema = Schema.from_toml(text, origin="schema.toml")
    when = schema.columns["when"]
    assert when.range is not None
    assert when.range[0] == pd.Timestamp("2024-01-01").value / 1_000
    assert when.range[1] == pd.Timestamp("2025-01-01").value / 1_000
    assert schema.columns["city"] == ColumnSchema(
        "city", "string", domain=("Oslo", "Bergen"), domain_complete=False
    )
    assert schema.columns["city"].max_null_rate == 1.0
    assert schema.columns["user"].is_id
    assert Schema.from_toml(schema.to_toml()) == schema


GOOD = 'format = "steward-schema/1"\n\n[columns.a]\ntype = "int"\nrange = [0, 10]\n'


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("format = ", "not valid TOML"),
        ('[columns.a]\ntype = "int"\n', "format is None"),
        ('format = "steward-schema/9"\n', "steward-schema/9"),
        (GOOD + "colour = 1\n", "unknown key 'colour'"),
        (GOOD.replace("range", "rnage"), "line 5"),
        (GOOD.replace('"int"', '"integer"'), "type 'integer'"),
        (GOOD + 'role = "key"\n', "role 'key'"),
        (GOOD + 'nullable = "yes"\n', "nullable must be true or false"),
        (GOOD + "max_null_rate = 1.5\n", "max_null_rate must be a number in [0, 1]"),
        (GOOD + "nullable = false\nmax_null_rate = 0.1\n", "nullable = false"),
        (GOOD.replace("[0, 10]", "[10, 0]"), "above high"),
        (GOOD.replace("[0, 10]", '[0, "x"]'), "bounds must be numbers"),
        (GOOD.replace("[0, 10]", "[0]"), "range must be [low, high]"),
        (GOOD + 'domain = ["a"]\n', "a int column has no domain"),
        (GOOD.replace("int", "string").replace("range = [0, 10]", "domain = [1]"), "strings"),
        (GOOD.replace("int", "string").replace("range = [0, 10]", 'domain = ["a", "a"]'), "twice"),
        (
            GOOD.replace("int", "string").replace("range = [0, 10]", "domain_complete = true"),
            "without a domain",
        ),
        (GOOD + 'role = "id"\n', "an id column has no range"),
        ('format = "steward-schema/1"\n[columns.a]\nnullable = true\n', "has no type"),
        ('format = "steward-schema/1"\ncolumns = 3\n', "table"),
        ('format = "steward-schema/1"\nrows = -1\n', "rows must be"),
        (GOOD.replace("int", "datetime"), "TOML datetimes"),
        (GOOD.replace("int", "bool"), "a bool column has no range"),
    ],
)
def test_invalid_files_are_rejected_with_a_code(text: str, needle: str) -> None:
    with pytest.raises(UsageError) as err:
        Schema.from_toml(text, origin="s.toml")
    assert err.value.code == "schema-invalid"
    assert needle in err.value.message
    assert err.value.message.startswith("s.toml")
    assert err.value.hint


def test_an_unknown_key_is_named_with_its_line() -> None:
    with pytest.raises(UsageError, match=r"s.toml, line 5: column 'a': unknown key 'rnage'"):
        Schema.from_toml(GOOD.replace("range", "rnage"), origin="s.toml")


def test_files_are_read_and_written(tmp_path: Path) -> None:
    schema = infer_schema(profile_data(mixed_frame(4, 300)))
    write_schema(schema, tmp_path / "sub" / "schema.toml")
    assert read_schema(tmp_path / "sub" / "schema.toml") == schema
    with pytest.raises(UsageError) as err:
        read_schema(tmp_path / "missing.toml")
    assert err.value.code == "schema-missing"
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError) as err:
        read_schema(tmp_path / "bin.toml")
    assert err.value.code == "schema-missing"


@pytest.mark.parametrize(
    "settings",
    [
        {"quantile_range": (0.9, 0.1)},
        {"quantile_range": (-0.1, 0.9)},
        {"range_margin": -1.0},
        {"id_ratio": 0.0},
        {"domain_share": 2.0},
        {"domain_max": -1},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object]) -> None:
    prof = profile_data(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(UsageError) as err:
        infer_schema(prof, **settings)  # type: ignore[arg-type]
    assert err.value.code == "schema-settings"


def test_odd_inputs_infer_without_crashing() -> None:
    assert infer_schema(profile_data(pd.DataFrame())).columns == {}
    empty = infer_schema(profile_data(pd.DataFrame({"a": pd.Series([], dtype=float)})))
    assert empty.columns["a"].range is None
    assert not empty.columns["a"].nullable
    table = pa.table(
        [
            pa.array([None] * 30, pa.float64()),
            pa.array([None] * 30),
            pa.array([1.0, math.inf, -math.inf] * 10),
            pa.array(["x"] * 30),
            pa.array(["y"] * 30),
        ],
        names=["nulls", "void", "inf", "dup", "dup"],
    )
    schema = infer_schema(profile_data(table))
    assert list(schema.columns) == ["nulls", "void", "inf", "dup", "dup#2"]
    assert schema.columns["nulls"].max_null_rate == 1.0
    assert schema.columns["nulls"].range is None
    assert schema.columns["void"].type == "null"
    assert schema.columns["inf"].range == (1.0, 1.0)
    mixed = infer_schema(profile_data(pd.DataFrame({"m": [1, "a", 2.5, None] * 10})))
    assert mixed.columns["m"].type == "mixed"
    assert Schema.from_toml(schema.to_toml()) == schema
    assert Schema.from_toml(mixed.to_toml()) == mixed


def test_save_schema_through_a_project(project_dir: Path) -> None:
    from sqlalchemy import select

    from mlsteward.data.datasets import add_dataset, get_version
    from mlsteward.project import Project
    from mlsteward.store.database import open_store
    from mlsteward.store.events import read_events
    from mlsteward.store.schema import artifacts, dataset_versions

    project = Project.open()
    mixed_frame(5, 500).to_csv(project_dir / "train.csv", index=False)
    add_dataset(project, "train.csv", "train")
    assert load_schema(project, "train@1") is None
    schema = infer_schema(profile_data("train@1", project=project))
    artifact = save_schema(project, "train@1", schema)
    assert load_schema(project, "train@1") == schema
    version = get_version(project, "train@1")
    with open_store(project).read() as conn:
        linked = conn.execute(
            select(dataset_versions.c.schema_artifact_id).where(dataset_versions.c.id == version.id)
        ).scalar()
        kind = conn.execute(select(artifacts.c.kind).where(artifacts.c.id == artifact.id)).scalar()
        events = read_events(conn, kind="dataset.schema")
    assert (linked, kind) == (artifact.id, "schema")
    assert [(e.subject, e.payload["columns"]) for e in events] == [("train@1", 9)]
