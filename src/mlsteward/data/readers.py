"""Inputs of a profile, turned into bounded batches of named Arrow columns.

Frames and tables already in memory are sliced (zero-copy) into batches; Parquet and CSV
files are streamed batch by batch, so a file larger than memory can be profiled; a
dataset version of the project is copied out of the object store into a temporary
directory first. Every failure to read becomes a ``profile-input`` error.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from mlsteward.errors import StewardError, UsageError

__all__ = ["BATCH_ROWS", "Batch", "Column", "iter_batches", "unique_names"]

BATCH_ROWS = 1 << 20
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(@[0-9]+)?")
#: a missing "data.csv" is a missing file, not a dataset named "data.csv"
_FILE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".json", ".jsonl", ".txt", ".gz", ".zip")
_SUFFIXES = (".parquet", ".pq", ".csv")


@dataclass(frozen=True)
class Column:
    name: str
    values: pa.Array | pa.ChunkedArray
    mixed: str | None = None  # the types of a column that holds several (pandas object)


@dataclass(frozen=True)
class Batch:
    rows: int
    columns: list[Column]


def input_error(message: str, hint: str) -> UsageError:
    return UsageError(message, code="profile-input", hint=hint)


def unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Disambiguate repeated column names: ``a``, ``a#2``...; and say what was renamed."""
    seen: dict[str, int] = {}
    out: list[str] = []
    notes: list[str] = []
    taken = set(names)
    for name in names:
        if name not in seen:
            seen[name] = 1
            out.append(name)
            continue
        n = seen[name]
        while True:
            n += 1
            new = f"{name}#{n}"
            if new not in taken:
                break
        seen[name] = n
        taken.add(new)
        out.append(new)
        notes.append(f"duplicate column name {name!r}: this occurrence is profiled as {new!r}")
    return out, notes


def iter_batches(data: Any, *, project: Any = None) -> Iterator[Batch]:
    """Batches of ``data`` (see `mlsteward.data.profile.profile` for what it may be)."""
    module = type(data).__module__
    if isinstance(data, pa.Table | pa.RecordBatch):
        yield from _slices(data.column_names, list(data.columns), data.num_rows)
    elif module.startswith("pandas"):
        yield from _pandas(data)
    elif module.startswith("polars"):
        yield from _polars(data)
    elif isinstance(data, str | Path):
        path = Path(data)
        if path.exists():
            yield from _files(path)
        elif (
            isinstance(data, str)
            and _REF.fullmatch(data)
            and not data.lower().endswith(_FILE_SUFFIXES)
        ):
            yield from _dataset(data, project)
        elif str(data).lower().endswith(_FILE_SUFFIXES):
            raise input_error(
                f"{data} does not exist", "check the path (relative to the working directory)"
            )
        else:
            raise input_error(
                f"{data} is neither a file, a directory nor a dataset reference",
                "give a Parquet or CSV path, a directory of them, or NAME@VERSION",
            )
    else:
        raise input_error(
            f"cannot profile a {type(data).__module__}.{type(data).__qualname__}",
            "give a pandas or polars frame, a pyarrow Table, a Parquet/CSV path, a "
            "dataset reference NAME@VERSION, or a Dask DataFrame",
        )


def _slices(names: list[str], arrays: list[Any], rows: int) -> Iterator[Batch]:
    for start in range(0, max(rows, 1), BATCH_ROWS):
        length = min(BATCH_ROWS, rows - start)
        yield Batch(
            length,
            [Column(n, a.slice(start, length)) for n, a in zip(names, arrays, strict=True)],
        )


def _pandas(df: Any) -> Iterator[Batch]:
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise input_error(f"cannot profile a pandas {type(df).__name__}", "give a DataFrame")
    names = [str(c) for c in df.columns]
    arrays: list[Column] = []
    for i, name in enumerate(names):
        series = df.iloc[:, i]
        mixed = None
        if series.dtype == object:
            inferred = pd.api.types.infer_dtype(series, skipna=True)
            if inferred.startswith("mixed") and inferred != "mixed-integer-float":
                mixed = f"mixed ({inferred})"
        if mixed is None:
            try:
                arrays.append(Column(name, pa.array(series, from_pandas=True)))
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                mixed = f"mixed ({type(exc).__name__})"
        text = series.astype(str).where(series.notna(), None)
        arrays.append(Column(name, pa.array(text, type=pa.large_string()), mixed))
    rows = len(df)
    for start in range(0, max(rows, 1), BATCH_ROWS):
        length = min(BATCH_ROWS, rows - start)
        cols = [Column(c.name, c.values.slice(start, length), c.mixed) for c in arrays]
        yield Batch(length, cols)


def _polars(df: Any) -> Iterator[Batch]:
    import polars as pl

    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    if isinstance(df, pl.Series):
        df = df.to_frame()
    if not isinstance(df, pl.DataFrame):
        raise input_error(f"cannot profile a polars {type(df).__name__}", "give a DataFrame")
    table = df.to_arrow()
    yield from _slices(table.column_names, list(table.columns), table.num_rows)


def _files(path: Path) -> Iterator[Batch]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
        if not files:
            raise input_error(
                f"{path} holds no .parquet or .csv file", "give a directory of Parquet/CSV files"
            )
    else:
        files = [path]
    for file in files:
        yield from _file(file)


def _file(path: Path) -> Iterator[Batch]:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            reader: Any = pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
        elif suffix == ".csv":
            reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 26))
        else:
            raise input_error(
                f"{path} is not a .parquet or .csv file", "convert it to Parquet or CSV"
            )
        empty = True
        for batch in reader:
            empty = False
            yield from _slices(batch.schema.names, list(batch.columns), batch.num_rows)
        if empty and suffix == ".csv":  # a header without rows
            yield Batch(0, [Column(n, pa.nulls(0)) for n in reader.schema.names])
    except StewardError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise input_error(
            f"cannot read {path}: {str(exc).splitlines()[0]}",
            "check that the file is a valid, complete Parquet or CSV file (a CSV column "
            "must keep one type all the way down)",
        ) from exc


def _dataset(ref: str, project: Any) -> Iterator[Batch]:
    from mlsteward.artifacts import open_objects
    from mlsteward.artifacts.trees import read_tree
    from mlsteward.data.datasets import get_version
    from mlsteward.project import Project

    project = project or Project.open()
    version = get_version(project, ref)
    objects = open_objects(project)
    with tempfile.TemporaryDirectory(prefix="steward-profile-") as tmp:
        root = Path(tmp)
        if version.is_tree:
            for entry in read_tree(objects, version.digest):
                if Path(entry.path).suffix.lower() in _SUFFIXES:
                    dest = root / entry.path
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    objects.copy_to(entry.hash, dest)
            yield from _files(root)
        else:
            dest = root / Path(version.path).name
            objects.copy_to(version.digest, dest)
            yield from _file(dest)
