"""``steward lineage``, ``steward verify`` and ``steward gc``: reading and tending the records.

Library modules are imported inside the commands: this module is imported on every
``steward`` start.
"""

from __future__ import annotations

import re

import typer

__all__ = ["parse_duration", "register"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``30``, ``30s``, ``10m``, ``1h``, ``2d`` or ``1w``.

    Raises:
        UsageError: anything else (``usage-value``).
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        from mlsteward.errors import UsageError

        raise UsageError(
            f"{text!r} is not a duration",
            code="usage-value",
            hint="write a number with s, m, h, d or w: 90s, 30m, 1h, 2d",
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def register(app: typer.Typer) -> None:
    """Add ``lineage``, ``verify`` and ``gc`` to the root app."""
    app.command("lineage")(lineage)
    app.command("verify")(verify)
    app.command("gc")(gc)


def lineage(
    ref: str = typer.Argument(
        ..., help="A dataset (NAME or NAME@VERSION), a run id or prefix, or an artifact id."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or dot."),
    upstream: bool = typer.Option(False, "--upstream", help="Only where it came from."),
    downstream: bool = typer.Option(False, "--downstream", help="Only what used it."),
    depth: int | None = typer.Option(None, "--depth", min=0, help="Edges to walk at most."),
) -> None:
    """Walk the lineage of a dataset version, run or artifact, up- and downstream."""
    from mlsteward.cli.formats import check_format as _check_format
    from mlsteward.data.lineage import lineage as walk
    from mlsteward.data.lineage import to_dot, to_json, to_text
    from mlsteward.project import Project

    _check_format(fmt, ("text", "json", "dot"))
    direction = "both"
    if upstream != downstream:
        direction = "upstream" if upstream else "downstream"
    graph = walk(Project.open(), ref, direction=direction, depth=depth)
    render = {"text": to_text, "json": to_json, "dot": to_dot}[fmt]
    typer.echo(render(graph), nl=False)


def verify(
    all_objects: bool = typer.Option(
        False, "--all", help="Also check the objects no record references."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Check that every object the records point to is present and hashes right.

    Exits 1 if any is missing or corrupt.
    """
    import json

    from mlsteward.cli.data import Bar
    from mlsteward.cli.formats import check_format as _check_format
    from mlsteward.cli.formats import human_size
    from mlsteward.data.housekeeping import verify as check
    from mlsteward.project import Project

    _check_format(fmt, ("text", "json"))
    bar = Bar("verifying", quiet=quiet)
    try:
        report = check(Project.open(), all_objects=all_objects, progress=bar)
    finally:
        bar.close()
    if fmt == "json":
        doc = {
            "ok": report.ok,
            "checked": report.checked,
            "bytes": report.bytes,
            "unreferenced": report.unreferenced,
            "problems": [
                {"hash": p.digest, "status": p.status, "referrers": list(p.referrers)}
                for p in report.problems
            ],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for p in report.problems:
            typer.echo(f"{p.status:8} {p.digest}")
            for who in p.referrers or ("(no record refers to it)",):
                typer.echo(f"         {who}")
        extra = f", {report.unreferenced} unreferenced" if all_objects else ""
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        typer.echo(
            f"{verdict}: {report.checked} objects checked "
            f"({human_size(report.bytes)} of referenced data{extra})"
        )
    if not report.ok:
        raise typer.Exit(1)


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be removed."),
    grace: str = typer.Option(
        "1h", "--grace", help="Keep unreferenced objects younger than this (e.g. 30m, 1h, 2d)."
    ),
) -> None:
    """Delete objects that no record references (and are older than --grace)."""
    from mlsteward.cli.formats import human_size
    from mlsteward.data.housekeeping import collect_garbage
    from mlsteward.project import Project

    report = collect_garbage(Project.open(), dry_run=dry_run, grace_seconds=parse_duration(grace))
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {report.removed} objects ({human_size(report.removed_bytes)}); "
        f"kept {report.referenced} referenced and {report.young} younger than {grace}"
        + (f"; cleaned {report.tmp_removed} stale temporary files" if report.tmp_removed else "")
    )
