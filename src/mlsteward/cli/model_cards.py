"""``steward models card``: a model card (Markdown and self-contained HTML) from the records.

Adds its command to the ``steward models`` app; imports happen inside the command.
"""

from __future__ import annotations

import typer

from mlsteward.cli.models import models_app

__all__ = ["card", "models_app"]


@models_app.command("card")
def card(
    name: str = typer.Argument(..., help="The registered model."),
    version: str = typer.Argument(..., help="A version number, or an alias (production)."),
    out_dir: str | None = typer.Option(
        None, "--output", "-o", help="Directory for NAME-vN.md and .html (default: model-cards)."
    ),
) -> None:
    """Write the model card of NAME VERSION as Markdown and HTML, and record it."""
    from mlsteward.registry.cards import write_card

    written = write_card(name, version, out_dir=out_dir)
    typer.echo(str(written.markdown_path))
    typer.echo(str(written.html_path))
