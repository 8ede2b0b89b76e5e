"""Validation: a batch of data checked against a `Schema`, as a report of anomalies.

`validate(data, schema)` profiles the batch and, in the same pass over its Arrow
batches, counts exactly the values outside each column's range and domain. Given only a
`Profile`, those shares are estimated from its sketches (the KLL CDF, the frequent
items) and each anomaly says so. What is checked, and at which severity, is declared in
a frozen `ValidationConfig`; the checks and the reasoning behind the defaults are in
docs/schema.md.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from mlsteward.data.schema import DOMAIN_TYPES, RANGE_TYPES, ColumnSchema, Schema, type_of_kind
from mlsteward.errors import UsageError

if TYPE_CHECKING:
    from mlsteward.data.columns import ColumnProfile
    from mlsteward.data.readers import Batch

__all__ = ["Anomaly", "ValidationConfig", "ValidationReport", "validate", "validate_data"]

SEVERITIES = ("error", "warning", "off")
_UNSEEN_KEPT = 1_000  # distinct out-of-domain values counted one by one; the rest in total


@dataclass(frozen=True)
class ValidationConfig:
    """Which checks run and how severe their findings are (``off`` turns one off).

    Share thresholds are shares of the column's non-null values; a share above the
    ``*_error`` threshold is an error, above ``*_warning`` a warning.
    """

    missing_column: str = "error"
    extra_column: str = "warning"
    type_change: str = "error"
    numeric_widening: str = "warning"  # int <-> float, e.g. pandas turning ints with NaN
    nulls: str = "error"
    null_alpha: float = 0.01  # a rate above the tolerance must also be significant
    range_warning: float = 0.01
    range_error: float = 0.05
    domain_warning: float = 0.01
    domain_error: float = 0.05
    unseen: str = "warning"  # new categories below the domain thresholds
    empty: str = "error"  # a batch without rows
    examples: int = 5

    def __post_init__(self) -> None:
        for name in (
            "missing_column",
            "extra_column",
            "type_change",
            "numeric_widening",
            "nulls",
            "unseen",
            "empty",
        ):
            if getattr(self, name) not in SEVERITIES:
                raise _config_error(f"{name}={getattr(self, name)!r} is not one of {SEVERITIES}")
        shares = (self.range_warning, self.range_error, self.domain_warning, self.domain_error)
        if not all(0.0 <= s <= 1.0 for s in shares) or not (0.0 < self.null_alpha < 1.0):
            raise _config_error("shares must lie in [0, 1] and null_alpha in (0, 1)")
        if self.range_warning > self.range_error or self.domain_warning > self.domain_error:
            raise _config_error("a warning threshold is above its error threshold")
        if self.examples < 0:
            raise _config_error(f"examples={self.examples} is negative")


def _config_error(message: str) -> UsageError:
    return UsageError(
        f"ValidationConfig: {message}",
        code="validate-config",
        hint="severities are error, warning or off; see docs/schema.md for every setting",
    )


@dataclass(frozen=True)
class Anomaly:
    """One finding: where, what kind, how bad, and the numbers behind it.

    ``kind`` is one of empty, missing-column, extra-column, type, nulls, range, domain,
    unseen. ``estimated`` is true when the share comes from a profile's sketches rather
    than from counting the data.
    """

    column: str | None
    kind: str
    severity: str
    message: str
    expected: Any = None
    got: Any = None
    share: float | None = None
    count: int | None = None
    examples: tuple[str, ...] = ()
    estimated: bool = False

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = _json_safe(asdict(self) | {"examples": list(self.examples)})
        return doc


@dataclass(frozen=True)
class ValidationReport:
    """Every anomaly found in one batch; ``ok`` when none is an error."""

    anomalies: tuple[Anomaly, ...]
    rows: int
    columns: int
    exact: bool  # shares counted from the data (true) or estimated from a profile
    config: ValidationConfig = field(default_factory=ValidationConfig)
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.severity == "error"]

    @property
    def warnings(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (no NaN or Infinity: non-finite numbers become null)."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "columns": self.columns,
            "exact": self.exact,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "anomalies": [a.to_dict() for a in self.anomalies],
            "notes": list(self.notes),
            "config": asdict(self.config),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        """A terminal summary: a verdict line, then one line per anomaly."""
        how = "counted in the data" if self.exact else "estimated from a profile"
        verdict = "ok" if self.ok else "FAILED"
        e, w = len(self.errors), len(self.warnings)
        lines = [
            f"{verdict}: {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)} "
            f"({self.rows:,} rows, {self.columns} columns; shares {how})"
        ]
        rows = [(a.severity, a.column or "-", a.kind, a.message) for a in self.anomalies]
        if rows:
            widths = [max(len(r[i]) for r in rows) for i in range(3)]
            for r in rows:
                lines.append(
                    "  ".join(c.ljust(n) for c, n in zip(r[:3], widths, strict=True)) + "  " + r[3]
                )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


# -- exact counts while profiling -----------------------------------------------------------


@dataclass
class _Tally:
    """Exact out-of-range / out-of-domain counts of one column over all batches."""

    valid: int = 0
    outside: int = 0
    examples: dict[str, float] = field(default_factory=dict)  # value -> distance outside
    unseen: Counter[str] = field(default_factory=Counter)


def _counting(
    batches: Iterator[Batch], schema: Schema, tallies: dict[str, _Tally], examples: int
) -> Iterator[Batch]:
    """Pass ``batches`` through unchanged, counting range and domain violations on the way."""
    from mlsteward.data.readers import unique_names

    for batch in batches:
        names, _ = unique_names([c.name for c in batch.columns])
        for name, col in zip(names, batch.columns, strict=True):
            spec = schema.columns.get(name)
            if spec is None or spec.is_id:
                continue
            tally = tallies.setdefault(name, _Tally())
            if spec.range is not None:
                _count_range(col.values, spec.range, spec.type, tally, examples)
            elif spec.domain is not None:
                _count_domain(col.values, spec.domain, tally, examples)
        yield batch


def _numbers(arr: Any) -> Any:
    """Non-null values of a numeric or datetime Arrow array as float64 (datetimes in us)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_dictionary(t):
        arr, t = arr.cast(t.value_type), t.value_type
    if not (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
    ):
        return None
    arr = pc.drop_null(arr)
    if pa.types.is_date(t):
        arr = arr.cast(pa.timestamp("us"))
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp("us", arr.type.tz), safe=False).cast(pa.int64())
    elif not pa.types.is_floating(arr.type):
        arr = arr.cast(pa.float64())
    if isinstance(arr, pa.ChunkedArray):
        return np.asarray(arr.to_numpy(), dtype=np.float64)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _count_range(
    arr: Any, rng: tuple[float, float], typ: str, tally: _Tally, examples: int
) -> None:
    import numpy as np

    v = _numbers(arr)
    if v is None:
        return  # another type: the type check reports it
    v = v[~np.isnan(v)]  # NaN counts as missing; +-inf are values, outside any finite range
    tally.valid += int(v.size)
    bad = v[(v < rng[0]) | (v > rng[1])]
    tally.outside += int(bad.size)
    if bad.size and examples:
        # the values furthest outside say most about what went wrong
        dist = np.maximum(rng[0] - bad, bad - rng[1])
        k = 8 * examples  # a margin for repeated values
        top = np.argpartition(-dist, k - 1)[:k] if bad.size > k else slice(None)
        for x, d in zip(bad[top].tolist(), dist[top].tolist(), strict=True):
            tally.examples[_bound(x, typ)] = d
        kept = sorted(tally.examples.items(), key=lambda kv: -kv[1])[:examples]
        tally.examples = dict(kept)


