"""The root ``steward`` app: one sub-app per area."""

from __future__ import annotations

import typer

from mlsteward import __version__
from mlsteward.cli import data, gates, importer, model_cards, models, records, runs, store
from mlsteward.cli.audit import audit_app
from mlsteward.cli.catalog import catalog_app

__all__ = ["app"]

app = typer.Typer(
    name="steward",
    help="Score ML repositories against the practice catalogs, and run the practices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(audit_app, name="audit")
app.add_typer(catalog_app, name="catalog")
_ = model_cards  # adds `steward models card` to the models app
for _module in (runs, data, records, store, importer, models, gates):
    _module.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlsteward {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """mlsteward: software-engineering practices for machine learning, measured and run."""
