"""The JSON report matches docs/schema/audit-report.schema.json, and the schema matches the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mlsteward.audit import AuditOptions, Report, audit
from mlsteward.audit.baseline import write_baseline
from mlsteward.audit.render.json import render
from mlsteward.audit.report import ADOPTION_LEVELS, SCHEMA_VERSION
from mlsteward.audit.rule import SEVERITY_ORDER, Status, Strength
from repo_builder import build_repo, notebook

ROOT = Path(__file__).resolve().parents[3]
SCHEMA: dict[str, Any] = json.loads(
    (ROOT / "docs" / "schema" / "audit-report.schema.json").read_text(encoding="utf-8")
)
BROKEN = "def f(:\n    pass\n"
REPOS = {
    "empty": {},
    "clean": {"train.py": "import numpy as np\nx = np.zeros(3)\n"},
    "broken": {
        "pyproject.toml": '[project]\nname = "demo"\n\n'
        '[tool.steward.audit.per-path-ignores]\n"legacy/*" = { AUD002 = "kept for reference" }\n',
        "bad.py": BROKEN,
        "bin.py": b"x = 1\x00\x01\x02\n",
        "ok.py": "x = 1  # steward: ignore[AUD002] nothing to ignore here\n",
        "legacy": {"old.py": BROKEN},
        "nb.ipynb": notebook("import pandas as pd\ndf = pd.read_csv('a.csv')"),
        ".github": {"workflows": {"ci.yml": "on: push\njobs:\n\t- bad: [\n"}},
    },
}


def _errors(document: object) -> list[str]:
    validator = Draft202012Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", sorted(REPOS))
@pytest.mark.parametrize("use_git", [False, True], ids=["plain", "git"])
def test_reports_of_fixture_repositories_validate(tmp_path: Path, name: str, use_git: bool) -> None:
    report = audit(build_repo(tmp_path / name, REPOS[name], use_git=use_git))
    document = json.loads(render(report))
    assert _errors(document) == []


def test_a_report_with_a_baseline_and_a_gate_validates(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "repo", {"bad.py": BROKEN})
    write_baseline(tmp_path / "baseline.json", audit(root).findings)
    (root / "bad.py").write_text("x = 1\n", encoding="utf-8")
    (root / "new.py").write_text(BROKEN, encoding="utf-8")
    options = AuditOptions(baseline=tmp_path / "baseline.json", fail_under=90, fail_on="low")
    document = audit(root, options).to_dict()
    assert document["unused_suppressions"], "the fixed finding leaves its baseline entry unused"
    assert document["gate"]["passed"] is False
    assert _errors(document) == []


def test_the_report_of_this_repository_validates() -> None:
    assert _errors(audit(ROOT).to_dict()) == []


def test_required_keys_cover_what_consumers_rely_on() -> None:
    assert {
        "schema_version", "tool", "repository", "profile", "summary", "gate",
        "ml_test_score", "categories", "practices", "rules", "findings",
        "unused_suppressions", "errors",
    } <= set(SCHEMA["required"])  # fmt: skip
    defs = SCHEMA["$defs"]
    assert set(SCHEMA["properties"]["ml_test_score"]["required"]) >= {
        "data", "model", "infrastructure", "monitoring", "final", "band", "applicable",
    }  # fmt: skip
    assert {"id", "adoption", "evidence"} <= set(defs["practice"]["required"])
    assert {
        "code", "severity", "message", "path", "line", "fingerprint", "suppressed", "baseline",
    } <= set(defs["finding"]["required"])  # fmt: skip


def test_enumerations_match_the_code() -> None:
    defs = SCHEMA["$defs"]
    assert defs["practice"]["properties"]["adoption"]["enum"] == [
        *ADOPTION_LEVELS,
        "not_applicable",
        "unknown",
    ]
    assert set(defs["severity"]["enum"]) == set(SEVERITY_ORDER)
    assert defs["strength"]["enum"] == [s.label for s in Strength]
    assert defs["rule"]["properties"]["status"]["enum"] == [s.value for s in Status]
    major = SCHEMA_VERSION.split(".")[0]
    assert SCHEMA["properties"]["schema_version"]["pattern"] == f"^{major}\\.[0-9]+$"


def test_every_report_field_is_documented() -> None:
    doc = (ROOT / "docs" / "report-format.md").read_text(encoding="utf-8")

    def names(schema: dict[str, Any]) -> set[str]:
        out = set(schema.get("properties", {}))
        for sub in schema.get("properties", {}).values():
            if isinstance(sub, dict) and sub.get("type") == "object":
                out |= names(sub)
        return out

    fields = names(SCHEMA)
    for definition in SCHEMA["$defs"].values():
        fields |= names(definition)
    missing = sorted(f for f in fields if f"`{f}`" not in doc)
    assert missing == [], f"docs/report-format.md does not describe {missing}"


def test_json_output_is_the_report_dictionary(tmp_path: Path) -> None:
    report: Report = audit(build_repo(tmp_path / "repo", REPOS["broken"]))
    assert json.loads(render(report)) == report.to_dict()
    assert str(tmp_path) not in render(report)
