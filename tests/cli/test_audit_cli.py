"""`steward audit` as a user runs it: exit codes 0/1/2, formats, outputs, several paths."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlsteward.cli import main
from repo_builder import build_repo

BROKEN = "def f(:\n    pass\n"


def test_clean_run_exits_0_and_prints_the_summary_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build_repo(tmp_path, {"a.py": "x = 1\n"})
    assert main(["audit", str(root), "--select", "AUD"]) == 0
    out = capsys.readouterr().out
    assert out.index("ML Test Score") < out.index("Findings")


def test_fail_on_exits_1_and_exit_zero_overrides(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a.py": BROKEN})
    assert (
        main(
            [
                "audit",
                str(root),
                "--select",
                "AUD",
                "--fail-on",
                "low",
                "-f",
                "json",
                "-o",
                str(tmp_path / "r.json"),
            ]
        )
        == 1
    )
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["gate"]["passed"] is False
    assert (
        main(
            [
                "audit",
                str(root),
                "--select",
                "AUD",
                "--fail-on",
                "low",
                "--exit-zero",
                "-o",
                str(tmp_path / "x"),
            ]
        )
        == 0
    )


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "/definitely/not/here"],
        ["audit", ".", "--format", "xml"],
        ["audit", ".", "--select", "NOPE"],
        ["audit", ".", "--fail-on", "critical"],
        ["audit", ".", "--profile", "prod"],
        ["audit", ".", "--context", "deployed"],
        ["audit", ".", "--bogus-option"],
        ["audit", "explain", "XX999"],
        ["catalog", "show", "seml-999"],
    ],
)
def test_usage_errors_exit_2_with_a_code_and_no_traceback(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error" in err.lower()


def test_write_baseline_then_gate_on_new_findings_only(tmp_path: Path) -> None:
    root = build_repo(tmp_path / "r", {"a.py": BROKEN})
    base = tmp_path / "base.json"
    assert main(["audit", str(root), "--select", "AUD", "--write-baseline", str(base)]) == 0
    assert (
        main(
            [
                "audit",
                str(root),
                "--select",
                "AUD",
                "--baseline",
                str(base),
                "--fail-on",
                "low",
                "-o",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )


def test_several_paths_give_one_csv_table(tmp_path: Path) -> None:
    a = build_repo(tmp_path / "a", {"a.py": "x = 1\n"})
    b = build_repo(tmp_path / "b", {"b.py": BROKEN})
    out = tmp_path / "table.csv"
    code = main(
        ["audit", str(a), str(b), str(tmp_path / "missing"), "-f", "csv", "-o", str(out), "-j", "2"]
    )
    assert code == 1, "a path that cannot be audited fails the run"
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [Path(r["repository"]).name for r in rows] == ["a", "b", "missing"]
    assert rows[2]["error"]
    assert not rows[0]["error"]
    assert "seml-22" in rows[0]
    assert "ml_test_score" in rows[0]


def test_rules_and_explain_render_from_the_rule_docs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert {"code", "name", "severity", "practices", "summary"} <= set(rules[0])
    assert main(["audit", "explain", rules[0]["code"]]) == 0
    text = capsys.readouterr().out
    for section in ("What it finds", "Why it matters", "Example", "Instead"):
        assert f"### {section}" in text


def test_catalog_lists_and_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--catalog", "ml-test-score", "--category", "monitoring"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7
    assert all(line.startswith("mts-monitor-") for line in lines)
    assert main(["catalog", "show", "mts-infra-1"]) == 0
    assert "Training is reproducible" in capsys.readouterr().out


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    root = build_repo(tmp_path, {"a.py": "x = 1\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "mlsteward", "audit", str(root), "--select", "AUD", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema_version"] == "1.0"


def test_catalog_json_names_the_rules_behind_each_practice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["catalog", "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) == 96
    assert "SML014" in rows["smell-14"]["rules"]
    assert all(isinstance(r["rules"], list) for r in rows.values())
