"""The vectorised metrics equal scikit-learn's, on the whole set and per group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlsteward.errors import GateError
from mlsteward.gates.fairness import fairness_values
from mlsteward.gates.metrics import Predictions, group_codes, metric_values

SK: dict[str, Any] = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "f1": skm.f1_score,
    "mse": skm.mean_squared_error,
    "rmse": skm.root_mean_squared_error,
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
}
CHEAP = ("accuracy", "balanced_accuracy", "precision", "recall", "f1")


def _sk(name: str, y: np.ndarray, p: np.ndarray, **kw: Any) -> float:
    if name in ("precision", "recall", "f1"):
        kw.setdefault("zero_division", 0)
    return float(SK[name](y, p, **kw))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_binary_metrics_equal_sklearn_per_group() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    p = np.where(rng.random(n) < 0.8, y, 1 - y)
    g = rng.integers(0, 7, n)
    p[g == 6] = 0  # a group with no predicted positives: precision is 0 there
    pred = Predictions.build("classification", y, p)
    found = metric_values(pred, CHEAP, g, 7)
    for name in CHEAP:
        assert found[name] == pytest.approx([_sk(name, y[g == i], p[g == i]) for i in range(7)])
    whole = metric_values(pred, CHEAP)
    for name in CHEAP:
        assert whole[name][0] == pytest.approx(_sk(name, y, p))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_string_labels_use_the_greater_label_as_positive() -> None:
    y = np.array(["no", "yes", "yes", "no", "yes"])
    p = np.array(["no", "yes", "no", "yes", "yes"])
    found = metric_values(Predictions.build("classification", y, p), CHEAP)
    for name in ("precision", "recall", "f1"):
        assert found[name][0] == pytest.approx(_sk(name, y, p, pos_label="yes"))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_multiclass_metrics_are_macro_averages() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    y = rng.integers(0, 4, n)
    p = np.where(rng.random(n) < 0.6, y, rng.integers(0, 4, n))
    g = rng.integers(0, 3, n)
    y[g == 2] = np.where(y[g == 2] == 3, 0, y[g == 2])  # a class absent from one group
    pred = Predictions.build("classification", y, p)
    found = metric_values(pred, CHEAP, g, 3)
    for name in CHEAP:
        kw = {} if name in ("accuracy", "balanced_accuracy") else {"average": "macro"}
        want = [_sk(name, y[g == i], p[g == i], **kw) for i in range(3)]
        assert found[name] == pytest.approx(want)


def test_regression_metrics_equal_sklearn_per_group() -> None:
    rng = np.random.default_rng(2)
    n = 5000
    y = rng.normal(100, 10, n)
    p = y + rng.normal(0, 3, n)
    g = rng.integers(0, 5, n)
    y[g == 4] = 7.0  # a constant label: scikit-learn's r2 is then 0 (or 1 if exact)
    pred = Predictions.build("regression", y, p)
    names = ("mse", "rmse", "mae", "r2")
    found = metric_values(pred, names, g, 5)
    for name in names:
        want = [_sk(name, y[g == i], p[g == i]) for i in range(5)]
        assert found[name] == pytest.approx(want, rel=1e-9)


def test_score_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(3)
    n = 1000
    y = rng.choice(np.array(["a", "b"]), n)
    score = np.clip((y == "b") * 0.4 + rng.random(n) * 0.6, 0.01, 0.99)
    proba = np.column_stack([1 - score, score])
    p = np.where(score > 0.5, "b", "a")
    pred = Predictions.build("classification", y, p, proba, np.array(["a", "b"]))
    found = metric_values(pred, ("roc_auc", "log_loss"))
    assert found["roc_auc"][0] == pytest.approx(skm.roc_auc_score(y == "b", score))
    assert found["log_loss"][0] == pytest.approx(skm.log_loss(y, proba, labels=["a", "b"]))
    single = metric_values(pred, ("roc_auc",), np.where(y == "a", 0, 1), 2)
    assert np.isnan(single["roc_auc"]).all()  # one class per group: undefined


def test_score_metrics_need_probabilities() -> None:
    pred = Predictions.build("classification", np.array([0, 1]), np.array([0, 1]))
    with pytest.raises(GateError) as info:
        metric_values(pred, ("roc_auc",))
    assert info.value.code == "gate-model"


def test_group_codes_keep_missing_values_as_a_group() -> None:
    codes, values = group_codes(np.array(["b", None, "a", "b"], dtype=object))
    assert values == ["a", "b", None]
    assert codes.tolist() == [1, 2, 0, 1]


def test_fairness_equals_fairlearn() -> None:
    from fairlearn import metrics as flm

    rng = np.random.default_rng(4)
    n = 4000
    y = rng.integers(0, 2, n)
    sex = rng.choice(np.array(["f", "m"]), n)
    race = rng.choice(np.array(["a", "b", "c"]), n)
    p = np.where(rng.random(n) < np.where(sex == "f", 0.9, 0.7), y, 1 - y)
    pred = Predictions.build("classification", y, p)
    names = (
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
        "accuracy_difference",
        "accuracy_ratio",
        "f1_difference",
        "balanced_accuracy_ratio",
    )
    sensitive = pd.DataFrame({"sex": sex, "race": race})
    values, groups = fairness_values(pred, names, sensitive)
    kw = {"sensitive_features": sensitive}
    assert values["demographic_parity_difference"] == pytest.approx(
        flm.demographic_parity_difference(y, p, **kw)
    )
    assert values["demographic_parity_ratio"] == pytest.approx(
        flm.demographic_parity_ratio(y, p, **kw)
    )
    assert values["equalized_odds_difference"] == pytest.approx(
        flm.equalized_odds_difference(y, p, **kw)
    )
    assert values["equalized_odds_ratio"] == pytest.approx(flm.equalized_odds_ratio(y, p, **kw))
    frame = flm.MetricFrame(
        metrics={
            "accuracy": skm.accuracy_score,
            "f1": skm.f1_score,
            "balanced_accuracy": skm.balanced_accuracy_score,
        },
        y_true=y,
        y_pred=p,
        **kw,
    )
    assert values["accuracy_difference"] == pytest.approx(frame.difference()["accuracy"])
    assert values["accuracy_ratio"] == pytest.approx(frame.ratio()["accuracy"])
    assert values["f1_difference"] == pytest.approx(frame.difference()["f1"])
    assert values["balanced_accuracy_ratio"] == pytest.approx(frame.ratio()["balanced_accuracy"])
    assert len(groups) == 6
    assert "f, a" in groups


def test_rate_fairness_needs_two_classes() -> None:
    y = np.array([0, 1, 2, 0, 1, 2])
    pred = Predictions.build("classification", y, y)
    sensitive = pd.DataFrame({"g": list("aabbab")})
    with pytest.raises(GateError) as info:
        fairness_values(pred, ("demographic_parity_difference",), sensitive)
    assert info.value.code == "gate-data"
    values, _ = fairness_values(pred, ("accuracy_difference",), sensitive)
    assert values["accuracy_difference"] == 0.0
