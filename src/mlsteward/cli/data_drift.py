"""``steward data drift|skew``: distribution drift between two datasets, training/serving skew.

Each command makes one library call (`mlsteward.data.compare`) and renders the result with
`mlsteward.data.drift_report`. numpy, pyarrow and the mlsteward.data modules are imported
inside the commands: this module is imported on every ``steward`` start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlsteward.cli.formats import check_format as _check_format

__all__ = ["register"]


def register(data_app: typer.Typer) -> None:
    """Add this module's commands to `steward data`."""
    data_app.command("drift")(drift)
    data_app.command("skew")(skew)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from mlsteward._internal.atomic import write_text_atomic

    write_text_atomic(output, text)
    typer.echo(f"wrote {output}", err=True)


def drift(
    reference: str = typer.Argument(
        ..., metavar="REF", help="Reference data: Parquet/CSV file or directory, or NAME@VERSION."
    ),
    current: str = typer.Argument(..., metavar="CUR", help="Current data, the same kinds."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or html."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here (atomically) instead of stdout."
    ),
    threshold_numeric: float | None = typer.Option(
        None, "--threshold-numeric", help="Normalised Wasserstein that counts as drift (0.1)."
    ),
    threshold_categorical: float | None = typer.Option(
        None, "--threshold-categorical", help="Jensen-Shannon distance that counts as drift (0.1)."
    ),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit 1 when the dataset drifted (for CI)."
    ),
) -> None:
    """Which columns of CUR drifted from REF, by how much, and by which method."""
    from mlsteward.data import drift_report
    from mlsteward.data.compare import compare_profiles, profile_pair
    from mlsteward.data.drift import DriftConfig

    _check_format(fmt, ("text", "json", "html"))
    settings: dict[str, Any] = {}
    if threshold_numeric is not None:
        settings["numeric_threshold"] = threshold_numeric
    if threshold_categorical is not None:
        settings["categorical_threshold"] = threshold_categorical
    config = DriftConfig(**settings)
    ref, cur = profile_pair(reference, current)
    report = compare_profiles(ref, cur, config)
    if fmt == "json":
        text = drift_report.to_json(report) + "\n"
    elif fmt == "html":
        text = drift_report.to_html(report, ref, cur)
    else:
        text = drift_report.to_text(report)
    _emit(text, output)
    if fail_on_drift and report.drifted:
        raise typer.Exit(1)


def skew(
    training: str = typer.Argument(
        ..., metavar="TRAIN", help="Features from the training path: file, directory, NAME@N."
    ),
    serving: str = typer.Argument(
        ..., metavar="SERVE", help="The same features from the serving path."
    ),
    key: list[str] | None = typer.Option(
        None, "--key", "-k", help="A column identifying an entity on both sides; repeatable."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    fail_on_skew: bool = typer.Option(
        False, "--fail-on-skew", help="Exit 1 when any feature is skewed (for CI)."
    ),
) -> None:
    """Compare the features the training and serving paths computed (distributions, values)."""
    from mlsteward.data import drift_report
    from mlsteward.data.compare import skew as run

    _check_format(fmt, ("text", "json"))
    report = run(training, serving, keys=key or None)
    if fmt == "json":
        typer.echo(drift_report.skew_json(report))
    else:
        typer.echo(drift_report.skew_text(report), nl=False)
    if fail_on_skew and report.skewed:
        raise typer.Exit(1)
