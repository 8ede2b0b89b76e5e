"""`steward data` commands (being built; see issue 4)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(data_app: typer.Typer) -> None:
    """Add this module's commands to `steward data`."""
