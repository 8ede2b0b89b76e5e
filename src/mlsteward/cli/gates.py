"""``steward gate``: check a model version against an alias's policy and record the verdict.

Imports of the gate engine happen inside the commands: this module is imported on every
``steward`` start.
"""

from __future__ import annotations

from typing import Any

import typer

from mlsteward.cli.formats import check_format

__all__ = ["gate_app", "register"]

gate_app = typer.Typer(help="Validation gates (run).", no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(gate_app, name="gate")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _flat(table: Any) -> str:
    """Scalars and one level of nested ones (``candidate.accuracy 0.91``), on one line.

    Deeper tables (the fairness groups) are left to ``--format json``.
    """
    parts = []
    for key, value in table.items():
        if not isinstance(value, dict):
            parts.append(f"{key} {_value(value)}")
        elif not any(isinstance(v, dict) for v in value.values()):
            parts += [f"{key}.{k} {_value(v)}" for k, v in value.items()]
    return ", ".join(parts)


@gate_app.command("run")
def run(
    name: str = typer.Argument(..., help="The registered model."),
    version: str = typer.Argument(..., help="Its version number, or an alias."),
    policy: str = typer.Option(..., "--policy", "-p", help="The policy (an alias) to check."),
    data: str = typer.Option(..., "--data", "-d", help="Evaluation data: DATASET[@VERSION]."),
    label: str = typer.Option(..., "--label", "-l", help="The column holding the true values."),
    trust: bool = typer.Option(False, "--trust", help="Allow loading a pickled model."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Check NAME VERSION against a policy on a dataset version; record the verdict.

    Exit code 0 when every check passed, 1 when one failed, 2 for bad input.
    """
    import json

    from mlsteward.gates import run_gate

    check_format(fmt, ("text", "json"), "steward gate run")
    which: int | str = int(version) if version.isdigit() else version
    verdict = run_gate(name, which, policy=policy, data=data, label=label, trust=trust)
    if fmt == "json":
        typer.echo(json.dumps(verdict.to_dict(), indent=2, sort_keys=True))
    else:
        for check in verdict.checks:
            mark = "pass" if check["passed"] else "FAIL"
            typer.echo(f"{mark}  {check['check']}: {check['detail']}")
            measured, expected = _flat(check["measured"]), _flat(check["expected"])
            if measured:
                typer.echo(f"      measured: {measured}")
            if expected:
                typer.echo(f"      expected: {expected}")
        outcome = "passed" if verdict.passed else "FAILED"
        typer.echo(
            f"{outcome}: {verdict.model} against policy {verdict.policy!r} "
            f"(hash {verdict.policy_hash[:12]}) on {verdict.dataset}, {verdict.rows:,} rows"
        )
        typer.echo(f"verdict {verdict.id}")
    if not verdict.passed:
        raise typer.Exit(1)
