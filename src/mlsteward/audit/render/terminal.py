"""Terminal: summary first (readiness, ML Test Score, adoption by category), then findings."""

from __future__ import annotations

import io

from mlsteward.audit.report import Report

__all__ = ["render"]

_LEVEL_STYLE = {
    "completely": "green",
    "mostly": "green",
    "partially": "yellow",
    "not_adopted": "red",
    "unknown": "dim",
    "not_applicable": "dim",
}
_SEV_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def _bar(value: float | None, width: int = 20) -> str:
    if value is None:
        return "[dim]" + "·" * width + "[/dim]"
    filled = round(value * width)
    return "[green]" + "█" * filled + "[/green][dim]" + "░" * (width - filled) + "[/dim]"


def render(report: Report, *, width: int = 100, color: bool = False, max_findings: int = 50) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False)
    mts = report.ml_test_score
    repo = report.repository
    git = repo.get("git", {})
    head = f"[bold]{repo.get('name')}[/bold]"
    if git.get("commit"):
        head += f"  [dim]{git.get('branch') or ''} {str(git['commit'])[:10]}[/dim]"
    console.print(head + f"  [dim]profile {report.profile}[/dim]")
    score = "n/a" if report.score is None else f"{report.score:.0f}/100"
    console.print(f"Readiness score [bold]{score}[/bold]   ML Test Score [bold]{mts.final:g}[/bold] "
                  f"(data {mts.data:g} · model {mts.model:g} · infra {mts.infrastructure:g} · "
                  f"monitoring {mts.monitoring:g})")
    console.print(f"[italic]{mts.band}[/italic]")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("category")
    table.add_column("adoption", no_wrap=True)
    table.add_column("", justify="right")
    table.add_column("known", justify="right", style="dim")
    for c in report.categories:
        pct = "" if c.adoption is None else f"{100 * c.adoption:.0f}%"
        label = f"{c.catalog}: {c.category}"
        table.add_row(label, _bar(c.adoption), pct, f"{c.known}/{c.applicable}")
    console.print(table)
    counts = report.counts()
    console.print(
        "Findings: " + ", ".join(f"[{_SEV_STYLE[s]}]{n} {s}[/{_SEV_STYLE[s]}]" for s, n in reversed(counts.items()))
        + (f"  [dim]({sum(1 for f in report.findings if not f.active)} suppressed or in baseline)[/dim]"
           if any(not f.active for f in report.findings) else "")
    )
    active = report.active_findings()
    for f in active[:max_findings]:
        where = f.path or ""
        if f.line:
            where += f":{f.line}"
        console.print(f"  [{_SEV_STYLE[f.severity]}]{f.code}[/{_SEV_STYLE[f.severity]}] {where} {f.message}")
    if len(active) > max_findings:
        console.print(f"  [dim]... and {len(active) - max_findings} more (use --format json for all)[/dim]")
    for s in report.unused_suppressions:
        console.print(f"  [dim]unused {s.kind} suppression {s.code or ''} {s.path or ''}"
                      f"{':' + str(s.line) if s.line else ''}: {s.reason}[/dim]")
    for e in report.errors:
        console.print(f"[red]internal error[/red] {e}")
    if not report.gate.passed:
        console.print("[bold red]Gate failed:[/bold red] " + "; ".join(report.gate.reasons))
    return buf.getvalue()
