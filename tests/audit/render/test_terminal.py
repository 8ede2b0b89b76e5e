"""Terminal: summary first, findings by severity, set-aside counts, one next step at the end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mlsteward.audit import Report, audit
from mlsteward.audit.render.terminal import adopt_next, render
from mlsteward.audit.rule import SEVERITY_ORDER
from repo_builder import build_repo

BROKEN = "def f(:\n    pass\n"
FILES = {
    "pyproject.toml": '[project]\nname = "demo"\n\n'
    '[tool.steward.audit.per-path-ignores]\n"legacy/*" = { AUD002 = "kept for reference" }\n',
    "bad.py": BROKEN,
    "bin.py": b"x = 1\x00\x01\x02\n",
    "ok.py": "x = 1  # steward: ignore[AUD002] nothing to ignore here\n",
    "legacy": {"old.py": BROKEN},
    ".github": {"workflows": {"ci.yml": "on: push\njobs:\n\t- bad: [\n"}},
}


@pytest.fixture
def report(tmp_path: Path) -> Report:
    return audit(build_repo(tmp_path / "repo", FILES, use_git=True))


def test_summary_first_then_categories_findings_and_a_next_step(report: Report) -> None:
    text = render(report)
    order = [
        "Readiness score",
        "ML Test Score",
        "Findings ",
        "Adoption by category",
        "Findings (",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert report.ml_test_score.band in text
    last = text.rstrip().splitlines()[-1]
    assert last.startswith("Next: steward audit explain ")
    assert last.split()[4] == report.active_findings()[0].code


def test_findings_are_grouped_most_severe_first(report: Report) -> None:
    text = render(report, width=160)
    present = [
        s
        for s in sorted(SEVERITY_ORDER, key=lambda s: -SEVERITY_ORDER[s])
        if any(f.severity == s for f in report.active_findings())
    ]
    heads = [text.index(f"{s.upper()} · ") for s in present]
    assert heads == sorted(heads)
    assert "bad.py:1" in text


def test_suppressed_counts_and_unused_suppressions_are_shown(report: Report) -> None:
    text = render(report, width=160)
    assert "1 suppressed" in text
    assert "Unused suppressions (1)" in text
    assert "ok.py:1" in text


def test_no_colour_unless_asked(report: Report) -> None:
    assert "\x1b[" not in render(report)
    assert "\x1b[" in render(report, color=True)


def test_lines_fit_the_width(report: Report) -> None:
    for width in (60, 100):
        assert max(len(line) for line in render(report, width=width).splitlines()) <= width


def test_max_findings_cuts_the_list_with_a_count(report: Report) -> None:
    text = render(report, max_findings=1)
    n = len(report.active_findings())
    assert f"and {n - 1} more" in text


def test_markup_in_messages_is_printed_as_is(report: Report) -> None:
    report.findings[0] = replace(
        report.findings[0], message="df[['a']] then [bold]x[/bold] [/]", suppressed=None
    )
    assert "df[['a']] then [bold]x[/bold] [/]" in render(report, width=200)


def test_adopt_next_ranks_not_adopted_practices_with_a_failing_rule(report: Report) -> None:
    steps = adopt_next(report, limit=3)
    assert len(steps) <= 3
    for step in steps:
        assert step.practice.adoption in ("not_adopted", "partially")
        if step.rule is not None:
            assert step.rule.code in step.practice.rules
            assert step.rule.status.value in ("failed", "partial")


def test_a_report_with_nothing_to_say_still_reads_well(report: Report) -> None:
    report.findings, report.unused_suppressions, report.score = [], [], None
    text = render(report)
    assert "Readiness score  n/a" in text
    assert "No new findings." in text
    assert text.rstrip().splitlines()[-1].startswith("Next: ")
