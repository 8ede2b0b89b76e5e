"""Gate policies as declared in the repository: ``[tool.steward.gates.<alias>]``.

A policy is data: the table as written, checked strictly once (an unknown key, a value
of the wrong kind, a threshold that does not parse or a metric nobody knows is a
``gate-policy`` error naming the key), and a hash of its canonical JSON. A verdict
records that hash, so a passing verdict counts only for the policy as it is now: edit
the policy and every version must pass it again. The gate engine (`mlsteward.gates`)
evaluates the checks; the registry only asks whether a version holds a passing verdict
for the alias it is promoted to, and how long it sat at canary.

The language (every key is in docs/gates.md)::

    [tool.steward.gates.production]
    metrics = { accuracy = ">= 0.8", f1 = ">= 0.7" }
    task = "classification"            # else implied by the metrics, else by the label
    baseline = true                    # or "dummy" / "linear"
    max_regression = 0.01
    sensitive = ["gender"]
    fairness = { demographic_parity_difference = "<= 0.1" }
    data = true
    denylist = ["gender", "race"]
    canary_minutes = 30
    [tool.steward.gates.production.slices]
    columns = ["region"]
    metrics = { accuracy = ">= 0.7" }
    min_rows = 30
    [tool.steward.gates.production.reproducibility]
    command = "python train.py"
    metrics = ["accuracy"]
    tolerance = 0.01
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsteward.errors import GateError
from mlsteward.project import Project

__all__ = [
    "CLASSIFICATION_METRICS",
    "FAIRNESS_METRICS",
    "HIGHER_IS_BETTER",
    "REGRESSION_METRICS",
    "GatePolicy",
    "Reproducibility",
    "Slices",
    "Threshold",
    "get_policy",
    "load_policies",
    "parse_policy",
    "parse_threshold",
    "policy_for",
    "policy_hash",
]

#: scikit-learn's definitions; the gate engine computes each (mlsteward.gates.metrics)
CLASSIFICATION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2")
HIGHER_IS_BETTER = frozenset(
    {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "r2"}
)
#: fairlearn's group metrics: the four named ones, and ``<metric>_difference|_ratio``
_GROUP_BASES = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "selection_rate")
FAIRNESS_METRICS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    *(f"{m}_{kind}" for m in _GROUP_BASES for kind in ("difference", "ratio")),
)
_KEYS = {
    "metrics": 'a table of thresholds, e.g. { accuracy = ">= 0.8" }',
    "task": '"classification" or "regression"',
    "baseline": 'true, "dummy" or "linear"',
    "max_regression": "a number >= 0, e.g. 0.01",
    "slices": "a table with columns, metrics and min_rows",
    "sensitive": 'a list of column names, e.g. ["gender"]',
    "fairness": "a table of fairlearn metric thresholds",
    "data": "true or false",
    "denylist": 'a list of column names, e.g. ["gender", "race"]',
    "reproducibility": "a table with command, metrics and tolerance",
    "canary_minutes": "a number of minutes >= 0",
    "canary_alias": "an alias name",
}
_SLICE_KEYS = ("columns", "metrics", "min_rows")
_REPRO_KEYS = ("command", "metrics", "tolerance", "timeout")
_THRESHOLD = re.compile(r"\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*")
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Threshold:
    """``metric op value``, e.g. ``accuracy >= 0.8``."""

    metric: str
    op: str
    value: float

    def holds(self, measured: float | None) -> bool:
        """Whether ``measured`` meets the threshold (a missing or NaN value never does)."""
        if measured is None or math.isnan(measured):
            return False
        return bool(_OPS[self.op](measured, self.value))

    @property
    def text(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Slices:
    """Per-slice thresholds: they must hold for every value of every column."""

    columns: tuple[str, ...]
    thresholds: tuple[Threshold, ...]
    min_rows: int


@dataclass(frozen=True)
class Reproducibility:
    """Train twice with ``argv``; the named run metrics must agree within ``tolerance``."""

    argv: tuple[str, ...]
    metrics: tuple[str, ...]
    tolerance: float
    timeout: float


def policy_hash(settings: Mapping[str, Any]) -> str:
    """sha256 of a policy table's canonical JSON: what a verdict records, and the audit checks."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class GatePolicy:
    """One alias's policy: ``name`` is the alias, ``settings`` the table as declared.

    Build it with `parse_policy`, which checks the table; the typed views below trust it.
    """

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the settings: what a verdict is bound to."""
        return policy_hash(self.settings)

    @property
    def canary_minutes(self) -> float:
        """Minutes a version must have held the canary alias before it may take this one."""
        return float(self.settings.get("canary_minutes", 0))

    @property
    def canary_alias(self) -> str:
        """The alias that counts as the canary stage (``canary`` unless declared)."""
        return str(self.settings.get("canary_alias", "canary"))

    @property
    def metrics(self) -> tuple[Threshold, ...]:
        """The metric thresholds on the whole evaluation set."""
        return _thresholds(self.settings.get("metrics", {}))

    @property
    def task(self) -> str | None:
        """``classification`` or ``regression`` as declared or implied by the metrics."""
        declared = self.settings.get("task")
        if declared is not None:
            return str(declared)
        names = [t.metric for t in self.metrics]
        if self.slices is not None:
            names += [t.metric for t in self.slices.thresholds]
        if any(n in REGRESSION_METRICS for n in names):
            return "regression"
        if names or self.fairness:
            return "classification"
        return None

    @property
    def baseline(self) -> str | None:
        """The baseline the candidate must beat (``dummy`` or ``linear``), or None."""
        value = self.settings.get("baseline", False)
        if value is False:
            return None
        return "dummy" if value is True else str(value)

    @property
    def max_regression(self) -> float | None:
        value = self.settings.get("max_regression")
        return None if value is None else float(value)

    @property
    def slices(self) -> Slices | None:
        table = self.settings.get("slices")
        if table is None:
            return None
        return Slices(
            tuple(table["columns"]),
            _thresholds(table.get("metrics", {})),
            int(table.get("min_rows", 30)),
        )

    @property
    def sensitive(self) -> tuple[str, ...]:
        return tuple(self.settings.get("sensitive", ()))

    @property
    def fairness(self) -> tuple[Threshold, ...]:
        return _thresholds(self.settings.get("fairness", {}))

    @property
    def data(self) -> bool:
        return bool(self.settings.get("data", False))

    @property
    def denylist(self) -> tuple[str, ...]:
        return tuple(self.settings.get("denylist", ()))

    @property
    def reproducibility(self) -> Reproducibility | None:
        table = self.settings.get("reproducibility")
        if table is None:
            return None
        command = table["command"]
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        return Reproducibility(
            tuple(argv),
            tuple(table.get("metrics", ())),
            float(table.get("tolerance", 0.0)),
            float(table.get("timeout", 600)),
        )


def _thresholds(table: Mapping[str, str]) -> tuple[Threshold, ...]:
    return tuple(parse_threshold(name, text) for name, text in table.items())


def parse_threshold(metric: str, text: Any, *, where: str = "metrics") -> Threshold:
    """``">= 0.8"`` for ``metric`` as a `Threshold`.

    Raises:
        GateError: not a comparison with a finite number (code ``gate-policy``).
    """
    match = _THRESHOLD.fullmatch(text) if isinstance(text, str) else None
    if match is None or not math.isfinite(float(match.group(2))):
        raise GateError(
            f"{where}.{metric} = {text!r} is not a threshold; expected an operator "
            "(>=, >, <=, <) and a number",
            code="gate-policy",
            hint=f'write e.g. {metric} = ">= 0.8"',
        )
    return Threshold(metric, match.group(1), float(match.group(2)))


def _bad(policy: str, key: str, value: Any, expected: str, hint: str | None = None) -> GateError:
    return GateError(
        f"[tool.steward.gates.{policy}] {key} must be {expected}, got {value!r}",
        code="gate-policy",
        hint=hint or f"fix {key}; every key is in docs/gates.md",
    )


def _names(policy: str, key: str, value: Any, *, empty: bool = False) -> None:
    if (
        not isinstance(value, list)
        or (not value and not empty)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise _bad(policy, key, value, "a list of column names", f'e.g. {key} = ["region"]')


def _threshold_table(policy: str, key: str, value: Any, known: tuple[str, ...]) -> None:
    if not isinstance(value, Mapping):
        raise _bad(
            policy, key, value, "a table of thresholds", f'e.g. {key} = {{ accuracy = ">= 0.8" }}'
        )
    for metric, text in value.items():
        if metric not in known:
            raise GateError(
                f"[tool.steward.gates.{policy}] {key} names {metric!r}, which is not a "
                f"metric; expected one of {', '.join(known)}",
                code="gate-policy",
                hint="use a metric from the list (docs/gates.md explains each)",
            )
        parse_threshold(metric, text, where=f"[tool.steward.gates.{policy}] {key}")


def _number(policy: str, key: str, value: Any, *, low: float = 0.0, strict: bool = False) -> None:
    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    if not ok or value < low or (strict and value == low):
        relation = ">" if strict else ">="
        raise _bad(policy, key, value, f"a number {relation} {low:g}")


def parse_policy(name: str, table: Any) -> GatePolicy:
    """Check one declared policy table strictly.

    Raises:
        GateError: the table is not a table, has an unknown key, or a key has a value of
            the wrong kind, a threshold that does not parse, or an unknown metric (code
            ``gate-policy``); the message names the key and what it expects.
    """
    if not isinstance(table, Mapping):
        raise GateError(
            f"[tool.steward.gates.{name}] must be a table, got {type(table).__name__}",
            code="gate-policy",
            hint=f"write it as [tool.steward.gates.{name}] with keys such as "
            'metrics = { accuracy = ">= 0.8" }',
        )
    for key in table:
        if key not in _KEYS:
            raise GateError(
                f"[tool.steward.gates.{name}] has an unknown key {key!r}; expected one of "
                f"{', '.join(_KEYS)}",
                code="gate-policy",
                hint="fix the spelling or remove the key; every key is in docs/gates.md",
            )
    _check_values(name, table)
    policy = GatePolicy(name, dict(table))
    _check_task(name, policy)
    return policy


def _check_values(name: str, table: Mapping[str, Any]) -> None:
    everything = CLASSIFICATION_METRICS + REGRESSION_METRICS
    if "metrics" in table:
        _threshold_table(name, "metrics", table["metrics"], everything)
    task = table.get("task")
    if task is not None and task not in ("classification", "regression"):
        raise _bad(name, "task", task, _KEYS["task"])
    baseline = table.get("baseline", False)
    if not isinstance(baseline, bool) and baseline not in ("dummy", "linear"):
        raise _bad(name, "baseline", baseline, _KEYS["baseline"])
    if "max_regression" in table:
        _number(name, "max_regression", table["max_regression"])
    if "slices" in table:
        _check_slices(name, table["slices"], everything)
    if "sensitive" in table:
        _names(name, "sensitive", table["sensitive"])
    if "fairness" in table:
        _threshold_table(name, "fairness", table["fairness"], FAIRNESS_METRICS)
        if not table.get("sensitive"):
            raise _bad(
                name, "sensitive", table.get("sensitive"), "the sensitive columns, since "
                "fairness is declared", 'e.g. sensitive = ["gender"]'
            )  # fmt: skip
    if "data" in table and not isinstance(table["data"], bool):
        raise _bad(name, "data", table["data"], _KEYS["data"])
    if "denylist" in table:
        _names(name, "denylist", table["denylist"])
    if "reproducibility" in table:
        _check_reproducibility(name, table["reproducibility"])
    if "canary_minutes" in table:
        _number(name, "canary_minutes", table["canary_minutes"])
    alias = table.get("canary_alias", "canary")
    if not isinstance(alias, str) or not alias:
        raise _bad(name, "canary_alias", alias, "an alias name", 'e.g. canary_alias = "canary"')


def _check_slices(name: str, slices: Any, known: tuple[str, ...]) -> None:
    if not isinstance(slices, Mapping):
        raise _bad(name, "slices", slices, _KEYS["slices"])
    for key in slices:
        if key not in _SLICE_KEYS:
            raise GateError(
                f"[tool.steward.gates.{name}.slices] has an unknown key {key!r}; expected "
                f"one of {', '.join(_SLICE_KEYS)}",
                code="gate-policy",
                hint="fix the spelling or remove the key",
            )
    _names(name, "slices.columns", slices.get("columns"))
    _threshold_table(name, "slices.metrics", slices.get("metrics"), known)
    min_rows = slices.get("min_rows", 30)
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise _bad(name, "slices.min_rows", min_rows, "an integer >= 1", "e.g. min_rows = 30")


def _check_reproducibility(name: str, table: Any) -> None:
    if not isinstance(table, Mapping):
        raise _bad(name, "reproducibility", table, _KEYS["reproducibility"])
    for key in table:
        if key not in _REPRO_KEYS:
            raise GateError(
                f"[tool.steward.gates.{name}.reproducibility] has an unknown key {key!r}; "
                f"expected one of {', '.join(_REPRO_KEYS)}",
                code="gate-policy",
                hint="fix the spelling or remove the key",
            )
    command = table.get("command")
    good = (isinstance(command, str) and command.strip()) or (
        isinstance(command, list) and command and all(isinstance(c, str) for c in command)
    )
    if not good:
        raise _bad(
            name, "reproducibility.command", command, "a command line",
            'e.g. command = "python train.py"',
        )  # fmt: skip
    if isinstance(command, str):
        try:
            shlex.split(command)
        except ValueError as exc:
            raise _bad(name, "reproducibility.command", command, f"a command line ({exc})") from exc
    _names(name, "reproducibility.metrics", table.get("metrics"))
    _number(name, "reproducibility.tolerance", table.get("tolerance", 0.0))
    _number(name, "reproducibility.timeout", table.get("timeout", 600), strict=True)


def _check_task(name: str, policy: GatePolicy) -> None:
    names = [t.metric for t in policy.metrics]
    if policy.slices is not None:
        names += [t.metric for t in policy.slices.thresholds]
    families = {"regression" if n in REGRESSION_METRICS else "classification" for n in names}
    if policy.fairness:
        families.add("classification")
    declared = policy.settings.get("task")
    if declared is not None:
        families.add(declared)
    if len(families) > 1:
        raise GateError(
            f"[tool.steward.gates.{name}] mixes classification and regression "
            f"(metrics {', '.join(names) or 'none'}, task {declared!r}, "
            f"fairness {'declared' if policy.fairness else 'none'}); expected one task",
            code="gate-policy",
            hint="classification: accuracy, f1, ... and fairness; regression: mse, rmse, mae, r2",
        )


def load_policies(project: Project) -> dict[str, GatePolicy]:
    """Every policy the project declares, by alias."""
    raw = project.settings.extra.get("gates", {})
    if not isinstance(raw, Mapping):
        raise GateError(
            f"[tool.steward.gates] must be a table of policies, got {type(raw).__name__}",
            code="gate-policy",
            hint="declare one table per alias: [tool.steward.gates.production]",
        )
    return {str(name): parse_policy(str(name), table) for name, table in raw.items()}


def policy_for(project: Project, alias: str) -> GatePolicy | None:
    """The policy guarding ``alias``, or None when promotion to it is free."""
    return load_policies(project).get(alias)


def get_policy(project: Project, name: str) -> GatePolicy:
    """The policy ``name``, which must be declared.

    Raises:
        GateError: no such policy (code ``gate-unknown-policy``, listing the declared ones).
    """
    policies = load_policies(project)
    if name not in policies:
        declared = ", ".join(sorted(policies)) or "none"
        raise GateError(
            f"no gate policy {name!r} is declared; declared: {declared}",
            code="gate-unknown-policy",
            hint=f"add [tool.steward.gates.{name}] to pyproject.toml (or steward.toml), "
            "or pass one of the declared policies",
        )
    return policies[name]
