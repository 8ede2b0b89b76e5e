"""``steward data profile|infer-schema|validate``: profiles, schemas and batch validation.

Each command profiles or reads its input with one library call and renders the result.
numpy, pyarrow and the mlsteward.data modules are imported inside the commands: this
module is imported on every ``steward`` start.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mlsteward.cli.formats import check_format
from mlsteward.cli.formats import table as print_table

if TYPE_CHECKING:
    from mlsteward.data.profile import Profile

__all__ = ["register"]

_DATA = typer.Argument(..., help="A Parquet/CSV file or directory, or a dataset NAME@VERSION.")
_FORMAT = typer.Option("text", "--format", "-f", help="text or json.")


def register(data_app: typer.Typer) -> None:
    """Add this module's commands to `steward data`."""
    data_app.command("profile")(profile)
    data_app.command("infer-schema")(infer_schema)
    data_app.command("validate")(validate)


def _version_ref(data: str) -> str:
    """``data`` when it names a dataset version (for ``--save``), else a usage error."""
    from mlsteward.errors import UsageError

    if Path(data).exists() or "@" not in data:
        raise UsageError(
            f"--save needs a dataset version NAME@VERSION, got {data!r}",
            code="save-needs-version",
            hint="add the data first (`steward data add PATH --name NAME`), then use NAME@1",
        )
    return data


def _number(x: float | None) -> Any:
    return None if x is None or not math.isfinite(x) else x


def _column_row(prof: Profile, name: str) -> dict[str, Any]:
    col = prof.columns[name]
    numeric = col.kll is not None and not col.kll.is_empty()
    return {
        "name": name,
        "kind": col.kind,
        "arrow_type": col.arrow_type,
        "count": col.count,
        "nulls": col.nulls,
        "nan": col.nan,
        "infinities": col.posinf + col.neginf,
        "null_rate": col.null_rate,
        "distinct": round(col.distinct),
        "mean": _number(col.mean) if numeric else None,
        "std": _number(col.std) if numeric else None,
        "min": _number(col.min),
        "max": _number(col.max),
        "quantiles": {
            str(q): _number(v)
            for q, v in zip((0.01, 0.5, 0.99), col.quantiles((0.01, 0.5, 0.99)), strict=True)
        }
        if numeric
        else None,
        "frequent": [[v, c] for v, c in col.frequent(5)],
        "samples": list(col.samples),
    }


def _cell(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def profile(
    data: str = _DATA,
    reference: str | None = typer.Option(
        None, "--reference", help="Freeze histogram bins from this data (path or NAME@VERSION)."
    ),
    save: bool = typer.Option(False, "--save", help="Store the profile with dataset DATA."),
    fmt: str = _FORMAT,
) -> None:
    """Profile DATA: per column, type, counts, nulls, distinct values, moments, top values."""
    import json

    from mlsteward.data.profile import profile_data, save_profile
    from mlsteward.project import Project

    check_format(fmt, ("text", "json"))
    ref = _version_ref(data) if save else None
    project = Project.open() if save else None
    ref_prof = profile_data(reference, project=project) if reference else None
    prof = profile_data(data, reference=ref_prof, project=project)
    if ref is not None:
        save_profile(project, ref, prof)
    rows = [_column_row(prof, name) for name in prof.columns]
    if fmt == "json":
        doc = {"rows": prof.rows, "columns": rows, "notes": list(prof.notes)}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{prof.rows:,} rows, {len(rows)} columns" + (f" (saved with {ref})" if ref else ""))
    header = ["COLUMN", "KIND", "NULLS", "DISTINCT", "MEAN", "STD", "MIN", "MAX", "TOP"]
    table = [
        [
            r["name"],
            r["kind"],
            f"{100 * r['null_rate']:.1f}%",
            str(r["distinct"]),
            *(_cell(r[k]) for k in ("mean", "std", "min", "max")),
            ", ".join(f"{v} ({c})" for v, c in r["frequent"][:3]) or "-",
        ]
        for r in rows
    ]
    print_table(header, table)
    for note in prof.notes:
        typer.echo(f"note: {note}")


def infer_schema(
    data: str = _DATA,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the schema here (atomically) instead of stdout."
    ),
    save: bool = typer.Option(False, "--save", help="Store the schema with dataset DATA."),
    domain_max: int = typer.Option(
        100, "--domain-max", help="Largest number of values a categorical domain lists."
    ),
) -> None:
    """Infer a schema from DATA and print it as TOML (or write it with -o)."""
    from mlsteward.data.profile import profile_data
    from mlsteward.data.schema import infer_schema as infer
    from mlsteward.data.schema import save_schema, write_schema
    from mlsteward.project import Project

    ref = _version_ref(data) if save else None
    project = Project.open() if save else None
    schema = infer(profile_data(data, project=project), domain_max=domain_max, source=data)
    if ref is not None:
        save_schema(project, ref, schema)
    if output is None:
        typer.echo(schema.to_toml(), nl=False)
        return
    write_schema(schema, output)
    saved = f" and saved with {ref}" if ref else ""
    typer.echo(f"wrote {output} ({len(schema.columns)} columns){saved}", err=True)


def validate(
    data: str = _DATA,
    schema: Path = typer.Option(..., "--schema", "-s", help="The schema file (TOML)."),
    fmt: str = _FORMAT,
) -> None:
    """Check DATA against a schema; exit 1 when an anomaly is an error (for CI)."""
    from mlsteward.data.schema import read_schema
    from mlsteward.data.validate import validate as run

    check_format(fmt, ("text", "json"))
    report = run(data, read_schema(schema))
    typer.echo(report.to_json() if fmt == "json" else report.to_text(), nl=fmt == "json")
    if not report.ok:
        raise typer.Exit(1)
