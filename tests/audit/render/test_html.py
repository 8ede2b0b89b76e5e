"""HTML: one offline file under 1 MB, with a chart, escaped, and well formed."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mlsteward.audit import Report, audit
from mlsteward.audit.render.html import MAX_BYTES, render
from mlsteward.reports.html import Bar, Group, bar_chart, escape, table
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
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "rect", "path", "line", "circle"}


class _Tags(HTMLParser):
    """Checks that every element is closed in order (void and self-closed ones aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()


@pytest.fixture
def report(tmp_path: Path) -> Report:
    return audit(build_repo(tmp_path / "repo", FILES, use_git=True))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("big")
    build_repo(root, {"pkg": {f"m{i:04}.py": BROKEN for i in range(2000)}})
    return audit(root)


def _well_formed(text: str) -> None:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []


def test_page_is_self_contained_and_loads_nothing(report: Report) -> None:
    text = render(report)
    assert text.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in text
    assert not re.search(r"<link\b|<script\b|<iframe\b|<img\b|\bsrc\s*=|url\(|@import", text)
    assert "http://" not in text
    assert "https://" not in text
    _well_formed(text)


def test_page_has_an_accessible_chart_and_every_section(report: Report) -> None:
    text = render(report)
    assert text.count("<svg") >= 2, "adoption by category and the ML Test Score"
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert 'role="img"' in svg
    assert "aria-labelledby" in svg
    assert "<title" in svg
    for c in report.categories:
        assert f">{c.category}</text>" in text
    for heading in ("Adoption by category", "ML Test Score", "Findings", "Practices"):
        assert f"<h2>{heading}" in text
    for p in report.practices:
        assert f"<code>{p.id}</code>" in text
    assert "<code>bad.py:1</code>" in text
    assert "kept for reference" in text


def test_text_from_the_repository_is_escaped(report: Report) -> None:
    report.findings[0] = replace(report.findings[0], message='<img src=x onerror="alert(1)">')
    report.repository["name"] = "<script>alert(1)</script>"
    text = render(report)
    assert "<img" not in text
    assert "<script" not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    _well_formed(text)


def test_two_thousand_findings_stay_under_one_megabyte(big: Report) -> None:
    assert len(big.findings) >= 2000
    text = render(big)
    assert len(text.encode("utf-8")) < MAX_BYTES
    assert "<svg" in text
    rows = text.count("<code>pkg/m")
    if rows < len(big.findings):
        assert "not shown" in text
    _well_formed(text)


def test_output_is_deterministic(report: Report) -> None:
    assert render(report) == render(report)


def test_building_blocks_escape_and_mark_up() -> None:
    assert escape('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert escape(escape("<")) == "&lt;", "markup is not escaped twice"
    html = table(["a", "b"], [Group("g<"), ["<x>", escape("<y>")]], numeric=(1,))
    assert '<th colspan="2" scope="rowgroup">g&lt;</th>' in html
    assert "<td>&lt;x&gt;</td>" in html
    assert '<td class="num">&lt;y&gt;</td>' in html
    chart = bar_chart([Bar("data", 0.5), Bar("none", None)], title="T & U")
    assert "<title id=" in chart
    assert "T &amp; U" in chart
    assert "50%" in chart
    assert 'class="none"' in chart
    _well_formed(chart)


def test_a_report_with_nothing_to_say_still_renders(report: Report) -> None:
    report.findings, report.unused_suppressions, report.score = [], [], None
    report.errors.append("XYZ001: rule crashed: ValueError: <boom>")
    report.gate.passed, report.gate.reasons = False, ["score 0 is under --fail-under 50"]
    text = render(report)
    assert "No new findings." in text
    assert "Gate failed" in text
    assert "&lt;boom&gt;" in text
    _well_formed(text)
