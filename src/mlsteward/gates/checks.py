"""The gate checks, one registry keyed by stable ids; each reads one `Evaluation`.

A check is data (`Check`: its id, what it verifies, which policy keys turn it on) plus
a function of the evaluation that returns a `CheckResult`. The engine
(`mlsteward.gates.engine`) runs, in registry order, every check the policy turns on.
Ids are stable: verdicts and model cards refer to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlsteward.gates.metrics import Predictions, group_codes, metric_values
from mlsteward.registry.policy import HIGHER_IS_BETTER, GatePolicy

__all__ = ["CHECKS", "Check", "CheckResult", "Evaluation", "json_safe"]


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN/Infinity as None."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class CheckResult:
    """What one check measured, what the policy expected, and whether it held."""

    check: str
    passed: bool
    measured: Mapping[str, Any]
    expected: Mapping[str, Any]
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "passed": self.passed,
            "measured": json_safe(self.measured),
            "expected": json_safe(self.expected),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Evaluation:
    """Everything a check may read: the policy, the data, the predictions (made once).

    ``baseline_train`` is the baseline's training frame (None: a held-out split of the
    evaluation data) and ``baseline_source`` says where it came from; ``holder_pred`` are
    the predictions of the alias's current holder (None: no holder); ``datasets`` lists
    ``(role, dataset version ref)`` for the data check.
    """

    policy: GatePolicy
    task: str
    frame: Any
    label: str
    features: tuple[str, ...]
    pred: Predictions
    baseline_train: Any = None
    baseline_source: str = ""
    holder_name: str | None = None
    holder_pred: Predictions | None = None
    inputs: tuple[str, ...] = ()
    datasets: tuple[tuple[str, str | None], ...] = ()
    project: Any = None

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The policy's metrics, or the task's headline metric when it names none."""
        names = tuple(t.metric for t in self.policy.metrics)
        return names or (("accuracy",) if self.task == "classification" else ("rmse",))


@dataclass(frozen=True)
class Check:
    """One kind of check: a stable id, what it verifies (for docs and cards), and its code."""

    id: str
    summary: str
    practice: str  # the ML Test Score test it evidences
    enabled: Callable[[GatePolicy], bool]
    run: Callable[[Evaluation], CheckResult]


