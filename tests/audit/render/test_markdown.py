"""Markdown for pull-request comments: summary first, escaped, never over GitHub's limit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mlsteward.audit import Report, audit
from mlsteward.audit.render.markdown import LIMIT, render
from mlsteward.reports.markdown import Budget, code, escape, table, text_bar
from repo_builder import build_repo

BROKEN = "def f(:\n    pass\n"
FILES = {
    "pyproject.toml": '[project]\nname = "demo"\n\n'
    '[tool.steward.audit.per-path-ignores]\n"legacy/*" = { AUD002 = "kept for reference" }\n',
    "bad.py": BROKEN,
    "bin.py": b"x = 1\x00\x01\x02\n",
    "legacy": {"old.py": BROKEN},
    ".github": {"workflows": {"ci.yml": "on: push\njobs:\n\t- bad: [\n"}},
}


@pytest.fixture
def report(tmp_path: Path) -> Report:
    return audit(build_repo(tmp_path / "repo", FILES, use_git=True))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("big")
    build_repo(root, {"pkg": {f"m{i:04}.py": BROKEN for i in range(2000)}})
    return audit(root)


def test_summary_comes_first_then_categories_findings_and_practices(report: Report) -> None:
    text = render(report)
    order = [
        "## mlsteward audit",
        "| Readiness score |",
        "| ML Test Score |",
        "### Adoption by category",
        "### Findings",
        "### Practices",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    summary = text[: text.index("### Adoption by category")]
    for section in ("data", "model", "infrastructure", "monitoring"):
        assert section in summary
    assert report.ml_test_score.band in summary
    for severity, n in report.counts().items():
        assert f"{n} {severity}" in summary


def test_findings_are_grouped_by_severity_with_their_location(report: Report) -> None:
    text = render(report)
    headings = [f"#### {s.capitalize()}" for s in ("high", "medium", "low")]
    present = [h for h in headings if h in text]
    assert present
    assert [text.index(h) for h in present] == sorted(text.index(h) for h in present)
    assert "`bad.py:1`" in text


def test_practices_are_in_collapsed_blocks_and_tags_balance(report: Report) -> None:
    text = render(report)
    assert text.count("<details") == text.count("</details>") > 0
    for p in report.practices:
        assert f"`{p.id}`" in text


def test_suppressed_findings_are_shown_with_their_reason(report: Report) -> None:
    text = render(report)
    assert "Suppressed or in the baseline" in text
    assert "kept for reference" in text


def test_text_from_the_repository_is_escaped(report: Report) -> None:
    report.findings[0] = replace(
        report.findings[0],
        message="<img src=x onerror=alert(1)> | @octocat [link](javascript:x) **bold**",
        suppressed=None,
        baseline="new",
    )
    text = render(report)
    assert "<img" not in text
    assert "@octocat" not in text, "a mention would notify a stranger"
    assert "[link](" not in text
    assert "**bold**" not in text


def test_a_large_report_is_cut_to_the_comment_limit_with_a_note(big: Report) -> None:
    assert len(big.findings) >= 2000
    text = render(big)
    assert len(text) <= LIMIT
    assert "Shortened" in text
    assert text.count("<details") == text.count("</details>")
    assert text.rstrip().endswith("</sub>")


def test_helpers_escape_tables_bars_and_budget() -> None:
    assert escape("a|b\nc") == "a\\|b c"
    assert code("x`y") == "``x`y``"
    assert table(["a", "b"], [["1", "2"]], "lr").splitlines()[1] == "|---|--:|"
    assert text_bar(0.5, 4) == "██░░"
    assert text_bar(None, 3) == "···"
    budget = Budget(limit=100, reserve=10)
    assert budget.add("x" * 80)
    assert not budget.add("y" * 20)
    budget.force("z" * 20)
    assert budget.left_out == 1
    assert budget.text() == "x" * 80 + "z" * 20


def test_a_report_with_nothing_to_say_still_renders(report: Report) -> None:
    report.findings, report.unused_suppressions, report.score = [], [], None
    text = render(report)
    assert "No new findings." in text
    assert "n/a" in text
    assert text.count("<details") == text.count("</details>")
