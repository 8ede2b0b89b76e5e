"""Signatures: the input columns (name and type) a model takes and the outputs it gives.

A signature is inferred from an example input and the model's prediction on it, stored
with the model, and checked before every prediction. Inputs may be a pandas or polars
DataFrame, a pyarrow Table, a dict of lists, a list of row dicts, or a 2-D numpy array
(whose columns are named ``0..n-1``, and matched by position when checked).

Types are short names (``int64``, ``float64``, ``string``, ``bool``, ``datetime``, ...).
A check accepts the same type, a wider kind of number (any integer for an integer
column, any integer or float for a float column) and an all-null column; anything else
(text for a number, a float for an integer) is refused with the column, the type
expected and the type that came. Extra columns are ignored; the model gets the
signature's columns in the signature's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlsteward.errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["ColumnSpec", "Signature", "infer_signature", "to_table"]

_INTEGERS = frozenset(f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64))
_FLOATS = frozenset({"float16", "float32", "float64"})
_ARROW_NAMES = {"double": "float64", "float": "float32", "halffloat": "float16"}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name and its short type name (``int64``, ``string``, ...)."""

    name: str
    type: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type}


def _bad_record(why: str) -> ModelError:
    return ModelError(
        f"the signature record is not valid: {why}",
        code="model-corrupt",
        hint="a signature is {'inputs': [{'name': ..., 'type': ...}], 'outputs': [...]}; "
        "save the model again with save_model to write a good one",
    )


def _specs(items: Any, where: str) -> tuple[ColumnSpec, ...]:
    if not isinstance(items, list):
        raise _bad_record(f"{where} is not a list")
    out = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"name", "type"}:
            raise _bad_record(f"an entry of {where} does not have exactly 'name' and 'type'")
        if not all(isinstance(item[k], str) and item[k] for k in ("name", "type")):
            raise _bad_record(f"an entry of {where} has a name or type that is not text")
        out.append(ColumnSpec(item["name"], item["type"]))
    if len({c.name for c in out}) != len(out):
        raise _bad_record(f"{where} names a column twice")
    return tuple(out)


@dataclass(frozen=True)
class Signature:
    """The columns a model takes (``inputs``) and gives (``outputs``)."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...]

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """The signature as JSON-able data."""
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Read a signature written by `to_dict`, strictly.

        Raises:
            ModelError: anything else (code ``model-corrupt``).
        """
        if not isinstance(data, Mapping) or set(data) != {"inputs", "outputs"}:
            raise _bad_record("expected an object with exactly 'inputs' and 'outputs'")
        inputs = _specs(data["inputs"], "inputs")
        if not inputs:
            raise _bad_record("it lists no input column")
        return cls(inputs, _specs(data["outputs"], "outputs"))

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def check(self, data: Any) -> None:
        """Check that ``data`` holds every input column with a compatible type.

        Raises:
            ModelError: a missing column or a wrong type (code ``model-signature``), or
                data of a kind no signature reads (code ``model-input``).
        """
        self.conform(data)

    def conform(self, data: Any) -> pa.Table:
        """``data`` checked, as a table of the input columns in order, types widened.

        Raises:
            ModelError: see `check`.
        """
        import pyarrow as pa

        table = to_table(data, names=self.input_names)
        missing = [c.name for c in self.inputs if c.name not in table.column_names]
        wrong = []
        columns = []
        for spec in self.inputs:
            if spec.name in missing:
                continue
            column = table.column(spec.name)
            got = type_name(column.type)
            if not _compatible(spec.type, got):
                wrong.append(f"{spec.name} (expected {spec.type}, got {got})")
                continue
            target = _arrow_type(spec.type)
            if got != spec.type and target is not None:
                column = column.cast(target)
            columns.append(column)
        if missing or wrong:
            parts = []
            if missing:
                parts.append("missing column(s) " + ", ".join(missing))
            if wrong:
                parts.append("wrong type(s) " + "; ".join(wrong))
            expected = ", ".join(f"{c.name}: {c.type}" for c in self.inputs)
            raise ModelError(
                f"the input does not match the model's signature: {'; '.join(parts)}",
                code="model-signature",
                hint=f"give the columns the model was saved with ({expected})",
            )
        return pa.table(columns, names=self.input_names)


def _compatible(expected: str, got: str) -> bool:
    if expected == got or got == "null":
        return True
    if expected in _INTEGERS:
        return got in _INTEGERS
    if expected in _FLOATS:
        return got in _INTEGERS or got in _FLOATS
    return False


def _arrow_type(name: str) -> pa.DataType | None:
    import pyarrow as pa

    if name in _INTEGERS or name in _FLOATS or name in ("bool", "string"):
        return pa.type_for_alias(name)
    return None


