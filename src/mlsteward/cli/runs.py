"""``steward runs``: list, search, show, compare and a metric's history.

Each command calls one function of `mlsteward.tracking.search` and renders the result
as a table (rich), JSON or CSV. JSON has no NaN or Infinity literals (they are not
JSON): non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity",
and CSV uses the same spellings. Library imports stay inside the commands so that
``steward`` starts fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from mlsteward.cli.defaultgroup import DefaultGroup
from mlsteward.cli.formats import check_format as _check_format
from mlsteward.cli.formats import human_size as _size
from mlsteward.cli.formats import when

if TYPE_CHECKING:
    from mlsteward.store.views import CompareRow, RunIO, RunView

__all__ = ["register", "runs_app"]


class _ListByDefault(DefaultGroup):
    default_command = "list"

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        formatter.write_usage(
            ctx.command_path,
            "[list] [OPTIONS] | search FILTER | show RUN | compare RUN RUN... | history RUN KEY",
        )


runs_app = typer.Typer(
    cls=_ListByDefault,
    help="Tracked runs: list, search FILTER, show RUN, compare RUN RUN, history RUN KEY.",
    rich_markup_mode=None,
)

_EXPERIMENT = typer.Option(None, "--experiment", "-e", help="Only runs of this experiment.")
_STATUS = typer.Option(None, "--status", help="running, finished, failed or crashed.")
_LIMIT = typer.Option(20, "--limit", "-n", help="Show at most this many runs.")
_ORDER = typer.Option(
    None, "--order-by", "-o", help='e.g. "-metrics.auc" or "start_time asc"; repeatable.'
)
_FORMAT = typer.Option("table", "--format", "-f", help="table, json or csv.")
_COLUMNS = typer.Option(
    None, "--columns", "-c", help="Comma-separated fields to show, e.g. metrics.auc,params.lr."
)


def register(app: typer.Typer) -> None:
    """Add ``steward runs`` to the root app."""
    app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def list_(
    experiment: str | None = _EXPERIMENT,
    status: str | None = _STATUS,
    limit: int = _LIMIT,
    order_by: list[str] | None = _ORDER,
    fmt: str = _FORMAT,
    columns: str | None = _COLUMNS,
) -> None:
    """List runs, newest first."""
    _search(None, experiment, status, limit, order_by, fmt, columns)


@runs_app.command("search")
def search(
    filter: str = typer.Argument(
        ..., metavar="FILTER", help='e.g. "metrics.auc > 0.8 and params.lr = 0.1".'
    ),
    experiment: str | None = _EXPERIMENT,
    status: str | None = _STATUS,
    limit: int = _LIMIT,
    order_by: list[str] | None = _ORDER,
    fmt: str = _FORMAT,
    columns: str | None = _COLUMNS,
) -> None:
    """List the runs that match a filter (the language is in docs/runs.md)."""
    _search(filter, experiment, status, limit, order_by, fmt, columns)


@runs_app.command("show")
def show(
    ref: str = typer.Argument(
        ..., metavar="RUN", help="A run id, a unique id prefix, or a unique name."
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Show one run: provenance, params, latest metrics, tags, inputs and outputs."""
    from mlsteward.tracking.search import run_io

    _check_format(fmt, ("text", "json"))
    run, io = run_io(ref)
    if fmt == "json":
        _echo_json({"run": _run_dict(run), "consumed": io.consumed, "produced": io.produced})
    else:
        typer.echo(_show_text(run, io))


@runs_app.command("compare")
def compare(
    refs: list[str] = typer.Argument(
        ..., metavar="RUN...", help="Two runs or more (ids, prefixes or names)."
    ),
    only_diff: bool = typer.Option(False, "--only-diff", help="Only rows that differ."),
    fmt: str = _FORMAT,
) -> None:
    """Params and latest metrics of several runs side by side; differing rows marked *."""
    from mlsteward.tracking.search import compare_runs

    _check_format(fmt, ("table", "json", "csv"))
    views, rows = compare_runs(refs, only_diff=only_diff)
    _render_compare(views, rows, fmt)


@runs_app.command("history")
def history(
    ref: str = typer.Argument(
        ..., metavar="RUN", help="A run id, a unique id prefix, or a unique name."
    ),
    key: str = typer.Argument(..., metavar="KEY", help="The metric's name."),
    fmt: str = _FORMAT,
) -> None:
    """Every logged point of one metric of one run, by step."""
    from mlsteward.tracking.search import metric_history

    _check_format(fmt, ("table", "json", "csv"))
    run, points = metric_history(ref, key)
    if fmt == "json":
        rows = [{"step": s, "value": v, "time": t} for s, v, t in points]
        _echo_json({"run": run.id, "key": key, "points": rows})
    elif fmt == "csv":
        _echo_csv(["step", "value", "time"], [[s, _num(v), t] for s, v, t in points])
    else:
        table = _table(f"{key} of run {run.id[:8]} ({run.name})", ["step", "value", "time"])
        for s, v, t in points:
            table.add_row(str(s), _short(v), when(t, seconds=True))
        _print(table)


# -- runs: list and search ------------------------------------------------------------------


