"""The gate engine: evaluate a model against a policy, then record one verdict.

`evaluate` is the core and works on plain inputs (a fitted model or predict function,
a pandas frame, a `GatePolicy`): it checks the inputs, predicts once, and runs every
check the policy turns on (`mlsteward.gates.checks.CHECKS`) on those predictions.
`run_gate` does the same for a registered model version on a dataset version of the
store, and appends the verdict (policy hash, every measured value) in one transaction.
Bad input raises before anything is written: a gate that cannot run leaves no verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlsteward.errors import GateError, NotFoundError
from mlsteward.gates.checks import CHECKS, CheckResult, Evaluation
from mlsteward.gates.predict import predict
from mlsteward.project import Project
from mlsteward.registry.policy import GatePolicy, get_policy

__all__ = ["GateReport", "Verdict", "evaluate", "read_frame", "run_gate"]


@dataclass(frozen=True)
class GateReport:
    """What `evaluate` found: every check's result; ``passed`` when all passed."""

    policy: GatePolicy
    task: str
    rows: int
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class Verdict:
    """A recorded gate verdict: the model version, the policy (and its hash), the checks."""

    id: str
    model: str  # name@version
    version_id: str
    policy: str
    policy_hash: str
    passed: bool
    checks: tuple[dict[str, Any], ...]
    dataset: str | None  # name@version of the evaluation data
    dataset_version_id: str | None
    time: float
    rows: int = 0
    task: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "policy": self.policy,
            "policy_hash": self.policy_hash,
            "passed": self.passed,
            "task": self.task,
            "rows": self.rows,
            "dataset": self.dataset,
            "dataset_version_id": self.dataset_version_id,
            "time": self.time,
            "checks": list(self.checks),
        }


def _data_error(message: str, hint: str) -> GateError:
    return GateError(message, code="gate-data", hint=hint)


def _infer_task(policy: GatePolicy, labels: Any) -> str:
    if policy.task is not None:
        return policy.task
    return "regression" if labels.dtype.kind == "f" else "classification"


def _check_columns(
    frame: Any, label: str, policy: GatePolicy, features: Sequence[str], what: str
) -> None:
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
    if label not in frame.columns:
        raise _data_error(
            f"{what} has no label column {label!r}; its columns: {shown}",
            "pass --label with the column that holds the true values",
        )
    if len(frame) == 0:
        raise _data_error(f"{what} has no rows", "evaluate on a dataset version with rows")
    missing_labels = int(frame[label].isna().sum())
    if missing_labels:
        raise _data_error(
            f"{what}: the label column {label!r} has {missing_labels:,} missing value(s); "
            "expected a label on every row",
            "drop the unlabelled rows from the evaluation data, or fill them",
        )
    declared: list[tuple[str, str]] = [("slices.columns", c) for c in _slice_columns(policy)]
    declared += [("sensitive", c) for c in policy.sensitive]
    for key, column in declared:
        if column not in frame.columns:
            raise _data_error(
                f"the policy {policy.name!r} names column {column!r} in {key}, which {what} "
                f"does not have; its columns: {shown}",
                f"fix [tool.steward.gates.{policy.name}] {key}, or evaluate on data with "
                "that column",
            )
    absent = [c for c in features if c not in frame.columns]
    if absent:
        raise _data_error(
            f"{what} lacks the model's input column(s) {', '.join(absent)}",
            "evaluate on data with every column of the model's signature",
        )


def _slice_columns(policy: GatePolicy) -> tuple[str, ...]:
    return () if policy.slices is None else policy.slices.columns


def evaluate(
    model: Any,
    frame: Any,
    label: str,
    policy: GatePolicy,
    *,
    inputs: Sequence[str] = (),
    train: Any = None,
    train_source: str = "",
    holder: Any = None,
    holder_name: str | None = None,
    holder_inputs: Sequence[str] = (),
    datasets: Sequence[tuple[str, str | None]] = (),
    project: Project | None = None,
) -> GateReport:
    """Check ``model`` against ``policy`` on ``frame`` (a pandas DataFrame).

    Args:
        model: a fitted estimator (``predict``, optionally ``predict_proba`` and
            ``classes_``), a loaded model version, or a function of the feature frame.
        frame: the evaluation data, labels in column ``label``.
        policy: the policy, e.g. ``parse_policy("production", {...})``.
        inputs: the model's input columns (its signature); default: every column but
            the label, or the estimator's ``feature_names_in_``.
        train: the data the baseline trains on (default: half the evaluation rows).
        holder: the alias's current holder, compared for ``max_regression``.
        datasets: ``(role, "name@version")`` of the data the data check validates.
        project: where dataset versions and the reproducibility runs live.

    Raises:
        GateError: ``gate-data`` (a missing label or declared column, no rows),
            ``gate-model`` (the model fails on the data).
    """
    features = _features(model, frame, label, inputs)
    _check_columns(frame, label, policy, features, "the evaluation data")
    task = _infer_task(policy, frame[label])
    pred = predict(model, frame, features, label, task)
    holder_pred = None
    if holder is not None and policy.max_regression is not None:
        holder_features = _features(holder, frame, label, holder_inputs)
        _check_columns(frame, label, policy, holder_features, "the evaluation data")
        holder_pred = predict(holder, frame, holder_features, label, task)
    if train is not None and label not in train.columns:
        train_source = f"a held-out half of the evaluation data ({train_source} has no {label!r})"
        train = None
    ev = Evaluation(
        policy=policy,
        task=task,
        frame=frame,
        label=label,
        features=features,
        pred=pred,
        baseline_train=train,
        baseline_source=train_source,
        holder_name=holder_name,
        holder_pred=holder_pred,
        inputs=tuple(inputs) or features,
        datasets=tuple(datasets),
        project=project,
    )
    results = tuple(check.run(ev) for check in CHECKS.values() if check.enabled(policy))
    return GateReport(policy, task, len(frame), results)


