"""``steward gate``: check a model version against an alias's policy and record the verdict.

Imports of the gate engine happen inside the commands: this module is imported on every
``steward`` start.
"""

from __future__ import annotations

import typer

__all__ = ["gate_app", "register"]

gate_app = typer.Typer(help="Validation gates (run).", no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(gate_app, name="gate")
