"""The simple baselines a candidate must beat (ML Test Score, Model 5).

``dummy``: the most frequent class, or the mean. ``linear``: logistic or least-squares
regression on the numeric inputs (median-imputed, scaled) and the others one-hot
encoded. Both are scikit-learn estimators fitted on the frame given.
"""

from __future__ import annotations

from typing import Any

from mlsteward.errors import GateError

__all__ = ["fit_baseline"]


def fit_baseline(kind: str, task: str, train: Any, features: tuple[str, ...], label: str) -> Any:
    """A fitted ``kind`` baseline for ``task`` on ``train[features]`` → ``train[label]``.

    Raises:
        GateError: the training frame lacks a column or cannot be fitted (``gate-data``).
    """
    from sklearn.compose import make_column_transformer
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    missing = [c for c in (*features, label) if c not in train.columns]
    if missing:
        raise GateError(
            f"the baseline's training data lacks column(s) {', '.join(missing)}",
            code="gate-data",
            hint="the training dataset version must hold the model's inputs and the label",
        )
    classify = task == "classification"
    model: Any
    if kind == "dummy":
        model = DummyClassifier(strategy="most_frequent") if classify else DummyRegressor()
    else:
        x = train[list(features)]
        numeric = [c for c in features if x[c].dtype.kind in "biuf"]
        other = [c for c in features if c not in numeric]
        steps: list[Any] = []
        if numeric:
            steps.append(
                (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)
            )
        if other:
            steps.append(
                (
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    other,
                )
            )
        estimator = LogisticRegression(max_iter=1000) if classify else LinearRegression()
        model = make_pipeline(make_column_transformer(*steps), estimator)
    try:
        model.fit(train[list(features)], train[label])
    except (ValueError, TypeError) as exc:
        raise GateError(
            f"cannot fit the {kind} baseline: {exc}",
            code="gate-data",
            hint='try baseline = "dummy", or check the training data\'s label column',
        ) from exc
    return model
