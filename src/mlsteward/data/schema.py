"""Data schemas: inferred from a profile, written as a TOML file people review and edit.

A `Schema` says, per column, what a batch of the data should look like: its type, how
many nulls it may have, the range of its numbers, the values of a categorical column, and
whether it is an identifier (skipped by range checks and drift). `infer_schema` derives
one from a `Profile`; `Schema.to_toml` writes it for review and `Schema.from_toml` reads
it back strictly. `mlsteward.data.validate` checks batches against it. The file format
and the reasoning behind each default are in docs/schema.md.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsteward.errors import UsageError

if TYPE_CHECKING:
    from mlsteward.data.columns import ColumnProfile
    from mlsteward.data.profile import Profile

__all__ = [
    "FORMAT",
    "ROLES",
    "TYPES",
    "ColumnSchema",
    "Schema",
    "infer_schema",
    "load_schema",
    "read_schema",
    "save_schema",
    "type_of_kind",
    "write_schema",
]

FORMAT = "steward-schema/1"
TYPES = ("int", "float", "bool", "string", "datetime", "mixed", "other", "null")
ROLES = ("feature", "id")
RANGE_TYPES = ("int", "float", "datetime")
DOMAIN_TYPES = ("string", "mixed")

_KINDS = {"boolean": "bool"}  # profile kinds that are spelled differently in a schema
_EPOCH = datetime(1970, 1, 1)
_FENCE = 0.01  # the central quantiles that fence a sketch's estimate of the extreme ones
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_COLUMN_KEYS = (
    "type",
    "arrow_type",
    "role",
    "nullable",
    "max_null_rate",
    "range",
    "domain",
    "domain_complete",
)
_TOP_KEYS = ("format", "rows", "source", "columns")


def type_of_kind(kind: str) -> str:
    """The schema type of a profile column kind (``boolean`` is ``bool``)."""
    return _KINDS.get(kind, kind)


@dataclass(frozen=True)
class ColumnSchema:
    """What one column should look like.

    Attributes:
        name: the column's name (duplicates in the data are ``a``, ``a#2``...).
        type: int, float, bool, string, datetime; mixed (several types, compared as
            strings), other (lists, structs, binary) or null (only nulls seen: any type).
        arrow_type: the Arrow type seen, for the reader; a change is only a warning.
        role: ``feature``, or ``id`` for identifiers (no range or domain, skipped by drift).
        nullable: whether nulls (and NaN) may appear at all.
        max_null_rate: the largest share of null or NaN rows tolerated.
        range: ``(low, high)`` for numbers (datetimes in microseconds since the epoch).
        domain: the values of a categorical column.
        domain_complete: the domain lists every value; otherwise values outside it are
            only reported, never counted as errors.
    """

    name: str
    type: str
    arrow_type: str = ""
    role: str = "feature"
    nullable: bool = True
    max_null_rate: float = 1.0
    range: tuple[float, float] | None = None
    domain: tuple[str, ...] | None = None
    domain_complete: bool = True

    @property
    def is_id(self) -> bool:
        return self.role == "id"


@dataclass(frozen=True)
class Schema:
    """The expected shape of a table: one `ColumnSchema` per column, in column order."""

    columns: dict[str, ColumnSchema]
    rows: int = 0
    source: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        return f"Schema(rows={self.rows}, columns={list(self.columns)})"

    def to_toml(self) -> str:
        """The reviewable TOML text (docs/schema.md); `from_toml` reads it back."""
        return _to_toml(self)

    @classmethod
    def from_toml(cls, text: str, *, origin: str = "schema") -> Schema:
        """Read a schema file's text, strictly.

        Raises:
            UsageError: not TOML, unknown or missing keys, wrong types, bad ranges
                (``schema-invalid``; the message names the key and, when found, the line).
        """
        return _from_toml(text, origin)


# -- inference ------------------------------------------------------------------------------


def infer_schema(
    profile: Profile,
    *,
    domain_max: int = 100,
    domain_share: float = 0.01,
    quantile_range: tuple[float, float] = (0.001, 0.999),
    range_margin: float = 0.1,
    null_margin: float = 0.01,
    id_ratio: float = 0.9,
    source: str = "",
) -> Schema:
    """Infer a schema from a profile.

    Args:
        profile: the profile of the reference data (a training set).
        domain_max: a string column with at most this many distinct values gets a domain...
        domain_share: ...and so does one whose distinct values are at most this share of
            its non-null rows (only when the profile knows every value exactly).
        quantile_range: the quantiles the numeric range starts from (not the raw min/max,
            whose extremes are not stable from one sample to the next).
        range_margin: each end is moved out by this share of the quantile range.
        null_margin: the null rate tolerated is ``max(2 * observed, observed + margin)``.
        id_ratio: a string column with distinct / non-null rows above this is an id; an
            integer column too when its values are also nearly consecutive.
        source: what was profiled, for the file's header.

    Raises:
        UsageError: settings out of range (``schema-settings``).
    """
    lo_q, hi_q = quantile_range
    if not (
        domain_max >= 0
        and 0.0 <= domain_share <= 1.0
        and 0.0 <= lo_q < hi_q <= 1.0
        and range_margin >= 0.0
        and 0.0 <= null_margin <= 1.0
        and 0.0 < id_ratio <= 1.0
    ):
        raise UsageError(
            f"infer_schema settings out of range: domain_max={domain_max}, "
            f"domain_share={domain_share}, quantile_range={quantile_range}, "
            f"range_margin={range_margin}, null_margin={null_margin}, id_ratio={id_ratio}",
            code="schema-settings",
            hint="domain_max >= 0; 0 <= domain_share, null_margin <= 1; "
            "0 <= low < high <= 1 quantiles; range_margin >= 0; 0 < id_ratio <= 1",
        )
    columns = {
        name: _infer_column(
            col,
            domain_max=domain_max,
            domain_share=domain_share,
            quantile_range=quantile_range,
            range_margin=range_margin,
            null_margin=null_margin,
            id_ratio=id_ratio,
        )
        for name, col in profile.columns.items()
    }
    return Schema(columns, rows=profile.rows, source=source, notes=profile.notes)


def _infer_column(
    col: ColumnProfile,
    *,
    domain_max: int,
    domain_share: float,
    quantile_range: tuple[float, float],
    range_margin: float,
    null_margin: float,
    id_ratio: float,
) -> ColumnSchema:
    typ = type_of_kind(col.kind)
    missing = col.nulls + col.nan
    rate = missing / col.count if col.count else 0.0
    nullable = missing > 0
    max_rate = min(1.0, max(2.0 * rate, rate + null_margin)) if nullable else 0.0
    base = ColumnSchema(
        col.name,
        typ,
        arrow_type=col.arrow_type,
        nullable=nullable,
        max_null_rate=_round_up(max_rate),
    )
    valid = col.count - missing
    if _is_id(col, typ, valid, id_ratio):
        return _replace(base, role="id")
    if typ in ("int", "float") and col.kll is not None and not col.kll.is_empty():
        return _replace(base, range=_infer_range(col, typ, quantile_range, range_margin))
    if typ in DOMAIN_TYPES and col.items is not None and not col.items.is_empty():
        values = _exact_values(col)
        if values is not None and (
            len(values) <= domain_max or len(values) <= domain_share * valid
        ):
            return _replace(base, domain=tuple(sorted(values)), domain_complete=True)
    return base


def _replace(c: ColumnSchema, **changes: Any) -> ColumnSchema:
    from dataclasses import replace

    return replace(c, **changes)


def _is_id(col: ColumnProfile, typ: str, valid: int, id_ratio: float) -> bool:
    if valid < 20:
        return False
    distinct = col.distinct
    if distinct / valid <= id_ratio:
        return False
    if typ == "string":
        return True
    if typ == "int" and col.min is not None and col.max is not None:
        # an auto-increment key: nearly all distinct and nearly consecutive (as drift does)
        return col.max - col.min + 1 <= 1.1 * valid
    return False


def _exact_values(col: ColumnProfile) -> dict[str, int] | None:
    """Every value with its count, when the frequent-items sketch has seen them all."""
    import datasketches as ds

    found = col.items.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    if any(int(est) != int(lo) for _, est, lo, _ in found):
        return None  # the sketch purged: counts are estimates and some values are missing
    return {str(v): int(est) for v, est, _, _ in found}


def _infer_range(
    col: ColumnProfile, typ: str, quantile_range: tuple[float, float], margin: float
) -> tuple[float, float]:
    lo, hi = col.quantile(quantile_range[0]), col.quantile(quantile_range[1])
    if col.kll.is_estimation_mode():
        # A compacted KLL sketch keeps the largest value with a weight of several rows, so
        # its 0.1% quantile can be that one wild value (13 of 200 runs on 4,000 rows with
        # a single 1e6 among N(50, 5)). Its 1% / 99% quantiles are steady: fence the tails
        # at half the central width beyond them, as a Tukey fence does (loose enough for
        # an exponential's 0.1% tail, and for a lognormal's once the margin is added).
        a, b = col.quantile(_FENCE), col.quantile(1.0 - _FENCE)
        lo, hi = max(lo, a - 0.5 * (b - a)), min(hi, b + 0.5 * (b - a))
    pad = margin * (hi - lo)
    low, high = lo - pad, hi + pad
    if col.min is not None and col.min >= 0 and low < 0:
        low = 0.0  # a column never negative stays so (Deequ's NonNegativeNumbers)
    if typ == "int":
        return float(math.floor(low)), float(math.ceil(high))
    return _round_out(low, high)


def _round_out(low: float, high: float) -> tuple[float, float]:
    """Round outwards to about four significant digits of the width, for people to read."""
    width = high - low
    scale = max(abs(low), abs(high), width)
    if not math.isfinite(scale) or scale == 0.0:
        return low, high
    step = 10.0 ** (math.floor(math.log10(width if width > 0 else scale)) - 3)
    digits = max(0, -math.floor(math.log10(step)))
    return (
        round(math.floor(low / step) * step, digits),
        round(math.ceil(high / step) * step, digits),
    )


def _round_up(rate: float) -> float:
    return min(1.0, math.ceil(rate * 10_000) / 10_000)


# -- TOML out -------------------------------------------------------------------------------


def _key(name: str) -> str:
    return name if _BARE.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{ord(ch) & 0xFFFF:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(x: float, typ: str) -> str:
    if typ == "datetime":
        return (_EPOCH + timedelta(microseconds=x)).isoformat()
    if typ == "int" and x.is_integer() and abs(x) < 2**63:
        return str(int(x))
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(float(x))
    return text


def _to_toml(schema: Schema) -> str:
    from mlsteward import __version__

    rows = f"{schema.rows:,} rows"
    of = f" of {schema.source}" if schema.source else ""
    lines = [
        f"# Data schema, inferred by mlsteward {__version__} from a profile of {rows}{of}.",
        "# Review it and edit it: tighten or widen a range, complete a domain, mark an id",
        '# (role = "id"). `steward data validate DATA --schema FILE` checks batches',
        "# against it. Format and inference rules: docs/schema.md.",
        f'format = "{FORMAT}"',
        f"rows = {schema.rows}",
    ]
    if schema.source:
        lines.append(f"source = {_string(schema.source)}")
    for col in schema.columns.values():
        lines += ["", f"[columns.{_key(col.name)}]", f"type = {_string(col.type)}"]
        if col.arrow_type:
            lines.append(f"arrow_type = {_string(col.arrow_type)}")
        if col.role != "feature":
            lines.append(f"role = {_string(col.role)}")
        lines.append(f"nullable = {'true' if col.nullable else 'false'}")
        if col.nullable:
            lines.append(f"max_null_rate = {_number(col.max_null_rate, 'float')}")
        if col.range is not None:
            lo, hi = (_number(v, col.type) for v in col.range)
            lines.append(f"range = [{lo}, {hi}]")
        if col.domain is not None:
            lines.append(f"domain_complete = {'true' if col.domain_complete else 'false'}")
            lines.append("domain = [")
            lines += [f"    {_string(v)}," for v in col.domain]
            lines.append("]")
    return "\n".join(lines) + "\n"


# -- TOML in --------------------------------------------------------------------------------


def _invalid(origin: str, message: str, line: int | None = None) -> UsageError:
    where = f"{origin}, line {line}" if line else origin
    return UsageError(
        f"{where}: {message}",
        code="schema-invalid",
        hint="fix the file by hand (docs/schema.md describes every key), or infer it "
        "again with `steward data infer-schema`",
    )


def _line_of(text: str, column: str | None, key: str | None) -> int | None:
    """Best effort: the line of ``key`` (in ``[columns.<column>]`` when given)."""
    lines = text.splitlines()
    start = 0
    if column is not None:
        header = re.compile(
            r"\s*\[\s*columns\s*\.\s*("
            + re.escape(_key(column))
            + "|"
            + re.escape(column)
            + r")\s*\]"
        )
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
        else:
            return None
        if key is None:
            return start + 1
    if key is None:
        return None
    pattern = re.compile(r"\s*(" + re.escape(key) + "|" + re.escape(_string(key)) + r")\s*=")
    for i in range(start, len(lines)):
        if i > start and column is not None and lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return None


def _from_toml(text: str, origin: str) -> Schema:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _invalid(origin, f"not valid TOML: {exc}") from exc
    for key in doc:
        if key not in _TOP_KEYS:
            raise _invalid(
                origin,
                f"unknown key {key!r} (expected {', '.join(_TOP_KEYS)})",
                _line_of(text, None, key),
            )
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise _invalid(
            origin,
            f"format is {fmt!r}, expected {FORMAT!r}",
            _line_of(text, None, "format"),
        )
    rows = doc.get("rows", 0)
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise _invalid(origin, f"rows must be a whole number >= 0, got {rows!r}")
    source = doc.get("source", "")
    if not isinstance(source, str):
        raise _invalid(origin, f"source must be a string, got {source!r}")
    table = doc.get("columns", {})
    if not isinstance(table, dict):
        raise _invalid(origin, "columns must be a table of [columns.NAME] tables")
    columns = {}
    for name, spec in table.items():
        if not isinstance(spec, dict):
            raise _invalid(origin, f"columns.{name} must be a table", _line_of(text, None, name))
        columns[name] = _column_from(name, spec, text, origin)
    return Schema(columns, rows=rows, source=source)


def _column_from(name: str, spec: Mapping[str, Any], text: str, origin: str) -> ColumnSchema:
    def bad(key: str | None, message: str) -> UsageError:
        return _invalid(origin, f"column {name!r}: {message}", _line_of(text, name, key))

    for key in spec:
        if key not in _COLUMN_KEYS:
            raise bad(key, f"unknown key {key!r} (expected {', '.join(_COLUMN_KEYS)})")
    if "type" not in spec:
        raise bad(None, "has no type")
    typ = spec["type"]
    if typ not in TYPES:
        raise bad("type", f"type {typ!r} is not one of {', '.join(TYPES)}")
    arrow_type = spec.get("arrow_type", "")
    if not isinstance(arrow_type, str):
        raise bad("arrow_type", f"arrow_type must be a string, got {arrow_type!r}")
    role = spec.get("role", "feature")
    if role not in ROLES:
        raise bad("role", f"role {role!r} is not one of {', '.join(ROLES)}")
    nullable = spec.get("nullable", True)
    if not isinstance(nullable, bool):
        raise bad("nullable", f"nullable must be true or false, got {nullable!r}")
    default_rate = 1.0 if nullable else 0.0
    rate = spec.get("max_null_rate", default_rate)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise bad("max_null_rate", f"max_null_rate must be a number in [0, 1], got {rate!r}")
    if not nullable and rate != 0:
        raise bad("max_null_rate", "a column with nullable = false cannot have max_null_rate > 0")
    rng = None
    if "range" in spec:
        rng = _range_from(spec["range"], typ, lambda m: bad("range", m))
    domain = None
    complete = spec.get("domain_complete", True)
    if not isinstance(complete, bool):
        raise bad("domain_complete", f"domain_complete must be true or false, got {complete!r}")
    if "domain" in spec:
        values = spec["domain"]
        if typ not in DOMAIN_TYPES:
            raise bad("domain", f"a {typ} column has no domain (only {', '.join(DOMAIN_TYPES)})")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise bad("domain", "domain must be a list of strings")
        if len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            raise bad("domain", f"domain lists {dup!r} twice")
        domain = tuple(values)
    elif "domain_complete" in spec:
        raise bad("domain_complete", "domain_complete without a domain")
    if role == "id" and (rng is not None or domain is not None):
        raise bad("role", "an id column has no range or domain (they are never checked)")
    return ColumnSchema(
        name,
        typ,
        arrow_type=arrow_type,
        role=role,
        nullable=nullable,
        max_null_rate=float(rate),
        range=rng,
        domain=domain,
        domain_complete=complete,
    )


def _range_from(value: Any, typ: str, bad: Any) -> tuple[float, float]:
    if typ not in RANGE_TYPES:
        raise bad(f"a {typ} column has no range (only {', '.join(RANGE_TYPES)})")
    if not isinstance(value, list) or len(value) != 2:
        raise bad(f"range must be [low, high], got {value!r}")
    out = []
    for v in value:
        if typ == "datetime":
            if not isinstance(v, datetime | date):
                raise bad(f"a datetime range takes TOML datetimes (2024-01-31T00:00:00), got {v!r}")
            out.append(_micros(v))
        elif isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
            raise bad(f"range bounds must be numbers, got {v!r}")
        else:
            out.append(float(v))
    low, high = out
    if low > high:
        raise bad(f"range low {value[0]!r} is above high {value[1]!r}")
    return low, high


def _micros(v: datetime | date) -> float:
    if not isinstance(v, datetime):
        v = datetime(v.year, v.month, v.day)
    if v.tzinfo is not None:
        v = v.astimezone(UTC).replace(tzinfo=None)
    return (v - _EPOCH) / timedelta(microseconds=1)


# -- files and the store --------------------------------------------------------------------


def read_schema(path: str | Path) -> Schema:
    """Read a schema file.

    Raises:
        UsageError: the file is missing or unreadable (``schema-missing``) or invalid
            (``schema-invalid``).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read schema file {p}: {exc.__class__.__name__}: {exc}",
            code="schema-missing",
            hint="give the path of a schema written by `steward data infer-schema -o FILE`",
        ) from exc
    return Schema.from_toml(text, origin=str(p))


