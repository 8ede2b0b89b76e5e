"""Terminal: summary first (readiness, ML Test Score, adoption by category), then findings.

The order answers a reader's questions in turn: how ready is this repository, where is it
weak, what should be adopted next and which rule shows the way, what exactly is wrong
(by severity), what was set aside (suppressions, baseline), and what to run next. Colour
is added only when the caller asks (a terminal); the same text reads well without it.

`adopt_next` ranks the practices to work on; the Markdown and HTML reports use it too.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlsteward.audit.report import ADOPTION_VALUE, Finding, PracticeResult, Report, RuleResult
from mlsteward.audit.rule import SEVERITY_ORDER, Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = ["CATALOG_LABELS", "NextPractice", "adopt_next", "location", "mts_sections", "render"]

#: catalog id -> the short name reports show
CATALOG_LABELS = {"se-ml": "SE-ML", "ml-test-score": "ML Test Score", "ml-smells": "ML smells"}
_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}
_ADOPTION_STYLE = {
    "completely": "green",
    "mostly": "green",
    "partially": "yellow",
    "not_adopted": "red",
    "unknown": "dim",
    "not_applicable": "dim",
}


@dataclass(frozen=True)
class NextPractice:
    """A practice worth adopting next, and the failing rule that shows what to change."""

    practice: PracticeResult
    rule: RuleResult | None
    findings: int  # new findings of that rule


def adopt_next(report: Report, limit: int = 5) -> list[NextPractice]:
    """Practices not (or only partially) adopted, the most promising first.

    Ranked by adoption (not adopted first), then by the severity of the failing rule
    behind them and its number of new findings; practices whose only evidence is a
    declaration come last, since no rule says what to change. Catalog order breaks ties.
    """
    rules = {r.code: r for r in report.rules}
    counts = Counter(f.code for f in report.active_findings())
    ranked: list[tuple[tuple[float, int, int, int, int], NextPractice]] = []
    for order, p in enumerate(report.practices):
        if p.adoption not in ("not_adopted", "partially"):
            continue
        failing = [
            rules[c]
            for c in p.rules
            if c in rules
            and rules[c].ignored is None
            and rules[c].status in (Status.FAILED, Status.PARTIAL)
        ]
        best = max(
            failing,
            key=lambda r: (SEVERITY_ORDER[r.severity], counts[r.code], -r.score),
            default=None,
        )
        severity = SEVERITY_ORDER[best.severity] if best else 0
        n = counts[best.code] if best else 0
        key = (ADOPTION_VALUE[p.adoption], best is None, -severity, -n, order)
        ranked.append((key, NextPractice(p, best, n)))
    ranked.sort(key=lambda item: item[0])
    return [item for _, item in ranked[:limit]]


def location(f: Finding) -> str:
    """``path:line:col`` as far as the finding knows it (column 1-based)."""
    where = f.path or "(repository)"
    if f.line:
        where += f":{f.line}"
        if f.column is not None and f.column >= 0:
            where += f":{f.column + 1}"
    return where


def mts_sections(report: Report) -> list[tuple[str, float | None]]:
    """The ML Test Score's four section sums; None for a section with no applicable test."""
    mts = report.ml_test_score
    values = {
        "data": mts.data,
        "model": mts.model,
        "infrastructure": mts.infrastructure,
        "monitoring": mts.monitoring,
    }
    return [(k, v if mts.applicable.get(k, 0) else None) for k, v in values.items()]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _tone(value: float | None) -> str:
    if value is None:
        return "dim"
    return "green" if value >= 2 / 3 else "yellow" if value >= 1 / 3 else "red"


def _bar(value: float | None, width: int = 20) -> Text:
    from rich.text import Text

    if value is None:
        return Text("·" * width, style="dim")
    filled = round(min(max(value, 0.0), 1.0) * width)
    return Text.assemble(("█" * filled, _tone(value)), ("░" * (width - filled), "dim"))


def _counts(report: Report) -> Text:
    from rich.text import Text

    counts = report.counts()
    parts: list[Text | str] = []
    for sev in sorted(counts, key=lambda s: -SEVERITY_ORDER[s]):
        if parts:
            parts.append(" · ")
        n = counts[sev]
        parts.append(Text(f"{n} {sev}", style=_SEVERITY_STYLE[sev] if n else "dim"))
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    baseline = sum(1 for f in report.findings if f.suppressed is None and f.baseline == "unchanged")
    if suppressed or baseline:
        parts.append(Text(f"   ({suppressed} suppressed, {baseline} in baseline)", style="dim"))
    return Text.assemble(*parts)


def _header(console: Console, report: Report) -> None:
    from rich.text import Text

    repo = report.repository
    git = repo.get("git") or {}
    head = Text.assemble(("mlsteward audit ", "dim"), (str(repo.get("name", "")), "bold"))
    bits = []
    if git.get("commit"):
        bits.append(f"{git.get('branch') or 'detached'} @ {str(git['commit'])[:10]}")
    bits.append(f"profile {report.profile}")
    if isinstance(repo.get("files"), int):
        bits.append(f"{repo['files']} files")
    head.append("  " + " · ".join(bits), style="dim")
    console.print(head)
    console.print()


