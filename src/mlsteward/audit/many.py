"""Audit many repositories at once, in parallel processes, and compare them in one table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from mlsteward.audit.engine import AuditOptions, audit
from mlsteward.catalog import load_catalog
from mlsteward.errors import StewardError

__all__ = ["Row", "audit_many", "table_csv", "table_json"]


@dataclass(frozen=True)
class Row:
    """One repository's line in the comparison table (or the error that stopped it)."""

    path: str
    report: dict[str, Any] | None
    error: str | None = None


def _one(path: str, options: AuditOptions) -> Row:
    try:
        return Row(path, audit(path, options).to_dict())
    except StewardError as exc:
        return Row(path, None, str(exc))


def audit_many(
    paths: Sequence[str],
    options: AuditOptions,
    *,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Audit each path in its own process (``jobs`` at a time); rows in the input order."""
    rows: dict[str, Row] = {}
    if len(paths) == 1 or jobs == 1:
        for p in paths:
            rows[p] = _one(p, options)
            if progress:
                progress(p)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_one, p, options): p for p in paths}
            for fut in as_completed(futures):
                rows[futures[fut]] = fut.result()
                if progress:
                    progress(futures[fut])
    return [rows[p] for p in paths]


def _flat(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"repository": row.path, "error": row.error or ""}
    d = row.report
    if d is None:
        return out
    out["score"] = d["summary"]["score"]
    out["ml_test_score"] = d["ml_test_score"]["final"]
    for section in ("data", "model", "infrastructure", "monitoring"):
        out[f"mts_{section}"] = d["ml_test_score"][section]
    for c in d["categories"]:
        out[f"{c['catalog']}:{c['category']}"] = c["adoption"]
    for level, n in d["summary"]["adoption"].items():
        out[f"n_{level}"] = n
    for p in d["practices"]:
        out[p["id"]] = p["adoption"]
    return out


def _columns() -> list[str]:
    cols = ["repository", "error", "score", "ml_test_score"]
    cols += [f"mts_{s}" for s in ("data", "model", "infrastructure", "monitoring")]
    seen: list[str] = []
    for p in load_catalog():
        key = f"{p.catalog}:{p.category}"
        if key not in seen:
            seen.append(key)
    cols += seen
    cols += [
        f"n_{x}"
        for x in ("not_adopted", "partially", "mostly", "completely", "not_applicable", "unknown")
    ]
    cols += [p.id for p in load_catalog()]
    return cols


def table_csv(rows: Sequence[Row]) -> str:
    """One line per repository: scores, category adoption, and each practice's level."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_columns(), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(_flat(row))
    return buf.getvalue()


def table_json(rows: Sequence[Row]) -> str:
    return (
        json.dumps({"schema_version": "1.0", "repositories": [_flat(r) for r in rows]}, indent=2)
        + "\n"
    )