def write_schema(schema: Schema, path: str | Path) -> None:
    """Write the schema's TOML to ``path`` atomically (readers see the old or the new file)."""
    from mlsteward._internal.atomic import write_text_atomic

    write_text_atomic(Path(path), schema.to_toml())


def save_schema(project: Any, dataset_ref: str, schema: Schema) -> Any:
    """Store ``schema`` as the schema of dataset version ``dataset_ref``.

    The TOML goes to the object store; an artifact of kind ``schema`` is recorded and set
    as the version's schema, with a ``dataset.schema`` event, in one transaction.
    Returns the artifact row.
    """
    from mlsteward.data.datasets import attach

    data = schema.to_toml().encode("utf-8")
    facts = {"columns": len(schema.columns)}
    return attach(project, dataset_ref, "schema", data, "schema.toml", facts)


def load_schema(project: Any, dataset_ref: str) -> Schema | None:
    """The stored schema of dataset version ``dataset_ref``, or None if it has none.

    Raises:
        NotFoundError: no such dataset version.
        UsageError: the stored text is not a valid schema (``schema-invalid``).
    """
    from mlsteward.data.datasets import attached

    version, data = attached(project, dataset_ref, "schema")
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"stored schema of {version.ref}", "not UTF-8 text") from exc
    return Schema.from_toml(text, origin=f"stored schema of {version.ref}")