def _search(
    filter: str | None,
    experiment: str | None,
    status: str | None,
    limit: int,
    order_by: list[str] | None,
    fmt: str,
    columns: str | None,
) -> None:
    from mlsteward.tracking.search import search_runs

    _check_format(fmt, ("table", "json", "csv"))
    fields = _fields(columns)
    views = search_runs(
        filter, order_by=order_by or None, limit=limit, experiment=experiment, status=status
    )
    if fmt == "json":
        _echo_json([_run_dict(v) for v in views])
        return
    if fields is None:
        fields = _default_fields(views, everything=fmt == "csv")
    if fmt == "csv":
        head = ["id", "name", "experiment", "status", "start_time", "end_time", "duration"]
        fields = [f for f in fields if f not in head]  # a column asked for twice shows once
        _echo_csv(
            head + fields,
            [
                [_num(getattr(v, h)) for h in head] + [_num(_cell(v, f)) for f in fields]
                for v in views
            ],
        )
        return
    fields = [f for f in fields if f not in ("id", "name", "status")]
    table = _table(None, ["id", "name", "status", "start", "duration", *fields])
    for v in views:
        cells = [_short(_cell(v, f)) for f in fields]
        table.add_row(v.id[:8], v.name, v.status, when(v.start_time), _duration(v.duration), *cells)
    _print(table)
    if not views:
        typer.echo("no runs match" if filter else "no runs yet")


def _fields(columns: str | None) -> list[str] | None:
    """The --columns fields, checked and spelled canonically (metrics.auc, status)."""
    if columns is None:
        return None
    from mlsteward.store.query import parse_field

    return [str(parse_field(c.strip())) for c in columns.split(",") if c.strip()]


def _default_fields(views: Sequence[RunView], *, everything: bool) -> list[str]:
    """Every param, metric and tag for CSV; the most common few for a table."""
    from mlsteward.store.views import common_keys

    fields = []
    for prefix, few in (("metrics", 3), ("params", 2), ("tags", 0)):
        count = 10**9 if everything else few
        keys = common_keys(views, prefix, count)
        fields += [f"{prefix}.{k}" for k in (sorted(keys) if everything else keys)]
    return fields


def _cell(view: RunView, field: str) -> Any:
    prefix, _, name = field.partition(".")
    if prefix in ("metrics", "params", "tags") and name:
        return getattr(view, prefix).get(name)
    return getattr(view, field)


# -- show -----------------------------------------------------------------------------------


def _show_text(run: RunView, io: RunIO) -> str:
    lines = [f"run {run.id}  {run.name}"]
    facts = [
        ("experiment", run.experiment),
        ("status", run.status),
        ("started", when(run.start_time, seconds=True)),
        ("ended", when(run.end_time, seconds=True) if run.end_time else None),
        ("duration", _duration(run.duration) if run.duration is not None else None),
        ("git", _git(run)),
        ("lock file", f"{run.lock_file} ({run.lock_hash})" if run.lock_file else None),
        ("python", run.python),
        ("command", run.command),
        ("seeds", ", ".join(f"{k}={v}" for k, v in run.seeds.items()) or None),
        ("host", f"{run.user}@{run.host}" if run.user else run.host),
    ]
    lines += [f"  {k:<11}{v}" for k, v in facts if v is not None]
    if run.error:
        lines += ["", "error:", *(f"  {line}" for line in run.error.splitlines())]
    for title, values in (("params", run.params), ("metrics (latest)", run.metrics)):
        lines += ["", f"{title}:" if values else f"{title}: none"]
        width = max((len(k) for k in values), default=0)
        lines += [f"  {k:<{width}}  {_metric_text(v)}" for k, v in values.items()]
    if run.tags:
        lines += ["", "tags:", *(f"  {k} = {v}" for k, v in run.tags.items())]
    for title, items in (("consumed", io.consumed), ("produced", io.produced)):
        if items:
            lines += ["", f"{title}:"]
            for item in items:
                what = f"dataset {item.dataset}" if item.dataset else f"{item.kind} {item.name}"
                lines.append(f"  {what}  ({_size(item.size)}, {item.hash[:12]})")
    return "\n".join(lines)


def _git(run: RunView) -> str | None:
    if not run.git_commit:
        return None
    text = run.git_commit[:12] + (f" on {run.git_branch}" if run.git_branch else "")
    if run.git_dirty:
        text += " (dirty" + (f", diff {run.git_diff_hash[:12]}" if run.git_diff_hash else "") + ")"
    return text


def _metric_text(value: str | float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} (non-finite)"
    return str(value)


# -- compare --------------------------------------------------------------------------------


def _render_compare(views: Sequence[RunView], rows: Sequence[CompareRow], fmt: str) -> None:
    if fmt == "json":
        _echo_json(
            {
                "runs": [{"id": v.id, "name": v.name} for v in views],
                "rows": [{"key": r.key, "differs": r.differs, "values": r.values} for r in rows],
            }
        )
    elif fmt == "csv":
        _echo_csv(
            ["key", "differs", *(v.id for v in views)],
            [[r.key, r.differs, *(_num(x) for x in r.values)] for r in rows],
        )
    else:
        table = _table(None, ["", "key", *(f"{v.id[:8]} {v.name}" for v in views)])
        for r in rows:
            table.add_row("*" if r.differs else "", r.key, *(_short(x) for x in r.values))
        _print(table)
        typer.echo("rows marked * differ between the runs")


# -- output helpers -------------------------------------------------------------------------


def _num(value: Any) -> Any:
    """A non-finite float as the text JSON and CSV readers agree on."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _plain(value: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _num(value)


def _run_dict(run: RunView) -> dict[str, Any]:
    from dataclasses import asdict

    return dict(asdict(run))


def _echo_json(value: Any) -> None:
    import json

    typer.echo(json.dumps(_plain(value), indent=2, allow_nan=False))


def _echo_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if c is None else c for c in row] for row in rows)
    typer.echo(out.getvalue(), nl=False)


def _table(title: str | None, columns: Sequence[str]) -> Any:
    from rich.table import Table

    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    for name in columns:
        table.add_column(name, no_wrap=name in ("id", "start"), overflow="fold")
    return table


def _print(table: Any) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 240  # piped or captured: do not squeeze the columns to 80
    console.print(table)


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"
