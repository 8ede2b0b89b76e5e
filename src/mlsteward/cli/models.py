"""``steward models``: register model versions, move aliases, roll back, show the history.

Imports of the registry happen inside the commands: this module is imported on every
``steward`` start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from mlsteward.cli.formats import check_format as _check_format
from mlsteward.cli.formats import human_size, table, when

if TYPE_CHECKING:
    from mlsteward.registry.aliases import AliasMove
    from mlsteward.registry.versions import ModelVersion, VersionDetail

__all__ = ["models_app", "register"]

FORMATS = ("text", "json")

models_app = typer.Typer(
    help="The model registry (register, list, show, promote, rollback, history, delete, card).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(models_app, name="models")


def _json(data: Any) -> None:
    import json

    typer.echo(json.dumps(data, indent=2, default=str))


def _line(v: ModelVersion) -> str:
    forced = "  FORCED (no provenance)" if v.forced else ""
    return f"{v.ref}  {v.format}  {v.digest[:12]}  {human_size(v.size)}{forced}"


@models_app.command("register")
def register_(
    name: str = typer.Argument(..., help="The model's name."),
    run: str = typer.Option(..., "--run", help="The run that produced the model (id or name)."),
    artifact: str | None = typer.Option(
        None, "--artifact", help="The model artifact's id (default: the run's newest model)."
    ),
    data: list[str] = typer.Option(
        [], "--data", help="A training dataset version NAME@V (repeat; default: the run's)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Register without full provenance; marked as forced for ever."
    ),
    description: str = typer.Option("", "--description", help="What this version is."),
    example: str | None = typer.Option(
        None,
        "--example",
        help="A Parquet or CSV file of input rows: the model runs on them once and is "
        "stored with the signature they show (needed to gate or load a plain model file).",
    ),
    trust: bool = typer.Option(
        False, "--trust", help="Trust the model file's types (or its pickle) to load it."
    ),
) -> None:
    """Register a model artifact a run produced as the next version of NAME."""
    from mlsteward.project import Project
    from mlsteward.registry.register import register_model

    project = Project.open()
    version = register_model(
        name=name,
        run=run,
        artifact=artifact,
        datasets=data,
        force=force,
        description=description,
        example=None if example is None else _example_rows(project, example),
        trust=trust,
        project=project,
    )
    typer.echo(_line(version))


def _example_rows(project: Any, path: str) -> Any:
    """The first rows of a Parquet or CSV file inside the project."""
    from mlsteward.errors import UsageError

    where = project.resolve(path)
    suffix = where.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise UsageError(
            f"--example {path} is a {suffix or 'suffix-less'} file; expected .parquet or .csv",
            code="example-file",
            hint="write a few input rows with DataFrame.to_parquet('example.parquet')",
        )
    import pyarrow.csv
    import pyarrow.parquet

    try:
        if suffix == ".csv":
            rows = pyarrow.csv.read_csv(where)
        else:
            rows = pyarrow.parquet.read_table(where)
    except Exception as exc:  # a damaged or foreign file: say so, with the reader's words
        raise UsageError(
            f"--example {path} cannot be read as {suffix[1:]}: {exc}",
            code="example-file",
            hint="give a Parquet or CSV file of the model's input columns",
        ) from exc
    return rows.slice(0, 100)


@models_app.command("list")
def list_(
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """List the registered models: versions, the newest, and their aliases."""
    from mlsteward.registry.versions import list_models

    _check_format(fmt, FORMATS, "steward models list")
    found = list_models()
    if fmt == "json":
        _json([m.to_dict() for m in found])
        return
    if not found:
        typer.echo("no models yet: `steward models register NAME --run RUN` registers one")
        return
    table(
        ["NAME", "LATEST", "VERSIONS", "ALIASES"],
        [
            [
                m.name,
                "-" if m.latest is None else f"@{m.latest}",
                str(m.versions),
                ", ".join(f"{a}=@{v}" for a, v in m.aliases.items()) or "-",
            ]
            for m in found
        ],
    )


@models_app.command("show")
def show(
    ref: str = typer.Argument(..., help="NAME (every version), NAME@VERSION or NAME@ALIAS."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Show a model's versions, or one version: provenance, data, signature, aliases, verdicts."""
    from mlsteward.registry.versions import list_versions, show_version

    _check_format(fmt, FORMATS, "steward models show")
    if "@" not in ref:
        versions = list_versions(ref)
        if fmt == "json":
            _json([v.to_dict() for v in versions])
            return
        table(
            ["VERSION", "FORMAT", "RUN", "COMMIT", "DATA", "ALIASES", "CREATED", "STATE"],
            [
                [
                    v.ref,
                    v.format,
                    v.run_id[:8] if v.run_id else "-",
                    _commit(v),
                    ", ".join(d.ref for d in v.datasets if d.role == "train") or "-",
                    ", ".join(v.aliases) or "-",
                    when(v.created),
                    _state(v),
                ]
                for v in versions
            ],
        )
        return
    detail = show_version(ref)
    if fmt == "json":
        _json(detail.to_dict())
        return
    _detail(detail)


