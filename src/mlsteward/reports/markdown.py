"""GitHub-flavoured Markdown building blocks: escaping, tables, text bars, a size budget.

Text that reaches these helpers often comes from the repository being reported on (file
names, error messages), so `escape` neutralises what GitHub would otherwise act on:
table pipes, HTML tags, emphasis, links and ``@mentions`` that would notify strangers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "DETAILS_END",
    "Budget",
    "code",
    "details",
    "details_start",
    "escape",
    "table",
    "text_bar",
]

#: closes what `details_start` opened
DETAILS_END = "\n</details>\n"

_SPECIAL = re.compile(r"([\\`*_{}\[\]|#~])")


def escape(text: object) -> str:
    """``text`` as literal Markdown on one line: safe in a paragraph or a table cell."""
    out = " ".join(str(text).split())
    out = _SPECIAL.sub(r"\\\1", out)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # a zero-width space after "@" stops GitHub from notifying a user or team
    return out.replace("@", "@\u200b")


def code(text: object) -> str:
    """``text`` as an inline code span, on one line, whatever backticks it holds."""
    body = " ".join(str(text).split()).replace("|", "\\|")
    fence = "`"
    while fence in body:
        fence += "`"
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    """A pipe table; cells are Markdown already (pass them through `escape` or `code`).

    Args:
        headers: column titles, escaped here.
        rows: the cells of each row.
        align: one letter per column, ``l``, ``r`` or ``c`` (default left).
    """
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    spec = align.ljust(len(headers), "l")
    lines = [
        "| " + " | ".join(escape(h) for h in headers) + " |",
        "|" + "|".join(marks[a] for a in spec) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def text_bar(value: float | None, width: int = 10) -> str:
    """A bar of block characters for a share from 0 to 1; dots when it is unknown."""
    if value is None:
        return "·" * width
    filled = round(min(max(value, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def details_start(summary: str, *, open_: bool = False) -> str:
    """The opening of a collapsible block whose body is added piece by piece."""
    opened = " open" if open_ else ""
    return f"<details{opened}>\n<summary>{escape(summary)}</summary>\n\n"


def details(summary: str, body: str, *, open_: bool = False) -> str:
    """A collapsible block; ``summary`` is plain text, ``body`` Markdown."""
    return details_start(summary, open_=open_) + body.rstrip() + "\n" + DETAILS_END


class Budget:
    """A document that stops growing before a size limit, counting what it left out.

    GitHub refuses a comment over 65,536 characters; a report that must fit adds its
    parts in order of importance and ends with `note` saying what did not fit.
    """

    def __init__(self, limit: int, reserve: int = 600) -> None:
        self.limit = limit
        self.reserve = reserve
        self.parts: list[str] = []
        self.size = 0
        self.left_out = 0

    def fits(self, text: str, *, keep: int = 0) -> bool:
        """Whether ``text`` fits, leaving ``keep`` characters for closing what is open."""
        return self.size + len(text) + keep <= self.limit - self.reserve

    def add(self, text: str, *, keep: int = 0) -> bool:
        """Append ``text`` if it fits (see `fits`); count it as left out otherwise."""
        if not self.fits(text, keep=keep):
            self.left_out += 1
            return False
        self.force(text)
        return True

    def force(self, text: str) -> None:
        """Append ``text`` whatever its size (headings, closing tags: the reserve pays)."""
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts)
