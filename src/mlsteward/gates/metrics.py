"""The metric registry: scikit-learn's definitions, computed once per group, vectorised.

A gate predicts once; every metric, slice and fairness group then reads the same
predictions. Classification metrics come from one confusion matrix per group, built
with a single ``np.bincount`` over ``group * K * K + label * K + prediction``; regression
metrics from per-group sums. Only ``roc_auc`` and ``log_loss``, which need scores,
call scikit-learn (once per group). Tests hold each against scikit-learn itself.

Conventions (as scikit-learn's defaults where they have one):

- binary (at most two classes among labels and predictions): precision, recall and f1
  are those of the positive class, the greater of the two labels (1 for 0/1 labels);
- multiclass: precision, recall and f1 are macro averages over the classes present in
  the group's labels or predictions; roc_auc is one-vs-rest, macro;
- an undefined ratio (no predicted positives for precision, ...) is 0, as scikit-learn's
  ``zero_division`` default gives; balanced accuracy averages the recall of the classes
  present in the group's labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlsteward.errors import GateError
from mlsteward.registry.policy import CLASSIFICATION_METRICS, REGRESSION_METRICS

__all__ = ["METRICS", "Predictions", "group_codes", "metric_values"]

#: every metric the engine computes, by task
METRICS = {"classification": CLASSIFICATION_METRICS, "regression": REGRESSION_METRICS}
_SCORED = ("roc_auc", "log_loss")


@dataclass(frozen=True)
class Predictions:
    """One model's predictions on an evaluation set, encoded once for every metric.

    ``codes_true`` / ``codes_pred`` index ``classes`` (classification only); ``proba``
    has one column per entry of ``proba_classes`` (the model's ``classes_``).
    """

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None
    proba_classes: np.ndarray | None = None
    classes: np.ndarray | None = None
    codes_true: np.ndarray | None = None
    codes_pred: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        task: str,
        y_true: Any,
        y_pred: Any,
        proba: Any = None,
        proba_classes: Any = None,
    ) -> Predictions:
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if task == "regression":
            return cls(task, y_true.astype(float), y_pred.astype(float).reshape(len(y_pred)))
        y_pred = y_pred.reshape(len(y_pred))
        both = np.concatenate([y_true, y_pred]) if y_true.dtype == y_pred.dtype else None
        if both is None:  # e.g. int labels, float predictions: compare as labels
            both = np.concatenate([y_true.astype(object), y_pred.astype(object)])
        classes, codes = np.unique(both, return_inverse=True)
        n = len(y_true)
        return cls(
            task,
            y_true,
            y_pred,
            None if proba is None else np.asarray(proba, dtype=float),
            None if proba_classes is None else np.asarray(proba_classes),
            classes,
            codes[:n].astype(np.int64),
            codes[n:].astype(np.int64),
        )

    def subset(self, rows: np.ndarray) -> Predictions:
        """The predictions of ``rows`` (a boolean mask or indices), keeping the encoding."""

        def take(a: np.ndarray | None) -> Any:
            return None if a is None else a[rows]

        return Predictions(
            self.task,
            self.y_true[rows],
            self.y_pred[rows],
            take(self.proba),
            self.proba_classes,
            self.classes,
            take(self.codes_true),
            take(self.codes_pred),
        )

    @property
    def binary(self) -> bool:
        return self.classes is not None and len(self.classes) <= 2


def group_codes(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Codes 0..G-1 of a column's values (missing values are a group of their own)."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=False, sort=True)
    return np.asarray(codes, dtype=np.int64), [None if _missing(u) else u for u in uniques]


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None
    except (TypeError, ValueError):
        return False


def metric_values(
    pred: Predictions,
    names: tuple[str, ...] | list[str],
    groups: np.ndarray | None = None,
    n_groups: int = 1,
) -> dict[str, np.ndarray]:
    """Each metric in ``names`` for each group: arrays of length ``n_groups``.

    ``groups`` gives each row's group code (None: one group, the whole set). A metric
    undefined for a group (no rows, a single class for roc_auc) is NaN.

    Raises:
        GateError: a score metric for a model without ``predict_proba`` (``gate-model``).
    """
    g = np.zeros(len(pred.y_true), dtype=np.int64) if groups is None else groups
    out: dict[str, np.ndarray] = {}
    cheap = [n for n in names if n not in _SCORED]
    if pred.task == "regression":
        out.update(_regression(pred, cheap, g, n_groups))
    elif cheap:
        out.update(_from_confusion(pred, cheap, g, n_groups))
    for name in names:
        if name in _SCORED:
            out[name] = _scored(pred, name, g, n_groups)
    return out


def _from_confusion(
    pred: Predictions, names: list[str], g: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    assert pred.classes is not None
    assert pred.codes_true is not None
    assert pred.codes_pred is not None
    k = len(pred.classes)
    flat = (g * k + pred.codes_true) * k + pred.codes_pred
    cm = np.bincount(flat, minlength=n_groups * k * k).reshape(n_groups, k, k).astype(float)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    true_n = cm.sum(axis=2)  # support of each class among the labels
    pred_n = cm.sum(axis=1)
    rows = cm.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred_n > 0, tp / pred_n, 0.0)
        recall = np.where(true_n > 0, tp / true_n, 0.0)
        denom = true_n + pred_n  # 2tp + fp + fn
        f1 = np.where(denom > 0, 2 * tp / denom, 0.0)
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name == "accuracy":
                out[name] = np.where(rows > 0, tp.sum(axis=1) / rows, np.nan)
            elif name == "balanced_accuracy":
                present = true_n > 0
                count = present.sum(axis=1)
                total = np.where(present, recall, 0.0).sum(axis=1)
                out[name] = np.where(count > 0, total / count, np.nan)
            elif pred.binary:
                pos = k - 1
                value = {"precision": precision, "recall": recall, "f1": f1}[name][:, pos]
                out[name] = np.where(rows > 0, value, np.nan)
            else:  # macro over the classes the group's labels or predictions hold
                present = (true_n + pred_n) > 0
                count = present.sum(axis=1)
                per = {"precision": precision, "recall": recall, "f1": f1}[name]
                total = np.where(present, per, 0.0).sum(axis=1)
                out[name] = np.where(count > 0, total / count, np.nan)
    return out


def _regression(
    pred: Predictions, names: list[str], g: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    y, err = pred.y_true, pred.y_true - pred.y_pred
    n = np.bincount(g, minlength=n_groups).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = np.bincount(g, weights=err * err, minlength=n_groups)
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name in ("mse", "rmse"):
                mse = np.where(n > 0, sse / n, np.nan)
                out[name] = mse if name == "mse" else np.sqrt(mse)
            elif name == "mae":
                sae = np.bincount(g, weights=np.abs(err), minlength=n_groups)
                out[name] = np.where(n > 0, sae / n, np.nan)
            elif name == "r2":
                mean = np.bincount(g, weights=y, minlength=n_groups) / n
                dev = y - mean[g]
                sst = np.bincount(g, weights=dev * dev, minlength=n_groups)
                # scikit-learn's force_finite: a constant label scores 1 if exact, else 0
                r2 = np.where(sst > 0, 1 - sse / sst, np.where(sse == 0, 1.0, 0.0))
                out[name] = np.where(n > 0, r2, np.nan)
    return out


def _scored(pred: Predictions, name: str, g: np.ndarray, n_groups: int) -> np.ndarray:
    from sklearn.metrics import log_loss, roc_auc_score

    if pred.task != "classification" or pred.proba is None or pred.proba_classes is None:
        raise GateError(
            f"{name} needs predicted probabilities, and the model gives none",
            code="gate-model",
            hint="use a model with predict_proba (e.g. LogisticRegression, a forest), or "
            "drop the metric from the policy",
        )
    assert pred.classes is not None
    out = np.full(n_groups, np.nan)
    order = np.argsort(g, kind="stable")
    bounds = np.searchsorted(g[order], np.arange(n_groups + 1))
    for i in range(n_groups):
        rows = order[bounds[i] : bounds[i + 1]]
        y, proba = pred.y_true[rows], pred.proba[rows]
        if len(np.unique(y)) < 2:
            continue  # undefined on a single class
        try:
            if name == "log_loss":
                out[i] = log_loss(y, proba, labels=pred.proba_classes)
            elif proba.shape[1] == 2:
                positive = pred.proba_classes[1]
                out[i] = roc_auc_score(y == positive, proba[:, 1])
            else:
                out[i] = roc_auc_score(
                    y, proba, multi_class="ovr", average="macro", labels=pred.proba_classes
                )
        except ValueError as exc:
            raise GateError(
                f"cannot compute {name}: {exc}",
                code="gate-model",
                hint="the model's classes must cover the labels of the evaluation data",
            ) from exc
    return out
