"""Rendering a model card: the same sections as Markdown and as one self-contained HTML page.

Both formats are built from one list of sections (`sections`), so they cannot disagree.
Everything that comes from the records or the config is user-controlled text: the HTML
helpers of `mlsteward.reports.html` escape it, and the Markdown goes through
`mlsteward.reports.markdown.escape`, which neutralises tags, links and mentions.

A gate check's ``measured`` and ``expected`` values are rendered generically: a number,
a string, or a mapping of names to numbers or to nested mappings (slice -> metric ->
value), flattened to ``slice / metric: value`` lines.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlsteward.registry.cards import CardFacts
from mlsteward.registry.verdicts import VerdictRow
from mlsteward.reports import html as h
from mlsteward.reports import markdown as md

__all__ = ["Code", "Section", "flatten", "render_html", "render_markdown", "sections"]


class Code(str):
    """An identifier (a reference, hash, commit, run id): shown as code, copied as is."""

    __slots__ = ()


Pairs = list[tuple[str, str]]
Cell = str | Pairs  # text, or name/value lines
NOT_DECLARED = "not declared"
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class Section:
    """A titled part of a card: paragraphs, a key/value list and a table, each optional."""

    title: str
    paragraphs: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    empty: str = ""  # said instead of the table when it has no rows
    subsections: tuple[Section, ...] = field(default=())


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _short(value: str | None, n: int = 12) -> str:
    return Code(value[:n]) if value else "—"


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(value) if not math.isfinite(value) else f"{value:.4g}"
    if value is None:
        return "—"
    return str(value)


def flatten(value: Any, prefix: tuple[str, ...] = ()) -> Pairs:
    """A measured or expected value as (name path, value) lines; name '' for a bare value."""
    if isinstance(value, Mapping):
        out: Pairs = []
        for key, item in value.items():
            out += flatten(item, (*prefix, str(key)))
        return out or [(" / ".join(prefix), "—")]
    if isinstance(value, list | tuple) and all(not isinstance(v, Mapping | list) for v in value):
        return [(" / ".join(prefix), ", ".join(_number(v) for v in value))]
    if isinstance(value, list | tuple):
        out = []
        for i, item in enumerate(value):
            out += flatten(item, (*prefix, str(i)))
        return out
    return [(" / ".join(prefix), _number(value))]


def _kind(check: str) -> str:
    name = check.lower()
    if "slice" in name:
        return "Slices"
    if "fair" in name:
        return "Fairness"
    return "Metrics and other checks"


def _newest_per_policy(verdicts: Sequence[VerdictRow]) -> list[VerdictRow]:
    newest: dict[str, VerdictRow] = {}
    for v in verdicts:  # oldest first
        newest[v.policy] = v
    return sorted(newest.values(), key=lambda v: v.policy)


def _evaluation(f: CardFacts) -> Section:
    groups: dict[str, list[tuple[Cell, ...]]] = {}
    for verdict in _newest_per_policy(f.verdicts):
        for check in verdict.checks:
            if not isinstance(check, Mapping):
                continue
            name = str(check.get("check", "?"))
            groups.setdefault(_kind(name), []).append(
                (
                    verdict.policy,
                    name,
                    "passed" if check.get("passed") else "FAILED",
                    flatten(check.get("measured")),
                    flatten(check.get("expected")),
                    str(check.get("detail") or ""),
                )
            )
    headers = ("policy", "check", "result", "measured", "expected", "detail")
    subs = tuple(
        Section(kind, headers=headers, rows=tuple(groups.get(kind, [])), empty=NOT_RECORDED)
        for kind in ("Metrics and other checks", "Slices", "Fairness")
    )
    note = (
        "What the newest gate verdict of each policy measured."
        if f.verdicts
        else "No gate has evaluated this version: no metrics, slices or fairness results are "
        "recorded."
    )
    return Section("Evaluation", paragraphs=(note,), subsections=subs)


def _signature(value: Any) -> Section:
    if isinstance(value, Mapping) and isinstance(value.get("inputs"), list):
        rows: list[tuple[Cell, ...]] = []
        for side in ("inputs", "outputs"):
            for item in value.get(side) or []:
                if isinstance(item, Mapping):
                    rows.append((side[:-1], str(item.get("name", "")), str(item.get("type", ""))))
                else:
                    rows.append((side[:-1], "", str(item)))
        return Section(
            "Signature", headers=("side", "name", "type"), rows=tuple(rows), empty=NOT_RECORDED
        )
    return Section("Signature", paragraphs=(Code(json.dumps(value, sort_keys=True)),))


def sections(f: CardFacts) -> list[Section]:
    """The card's sections, in order."""
    out: list[Section] = []
    out.append(
        Section(
            "Intended use",
            fields=(
                ("Intended use", f.intended_use or NOT_DECLARED),
                ("Limitations", f.limitations or NOT_DECLARED),
                ("This version", f.record.description or NOT_DECLARED),
                ("The model", f.model_description or NOT_DECLARED),
            ),
        )
    )
    r = f.record
    commit = Code(r.git_commit) if r.git_commit else NOT_RECORDED
    dirty = _dirty(r.git_dirty)
    train = [d for d in f.data if d.role == "train"]
    out.append(
        Section(
            "Provenance",
            fields=(
                ("Producing run", Code(r.run_id) if r.run_id else NOT_RECORDED),
                ("Code commit", commit),
                ("Dirty", dirty if r.git_commit else NOT_RECORDED),
                ("Training data", Code(", ".join(d.ref for d in train)) if train else NOT_RECORDED),
                ("Forced", "YES: registered without provenance" if r.forced else "no"),
                ("Registered", f"{_when(r.created)} by {r.actor}"),
            ),
        )
    )
    out.append(
        Section(
            "Training data lineage",
            headers=("dataset", "role", "hash", "source", "code commit", "made by run"),
            rows=tuple(
                (
                    Code(d.ref),
                    d.role,
                    _short(d.hash),
                    d.source,
                    _short(d.code_commit) + (" (dirty)" if d.code_dirty else ""),
                    _short(d.run_id),
                )
                for d in f.data
            ),
            empty="No dataset versions are recorded for this version.",
        )
    )
    out.append(_run(f))
    out.append(_evaluation(f))
    out.append(
        Section(
            "Gate verdicts",
            headers=("time", "policy", "policy hash", "result", "evaluation data", "actor"),
            rows=tuple(
                (
                    _when(v.time),
                    v.policy,
                    _short(v.policy_hash),
                    "passed" if v.passed else "FAILED",
                    Code(f.eval_data.get(v.dataset_version_id or "", "—")),
                    v.actor,
                )
                for v in f.verdicts
            ),
            empty="No gate verdicts are recorded.",
        )
    )
    out.append(
        Section(
            "Alias history",
            paragraphs=("Every alias move of the model; this version is v" + str(f.version) + ".",),
            headers=("time", "actor", "alias", "from", "to", "kind", "reason"),
            rows=tuple(
                (
                    _when(m.time),
                    m.actor,
                    m.alias,
                    _version(m.from_version),
                    _version(m.to_version),
                    m.kind,
                    m.reason,
                )
                for m in f.history
            ),
            empty="No alias has ever pointed at this model.",
        )
    )
    out.append(_signature(r.signature))
    out.append(Section("Trust", paragraphs=(Code(json.dumps(r.trust, sort_keys=True)),)))
    return out


