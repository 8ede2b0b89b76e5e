"""A command group that runs a default command when the first word names no subcommand.

So ``steward audit .`` runs ``steward audit run .`` while ``steward audit rules`` and
``steward audit explain CODE`` reach their subcommands. (A repository directory named
``rules`` or ``explain`` is audited as ``./rules``.)
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

__all__ = ["DefaultGroup"]


class DefaultGroup(TyperGroup):
    default_command = "run"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, "[PATH]... [OPTIONS] | rules | explain CODE")
