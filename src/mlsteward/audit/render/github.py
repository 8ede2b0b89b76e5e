"""GitHub Actions workflow commands: one annotation per new finding, within GitHub's limits.

``::error file=train.py,line=6,col=4,title=SML002 nan-equality::comparison with NaN...``

GitHub shows at most 10 errors, 10 warnings and 10 notices from one step, and 50 from a
job; anything past that is dropped without a word. So the most severe findings come first,
each level stops at 10, and when anything is left out the last line is a notice saying
how many (for which one notice slot is kept free). Suppressed findings and findings
already in the baseline are not annotated. Nothing else is printed, so the output can go
straight to stdout in a workflow step.
"""

from __future__ import annotations

from mlsteward.audit.report import Finding, Report
from mlsteward.audit.rule import SEVERITY_ORDER

__all__ = [
    "COMMANDS",
    "MAX_PER_LEVEL",
    "MAX_TOTAL",
    "annotation",
    "escape_data",
    "escape_property",
    "render",
]

#: severity -> workflow command
COMMANDS = {"high": "error", "medium": "warning", "low": "notice"}
MAX_PER_LEVEL = 10
MAX_TOTAL = 50


def escape_data(text: str) -> str:
    """A command's message, encoded as the Actions runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command property's value: the message encoding plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    """The workflow command for one finding."""
    props: list[tuple[str, str]] = []
    if f.path:
        props.append(("file", f.path))
        props.append(("line", str(f.line if f.line and f.line >= 1 else 1)))
        if f.line and f.column is not None and f.column >= 0:
            props.append(("col", str(f.column + 1)))
    props.append(("title", f"{f.code} {f.name}"))
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMANDS[f.severity]} {head}::{escape_data(f.message)}"


def render(report: Report) -> str:
    findings = sorted(report.active_findings(), key=lambda f: -SEVERITY_ORDER[f.severity])
    per_level = dict.fromkeys(COMMANDS.values(), 0)
    shown: list[Finding] = []
    for f in findings:
        level = COMMANDS[f.severity]
        if per_level[level] < MAX_PER_LEVEL and len(shown) < MAX_TOTAL:
            per_level[level] += 1
            shown.append(f)
    if len(shown) < len(findings) and per_level["notice"] == MAX_PER_LEVEL:
        # keep a notice slot for the line that says how many were left out
        last = max(i for i, f in enumerate(shown) if COMMANDS[f.severity] == "notice")
        del shown[last]
    lines = [annotation(f) for f in shown]
    more = len(findings) - len(shown)
    if more:
        lines.append(
            "::notice title=mlsteward::"
            + escape_data(
                f"{more} more finding(s) not annotated (GitHub shows at most "
                f"{MAX_PER_LEVEL} per level); see the full report: steward audit --format html"
            )
        )
    return "\n".join(lines) + ("\n" if lines else "")
