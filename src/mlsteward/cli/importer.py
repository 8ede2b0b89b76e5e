"""``steward import``: bring records over from another tool (``steward import mlflow URI``).

The library does the work (`mlsteward.tracking.mlflow_import`); it and SQLAlchemy are
imported inside the command, since this module is imported on every ``steward`` start.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from mlsteward.cli.formats import check_format

if TYPE_CHECKING:
    from mlsteward.tracking.mlflow_import import ImportReport

__all__ = ["import_app", "register"]

import_app = typer.Typer(
    help="Import records from another tool (mlflow URI).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
_PROGRESS_FROM = 100  # runs: smaller stores import too fast for a progress line to help


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(import_app, name="import")


@import_app.command("mlflow")
def mlflow(
    uri: str = typer.Argument(
        ...,
        help="The MLflow tracking store: sqlite:///mlflow.db, postgresql://..., ./mlruns "
        "or file:///.../mlruns.",
    ),
    experiment: list[str] | None = typer.Option(
        None, "--experiment", "-e", help="Import only this experiment (repeatable)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Read and count what would be imported; write nothing."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Import runs, params, metric histories and tags from an MLflow tracking store.

    Importing again skips the runs imported before. Artifacts are not copied.
    """
    import json

    from mlsteward.project import Project
    from mlsteward.tracking.mlflow_import import import_mlflow

    check_format(fmt, ("text", "json"), "`steward import mlflow`")
    report = import_mlflow(
        Project.open(), uri, experiments=experiment or None, dry_run=dry_run, progress=_progress
    )
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    for line in render(report):
        typer.echo(line)


def _progress(done: int, total: int) -> None:
    if total >= _PROGRESS_FROM and (done % _PROGRESS_FROM == 0 or done == total):
        end = "\n" if done == total else ""
        print(f"\rrun {done}/{total}", end=end, file=sys.stderr, flush=True)


def render(report: ImportReport) -> list[str]:
    """The report as lines of text."""
    verb = "would import" if report.dry_run else "imported"
    lines = [
        f"{report.source}: {verb} {report.runs_imported} run(s) from "
        f"{report.experiments} experiment(s)",
        f"  params        {report.params}",
        f"  metric points {report.metric_points}",
        f"  tags          {report.tags}",
    ]
    if report.runs_skipped:
        lines.append(f"  skipped       {report.runs_skipped} run(s) imported before")
    if report.runs_deleted:
        lines.append(f"  left out      {report.runs_deleted} run(s) deleted in MLflow")
    if report.dry_run:
        lines.append("dry run: nothing was written")
    return lines
