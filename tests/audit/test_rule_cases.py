"""One runner for every rule's declared pass and fail cases (tests/audit/rules/cases_*.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from rulecases import Case

from mlsteward.audit import AuditOptions, audit
from mlsteward.audit.registry import all_rules
from repo_builder import build_repo


def _load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted((Path(__file__).parent / "rules").glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    return cases


CASES = _load_cases()


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.code}-{c.expect}-{c.id or i}" for i, c in enumerate(CASES)]
)
def test_rule_case(case: Case, tmp_path: Path) -> None:
    root = build_repo(tmp_path / "repo", case.files, use_git=case.git)
    report = audit(
        root,
        AuditOptions(select=[case.code], profile=case.profile, extra_context=dict(case.context)),
    )
    result = next(r for r in report.rules if r.code == case.code)
    assert result.status.value == case.expect, (result.note, [f.message for f in report.findings])
    # a finding the case suppresses (inline ignore) does not count against a pass
    findings = [f for f in report.findings if f.code == case.code and f.suppressed is None]
    if case.expect == "passed":
        assert not findings, [f.message for f in findings]
        assert result.evidence or result.note, "a passing verdict must say what it saw"
    if case.expect == "failed":
        assert findings, "a failing rule must report at least one finding"
        assert all(f.path for f in findings), "every finding must point at a file"
    if case.lines is not None:
        assert sorted((f.path, f.line) for f in findings) == sorted(case.lines)


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    seen: dict[str, set[str]] = {}
    for case in CASES:
        seen.setdefault(case.code, set()).add(case.expect)
    missing = [
        code
        for code in all_rules()
        if not (
            {"passed"} <= seen.get(code, set()) and seen.get(code, set()) & {"failed", "partial"}
        )
    ]
    assert not missing, f"rules without both a passing and a failing case: {missing}"