def _count_domain(arr: Any, domain: tuple[str, ...], tally: _Tally, examples: int) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_dictionary(t):
        arr, t = arr.cast(t.value_type), t.value_type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)):
        return
    if pa.types.is_string_view(t):
        arr = arr.cast(pa.large_string())
    counted = pc.value_counts(pc.drop_null(arr))
    values, counts = counted.field("values"), counted.field("counts")
    tally.valid += int(pc.sum(counts).as_py() or 0)
    outside = pc.invert(pc.is_in(values, value_set=pa.array(domain, pa.string())))
    new_values = pc.filter(values, outside).to_pylist()
    new_counts = pc.filter(counts, outside).to_pylist()
    tally.outside += sum(new_counts)
    for value, count in zip(new_values, new_counts, strict=True):
        if value in tally.unseen or len(tally.unseen) < _UNSEEN_KEPT:
            tally.unseen[value] += count


def _fmt(x: float) -> str:
    if math.isfinite(x) and x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(x)


# -- the checks -----------------------------------------------------------------------------


def validate(
    data: Any,
    schema: Schema,
    *,
    config: ValidationConfig | None = None,
    project: Any = None,
) -> ValidationReport:
    """Check a batch of data (or its profile) against ``schema``.

    Args:
        data: anything `profile_data` reads (a frame, a table, a Parquet/CSV path or
            directory, ``"name@3"``), or a `Profile` (shares are then estimated).
        schema: the expected shape, e.g. `read_schema("schema.toml")`.
        config: which checks run and their thresholds (default `ValidationConfig()`).
        project: the project a dataset reference belongs to.

    Raises:
        UsageError: unreadable input (``profile-input``).
    """
    from mlsteward.data.columns import Settings
    from mlsteward.data.profile import Profile, profile_batches

    cfg = config or ValidationConfig()
    tallies: dict[str, _Tally] | None
    if isinstance(data, Profile):
        prof, tallies = data, None
    else:
        from mlsteward.data.readers import iter_batches

        tallies = {}
        batches = _counting(iter_batches(data, project=project), schema, tallies, cfg.examples)
        prof = profile_batches(batches, Settings(), {})
    found: list[Anomaly] = []
    if prof.rows == 0:
        _add(found, cfg.empty, None, "empty", "the batch has no rows", expected="> 0", got=0)
    for name, spec in schema.columns.items():
        col = prof.columns.get(name)
        if col is None:
            _add(
                found,
                cfg.missing_column,
                name,
                "missing-column",
                "the column is missing",
                expected=spec.type,
            )
            continue
        found += _check_column(spec, col, None if tallies is None else tallies.get(name), cfg)
    for name, col in prof.columns.items():
        if name not in schema.columns:
            _add(
                found,
                cfg.extra_column,
                name,
                "extra-column",
                f"a column the schema does not know ({type_of_kind(col.kind)})",
                got=type_of_kind(col.kind),
            )
    order = {"error": 0, "warning": 1}
    found.sort(key=lambda a: order[a.severity])
    return ValidationReport(
        tuple(found), prof.rows, len(prof.columns), tallies is not None, cfg, prof.notes
    )


