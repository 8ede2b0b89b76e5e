"""GitHub workflow commands: most severe first, within GitHub's limits, safely encoded."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from mlsteward.audit import Report, audit
from mlsteward.audit.render.github import MAX_PER_LEVEL, MAX_TOTAL, render
from mlsteward.audit.report import Suppression
from repo_builder import build_repo

BROKEN = "def f(:\n    pass\n"
COMMAND = re.compile(r"^::(error|warning|notice)( [^:]*)?::(.*)$")


@pytest.fixture
def report(tmp_path: Path) -> Report:
    files = {"bad.py": BROKEN, "bin.py": b"x = 1\x00\x01\x02\n", "ok.py": "x = 1\n"}
    return audit(build_repo(tmp_path / "repo", files))


def _with(report: Report, counts: dict[str, int]) -> Report:
    """The report with exactly this many active findings of each severity."""
    template = report.findings[0]
    report.findings = [
        replace(template, severity=sev, path=f"{sev}/{i}.py", line=i + 1, fingerprint=f"{sev}{i}")
        for sev, n in counts.items()
        for i in range(n)
    ]
    return report


def test_one_command_per_line_and_nothing_else(report: Report) -> None:
    lines = render(report).splitlines()
    assert lines
    for line in lines:
        assert COMMAND.match(line), line
    assert len(lines) == len(report.active_findings()) or "more finding" in lines[-1]


def test_most_severe_first_capped_per_level_with_a_final_notice(report: Report) -> None:
    lines = render(_with(report, {"low": 15, "medium": 15, "high": 15})).splitlines()
    kinds = [COMMAND.match(line).group(1) for line in lines]  # type: ignore[union-attr]
    assert kinds == sorted(kinds, key=["error", "warning", "notice"].index)
    assert kinds.count("error") == MAX_PER_LEVEL
    assert kinds.count("warning") == MAX_PER_LEVEL
    # one notice slot is kept for the summary line, so GitHub does not drop it
    assert kinds.count("notice") == MAX_PER_LEVEL
    assert len(lines) <= MAX_TOTAL
    shown = len(lines) - 1
    assert lines[-1].startswith("::notice title=mlsteward::")
    assert f"{45 - shown} more finding(s)" in lines[-1]


def test_no_summary_line_when_everything_fits(report: Report) -> None:
    lines = render(_with(report, {"high": 3, "low": 2})).splitlines()
    assert len(lines) == 5
    assert "more finding" not in lines[-1]


def test_suppressed_and_baseline_findings_are_not_annotated(report: Report) -> None:
    report = _with(report, {"high": 3})
    report.findings[0].suppressed = Suppression("inline", "on purpose", "a.py", 1, "AUD002")
    report.findings[1].baseline = "unchanged"
    assert len(render(report).splitlines()) == 1


def test_no_findings_prints_nothing(report: Report) -> None:
    report.findings = []
    assert render(report) == ""


def test_message_and_properties_are_percent_encoded(report: Report) -> None:
    report = _with(report, {"high": 1})
    report.findings[0] = replace(
        report.findings[0],
        message="100% broken\r\nsecond line\n::set-env name=X::y",
        path="dir,odd/a:b.py",
        line=7,
        column=2,
    )
    (line,) = render(report).splitlines()
    head, message = line.split("::", 2)[1:]
    assert message == "100%25 broken%0D%0Asecond line%0A::set-env name=X::y"
    assert "file=dir%2Codd/a%3Ab.py" in head
    assert ",line=7," in head
    assert ",col=3," in head
    assert head.startswith("error ")
    title = head.split("title=")[1]
    assert title == f"{report.findings[0].code} {report.findings[0].name}"