def _features(model: Any, frame: Any, label: str, inputs: Sequence[str]) -> tuple[str, ...]:
    if inputs:
        return tuple(inputs)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return tuple(str(n) for n in names)
    return tuple(str(c) for c in frame.columns if c != label)


def read_frame(project: Project, ref: str) -> Any:
    """Dataset version ``ref`` as a pandas DataFrame (its Parquet/CSV files, concatenated)."""
    import pyarrow as pa

    from mlsteward.data.readers import iter_batches

    tables = [
        pa.Table.from_arrays([c.values for c in b.columns], names=[c.name for c in b.columns])
        for b in iter_batches(ref, project=project)
    ]
    if not tables:
        raise _data_error(f"dataset version {ref} holds no rows", "evaluate on data with rows")
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowInvalid as exc:
        raise _data_error(
            f"the files of dataset version {ref} do not share one schema: {exc}",
            "make every file of the dataset hold the same columns and types",
        ) from exc
    return table.to_pandas()


def run_gate(
    ref_or_name: str,
    version: int | str | None = None,
    *,
    policy: str | GatePolicy,
    data: str,
    label: str,
    project: Project | str | Path | None = None,
    trust: bool = False,
) -> Verdict:
    """Check a model version against a policy on a dataset version; record the verdict.

    Args:
        ref_or_name: ``name@3`` / ``name@staging``, or a model name with ``version``.
        version: the version number or alias when ``ref_or_name`` is a bare name.
        policy: the policy's alias (declared in ``[tool.steward.gates.<alias>]``).
        data: the evaluation dataset version, ``NAME`` (latest) or ``NAME@VERSION``.
        label: the column of ``data`` holding the true values.
        trust: allow loading pickled models (recorded by the model package).

    Raises:
        GateError: ``gate-unknown-policy``, ``gate-policy``, ``gate-data``, ``gate-model``.
        NotFoundError: no such model, version or dataset version.
    """
    from mlsteward.registry.versions import get_version, load_version
    from mlsteward.store.database import open_store
    from mlsteward.store.datasets import resolve_version

    proj = Project.of(project)
    pol = policy if isinstance(policy, GatePolicy) else get_policy(proj, policy)
    ref = ref_or_name if version is None else f"{ref_or_name}@{version}"
    mv = get_version(ref, project=proj)
    with open_store(proj).read() as conn:
        dataset = resolve_version(conn, data)
    data_ref = f"{dataset.name}@{dataset.version}"
    frame = read_frame(proj, data_ref)
    inputs = [str(c["name"]) for c in mv.signature.get("inputs", [])]
    _check_columns(frame, label, pol, inputs, f"the evaluation data {data_ref}")
    model = load_version(mv.ref, trust=trust, project=proj)
    train_refs = [d.ref for d in mv.datasets if d.role == "train"]
    train, source = None, ""
    if pol.baseline is not None and train_refs:
        train, source = read_frame(proj, train_refs[0]), f"training dataset {train_refs[0]}"
    holder = holder_name = None
    holder_inputs: list[str] = []
    if pol.max_regression is not None:
        try:
            current = get_version(f"{mv.name}@{pol.name}", project=proj)
        except NotFoundError:
            current = None
        if current is not None:
            holder = load_version(current.ref, trust=trust, project=proj)
            holder_name = current.ref
            holder_inputs = [str(c["name"]) for c in current.signature.get("inputs", [])]
    report = evaluate(
        model, frame, label, pol,
        inputs=inputs, train=train, train_source=source,
        holder=holder, holder_name=holder_name, holder_inputs=holder_inputs,
        datasets=[("train", r) for r in train_refs] + [("eval", data_ref)],
        project=proj,
    )  # fmt: skip
    return record_report(proj, mv.id, mv.ref, report, dataset.id, data_ref)


def record_report(
    project: Project,
    version_id: str,
    model_ref: str,
    report: GateReport,
    dataset_version_id: str | None,
    dataset_ref: str | None,
) -> Verdict:
    """Append ``report`` as a verdict on ``version_id`` (and the eval-data link), atomically."""
    from sqlalchemy import select

    from mlsteward.registry.verdicts import record_verdict
    from mlsteward.store.database import open_store
    from mlsteward.store.schema import model_datasets

    checks = tuple(c.to_dict() for c in report.checks)
    with open_store(project).write() as conn:
        row = record_verdict(
            conn,
            version_id=version_id,
            subject=f"model:{model_ref}",
            policy=report.policy.name,
            policy_hash=report.policy.hash,
            passed=report.passed,
            checks=checks,
            dataset_version_id=dataset_version_id,
        )
        if dataset_version_id is not None:
            linked = conn.execute(
                select(model_datasets.c.role).where(
                    model_datasets.c.version_id == version_id,
                    model_datasets.c.dataset_version_id == dataset_version_id,
                    model_datasets.c.role == "eval",
                )
            ).first()
            if linked is None:
                conn.execute(
                    model_datasets.insert().values(
                        version_id=version_id, dataset_version_id=dataset_version_id, role="eval"
                    )
                )
    return Verdict(
        row.id,
        model_ref,
        version_id,
        row.policy,
        row.policy_hash,
        row.passed,
        checks,
        dataset_ref,
        dataset_version_id,
        row.time,
        report.rows,
        report.task,
    )
