"""Documentation facts: kinds by location, headings, card front matter, CODEOWNERS, URLs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mlsteward.audit.facts import Facts
from mlsteward.audit.facts.docs import parse_headings
from repo_builder import build_repo


def _facts(tmp_path: Path, files: dict[str, object]) -> Facts:
    return Facts(build_repo(tmp_path / "repo", files))  # type: ignore[arg-type]


def test_headings_in_markdown_setext_rst_and_bold() -> None:
    text = (
        "---\ntitle: front matter\n---\n"
        "# Title\n\n"
        "```\n# not a heading\n```\n"
        "Setext two\n----------\n"
        "**Intended use:**\n"
        "| a | b |\n|---|---|\n"
        "<h2>Limits</h2>\n"
    )
    assert [(h.level, h.text, h.line) for h in parse_headings(text)] == [
        (1, "Title", 4),
        (2, "Setext two", 9),
        (6, "Intended use", 11),
        (2, "Limits", 14),
    ]


def test_restructuredtext_headings() -> None:
    text = "Project\n=======\n\nObjective\n---------\nText.\n"
    assert [(h.level, h.text) for h in parse_headings(text)] == [(1, "Project"), (2, "Objective")]


def test_kinds_come_from_names_and_places(tmp_path: Path) -> None:
    files = {
        "README.md": "# x\n",
        "SECURITY.md": "mail us\n",
        "src": {"SECURITY.md": "not the policy\n", "README.md": "nested\n"},
        ".github": {
            "pull_request_template.md": "## Changes\n",
            "ISSUE_TEMPLATE": {
                "bug.yml": "name: Bug\n",
                "config.yml": "blank_issues_enabled: false\n",
            },
            "CODEOWNERS": "* @team\n",
            "release.yml": "changelog: {}\n",
        },
        "docs": {
            "adr": {"0001-record.md": "# Record\n", "index.md": "# ADRs\n"},
            "model_card.md": "# Card\n",
            "risk-assessment-2024.md": "# Risks\n",
            "audit.md": "# How to run the audit\n",
            "audits": {"external-2024.pdf": b"%PDF"},
        },
        "data": {"README.md": "# Data\n"},
    }
    docs = _facts(tmp_path, files).docs
    kinds = {d.path: set(d.kinds) for d in docs.documents}
    assert kinds["README.md"] == {"readme"}
    assert kinds["SECURITY.md"] == {"security"}
    assert "src/SECURITY.md" not in kinds
    assert "src/README.md" not in kinds
    assert kinds[".github/pull_request_template.md"] == {"pr-template"}
    assert kinds[".github/ISSUE_TEMPLATE/bug.yml"] == {"issue-template"}
    assert kinds["docs/adr/0001-record.md"] == {"adr"}
    assert "docs/adr/index.md" not in kinds
    assert kinds["docs/model_card.md"] == {"model-card"}
    assert kinds["docs/risk-assessment-2024.md"] == {"risk-assessment"}
    assert "docs/audit.md" not in kinds
    assert kinds["docs/audits/external-2024.pdf"] == {"audit-report"}
    assert kinds["data/README.md"] == {"data-readme"}
    assert docs.release_tooling == [".github/release.yml"]
    assert docs.readme is not None
    assert docs.readme.path == "README.md"


def test_hugging_face_front_matter_makes_a_card(tmp_path: Path) -> None:
    model = "---\nlicense: mit\npipeline_tag: text-classification\n---\n# M\n## Uses\n"
    data = "---\ntask_categories: [translation]\n---\n# D\n"
    docs = _facts(tmp_path, {"README.md": model, "hub": {"ds": {"README.md": data}}}).docs
    assert {d.path for d in docs.of("model-card")} == {"README.md"}
    assert {d.path for d in docs.of("datasheet")} == {"hub/ds/README.md"}
    card = docs.of("model-card")[0]
    assert card.front_matter is not None
    assert card.front_matter["license"] == "mit"
    assert card.section(r"\buses\b") is not None


def test_broken_front_matter_is_reported_once(tmp_path: Path) -> None:
    facts = _facts(tmp_path, {"README.md": "---\nlicense: [mit\n---\n# x\n"})
    assert facts.docs.readme is not None
    assert [p.kind for p in facts.problems] == ["config"]


def test_codeowners_last_matching_rule_wins(tmp_path: Path) -> None:
    owners = (
        "# comment\n*       @all\n/src/   @core\n/src/generated/\n*.md    @docs\n*.txt @x # no\n"
    )
    docs = _facts(tmp_path, {".github": {"CODEOWNERS": owners}}).docs
    assert docs.codeowners_path == ".github/CODEOWNERS"
    # a line with an inline comment is invalid on GitHub, so it is skipped
    assert [r.line for r in docs.codeowners] == [2, 3, 4, 5]
    assert docs.owners_of("notes.txt") == ("@all",)
    assert docs.owners_of("train.py") == ("@all",)
    assert docs.owners_of("src/model.py") == ("@core",)
    assert docs.owners_of("src/generated/x.py") == ()
    assert docs.owners_of("src/README.md") == ("@docs",)


def test_dates_written_in_documents(tmp_path: Path) -> None:
    text = "# Risk assessment\nReviewed 2023-11-02, updated March 5, 2024 and 1 June 2024.\n"
    doc = _facts(tmp_path, {"RISK_ASSESSMENT.md": text}).docs.first("risk-assessment")
    assert doc is not None
    assert doc.dates == (date(2023, 11, 2), date(2024, 3, 5), date(2024, 6, 1))
    assert doc.latest_date == date(2024, 6, 1)


def test_project_urls_from_every_manifest(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "x"\n[project.urls]\nIssues = "https://github.com/a/x/issues"\n',
        "setup.cfg": "[metadata]\nproject_urls =\n    Docs = https://x.dev\n",
        "setup.py": "from setuptools import setup\nsetup(url='https://gitlab.com/a/x')\n",
    }
    urls = _facts(tmp_path, files).docs.project_urls
    assert urls == {
        "Issues": "https://github.com/a/x/issues",
        "Docs": "https://x.dev",
        "url": "https://gitlab.com/a/x",
    }
