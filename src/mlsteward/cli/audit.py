"""``steward audit``: parse options, call `mlsteward.audit`, render, exit 0/1/2."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mlsteward.cli.defaultgroup import DefaultGroup

__all__ = ["audit_app"]

audit_app = typer.Typer(
    cls=DefaultGroup,
    help="Score a repository against the practice catalogs (run, rules, explain).",
    no_args_is_help=False,
    rich_markup_mode=None,
)

FORMAT_HELP = (
    "terminal, json, sarif, markdown, html, github; for several paths: terminal, json, csv"
)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from mlsteward._internal.atomic import write_text_atomic

    write_text_atomic(output, text)
    typer.echo(f"wrote {output}", err=True)


def _context(values: list[str]) -> dict[str, bool]:
    from mlsteward.errors import UsageError

    out: dict[str, bool] = {}
    for item in values:
        key, _, value = item.partition("=")
        if value.lower() not in ("true", "false"):
            raise UsageError(
                f"--context takes KEY=true|false, got {item!r}",
                code="usage-value",
                hint="e.g. --context deployed=true",
            )
        out[key.replace("-", "_")] = value.lower() == "true"
    return out


@audit_app.command("run")
def run(
    paths: list[str] = typer.Argument(
        None, help="Repositories to audit (default: the current directory)."
    ),
    fmt: str = typer.Option("terminal", "--format", "-f", help=FORMAT_HELP),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here instead of stdout."
    ),
    fail_under: float | None = typer.Option(
        None, "--fail-under", help="Exit 1 if the readiness score (0-100) is lower."
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 on a new finding of this severity or above: low, medium, high.",
    ),
    profile: str | None = typer.Option(
        None, "--profile", help="poc or production (default: from config, else production)."
    ),
    select: list[str] = typer.Option(
        [], "--select", help="Only rules whose code starts with this (repeatable)."
    ),
    ignore: list[str] = typer.Option(
        [], "--ignore", help="Skip rules whose code starts with this (repeatable)."
    ),
    context: list[str] = typer.Option(
        [], "--context", help="Override a context fact: deployed=true (repeatable)."
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="Only findings not in this baseline file fail the gate."
    ),
    write_baseline: Path | None = typer.Option(
        None, "--write-baseline", help="Write today's findings as the baseline and exit 0."
    ),
    exit_zero: bool = typer.Option(
        False, "--exit-zero", help="Always exit 0 when the audit ran (report only)."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", help="Parallel processes for several paths (default: CPUs)."
    ),
) -> None:
    """Audit one or more repositories (the default command of `steward audit`)."""
    from mlsteward.audit import AuditOptions, audit
    from mlsteward.audit.render import render

    paths = paths or ["."]
    options = AuditOptions(
        select=select,
        ignore=ignore,
        profile=profile,
        baseline=baseline,
        fail_under=fail_under,
        fail_on=fail_on,
        extra_context=_context(context),
    )
    if len(paths) > 1:
        raise typer.Exit(_run_many(paths, options, fmt, output, jobs, exit_zero))
    report = audit(paths[0], options)
    if write_baseline is not None:
        from mlsteward.audit.baseline import write_baseline as write

        n = write(write_baseline, report.findings)
        typer.echo(f"wrote {n} finding(s) to baseline {write_baseline}", err=True)
        raise typer.Exit(0)
    if fmt == "terminal" and output is None:
        from mlsteward.audit.render.terminal import render as term

        text = term(
            report,
            width=min(typer.get_terminal_size()[0], 120) if sys.stdout.isatty() else 100,
            color=sys.stdout.isatty(),
        )
    else:
        text = render(report, fmt)
    _write(text, output)
    raise typer.Exit(0 if exit_zero or report.gate.passed else 1)


def _run_many(
    paths: list[str],
    options: object,
    fmt: str,
    output: Path | None,
    jobs: int | None,
    exit_zero: bool,
) -> int:
    from mlsteward.audit import AuditOptions
    from mlsteward.audit.many import audit_many, table_csv, table_json
    from mlsteward.errors import UsageError

    assert isinstance(options, AuditOptions)
    if fmt not in ("terminal", "json", "csv"):
        raise UsageError(
            f"--format {fmt} is for one repository; several paths give a table",
            code="usage-value",
            hint="use --format csv or --format json with several paths",
        )
    done: list[str] = []

    def progress(path: str) -> None:
        done.append(path)
        typer.echo(f"[{len(done)}/{len(paths)}] {path}", err=True)

    rows = audit_many(paths, options, jobs=jobs, progress=progress)
    if fmt == "csv":
        text = table_csv(rows)
    elif fmt == "json":
        text = table_json(rows)
    else:
        lines = [f"{'repository':40} {'score':>6} {'MTS':>5}  readiness"]
        for r in rows:
            if r.report is None:
                lines.append(f"{r.path:40} error: {r.error}")
                continue
            s = r.report["summary"]
            score = "n/a" if s["score"] is None else f"{s['score']:.0f}"
            lines.append(f"{r.path:40} {score:>6} {s['ml_test_score']:>5g}  {s['readiness']}")
        text = "\n".join(lines) + "\n"
    _write(text, output)
    failed = any(r.error or (r.report and not r.report["gate"]["passed"]) for r in rows)
    return 0 if exit_zero or not failed else 1


@audit_app.command("rules")
def rules(
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text, json or markdown (the rules docs page)."
    ),
    family: str | None = typer.Option(None, "--family", help="Only this family, e.g. SML."),
) -> None:
    """List every rule: code, name, severity, practices it evidences."""
    import json

    from mlsteward.audit.registry import FAMILIES, all_rules

    rules_ = [r for r in all_rules().values() if family is None or r.family == family.upper()]
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "title": r.title,
                        "family": r.family,
                        "severity": r.severity,
                        "scope": r.scope,
                        "practices": list(r.practices),
                        "applies_when": list(r.applies_when),
                        "summary": r.summary,
                    }
                    for r in rules_
                ],
                indent=2,
            )
        )
    elif fmt == "markdown":
        from mlsteward.audit.docs import rules_markdown

        typer.echo(rules_markdown(rules_), nl=False)
    else:
        current = None
        for r in rules_:
            if r.family != current:
                current = r.family
                typer.echo(f"\n{r.family}  {FAMILIES.get(r.family, '')}")
            typer.echo(f"  {r.code}  {r.name:38} {r.severity:6}  {', '.join(r.practices)}")


@audit_app.command("explain")
def explain(
    code: str = typer.Argument(..., help="A rule code (SML014) or name (randomness-uncontrolled)."),
) -> None:
    """Explain a rule: what it finds, why, an example, what to do instead."""
    from mlsteward.audit.registry import get_rule

    typer.echo(get_rule(code).markdown(), nl=False)
