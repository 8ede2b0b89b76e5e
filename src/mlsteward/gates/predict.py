"""Predicting once: a model (or a predict function) on the evaluation frame.

A model is anything with ``predict`` (a fitted scikit-learn estimator, a loaded model
version) and optionally ``predict_proba`` and ``classes_`` / ``classes``, or a plain
function of the feature frame. Whatever it raises is the model failing on the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsteward.errors import GateError
from mlsteward.gates.metrics import Predictions

__all__ = ["predict"]


def predict(
    model: Any, frame: Any, features: tuple[str, ...], label: str, task: str
) -> Predictions:
    """``model``'s predictions on ``frame[features]`` against ``frame[label]``.

    Raises:
        GateError: the model raises, or returns the wrong number of predictions
            (``gate-model``).
    """
    x = frame[list(features)]
    name = getattr(model, "name", None) or type(model).__name__
    try:
        if hasattr(model, "predict"):
            y_pred = np.asarray(model.predict(x))
            proba = None
            if task == "classification" and hasattr(model, "predict_proba"):
                proba = model.predict_proba(x)
        else:
            y_pred, proba = np.asarray(model(x)), None
    except Exception as exc:  # the user's model: anything it raises is its failure
        raise GateError(
            f"the model {name} failed on the evaluation data: {type(exc).__name__}: {exc}",
            code="gate-model",
            hint="check that the evaluation data has the columns and types the model was "
            "trained on (its signature)",
        ) from exc
    if y_pred.ndim > 1 and y_pred.shape[1:] == (1,):
        y_pred = y_pred.reshape(-1)
    if y_pred.ndim != 1 or len(y_pred) != len(x):
        raise GateError(
            f"the model {name} returned predictions of shape {y_pred.shape} for "
            f"{len(x):,} rows; expected one prediction per row",
            code="gate-model",
            hint="a gate evaluates single-output models; predict must return shape (n,)",
        )
    classes = getattr(model, "classes_", None)
    if classes is None:
        classes = getattr(model, "classes", None)
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        if classes is None or proba.shape != (len(x), len(classes)):
            proba = None  # scores without their class order cannot be used
    y_true = frame[label].to_numpy()
    return Predictions.build(task, y_true, y_pred, proba, classes)