def _scalar(values: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {k: float(v[0]) for k, v in values.items()}


def _better(metric: str, a: float, b: float, slack: float = 0.0) -> bool:
    """Whether ``a`` is no worse than ``b`` less ``slack`` (strictly better with slack < 0)."""
    if math.isnan(a) or math.isnan(b):
        return False
    if slack < 0:
        return a > b if metric in HIGHER_IS_BETTER else a < b
    return a >= b - slack if metric in HIGHER_IS_BETTER else a <= b + slack


def _metrics(ev: Evaluation) -> CheckResult:
    values = _scalar(metric_values(ev.pred, [t.metric for t in ev.policy.metrics]))
    failed = [t for t in ev.policy.metrics if not t.holds(values[t.metric])]
    detail = "; ".join(f"{t.metric} = {_fmt(values[t.metric])}, expected {t.text}" for t in failed)
    return CheckResult(
        "metrics",
        not failed,
        values,
        {t.metric: t.text for t in ev.policy.metrics},
        detail
        or f"{len(values)} metric(s) within their thresholds on {len(ev.pred.y_true):,} rows",
    )


def _baseline(ev: Evaluation) -> CheckResult:
    from mlsteward.gates.baseline import fit_baseline
    from mlsteward.gates.predict import predict

    kind = ev.policy.baseline or "dummy"
    names = ev.metric_names
    frame, pred = ev.frame, ev.pred
    if ev.baseline_train is not None:
        train, source = ev.baseline_train, ev.baseline_source
    else:  # half the evaluation rows train the baseline; both are judged on the other half
        order = np.random.default_rng(0).permutation(len(frame))
        half = len(frame) // 2
        train = frame.iloc[order[:half]]
        frame, pred = frame.iloc[order[half:]], pred.subset(order[half:])
        source = f"a held-out half of the evaluation data ({half:,} rows; seed 0)"
    model = fit_baseline(kind, ev.task, train, ev.features, ev.label)
    base_pred = predict(model, frame, ev.features, ev.label, ev.task)
    candidate = _scalar(metric_values(pred, names))
    baseline = _scalar(metric_values(base_pred, names))
    lost = [n for n in names if not _better(n, candidate[n], baseline[n], slack=-1)]
    detail = "; ".join(
        f"{n}: candidate {_fmt(candidate[n])} does not beat {kind} baseline {_fmt(baseline[n])}"
        for n in lost
    )
    return CheckResult(
        "baseline",
        not lost,
        {
            "candidate": candidate,
            "baseline": baseline,
            "baseline_model": kind,
            "trained_on": source,
        },
        dict.fromkeys(names, f"better than the {kind} baseline"),
        detail or f"beats the {kind} baseline on {', '.join(names)} (trained on {source})",
    )


def _regression(ev: Evaluation) -> CheckResult:
    tolerance = ev.policy.max_regression or 0.0
    names = ev.metric_names
    candidate = _scalar(metric_values(ev.pred, names))
    expected = dict.fromkeys(names, f"within {tolerance:g} of the current holder")
    if ev.holder_pred is None:
        return CheckResult(
            "regression",
            True,
            {"candidate": candidate, "holder": None},
            expected,
            f"no current holder of {ev.policy.name!r}: nothing to regress from",
        )
    holder = _scalar(metric_values(ev.holder_pred, names))
    worse = [n for n in names if not _better(n, candidate[n], holder[n], slack=tolerance)]
    detail = "; ".join(
        f"{n}: candidate {_fmt(candidate[n])} vs holder {_fmt(holder[n])} "
        f"(more than {tolerance:g} worse)"
        for n in worse
    )
    return CheckResult(
        "regression",
        not worse,
        {"candidate": candidate, "holder": holder, "holder_version": ev.holder_name},
        expected,
        detail or f"not worse than {ev.holder_name} by more than {tolerance:g}",
    )


def _slices(ev: Evaluation) -> CheckResult:
    spec = ev.policy.slices
    assert spec is not None
    names = [t.metric for t in spec.thresholds]
    measured: dict[str, Any] = {}
    failed: list[str] = []
    skipped: list[str] = []
    for column in spec.columns:
        codes, values = group_codes(ev.frame[column].to_numpy())
        counts = np.bincount(codes, minlength=len(values))
        found = metric_values(ev.pred, names, codes, len(values))
        for i, value in enumerate(values):
            key = f"{column}={value}"
            row: dict[str, Any] = {"rows": int(counts[i])}
            row.update({n: float(found[n][i]) for n in names})
            measured[key] = row
            if counts[i] < spec.min_rows:
                skipped.append(f"{key} ({counts[i]} rows)")
                continue
            for t in spec.thresholds:
                v = row[t.metric]
                if math.isnan(v):
                    skipped.append(f"{key} ({t.metric} undefined)")
                elif not t.holds(v):
                    failed.append(f"{key}: {t.metric} = {_fmt(v)}, expected {t.text}")
    detail = "; ".join(failed) or f"thresholds hold in {len(measured) - len(skipped)} slice(s)"
    if skipped:
        detail += f"; skipped (under {spec.min_rows} rows or undefined): {', '.join(skipped)}"
    return CheckResult(
        "slices",
        not failed,
        measured,
        {"columns": list(spec.columns), "min_rows": spec.min_rows}
        | {t.metric: t.text for t in spec.thresholds},
        detail,
    )


def _fairness(ev: Evaluation) -> CheckResult:
    from mlsteward.gates.fairness import fairness_values

    thresholds = ev.policy.fairness
    sensitive = ev.frame[list(ev.policy.sensitive)]
    values, groups = fairness_values(ev.pred, tuple(t.metric for t in thresholds), sensitive)
    failed = [t for t in thresholds if not t.holds(values[t.metric])]
    detail = "; ".join(f"{t.metric} = {_fmt(values[t.metric])}, expected {t.text}" for t in failed)
    return CheckResult(
        "fairness",
        not failed,
        {**values, "groups": groups},
        {"sensitive": list(ev.policy.sensitive)} | {t.metric: t.text for t in thresholds},
        detail or f"within thresholds over {', '.join(ev.policy.sensitive)} ({len(groups)} groups)",
    )


def _data(ev: Evaluation) -> CheckResult:
    from mlsteward.gates.datacheck import check_datasets

    return check_datasets(ev)


def _features(ev: Evaluation) -> CheckResult:
    inputs = ev.inputs or ev.features
    denied = {d.casefold(): d for d in ev.policy.denylist}
    found = [c for c in inputs if c.casefold() in denied]
    return CheckResult(
        "features",
        not found,
        {"inputs": list(inputs), "denied_inputs": found},
        {"denylist": list(ev.policy.denylist)},
        f"the model's inputs include denied column(s): {', '.join(found)}"
        if found
        else f"none of {len(inputs)} input(s) is on the denylist",
    )


def _reproducibility(ev: Evaluation) -> CheckResult:
    from mlsteward.gates.reproduce import check_reproducibility

    return check_reproducibility(ev)


def _fmt(x: float) -> str:
    return "undefined" if math.isnan(x) else f"{x:.4g}"


CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        Check(
            "metrics",
            "metric thresholds on the evaluation data",
            "Model 2: offline metrics",
            lambda p: bool(p.metrics),
            _metrics,
        ),
        Check(
            "baseline",
            "beats a simple baseline trained on the same data",
            "Model 5: a simpler model is not better",
            lambda p: p.baseline is not None,
            _baseline,
        ),
        Check(
            "regression",
            "not worse than the alias's current holder beyond a tolerance",
            "Infra 4: model quality is validated before serving",
            lambda p: p.max_regression is not None,
            _regression,
        ),
        Check(
            "slices",
            "thresholds hold in every slice of the declared columns",
            "Model 6: quality on important data slices",
            lambda p: p.slices is not None,
            _slices,
        ),
        Check(
            "fairness",
            "group fairness metrics over the sensitive columns",
            "Model 7: tested for inclusion",
            lambda p: bool(p.fairness),
            _fairness,
        ),
        Check(
            "data",
            "training and evaluation data pass their schema",
            "Data 1: feature expectations are captured in a schema",
            lambda p: p.data,
            _data,
        ),
        Check(
            "features",
            "no denied column among the model's inputs",
            "Data 4: features comply with requirements",
            lambda p: bool(p.denylist),
            _features,
        ),
        Check(
            "reproducibility",
            "training twice gives the same metrics",
            "Infra 1: training is reproducible",
            lambda p: p.reproducibility is not None,
            _reproducibility,
        ),
    )
}
