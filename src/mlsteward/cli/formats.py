"""What every records command shares about output: the --format check, sizes, times, tables."""

from __future__ import annotations

__all__ = ["check_format", "human_size", "table", "when"]


def check_format(fmt: str, allowed: tuple[str, ...], command: str = "this command") -> None:
    """Refuse a ``--format`` the command cannot write (usage error ``unknown-format``)."""
    if fmt not in allowed:
        from mlsteward.errors import UsageError

        raise UsageError(
            f"--format {fmt!r} is not a format of {command}; expected {', '.join(allowed)}",
            code="unknown-format",
            hint=f"use {' or '.join(allowed)}",
        )


def human_size(size: int) -> str:
    """Bytes in decimal units, as people read file sizes: ``12.3 MB``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def when(stamp: float | None, *, seconds: bool = False) -> str:
    """A time in local time, to the minute (or second): ``2026-11-23 21:37``; ``-`` for None."""
    import time

    if stamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""), time.localtime(stamp))


def table(header: list[str], rows: list[list[str]]) -> None:
    """Print ``rows`` under ``header`` in left-aligned columns two spaces apart."""
    import typer

    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        typer.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
