"""``steward data``: add a file or directory as a dataset version; list, show, check out.

Library modules, SQLAlchemy and rich are imported inside the commands: this module is
imported on every ``steward`` start.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from mlsteward.cli.formats import check_format as _check_format
from mlsteward.cli.formats import human_size, table, when

if TYPE_CHECKING:
    from mlsteward.data.datasets import DatasetVersion

__all__ = ["Bar", "register"]

BAR_MIN_BYTES = 64 << 20  # smaller transfers finish before a bar would help

data_app = typer.Typer(
    help="Datasets: versions (add, list, show, checkout), profiles, schemas, validation, drift.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add ``steward data ...`` to the root app."""
    from mlsteward.cli import data_checks, data_drift

    data_checks.register(data_app)  # profile, infer-schema, validate
    data_drift.register(data_app)  # drift, skew
    app.add_typer(data_app, name="data")


class Bar:
    """A byte progress bar on stderr, drawn only on a terminal and for large transfers."""

    def __init__(self, label: str, *, quiet: bool = False) -> None:
        self.label = label
        self.enabled = not quiet and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def start(self, total: int) -> None:
        if not self.enabled or total < BAR_MIN_BYTES or self._progress is not None:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task(self.label, total=total)
        self._progress.start()

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _as_dict(v: DatasetVersion) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": v.version,
        "ref": v.ref,
        "hash": v.digest,
        "tree": v.is_tree,
        "size": v.size,
        "files": v.files,
        "path": v.path,
        "source": v.source,
        "code_commit": v.code_commit,
        "code_dirty": v.code_dirty,
        "run_id": v.run_id,
        "artifact_id": v.artifact_id,
        "created": v.created,
    }


@data_app.command("add")
def add(
    path: str = typer.Argument(..., help="A file or directory inside the project."),
    name: str = typer.Option(..., "--name", "-n", help="The dataset's name."),
    source: str | None = typer.Option(
        None, "--source", help="Where the data came from (default: its path)."
    ),
    description: str = typer.Option("", "--description", help="What the dataset is."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Record PATH as the next version of dataset NAME (unless it is unchanged)."""
    from mlsteward.data.datasets import add_dataset
    from mlsteward.project import Project

    bar = Bar(f"adding {name}", quiet=quiet)
    try:
        version = add_dataset(
            Project.open(), path, name, source=source, description=description, progress=bar
        )
    finally:
        bar.close()
    if version.unchanged:
        typer.echo(f"unchanged: {version.ref}")
        return
    files = f"{version.files} file" + ("" if version.files == 1 else "s")
    typer.echo(f"{version.ref}  {version.digest[:12]}  {human_size(version.size)}  {files}")


@data_app.command("list")
def list_(
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """List the datasets with their latest version."""
    import json

    from mlsteward.data.datasets import list_datasets
    from mlsteward.project import Project

    _check_format(fmt, ("table", "json"))
    found = list_datasets(Project.open())
    if fmt == "json":
        rows = [
            {"name": d.name, "description": d.description, "versions": d.versions}
            | {"latest": _as_dict(d.latest)}
            for d in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not found:
        typer.echo("no datasets yet: `steward data add PATH --name NAME` records one")
        return
    table(
        ["NAME", "LATEST", "VERSIONS", "SIZE", "FILES", "HASH", "ADDED"],
        [
            [
                d.name,
                f"@{d.latest.version}",
                str(d.versions),
                human_size(d.latest.size),
                str(d.latest.files),
                d.latest.digest[:12],
                when(d.latest.created),
            ]
            for d in found
        ],
    )


@data_app.command("show")
def show(
    ref: str = typer.Argument(..., help="NAME (every version) or NAME@VERSION."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Show a dataset's versions: hash, size, files, source, code commit, run."""
    import json

    from mlsteward.data.datasets import get_version, show_dataset
    from mlsteward.project import Project

    _check_format(fmt, ("table", "json"))
    project = Project.open()
    versions = [get_version(project, ref)] if "@" in ref else show_dataset(project, ref)
    if fmt == "json":
        typer.echo(json.dumps([_as_dict(v) for v in versions], indent=2))
        return
    rows = []
    for v in versions:
        commit = "-" if v.code_commit is None else v.code_commit[:10]
        if v.code_dirty:
            commit += " (dirty)"
        rows.append(
            [
                v.ref,
                v.digest[:12],
                human_size(v.size),
                str(v.files),
                v.source,
                commit,
                v.run_id[:8] if v.run_id else "-",
                when(v.created),
            ]
        )
    table(["VERSION", "HASH", "SIZE", "FILES", "SOURCE", "COMMIT", "RUN", "ADDED"], rows)


@data_app.command("checkout")
def checkout(
    ref: str = typer.Argument(..., help="NAME (the latest version) or NAME@VERSION."),
    to: str | None = typer.Option(
        None, "--to", help="Where to write it (default: where it was added from)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite files that differ."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Write a dataset version back into the project, verified byte for byte."""
    from mlsteward.data.datasets import checkout as do_checkout
    from mlsteward.data.datasets import get_version
    from mlsteward.project import Project

    project = Project.open()
    bar = Bar(f"checking out {ref}", quiet=quiet)
    try:
        dest = do_checkout(project, ref, to=to, force=force, progress=bar)
    finally:
        bar.close()
    version = get_version(project, ref)
    typer.echo(f"{version.ref} -> {project.relative(dest)}")
