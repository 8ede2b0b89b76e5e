"""Signatures: inference from every input kind, the JSON form, and checks of bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from mlsteward.errors import ModelError
from mlsteward.models.signature import ColumnSpec, Signature, infer_signature

EXPECTED = (
    ColumnSpec("n", "int64"),
    ColumnSpec("x", "float64"),
    ColumnSpec("s", "string"),
    ColumnSpec("b", "bool"),
)
DATA = {"n": [1, 2, 3], "x": [0.5, 1.5, 2.5], "s": ["a", "b", "c"], "b": [True, False, True]}


@pytest.mark.parametrize(
    "example",
    [
        pd.DataFrame(DATA),
        pa.table(DATA),
        DATA,
        pl.DataFrame(DATA),
        [dict(zip(DATA, row, strict=True)) for row in zip(*DATA.values(), strict=True)],
    ],
    ids=["pandas", "arrow", "dict", "polars", "rows"],
)
def test_inputs_are_inferred_from_each_tabular_kind(example: Any) -> None:
    signature = infer_signature(example, np.array([0, 1, 0]))
    assert signature.inputs == EXPECTED
    assert signature.outputs == (ColumnSpec("prediction", "int64"),)


def test_a_numpy_array_names_its_columns_by_position() -> None:
    signature = infer_signature(np.ones((4, 3), dtype="float32"), np.array(["a", "b", "a", "b"]))
    assert signature.inputs == tuple(ColumnSpec(str(i), "float32") for i in range(3))
    assert signature.outputs == (ColumnSpec("prediction", "string"),)


def test_a_2d_output_gives_one_column_per_output() -> None:
    signature = infer_signature({"x": [1.0, 2.0]}, np.array([[0.1, 0.9], [0.4, 0.6]]))
    assert signature.outputs == (
        ColumnSpec("prediction_0", "float64"),
        ColumnSpec("prediction_1", "float64"),
    )


def test_a_signature_round_trips_through_json_data() -> None:
    import json

    signature = infer_signature(DATA, np.array([1.0, 2.0, 3.0]))
    again = Signature.from_dict(json.loads(json.dumps(signature.to_dict())))
    assert again == signature
    assert signature.to_dict()["inputs"][0] == {"name": "n", "type": "int64"}


@pytest.mark.parametrize(
    "record",
    [
        {"inputs": []},
        {"inputs": [], "outputs": []},
        {"inputs": [{"name": "a"}], "outputs": []},
        {"inputs": [{"name": "a", "type": 3}], "outputs": []},
        {"inputs": [{"name": "a", "type": "int64"}] * 2, "outputs": []},
        {"inputs": "a", "outputs": []},
    ],
)
def test_a_malformed_record_is_refused(record: dict[str, Any]) -> None:
    with pytest.raises(ModelError) as err:
        Signature.from_dict(record)
    assert err.value.code == "model-corrupt"


def test_check_accepts_widening_and_reorders_columns() -> None:
    signature = Signature((ColumnSpec("x", "float64"), ColumnSpec("n", "int64")), ())
    table = signature.conform({"n": np.array([1, 2], dtype="int32"), "x": [1, 2], "extra": [0, 0]})
    assert table.column_names == ["x", "n"]
    assert table.schema.types == [pa.float64(), pa.int64()]
    signature.check(np.array([[1, 2], [3, 4]]))  # a bare array matches by position


def test_check_names_missing_columns_and_wrong_types() -> None:
    signature = infer_signature(DATA, np.array([0, 1, 0]))
    with pytest.raises(ModelError) as err:
        signature.check({"n": [1.5], "x": ["high"], "b": [True]})
    assert err.value.code == "model-signature"
    message = err.value.message
    assert "missing column(s) s" in message
    assert "n (expected int64, got float64)" in message
    assert "x (expected float64, got string)" in message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (np.ones(3), "model-input"),
        ("a,b\n1,2", "model-input"),
        ({"a": [1, 2], "b": [1]}, "model-input"),
        ({"a": [1, "x"]}, "model-input"),
    ],
    ids=["1-d", "text", "ragged", "mixed"],
)
def test_input_of_the_wrong_kind_is_refused(data: Any, code: str) -> None:
    signature = Signature((ColumnSpec("a", "int64"),), ())
    with pytest.raises(ModelError) as err:
        signature.check(data)
    assert err.value.code == code


def test_an_empty_example_or_a_3d_prediction_is_refused() -> None:
    with pytest.raises(ModelError, match="model-example"):
        infer_signature({"a": []}, np.array([]))
    with pytest.raises(ModelError, match="model-example"):
        infer_signature({"a": [1]}, np.ones((1, 2, 2)))
