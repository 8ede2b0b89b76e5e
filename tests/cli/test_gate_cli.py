"""`steward gate run` as a user runs it: checks, verdict id, exit codes 0, 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gates.world import build_world
from mlsteward.cli import main


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_gate_run_text_json_and_exit_codes(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_world(project_dir)
    args = ["gate", "run", "churn", "1", "--data", "evalset", "--label", "y"]
    assert main([*args, "--policy", "production"]) == 0
    out = capsys.readouterr().out
    assert "pass  metrics:" in out
    assert "pass  fairness:" in out
    assert "measured: accuracy 0." in out
    assert "expected: accuracy >= 0.8" in out
    assert "passed: churn@1 against policy 'production'" in out
    assert out.splitlines()[-1].startswith("verdict ")

    assert main([*args, "--policy", "strict", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] is False
    assert doc["model"] == "churn@1"
    assert doc["dataset"] == "evalset@1"
    assert len(doc["policy_hash"]) == 64
    assert doc["checks"][0]["check"] == "metrics"
    assert not doc["checks"][0]["passed"]

    assert main([*args, "--policy", "strict"]) == 1
    assert "FAIL  metrics: accuracy = " in capsys.readouterr().out

    assert main([*args[:-1], "nolabel", "--policy", "strict"]) == 2
    assert "[gate-data]" in capsys.readouterr().err
    assert main([*args, "--policy", "nope"]) == 2
    err = capsys.readouterr().err
    assert "[gate-unknown-policy]" in err
    assert "production" in err
    assert main([*args, "--policy", "strict", "--format", "yaml"]) == 2
    assert "[unknown-format]" in capsys.readouterr().err
