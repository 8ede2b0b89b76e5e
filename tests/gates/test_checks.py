"""Each check passes and fails on real small data, through the one engine (`evaluate`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlsteward.errors import GateError
from mlsteward.gates import CHECKS, evaluate
from mlsteward.registry.policy import parse_policy


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 1200
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "region": rng.choice(["north", "south", "east"], n),
            "gender": rng.choice(["f", "m"], n),
        }
    )
    df["y"] = (df.x1 + 0.5 * df.x2 + rng.normal(scale=0.4, size=n) > 0).astype(int)
    return df


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[["x1", "x2"]], frame.y)


def _one(report: Any, check: str) -> dict[str, Any]:
    [found] = [c.to_dict() for c in report.checks if c.check == check]
    return found


def _run(model: Any, frame: pd.DataFrame, table: dict[str, Any], **kw: Any) -> Any:
    return evaluate(model, frame, "y", parse_policy("production", table), **kw)


def test_checks_are_keyed_by_stable_ids() -> None:
    assert list(CHECKS) == [
        "metrics", "baseline", "regression", "slices", "fairness", "data", "features",
        "reproducibility",
    ]  # fmt: skip


def test_metrics_pass_and_fail(model: Any, frame: pd.DataFrame) -> None:
    good = _run(model, frame, {"metrics": {"accuracy": ">= 0.8", "roc_auc": "> 0.9"}})
    assert good.passed
    assert _one(good, "metrics")["measured"]["accuracy"] > 0.8
    bad = _run(model, frame, {"metrics": {"accuracy": ">= 0.99", "log_loss": "<= 5"}})
    result = _one(bad, "metrics")
    assert not bad.passed
    assert not result["passed"]
    assert "accuracy" in result["detail"]
    assert "expected >= 0.99" in result["detail"]
    assert "log_loss" not in result["detail"]


def test_baseline_on_the_evaluation_split(model: Any, frame: pd.DataFrame) -> None:
    report = _run(model, frame, {"metrics": {"accuracy": ">= 0.5"}, "baseline": True})
    result = _one(report, "baseline")
    assert result["passed"], result["detail"]
    assert "held-out half of the evaluation data" in result["measured"]["trained_on"]
    assert result["measured"]["baseline_model"] == "dummy"
    dummy = DummyClassifier(strategy="most_frequent").fit(frame[["x1", "x2"]], frame.y)
    lost = _one(_run(dummy, frame, {"baseline": True}), "baseline")
    assert not lost["passed"]
    assert "does not beat dummy baseline" in lost["detail"]


def test_linear_baseline_on_given_training_data(frame: pd.DataFrame) -> None:
    def weak(x: pd.DataFrame) -> np.ndarray:  # ignores the strong feature
        return (x["x2"] > 0).astype(int).to_numpy()

    report = _run(
        weak, frame, {"baseline": "linear"}, inputs=["x2", "x1"], train=frame.iloc[:600],
        train_source="training dataset t@1",
    )  # fmt: skip
    result = _one(report, "baseline")
    assert result["measured"]["trained_on"] == "training dataset t@1"
    assert not result["passed"]


def test_regression_against_the_holder(model: Any, frame: pd.DataFrame) -> None:
    table = {"metrics": {"accuracy": ">= 0.5"}, "max_regression": 0.01}
    alone = _one(_run(model, frame, table), "regression")
    assert alone["passed"]
    assert alone["measured"]["holder"] is None
    assert "no current holder" in alone["detail"]
    weak = LogisticRegression().fit(frame[["x2"]], frame.y)
    worse = _one(
        _run(weak, frame, table, inputs=["x2"], holder=model, holder_name="m@1"), "regression"
    )
    assert not worse["passed"]
    assert "holder" in worse["detail"]
    assert worse["measured"]["holder_version"] == "m@1"
    same = _one(_run(model, frame, table, holder=model, holder_name="m@1"), "regression")
    assert same["passed"]


def test_regression_metrics_for_a_regressor(frame: pd.DataFrame) -> None:
    df = frame.assign(y=frame.x1 * 3.0 + 1.0)
    reg = LinearRegression().fit(df[["x1", "x2"]], df.y)
    report = _run(reg, df, {"metrics": {"rmse": "<= 0.01", "r2": ">= 0.99"}, "baseline": True})
    assert report.task == "regression"
    assert report.passed, [c.detail for c in report.checks]


def _bad_in_south(x: pd.DataFrame) -> np.ndarray:
    good = (x["x1"] + 0.5 * x["x2"] > 0).astype(int).to_numpy()
    return np.where(x["region"] == "south", 1 - good, good)


def test_slices_name_the_failing_slice(frame: pd.DataFrame) -> None:
    table = {"slices": {"columns": ["region"], "metrics": {"accuracy": ">= 0.7"}}}
    inputs = ["x1", "x2", "region"]
    result = _one(_run(_bad_in_south, frame, table, inputs=inputs), "slices")
    assert not result["passed"]
    assert "region=south" in result["detail"]
    assert "region=north" not in result["detail"]
    assert result["measured"]["region=south"]["rows"] > 300
    small = {"slices": {"columns": ["region"], "metrics": {"accuracy": ">= 0.7"}, "min_rows": 5000}}
    skipped = _one(_run(_bad_in_south, frame, small, inputs=inputs), "slices")
    assert skipped["passed"]
    assert "skipped" in skipped["detail"]


def test_slices_pass(model: Any, frame: pd.DataFrame) -> None:
    table = {"slices": {"columns": ["region", "gender"], "metrics": {"f1": ">= 0.7"}}}
    result = _one(_run(model, frame, table), "slices")
    assert result["passed"]
    assert len(result["measured"]) == 5


def test_fairness_pass_and_fail(model: Any, frame: pd.DataFrame) -> None:
    table = {
        "sensitive": ["gender"],
        "fairness": {"demographic_parity_difference": "<= 0.1", "accuracy_ratio": ">= 0.9"},
    }
    fair = _one(_run(model, frame, table), "fairness")
    assert fair["passed"], fair["detail"]
    assert set(fair["measured"]["groups"]) == {"f", "m"}

    def biased(x: pd.DataFrame) -> np.ndarray:
        return np.where(x["gender"] == "f", 0, model.predict(x[["x1", "x2"]]))

    unfair = _one(_run(biased, frame, table, inputs=["x1", "x2", "gender"]), "fairness")
    assert not unfair["passed"]
    assert "demographic_parity_difference" in unfair["detail"]


def test_features_denylist(model: Any, frame: pd.DataFrame) -> None:
    ok = _one(_run(model, frame, {"denylist": ["gender", "race"]}), "features")
    assert ok["passed"]
    denied = _one(
        _run(lambda x: model.predict(x[["x1", "x2"]]), frame, {"denylist": ["Gender"]},
             inputs=["x1", "x2", "gender"]),
        "features",
    )  # fmt: skip
    assert not denied["passed"]
    assert denied["measured"]["denied_inputs"] == ["gender"]


def test_data_check_without_dataset_versions_fails(model: Any, frame: pd.DataFrame) -> None:
    result = _one(_run(model, frame, {"data": True}), "data")
    assert not result["passed"]
    assert "no training dataset version" in result["detail"]


@pytest.mark.parametrize(
    ("table", "change", "code", "words"),
    [
        ({}, lambda df: df.drop(columns="y"), "gate-data", "no label column 'y'"),
        ({"slices": {"columns": ["zone"], "metrics": {"accuracy": ">= 0.1"}}}, None, "gate-data",
         "'zone' in slices.columns"),
        ({"sensitive": ["race"], "fairness": {"accuracy_ratio": ">= 0.1"}}, None, "gate-data",
         "'race' in sensitive"),
        ({}, lambda df: df.head(0), "gate-data", "no rows"),
        ({}, lambda df: df.assign(y=df.y.astype(float).where(df.x1 > 0)), "gate-data", "missing"),
        ({}, lambda df: df.drop(columns="x2"), "gate-data", "x2"),
        ({}, lambda df: df.assign(x1="text"), "gate-model", "failed on the evaluation data"),
        ({"metrics": {"roc_auc": ">= 0.5"}}, "function", "gate-model", "probabilities"),
    ],
)  # fmt: skip
def test_bad_input_is_a_gate_error(
    model: Any, frame: pd.DataFrame, table: dict[str, Any], change: Any, code: str, words: str
) -> None:
    data, predictor = frame, model
    if change == "function":
        predictor = lambda x: model.predict(x)  # noqa: E731 - a model without predict_proba
        data = frame[["x1", "x2", "y"]]
    elif change is not None:
        data = change(frame)
    with pytest.raises(GateError) as info:
        evaluate(predictor, data, "y", parse_policy("production", table))
    assert info.value.code == code
    assert words in info.value.message
    assert info.value.hint
