"""The policy language: every key checked strictly, thresholds parsed, the hash."""

from __future__ import annotations

from typing import Any

import pytest

from mlsteward.errors import GateError
from mlsteward.project import Project
from mlsteward.registry.policy import (
    CLASSIFICATION_METRICS,
    FAIRNESS_METRICS,
    REGRESSION_METRICS,
    get_policy,
    parse_policy,
    parse_threshold,
)

FULL: dict[str, Any] = {
    "metrics": {"accuracy": ">= 0.8", "f1": "> 0.5"},
    "baseline": "linear",
    "max_regression": 0.01,
    "slices": {"columns": ["region"], "metrics": {"accuracy": ">= 0.7"}, "min_rows": 30},
    "sensitive": ["gender"],
    "fairness": {"demographic_parity_difference": "<= 0.1", "accuracy_ratio": ">= 0.8"},
    "data": True,
    "denylist": ["gender", "race"],
    "reproducibility": {"command": "python train.py", "metrics": ["accuracy"], "tolerance": 0.01},
    "canary_minutes": 30,
    "canary_alias": "canary",
}


def test_a_full_policy_reads_back_typed() -> None:
    p = parse_policy("production", FULL)
    assert [(t.metric, t.op, t.value) for t in p.metrics] == [
        ("accuracy", ">=", 0.8),
        ("f1", ">", 0.5),
    ]
    assert p.task == "classification"
    assert p.baseline == "linear"
    assert p.max_regression == 0.01
    assert p.slices is not None
    assert p.slices.columns == ("region",)
    assert p.slices.min_rows == 30
    assert p.sensitive == ("gender",)
    assert [t.metric for t in p.fairness] == ["demographic_parity_difference", "accuracy_ratio"]
    assert p.data is True
    assert p.denylist == ("gender", "race")
    assert p.reproducibility is not None
    assert p.reproducibility.argv == ("python", "train.py")
    assert p.canary_minutes == 30
    assert p.canary_alias == "canary"


def test_defaults() -> None:
    p = parse_policy("staging", {"baseline": True})
    assert p.baseline == "dummy"
    assert p.metrics == ()
    assert p.slices is None
    assert p.max_regression is None
    assert p.task is None
    assert parse_policy("s", {"metrics": {"rmse": "<= 3.5"}}).task == "regression"


def test_the_hash_follows_the_settings_not_their_order() -> None:
    a = parse_policy("production", {"metrics": {"accuracy": ">= 0.8"}, "baseline": True})
    b = parse_policy("production", {"baseline": True, "metrics": {"accuracy": ">= 0.8"}})
    c = parse_policy("production", {"metrics": {"accuracy": ">= 0.81"}, "baseline": True})
    assert a.hash == b.hash
    assert a.hash != c.hash


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [(">= 0.8", ">=", 0.8), ("<3.5", "<", 3.5), ("  >  -1e-3 ", ">", -0.001), ("<= .5", "<=", 0.5)],
)
def test_thresholds_parse(text: str, op: str, value: float) -> None:
    t = parse_threshold("m", text)
    assert (t.op, t.value) == (op, value)


def test_threshold_semantics() -> None:
    assert parse_threshold("m", ">= 0.8").holds(0.8)
    assert not parse_threshold("m", "> 0.8").holds(0.8)
    assert parse_threshold("m", "< 1").holds(0.5)
    assert not parse_threshold("m", "<= 1").holds(float("nan"))
    assert not parse_threshold("m", "<= 1").holds(None)


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ({"metrcs": {}}, "unknown key 'metrcs'"),
        ({"metrics": {"accuracy": "at least 0.8"}}, "accuracy"),
        ({"metrics": {"accuracy": ">= nan"}}, "accuracy"),
        ({"metrics": {"accuracy": 0.8}}, "accuracy"),
        ({"metrics": {"acuracy": ">= 0.8"}}, "'acuracy', which is not a metric"),
        ({"metrics": ">= 0.8"}, "metrics must be a table"),
        ({"task": "ranking"}, "task"),
        ({"baseline": "forest"}, "baseline"),
        ({"baseline": 1}, "baseline"),
        ({"max_regression": -0.1}, "max_regression"),
        ({"max_regression": True}, "max_regression"),
        ({"slices": {"columns": [], "metrics": {"accuracy": ">= 0.7"}}}, "slices.columns"),
        ({"slices": {"columns": ["r"], "metrics": {"acc": ">= 0.7"}}}, "'acc'"),
        ({"slices": {"columns": ["r"], "metrics": {}, "min_row": 3}}, "unknown key 'min_row'"),
        ({"slices": {"columns": ["r"], "metrics": {}, "min_rows": 0}}, "slices.min_rows"),
        ({"sensitive": "gender"}, "sensitive"),
        ({"fairness": {"demographic_parity_difference": "<= 0.1"}}, "sensitive"),
        ({"sensitive": ["g"], "fairness": {"disparity": "<= 0.1"}}, "'disparity'"),
        ({"data": "yes"}, "data"),
        ({"denylist": ["ok", 3]}, "denylist"),
        ({"reproducibility": {"metrics": ["a"]}}, "reproducibility.command"),
        ({"reproducibility": {"command": "python 'x", "metrics": ["a"]}}, "command"),
        ({"reproducibility": {"command": "x", "metrics": ["a"], "tolerance": -1}}, "tolerance"),
        ({"reproducibility": {"command": "x", "metrics": ["a"], "retries": 2}}, "'retries'"),
        ({"canary_minutes": -5}, "canary_minutes"),
        ({"canary_alias": ""}, "canary_alias"),
        ({"metrics": {"accuracy": ">= 0.8", "rmse": "<= 3"}}, "mixes classification"),
        ({"task": "regression", "metrics": {"accuracy": ">= 0.8"}}, "mixes classification"),
    ],
)
def test_bad_policies_name_the_key(table: dict[str, Any], names: str) -> None:
    with pytest.raises(GateError) as info:
        parse_policy("production", table)
    assert info.value.code == "gate-policy"
    assert names in info.value.message
    assert info.value.hint


def test_the_metric_lists_are_the_documented_ones() -> None:
    assert set(CLASSIFICATION_METRICS) == {
        "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss",
    }  # fmt: skip
    assert set(REGRESSION_METRICS) == {"mse", "rmse", "mae", "r2"}
    assert "equalized_odds_difference" in FAIRNESS_METRICS


def test_an_unknown_policy_lists_the_declared_ones(tmp_path: Any) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.steward.gates.production]\nbaseline = true\n'
        '[tool.steward.gates.staging]\nmetrics = { accuracy = ">= 0.5" }\n'
    )
    project = Project.open(tmp_path)
    assert get_policy(project, "staging").metrics[0].value == 0.5
    with pytest.raises(GateError) as info:
        get_policy(project, "prod")
    assert info.value.code == "gate-unknown-policy"
    assert "production, staging" in info.value.message
