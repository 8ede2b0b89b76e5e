"""The engine end to end on fixture repositories: suppressions, baselines, gates, scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlsteward.audit import AuditOptions, audit
from mlsteward.audit.baseline import read_baseline, write_baseline
from mlsteward.errors import BaselineError, ConfigError, PathError, UnknownIdError
from repo_builder import build_repo

BROKEN = "def f(:\n    pass\n"


def _codes(report: object) -> list[str]:
    return [f.code for f in report.active_findings()]  # type: ignore[attr-defined]


def test_a_repository_that_is_not_git_is_audited(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"train.py": "x = 1\n"})
    report = audit(root, AuditOptions(select=["AUD"]))
    assert report.repository["git"]["is_repo"] is False
    assert report.repository["name"] == root.name
    assert str(tmp_path) not in json.dumps(report.to_dict()), "no absolute paths in reports"


def test_missing_path_and_file_path_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(PathError):
        audit(tmp_path / "nope")
    (tmp_path / "f.py").write_text("x = 1\n")
    with pytest.raises(PathError):
        audit(tmp_path / "f.py")


def test_unknown_select_prefix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownIdError):
        audit(tmp_path, AuditOptions(select=["XYZ"]))


def test_broken_pyproject_is_reported_and_the_audit_goes_on(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"pyproject.toml": "[project\nname = 1\n", "a.py": "x = 1\n"})
    report = audit(root, AuditOptions(select=["AUD"]))
    assert any(f.code == "AUD003" and f.path == "pyproject.toml" for f in report.findings)


def test_invalid_steward_config_stops_with_a_code(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"pyproject.toml": '[tool.steward]\nprofile = "big"\n'})
    with pytest.raises(ConfigError) as info:
        audit(root)
    assert info.value.code == "config-value"


def test_inline_ignore_suppresses_and_unused_ones_are_reported(tmp_path: Path) -> None:
    root = build_repo(
        tmp_path,
        {
            "bad.py": "def f(:  # steward: ignore[AUD002] fixture on purpose\n    pass\n",
            "ok.py": "x = 1  # steward: ignore[AUD002] stale\n",
        },
    )
    report = audit(root, AuditOptions(select=["AUD"]))
    # a file that does not parse has no comments we can read: the finding stays
    assert "AUD002" in _codes(report)
    unused = [(s.path, s.line) for s in report.unused_suppressions if s.kind == "inline"]
    assert ("ok.py", 1) in unused


def test_per_path_ignore_needs_and_keeps_its_reason(tmp_path: Path) -> None:
    root = build_repo(
        tmp_path,
        {
            "pyproject.toml": "[tool.steward.audit.per-path-ignores]\n"
            '"fixtures/**" = { AUD002 = "broken on purpose" }\n'
            '"docs/*" = { AUD001 = "never matches" }\n',
            "fixtures/bad.py": BROKEN,
        },
    )
    report = audit(root, AuditOptions(select=["AUD"]))
    f = next(f for f in report.findings if f.code == "AUD002")
    assert f.suppressed is not None
    assert f.suppressed.reason == "broken on purpose"
    assert not report.active_findings()
    rule = next(r for r in report.rules if r.code == "AUD002")
    assert rule.status.value == "passed", "a fully suppressed rule counts as followed"
    assert any(s.kind == "per-path" and s.code == "AUD001" for s in report.unused_suppressions)


def test_config_ignore_of_a_passing_rule_is_reported_unused(tmp_path: Path) -> None:
    root = build_repo(
        tmp_path,
        {
            "pyproject.toml": '[tool.steward.audit]\nignore = { AUD004 = "no links here" }\n',
            "a.py": "x=1\n",
        },
    )
    report = audit(root, AuditOptions(select=["AUD"]))
    rule = next(r for r in report.rules if r.code == "AUD004")
    assert rule.ignored == "no links here"
    assert any(s.kind == "config" and s.code == "AUD004" for s in report.unused_suppressions)


def test_baseline_accepts_old_findings_and_fails_new_ones(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "r", {"a.py": BROKEN})
    first = audit(root, AuditOptions(select=["AUD"], fail_on="low"))
    assert not first.gate.passed
    base = tmp_path / "baseline.json"
    assert write_baseline(base, first.findings) == 1
    assert len(read_baseline(base)) == 1

    # the old finding moved down two lines: still the same finding
    (root / "a.py").write_text("\n\n" + BROKEN)
    again = audit(root, AuditOptions(select=["AUD"], baseline=base, fail_on="low"))
    assert again.gate.passed, [f.message for f in again.active_findings()]
    assert [f.baseline for f in again.findings] == ["unchanged"]

    (root / "b.py").write_text("class :\n")
    worse = audit(root, AuditOptions(select=["AUD"], baseline=base, fail_on="low"))
    assert not worse.gate.passed
    assert [f.path for f in worse.active_findings()] == ["b.py"]

    (root / "a.py").write_text("x = 1\n")
    (root / "b.py").unlink()
    fixed = audit(root, AuditOptions(select=["AUD"], baseline=base))
    assert any(s.kind == "baseline" for s in fixed.unused_suppressions)


@pytest.mark.parametrize(
    ("content", "code"),
    [(None, "baseline-missing"), ("{", "baseline-invalid"), ('{"version": 9}', "baseline-version")],
)
def test_bad_baseline_files_are_clear_errors(
    tmp_path: Path, content: str | None, code: str
) -> None:
    base = tmp_path / "b.json"
    if content is not None:
        base.write_text(content)
    with pytest.raises(BaselineError) as info:
        audit(build_repo(tmp_path / "r", {"a.py": "x=1\n"}), AuditOptions(baseline=base))
    assert info.value.code == code


def test_fail_under_uses_the_readiness_score(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a.py": "x = 1\n"})
    report = audit(root, AuditOptions(fail_under=101))
    assert not report.gate.passed
    assert "under --fail-under 101" in report.gate.reasons[0]
    assert audit(root, AuditOptions(fail_under=0)).gate.passed


def test_every_practice_of_every_catalog_is_in_the_report(tmp_path: Path) -> None:
    report = audit(build_repo(tmp_path, {"a.py": "x = 1\n"}))
    ids = [p.id for p in report.practices]
    assert len(ids) == 96
    assert len(set(ids)) == 96
    levels = {p.adoption for p in report.practices}
    assert levels <= {
        "not_adopted",
        "partially",
        "mostly",
        "completely",
        "not_applicable",
        "unknown",
    }


def test_poc_profile_makes_deployment_practices_not_applicable(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a.py": "x = 1\n"})
    poc = audit(root, AuditOptions(profile="poc"))
    canary = next(p for p in poc.practices if p.id == "mts-infra-6")
    assert canary.adoption == "not_applicable"
    prod = audit(root, AuditOptions(profile="production"))
    assert next(p for p in prod.practices if p.id == "mts-infra-6").adoption != "not_applicable"


def test_two_audits_of_the_same_tree_give_the_same_json(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a.py": BROKEN, "b.py": "x = 1\n"}, use_git=True)
    one = json.dumps(audit(root).to_dict())
    two = json.dumps(audit(root).to_dict())
    assert one == two


def test_remote_credentials_never_reach_the_report(tmp_path: Path) -> None:
    root = build_repo(
        tmp_path,
        {"a.py": "x = 1\n"},
        use_git=True,
        remote="https://bot:ghp_secret123@github.com/o/r.git",
    )
    report = audit(root, AuditOptions(select=["AUD"]))
    assert report.repository["git"]["remote"] == "https://github.com/o/r.git"
    assert "ghp_secret123" not in json.dumps(report.to_dict())


def test_context_from_the_command_line_counts_as_said(tmp_path: Path) -> None:
    from mlsteward.audit.facts import Facts
    from mlsteward.config import parse_settings

    facts = Facts(tmp_path, parse_settings({"context": {"labels": True}}))
    assert facts.context_explicit == {"labels"}
    facts.set_context({"deployed": False})
    assert facts.context_explicit == {"labels", "deployed"}
    assert facts.context["deployed"] is False
