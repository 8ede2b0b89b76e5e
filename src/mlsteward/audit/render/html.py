"""HTML: one self-contained, offline file for reviewers, that also prints well.

Summary cards (readiness score, ML Test Score and its band, new findings, the gate),
adoption by category as an SVG bar chart per catalog, the ML Test Score's four sections,
the practices to adopt next, the findings, and every practice with its adoption,
strength and evidence (file and line). No external stylesheet, script, font or image; a
Content-Security-Policy forbids loading any. Everything from the report is escaped.

The file stays under `MAX_BYTES` however large the report: long lists are cut at a cap
with a note saying how many rows are not shown, and the caps shrink until it fits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mlsteward.audit.render.terminal import CATALOG_LABELS, adopt_next, location, mts_sections
from mlsteward.audit.report import (
    ADOPTION_LEVELS,
    ADOPTION_VALUE,
    SCHEMA_VERSION,
    Finding,
    PracticeResult,
    Report,
)
from mlsteward.audit.rule import SEVERITY_ORDER
from mlsteward.reports.html import Bar, Group, Html, badge, bar_chart, escape, meter, page, table

__all__ = ["MAX_BYTES", "render"]

#: the size the page never reaches (1 MB), so it can be mailed, attached and opened anywhere
MAX_BYTES = 1_000_000
_SEVERITY_TONE = {"high": "poor", "medium": "fair", "low": "info"}
_ADOPTION_TONE = {
    "completely": "good",
    "mostly": "good",
    "partially": "fair",
    "not_adopted": "poor",
    "unknown": "muted",
    "not_applicable": "muted",
}
_ADOPTION_ORDER = (*reversed(ADOPTION_LEVELS), "unknown", "not_applicable")
#: above this many findings, a count per rule comes before the list
_BY_RULE_FROM = 20


@dataclass(frozen=True)
class _Caps:
    findings: int = 1000
    evidence: int = 12
    text: int = 400


def render(report: Report) -> str:
    caps = _Caps()
    while True:
        out = _page(report, caps)
        if len(out.encode("utf-8")) < MAX_BYTES or caps.findings <= 10:
            return out
        caps = _Caps(
            max(caps.findings // 2, 10), max(caps.evidence // 2, 1), max(caps.text // 2, 80)
        )


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _tone(value: float | None) -> str:
    if value is None:
        return "muted"
    return "good" if value >= 2 / 3 else "fair" if value >= 1 / 3 else "poor"


def _label(adoption: str) -> str:
    return adoption.replace("_", " ")


def _page(report: Report, caps: _Caps) -> str:
    name = str(report.repository.get("name", ""))
    body = "\n".join(
        [
            _header(report),
            _cards(report),
            _adoption(report),
            _mts(report),
            _adopt_next(report),
            _findings(report, caps),
            _practices(report, caps),
            _footer(report),
        ]
    )
    return page(
        f"mlsteward audit: {name}",
        body,
        description=f"Engineering-practice audit of {name}",
        generator=f"mlsteward {report.tool_version}",
    )


def _header(report: Report) -> str:
    repo = report.repository
    git = repo.get("git") or {}
    bits = []
    if git.get("commit"):
        bits.append(
            f"commit <code>{escape(str(git['commit'])[:10])}</code> on "
            f"<code>{escape(git.get('branch') or 'detached')}</code>"
        )
    bits.append(f"profile {escape(report.profile)}")
    if isinstance(repo.get("files"), int):
        bits.append(f"{repo['files']} files")
    if report.config_source:
        bits.append(f"settings from <code>{escape(report.config_source)}</code>")
    out = [
        f"<header><h1>mlsteward audit: {escape(repo.get('name', ''))}</h1>",
        f'<p class="meta">{" · ".join(bits)}</p></header>',
    ]
    if not report.gate.passed:
        out.append(
            '<p class="note fail"><strong>Gate failed:</strong> '
            f"{escape('; '.join(report.gate.reasons))}</p>"
        )
    if report.errors:
        items = "".join(f"<li>{escape(e)}</li>" for e in report.errors)
        out.append(
            '<div class="note fail"><strong>Some rules crashed</strong>; their practices are '
            f'reported as unknown.<ul class="plain">{items}</ul></div>'
        )
    return "\n".join(out)


def _card(label: str, value: str, sub: str) -> str:
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value">{value}</div><div class="sub">{sub}</div></div>'
    )


def _cards(report: Report) -> str:
    mts = report.ml_test_score
    judged = [p for p in report.practices if p.catalog == "se-ml" and p.adoption in ADOPTION_VALUE]
    if report.score is None:
        score = _card("Readiness score", "n/a", "no SE-ML practice could be judged")
    else:
        score = _card(
            "Readiness score",
            f'<span class="tone-{_tone(report.score / 100)}">{report.score:.0f}</span>'
            "<small>/100</small>",
            f"mean adoption over {_plural(len(judged), 'judged SE-ML practice')}",
        )
    counted = [(n, v) for n, v in mts_sections(report) if v is not None]
    weakest = [n for n, v in counted if v == mts.final] if len({v for _, v in counted}) > 1 else []
    mts_card = _card(
        "ML Test Score",
        f"{mts.final:g}",
        f"{escape(mts.band)}" + (f" (weakest: {escape(', '.join(weakest))})" if weakest else ""),
    )
    counts = report.counts()
    found = " ".join(
        badge(f"{counts[s]} {s}", _SEVERITY_TONE[s] if counts[s] else "muted")
        for s in sorted(counts, key=lambda s: -SEVERITY_ORDER[s])
    )
    held = sum(1 for f in report.findings if not f.active)
    findings = _card(
        "New findings",
        str(sum(counts.values())),
        found + (f" · {held} set aside" if held else ""),
    )
    adoption = report.adoption_counts()
    known = sum(adoption[a] for a in ADOPTION_LEVELS)
    practices = _card(
        "Practices judged",
        f"{known}<small>/{len(report.practices)}</small>",
        f"{adoption['completely'] + adoption['mostly']} adopted, "
        f"{adoption['not_adopted'] + adoption['partially']} not or partly; "
        f"{adoption['unknown']} unknown",
    )
    return f'<section class="cards">{score}{mts_card}{findings}{practices}</section>'


def _adoption(report: Report) -> str:
    charts = []
    widest = max([len(c.category) for c in report.categories] + [0])
    for catalog in dict.fromkeys(c.catalog for c in report.categories):
        label = CATALOG_LABELS.get(catalog, catalog)
        bars = []
        for c in report.categories:
            if c.catalog != catalog:
                continue
            if c.applicable == 0:
                text, detail = "not applicable", ""
            elif c.adoption is None:
                text, detail = f"unknown · 0 of {c.applicable} judged", ""
            else:
                text = f"{100 * c.adoption:.0f}% · {c.known} of {c.applicable} judged"
                detail = f"{c.total} practices in the category"
            bars.append(Bar(c.category, c.adoption, text, _tone(c.adoption), detail))
        chart = bar_chart(
            bars,
            title=f"{label}: adoption by category",
            ident=f"adoption-{catalog}",
            label_chars=widest,
        )
        charts.append(f"<div><h3>{escape(label)}</h3>{chart}</div>")
    return (
        '<section><h2>Adoption by category</h2><p class="muted small">Mean adoption '
        "(completely 1, mostly ⅔, partially ⅓, not adopted 0) over the practices a rule "
        "could judge; a dashed bar means none could.</p>"
        f'<div class="grid2">{"".join(charts)}</div></section>'
    )


def _mts(report: Report) -> str:
    mts = report.ml_test_score
    bars, rows = [], []
    most = max([mts.applicable.get(n, 0) for n, _ in mts_sections(report)] + [1])
    for name, value in mts_sections(report):
        n = mts.applicable.get(name, 0)
        if value is None:
            bars.append(Bar(name, None, "no applicable test"))
            rows.append([name, "n/a", "0", "left out of the minimum"])
            continue
        share = value / n if n else 0.0
        bars.append(Bar(name, value, f"{value:g} of {n}", _tone(share)))
        rows.append([name, f"{value:g}", str(n), "lowest" if value == mts.final else ""])
    chart = bar_chart(bars, title="ML Test Score points by section", maximum=most, ident="mts")
    tbl = table(["Section", "Points", "Applicable tests", ""], rows, numeric=(1, 2))
    return (
        f"<section><h2>ML Test Score: {mts.final:g}</h2>"
        f"<p>{escape(mts.band)}. Per test 1 point when automated, ½ when done by hand; the "
        "final score is the lowest section sum (Breck et al., 2017).</p>"
        f'<div class="grid2"><div>{chart}</div><div>{tbl}</div></div></section>'
    )


def _adopt_next(report: Report) -> str:
    steps = adopt_next(report)
    if not steps:
        return ""
    rows = []
    for s in steps:
        p = s.practice
        rule: object = "—"
        if s.rule is not None:
            rule = Html(
                f"<code>{escape(s.rule.code)}</code> {escape(s.rule.name)} "
                + badge(s.rule.severity, _SEVERITY_TONE[s.rule.severity])
            )
        rows.append(
            [
                Html(f"<code>{escape(p.id)}</code>"),
                p.title,
                badge(_label(p.adoption), _ADOPTION_TONE[p.adoption]),
                rule,
                str(s.findings) if s.rule else "",
            ]
        )
    tbl = table(
        ["Practice", "", "Adoption", "Rule to fix first", "Findings"],
        rows,
        numeric=(4,),
        nowrap=(0,),
    )
    return f"<section><h2>Adopt next</h2>{tbl}</section>"


def _finding_rows(findings: list[Finding], caps: _Caps, extra: bool) -> list[list[object]]:
    rows: list[list[object]] = []
    for f in findings[: caps.findings]:
        row: list[object] = [
            badge(f.severity, _SEVERITY_TONE[f.severity]),
            Html(f'<code title="{escape(f.name)}">{escape(f.code)}</code>'),
            Html(f"<code>{escape(location(f))}</code>"),
            _cut(f.message, caps.text),
        ]
        if extra:
            why = (
                f"{f.suppressed.kind}: {f.suppressed.reason}" if f.suppressed else "in the baseline"
            )
            row.append(_cut(why, caps.text))
        rows.append(row)
    return rows


def _more(shown: int, total: int, what: str) -> str:
    if total <= shown:
        return ""
    return (
        f'<p class="note">{_plural(total - shown, what)} not shown, to keep this page under 1 MB; '
        "<code>steward audit --format json</code> lists them all.</p>"
    )


def _by_rule(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    first = {f.code: f for f in reversed(findings)}
    rows = [
        [
            Html(f"<code>{escape(code)}</code>"),
            first[code].name,
            badge(first[code].severity, _SEVERITY_TONE[first[code].severity]),
            str(n),
        ]
        for code, n in sorted(
            counts.items(), key=lambda kv: (-SEVERITY_ORDER[first[kv[0]].severity], -kv[1], kv[0])
        )
    ]
    return table(["Rule", "Name", "Severity", "Findings"], rows, numeric=(3,), caption="By rule")


def _findings(report: Report, caps: _Caps) -> str:
    active = report.active_findings()
    out = [f"<section><h2>Findings ({len(active)} new)</h2>"]
    if not active:
        out.append("<p>No new findings.</p>")
    else:
        out.append(
            table(["Severity", "Rule", "Location", "Message"], _finding_rows(active, caps, False))
        )
        out.append(_more(caps.findings, len(active), "finding"))
    held = [f for f in report.findings if not f.active]
    if held:
        out.append(f"<details><summary>Suppressed or in the baseline ({len(held)})</summary>")
        out.append(
            table(
                ["Severity", "Rule", "Location", "Message", "Why"], _finding_rows(held, caps, True)
            )
        )
        out.append(_more(caps.findings, len(held), "finding") + "</details>")
    unused = report.unused_suppressions
    if unused:
        rows = [
            [s.kind, s.code or "", (s.path or "") + (f":{s.line}" if s.line else ""), s.reason]
            for s in unused[: caps.findings]
        ]
        out.append(
            f"<h3>Unused suppressions ({len(unused)})</h3>"
            "<p>They match nothing any more: delete them.</p>"
        )
        out.append(table(["Kind", "Code", "Where", "Reason"], rows))
        out.append(_more(caps.findings, len(unused), "suppression"))
    out.append("</section>")
    return "\n".join(out)


def _evidence(p: PracticeResult, caps: _Caps) -> Html:
    items = []
    for e in p.evidence[: caps.evidence]:
        where = ""
        if e.path:
            where = f" <code>{escape(e.path + (f':{e.line}' if e.line else ''))}</code>"
        items.append(
            f"<li>{escape(_cut(e.text, caps.text))}{where} "
            f'<span class="muted small">{escape(e.strength.label)}</span></li>'
        )
    if len(p.evidence) > caps.evidence:
        items.append(f'<li class="muted">+{len(p.evidence) - caps.evidence} more</li>')
    note = f'<div class="muted small">{escape(_cut(p.note, caps.text))}</div>' if p.note else ""
    listing = f'<ul class="plain">{"".join(items)}</ul>' if items else ""
    return Html(listing + note)


def _practice_row(p: PracticeResult, caps: _Caps) -> list[object]:
    adoption = Html(
        (meter(p.score, _ADOPTION_TONE[p.adoption]) if p.score is not None else "")
        + badge(_label(p.adoption), _ADOPTION_TONE[p.adoption])
        + (f' <span class="muted small">{p.points:g} pt</span>' if p.points is not None else "")
    )
    return [
        Html(f"<code>{escape(p.id)}</code>"),
        p.title,
        adoption,
        p.strength.label if p.strength else "",
        Html(" ".join(f"<code>{escape(r)}</code>" for r in p.rules)),
        _evidence(p, caps),
    ]


def _practices(report: Report, caps: _Caps) -> str:
    out = [f"<section><h2>Practices ({len(report.practices)})</h2>"]
    for catalog in dict.fromkeys(p.catalog for p in report.practices):
        group = [p for p in report.practices if p.catalog == catalog]
        by = Counter(p.adoption for p in group)
        counts = ", ".join(f"{by[a]} {_label(a)}" for a in _ADOPTION_ORDER if by[a])
        label = CATALOG_LABELS.get(catalog, catalog)
        rows: list[list[object] | Group] = []
        last = None
        for p in group:
            if p.category != last:
                rows.append(Group(p.category))
                last = p.category
            rows.append(_practice_row(p, caps))
        out.append(
            f"<details open><summary>{escape(label)}: {len(group)} practices "
            f"({escape(counts)})</summary>"
        )
        out.append(
            table(
                ["Id", "Practice", "Adoption", "Strength", "Rules", "Evidence"],
                rows,
                nowrap=(0, 2),
                widths=("9%", "25%", "15%", "8%", "12%"),
            )
        )
        out.append("</details>")
    out.append("</section>")
    return "\n".join(out)


def _footer(report: Report) -> str:
    active = report.active_findings()
    first = active[0].code if active else "CODE"
    return (
        f"<footer>mlsteward {escape(report.tool_version)} · schema {SCHEMA_VERSION}"
        f" · <code>steward audit explain {escape(first)}</code> says why a rule matters and how to "
        "fix it · scoring: docs/scoring.md</footer>"
    )