def type_name(arrow_type: pa.DataType) -> str:
    """The short name of an Arrow type (``double`` is ``float64``, any text ``string``)."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_dictionary(t):
        return "category"
    if pa.types.is_boolean(t):
        return "bool"
    text = str(t)
    return _ARROW_NAMES.get(text, text)


def _input_error(what: str) -> ModelError:
    return ModelError(
        f"model input must be a DataFrame (pandas or polars), a pyarrow Table, a dict of "
        f"lists, a list of row dicts or a 2-D numpy array; got {what}",
        code="model-input",
        hint="wrap the values in one of these, e.g. pandas.DataFrame(rows)",
    )


def to_table(data: Any, *, names: Sequence[str] | None = None) -> pa.Table:
    """``data`` as an Arrow table (the one form signatures read).

    A 2-D numpy array's columns are named ``0..n-1``, or ``names`` when it has exactly
    that many columns (a positional match).

    Raises:
        ModelError: data of another kind, or that cannot be read as columns
            (code ``model-input``).
    """
    import numpy as np
    import pyarrow as pa

    try:
        if isinstance(data, pa.Table):
            return data
        if isinstance(data, pa.RecordBatch):
            return pa.Table.from_batches([data])
        if isinstance(data, np.ndarray):
            if data.ndim != 2:
                raise _input_error(f"a numpy array with {data.ndim} dimension(s)")
            width = data.shape[1]
            labels = (
                list(names) if names and len(names) == width else [str(i) for i in range(width)]
            )
            return pa.table([pa.array(data[:, i]) for i in range(width)], names=labels)
        if isinstance(data, Mapping):
            return pa.table({str(k): v for k, v in data.items()})
        if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
            return pa.Table.from_pylist(data)
        module = type(data).__module__.partition(".")[0]
        if module == "pandas" and type(data).__name__ == "DataFrame":
            frame = data.rename(columns=str)
            return pa.Table.from_pandas(frame, preserve_index=False)
        if module == "polars" and type(data).__name__ == "DataFrame":
            return data.to_arrow()
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise ModelError(
            f"model input cannot be read as columns: {type(exc).__name__}: {exc}",
            code="model-input",
            hint="give every column one type (no mixed text and numbers) and equal lengths",
        ) from exc
    raise _input_error(f"a {type(data).__module__}.{type(data).__qualname__}")


def output_specs(output: Any) -> tuple[ColumnSpec, ...]:
    """The output columns of a prediction: ``prediction``, or ``prediction_0..`` for 2-D.

    Raises:
        ModelError: a prediction of another shape (code ``model-example``).
    """
    import numpy as np
    import pyarrow as pa

    array = np.asarray(output)
    try:
        if array.ndim == 1:
            return (ColumnSpec("prediction", type_name(pa.array(array).type)),)
        if array.ndim == 2:
            return tuple(
                ColumnSpec(f"prediction_{i}", type_name(pa.array(array[:, i]).type))
                for i in range(array.shape[1])
            )
    except pa.ArrowException as exc:
        raise ModelError(
            f"the model's prediction cannot be typed: {exc}",
            code="model-example",
            hint="a prediction is a 1-D or 2-D array of numbers, text or booleans",
        ) from exc
    raise ModelError(
        f"the model's prediction on its example has {array.ndim} dimension(s); expected 1 or 2",
        code="model-example",
        hint="a prediction is one value per row, or one row of values per row",
    )


def input_specs(table: pa.Table) -> tuple[ColumnSpec, ...]:
    """The input columns of an example table.

    Raises:
        ModelError: an empty example, or one with duplicate names (code ``model-example``).
    """
    if table.num_rows == 0 or table.num_columns == 0:
        raise ModelError(
            f"the example has {table.num_rows} row(s) and {table.num_columns} column(s); "
            "a signature needs at least one of each",
            code="model-example",
            hint="pass a few real rows of the model's input as example=",
        )
    if len(set(table.column_names)) != table.num_columns:
        raise ModelError(
            f"the example names a column twice: {table.column_names}",
            code="model-example",
            hint="give every input column its own name",
        )
    return tuple(
        ColumnSpec(n, type_name(t))
        for n, t in zip(table.column_names, table.schema.types, strict=True)
    )


def infer_signature(example: Any, output: Any) -> Signature:
    """The signature of a model that gives ``output`` for the input ``example``.

    Raises:
        ModelError: an example of a kind no signature reads (``model-input``), an empty
            one or a prediction of another shape (``model-example``).
    """
    return Signature(input_specs(to_table(example)), output_specs(output))


def as_numpy(column: Any) -> np.ndarray:
    """An Arrow column as a numpy array (nulls become NaN or None)."""
    return column.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
