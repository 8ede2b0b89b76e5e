"""Report formats, one registry keyed by format name; each renderer is a function Report -> str.

Renderers are imported on first use, so the terminal path never loads the HTML one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from mlsteward.audit.report import Report
from mlsteward.errors import UsageError

__all__ = ["FORMATS", "render"]

#: format name -> "module:function" under mlsteward.audit.render
FORMATS: dict[str, str] = {
    "terminal": "terminal:render",
    "json": "json:render",
    "sarif": "sarif:render",
    "markdown": "markdown:render",
    "html": "html:render",
    "github": "github:render",
}


def renderer(fmt: str) -> Callable[[Report], str]:
    """The render function for ``fmt``.

    Raises:
        UsageError: the format is unknown.
    """
    if fmt not in FORMATS:
        raise UsageError(
            f"unknown format {fmt!r}; known: {', '.join(FORMATS)}",
            code="unknown-format",
            hint="pass --format with one of the names shown",
        )
    module, func = FORMATS[fmt].split(":")
    fn: Callable[[Report], str] = getattr(importlib.import_module(f"{__name__}.{module}"), func)
    return fn


def render(report: Report, fmt: str) -> str:
    return renderer(fmt)(report)