def _add(
    found: list[Anomaly], severity: str, column: str | None, kind: str, message: str, **values: Any
) -> None:
    if severity != "off":
        found.append(Anomaly(column, kind, severity, message, **values))


def _check_column(
    spec: ColumnSchema, col: ColumnProfile, tally: _Tally | None, cfg: ValidationConfig
) -> list[Anomaly]:
    found: list[Anomaly] = []
    got = type_of_kind(col.kind)
    same_type = True
    if spec.type != "null" and got not in ("null", spec.type):
        same_type = False
        widening = {spec.type, got} == {"int", "float"}
        _add(
            found,
            cfg.numeric_widening if widening else cfg.type_change,
            spec.name,
            "type",
            f"type {got} ({col.arrow_type}), expected {spec.type}"
            + (f" ({spec.arrow_type})" if spec.arrow_type else ""),
            expected=spec.type,
            got=got,
        )
        same_type = widening
    _check_nulls(found, spec, col, cfg)
    if not same_type or spec.is_id:
        return found
    if spec.range is not None and got in RANGE_TYPES:
        _check_range(found, spec, col, tally, cfg)
    if spec.domain is not None and got in DOMAIN_TYPES:
        _check_domain(found, spec, col, tally, cfg)
    return found


def _check_nulls(
    found: list[Anomaly], spec: ColumnSchema, col: ColumnProfile, cfg: ValidationConfig
) -> None:
    if not col.count:
        return
    missing = col.nulls + col.nan
    rate = missing / col.count
    if rate <= spec.max_null_rate:
        return
    p0 = spec.max_null_rate
    if spec.nullable and p0 > 0:
        # one-sided test: could a rate of p0 have produced this many nulls by chance?
        z = (rate - p0) / math.sqrt(p0 * (1 - p0) / col.count)
        if 0.5 * math.erfc(z / math.sqrt(2)) >= cfg.null_alpha:
            return
    what = "nulls in a column that is not nullable" if not spec.nullable else "null rate"
    _add(
        found,
        cfg.nulls,
        spec.name,
        "nulls",
        f"{what}: {_pct(rate)} of {col.count:,} rows (at most {_pct(p0)} expected)",
        expected=p0,
        got=rate,
        share=rate,
        count=missing,
    )


def _check_range(
    found: list[Anomaly],
    spec: ColumnSchema,
    col: ColumnProfile,
    tally: _Tally | None,
    cfg: ValidationConfig,
) -> None:
    assert spec.range is not None
    lo, hi = spec.range
    uncertainty = 0.0
    if tally is not None:
        valid, outside, examples, estimated = (
            tally.valid,
            tally.outside,
            tuple(tally.examples),
            False,
        )
    else:
        valid, outside, examples, uncertainty = _range_from_profile(col, lo, hi, spec.type)
        estimated = True
    if not valid or not outside:
        return
    share = outside / valid
    # an estimate is judged by what it surely exceeds: the share less the sketch's error
    severity = _by_share(max(0.0, share - uncertainty), cfg.range_warning, cfg.range_error)
    if severity is None:
        return
    shown = "[" + ", ".join(_bound(x, spec.type) for x in spec.range) + "]"
    about = "about " if estimated else ""
    _add(
        found,
        severity,
        spec.name,
        "range",
        f"{about}{_pct(share)} of {valid:,} values outside {shown}"
        f" (warning above {_pct(cfg.range_warning)}, error above {_pct(cfg.range_error)})"
        + (" [estimated from the profile]" if estimated else ""),
        expected=list(spec.range),
        got=[col.min, col.max],
        share=share,
        count=outside,
        examples=examples[: cfg.examples],
        estimated=estimated,
    )