def _commit(v: ModelVersion) -> str:
    text = "-" if v.git_commit is None else v.git_commit[:10]
    return text + (" (dirty)" if v.git_dirty else "")


def _state(v: ModelVersion) -> str:
    if v.deleted is not None:
        return f"deleted {when(v.deleted)}"
    return "forced" if v.forced else "ok"


def _columns(specs: Any) -> str:
    return ", ".join(f"{c.get('name')} {c.get('type')}" for c in specs or ())


def _signature(signature: Any) -> str:
    if not signature:
        return "unknown (a plain file: register it with --example to record one)"
    return f"{_columns(signature.get('inputs'))} -> {_columns(signature.get('outputs')) or '?'}"


def _trust(trust: Any) -> str:
    if not trust:
        return "-"
    types = list(trust.get("types") or ())
    if trust.get("trusted"):
        said = f"trusted by {trust.get('by', '?')}"
        return said + (f" ({', '.join(types)})" if types else "")
    if types:
        return f"needs trusted types: {', '.join(types)}"
    return "no code runs at load; only default-trusted types"


def _detail(detail: VersionDetail) -> None:
    v = detail.version
    rows = [
        ("version", v.ref),
        ("state", _state(v)),
        ("description", v.description or "-"),
        ("format", v.format),
        ("artifact", f"{v.artifact_id}  {v.digest[:12]}  {human_size(v.size)}"),
        ("run", v.run_id or "-"),
        ("commit", _commit(v)),
        ("forced", "yes: registered without full provenance" if v.forced else "no"),
        ("created", f"{when(v.created)} by {v.actor}"),
        ("aliases", ", ".join(v.aliases) or "-"),
    ]
    rows += [(f"data ({d.role})", d.ref) for d in v.datasets] or [("data", "-")]
    rows.append(("signature", _signature(v.signature)))
    rows.append(("trust", _trust(v.trust)))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key.ljust(width)}  {value}")
    if detail.verdicts:
        typer.echo("verdicts:")
        for verdict in detail.verdicts:
            outcome = "passed" if verdict.passed else "FAILED"
            typer.echo(
                f"  {when(verdict.time)}  {verdict.policy}  {outcome}  {verdict.id}"
                f"  policy {verdict.policy_hash[:12]}"
            )


@models_app.command("promote")
def promote_(
    name: str = typer.Argument(..., help="The model."),
    version: str = typer.Argument(..., help="The version number to promote."),
    to: str = typer.Option(..., "--to", help="The alias (production, staging, canary, ...)."),
    reason: str = typer.Option(..., "--reason", help="Why, for the history."),
) -> None:
    """Point alias --to at VERSION (refused without a passing verdict if a policy guards it)."""
    from mlsteward.registry.aliases import promote

    move = promote(name, _version(version), to, reason=reason)
    typer.echo(_move_line(move))


@models_app.command("rollback")
def rollback_(
    name: str = typer.Argument(..., help="The model."),
    alias: str = typer.Option(..., "--alias", help="The alias to move back (e.g. production)."),
    reason: str = typer.Option("", "--reason", help="Why, for the history."),
) -> None:
    """Move the alias back to the version it pointed to before its last promotion."""
    from mlsteward.registry.aliases import rollback

    typer.echo(_move_line(rollback(name, alias, reason=reason)))


@models_app.command("history")
def history(
    name: str = typer.Argument(..., help="The model."),
    alias: str | None = typer.Option(None, "--alias", help="Only this alias's moves."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Every alias move: time, actor, alias, from, to, kind, reason, verdict."""
    from mlsteward.registry.aliases import alias_history

    _check_format(fmt, FORMATS, "steward models history")
    moves = alias_history(name, alias)
    if fmt == "json":
        _json([m.to_dict() for m in moves])
        return
    if not moves:
        typer.echo(f"no alias moves for {name} yet")
        return
    table(
        ["TIME", "ACTOR", "ALIAS", "FROM", "TO", "KIND", "REASON", "VERDICT"],
        [
            [
                when(m.time),
                m.actor,
                m.alias,
                _at(m.from_version),
                _at(m.to_version),
                m.kind,
                m.reason or "-",
                m.verdict_id or "-",
            ]
            for m in moves
        ],
    )


@models_app.command("delete")
def delete(
    name: str = typer.Argument(..., help="The model."),
    version: str = typer.Argument(..., help="The version number to delete."),
    reason: str = typer.Option(..., "--reason", help="Why, for the records."),
) -> None:
    """Mark a version deleted (refused while an alias points to it); its records stay."""
    from mlsteward.registry.versions import delete_version

    gone = delete_version(name, _version(version), reason=reason)
    typer.echo(f"deleted {gone.ref}")


def _version(text: str) -> int:
    from mlsteward.registry.records import check_number

    return check_number(text)


def _at(version: int | None) -> str:
    return "-" if version is None else f"@{version}"


def _move_line(move: AliasMove) -> str:
    verdict = f"  verdict {move.verdict_id}" if move.verdict_id else ""
    return (
        f"{move.name}: {move.alias} {_at(move.from_version)} -> {_at(move.to_version)}"
        f"  ({move.kind}){verdict}"
    )
