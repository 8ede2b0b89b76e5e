"""The data check (ML Test Score, Data 1): training and evaluation data pass their schema.

The schema is the one attached to each dataset version (`steward data infer-schema
NAME@V --save`); a version without one fails, saying how to attach it. The evaluation
frame already in memory is validated as is; a training version is read from the store.
"""

from __future__ import annotations

from typing import Any

from mlsteward.gates.checks import CheckResult, Evaluation

__all__ = ["check_datasets"]


def check_datasets(ev: Evaluation) -> CheckResult:
    """Validate every dataset version of ``ev.datasets`` against its attached schema."""
    from mlsteward.data.schema import load_schema
    from mlsteward.data.validate import validate

    measured: dict[str, Any] = {}
    problems: list[str] = []
    roles = {role for role, _ in ev.datasets}
    for role in ("train", "eval"):
        if role not in roles:
            what = "training" if role == "train" else "evaluation"
            problems.append(f"no {what} dataset version is recorded, so no schema can be checked")
            measured[role] = None
    for role, ref in ev.datasets:
        if ref is None or ev.project is None:
            problems.append(f"{role} data is not a dataset version of the project")
            measured[role] = None
            continue
        schema = load_schema(ev.project, ref)
        if schema is None:
            problems.append(
                f"{ref} has no schema; attach one with `steward data infer-schema {ref} --save`"
            )
            measured[ref] = {"role": role, "schema": False}
            continue
        data = ev.frame if role == "eval" else ref
        report = validate(data, schema, project=ev.project)
        measured[ref] = {
            "role": role,
            "schema": True,
            "rows": report.rows,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "anomalies": [f"{a.column or '-'}: {a.kind}: {a.message}" for a in report.errors],
        }
        if not report.ok:
            first = report.errors[0]
            problems.append(
                f"{ref} ({role}) fails its schema: {len(report.errors)} error(s), e.g. "
                f"{first.column or '-'}: {first.message}"
            )
    return CheckResult(
        "data",
        not problems,
        measured,
        {"schema": "every training and evaluation dataset version passes its attached schema"},
        "; ".join(problems) or f"{len(ev.datasets)} dataset version(s) pass their schema",
    )
