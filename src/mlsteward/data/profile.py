"""Mergeable data profiles: build, merge, serialise, store as artifacts of a dataset version.

A `Profile` holds one `ColumnProfile` per column (see `mlsteward.data.columns`). It is
built batch by batch: each batch becomes a profile and the batches are merged, which is
also how the Dask path (`mlsteward.data.distributed`) combines partitions, so both give
the same counts and moments. The byte format is documented in docs/profiles.md.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import reduce
from typing import Any

import datasketches as ds

from mlsteward.data.columns import (
    CATEGORICAL_KINDS,
    ColumnProfile,
    ColumnSpec,
    Histogram,
    HyperLogLog,
    Moments,
    Settings,
    column_from_array,
    merge_columns,
)
from mlsteward.data.readers import Batch, iter_batches, unique_names
from mlsteward.errors import StewardError, UsageError

__all__ = [
    "FORMAT",
    "ColumnProfile",
    "Histogram",
    "Profile",
    "Settings",
    "load_profile",
    "merge",
    "merge_all",
    "merge_profiles",
    "profile",
    "profile_batches",
    "profile_data",
    "save_profile",
    "specs_from",
]

FORMAT = "steward-profile/1"
_MAGIC = FORMAT.encode() + b"\n"
_HEAD = struct.Struct(">II")  # crc32 of everything after the head, length of the JSON


@dataclass(frozen=True, eq=False)
class Profile:
    """A profile of a table: its row count and a state per column, in column order."""

    rows: int
    columns: dict[str, ColumnProfile]
    settings: Settings = field(default_factory=Settings)
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Profile(rows={self.rows}, columns={list(self.columns)})"

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # sketches do not pickle; a profile travels (to Dask workers) as its own bytes
        return (Profile.from_bytes, (self.to_bytes(),))

    def merge(self, other: Profile) -> Profile:
        """See `merge`."""
        return merge(self, other)

    def to_bytes(self) -> bytes:
        """The compact byte form (docs/profiles.md); `from_bytes` reads it back."""
        blobs = bytearray()

        def put(data: bytes) -> list[int]:
            start = len(blobs)
            blobs.extend(data)
            return [start, len(data)]

        cols = []
        for c in self.columns.values():
            m = c.moments
            doc: dict[str, Any] = {
                "name": c.name,
                "kind": c.kind,
                "types": list(c.types),
                "count": c.count,
                "nulls": c.nulls,
                "nan": c.nan,
                "posinf": c.posinf,
                "neginf": c.neginf,
                "moments": [m.n, m.mean, m.m2, m.min, m.max],
                "samples": list(c.samples),
                "kll": put(c.kll.serialize()) if c.kll is not None else None,
                "hll": put(c.hll.serialize()) if c.hll is not None else None,
                "items": put(c.items.serialize()) if c.items is not None else None,
                "frozen": None if c.frozen is None else _hist_doc(c.frozen),
            }
            cols.append(doc)
        meta = {
            "format": FORMAT,
            "rows": self.rows,
            "settings": asdict(self.settings),
            "notes": list(self.notes),
            "columns": cols,
        }
        text = json.dumps(meta, separators=(",", ":"), ensure_ascii=False)
        body = text.encode() + bytes(blobs)
        return _MAGIC + _HEAD.pack(zlib.crc32(body), len(text.encode())) + body

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Read `to_bytes` output back; never unpickles.

        Raises:
            StewardError: not a profile, another format version, truncated or damaged
                (``profile-corrupt``).
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise _corrupt(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
        if not data.startswith(_MAGIC):
            if data.startswith(b"steward-profile/"):
                tag = data.split(b"\n", 1)[0].decode("ascii", "replace")
                raise _corrupt(f"format {tag!r}; this version reads {FORMAT!r}")
            raise _corrupt("it does not start with the steward-profile header")
        rest = data[len(_MAGIC) :]
        if len(rest) < _HEAD.size:
            raise _corrupt("it is truncated")
        crc, size = _HEAD.unpack_from(rest)
        body = rest[_HEAD.size :]
        if zlib.crc32(body) != crc or size > len(body):
            raise _corrupt("its checksum does not match (truncated or damaged)")
        try:
            meta = json.loads(body[:size].decode())
            return _from_doc(meta, memoryview(body)[size:])
        except StewardError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, RuntimeError, AttributeError) as exc:
            raise _corrupt(f"its content is malformed ({type(exc).__name__})") from exc


def _hist_doc(h: Histogram) -> dict[str, Any]:
    return {
        "counts": list(h.counts),
        "edges": None if h.edges is None else list(h.edges),
        "categories": None if h.categories is None else list(h.categories),
    }


def _corrupt(why: str) -> StewardError:
    return StewardError(
        f"not a readable mlsteward profile: {why}",
        code="profile-corrupt",
        hint="make the profile again with `profile()` / `save_profile()`; files from other "
        "tools or newer mlsteward versions cannot be read",
    )


def _from_doc(meta: Any, blobs: memoryview) -> Profile:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _corrupt("the header names another format")
    settings = Settings(**meta["settings"])

    def get(where: Any, cls: Any) -> Any:
        if where is None:
            return None
        start, length = (int(x) for x in where)
        if start < 0 or length < 0 or start + length > len(blobs):
            raise _corrupt("a sketch lies outside the file")
        return cls.deserialize(bytes(blobs[start : start + length]))

    columns: dict[str, ColumnProfile] = {}
    for doc in meta["columns"]:
        n, mean, m2, lo, hi = doc["moments"]
        frozen = doc["frozen"]
        columns[str(doc["name"])] = ColumnProfile(
            name=str(doc["name"]),
            kind=str(doc["kind"]),
            types=tuple(str(t) for t in doc["types"]),
            count=int(doc["count"]),
            nulls=int(doc["nulls"]),
            nan=int(doc["nan"]),
            posinf=int(doc["posinf"]),
            neginf=int(doc["neginf"]),
            moments=Moments(
                int(n),
                float(mean),
                float(m2),
                None if lo is None else float(lo),
                None if hi is None else float(hi),
            ),
            kll=get(doc["kll"], ds.kll_doubles_sketch),
            hll=get(doc["hll"], HyperLogLog),
            items=get(doc["items"], ds.frequent_strings_sketch),
            frozen=None
            if frozen is None
            else Histogram(
                tuple(int(x) for x in frozen["counts"]),
                None if frozen["edges"] is None else tuple(float(e) for e in frozen["edges"]),
                None if frozen["categories"] is None else tuple(map(str, frozen["categories"])),
            ),
            samples=tuple(str(s) for s in doc["samples"]),
            settings=settings,
        )
    return Profile(int(meta["rows"]), columns, settings, tuple(map(str, meta["notes"])))


# -- building -------------------------------------------------------------------------------


def specs_from(reference: Profile | None, bins: int) -> dict[str, ColumnSpec]:
    """The frozen bins of each column of ``reference``: its histogram edges, its top values."""
    if reference is None:
        return {}
    specs: dict[str, ColumnSpec] = {}
    for name, col in reference.columns.items():
        edges = categories = None
        hist = col.frozen
        if hist is not None:
            edges, categories = hist.edges, hist.categories
        else:
            if col.kll is not None and not col.kll.is_empty():
                derived = col.histogram
                edges = derived.edges if derived is not None else None
            if col.kind in CATEGORICAL_KINDS and col.items is not None:
                categories = tuple(v for v, _ in col.frequent(bins)) or None
        if edges is not None or categories is not None:
            specs[name] = ColumnSpec(edges, categories)
    return specs


def profile_batches(
    batches: Iterable[Batch], settings: Settings, specs: Mapping[str, ColumnSpec]
) -> Profile:
    """Profile each batch and merge them (the single-machine and per-partition path)."""
    result: Profile | None = None
    for batch in batches:
        names, notes = unique_names([c.name for c in batch.columns])
        columns = {
            name: column_from_array(name, col.values, settings, specs.get(name), mixed=col.mixed)
            for name, col in zip(names, batch.columns, strict=True)
        }
        part = Profile(batch.rows, columns, settings, tuple(notes))
        result = part if result is None else merge(result, part)
    return result if result is not None else Profile(0, {}, settings)


def profile(
    data: Any,
    *,
    reference: Profile | None = None,
    bins: int = 50,
    k: int = 200,
    sample_values: int = 5,
    project: Any = None,
) -> Profile:
    """Profile ``data`` column by column, in bounded batches.

    Args:
        data: a pandas or polars DataFrame (or polars LazyFrame), a pyarrow Table or
            RecordBatch, a path to a Parquet or CSV file or a directory of them, a dataset
            reference of the project (``"reviews@2"``), or a Dask DataFrame.
        reference: freeze histogram bins from this profile, so both histograms compare.
        bins: histogram bins (numeric) or top categories (categorical).
        k: accuracy of the KLL quantile sketch (rank error about 1.3% at 200).
        sample_values: example values kept per column.
        project: the project a dataset reference belongs to (default: the current one).

    Raises:
        UsageError: unreadable or unsupported input (``profile-input``), bad settings.
    """
    if bins < 1 or k < 8 or sample_values < 0:
        raise UsageError(
            f"bins={bins}, k={k}, sample_values={sample_values} are out of range",
            code="profile-input",
            hint="bins >= 1, k >= 8 (KLL's minimum), sample_values >= 0",
        )
    settings = Settings(bins=bins, k=k, sample_values=sample_values)
    if type(data).__module__.startswith("dask"):
        from mlsteward.data.distributed import profile_dask

        return profile_dask(data, reference=reference, bins=bins, k=k, sample_values=sample_values)
    return profile_batches(
        iter_batches(data, project=project), settings, specs_from(reference, bins)
    )


def merge(a: Profile, b: Profile) -> Profile:
    """Combine two profiles of parts of one table; exact for counts and moments.

    Columns present on one side only are kept with their own counts.

    Raises:
        UsageError: different settings, or histograms on different bins (``profile-mismatch``).
    """
    if a.settings != b.settings:
        raise UsageError(
            f"the profiles were made with different settings ({a.settings} vs {b.settings})",
            code="profile-mismatch",
            hint="profile every part with the same bins, k and sample_values",
        )
    columns = dict(a.columns)
    for name, col in b.columns.items():
        columns[name] = merge_columns(columns[name], col) if name in columns else col
    notes = tuple(dict.fromkeys(a.notes + b.notes))
    return Profile(a.rows + b.rows, columns, a.settings, notes)


def merge_all(profiles: Iterable[Profile]) -> Profile:
    """Merge many profiles in order."""
    return reduce(merge, profiles)


# the package exports these names: ``mlsteward.data.profile`` is this module's own name
profile_data = profile
merge_profiles = merge


# -- stored profiles ------------------------------------------------------------------------


def save_profile(
    project: Any, dataset_ref: str, prof: Profile | None = None, **options: Any
) -> Any:
    """Profile dataset version ``dataset_ref`` (unless ``prof`` is given) and store it.

    The bytes go to the object store; an artifact of kind ``profile`` is recorded and set
    as the version's profile, with a ``dataset.profile`` event, in one transaction.
    Returns the artifact row.
    """
    from mlsteward.data.datasets import attach, get_version

    if prof is None:
        prof = profile(get_version(project, dataset_ref).ref, project=project, **options)
    return attach(project, dataset_ref, "profile", prof.to_bytes(), "profile", {"rows": prof.rows})


def load_profile(project: Any, dataset_ref: str) -> Profile | None:
    """The stored profile of dataset version ``dataset_ref``, or None if it has none.

    Raises:
        NotFoundError: no such dataset version.
        StewardError: the stored bytes are not a profile (``profile-corrupt``).
    """
    from mlsteward.data.datasets import attached

    _, data = attached(project, dataset_ref, "profile")
    return None if data is None else Profile.from_bytes(data)