def _summary(console: Console, report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if report.score is None:
        score = Text.assemble(("n/a", "bold"), ("  no SE-ML practice could be judged", "dim"))
    else:
        judged = sum(
            1 for p in report.practices if p.catalog == "se-ml" and p.adoption in ADOPTION_VALUE
        )
        score = Text.assemble(
            (f"{report.score:.0f}", "bold"),
            ("/100  ", "dim"),
            _bar(report.score / 100),
            (f"  over {_plural(judged, 'judged SE-ML practice')}", "dim"),
        )
    grid.add_row("Readiness score", score)
    mts = report.ml_test_score
    sections = " · ".join(
        f"{name} {'n/a' if value is None else f'{value:g}'}" for name, value in mts_sections(report)
    )
    grid.add_row(
        "ML Test Score",
        Text.assemble((f"{mts.final:g}", "bold"), ("   lowest of  ", "dim"), sections),
    )
    grid.add_row("", Text(mts.band, style="italic"))
    grid.add_row("Findings", _counts(report))
    gate = report.gate
    if gate.fail_under is not None or gate.fail_on is not None or not gate.passed:
        verdict = (
            Text("passed", style="green")
            if gate.passed
            else Text.assemble(("FAILED", "bold red"), ("  " + "; ".join(gate.reasons), ""))
        )
        grid.add_row("Gate", verdict)
    console.print(grid)


def _categories(console: Console, report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print()
    console.print(Text("Adoption by category", style="bold underline"))
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="dim")
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(style="dim", no_wrap=True)
    last = ""
    for c in report.categories:
        label = CATALOG_LABELS.get(c.catalog, c.catalog) if c.catalog != last else ""
        last = c.catalog
        pct = "n/a" if c.adoption is None else f"{100 * c.adoption:.0f}%"
        known = "not applicable" if c.applicable == 0 else f"{c.known} of {c.applicable} judged"
        table.add_row(
            label, c.category, _bar(c.adoption), Text(pct, style=_tone(c.adoption)), known
        )
    console.print(table)


def _adopt_next(console: Console, report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    steps = adopt_next(report)
    if not steps:
        return
    console.print()
    console.print(Text("Adopt next", style="bold underline"))
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1)
    for s in steps:
        p = s.practice
        cell = Text.assemble(
            p.title, (f"  {p.adoption.replace('_', ' ')}", _ADOPTION_STYLE[p.adoption]), "\n"
        )
        if s.rule is not None:
            cell.append_text(
                Text.assemble(
                    ("→ fix ", "dim"),
                    (s.rule.code, _SEVERITY_STYLE[s.rule.severity]),
                    f" {s.rule.name}",
                    (f" · {_plural(s.findings, 'finding')}" if s.findings else "", "dim"),
                )
            )
        else:
            cell.append(f"→ {p.note or 'no rule shows what to change'}", style="dim")
        table.add_row(p.id, cell)
    console.print(table)


def _findings(console: Console, report: Report, max_findings: int) -> None:
    from rich.table import Table
    from rich.text import Text

    active = report.active_findings()
    console.print()
    if not active:
        console.print(Text("No new findings.", style="bold green"))
        return
    console.print(Text(f"Findings ({len(active)} new)", style="bold underline"))
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold", max_width=max(24, int(console.width * 0.4)))
    table.add_column(overflow="fold", ratio=1)
    shown = 0
    for sev in sorted(SEVERITY_ORDER, key=lambda s: -SEVERITY_ORDER[s]):
        group = [f for f in active if f.severity == sev]
        if not group or shown >= max_findings:
            continue
        table.add_row(Text(f"{sev.upper()} · {len(group)}", style=_SEVERITY_STYLE[sev]), "", "")
        for f in group[: max_findings - shown]:
            table.add_row(
                Text(f"  {f.code}", style=_SEVERITY_STYLE[sev]),
                Text(location(f), style="bold"),
                Text(f.message),
            )
            shown += 1
    console.print(table)
    if shown < len(active):
        console.print(
            Text(
                f"  … and {len(active) - shown} more: --format html or json lists every finding",
                style="dim",
            )
        )


def _set_aside(console: Console, report: Report) -> None:
    from rich.text import Text

    unused = report.unused_suppressions
    if unused:
        console.print()
        console.print(
            Text(f"Unused suppressions ({len(unused)}): delete them", style="bold underline")
        )
        for s in unused:
            where = (s.path or "") + (f":{s.line}" if s.line else "")
            what = " ".join(x for x in (s.code or "", where) if x)
            console.print(Text.assemble(f"  {s.kind} ", (what, "bold"), (f"  {s.reason}", "dim")))
    for e in report.errors:
        console.print(Text.assemble(("internal error ", "bold red"), e))


def _next_step(report: Report, steps: Iterable[NextPractice]) -> Text:
    from rich.text import Text

    active = report.active_findings()
    code = active[0].code if active else next((s.rule.code for s in steps if s.rule), None)
    if code is None:
        return Text.assemble(
            ("Next: ", "bold"),
            "nothing to fix; ",
            ("steward audit rules", "bold"),
            " lists what is checked",
        )
    return Text.assemble(
        ("Next: ", "bold"),
        (f"steward audit explain {code}", "bold cyan"),
        ("  why it matters and how to fix it", "dim"),
    )


def render(report: Report, *, width: int = 100, color: bool = False, max_findings: int = 50) -> str:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        no_color=None if color else True,  # None: NO_COLOR in the environment still wins
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
    )
    _header(console, report)
    _summary(console, report)
    _categories(console, report)
    _adopt_next(console, report)
    _findings(console, report, max_findings)
    _set_aside(console, report)
    console.print()
    console.print(_next_step(report, adopt_next(report)))
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
