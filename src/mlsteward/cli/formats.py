"""What every records command shares about output: the --format check and byte sizes."""

from __future__ import annotations

__all__ = ["check_format", "human_size"]


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