def _range_from_profile(
    col: ColumnProfile, lo: float, hi: float, typ: str
) -> tuple[int, int, tuple[str, ...], float]:
    """Values outside [lo, hi]: infinities exactly, finite ones read off the KLL CDF; and
    the estimate's uncertainty as a share of the valid values (the sketch's rank error
    once: its bound holds for the whole CDF, and it is a 99% bound)."""
    n = col.moments.n
    tails = 0
    valid = n + col.posinf + col.neginf
    outside = 0
    examples: list[str] = []
    if col.posinf and hi < math.inf:
        outside += col.posinf
        examples.append("inf")
    if col.neginf and lo > -math.inf:
        outside += col.neginf
        examples.append("-inf")
    if n and col.kll is not None and not col.kll.is_empty():
        # min and max are exact: only a column reaching past a bound needs the CDF
        if col.min is not None and col.min < lo:
            outside += max(1, round(float(col.kll.get_rank(lo, False)) * n))
            examples.append(_bound(col.min, typ))
            tails += 1
        if col.max is not None and col.max > hi:
            outside += max(1, round((1.0 - float(col.kll.get_rank(hi, True))) * n))
            examples.append(_bound(col.max, typ))
            tails += 1
    uncertainty = col.rank_error * n / valid if tails and valid else 0.0
    return valid, min(outside, valid), tuple(examples), uncertainty


def _check_domain(
    found: list[Anomaly],
    spec: ColumnSchema,
    col: ColumnProfile,
    tally: _Tally | None,
    cfg: ValidationConfig,
) -> None:
    assert spec.domain is not None
    if tally is not None:
        valid, outside, unseen, estimated = tally.valid, tally.outside, tally.unseen, False
    else:
        valid, outside, unseen, estimated = _domain_from_profile(col, spec.domain)
    if not valid or not outside:
        return
    share = outside / valid
    top = [v for v, _ in sorted(unseen.items(), key=lambda x: (-x[1], x[0]))]
    examples = tuple(top[: cfg.examples])
    about = "about " if estimated else ""
    listed = ", ".join(repr(v) for v in examples) + (", ..." if len(top) > len(examples) else "")
    severity = (
        _by_share(share, cfg.domain_warning, cfg.domain_error) if spec.domain_complete else None
    )
    if severity is not None:
        kind = "domain"
        message = (
            f"{about}{_pct(share)} of {valid:,} values outside the domain of "
            f"{len(spec.domain)} (warning above {_pct(cfg.domain_warning)}, error above "
            f"{_pct(cfg.domain_error)}): {listed}"
        )
    else:
        severity, kind = cfg.unseen, "unseen"
        more = "+" if len(unseen) >= _UNSEEN_KEPT else ""
        message = (
            f"{len(unseen)}{more} value(s) not in the domain, {about}{_pct(share)} of rows: "
            f"{listed}"
        )
    if estimated:
        message += " [estimated from the profile]"
    _add(
        found,
        severity,
        spec.name,
        kind,
        message,
        expected=len(spec.domain),
        got=len(unseen),
        share=share,
        count=outside,
        examples=examples,
        estimated=estimated,
    )


def _domain_from_profile(
    col: ColumnProfile, domain: tuple[str, ...]
) -> tuple[int, int, Counter[str], bool]:
    import datasketches as ds

    valid = col.count - col.nulls
    if col.items is None or col.items.is_empty():
        return valid, 0, Counter(), True
    found = col.items.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    exact = all(int(est) == int(low) for _, est, low, _ in found)
    allowed = set(domain)
    inside = sum(int(est) for v, est, _, _ in found if v in allowed)
    unseen = Counter({str(v): int(est) for v, est, _, _ in found if v not in allowed})
    return valid, max(0, valid - inside), unseen, not exact


def _by_share(share: float, warning: float, error: float) -> str | None:
    if share > error:
        return "error"
    if share > warning:
        return "warning"
    return None


def _pct(x: float) -> str:
    if x == 0:
        return "0%"
    return f"{100 * x:.2g}%" if x < 0.01 else f"{100 * x:.1f}%"


def _bound(x: float, typ: str) -> str:
    if typ == "datetime" and math.isfinite(x):
        from datetime import datetime, timedelta

        return (datetime(1970, 1, 1) + timedelta(microseconds=x)).isoformat()
    return _fmt(x)


# the package exports this name: ``mlsteward.data.validate`` is this module's own name
validate_data = validate
