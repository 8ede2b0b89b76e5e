"""``steward models``: register model versions, move aliases, roll back, show the history.

Imports of the registry happen inside the commands: this module is imported on every
``steward`` start.
"""

from __future__ import annotations

import typer

__all__ = ["models_app", "register"]

models_app = typer.Typer(
    help="The model registry (register, list, show, promote, rollback, history, delete, card).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(models_app, name="models")