def _dirty(value: bool | None) -> str:
    return {True: "yes: uncommitted changes", False: "no", None: NOT_RECORDED}[value]


def _version(v: int | None) -> str:
    return "—" if v is None else f"v{v}"


def _run(f: CardFacts) -> Section:
    run = f.run
    if run is None:
        why = (
            "The run is no longer in the store."
            if f.record.run_id
            else "No producing run is recorded."
        )
        return Section("Producing run", paragraphs=(why,))
    commit = run.git_commit or NOT_RECORDED
    dirty = _dirty(run.git_dirty)
    rows: list[tuple[Cell, ...]] = [
        ("param", Code(k), Code(v)) for k, v in sorted(run.params.items())
    ]
    rows += [("metric", Code(k), Code(_number(v))) for k, v in sorted(run.metrics.items())]
    return Section(
        "Producing run",
        fields=(
            ("Run", run.name),
            ("Run id", Code(run.id)),
            ("Status", run.status),
            ("Commit", Code(commit) if run.git_commit else commit),
            ("Dirty", dirty),
        ),
        headers=("kind", "name", "value"),
        rows=tuple(rows),
        empty="The run logged no params or metrics.",
    )


def _title(f: CardFacts) -> str:
    return f"Model card: {f.model} v{f.version}"


def _warnings(f: CardFacts) -> list[str]:
    out = []
    if f.record.forced:
        out.append(
            "FORCED REGISTRATION: this version was registered without provenance "
            "(a producing run, training data or a commit is missing). Treat its origin as "
            "unverified."
        )
    if f.record.deleted is not None:
        out.append(f"This version was deleted on {_when(f.record.deleted)}.")
    return out


