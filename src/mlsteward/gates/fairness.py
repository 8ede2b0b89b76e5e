"""Group fairness over sensitive columns, with fairlearn's ``MetricFrame``.

One ``MetricFrame`` over the (already made) predictions holds every group metric the
policy needs; the differences and ratios are its ``difference()`` / ``ratio()``
(between groups), which is how fairlearn's own ``demographic_parity_difference`` and
``equalized_odds_difference`` are defined (tests hold them equal). The frame is given
one weighted row per (group, label, prediction) that occurs, and the group metrics are
small weighted numpy functions: a million-row set costs one ``np.bincount``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlsteward.errors import GateError
from mlsteward.gates.metrics import Predictions

__all__ = ["fairness_values"]

_Metric = Callable[..., float]


def _counts(t: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, float, float, float]:
    t, p = np.asarray(t, dtype=bool), np.asarray(p, dtype=bool)
    tp = float(w[t & p].sum())
    fp = float(w[~t & p].sum())
    fn = float(w[t & ~p].sum())
    return tp, fp, fn, float(w.sum()) - tp - fp - fn


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def _selection_rate(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    return _ratio(float(sample_weight[np.asarray(p, dtype=bool)].sum()), float(sample_weight.sum()))


def _accuracy(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    total = float(sample_weight.sum())
    hits = float(sample_weight[np.asarray(t) == np.asarray(p)].sum())
    return hits / total if total else float("nan")


def _precision(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    tp, fp, _, _ = _counts(t, p, sample_weight)
    return _ratio(tp, tp + fp)


def _recall(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    tp, _, fn, _ = _counts(t, p, sample_weight)
    return _ratio(tp, tp + fn)


def _fpr(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    _, fp, _, tn = _counts(t, p, sample_weight)
    return _ratio(fp, fp + tn)


def _f1(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    tp, fp, fn, _ = _counts(t, p, sample_weight)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _balanced_accuracy(t: np.ndarray, p: np.ndarray, sample_weight: np.ndarray) -> float:
    tp, fp, fn, tn = _counts(t, p, sample_weight)
    rates = []  # the recall of each class present among the labels
    if tp + fn:
        rates.append(tp / (tp + fn))
    if tn + fp:
        rates.append(tn / (tn + fp))
    return float(np.mean(rates)) if rates else float("nan")


_GROUP: dict[str, _Metric] = {
    "selection_rate": _selection_rate,
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "balanced_accuracy": _balanced_accuracy,
    "true_positive_rate": _recall,
    "false_positive_rate": _fpr,
}
#: the named fairlearn metrics: (group metrics, how the policy value is made of them)
_NAMED = {
    "demographic_parity_difference": (("selection_rate",), "difference"),
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "equalized_odds_difference": (("true_positive_rate", "false_positive_rate"), "difference"),
    "equalized_odds_ratio": (("true_positive_rate", "false_positive_rate"), "ratio"),
}


def _parts(name: str) -> tuple[tuple[str, ...], str]:
    if name in _NAMED:
        return _NAMED[name]
    base, _, kind = name.rpartition("_")
    return (base,), kind


def fairness_values(
    pred: Predictions, names: tuple[str, ...], sensitive: Any
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Each fairness metric in ``names``, and the group metrics by group.

    ``sensitive`` is a frame of the sensitive columns (several columns: their
    intersections are the groups). Binary classification only, except ``accuracy_*``.

    Raises:
        GateError: a rate-based metric on more than two classes (``gate-data``).
    """
    from fairlearn.metrics import MetricFrame

    assert pred.classes is not None
    assert pred.codes_true is not None
    assert pred.codes_pred is not None
    needed = sorted({m for n in names for m in _parts(n)[0]})
    if not pred.binary and needed != ["accuracy"]:
        raise GateError(
            f"fairness metrics {', '.join(names)} need two classes; the labels and "
            f"predictions hold {len(pred.classes)}",
            code="gate-data",
            hint="use accuracy_difference / accuracy_ratio for multiclass models",
        )
    if pred.binary:
        positive = len(pred.classes) - 1
        t = (pred.codes_true == positive).astype(np.int8)
        p = (pred.codes_pred == positive).astype(np.int8)
    else:
        t, p = pred.codes_true, pred.codes_pred
    small, weights = _collapse(t, p, sensitive, int(max(t.max(), p.max())) + 1)
    frame = MetricFrame(
        metrics={m: _GROUP[m] for m in needed},
        y_true=small.pop("__true").to_numpy(),
        y_pred=small.pop("__pred").to_numpy(),
        sensitive_features=small,
        sample_params={m: {"sample_weight": weights} for m in needed},
    )
    difference, ratio = frame.difference(), frame.ratio()
    values: dict[str, float] = {}
    for name in names:
        parts, kind = _parts(name)
        if kind == "difference":  # fairlearn's worst case: the largest difference
            values[name] = float(max(difference[m] for m in parts))
        else:
            values[name] = float(min(ratio[m] for m in parts))
    groups = {
        _group_name(key): {m: float(v) for m, v in row.items()}
        for key, row in frame.by_group.iterrows()
    }
    return values, groups


def _collapse(t: np.ndarray, p: np.ndarray, sensitive: Any, k: int) -> tuple[Any, np.ndarray]:
    """One row per (group, label, prediction) that occurs, weighted by how often it does.

    Every group metric here is a function of a group's confusion counts, so fairlearn
    gets a few dozen weighted rows instead of millions: the same values, one group-by of
    a small frame (fairlearn converts its inputs element by element).
    """
    import pandas as pd

    combined = np.zeros(len(t), dtype=np.int64)
    levels: list[tuple[str, Any, int]] = []
    stride = 1
    for name in sensitive.columns:
        codes, uniques = pd.factorize(sensitive[name], use_na_sentinel=False, sort=True)
        combined += np.asarray(codes, dtype=np.int64) * stride
        levels.append((str(name), uniques, stride))
        stride *= max(len(uniques), 1)
    counts = np.bincount((combined * k + t) * k + p)
    cells = np.flatnonzero(counts)
    groups = cells // (k * k)
    small = pd.DataFrame(
        {name: np.asarray(uniques, dtype=object)[(groups // s) % len(uniques)]
         for name, uniques, s in levels}
    )  # fmt: skip
    small["__true"] = (cells // k) % k
    small["__pred"] = cells % k
    return small, counts[cells].astype(float)


def _group_name(key: Any) -> str:
    return ", ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
