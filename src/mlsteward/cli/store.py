"""``steward store``: what the metadata store is and holds (info), and its migrations (upgrade).

Imports of the store (SQLAlchemy, alembic) happen inside the commands: this module is
imported on every ``steward`` start.
"""

from __future__ import annotations

import typer

from mlsteward.cli.formats import check_format

__all__ = ["register", "store_app"]

store_app = typer.Typer(
    help="The metadata store (info, upgrade).", no_args_is_help=True, rich_markup_mode=None
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(store_app, name="store")


@store_app.command("info")
def info(
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Show where the store is, its schema revision, and how many records it holds."""
    import json
    from dataclasses import asdict

    from mlsteward.project import Project
    from mlsteward.store.database import project_store

    check_format(fmt, ("text", "json"), "`steward store info`")
    store = project_store(Project.open(), workspace=False)
    try:
        found = store.info()
    finally:
        store.close()
    if fmt == "json":
        typer.echo(json.dumps({**asdict(found), "up_to_date": found.up_to_date}, indent=2))
        return
    if found.revision is None:
        schema = f"none yet (made on first use or by `steward store upgrade`; head {found.head})"
    elif found.up_to_date:
        schema = f"{found.revision} (current)"
    else:
        schema = f"{found.revision} (this mlsteward needs {found.head}: `steward store upgrade`)"
    rows = [("store", found.url), ("backend", found.backend), ("schema", schema)]
    if found.size is not None:
        rows.append(("size", _human(found.size)))
    rows += [(name, str(count)) for name, count in found.counts.items()]
    for label, value in rows:
        typer.echo(f"{label:10} {value}")


@store_app.command("upgrade")
def upgrade() -> None:
    """Migrate the store to this mlsteward's schema (creating it if there is none)."""
    from mlsteward.project import Project
    from mlsteward.store.database import project_store

    store = project_store(Project.open())
    try:
        before, after = store.upgrade()
    finally:
        store.close()
    if before == after:
        typer.echo(f"{store.display_url}: already at {after}")
    else:
        typer.echo(f"{store.display_url}: migrated from {before or 'an empty store'} to {after}")


def _human(size: int) -> str:
    units, value, i = ("B", "KiB", "MiB", "GiB", "TiB"), float(size), 0
    while value >= 1024 and i < len(units) - 1:
        value, i = value / 1024, i + 1
    return f"{size} B" if i == 0 else f"{value:.1f} {units[i]}"