def _summary(f: CardFacts) -> list[tuple[str, str]]:
    return [
        ("Format", f.record.format),
        ("Artifact hash", Code(f.record.digest)),
        ("Aliases now", ", ".join(f.held) or "none"),
    ]


# -- Markdown --------------------------------------------------------------------------------


def _md_text(text: str) -> str:
    return md.code(text) if isinstance(text, Code) else md.escape(text)


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Code):
        return md.code(cell)
    if isinstance(cell, str):
        return md.escape(cell) if cell else ""
    return "; ".join(md.escape(f"{k}: {v}" if k else v) for k, v in cell)


def _md_section(s: Section, level: int) -> list[str]:
    out = [f"{'#' * level} {md.escape(s.title)}", ""]
    for p in s.paragraphs:
        out += [_md_text(p), ""]
    if s.fields:
        out += [f"- **{md.escape(k)}:** {_md_text(v)}" for k, v in s.fields] + [""]
    if s.headers:
        if s.rows:
            out.append(md.table(s.headers, [[_md_cell(c) for c in row] for row in s.rows]))
        elif s.empty:
            out += [md.escape(s.empty), ""]
    for sub in s.subsections:
        out += _md_section(sub, level + 1)
    return out


def render_markdown(f: CardFacts) -> str:
    """The card as GitHub-flavoured Markdown."""
    out = [f"# {md.escape(_title(f))}", ""]
    out += [f"> **{md.escape(w)}**\n" for w in _warnings(f)]
    out += [f"- **{md.escape(k)}:** {_md_text(v)}" for k, v in _summary(f)] + [""]
    for s in sections(f):
        out += _md_section(s, 2)
    out.append("_Made by mlsteward from the project's records._")
    return "\n".join(out).rstrip() + "\n"


# -- HTML ------------------------------------------------------------------------------------


def _html_text(text: str) -> h.Html:
    if isinstance(text, Code):
        return h.Html(f"<code>{h.escape(text)}</code>")
    return h.escape(text)


def _html_cell(cell: Cell) -> h.Html:
    if isinstance(cell, str):
        return _html_text(cell)
    if len(cell) == 1 and not cell[0][0]:
        return h.escape(cell[0][1])
    items = "".join(
        f"<li>{h.escape(k)}: <code>{h.escape(v)}</code></li>" if k else f"<li>{h.escape(v)}</li>"
        for k, v in cell
    )
    return h.Html(f'<ul class="plain">{items}</ul>')


def _html_fields(fields: Sequence[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{h.escape(k)}</th><td>{_html_text(v)}</td></tr>' for k, v in fields
    )
    return f'<table><colgroup><col style="width:22%"></colgroup><tbody>{rows}</tbody></table>'


def _html_section(s: Section, level: int) -> list[str]:
    out = [f"<h{level}>{h.escape(s.title)}</h{level}>"]
    out += [f"<p>{_html_text(p)}</p>" for p in s.paragraphs]
    if s.fields:
        out.append(_html_fields(s.fields))
    if s.headers:
        if s.rows:
            out.append(h.table(s.headers, [[_html_cell(c) for c in row] for row in s.rows]))
        elif s.empty:
            out.append(f'<p class="muted">{h.escape(s.empty)}</p>')
    for sub in s.subsections:
        out += _html_section(sub, level + 1)
    return out


def render_html(f: CardFacts) -> str:
    """The card as one HTML page that opens offline (inline CSS, nothing fetched)."""
    body = [f"<h1>{h.escape(_title(f))}</h1>"]
    badges = [h.badge(a, "info") for a in f.held]
    if f.record.forced:
        badges.insert(0, h.badge("forced registration", "poor"))
    if badges:
        body.append(f"<p>{' '.join(badges)}</p>")
    body += [f'<div class="note fail"><strong>{h.escape(w)}</strong></div>' for w in _warnings(f)]
    body.append(_html_fields(_summary(f)))
    for s in sections(f):
        body += _html_section(s, 2)
    body.append("<footer>Made by mlsteward from the project's records.</footer>")
    return h.page(
        _title(f),
        "\n".join(body),
        description=f"Model card of {f.model} version {f.version}",
        generator="mlsteward",
    )
