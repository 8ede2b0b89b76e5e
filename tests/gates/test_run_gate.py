"""run_gate on registered versions and stored datasets: one verdict per run, or none."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from gates.world import World
from mlsteward.errors import GateError
from mlsteward.gates import run_gate
from mlsteward.project import Project
from mlsteward.registry.policy import get_policy
from mlsteward.registry.verdicts import passing_verdict, verdicts_of
from mlsteward.store.database import open_store
from mlsteward.store.schema import model_datasets, verdicts


def _verdict_count(world: World) -> int:
    with open_store(Project.open(world.root)).read() as conn:
        return int(conn.execute(select(func.count()).select_from(verdicts)).scalar() or 0)


def test_a_passing_gate_records_one_verdict_and_allows_promotion(world: World) -> None:
    from mlsteward.registry import promote

    verdict = run_gate("churn", 1, policy="production", data="evalset", label="y")
    assert verdict.passed, [c["detail"] for c in verdict.checks if not c["passed"]]
    assert [c["check"] for c in verdict.checks] == [
        "metrics", "baseline", "slices", "fairness", "features",
    ]  # fmt: skip
    baseline = verdict.checks[1]
    assert baseline["measured"]["trained_on"] == "training dataset train@1"
    project = Project.open(world.root)
    policy = get_policy(project, "production")
    with open_store(project).read() as conn:
        [row] = verdicts_of(conn, verdict.version_id)
        assert row.id == verdict.id
        assert row.passed
        assert row.policy == "production"
        assert row.policy_hash == policy.hash
        assert row.dataset_version_id == verdict.dataset_version_id
        assert row.checks[0]["measured"]["accuracy"] == verdict.checks[0]["measured"]["accuracy"]
        assert passing_verdict(conn, verdict.version_id, "production", policy.hash) is not None
        roles = conn.execute(
            select(model_datasets.c.role).where(model_datasets.c.version_id == verdict.version_id)
        ).scalars()
        assert sorted(roles) == ["eval", "train"]
    move = promote("churn", 1, "production", reason="passed its gate", project=world.root)
    assert move.verdict_id == verdict.id
    # a changed policy has another hash: the old verdict no longer counts
    text = (world.root / "pyproject.toml").read_text()
    (world.root / "pyproject.toml").write_text(text.replace('">= 0.8"', '">= 0.81"', 1))
    changed = get_policy(Project.open(world.root), "production")
    assert changed.hash != policy.hash
    with open_store(project).read() as conn:
        assert passing_verdict(conn, verdict.version_id, "production", changed.hash) is None


def test_a_failing_gate_records_a_failed_verdict(world: World) -> None:
    verdict = run_gate("churn@1", policy="strict", data="evalset@1", label="y")
    assert not verdict.passed
    assert "expected >= 0.99" in verdict.checks[0]["detail"]
    with open_store(Project.open(world.root)).read() as conn:
        [row] = verdicts_of(conn, verdict.version_id)
    assert not row.passed


def test_regression_against_the_alias_holder(world: World) -> None:
    from sklearn.linear_model import LogisticRegression

    from mlsteward.registry import promote

    first = run_gate("churn", 1, policy="staging", data="evalset", label="y")
    assert first.passed
    assert "no current holder" in first.checks[1]["detail"]
    promote("churn", 1, "staging", reason="first", project=world.root)
    weak = LogisticRegression().fit(world.train[["x2"]], world.train.y)
    world.register(weak, ["x2"])
    second = run_gate("churn", 2, policy="staging", data="evalset", label="y")
    regression = second.checks[1]
    assert not second.passed
    assert not regression["passed"]
    assert regression["measured"]["holder_version"] == "churn@1"


def test_the_data_check_reads_attached_schemas(world: World) -> None:
    from mlsteward.data.profile import profile_data
    from mlsteward.data.schema import infer_schema, save_schema

    project = Project.open(world.root)
    verdict = run_gate("churn", 1, policy="checked", data="evalset", label="y")
    data = verdict.checks[0]
    assert not data["passed"]
    assert "steward data infer-schema train@1 --save" in data["detail"]
    for ref in ("train@1", "evalset@1"):
        save_schema(project, ref, infer_schema(profile_data(ref, project=project)))
    again = run_gate("churn", 1, policy="checked", data="evalset", label="y")
    assert again.passed, again.checks[0]["detail"]
    assert again.checks[0]["measured"]["train@1"]["errors"] == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"policy": "prod", "data": "evalset", "label": "y"}, "gate-unknown-policy"),
        ({"policy": "production", "data": "evalset", "label": "churned"}, "gate-data"),
        ({"policy": "sliced", "data": "evalset", "label": "y"}, "gate-data"),
    ],
)
def test_a_gate_that_cannot_run_writes_no_verdict(
    world: World, kwargs: dict[str, Any], code: str
) -> None:
    with pytest.raises(GateError) as info:
        run_gate("churn", 1, **kwargs)
    assert info.value.code == code
    assert _verdict_count(world) == 0
