"""``steward catalog``: list the practices, or explain one."""

from __future__ import annotations

import typer

from mlsteward.cli.defaultgroup import DefaultGroup

__all__ = ["catalog_app"]


class _ListByDefault(DefaultGroup):
    default_command = "list"


catalog_app = typer.Typer(
    cls=_ListByDefault, help="The practice catalogs (list, show ID).", rich_markup_mode=None
)


@catalog_app.command("list")
def list_(
    catalog: str | None = typer.Option(
        None, "--catalog", "-c", help="se-ml, ml-test-score or ml-smells."
    ),
    category: str | None = typer.Option(
        None, "--category", help="e.g. data, deployment, monitoring."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """List practices, filtered by catalog and category."""
    import json

    from mlsteward.catalog import load_catalog

    practices = load_catalog().select(catalog, category)
    if fmt == "json":
        from mlsteward.audit.registry import all_rules

        evidenced_by: dict[str, list[str]] = {}
        for r in all_rules().values():
            for pid in r.practices:
                evidenced_by.setdefault(pid, []).append(r.code)
        rows = [{**p.__dict__, "rules": evidenced_by.get(p.id, [])} for p in practices]
        typer.echo(json.dumps(rows, indent=2, default=list))
        return
    for p in practices:
        diff = f" [{p.difficulty}]" if p.difficulty else ""
        typer.echo(f"{p.id:16} {p.category:16} {p.title}{diff}")


@catalog_app.command("show")
def show(
    practice_id: str = typer.Argument(..., help="A practice id, e.g. seml-22 or mts-infra-1."),
) -> None:
    """Explain one practice and the audit rules that give evidence for it."""
    from mlsteward.audit.registry import all_rules
    from mlsteward.catalog import CATALOGS, load_catalog

    p = load_catalog().get(practice_id)
    typer.echo(f"{p.id}: {p.title}")
    typer.echo(f"  catalog:  {CATALOGS[p.catalog][1]} ({CATALOGS[p.catalog][2]})")
    typer.echo(
        f"  category: {p.category}" + (f"   difficulty: {p.difficulty}" if p.difficulty else "")
    )
    if p.labels:
        typer.echo(f"  labels:   {', '.join(p.labels)}")
    if p.applies_when:
        typer.echo(f"  applies when: {', '.join(p.applies_when)}")
    typer.echo(f"\n{p.summary}\n")
    if p.evidence:
        typer.echo(f"Evidence: {p.evidence}\n")
    rules = [r for r in all_rules().values() if p.id in r.practices]
    if rules:
        typer.echo("Rules that give evidence for it:")
        for r in rules:
            typer.echo(f"  {r.code}  {r.name}: {r.title}")
    else:
        typer.echo("No audit rule gives evidence for it yet; declare it in [tool.steward.declare].")
